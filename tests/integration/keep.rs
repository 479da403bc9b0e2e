/*!
Early stopping and the kept epoch (`patience`, `keep`; issue #38, item 1), on a generated
problem whose validation accuracy cannot change (every series the same, classes balanced):
the first epoch is the best on any machine, so where training stops and which weights are kept
is certain, while the weights themselves move every epoch.
*/
use std::path::Path;

use serde_json::Value;

use crate::common::*;

/// A classification problem of identical all-zero series, 20 of each class to train on (4 of
/// each held out for validation) and 5 of each to test: `csv:TRAIN,TEST`.
fn flat_problem(dir: &Path) -> String {
    let rows = |n: usize| {
        let mut s = String::from("label,t0,t1,t2,t3\n");
        for k in 0..2 * n {
            s.push_str(if k < n { "a,0,0,0,0\n" } else { "b,0,0,0,0\n" });
        }
        s
    };
    csv_problem(dir, &rows(20), &rows(5))
}

/// `rowseq train` on the flat problem with a constant learning rate (so that a shorter run
/// trains exactly the first epochs of a longer one), into `out`.
fn train(spec: &str, out: &Path, extra: &[&str]) -> std::process::Command {
    let mut cmd = rowseq_process();
    cmd.args([
        "train",
        "--dataset",
        spec,
        "--num-units",
        "4",
        "--noise",
        "0",
        // The runs compared keep epochs of one training (no refit on the validation series).
        "--refit=false",
    ])
    .args([
        "--schedule",
        "constant",
        "--threads",
        "1",
        "--device",
        "cpu",
    ])
    .args(extra)
    .arg("--out")
    .arg(out);
    cmd
}

fn result_of(run: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(run.join("result.json")).unwrap()).unwrap()
}

fn weights(run: &Path) -> Vec<u8> {
    std::fs::read(run.join("model.safetensors")).unwrap()
}

/// With `keep = "best_val"` and a patience of 2, a run whose best validation epoch is the first
/// stops after epoch 3, records why, and saves epoch 1's weights: those of a run of one epoch.
/// Killed after epoch 2 and resumed, it keeps the same choice, bit for bit, from its checkpoint.
#[test]
fn early_stopping_keeps_the_best_epochs_weights_and_resumes_to_them() {
    let t = tempfile::tempdir().unwrap();
    let spec = flat_problem(t.path());
    let stop = ["--epochs", "10", "--patience", "2", "--keep", "best-val"];

    let (a, b, c) = (t.path().join("a"), t.path().join("b"), t.path().join("c"));
    succeeds(train(&spec, &a, &stop));
    let run = only_run(&a);
    let r = result_of(&run);
    assert_eq!(r["epochs"], 3, "{r}");
    assert_eq!(r["kept"]["epoch"], 1, "{r}");
    assert_eq!(r["kept"]["stopped_early"], true, "{r}");
    let why = r["kept"]["why"].as_str().unwrap();
    assert!(why.contains("after 3 of 10 epochs"), "{why}");
    assert_eq!(metrics_without_time(&run).len(), 3);
    let first = &metrics_without_time(&run)[0];
    assert_eq!(r["test_acc"], first["test_acc"]);
    assert_eq!(r["train_loss"], first["train_loss"]);

    // Epoch 1's weights: a run of one epoch has them; one of three that keeps its last does not.
    succeeds(train(&spec, &b, &["--epochs", "1"]));
    assert_eq!(
        weights(&run),
        weights(&only_run(&b)),
        "not epoch 1's weights"
    );
    let three = t.path().join("three");
    succeeds(train(&spec, &three, &["--epochs", "3"]));
    assert_ne!(
        weights(&run),
        weights(&only_run(&three)),
        "the weights never moved"
    );

    // Killed after epoch 2, resumed: the kept weights come from the checkpoint.
    let held = Held::at(&["epoch-2"]);
    let mut cmd = train(&spec, &c, &stop);
    held.apply(&mut cmd);
    let mut child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    held.wait(&mut child, "epoch-2", 1);
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!only_run(&c).join("result.json").exists());
    succeeds(train(&spec, &c, &stop));
    let resumed = only_run(&c);
    assert_eq!(metrics_without_time(&resumed), metrics_without_time(&run));
    assert_eq!(weights(&resumed), weights(&run));
    assert_eq!(result_of(&resumed)["kept"], r["kept"]);
}

/// Early stopping with the last epoch kept scores the test set on that epoch, also when only
/// the final epoch is scored (`eval_test = "final"`).
#[test]
fn an_early_stop_scores_the_test_set_of_the_last_epoch() {
    let t = tempfile::tempdir().unwrap();
    let spec = flat_problem(t.path());
    let out = t.path().join("out");
    succeeds(train(
        &spec,
        &out,
        &["--epochs", "10", "--patience", "2", "--eval-test", "final"],
    ));
    let run = only_run(&out);
    let r = result_of(&run);
    assert_eq!(
        (r["epochs"].as_u64(), r["kept"]["epoch"].as_u64()),
        (Some(3), Some(3))
    );
    let last = &metrics_without_time(&run)[2];
    assert!(last["test_acc"].is_number(), "{last}");
    assert_eq!(r["test_acc"], last["test_acc"]);
}
