/*!
Helpers shared by the integration tests: the binary, run folders, metrics without the
wall-clock fields (which differ between otherwise identical runs), `explain`'s JSON, and
waiting on and signalling a running rowseq.
*/
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::Value;

/// The `rowseq` binary, run from the package root (so `data/mnist` and `configs/` are found).
pub fn rowseq() -> Command {
    let mut cmd = Command::cargo_bin("rowseq").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

/// The `rowseq` binary as a child process of its own, for tests that hold, signal or kill it,
/// run from the package root.
pub fn rowseq_process() -> std::process::Command {
    let mut cmd = std::process::Command::new(binary());
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

/// The path of the `rowseq` binary under test.
pub fn binary() -> PathBuf {
    assert_cmd::cargo::cargo_bin("rowseq")
}

/// `rowseq train` of `units` hidden units for one epoch on 2,000 images (200 validation, 500
/// test), one thread, CPU, into `<out>/mnist/` (`train_folder`).
pub fn tiny_train(out: &Path, units: u32) -> Command {
    let mut cmd = rowseq();
    cmd.args(["train", "--num-units", &units.to_string(), "--epochs", "1"])
        .args([
            "--train-size",
            "2000",
            "--val-size",
            "200",
            "--test-size",
            "500",
        ])
        .args(["--threads", "1", "--device", "cpu", "--out"])
        .arg(out);
    cmd
}

/// The run folders of a sweep folder (those with a config.json; `tb/` and `report/` are not).
pub fn run_dirs(sweep: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(sweep)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("config.json").is_file())
        .collect();
    dirs.sort();
    dirs
}

/// A run's metrics.jsonl records without the `*_seconds` fields.
pub fn metrics_without_time(run: &Path) -> Vec<Value> {
    std::fs::read_to_string(run.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).unwrap();
            v.as_object_mut()
                .unwrap()
                .retain(|k, _| !k.ends_with("seconds"));
            v
        })
        .collect()
}

/// `rowseq explain <run> --format json`, parsed (the command must succeed).
pub fn explain_json(run: &Path) -> Value {
    let out = rowseq()
        .arg("explain")
        .arg(run)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Polls `done` every 20 ms while the child runs. What it waits for is a state that the
/// child is certain to reach (a `Held` point), so the bound of ten minutes is only there to end
/// a broken test, however slow or loaded the machine.
pub fn wait_until(child: &mut Child, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(child.try_wait().unwrap().is_none(), "rowseq ended early");
        assert!(started.elapsed() < Duration::from_secs(600), "timed out");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends `signal` ("INT", "KILL") to process `pid` with kill(1).
pub fn signal(pid: u32, signal: &str) {
    let status = std::process::Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(status.success(), "kill -{signal} {pid}");
}

/// Pause points of a run (see `src/sinks/hold.rs`): rowseq, started with `ROWSEQ_TEST_HOLD`
/// naming this folder, stops at each held point ("start", "epoch-E") once its work is on disk,
/// says so with a marker file, and goes on only when the point is released (or on Ctrl-C).
/// With it a test acts on a run known to be exactly there, however fast the machine is.
pub struct Held {
    pub dir: tempfile::TempDir,
}

impl Held {
    /// Holds every run at each of `points`.
    pub fn at(points: &[&str]) -> Held {
        let held = Held {
            dir: tempfile::tempdir().unwrap(),
        };
        for p in points {
            std::fs::write(held.dir.path().join(format!("hold-{p}")), b"").unwrap();
        }
        held
    }

    /// Sets the variable on `cmd`.
    pub fn apply(&self, cmd: &mut std::process::Command) {
        cmd.env("ROWSEQ_TEST_HOLD", self.dir.path());
    }

    /// The runs (ids) that reached `point`.
    pub fn reached(&self, point: &str) -> Vec<String> {
        let suffix = format!(".{point}");
        let mut ids: Vec<String> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.strip_suffix(&suffix).map(str::to_string)
            })
            .collect();
        ids.sort();
        ids
    }

    /// Waits until `runs` runs have reached `point` (the child must still be running).
    pub fn wait(&self, child: &mut Child, point: &str, runs: usize) {
        wait_until(child, || self.reached(point).len() >= runs);
    }

    /// Lets runs held at `point` go on.
    pub fn release(&self, point: &str) {
        std::fs::remove_file(self.dir.path().join(format!("hold-{point}"))).unwrap();
    }
}

/// `scripts/load_in_pytorch.py RUN DATA --check PREDICTIONS` with the set-up's venv: it must
/// succeed (every value within its tolerance of rowseq's); returns its stdout.
pub fn load_in_pytorch(run: &Path, data: &str, predictions: &Path) -> String {
    load_ensemble_in_pytorch(&[run], data, predictions)
}

/// `load_in_pytorch` of several runs: an ensemble (the mean of their predictions).
pub fn load_ensemble_in_pytorch(runs: &[&Path], data: &str, predictions: &Path) -> String {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    assert!(
        python.is_file(),
        "{} is missing: run scripts/setup.sh (the README's test command does)",
        python.display()
    );
    let output = std::process::Command::new(&python)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("scripts/load_in_pytorch.py")
        .args(runs)
        .arg(data)
        .arg("--check")
        .arg(predictions)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// The one folder that `rowseq train` wrote under `out` (named after the data set: `mnist`,
/// `GunPoint`, ...).
pub fn train_folder(out: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    assert_eq!(
        dirs.len(),
        1,
        "expected one train folder under {}: {dirs:?}",
        out.display()
    );
    dirs.into_iter().next().unwrap()
}

/// The ranked-trials table of a search's `report.md` (the one headed `| rank |`): its header's
/// cells, then each row's cells, trimmed.
pub fn ranked_trials(md: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let cells = |l: &str| -> Vec<String> {
        let inner = l.trim().trim_start_matches('|').trim_end_matches('|');
        inner.split('|').map(|c| c.trim().to_string()).collect()
    };
    let mut table = md.lines().skip_while(|l| !l.starts_with("| rank |"));
    let head = table
        .next()
        .unwrap_or_else(|| panic!("no ranked trials in\n{md}"));
    let rows = table.skip(1).take_while(|l| l.starts_with('|'));
    (cells(head), rows.map(cells).collect())
}

/// A CSV file's header and rows, as text.
pub fn csv_rows(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows = r
        .records()
        .map(|rec| rec.unwrap().iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

/// Runs `cmd` and asserts that it succeeds, with its standard error in the message.
pub fn succeeds(mut cmd: std::process::Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The one run folder that `rowseq train --out OUT` wrote.
pub fn only_run(out: &Path) -> PathBuf {
    let mut runs = run_dirs(&train_folder(out));
    assert_eq!(runs.len(), 1, "{runs:?}");
    runs.remove(0)
}

/// Writes `train` and `test` as `train.csv` and `test.csv` in `dir`: the `csv:TRAIN,TEST` spec.
pub fn csv_problem(dir: &Path, train: &str, test: &str) -> String {
    std::fs::write(dir.join("train.csv"), train).unwrap();
    std::fs::write(dir.join("test.csv"), test).unwrap();
    format!(
        "csv:{},{}",
        dir.join("train.csv").display(),
        dir.join("test.csv").display()
    )
}
