/*!
One run's lifecycle, the same in a sweep's own process and in a `--jobs` worker: take the run's
lock, see what another process did meanwhile, resume from the checkpoint (keeping the thread
count it started with), train under the checkpoint and Ctrl-C policies with the progress,
TensorBoard and test-hold sinks, then write the weights, the test predictions and the result,
or the failure.
*/
use anyhow::Result;

use super::lock::{Contended, SweepLock};
use super::{plan, Fitted, Options, PlannedRun};
use crate::data::{Dataset, Source};
use crate::env;
use crate::interrupt;
use crate::records::{Candidate, Choice, Environment, Refit, RunResult};
use crate::sinks::hold::Hold;
use crate::sinks::tensorboard;
use crate::sinks::{Progress, TensorBoard};
use crate::store::{self, Checkpoint, RunDir, CHECKPOINT};
use crate::train::{self, checkpoint, Outcome as Trained, Policies, Sink};

/// How one run ended.
pub enum RunEnd {
    Trained(Box<RunResult>),
    Failed(String),
    /// Another process holds the run's lock: (its holder).
    Busy(String),
    /// It was finished by another process while this one waited for its lock.
    AlreadyDone,
    /// Ctrl-C stopped it after an epoch: it resumes from that epoch's checkpoint.
    Interrupted,
    /// Successive halving paused it after this rung epoch, at a checkpoint: it goes on if
    /// its rung promotes it (`sweep::asha`).
    Paused(usize),
}

impl RunEnd {
    /// Says how `planned` ended, on the progress display.
    pub fn show(&self, planned: &PlannedRun, progress: &mut Progress) {
        let (label, id) = (&planned.label, &planned.id);
        match self {
            RunEnd::Interrupted => {
                progress.note(&format!("stopped {label} [{id}] after a checkpoint"))
            }
            RunEnd::Paused(epoch) => progress.finish_run(
                &format!("paused {label} [{id}] at its rung, after epoch {epoch}"),
                false,
            ),
            RunEnd::Trained(result) => {
                progress.finish_run(
                    &format!(
                        "done {label} [{id}]: {}, {}/epoch{}",
                        result.headline(),
                        crate::sinks::progress::seconds(result.seconds_per_epoch),
                        result
                            .memory
                            .map_or_else(String::new, |m| format!(", RSS {:.0} MiB", m.rss_mib)),
                    ),
                    false,
                );
                for w in &result.warnings {
                    progress.println(&format!("warning: {label} [{id}]: {w}"));
                }
            }
            RunEnd::Failed(reason) => {
                progress.finish_run(&format!("FAILED {label} [{id}]: {reason}"), true)
            }
            RunEnd::Busy(holder) => progress.finish_run(
                &format!("skipped {label} [{id}]: another rowseq ({holder}) is training it"),
                false,
            ),
            RunEnd::AlreadyDone => progress.finish_run(
                &format!("{label} [{id}] was finished by another rowseq"),
                false,
            ),
        }
    }
}

/// Where a run trains and what it reports to: the sweep folder, the sweep's options, and its
/// progress display.
pub struct RunContext<'a> {
    pub dir: &'a std::path::Path,
    pub opts: &'a Options,
    pub progress: &'a mut Progress,
}

/// One run, start to end, holding its folder's lock: resumes from its checkpoint, trains,
/// writes its weights and result (or its failure). Errors are those of the sweep (a file that
/// cannot be written), not of the run: a full disk (`store::disk_full`) is one of them, never
/// the run's failure, so that the same command resumes the run once space is freed.
pub fn run_one(planned: &PlannedRun, source: &Source, cx: &mut RunContext) -> Result<RunEnd> {
    let run_dir = RunDir::new(cx.dir, &planned.id);
    run_dir.create()?;
    let (_run_lock, retried) = match claim(planned, &run_dir, cx)? {
        Ok(claimed) => claimed,
        Err(end) => return Ok(end),
    };
    let retrying = retried.is_some();
    run_dir.write_config(&planned.config)?;
    let (resume, mut threads) = match start_point(planned, &run_dir, retrying, cx)? {
        Ok(found) => found,
        Err(reason) => return record_failure(planned, &run_dir, reason),
    };
    // A run that chooses on validation keeps the thread count its first candidate started
    // with, for its split as for every candidate, so that it resumes bit-identically.
    if resume.is_none() {
        if let Some(t) = run_dir.candidates_threads() {
            threads = t;
        }
    }
    let opts = cx.opts;
    tch::set_num_threads(threads as i32);
    let lstm = planned.config.cell == crate::config::Cell::Lstm;
    let environment = env::run_environment(opts.device, threads, lstm);
    let data = split_with_baselines(planned, source)?;
    let fitted = Fitted::of(planned, &data);
    // Recorded before training, so that status, explain and predict read what this run
    // trains, also while it runs.
    run_dir.write_resolved(&fitted.resolved)?;
    if !fitted.candidates.is_empty() {
        return choose(
            planned,
            &run_dir,
            &fitted,
            &data,
            retried.as_deref(),
            threads,
            cx,
        );
    }
    if let Some(c) = &resume {
        cx.progress.note(&format!(
            "resuming {} [{}] after epoch {}/{}",
            planned.label,
            planned.id,
            c.state.epoch,
            fitted.resolved.epochs()
        ));
    }
    if let Some(n) = &data.normalization {
        run_dir.write_normalization(n)?;
    }
    let mut board = board(planned, &environment, cx);
    let training = Training {
        planned,
        run_dir: &run_dir,
        fitted: &fitted,
        data: &data,
        resume: resume.as_ref(),
        threads,
    };
    match training.train(cx, board.as_mut()) {
        Ok(Trained::Stopped) if interrupt::requested() => Ok(RunEnd::Interrupted),
        Ok(Trained::Stopped) => Ok(RunEnd::Paused(run_dir.metrics().map_or(0, |m| m.len()))),
        Err(e) if store::disk_full(&e) => Err(e),
        Err(e) => record_failure(planned, &run_dir, format!("{e:#}")),
        Ok(Trained::Finished(done)) => {
            let (result, confusion) = finish(
                planned,
                &fitted.resolved,
                &run_dir,
                &done,
                &data,
                &environment,
                opts.device,
            )?;
            if let (Some(board), Some(c)) = (&mut board, &confusion) {
                board.confusion(c, result.epochs as i64)?;
            }
            Ok(RunEnd::Trained(Box::new(result)))
        }
    }
}

/// A run that chooses on validation (`Fitted::candidates`): trains each candidate in turn as a
/// run of its own in the run's folder of candidates (resuming from its checkpoint, skipped once
/// finished), then keeps the one with the best validation score (`records::Choice::best`). With
/// `refit`, the kept candidate trains again on the training and validation series together in
/// the run's `refit/` folder, and that training's model, records and test scores become the
/// run's, with the kept candidate's validation scores; otherwise the kept candidate's do. The
/// result records the choice (and the refit). A candidate's failure is the run's; Ctrl-C stops
/// after a checkpoint. `retried`: the failure the run retries, if any; `run_threads`: what a
/// candidate that starts afresh trains on.
fn choose(
    planned: &PlannedRun,
    run_dir: &RunDir,
    fitted: &Fitted,
    data: &Dataset,
    retried: Option<&str>,
    run_threads: usize,
    cx: &mut RunContext,
) -> Result<RunEnd> {
    // A run-level checkpoint or metrics left by a version that trained once are not this
    // run's: its candidates train from their own.
    for f in [CHECKPOINT, store::METRICS] {
        store::remove_if_present(&run_dir.path.join(f))?;
    }
    let mut done: Vec<RunResult> = Vec::new();
    for (candidate, resolved) in &fitted.candidates {
        let folder = run_dir.candidate(&candidate.id)?;
        let trainee = Trainee {
            planned: candidate,
            resolved,
            folder: &folder,
            data,
        };
        match trainee.train(planned, run_dir, fitted, retried, run_threads, cx)? {
            Ok(result) => done.push(result),
            Err(end) => return Ok(end),
        }
    }
    let scores: Vec<(f64, f64)> = done.iter().map(|r| (r.val_acc, r.val_loss)).collect();
    let chosen = Choice::best(&scores);
    let kept = &fitted.candidates[chosen];
    let (mut result, resolved, folder, refit) = match fitted.resolved.refit {
        false => (
            done[chosen].clone(),
            kept.1.clone(),
            RunDir::new(&run_dir.path.join(store::CANDIDATES), &kept.0.id),
            None,
        ),
        true => {
            let (refit, resolved) = Fitted::refitted(kept);
            let folder = run_dir.refit()?;
            let both = data.with_validation_in_training();
            let trainee = Trainee {
                planned: &refit,
                resolved: &resolved,
                folder: &folder,
                data: &both,
            };
            let mut result =
                match trainee.train(planned, run_dir, fitted, retried, run_threads, cx)? {
                    Ok(result) => result,
                    Err(end) => return Ok(end),
                };
            let record = Refit {
                run_id: refit.id.clone(),
                train_size: result.train_size,
                train_seconds: result.train_seconds,
                val_acc: result.val_acc,
            };
            // The run's validation scores are those of the kept candidate, which never saw
            // the validation series, and its splits stay the splits it was cut into (the
            // refit's training series are both: `choice.refit.train_size`).
            let kept = &done[chosen];
            result.train_size = kept.train_size;
            result.val_acc = kept.val_acc;
            result.val_loss = kept.val_loss;
            result.best_val_acc = kept.best_val_acc;
            result.best_val_epoch = kept.best_val_epoch;
            // The epoch validation selects, and the refit's test score at that epoch (its
            // curves are the run's).
            result.best_val_test_acc = folder
                .metrics()?
                .iter()
                .find(|m| m.epoch == kept.best_val_epoch)
                .map(|m| m.test_acc)
                .filter(|a| !a.is_nan());
            (result, resolved, folder, Some(record))
        }
    };
    run_dir.adopt(&folder)?;
    run_dir.write_resolved(&resolved)?;
    result.run_id = planned.id.clone();
    result.label = planned.label.clone();
    result.config = planned.config.clone();
    result.resolved = Some(resolved.clone());
    let chose_noise = fitted.candidates.len() > 1;
    result.choice = Some(Choice {
        key: if chose_noise { "noise" } else { "refit" }.into(),
        candidates: fitted
            .candidates
            .iter()
            .zip(&done)
            .map(|((c, r), d)| Candidate {
                value: r.noise(),
                run_id: c.id.clone(),
                val_acc: d.val_acc,
                val_loss: d.val_loss,
                train_seconds: d.train_seconds,
            })
            .collect(),
        chosen,
        why: match chose_noise {
            true => {
                "the candidate with the highest validation accuracy of its kept epoch (then \
                     the lowest validation loss, then the first)"
            }
            false => "the one config, trained on the training series to score validation",
        }
        .into(),
        refit,
    });
    run_dir.write_result(&result)?;
    Ok(RunEnd::Trained(Box::new(result)))
}

/// One training of a run that chooses: a candidate, or the kept one's refit, with the config
/// it trains, its folder and the data it trains on.
struct Trainee<'a> {
    planned: &'a PlannedRun,
    resolved: &'a crate::config::Resolved,
    folder: &'a RunDir,
    data: &'a Dataset,
}

impl Trainee<'_> {
    /// Trains this one as a run of its own in its folder (resuming from its checkpoint, or
    /// reading its result once finished). Ok(Err(end)): how `run` ended instead (Ctrl-C, or
    /// the failure recorded as the run's); errors are the sweep's.
    fn train(
        &self,
        run: &PlannedRun,
        run_dir: &RunDir,
        fitted: &Fitted,
        retried: Option<&str>,
        run_threads: usize,
        cx: &mut RunContext,
    ) -> Result<Result<RunResult, RunEnd>> {
        let (candidate, folder, data) = (self.planned, self.folder, self.data);
        if interrupt::requested() {
            return Ok(Err(RunEnd::Interrupted));
        }
        store::remove_temporaries(&folder.path)?;
        // A retried failure of this candidate clears its records as `claim` clears a run's.
        if let Some(reason) = retried.filter(|r| r.contains(&candidate.id)) {
            for f in retried_records(reason) {
                store::remove_if_present(&folder.path.join(f))?;
            }
        }
        // By id, not by folder name: the refit's folder is `refit/`.
        match folder.result_of(&candidate.id) {
            Ok(Some(result)) => return Ok(Ok(result)),
            Ok(None) => {}
            Err(e) => {
                let reason = format!("candidate {} [{}]: {e}", candidate.label, candidate.id);
                return record_failure(run, run_dir, reason).map(Err);
            }
        }
        folder.write_config(&candidate.config)?;
        folder.write_resolved(self.resolved)?;
        let (resume, threads) = match start_point(candidate, folder, retried.is_some(), cx)? {
            // A candidate that starts afresh trains on the run's thread count.
            Ok((None, _)) => (None, run_threads),
            Ok(found) => found,
            Err(reason) => return record_failure(run, run_dir, reason).map(Err),
        };
        tch::set_num_threads(threads as i32);
        let lstm = run.config.cell == crate::config::Cell::Lstm;
        let environment = env::run_environment(cx.opts.device, threads, lstm);
        if let Some(n) = &data.normalization {
            folder.write_normalization(n)?;
        }
        let mut board = board(candidate, &environment, cx);
        let fit = Fitted {
            resolved: self.resolved.clone(),
            cost_per_epoch: fitted.cost_per_epoch,
            candidates: Vec::new(),
        };
        let training = Training {
            planned: candidate,
            run_dir: folder,
            fitted: &fit,
            data,
            resume: resume.as_ref(),
            threads,
        };
        match training.train(cx, board.as_mut()) {
            Ok(Trained::Stopped) => Ok(Err(RunEnd::Interrupted)),
            Err(e) if store::disk_full(&e) => Err(e),
            Err(e) => {
                let reason = format!("candidate {} [{}]: {e:#}", candidate.label, candidate.id);
                record_failure(run, run_dir, reason).map(Err)
            }
            Ok(Trained::Finished(trained)) => {
                let (result, confusion) = finish(
                    candidate,
                    self.resolved,
                    folder,
                    &trained,
                    data,
                    &environment,
                    cx.opts.device,
                )?;
                if let (Some(board), Some(c)) = (&mut board, &confusion) {
                    board.confusion(c, result.epochs as i64)?;
                }
                Ok(Ok(result))
            }
        }
    }
}

/// Where `planned` starts in `run_dir`: `resume_point`, except that a retried run starts afresh
/// from a checkpoint that cannot be used. Errors are the sweep's (a file that cannot be
/// removed); the inner error is the run's failure.
fn start_point(
    planned: &PlannedRun,
    run_dir: &RunDir,
    retrying: bool,
    cx: &mut RunContext,
) -> Result<Result<(Option<Checkpoint>, usize), String>> {
    match resume_point(planned, run_dir, cx) {
        Err(_) if retrying => {
            for f in [CHECKPOINT, store::METRICS] {
                store::remove_if_present(&run_dir.path.join(f))?;
            }
            Ok(Ok((None, cx.opts.threads)))
        }
        found => Ok(found),
    }
}

/// The TensorBoard writer of `planned`, when the sweep writes TensorBoard logs.
fn board(planned: &PlannedRun, environment: &Environment, cx: &RunContext) -> Option<TensorBoard> {
    cx.opts.tensorboard.then(|| {
        TensorBoard::new(
            &cx.dir.join(store::TENSORBOARD),
            &planned.id,
            &planned.label,
            environment,
            &cx.opts.command,
        )
    })
}

/// The run's data split as its config asks, with the baselines it is scored against: the
/// nearest neighbour and, for a forecast, AutoETS.
fn split_with_baselines(planned: &PlannedRun, source: &Source) -> Result<Dataset> {
    let mut data = source.split(&planned.config)?;
    data.neighbours = source.nearest_neighbour(data.test.len());
    if let Some(f) = data.forecast.as_mut() {
        f.ets = source.ets(f, f.season);
    }
    Ok(data)
}

/// The run's failure recorded in its folder (`failed.json`). On a full disk it says what failed
/// first, not only that recording it failed too.
fn record_failure(planned: &PlannedRun, run_dir: &RunDir, reason: String) -> Result<RunEnd> {
    let failure = planned.failure(&reason);
    run_dir
        .write_failure(&failure)
        .map_err(|e| anyhow::anyhow!("run {} failed: {reason}; {e:#}", planned.label))?;
    Ok(RunEnd::Failed(reason))
}

/// What one run trains on and from: its plan, folder, fit, data and checkpoint.
struct Training<'a> {
    planned: &'a PlannedRun,
    run_dir: &'a RunDir,
    fitted: &'a Fitted,
    data: &'a Dataset,
    resume: Option<&'a Checkpoint>,
    threads: usize,
}

impl Training<'_> {
    /// Trains the run with its sinks (the hold of a test, the progress display, TensorBoard).
    /// Each finished epoch is on disk (metrics, checkpoint) before any sink hears of it, and
    /// Ctrl-C stops the run only after that.
    fn train(&self, cx: &mut RunContext, mut board: Option<&mut TensorBoard>) -> Result<Trained> {
        let (planned, run_dir, threads) = (self.planned, self.run_dir, self.threads);
        let mut persist = |metrics: &[crate::records::EpochMetrics],
                           vs: &tch::nn::VarStore,
                           opt: &train::Adam,
                           kept: Option<&train::keep::Snapshot>| {
            run_dir.write_metrics(metrics)?;
            checkpoint::save(run_dir, &planned.config, metrics, vs, opt, kept, threads)
        };
        let mut policies = Policies {
            persist: &mut persist,
            should_stop: &|epoch| interrupt::requested() || planned.pauses.contains(&epoch),
            look: board
                .is_some()
                .then(|| tensorboard::looks(self.fitted.resolved.epochs())),
        };
        let mut hold = Hold::from_env(&planned.id);
        let mut shown = cx.progress.run(
            &planned.label,
            self.fitted.resolved.epochs(),
            self.fitted.cost_per_epoch,
        );
        let mut sinks: Vec<&mut dyn Sink> = vec![];
        if let Some(hold) = hold.as_mut() {
            sinks.push(hold);
        }
        sinks.push(&mut shown);
        if let Some(board) = board.as_mut() {
            sinks.push(*board);
        }
        train::train(
            &self.fitted.resolved,
            self.data,
            cx.opts.device,
            self.resume,
            &mut policies,
            &mut sinks,
        )
    }
}

/// Takes the run's lock (or waits for it, as `--wait` asks), then sees what another process
/// did meanwhile: the run's end if there is nothing to train, else the lock and the failure
/// the run retries, if any. A retried run resumes from its checkpoint, unless the
/// failure was that checkpoint's (then, or when it cannot be used, it starts from scratch).
fn claim(
    planned: &PlannedRun,
    run_dir: &RunDir,
    cx: &mut RunContext,
) -> Result<Result<(SweepLock, Option<String>), RunEnd>> {
    let lock = match SweepLock::try_run(&run_dir.path)? {
        Ok(lock) => lock,
        Err(holder) if cx.opts.contended == Contended::Refuse => {
            return Ok(Err(RunEnd::Busy(holder)))
        }
        Err(holder) => {
            cx.progress.note(&format!(
                "waiting for another rowseq ({holder}) to finish {} [{}]",
                planned.label, planned.id
            ));
            SweepLock::wait_run(&run_dir.path)?
        }
    };
    // Under the run's lock: what another process did meanwhile is on disk.
    if let Ok(Some(_)) = run_dir.result() {
        return Ok(Err(RunEnd::AlreadyDone));
    }
    let failed = run_dir.failed();
    if let Some(reason) = &failed {
        if !cx.opts.retry_failed {
            // Another process recorded it failed while this one waited for the run.
            return Ok(Err(RunEnd::Failed(reason.clone())));
        }
        for f in std::iter::once(store::FAILED).chain(retried_records(reason)) {
            store::remove_if_present(&run_dir.path.join(f))?;
        }
    }
    store::remove_temporaries(&run_dir.path)?;
    Ok(Ok((lock, failed)))
}

/// The records a retried failure (`reason`) takes away besides `failed.json`: an unreadable
/// result goes with the failure; the checkpoint and its metrics stay unless the failure was the
/// checkpoint's.
fn retried_records(reason: &str) -> Vec<&'static str> {
    let mut gone = vec![store::RESULT];
    if reason.contains(CHECKPOINT) && !store::says_disk_full(reason) {
        gone.extend([CHECKPOINT, store::METRICS]);
    }
    gone
}

/// The checkpoint the run resumes from, if any, and its thread count: the one it started with,
/// so that it resumes bit-identically. A checkpoint that cannot be used is the run's failure
/// (the reason).
fn resume_point(
    planned: &PlannedRun,
    run_dir: &RunDir,
    cx: &mut RunContext,
) -> Result<(Option<Checkpoint>, usize), String> {
    let resume = run_dir
        .checkpoint(&planned.config)
        .map_err(|e| format!("{e:#}; delete it to start the run afresh, or pass --retry-failed"))?;
    let threads = match resume.as_ref().and_then(|c| c.state.threads) {
        Some(t) if env::check_threads(t).is_err() => {
            return Err(format!(
                "{}: its thread count {t} is out of range; delete it to start the run \
                 afresh, or pass --retry-failed",
                run_dir.path.join(CHECKPOINT).display()
            ))
        }
        Some(t) => {
            if t != cx.opts.threads {
                cx.progress.println(&format!(
                    "{} [{}] started on {t} threads and resumes on {t} (not {}), so that its \
                     results stay bit-identical",
                    planned.label, planned.id, cx.opts.threads
                ));
            }
            t
        }
        None => cx.opts.threads,
    };
    Ok((resume, threads))
}

/// Writes a finished run's weights, test predictions (numeric tasks) or probabilities
/// (classification) and result, the result last (its presence means the run is finished), then
/// deletes the checkpoint. Classification: also the test confusion matrix, for TensorBoard.
fn finish(
    planned: &PlannedRun,
    resolved: &crate::config::Resolved,
    run_dir: &RunDir,
    done: &train::Trained,
    data: &Dataset,
    environment: &Environment,
    device: tch::Device,
) -> Result<(RunResult, Option<crate::records::Confusion>)> {
    run_dir.save_weights(&done.vs)?;
    let (mut intervals, mut series) = (Vec::new(), Vec::new());
    let (predicted, confusion) = match data.task {
        crate::config::Task::Classify => {
            let (probabilities, predicted) = train::predict(&done.model, &data.test, device);
            let recorded = crate::records::TestProbabilities {
                class_names: data.class_names.clone(),
                truth: Vec::<i64>::try_from(&data.test.y)?
                    .into_iter()
                    .map(|y| y as usize)
                    .collect(),
                probabilities,
            };
            run_dir.write_test_probabilities(&recorded)?;
            let classes: Vec<usize> = predicted.iter().map(|&p| p as usize).collect();
            let confusion =
                crate::records::Confusion::of(&recorded.class_names, &recorded.truth, &classes);
            (predicted, Some(confusion))
        }
        _ => {
            let levels = crate::config::interval_levels(&resolved.intervals).unwrap_or_default();
            let (predictions, found) = test_predictions(&done.model, data, device, &levels);
            run_dir.write_test_predictions(&predictions)?;
            intervals = found;
            series = series_scores(data, &predictions.predicted);
            (Vec::new(), None)
        }
    };
    let mut result = plan::result(
        planned,
        resolved,
        &done.metrics,
        data,
        &done.vs,
        environment,
        &predicted,
    );
    // What memorisation measures read (`report::capacity`): how much of its training set the
    // kept model fits.
    if resolved.labels == crate::config::Labels::Random || resolved.stop_train_acc > 0.0 {
        let (_, fit) = train::evaluate(&done.model, &data.train.to_device(device));
        result.train_fit_acc = Some(fit);
    }
    result.memory = env::memory();
    result.intervals = intervals;
    result.series = series;
    run_dir.write_result(&result)?;
    store::remove_if_present(&run_dir.path.join(CHECKPOINT))?;
    Ok((result, confusion))
}

/// A numeric run's test predictions in the target's units, with the truth and, for forecasts,
/// each window's origin, the baselines and the prediction intervals at `levels` (%), which it
/// also returns with their coverage (`intervals`).
fn test_predictions(
    model: &crate::model::SeqClassifier,
    data: &Dataset,
    device: tch::Device,
    levels: &[f64],
) -> (
    crate::records::TestPredictions,
    Vec<crate::records::Interval>,
) {
    let target = data.target.as_ref().expect("a numeric task has a target");
    let z = train::predict_values(model, &data.test, device);
    let truth_z = Vec::<f64>::try_from(data.test.y.flatten(0, -1).to_kind(tch::Kind::Double))
        .expect("f64 targets");
    let predicted = data.test_values(&z);
    match &data.forecast {
        Some(f) => {
            let (intervals, bounds) = intervals(model, data, device, levels, &predicted, &f.truth)
                .into_iter()
                .unzip();
            let p = crate::records::TestPredictions {
                at: Some(
                    f.series
                        .iter()
                        .flat_map(|s| &s.test_origins)
                        .flat_map(|&t| (1..=f.horizon).map(move |k| (t, k)))
                        .collect(),
                ),
                ids: f.panel.then(|| f.row_ids()),
                // The truth as read from the file, not through float32 z-scores.
                truth: f.truth.clone(),
                predicted,
                naive: Some(f.naive.clone()),
                snaive: Some(f.snaive.clone()),
                ets: f.ets.as_ref().map(|e| e.values.clone()),
                // The date of each target: origin + step ahead.
                dates: test_dates(f),
                bounds,
            };
            (p, intervals)
        }
        None => {
            let p = crate::records::TestPredictions {
                at: None,
                ids: None,
                truth: target.unscale(&truth_z),
                predicted,
                naive: None,
                snaive: None,
                ets: None,
                dates: None,
                bounds: Vec::new(),
            };
            (p, Vec::new())
        }
    }
}

/// A panel's test errors series by series: the kept model's (`predicted`, in the targets'
/// units) and its baselines' (none for one series).
fn series_scores(data: &Dataset, predicted: &[f64]) -> Vec<crate::records::SeriesScore> {
    let Some(f) = data.forecast.as_ref().filter(|f| f.panel) else {
        return Vec::new();
    };
    let each = |v: &[f64]| f.score_each(v, &f.truth, crate::data::Held::Test);
    let (model, naive, snaive) = (each(predicted), each(&f.naive), each(&f.snaive));
    let ets = f.ets.as_ref().map(|e| each(&e.values));
    f.series
        .iter()
        .enumerate()
        .map(|(i, s)| crate::records::SeriesScore {
            id: s.id.clone(),
            test: model[i],
            naive: naive[i],
            snaive: snaive[i],
            ets: ets.as_ref().map(|e| e[i]),
        })
        .collect()
}

/// The date of each test target of `f` (origin + step ahead), where every series has dates.
fn test_dates(f: &crate::data::Forecast) -> Option<Vec<String>> {
    let mut dates = Vec::new();
    for s in &f.series {
        let c = s.calendar?;
        dates.extend(
            s.test_origins
                .iter()
                .flat_map(|&t| (1..=f.horizon).map(move |k| c.date(t + k).to_string())),
        );
    }
    Some(dates)
}

/// A forecast's split-conformal prediction intervals at `levels` (%): per step ahead, the
/// absolute errors of the kept model on the validation windows calibrate a half-width
/// (`metrics::conformal_half_width`), and `predicted` (test, [N * horizon]) plus or minus it
/// is scored against `truth`: each level's record and its bounds per test row. None without
/// validation windows.
fn intervals(
    model: &crate::model::SeqClassifier,
    data: &Dataset,
    device: tch::Device,
    levels: &[f64],
    predicted: &[f64],
    truth: &[f64],
) -> Vec<(crate::records::Interval, crate::records::Bounds)> {
    let (Some(target), Some(f)) = (&data.target, &data.forecast) else {
        return Vec::new();
    };
    if levels.is_empty() || data.val.is_empty() {
        return Vec::new();
    }
    let h = f.horizon;
    let z = train::predict_values(model, &data.val, device);
    let truth_z = Vec::<f64>::try_from(data.val.y.flatten(0, -1).to_kind(tch::Kind::Double))
        .expect("f64 targets");
    // Errors in the target's units (its logarithm's under transform = "log", where the
    // bounds are the forecast times exp(-+ half-width)): every reading of a window (z-scores,
    // relative to its last value or not) scales by the target's std alone. A panel's target
    // std is 1: its errors are in each series' std, pooled, and each test row's half-width is
    // in its own.
    let errors = |k: usize| -> Vec<f64> {
        (k..z.len())
            .step_by(h)
            .map(|i| (z[i] - truth_z[i]).abs() * target.std)
            .collect()
    };
    let per_step: Vec<Vec<f64>> = (0..h).map(errors).collect();
    let spreads = f.spreads();
    levels
        .iter()
        .filter_map(|&level| {
            let widths: Vec<(f64, bool)> = per_step
                .iter()
                .map(|e| crate::metrics::conformal_half_width(e, level))
                .collect::<Option<_>>()?;
            let half_width: Vec<f64> = widths.iter().map(|w| w.0).collect();
            let w = |r: usize| half_width[r % h] * (spreads[r] / target.std);
            let [lo, hi] = [-1.0, 1.0].map(|sign| {
                predicted
                    .iter()
                    .enumerate()
                    .map(|(r, &p)| crate::metrics::interval_bound(p, sign * w(r), f.log))
                    .collect::<Vec<f64>>()
            });
            let interval = crate::records::Interval {
                level,
                test_coverage: crate::metrics::coverage(truth, &lo, &hi),
                calibration: per_step[0].len(),
                exact: widths.iter().all(|w| w.1),
                half_width,
            };
            Some((interval, crate::records::Bounds { level, lo, hi }))
        })
        .collect()
}
