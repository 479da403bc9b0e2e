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

pub use plan::{Fitted, Plan, PlannedRun};

use crate::config::RunConfig;
use crate::data::Source;
use crate::env;
use crate::interrupt::{self, Interrupted, StopAfterEpoch};
use crate::records::{Memory, RunResult};
use crate::sinks::hold::Hold;
use crate::sinks::tensorboard::{self, Status};
use crate::sinks::{MetricsFile, Progress, TensorBoard};
use crate::store::{self, RunDir};
use crate::summary;
use crate::train::checkpoint::{self, CheckpointFile, CHECKPOINT};
use crate::train::{self, Sink};
use lock::{Contended, SweepLock};

/// How and where a sweep runs.
pub struct Options {
    /// The folder that holds sweep folders (default `experiments`).
    pub out: PathBuf,
    pub device: Device,
    /// libtorch threads of each run (`--threads`, default 1), fixed for the run and recorded
    /// in its checkpoint and result, so that its numbers depend neither on how many runs
    /// train at once nor on how many are left; a resumed run keeps the count it started with.
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
    /// Runs trained at once (at most the runs left), each in its own process when more than
    /// one (`jobs`).
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
    /// (label, holder) of runs skipped because another process was training them.
    pub busy: Vec<(String, String)>,
    /// Ctrl-C stopped the sweep; the runs left resume on the next invocation.
    pub interrupted: bool,
    /// (label, memory of its process as it finished) of every run trained in this invocation.
    pub memory: Vec<(String, Memory)>,
}

/// Runs every run of `plan` that has no result yet (and did not fail before, unless retrying).
pub fn run(plan: &Plan, opts: &Options) -> Result<Outcome> {
    let dir = opts.out.join(&plan.name);
    let mine = plan::shard(&plan.runs, opts.shard);
    // A result that cannot be read counts as failed (status says why), never as "not run".
    let unfinished = |r: &&PlannedRun| !matches!(RunDir::new(&dir, &r.id).result(), Ok(Some(_)));
    let pending: Vec<&PlannedRun> = mine.iter().copied().filter(unfinished).collect();

    // Load and check all data before anything is written, so bad data leaves no trace.
    let mut sources: HashMap<String, Source> = HashMap::new();
    let mut fits: HashMap<String, Fitted> = HashMap::new();
    for planned in &pending {
        let data = load_source(&mut sources, &planned.config, opts)
            .and_then(|source| source.split(&planned.config))
            .map_err(|e| plan.grid.locate(e))?;
        fits.insert(planned.id.clone(), Fitted::of(planned, &data));
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
    let at_once = opts.jobs.min(pending.len()).max(1);
    println!(
        "sweep {}: {} runs{} ({} already done, {}{} to train) on {}, {} at a time of {} \
         thread{} each -> {}",
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
        at_once,
        opts.threads,
        if opts.threads == 1 { "" } else { "s" },
        dir.display()
    );
    if opts.tensorboard {
        // The HParams domains hold the values that train ("auto" resolved), as the sessions do:
        // a pending run's fit, a finished run's record, else the config as asked.
        let configs: Vec<RunConfig> = plan
            .runs
            .iter()
            .map(|r| match fits.get(&r.id) {
                Some(f) => f.config.clone(),
                None => RunDir::new(&dir, &r.id)
                    .finished()
                    .map_or_else(|| r.config.clone(), |done| done.effective().clone()),
            })
            .collect();
        let configs: Vec<&RunConfig> = configs.iter().collect();
        let tb_root = dir.join(store::TENSORBOARD);
        tensorboard::write_experiment(&tb_root, &plan.name, &plan.swept, &configs)?;
    }
    if opts.jobs > 1 && pending.len() > 1 {
        // The workers load their own data: the parent's copy would only take memory.
        drop(sources);
        let done = jobs::run(plan, &pending, &fits, &dir, opts)?;
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
            busy: done.busy,
            interrupted: done.interrupted,
            memory,
        });
    }
    run_pending(
        plan,
        &pending,
        &fits,
        &dir,
        opts,
        &sources,
        skipped,
        failed_before,
    )
}

/// The source that `cfg` reads from, loaded into `sources` the first time it is asked for.
fn load_source<'a>(
    sources: &'a mut HashMap<String, Source>,
    cfg: &RunConfig,
    opts: &Options,
) -> Result<&'a Source, crate::error::UserError> {
    Ok(match sources.entry(Source::key(cfg)) {
        Entry::Occupied(e) => e.into_mut(),
        Entry::Vacant(e) => e.insert(Source::load(cfg, opts.data_dir.as_deref())?),
    })
}

/// How one run of `run_pending` ended.
enum RunEnd {
    Trained(Box<RunResult>),
    Failed(String),
    /// Another process holds the run's lock: (its holder).
    Busy(String),
    /// It was finished by another process while this one waited for its lock.
    AlreadyDone,
    Interrupted,
}

/// Trains `pending` one after another in this process; `fits` holds their costs (for the ETA).
#[allow(clippy::too_many_arguments)]
fn run_pending(
    plan: &Plan,
    pending: &[&PlannedRun],
    fits: &HashMap<String, Fitted>,
    dir: &std::path::Path,
    opts: &Options,
    sources: &HashMap<String, Source>,
    skipped: usize,
    failed_before: usize,
) -> Result<Outcome> {
    let dir = dir.to_path_buf();
    let total_cost = pending
        .iter()
        .filter_map(|r| fits.get(&r.id))
        .map(Fitted::cost)
        .sum();
    let mut progress = Progress::new(pending.len(), total_cost);
    let mut failed = Vec::new();
    let mut busy = Vec::new();
    let mut trained = 0;
    let mut skipped = skipped;
    let mut interrupted = false;
    let mut memory = Vec::new();
    for planned in pending {
        if interrupt::requested() {
            interrupted = true;
            break;
        }
        match train_one(planned, &dir, opts, sources, &mut progress)? {
            RunEnd::Interrupted => {
                progress.println(&format!(
                    "stopped {} [{}] after a checkpoint",
                    planned.label, planned.id
                ));
                interrupted = true;
                break;
            }
            RunEnd::Trained(result) => {
                trained += 1;
                progress.finish_run(&format!(
                    "done {} [{}]: {}, {:.1}s/epoch{}",
                    planned.label,
                    planned.id,
                    result.headline(),
                    result.seconds_per_epoch,
                    result
                        .memory
                        .map_or_else(String::new, |m| format!(", RSS {:.0} MiB", m.rss_mib))
                ));
                if let Some(m) = result.memory {
                    memory.push((planned.label.clone(), m));
                }
            }
            RunEnd::Failed(reason) => {
                progress.finish_run(&format!(
                    "FAILED {} [{}]: {reason}",
                    planned.label, planned.id
                ));
                failed.push((planned.label.clone(), reason));
            }
            RunEnd::Busy(holder) => {
                progress.finish_run(&format!(
                    "skipped {} [{}]: another rowseq ({holder}) is training it",
                    planned.label, planned.id
                ));
                busy.push((planned.label.clone(), holder));
            }
            RunEnd::AlreadyDone => {
                progress.finish_run(&format!(
                    "{} [{}] was finished by another rowseq",
                    planned.label, planned.id
                ));
                skipped += 1;
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
        busy,
        interrupted,
        memory,
    })
}

/// One run, start to end, holding its folder's lock: resumes from its checkpoint, trains,
/// writes its weights and result (or its failure). Errors are those of the sweep (a file that
/// cannot be written), not of the run.
fn train_one(
    planned: &PlannedRun,
    dir: &std::path::Path,
    opts: &Options,
    sources: &HashMap<String, Source>,
    progress: &mut Progress,
) -> Result<RunEnd> {
    let cfg = &planned.config;
    let run_dir = RunDir::new(dir, &planned.id);
    run_dir.create()?;
    let _run_lock = match SweepLock::try_run(&run_dir.path)? {
        Ok(lock) => lock,
        Err(holder) if opts.contended == Contended::Refuse => return Ok(RunEnd::Busy(holder)),
        Err(holder) => {
            progress.println(&format!(
                "waiting for another rowseq ({holder}) to finish {} [{}]",
                planned.label, planned.id
            ));
            SweepLock::wait_run(&run_dir.path)?
        }
    };
    // Under the run's lock: what another process did meanwhile is on disk.
    if let Ok(Some(_)) = run_dir.result() {
        return Ok(RunEnd::AlreadyDone);
    }
    let ckpt_path = run_dir.path.join(CHECKPOINT);
    if let Some(reason) = status::failure(&run_dir) {
        if !opts.retry_failed {
            // Another process recorded it failed while this one waited for the run.
            return Ok(RunEnd::Failed(reason));
        }
        // A retry starts from scratch (an unreadable result included).
        for f in [store::FAILED, store::RESULT, CHECKPOINT, store::METRICS] {
            store::remove_if_present(&run_dir.path.join(f))?;
        }
    }
    store::remove_temporaries(&run_dir.path)?;
    run_dir.write_config(cfg)?;
    let record_failure = |reason: String| -> Result<RunEnd> {
        let failure = planned.failure(&reason);
        // On a full disk, say what failed first, not only that recording it failed too.
        run_dir
            .write_failure(&failure)
            .map_err(|e| anyhow::anyhow!("run {} failed: {reason}; {e:#}", planned.label))?;
        Ok(RunEnd::Failed(reason))
    };
    let resume = match checkpoint::load(&ckpt_path) {
        Ok(resume) => resume,
        Err(e) => {
            return record_failure(format!(
                "{e:#}; delete it to start the run afresh, or pass --retry-failed"
            ))
        }
    };
    // A run keeps the thread count it started with, so that it resumes bit-identically.
    let threads = match resume.as_ref().and_then(|c| c.state.threads) {
        Some(t) if env::check_threads(t).is_err() => {
            return record_failure(format!(
                "{}: its thread count {t} is out of range; delete it to start the run \
                 afresh, or pass --retry-failed",
                ckpt_path.display()
            ))
        }
        Some(t) => {
            if t != opts.threads {
                progress.println(&format!(
                    "{} [{}] started on {t} threads and resumes on {t} (not {}), so that its \
                     results stay bit-identical",
                    planned.label, planned.id, opts.threads
                ));
            }
            t
        }
        None => opts.threads,
    };
    tch::set_num_threads(threads as i32);
    let environment = env::environment(opts.device, threads);
    let data = sources[&Source::key(cfg)].split(cfg)?;
    let fitted = Fitted::of(planned, &data);
    let epochs = fitted.config.epochs.get();
    if let Some(c) = &resume {
        progress.println(&format!(
            "resuming {} [{}] after epoch {}/{epochs}",
            planned.label, planned.id, c.state.epoch
        ));
    }
    if let Some(n) = &data.normalization {
        run_dir.write_normalization(n)?;
    }
    let tb_root = dir.join(store::TENSORBOARD);
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
            threads,
        };
        let mut hold = Hold::from_env(&planned.id);
        let mut stop = StopAfterEpoch;
        let mut shown = progress.run(&planned.label, epochs, fitted.cost_per_epoch);
        // The order matters: an epoch is on disk (metrics, checkpoint) before anything may
        // stop the run after it.
        let mut sinks: Vec<&mut dyn Sink> = vec![&mut metrics, &mut ckpt];
        if let Some(hold) = hold.as_mut() {
            sinks.push(hold);
        }
        sinks.push(&mut stop);
        sinks.push(&mut shown);
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
        Err(e) if e.downcast_ref::<Interrupted>().is_some() => Ok(RunEnd::Interrupted),
        Err(e) => record_failure(format!("{e:#}")),
        Ok(done) => {
            run_dir.save_weights(&done.vs)?;
            let predicted = match data.task {
                crate::config::Task::Classify => {
                    train::predict(&done.model, &data.test, opts.device)
                }
                _ => {
                    run_dir.write_test_predictions(&test_predictions(
                        &done.model,
                        &data,
                        opts.device,
                    ))?;
                    Vec::new()
                }
            };
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
            store::remove_if_present(&ckpt_path)?;
            Ok(RunEnd::Trained(Box::new(result)))
        }
    }
}

/// A numeric run's test predictions in the target's units, with the truth and, for forecasts,
/// each window's origin and the baselines.
fn test_predictions(
    model: &crate::model::SeqClassifier,
    data: &crate::data::Dataset,
    device: tch::Device,
) -> crate::records::TestPredictions {
    let target = data.target.as_ref().expect("a numeric task has a target");
    let z = train::predict_values(model, &data.test, device);
    let truth_z = Vec::<f64>::try_from(data.test.y.flatten(0, -1).to_kind(tch::Kind::Double))
        .expect("f64 targets");
    let (predicted, truth) = (data.test_values(&z), target.unscale(&truth_z));
    match &data.forecast {
        Some(f) => crate::records::TestPredictions {
            at: Some(
                f.test_origins
                    .iter()
                    .flat_map(|&t| (1..=f.horizon).map(move |k| (t, k)))
                    .collect(),
            ),
            // The truth as read from the file, not through float32 z-scores.
            truth: f.truth.clone(),
            predicted,
            naive: Some(f.naive.clone()),
            snaive: Some(f.snaive.clone()),
        },
        None => crate::records::TestPredictions {
            at: None,
            truth,
            predicted,
            naive: None,
            snaive: None,
        },
    }
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

/// Prints the closing table and where the outputs are.
pub fn print_summary(plan: &Plan, outcome: &Outcome) {
    let groups = summary::group(&outcome.results, plan.grid.select);
    println!();
    print!("{}", summary::table(&groups, &plan.swept, plan.grid.select));
    println!();
    println!(
        "{} trained, {} already done, {} failed{}{}; results: {}, {}, runs under {}/<run-id>/",
        outcome.trained,
        outcome.skipped,
        outcome.failed.len(),
        match outcome.failed_before {
            0 => String::new(),
            n => format!(", {n} skipped as failed before"),
        },
        match outcome.busy.len() {
            0 => String::new(),
            n => format!(", {n} skipped as another rowseq was training them"),
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
