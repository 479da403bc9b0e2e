//! Image words ("rows", "pixels") rewritten for sequences that are not images, and the task's
//! words (the head's outputs, a forecast's windows), for the shape walk and the text.
use super::*;

/// Image words ("rows", "pixels") in the shape walk and text, for sequences that are not
/// images: timesteps, features, sequences.
const SEQUENCE_WORDS: [(&str, &str); 5] = [
    (
        "B images, T rows each, F pixels per row",
        "B sequences, T timesteps each, F features per step",
    ),
    ("row t of every image", "step t of every sequence"),
    ("(once per row)", "(once per timestep)"),
    ("per image", "per sequence"),
    ("test images", "test sequences"),
];

impl Explanation {
    /// Records the data the shapes come from; words fit sequences unless the data are images.
    pub fn with_data(self, data: Summary) -> Explanation {
        let mut e = if data.images {
            self
        } else {
            self.in_sequence_words()
        };
        e.data = Some(data);
        e
    }

    /// The explanation of a run on `data`, in the words of its task: the head's outputs are the
    /// predicted target values for regression and forecasting, and a forecast says how its
    /// windows were cut from the series.
    pub fn with_task(mut self, data: &Dataset) -> Explanation {
        self.task = data.task;
        // `series_stats` reads three features a value: say which the input's F are.
        let stats = data.normalization.as_ref().map(|n| n.kind);
        if let (Some(crate::config::Normalize::SeriesStats), Some(x)) =
            (stats, self.shapes.first_mut())
        {
            let p = data.patch.unwrap_or(1) as i64;
            let f = data.features / (3 * p);
            let values = match p {
                1 => String::new(),
                p => format!("{p} values a step x "),
            };
            x.what = format!(
                "{}; F = {values}3 x {f}: each value's z-score within its sequence, then the \
                 sequence's mean and log std, for each of the {f} feature{} (normalize = \
                 \"series_stats\")",
                x.what,
                if f == 1 { "" } else { "s" },
            );
        }
        let Some(target) = &data.target else {
            return self;
        };
        let head = match &data.forecast {
            Some(f) => format!(
                "the next {} value{} of {}{} ({})",
                f.horizon,
                if f.horizon == 1 { "" } else { "s" },
                target.name,
                match f.log {
                    true => " read as its logarithm, mapped back with exp",
                    false => "",
                },
                match (f.relative, f.decomposed) {
                    (true, false) => "changes from the window's last value, over its std",
                    (true, true) => {
                        "changes from the window's last value, both without their seasonal \
                         index, over its std"
                    }
                    (false, false) => "z-scores of it",
                    (false, true) => "z-scores of it without its seasonal index",
                }
            ),
            None => format!("the predicted {} (a z-score of it)", target.name),
        };
        if let Some(last) = self.shapes.last_mut() {
            last.what = head;
            last.expression = last.expression.replace("logits", "y_hat");
        }
        if let Some(f) = &data.forecast {
            let c = f.series[0].stretches;
            let which = match f.panel {
                true => format!(
                    "{} series learnt by one model; each is cut in time, the first ({:?})",
                    f.series.len(),
                    f.series[0].id
                ),
                false => "the series is cut in time".to_string(),
            };
            self.windows = Some(format!(
                "{which} into {} training, {} validation and {} test steps; a \
                 window is the {} steps up to a time t (read as T = {} timesteps of F = {} \
                 features), its target {} at t+1..t+{}; {} / {} / {} windows have their targets \
                 in each stretch (validation and test windows may read earlier steps, never \
                 later ones)",
                c.train,
                c.val,
                c.test,
                c.window,
                data.seq_len,
                data.features,
                target.name,
                f.horizon,
                data.train.len(),
                data.val.len(),
                data.test.len()
            ));
        }
        self
    }

    /// The same explanation in the words of sequences (timesteps, features), not images.
    pub fn in_sequence_words(mut self) -> Explanation {
        for step in &mut self.shapes {
            step.what = sequence_words(&step.what);
        }
        self.timesteps_vs_units = sequence_words(&self.timesteps_vs_units);
        self.images = false;
        self
    }
}

pub(super) fn sequence_words(text: &str) -> String {
    SEQUENCE_WORDS
        .iter()
        .fold(text.to_string(), |t, (from, to)| t.replace(from, to))
}
