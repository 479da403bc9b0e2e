/*!
A collapsed classifier: a run that learned the class frequencies instead of the series. Two
signs, read from what a finished run measured (no I/O; `sweep::plan::result` records them in
`result.json` as `warnings`, the sweep prints them, `status` shows them):
- its training accuracy is no better than always predicting the largest class (its share of
  the training split, plus `MARGIN`);
- a class that the test set holds was never predicted.

Either is worth a look, not always a defect: a problem may truly be that hard. The training
accuracy is measured on the inputs as trained (with `noise`, when it is on), which is what a
collapsed model cannot rise above.
*/

/// How close to the largest class's share the training accuracy may be to count as stuck.
pub const MARGIN: f64 = 0.02;

/// The warnings of a classification run: `train_y` the training split's classes, `train_acc`
/// its final training accuracy, `test_y` and `predicted` the test split's classes and the
/// model's, `classes` the class names by index.
pub fn warnings(
    train_y: &[i64],
    train_acc: f64,
    test_y: &[i64],
    predicted: &[i64],
    classes: &[String],
) -> Vec<String> {
    let mut out = Vec::new();
    let count = |ys: &[i64]| {
        let mut n = vec![0usize; classes.len()];
        for &y in ys {
            if let Some(c) = n.get_mut(y as usize) {
                *c += 1;
            }
        }
        n
    };
    let train_counts = count(train_y);
    let largest = train_counts.iter().copied().max().unwrap_or(0);
    if classes.len() >= 2 && !train_y.is_empty() && train_acc.is_finite() {
        let share = largest as f64 / train_y.len() as f64;
        if train_acc <= share + MARGIN {
            out.push(format!(
                "training accuracy {train_acc:.3} is no better than always predicting the largest \
                 class ({share:.3}): the model may have learned the class frequencies, not the \
                 series (try other seeds, a smaller learning rate or more epochs)"
            ));
        }
    }
    if !predicted.is_empty() {
        let (held, said) = (count(test_y), count(predicted));
        let never: Vec<String> = classes
            .iter()
            .enumerate()
            .filter(|&(c, _)| held[c] > 0 && said[c] == 0)
            .map(|(c, name)| format!("{name:?} ({} test examples)", held[c]))
            .collect();
        if !never.is_empty() {
            out.push(format!(
                "{} never predicted on the test set: {}",
                if never.len() == 1 {
                    "a class was"
                } else {
                    "classes were"
                },
                never.join(", ")
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|c| format!("c{c}")).collect()
    }

    #[test]
    fn a_model_that_learned_the_frequencies_is_warned_of() {
        // 8 of 10 training series in class 0; training accuracy 0.8 and every test series
        // predicted as class 0: both signs.
        let train = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1];
        let w = warnings(&train, 0.8, &[0, 1, 1], &[0, 0, 0], &names(2));
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].contains(
            "training accuracy 0.800 is no better than always predicting the largest class (0.800)"
        ));
        assert_eq!(
            w[1],
            "a class was never predicted on the test set: \"c1\" (2 test examples)"
        );
    }

    #[test]
    fn a_model_that_learned_the_series_is_not() {
        let train = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1];
        assert!(warnings(&train, 0.95, &[0, 1, 2], &[0, 1, 2], &names(3)).is_empty());
        // A class absent from the test set need not be predicted; no test set, no check.
        assert!(warnings(&train, 0.95, &[0, 0], &[0, 0], &names(2)).is_empty());
        assert!(warnings(&train, 0.95, &[], &[], &names(2)).is_empty());
        // Regression-like NaN accuracy is never a sign.
        assert!(warnings(&train, f64::NAN, &[], &[], &names(2)).is_empty());
    }

    #[test]
    fn a_training_accuracy_just_above_the_margin_passes() {
        let train = [0, 0, 0, 1];
        assert_eq!(warnings(&train, 0.76, &[], &[], &names(2)).len(), 1);
        assert!(warnings(&train, 0.78, &[], &[], &names(2)).is_empty());
    }
}
