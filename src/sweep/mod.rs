/*!
Sweeps: a grid of runs planned from a `SweepConfig`, each with a content-hash id, run one after
another under the sweep folder's lock (`lock`). Finished runs (those with a `result.json`) are
skipped, so re-running a sweep does only what is missing; a run stopped mid-way resumes from its
last epoch checkpoint. The sweep tables are rewritten after every run, so nothing finished is
lost if a later run fails. A run that fails is recorded in `<run-id>/failed.json` with its
reason, the sweep goes on, and later invocations skip it unless asked to retry (`status`).
*/
pub mod jobs;
pub mod lock;
pub mod plan;
pub mod shard;
pub mod status;

use std::collections::hash_map::{Entry, HashMap};
use std::path::PathBuf;

use anyhow::{Context, Result};
use tch::Device;

pub use plan::{Plan, PlannedRun};

use crate::config::RunConfig;
use crate::data::Source;
use crate::env;
use crate::interrupt::{self, Interrupted, StopAfterEpoch};
use crate::sinks::tensorboard::{self, Status};
use crate::sinks::{MetricsFile, Progress, TensorBoard};
use crate::store::{self, Memory, RunDir, RunResult};
use crate::summary;
use crate::train::checkpoint::{self, CheckpointFile, CHECKPOINT};
use crate::train::{self, Sink};
use lock::{Contended, SweepLock};

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
    /// Train runs that failed before (otherwise they are skipped).
    pub retry_failed: bool,
    /// When another process holds the sweep's lock: refuse or wait.
    pub contended: Contended,
    /// Runs trained at once, each in its own process with `threads / jobs` threads.
    pub jobs: usize,
    /// Only the runs of shard K of N (1-based), by plan position: (K, N).
    pub shard: Option<(usize, usize)>,
    /// A worker process of `--jobs` (`jobs::serve`): the parent holds the lock and writes
    /// the tables.
    pub worker: bool,
}

/// What a sweep did.
pub struct Outcome {
    pub dir: PathBuf,
    pub results: Vec<RunResult>,
    pub trained: usize,
    pub skipped: usize,
    pub failed: Vec<(String, String)>,
    /// Runs skipped because they failed in an earlier invocation.
    pub failed_before: usize,
    /// Ctrl-C stopped the sweep; the runs left resume on the next invocation.
    pub interrupted: bool,
    /// (label, memory of its process as it finished) of every run trained in this invocation.
    pub memory: Vec<(String, Memory)>,
}

/// Runs every run of `plan` that has no result yet (and did not fail before, unless retrying).
pub fn run(plan: &Plan, opts: &Options) -> Result<Outcome> {
    let dir = opts.out.join(&plan.name);
    let mine = plan::shard(&plan.runs, opts.shard);
    let unfinished = |r: &&PlannedRun| RunDir::new(&dir, &r.id).result().is_none();
    let pending: Vec<&PlannedRun> = mine.iter().copied().filter(unfinished).collect();

    // Load and check all data before anything is written, so bad data leaves no trace.
    let mut sources: HashMap<String, Source> = HashMap::new();
    for planned in &pending {
        load_source(&mut sources, &planned.config, opts)?.split(&planned.config)?;
    }

    std::fs::create_dir_all(&dir)
        .with_context(|| format!("could not create sweep folder '{}'", dir.display()))?;
    let _lock = match opts.shard {
        None => SweepLock::acquire(&dir, lock::LOCK, opts.contended)?,
        Some((k, n)) => {
            let name = format!("{}.{k}-of-{n}", lock::LOCK);
            SweepLock::acquire(&dir, &name, opts.contended)?
        }
    };
    // Under the lock, what is left may have changed while we waited.
    let mut pending: Vec<&PlannedRun> = mine.iter().copied().filter(unfinished).collect();
    let skipped = mine.len() - pending.len();
    let failed_before = if opts.retry_failed {
        0
    } else {
        let before = pending.len();
        pending.retain(|r| status::failure(&RunDir::new(&dir, &r.id)).is_none());
        before - pending.len()
    };
    report_changes(plan, &dir);
    store::write_json(&dir.join(store::SWEEP), &plan.record(&opts.command))?;
    println!(
        "sweep {}: {} runs{} ({} already done, {}{} to train) on {} with {} threads{} -> {}",
        plan.name,
        plan.runs.len(),
        match opts.shard {
            Some((k, n)) => format!(", {} in shard {k}/{n}", mine.len()),
            None => String::new(),
        },
        skipped,
        match failed_before {
            0 => String::new(),
            n => format!("{n} failed before (--retry-failed retries them), "),
        },
        pending.len(),
        env::device_name(opts.device),
        opts.threads,
        match opts.jobs {
            1 => String::new(),
            j => format!(
                " ({j} jobs of {} each)",
                jobs::threads_per_job(opts.threads, j)
            ),
        },
        dir.display()
    );
    if opts.tensorboard {
        let configs: Vec<_> = plan.runs.iter().map(|r| &r.config).collect();
        let tb_root = dir.join(store::TENSORBOARD);
        tensorboard::write_experiment(&tb_root, &plan.name, &plan.swept, &configs)?;
    }
    if opts.jobs > 1 && pending.len() > 1 {
        // The workers load their own data: the parent's copy would only take memory.
        drop(sources);
        let done = jobs::run(plan, &pending, &dir, opts)?;
        let results = write_tables(plan, &dir)?;
        // Each worker recorded its own process's memory in the run's result.
        let memory = pending
            .iter()
            .filter_map(|p| {
                let r = results.iter().find(|r| r.run_id == p.id)?;
                Some((p.label.clone(), r.memory?))
            })
            .collect();
        return Ok(Outcome {
            dir,
            results,
            trained: done.trained,
            skipped,
            failed: done.failed,
            failed_before,
            interrupted: done.interrupted,
            memory,
        });
    }
    run_pending(plan, &pending, &dir, opts, &sources, skipped, failed_before)
}

/// The source that `cfg` reads from, loaded into `sources` the first time it is asked for.
fn load_source<'a>(
    sources: &'a mut HashMap<String, Source>,
    cfg: &RunConfig,
    opts: &Options,
) -> Result<&'a Source> {
    Ok(match sources.entry(Source::key(cfg)) {
        Entry::Occupied(e) => e.into_mut(),
        Entry::Vacant(e) => e.insert(Source::load(cfg, opts.data_dir.as_deref())?),
    })
}

/// Trains `pending` one after another in this process.
fn run_pending(
    plan: &Plan,
    pending: &[&PlannedRun],
    dir: &std::path::Path,
    opts: &Options,
    sources: &HashMap<String, Source>,
    skipped: usize,
    failed_before: usize,
) -> Result<Outcome> {
    let dir = dir.to_path_buf();
    let environment = env::environment(opts.device, opts.threads);
    let tb_root = dir.join(store::TENSORBOARD);
    let total_cost: u64 = pending
        .iter()
        .map(|r| r.cost_per_epoch() * r.config.epochs as u64)
        .sum();
    let mut progress = Progress::new(pending.len(), total_cost);
    let mut failed = Vec::new();
    let mut trained = 0;
    let mut interrupted = false;
    let mut memory = Vec::new();
    for planned in pending {
        if interrupt::requested() {
            interrupted = true;
            break;
        }
        let cfg = &planned.config;
        let data = sources[&Source::key(cfg)].split(cfg)?;
        let run_dir = RunDir::new(&dir, &planned.id);
        let ckpt_path = run_dir.path.join(CHECKPOINT);
        if status::failure(&run_dir).is_some() {
            // A retry starts from scratch.
            for f in [status::FAILED, CHECKPOINT, store::METRICS] {
                remove_if_present(&run_dir.path.join(f))?;
            }
        }
        run_dir.create()?;
        remove_temporaries(&run_dir.path)?;
        run_dir.write_config(cfg)?;
        let resume = checkpoint::load(&ckpt_path)?;
        if let Some(c) = &resume {
            progress.println(&format!(
                "resuming {} [{}] after epoch {}/{}",
                planned.label, planned.id, c.state.epoch, cfg.epochs
            ));
        }
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
            let mut ckpt = CheckpointFile {
                path: ckpt_path.clone(),
            };
            let mut stop = StopAfterEpoch;
            let mut shown = progress.run(&planned.label, cfg.epochs, planned.cost_per_epoch());
            let mut sinks: Vec<&mut dyn Sink> =
                vec![&mut metrics, &mut ckpt, &mut stop, &mut shown];
            if let Some(board) = board.as_mut() {
                sinks.push(board);
            }
            train::train(cfg, &data, opts.device, resume.as_ref(), &mut sinks)
        };
        if let Some(board) = board.as_mut() {
            // An interrupted run has no end yet: its session ends when it resumes and finishes.
            match &outcome {
                Ok(_) => board.finish(Status::Success)?,
                Err(e) if e.downcast_ref::<Interrupted>().is_some() => {}
                Err(_) => board.finish(Status::Failure)?,
            }
        }
        match outcome {
            Err(e) if e.downcast_ref::<Interrupted>().is_some() => {
                progress.println(&format!(
                    "stopped {} [{}] after a checkpoint",
                    planned.label, planned.id
                ));
                interrupted = true;
                break;
            }
            Ok(done) => {
                run_dir.save_weights(&done.vs)?;
                let predicted = train::predict(&done.model, &data.test, opts.device);
                let mut result = plan::result(
                    planned,
                    &done.metrics,
                    &data,
                    &done.vs,
                    &environment,
                    &predicted,
                );
                result.memory = env::memory();
                run_dir.write_result(&result)?;
                remove_if_present(&ckpt_path)?;
                trained += 1;
                progress.finish_run(&format!(
                    "done {} [{}]: test {:.4}, val {:.4}, {:.1}s/epoch{}",
                    planned.label,
                    planned.id,
                    result.test_acc,
                    result.val_acc,
                    result.seconds_per_epoch,
                    result
                        .memory
                        .map_or_else(String::new, |m| format!(", RSS {:.0} MiB", m.rss_mib))
                ));
                if let Some(m) = result.memory {
                    memory.push((planned.label.clone(), m));
                }
            }
            Err(e) => {
                let reason = format!("{e:#}");
                store::write_json(
                    &run_dir.path.join(status::FAILED),
                    &serde_json::json!({ "run_id": planned.id, "label": planned.label, "error": reason }),
                )?;
                progress.finish_run(&format!(
                    "FAILED {} [{}]: {reason}",
                    planned.label, planned.id
                ));
                failed.push((planned.label.clone(), reason));
            }
        }
        if !opts.worker {
            write_tables(plan, &dir)?;
        }
    }
    progress.finish();
    // A worker's parent reads the results from disk; the worker itself needs none.
    let results = if opts.worker {
        Vec::new()
    } else {
        write_tables(plan, &dir)?
    };
    Ok(Outcome {
        dir,
        results,
        trained,
        skipped,
        failed,
        failed_before,
        interrupted,
        memory,
    })
}

/// Rewrites the sweep's tables from every finished run of the plan on disk (all shards').
pub fn write_tables(plan: &Plan, dir: &std::path::Path) -> Result<Vec<RunResult>> {
    lock::tables(dir, || {
        let results = plan.finished(dir);
        store::write_tables(dir, &results)?;
        Ok(results)
    })
}

/// Says which runs are new and which run folders no longer belong, when the plan differs from
/// the one recorded by the last invocation.
fn report_changes(plan: &Plan, dir: &std::path::Path) {
    let Ok(before) = store::load_sweep(dir) else {
        return;
    };
    let strays = status::strays(plan, dir);
    let new: Vec<&str> = plan
        .runs
        .iter()
        .filter(|r| !before.runs.contains(&r.id) && !dir.join(&r.id).exists())
        .map(|r| r.label.as_str())
        .collect();
    if new.is_empty() && strays.is_empty() {
        return;
    }
    println!("the sweep changed since its last invocation:");
    if !new.is_empty() {
        println!("  {} new runs: {}", new.len(), new.join(", "));
    }
    if !strays.is_empty() {
        let list: Vec<String> = strays.iter().map(|(id, l)| format!("{id} ({l})")).collect();
        println!(
            "  {} runs on disk no longer belong to it (kept, left out of the tables): {}",
            strays.len(),
            list.join(", ")
        );
    }
}

/// Removes `.tmp.*` files that a process killed mid-write left in a run folder (no one else
/// writes there: the sweep's lock, or the parent's, is held).
fn remove_temporaries(dir: &std::path::Path) -> Result<()> {
    for entry in std::fs::read_dir(dir)?.flatten() {
        if entry.file_name().to_string_lossy().starts_with(".tmp.") {
            remove_if_present(&entry.path())?;
        }
    }
    Ok(())
}

fn remove_if_present(path: &std::path::Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("could not remove '{}'", path.display()))
        }
        _ => Ok(()),
    }
}

/// Prints the closing table and where the outputs are.
pub fn print_summary(plan: &Plan, outcome: &Outcome) {
    let groups = summary::group(&outcome.results);
    println!();
    print!("{}", summary::table(&groups, &plan.swept));
    println!();
    println!(
        "{} trained, {} already done, {} failed{}; results: {}, {}, runs under {}/<run-id>/",
        outcome.trained,
        outcome.skipped,
        outcome.failed.len(),
        match outcome.failed_before {
            0 => String::new(),
            n => format!(", {n} skipped as failed before"),
        },
        outcome.dir.join(store::RESULTS_CSV).display(),
        outcome.dir.join(store::RESULTS_JSONL).display(),
        outcome.dir.display()
    );
    if let Some(line) = memory_line(&outcome.memory) {
        println!("{line}");
    }
    let tb = outcome.dir.join(store::TENSORBOARD);
    if tb.is_dir() {
        println!(
            "TensorBoard: .venv/bin/tensorboard --logdir {}",
            tb.display()
        );
    }
}

/// "memory: peak RSS 812 MiB; RSS after each run (MiB): 410 412 411", for the runs trained in
/// this invocation (with --jobs, each worker's own process), so growth from run to run shows.
pub fn memory_line(memory: &[(String, Memory)]) -> Option<String> {
    let peak = memory
        .iter()
        .map(|(_, m)| m.peak_rss_mib)
        .reduce(f64::max)?;
    let after: Vec<String> = memory
        .iter()
        .map(|(_, m)| format!("{:.0}", m.rss_mib))
        .collect();
    Some(format!(
        "memory: peak RSS {peak:.0} MiB; RSS after each run (MiB): {}",
        after.join(" ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_line_lists_runs_in_order_with_the_highest_peak() {
        let m = |rss, peak| Memory {
            rss_mib: rss,
            peak_rss_mib: peak,
        };
        assert_eq!(memory_line(&[]), None);
        let runs = vec![
            ("a".to_string(), m(400.2, 500.0)),
            ("b".to_string(), m(410.7, 620.0)),
        ];
        assert_eq!(
            memory_line(&runs).unwrap(),
            "memory: peak RSS 620 MiB; RSS after each run (MiB): 400 411"
        );
    }
}
