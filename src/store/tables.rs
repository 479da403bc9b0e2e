//! The sweep's tables, `results.csv` and `results.jsonl`: one row per finished run, its config,
//! its scores (the columns of the tasks it holds) and its cost, rewritten after every run.
use super::*;

/// Column names of `results.csv`: the run, its config and size (`RESULT_HEAD`), its scores
/// (accuracies for classification, `ACCURACY_COLUMNS`, and series classification's 1-NN
/// baselines where they were computed, `NEIGHBOUR_COLUMNS`, and the training fit where measured,
/// `FIT_COLUMNS`; errors in the target's units for
/// regression and forecasting, with their baselines, AutoETS's where computed, `ETS_COLUMNS`), then cost and environment
/// (`RESULT_TAIL`). A sweep's table holds the score columns of the tasks it has.
pub const RESULT_HEAD: &[&str] = &[
    "run_id",
    "label",
    "num_units",
    "params",
    "seed",
    "epochs",
    "lr",
    "batch_size",
    "schedule",
    "clip_grad_norm",
    "patch",
    "noise",
    "train_size",
    "val_size",
    "test_size",
];
pub const ACCURACY_COLUMNS: &[&str] = &["test_acc", "val_acc", "best_val_acc", "best_val_test_acc"];
/// Series classification's nearest-neighbour baselines, where the results have them.
pub const NEIGHBOUR_COLUMNS: &[&str] = &["nn_ed_test_acc", "nn_dtw_test_acc"];
/// The kept model's fit of its whole training split, where the results have it (random
/// labels, `stop_train_acc`: the capacity measure).
pub const FIT_COLUMNS: &[&str] = &["train_fit_acc"];
pub const REGRESSION_COLUMNS: &[&str] = &[
    "test_rmse",
    "test_mae",
    "test_r2",
    "val_rmse",
    "val_mae",
    "train_rmse",
    "best_val_test_rmse",
    "const_test_rmse",
    "const_test_mae",
];
pub const FORECAST_COLUMNS: &[&str] = &[
    "window",
    "horizon",
    "transform",
    "test_mase",
    "test_rmse",
    "test_mae",
    "val_rmse",
    "val_mae",
    "train_rmse",
    "best_val_test_mase",
    "best_val_test_rmse",
    "naive_test_rmse",
    "naive_test_mase",
    "snaive_test_rmse",
    "snaive_test_mase",
];
/// Forecasting's AutoETS baseline, where the results have it.
pub const ETS_COLUMNS: &[&str] = &[
    "ets_model",
    "ets_test_rmse",
    "ets_test_mae",
    "ets_test_mase",
];
pub const RESULT_TAIL: &[&str] = &[
    "train_loss",
    "train_seconds",
    "seconds_per_epoch",
    "device",
    "threads",
    "rowseq",
    "tch",
    "libtorch",
];

/// The value of one score column for `r` ("" where it has none).
fn score_cell(r: &RunResult, column: &str) -> String {
    let e = &r.errors;
    let c = r.effective();
    let acc = |v: f64| {
        if v.is_nan() {
            String::new()
        } else {
            format!("{v:.4}")
        }
    };
    let num = |v: Option<f64>| v.map_or_else(String::new, |v| format!("{v}"));
    match column {
        "test_acc" => acc(r.test_acc),
        "val_acc" => acc(r.val_acc),
        "best_val_acc" => acc(r.best_val_acc),
        "best_val_test_acc" => r
            .best_val_test_acc
            .map_or_else(String::new, |a| format!("{a:.4}")),
        "nn_ed_test_acc" => r.nn_ed_test_acc.map_or_else(String::new, acc),
        "nn_dtw_test_acc" => r.nn_dtw_test_acc.map_or_else(String::new, acc),
        "window" => c.window.fixed().map_or_else(String::new, |w| w.to_string()),
        "horizon" => c.horizon.to_string(),
        // What "auto" chose: the logarithm or the values as they are.
        "transform" => c.value_text("transform"),
        "train_fit_acc" => r.train_fit_acc.map_or_else(String::new, acc),
        "test_rmse" => num(e.test_rmse),
        "test_mae" => num(e.test_mae),
        "test_r2" => num(e.test_r2),
        "test_mase" => num(e.test_mase),
        "val_rmse" => num(e.val_rmse),
        "val_mae" => num(e.val_mae),
        "train_rmse" => num(e.train_rmse),
        "best_val_test_rmse" => num(e.best_val_test_rmse),
        "best_val_test_mase" => num(e.best_val_test_mase),
        "const_test_rmse" => num(e.const_test_rmse),
        "const_test_mae" => num(e.const_test_mae),
        "naive_test_rmse" => num(e.naive_test_rmse),
        "naive_test_mase" => num(e.naive_test_mase),
        "snaive_test_rmse" => num(e.snaive_test_rmse),
        "snaive_test_mase" => num(e.snaive_test_mase),
        "ets_model" => r.ets_model.clone().unwrap_or_default(),
        "ets_test_rmse" => num(e.ets_test_rmse),
        "ets_test_mae" => num(e.ets_test_mae),
        "ets_test_mase" => num(e.ets_test_mase),
        _ => String::new(),
    }
}

/// The columns of `results.csv` for `results`: the score columns of every task they hold
/// (classification's alone when there are none, as before numeric tasks).
pub fn result_columns(results: &[RunResult]) -> Vec<&'static str> {
    use crate::config::Task;
    let has = |t: Task| results.iter().any(|r| r.config.task == t);
    let mut scores: Vec<&str> = Vec::new();
    if has(Task::Classify) || results.is_empty() {
        scores.extend(ACCURACY_COLUMNS);
    }
    if results.iter().any(|r| r.nn_dtw_test_acc.is_some()) {
        scores.extend(NEIGHBOUR_COLUMNS);
    }
    if results.iter().any(|r| r.train_fit_acc.is_some()) {
        scores.extend(FIT_COLUMNS);
    }
    for (task, columns) in [
        (Task::Regress, REGRESSION_COLUMNS),
        (Task::Forecast, FORECAST_COLUMNS),
    ] {
        if has(task) {
            scores.extend(
                columns
                    .iter()
                    .filter(|c| !scores.contains(c))
                    .collect::<Vec<_>>(),
            );
        }
    }
    if results.iter().any(|r| r.errors.ets_test_mase.is_some()) {
        scores.extend(ETS_COLUMNS);
    }
    RESULT_HEAD
        .iter()
        .chain(&scores)
        .chain(RESULT_TAIL)
        .copied()
        .collect()
}

/// Rewrites `results.csv` and `results.jsonl` from the finished runs.
pub fn write_tables(sweep_dir: &Path, results: &[RunResult]) -> Result<()> {
    let columns = result_columns(results);
    let mut csv = csv::Writer::from_writer(Vec::new());
    csv.write_record(&columns)?;
    let mut jsonl = String::new();
    for r in results {
        let c = r.effective();
        let schedule = serde_json::to_value(c.schedule)?
            .as_str()
            .unwrap_or("")
            .to_string();
        let mut row = vec![
            r.run_id.clone(),
            r.label.clone(),
            c.num_units.to_string(),
            r.params.to_string(),
            c.seed.to_string(),
            r.epochs.to_string(),
            c.lr.to_string(),
            c.batch_size.to_string(),
            schedule,
            c.clip_grad_norm.to_string(),
            // The values "auto" chose (`resolved`): values per step and the training jitter.
            c.value_text("patch"),
            r.trained()
                .map_or_else(String::new, |t| t.noise().to_string()),
            r.train_size.to_string(),
            r.val_size.to_string(),
            r.test_size.to_string(),
        ];
        let scores = &columns[RESULT_HEAD.len()..columns.len() - RESULT_TAIL.len()];
        row.extend(scores.iter().map(|col| score_cell(r, col)));
        row.extend([
            format!("{:.5}", r.train_loss),
            format!("{:.2}", r.train_seconds),
            format!("{:.3}", r.seconds_per_epoch),
            r.env.device.clone(),
            r.env.threads.to_string(),
            r.env.rowseq.clone(),
            r.env.tch.clone(),
            r.env.libtorch.clone(),
        ]);
        csv.write_record(&row)?;
        jsonl.push_str(&serde_json::to_string(r)?);
        jsonl.push('\n');
    }
    write_atomic(&sweep_dir.join(RESULTS_CSV), &csv.into_inner()?)?;
    write_atomic(&sweep_dir.join(RESULTS_JSONL), jsonl.as_bytes())
}
