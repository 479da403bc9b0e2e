/*!
Validated configurations: one training run (`RunConfig`) and a sweep over a grid of them
(`SweepConfig`).

A sweep file is flat TOML: every run key may be a single value or a list, and the grid is the
product of the lists. `--set key=value` overrides use the same parser. Errors name the file,
the line, the key and the value, and say what is expected.
*/
use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::data::spec::{self, Spec};
use crate::error::UserError;
use crate::model::Cell;

/// Learning-rate schedule over the whole run.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Schedule {
    /// The same learning rate for every step.
    Constant,
    /// Cosine decay from `lr` to 0 over all steps of all epochs.
    Cosine,
}

/// How a CSV dataset lays out its series (see `data::csv`).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum CsvLayout {
    /// One series per row: a label column, every other column a timestep.
    #[default]
    Wide,
    /// One timestep per row: an id column groups rows into series.
    Long,
}

impl CsvLayout {
    fn is_wide(&self) -> bool {
        *self == CsvLayout::Wide
    }
}

/// How many values of a sequence one timestep reads (`patch`; see `data::patch`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Patch {
    /// The data's own step: a row of pixels for images, one value per feature for series.
    /// Left out of the run's JSON (and id), as before the key existed.
    #[default]
    Natural,
    /// Chosen from the data (`data::patch::auto`).
    Auto,
    /// P values per step: P pixels of the row-major image, or P consecutive values of every
    /// feature of a series.
    Values(usize),
}

impl Patch {
    fn is_natural(&self) -> bool {
        *self == Patch::Natural
    }

    /// From a TOML value: a whole number from 1 to 100,000 or "auto".
    pub fn from_toml(v: &toml::Value) -> Option<Patch> {
        match v {
            toml::Value::Integer(n) if (1..=100_000).contains(n) => {
                Some(Patch::Values(*n as usize))
            }
            toml::Value::String(s) if s == "auto" => Some(Patch::Auto),
            _ => None,
        }
    }

    /// From a flag: a whole number or "auto".
    pub fn parse(s: &str) -> Result<Patch, String> {
        Patch::from_toml(&flag_value(s)).ok_or_else(|| PATCH_EXPECTED.to_string())
    }
}

/// A flag's text as the TOML value a sweep file would hold: a whole number, a number, or a
/// word (`auto`).
fn flag_value(s: &str) -> toml::Value {
    match (s.parse::<i64>(), s.parse::<f64>()) {
        (Ok(n), _) => toml::Value::Integer(n),
        (_, Ok(x)) => toml::Value::Float(x),
        _ => toml::Value::String(s.to_string()),
    }
}

const PATCH_EXPECTED: &str = "a whole number of values per timestep from 1 to 100000, or \"auto\"";

impl Serialize for Patch {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Patch::Natural => s.serialize_str("natural"),
            Patch::Auto => s.serialize_str("auto"),
            Patch::Values(n) => s.serialize_u64(*n as u64),
        }
    }
}

impl<'de> Deserialize<'de> for Patch {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Values(usize),
            Word(String),
        }
        match Raw::deserialize(d)? {
            Raw::Values(n) if n >= 1 => Ok(Patch::Values(n)),
            Raw::Word(w) if w == "auto" => Ok(Patch::Auto),
            Raw::Word(w) if w == "natural" => Ok(Patch::Natural),
            _ => Err(serde::de::Error::custom(PATCH_EXPECTED)),
        }
    }
}

/// A count that is given, or chosen from the data (`"auto"`; the rules are in `data::auto`):
/// `epochs`, `batch_size` and `val_size`. A given count serialises as the bare number, as
/// before "auto" existed, so that run ids stay as they were.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Count {
    Auto,
    Fixed(usize),
}

impl Count {
    /// The count of a resolved config (`data::auto::resolve`); an "auto" reaching this is a
    /// bug of the caller, which must resolve first.
    pub fn get(self) -> usize {
        match self {
            Count::Fixed(n) => n,
            Count::Auto => panic!("an \"auto\" count is resolved from the data before use"),
        }
    }

    /// The given count, or None for "auto".
    pub fn fixed(self) -> Option<usize> {
        match self {
            Count::Fixed(n) => Some(n),
            Count::Auto => None,
        }
    }

    fn from_toml(v: &toml::Value) -> Option<Count> {
        match v {
            toml::Value::Integer(n) if *n >= 0 => Some(Count::Fixed(*n as usize)),
            toml::Value::String(s) if s == "auto" => Some(Count::Auto),
            _ => None,
        }
    }

    /// From a flag: a whole number or "auto".
    pub fn parse(s: &str) -> Result<Count, String> {
        match s.parse::<usize>() {
            Ok(n) => Ok(Count::Fixed(n)),
            Err(_) if s == "auto" => Ok(Count::Auto),
            Err(_) => Err("expected a whole number or \"auto\"".into()),
        }
    }
}

impl std::fmt::Display for Count {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Count::Auto => f.write_str("auto"),
            Count::Fixed(n) => write!(f, "{n}"),
        }
    }
}

impl Serialize for Count {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Count::Auto => s.serialize_str("auto"),
            Count::Fixed(n) => s.serialize_u64(*n as u64),
        }
    }
}

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Fixed(usize),
            Word(String),
        }
        match Raw::deserialize(d)? {
            Raw::Fixed(n) => Ok(Count::Fixed(n)),
            Raw::Word(w) if w == "auto" => Ok(Count::Auto),
            _ => Err(serde::de::Error::custom(
                "expected a whole number or \"auto\"",
            )),
        }
    }
}

/// Which epochs evaluate the test set (`eval_test`). Validation is scored every epoch, since
/// it selects the best epoch; the test set only reports. Neither choice changes training, the
/// final test accuracy or `best_val_test_acc`: only which epochs of `metrics.jsonl` (and of
/// TensorBoard's test curves) have test scores, and what evaluation costs.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum EvalTest {
    /// Every epoch: a test curve per run (left out of the JSON, as before the key).
    #[default]
    EveryEpoch,
    /// Only the epochs a result reads: the last one, and each that improves the best
    /// validation score so far (whose test score `select = "best_val"` shows).
    Final,
}

/// Gaussian noise added to a series' inputs while training (`noise`, "jitter"): a given
/// standard deviation in the units the model reads (z-scores under the default `normalize`),
/// or chosen from the data (`data::auto::noise`). Evaluation never adds any.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum Noise {
    Auto,
    Std(f64),
    /// None: left out of the run's JSON (and id), as before the key existed.
    #[default]
    Off,
}

impl Noise {
    fn is_off(&self) -> bool {
        *self == Noise::Off
    }

    /// The standard deviation of a resolved config (`data::auto::resolve`).
    pub fn std(self) -> f64 {
        match self {
            Noise::Std(x) => x,
            Noise::Off => 0.0,
            Noise::Auto => panic!("an \"auto\" noise is resolved from the data before use"),
        }
    }

    /// From a TOML value: a number from 0 to `NOISE_MAX` (0 is `Off`) or "auto".
    pub fn from_toml(v: &toml::Value) -> Option<Noise> {
        match v {
            toml::Value::String(s) if s == "auto" => Some(Noise::Auto),
            v => match as_float(v) {
                Some(0.0) => Some(Noise::Off),
                Some(x) if x > 0.0 && x <= NOISE_MAX => Some(Noise::Std(x)),
                _ => None,
            },
        }
    }

    /// From a flag: a number or "auto".
    pub fn parse(s: &str) -> Result<Noise, String> {
        Noise::from_toml(&flag_value(s)).ok_or_else(|| NOISE_EXPECTED.to_string())
    }
}

/// The largest noise a run may ask for: ten times the spread of z-scored inputs.
pub const NOISE_MAX: f64 = 10.0;
const NOISE_EXPECTED: &str =
    "a standard deviation from 0 to 10 (0 = none), or \"auto\" (chosen from the data)";

impl Serialize for Noise {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Noise::Auto => s.serialize_str("auto"),
            Noise::Std(x) => s.serialize_f64(*x),
            Noise::Off => s.serialize_f64(0.0),
        }
    }
}

impl<'de> Deserialize<'de> for Noise {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Std(f64),
            Word(String),
        }
        let v = match Raw::deserialize(d)? {
            Raw::Std(x) => toml::Value::Float(x),
            Raw::Word(w) => toml::Value::String(w),
        };
        Noise::from_toml(&v).ok_or_else(|| serde::de::Error::custom(NOISE_EXPECTED))
    }
}

/// Which epoch's test accuracy tables and figures show (`select`, a sweep key beside `name`;
/// `report --select`). Test accuracy never chooses anything: `best_val` takes the first epoch
/// with the best validation accuracy.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Select {
    /// The final epoch's model.
    #[default]
    Last,
    /// The model of the epoch with the best validation accuracy.
    BestVal,
}

impl Select {
    /// The words a caption names it with.
    pub fn caption(self) -> &'static str {
        match self {
            Select::Last => "final epoch",
            Select::BestVal => "epoch of best validation accuracy",
        }
    }

    fn is_last(&self) -> bool {
        *self == Select::Last
    }
}

/// What a run learns (`task`): a class, a number, or the next values of a series.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// A class per sequence: cross-entropy, accuracy (absent from the JSON: ids as before).
    #[default]
    Classify,
    /// A real number per sequence (`.ts` with `@targetLabel true`, a numeric CSV label):
    /// MSE on standardised targets; RMSE, MAE and R² in the target's units.
    Regress,
    /// The next `horizon` values of one long series from `window` past steps (`data::forecast`):
    /// RMSE, MAE and MASE, against the naive and seasonal-naive forecasts.
    Forecast,
}

impl Task {
    pub fn is_classify(&self) -> bool {
        *self == Task::Classify
    }

    /// Whether the task predicts numbers (regression, forecasting) rather than classes.
    pub fn is_numeric(self) -> bool {
        self != Task::Classify
    }
}

/// How series are scaled before training (`data::series`); images are always byte / 255.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Normalize {
    /// Each feature z-scored with the mean and std of the run's training split.
    #[default]
    Feature,
    /// Each series z-scored on its own, per feature (as the UCR archive does).
    Series,
    /// The values as they are in the files.
    None,
    /// Forecasting (its default): each window relative to its last value, every variable
    /// minus its value at t over its training-stretch std, so the model forecasts the change
    /// from the last value (a trend beyond the training range stays in range).
    Last,
}

fn default_label_column() -> String {
    "label".into()
}
fn is_default_label_column(s: &str) -> bool {
    s == "label"
}
fn is_zero_usize(v: &usize) -> bool {
    *v == 0
}
fn one_usize() -> usize {
    1
}
fn is_auto(c: &Count) -> bool {
    *c == Count::Auto
}
fn auto() -> Count {
    Count::Auto
}
fn default_id_column() -> String {
    "id".into()
}
fn is_default_id_column(s: &str) -> bool {
    s == "id"
}

/// Everything that determines the result of one training run. Its canonical JSON is hashed
/// into the run id, so a field added here changes every id unless it is left out of the JSON
/// at its default (`skip_serializing_if`, as `cell`, `layers`, `dropout` and `bidirectional`
/// are): give it a default that keeps old results meaningful, and never add device or thread
/// counts here.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Dataset: `mnist`, `fashion-mnist`, `idx:DIR`, `ts:DIR/NAME` or `csv:TRAIN,TEST`
    /// (see `data::spec`).
    pub dataset: String,
    /// Hidden units of each recurrent layer and direction: the size of h_t (and c_t).
    pub num_units: i64,
    /// Recurrent cell: LSTM, GRU or tanh RNN.
    #[serde(default, skip_serializing_if = "is_default")]
    pub cell: Cell,
    /// Stacked recurrent layers.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub layers: usize,
    /// A second, backward direction in every layer.
    #[serde(default, skip_serializing_if = "is_default")]
    pub bidirectional: bool,
    /// Dropout on the outputs of every layer but the last, while training (needs layers >= 2).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dropout: f64,
    /// Seed for initialisation and shuffling.
    pub seed: u64,
    /// Passes over the training split ("auto": a budget of optimiser steps, `data::auto`).
    pub epochs: Count,
    /// Peak learning rate of Adam.
    pub lr: f64,
    /// Series per optimiser step ("auto": from the training split's size, `data::auto`).
    pub batch_size: Count,
    pub schedule: Schedule,
    /// Clip the global gradient L2 norm to this value; 0 turns clipping off.
    pub clip_grad_norm: f64,
    /// Examples held out of the training set for validation: the last images, or a stratified
    /// choice of series ("auto": a stratified fifth, at least one per class, `data::auto`).
    pub val_size: Count,
    /// Use only the first N training images (0 = all that remain after validation).
    pub train_size: usize,
    /// Use only the first N test images (0 = all); forecasting: the time steps of the test
    /// stretch at the series' end (0: "auto", `data::forecast::HELD_OUT` of it).
    pub test_size: usize,
    // CSV datasets only; left out of the JSON (and so of the run id) at their defaults.
    /// `wide` (one series per row) or `long` (one timestep per row).
    #[serde(default, skip_serializing_if = "CsvLayout::is_wide")]
    pub csv_layout: CsvLayout,
    #[serde(
        default = "default_label_column",
        skip_serializing_if = "is_default_label_column"
    )]
    pub label_column: String,
    /// Long layout: the column that names a row's series.
    #[serde(
        default = "default_id_column",
        skip_serializing_if = "is_default_id_column"
    )]
    pub id_column: String,
    /// Long layout: the column that orders a series' rows (empty: file order).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub time_column: String,
    /// Values per timestep (`data::patch`): absent, the data's own step, as before the key.
    #[serde(default, skip_serializing_if = "Patch::is_natural")]
    pub patch: Patch,
    /// Series only: how values are scaled (absent at the default, `feature`).
    #[serde(default, skip_serializing_if = "is_default")]
    pub normalize: Normalize,
    /// Gaussian noise on the inputs while training (absent when off, as before the key;
    /// "auto" is series classification's default, `data::auto::noise`).
    #[serde(default, skip_serializing_if = "Noise::is_off")]
    pub noise: Noise,
    /// Which epochs score the test set (absent at the default, every epoch).
    #[serde(default, skip_serializing_if = "is_default")]
    pub eval_test: EvalTest,
    /// Classify (absent from the JSON, as before the key), regress or forecast.
    #[serde(default, skip_serializing_if = "is_default")]
    pub task: Task,
    // Forecasting only (`data::forecast`); left out of the JSON at their defaults.
    /// Past timesteps a forecast reads ("auto": from the season and the series' length).
    #[serde(default = "auto", skip_serializing_if = "is_auto")]
    pub window: Count,
    /// Values of the target predicted after a window, at least 1.
    #[serde(default = "one_usize", skip_serializing_if = "is_one")]
    pub horizon: usize,
    /// Season length m of MASE's seasonal-naive scale and baseline (0: none, the naive one).
    #[serde(default, skip_serializing_if = "is_zero_usize")]
    pub season: usize,
    /// The CSV column forecast ("": the only numeric column, or the last one).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub target_column: String,
    /// The CSV columns a window reads, comma-separated, the target among them ("": every
    /// numeric column).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub columns: String,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            dataset: "mnist".into(),
            num_units: 128,
            cell: Cell::Lstm,
            layers: 1,
            bidirectional: false,
            dropout: 0.0,
            seed: 0,
            epochs: Count::Fixed(12),
            lr: 3e-3,
            batch_size: Count::Fixed(128),
            schedule: Schedule::Cosine,
            clip_grad_norm: 1.0,
            val_size: Count::Fixed(5000),
            train_size: 0,
            test_size: 0,
            csv_layout: CsvLayout::Wide,
            label_column: default_label_column(),
            id_column: default_id_column(),
            time_column: String::new(),
            patch: Patch::Natural,
            normalize: Normalize::Feature,
            noise: Noise::Off,
            eval_test: EvalTest::EveryEpoch,
            task: Task::Classify,
            window: Count::Auto,
            horizon: 1,
            season: 0,
            target_column: String::new(),
            columns: String::new(),
        }
    }
}

/// The keys a sweep file may set, besides `name`, in grid order (the first varies slowest).
pub const RUN_KEYS: &[&str] = &[
    "seed",
    "dataset",
    "cell",
    "layers",
    "bidirectional",
    "dropout",
    "num_units",
    "epochs",
    "lr",
    "batch_size",
    "schedule",
    "clip_grad_norm",
    "val_size",
    "train_size",
    "test_size",
    "csv_layout",
    "label_column",
    "id_column",
    "time_column",
    "patch",
    "normalize",
    "noise",
    "eval_test",
    "task",
    "window",
    "horizon",
    "season",
    "target_column",
    "columns",
];

/// Keys that only forecasting reads.
pub const FORECAST_KEYS: &[&str] = &["window", "horizon", "season", "target_column", "columns"];

/// The defaults of series data (`ts:`, `csv:`) where they differ from `RunConfig::default`
/// (MNIST's, which image data keeps), for keys a sweep or `train` does not give: "auto" values
/// chosen from the data (`data::auto`, `data::patch::auto`); series classification also
/// jitters its inputs (`noise = "auto"`, `with_series_defaults`). The model stays a one-way
/// LSTM: both ways (measured over 8 UEA/UCR problems, 3 seeds, before the noise default) won
/// on JapaneseVowels (97.0 % against 95.9 %), ACSF1 and OSULeaf but lost on GunPoint (91.8
/// against 96.2), ItalyPowerDemand and ArrowHead, at twice the cost.
pub fn series_default(key: &str) -> Option<toml::Value> {
    match key {
        "epochs" | "batch_size" | "val_size" | "patch" => Some(toml::Value::String("auto".into())),
        _ => None,
    }
}

impl RunConfig {
    /// Gives every key that `given` says was not set its series default, if the data is a
    /// series set.
    pub fn with_series_defaults(mut self, given: impl Fn(&str) -> bool) -> RunConfig {
        // Forecasts read each window relative to its last value unless told otherwise.
        if self.task == Task::Forecast && !given("normalize") {
            self.normalize = Normalize::Last;
        }
        // Series classification trains on jittered inputs unless told otherwise (measured on
        // 8 UEA/UCR problems, README "Untuned defaults"); numeric tasks train on the values.
        if self.is_series() && self.task == Task::Classify && !given("noise") {
            self.noise = Noise::Auto;
        }
        if self.is_series() {
            for key in RUN_KEYS.iter().filter(|k| !given(k)) {
                if let Some(v) = series_default(key) {
                    self.apply(key, &v)
                        .expect("series defaults are valid values");
                }
            }
        }
        self
    }
}

/// Keys that only CSV datasets read.
pub const CSV_KEYS: &[&str] = &["csv_layout", "label_column", "id_column", "time_column"];

/// A sweep file larger than this is refused (the shipped ones are under 2 KiB).
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// A grid of runs: for each key of `RUN_KEYS`, the list of values to try.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct SweepConfig {
    /// Sweep name: the folder under the output directory.
    pub name: String,
    /// Which epoch's test accuracy the tables and figures show.
    #[serde(default, skip_serializing_if = "Select::is_last")]
    pub select: Select,
    /// Key -> values, as TOML values already checked by `check_value`.
    pub grid: BTreeMap<String, Vec<toml::Value>>,
    /// Where each key of the grid was set (`file:line`, `--set ...`, `--flag`), and under
    /// "" where the sweep came from: errors that only the data can find name it.
    #[serde(skip)]
    pub origins: BTreeMap<String, String>,
}

impl SweepConfig {
    /// Reads and validates a sweep file: a regular file of at most `MAX_CONFIG_BYTES`.
    pub fn load(path: &Path) -> Result<Self, UserError> {
        let origin = path.display().to_string();
        let err = |message: String| UserError::Config {
            origin: origin.clone(),
            message,
        };
        let meta = std::fs::metadata(path)
            .map_err(|e| err(format!("cannot read the sweep config: {e}")))?;
        if !meta.is_file() {
            return Err(err(
                "not a regular file: expected a sweep config (TOML)".into()
            ));
        }
        if meta.len() > MAX_CONFIG_BYTES {
            return Err(err(format!(
                "{} bytes: expected a sweep config (TOML) of at most {MAX_CONFIG_BYTES} bytes",
                meta.len()
            )));
        }
        let bytes =
            std::fs::read(path).map_err(|e| err(format!("cannot read the sweep config: {e}")))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| err("not UTF-8 text: expected a sweep config (TOML)".into()))?;
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(Self::parse(&text, &origin, &stem)?.with_source(&origin))
    }

    /// Without a `name` key (in the file or a `--set`), the sweep folder is named after the
    /// config file: the key's rules apply to that name too. Checked once the overrides are in.
    pub fn check_name(&self) -> Result<(), UserError> {
        if self.origins.contains_key("name") || valid_name(&self.name) {
            return Ok(());
        }
        Err(UserError::Config {
            origin: self.origins.get("").cloned().unwrap_or_default(),
            message: format!(
                "the file name gives the sweep folder name {:?}: expected a folder name of \
                 letters, digits, '-', '_' or '.', not starting with '.'; rename the file or \
                 add a `name = \"...\"` key (or --set name=...)",
                self.name
            ),
        })
    }

    /// A sweep read back from its record (`sweep.json`): every key and value is checked as a
    /// sweep file's would be, and an error names `origin` (the record's path).
    pub fn checked(
        name: &str,
        select: Select,
        grid: &BTreeMap<String, Vec<toml::Value>>,
        origin: &str,
    ) -> Result<Self, UserError> {
        let err = |message: String| UserError::Store {
            path: origin.into(),
            message,
        };
        for (key, values) in grid {
            if !RUN_KEYS.contains(&key.as_str()) {
                return Err(err(format!("unknown key `{key}` in the grid")));
            }
            if values.is_empty() {
                return Err(err(format!("{key} = []: expected at least one value")));
            }
            for v in values {
                check_value(key, v).map_err(&err)?;
            }
        }
        let sweep = SweepConfig {
            name: name.to_string(),
            select,
            grid: grid.clone(),
            origins: BTreeMap::new(),
        };
        sweep.check_combinations().map_err(|(_, m)| err(m))?;
        Ok(sweep.with_source(origin))
    }

    fn with_source(mut self, source: &str) -> Self {
        self.origins.insert(String::new(), source.to_string());
        self
    }

    /// Gives an error that names a key alone (as checks that need the data make them) the
    /// origin of that key: where it was set, or the sweep's source and "default" when it was
    /// not set.
    pub fn locate(&self, e: UserError) -> UserError {
        match e {
            UserError::Config { origin, message } if RUN_KEYS.contains(&origin.as_str()) => {
                let origin = match self.origins.get(&origin) {
                    Some(o) => o.clone(),
                    None => match self.origins.get("") {
                        Some(source) => format!("{source} (default {origin})"),
                        None => format!("default {origin}"),
                    },
                };
                UserError::Config { origin, message }
            }
            other => other,
        }
    }

    /// Parses sweep TOML; `origin` names the source in errors.
    pub fn parse(text: &str, origin: &str, default_name: &str) -> Result<Self, UserError> {
        let sweep = Self::parse_keys(text, origin, default_name)?;
        sweep
            .check_combinations()
            .map_err(|(key, message)| UserError::Config {
                origin: sweep
                    .origins
                    .get(&key)
                    .cloned()
                    .unwrap_or_else(|| origin.to_string()),
                message,
            })?;
        Ok(sweep)
    }

    /// Parses and checks every key and value, not yet their combinations.
    fn parse_keys(text: &str, origin: &str, default_name: &str) -> Result<Self, UserError> {
        let err = |line: Option<usize>, message: String| UserError::Config {
            origin: match line {
                Some(l) => format!("{origin}:{l}"),
                None => origin.to_string(),
            },
            message,
        };
        let table: BTreeMap<Spanned<String>, Spanned<toml::Value>> =
            toml::from_str(text).map_err(|e| {
                let line = e.span().map(|s| line_of(text, s.start));
                let reason = e.message().trim().replace('\n', " ");
                let reason = if reason.is_empty() {
                    "expected key = value, the value in TOML syntax (a number, true/false, \
                     a \"quoted string\" or a [list])"
                        .to_string()
                } else {
                    reason
                };
                err(line, format!("invalid TOML: {reason}"))
            })?;
        let mut name = default_name.to_string();
        let mut select = Select::Last;
        let mut grid = BTreeMap::new();
        let mut origins = BTreeMap::new();
        for (key, value) in &table {
            let line = Some(line_of(text, key.span().start));
            let k = key.get_ref().as_str();
            origins.insert(
                k.to_string(),
                match line {
                    Some(l) if !origin.starts_with("--") => format!("{origin}:{l}"),
                    _ => origin.to_string(),
                },
            );
            if k == "name" {
                name = match value.get_ref() {
                    toml::Value::String(s) if valid_name(s) => s.clone(),
                    v => {
                        return Err(err(
                            line,
                            format!("name = {v}: expected a folder name of letters, digits, '-', '_' or '.', not starting with '.'"),
                        ))
                    }
                };
                continue;
            }
            if k == "select" {
                select = match value.get_ref().as_str() {
                    Some("last") => Select::Last,
                    Some("best_val") => Select::BestVal,
                    _ => {
                        return Err(err(
                            line,
                            format!(
                                "select = {}: expected \"last\" (the final epoch's test \
                                 accuracy) or \"best_val\" (that of the epoch with the best \
                                 validation accuracy)",
                                value_text(value.get_ref())
                            ),
                        ))
                    }
                };
                continue;
            }
            if !RUN_KEYS.contains(&k) {
                return Err(err(
                    line,
                    format!(
                        "unknown key `{k}`; known keys: name, select, {}",
                        RUN_KEYS.join(", ")
                    ),
                ));
            }
            let values = match value.get_ref() {
                toml::Value::Array(items) => items.clone(),
                single => vec![single.clone()],
            };
            if values.is_empty() {
                return Err(err(line, format!("{k} = []: expected at least one value")));
            }
            for v in &values {
                check_value(k, v).map_err(|m| err(line, m))?;
            }
            grid.insert(k.to_string(), values);
        }
        Ok(SweepConfig {
            name,
            select,
            grid,
            origins,
        })
    }

    /// Checks the keys that depend on each other, in every run of the grid.
    fn check_combinations(&self) -> Result<(), (String, String)> {
        let runs = self.runs();
        runs.iter().try_for_each(|r| {
            r.check_combination()
                .map_err(|(k, m)| (k, format!("{m} (in a run of the grid)")))
        })?;
        // One task a sweep: its tables, figures and dashboards speak one kind of score.
        if runs.iter().any(|r| r.task != runs[0].task) {
            return Err((
                "task".into(),
                format!(
                    "task = [{}]: expected one task per sweep (its tables and figures show one \
                     kind of score); make a sweep per task",
                    self.grid
                        .get("task")
                        .into_iter()
                        .flatten()
                        .map(|v| v.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        Ok(())
    }

    /// Applies a `key=value` override (the value in TOML syntax; a list sets a grid axis).
    pub fn set(&mut self, assignment: &str) -> Result<(), UserError> {
        let origin = format!("--set {assignment}");
        let Some((key, _)) = assignment.split_once('=') else {
            return Err(UserError::Config {
                origin,
                message: "expected key=value".into(),
            });
        };
        let parsed = Self::parse_keys(assignment, &origin, &self.name).map_err(|e| match e {
            UserError::Config { message, .. } => UserError::Config {
                origin: origin.clone(),
                message,
            },
            other => other,
        })?;
        match key.trim() {
            "name" => self.name = parsed.name,
            "select" => self.select = parsed.select,
            _ => {}
        }
        self.grid.extend(parsed.grid);
        self.origins.extend(parsed.origins);
        self.check_combinations()
            .map_err(|(_, message)| UserError::Config { origin, message })
    }

    /// The runs of the grid, in a fixed order: `RUN_KEYS` order, the first key slowest.
    pub fn runs(&self) -> Vec<RunConfig> {
        let mut runs = vec![RunConfig::default()];
        for key in RUN_KEYS {
            let Some(values) = self.grid.get(*key) else {
                continue;
            };
            runs = runs
                .into_iter()
                .flat_map(|run| {
                    values.iter().map(move |v| {
                        let mut r = run.clone();
                        r.apply(key, v).expect("values are checked when parsed");
                        r
                    })
                })
                .collect();
        }
        runs.into_iter()
            .map(|r| {
                let mut r = r.with_series_defaults(|k| self.grid.contains_key(k));
                r.patch = r.canonical_patch();
                r
            })
            .collect()
    }

    /// Keys with more than one value: what distinguishes the runs of this sweep.
    pub fn swept_keys(&self) -> Vec<String> {
        RUN_KEYS
            .iter()
            .filter(|k| self.grid.get(**k).is_some_and(|v| v.len() > 1))
            .map(|k| k.to_string())
            .collect()
    }
}

impl RunConfig {
    /// Sets one key from a TOML value, or says what is expected.
    pub fn apply(&mut self, key: &str, v: &toml::Value) -> Result<(), String> {
        check_value(key, v)?;
        match key {
            "dataset" => self.dataset = v.as_str().unwrap().to_string(),
            "num_units" => self.num_units = v.as_integer().unwrap(),
            "cell" => self.cell = Cell::parse(v.as_str().unwrap()).unwrap(),
            "layers" => self.layers = v.as_integer().unwrap() as usize,
            "bidirectional" => self.bidirectional = v.as_bool().unwrap(),
            "dropout" => self.dropout = as_float(v).unwrap(),
            "seed" => self.seed = v.as_integer().unwrap() as u64,
            "epochs" => self.epochs = Count::from_toml(v).unwrap(),
            "lr" => self.lr = as_float(v).unwrap(),
            "batch_size" => self.batch_size = Count::from_toml(v).unwrap(),
            "schedule" => {
                self.schedule = match v.as_str().unwrap() {
                    "cosine" => Schedule::Cosine,
                    _ => Schedule::Constant,
                }
            }
            "clip_grad_norm" => self.clip_grad_norm = as_float(v).unwrap(),
            "val_size" => self.val_size = Count::from_toml(v).unwrap(),
            "train_size" => self.train_size = v.as_integer().unwrap() as usize,
            "test_size" => self.test_size = v.as_integer().unwrap() as usize,
            "csv_layout" => {
                self.csv_layout = match v.as_str().unwrap() {
                    "long" => CsvLayout::Long,
                    _ => CsvLayout::Wide,
                }
            }
            "label_column" => self.label_column = v.as_str().unwrap().to_string(),
            "id_column" => self.id_column = v.as_str().unwrap().to_string(),
            "time_column" => self.time_column = v.as_str().unwrap().to_string(),
            "patch" => self.patch = Patch::from_toml(v).unwrap(),
            "noise" => self.noise = Noise::from_toml(v).unwrap(),
            "eval_test" => {
                self.eval_test = match v.as_str().unwrap() {
                    "final" => EvalTest::Final,
                    _ => EvalTest::EveryEpoch,
                }
            }
            "normalize" => {
                self.normalize = match v.as_str().unwrap() {
                    "series" => Normalize::Series,
                    "none" => Normalize::None,
                    "last" => Normalize::Last,
                    _ => Normalize::Feature,
                }
            }
            "task" => {
                self.task = match v.as_str().unwrap() {
                    "regress" => Task::Regress,
                    "forecast" => Task::Forecast,
                    _ => Task::Classify,
                }
            }
            "window" => self.window = Count::from_toml(v).unwrap(),
            "horizon" => self.horizon = v.as_integer().unwrap() as usize,
            "season" => self.season = v.as_integer().unwrap() as usize,
            "target_column" => self.target_column = v.as_str().unwrap().to_string(),
            "columns" => self.columns = v.as_str().unwrap().to_string(),
            _ => return Err(format!("unknown key `{key}`")),
        }
        Ok(())
    }

    /// Validates every field; used for configs built from command-line flags.
    pub fn validate(&self) -> Result<(), UserError> {
        let flag = |key: &str| format!("--{}", key.replace('_', "-"));
        for key in RUN_KEYS {
            // Floats as they are: JSON (which `toml_value` goes through) has no NaN.
            let v = match *key {
                "lr" => toml::Value::Float(self.lr),
                "clip_grad_norm" => toml::Value::Float(self.clip_grad_norm),
                "dropout" => toml::Value::Float(self.dropout),
                "noise" => match self.noise {
                    Noise::Std(x) => toml::Value::Float(x),
                    _ => self.toml_value(key),
                },
                _ => self.toml_value(key),
            };
            check_value(key, &v).map_err(|message| UserError::Arg {
                flag: flag(key),
                value: value_text(&v),
                expected: message
                    .split_once(": ")
                    .map(|(_, m)| m.to_string())
                    .unwrap_or(message.clone()),
            })?;
        }
        self.check_combination()
            .map_err(|(key, message)| match key.as_str() {
                "dropout" => UserError::Arg {
                    flag: flag("dropout"),
                    value: self.toml_value("dropout").to_string(),
                    expected: format!(
                        "expected 0 with --layers {} (dropout acts between stacked layers: give \
                         --layers 2 or more)",
                        self.layers
                    ),
                },
                _ => UserError::Arg {
                    flag: flag(&key),
                    value: self.value_text(&key),
                    expected: message
                        .split_once(": ")
                        .map(|(_, m)| m.to_string())
                        .unwrap_or(message.clone()),
                },
            })
    }

    /// Checks the keys that depend on each other, and names the key at fault:
    /// - dropout acts between layers, so a dropout above 0 needs two layers or more (PyTorch
    ///   only warns; here it is an error, so that a run never claims a dropout it does not
    ///   have);
    /// - each task takes its own data and keys: regression reads series sets (`ts:`, `csv:`),
    ///   forecasting one series file (`csv:SERIES.csv`) and the forecasting keys, which no
    ///   other task takes; forecasting windows are z-scored per feature, not per series.
    pub fn check_combination(&self) -> Result<(), (String, String)> {
        let fail = |key: &str, expected: String| {
            Err((
                key.to_string(),
                format!("{key} = {}: {expected}", self.toml_value(key)),
            ))
        };
        if self.dropout > 0.0 && self.layers < 2 {
            return Err((
                "dropout".into(),
                format!(
                    "dropout = {} with layers = {}: expected layers >= 2 (dropout acts between \
                     stacked layers) or dropout = 0",
                    self.toml_value("dropout"),
                    self.layers
                ),
            ));
        }
        let spec = Spec::parse(&self.dataset).ok();
        let one_series = matches!(spec, Some(Spec::Series(_)));
        let task = self.value_text("task");
        if self.task == Task::Forecast {
            if !one_series {
                return fail(
                    "dataset",
                    "expected csv:SERIES.csv (one CSV file holding the series in time order) \
                     with task = \"forecast\""
                        .into(),
                );
            }
            for key in CSV_KEYS {
                if self.value(key) != RunConfig::default().value(key) {
                    return fail(
                        key,
                        "applies to classification and regression CSV files, not to \
                         task = \"forecast\" (name the series with target_column and columns)"
                            .into(),
                    );
                }
            }
            if self.train_size != 0 {
                return fail(
                    "train_size",
                    "expected 0 with task = \"forecast\" (training takes the stretch before \
                     val_size and test_size)"
                        .into(),
                );
            }
            if self.normalize == Normalize::Series {
                return fail(
                    "normalize",
                    "expected \"feature\" or \"none\" with task = \"forecast\" (a window \
                     z-scored on its own would lose the level it forecasts from)"
                        .into(),
                );
            }
        } else {
            if one_series {
                return fail(
                    "dataset",
                    format!(
                        "one file is a series to forecast: expected csv:TRAIN.csv,TEST.csv \
                         with task = \"{task}\", or task = \"forecast\""
                    ),
                );
            }
            if let Some(key) = FORECAST_KEYS
                .iter()
                .find(|k| self.value(k) != RunConfig::default().value(k))
            {
                return fail(
                    key,
                    format!("applies to task = \"forecast\" only, not task = \"{task}\""),
                );
            }
            if self.normalize == Normalize::Last {
                return fail(
                    "normalize",
                    format!(
                        "applies to task = \"forecast\" only (windows relative to their last \
                         value), not task = \"{task}\""
                    ),
                );
            }
            if self.task == Task::Regress && spec.is_some_and(|s| s.is_images()) {
                return fail(
                    "task",
                    format!(
                        "expected series data (ts: or csv:) for regression, not {:?}",
                        self.dataset
                    ),
                );
            }
        }
        Ok(())
    }

    /// The values per step of the data's own reading, where the dataset alone says it: 28
    /// pixels (a row) for MNIST and Fashion-MNIST, 1 for series; None for other image sets.
    pub fn natural_patch(&self) -> Option<usize> {
        match Spec::parse(&self.dataset) {
            Ok(Spec::Mnist | Spec::FashionMnist) => Some(28),
            Ok(spec) if !spec.is_images() => Some(1),
            _ => None,
        }
    }

    /// `patch` with a value equal to the data's own step written as that step, so that
    /// `patch = 28` on MNIST (or 1 on a series) is the run it always was, with its id.
    pub fn canonical_patch(&self) -> Patch {
        match (self.patch, self.natural_patch()) {
            (Patch::Values(p), Some(n)) if p == n => Patch::Natural,
            (p, _) => p,
        }
    }

    /// Whether the dataset is a set of series (`ts:`, `csv:`), not images.
    pub fn is_series(&self) -> bool {
        Spec::parse(&self.dataset).is_ok_and(|spec| !spec.is_images())
    }

    /// Whether the dataset is read from CSV files (the only data the CSV keys apply to).
    pub fn is_csv(&self) -> bool {
        self.dataset.starts_with("csv:")
    }

    /// The value of one run key as JSON, also for the keys that the canonical JSON (the run
    /// id's) leaves out at their default.
    pub fn value(&self, key: &str) -> serde_json::Value {
        match key {
            "cell" => serde_json::json!(self.cell),
            "layers" => serde_json::json!(self.layers),
            "bidirectional" => serde_json::json!(self.bidirectional),
            "dropout" => serde_json::json!(self.dropout),
            "csv_layout" => serde_json::json!(self.csv_layout),
            "label_column" => serde_json::json!(self.label_column),
            "id_column" => serde_json::json!(self.id_column),
            "time_column" => serde_json::json!(self.time_column),
            "normalize" => serde_json::json!(self.normalize),
            "noise" => serde_json::json!(self.noise),
            "eval_test" => serde_json::json!(self.eval_test),
            "task" => serde_json::json!(self.task),
            "window" => serde_json::json!(self.window),
            "horizon" => serde_json::json!(self.horizon),
            "season" => serde_json::json!(self.season),
            "target_column" => serde_json::json!(self.target_column),
            "columns" => serde_json::json!(self.columns),
            "patch" => match (self.patch, self.natural_patch()) {
                (Patch::Natural, Some(p)) => serde_json::json!(p),
                (Patch::Natural, None) => serde_json::json!("row"),
                (other, _) => serde_json::json!(other),
            },
            _ => serde_json::to_value(self).expect("config serialises")[key].clone(),
        }
    }

    /// The value of one run key as TOML (as a sweep file would write it).
    pub fn toml_value(&self, key: &str) -> toml::Value {
        json_to_toml(&self.value(key))
    }

    /// The value of one run key as a label shows it: `gru`, `128`, `0.2`, `true`.
    pub fn value_text(&self, key: &str) -> String {
        let v = self.value(key);
        v.as_str()
            .map(str::to_string)
            .unwrap_or_else(|| v.to_string())
    }

    /// The configuration without its seed: runs that share it are one configuration over
    /// seeds (summary tables and the report group by it).
    pub fn without_seed(&self) -> RunConfig {
        RunConfig {
            seed: 0,
            ..self.clone()
        }
    }

    /// A short readable label, e.g. `units=128,seed=0`, with the given keys.
    pub fn label(&self, keys: &[String]) -> String {
        let mut parts = vec![format!("units={}", self.num_units)];
        for k in keys.iter().filter(|k| k.as_str() != "num_units") {
            let v = match (k.as_str(), Spec::parse(&self.dataset)) {
                // Paths make poor folder names: GunPoint for ts:data/GunPoint/GunPoint.
                ("dataset", Ok(spec)) => spec.short_name(&self.dataset),
                _ => self.value_text(k),
            };
            parts.push(format!("{k}={v}"));
        }
        if !keys.iter().any(|k| k == "seed") {
            parts.push(format!("seed={}", self.seed));
        }
        parts.join(",")
    }
}

/// Checks one value for one key; the message reads `key = value: expected ...`.
pub fn check_value(key: &str, v: &toml::Value) -> Result<(), String> {
    let bad = |what: &str| Err(format!("{key} = {}: expected {what}", value_text(v)));
    let int = v.as_integer();
    match key {
        "dataset" => match v.as_str().map(Spec::parse) {
            Some(Ok(_)) => Ok(()),
            _ => bad(spec::EXPECTED),
        },
        "csv_layout" => match v.as_str() {
            Some("wide" | "long") => Ok(()),
            _ => bad("\"wide\" (one series per row) or \"long\" (one timestep per row)"),
        },
        "label_column" | "id_column" => match v.as_str() {
            Some(s) if !s.trim().is_empty() => Ok(()),
            _ => bad("a column name from the CSV header"),
        },
        "normalize" => match v.as_str() {
            Some("feature" | "series" | "none" | "last") => Ok(()),
            _ => bad(
                "\"feature\" (z-score each feature with the training split's statistics), \
                 \"series\" (each series on its own), \"last\" (forecasting: each window \
                 relative to its last value) or \"none\"",
            ),
        },
        "patch" => match Patch::from_toml(v) {
            Some(_) => Ok(()),
            None => bad(PATCH_EXPECTED),
        },
        "noise" => match Noise::from_toml(v) {
            Some(_) => Ok(()),
            None => bad(NOISE_EXPECTED),
        },
        "eval_test" => match v.as_str() {
            Some("every_epoch" | "final") => Ok(()),
            _ => bad(
                "\"every_epoch\" (a test score each epoch) or \"final\" (only the last epoch's \
                 and each new best validation epoch's)",
            ),
        },
        "task" => match v.as_str() {
            Some("classify" | "regress" | "forecast") => Ok(()),
            _ => bad(
                "\"classify\" (a class per series), \"regress\" (a number per series) or \
                 \"forecast\" (the next values of one series)",
            ),
        },
        "window" => match (int, v.as_str()) {
            (Some(n), _) if (1..=1_000_000).contains(&n) => Ok(()),
            (_, Some("auto")) => Ok(()),
            _ => bad("a whole number of past timesteps, at least 1, or \"auto\""),
        },
        "horizon" => match int {
            Some(n) if (1..=100_000).contains(&n) => Ok(()),
            _ => bad("a whole number of values to forecast, at least 1"),
        },
        "season" => match int {
            Some(n) if (0..=1_000_000).contains(&n) => Ok(()),
            _ => bad("a season length in timesteps (0 = no season)"),
        },
        "target_column" | "columns" => match v.as_str() {
            Some(_) => Ok(()),
            _ => bad("column names from the CSV header, comma-separated, or \"\""),
        },
        "time_column" => match v.as_str() {
            Some(_) => Ok(()),
            _ => bad("a column name from the CSV header, or \"\" for file order"),
        },
        "num_units" => match int {
            Some(n) if (1..=65536).contains(&n) => Ok(()),
            _ => bad("a whole number of hidden units from 1 to 65536"),
        },
        "cell" => match v.as_str().and_then(Cell::parse) {
            Some(_) => Ok(()),
            None => bad("\"lstm\", \"gru\" or \"rnn\""),
        },
        "layers" => match int {
            Some(n) if (1..=100).contains(&n) => Ok(()),
            _ => bad("a whole number of stacked layers from 1 to 100"),
        },
        "bidirectional" => match v.as_bool() {
            Some(_) => Ok(()),
            None => bad("true or false"),
        },
        "dropout" => match as_float(v) {
            Some(p) if (0.0..1.0).contains(&p) => Ok(()),
            _ => bad("a dropout probability p with 0 <= p < 1"),
        },
        "seed" => match int {
            Some(n) if n >= 0 => Ok(()),
            _ => bad("a non-negative integer"),
        },
        "epochs" => match (int, v.as_str()) {
            (Some(n), _) if (1..=100_000).contains(&n) => Ok(()),
            (_, Some("auto")) => Ok(()),
            _ => bad("a whole number of epochs, at least 1 (at most 100000), or \"auto\""),
        },
        "batch_size" => match (int, v.as_str()) {
            (Some(n), _) if (1..=1_000_000).contains(&n) => Ok(()),
            (_, Some("auto")) => Ok(()),
            _ => bad("a batch size of at least 1 (at most 1000000), or \"auto\""),
        },
        "val_size" => match (int, v.as_str()) {
            (Some(n), _) if n >= 1 => Ok(()),
            (_, Some("auto")) => Ok(()),
            _ => bad("at least 1 validation example, or \"auto\""),
        },
        "train_size" | "test_size" => match int {
            Some(n) if n >= 0 => Ok(()),
            _ => bad("a non-negative number of images (0 = all)"),
        },
        // The weights are 32-bit floats: a larger rate is infinite where Adam applies it.
        "lr" => match as_float(v) {
            Some(x) if x > 0.0 && x <= f32::MAX as f64 => Ok(()),
            _ => bad("a learning rate > 0 (and at most 3.4e38, the largest 32-bit float)"),
        },
        "clip_grad_norm" => match as_float(v) {
            Some(x) if x >= 0.0 && x.is_finite() => Ok(()),
            _ => bad("a gradient-norm bound >= 0 (0 = no clipping)"),
        },
        "schedule" => match v.as_str() {
            Some("cosine" | "constant") => Ok(()),
            _ => bad("\"cosine\" or \"constant\""),
        },
        _ => Err(format!("unknown key `{key}`")),
    }
}

/// A value as an error shows it: TOML's syntax, but large and tiny floats with an exponent
/// (TOML writes 1e300 out in 301 digits).
fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::Float(x) if x.is_finite() && *x != 0.0 && !(1e-5..1e16).contains(&x.abs()) => {
            format!("{x:e}")
        }
        other => other.to_string(),
    }
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

fn one() -> usize {
    1
}

fn is_one(v: &usize) -> bool {
    *v == 1
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

fn as_float(v: &toml::Value) -> Option<f64> {
    v.as_float().or_else(|| v.as_integer().map(|i| i as f64))
}

fn json_to_toml(v: &serde_json::Value) -> toml::Value {
    match v {
        serde_json::Value::String(s) => toml::Value::String(s.clone()),
        serde_json::Value::Number(n) if n.is_i64() || n.is_u64() => {
            toml::Value::Integer(n.as_i64().unwrap_or(i64::MAX))
        }
        serde_json::Value::Number(n) => toml::Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        serde_json::Value::Bool(b) => toml::Value::Boolean(*b),
        other => toml::Value::String(other.to_string()),
    }
}

/// A sweep folder name: letters, digits, '-', '_' and '.', not starting with '.' (so never
/// "." or "..", nor a hidden folder beside rowseq's own `.lock` files).
pub fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('.')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<SweepConfig, UserError> {
        SweepConfig::parse(text, "t.toml", "t")
    }

    #[test]
    fn grid_is_the_product_of_lists() {
        let s = parse("num_units = [8, 16, 32]\nseed = [0, 1]\nepochs = 2\n").unwrap();
        let runs = s.runs();
        assert_eq!(runs.len(), 6);
        assert_eq!(
            runs.iter()
                .map(|r| (r.seed, r.num_units))
                .collect::<Vec<_>>(),
            vec![(0, 8), (0, 16), (0, 32), (1, 8), (1, 16), (1, 32)]
        );
        assert!(runs.iter().all(|r| r.epochs == Count::Fixed(2)));
        assert_eq!(s.swept_keys(), vec!["seed", "num_units"]);
        assert_eq!(s.name, "t");
    }

    #[test]
    fn unknown_key_names_file_and_line() {
        let e = parse("num_units = 8\n\nnum_unit = 4\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("t.toml:3: unknown key `num_unit`"), "{e}");
        assert!(!e.contains('\n'));
    }

    #[test]
    fn bad_values_are_rejected_with_line_and_expectation() {
        for (text, want) in [
            (
                "num_units = 0",
                "t.toml:1: num_units = 0: expected a whole number of hidden units",
            ),
            (
                "\nlr = -0.1",
                "t.toml:2: lr = -0.1: expected a learning rate > 0",
            ),
            ("lr = 0", "t.toml:1: lr = 0: expected a learning rate > 0"),
            (
                "epochs = 0",
                "t.toml:1: epochs = 0: expected a whole number of epochs",
            ),
            (
                "num_units = []",
                "t.toml:1: num_units = []: expected at least one value",
            ),
            (
                "num_units = [8, \"x\"]",
                "t.toml:1: num_units = \"x\": expected a whole number",
            ),
            (
                "schedule = \"step\"",
                "t.toml:1: schedule = \"step\": expected \"cosine\" or \"constant\"",
            ),
            (
                "name = \"../x\"",
                "t.toml:1: name = \"../x\": expected a folder name",
            ),
            (
                "eval_test = \"sometimes\"",
                "t.toml:1: eval_test = \"sometimes\": expected \"every_epoch\"",
            ),
        ] {
            let e = parse(text).unwrap_err().to_string();
            assert!(e.starts_with(want), "{text:?} gave {e:?}");
        }
    }

    #[test]
    fn a_patch_equal_to_the_datas_own_step_is_the_run_without_the_key() {
        let id = |text: &str| crate::store::run_id(&parse(text).unwrap().runs()[0]);
        // paper/units/fb6d1948c8c4: MNIST, 8 units, read a row (28 pixels) a step.
        let base = "num_units = 8\nepochs = 12";
        assert_eq!(id(base), "fb6d1948c8c4");
        assert_eq!(id(&format!("{base}\npatch = 28")), "fb6d1948c8c4");
        assert_ne!(id(&format!("{base}\npatch = 112")), "fb6d1948c8c4");
        assert_eq!(
            id(&format!("{base}\npatch = \"auto\"")),
            id(&format!("{base}\npatch = \"auto\""))
        );
        let ts = "dataset = \"ts:data/GunPoint/GunPoint\"";
        // Series default to "auto"; one value a step is the run without the key, as before.
        assert_eq!(id(ts), id(&format!("{ts}\npatch = \"auto\"")));
        assert_ne!(id(ts), id(&format!("{ts}\npatch = 1")));
        let one = parse(&format!("{ts}\npatch = 1")).unwrap().runs()[0].clone();
        assert_eq!(one.patch, Patch::Natural);
        // Labels show the value, the data's own step too.
        let s = parse("patch = [28, 112]").unwrap();
        let labels: Vec<String> = s.runs().iter().map(|r| r.label(&s.swept_keys())).collect();
        assert_eq!(
            labels,
            ["units=128,patch=28,seed=0", "units=128,patch=112,seed=0"]
        );
        let json = serde_json::to_string(&s.runs()[1]).unwrap();
        assert!(json.contains("\"patch\":112"), "{json}");
        let back: RunConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back.patch, Patch::Values(112));
    }

    #[test]
    fn a_folder_name_from_the_file_name_follows_the_name_rule() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("my sweep.toml");
        std::fs::write(&path, "epochs = 1").unwrap();
        let mut s = SweepConfig::load(&path).unwrap();
        let e = s.check_name().unwrap_err().to_string();
        assert!(
            e.contains("my sweep.toml: the file name gives the sweep folder name \"my sweep\""),
            "{e}"
        );
        // A name given by --set (or in the file) is the folder's name.
        s.set("name=\"mine\"").unwrap();
        s.check_name().unwrap();
        let dots = dir.path().join("...toml");
        std::fs::write(&dots, "name = \"ok\"").unwrap();
        SweepConfig::load(&dots).unwrap().check_name().unwrap();
    }

    #[test]
    fn invalid_toml_is_one_line_with_line_number() {
        let e = parse("num_units = [8,\nseed = ").unwrap_err().to_string();
        assert!(e.starts_with("t.toml:"), "{e}");
        assert!(e.contains("invalid TOML"), "{e}");
        assert!(!e.contains('\n'), "{e}");
    }

    #[test]
    fn set_overrides_and_adds_axes() {
        let mut s = parse("num_units = [8, 16]\nepochs = 5").unwrap();
        s.set("epochs=1").unwrap();
        s.set("seed=[3,4]").unwrap();
        s.set("name=\"x\"").unwrap();
        assert_eq!(s.runs().len(), 4);
        assert!(s.runs().iter().all(|r| r.epochs == Count::Fixed(1)));
        assert_eq!(s.name, "x");
        let e = s.set("lr=0").unwrap_err().to_string();
        assert!(e.starts_with("--set lr=0: lr = 0: expected"), "{e}");
        assert!(s.set("lr").is_err());
    }

    #[test]
    fn validate_names_the_flag() {
        let cfg = RunConfig {
            num_units: 0,
            ..RunConfig::default()
        };
        let e = cfg.validate().unwrap_err().to_string();
        assert_eq!(
            e,
            "--num-units 0: expected a whole number of hidden units from 1 to 65536"
        );
        assert!(RunConfig::default().validate().is_ok());
    }

    #[test]
    fn labels_are_readable() {
        let cfg = RunConfig {
            num_units: 64,
            seed: 2,
            lr: 0.01,
            ..RunConfig::default()
        };
        assert_eq!(
            cfg.label(&["seed".into(), "num_units".into()]),
            "units=64,seed=2"
        );
        assert_eq!(cfg.label(&["lr".into()]), "units=64,lr=0.01,seed=2");
        // Paths stay out of labels (they name TensorBoard folders).
        let cfg = RunConfig {
            dataset: "ts:data/GunPoint/GunPoint".into(),
            csv_layout: CsvLayout::Long,
            ..cfg
        };
        assert_eq!(
            cfg.label(&["dataset".into(), "csv_layout".into()]),
            "units=64,dataset=GunPoint,csv_layout=long,seed=2"
        );
    }

    #[test]
    fn csv_keys_keep_old_run_ids_at_their_defaults() {
        // New keys are left out of the JSON at their defaults, so existing ids hold.
        let json = serde_json::to_string(&RunConfig::default()).unwrap();
        for k in CSV_KEYS {
            assert!(!json.contains(k), "{json}");
        }
        let s = parse("dataset = \"csv:a.csv,b.csv\"\ncsv_layout = \"long\"\ntime_column = \"t\"")
            .unwrap();
        let run = &s.runs()[0];
        assert_eq!(
            (run.csv_layout, run.time_column.as_str()),
            (CsvLayout::Long, "t")
        );
        let json = serde_json::to_string(run).unwrap();
        assert!(
            json.contains("\"csv_layout\":\"long\",\"time_column\":\"t\""),
            "{json}"
        );
        let back: RunConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(&back, run);
        for (text, want) in [
            ("csv_layout = \"tall\"", "expected \"wide\""),
            ("label_column = \" \"", "expected a column name"),
            ("dataset = \"ts:\"", "expected \"mnist\", \"fashion-mnist\""),
        ] {
            let e = parse(text).unwrap_err().to_string();
            assert!(e.contains(want), "{text}: {e}");
        }
    }

    #[test]
    fn cells_layers_directions_and_dropout_are_keys_like_any_other() {
        let s = parse(
            "cell = [\"lstm\", \"gru\", \"rnn\"]\nnum_units = [8, 16]\nlayers = 2\n\
             dropout = 0.25\nbidirectional = true\n",
        )
        .unwrap();
        let runs = s.runs();
        assert_eq!(runs.len(), 6);
        assert_eq!(
            runs.iter()
                .map(|r| (r.cell, r.num_units))
                .collect::<Vec<_>>(),
            vec![
                (Cell::Lstm, 8),
                (Cell::Lstm, 16),
                (Cell::Gru, 8),
                (Cell::Gru, 16),
                (Cell::Rnn, 8),
                (Cell::Rnn, 16)
            ]
        );
        assert!(runs
            .iter()
            .all(|r| r.layers == 2 && r.bidirectional && r.dropout == 0.25));
        assert_eq!(s.swept_keys(), vec!["cell", "num_units"]);
        assert_eq!(runs[2].label(&s.swept_keys()), "units=8,cell=gru,seed=0");
        let all: Vec<String> = ["layers", "bidirectional", "dropout"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            runs[0].label(&all),
            "units=8,layers=2,bidirectional=true,dropout=0.25,seed=0"
        );
        // Defaults read as values too, though the canonical JSON leaves them out.
        let d = RunConfig::default();
        assert_eq!(
            d.label(&["cell".into(), "dropout".into()]),
            "units=128,cell=lstm,dropout=0.0,seed=0"
        );
        assert!(d.validate().is_ok());
    }

    #[test]
    fn noise_is_off_for_images_and_numeric_tasks_and_auto_for_series_classification() {
        let series = |task: &str| {
            let mut cfg = RunConfig::default();
            cfg.apply("dataset", &toml::Value::String("ts:d/X".into()))
                .unwrap();
            cfg.apply("task", &toml::Value::String(task.into()))
                .unwrap();
            cfg.with_series_defaults(|_| false).noise
        };
        assert_eq!(series("classify"), Noise::Auto);
        assert_eq!(series("regress"), Noise::Off);
        assert_eq!(
            RunConfig::default().with_series_defaults(|_| false).noise,
            Noise::Off
        );
        // Off is left out of the JSON (MNIST's ids stay); a value or "auto" is part of the id.
        let json = serde_json::to_string(&RunConfig::default()).unwrap();
        assert!(!json.contains("noise"), "{json}");
        for (noise, text) in [
            (Noise::Std(0.25), r#""noise":0.25"#),
            (Noise::Auto, r#""noise":"auto""#),
        ] {
            let cfg = RunConfig {
                noise,
                ..RunConfig::default()
            };
            let json = serde_json::to_string(&cfg).unwrap();
            assert!(json.contains(text), "{json}");
            assert_eq!(serde_json::from_str::<RunConfig>(&json).unwrap(), cfg);
            assert_ne!(
                crate::store::run_id(&cfg),
                crate::store::run_id(&RunConfig::default())
            );
        }
        assert_eq!(Noise::parse("0"), Ok(Noise::Off));
        assert_eq!(Noise::parse("auto"), Ok(Noise::Auto));
        assert_eq!(Noise::parse("0.3"), Ok(Noise::Std(0.3)));
        for bad in ["-0.1", "nan", "inf", "11", "x"] {
            assert!(Noise::parse(bad).is_err(), "{bad}");
        }
        let e = parse("noise = -1").unwrap_err().to_string();
        assert!(
            e.starts_with("t.toml:1: noise = -1: expected a standard deviation from 0 to 10"),
            "{e}"
        );
    }

    #[test]
    fn new_keys_leave_old_run_ids_alone() {
        // paper/units/fb6d1948c8c4/config.json, written before cells existed.
        let old = r#"{"dataset":"mnist","num_units":8,"seed":0,"epochs":12,"lr":0.003,
            "batch_size":128,"schedule":"cosine","clip_grad_norm":1.0,"val_size":5000,
            "train_size":0,"test_size":0}"#;
        let cfg: RunConfig = serde_json::from_str(old).unwrap();
        assert_eq!(cfg.cell, Cell::Lstm);
        assert_eq!(
            (cfg.layers, cfg.bidirectional, cfg.dropout),
            (1, false, 0.0)
        );
        assert_eq!(crate::store::run_id(&cfg), "fb6d1948c8c4");
        let json = serde_json::to_string(&RunConfig::default()).unwrap();
        for key in ["cell", "layers", "bidirectional", "dropout"] {
            assert!(!json.contains(key), "{json}");
        }
        // Any other value is part of the id.
        let gru = RunConfig {
            cell: Cell::Gru,
            ..cfg.clone()
        };
        let json = serde_json::to_string(&gru).unwrap();
        assert!(json.contains(r#""cell":"gru""#), "{json}");
        assert_ne!(crate::store::run_id(&gru), "fb6d1948c8c4");
        let deep = RunConfig {
            layers: 3,
            bidirectional: true,
            dropout: 0.1,
            ..cfg
        };
        let back: RunConfig = serde_json::from_str(&serde_json::to_string(&deep).unwrap()).unwrap();
        assert_eq!(back, deep);
    }

    #[test]
    fn bad_cells_layers_and_dropout_are_one_line_errors() {
        for (text, want) in [
            (
                "cell = \"transformer\"",
                "t.toml:1: cell = \"transformer\": expected \"lstm\", \"gru\" or \"rnn\"",
            ),
            (
                "layers = 0",
                "t.toml:1: layers = 0: expected a whole number of stacked layers",
            ),
            (
                "layers = 2\ndropout = 1.0",
                "t.toml:2: dropout = 1.0: expected a dropout probability p with 0 <= p < 1",
            ),
            (
                "layers = 2\ndropout = -0.1",
                "t.toml:2: dropout = -0.1: expected a dropout probability",
            ),
            (
                "bidirectional = \"yes\"",
                "t.toml:1: bidirectional = \"yes\": expected true or false",
            ),
            (
                "num_units = 8\ndropout = 0.2",
                "t.toml:2: dropout = 0.2 with layers = 1: expected layers >= 2",
            ),
            (
                "dropout = 0.2\nlayers = [1, 2]",
                "t.toml:1: dropout = 0.2 with layers = 1: expected layers >= 2",
            ),
        ] {
            let e = parse(text).unwrap_err().to_string();
            assert!(e.starts_with(want), "{text:?} gave {e:?}");
            assert!(!e.contains('\n'), "{e}");
        }
        assert!(parse("layers = 2\ndropout = 0.2").is_ok());
        assert!(parse("layers = [1, 2]\ndropout = [0, 0.5]").is_err());
        assert!(parse("layers = [1, 2]\ndropout = 0").is_ok());
    }

    #[test]
    fn overrides_check_the_combined_grid() {
        let mut s = parse("layers = 2\ndropout = 0.3").unwrap();
        // A --set of dropout alone is judged with the file's layers.
        s.set("dropout=0.1").unwrap();
        let e = s.set("layers=1").unwrap_err().to_string();
        assert!(
            e.starts_with("--set layers=1: dropout = 0.1 with layers = 1: expected"),
            "{e}"
        );
        let mut s = parse("num_units = 8").unwrap();
        assert!(s.set("dropout=0.5").is_err());
        s.set("layers=3").unwrap();
        s.set("dropout=0.5").unwrap();
        s.set("cell=\"rnn\"").unwrap();
        assert!(s
            .runs()
            .iter()
            .all(|r| r.cell == Cell::Rnn && r.layers == 3));
    }

    #[test]
    fn validate_names_the_dropout_flag() {
        let cfg = RunConfig {
            dropout: 0.2,
            ..RunConfig::default()
        };
        let e = cfg.validate().unwrap_err().to_string();
        assert!(
            e.starts_with("--dropout 0.2: expected 0 with --layers 1"),
            "{e}"
        );
        assert!(RunConfig {
            layers: 2,
            ..cfg.clone()
        }
        .validate()
        .is_ok());
        let e = RunConfig {
            dropout: 1.5,
            layers: 2,
            ..cfg
        }
        .validate()
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "--dropout 1.5: expected a dropout probability p with 0 <= p < 1"
        );
    }
}
