//! The rows of a report: one per configuration without its seed, each summarising that
//! configuration's results, planned runs, per-epoch metrics and recorded test outputs.
use std::path::Path;

use crate::config::{RunConfig, Select, Task};
use crate::model::{param_count, Arch};
use crate::records::{Confusion, DataInfo, EpochMetrics, RunResult, TestProbabilities};
use crate::store::RunDir;
use crate::summary::Stat;

use super::{
    ensemble, ensemble_error, mean_curve, per_class, test_predictions, variant_label, Planned, Row,
    Shape,
};

/// What the rows are built from: the sweep folder, its results and planned runs, the data's
/// shape and the epoch whose accuracy the rows hold.
pub(super) struct Sweep<'a> {
    pub dir: &'a Path,
    pub results: &'a [RunResult],
    pub planned: &'a [Planned],
    pub shape: &'a Shape,
    pub select: Select,
}

/// The rows, the variant labels they index, and the runs without one metrics record per
/// epoch (missing, unreadable or cut short).
pub(super) struct Rows {
    pub variants: Vec<String>,
    pub rows: Vec<Row>,
    pub no_metrics: Vec<String>,
}

/// One row per configuration without seed (planned ones first, in first-seen order), sorted
/// by variant and width.
pub(super) fn rows(sweep: &Sweep, variant_keys: &[String]) -> Rows {
    // Row keys: configs without seed, planned ones first, in first-seen order.
    let keys = crate::summary::seed_groups(
        sweep
            .planned
            .iter()
            .filter_map(|p| p.1.as_ref())
            .chain(sweep.results.iter().map(|r| &r.config)),
    );
    let mut variants: Vec<String> = Vec::new();
    let mut no_metrics = Vec::new();
    let mut rows = Vec::new();
    for k in &keys {
        let variant = variant_index(&mut variants, variant_label(k, variant_keys));
        rows.push(row(sweep, k, variant, &mut no_metrics));
    }
    rows.sort_by_key(|r| (r.variant, r.num_units));
    Rows {
        variants,
        rows,
        no_metrics,
    }
}

/// The index of `label` in `variants`, appending it when it is new.
fn variant_index(variants: &mut Vec<String>, label: String) -> usize {
    match variants.iter().position(|v| *v == label) {
        Some(i) => i,
        None => {
            variants.push(label);
            variants.len() - 1
        }
    }
}

/// The row of configuration `k` (without seed) over its seeds' results; runs without one
/// metrics record per epoch are added to `no_metrics`.
fn row(sweep: &Sweep, k: &RunConfig, variant: usize, no_metrics: &mut Vec<String>) -> Row {
    let key = RunConfig::without_seed;
    let select = sweep.select;
    let rs: Vec<&RunResult> = sweep
        .results
        .iter()
        .filter(|r| key(&r.config) == *k)
        .collect();
    let stat = |f: fn(&RunResult) -> f64| Stat::of(&rs.iter().map(|r| f(r)).collect::<Vec<_>>());
    let errors = crate::summary::selected_errors(&rs, select);
    let planned_here = sweep
        .planned
        .iter()
        .filter(|p| p.1.as_ref().is_some_and(|c| key(c) == *k))
        .count();
    let curves = curves(sweep.dir, &rs, no_metrics);
    // A swept patch changes F (and T) from row to row.
    let data = rs.iter().find_map(|r| r.data.as_ref());
    let arch = row_arch(k, data, sweep.shape);
    let members = ensemble(sweep.dir, &rs);
    let predictions = test_predictions(sweep.dir, &rs);
    let members: Option<Vec<&TestProbabilities>> = members.as_ref().map(|m| m.iter().collect());
    Row {
        variant,
        num_units: k.num_units,
        arch,
        timesteps: data.map(|d| d.timesteps),
        params: rs
            .first()
            .map(|r| r.params)
            .unwrap_or_else(|| param_count(&arch)),
        test_acc: crate::summary::selected_test_acc(&rs, select),
        val_acc: match select {
            Select::Last => stat(|r| r.val_acc),
            Select::BestVal => stat(|r| r.best_val_acc),
        },
        seconds_per_epoch: stat(|r| r.seconds_per_epoch),
        seeds: rs.iter().map(|r| r.config.seed).collect(),
        planned: planned_here.max(rs.len()),
        epochs: rs
            .first()
            .map_or_else(|| k.epochs.to_string(), |r| r.epochs.to_string()),
        curve: mean_curve(&curves),
        per_class: per_class(&rs),
        test_error: errors.test_error,
        val_error: errors.val_error,
        test_rmse: errors.test_rmse,
        baselines: crate::summary::baselines(&rs),
        ensemble_acc: members
            .as_ref()
            .filter(|m| m.len() >= 2)
            .and_then(|m| crate::records::ensemble_accuracy(m)),
        confusion: members.as_ref().and_then(|m| Confusion::of_ensemble(m)),
        ensemble_error: ensemble_error(rs.len(), &predictions),
        test_predictions: predictions,
    }
}

/// The per-epoch metrics of the runs with one record per epoch of their result; the others'
/// ids go to `no_metrics`.
fn curves(
    sweep_dir: &Path,
    rs: &[&RunResult],
    no_metrics: &mut Vec<String>,
) -> Vec<Vec<EpochMetrics>> {
    let mut curves = Vec::new();
    for r in rs {
        match RunDir::new(sweep_dir, &r.run_id).metrics() {
            // One record per epoch the result counts: a file cut short (at a line's end) would
            // otherwise draw a shorter curve than the run trained.
            Ok(m) if !m.is_empty() && m.len() == r.epochs => curves.push(m),
            _ => no_metrics.push(r.run_id.clone()),
        }
    }
    curves
}

/// The row's model: its input and timesteps from its first recorded data (else the report's),
/// its outputs from its task.
fn row_arch(k: &RunConfig, data: Option<&DataInfo>, shape: &Shape) -> Arch {
    let input = data.map_or(shape.input, |d| d.features);
    let outputs = match k.task {
        Task::Classify => shape.classes(),
        Task::Regress => 1,
        Task::Forecast => k.horizon as i64,
    };
    let timesteps = data.map_or(shape.timesteps, |d| d.timesteps);
    Arch::of(k, input, outputs, timesteps)
}
