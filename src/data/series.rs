/*!
Labelled sequences as read from `.ts` or CSV files, before they become tensors: the class names
(from the training file), the padded [N, T, F] tensors with their real lengths, and the
per-feature z-score over the training split's real timesteps (the validation split is
`validation`'s).

Padding goes at the end of a sequence and is zero after normalisation; `lengths` says where each
sequence ends, so padding never enters a statistic here and the model never reads it.
*/
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tch::{Kind, Tensor};

use super::Split;
use crate::error::UserError;
use crate::records::StatsInputs;

/// Sequences with a label each: a training and a test set, padded to one length.
pub struct Sequences {
    pub train: Split,
    pub test: Split,
    /// T: the longest sequence of either set.
    pub seq_len: i64,
    /// F: values per timestep.
    pub features: i64,
    /// The training set's class names, in class-index order (none for regression).
    pub class_names: Vec<String>,
    /// CSV with a `group_column`: each training series' group, in file order; else empty
    /// strings (images: none).
    pub groups: Vec<String>,
    /// `val_split = "file"`: the index in `train` where the series of `val_file` begin (they
    /// follow the training file's); None otherwise.
    pub given_val: Option<usize>,
}

/// The label index of a sequence whose file carries no labels (new data for `predict`).
pub const UNLABELLED: i64 = -1;

/// One sequence and its label ("" in a file without labels).
#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    /// `len * features` values, timestep-major (all features of step 0, then step 1, ...).
    pub values: Vec<f32>,
    pub len: usize,
    pub label: String,
    /// CSV with a `group_column`: the case's group (a subject, a recording); else empty.
    pub group: String,
    /// 1-based line of the file the case comes from (its first row in long CSV).
    pub line: usize,
}

/// The cases of one file.
#[derive(Clone, Debug)]
pub struct SeriesFile {
    pub path: PathBuf,
    pub features: usize,
    pub cases: Vec<Case>,
    /// Whether the cases carry labels (only a file read for `predict` may lack them).
    pub labelled: bool,
    /// Whether the file declares its labels as numbers (`.ts` `@targetLabel`: regression).
    pub targets: bool,
}

/// Distinct labels in order: numerically when every label is a number, else as text.
pub fn class_names<'a>(labels: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut names: Vec<String> = labels.map(str::to_string).collect();
    names.sort();
    names.dedup();
    let numbers: Option<Vec<f64>> = names.iter().map(|n| n.parse::<f64>().ok()).collect();
    if let Some(numbers) = numbers {
        let mut pairs: Vec<(f64, String)> = numbers.into_iter().zip(names).collect();
        pairs.sort_by(|a, b| {
            a.0.partial_cmp(&b.0)
                .unwrap_or(Ordering::Equal)
                .then(a.1.cmp(&b.1))
        });
        names = pairs.into_iter().map(|p| p.1).collect();
    }
    names
}

/// Checks that test fits train (features, classes) and pads both to the longest sequence.
/// With `numeric` (regression), labels are target numbers: y is [N, 1] float, NaN for a file
/// without labels, and `class_names` is empty.
pub fn to_tensors(
    train: &SeriesFile,
    test: &SeriesFile,
    numeric: bool,
) -> Result<Sequences, UserError> {
    if test.features != train.features {
        return Err(UserError::data(
            &test.path,
            format!(
                "{} features (dimensions) per timestep: expected {} as in {}",
                test.features,
                train.features,
                train.path.display()
            ),
        ));
    }
    let names = if numeric {
        Vec::new()
    } else {
        class_names(train.cases.iter().map(|c| c.label.as_str()))
    };
    let index: BTreeMap<&str, i64> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i as i64))
        .collect();
    let targets = match numeric {
        true => [targets(train)?, targets(test)?],
        false => [Vec::new(), Vec::new()],
    };
    if test.labelled && !numeric {
        check_classes(test, &index, train, &names)?;
    }
    let t = train
        .cases
        .iter()
        .chain(&test.cases)
        .map(|c| c.len)
        .max()
        .unwrap_or(1);
    let f = train.features;
    let labels = |file: usize| match numeric {
        true => Labels::Targets(&targets[file]),
        false => Labels::Classes(&index),
    };
    Ok(Sequences {
        train: padded(train, t, f, labels(0)),
        test: padded(test, t, f, labels(1)),
        seq_len: t as i64,
        features: f as i64,
        class_names: names,
        groups: train.cases.iter().map(|c| c.group.clone()).collect(),
        given_val: None,
    })
}

/// A regression file's targets, one per case (NaN for a file without labels).
fn targets(file: &SeriesFile) -> Result<Vec<f32>, UserError> {
    let target = |case: &Case| {
        if !file.labelled {
            return Ok(f32::NAN);
        }
        match case.label.parse::<f64>() {
            Ok(v) if v.is_finite() && (v as f32).is_finite() => Ok(v as f32),
            _ => Err(UserError::data_at(
                &file.path,
                case.line,
                format!(
                    "target {:?}: expected a finite number (a regression target)",
                    case.label
                ),
            )),
        }
    };
    file.cases.iter().map(target).collect()
}

/// Every label of `test` is a class of the training file (`index`).
/// A `val_file` read against the training file: the same features per step, labelled, and
/// (classification) only the training file's classes; an error names the file and line.
pub fn check_validation_file(
    train: &SeriesFile,
    val: &SeriesFile,
    numeric: bool,
) -> Result<(), UserError> {
    if val.features != train.features {
        return Err(UserError::data(
            &val.path,
            format!(
                "{} features (dimensions) per timestep: expected {} as in the training file {}",
                val.features,
                train.features,
                train.path.display()
            ),
        ));
    }
    if val.cases.is_empty() {
        return Err(UserError::data(
            &val.path,
            "no series: expected the validation series (val_split = \"file\")",
        ));
    }
    if numeric {
        return Ok(());
    }
    let names = class_names(train.cases.iter().map(|c| c.label.as_str()));
    let index: BTreeMap<&str, i64> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i as i64))
        .collect();
    check_classes(val, &index, train, &names)
}

fn check_classes(
    test: &SeriesFile,
    index: &BTreeMap<&str, i64>,
    train: &SeriesFile,
    names: &[String],
) -> Result<(), UserError> {
    match test
        .cases
        .iter()
        .find(|case| !index.contains_key(case.label.as_str()))
    {
        Some(case) => Err(UserError::data_at(
            &test.path,
            case.line,
            format!(
                "class {:?} does not occur in the training file {}: expected one of {}",
                case.label,
                train.path.display(),
                shown_list(names)
            ),
        )),
        None => Ok(()),
    }
}

/// What y holds: class indices by label, or regression targets.
enum Labels<'a> {
    Classes(&'a BTreeMap<&'a str, i64>),
    Targets(&'a [f32]),
}

/// A file's cases as a split padded with zeros to `t` steps of `f` features.
fn padded(file: &SeriesFile, t: usize, f: usize, labels: Labels) -> Split {
    let n = file.cases.len();
    let mut x = vec![0f32; n * t * f];
    for (i, c) in file.cases.iter().enumerate() {
        x[i * t * f..i * t * f + c.values.len()].copy_from_slice(&c.values);
    }
    let lengths: Vec<i64> = file.cases.iter().map(|c| c.len as i64).collect();
    let y = match labels {
        Labels::Targets(targets) => Tensor::from_slice(targets).view([n as i64, 1]),
        Labels::Classes(index) => {
            let y: Vec<i64> = file
                .cases
                .iter()
                .map(|c| match file.labelled {
                    true => index[c.label.as_str()],
                    false => UNLABELLED,
                })
                .collect();
            Tensor::from_slice(&y)
        }
    };
    Split {
        x: Tensor::from_slice(&x).view([n as i64, t as i64, f as i64]),
        y,
        lengths: Tensor::from_slice(&lengths),
    }
}

fn shown_list(names: &[String]) -> String {
    let mut shown: Vec<String> = names.iter().take(12).map(|n| format!("{n:?}")).collect();
    if names.len() > 12 {
        shown.push(format!("... ({} classes)", names.len()));
    }
    shown.join(", ")
}

/// Per-feature mean and standard deviation over the real (unpadded) timesteps of `split`.
/// A constant feature gets std 1 (it becomes 0 everywhere).
pub fn feature_stats(split: &Split) -> (Tensor, Tensor) {
    let (mean, std) = moments(split);
    let std = std.where_self(&std.gt(1e-12), &std.ones_like());
    (mean, std)
}

/// Per-feature mean and population standard deviation (float64, [F]) over the real timesteps
/// of `split` (0 for both where it has none).
fn moments(split: &Split) -> (Tensor, Tensor) {
    let mask = valid_mask(split);
    let count = mask.sum(Kind::Double).clamp_min(1.0);
    let x = split.x.to_kind(Kind::Double);
    let sum_dims = [0i64, 1].as_slice();
    let mean = (&x * &mask).sum_dim_intlist(sum_dims, false, Kind::Double) / &count;
    let centred = (&x - &mean) * &mask;
    let var = centred
        .square()
        .sum_dim_intlist(sum_dims, false, Kind::Double)
        / &count;
    (mean, var.sqrt())
}

/// `(x - mean) / std` on the real timesteps; padding stays 0.
pub fn normalise(split: &Split, mean: &Tensor, std: &Tensor) -> Split {
    let mask = valid_mask(split);
    let x = ((split.x.to_kind(Kind::Double) - mean) / std * &mask).to_kind(Kind::Float);
    Split {
        x,
        y: split.y.shallow_clone(),
        lengths: split.lengths.shallow_clone(),
    }
}

/// Each sequence z-scored on its own, per feature, over its real timesteps (as the UCR archive
/// normalises its series); a constant feature of a sequence becomes 0; padding stays 0.
pub fn per_series(split: &Split) -> Split {
    let (centred, _, std, mask) = own_moments(split);
    let std = std.where_self(&std.gt(1e-12), &std.ones_like());
    Split {
        x: (centred / std * &mask).to_kind(Kind::Float),
        y: split.y.shallow_clone(),
        lengths: split.lengths.shallow_clone(),
    }
}

/// Each sequence's values less their own mean, per feature, over its real timesteps, its mean
/// and population std ([N, 1, F], float64), and the mask of its real steps; padding stays 0.
fn own_moments(split: &Split) -> (Tensor, Tensor, Tensor, Tensor) {
    let mask = valid_mask(split);
    let count = mask
        .sum_dim_intlist([1i64].as_slice(), true, Kind::Double)
        .clamp_min(1.0);
    let x = split.x.to_kind(Kind::Double);
    let mean = (&x * &mask).sum_dim_intlist([1i64].as_slice(), true, Kind::Double) / &count;
    let centred = (&x - &mean) * &mask;
    let var = centred
        .square()
        .sum_dim_intlist([1i64].as_slice(), true, Kind::Double)
        / &count;
    (centred, mean, var.sqrt(), mask)
}

/// `normalize = "series_stats"`: each sequence z-scored on its own, per feature, as
/// `per_series` does, with two more features a feature that give back what that loses, constant
/// over its real steps (0 on padding): its mean and the log of its std (plus a floor, a
/// thousandth of the feature's std over the training split), each standardised by their mean
/// and population std over the training split's sequences (`StatsInputs`), that std at least
/// a hundredth of the feature's std (levels) or 0.01 (log spreads); a feature constant over
/// the whole training split counts as a std of 1 there. A new series whose level or spread
/// differs where the training series' hardly did gets a large input: the floors set the scale. F features become
/// 3F: the z-scores, the levels, the spreads. Recordings that differ in scale by orders of
/// magnitude are read as shapes, and the scale and level a class may be told by stay inputs.
pub fn with_stats(splits: &[Split; 3]) -> ([Split; 3], StatsInputs) {
    const LEAST_SPREAD: f64 = 1e-2;
    let (_, feature_std) = feature_stats(&splits[0]);
    let floor = &feature_std * 1e-3;
    // Each sequence's z-scores, mean, log spread and mask.
    let parts = |split: &Split| {
        let (centred, mean, std, mask) = own_moments(split);
        let spread = (&std + &floor).log();
        let std = std.where_self(&std.gt(1e-12), &std.ones_like());
        (centred / std * &mask, mean, spread, mask)
    };
    let (_, level0, spread0, _) = parts(&splits[0]);
    // Mean and population std over the training split's sequences, the std at least `least`:
    // levels that differ by less than a hundredth of the feature's spread, or spreads by less
    // than 1 %, tell no series apart (as in archives whose series are z-scored already, where
    // they differ by rounding alone) and become inputs near 0, not rounding noise blown up to
    // a unit variance.
    let over_series = |t: &Tensor, least: &Tensor| {
        let mean = t.mean_dim([0i64].as_slice(), true, Kind::Double);
        let std = t.std_dim([0i64].as_slice(), false, true).maximum(least);
        (mean, std)
    };
    let (level_mean, level_std) = over_series(&level0, &(&feature_std * LEAST_SPREAD));
    let (spread_mean, spread_std) =
        over_series(&spread0, &Tensor::from(LEAST_SPREAD).to_kind(Kind::Double));
    let scaled = splits.each_ref().map(|split| {
        let (z, level, spread, mask) = parts(split);
        let t = z.size()[1];
        let level = ((level - &level_mean) / &level_std).expand([-1, t, -1], false) * &mask;
        let spread = ((spread - &spread_mean) / &spread_std).expand([-1, t, -1], false) * &mask;
        Split {
            x: Tensor::cat(&[z, level, spread], 2).to_kind(Kind::Float),
            y: split.y.shallow_clone(),
            lengths: split.lengths.shallow_clone(),
        }
    });
    let values = |t: &Tensor| Vec::<f64>::try_from(&t.flatten(0, -1)).expect("f64 stats");
    let inputs = StatsInputs {
        level_mean: values(&level_mean),
        level_std: values(&level_std),
        spread_floor: values(&floor),
        spread_mean: values(&spread_mean),
        spread_std: values(&spread_std),
    };
    (scaled, inputs)
}

/// How much a series changes from one step to the next: the standard deviation of the first
/// differences x[t+1] - x[t] of each feature over the real timesteps of every sequence, the
/// mean over features (0 where no sequence has two steps). Of z-scored series it says how
/// jagged they are against their spread: 0.08 for GunPoint's smooth curves, 0.26 for
/// JapaneseVowels' cepstra, 1.0 for BasicMotions' accelerometers (`data::auto::noise`).
pub fn step_change(split: &Split) -> f64 {
    let t = split.x.size()[1];
    if t < 2 || split.x.size()[0] == 0 {
        return 0.0;
    }
    let x = split.x.to_kind(Kind::Double);
    // The differences as a split of their own: a sequence of length L has L - 1 real ones.
    let differences = Split {
        x: x.narrow(1, 1, t - 1) - x.narrow(1, 0, t - 1),
        y: split.y.shallow_clone(),
        lengths: &split.lengths - 1,
    };
    moments(&differences).1.mean(Kind::Double).double_value(&[])
}

/// [N, T, 1] with 1 on the real timesteps and 0 on padding.
fn valid_mask(split: &Split) -> Tensor {
    let t = split.x.size()[1];
    let steps = Tensor::arange(t, (Kind::Int64, split.x.device()));
    steps
        .unsqueeze(0)
        .lt_tensor(&split.lengths.unsqueeze(1))
        .to_kind(Kind::Double)
        .unsqueeze(2)
}

/// Reads a whole text file, with the path in the error.
pub fn read_text(path: &Path) -> Result<String, UserError> {
    if !path.is_file() {
        return Err(UserError::data(path, "no such file"));
    }
    let bytes =
        std::fs::read(path).map_err(|e| UserError::data(path, format!("cannot read: {e}")))?;
    String::from_utf8(bytes).map_err(|e| {
        let line = 1 + e.as_bytes()[..e.utf8_error().valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        UserError::data_at(path, line, "not UTF-8 text: expected a text file")
    })
}

/// Parses one value; `?`, non-numbers and non-finite values are errors naming `what`.
/// A CSV header's names, checked distinct (a repeated name would make the columns a key
/// selects ambiguous): else an error at the header's line naming the name.
pub fn distinct_header(header: &[String], path: &Path, line: usize) -> Result<(), UserError> {
    let mut seen = std::collections::HashSet::new();
    match header.iter().find(|h| !seen.insert(h.as_str())) {
        Some(dup) => Err(UserError::data_at(
            path,
            line,
            format!("column {dup:?} appears twice in the header: expected distinct column names"),
        )),
        None => Ok(()),
    }
}

pub fn parse_value(text: &str, what: &str) -> Result<f32, String> {
    let t = text.trim();
    if t == "?" || t.is_empty() {
        return Err(format!(
            "missing value {t:?} in {what}: expected a number (rowseq does not impute: fill or \
             drop missing values first)"
        ));
    }
    match t.parse::<f32>() {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(v) => Err(format!("{v} in {what}: expected a finite number")),
        Err(_) => Err(format!("{t:?} in {what}: expected a number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_series_is_scaled_on_its_own_and_padding_stays_zero() {
        // Two series of one feature: [1, 2, 3] and [10, 30] (padded with 0).
        let split = Split {
            x: Tensor::from_slice(&[1f32, 2., 3., 10., 30., 0.]).reshape([2, 3, 1]),
            y: Tensor::from_slice(&[0i64, 1]),
            lengths: Tensor::from_slice(&[3i64, 2]),
        };
        let z = per_series(&split);
        let v = Vec::<f32>::try_from(z.x.flatten(0, -1)).unwrap();
        let s = (2f32 / 3.0).sqrt();
        let want = [-1. / s, 0., 1. / s, -1., 1., 0.];
        for (a, b) in v.iter().zip(want) {
            assert!((a - b).abs() < 1e-6, "{v:?}");
        }
        // A constant series becomes zeros, not NaN.
        let flat = Split {
            x: Tensor::from_slice(&[5f32, 5.]).reshape([1, 2, 1]),
            y: Tensor::from_slice(&[0i64]),
            lengths: Tensor::from_slice(&[2i64]),
        };
        let v = Vec::<f32>::try_from(per_series(&flat).x.flatten(0, -1)).unwrap();
        assert_eq!(v, [0., 0.]);
    }

    #[test]
    fn series_stats_keep_each_series_level_and_spread_as_inputs() {
        // Training: [1, 2, 3] and [10, 30] (padded); means 2 and 20, stds sqrt(2/3) and 10.
        let train = Split {
            x: Tensor::from_slice(&[1f32, 2., 3., 10., 30., 0.]).reshape([2, 3, 1]),
            y: Tensor::from_slice(&[0i64, 1]),
            lengths: Tensor::from_slice(&[3i64, 2]),
        };
        // Another split: one series [4, 6] the training statistics scale.
        let other = Split {
            x: Tensor::from_slice(&[4f32, 6.]).reshape([1, 2, 1]),
            y: Tensor::from_slice(&[0i64]),
            lengths: Tensor::from_slice(&[2i64]),
        };
        let (scaled, inputs) = with_stats(&[
            train.select(&Tensor::from_slice(&[0i64, 1])),
            other.select(&Tensor::from_slice(&[0i64])),
            other,
        ]);
        assert_eq!(scaled[0].x.size(), [2, 3, 3]);
        // The z-scores are per_series'.
        let z = Vec::<f32>::try_from(scaled[0].x.narrow(2, 0, 1).flatten(0, -1)).unwrap();
        let per = Vec::<f32>::try_from(per_series(&train).x.flatten(0, -1)).unwrap();
        assert_eq!(z, per);
        // The floor: a thousandth of the feature's std over the training split's 5 values.
        let all = [1f64, 2., 3., 10., 30.];
        let m = all.iter().sum::<f64>() / 5.0;
        let sd = (all.iter().map(|v| (v - m).powi(2)).sum::<f64>() / 5.0).sqrt();
        assert!(
            (inputs.spread_floor[0] - sd * 1e-3).abs() < 1e-12,
            "{inputs:?}"
        );
        // Levels 2 and 20: mean 11, population std 9; spreads ln(s + floor) likewise.
        assert!((inputs.level_mean[0] - 11.0).abs() < 1e-12, "{inputs:?}");
        assert!((inputs.level_std[0] - 9.0).abs() < 1e-12, "{inputs:?}");
        let spreads = [(2f64 / 3.0).sqrt(), 10.0].map(|s| (s + sd * 1e-3).ln());
        let mid = (spreads[0] + spreads[1]) / 2.0;
        assert!((inputs.spread_mean[0] - mid).abs() < 1e-12, "{inputs:?}");
        assert!(
            (inputs.spread_std[0] - (spreads[1] - mid)).abs() < 1e-12,
            "{inputs:?}"
        );
        // Constant over each series' real steps, 0 on its padding: the training series are
        // -1 and +1 in both (two series standardised), the other's level (5 - 11) / 9.
        let level = Vec::<f32>::try_from(scaled[0].x.narrow(2, 1, 1).flatten(0, -1)).unwrap();
        assert_eq!(level, [-1., -1., -1., 1., 1., 0.]);
        let spread = Vec::<f32>::try_from(scaled[0].x.narrow(2, 2, 1).flatten(0, -1)).unwrap();
        for (a, b) in spread.iter().zip([-1f32, -1., -1., 1., 1., 0.]) {
            assert!((a - b).abs() < 1e-6, "{spread:?}");
        }
        let level = Vec::<f32>::try_from(scaled[1].x.narrow(2, 1, 1).flatten(0, -1)).unwrap();
        let want = ((5.0 - 11.0) / 9.0) as f32;
        assert!(level.iter().all(|v| (v - want).abs() < 1e-6), "{level:?}");
        // Series z-scored already (an archive's), equal but for rounding: their levels and
        // spreads tell nothing apart and stay near 0, not rounding blown up to +-1.
        let z = Split {
            x: Tensor::from_slice(&[-1f32, 0., 1., -1.0000001, 0., 1.0000001]).reshape([2, 3, 1]),
            y: Tensor::from_slice(&[0i64, 1]),
            lengths: Tensor::from_slice(&[3i64, 3]),
        };
        let (scaled, _) = with_stats(&[
            z.select(&Tensor::from_slice(&[0i64, 1])),
            z.select(&Tensor::from_slice(&[0i64])),
            z,
        ]);
        let stats = Vec::<f32>::try_from(scaled[0].x.narrow(2, 1, 2).flatten(0, -1)).unwrap();
        assert!(stats.iter().all(|v| v.abs() < 1e-4), "{stats:?}");
    }

    #[test]
    fn step_change_is_the_spread_of_real_differences_only() {
        // Feature 0: [1, 2, 4] and [10, 13] + padding: differences 1, 2 and 3 (never 13 -> 0),
        // population std sqrt(2/3). Feature 1 is constant: 0. The mean over features.
        let split = Split {
            x: Tensor::from_slice(&[1f32, 7., 2., 7., 4., 7., 10., 7., 13., 7., 0., 0.])
                .reshape([2, 3, 2]),
            y: Tensor::from_slice(&[0i64, 1]),
            lengths: Tensor::from_slice(&[3i64, 2]),
        };
        let want = (2f64 / 3.0).sqrt() / 2.0;
        assert!((step_change(&split) - want).abs() < 1e-9);
        // No sequence with two steps: no change.
        let short = Split {
            x: Tensor::from_slice(&[1f32, 2.]).reshape([2, 1, 1]),
            y: Tensor::from_slice(&[0i64, 1]),
            lengths: Tensor::from_slice(&[1i64, 1]),
        };
        assert_eq!(step_change(&short), 0.0);
    }

    fn case(values: Vec<f32>, len: usize, label: &str, line: usize) -> Case {
        Case {
            group: String::new(),
            values,
            len,
            label: label.into(),
            line,
        }
    }

    #[test]
    fn class_names_sort_numbers_as_numbers() {
        let v = ["10", "2", "1", "2", "-1.5"];
        assert_eq!(class_names(v.into_iter()), ["-1.5", "1", "2", "10"]);
        let v = ["b", "a", "10", "2"];
        assert_eq!(class_names(v.into_iter()), ["10", "2", "a", "b"]);
    }

    #[test]
    fn tensors_are_padded_at_the_end_with_lengths() {
        let train = SeriesFile {
            path: "tr.ts".into(),
            features: 2,
            cases: vec![
                case(vec![1., 2., 3., 4., 5., 6.], 3, "b", 5),
                case(vec![7., 8.], 1, "a", 6),
            ],
            labelled: true,
            targets: false,
        };
        let test = SeriesFile {
            path: "te.ts".into(),
            features: 2,
            cases: vec![case(vec![1., 1., 2., 2., 3., 3., 4., 4.], 4, "a", 9)],
            labelled: true,
            targets: false,
        };
        let t = to_tensors(&train, &test, false).unwrap();
        assert_eq!((t.seq_len, t.features), (4, 2));
        assert_eq!(t.class_names, ["a", "b"]);
        assert_eq!(Vec::<i64>::try_from(&t.train.y).unwrap(), [1, 0]);
        assert_eq!(Vec::<i64>::try_from(&t.train.lengths).unwrap(), [3, 1]);
        let x: Vec<f32> = Vec::try_from(&t.train.x.reshape([-1])).unwrap();
        assert_eq!(
            x,
            [1., 2., 3., 4., 5., 6., 0., 0., 7., 8., 0., 0., 0., 0., 0., 0.]
        );
        assert_eq!(t.test.x.size(), [1, 4, 2]);
        // New data without labels: every label index is UNLABELLED, no class is checked.
        let new = SeriesFile {
            labelled: false,
            targets: false,
            cases: vec![case(vec![1., 1.], 1, "", 2)],
            ..test
        };
        let t = to_tensors(&train, &new, false).unwrap();
        assert_eq!(Vec::<i64>::try_from(&t.test.y).unwrap(), [UNLABELLED]);
    }

    #[test]
    fn unseen_test_class_and_feature_mismatch_are_named() {
        let train = SeriesFile {
            path: "tr.ts".into(),
            features: 1,
            cases: vec![case(vec![1.], 1, "a", 3)],
            labelled: true,
            targets: false,
        };
        let mut test = SeriesFile {
            path: "te.ts".into(),
            features: 1,
            cases: vec![case(vec![1.], 1, "a", 3), case(vec![1.], 1, "z", 4)],
            labelled: true,
            targets: false,
        };
        let e = to_tensors(&train, &test, false).err().unwrap().to_string();
        assert_eq!(
            e,
            "te.ts:4: class \"z\" does not occur in the training file tr.ts: expected one of \"a\""
        );
        test.features = 2;
        let e = to_tensors(&train, &test, false).err().unwrap().to_string();
        assert!(e.starts_with("te.ts: 2 features"), "{e}");
    }

    #[test]
    fn zscore_uses_only_real_timesteps_and_keeps_padding_zero() {
        // Feature 0 over real steps: 1, 3, 5 -> mean 3; padding would pull the mean down.
        let split = Split {
            x: Tensor::from_slice(&[1f32, 3., 5., 0.]).view([2, 2, 1]),
            y: Tensor::from_slice(&[0i64, 0]),
            lengths: Tensor::from_slice(&[2i64, 1]),
        };
        let (mean, std) = feature_stats(&split);
        assert!((mean.double_value(&[0]) - 3.0).abs() < 1e-9);
        let want = (8.0f64 / 3.0).sqrt();
        assert!((std.double_value(&[0]) - want).abs() < 1e-9);
        let n = normalise(&split, &mean, &std);
        let x: Vec<f32> = Vec::try_from(&n.x.reshape([-1])).unwrap();
        assert!((x[0] + 2.0 / want as f32).abs() < 1e-6);
        assert_eq!(x[3], 0.0);
    }

    #[test]
    fn values_must_be_finite_numbers() {
        assert_eq!(parse_value(" 1.5 ", "x"), Ok(1.5));
        for (t, want) in [
            ("?", "missing value"),
            ("", "missing value"),
            ("abc", "\"abc\" in x: expected a number"),
            ("NaN", "expected a finite number"),
            ("inf", "expected a finite number"),
        ] {
            let e = parse_value(t, "x").unwrap_err();
            assert!(e.contains(want), "{t}: {e}");
        }
    }
}
