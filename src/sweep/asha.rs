/*!
Successive halving over a sweep's runs (`early_stop = "asha"`, `config::Asha`): every run
trains to the first rung's epoch and pauses there at a checkpoint (`PlannedRun::pauses`); once
every run at a rung has its validation score there (metrics.jsonl), the best go on to the next
rung, resuming from their checkpoints, and the others are recorded as stopped (`stopped.json`,
not failed). A run that goes on trains exactly as one that never paused, so the runs that reach
the last rung end with the results a plain sweep gives them.

The state of the search is read from the run folders alone (`ladder`), never kept in memory
between rungs: every decision is a function of recorded metrics, the same with `--jobs 1` or
`--jobs 4`, in any shard, and after a kill and resume. This is the synchronous form of ASHA: a
rung waits for all its runs, where ASHA's asynchronous promotions would depend on which run
finished first. A shard trains its share of each rung, then waits (`--wait`) for the other
shards' runs at that rung, or ends and says so, to be run again once they are done.
*/
use std::collections::HashMap;
use std::path::Path;

use anyhow::Result;

use super::plan::{Fitted, Plan, PlannedRun};
use super::{Options, Totals};
use crate::config::{Asha, Keep};
use crate::data::Source;
use crate::interrupt;
use crate::records::Stopped;
use crate::store::RunDir;

/// One rung as the records have it: its epoch, the runs at it (indices into the plan's
/// runs), whether every one has its record there, and those that go on (once complete).
#[derive(Clone, Debug, PartialEq)]
pub struct Rung {
    pub epoch: usize,
    pub runs: Vec<usize>,
    pub complete: bool,
    pub promoted: Vec<usize>,
    /// Each run's validation score at the rung, as `runs` orders them.
    pub scores: Vec<Option<f64>>,
    /// Whether a failed run here is trained again (`--retry-failed`, and the rung not yet
    /// acted on) rather than counted as having reached it.
    pub retried: bool,
}

/// A run's validation score at `epoch`, as recorded: the score of the epoch it would keep if
/// it ended there (`keep`: that epoch's, or with "best_val" the best up to it), over the
/// epochs it trained up to `epoch` (a run that early stopping ended before it: all of them);
/// None without one.
fn score_at(run: &RunDir, epoch: usize, keep: Keep) -> Option<f64> {
    let metrics = run.metrics().ok()?;
    let upto: Vec<_> = metrics.into_iter().filter(|m| m.epoch <= epoch).collect();
    if upto.len() < epoch && !matches!(run.result(), Ok(Some(_))) {
        return None;
    }
    let at = match keep {
        Keep::BestVal => crate::records::best_val(&upto),
        Keep::Last => upto.last(),
    }?;
    Some(at.val_score()).filter(|s| !s.is_nan())
}

/// Whether a run has its record at `epoch`: trained through it, finished, or failed (unless
/// failed runs are retried).
fn reached(run: &RunDir, epoch: usize, retry_failed: bool) -> bool {
    matches!(run.result(), Ok(Some(_)))
        || (!retry_failed && run.failed().is_some())
        || run.metrics().is_ok_and(|m| m.len() >= epoch)
}

/// Whether the rung `k` at `epoch` over `runs` has been acted on: a run there was recorded as
/// stopped at it, or trained past it. Such a rung was decided, and stays decided: a failed
/// run retried (`--retry-failed`) cannot reopen it, since the runs it promoted have gone on.
fn acted(runs: &[RunDir], k: usize, epoch: usize) -> bool {
    runs.iter().any(|run| {
        run.stopped().is_some_and(|s| s.rung == k) || run.metrics().is_ok_and(|m| m.len() > epoch)
    })
}

/// The epoch of every rung of `asha` over the plan's epoch budget.
fn rung_epochs(plan: &Plan, asha: Asha) -> Vec<usize> {
    let epochs = plan
        .runs
        .first()
        .and_then(|r| r.config.epochs.fixed())
        .unwrap_or(0);
    asha.rungs(epochs)
}

/// The search's rungs as the run folders in `dir` record them, up to the first that is not
/// complete (or the last). With `retry_failed`, a failed run no longer counts as having
/// reached its rung, so the rung waits for it, unless the rung was already acted on (`acted`).
pub fn ladder(plan: &Plan, dir: &Path, asha: Asha, retry_failed: bool) -> Vec<Rung> {
    let budgets = rung_epochs(plan, asha);
    let mut active: Vec<usize> = (0..plan.runs.len()).collect();
    let mut rungs = Vec::new();
    for (k, &epoch) in budgets.iter().enumerate() {
        let folders: Vec<RunDir> = active
            .iter()
            .map(|&i| RunDir::new(dir, &plan.runs[i].id))
            .collect();
        let retry = retry_failed && !acted(&folders, k, epoch);
        let complete = folders.iter().all(|run| reached(run, epoch, retry));
        let scores: Vec<Option<f64>> = folders
            .iter()
            .zip(&active)
            .map(|(run, &i)| score_at(run, epoch, plan.runs[i].config.keep))
            .collect();
        let last = k + 1 == budgets.len();
        let promoted: Vec<usize> = match complete && !last {
            true => asha
                .promoted(&scores)
                .into_iter()
                .map(|j| active[j])
                .collect(),
            false => Vec::new(),
        };
        rungs.push(Rung {
            epoch,
            runs: active.clone(),
            complete,
            promoted: promoted.clone(),
            scores,
            retried: retry,
        });
        if !complete || last {
            break;
        }
        active = promoted;
    }
    rungs
}

/// Records every run that a decided rung did not promote (and that did not finish or fail)
/// as stopped there; a run already recorded is left as it is.
fn record_stops(plan: &Plan, dir: &Path, rungs: &[Rung], asha: Asha) -> Result<usize> {
    let epochs = rung_epochs(plan, asha);
    let mut stopped = 0;
    for (k, rung) in rungs.iter().enumerate() {
        if !rung.complete || (rung.promoted.is_empty() && k + 1 == rungs.len()) {
            continue;
        }
        for (j, &i) in rung.runs.iter().enumerate() {
            if rung.promoted.contains(&i) {
                continue;
            }
            let (planned, run) = (&plan.runs[i], RunDir::new(dir, &plan.runs[i].id));
            if matches!(run.result(), Ok(Some(_))) || run.failed().is_some() {
                continue;
            }
            stopped += 1;
            if run.stopped().is_none() {
                run.write_stopped(&Stopped {
                    run_id: planned.id.clone(),
                    label: planned.label.clone(),
                    rung: k,
                    epoch: rung.epoch,
                    val_score: rung.scores[j],
                    at_rung: rung.runs.len(),
                    promoted: rung.promoted.len(),
                    asha: Some(asha),
                    rungs: epochs.clone(),
                })?;
            }
        }
    }
    Ok(stopped)
}

/// One line for `status` and the sweep's end: the rungs' epochs and how many runs reached each.
pub fn summary(rungs: &[Rung], asha: Asha, epochs: usize) -> String {
    let all = asha.rungs(epochs);
    let reached: Vec<String> = all
        .iter()
        .enumerate()
        .map(|(k, e)| match rungs.get(k) {
            Some(r) if r.complete => format!("{} at epoch {e}", r.runs.len()),
            Some(r) => format!("{} at epoch {e} (in progress)", r.runs.len()),
            None => format!("– at epoch {e}"),
        })
        .collect();
    format!(
        "successive halving (grace_period = {}, reduction_factor = {}): {}",
        asha.grace_period,
        asha.reduction_factor,
        reached.join(" -> ")
    )
}

/// The sweep's own share (`mine`) of a successive-halving search, rung by rung: the runs of
/// the first undecided rung that have not reached it train to it (pausing there), then the
/// rung is decided from the records; until the last rung is done, Ctrl-C, or a rung waits on
/// runs this process does not train (another shard's, or another process's).
#[allow(clippy::too_many_arguments)]
pub fn run(
    plan: &Plan,
    asha: Asha,
    mine: &[&PlannedRun],
    fits: &HashMap<String, Fitted>,
    sources: &HashMap<String, Source>,
    opts: &Options,
    totals: &mut Totals,
    dir: &Path,
) -> Result<()> {
    let mut last_todo: Vec<String> = Vec::new();
    loop {
        let rungs = ladder(plan, dir, asha, opts.retry_failed);
        record_stops(plan, dir, &rungs, asha)?;
        let Some(rung) = rungs.iter().find(|r| !r.complete) else {
            break;
        };
        let at_rung = |r: &&PlannedRun| {
            let i = plan.runs.iter().position(|p| p.id == r.id);
            i.is_some_and(|i| rung.runs.contains(&i))
        };
        let todo: Vec<&PlannedRun> = mine
            .iter()
            .copied()
            .filter(at_rung)
            .filter(|r| !reached(&RunDir::new(dir, &r.id), rung.epoch, rung.retried))
            .collect();
        let ids: Vec<String> = todo.iter().map(|r| r.id.clone()).collect();
        if todo.is_empty() || ids == last_todo {
            let waiting = rung
                .runs
                .iter()
                .filter(|&&i| !reached(&RunDir::new(dir, &plan.runs[i].id), rung.epoch, false))
                .count();
            if interrupt::requested() {
                totals.interrupted = true;
                break;
            }
            if todo.is_empty() && opts.contended == super::lock::Contended::Wait && waiting > 0 {
                std::thread::sleep(std::time::Duration::from_millis(500));
                continue;
            }
            if opts.display.runs && waiting > 0 {
                println!(
                    "successive halving: the rung at epoch {} waits for {waiting} run(s) that \
                     this process does not train (another shard's, or another rowseq's): run \
                     this command again once they are done{}",
                    rung.epoch,
                    match opts.contended {
                        super::lock::Contended::Wait => "",
                        _ => ", or pass --wait",
                    }
                );
            }
            break;
        }
        last_todo = ids;
        if opts.jobs > 1 && todo.len() > 1 {
            super::jobs::run(plan, &todo, fits, dir, opts, totals)?;
        } else {
            super::run_serially(plan, &todo, fits, sources, opts, totals)?;
        }
        if totals.interrupted || interrupt::requested() {
            break;
        }
    }
    if opts.retry_failed {
        let lines = left_failed(plan, dir, &ladder(plan, dir, asha, true));
        totals.left_failed = lines.len();
        if opts.display.runs {
            for line in lines {
                println!("{line}");
            }
        }
    }
    if opts.display.runs {
        let epochs = plan.runs[0].config.epochs.fixed().unwrap_or(0);
        let rungs = ladder(plan, dir, asha, false);
        println!("{}", summary(&rungs, asha, epochs));
    }
    Ok(())
}

/// What `--retry-failed` leaves failed, one line a run: the runs that failed at a rung decided
/// without them, whose promoted runs have gone on (`acted`).
fn left_failed(plan: &Plan, dir: &Path, rungs: &[Rung]) -> Vec<String> {
    let mut lines = Vec::new();
    for rung in rungs.iter().filter(|r| r.complete && !r.retried) {
        for &i in &rung.runs {
            let run = RunDir::new(dir, &plan.runs[i].id);
            if run.failed().is_some() && !matches!(run.result(), Ok(Some(_))) {
                lines.push(format!(
                    "successive halving: {} ({}) failed before the rung at epoch {} was \
                     decided, and that rung's runs have gone on without it: --retry-failed \
                     leaves it failed (a new search folder trains it)",
                    plan.runs[i].id, plan.runs[i].label, rung.epoch
                ));
            }
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rungs at 1, 3, 9 and the budget; at each the best third (at least one) goes on, ties to
    /// the earlier run, a run without a score last.
    #[test]
    fn rungs_and_promotions_by_hand() {
        let a = Asha {
            grace_period: 1,
            reduction_factor: 3,
        };
        assert_eq!(a.rungs(27), [1, 3, 9, 27]);
        assert_eq!(a.rungs(20), [1, 3, 9, 20]);
        assert_eq!(a.rungs(2), [1, 2]);
        let b = Asha {
            grace_period: 2,
            reduction_factor: 2,
        };
        assert_eq!(b.rungs(8), [2, 4, 8]);
        // Nine runs: three go on, the best three by score, in plan order.
        let s = [0.5, 0.9, 0.1, 0.7, 0.9, 0.2, 0.3, 0.8, 0.4].map(Some);
        assert_eq!(a.promoted(&s), [1, 4, 7]);
        // A tie at the cut goes to the earlier run; NaN and None never go on before a score.
        let s = [
            Some(0.5),
            Some(f64::NAN),
            None,
            Some(0.5),
            Some(0.5),
            Some(0.1),
        ];
        assert_eq!(a.promoted(&s), [0, 3]);
        assert_eq!(a.promoted(&[None, Some(0.1)]), [1]);
        assert_eq!(a.promoted(&[None, None]), Vec::<usize>::new());
        // Fewer runs than the factor: the best one.
        assert_eq!(a.promoted(&[Some(0.1), Some(0.3)]), [1]);
    }
}
