/*!
What a run config says beyond its keys: the series and task defaults, the checks of keys that
depend on each other, the data's own reading, and the values and labels that tables,
dashboards and folder names show.
*/
use super::dataset::Spec;
use super::json_to_toml;
use super::keys::{keys_of, RunConfig, Scope};
use super::values::*;
use crate::error::UserError;

/// The filters of series classification's convolutional branch (`conv_filters`).
pub const SERIES_CONV_FILTERS: usize = 64;

impl RunConfig {
    /// The defaults of series data (`ts:`, `csv:`) where they differ from `RunConfig::default`
    /// (MNIST's, which image data keeps), for keys that `given` says were not set: "auto" values
    /// chosen from the data (`data::auto`, `data::patch::auto`); series classification also
    /// jitters its inputs (`noise = "auto"`) and runs a convolutional branch beside the LSTM
    /// (`conv_filters = SERIES_CONV_FILTERS`). The recurrent part stays a one-way LSTM: both
    /// ways (measured over 8 UEA/UCR problems, 3 seeds, before the noise default) won on
    /// JapaneseVowels (97.0 % against 95.9 %), ACSF1 and OSULeaf but lost on GunPoint (91.8
    /// against 96.2), ItalyPowerDemand and ArrowHead, at twice the cost.
    pub fn with_series_defaults(mut self, given: impl Fn(&str) -> bool) -> RunConfig {
        // Forecasts read each window relative to its last value unless told otherwise.
        if self.task == Task::Forecast && !given("normalize") {
            self.normalize = Normalize::Last;
        }
        // Forecasts add a linear highway from the window to the forecasts unless told
        // otherwise: measured on the nine development series of configs/forecast-dev.toml (3
        // seeds, seasons given), it lowered the geometric mean of the LSTM's test MAE over
        // AutoETS's from 1.30 to 1.17 (README, "How well it does").
        if self.task == Task::Forecast && !given("highway") {
            self.highway = true;
        }
        // Forecasts take the season out of the target before the network reads it unless
        // told otherwise: on the ten development series (README, "How well it does"), classical
        // seasonal indices lowered the geometric mean of the LSTM's test MAE over AutoETS's
        // from 1.12 to 1.02, as much as MSTL's seasonal component did (1.03).
        if self.task == Task::Forecast && !given("decompose") {
            self.decompose = Decompose::Classical;
        }
        // Forecasts read a positive target as its logarithm unless told otherwise: on the ten
        // development series (README, "How well it does"), log on the eight positive ones
        // lowered the geometric mean of the LSTM's test MAE over AutoETS's on those eight from
        // 1.07 to 0.92 (lynx 2.23 to 0.88, housing 1.03 to 0.92), hurting none by more than 1 %,
        // and over all ten from 1.024 to 0.905.
        if self.task == Task::Forecast && !given("transform") {
            self.transform = Transform::Auto;
        }
        // Series classification trains on jittered inputs unless told otherwise (measured on
        // 8 UEA/UCR problems, README "Untuned defaults"); numeric tasks train on the values.
        if self.is_series() && self.task == Task::Classify && !given("noise") {
            self.noise = Noise::Auto;
        }
        // Series classification runs a convolutional branch beside the LSTM (LSTM-FCN) unless
        // told otherwise: measured on the 8 development problems, 3 seeds (configs/ucr-parts.toml,
        // paper/ucr-parts), it lifts the mean test accuracy from 82.1 to 86.5 %; mean pooling
        // does not (78.5 alone, 85.6 with the branch), nor did 128 filters (85.9, measured
        // before the noise choice).
        if self.is_series() && self.task == Task::Classify && !given("conv_filters") {
            self.conv_filters = SERIES_CONV_FILTERS;
        }
        // Series classification trains its kept config again on the training and validation
        // series together unless told otherwise, or unless validation chooses its epochs
        // (`keep`, `patience`): measured on the 14 problems of configs/ucr.toml and
        // configs/ucr-holdout.toml (README, "How well it does").
        if self.is_series()
            && self.task == Task::Classify
            && !given("refit")
            && self.epochs_chosen_on_validation().is_none()
        {
            self.refit = true;
        }
        // Numeric series tasks keep their best validation epoch and stop once it is far
        // behind (measured on sunspots, co2 and Covid3Month: README "Untuned defaults");
        // classification keeps its last epoch, which scored higher than any validation choice
        // on the eight UEA/UCR problems, whose validation splits are a few dozen series.
        if self.is_series() && self.task.is_numeric() {
            if !given("keep") {
                self.keep = Keep::BestVal;
            }
            if !given("patience") {
                self.patience = Count::Auto;
            }
        }
        // Series sets choose their counts and reading from the data (`data::auto`).
        if self.is_series() {
            if !given("epochs") {
                self.epochs = Count::Auto;
            }
            if !given("batch_size") {
                self.batch_size = Count::Auto;
            }
            if !given("val_size") {
                self.val_size = Count::Auto;
            }
            if !given("patch") {
                self.patch = Patch::Auto;
            }
        }
        self
    }

    /// Validates every field; used for configs built from command-line flags.
    pub fn validate(&self) -> Result<(), UserError> {
        let flag = |key: &str| format!("--{}", key.replace('_', "-"));
        self.check_keys()
            .map_err(|(key, value, expected)| UserError::Arg {
                flag: flag(key),
                value,
                expected: format!("expected {expected}"),
            })?;
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
        if self.val_split == ValSplit::Group && self.group_column.trim().is_empty() {
            return Err((
                "val_split".into(),
                "val_split = \"group\" without a group_column: expected group_column = \"<the \
                 column naming each series' group>\" (CSV data)"
                    .into(),
            ));
        }
        match (self.val_split == ValSplit::File, self.val_file.trim().is_empty()) {
            (true, true) => {
                return Err((
                    "val_split".into(),
                    "val_split = \"file\" without a val_file: expected val_file = \"<a file of \
                     validation series like the training file>\""
                        .into(),
                ))
            }
            (false, false) => {
                return Err((
                    "val_file".into(),
                    format!(
                        "val_file = {:?}: applies to val_split = \"file\": expected val_split = \"file\" with it",
                        self.val_file
                    ),
                ))
            }
            _ => {}
        }
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
        if self.labels == Labels::Random && self.task != Task::Classify {
            return fault(
                self,
                "labels",
                format!(
                    "\"random\" applies to task = \"classify\", not task = \"{}\"",
                    self.value_text("task")
                ),
            );
        }
        if self.labels == Labels::Random {
            self.epochs_not_chosen_on_validation(
                "labels = \"random\": validation keeps its own labels, so its score would \
                 choose a memorising run's epoch by chance",
            )?;
        }
        let classify_only = [
            ("refit", self.refit),
            ("scale_noise", self.scale_noise > 0.0),
        ];
        if let Some((key, _)) = classify_only.iter().find(|(_, set)| *set) {
            if self.task != Task::Classify {
                return fault(
                    self,
                    key,
                    format!(
                        "applies to task = \"classify\", not task = \"{}\"",
                        self.value_text("task")
                    ),
                );
            }
        }
        if self.scale_noise > 0.0 && !self.is_series() {
            return fault(
                self,
                "scale_noise",
                "expected series data (ts:, csv: or npz:): an image's pixels are no series' \
                 features"
                    .into(),
            );
        }
        if self.refit {
            self.epochs_not_chosen_on_validation(
                "refit = true: the refitted model trains on the validation series, so no \
                 validation score can choose or stop its epochs",
            )?;
        }
        if self.stop_train_acc > 0.0 && self.task != Task::Classify {
            return fault(
                self,
                "stop_train_acc",
                format!(
                    "applies to task = \"classify\" (a training accuracy), not task = \"{}\"",
                    self.value_text("task")
                ),
            );
        }
        let spec = Spec::parse(&self.dataset).ok();
        if self.task == Task::Forecast {
            self.check_forecast_combination(spec)
        } else {
            self.check_other_combination(spec)
        }
    }

    /// `keep` and `patience` at their defaults, which `because` (a setting and why) needs: an
    /// error naming the one that is set.
    fn epochs_not_chosen_on_validation(&self, because: &str) -> Result<(), (String, String)> {
        match self.epochs_chosen_on_validation() {
            Some(key) => fault(self, key, format!("expected its default with {because}")),
            None => Ok(()),
        }
    }

    /// The key by which validation picks or stops the epochs (`keep = "best_val"`, else a
    /// `patience`), if any.
    fn epochs_chosen_on_validation(&self) -> Option<&'static str> {
        if self.keep == Keep::BestVal {
            Some("keep")
        } else if self.patience_set() {
            Some("patience")
        } else {
            None
        }
    }

    /// `check_combination` for forecasting: one series file (`spec`, the dataset parsed), no
    /// CSV key of classification and regression files, no `train_size`, no per-series scaling.
    fn check_forecast_combination(&self, spec: Option<Spec>) -> Result<(), (String, String)> {
        let one_series = matches!(spec, Some(Spec::Series(_)));
        if !one_series {
            return fault(
                self,
                "dataset",
                "expected csv:SERIES.csv (one CSV file holding the series in time order) \
                 with task = \"forecast\""
                    .into(),
            );
        }
        let changed = self.changed_keys();
        let panel = |k: &str| super::keys::key(k).is_some_and(|k| k.scope == Scope::Panel);
        if let Some(key) = keys_of(Scope::Csv).find(|k| changed.contains(k) && !panel(k)) {
            return fault(
                self,
                key,
                "applies to classification and regression CSV files, not to \
                 task = \"forecast\" (name the series with target_column and columns)"
                    .into(),
            );
        }
        if self.train_size != 0 {
            return fault(
                self,
                "train_size",
                "expected 0 with task = \"forecast\" (training takes the stretch before \
                 val_size and test_size)"
                    .into(),
            );
        }
        if matches!(self.normalize, Normalize::Series | Normalize::SeriesStats) {
            return fault(
                self,
                "normalize",
                "expected \"feature\" or \"none\" with task = \"forecast\" (a window \
                 z-scored on its own would lose the level it forecasts from)"
                    .into(),
            );
        }
        Ok(())
    }

    /// `check_combination` for the other tasks: a set of series or images (`spec`, the dataset
    /// parsed), no forecasting key, long-CSV keys only on long CSV files, regression on series.
    fn check_other_combination(&self, spec: Option<Spec>) -> Result<(), (String, String)> {
        let one_series = matches!(spec, Some(Spec::Series(_)));
        let task = self.value_text("task");
        if one_series {
            return fault(
                self,
                "dataset",
                format!(
                    "one file is a series to forecast: expected csv:TRAIN.csv,TEST.csv \
                     with task = \"{task}\", or task = \"forecast\""
                ),
            );
        }
        let changed = self.changed_keys();
        if let Some(key) = keys_of(Scope::Forecast).find(|k| changed.contains(k)) {
            return fault(
                self,
                key,
                format!("applies to task = \"forecast\" only, not task = \"{task}\""),
            );
        }
        if self.csv_layout == CsvLayout::Wide && matches!(spec, Some(Spec::Csv { .. })) {
            if let Some(key) = keys_of(Scope::LongCsv).find(|k| changed.contains(k)) {
                return fault(
                    self,
                    key,
                    "applies to csv_layout = \"long\" only (a column of a file with one \
                     row per timestep), not csv_layout = \"wide\""
                        .into(),
                );
            }
        }
        if self.normalize == Normalize::Last {
            return fault(
                self,
                "normalize",
                format!(
                    "applies to task = \"forecast\" only (windows relative to their last \
                     value), not task = \"{task}\""
                ),
            );
        }
        if self.task == Task::Regress && spec.is_some_and(|s| s.is_images()) {
            return fault(
                self,
                "task",
                format!(
                    "expected series data (ts: or csv:) for regression, not {:?}",
                    self.dataset
                ),
            );
        }
        Ok(())
    }

    /// Whether early stopping on validation is asked for (a patience other than 0).
    fn patience_set(&self) -> bool {
        self.patience != Count::Fixed(0)
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
        match (key, self.patch, self.natural_patch()) {
            ("patch", Patch::Natural, Some(p)) => serde_json::json!(p),
            ("patch", Patch::Natural, None) => serde_json::json!("row"),
            _ => self.raw_value(key).unwrap_or_default(),
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

/// The error of `check_combination` for `key` of `cfg`: the key, and `key = value: expected`.
fn fault(cfg: &RunConfig, key: &str, expected: String) -> Result<(), (String, String)> {
    Err((
        key.to_string(),
        format!("{key} = {}: {expected}", cfg.toml_value(key)),
    ))
}
