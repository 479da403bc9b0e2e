/*!
Helpers shared by the integration tests: the binary, run folders, and metrics without the
wall-clock fields (which differ between otherwise identical runs).
*/
#![allow(dead_code)] // each test binary uses its own subset

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

/// The `rowseq` binary, run from the package root (so `data/mnist` and `configs/` are found).
pub fn rowseq() -> Command {
    let mut cmd = Command::cargo_bin("rowseq").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

/// `rowseq train` of `units` hidden units for one epoch on 2,000 images (200 validation, 500
/// test), one thread, CPU, into `<out>/train/`.
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
