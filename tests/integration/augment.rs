//! Training augmentations beyond jitter (`scale_noise`, magnitude scaling; `slice`, window
//! slicing), run by the real binary on JapaneseVowels (patched, multivariate, of unequal
//! lengths): each is recorded in the run's config and id, changes what the run trains on, and
//! trains the same bits twice; a run without them is the run it always was.
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
fn scaling_and_slicing_change_what_a_run_trains_on_and_repeat_bit_for_bit() {
    assert!(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("data/JapaneseVowels")
            .is_dir(),
        "run scripts/setup.sh (it fetches JapaneseVowels)"
    );
    let tmp = tempfile::tempdir().unwrap();
    let plain = train(&tmp.path().join("plain"), &[]);
    for key in ["scale_noise", "slice"] {
        assert!(plain["config"].get(key).is_none(), "{}", plain["config"]);
    }
    for (i, (flag, value, key)) in [
        ("--scale-noise", "0.2", "scale_noise"),
        ("--slice", "0.7", "slice"),
    ]
    .into_iter()
    .enumerate()
    {
        let once = train(&tmp.path().join(format!("{i}a")), &[flag, value]);
        let twice = train(&tmp.path().join(format!("{i}b")), &[flag, value]);
        assert_eq!(once["config"][key].as_f64(), value.parse().ok(), "{once}");
        assert_ne!(
            once["id"], plain["id"],
            "{key} is part of the run's identity"
        );
        assert_ne!(
            once["result"]["train_loss"], plain["result"]["train_loss"],
            "{key} changes what the run trains on"
        );
        assert_eq!(once["id"], twice["id"]);
        for m in ["train_loss", "val_loss", "test_loss", "test_acc"] {
            assert_eq!(once["result"][m], twice["result"][m], "{key}: {m}");
        }
    }
}
