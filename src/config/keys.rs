/*!
The run keys, each declared once: its type, default, documentation, whether the run id leaves
it out at its default, which data it applies to, and what it accepts.

The one table below is `for_each_run_key!`, which hands it to a macro. Here `run_keys!` makes
- `RunConfig`, its `Default`, and its JSON (the run id hashes it: `JSON_HEAD`);
- `RUN_KEYS` (the grid order) and `KEYS` (each key's scope);
- `RunConfig::set` (a sweep file's or `--set`'s TOML value, typed by serde and checked) and
  `RunConfig::check_keys` (every typed value checked, as flags give them).

The command line makes the `--flag` of every key from the same table (`cli::run_flags`): the
doc comment is the flag's help, so it speaks to users (the rules behind "auto" live in
`data::auto`, `data::patch` and `data::forecast`). Nothing here knows the command line.

A new key is one entry here plus its use. Give it a default that keeps old results meaningful
and `omitted` (left out of the JSON at its default), so that no existing run id changes.
*/
use serde::de::DeserializeOwned;
use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize};

use super::dataset::{self, Spec};
use super::value_text;
use super::values::*;

/// Which data a key applies to; elsewhere it must stay at its default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every dataset and task.
    Any,
    /// CSV files of classification or regression (`data::csv`).
    Csv,
    /// CSV files in the long layout only (`csv_layout = "long"`); CSV keys too (`keys_of`).
    LongCsv,
    /// Long CSV files and forecasting's series files (a panel of many series): long-CSV keys
    /// too (`keys_of`).
    Panel,
    /// Forecasting (`data::forecast`).
    Forecast,
}

/// One run key, as the table declares it.
#[derive(Clone, Copy, Debug)]
pub struct Key {
    pub name: &'static str,
    pub scope: Scope,
    /// The key's doc comment (the flag's help), one line per comment line.
    pub doc: &'static str,
    /// What the key accepts, as its errors say it.
    pub expected: &'static str,
}

/// The key of `name`, if it is a run key.
pub fn key(name: &str) -> Option<&'static Key> {
    KEYS.iter().find(|k| k.name == name)
}

/// The keys of one scope.
/// The long layout's keys are CSV keys too: `keys_of(Scope::Csv)` lists them; panel keys are
/// long-layout keys too.
pub fn keys_of(scope: Scope) -> impl Iterator<Item = &'static str> {
    KEYS.iter()
        .filter(move |k| {
            k.scope == scope
                || (scope == Scope::Csv && matches!(k.scope, Scope::LongCsv | Scope::Panel))
                || (scope == Scope::LongCsv && k.scope == Scope::Panel)
        })
        .map(|k| k.name)
}

/// The first keys of a config's JSON, in the order of the first records: the run id hashes
/// the JSON's bytes, so this order is frozen. Every other key follows in `RUN_KEYS` order; a
/// new key is omitted at its default, so where it is declared changes no existing id.
const JSON_HEAD: [&str; 7] = [
    "dataset",
    "num_units",
    "cell",
    "layers",
    "bidirectional",
    "dropout",
    "seed",
];

/// Whether a key is written into a config's JSON (and id) when it holds its default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum InId {
    /// Always written: the keys of the first records.
    Always,
    /// Left out at its default, so that adding the key changed no earlier id.
    Omitted,
}

/// A typed value from a TOML one (a sweep file's, a `--set`'s, a record's): `None` when the
/// type does not take it. Integers are taken where floats are expected.
fn typed<T: DeserializeOwned>(v: &toml::Value) -> Option<T> {
    v.clone().try_into().ok()
}

macro_rules! run_keys {
    ($(
        $(#[doc = $doc:literal])*
        $key:ident: $ty:ty = $default:expr, $in_id:ident, $scope:ident,
            expected $expected:expr $(, valid $valid:expr)?;
    )*) => {
        /// Everything that determines the result of one training run. Its canonical JSON is
        /// hashed into the run id (`store::run_id`): see `JSON_HEAD` and `InId`, and never add
        /// device or thread counts here.
        #[derive(Clone, Debug, PartialEq)]
        pub struct RunConfig {
            $( $(#[doc = $doc])* pub $key: $ty, )*
        }

        impl Default for RunConfig {
            fn default() -> Self {
                RunConfig { $( $key: $default, )* }
            }
        }

        /// The keys a sweep file may set, besides `name` and `select`, in grid order (the
        /// first varies slowest).
        pub const RUN_KEYS: &[&str] = &[$( stringify!($key), )*];

        /// Every run key's scope, in `RUN_KEYS` order.
        pub const KEYS: &[Key] = &[$(
            Key {
                name: stringify!($key),
                scope: Scope::$scope,
                doc: concat!($($doc, "\n",)*),
                expected: $expected,
            },
        )*];

        impl RunConfig {
            /// Sets one key from a TOML value, or says what is expected:
            /// `key = value: expected ...`.
            pub fn set(&mut self, key: &str, v: &toml::Value) -> Result<(), String> {
                match key {
                    $( stringify!($key) => {
                        let bad = || format!(
                            "{} = {}: expected {}", stringify!($key), value_text(v), $expected
                        );
                        let x: $ty = typed(v).ok_or_else(bad)?;
                        if !(true $( && ($valid)(&x) )?) {
                            return Err(bad());
                        }
                        self.$key = x;
                    } )*
                    _ => return Err(format!("unknown key `{key}`")),
                }
                Ok(())
            }

            /// Checks every key's value as `set` would: the first that is out of range, as
            /// `(key, shown value, expected)`.
            pub fn check_keys(&self) -> Result<(), (&'static str, String, &'static str)> {
                $(
                    let x = &self.$key;
                    if !(true $( && ($valid)(x) )?) {
                        return Err((stringify!($key), shown(x), $expected));
                    }
                )*
                Ok(())
            }

            /// One key's value as JSON, also where the config's JSON leaves it out.
            pub(super) fn raw_value(&self, key: &str) -> Option<serde_json::Value> {
                match key {
                    $( stringify!($key) => Some(
                        serde_json::to_value(&self.$key).expect("values serialise")
                    ), )*
                    _ => None,
                }
            }

            /// The keys whose value differs from their default, in `RUN_KEYS` order.
            pub fn changed_keys(&self) -> Vec<&'static str> {
                let d = RunConfig::default();
                let mut changed = Vec::new();
                $( if self.$key != d.$key {
                    changed.push(stringify!($key));
                } )*
                changed
            }

            /// Whether the config's JSON holds `key` even at its default.
            fn always_in_json(key: &str) -> bool {
                match key {
                    $( stringify!($key) => InId::$in_id == InId::Always, )*
                    _ => false,
                }
            }

            fn serialize_key<S: SerializeStruct>(&self, key: &str, s: &mut S)
                -> Result<(), S::Error>
            {
                match key {
                    $( stringify!($key) => s.serialize_field(stringify!($key), &self.$key), )*
                    _ => Ok(()),
                }
            }
        }

        impl<'de> Deserialize<'de> for RunConfig {
            /// From a record or a merged table: unknown keys are refused, and a key left out
            /// takes its default.
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                #[derive(Deserialize)]
                #[serde(deny_unknown_fields)]
                struct Given {
                    $( #[serde(default)] $key: Option<$ty>, )*
                }
                let given = Given::deserialize(d)?;
                let d = RunConfig::default();
                Ok(RunConfig { $( $key: given.$key.unwrap_or(d.$key), )* })
            }
        }
    };
}

/// A typed value as an error shows it (TOML syntax, as a sweep file writes it).
fn shown<T: Serialize>(x: &T) -> String {
    match toml::Value::try_from(x) {
        Ok(v) => value_text(&v),
        Err(_) => serde_json::to_string(x).unwrap_or_default(),
    }
}

impl Serialize for RunConfig {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let order = JSON_HEAD
            .iter()
            .copied()
            .chain(RUN_KEYS.iter().copied().filter(|k| !JSON_HEAD.contains(k)));
        let changed = self.changed_keys();
        let keys: Vec<&str> = order
            .filter(|k| RunConfig::always_in_json(k) || changed.contains(k))
            .collect();
        let mut st = s.serialize_struct("RunConfig", keys.len())?;
        for k in keys {
            self.serialize_key(k, &mut st)?;
        }
        st.end()
    }
}

fn positive_float(x: &f64) -> bool {
    *x > 0.0
}

/// The key table, handed to `$callback` (`run_keys!` here, `run_flags!` in `cli`): per key its
/// doc comment, name, type, default, `Always` or `Omitted` in the id at its default, scope, the
/// words of what it accepts, and optionally a check of the typed value. Types, defaults and
/// checks are read where the callback expands them.
#[rustfmt::skip] // rustfmt shifts the table's continued strings on every pass
macro_rules! for_each_run_key {
    ($callback:ident) => {
        $callback! {
        /// Seed for initialisation, shuffling and input noise.
        seed: u64 = 0, Always, Any,
            expected "a non-negative integer";
        /// mnist, fashion-mnist, idx:DIR, ts:DIR/NAME (NAME_TRAIN.ts, NAME_TEST.ts),
        /// csv:TRAIN.csv,TEST.csv, or csv:SERIES.csv (forecasting).
        dataset: String = "mnist".into(), Always, Any,
            expected dataset::EXPECTED, valid |s: &String| Spec::parse(s).is_ok();
        /// Recurrent cell: lstm, gru or rnn (tanh).
        cell: Cell = Cell::Lstm, Omitted, Any,
            expected "\"lstm\", \"gru\" or \"rnn\"";
        /// Stacked recurrent layers.
        layers: usize = 1, Omitted, Any,
            expected "a whole number of stacked layers from 1 to 100",
            valid |n: &usize| (1..=100).contains(n);
        /// A backward direction in every layer: --bidirectional (or =true; default false).
        bidirectional: bool = false, Omitted, Any,
            expected "true or false";
        /// Dropout on the outputs of every layer but the last, in training (needs layers >= 2).
        dropout: f64 = 0.0, Omitted, Any,
            expected "a dropout probability p with 0 <= p < 1",
            valid |p: &f64| (0.0..1.0).contains(p);
        /// Hidden units of each recurrent layer and direction: the size of h_t (and c_t for an
        /// LSTM).
        num_units: i64 = 128, Always, Any,
            expected "a whole number of hidden units from 1 to 65536",
            valid |n: &i64| (1..=65536).contains(n);
        /// What the head reads of the last layer's outputs: last (h at each sequence's last real
        /// step, the default) or mean (the mean of h_t over its real steps).
        pooling: Pooling = Pooling::Last, Omitted, Any,
            expected "\"last\" (h at the last real step) or \"mean\" (the mean over the steps)";
        /// Filters of a convolutional branch beside the recurrent layers (LSTM-FCN): three
        /// convolutions of N, 2N and N filters (kernels 8, 5 and 3, each with batch
        /// normalisation and ReLU) over the same timesteps, averaged over time, which the head
        /// reads beside the recurrent state (0 = no branch, the default; 64 for series
        /// classification).
        conv_filters: usize = 0, Omitted, Any,
            expected "a whole number of filters from 0 (no branch) to 4096",
            valid |n: &usize| *n <= 4096;
        /// Forecasting: a linear map from the whole input window straight to the forecasts,
        /// added to the head's (LSTNet's autoregressive highway, Lai et al. 2018), so that a
        /// linear rule such as "the value one season back" needs no recurrent state; true by
        /// default for forecasts.
        highway: bool = false, Omitted, Forecast,
            expected "true or false";
        /// Passes over the training split, or "auto" (series data's default: a budget of
        /// optimiser steps).
        epochs: Count = Count::Fixed(12), Always, Any,
            expected "a whole number of epochs, at least 1 (at most 100000), or \"auto\"",
            valid |c: &Count| c.fixed().is_none_or(|n| (1..=100_000).contains(&n));
        /// Peak learning rate of Adam.
        lr: f64 = 3e-3, Always, Any,
            // The weights are 32-bit floats: a larger rate is infinite where Adam applies it.
            expected "a learning rate > 0 (and at most 3.4e38, the largest 32-bit float)",
            valid |x: &f64| positive_float(x) && *x <= f32::MAX as f64;
        /// Series per optimiser step, or "auto" (series data's default: from the training split's
        /// size).
        batch_size: Count = Count::Fixed(128), Always, Any,
            expected "a batch size of at least 1 (at most 1000000), or \"auto\"",
            valid |c: &Count| c.fixed().is_none_or(|n| (1..=1_000_000).contains(&n));
        /// Learning-rate schedule: cosine (decay to 0 over the run) or constant.
        schedule: Schedule = Schedule::Cosine, Always, Any,
            expected "\"cosine\" or \"constant\"";
        /// Clip the global gradient L2 norm to this value (0 = no clipping).
        clip_grad_norm: f64 = 1.0, Always, Any,
            expected "a gradient-norm bound >= 0 (0 = no clipping)",
            valid |x: &f64| *x >= 0.0 && x.is_finite();
        /// Examples held out of the training set for validation (the last images; a stratified
        /// choice of series), or "auto" (series data's default: a stratified fifth, at least one
        /// per class).
        val_size: Count = Count::Fixed(5000), Always, Any,
            expected "at least 1 validation example, or \"auto\"",
            valid |c: &Count| c.fixed().is_none_or(|n| n >= 1);
        /// Which training series validate: auto (a stratified choice; regression: a fixed random
        /// one), ordered (the last val_size series of the training file, for files in time
        /// order), group (whole groups of group_column, at least val_size series, so that no
        /// group is on both sides) or file (every series of val_file, the whole training file
        /// training). Images and forecasts always validate on their last examples or stretch.
        val_split: ValSplit = ValSplit::Auto, Omitted, Any,
            expected "\"auto\" (stratified, or random for regression), \"ordered\" (the last series of the file), \"group\" (whole groups of group_column) or \"file\" (the series of val_file)";
        /// Series sets with val_split = "file": the file whose series validate, in the
        /// training file's format (.ts, CSV read with the same keys, or .npz), with its classes.
        val_file: String = String::new(), Omitted, Any,
            expected "a file of series like the training file's, or \"\" for none";
        /// Train on the first N training examples only (0 = all that remain after validation).
        train_size: usize = 0, Always, Any,
            expected "a non-negative number of images (0 = all)";
        /// Evaluate on the first N test examples only (0 = all); forecasting: the timesteps of
        /// the test stretch at the series' end (0 = 15 % of it).
        test_size: usize = 0, Always, Any,
            expected "a non-negative number of images (0 = all)";
        /// CSV datasets: wide (one series per row) or long (one timestep per row).
        csv_layout: CsvLayout = CsvLayout::Wide, Omitted, Csv,
            expected "\"wide\" (one series per row) or \"long\" (one timestep per row)";
        /// CSV datasets: the label column.
        label_column: String = "label".into(), Omitted, Csv,
            expected "a column name from the CSV header",
            valid |s: &String| !s.trim().is_empty();
        /// Long CSV, and forecasting's panels: the column naming each row's series (under the
        /// default "id", a series file is a panel only when that column holds two text ids or
        /// more; name the column to read numeric ids).
        id_column: String = "id".into(), Omitted, Panel,
            expected "a column name from the CSV header",
            valid |s: &String| !s.trim().is_empty();
        /// Long CSV: the column ordering a series' rows ("" = file order).
        time_column: String = String::new(), Omitted, LongCsv,
            expected "a column name from the CSV header, or \"\" for file order";
        /// CSV datasets: the column naming each series' group (a subject, a recording), which
        /// val_split = "group" keeps on one side of the validation split ("" = none).
        group_column: String = String::new(), Omitted, Csv,
            expected "a column name from the CSV header, or \"\" for none";
        /// Values per timestep: P pixels of the row-major image (28 = a row,
        /// MNIST's own step; 1 = pixel by pixel; at most its pixels), or P consecutive values of
        /// every feature of a series (1 = its own step; at most the longest series' length, a
        /// forecast's window), or "auto" (series data's default) picks P from the data.
        patch: Patch = Patch::Natural, Omitted, Any,
            expected PATCH_EXPECTED,
            valid |p: &Patch| !matches!(p, Patch::Values(n) if !(1..=100_000).contains(n));
        /// Series only: feature (z-score each feature with the training split's mean and std, the
        /// default), series (each series on its own), series_stats (each series on its own, with
        /// its mean and log std per feature as two more inputs: 3F features), last
        /// (forecasting's default: each window relative to its last value) or none.
        normalize: Normalize = Normalize::Feature, Omitted, Any,
            expected "\"feature\" (z-score each feature with the training split's statistics), \
                      \"series\" (each series on its own), \"series_stats\" (each on its own, \
                      with its mean and log std as inputs), \"last\" (forecasting: each window \
                      relative to its last value) or \"none\"";
        /// Gaussian noise added to the inputs while training, as a standard deviation in the units
        /// the model reads (0 = none, the default of images and numeric tasks), or "auto" (series
        /// classification's default: twice the series' step-to-step change, at most 0.5; the run
        /// trains with that noise and without, and keeps the better on validation).
        noise: Noise = Noise::Off, Omitted, Any,
            expected NOISE_EXPECTED,
            valid |n: &Noise| !matches!(n, Noise::Std(x) if !(*x > 0.0 && *x <= NOISE_MAX));
        /// Series classification: the standard deviation s of magnitude scaling while training,
        /// each series' every input feature (series_stats' level and spread inputs too)
        /// multiplied by its own factor 1 + N(0, s), drawn each epoch (Um et al. 2017; 0 = none,
        /// the default).
        scale_noise: f64 = 0.0, Omitted, Any,
            expected "a standard deviation between 0 (none) and 0.5",
            valid |x: &f64| (0.0..=0.5).contains(x);
        /// Classification: once the run has scored validation (and chosen its noise on it),
        /// train the kept config again on the training and validation series together, for
        /// the same epochs and batch size, and keep that model (true or false; false by
        /// default, true for series classification). The run's validation scores stay those of
        /// the training that did not see validation. Runs paused at successive halving's rungs
        /// train once.
        refit: bool = false, Omitted, Any,
            expected "true or false";
        /// Which epochs score the test set: every-epoch (the default: a test curve) or final (the
        /// last epoch and each new best validation epoch; training and results are the same).
        eval_test: EvalTest = EvalTest::EveryEpoch, Omitted, Any,
            expected "\"every_epoch\" (a test score each epoch) or \"final\" (only the last \
                      epoch's and each new best validation epoch's)";
        /// Stop training once the validation score (accuracy; RMSE for numeric tasks) has not
        /// improved for this many epochs (0 = never: train the whole budget), or "auto"
        /// (numeric series tasks' default: a fifth of the budget, at least 10 epochs).
        patience: Count = Count::Fixed(0), Omitted, Any,
            expected "a whole number of epochs (0 = no early stopping), or \"auto\"",
            valid |c: &Count| c.fixed().is_none_or(|n| n <= 100_000);
        /// Classification: stop training once an epoch's training accuracy reaches this share
        /// (0 = never, the default): a set memorised needs no more epochs (the capacity
        /// experiment, with labels = "random").
        stop_train_acc: f64 = 0.0, Omitted, Any,
            expected "a training accuracy between 0 (never stop) and 1",
            valid |x: &f64| (0.0..=1.0).contains(x);
        /// Which epoch's model is kept (saved, predicted with, and scored in the result): last
        /// (the default) or best_val (the first epoch of the best validation score; numeric
        /// series tasks' default).
        keep: Keep = Keep::Last, Omitted, Any,
            expected "\"last\" (the last epoch trained) or \"best_val\" (the epoch of the \
                      best validation score)";
        /// Classification: given (the data's own labels, the default) or random (each training
        /// example's label drawn uniformly from the classes with the run's seed, so that only
        /// memorisation can fit them; the result records the share fitted, `train_fit_acc`).
        labels: Labels = Labels::Given, Omitted, Any,
            expected "\"given\" (the data's own labels) or \"random\" (training labels drawn \
                      uniformly, for measuring memorisation)";
        /// classify (a class per series, the default), regress (a number per series) or forecast
        /// (the next values of one series, csv:SERIES.csv).
        task: Task = Task::Classify, Omitted, Any,
            expected "\"classify\" (a class per series), \"regress\" (a number per series) or \
                      \"forecast\" (the next values of one series)";
        /// Forecasting: past timesteps a forecast reads, or "auto" (the default: from the season
        /// and the series' length).
        window: Count = Count::Auto, Omitted, Forecast,
            expected "a whole number of past timesteps, at least 1, or \"auto\"",
            valid |c: &Count| c.fixed().is_none_or(|n| (1..=1_000_000).contains(&n));
        /// Forecasting: values of the target predicted after each window.
        horizon: usize = 1, Omitted, Forecast,
            expected "a whole number of values to forecast, at least 1",
            valid |n: &usize| (1..=100_000).contains(n);
        /// Forecasting: season length m of MASE's seasonal-naive scale and baselines (0 = none:
        /// the naive one), or "auto": detected on the training stretch (`data::ets::detect_season`)
        /// and recorded in the resolved config.
        season: Count = Count::Fixed(0), Omitted, Forecast,
            expected "a season length in timesteps (0 = no season), or \"auto\" (detected on \
                      the training stretch)",
            valid |c: &Count| c.fixed().is_none_or(|n| n <= 1_000_000);
        /// Forecasting: the column forecast ("" = the only numeric column), or "*": every
        /// column read is a series of its own (a wide panel), one model learning them all.
        target_column: String = String::new(), Omitted, Forecast,
            expected "column names from the CSV header, comma-separated, or \"\"";
        /// Forecasting: the columns a window reads, comma-separated, the target among them ("" =
        /// every numeric column).
        columns: String = String::new(), Omitted, Forecast,
            expected "column names from the CSV header, comma-separated, or \"\"";
        /// Forecasting: the column of each row's date (1994-09-12, 1994-09, 1994 Q3 or 1994;
        /// days on one day of every month step by months),
        /// checked for a regular step (a gap or repeat is an error naming the row) and carried
        /// into test_predictions.csv and predict's output; "" (the default): none.
        date_column: String = String::new(), Omitted, Forecast,
            expected "a column name from the CSV header, or \"\"";
        /// Forecasting with a season: two more inputs at every step, the sine and cosine of its
        /// phase in the season (its row number modulo the season, as a calendar's month of
        /// the year or day of the week), known in advance for every step forecast.
        calendar: bool = false, Omitted, Forecast,
            expected "true or false";
        /// Forecasting: missing values (an empty cell, NaN, NA or ?): none (an error naming the
        /// line, the default), interpolate (a straight line across the gap) or ffill (the last
        /// value carried forward). A gap at the series' start cannot be filled.
        fill: Fill = Fill::None, Omitted, Forecast,
            expected "\"none\", \"interpolate\" or \"ffill\"";
        /// Forecasting with a season: "classical" (forecasts' default) takes the target's
        /// seasonal indices, estimated at each window's end from the values up to it, out of the
        /// values the network reads and adds them back to its forecasts; "none" reads the
        /// target as it is.
        decompose: Decompose = Decompose::None, Omitted, Forecast,
            expected "\"classical\" (seasonal indices out, added back to the forecasts) or \
                      \"none\"";
        /// Forecasting: the target read as it is ("none") or as its natural logarithm ("log"),
        /// so that a season or a change that grows with the level keeps one size; forecasts
        /// and their intervals are mapped back with exp. "auto" (forecasts' default): log
        /// where every value of the target in the file is positive, recorded in the resolved
        /// config.
        transform: Transform = Transform::None, Omitted, Forecast,
            expected "\"none\" (the values as they are), \"log\" (their logarithm: positive \
                      values only) or \"auto\" (log where every value is positive)";
        /// Forecasting: the levels (%) of the prediction intervals, comma-separated ("" =
        /// none): split conformal, from the validation windows' absolute errors per step ahead,
        /// with their coverage of the test targets recorded beside each level.
        intervals: String = "80,95".into(), Omitted, Forecast,
            expected "interval levels in percent between 0 and 100, comma-separated, such as \
                      \"80,95\", or \"\" for none",
            valid |s: &String| super::interval_levels(s).is_some();
        }
    };
}
pub(crate) use for_each_run_key;

for_each_run_key!(run_keys);
