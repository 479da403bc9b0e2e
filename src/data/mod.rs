/*!
Datasets as sequence tensors: x is [N, T, F] float32, y is [N] int64 class indices, and
`lengths` [N] the real length of each sequence (shorter ones are zero-padded at the end).

`config::dataset` parses the `dataset` key. Image sets (`mnist`, `fashion-mnist`, `idx:DIR`) are
read row by row: an image of R rows and C columns is T = R timesteps of F = C pixels, scaled to
[0, 1] (byte / 255); their validation split is the last `val_size` images of the training set
(for MNIST, the last 5,000 are its original validation images). Series sets (`ts:`, `csv:`;
readers in `ts`, `csv`, shared checks in `series`) take T, F and the classes from the files;
their validation split is stratified and fixed (`validation`), and each feature is z-scored
with the mean and std of the run's training split (real timesteps only), applied to validation
and test. `train_size` and `test_size` take the first N examples, for quick runs. One series
(`csv:SERIES.csv`, forecasting; `forecast`) is cut in time into windows instead.

The path of the data: `load` reads what the `dataset` key names into a `Source`, which holds
what was loaded (`source::Loaded`: labelled sequences or one series); `Source::split` hands each
kind to its split for one run (`sequences::split`, `windows::split`), which makes the run's
`Dataset`. Named sets are found through `folders`.
*/
pub mod auto;
pub mod csv;
pub mod dates;
pub mod ets;
pub mod forecast;
pub mod idx;
pub mod neighbours;
pub mod npz;
pub mod patch;
pub mod series;
pub mod ts;

mod folders;
mod load;
mod origin;
mod sequences;
mod source;
mod validation;
mod windows;

pub use folders::data_dir;
pub use load::train_file_sha256;
pub use source::Source;

use tch::{Kind, Tensor};

use crate::config::Task;
use crate::metrics::Errors;
use crate::records::{ClassAccuracy, DataInfo, Normalization};

/// One split of a dataset. Sequences shorter than T are padded with zeros at the end;
/// `lengths` says how many timesteps of each are real, and the model never reads past it.
pub struct Split {
    /// [N, T, F] float32.
    pub x: Tensor,
    /// [N] int64 class indices; for numeric tasks [N, K] float32 targets (standardised).
    pub y: Tensor,
    /// [N] int64 valid timesteps per sequence, each in 1..=T.
    pub lengths: Tensor,
}

impl Split {
    /// The examples of `parts` one after the other (one part: itself, shared).
    pub fn cat(parts: &[&Split]) -> Split {
        if let [one] = parts {
            return one.narrow(0, one.len());
        }
        let each = |f: fn(&Split) -> &Tensor| -> Tensor {
            Tensor::cat(&parts.iter().map(|p| f(p)).collect::<Vec<_>>(), 0)
        };
        Split {
            x: each(|p| &p.x),
            y: each(|p| &p.y),
            lengths: each(|p| &p.lengths),
        }
    }

    /// A split whose sequences all have the full length T.
    pub fn full_length(x: Tensor, y: Tensor) -> Split {
        let size = x.size();
        let lengths = Tensor::full([size[0]], size[1], (Kind::Int64, x.device()));
        Split { x, y, lengths }
    }

    /// The examples at `index` ([K] int64), in that order.
    pub fn select(&self, index: &Tensor) -> Split {
        Split {
            x: self.x.index_select(0, index),
            y: self.y.index_select(0, index),
            lengths: self.lengths.index_select(0, index),
        }
    }

    /// The same split on `device`.
    pub fn to_device(&self, device: tch::Device) -> Split {
        Split {
            x: self.x.to_device(device),
            y: self.y.to_device(device),
            lengths: self.lengths.to_device(device),
        }
    }

    pub fn len(&self) -> usize {
        self.y.size()[0] as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Examples `start..start + len`, as views.
    pub fn narrow(&self, start: usize, len: usize) -> Split {
        let (start, len) = (start as i64, len as i64);
        Split {
            x: self.x.narrow(0, start, len),
            y: self.y.narrow(0, start, len),
            lengths: self.lengths.narrow(0, start, len),
        }
    }
}

/// A labelled sequence dataset, split three ways.
pub struct Dataset {
    /// The `dataset` value it was loaded from.
    pub name: String,
    pub train: Split,
    pub val: Split,
    pub test: Split,
    /// T: timesteps per sequence (the longest; shorter ones are padded).
    pub seq_len: i64,
    /// F: features per timestep.
    pub features: i64,
    /// Class names, in class-index order.
    pub class_names: Vec<String>,
    /// Rows of an image (pixels in [0, 1]): can be drawn as pictures.
    pub images: bool,
    /// Images: their rows and columns (the first R·C values of a sequence, row-major, are the
    /// image, whatever the patch).
    pub image_shape: Option<(i64, i64)>,
    /// Values (pixels, for images) per timestep, as `patch` resolved, when it is not the
    /// data's own step (recorded in results, for `predict`).
    pub patch: Option<usize>,
    /// Series: how they were scaled, with the statistics (saved in the run folder).
    pub normalization: Option<Normalization>,
    /// Series: how much the scaled training series change from one step to the next
    /// (`series::step_change`, before patching), from which `noise = "auto"` is chosen.
    pub step_change: Option<f64>,
    pub task: Task,
    /// Numeric tasks: how targets were standardised (y = (value - mean) / std).
    pub target: Option<Target>,
    /// Forecasting: the series' cut, the test windows' truth and baselines.
    pub forecast: Option<Forecast>,
    /// Series classification: the 1-NN baselines on the same test series
    /// (`Source::nearest_neighbour`; set by the sweep, which records them).
    pub neighbours: Option<neighbours::NearestNeighbour>,
    /// Series sets (`ts:`, `csv:`): the SHA-256 of the training file as read, recorded in the
    /// result (`DataInfo::train_sha256`) so that `predict` refuses the file once changed.
    pub train_sha256: Option<String>,
}

/// A numeric task's target: its name and the training split's mean and std, with which
/// predictions are mapped back to its units.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    pub name: String,
    pub mean: f64,
    pub std: f64,
}

impl Target {
    /// Standardised values back in the target's units.
    pub fn unscale(&self, z: &[f64]) -> Vec<f64> {
        z.iter().map(|v| v * self.std + self.mean).collect()
    }
}

/// What a forecasting run is scored against, in the target's units: the test windows of every
/// series of the file (one for a plain series file), series by series.
#[derive(Clone, Debug)]
pub struct Forecast {
    pub horizon: usize,
    /// The season length the run used: `season`, or the one detected for "auto" (0: none).
    pub season: usize,
    /// Windows relative to their last value (`normalize = "last"`): predictions are changes.
    pub relative: bool,
    /// The target loses its seasonal indices before the network reads it (`decompose`).
    pub decomposed: bool,
    /// The network reads the target's logarithm (`transform = "log"`): centres and target
    /// stds are in its units, and a forecast is exp(output * std + centre).
    pub log: bool,
    /// Each series' cut and scales, in the order of the windows of every split.
    pub series: Vec<SeriesCut>,
    /// What a scaled output of 0 means for each test target, in its series' units, or its
    /// logarithm's under `log` (`forecast::windows`): the forecast is output * its series'
    /// target std + centre (exp of that under `log`).
    pub centres: Vec<f64>,
    /// The same for each validation target.
    pub val_centres: Vec<f64>,
    /// Test windows' truth and baseline forecasts, [N * horizon] row-major.
    pub truth: Vec<f64>,
    pub naive: Vec<f64>,
    pub snaive: Vec<f64>,
    /// The AutoETS baseline's (`Source::ets`; set by the sweep, which records it).
    pub ets: Option<std::sync::Arc<ets::EtsForecast>>,
    /// Whether the file is a panel (`forecast::Panel::is_panel`): outputs carry each row's id.
    pub panel: bool,
}

/// One series of a forecast: where it is cut, how its target is scaled, and its windows.
#[derive(Clone, Debug)]
pub struct SeriesCut {
    /// Its id in a panel ("" for a plain series file).
    pub id: String,
    pub stretches: forecast::Stretches,
    /// MASE's denominator: the in-sample (seasonal-)naive MAE on its training stretch.
    pub scale: f64,
    /// Its target's mean and std over its training stretch (its logarithm's under `log`).
    pub target: Target,
    /// Its validation windows, counted.
    pub val_windows: usize,
    /// t of each test window (its last input step).
    pub test_origins: Vec<usize>,
    /// The series' dates (`date_column`), for the outputs.
    pub calendar: Option<dates::Calendar>,
}

/// A held-out split of a forecast, whose windows are its series' in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Held {
    Val,
    Test,
}

impl Forecast {
    /// The rows ([N * horizon] targets) of each series in `held`, in order.
    pub fn rows(&self, held: Held) -> Vec<std::ops::Range<usize>> {
        let mut start = 0;
        self.series
            .iter()
            .map(|s| {
                let n = match held {
                    Held::Val => s.val_windows,
                    Held::Test => s.test_origins.len(),
                } * self.horizon;
                start += n;
                start - n..start
            })
            .collect()
    }

    /// The target std of the series of each test target: a scaled output times it plus the
    /// centre is the forecast (exp of that under `log`).
    pub fn spreads(&self) -> Vec<f64> {
        self.series
            .iter()
            .flat_map(|s| std::iter::repeat_n(s.target.std, s.test_origins.len() * self.horizon))
            .collect()
    }

    /// The id of each test target's series.
    pub fn row_ids(&self) -> Vec<String> {
        self.series
            .iter()
            .flat_map(|s| std::iter::repeat_n(s.id.clone(), s.test_origins.len() * self.horizon))
            .collect()
    }

    /// The errors of `predicted` against `truth` (both in the targets' units, the rows of
    /// `held`), per series with its own MASE scale, then their mean over the series
    /// (`Errors::mean`): a panel's scores weigh every series alike.
    pub fn score(&self, predicted: &[f64], truth: &[f64], held: Held) -> Errors {
        let per: Vec<Errors> = self.score_each(predicted, truth, held);
        Errors::mean(&per)
    }

    /// `score` series by series.
    pub fn score_each(&self, predicted: &[f64], truth: &[f64], held: Held) -> Vec<Errors> {
        self.each_series(predicted, truth, held, |s| s.scale)
    }

    /// Each series' errors of `predicted` against `truth` (the rows of `held`), its MASE over
    /// `scale` of the series.
    fn each_series(
        &self,
        predicted: &[f64],
        truth: &[f64],
        held: Held,
        scale: impl Fn(&SeriesCut) -> f64,
    ) -> Vec<Errors> {
        self.series
            .iter()
            .zip(self.rows(held))
            .map(|(s, r)| Errors::of(&predicted[r.clone()], &truth[r]).with_mase(scale(s)))
            .collect()
    }

    /// A panel's validation errors: each series' in its own target std (the scaled outputs `z`
    /// against the scaled truth, MASE on its scale in those units), then their mean, so that
    /// selecting an epoch weighs every series alike, whatever its units. Under `transform =
    /// "log"` the std is the logarithm's, and MASE, which has no units, comes from the
    /// forecasts mapped back to each series' own (`unscaled`) over its in-sample scale there.
    pub fn score_scaled(&self, z: &[f64], truth_z: &[f64], held: Held) -> Errors {
        let scaled = Errors::mean(&self.each_series(z, truth_z, held, |s| s.scale / s.target.std));
        match self.log {
            true => Errors {
                mase: self
                    .score(&self.unscaled(z, held), &self.unscaled(truth_z, held), held)
                    .mase,
                ..scaled
            },
            false => scaled,
        }
    }

    /// Held-out values in the targets' units from scaled outputs (or scaled truth) `z` of the
    /// rows of `held`: each output times its series' target std plus its window's centre, and
    /// exp of that under `transform = "log"`.
    pub fn unscaled(&self, z: &[f64], held: Held) -> Vec<f64> {
        let centres = match held {
            Held::Val => &self.val_centres,
            Held::Test => &self.centres,
        };
        let mut out = Vec::with_capacity(z.len());
        for (s, r) in self.series.iter().zip(self.rows(held)) {
            let std = s.target.std;
            out.extend(r.map(|k| self.value(z[k] * std + centres[k])));
        }
        out
    }

    /// A value in the target's units from one in the units the network reads (`log`).
    pub fn value(&self, read: f64) -> f64 {
        forecast::unread(read, self.log)
    }
}

/// The errors of a numeric task's baselines on the test split, in the target's units.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Baselines {
    /// Regression: the training mean for every example.
    pub constant: Option<Errors>,
    /// Forecasting: the window's last value, and the value one season back.
    pub naive: Option<Errors>,
    pub snaive: Option<Errors>,
    /// Forecasting: AutoETS, where it was computed (`Forecast::ets`).
    pub ets: Option<Errors>,
}

impl Dataset {
    /// The same data with the validation series added to the training split (after it, in
    /// order), for a run that refits on both (`refit`): its scaling, classes, test split and
    /// baselines stay those of the training split alone. The validation split stays as it is,
    /// so that the refit's curves keep their columns (its scores there are of series it saw).
    pub fn with_validation_in_training(&self) -> Dataset {
        Dataset {
            name: self.name.clone(),
            train: Split::cat(&[&self.train, &self.val]),
            val: self.val.narrow(0, self.val.len()),
            test: self.test.narrow(0, self.test.len()),
            seq_len: self.seq_len,
            features: self.features,
            class_names: self.class_names.clone(),
            images: self.images,
            image_shape: self.image_shape,
            patch: self.patch,
            normalization: self.normalization.clone(),
            step_change: self.step_change,
            task: self.task,
            target: self.target.clone(),
            forecast: self.forecast.clone(),
            neighbours: self.neighbours,
            train_sha256: self.train_sha256.clone(),
        }
    }

    /// A numeric task's test predictions (standardised, [N * K]) in the target's units: a
    /// forecast adds its centre back (the window's last value, the mean, and the season).
    pub fn test_values(&self, z: &[f64]) -> Vec<f64> {
        let target = self.target.as_ref().expect("a numeric task has a target");
        match &self.forecast {
            Some(f) => z
                .iter()
                .zip(&f.centres)
                .zip(f.spreads())
                .map(|((z, centre), std)| f.value(z * std + centre))
                .collect(),
            None => target.unscale(z),
        }
    }

    /// The baselines of a numeric task (none for classification).
    pub fn baselines(&self) -> Baselines {
        match (&self.forecast, &self.target) {
            (Some(f), _) => {
                let score = |p: &[f64]| f.score(p, &f.truth, Held::Test);
                Baselines {
                    constant: None,
                    naive: Some(score(&f.naive)),
                    snaive: Some(score(&f.snaive)),
                    ets: f.ets.as_ref().map(|e| score(&e.values)),
                }
            }
            (None, Some(target)) => {
                let z = Vec::<f64>::try_from(self.test.y.flatten(0, -1).to_kind(Kind::Double))
                    .expect("f64 targets");
                Baselines {
                    constant: Some(Errors::of(&vec![target.mean; z.len()], &target.unscale(&z))),
                    ..Baselines::default()
                }
            }
            _ => Baselines::default(),
        }
    }

    /// Outputs of the model's head: classes, or target values (K, the horizon for forecasts).
    pub fn classes(&self) -> i64 {
        match self.task {
            Task::Classify => self.class_names.len() as i64,
            _ => self.train.y.size()[1],
        }
    }

    /// Shape, class names and per-class test accuracy for `predicted` (one class index per
    /// test example), as recorded in a run's result.
    pub fn info(&self, predicted: &[i64]) -> DataInfo {
        let truth = match self.task {
            Task::Classify => Vec::<i64>::try_from(&self.test.y).expect("int64 labels"),
            _ => Vec::new(),
        };
        let mut per_class: Vec<ClassAccuracy> = self
            .class_names
            .iter()
            .map(|c| ClassAccuracy {
                class: c.clone(),
                examples: 0,
                correct: 0,
            })
            .collect();
        for (t, p) in truth.iter().zip(predicted) {
            let c = &mut per_class[*t as usize];
            c.examples += 1;
            c.correct += usize::from(t == p);
        }
        DataInfo {
            timesteps: self.seq_len,
            features: self.features,
            class_names: self.class_names.clone(),
            images: self.images,
            test_per_class: per_class,
            patch: self.patch,
            target: self.target.as_ref().map(|t| t.name.clone()),
            train_sha256: self.train_sha256.clone(),
        }
    }
}

/// What a dataset holds, as `explain` shows it.
#[derive(serde::Serialize, Debug, Clone, PartialEq)]
pub struct Summary {
    /// The `dataset` value.
    pub dataset: String,
    /// Sequences in the training and test files.
    pub train_examples: usize,
    pub test_examples: usize,
    /// Shortest and longest sequence over both files (T is the longest).
    pub min_length: i64,
    pub max_length: i64,
    pub features: i64,
    pub class_names: Vec<String>,
    /// Rows of images (pixels), as opposed to other sequences.
    pub images: bool,
    #[serde(skip_serializing_if = "crate::config::Task::is_classify")]
    pub task: Task,
    /// Forecasting: the variables read, and the one forecast.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

impl Summary {
    /// One line, e.g. `ts:data/X/X: 50 train / 150 test sequences of 150 timesteps x 1
    /// feature; 2 classes: 1, 2`.
    pub fn line(&self) -> String {
        if self.task == Task::Forecast {
            return format!(
                "{}: one series of {} timesteps x {} variable{} ({}); forecast: {}",
                self.dataset,
                self.max_length,
                self.features,
                if self.features == 1 { "" } else { "s" },
                self.columns.join(", "),
                self.target.as_deref().unwrap_or("")
            );
        }
        let steps = if self.min_length == self.max_length {
            format!("{}", self.max_length)
        } else {
            format!(
                "{} to {} (padded to {})",
                self.min_length, self.max_length, self.max_length
            )
        };
        let mut names: Vec<&str> = self
            .class_names
            .iter()
            .take(20)
            .map(String::as_str)
            .collect();
        if self.class_names.len() > 20 {
            names.push("...");
        }
        if self.task == Task::Regress {
            return format!(
                "{}: {} train / {} test sequences of {steps} timesteps x {} feature{}; a number \
                 to predict per sequence",
                self.dataset,
                self.train_examples,
                self.test_examples,
                self.features,
                if self.features == 1 { "" } else { "s" },
            );
        }
        format!(
            "{}: {} train / {} test sequences of {steps} timesteps x {} feature{}; {} classes: {}",
            self.dataset,
            self.train_examples,
            self.test_examples,
            self.features,
            if self.features == 1 { "" } else { "s" },
            self.class_names.len(),
            names.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::{Count, RunConfig};

    fn write_pair(dir: &Path, extra_test: &str) -> RunConfig {
        let head = "@problemName P\n@univariate true\n@classLabel true a b\n@data\n";
        let train = format!("{head}1,2,3:a\n4,5:b\n6:a\n7,8,9:b\n2,2:a\n3,1,2:b\n");
        std::fs::write(dir.join("P_TRAIN.ts"), train).unwrap();
        std::fs::write(dir.join("P_TEST.ts"), format!("{head}1,2:a\n{extra_test}")).unwrap();
        RunConfig {
            dataset: format!("ts:{}", dir.join("P").display()),
            val_size: Count::Fixed(2),
            ..RunConfig::default()
        }
    }

    #[test]
    fn more_padding_changes_no_real_value_nor_statistic() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = write_pair(dir.path(), "");
        let short = Source::load(&cfg, None).unwrap().split(&cfg).unwrap();
        // A longer test sequence pads every other sequence further.
        let cfg = write_pair(dir.path(), "1,2,3,4,5,6,7:b\n");
        let long = Source::load(&cfg, None).unwrap().split(&cfg).unwrap();
        assert_eq!((short.seq_len, long.seq_len), (3, 7));
        for (a, b) in [(&short.train, &long.train), (&short.val, &long.val)] {
            assert_eq!(a.lengths, b.lengths);
            assert_eq!(a.y, b.y);
            assert_eq!(a.x, b.x.narrow(1, 0, 3));
            assert_eq!(
                b.x.narrow(1, 3, 4).abs().sum(Kind::Float).double_value(&[]),
                0.0
            );
        }
        assert_eq!(short.test.x.get(0), long.test.x.get(0).narrow(0, 0, 3));
        // Validation is stratified (one of each class) and z-scoring used the training split.
        assert_eq!(Vec::<i64>::try_from(&short.val.y).unwrap(), [0, 1]);
        let train = &short.train;
        let mask = Tensor::arange(3, (Kind::Int64, tch::Device::Cpu))
            .unsqueeze(0)
            .lt_tensor(&train.lengths.unsqueeze(1));
        let real = train.x.squeeze_dim(2).masked_select(&mask);
        assert!(real.mean(Kind::Double).double_value(&[]).abs() < 1e-6);
        assert!((real.std(false).double_value(&[]) - 1.0).abs() < 1e-5);
    }

    #[test]
    fn a_refit_trains_on_the_validation_series_after_the_training_ones() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = write_pair(dir.path(), "");
        let data = Source::load(&cfg, None).unwrap().split(&cfg).unwrap();
        let both = data.with_validation_in_training();
        assert_eq!((data.train.len(), data.val.len()), (4, 2));
        assert_eq!(both.train.len(), 6);
        let (train, val) = (both.train.narrow(0, 4), both.train.narrow(4, 2));
        for (a, b) in [(&train, &data.train), (&val, &data.val)] {
            assert_eq!(a.x, b.x);
            assert_eq!(a.y, b.y);
            assert_eq!(a.lengths, b.lengths);
        }
        // Scaling, classes and the other splits stay the training split's.
        assert_eq!(both.normalization, data.normalization);
        assert_eq!(both.class_names, data.class_names);
        assert_eq!(both.val.x, data.val.x);
        assert_eq!(both.test.x, data.test.x);
    }

    #[test]
    fn csv_keys_belong_to_csv_datasets() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = RunConfig {
            label_column: "y".into(),
            ..write_pair(dir.path(), "")
        };
        let e = Source::load(&cfg, None).unwrap().split(&cfg).err().unwrap();
        assert!(
            e.to_string()
                .starts_with("label_column: label_column = \"y\": applies to csv: datasets only"),
            "{e}"
        );
    }
}
