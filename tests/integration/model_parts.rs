//! The model's optional parts (`pooling = "mean"`, the convolutional branch `conv_filters`):
//! trained by the real binary on JapaneseVowels (multivariate, of unequal lengths, so every
//! mask matters), predicted with, explained, and loaded into plain PyTorch, whose
//! probabilities must match rowseq's.
use std::path::Path;

use predicates::str::contains;
use serde_json::Value;

use crate::common::{load_in_pytorch, rowseq, run_dirs, train_folder};

const VOWELS: &str = "ts:data/JapaneseVowels/JapaneseVowels";

#[test]
fn mean_pooling_and_the_conv_branch_train_predict_explain_and_load_in_pytorch() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/JapaneseVowels");
    assert!(
        data.is_dir(),
        "run scripts/setup.sh (it fetches JapaneseVowels)"
    );
    let tmp = tempfile::tempdir().unwrap();
    for (i, parts) in [
        &["--pooling", "mean"][..],
        &["--conv-filters", "4"][..],
        &[
            "--pooling",
            "mean",
            "--conv-filters",
            "3",
            "--bidirectional",
        ][..],
    ]
    .into_iter()
    .enumerate()
    {
        let out = tmp.path().join(format!("out{i}"));
        rowseq()
            .args(["train", "--dataset", VOWELS, "--num-units", "6"])
            .args(["--epochs", "3", "--threads", "1", "--device", "cpu"])
            .args(parts)
            .arg("--out")
            .arg(&out)
            .assert()
            .success();
        let run = run_dirs(&train_folder(&out)).remove(0);
        let result: Value =
            serde_json::from_str(&std::fs::read_to_string(run.join("result.json")).unwrap())
                .unwrap();
        let weights = std::fs::read(run.join("model.safetensors")).unwrap();
        let names = String::from_utf8_lossy(&weights[..4096.min(weights.len())]).to_string();
        if parts.contains(&"--conv-filters") {
            // Batch norm's running statistics are saved with the weights, and moved by training.
            assert!(names.contains("conv.bn3.running_var"), "{names}");
            assert!(names.contains("conv.conv1.weight"), "{names}");
            assert!(result["config"]["conv_filters"].as_i64().unwrap() > 0);
        }
        if parts.contains(&"mean") {
            assert_eq!(result["config"]["pooling"], "mean");
        }
        // Explain names each part with its shapes.
        let explain = rowseq()
            .arg("explain")
            .arg(&run)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let explain = String::from_utf8(explain).unwrap();
        if parts.contains(&"mean") {
            assert!(explain.contains("mean_t = mean(outputs"), "{explain}");
        }
        if parts.contains(&"--conv-filters") {
            assert!(explain.contains("conv branch, block 3"), "{explain}");
            assert!(explain.contains("-filter conv branch"), "{explain}");
        }
        let test = data.join("JapaneseVowels_TEST.ts");
        let predictions = tmp.path().join(format!("p{i}.csv"));
        rowseq()
            .arg("predict")
            .arg(&run)
            .arg(&test)
            .arg("--out")
            .arg(&predictions)
            .assert()
            .success()
            .stdout(contains("accuracy"));
        let stdout = load_in_pytorch(&run, test.to_str().unwrap(), &predictions);
        assert!(stdout.contains("max |p(PyTorch) - p(rowseq)|"), "{stdout}");
    }
}
