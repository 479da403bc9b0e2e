/*!
`--jobs N`: N runs at once, each in a worker process of its own (libtorch's thread pool is
per process), with the sweep's threads split between them (`threads / N`, at least one).

The parent keeps the sweep's lock and alone writes `sweep.json` and the tables; a worker is the
same command line with `--worker-run <id> --threads <t>`: it trains that one run (resuming
from its checkpoint, recording a failure) and writes only inside the run's folder. Workers
print plain lines (their stdout is a pipe), which the parent relays as they come. Runs start
longest first (by `cost_per_epoch` x epochs), so the widest runs overlap each other and the
short ones fill the gaps at the end, rather than one wide run finishing alone on a half-idle
machine.

Workers run in process groups of their own, so a Ctrl-C at the terminal reaches the parent
only; the parent forwards every press to them (`interrupt`), so the first press lets each
worker finish its epoch and checkpoint, and a second stops everything at once. A worker dies
with its parent (PR_SET_PDEATHSIG), so a parent killed with -9 leaves no worker writing into
a sweep whose lock is free.
*/
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result};

use super::plan::{Plan, PlannedRun};
use super::status;
use super::Options;
use crate::interrupt;
use crate::store::RunDir;

/// Threads for each of `jobs` workers sharing `threads`.
pub fn threads_per_job(threads: usize, jobs: usize) -> usize {
    (threads / jobs.max(1)).max(1)
}

/// What the workers did.
pub struct Done {
    pub trained: usize,
    /// (label, reason) of the runs that failed.
    pub failed: Vec<(String, String)>,
    pub interrupted: bool,
}

/// Trains `pending` with `opts.jobs` workers.
pub fn run(plan: &Plan, pending: &[&PlannedRun], dir: &Path, opts: &Options) -> Result<Done> {
    let threads = threads_per_job(opts.threads, opts.jobs);
    let exe = std::env::current_exe().context("could not find the rowseq executable")?;
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let mut order = pending.to_vec();
    order.sort_by_key(|r| std::cmp::Reverse(r.cost_per_epoch() * r.config.epochs as u64));
    let mut queue = order.iter();
    let mut running: Vec<(Child, &PlannedRun)> = Vec::new();
    let (mut trained, mut failed, mut interrupted) = (0, Vec::new(), false);
    loop {
        while running.len() < opts.jobs && !interrupt::requested() {
            let Some(planned) = queue.next() else { break };
            let mut command = Command::new(&exe);
            // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
            unsafe {
                command.pre_exec(|| {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                    Ok(())
                });
            }
            let mut child = command
                .args(&args)
                .arg("--threads")
                .arg(threads.to_string())
                .arg("--worker-run")
                .arg(&planned.id)
                .stdout(Stdio::piped())
                .process_group(0)
                .spawn()
                .with_context(|| format!("could not start a worker for {}", planned.label))?;
            interrupt::add_child(child.id());
            let out = child.stdout.take().expect("piped");
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    println!("{line}");
                }
            });
            running.push((child, planned));
        }
        if running.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
        let mut i = 0;
        while i < running.len() {
            let Some(exit) = running[i].0.try_wait()? else {
                i += 1;
                continue;
            };
            let (child, planned) = running.swap_remove(i);
            interrupt::remove_child(child.id());
            let run = RunDir::new(dir, &planned.id);
            if run.result().is_some() {
                trained += 1;
            } else if let Some(reason) = status::failure(&run) {
                failed.push((planned.label.clone(), reason));
            } else if exit.code() == Some(interrupt::EXIT_CODE as i32) || interrupt::requested() {
                interrupted = true;
            } else {
                let reason = format!("worker exited with {exit}");
                failed.push((planned.label.clone(), reason));
            }
            super::write_tables(plan, dir)?;
        }
    }
    if interrupt::requested() && queue.next().is_some() {
        interrupted = true;
    }
    Ok(Done {
        trained,
        failed,
        interrupted,
    })
}
