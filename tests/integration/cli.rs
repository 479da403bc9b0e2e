/*!
Integration tests: the real `rowseq` binary on real MNIST (the subset each test asks for).
Needs `data/mnist/` from scripts/setup.sh; the README's test command sets it up.
*/
use crate::common::{metrics_without_time, rowseq, run_dirs, tiny_train};
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use predicates::str::contains;
use serde_json::Value;

/// A tiny but real sweep: two widths, one epoch of 4,000 training images in batches of 32, one
/// thread; reaches about 0.5 (16 units) and 0.67 (64 units) test accuracy.
fn tiny_sweep(out: &Path, extra: &[&str]) -> Command {
    const TINY: &[&str] = &[
        "name=\"tiny\"",
        "num_units=[16, 64]",
        "epochs=1",
        "train_size=4000",
        "val_size=500",
        "test_size=1000",
        "lr=0.01",
        "batch_size=32",
    ];
    let mut cmd = rowseq();
    cmd.args([
        "sweep",
        "configs/quick.toml",
        "--device",
        "cpu",
        "--threads",
        "1",
        "--jobs",
        "1",
        "--out",
    ]);
    cmd.arg(out);
    for set in TINY {
        cmd.args(["--set", set]);
    }
    cmd.args(extra);
    cmd
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn tiny_sweep_trains_writes_results_and_resumes() {
    let out = tempfile::tempdir().unwrap();
    tiny_sweep(out.path(), &[])
        .assert()
        .success()
        .stdout(contains("2 runs (0 already done, 2 to train)"))
        .stdout(contains("test acc (mean ± std)"))
        .stdout(contains("results.csv"))
        .stdout(contains("memory: peak RSS"));
    let sweep = out.path().join("tiny");
    let runs = run_dirs(&sweep);
    assert_eq!(runs.len(), 2);
    for run in &runs {
        for f in [
            "config.json",
            "metrics.jsonl",
            "result.json",
            "model.safetensors",
        ] {
            assert!(run.join(f).is_file(), "{} lacks {f}", run.display());
        }
        let result = read_json(&run.join("result.json"));
        let h = result["config"]["num_units"].as_i64().unwrap();
        assert_eq!(
            result["params"].as_i64().unwrap(),
            4 * h * (28 + h) + 8 * h + 10 * h + 10
        );
        let acc = result["test_acc"].as_f64().unwrap();
        assert!(
            acc > 0.3,
            "units={h}: test accuracy {acc} is not well above chance (0.1)"
        );
        assert_eq!(result["test_size"], 1000);
        let rss = result["memory"]["rss_mib"].as_f64().unwrap();
        let peak = result["memory"]["peak_rss_mib"].as_f64().unwrap();
        assert!(rss > 0.0 && peak >= rss, "memory {rss} / {peak} MiB");
        assert_eq!(result["train_size"], 4000);
        assert_eq!(metrics_without_time(run).len(), 1);
    }
    let csv = std::fs::read_to_string(sweep.join("results.csv")).unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(csv.starts_with("run_id,label,num_units,params,seed"));
    assert_eq!(
        std::fs::read_to_string(sweep.join("results.jsonl"))
            .unwrap()
            .lines()
            .count(),
        2
    );
    let record = read_json(&sweep.join("sweep.json"));
    assert_eq!(record["swept"], serde_json::json!(["num_units"]));

    // A second invocation trains nothing and leaves the results as they were.
    let before = std::fs::read(runs[0].join("result.json")).unwrap();
    tiny_sweep(out.path(), &[])
        .assert()
        .success()
        .stdout(contains("2 runs (2 already done, 0 to train)"));
    assert_eq!(std::fs::read(runs[0].join("result.json")).unwrap(), before);

    // Adding a width trains only the new run.
    tiny_sweep(out.path(), &["--set", "num_units=[8, 16, 64]"])
        .assert()
        .success()
        .stdout(contains("3 runs (2 already done, 1 to train)"));
}

#[test]
fn same_seed_gives_identical_metrics() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    for out in [&a, &b] {
        tiny_sweep(out.path(), &["--set", "num_units=16"])
            .assert()
            .success();
    }
    let (ra, rb) = (
        run_dirs(&a.path().join("tiny")),
        run_dirs(&b.path().join("tiny")),
    );
    assert_eq!(ra.len(), 1);
    assert_eq!(
        ra[0].file_name(),
        rb[0].file_name(),
        "same config, same run id"
    );
    assert_eq!(metrics_without_time(&ra[0]), metrics_without_time(&rb[0]));
    assert_eq!(
        std::fs::read(ra[0].join("model.safetensors")).unwrap(),
        std::fs::read(rb[0].join("model.safetensors")).unwrap(),
        "weights differ between two runs with the same seed"
    );
}

#[test]
fn train_runs_one_configuration() {
    let out = tempfile::tempdir().unwrap();
    tiny_train(out.path(), 8)
        .assert()
        .success()
        .stdout(contains("1 runs (0 already done, 1 to train)"));
    assert_eq!(run_dirs(&crate::common::train_folder(out.path())).len(), 1);
}

/// Runs the binary expecting a user error: exit 2, one line on stderr containing `want`.
pub fn expect_user_error(cmd: &mut Command, want: &str) {
    let output = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains(want), "expected {want:?} in {stderr:?}");
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "not one line: {stderr:?}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn bad_configs_are_one_line_errors_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "num_units = [8, 16]\nepoch = 3\n",
            ":2: unknown key `epoch`",
        ),
        (
            "num_units = 0\n",
            ":1: num_units = 0: expected a whole number of hidden units",
        ),
        ("lr = -1.0\n", ":1: lr = -1.0: expected a learning rate > 0"),
        (
            "epochs = 0\n",
            ":1: epochs = 0: expected a whole number of epochs",
        ),
        (
            "num_units = []\n",
            ":1: num_units = []: expected at least one value",
        ),
        ("num_units = [8\n", ":2: invalid TOML"),
    ];
    for (i, (text, want)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("c{i}.toml"));
        std::fs::write(&path, text).unwrap();
        let out = dir.path().join("out");
        expect_user_error(
            rowseq().arg("sweep").arg(&path).arg("--out").arg(&out),
            &format!("{}{want}", path.display()),
        );
        assert!(!out.exists(), "a rejected config wrote {}", out.display());
    }
    expect_user_error(
        rowseq().args(["sweep", "configs/quick.toml", "--set", "batch_size=0"]),
        "--set batch_size=0: batch_size = 0: expected a batch size of at least 1",
    );
    expect_user_error(
        rowseq().args(["sweep", "no/such.toml"]),
        "no/such.toml: cannot read",
    );
    expect_user_error(
        rowseq().args(["train", "--num-units", "0"]),
        "--num-units 0: expected",
    );
    expect_user_error(
        rowseq().args(["train", "--lr", "0"]),
        "--lr 0.0: expected a learning rate > 0",
    );
    // clap's list of possible values joins the line, with no escaped line break.
    expect_user_error(
        rowseq().args(["train", "--device", "tpu"]),
        "error: invalid value 'tpu' for '--device <DEVICE>' [possible values: auto, cpu, cuda]",
    );
}

/// A change that breaks a copy of the MNIST folder.
type Edit = fn(&Path);

/// Copies the real MNIST files into a temp dir, letting `edit` corrupt them.
fn broken_mnist(edit: impl Fn(&Path)) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/mnist");
    for f in [
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ] {
        std::fs::copy(src.join(f), dir.path().join(f)).unwrap();
    }
    edit(dir.path());
    dir
}

#[test]
fn bad_data_is_a_clear_error_and_writes_no_result() {
    let truncate = |d: &Path| {
        let p = d.join("t10k-images-idx3-ubyte");
        let bytes = std::fs::read(&p).unwrap();
        std::fs::write(&p, &bytes[..bytes.len() - 100]).unwrap();
    };
    let bad_magic = |d: &Path| {
        let p = d.join("train-labels-idx1-ubyte");
        let mut bytes = std::fs::read(&p).unwrap();
        bytes[3] = 0x03;
        std::fs::write(&p, bytes).unwrap();
    };
    let fewer_labels = |d: &Path| {
        // A consistent labels file with 9,999 labels: the count no longer matches the images.
        let p = d.join("t10k-labels-idx1-ubyte");
        let mut bytes = std::fs::read(&p).unwrap();
        bytes[4..8].copy_from_slice(&9999u32.to_be_bytes());
        bytes.pop();
        std::fs::write(&p, bytes).unwrap();
    };
    let missing = |d: &Path| std::fs::remove_file(d.join("train-images-idx3-ubyte")).unwrap();
    let cases: [(Edit, &str); 4] = [
        (truncate, "t10k-images-idx3-ubyte: truncated file"),
        (bad_magic, "train-labels-idx1-ubyte: bad magic number"),
        (
            fewer_labels,
            "t10k-labels-idx1-ubyte: header says 9999 labels: expected 10000",
        ),
        (missing, "train-images-idx3-ubyte: missing"),
    ];
    for (edit, want) in cases {
        let data = broken_mnist(edit);
        let out = tempfile::tempdir().unwrap();
        expect_user_error(
            tiny_sweep(out.path(), &["--set", "num_units=8"])
                .arg("--data-dir")
                .arg(data.path()),
            want,
        );
        let results: Vec<_> = walk(out.path())
            .into_iter()
            .filter(|p| p.ends_with("result.json"))
            .collect();
        assert!(results.is_empty(), "bad data left results: {results:?}");
    }
}

#[test]
fn gzip_and_torchvision_layout_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("MNIST/raw");
    std::fs::create_dir_all(&raw).unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/mnist");
    for f in [
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ] {
        let bytes = std::fs::read(src.join(f)).unwrap();
        let out = std::fs::File::create(raw.join(format!("{f}.gz"))).unwrap();
        let mut gz = flate2::write::GzEncoder::new(out, flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &bytes).unwrap();
        gz.finish().unwrap();
    }
    let out = tempfile::tempdir().unwrap();
    tiny_sweep(
        out.path(),
        &["--set", "num_units=8", "--set", "train_size=1000"],
    )
    .arg("--data-dir")
    .arg(dir.path())
    .assert()
    .success();
}

#[test]
fn every_subcommand_has_help() {
    for sub in [&["--help"][..], &["sweep", "--help"], &["train", "--help"]] {
        rowseq()
            .args(sub)
            .assert()
            .success()
            .stdout(contains("Usage: rowseq"));
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// A run whose model cannot be allocated fails alone (`failed.json`, the reason on stderr)
/// while the other run of a `--jobs 2` sweep trains (issue #36, item 7). 65,536 units in 100
/// layers need some 50 TiB: more than any machine has, so the check is deterministic.
#[test]
fn a_run_too_big_for_memory_fails_alone_in_a_sweep() {
    let out = tempfile::tempdir().unwrap();
    let sweep = out.path().join("big");
    rowseq()
        .args([
            "sweep",
            "configs/quick.toml",
            "--device",
            "cpu",
            "--threads",
            "1",
            "--jobs",
            "2",
            "--no-report",
            "--out",
        ])
        .arg(out.path())
        .args(["--set", "name=\"big\"", "--set", "num_units=[4, 65536]"])
        .args(["--set", "layers=100", "--set", "epochs=1"])
        .args(["--set", "train_size=200", "--set", "val_size=50"])
        .args(["--set", "test_size=50", "--set", "batch_size=32"])
        .assert()
        .code(1)
        .stderr(contains("num_units = 65536 with layers = 100 needs about"))
        .stderr(contains(
            "GiB of memory for weights and training state, more than the",
        ))
        .stderr(contains("panicked").not());
    let runs = run_dirs(&sweep);
    assert_eq!(runs.len(), 2);
    let (mut failed, mut done) = (0, 0);
    for run in &runs {
        let config = read_json(&run.join("config.json"));
        if config["num_units"] == 65536 {
            let f = read_json(&run.join("failed.json"));
            assert!(f.to_string().contains("GiB of memory"), "{f}");
            assert!(!run.join("result.json").exists());
            failed += 1;
        } else {
            assert!(run.join("result.json").is_file());
            done += 1;
        }
    }
    assert_eq!((failed, done), (1, 1));
}

#[test]
fn quiet_prints_the_table_alone_and_a_log_gets_every_epoch() {
    let first = tempfile::tempdir().unwrap();
    // Without a terminal (as here), every epoch has its line, and times are never "0.0s".
    let log = tiny_train(first.path(), 8).assert().success();
    let text = String::from_utf8_lossy(&log.get_output().stdout).to_string();
    assert!(text.contains(" epoch 1/1: loss "), "{text}");
    assert!(
        !text.contains("jittered"),
        "MNIST trains on the images as they are: {text}"
    );
    assert!(!text.contains("0.0s"), "{text}");
    assert!(text.contains("done units=8"), "{text}");
    // --quiet: the closing table and where the results are, nothing per epoch or run.
    let out = tempfile::tempdir().unwrap();
    let quiet = tiny_train(out.path(), 8).arg("--quiet").assert().success();
    let text = String::from_utf8_lossy(&quiet.get_output().stdout).to_string();
    assert!(!text.contains(" epoch 1/1"), "{text}");
    assert!(!text.contains("done units=8"), "{text}");
    assert!(!text.starts_with("sweep "), "{text}");
    assert!(text.contains("test acc"), "{text}");
    // The same run: --quiet changes what is printed, never what is trained.
    assert_eq!(
        run_dirs(&crate::common::train_folder(first.path()))[0].file_name(),
        run_dirs(&crate::common::train_folder(out.path()))[0].file_name()
    );
}

#[test]
fn train_runs_accumulate_in_a_folder_named_after_the_data() {
    // Three seeds, then a width: one folder, `mnist`, whose results.csv lists all four runs
    // (before, each train replaced the last in results.csv), labelled apart.
    let out = tempfile::tempdir().unwrap();
    for seed in ["0", "1", "2"] {
        tiny_train(out.path(), 8)
            .args(["--seed", seed, "--no-tensorboard"])
            .assert()
            .success();
    }
    let wider = tiny_train(out.path(), 16)
        .arg("--no-tensorboard")
        .assert()
        .success();
    let printed = String::from_utf8_lossy(&wider.get_output().stdout).to_string();
    assert!(!printed.contains("no longer belong"), "{printed}");
    let folder = out.path().join("mnist");
    assert_eq!(run_dirs(&folder).len(), 4);
    let csv = std::fs::read_to_string(folder.join("results.csv")).unwrap();
    assert_eq!(csv.lines().count(), 5, "{csv}");
    for label in [
        "units=8,seed=0",
        "units=8,seed=1",
        "units=8,seed=2",
        "units=16,seed=0",
    ] {
        assert!(csv.contains(label), "{label}: {csv}");
    }
    // status lists the four as done, none pending or stray.
    rowseq()
        .arg("status")
        .arg(&folder)
        .assert()
        .success()
        .stdout(contains("4 runs: 4 done, 0 running, 0 failed, 0 pending"));
    // --name still chooses the folder.
    tiny_train(out.path(), 8)
        .args(["--name", "mine", "--no-tensorboard"])
        .assert()
        .success();
    assert_eq!(run_dirs(&out.path().join("mine")).len(), 1);
}
