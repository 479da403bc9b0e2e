//! Magnitude scaling (`scale_noise`), the training augmentation beside jitter, run by the real
//! binary on JapaneseVowels (patched, multivariate, of unequal lengths): it is recorded in the
//! run's config and id, changes what the run trains on (not what it is scored on), and trains
//! the same bits twice.
use std::path::Path;

use serde_json::Value;

use crate::common::{only_run, rowseq_process, succeeds};

const VOWELS: &str = "ts:data/JapaneseVowels/JapaneseVowels";

fn train(out: &Path, extra: &[&str]) -> Value {
    let mut cmd = rowseq_process();
    cmd.args([
        "train",
        "--dataset",
        VOWELS,
        "--num-units",
        "8",
        "--epochs",
        "2",
    ])
    .args([
        "--patch",
        "3",
        "--noise",
        "0",
        "--refit=false",
        "--train-size",
        "60",
    ])
    .args(["--threads", "1", "--device", "cpu", "--no-tensorboard"])
    .args(extra)
    .arg("--out")
    .arg(out);
    succeeds(cmd);
    let run = only_run(out);
    let read = |f: &str| -> Value {
        serde_json::from_slice(&std::fs::read(run.join(f)).unwrap()).unwrap()
    };
    serde_json::json!({
        "id": run.file_name().unwrap().to_str().unwrap(),
        "config": read("config.json"),
        "result": read("result.json"),
    })
}

#[test]
fn scaling_changes_what_a_run_trains_on_and_repeats_bit_for_bit() {
    assert!(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("data/JapaneseVowels")
            .is_dir(),
        "run scripts/setup.sh (it fetches JapaneseVowels)"
    );
    let tmp = tempfile::tempdir().unwrap();
    let plain = train(&tmp.path().join("plain"), &[]);
    assert!(
        plain["config"].get("scale_noise").is_none(),
        "{}",
        plain["config"]
    );
    let once = train(&tmp.path().join("a"), &["--scale-noise", "0.2"]);
    let twice = train(&tmp.path().join("b"), &["--scale-noise", "0.2"]);
    assert_eq!(once["config"]["scale_noise"].as_f64(), Some(0.2), "{once}");
    assert_ne!(
        once["id"], plain["id"],
        "scale_noise is part of the run's identity"
    );
    assert_ne!(
        once["result"]["train_loss"], plain["result"]["train_loss"],
        "scaling changes what the run trains on"
    );
    assert_eq!(once["id"], twice["id"]);
    for m in ["train_loss", "val_loss", "test_loss", "test_acc"] {
        assert_eq!(once["result"][m], twice["result"][m], "{m}");
    }
}
