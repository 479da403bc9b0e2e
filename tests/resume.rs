/*!
Integration tests for sweeps that survive: kill -9 at several points then resume, Ctrl-C,
two sweeps on one folder, a changed config, failed runs and `status`. The real binary on real
MNIST subsets (one thread, a few thousand images), like tests/cli.rs.
*/
mod common;

use common::{metrics_without_time, rowseq, run_dirs, signal, wait_until};
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Std, Stdio};
use std::time::Duration;

use assert_cmd::Command;
use predicates::str::contains;
use serde_json::Value;

const TINY: &[&str] = &[
    "name=\"tiny\"",
    "num_units=16",
    "epochs=3",
    "train_size=3000",
    "val_size=500",
    "test_size=500",
    "lr=0.01",
    "batch_size=32",
];

fn args(out: &Path, extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = [
        "sweep",
        "configs/quick.toml",
        "--device",
        "cpu",
        "--threads",
        "1",
        "--out",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    a.push(out.display().to_string());
    for set in TINY {
        a.push("--set".into());
        a.push(set.to_string());
    }
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

fn sweep(out: &Path, extra: &[&str]) -> Command {
    let mut cmd = Command::cargo_bin("rowseq").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args(out, extra));
    cmd
}

fn spawn(out: &Path, extra: &[&str]) -> Child {
    Std::new(assert_cmd::cargo::cargo_bin("rowseq"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args(out, extra))
        .stdout(Stdio::piped()) // a few lines: never fills the pipe
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The only run folder of the tiny sweep.
fn run_dir(out: &Path) -> PathBuf {
    let sweep = out.join("tiny");
    let dirs = run_dirs(&sweep);
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs[0].clone()
}

/// Epochs on disk per run folder of the tiny sweep that has any.
fn epochs_on_disk(out: &Path) -> Vec<usize> {
    let Ok(entries) = std::fs::read_dir(out.join("tiny")) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path().join("metrics.jsonl")).ok())
        .map(|t| t.lines().count())
        .filter(|&n| n > 0)
        .collect()
}

/// Waits until some run has `epochs` epochs on disk (or the child ended).
fn wait_for_epochs(child: &mut Child, out: &Path, epochs: usize) {
    wait_until(child, || {
        epochs_on_disk(out).into_iter().max().unwrap_or(0) >= epochs
    });
}

fn kill9(mut child: Child) {
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
}

fn assert_same_run(a: &Path, b: &Path) {
    let (ra, rb) = (run_dir(a), run_dir(b));
    assert_eq!(ra.file_name(), rb.file_name());
    let ma = metrics_without_time(&ra);
    assert_eq!(ma.len(), 3);
    assert_eq!(ma, metrics_without_time(&rb));
    assert_eq!(
        std::fs::read(ra.join("model.safetensors")).unwrap(),
        std::fs::read(rb.join("model.safetensors")).unwrap(),
        "final weights differ"
    );
    assert!(!rb.join("checkpoint.safetensors").exists());
    let leftovers: Vec<_> = std::fs::read_dir(&rb)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// One uninterrupted run, one killed with -9 at three points (before the first epoch ends,
/// right after the first, right after the second) and resumed each time, one stopped by
/// Ctrl-C and resumed: all end with the same metrics and bit-identical weights.
#[test]
fn interrupted_runs_resume_to_identical_results() {
    let reference = tempfile::tempdir().unwrap();
    sweep(reference.path(), &[]).assert().success();

    let killed = tempfile::tempdir().unwrap();
    let mut child = spawn(killed.path(), &[]);
    std::thread::sleep(Duration::from_millis(300));
    kill9(child);
    for epochs in [1, 2] {
        child = spawn(killed.path(), &[]);
        wait_for_epochs(&mut child, killed.path(), epochs);
        kill9(child);
        assert!(!run_dir(killed.path()).join("result.json").exists());
    }
    // What a process killed mid-write leaves behind; the resumed run clears it.
    std::fs::write(
        run_dir(killed.path()).join(".tmp.123.checkpoint.safetensors"),
        b"half",
    )
    .unwrap();
    sweep(killed.path(), &[])
        .assert()
        .success()
        // After epoch 2, or 1 when the kill fell between metrics.jsonl and the checkpoint.
        .stdout(contains("resuming units=16"));
    assert_same_run(reference.path(), killed.path());

    // Ctrl-C: the epoch finishes, a checkpoint is saved, exit 130 saying how to resume.
    let stopped = tempfile::tempdir().unwrap();
    let mut child = spawn(stopped.path(), &[]);
    wait_for_epochs(&mut child, stopped.path(), 1);
    signal(child.id(), "INT");
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("interrupted: run `") && stderr.contains("again to resume"),
        "{stderr}"
    );
    let run = run_dir(stopped.path());
    assert!(run.join("checkpoint.safetensors").is_file());
    assert!(!run.join("result.json").exists());
    rowseq()
        .arg("status")
        .arg(stopped.path().join("tiny"))
        .assert()
        .success()
        .stdout(contains("1 runs: 0 done, 0 running, 0 failed, 1 pending"))
        .stdout(contains("interrupted"));
    sweep(stopped.path(), &[]).assert().success();
    assert_same_run(reference.path(), stopped.path());
}

#[test]
fn a_second_sweep_on_the_same_folder_refuses_or_waits() {
    let out = tempfile::tempdir().unwrap();
    // Long enough (about a second per epoch) to still hold the lock while we try.
    let long = ["--set", "epochs=10"];
    let mut first = spawn(out.path(), &long);
    wait_for_epochs(&mut first, out.path(), 1);
    // --wait queues behind the first (started now, while the first surely still runs).
    let waiter = spawn(out.path(), &["--set", "epochs=10", "--wait"]);
    let output = sweep(out.path(), &long).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("another rowseq (pid {})", first.id())),
        "{stderr}"
    );
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    rowseq()
        .arg("status")
        .arg(out.path().join("tiny"))
        .assert()
        .success()
        .stdout(contains("1 running"))
        .stdout(contains(format!("in use by rowseq (pid {})", first.id())));
    assert!(first.wait().unwrap().success());
    let waited = waiter.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&waited.stderr);
    assert!(waited.status.success(), "{stderr}");
    assert!(stderr.contains("waiting for another rowseq"), "{stderr}");
    // It found the run finished by the first and trained nothing.
    let stdout = String::from_utf8_lossy(&waited.stdout);
    assert!(stdout.contains("(1 already done, 0 to train)"), "{stdout}");
}

#[test]
fn a_changed_config_keeps_old_runs_and_names_new_and_stray_ones() {
    let out = tempfile::tempdir().unwrap();
    let one_epoch = ["--set", "epochs=1", "--set", "train_size=1000"];
    let with = |units: &'static str| {
        let mut a = one_epoch.to_vec();
        a.extend(["--set", units]);
        a
    };
    sweep(out.path(), &with("num_units=[8, 16]"))
        .assert()
        .success();
    sweep(out.path(), &with("num_units=[16, 24]"))
        .assert()
        .success()
        .stdout(contains("1 new runs: units=24,seed=0"))
        .stdout(contains("1 runs on disk no longer belong to it"))
        .stdout(contains("(units=8,seed=0)"))
        .stdout(contains("2 runs (1 already done, 1 to train)"));
    let sweep_dir = out.path().join("tiny");
    let csv = std::fs::read_to_string(sweep_dir.join("results.csv")).unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(!csv.contains(",units=8,"), "{csv}");
    let folders = std::fs::read_dir(&sweep_dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("result.json").is_file())
        .count();
    assert_eq!(folders, 3, "the old run's folder is kept");
    rowseq()
        .arg("status")
        .arg(&sweep_dir)
        .assert()
        .success()
        .stdout(contains("2 runs: 2 done, 0 running, 0 failed, 0 pending"))
        .stdout(contains("1 run folders no longer belong"));
}

#[test]
fn failed_runs_are_recorded_and_retried_only_when_asked() {
    let out = tempfile::tempdir().unwrap();
    // A learning rate so large that the weights overflow and the loss becomes NaN.
    let diverge = [
        "--set",
        "lr=1e37",
        "--set",
        "epochs=1",
        "--set",
        "train_size=500",
    ];
    sweep(out.path(), &diverge)
        .assert()
        .code(1)
        .stderr(contains("training diverged"));
    let failed = run_dir(out.path()).join("failed.json");
    assert!(failed.is_file());
    let status = |cmd: &mut Command| {
        cmd.assert()
            .success()
            .stdout(contains("1 runs: 0 done, 0 running, 1 failed, 0 pending"))
            .stdout(contains("training diverged"));
    };
    status(rowseq().arg("status").arg(out.path().join("tiny")));
    let mut flag = diverge.to_vec();
    flag.push("--status");
    status(&mut sweep(out.path(), &flag));
    // Not retried by default...
    let before = std::fs::read(&failed).unwrap();
    sweep(out.path(), &diverge)
        .assert()
        .code(1)
        .stdout(contains(
            "1 failed before (--retry-failed retries them), 0 to train",
        ))
        .stderr(contains("--retry-failed"));
    assert_eq!(std::fs::read(&failed).unwrap(), before);
    // ...only with --retry-failed (it fails again, deterministically).
    let mut retry = diverge.to_vec();
    retry.push("--retry-failed");
    sweep(out.path(), &retry)
        .assert()
        .code(1)
        .stdout(contains("(0 already done, 1 to train)"));
    assert!(failed.is_file());
}

/// `--jobs 2` on two threads: two worker processes of one thread each, one of which trains
/// two runs in turn, whose results equal a sequential one-thread sweep's; the parent writes
/// the tables with all three runs.
#[test]
fn parallel_jobs_give_the_results_of_a_sequential_sweep() {
    let widths = ["--set", "num_units=[8, 16, 32]", "--set", "epochs=1"];
    let sequential = tempfile::tempdir().unwrap();
    sweep(sequential.path(), &widths).assert().success();
    let parallel = tempfile::tempdir().unwrap();
    let mut jobs = widths.to_vec();
    jobs.extend(["--jobs", "2", "--threads", "2"]);
    sweep(parallel.path(), &jobs)
        .assert()
        .success()
        .stdout(contains("with 2 threads (2 jobs of 1 each)"))
        .stdout(contains("3 trained, 0 already done, 0 failed"));
    let results = |dir: &Path| -> Vec<Value> {
        std::fs::read_to_string(dir.join("tiny/results.jsonl"))
            .unwrap()
            .lines()
            .map(|l| {
                let mut v: Value = serde_json::from_str(l).unwrap();
                let o = v.as_object_mut().unwrap();
                o.retain(|k, _| !k.contains("seconds"));
                // Facts about the process, not the run: versions and memory.
                o.remove("env");
                o.remove("memory");
                v
            })
            .collect()
    };
    let a = results(sequential.path());
    assert_eq!(a.len(), 3);
    assert_eq!(a, results(parallel.path()));
}

/// A run that fails inside a `--jobs` worker is recorded as failed, and that worker goes on
/// to train the runs it is handed next.
#[test]
fn a_failed_run_does_not_stop_its_worker() {
    let out = tempfile::tempdir().unwrap();
    let grid = [
        "--set",
        "lr=[1e37, 3e-3]",
        "--set",
        "num_units=[8, 16]",
        "--set",
        "epochs=1",
        "--set",
        "train_size=500",
        "--jobs",
        "2",
        "--threads",
        "2",
    ];
    sweep(out.path(), &grid)
        .assert()
        .code(1)
        .stdout(contains("2 trained, 0 already done, 2 failed"))
        .stderr(contains("training diverged"));
    let failed = std::fs::read_dir(out.path().join("tiny"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("failed.json").is_file())
        .count();
    assert_eq!(failed, 2);
}

/// A `--jobs` worker killed mid-run (as the OOM killer would) costs only its run: the parent
/// reports it as failed and a new worker trains the rest of the queue.
#[test]
fn a_killed_worker_costs_only_its_run() {
    let out = tempfile::tempdir().unwrap();
    let grid = [
        "--set",
        "num_units=[8, 16, 32]",
        "--set",
        "epochs=12",
        "--jobs",
        "2",
        "--threads",
        "2",
    ];
    let mut parent = spawn(out.path(), &grid);
    wait_until(&mut parent, || epochs_on_disk(out.path()).len() == 2);
    let worker = children(parent.id())[0];
    signal(worker, "KILL");
    let output = parent.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stdout.contains("2 trained, 0 already done, 1 failed"),
        "{stdout}"
    );
    assert!(stderr.contains("worker exited with signal: 9"), "{stderr}");
}

/// The pids of `parent`'s child processes (from /proc/<pid>/stat, whose fourth field is the
/// parent's pid).
fn children(parent: u32) -> Vec<u32> {
    let mut pids: Vec<u32> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            let ppid: u32 = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            (ppid == parent).then_some(pid)
        })
        .collect();
    pids.sort();
    pids
}

/// Ctrl-C under `--jobs 2`: the parent forwards it, both workers checkpoint and stop, the
/// parent exits 130 with a command that (pasted into a shell) resumes; the resumed sweep
/// equals one that was never stopped.
#[test]
fn ctrl_c_stops_parallel_workers_and_the_sweep_resumes() {
    // Enough epochs that neither run can finish between "both are training" and the signal.
    let widths = ["--set", "num_units=[8, 16]", "--set", "epochs=12"];
    let reference = tempfile::tempdir().unwrap();
    sweep(reference.path(), &widths).assert().success();
    let out = tempfile::tempdir().unwrap();
    let mut jobs = widths.to_vec();
    jobs.extend(["--jobs", "2", "--threads", "2"]);
    let mut parent = spawn(out.path(), &jobs);
    // Both workers must be training: a worker signalled while still loading stops before
    // its run starts, correctly, with nothing to checkpoint.
    wait_until(&mut parent, || epochs_on_disk(out.path()).len() == 2);
    signal(parent.id(), "INT");
    let output = parent.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    let resume = stderr
        .lines()
        .find_map(|l| l.strip_prefix("interrupted: run `"))
        .and_then(|l| l.strip_suffix("` again to resume"))
        .unwrap_or_else(|| panic!("no resume command in {stderr:?}"));
    let runs = std::fs::read_dir(out.path().join("tiny"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("checkpoint.safetensors").is_file())
        .count();
    assert_eq!(runs, 2, "both workers checkpointed");
    let status = Std::new("bash")
        .args(["-c", resume])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let results = |dir: &Path| -> Vec<Value> {
        let text = std::fs::read_to_string(dir.join("tiny/results.jsonl")).unwrap();
        text.lines()
            .map(|l| {
                let mut v: Value = serde_json::from_str(l).unwrap();
                v.as_object_mut().unwrap().remove("env");
                v.as_object_mut().unwrap().remove("memory");
                v.as_object_mut()
                    .unwrap()
                    .retain(|k, _| !k.contains("seconds"));
                v
            })
            .collect()
    };
    assert_eq!(results(out.path()).len(), 2);
    assert_eq!(results(out.path()), results(reference.path()));
}
