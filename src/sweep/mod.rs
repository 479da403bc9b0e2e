/*!
Sweeps: a grid of runs planned from a `SweepConfig`, each with a content-hash id, run one after
another. Finished runs (those with a `result.json`) are skipped, so re-running a sweep does only
what is missing. The sweep tables are rewritten after every run, so nothing finished is lost if a
later run fails. A run that fails is recorded in `<run-id>/failed.json` and the sweep goes on.
*/
pub mod plan;

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::{Context, Result};
use tch::Device;

pub use plan::{Plan, PlannedRun};

use crate::data::{self, Source};
use crate::env;
use crate::sinks::tensorboard::{self, Status};
use crate::sinks::{MetricsFile, Progress, TensorBoard};
use crate::store::{self, RunDir, RunResult};
use crate::summary;
use crate::train::{self, Sink};

/// How and where a sweep runs.
pub struct Options {
    /// The folder that holds sweep folders (default `experiments`).
    pub out: PathBuf,
    pub device: Device,
    pub threads: usize,
    /// Data folder; default `data/<dataset>`.
    pub data_dir: Option<PathBuf>,
    /// The command line, recorded in `sweep.json`.
    pub command: String,
    /// Write TensorBoard event files under `<sweep>/tb`.
    pub tensorboard: bool,
}

/// What a sweep did.
pub struct Outcome {
    pub dir: PathBuf,
    pub results: Vec<RunResult>,
    pub trained: usize,
    pub skipped: usize,
    pub failed: Vec<(String, String)>,
}

/// Runs every run of `plan` that has no result yet.
pub fn run(plan: &Plan, opts: &Options) -> Result<Outcome> {
    let dir = opts.out.join(&plan.name);
    let pending: Vec<&PlannedRun> = plan
        .runs
        .iter()
        .filter(|r| RunDir::new(&dir, &r.id).result().is_none())
        .collect();
    let skipped = plan.runs.len() - pending.len();

    // Load and check all data before anything is written, so bad data leaves no trace.
    let mut sources: HashMap<String, Source> = HashMap::new();
    for planned in &pending {
        let cfg = &planned.config;
        if !sources.contains_key(&cfg.dataset) {
            let data_dir = opts
                .data_dir
                .clone()
                .unwrap_or_else(|| data::default_dir(&cfg.dataset));
            sources.insert(cfg.dataset.clone(), Source::load(&cfg.dataset, &data_dir)?);
        }
        sources[&cfg.dataset].split(cfg)?;
    }

    std::fs::create_dir_all(&dir)
        .with_context(|| format!("could not create sweep folder '{}'", dir.display()))?;
    store::write_json(&dir.join(store::SWEEP), &plan.record(&opts.command))?;
    println!(
        "sweep {}: {} runs ({} already done, {} to train) on {} with {} threads -> {}",
        plan.name,
        plan.runs.len(),
        skipped,
        pending.len(),
        env::device_name(opts.device),
        opts.threads,
        dir.display()
    );

    let environment = env::environment(opts.device, opts.threads);
    let tb_root = dir.join(store::TENSORBOARD);
    if opts.tensorboard {
        let configs: Vec<_> = plan.runs.iter().map(|r| &r.config).collect();
        tensorboard::write_experiment(&tb_root, &plan.name, &plan.swept, &configs)?;
    }
    let total_cost: u64 = pending
        .iter()
        .map(|r| r.cost_per_epoch() * r.config.epochs as u64)
        .sum();
    let mut progress = Progress::new(pending.len(), total_cost);
    let mut failed = Vec::new();
    let mut trained = 0;
    for planned in &pending {
        let cfg = &planned.config;
        let data = sources[&cfg.dataset].split(cfg)?;
        let run_dir = RunDir::new(&dir, &planned.id);
        run_dir.create()?;
        run_dir.write_config(cfg)?;
        let mut board = opts.tensorboard.then(|| {
            TensorBoard::new(
                &tb_root,
                &planned.id,
                &planned.label,
                &environment,
                &opts.command,
            )
        });
        let outcome = {
            let mut metrics = MetricsFile { dir: &run_dir };
            let mut shown = progress.run(&planned.label, cfg.epochs, planned.cost_per_epoch());
            let mut sinks: Vec<&mut dyn Sink> = vec![&mut metrics, &mut shown];
            if let Some(board) = board.as_mut() {
                sinks.push(board);
            }
            train::train(cfg, &data, opts.device, &mut sinks)
        };
        if let Some(board) = board.as_mut() {
            let status = match outcome {
                Ok(_) => Status::Success,
                Err(_) => Status::Failure,
            };
            board.finish(status)?;
        }
        match outcome {
            Ok(done) => {
                run_dir.save_weights(&done.vs)?;
                let result = plan::result(planned, &done.metrics, &data, &done.vs, &environment);
                run_dir.write_result(&result)?;
                trained += 1;
                progress.finish_run(&format!(
                    "done {} [{}]: test {:.4}, val {:.4}, {:.1}s/epoch",
                    planned.label,
                    planned.id,
                    result.test_acc,
                    result.val_acc,
                    result.seconds_per_epoch
                ));
            }
            Err(e) => {
                let reason = format!("{e:#}");
                store::write_json(
                    &run_dir.path.join("failed.json"),
                    &serde_json::json!({ "run_id": planned.id, "label": planned.label, "error": reason }),
                )?;
                progress.finish_run(&format!(
                    "FAILED {} [{}]: {reason}",
                    planned.label, planned.id
                ));
                failed.push((planned.label.clone(), reason));
            }
        }
        let results = plan.finished(&dir);
        store::write_tables(&dir, &results)?;
    }
    progress.finish();
    let results = plan.finished(&dir);
    store::write_tables(&dir, &results)?;
    Ok(Outcome {
        dir,
        results,
        trained,
        skipped,
        failed,
    })
}

/// Prints the closing table and where the outputs are.
pub fn print_summary(plan: &Plan, outcome: &Outcome) {
    let groups = summary::group(&outcome.results);
    println!();
    print!("{}", summary::table(&groups, &plan.swept));
    println!();
    println!(
        "{} trained, {} already done, {} failed; results: {}, {}, runs under {}/<run-id>/",
        outcome.trained,
        outcome.skipped,
        outcome.failed.len(),
        outcome.dir.join(store::RESULTS_CSV).display(),
        outcome.dir.join(store::RESULTS_JSONL).display(),
        outcome.dir.display()
    );
    let tb = outcome.dir.join(store::TENSORBOARD);
    if tb.is_dir() {
        println!(
            "TensorBoard: .venv/bin/tensorboard --logdir {}",
            tb.display()
        );
    }
}
