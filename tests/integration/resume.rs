/*!
Integration tests for sweeps that survive: kill -9 at several points then resume, Ctrl-C,
two sweeps on one folder, overlapping shards, a changed config, failed runs, corrupt records,
another run's checkpoint (refused) and `status`. The real binary on real MNIST subsets (one thread, a few thousand images), like
tests/cli.rs. Every kill, signal and second process acts on a run held at a known point
(`crate::common::Held`), never after a guessed delay, so no test depends on the machine's speed.
*/
use crate::common::{metrics_without_time, rowseq, rowseq_process, run_dirs, signal, Held};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Std, Stdio};

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
        // Serial unless a test asks for workers: the default (auto) depends on the cores.
        "--jobs",
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
    let mut cmd = rowseq();
    cmd.args(args(out, extra));
    cmd
}

fn spawn(out: &Path, extra: &[&str]) -> Child {
    spawn_held(out, extra, None)
}

/// The sweep, started with its runs held at the points of `held`.
fn spawn_held(out: &Path, extra: &[&str], held: Option<&Held>) -> Child {
    let mut cmd = rowseq_process();
    cmd.args(args(out, extra))
        .stdout(Stdio::piped()) // a few lines: never fills the pipe
        .stderr(Stdio::piped());
    if let Some(h) = held {
        h.apply(&mut cmd);
    }
    cmd.spawn().unwrap()
}

/// The only run folder of the tiny sweep.
fn run_dir(out: &Path) -> PathBuf {
    let sweep = out.join("tiny");
    let dirs = run_dirs(&sweep);
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs[0].clone()
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

/// One uninterrupted run, one killed with -9 at three points (before its first batch, right
/// after the first epoch, right after the second) and resumed each time, one stopped by Ctrl-C
/// and resumed: all end with the same metrics and bit-identical weights, and a resumed run's
/// metrics.jsonl keeps the lines of its restored epochs byte for byte.
#[test]
fn interrupted_runs_resume_to_identical_results() {
    let reference = tempfile::tempdir().unwrap();
    sweep(reference.path(), &[]).assert().success();

    let killed = tempfile::tempdir().unwrap();
    for point in ["start", "epoch-1", "epoch-2"] {
        let held = Held::at(&[point]);
        let mut child = spawn_held(killed.path(), &[], Some(&held));
        held.wait(&mut child, point, 1);
        kill9(child);
        assert!(!run_dir(killed.path()).join("result.json").exists());
    }
    let before = std::fs::read_to_string(run_dir(killed.path()).join("metrics.jsonl")).unwrap();
    assert_eq!(before.lines().count(), 2);
    // What a process killed mid-write leaves behind; the resumed run clears it.
    std::fs::write(
        run_dir(killed.path()).join(".tmp.123.checkpoint.safetensors"),
        b"half",
    )
    .unwrap();
    sweep(killed.path(), &[])
        .assert()
        .success()
        .stdout(contains("resuming units=16,seed=0 ["))
        .stdout(contains("after epoch 2/3"));
    assert_same_run(reference.path(), killed.path());
    let after = std::fs::read_to_string(run_dir(killed.path()).join("metrics.jsonl")).unwrap();
    assert!(
        after.starts_with(&before),
        "restored epochs were rewritten:\n{before}\n{after}"
    );

    // Ctrl-C: the epoch finishes, a checkpoint is saved, exit 130 saying how to resume.
    let stopped = tempfile::tempdir().unwrap();
    let held = Held::at(&["epoch-1"]);
    let mut child = spawn_held(stopped.path(), &[], Some(&held));
    held.wait(&mut child, "epoch-1", 1);
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
    status_of(stopped.path().join("tiny"))
        .stdout(contains("1 runs: 0 done, 0 running, 0 failed, 1 pending"))
        .stdout(contains("interrupted"));
    sweep(stopped.path(), &[]).assert().success();
    assert_same_run(reference.path(), stopped.path());
}

/// Reads `child`'s stderr until a line contains `text` (the child must print it).
fn read_stderr_until(child: &mut Child, text: &str) -> String {
    let stderr = child.stderr.take().unwrap();
    let mut reader = std::io::BufReader::new(stderr);
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        let n = reader.read_line(&mut line).unwrap();
        assert!(n > 0, "stderr ended without {text:?}: {seen}");
        seen.push_str(&line);
        if line.contains(text) {
            // Keep draining it, so that the child never blocks on a full pipe.
            std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
            return seen;
        }
    }
}

#[test]
fn a_second_sweep_on_the_same_folder_refuses_or_waits() {
    let out = tempfile::tempdir().unwrap();
    // The first sweep holds its lock, and its run's, until the test releases it.
    let held = Held::at(&["epoch-1"]);
    let mut first = spawn_held(out.path(), &[], Some(&held));
    held.wait(&mut first, "epoch-1", 1);
    // --wait queues behind the first: it says so before it blocks.
    let mut waiter = spawn(out.path(), &["--wait"]);
    read_stderr_until(&mut waiter, "waiting for another rowseq");
    let output = sweep(out.path(), &[]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("another rowseq (pid {})", first.id())),
        "{stderr}"
    );
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    status_of(out.path().join("tiny"))
        .stdout(contains("1 running"))
        .stdout(contains(format!("in use by rowseq (pid {})", first.id())));
    held.release("epoch-1");
    assert!(first.wait().unwrap().success());
    let waited = waiter.wait_with_output().unwrap();
    assert!(waited.status.success());
    // It found the run finished by the first and trained nothing.
    let stdout = String::from_utf8_lossy(&waited.stdout);
    assert!(stdout.contains("(1 already done, 0 to train)"), "{stdout}");
}

/// A whole sweep and a shard of it, or shards of different counts, overlap: the run that one
/// is training is skipped by the other, never trained twice at once in one folder.
#[test]
fn overlapping_shards_never_train_one_run_at_once() {
    let out = tempfile::tempdir().unwrap();
    let widths = ["--set", "num_units=[8, 16]", "--set", "epochs=1"];
    let held = Held::at(&["epoch-1"]);
    let mut first: Vec<&str> = widths.to_vec();
    first.extend(["--shard", "1/2"]);
    let mut shard = spawn_held(out.path(), &first, Some(&held));
    held.wait(&mut shard, "epoch-1", 1);
    let busy = held.reached("epoch-1").remove(0);
    // The whole sweep: the run of shard 1/2 is busy, the other one it trains.
    sweep(out.path(), &widths)
        .assert()
        .success()
        .stdout(contains(format!(
            "[{busy}]: another rowseq (pid {}) is training it",
            shard.id()
        )))
        .stdout(contains(
            "1 trained, 0 already done, 0 failed, 1 skipped as another rowseq was training them",
        ));
    // Shard 1/3 holds the same run as 1/2: skipped as well, nothing trained.
    let mut third: Vec<&str> = widths.to_vec();
    third.extend(["--shard", "1/3"]);
    sweep(out.path(), &third)
        .assert()
        .success()
        .stdout(contains("0 trained, 0 already done, 0 failed, 1 skipped"));
    held.release("epoch-1");
    assert!(shard.wait().unwrap().success());
    let csv = std::fs::read_to_string(out.path().join("tiny/results.csv")).unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
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
    status_of(&sweep_dir)
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

/// `--jobs 2`: two worker processes of one thread each, one of which trains two runs in turn,
/// whose results equal a sequential one-thread sweep's; the parent writes the tables with all
/// three runs.
#[test]
fn parallel_jobs_give_the_results_of_a_sequential_sweep() {
    let widths = ["--set", "num_units=[8, 16, 32]", "--set", "epochs=1"];
    let sequential = tempfile::tempdir().unwrap();
    sweep(sequential.path(), &widths).assert().success();
    let parallel = tempfile::tempdir().unwrap();
    let mut jobs = widths.to_vec();
    jobs.extend(["--jobs", "2"]);
    sweep(parallel.path(), &jobs)
        .assert()
        .success()
        .stdout(contains("on cpu, 2 at a time of 1 thread each"))
        .stdout(contains("3 trained, 0 already done, 0 failed"));
    let results = |dir: &Path| results_by_id(&dir.join("tiny"));
    let a = results(sequential.path());
    assert_eq!(a.len(), 3);
    assert_eq!(a, results(parallel.path()));

    // With neither flag (`--jobs auto`, one thread a run): the same numbers on any machine,
    // however many runs its cores train at once.
    let default = tempfile::tempdir().unwrap();
    let mut plain = args(default.path(), &widths);
    for flag in ["--threads", "--jobs"] {
        let at = plain.iter().position(|a| a == flag).unwrap();
        plain.drain(at..at + 2);
    }
    rowseq()
        .args(&plain)
        .assert()
        .success()
        .stdout(contains(" at a time of 1 thread each"));
    assert_eq!(a, results(default.path()));
}

/// A sweep folder's results without the facts of the process (times, versions, memory),
/// ordered by run id.
fn results_by_id(sweep: &Path) -> Vec<Value> {
    let mut rows: Vec<Value> = std::fs::read_to_string(sweep.join("results.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).unwrap();
            let o = v.as_object_mut().unwrap();
            o.retain(|k, _| !k.contains("seconds"));
            o.remove("env");
            o.remove("memory");
            v
        })
        .collect();
    rows.sort_by_key(|v| v["run_id"].as_str().unwrap().to_string());
    rows
}

/// A random search draws the same trials, and trains them to the same results, with `--jobs 1`,
/// `--jobs 2` and over two shards; the closing table ranks them by validation and names the
/// best; raising `trials` keeps the runs already drawn; `status` and `report` read it back.
#[test]
fn a_search_gives_the_same_trials_under_jobs_and_shards_and_keeps_them_when_extended() {
    let search = [
        "--set",
        "method=\"random\"",
        "--set",
        "trials=3",
        "--set",
        "search_seed=5",
        "--set",
        "num_units={ int_log = [8, 32] }",
        "--set",
        "lr={ log_uniform = [0.003, 0.03] }",
        "--set",
        "epochs=1",
    ];
    let sequential = tempfile::tempdir().unwrap();
    let closing = sweep(sequential.path(), &search)
        .assert()
        .success()
        .stdout(contains("3 trained, 0 already done, 0 failed"))
        .get_output()
        .stdout
        .clone();
    let closing = String::from_utf8(closing).unwrap();
    let best = closing
        .lines()
        .find_map(|l| {
            l.strip_prefix(
                "Ranked by validation score (test scores do not choose); the best trial: ",
            )
        })
        .unwrap_or_else(|| panic!("no best trial in {closing}"));
    let best: Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(best).join("config.json")).unwrap(),
    )
    .unwrap();
    // predict --best applies the same trial.
    let predictions = sequential.path().join("best.csv");
    rowseq()
        .arg("predict")
        .arg(sequential.path().join("tiny"))
        .args(["mnist", "--best", "--out"])
        .arg(&predictions)
        .assert()
        .success()
        .stdout(contains(format!("with units={},", best["num_units"])));
    let a = results_by_id(&sequential.path().join("tiny"));
    assert_eq!(a.len(), 3);
    let record = std::fs::read_to_string(sequential.path().join("tiny/sweep.json")).unwrap();
    assert!(record.contains("\"method\": \"random\""), "{record}");

    let parallel = tempfile::tempdir().unwrap();
    let mut jobs = search.to_vec();
    jobs.extend(["--jobs", "2"]);
    sweep(parallel.path(), &jobs).assert().success();
    assert_eq!(a, results_by_id(&parallel.path().join("tiny")));

    let sharded = tempfile::tempdir().unwrap();
    for shard in ["2/2", "1/2"] {
        let mut one = search.to_vec();
        one.extend(["--shard", shard]);
        sweep(sharded.path(), &one).assert().success();
    }
    assert_eq!(a, results_by_id(&sharded.path().join("tiny")));

    let mut more = search.to_vec();
    more.extend(["--set", "trials=4"]);
    sweep(sequential.path(), &more)
        .assert()
        .success()
        .stdout(contains("1 trained, 3 already done, 0 failed"));
    rowseq()
        .arg("status")
        .arg(sequential.path().join("tiny"))
        .assert()
        .success()
        .stdout(contains("4 done"))
        .stdout(contains(
            "a random search of 4 trials (search_seed = 5): num_units = ",
        ));
    rowseq()
        .arg("report")
        .arg(sequential.path().join("tiny"))
        .assert()
        .success();
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
        "epochs=2",
        "--jobs",
        "2",
    ];
    // Both workers hold their first run after its first epoch.
    let held = Held::at(&["epoch-1"]);
    let mut parent = spawn_held(out.path(), &grid, Some(&held));
    held.wait(&mut parent, "epoch-1", 2);
    let worker = children(parent.id())[0];
    signal(worker, "KILL");
    held.release("epoch-1");
    let output = parent.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stdout.contains("2 trained, 0 already done, 1 failed"),
        "{stdout}"
    );
    assert!(stderr.contains("worker exited with signal: 9"), "{stderr}");
    // The parent recorded the killed run, so status shows it failed and a plain rerun does not
    // train it again.
    let failed: Vec<PathBuf> = run_dirs(&out.path().join("tiny"))
        .into_iter()
        .filter(|d| d.join("failed.json").is_file())
        .collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    status_of(out.path().join("tiny"))
        .stdout(contains("3 runs: 2 done, 0 running, 1 failed, 0 pending"))
        .stdout(contains("worker exited with signal: 9"));
    sweep(out.path(), &grid).assert().code(1).stdout(contains(
        "1 failed before (--retry-failed retries them), 0 to train",
    ));
}

/// A run's thread count is `--threads` (default 1), whatever `--jobs` is and however many
/// runs are left: a lone run under `--jobs 2` trains in-process on its one thread; a run
/// resumed with another `--threads` keeps the count it started with. Both are recorded in the
/// result.
#[test]
fn a_runs_thread_count_does_not_depend_on_what_is_left() {
    let threads = |dir: &Path| -> Vec<u64> {
        std::fs::read_to_string(dir.join("tiny/results.jsonl"))
            .unwrap()
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["env"]["threads"]
                    .as_u64()
                    .unwrap()
            })
            .collect()
    };
    let out = tempfile::tempdir().unwrap();
    let one = ["--set", "epochs=1", "--jobs", "2"];
    sweep(out.path(), &one)
        .assert()
        .success()
        .stdout(contains("on cpu, 1 at a time of 1 thread each"));
    assert_eq!(threads(out.path()), [1]);

    let resumed = tempfile::tempdir().unwrap();
    let held = Held::at(&["epoch-1"]);
    let mut child = spawn_held(resumed.path(), &[], Some(&held));
    held.wait(&mut child, "epoch-1", 1);
    kill9(child);
    sweep(resumed.path(), &["--threads", "2"])
        .assert()
        .success()
        .stdout(contains("started on 1 threads and resumes on 1 (not 2)"));
    assert_eq!(threads(resumed.path()), [1]);
}

/// A checkpoint that cannot be read, or that is another model's, fails its run with the
/// reason and the fix; the sweep trains the other runs, and --retry-failed starts it afresh.
#[test]
fn a_corrupt_checkpoint_fails_only_its_run() {
    let out = tempfile::tempdir().unwrap();
    let widths = ["--set", "num_units=[8, 16]", "--set", "epochs=1"];
    let ids: Vec<String> = {
        let o = sweep(out.path(), &[widths.as_slice(), &["--dry-run"]].concat())
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(|l| l.split_whitespace().next().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids.len(), 2);
    let run = out.path().join("tiny").join(&ids[0]);
    std::fs::create_dir_all(&run).unwrap();
    std::fs::write(
        run.join("checkpoint.safetensors"),
        b"garbage, not safetensors",
    )
    .unwrap();
    sweep(out.path(), &widths)
        .assert()
        .code(1)
        .stdout(contains("1 trained, 0 already done, 1 failed"))
        .stderr(contains(
            "checkpoint.safetensors: not a readable checkpoint",
        ))
        .stderr(contains(
            "delete it to start the run afresh, or pass --retry-failed",
        ));
    status_of(out.path().join("tiny")).stdout(contains("1 done, 0 running, 1 failed, 0 pending"));
    retry_trains_the_failed_one(out.path(), &widths);

    // A checkpoint of the 8-unit run put into the 16-unit run's folder: another run's (its
    // shapes are wrong too, which `train::checkpoint::restore` would say of a crafted one).
    let other = tempfile::tempdir().unwrap();
    let held = Held::at(&["epoch-1"]);
    let mut child = spawn_held(
        other.path(),
        &["--set", "num_units=8", "--set", "epochs=2"],
        Some(&held),
    );
    held.wait(&mut child, "epoch-1", 1);
    kill9(child);
    let eight = run_dir(other.path());
    let sixteen = tempfile::tempdir().unwrap();
    sweep(sixteen.path(), &["--set", "epochs=2", "--dry-run"])
        .assert()
        .success();
    let id16 = {
        let o = sweep(sixteen.path(), &["--set", "epochs=2", "--dry-run"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout)
            .split_whitespace()
            .next()
            .unwrap()
            .to_string()
    };
    let dest = sixteen.path().join("tiny").join(id16);
    std::fs::create_dir_all(&dest).unwrap();
    std::fs::copy(
        eight.join("checkpoint.safetensors"),
        dest.join("checkpoint.safetensors"),
    )
    .unwrap();
    let output = sweep(sixteen.path(), &["--set", "epochs=2"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("checkpoint.safetensors: the checkpoint of run")
            && stderr.contains("not of this folder's run"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// The id of the tiny sweep's one run with `extra` (from `--dry-run`).
fn planned_id(extra: &[&str]) -> String {
    let out = tempfile::tempdir().unwrap();
    let o = sweep(out.path(), &[extra, &["--dry-run"]].concat())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout).to_string();
    let ids: Vec<&str> = stdout
        .lines()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(ids.len(), 1, "{stdout}");
    ids[0].to_string()
}

/// The checkpoint that the run of `from` (killed after `epoch`) left, planted in the folder
/// of the run of `into`: that run must fail naming it, with the fix, and leave it as it was.
fn refuses_a_planted_checkpoint(from: &[&str], epoch: &str, into: &[&str]) {
    let other = tempfile::tempdir().unwrap();
    let held = Held::at(&[epoch]);
    let mut child = spawn_held(other.path(), from, Some(&held));
    held.wait(&mut child, epoch, 1);
    kill9(child);
    let planted = run_dir(other.path()).join("checkpoint.safetensors");
    let bytes = std::fs::read(&planted).unwrap();
    let (from_id, id) = (planned_id(from), planned_id(into));
    assert_ne!(from_id, id);
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("tiny").join(&id);
    std::fs::create_dir_all(&dest).unwrap();
    std::fs::write(dest.join("checkpoint.safetensors"), &bytes).unwrap();
    let output = sweep(out.path(), into).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "checkpoint.safetensors: the checkpoint of run {from_id}, not of this folder's run \
             {id}; delete it to start the run afresh, or pass --retry-failed"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!dest.join("result.json").exists());
    assert!(!dest.join("metrics.jsonl").exists());
    assert_eq!(
        std::fs::read(dest.join("checkpoint.safetensors")).unwrap(),
        bytes,
        "the planted checkpoint was changed"
    );
    status_of(out.path().join("tiny")).stdout(contains("0 done, 0 running, 1 failed"));
}

/// Another run's checkpoint with the same shapes is never adopted: the seed-0 run's in the
/// seed-1 run's folder (issue #36, item 2).
#[test]
fn another_seeds_checkpoint_is_refused() {
    refuses_a_planted_checkpoint(
        &["--set", "seed=0", "--set", "epochs=2"],
        "epoch-1",
        &["--set", "seed=1", "--set", "epochs=2"],
    );
}

/// A 5-epoch run's epoch-3 checkpoint in a 2-epoch run's folder: refused, not "finished"
/// with 3 epochs of another run (issue #36, item 2).
#[test]
fn a_longer_runs_checkpoint_is_refused() {
    refuses_a_planted_checkpoint(&["--set", "epochs=5"], "epoch-3", &["--set", "epochs=2"]);
}

/// Another run's result.json copied into a run folder is not taken for this run's result: the
/// run counts as failed, saying whose result it is, and the tables hold each run once.
#[test]
fn a_foreign_or_corrupt_result_is_never_a_silent_result() {
    let out = tempfile::tempdir().unwrap();
    let widths = ["--set", "num_units=[8, 16]", "--set", "epochs=1"];
    sweep(out.path(), &widths).assert().success();
    let dirs = run_dirs(&out.path().join("tiny"));
    std::fs::copy(dirs[0].join("result.json"), dirs[1].join("result.json")).unwrap();
    status_of(out.path().join("tiny"))
        .stdout(contains("1 done, 0 running, 1 failed"))
        .stdout(contains("not of this folder's run"));
    sweep(out.path(), &widths)
        .assert()
        .code(1)
        .stdout(contains("1 failed before"));
    let csv = std::fs::read_to_string(out.path().join("tiny/results.csv")).unwrap();
    assert_eq!(csv.lines().count(), 2, "{csv}");
    // A run folder whose weights are another width's: `explain` says so in one line (it
    // printed libtorch's 26-line trace).
    let mixed = out.path().join("mixed");
    std::fs::create_dir(&mixed).unwrap();
    std::fs::copy(dirs[0].join("config.json"), mixed.join("config.json")).unwrap();
    std::fs::copy(
        dirs[1].join("model.safetensors"),
        mixed.join("model.safetensors"),
    )
    .unwrap();
    let output = rowseq().arg("explain").arg(&mixed).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("model.safetensors: does not fit the model of this run's config"),
        "{stderr}"
    );
    // Weights that are no safetensors file at all (emptied, cut short) are called damaged,
    // not another model (it said "does not fit ... HeaderTooSmall").
    for damaged in [&b""[..], &b"\x10\0\0\0\0\0\0\0{\"a\""[..]] {
        std::fs::write(mixed.join("model.safetensors"), damaged).unwrap();
        let output = rowseq().arg("explain").arg(&mixed).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains("model.safetensors: damaged: not a safetensors file"),
            "{stderr}"
        );
    }
    // A truncated one likewise; --retry-failed trains the run again.
    std::fs::write(dirs[1].join("result.json"), b"{\"run_id\": ").unwrap();
    status_of(out.path().join("tiny")).stdout(contains("not a rowseq result record"));
    retry_trains_the_failed_one(out.path(), &widths);
}

/// A hand-edited sweep.json with a value no sweep file may hold: `status` and `report` say
/// which file, in one line, exit 2 (they panicked).
#[test]
fn a_bad_sweep_record_is_a_one_line_error() {
    let out = tempfile::tempdir().unwrap();
    sweep(
        out.path(),
        &["--set", "epochs=1", "--set", "train_size=500"],
    )
    .assert()
    .success();
    let record = out.path().join("tiny/sweep.json");
    let text = std::fs::read_to_string(&record).unwrap();
    let edited = text.replace(
        "\"num_units\": [\n      16\n    ]",
        "\"num_units\": [\n      \"many\"\n    ]",
    );
    assert_ne!(text, edited, "{text}");
    std::fs::write(&record, edited).unwrap();
    for cmd in ["status", "report"] {
        let output = rowseq()
            .arg(cmd)
            .arg(out.path().join("tiny"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{cmd}: {stderr}");
        assert!(
            stderr.starts_with(&format!(
                "error: {}: num_units = \"many\"",
                record.display()
            )),
            "{cmd}: {stderr}"
        );
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    }
}

/// Files rowseq writes get the permissions a plain create would (0666 less the umask), so a
/// group can read a shared sweep folder; a report killed mid-write leaves nothing behind once
/// the report is written again.
#[test]
fn written_files_follow_the_umask_and_temporaries_are_cleared() {
    use std::os::unix::fs::PermissionsExt;
    let out = tempfile::tempdir().unwrap();
    let line = args(
        out.path(),
        &["--set", "epochs=1", "--set", "train_size=500"],
    )
    .iter()
    .map(|a| format!("'{a}'"))
    .collect::<Vec<_>>()
    .join(" ");
    let status = Std::new("bash")
        .arg("-c")
        .arg(format!(
            "umask 027 && exec '{}' {line} >/dev/null",
            crate::common::binary().display()
        ))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .unwrap();
    assert!(status.success());
    let sweep_dir = out.path().join("tiny");
    let run = run_dir(out.path());
    for file in [
        sweep_dir.join("results.csv"),
        sweep_dir.join("sweep.json"),
        run.join("result.json"),
        run.join("model.safetensors"),
        sweep_dir.join("report/report.md"),
    ] {
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640, "{}", file.display());
    }
    let leftover = sweep_dir.join("report/.tmp.abc123.svg");
    std::fs::write(&leftover, b"half").unwrap();
    rowseq().arg("report").arg(&sweep_dir).assert().success();
    assert!(!leftover.exists());
}

/// `rowseq status` of the tiny sweep in `dir` (it must succeed).
fn status_of(dir: impl AsRef<std::ffi::OsStr>) -> assert_cmd::assert::Assert {
    rowseq().arg("status").arg(dir).assert().success()
}

/// `--retry-failed` trains the one failed run of two, afresh.
fn retry_trains_the_failed_one(out: &Path, grid: &[&str]) {
    let mut retry = grid.to_vec();
    retry.push("--retry-failed");
    sweep(out, &retry)
        .assert()
        .success()
        .stdout(contains("1 trained, 1 already done, 0 failed"));
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
    let widths = ["--set", "num_units=[8, 16]", "--set", "epochs=3"];
    let reference = tempfile::tempdir().unwrap();
    sweep(reference.path(), &widths).assert().success();
    let out = tempfile::tempdir().unwrap();
    let mut jobs = widths.to_vec();
    jobs.extend(["--jobs", "2"]);
    // Both workers hold their run after its first epoch when the signal comes.
    let held = Held::at(&["epoch-1"]);
    let mut parent = spawn_held(out.path(), &jobs, Some(&held));
    held.wait(&mut parent, "epoch-1", 2);
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

/// A sweep clears the temporaries (`.tmp.*`) that a process killed mid-write left in its folder
/// and in its runs' folders, and nothing else so named.
#[test]
fn a_sweep_clears_its_own_temporaries() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let folder = out.join("tiny");
    std::fs::create_dir_all(folder.join(".tmp.keep")).unwrap();
    std::fs::write(folder.join(".tmp.AbC123.json"), "{").unwrap();
    std::fs::write(folder.join(".tmp.XyZ789.csv"), "half").unwrap();
    sweep(&out, &["--no-tensorboard"]).assert().success();
    let run = run_dir(&out);
    std::fs::write(run.join(".tmp.QwE456.json"), "{").unwrap();
    std::fs::remove_file(run.join("result.json")).unwrap();
    sweep(&out, &["--no-tensorboard"]).assert().success();
    for dir in [&folder, &run] {
        let left: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".tmp."))
            .collect();
        let expected: Vec<String> = if dir == &folder {
            vec![".tmp.keep".into()]
        } else {
            vec![]
        };
        assert_eq!(left, expected, "{}", dir.display());
    }
}

/// The sweep's only error line, with the test hook of a full disk on the run's second
/// checkpoint (`ROWSEQ_TEST_ENOSPC`).
fn full_disk(out: &Path, extra: &[&str]) -> String {
    let output = rowseq()
        .args(args(out, extra))
        .env("ROWSEQ_TEST_ENOSPC", "checkpoint.safetensors@2")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].contains("No space left on device"), "{stderr}");
    assert!(errors[0].contains("the disk is full"), "{stderr}");
    assert!(
        !stderr.contains("FAILED") && !stderr.contains("panicked"),
        "{stderr}"
    );
    stderr
}

/// A full disk is not the run's failure: no failed.json, the checkpoint of the last epoch kept,
/// and the same command resumes it once space is freed, to the uninterrupted run's results;
/// `--retry-failed` (a run recorded as failed by an earlier version) resumes too.
#[test]
fn a_full_disk_leaves_the_run_resumable() {
    let tmp = tempfile::tempdir().unwrap();
    let (plain, full) = (tmp.path().join("plain"), tmp.path().join("full"));
    sweep(&plain, &["--no-tensorboard"]).assert().success();

    full_disk(&full, &["--no-tensorboard"]);
    let run = run_dir(&full);
    assert!(!run.join("failed.json").exists());
    assert!(run.join("checkpoint.safetensors").exists());
    sweep(&full, &["--no-tensorboard"])
        .assert()
        .success()
        .stdout(contains("after epoch 1/3"));
    assert_same_run(&plain, &full);

    // A failure recorded by an earlier version on a full disk: --retry-failed resumes it from
    // its checkpoint rather than from scratch.
    let again = tmp.path().join("again");
    full_disk(&again, &["--no-tensorboard"]);
    let run = run_dir(&again);
    let failure = serde_json::json!({
        "run_id": run.file_name().unwrap().to_string_lossy(),
        "label": "units=16,seed=0",
        "error": "could not write 'checkpoint.safetensors': No space left on device (os error 28)",
    });
    std::fs::write(run.join("failed.json"), failure.to_string()).unwrap();
    sweep(&again, &["--no-tensorboard"]).assert().code(1);
    sweep(&again, &["--no-tensorboard", "--retry-failed"])
        .assert()
        .success()
        .stdout(contains("after epoch 1/3"));
    assert_same_run(&plain, &again);
}

/// With `--jobs`, a full disk in a worker is said once, by the parent, and no run is recorded
/// as failed.
#[test]
fn a_full_disk_in_a_worker_is_said_once() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let stderr = full_disk(
        &out,
        &["--no-tensorboard", "--jobs", "2", "--set", "seed=[0,1]"],
    );
    assert_eq!(
        stderr.matches("No space left on device").count(),
        1,
        "{stderr}"
    );
    for run in run_dirs(&out.join("tiny")) {
        assert!(!run.join("failed.json").exists(), "{}", run.display());
    }
}
