/*!
`--jobs N`: N runs at once, each in a worker process of its own (libtorch's thread pool is
per process) with `--threads` threads (default 1). `--jobs auto`, the default, is one run per
core that the threads leave (`auto`): on 2 cores, two runs of one thread each.

The parent keeps the sweep's lock and alone writes `sweep.json` and the tables. A worker is the
same command line with `--worker --threads <t>`, and it lives for the whole sweep: the parent
hands it run ids on its stdin, one at a time; it trains each (resuming from its checkpoint,
recording a failure), writing only inside the run's folder, and answers with a `DONE` line on
its stdout. It loads libtorch and each dataset once, not once per run (on MNIST that start is
about two seconds, as long as a whole epoch at 8 units). Workers print plain lines (their stdout
is a pipe), which the parent relays as they come. Runs start longest first (by
`cost_per_epoch` x epochs), so the widest runs overlap each other and the short ones fill the
gaps at the end, rather than one wide run finishing alone on a half-idle machine. A worker that
dies takes only its current run with it: the parent records the run as failed (`failed.json`,
with how the worker ended) and a new worker takes the rest of the queue. Every run trains on
the same `--threads`, also the last one left, and alone in-process (one run left, or
`--jobs 1`) it trains on the same count: its numbers do not depend on how it was scheduled.

Workers run in process groups of their own, so a Ctrl-C at the terminal reaches the parent
only; the parent forwards every press to them (`interrupt`), so the first press lets each
worker finish its epoch and checkpoint, and a second stops everything at once. A worker dies
with its parent (PR_SET_PDEATHSIG), so a parent killed with -9 leaves no worker writing into
a sweep whose lock is free.
*/
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result};

use super::one::{run_one, RunContext, RunEnd};
use super::plan::{Fitted, Plan, PlannedRun};
use super::{Options, Totals};
use crate::data::Source;
use crate::interrupt;
use crate::sinks::Progress;
use crate::store::RunDir;

/// `--jobs auto`: on CPU, as many runs at once as the cores hold runs of `threads` threads (at
/// least one); on a GPU one, since runs in several processes would share one device's memory
/// and queue on its kernels.
pub fn auto(device: tch::Device, threads: usize) -> usize {
    if device.is_cuda() {
        return 1;
    }
    (crate::env::cores() / threads.max(1)).max(1)
}

/// What a worker prints, alone on a line, when it is done with the run it was handed;
/// followed by `BUSY` and the holder when another process was training that run, or by `FULL`
/// and the error when the disk was full (the worker then ends; the parent says it, once).
const DONE: &str = "\u{1}rowseq-worker-done";
const BUSY: &str = " busy ";
const FULL: &str = " full ";

/// A worker process and the run it is training, if any.
struct Worker<'a> {
    child: Child,
    /// Closed (None) once there is nothing more to hand it: it then exits.
    stdin: Option<ChildStdin>,
    run: Option<&'a PlannedRun>,
}

/// What a worker's stdout says to the parent: it finished its run, or it ended.
enum Message {
    /// The worker of this slot is done with its run: how.
    Done(usize, Reply),
    Ended(usize),
}

/// How a worker was done with its run.
enum Reply {
    /// Trained, failed (recorded) or stopped: the run folder says which.
    Ran,
    /// Another process holds the run: (its holder).
    Busy(String),
    /// The disk was full: (the error). The run is left to resume; the worker ends.
    DiskFull(String),
}

/// Trains `pending` with `opts.jobs` workers.
/// `fits` holds each pending run's cost: the longest go first.
pub fn run(
    plan: &Plan,
    pending: &[&PlannedRun],
    fits: &HashMap<String, Fitted>,
    dir: &Path,
    opts: &Options,
    done: &mut Totals,
) -> Result<()> {
    let mut order = pending.to_vec();
    order.sort_by_key(|r| std::cmp::Reverse(fits.get(&r.id).map_or(0, Fitted::cost)));
    let (tx, rx) = mpsc::channel();
    let mut pool = Pool {
        plan,
        dir,
        threads: opts.threads,
        display: opts.display.worker_code(),
        tx,
        workers: Vec::new(),
        queue: order.into_iter(),
        full: None,
    };
    for slot in 0..opts.jobs.min(pending.len()) {
        let worker = pool.start(slot)?;
        pool.workers.push(Some(worker));
    }
    while pool.workers.iter().any(Option::is_some) {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(Message::Done(slot, reply)) => pool.finished(slot, reply, done)?,
            Ok(Message::Ended(slot)) => pool.ended(slot, done)?,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if interrupt::requested() {
                    // Idle workers wait on stdin: closing it ends them.
                    pool.close_idle();
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => unreachable!("the parent holds a sender"),
        }
    }
    if let Some(e) = pool.full {
        return Err(crate::store::DiskFull(e).into());
    }
    if interrupt::requested() && pool.queue.len() > 0 {
        done.interrupted = true;
    }
    Ok(())
}

/// The parent's side of the workers: the runs each trains, the runs still to hand out, and
/// what a new worker is started with.
struct Pool<'a> {
    plan: &'a Plan,
    dir: &'a Path,
    threads: usize,
    display: String,
    /// Where workers' messages go; the parent holds it, so the channel never disconnects.
    tx: mpsc::Sender<Message>,
    /// By slot; None once a worker has ended.
    workers: Vec<Option<Worker<'a>>>,
    /// The runs not handed out yet, longest first.
    queue: std::vec::IntoIter<&'a PlannedRun>,
    /// The first full-disk error a worker met: no more runs are handed out, and it is the
    /// sweep's error once the workers are done.
    full: Option<String>,
}

impl<'a> Pool<'a> {
    /// Starts the worker of `slot` and hands it the next run.
    fn start(&mut self, slot: usize) -> Result<Worker<'a>> {
        let mut worker = spawn(slot, self.threads, &self.display, &self.tx)?;
        hand_next(&mut worker, &mut self.queue);
        Ok(worker)
    }

    /// The worker of `slot` is done with its run (`reply`): counts the run in `done`, rewrites
    /// the tables and hands the worker the next run, unless a disk was found full.
    fn finished(&mut self, slot: usize, reply: Reply, done: &mut Totals) -> Result<()> {
        let worker = self.workers[slot].as_mut().expect("a live worker");
        if let Some(planned) = worker.run.take() {
            match reply {
                Reply::Busy(holder) => done.busy.push((planned.label.clone(), holder)),
                Reply::Ran => record(planned, None, self.dir, done)?,
                Reply::DiskFull(e) => {
                    self.full.get_or_insert(e);
                }
            }
            if self.full.is_none() {
                super::write_tables(self.plan, self.dir)?;
            }
        }
        if self.full.is_some() {
            // Nothing more for anyone: idle workers end, busy ones after their run.
            self.close_idle();
        } else {
            hand_next(worker, &mut self.queue);
        }
        Ok(())
    }

    /// The worker of `slot` ended: a run it was training is recorded (failed, unless it
    /// finished), and a new worker takes the rest of the queue.
    fn ended(&mut self, slot: usize, done: &mut Totals) -> Result<()> {
        let mut worker = self.workers[slot].take().expect("a live worker");
        let exit = worker.child.wait()?;
        interrupt::remove_child(worker.child.id());
        if let Some(planned) = worker.run.take() {
            record(planned, Some(exit), self.dir, done)?;
            super::write_tables(self.plan, self.dir)?;
            // It died mid-run: a new worker takes the rest of the queue.
            if !interrupt::requested() && self.full.is_none() && self.queue.len() > 0 {
                let worker = self.start(slot)?;
                self.workers[slot] = Some(worker);
            }
        }
        Ok(())
    }

    /// Closes the stdin of every idle worker, which ends it.
    fn close_idle(&mut self) {
        for worker in self.workers.iter_mut().flatten() {
            if worker.run.is_none() {
                worker.stdin = None;
            }
        }
    }
}

/// Starts worker `slot`: this command line with `--threads threads --worker`; its stdout is
/// relayed line by line, and its `DONE` lines and its end are sent on `tx`.
fn spawn<'a>(
    slot: usize,
    threads: usize,
    display: &str,
    tx: &mpsc::Sender<Message>,
) -> Result<Worker<'a>> {
    let exe = std::env::current_exe().context("could not find the rowseq executable")?;
    let mut command = Command::new(&exe);
    // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    let mut child = command
        .args(std::env::args_os().skip(1))
        .arg("--threads")
        .arg(threads.to_string())
        .arg("--worker")
        .arg("--worker-display")
        .arg(display)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .process_group(0)
        .spawn()
        .context("could not start a worker process")?;
    interrupt::add_child(child.id());
    let out = child.stdout.take().expect("piped");
    let tx = tx.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix(DONE) {
                let reply = if let Some(holder) = rest.strip_prefix(BUSY) {
                    Reply::Busy(holder.to_string())
                } else if let Some(e) = rest.strip_prefix(FULL) {
                    Reply::DiskFull(e.to_string())
                } else {
                    Reply::Ran
                };
                let _ = tx.send(Message::Done(slot, reply));
            } else {
                println!("{line}");
            }
        }
        let _ = tx.send(Message::Ended(slot));
    });
    let stdin = child.stdin.take();
    Ok(Worker {
        child,
        stdin,
        run: None,
    })
}

/// Hands `worker` the next run of `queue`, or, when there is none or Ctrl-C was pressed,
/// closes its stdin so that it exits. A worker whose stdin is closed takes nothing more.
fn hand_next<'a>(worker: &mut Worker<'a>, queue: &mut impl Iterator<Item = &'a PlannedRun>) {
    let Some(stdin) = worker.stdin.as_mut() else {
        return;
    };
    let next = if interrupt::requested() {
        None
    } else {
        queue.next()
    };
    let Some(planned) = next else {
        worker.stdin = None;
        return;
    };
    // A worker that has died cannot take it: its end, already on its way, records the run.
    let _ = writeln!(stdin, "{}", planned.id).and_then(|()| stdin.flush());
    worker.run = Some(planned);
}

/// Counts a run a worker is done with: trained (it has a result), failed (recorded by the
/// worker; or the worker died without a word, and the parent records it here, so that a plain
/// rerun does not silently train it again), paused at its rung (successive halving), or
/// interrupted (it resumes next time).
fn record(
    planned: &PlannedRun,
    exit: Option<ExitStatus>,
    dir: &Path,
    done: &mut Totals,
) -> Result<()> {
    let run = RunDir::new(dir, &planned.id);
    if let Ok(Some(_)) = run.result() {
        done.trained += 1;
    } else if let Some(reason) = run.failed() {
        done.failed.push((planned.label.clone(), reason));
    } else if exit.is_none()
        && !interrupt::requested()
        && run
            .metrics()
            .is_ok_and(|m| planned.pauses.contains(&m.len()))
    {
        // Paused at its rung by successive halving (the worker said DONE, and lives on).
        done.paused += 1;
    } else if interrupt::requested()
        || exit.is_some_and(|e| e.code() == Some(interrupt::EXIT_CODE as i32))
    {
        done.interrupted = true;
    } else {
        let reason = match exit {
            Some(exit) => format!(
                "worker exited with {exit} (killed by the system, e.g. out of memory?); \
                 --retry-failed trains the run again"
            ),
            None => "worker stopped without a result".to_string(),
        };
        // Recorded under the run's lock, and only if no one else took the run meanwhile.
        if let Ok(Ok(_lock)) = super::lock::SweepLock::try_run(&run.path) {
            if let Ok(None) = run.result() {
                run.write_failure(&planned.failure(&reason))?;
            }
        }
        done.failed.push((planned.label.clone(), reason));
    }
    Ok(())
}

/// The worker's side: trains the runs whose ids arrive on stdin, one at a time, loading each
/// dataset once, and prints `DONE` after each. Returns at the end of stdin, or after a run
/// that Ctrl-C stopped; true if stopped by Ctrl-C.
pub fn serve(plan: &Plan, opts: &Options) -> Result<bool> {
    let dir = opts.out.join(&plan.name);
    let mut sources: HashMap<String, Source> = HashMap::new();
    for line in std::io::stdin().lock().lines() {
        let id = line.context("could not read a run id from the sweep's parent process")?;
        let planned = plan
            .runs
            .iter()
            .find(|r| r.id == id)
            .with_context(|| format!("run '{id}' is not in this sweep's plan"))?;
        let source = super::load_source(&mut sources, &planned.config, opts)?;
        // A worker's stdout is a pipe: no bars, so no cost is needed for the ETA.
        let mut progress = Progress::new(1, 0, opts.display);
        let mut cx = RunContext {
            dir: &dir,
            opts,
            progress: &mut progress,
        };
        let end = match run_one(planned, source, &mut cx) {
            Ok(end) => end,
            // Said once, by the parent; the run resumes next time.
            Err(e) if crate::store::disk_full(&e) => {
                let e = format!("{e:#}").replace(['\n', '\r'], " ");
                let mut out = std::io::stdout().lock();
                writeln!(out, "{DONE}{FULL}{e}")?;
                out.flush()?;
                return Ok(false);
            }
            Err(e) => return Err(e),
        };
        end.show(planned, &mut progress);
        progress.finish();
        let mut out = std::io::stdout().lock();
        match &end {
            RunEnd::Busy(holder) => writeln!(out, "{DONE}{BUSY}{holder}")?,
            _ => writeln!(out, "{DONE}")?,
        }
        out.flush()?;
        if matches!(end, RunEnd::Interrupted) {
            return Ok(true);
        }
    }
    Ok(interrupt::requested())
}
