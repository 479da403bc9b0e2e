/*!
What a report is made of, read from a sweep folder: the sweep record, the finished results, the
per-epoch metrics, and the planned runs that have no result (failed, interrupted or never run).
Runs that differ only in their seed are one row, summarised as mean and sample std over seeds.
*/
use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;

use crate::config::Task;
use crate::config::{RunConfig, Select, SweepConfig};
use crate::error::UserError;
use crate::model::Arch;
use crate::records::{RunResult, SweepRecord, TestPredictions, TestProbabilities};
use crate::store::{self, RunDir};
use crate::summary::Stat;

mod rows;

/// The data of a sweep's runs: T, F (the LSTM's input size I) and the classes, from the first
/// result that recorded them; results from before they were recorded are MNIST's.
#[derive(Clone, Debug, PartialEq)]
pub struct Shape {
    pub timesteps: i64,
    pub input: i64,
    pub class_names: Vec<String>,
    pub images: bool,
    /// The first result's task; numeric tasks' head outputs (1, or the horizon) and target.
    pub task: Task,
    pub outputs: i64,
    pub target: Option<String>,
}

impl Shape {
    fn of(results: &[RunResult]) -> Shape {
        let task = results.first().map_or(Task::Classify, |r| r.config.task);
        let outputs = match task {
            Task::Forecast => results[0].config.horizon as i64,
            _ => 1,
        };
        match results.iter().find_map(|r| r.data.as_ref()) {
            Some(d) => Shape {
                timesteps: d.timesteps,
                input: d.features,
                class_names: d.class_names.clone(),
                images: d.images,
                task,
                outputs,
                target: d.target.clone(),
            },
            None => Shape {
                timesteps: 28,
                input: 28,
                class_names: (0..10).map(|d| d.to_string()).collect(),
                images: true,
                task,
                outputs,
                target: None,
            },
        }
    }

    /// Outputs of the head: classes, or target values for numeric tasks.
    pub fn classes(&self) -> i64 {
        match self.task {
            Task::Classify => self.class_names.len() as i64,
            _ => self.outputs,
        }
    }
}

/// One configuration over its seeds.
#[derive(Clone, Debug)]
pub struct Row {
    /// Index into `Inputs::variants`.
    pub variant: usize,
    pub num_units: i64,
    /// The model (with the row's input and the report's class counts).
    pub arch: Arch,
    /// T, the timesteps the row's runs read (after patching), when a result recorded it.
    pub timesteps: Option<i64>,
    pub params: i64,
    pub test_acc: Stat,
    pub val_acc: Stat,
    pub seconds_per_epoch: Stat,
    /// Seeds with a result.
    pub seeds: Vec<u64>,
    /// Runs planned for this row (seeds), finished or not.
    pub planned: usize,
    /// Epochs of the runs (the config's, "auto" before any finished).
    pub epochs: String,
    /// Per-epoch means over the seeds whose metrics could be read.
    pub curve: Vec<EpochMean>,
    /// Final test accuracy per class (class-index order), pooled over the seeds whose result
    /// recorded it; empty when none did.
    pub per_class: Vec<f64>,
    /// Numeric tasks: the test and validation error `select` reports (MASE for forecasts, RMSE
    /// for regression), and the baselines' mean test errors by name.
    pub test_error: Stat,
    pub val_error: Stat,
    /// Numeric tasks: the test RMSE `select` reports.
    pub test_rmse: Stat,
    pub baselines: Vec<(&'static str, f64)>,
    /// Classification over two or more seeds whose runs all recorded their test
    /// probabilities: the test accuracy of their ensemble (the mean probabilities' argmax).
    pub ensemble_acc: Option<f64>,
    /// Classification whose runs all recorded their test probabilities: the confusion matrix
    /// of their ensemble (of the one run, for one seed).
    pub confusion: Option<crate::records::Confusion>,
    /// Regression and forecasting: the recorded test predictions of the row's runs that have
    /// them, in seed order, read once for the ensemble, the test figure and the MASE-by-step
    /// table.
    pub test_predictions: Vec<RunPredictions>,
    /// Regression and forecasting over two or more seeds whose runs all recorded their test
    /// predictions: the headline error (MASE, RMSE) of their mean prediction.
    pub ensemble_error: Option<f64>,
}

/// A numeric run's recorded test predictions, and MASE's scale for a forecast (its result's
/// test MAE over its test MASE).
#[derive(Clone, Debug)]
pub struct RunPredictions {
    pub predictions: TestPredictions,
    pub mase_scale: Option<f64>,
}

/// Per-epoch metrics averaged over seeds.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochMean {
    pub epoch: usize,
    pub val_acc: f64,
    pub train_loss: f64,
    /// Numeric tasks: the validation MASE (forecasts) or RMSE (NaN for classification).
    pub val_error: f64,
}

/// A planned run with no result.
#[derive(Clone, Debug)]
pub struct Missing {
    pub run_id: String,
    pub label: String,
    /// "failed: <reason>", "incomplete ..." or "not run".
    pub status: String,
}

pub struct Inputs {
    /// The sweep's name (from sweep.json, else the folder name).
    pub name: String,
    pub record: Option<SweepRecord>,
    /// Which epoch's test accuracy the rows hold (and every caption names).
    pub select: Select,
    pub results: Vec<RunResult>,
    /// Labels of the non-seed, non-width settings that distinguish rows ("" when only
    /// num_units and seed are swept).
    pub variants: Vec<String>,
    pub rows: Vec<Row>,
    /// T, F and classes of the data.
    pub shape: Shape,
    pub missing: Vec<Missing>,
    /// Runs whose metrics.jsonl is missing, unreadable or not one record per epoch of their
    /// result (left out of the learning curves).
    pub no_metrics: Vec<String>,
}

impl Inputs {
    /// Reads the sweep folder: its record, its results, its planned runs, and the rows they make.
    pub fn load(sweep_dir: &Path, select: Option<Select>) -> Result<Inputs> {
        if !sweep_dir.is_dir() {
            return Err(UserError::store(sweep_dir, "no such sweep folder").into());
        }
        let record = load_record(sweep_dir)?;
        let select = select
            .or(record.as_ref().map(|r| r.select))
            .unwrap_or_default();
        let results = store::load_results(sweep_dir)?;
        if results.is_empty() {
            return Err(UserError::store(sweep_dir, no_results_message(record.as_ref())).into());
        }
        let name = sweep_name(sweep_dir, record.as_ref());
        let planned = match &record {
            None => Vec::new(),
            Some(r) => planned_runs(sweep_dir, r)?,
        };

        let variant_keys = variant_keys(record.as_ref().map(|r| &r.swept[..]), &results);
        let shape = Shape::of(&results);
        let rows::Rows {
            variants,
            rows,
            no_metrics,
        } = rows::rows(
            &rows::Sweep {
                dir: sweep_dir,
                results: &results,
                planned: &planned,
                shape: &shape,
                select,
            },
            &variant_keys,
        );
        let missing = missing_runs(sweep_dir, &planned);

        Ok(Inputs {
            name,
            record,
            select,
            results,
            variants,
            rows,
            shape,
            missing,
            no_metrics,
        })
    }

    /// Rows that have at least one result.
    pub fn finished_rows(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| !r.seeds.is_empty())
    }

    /// How many seeds the rows with results have: "3", or "2–3" when they differ.
    pub fn seed_counts(&self) -> String {
        let n: Vec<usize> = self.finished_rows().map(|r| r.seeds.len()).collect();
        let (lo, hi) = (
            n.iter().copied().min().unwrap_or(0),
            n.iter().copied().max().unwrap_or(0),
        );
        if lo == hi {
            lo.to_string()
        } else {
            format!("{lo}–{hi}")
        }
    }

    /// The devices the results were measured on, e.g. "cpu (2 threads)".
    pub fn devices(&self) -> String {
        let mut d: BTreeMap<String, usize> = BTreeMap::new();
        for r in &self.results {
            *d.entry(format!(
                "{} ({} thread{})",
                r.env.device,
                r.env.threads,
                if r.env.threads == 1 { "" } else { "s" }
            ))
            .or_default() += 1;
        }
        d.into_keys().collect::<Vec<_>>().join(", ")
    }
}

/// A planned run: its id, its config (when known) and its label.
type Planned = (String, Option<RunConfig>, String);

/// The sweep record, when there is one: whatever is in sweep.json's place is read (a FIFO is
/// refused, never taken for none).
fn load_record(sweep_dir: &Path) -> Result<Option<SweepRecord>> {
    Ok(
        if std::fs::symlink_metadata(sweep_dir.join(store::SWEEP)).is_ok() {
            Some(store::load_sweep(sweep_dir)?)
        } else {
            None
        },
    )
}

/// Why a folder with no result makes no report: it is no sweep, or none of its runs finished.
fn no_results_message(record: Option<&SweepRecord>) -> String {
    match record {
        None => "not a rowseq sweep folder (no sweep.json and no <run-id>/result.json)".to_string(),
        Some(r) => format!(
            "sweep '{}' has no finished run yet ({} planned, none has a result.json)",
            r.name,
            r.runs.len()
        ),
    }
}

/// The sweep's name: from sweep.json, else the folder name.
fn sweep_name(sweep_dir: &Path, record: Option<&SweepRecord>) -> String {
    record.map(|r| r.name.clone()).unwrap_or_else(|| {
        sweep_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    })
}

/// The planned runs: ids from sweep.json, configs from re-expanding its grid, or from the
/// run's config.json when the grid no longer expands to that id.
fn planned_runs(sweep_dir: &Path, r: &SweepRecord) -> Result<Vec<Planned>> {
    let origin = sweep_dir.join(store::SWEEP).display().to_string();
    let grid = SweepConfig::checked(&r.name, r.select, &r.grid, r.search.as_ref(), &origin)?;
    let swept = grid.swept_keys();
    let expanded: Vec<(String, RunConfig)> = grid
        .runs()
        .into_iter()
        .map(|c| (store::run_id(&c), c))
        .collect();
    Ok(r.runs
        .iter()
        .map(|id| {
            if let Some((_, c)) = expanded.iter().find(|(i, _)| i == id) {
                return (id.clone(), Some(c.clone()), c.label(&swept));
            }
            let cfg = store::RunDir::new(sweep_dir, id).config().ok();
            let label = cfg
                .as_ref()
                .map(|c| c.label(&r.swept))
                .unwrap_or_else(|| "(config unknown)".to_string());
            (id.clone(), cfg, label)
        })
        .collect())
}

/// The planned runs that have not finished, with why.
fn missing_runs(sweep_dir: &Path, planned: &[Planned]) -> Vec<Missing> {
    planned
        .iter()
        .filter(|(id, _, _)| RunDir::new(sweep_dir, id).finished().is_none())
        .map(|(id, _, label)| Missing {
            run_id: id.clone(),
            label: label.clone(),
            status: missing_status(&sweep_dir.join(id)),
        })
        .collect()
}

/// `lr=0.01,epochs=3` for the given keys; "" when there are none.
fn variant_label(cfg: &RunConfig, keys: &[String]) -> String {
    keys.iter()
        .map(|k| format!("{k}={}", cfg.value_text(k)))
        .collect::<Vec<_>>()
        .join(",")
}

/// The keys whose values label the series (besides num_units and seed), in `RUN_KEYS` order:
/// those the sweep varies, and any other on which the results on disk differ (runs left from
/// an earlier grid, or `rowseq train` runs of other cells in one folder), so that runs of
/// different models are never drawn as one line.
fn variant_keys(swept: Option<&[String]>, results: &[RunResult]) -> Vec<String> {
    let varying = varying_keys(results);
    crate::config::RUN_KEYS
        .iter()
        .map(|k| k.to_string())
        .filter(|k| k != "num_units" && k != "seed")
        .filter(|k| swept.is_some_and(|s| s.contains(k)) || varying.contains(k))
        .collect()
}

/// Config keys whose values differ between results.
fn varying_keys(results: &[RunResult]) -> Vec<String> {
    crate::config::RUN_KEYS
        .iter()
        .filter(|k| {
            results
                .iter()
                .any(|r| r.config.value(k) != results[0].config.value(k))
        })
        .map(|k| k.to_string())
        .collect()
}

/// Means per epoch over runs (each epoch over the runs that reached it).
fn mean_curve(runs: &[Vec<crate::records::EpochMetrics>]) -> Vec<EpochMean> {
    let longest = runs.iter().map(Vec::len).max().unwrap_or(0);
    (0..longest)
        .map(|i| {
            let at: Vec<_> = runs.iter().filter_map(|m| m.get(i)).collect();
            let n = at.len() as f64;
            EpochMean {
                epoch: at[0].epoch,
                val_acc: at.iter().map(|m| m.val_acc).sum::<f64>() / n,
                train_loss: at.iter().map(|m| m.train_loss).sum::<f64>() / n,
                val_error: at
                    .iter()
                    .map(|m| m.val_errors.map_or(f64::NAN, |e| e.mase.unwrap_or(e.rmse)))
                    .sum::<f64>()
                    / n,
            }
        })
        .collect()
}

/// Why a planned run has no result.
fn missing_status(run_dir: &Path) -> String {
    let run = RunDir {
        path: run_dir.to_path_buf(),
    };
    if let Some(reason) = run.failed() {
        // One line: the reason may hold a chain of causes over several lines.
        return format!(
            "failed: {}",
            reason.split_whitespace().collect::<Vec<_>>().join(" ")
        );
    }
    if let Some(s) = run.stopped() {
        return format!(
            "stopped by successive halving at rung {} (epoch {}, validation score {})",
            s.rung,
            s.epoch,
            s.val_score
                .map_or_else(|| "none".to_string(), |v| format!("{v:.4}"))
        );
    }
    if run_dir.is_dir() {
        "incomplete: no result.json (interrupted, or still running)".to_string()
    } else {
        "not run".to_string()
    }
}

/// Per-class test accuracy pooled over the results that recorded it.
fn per_class(results: &[&RunResult]) -> Vec<f64> {
    let mut sums: Vec<(usize, usize)> = Vec::new();
    for d in results.iter().filter_map(|r| r.data.as_ref()) {
        if sums.is_empty() {
            sums = vec![(0, 0); d.test_per_class.len()];
        }
        for (s, c) in sums.iter_mut().zip(&d.test_per_class) {
            s.0 += c.correct;
            s.1 += c.examples;
        }
    }
    sums.iter()
        .map(|&(correct, n)| {
            if n == 0 {
                f64::NAN
            } else {
                correct as f64 / n as f64
            }
        })
        .collect()
}

/// The recorded test predictions of the runs of a regression or forecast that have them (none
/// for classification), each with its MASE scale.
fn test_predictions(sweep_dir: &Path, runs: &[&RunResult]) -> Vec<RunPredictions> {
    if runs.first().is_none_or(|r| r.config.task == Task::Classify) {
        return Vec::new();
    }
    runs.iter()
        .filter_map(|r| {
            let predictions = RunDir::new(sweep_dir, &r.run_id)
                .test_predictions()
                .ok()
                .flatten()?;
            let e = &r.errors;
            let mase_scale = e.test_mae.zip(e.test_mase).map(|(mae, mase)| mae / mase);
            Some(RunPredictions {
                predictions,
                mase_scale,
            })
        })
        .collect()
}

/// Regression and forecasting over two or more seeds: the headline error of the mean of the
/// `runs` runs' test predictions: MASE for forecasts (MAE over the first run's scale), RMSE
/// for regression. None where a run recorded none, or the runs' targets differ.
fn ensemble_error(runs: usize, recorded: &[RunPredictions]) -> Option<f64> {
    if runs < 2 || recorded.len() != runs {
        return None;
    }
    let each: Vec<&TestPredictions> = recorded.iter().map(|r| &r.predictions).collect();
    let truth = &each[0].truth;
    if each
        .iter()
        .any(|p| p.truth != *truth || p.predicted.len() != truth.len())
    {
        return None;
    }
    let mean: Vec<f64> = (0..truth.len())
        .map(|i| each.iter().map(|p| p.predicted[i]).sum::<f64>() / each.len() as f64)
        .collect();
    let errors = crate::metrics::Errors::of(&mean, truth);
    match each[0].at {
        Some(_) => Some(errors.mae / recorded[0].mase_scale?),
        None => Some(errors.rmse),
    }
}

/// The recorded test probabilities of every run of `runs`, for classification; None where a
/// run recorded none (older runs did not).
fn ensemble(sweep_dir: &Path, runs: &[&RunResult]) -> Option<Vec<TestProbabilities>> {
    if runs.is_empty() || runs[0].config.task != Task::Classify {
        return None;
    }
    runs.iter()
        .map(|r| {
            RunDir::new(sweep_dir, &r.run_id)
                .test_probabilities()
                .ok()
                .flatten()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::EpochMetrics;

    fn epoch(epoch: usize, val_acc: f64, train_loss: f64) -> EpochMetrics {
        EpochMetrics {
            epoch,
            step: epoch * 10,
            lr: 1e-3,
            train_loss,
            train_acc: 0.0,
            val_loss: 0.0,
            val_acc,
            test_loss: 0.0,
            test_acc: 0.0,
            train_seconds: 1.0,
            eval_seconds: 0.1,
            train_rmse: None,
            val_errors: None,
            test_errors: None,
        }
    }

    #[test]
    fn curves_average_each_epoch_over_the_runs_that_reached_it() {
        let a = vec![epoch(1, 0.5, 1.0), epoch(2, 0.7, 0.5)];
        let b = vec![epoch(1, 0.7, 2.0)];
        let m = mean_curve(&[a, b]);
        assert_eq!(m.len(), 2);
        assert!((m[0].val_acc - 0.6).abs() < 1e-12);
        assert!((m[0].train_loss - 1.5).abs() < 1e-12);
        assert_eq!(m[1].val_acc, 0.7);
    }

    fn result(config: RunConfig) -> RunResult {
        serde_json::from_value(serde_json::json!({
            "run_id": "x", "label": "x", "config": config, "params": 1, "epochs": 1,
            "test_acc": 0.5, "test_loss": 1.0, "val_acc": 0.5, "val_loss": 1.0,
            "train_acc": 0.5, "train_loss": 1.0, "best_val_acc": 0.5, "best_val_epoch": 1,
            "train_seconds": 1.0, "seconds_per_epoch": 1.0, "eval_seconds": 0.1,
            "train_size": 1, "val_size": 1, "test_size": 1,
            "env": {"rowseq": "0", "tch": "0", "libtorch": "0", "device": "cpu", "threads": 1,
                    "git_commit": null}
        }))
        .unwrap()
    }

    #[test]
    fn results_of_other_models_are_other_series() {
        let lstm = RunConfig::default();
        let gru = RunConfig {
            cell: crate::config::Cell::Gru,
            ..RunConfig::default()
        };
        let wide = RunConfig {
            num_units: 256,
            ..RunConfig::default()
        };
        // Two `rowseq train` runs in one folder: its sweep.json varies nothing.
        let results = [result(lstm.clone()), result(gru)];
        assert_eq!(variant_keys(Some(&[]), &results), ["cell"]);
        assert_eq!(variant_keys(None, &results), ["cell"]);
        // Widths and seeds are the x axis and the error bars, not series.
        let results = [result(lstm), result(wide)];
        assert!(variant_keys(Some(&["num_units".into()]), &results).is_empty());
        let swept = ["seed".to_string(), "lr".to_string()];
        assert_eq!(variant_keys(Some(&swept), &results), ["lr"]);
    }

    #[test]
    fn a_missing_run_says_why() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(missing_status(&dir.path().join("nope")), "not run");
        assert!(missing_status(dir.path()).starts_with("incomplete"));
        std::fs::write(
            dir.path().join("failed.json"),
            r#"{"run_id":"x","label":"y","error":"out of\nmemory"}"#,
        )
        .unwrap();
        assert_eq!(missing_status(dir.path()), "failed: out of memory");
    }
}
