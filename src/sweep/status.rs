/*!
Where a sweep stands, read from its folder alone: each planned run is done (`result.json`),
failed (`failed.json`, with its reason, or a `result.json` that cannot be read or belongs to
another run; retried only with `--retry-failed`), stopped at a rung by successive halving
(`stopped.json`), running (a live process holds the run's
lock), interrupted (epochs or a checkpoint on disk, no one training it: the next invocation
resumes it) or pending (nothing on disk yet).
Run folders that the plan no longer contains (the config changed) are listed apart: they are
kept, but left out of the tables. `rowseq status` rebuilds the plan from the folder's
`sweep.json` (`render_folder`); `--dry-run` lists each run as done or pending (`dry_run`).
*/
use std::fmt::Write;
use std::path::Path;

use crate::store::CHECKPOINT;
use crate::store::{self, RunDir};

use super::lock;
use super::plan::Plan;

#[derive(Clone, Debug, PartialEq)]
pub enum State {
    /// Its scores, as `RunResult::headline` gives them.
    Done {
        scores: String,
    },
    Running {
        epochs: usize,
    },
    Interrupted {
        epochs: usize,
    },
    Failed {
        reason: String,
    },
    /// Successive halving stopped it at a rung: (its record).
    Stopped(crate::records::Stopped),
    /// Successive halving paused it at a rung, which is not yet decided.
    Paused {
        epochs: usize,
    },
    Pending,
}

impl State {
    pub fn word(&self) -> &'static str {
        match self {
            State::Done { .. } => "done",
            State::Running { .. } => "running",
            State::Interrupted { .. } => "interrupted",
            State::Failed { .. } => "failed",
            State::Stopped(_) => "stopped",
            State::Paused { .. } => "paused",
            State::Pending => "pending",
        }
    }
}

pub struct RunStatus {
    pub id: String,
    pub label: String,
    /// The run's epochs: its resolved budget once it has started (`resolved.json`), else the
    /// config's ("auto": a budget the data will choose).
    pub epochs: crate::config::Count,
    pub state: State,
}

/// Epochs finished on disk (lines of `metrics.jsonl`); for a run that chooses on validation
/// (`records::Choice`), the epochs its candidates have trained, all together.
fn epochs_on_disk(run: &RunDir) -> Option<usize> {
    let metrics = store::read_text(&run.path.join(store::METRICS)).ok();
    let has_checkpoint = run.path.join(CHECKPOINT).exists();
    match metrics {
        Some(text) => Some(text.lines().count()),
        None if has_checkpoint => Some(0),
        None => {
            let candidates = std::fs::read_dir(run.path.join(store::CANDIDATES)).ok()?;
            let counts: Vec<usize> = candidates
                .flatten()
                .filter_map(|e| epochs_on_disk(&RunDir { path: e.path() }))
                .collect();
            (!counts.is_empty()).then(|| counts.iter().sum())
        }
    }
}

/// The state of every planned run, in plan order.
pub fn of_plan(plan: &Plan, dir: &Path) -> Vec<RunStatus> {
    plan.runs
        .iter()
        .map(|r| {
            let run = RunDir::new(dir, &r.id);
            let state = if let Ok(Some(result)) = run.result() {
                State::Done {
                    scores: match result.config.task {
                        crate::config::Task::Classify => format!(
                            "test acc {:.4}{}",
                            result.test_acc,
                            match result.warnings.len() {
                                0 => String::new(),
                                n => format!(
                                    " (warning{}: {})",
                                    if n == 1 { "" } else { "s" },
                                    result.warnings.join("; ")
                                ),
                            }
                        ),
                        _ => result.headline(),
                    },
                }
            } else if let Some(reason) = run.failed() {
                State::Failed { reason }
            } else if let Some(stopped) = run.stopped() {
                State::Stopped(stopped)
            } else if let Some(epochs) = epochs_on_disk(&run) {
                if lock::run_holder(&run.path).is_some() {
                    State::Running { epochs }
                } else if r.pauses.contains(&epochs) {
                    State::Paused { epochs }
                } else {
                    State::Interrupted { epochs }
                }
            } else {
                State::Pending
            };
            RunStatus {
                id: r.id.clone(),
                label: r.label.clone(),
                epochs: run
                    .resolved()
                    .map_or(r.config.epochs, |t| crate::config::Count::Fixed(t.epochs())),
                state,
            }
        })
        .collect()
}

/// `3/12 epochs`, or `3 epochs of an automatic budget` where the data chooses it.
fn of_epochs(done: usize, planned: crate::config::Count) -> String {
    match planned {
        crate::config::Count::Fixed(n) => format!("{done}/{n} epochs"),
        crate::config::Count::Auto => format!("{done} epochs of a budget chosen from the data"),
    }
}

/// Run folders in `dir` that `plan` does not contain: (id, label).
pub fn strays(plan: &Plan, dir: &Path) -> Vec<(String, String)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<(String, String)> = entries
        .flatten()
        .filter_map(|e| {
            let id = e.file_name().to_string_lossy().to_string();
            let cfg = RunDir::new(dir, &id).config().ok()?;
            (!plan.runs.iter().any(|r| r.id == id)).then(|| (id, cfg.label(&plan.swept)))
        })
        .collect();
    out.sort();
    out
}

/// The status report: a count line, one line per run, and the strays.
pub fn render(plan: &Plan, dir: &Path) -> String {
    let runs = of_plan(plan, dir);
    let count = |w: &str| runs.iter().filter(|r| r.state.word() == w).count();
    let mut out = String::new();
    let holder = lock::holder(dir);
    let _ = writeln!(
        out,
        "sweep {} in {}: {} runs: {} done, {} running, {} failed, {}{} pending{}{}",
        plan.name,
        dir.display(),
        runs.len(),
        count("done"),
        count("running"),
        count("failed"),
        match count("stopped") {
            0 => String::new(),
            n => format!("{n} stopped at a rung, "),
        },
        count("pending") + count("interrupted") + count("paused"),
        match count("interrupted") {
            0 => String::new(),
            n => format!(" ({n} interrupted, will resume)"),
        },
        match &holder {
            Some(h) => format!("; in use by rowseq ({h})"),
            None => String::new(),
        }
    );
    if let Some(search) = &plan.grid.search {
        let _ = writeln!(out, "  {}", search.summary());
    }
    if let (Some(asha), Some(first)) = (plan.asha(), plan.runs.first()) {
        let rungs = super::asha::ladder(plan, dir, asha, false);
        let epochs = first.config.epochs.fixed().unwrap_or(0);
        let _ = writeln!(out, "  {}", super::asha::summary(&rungs, asha, epochs));
    }
    let width = runs.iter().map(|r| r.label.len()).max().unwrap_or(0);
    for r in &runs {
        let detail = detail(r);
        let _ = writeln!(
            out,
            "  {} {:<11} {:<width$}  {}",
            r.id,
            r.state.word(),
            r.label,
            detail
        );
    }
    let strays = strays(plan, dir);
    if !strays.is_empty() {
        let _ = writeln!(
            out,
            "{} run folders no longer belong to this sweep (kept, left out of the tables):",
            strays.len()
        );
        for (id, label) in strays {
            let _ = writeln!(out, "  {id} {label}");
        }
    }
    out
}

/// What the status line of run `r` says after its state.
fn detail(r: &RunStatus) -> String {
    match &r.state {
        State::Done { scores } => scores.clone(),
        State::Running { epochs } => of_epochs(*epochs, r.epochs),
        State::Interrupted { epochs } => {
            format!("{}, resumes on the next run", of_epochs(*epochs, r.epochs))
        }
        State::Failed { reason } => format!("{reason} (retry with --retry-failed)"),
        State::Stopped(s) => format!(
            "after {} epochs, at rung {} (validation score {}; {} of {} runs went on)",
            s.epoch,
            s.rung,
            s.val_score
                .map_or_else(|| "none".to_string(), |v| format!("{v:.4}")),
            s.promoted,
            s.at_rung
        ),
        State::Paused { epochs } => format!(
            "{}, paused at its rung until every run there has its score",
            of_epochs(*epochs, r.epochs)
        ),
        State::Pending => String::new(),
    }
}

/// The status report of a sweep folder, its plan rebuilt from the folder's `sweep.json`.
pub fn render_folder(dir: &Path) -> anyhow::Result<String> {
    let record = store::load_sweep(dir)?;
    let origin = dir.join(store::SWEEP).display().to_string();
    let plan = Plan::new(&crate::config::SweepConfig::checked(
        &record.name,
        record.select,
        &record.grid,
        record.search.as_ref(),
        &origin,
    )?);
    // The runs the record planned: a `train` folder's gathered runs are not the product of
    // its grid, so the plan keeps the recorded ids and reads any other one's config.json.
    let plan = plan.only(&record.runs, dir);
    Ok(render(&plan, dir))
}

/// `--dry-run`'s lines: each planned run's id, whether it is done, and its label.
pub fn dry_run(plan: &Plan, dir: &Path) -> String {
    let mut out = String::new();
    for r in &plan.runs {
        let done = RunDir::new(dir, &r.id).finished().is_some();
        let _ = writeln!(
            out,
            "{} {} {}",
            r.id,
            if done { "done   " } else { "pending" },
            r.label
        );
    }
    out
}
