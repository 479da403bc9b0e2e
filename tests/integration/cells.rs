/*!
Integration tests of the cells, stacks and directions: a sweep over `cell` with the real binary
on an MNIST subset (parameter counts against the formula, labels, report), a two-layer
bidirectional GRU with dropout that is stopped by Ctrl-C and resumed to the same bytes, and
evaluation that gives the same numbers every time (no dropout outside training).
*/
use std::path::Path;
use std::process::Stdio;

use crate::common::{
    explain_json, metrics_without_time, only_run, rowseq, rowseq_process, signal, Held,
};
use predicates::str::contains;
use serde_json::Value;

/// Parameters by the formula, written out here independently of the program: per layer and
/// direction gH(I_l + H) + 2gH (I_0 = 28, I_l = D·H above), then D·H·10 + 10.
fn formula(cell: &str, h: i64, layers: i64, directions: i64) -> i64 {
    let g = match cell {
        "lstm" => 4,
        "gru" => 3,
        "rnn" => 1,
        other => panic!("{other}"),
    };
    let per = |input: i64| directions * (g * h * (input + h) + 2 * g * h);
    per(28) + (layers - 1) * per(directions * h) + directions * h * 10 + 10
}

fn results(sweep: &Path) -> Vec<Value> {
    std::fs::read_to_string(sweep.join("results.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Explaining a trained run twice measures the same numbers, and its test accuracy recomputed
/// from the weights is the recorded one (within one image, for other thread counts).
fn assert_evaluation_is_deterministic(run: &Path, test_acc: f64, images: f64) {
    let (a, b) = (explain_json(run), explain_json(run));
    assert_eq!(a["measured"], b["measured"]);
    let recomputed = a["measured"]["recomputed_test_acc"].as_f64().unwrap();
    assert!(
        (recomputed - test_acc).abs() <= 1.0 / images + 1e-12,
        "recorded {test_acc}, recomputed {recomputed}"
    );
}

#[test]
fn a_sweep_over_cells_counts_each_cells_parameters() {
    let out = tempfile::tempdir().unwrap();
    rowseq()
        .args([
            "sweep",
            "configs/cells.toml",
            "--device",
            "cpu",
            "--threads",
            "1",
            "--jobs",
            "1",
        ])
        .args(["--out"])
        .arg(out.path())
        .args(["--set", "num_units=12", "--set", "epochs=1"])
        .args(["--set", "train_size=1500", "--set", "val_size=200"])
        .args(["--set", "test_size=300"])
        .assert()
        .success()
        .stdout(contains("cell=gru"))
        .stdout(contains("3 trained"));
    let sweep = out.path().join("cells");
    let rs = results(&sweep);
    assert_eq!(rs.len(), 3);
    let mut cells = Vec::new();
    for r in &rs {
        // The default cell is left out of the config (and so of the run id).
        let cell = r["config"]["cell"].as_str().unwrap_or("lstm").to_string();
        assert_eq!(r["params"], formula(&cell, 12, 1, 1), "{cell}");
        assert!(sweep
            .join("tb")
            .join(format!("units=0012,cell={cell},seed=0"))
            .is_dir());
        cells.push(cell);
    }
    assert_eq!(cells, ["lstm", "gru", "rnn"]);
    assert_eq!(formula("lstm", 12, 1, 1), 2_146);

    // The report: a row per cell, Keras counts per cell, a formula per cell.
    let report = sweep.join("report");
    let csv = std::fs::read_to_string(report.join("summary.csv")).unwrap();
    for (cell, keras_less) in [("lstm", 4 * 12), ("gru", 0), ("rnn", 12)] {
        let params = formula(cell, 12, 1, 1);
        let row = format!("cell={cell},12,{params},{},", params - keras_less);
        assert!(csv.contains(&row), "{row} not in\n{csv}");
    }
    let svg = std::fs::read_to_string(report.join("params_vs_units.svg")).unwrap();
    for want in [
        "LSTM: 4H(I+H) + 8H + 10H + 10",
        "GRU: 3H(I+H) + 6H + 10H + 10",
        "RNN: H(I+H) + 2H + 10H + 10",
    ] {
        assert!(svg.contains(want), "{want}");
    }
    let svg = std::fs::read_to_string(report.join("accuracy_vs_units.svg")).unwrap();
    assert!(svg.contains("634–2.1k params"), "one width, three counts");

    // The GRU's trained weights load and evaluate to the recorded accuracy, every time.
    let gru = rs.iter().find(|r| r["config"]["cell"] == "gru").unwrap();
    let run = sweep.join(gru["run_id"].as_str().unwrap());
    assert_evaluation_is_deterministic(&run, gru["test_acc"].as_f64().unwrap(), 300.0);
    let e = explain_json(&run);
    assert_eq!(e["cell"], "gru");
    assert_eq!(e["totals"]["params_pytorch"], gru["params"]);
}

/// `rowseq train` of a two-layer bidirectional GRU with dropout, into `out`.
fn stacked(out: &Path) -> Vec<String> {
    let mut a: Vec<String> = [
        "train",
        "--cell",
        "gru",
        "--layers",
        "2",
        "--bidirectional",
        "--dropout",
        "0.3",
        "--num-units",
        "10",
        "--epochs",
        "3",
        "--batch-size",
        "32",
        "--train-size",
        "1200",
        "--val-size",
        "100",
        "--test-size",
        "200",
        "--threads",
        "1",
        "--device",
        "cpu",
        "--no-tensorboard",
        "--out",
    ]
    .map(String::from)
    .to_vec();
    a.push(out.display().to_string());
    a
}

#[test]
fn a_stacked_bidirectional_run_with_dropout_resumes_to_the_same_bytes() {
    let reference = tempfile::tempdir().unwrap();
    rowseq().args(stacked(reference.path())).assert().success();
    let run = only_run(reference.path());
    let result: Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("result.json")).unwrap()).unwrap();
    assert_eq!(result["params"], formula("gru", 10, 2, 2));
    assert_eq!(result["config"]["layers"], 2);
    assert_eq!(result["config"]["dropout"], 0.3);

    // Ctrl-C after the first epoch: the epoch in progress ends, a checkpoint is written.
    let stopped = tempfile::tempdir().unwrap();
    let held = Held::at(&["epoch-1"]);
    let mut cmd = rowseq_process();
    cmd.args(stacked(stopped.path()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    held.apply(&mut cmd);
    let mut child = cmd.spawn().unwrap();
    held.wait(&mut child, "epoch-1", 1);
    signal(child.id(), "INT");
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let resumed = only_run(stopped.path());
    assert!(resumed.join("checkpoint.safetensors").is_file());
    rowseq()
        .args(stacked(stopped.path()))
        .assert()
        .success()
        .stdout(contains("resuming"));
    assert_eq!(metrics_without_time(&run), metrics_without_time(&resumed));
    assert_eq!(
        std::fs::read(run.join("model.safetensors")).unwrap(),
        std::fs::read(resumed.join("model.safetensors")).unwrap(),
        "final weights differ"
    );

    // Evaluation has no dropout: the same numbers every time, the recorded accuracy.
    assert_evaluation_is_deterministic(&run, result["test_acc"].as_f64().unwrap(), 200.0);
}

#[test]
fn dropout_without_a_second_layer_is_a_one_line_error() {
    let out = tempfile::tempdir().unwrap();
    let output = rowseq()
        .args(["train", "--dropout", "0.2", "--epochs", "1", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr.trim_end(),
        "error: --dropout 0.2: expected 0 with --layers 1 (dropout acts between stacked \
         layers: give --layers 2 or more)"
    );
    assert!(
        std::fs::read_dir(out.path()).map_or(true, |mut d| d.next().is_none()),
        "nothing written"
    );
    let output = rowseq()
        .args(["explain", "--cell", "transformer"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains(r#"expected "lstm", "gru" or "rnn""#));
}
