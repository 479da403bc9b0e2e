/*!
Every record of a run or sweep folder, as types: what running writes and reporting reads, the
contract between them. `store` owns their files (names, layout, atomic writes, loads that name
the file at fault); this module holds only the shapes, and imports nothing of data, model,
train or the store, so that each of those can use them.
*/
use serde::{Deserialize, Serialize};

pub mod bench;
mod predictions;

pub use predictions::{ensemble_accuracy, Bounds, Confusion, TestPredictions, TestProbabilities};

use crate::config::RunConfig;
use crate::metrics::Errors;

/// Metrics of one finished epoch: one line of `metrics.jsonl`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct EpochMetrics {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Optimizer steps taken so far.
    pub step: usize,
    /// Learning rate of the epoch's last step.
    pub lr: f64,
    /// Mean cross-entropy over the epoch's batches, as trained (weights changing).
    pub train_loss: f64,
    /// Accuracies: classification only (absent, NaN, for numeric tasks).
    #[serde(default = "nan", skip_serializing_if = "is_nan")]
    pub train_acc: f64,
    pub val_loss: f64,
    #[serde(default = "nan", skip_serializing_if = "is_nan")]
    pub val_acc: f64,
    /// Test scores: absent (NaN, None) in the epochs `eval_test = "final"` skips.
    #[serde(default = "nan", skip_serializing_if = "is_nan")]
    pub test_loss: f64,
    #[serde(default = "nan", skip_serializing_if = "is_nan")]
    pub test_acc: f64,
    /// Wall time of the epoch's training steps, evaluation excluded.
    pub train_seconds: f64,
    /// Wall time of the validation and test passes.
    pub eval_seconds: f64,
    /// Numeric tasks: the RMSE over the epoch's batches as trained, and the errors on
    /// validation and test, in the target's units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_rmse: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_errors: Option<Errors>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_errors: Option<Errors>,
}

impl EpochMetrics {
    /// The epoch's scores as progress prints them: `train 0.91, val 0.90, test 0.89`, or the
    /// RMSE of each split (and the test MASE of a forecast) for numeric tasks.
    /// `jittered`: the run trains on noisy inputs (`noise`), so its training accuracy is
    /// measured on them, and says so.
    pub fn scores_text(&self, jittered: bool) -> String {
        match (&self.val_errors, &self.test_errors) {
            (Some(v), t) => format!(
                "RMSE train {}, val {}{}",
                sig(self.train_rmse),
                sig(Some(v.rmse)),
                t.map_or_else(String::new, |t| format!(
                    ", test {}{}",
                    sig(Some(t.rmse)),
                    t.mase
                        .map_or_else(String::new, |m| format!(" (MASE {m:.3})"))
                ))
            ),
            (None, _) => format!(
                "train{} {:.4}, val {:.4}{}",
                if jittered {
                    " (on jittered inputs)"
                } else {
                    ""
                },
                self.train_acc,
                self.val_acc,
                match self.test_loss.is_nan() {
                    true => String::new(),
                    false => format!(", test {:.4}", self.test_acc),
                }
            ),
        }
    }

    /// Whether the epoch scored the test set (`eval_test`).
    pub fn has_test(&self) -> bool {
        !self.test_loss.is_nan()
    }

    /// The validation score that selects an epoch, higher is better: accuracy, or minus the
    /// RMSE for numeric tasks.
    pub fn val_score(&self) -> f64 {
        match &self.val_errors {
            Some(e) => -e.rmse,
            None => self.val_acc,
        }
    }
}

/// The epoch a best-validation selection takes: the first with the best `val_score` (epochs
/// whose score is NaN never win over one that has a score).
pub fn best_val(metrics: &[EpochMetrics]) -> Option<&EpochMetrics> {
    metrics.iter().fold(None, |a, m| match a {
        Some(b) if b.val_score() >= m.val_score() || m.val_score().is_nan() => Some(b),
        _ => Some(m),
    })
}

/// Versions and environment recorded with every result.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Environment {
    pub rowseq: String,
    pub tch: String,
    pub libtorch: String,
    pub device: String,
    pub threads: usize,
    pub git_commit: Option<String>,
    /// The CPU and the widest vector instructions it offers (`env::processor`): on CPU a run's
    /// numbers are bit-identical for a seed and thread count on one kind of CPU (vendor and
    /// instruction set), and MKL's and libtorch's kernels round differently on another: MKL
    /// picks its kernels by both (absent in older records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processor: Option<String>,
    /// The path the model's recurrent layers ran (`env::KernelPath`: `own`, `own-blas` or
    /// `reference`), chosen automatically or forced by ROWSEQ_KERNEL (absent in older records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel: Option<String>,
}

/// The epoch a run kept (`keep`: its weights are the run's model, its scores the result's) and
/// why (`train::keep::record`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Kept {
    pub epoch: usize,
    /// Whether training stopped early (`patience` or `stop_train_acc`), before the epoch budget.
    pub stopped_early: bool,
    /// The reason, in a sentence.
    pub why: String,
}

/// The summary of one finished run: `result.json`, and a row of `results.csv`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct RunResult {
    pub run_id: String,
    /// Readable name, e.g. `units=128,seed=0`.
    pub label: String,
    pub config: RunConfig,
    /// The config that trained, where it differs from `config`: its "auto" values resolved on
    /// the data (`data::auto`; the same as the run's `resolved.json`, kept here so that a
    /// result is whole on its own). `config` stays the run's identity (its hash is the run id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved: Option<crate::config::Resolved>,
    /// Trainable parameters, counted in the VarStore.
    pub params: i64,
    pub epochs: usize,
    /// The epoch whose model the run kept (`kept`; the last one unless `keep = "best_val"`)
    /// and why (absent in results from before it was recorded: the last epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept: Option<Kept>,
    /// The kept epoch's metrics (no selection on the test set). Accuracies are
    /// classification's only: absent (NaN) for numeric tasks, whose errors are in `errors`.
    #[serde(default = "nan", skip_serializing_if = "is_nan")]
    pub test_acc: f64,
    pub test_loss: f64,
    #[serde(default = "nan", skip_serializing_if = "is_nan")]
    pub val_acc: f64,
    pub val_loss: f64,
    #[serde(default = "nan", skip_serializing_if = "is_nan")]
    pub train_acc: f64,
    pub train_loss: f64,
    /// Best validation accuracy over epochs (numeric tasks: lowest validation RMSE, in
    /// `errors`), and its epoch.
    #[serde(default = "nan", skip_serializing_if = "is_nan")]
    pub best_val_acc: f64,
    pub best_val_epoch: usize,
    /// Test accuracy of that epoch (the model validation would select; test accuracy chooses
    /// nothing). Absent in results from before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best_val_test_acc: Option<f64>,
    /// `labels = "random"` or `stop_train_acc`: the kept model's accuracy on its whole
    /// training split (its random labels, if drawn), scored without training's updates: the
    /// share it fitted (memorised, for random labels). Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_fit_acc: Option<f64>,
    /// Series classification: the test accuracy of the 1-nearest-neighbour classifiers on the
    /// same test series, with the Euclidean distance (equal lengths only) and with DTW
    /// (`data::neighbours`). Absent for images, numeric tasks and older results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nn_ed_test_acc: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nn_dtw_test_acc: Option<f64>,
    /// Forecasting: the AutoETS baseline's model (`data::ets`: "A,N,N", "MSTL(52)+M,A,N"),
    /// whose errors are `ets_test_*`. Absent for other tasks and older results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ets_model: Option<String>,
    /// Classification: signs that the run collapsed (`train::collapse`), each a sentence;
    /// absent when there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Series classification with `noise = "auto"`: the candidates the run trained in turn
    /// and the one it kept on validation (`sweep::one`); absent where there was no choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choice: Option<Choice>,
    /// Forecasting: the prediction intervals (`intervals`), each level's half-width per step
    /// ahead and its coverage of the test targets; absent without them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub intervals: Vec<Interval>,
    /// A panel's forecasts: each series' test errors and its baselines' (the `*_test_*`
    /// errors above are their mean over the series); absent for one series.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub series: Vec<SeriesScore>,
    /// Training time summed over epochs, evaluation excluded.
    pub train_seconds: f64,
    pub seconds_per_epoch: f64,
    pub eval_seconds: f64,
    pub train_size: usize,
    pub val_size: usize,
    pub test_size: usize,
    pub env: Environment,
    /// The data the run saw (results from before it was recorded have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<DataInfo>,
    /// Memory of the process that trained the run, read as it finished (absent in results
    /// written before rowseq recorded it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<Memory>,
    /// Numeric tasks: errors in the target's units, and the baselines' (absent for
    /// classification).
    #[serde(flatten)]
    pub errors: ResultErrors,
}

/// A value chosen on validation (`sweep::one`): the key, each candidate the run trained (a
/// whole run of its own, under `<run-id>/candidates/<its id>/`) with its validation scores,
/// and the one kept, whose model, metrics and test scores are the run's.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Choice {
    pub key: String,
    pub candidates: Vec<Candidate>,
    /// Index into `candidates`.
    pub chosen: usize,
    /// The rule, in a sentence.
    pub why: String,
    /// The kept candidate's refit on the training and validation series (`refit`), whose
    /// model and test scores are the run's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refit: Option<Refit>,
}

/// A run's refit (`refit`): the run that trained it (under `<run-id>/refit/`), the series it
/// trained on (training and validation), its training time, and its accuracy on the
/// validation series, which it saw (so not a validation score).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Refit {
    pub run_id: String,
    pub train_size: usize,
    pub train_seconds: f64,
    pub val_acc: f64,
}

/// One candidate of a `Choice`: the key's value, the run that trained it, its kept epoch's
/// validation accuracy and loss, and its training time.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Candidate {
    pub value: f64,
    pub run_id: String,
    pub val_acc: f64,
    pub val_loss: f64,
    pub train_seconds: f64,
}

impl Choice {
    /// The candidate to keep among `scores` (validation accuracy, loss; in the order the
    /// candidates trained): the highest accuracy, then the lowest loss, then the earlier.
    pub fn best(scores: &[(f64, f64)]) -> usize {
        let mut best = 0;
        for (i, &(acc, loss)) in scores.iter().enumerate().skip(1) {
            let (b_acc, b_loss) = scores[best];
            if acc > b_acc || (acc == b_acc && loss < b_loss) {
                best = i;
            }
        }
        best
    }
}

/// One series of a panel, scored on its own test targets with its own MASE scale.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct SeriesScore {
    pub id: String,
    /// The kept model's test errors.
    pub test: crate::metrics::Errors,
    pub naive: crate::metrics::Errors,
    pub snaive: crate::metrics::Errors,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ets: Option<crate::metrics::Errors>,
}

/// One level of a forecast's split-conformal prediction intervals (`metrics::conformal_half_width`):
/// the forecast plus or minus `half_width[k]` for step k + 1 ahead, in the target's units
/// (under `transform = "log"`, in its logarithm's: the forecast times exp(-+ half_width[k])),
/// calibrated on `calibration` validation windows' absolute errors.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Interval {
    /// Percent, e.g. 80.
    pub level: f64,
    pub half_width: Vec<f64>,
    /// The share of the test targets inside their interval: near `level` / 100 when the
    /// validation errors are like the test errors.
    pub test_coverage: f64,
    /// Validation windows whose errors calibrate each step's half-width.
    pub calibration: usize,
    /// False when they are too few for the level (fewer than 100 / (100 - level) - 1): the
    /// half-width is then their largest error, and promises less than the level.
    pub exact: bool,
}

/// The columns of a level's lower and upper bounds in `test_predictions.csv` and `predict`'s
/// output: `lo_80` and `hi_80` for 80 %, `lo_97.5` and `hi_97.5` for 97.5 %.
pub fn interval_columns(level: f64) -> [String; 2] {
    [format!("lo_{level}"), format!("hi_{level}")]
}

/// A numeric run's errors in the target's units, flat in `result.json` as in `results.csv`:
/// final epoch (`test_rmse`, ...), the epoch of lowest validation RMSE (`best_val_*`), and
/// the baselines on the same test examples: the training mean (`const_*`, regression), the
/// naive, seasonal-naive and AutoETS forecasts (`naive_*`, `snaive_*`, `ets_*`, forecasting;
/// `ets_*` absent in older results).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Default)]
pub struct ResultErrors {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_rmse: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_rmse: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_mae: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_mase: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_rmse: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_mae: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_r2: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_mase: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best_val_rmse: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best_val_mase: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best_val_test_rmse: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best_val_test_mase: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub const_test_rmse: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub const_test_mae: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub naive_test_rmse: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub naive_test_mase: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snaive_test_rmse: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snaive_test_mase: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ets_test_rmse: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ets_test_mae: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ets_test_mase: Option<f64>,
}

fn nan() -> f64 {
    f64::NAN
}

fn is_nan(v: &f64) -> bool {
    v.is_nan()
}

impl RunResult {
    /// The config that trained: `resolved` where "auto" values were resolved, else `config`.
    /// The resolved config of this result: its `resolved`, or its `config` where that had no
    /// "auto" (None only for an edited record).
    pub fn trained(&self) -> Option<crate::config::Resolved> {
        match &self.resolved {
            Some(r) => Some(r.clone()),
            None => crate::config::Resolved::new(self.config.clone()).ok(),
        }
    }

    pub fn effective(&self) -> &RunConfig {
        self.resolved
            .as_ref()
            .map_or(&self.config, crate::config::Resolved::config)
    }

    /// The test accuracy that `select` reports: the last epoch's, or that of the first epoch
    /// with the best validation accuracy (None in results from before it was recorded).
    pub fn selected_test_acc(&self, select: crate::config::Select) -> Option<f64> {
        match select {
            crate::config::Select::Last => Some(self.test_acc),
            crate::config::Select::BestVal => self.best_val_test_acc,
        }
    }

    /// Numeric tasks: the validation error beside `selected_test_error` (MASE or RMSE, of the
    /// final epoch, or the best validation epoch's RMSE).
    pub fn selected_val_error(&self, select: crate::config::Select) -> Option<f64> {
        let e = &self.errors;
        match (self.config.task, select) {
            (crate::config::Task::Classify, _) => None,
            (crate::config::Task::Forecast, crate::config::Select::Last) => e.val_mase,
            (crate::config::Task::Forecast, crate::config::Select::BestVal) => e.best_val_mase,
            (_, crate::config::Select::Last) => e.val_rmse,
            (_, crate::config::Select::BestVal) => e.best_val_rmse,
        }
    }

    /// Numeric tasks: the test error that `select` reports, the task's headline: MASE for
    /// forecasts, RMSE for regression (None for classification).
    pub fn selected_test_error(&self, select: crate::config::Select) -> Option<f64> {
        let e = &self.errors;
        match (self.config.task, select) {
            (crate::config::Task::Classify, _) => None,
            (crate::config::Task::Forecast, crate::config::Select::Last) => e.test_mase,
            (crate::config::Task::Forecast, crate::config::Select::BestVal) => e.best_val_test_mase,
            (_, crate::config::Select::Last) => e.test_rmse,
            (_, crate::config::Select::BestVal) => e.best_val_test_rmse,
        }
    }

    /// The run's scores in one phrase, as progress and the closing lines print them:
    /// `test 0.9812, val 0.9790`, or `test RMSE 12.3 (MASE 0.812), val RMSE 11.9`.
    pub fn headline(&self) -> String {
        let e = &self.errors;
        match self.config.task {
            crate::config::Task::Classify => {
                format!("test {:.4}, val {:.4}", self.test_acc, self.val_acc)
            }
            task => format!(
                "test RMSE {}{}, val RMSE {}",
                sig(e.test_rmse),
                match task {
                    crate::config::Task::Forecast =>
                        format!(" (MASE {:.3})", e.test_mase.unwrap_or(f64::NAN)),
                    _ => format!(" (R² {:.3})", e.test_r2.unwrap_or(f64::NAN)),
                },
                sig(e.val_rmse)
            ),
        }
    }
}

/// An error in a target's units, to 4 significant digits (`-` for none).
pub fn sig(v: Option<f64>) -> String {
    match v {
        Some(v) if v.is_finite() && v != 0.0 => {
            let digits = (3 - v.abs().log10().floor() as i32).clamp(0, 12) as usize;
            format!("{v:.digits$}")
        }
        Some(v) => format!("{v}"),
        None => "-".into(),
    }
}

/// The shape and classes of a run's data, and its final test accuracy per class.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct DataInfo {
    /// T: timesteps (the longest sequence; shorter ones are padded and masked).
    pub timesteps: i64,
    /// F: features per timestep.
    pub features: i64,
    /// Class names in class-index order.
    pub class_names: Vec<String>,
    /// Rows of images (pixels), as opposed to other sequences.
    #[serde(default)]
    pub images: bool,
    /// Final-epoch test accuracy of each class, in class-index order.
    pub test_per_class: Vec<ClassAccuracy>,
    /// Values (pixels, for images) per timestep the run read (`patch`, resolved), so that
    /// `predict` reads new data as the run did; absent in results from before patches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch: Option<usize>,
    /// Numeric tasks: the name of the target (a CSV column, or "target" in a .ts file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Series sets (`ts:`, `csv:`): the SHA-256 of the training file the run read, which
    /// `predict` reads again (its classes and scaling): a changed file is refused (absent in
    /// results from before it was recorded, and for other data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_sha256: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ClassAccuracy {
    pub class: String,
    /// Test examples of the class, and how many the model got right.
    pub examples: usize,
    pub correct: usize,
}

/// How a run's series were scaled: `normalization.json` (series data only). For `feature`,
/// the per-feature mean and std of its training split (real timesteps only), applied to
/// training, validation and test: new data for the run is scaled with these.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Normalization {
    pub kind: crate::config::Normalize,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mean: Vec<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub std: Vec<f64>,
    /// Numeric tasks: the target's training mean and std (predictions are z-scores of it; a
    /// forecast read as its logarithm, `transform = "log"`: the logarithm's, as are `mean` and
    /// `std`'s entries for the target and a panel's `series`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_mean: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_std: Option<f64>,
    /// Forecasting: the columns read, in the order of `mean` and `std` (`predict` reads new
    /// series by these names).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<String>,
    /// A panel's forecasts: each series' own statistics, by id (`mean` and `std` above are the
    /// first series'); empty for one series.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub series: Vec<SeriesStats>,
    /// `series_stats`: how each series' own mean and log std became inputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats_inputs: Option<StatsInputs>,
}

/// Under `normalize = "series_stats"`, per feature: a series' mean m and std s become the
/// inputs (m - level_mean) / level_std and (ln(s + spread_floor) - spread_mean) / spread_std,
/// the means and (population) stds over the training split's series (at least a hundredth of
/// the feature's std over the training split, and 0.01); `spread_floor` is a thousandth of
/// that feature's std, so a constant series has a finite log spread.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct StatsInputs {
    pub level_mean: Vec<f64>,
    pub level_std: Vec<f64>,
    pub spread_floor: Vec<f64>,
    pub spread_mean: Vec<f64>,
    pub spread_std: Vec<f64>,
}

/// One series of a panel: its id and the per-variable mean and std of its training stretch (the
/// target's logarithm's under `transform = "log"`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct SeriesStats {
    pub id: String,
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
}

impl Normalization {
    /// A normalisation without statistics (`series`, `none`).
    pub fn of(kind: crate::config::Normalize) -> Normalization {
        Normalization {
            kind,
            mean: Vec::new(),
            std: Vec::new(),
            target_mean: None,
            target_std: None,
            columns: Vec::new(),
            series: Vec::new(),
            stats_inputs: None,
        }
    }
}

/// A run that successive halving stopped at a rung (`stopped.json`): not failed, and not
/// trained on; its metrics and checkpoint stay as they were at the rung.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Stopped {
    pub run_id: String,
    pub label: String,
    /// The rung (0 first) and its epoch, where the run's validation score ranked below the
    /// best `1 / reduction_factor` of the runs there.
    pub rung: usize,
    pub epoch: usize,
    /// Its validation score there (accuracy; minus the RMSE for numeric tasks), if any.
    pub val_score: Option<f64>,
    /// Runs at the rung and runs that went on.
    pub at_rung: usize,
    pub promoted: usize,
    /// The search that decided it: its grace period and reduction factor, and the epoch of
    /// every rung up to the budget (None in records from before they were kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asha: Option<crate::config::Asha>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rungs: Vec<usize>,
}

/// Why a run failed: `failed.json`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Failure {
    pub run_id: String,
    pub label: String,
    pub error: String,
}

/// A process's memory, from /proc/self/status (`env::memory`).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
pub struct Memory {
    /// Resident set size now (VmRSS), MiB.
    pub rss_mib: f64,
    /// The highest resident set size of the process so far (VmHWM), MiB.
    pub peak_rss_mib: f64,
}

/// What `sweep.json` says about a sweep.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct SweepRecord {
    pub name: String,
    /// Which epoch's test accuracy tables and figures show (absent: the last).
    #[serde(default, skip_serializing_if = "is_last")]
    pub select: crate::config::Select,
    pub grid: std::collections::BTreeMap<String, Vec<toml::Value>>,
    /// A search's method, trials, seed and ranges (absent for a grid): with the grid, what
    /// redraws the same trials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<crate::config::Search>,
    /// Keys with more than one value.
    pub swept: Vec<String>,
    /// Run ids in plan order.
    pub runs: Vec<String>,
    /// The command line that last ran this sweep.
    pub command: String,
}

fn is_last(select: &crate::config::Select) -> bool {
    *select == crate::config::Select::Last
}

/// The non-tensor part of a checkpoint (`checkpoint.safetensors`, `store::Checkpoint`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct CheckpointState {
    /// Epochs finished.
    pub epoch: usize,
    /// Optimizer updates applied (Adam's bias correction depends on it).
    pub adam_step: i64,
    pub metrics: Vec<EpochMetrics>,
    /// The run's thread count, which its resumption keeps (absent in older checkpoints).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<usize>,
    /// The run it belongs to: its id and the SHA-256 of its config's JSON (`store::run_id`), so
    /// that a run never resumes from another run's checkpoint (absent in older checkpoints,
    /// which are refused: a run resumes only from a checkpoint shown to be its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_sha256: Option<String>,
}

/// Epochs with the given validation accuracies and every other metric fixed: what the
/// selection and early-stopping tests read (`best_val`, `train::keep`).
#[cfg(test)]
pub(crate) fn val_curve(accs: &[f64]) -> Vec<EpochMetrics> {
    accs.iter()
        .enumerate()
        .map(|(i, &val_acc)| EpochMetrics {
            epoch: i + 1,
            step: i + 1,
            lr: 0.1,
            train_loss: 1.0,
            train_acc: 0.5,
            val_loss: 1.0,
            val_acc,
            test_loss: 1.0,
            test_acc: 0.5,
            train_seconds: 1.0,
            eval_seconds: 0.0,
            train_rmse: None,
            val_errors: None,
            test_errors: None,
        })
        .collect()
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_choice_keeps_the_higher_accuracy_then_the_lower_loss_then_the_first() {
        use super::Choice;
        assert_eq!(Choice::best(&[(0.8, 0.5), (0.9, 0.7)]), 1);
        assert_eq!(Choice::best(&[(0.9, 0.5), (0.8, 0.1)]), 0);
        assert_eq!(Choice::best(&[(0.9, 0.5), (0.9, 0.4)]), 1);
        assert_eq!(Choice::best(&[(0.9, 0.5), (0.9, 0.5)]), 0);
        assert_eq!(Choice::best(&[(0.7, 0.5)]), 0);
    }

    #[test]
    fn the_confusion_matrix_counts_the_ensembles_predictions() {
        // Two runs over four examples of classes a, b, c: the ensemble sums their
        // probabilities, so example 2 (a run for b at 0.6, a run for c at 0.9) goes to c.
        let run = |p: [[f32; 3]; 4]| TestProbabilities {
            class_names: vec!["a".into(), "b".into(), "c".into()],
            truth: vec![0, 1, 1, 2],
            probabilities: p.iter().map(|r| r.to_vec()).collect(),
        };
        let one = run([
            [0.8, 0.1, 0.1],
            [0.1, 0.8, 0.1],
            [0.2, 0.6, 0.2],
            [0.5, 0.2, 0.3],
        ]);
        let two = run([
            [0.7, 0.2, 0.1],
            [0.2, 0.7, 0.1],
            [0.0, 0.1, 0.9],
            [0.4, 0.1, 0.5],
        ]);
        let c = Confusion::of_ensemble(&[&one, &two]).unwrap();
        assert_eq!(c.counts, vec![vec![1, 0, 0], vec![0, 1, 1], vec![1, 0, 0]]);
        assert_eq!(ensemble_accuracy(&[&one, &two]), Some(0.5));
        // One run alone: its own predictions.
        let c = Confusion::of_ensemble(&[&one]).unwrap();
        assert_eq!(c.counts, vec![vec![1, 0, 0], vec![0, 2, 0], vec![1, 0, 0]]);
        // Runs over other examples make no ensemble.
        let other = TestProbabilities {
            truth: vec![0, 1, 1, 1],
            ..two.clone()
        };
        assert_eq!(Confusion::of_ensemble(&[&one, &other]), None);
    }
    use super::*;

    #[test]
    fn metrics_round_trip_through_json_to_the_bit() {
        // A resumed run re-serialises its restored epochs: a lossy parse changed the last
        // digit of values such as this one.
        let m = EpochMetrics {
            epoch: 1,
            step: 10,
            lr: 0.0029999999999999996,
            train_loss: 0.23866666666666667,
            train_acc: 0.1 + 0.2,
            val_loss: 1e-300,
            val_acc: 0.9166666666666666,
            test_loss: 2.302585092994047,
            test_acc: 0.8888888888888888,
            train_seconds: 1.0,
            eval_seconds: 0.1,
            train_rmse: None,
            val_errors: None,
            test_errors: None,
        };
        let json = serde_json::to_string(&m).unwrap();
        let back: EpochMetrics = serde_json::from_str(&json).unwrap();
        assert_eq!(serde_json::to_string(&back).unwrap(), json);
        assert_eq!(back.train_loss.to_bits(), m.train_loss.to_bits());
        assert!(json.contains("0.23866666666666667"), "{json}");
        // An epoch that skipped the test set leaves its test scores out, and reads back NaN.
        let skipped = EpochMetrics {
            test_loss: f64::NAN,
            test_acc: f64::NAN,
            ..m
        };
        let json = serde_json::to_string(&skipped).unwrap();
        assert!(!json.contains("test"), "{json}");
        let back: EpochMetrics = serde_json::from_str(&json).unwrap();
        assert!(!back.has_test() && back.test_acc.is_nan());
        assert_eq!(back.scores_text(false), "train 0.3000, val 0.9167");
        assert_eq!(
            back.scores_text(true),
            "train (on jittered inputs) 0.3000, val 0.9167"
        );
    }

    #[test]
    fn test_probabilities_round_trip_and_make_an_ensemble() {
        let run = |p: [[f32; 2]; 3]| TestProbabilities {
            class_names: vec!["a,b".into(), "c".into()],
            truth: vec![0, 1, 1],
            probabilities: p.iter().map(|r| r.to_vec()).collect(),
        };
        let a = run([[0.9, 0.1], [0.6, 0.4], [0.45, 0.55]]);
        let b = run([[0.2, 0.8], [0.3, 0.7], [0.7, 0.3]]);
        let text = a.to_csv().unwrap();
        assert_eq!(TestProbabilities::from_csv(&text), Ok(a.clone()));
        // Alone: 2 of 3 right. Together the means are (0.55, 0.45), (0.45, 0.55), (0.575,
        // 0.425): the first two right, the third wrong.
        assert_eq!(ensemble_accuracy(&[&a]), Some(2.0 / 3.0));
        assert_eq!(ensemble_accuracy(&[&b]), Some(1.0 / 3.0));
        assert_eq!(ensemble_accuracy(&[&a, &b]), Some(2.0 / 3.0));
        let mut other = b.clone();
        other.truth[0] = 1;
        assert_eq!(ensemble_accuracy(&[&a, &other]), None, "another test set");
        assert_eq!(ensemble_accuracy(&[]), None);
        assert!(TestProbabilities::from_csv(b"index,class,p_a\n0,z,0.5\n").is_err());
        assert!(TestProbabilities::from_csv(b"index,class,p_a\n0,a,x\n").is_err());
    }

    #[test]
    fn best_val_is_the_first_best_and_never_a_nan() {
        let best = |accs: &[f64]| best_val(&val_curve(accs)).map(|b| b.epoch);
        assert_eq!(best(&[]), None);
        assert_eq!(best(&[0.5, 0.7, 0.7, 0.6]), Some(2));
        assert_eq!(best(&[f64::NAN, 0.2, f64::NAN]), Some(2));
        assert_eq!(best(&[f64::NAN, f64::NAN]), Some(1));
    }
}
