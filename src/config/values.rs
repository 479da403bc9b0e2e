/*!
The typed values of the run keys that are more than a number or a word: schedules, layouts,
"auto"-or-a-number counts, noise, tasks, scalings and cells. Each serialises as a sweep file
writes it (and as the run id has always hashed it).
*/
use serde::{Deserialize, Serialize};

/// Learning-rate schedule over the whole run.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Schedule {
    /// The same learning rate for every step.
    Constant,
    /// Cosine decay from `lr` to 0 over all steps of all epochs.
    Cosine,
}

/// What the head reads of the last recurrent layer's outputs (`pooling`).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Pooling {
    /// The output at each sequence's last real step (and, both ways, the backward
    /// direction's at its first): the classic reading, h_T.
    #[default]
    Last,
    /// The mean of the outputs over each sequence's real steps.
    Mean,
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

pub const PATCH_EXPECTED: &str =
    "a whole number of values per timestep from 1 to 100000, or \"auto\"";

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
            Raw::Values(n) => Ok(Patch::Values(n)),
            Raw::Word(w) if w == "auto" => Ok(Patch::Auto),
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
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum EvalTest {
    /// Every epoch: a test curve per run (left out of the JSON, as before the key).
    #[default]
    EveryEpoch,
    /// Only the epochs a result reads: the last one, and each that improves the best
    /// validation score so far (whose test score `select = "best_val"` shows).
    Final,
}

/// How a forecast's series fills a missing value (`fill`): an empty cell, `NaN`, `NA` or `?`.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Fill {
    /// Refuse the file, naming the line (left out of the JSON, as before the key).
    #[default]
    None,
    /// A straight line between the values on either side of the gap.
    Interpolate,
    /// The last value before the gap, carried forward.
    Ffill,
}

/// How a forecast separates the target's season before the network reads it (`decompose`).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Decompose {
    /// The target as it is (left out of the JSON, as before the key).
    #[default]
    None,
    /// Classical seasonal indices of the values up to each window's end
    /// (`data::forecast::seasonal_indices`), taken out of the target and added back to its
    /// forecasts.
    Classical,
}

/// What a forecast's target is read as before the window's scaling (`transform`).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Transform {
    /// The values as they are (left out of the JSON, as before the key).
    #[default]
    None,
    /// Their natural logarithm: a season or a change that grows with the level becomes one of
    /// constant size; forecasts and interval bounds are mapped back with exp.
    Log,
    /// Forecasts' default: log where every value of the target in the file is positive, none
    /// otherwise (`data::windows::split` decides; the resolved config records which).
    Auto,
}

/// Which training series validate a run (`val_split`).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum ValSplit {
    /// A stratified choice for classification, a fixed random one for regression (left out of
    /// the JSON, as before the key).
    #[default]
    Auto,
    /// The last `val_size` series of the training file, in file order: for files whose rows
    /// are in time order, so that validation never sees the past of what trains.
    Ordered,
    /// Whole groups of the CSV's `group_column` (a subject, a recording), so that no group is
    /// on both sides.
    Group,
    /// Every series of `val_file`: a validation set the user gives, the training file whole.
    File,
}

/// Which epoch's model a run keeps (`keep`): its weights are `model.safetensors`, what
/// `predict`, `explain` and the PyTorch loader use, and its scores are the result's headline.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Keep {
    /// The last epoch trained (left out of the JSON, as before the key).
    #[default]
    Last,
    /// The first epoch with the best validation score (`records::best_val`): accuracy, or the
    /// lowest RMSE for numeric tasks.
    BestVal,
}

/// Which labels a classification run trains on (`labels`): the data's own, or random ones that
/// only memorisation can fit (the capacity experiment, `report::capacity`).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Labels {
    /// The data's own labels (left out of the JSON, as before the key).
    #[default]
    Given,
    /// Each training example's label drawn uniformly from the classes (`data::sequences::random_labels`),
    /// from the run's seed; validation and test keep their own labels.
    Random,
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
    /// The standard deviation of a resolved config (`data::auto::resolve`).
    pub fn std(self) -> f64 {
        match self {
            Noise::Std(x) => x,
            Noise::Off => 0.0,
            Noise::Auto => panic!("an \"auto\" noise is resolved from the data before use"),
        }
    }
}

/// The largest noise a run may ask for: ten times the spread of z-scored inputs.
pub const NOISE_MAX: f64 = 10.0;
pub const NOISE_EXPECTED: &str =
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
        match Raw::deserialize(d)? {
            Raw::Std(0.0) => Ok(Noise::Off),
            Raw::Std(x) => Ok(Noise::Std(x)),
            Raw::Word(w) if w == "auto" => Ok(Noise::Auto),
            Raw::Word(_) => Err(serde::de::Error::custom(NOISE_EXPECTED)),
        }
    }
}

/// Which epoch's test accuracy tables and figures show (`select`, a sweep key beside `name`;
/// `report --select`). Test accuracy never chooses anything: `best_val` takes the first epoch
/// with the best validation accuracy.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
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

    pub(crate) fn is_last(&self) -> bool {
        *self == Select::Last
    }
}

/// What a run learns (`task`): a class, a number, or the next values of a series.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
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
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Normalize {
    /// Each feature z-scored with the mean and std of the run's training split.
    #[default]
    Feature,
    /// Each series z-scored on its own, per feature (as the UCR archive does).
    Series,
    /// Each series z-scored on its own, with the level and spread it loses beside: per
    /// feature, the series' mean and the log of its std (`data::series::with_stats`), as two
    /// more features constant over its steps, standardised over the training split's series.
    #[serde(rename = "series_stats")]
    SeriesStats,
    /// The values as they are in the files.
    None,
    /// Forecasting (its default): each window relative to its last value, every variable
    /// minus its value at t over its training-stretch std, so the model forecasts the change
    /// from the last value (a trend beyond the training range stays in range).
    Last,
}

/// The recurrent cell of every layer.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Cell {
    /// Long short-term memory: 4 gate blocks (input, forget, cell, output), states h and c.
    #[default]
    Lstm,
    /// Gated recurrent unit (PyTorch's, reset gate after the matrix product): 3 gate blocks.
    Gru,
    /// Elman RNN, h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh): one block.
    Rnn,
}

impl Cell {
    #[cfg(test)]
    pub const ALL: [Cell; 3] = [Cell::Lstm, Cell::Gru, Cell::Rnn];

    /// `lstm`, `gru` or `rnn`: the config value and the VarStore prefix.
    pub fn name(self) -> &'static str {
        match self {
            Cell::Lstm => "lstm",
            Cell::Gru => "gru",
            Cell::Rnn => "rnn",
        }
    }

    /// `LSTM`, `GRU` or `RNN`.
    pub fn title(self) -> &'static str {
        match self {
            Cell::Lstm => "LSTM",
            Cell::Gru => "GRU",
            Cell::Rnn => "RNN",
        }
    }
}

/// The levels (%) of `intervals = "80,95"`, ascending: each strictly between 0 and 100, none
/// twice; empty for "" (no intervals); None for anything else.
pub fn interval_levels(text: &str) -> Option<Vec<f64>> {
    if text.trim().is_empty() {
        return Some(Vec::new());
    }
    let mut levels = text
        .split(',')
        .map(|t| {
            t.trim()
                .parse::<f64>()
                .ok()
                .filter(|l| *l > 0.0 && *l < 100.0)
        })
        .collect::<Option<Vec<f64>>>()?;
    levels.sort_by(f64::total_cmp);
    let distinct = levels.windows(2).all(|w| w[0] < w[1]);
    distinct.then_some(levels)
}
