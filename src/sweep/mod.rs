/*!
Sweeps: a grid of runs planned from a `SweepConfig`, each with a content-hash id, run one after
another under the sweep folder's lock (`lock`). Finished runs (those with a `result.json`) are
skipped, so re-running a sweep does only what is missing; a run stopped mid-way resumes from its
last epoch checkpoint. The sweep tables are rewritten after every run, so nothing finished is
lost if a later run fails. A run that fails is recorded in `<run-id>/failed.json` with its
reason, the sweep goes on, and later invocations skip it unless asked to retry (`status`);
a retried run resumes from its checkpoint unless the checkpoint was what failed. A full disk is
not a run's failure: the sweep stops with one message, and the same command resumes it. Before
anything is written, a sweep refuses a link (or a file) in the place of a folder it writes into
under `--out`, and a lock file that is not its own (`check_paths`). At its start, under the
tables' lock, it clears the temporaries that a process killed mid-write left in its folder.
*/
pub mod asha;
pub mod jobs;
pub mod lock;
pub mod one;
pub mod plan;
pub mod shard;
pub mod status;

use std::collections::hash_map::{Entry, HashMap};
use std::path::{Path, PathBuf};

use anyhow::Result;
use tch::Device;

pub use one::RunEnd;
pub use plan::{Fitted, Plan, PlannedRun};

use crate::config::RunConfig;
use crate::data::Source;
use crate::env;
use crate::interrupt;
use crate::records::{Memory, RunResult};
use crate::sinks::tensorboard;
use crate::sinks::Progress;
use crate::store::{self, RunDir};
use crate::summary;
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
    /// What the sweep prints while it trains (`--quiet`, `--verbose`, a terminal or not).
    pub display: crate::sinks::progress::Display,
}

/// What a sweep did.
pub struct Outcome {
    pub dir: PathBuf,
    pub results: Vec<RunResult>,
    pub totals: Totals,
}

/// Runs every run of `plan` that has no result yet (and did not fail before, unless retrying).
/// A full disk stops the sweep with one `store::DiskFull` error: its runs resume next time.
pub fn run(plan: &Plan, opts: &Options) -> Result<Outcome> {
    run_plan(plan, opts).map_err(store::when_disk_full)
}

/// Loads and fits every pending run, takes the sweep's lock, records the sweep, then trains
/// what is left (in worker processes or here) and writes the tables.
fn run_plan(plan: &Plan, opts: &Options) -> Result<Outcome> {
    let dir = opts.out.join(&plan.name);
    let mine = plan::shard(&plan.runs, opts.shard);
    // A result that cannot be read counts as failed (status says why), never as "not run";
    // a run that successive halving stopped is done with (while the sweep halves: without
    // early_stop, it trains its whole budget).
    let halving = plan.asha().is_some();
    let unfinished = |r: &&PlannedRun| {
        let run = RunDir::new(&dir, &r.id);
        let stopped = halving && run.stopped().is_some();
        !stopped && !matches!(run.result(), Ok(Some(_)))
    };
    let pending: Vec<&PlannedRun> = mine.iter().copied().filter(unfinished).collect();
    // Load and check all data before anything is written, so bad data leaves no trace.
    let (sources, fits) = fit_pending(plan, &pending, opts)?;

    let lock_name = match opts.shard {
        None => lock::LOCK.to_string(),
        Some((k, n)) => format!("{}.{k}-of-{n}", lock::LOCK),
    };
    check_paths(plan, &dir, &lock_name, opts)?;
    store::create_dir_nofollow(&opts.out, &dir)?;
    let _lock = SweepLock::acquire(&dir, &lock_name, opts.contended)?;
    // Under the lock, what is left may have changed while we waited.
    let mut pending: Vec<&PlannedRun> = mine.iter().copied().filter(unfinished).collect();
    let skipped = mine.len() - pending.len();
    let failed_before = if opts.retry_failed {
        0
    } else {
        let before = pending.len();
        pending.retain(|r| RunDir::new(&dir, &r.id).failed().is_none());
        before - pending.len()
    };
    report_changes(plan, &dir);
    // Under the tables' lock, which every writer of the sweep folder's own records holds (shards
    // and a whole sweep may run side by side): the temporaries that a process killed mid-write
    // left there are nobody's now.
    lock::tables(&dir, || {
        store::remove_temporaries(&dir)?;
        store::write_json(&dir.join(store::SWEEP), &plan.record(&opts.command))
    })?;
    let mut totals = Totals {
        skipped,
        failed_before,
        ..Totals::default()
    };
    if opts.display.runs {
        announce(plan, opts, &dir, mine.len(), &totals, pending.len());
    }
    if opts.tensorboard {
        // Under the tables' lock: shards that start side by side each rewrite it.
        lock::tables(&dir, || write_hparams_experiment(plan, &dir, &fits))?;
    }
    let results = train(
        plan,
        (&mine, &pending),
        fits,
        sources,
        opts,
        &mut totals,
        &dir,
    )?;
    Ok(Outcome {
        dir,
        results,
        totals,
    })
}

/// Trains the sweep's share: rung by rung under successive halving (`mine`, `asha`), else
/// the `pending` runs in worker processes (`--jobs`) or here; then rewrites the tables and
/// returns every finished result.
fn train(
    plan: &Plan,
    (mine, pending): (&[&PlannedRun], &[&PlannedRun]),
    fits: HashMap<String, Fitted>,
    sources: HashMap<String, Source>,
    opts: &Options,
    totals: &mut Totals,
    dir: &Path,
) -> Result<Vec<RunResult>> {
    if let Some(asha) = plan.asha() {
        asha::run(plan, asha, mine, &fits, &sources, opts, totals, dir)?;
        return write_tables(plan, dir);
    }
    if opts.jobs > 1 && pending.len() > 1 {
        // The workers load their own data: the parent's copy would only take memory.
        drop(sources);
        jobs::run(plan, pending, &fits, dir, opts, totals)?;
        let results = write_tables(plan, dir)?;
        // Each worker recorded its own process's memory in the run's result.
        totals.memory = pending
            .iter()
            .filter_map(|p| {
                let r = results.iter().find(|r| r.run_id == p.id)?;
                Some((p.label.clone(), r.memory?))
            })
            .collect();
        return Ok(results);
    }
    run_serially(plan, pending, &fits, &sources, opts, totals)?;
    write_tables(plan, dir)
}

/// Every pending run's data, loaded once per data set and split, and its fit ("auto" resolved
/// on it). A sweep of one run (`train`) whose model cannot fit in memory is the user's to fix,
/// before anything is written; in a larger sweep that run fails alone.
fn fit_pending(
    plan: &Plan,
    pending: &[&PlannedRun],
    opts: &Options,
) -> Result<(HashMap<String, Source>, HashMap<String, Fitted>)> {
    let mut sources: HashMap<String, Source> = HashMap::new();
    let mut fits: HashMap<String, Fitted> = HashMap::new();
    for planned in pending {
        let data = load_source(&mut sources, &planned.config, opts)
            .and_then(|source| source.split(&planned.config))
            .map_err(|e| plan.grid.locate(e))?;
        let fitted = Fitted::of(planned, &data);
        if plan.runs.len() == 1 {
            let cfg = &fitted.resolved;
            let arch = crate::model::Arch::of(cfg, data.features, data.classes(), data.seq_len);
            crate::train::check_memory(&arch, cfg.batch_size(), data.seq_len, opts.device)
                .map_err(|message| crate::error::UserError::Config {
                    origin: planned.label.clone(),
                    message,
                })?;
        }
        fits.insert(planned.id.clone(), fitted);
    }
    Ok((sources, fits))
}

/// The sweep's opening line: its runs, how many are done, failed before and left, where and how
/// they train.
fn announce(plan: &Plan, opts: &Options, dir: &Path, mine: usize, totals: &Totals, pending: usize) {
    let at_once = opts.jobs.min(pending).max(1);
    println!(
        "sweep {}: {} runs{} ({} already done, {}{} to train) on {}, {} at a time of {} \
         thread{} each -> {}",
        plan.name,
        plan.runs.len(),
        match opts.shard {
            Some((k, n)) => format!(", {mine} in shard {k}/{n}"),
            None => String::new(),
        },
        totals.skipped,
        match totals.failed_before {
            0 => String::new(),
            n => format!("{n} failed before (--retry-failed retries them), "),
        },
        pending,
        env::device_name(opts.device),
        at_once,
        opts.threads,
        if opts.threads == 1 { "" } else { "s" },
        dir.display()
    );
}

/// The TensorBoard HParams experiment of the whole sweep. Its domains hold the values that
/// train ("auto" resolved), as the sessions do: a pending run's fit, a finished run's record,
/// else the config as asked. It goes into one run's folder (`tensorboard::write_experiment`).
fn write_hparams_experiment(plan: &Plan, dir: &Path, fits: &HashMap<String, Fitted>) -> Result<()> {
    let configs: Vec<RunConfig> = plan
        .runs
        .iter()
        .map(|r| match fits.get(&r.id) {
            Some(f) => f.resolved.config().clone(),
            None => RunDir::new(dir, &r.id)
                .resolved()
                .map_or_else(|_| r.config.clone(), |done| done.config().clone()),
        })
        .collect();
    let configs: Vec<&RunConfig> = configs.iter().collect();
    let folders: Vec<(&str, &str)> = plan
        .runs
        .iter()
        .map(|r| (r.label.as_str(), r.id.as_str()))
        .collect();
    let tb_root = dir.join(store::TENSORBOARD);
    tensorboard::write_experiment(&tb_root, &plan.name, &plan.swept, &configs, &folders)
}

/// Refuses, before anything is written, what the sweep would otherwise write through: a sweep
/// folder, run folder, `tb/` (and its run folders) or `report/` under `--out` that is a symbolic
/// link or a file (`--out` itself is the user's, followed as given), and a lock file that is not
/// rowseq's own (`lock::check`).
fn check_paths(
    plan: &Plan,
    dir: &std::path::Path,
    lock_name: &str,
    opts: &Options,
) -> Result<(), crate::error::UserError> {
    store::check_folder(&opts.out, dir)?;
    lock::check(&dir.join(lock_name))?;
    lock::check(&dir.join(lock::TABLES))?;
    for r in &plan.runs {
        let run = dir.join(&r.id);
        store::check_folder(dir, &run)?;
        lock::check(&run.join(lock::LOCK))?;
    }
    let tb = dir.join(store::TENSORBOARD);
    if opts.tensorboard {
        store::check_folder(dir, &tb)?;
        for r in &plan.runs {
            store::check_folder(dir, &store::tensorboard::run_folder(&tb, &r.label, &r.id))?;
        }
    }
    store::check_folder(dir, &crate::report::default_dir(dir))
}

/// The source that `cfg` reads from, loaded into `sources` the first time it is asked for.
fn load_source<'a>(
    sources: &'a mut HashMap<String, Source>,
    cfg: &RunConfig,
    opts: &Options,
) -> Result<&'a Source, crate::error::UserError> {
    Ok(match sources.entry(Source::key(cfg)) {
        Entry::Occupied(e) => e.into_mut(),
        Entry::Vacant(e) => {
            let source = Source::load(cfg, opts.data_dir.as_deref())?;
            // A named set's folder is implicit: say which one this sweep reads (once: not
            // again in each --jobs worker).
            if source.is_named() && !opts.worker && opts.display.runs {
                let dir = crate::data::data_dir(&cfg.dataset, opts.data_dir.as_deref())?;
                println!("data: {} from {}", cfg.dataset, dir.display());
            }
            e.insert(source)
        }
    })
}

/// A sweep's running totals: what each run's end adds (`Totals::add`), in this process or, with
/// `--jobs`, as the parent reads its workers' runs back.
#[derive(Default)]
pub struct Totals {
    pub trained: usize,
    /// Runs already finished (before this invocation, or by another process meanwhile).
    pub skipped: usize,
    /// (label, reason) of the runs that failed in this invocation.
    pub failed: Vec<(String, String)>,
    /// Runs skipped because they failed in an earlier invocation.
    pub failed_before: usize,
    /// Failed runs that `--retry-failed` left failed: a rung of successive halving was decided
    /// without them and its promoted runs went on (`asha::left_failed`).
    pub left_failed: usize,
    /// (label, holder) of runs skipped because another process was training them.
    pub busy: Vec<(String, String)>,
    /// Ctrl-C stopped the sweep; the runs left resume on the next invocation.
    pub interrupted: bool,
    /// Runs paused at a rung of successive halving (`asha`).
    pub paused: usize,
    /// (label, memory of its process as it finished) of every run trained in this invocation.
    pub memory: Vec<(String, Memory)>,
}

impl Totals {
    /// Counts how run `label` ended.
    pub fn add(&mut self, label: &str, end: &RunEnd) {
        match end {
            RunEnd::Trained(result) => {
                self.trained += 1;
                if let Some(m) = result.memory {
                    self.memory.push((label.to_string(), m));
                }
            }
            RunEnd::Failed(reason) => self.failed.push((label.to_string(), reason.clone())),
            RunEnd::Busy(holder) => self.busy.push((label.to_string(), holder.clone())),
            RunEnd::AlreadyDone => self.skipped += 1,
            RunEnd::Interrupted => self.interrupted = true,
            RunEnd::Paused(_) => self.paused += 1,
        }
    }
}

/// Trains `pending` one after another in this process, adding each run's end to `totals`;
/// `fits` holds their costs (for the ETA). The tables are rewritten after every run.
fn run_serially(
    plan: &Plan,
    pending: &[&PlannedRun],
    fits: &HashMap<String, Fitted>,
    sources: &HashMap<String, Source>,
    opts: &Options,
    totals: &mut Totals,
) -> Result<()> {
    let dir = opts.out.join(&plan.name);
    let total_cost = pending
        .iter()
        .filter_map(|r| fits.get(&r.id))
        .map(Fitted::cost)
        .sum();
    let mut progress = Progress::new(pending.len(), total_cost, opts.display);
    for planned in pending {
        if interrupt::requested() {
            totals.interrupted = true;
            break;
        }
        let source = &sources[&Source::key(&planned.config)];
        let mut cx = one::RunContext {
            dir: &dir,
            opts,
            progress: &mut progress,
        };
        let end = one::run_one(planned, source, &mut cx)?;
        end.show(planned, &mut progress);
        totals.add(&planned.label, &end);
        write_tables(plan, &dir)?;
        if matches!(end, RunEnd::Interrupted) {
            break;
        }
    }
    progress.finish();
    Ok(())
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

/// A search's chosen trial: the run folders of the config with the best validation score.
fn best_line(best: &summary::Group, outcome: &Outcome) -> String {
    let runs: Vec<String> = best
        .run_ids
        .iter()
        .map(|id| outcome.dir.join(id).display().to_string())
        .collect();
    format!(
        "Ranked by validation score (test scores do not choose); the best trial: {}",
        runs.join(", ")
    )
}

/// Prints the closing table and where the results are, and with `more`, the memory used and
/// the TensorBoard command.
pub fn print_summary(plan: &Plan, outcome: &Outcome, more: bool) {
    let mut groups = summary::group(&outcome.results, plan.grid.select);
    summary::add_ensembles(&mut groups, &outcome.results, |r| {
        store::RunDir::new(&outcome.dir, &r.run_id)
            .test_probabilities()
            .ok()
            .flatten()
    });
    let search = plan.grid.search.is_some();
    if search {
        summary::rank_by_validation(&mut groups);
    }
    println!();
    print!("{}", summary::table(&groups, &plan.swept, plan.grid.select));
    if let Some(best) = groups.first().filter(|_| search) {
        println!("{}", best_line(best, outcome));
    }
    println!();
    println!(
        "{} trained, {} already done, {} failed{}{}{}; results: {}, {}, runs under {}/<run-id>/",
        outcome.totals.trained,
        outcome.totals.skipped,
        outcome.totals.failed.len(),
        match outcome.totals.paused {
            0 => String::new(),
            n => format!(", {n} rung pauses (successive halving)"),
        },
        match outcome.totals.failed_before + outcome.totals.left_failed {
            0 => String::new(),
            n => format!(", {n} skipped as failed before"),
        },
        match outcome.totals.busy.len() {
            0 => String::new(),
            n => format!(", {n} skipped as another rowseq was training them"),
        },
        outcome.dir.join(store::RESULTS_CSV).display(),
        outcome.dir.join(store::RESULTS_JSONL).display(),
        outcome.dir.display()
    );
    if !more {
        return;
    }
    if let Some(line) = memory_line(&outcome.totals.memory) {
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
