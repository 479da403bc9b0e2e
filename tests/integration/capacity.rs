/*!
The capacity experiment on a small case (`labels = "random"`, `stop_train_acc` and the report's
capacity section): a one-unit LSTM fails 200 random MNIST labels that a 64-unit one fits, runs
stop once their training set is fitted, and the bad values are one-line errors.
*/
use crate::cli::expect_user_error;
use crate::common::{rowseq, run_dirs};
use serde_json::Value;

const TINY: &str = r#"
name = "tiny"
labels = "random"
num_units = [1, 64]
train_size = 200
epochs = 60
batch_size = 32
lr = 1e-2
stop_train_acc = 1.0
val_size = 100
test_size = 100
eval_test = "final"
"#;

#[test]
fn a_tiny_width_fails_random_labels_that_a_wider_one_fits() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("tiny.toml");
    std::fs::write(&config, TINY).unwrap();
    let out = tmp.path().join("out");
    rowseq()
        .args(["sweep"])
        .arg(&config)
        .args(["--threads", "1", "--device", "cpu", "--out"])
        .arg(&out)
        .assert()
        .success();
    let sweep = out.join("tiny");
    let results: Vec<Value> = run_dirs(&sweep)
        .iter()
        .map(|d| serde_json::from_slice(&std::fs::read(d.join("result.json")).unwrap()).unwrap())
        .collect();
    let of = |h: i64| {
        results
            .iter()
            .find(|r| r["config"]["num_units"] == h)
            .unwrap()
    };
    let (narrow, wide) = (of(1), of(64));
    let fit = |r: &Value| r["train_fit_acc"].as_f64().unwrap();
    assert!(fit(narrow) < 0.5, "1 unit fitted {}", fit(narrow));
    assert_eq!(fit(wide), 1.0, "64 units fitted {}", fit(wide));
    // Fitted, it stopped before its budget, and said why; the narrow one trained it all.
    assert!(wide["epochs"].as_u64().unwrap() < 60);
    let why = wide["kept"]["why"].as_str().unwrap();
    assert!(why.contains("reaching stop_train_acc = 1"), "{why}");
    assert_eq!(narrow["epochs"], 60);
    // results.csv has the fit beside the accuracies.
    let (header, rows) = crate::common::csv_rows(&sweep.join("results.csv"));
    let col = header.iter().position(|h| h == "train_fit_acc").unwrap();
    let row = rows.iter().find(|r| r[0] == wide["run_id"]).unwrap();
    assert_eq!(row[col], "1.0000", "{row:?}");
    // Memorised, not learnt: the test set keeps its own labels, and the wide run is near chance.
    assert!(
        wide["test_acc"].as_f64().unwrap() < 0.3,
        "{}",
        wide["test_acc"]
    );

    let report = std::fs::read_to_string(sweep.join("report/report.md")).unwrap();
    assert!(
        report.contains("## Capacity: random labels memorised"),
        "{report}"
    );
    // Width 1 fitted no size: 200 is the size it missed. Width 64 fitted all 200 labels:
    // 200 log2(10) = 664 bits, at least, and missed none.
    assert!(report.contains("| 1 | 144 | – | – | – | 200 |"), "{report}");
    assert!(
        report.contains("| 64 | 24,714 | 200 | ≥ 664 | ≥ 0.03 | – | ≥ 664 (200) |"),
        "{report}"
    );
    for file in ["capacity.svg", "capacity.png"] {
        assert!(sweep.join("report").join(file).is_file(), "{file}");
    }
}

#[test]
fn random_labels_and_the_fit_stop_refuse_what_they_cannot_mean() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let cases: [(&[&str], &str); 4] = [
        (
            &["--labels", "random", "--keep", "best_val"],
            "--keep best_val: expected its default with labels = \"random\"",
        ),
        (
            &[
                "--labels",
                "random",
                "--task",
                "regress",
                "--dataset",
                "ts:data/Coffee/Coffee",
            ],
            "--labels random: \"random\" applies to task = \"classify\", not task = \"regress\"",
        ),
        (
            &["--stop-train-acc", "1.5"],
            "--stop-train-acc 1.5: expected a training accuracy between 0",
        ),
        (
            &["--labels", "shuffled"],
            "'shuffled' for '--labels <LABELS>': expected \"given\"",
        ),
    ];
    for (args, want) in cases {
        expect_user_error(
            rowseq().arg("train").args(args).arg("--out").arg(&out),
            want,
        );
        assert!(!out.exists(), "{args:?} wrote {}", out.display());
    }
}
