/*!
Integration tests of `rowseq explain`: flags, JSON output, the SVG diagram, a trained run's
measured statistics, and clear errors.
*/
use crate::common::{explain_json, rowseq, tiny_train};
use predicates::str::contains;
use serde_json::Value;

#[test]
fn explains_flags_as_text_json_and_svg() {
    rowseq()
        .args(["explain", "--num-units", "128", "--batch-size", "128"])
        .assert()
        .success()
        .stdout(contains("[128, 28, 28]"))
        .stdout(contains("[128, 512]"))
        .stdout(contains("82,186"))
        .stdout(contains("81,674"))
        .stdout(contains("num_units is not the number of timesteps"));

    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("unrolled.svg");
    let out = rowseq()
        .args([
            "explain",
            "--num-units",
            "64",
            "--batch-size",
            "32",
            "--format",
            "json",
            "--svg",
        ])
        .arg(&svg)
        .output()
        .unwrap();
    assert!(out.status.success());
    let e: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(e["num_units"], 64);
    assert_eq!(
        e["totals"]["params_pytorch"],
        4 * 64 * (28 + 64) + 8 * 64 + 10 * 64 + 10
    );
    let outputs = e["shapes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["expression"] == "outputs = [h_1 .. h_T]");
    assert_eq!(outputs.unwrap()["shape"], serde_json::json!([32, 28, 64]));
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.contains("x_1 [32, 28]") && text.contains("h, c [32, 64]"));
}

#[test]
fn explains_a_trained_run_with_measurements() {
    let out = tempfile::tempdir().unwrap();
    tiny_train(out.path(), 16).assert().success();
    let run = std::fs::read_dir(crate::common::train_folder(out.path()))
        .unwrap()
        .flatten()
        .find(|e| e.path().is_dir())
        .unwrap()
        .path();
    let e = explain_json(&run);
    let m = &e["measured"];
    assert_eq!(e["num_units"], 16);
    assert_eq!(m["test_images"], 500);
    let hist: i64 = m["saturation_histogram"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .sum();
    assert_eq!(hist, 16, "every unit is in one bin");
    let share = m["saturated_share"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&share));
    assert!(m["test_acc"].as_f64().unwrap() > 0.1);
    rowseq()
        .arg("explain")
        .arg(&run)
        .assert()
        .success()
        .stdout(contains("units whose h_T never moves"));
}

#[test]
fn bad_arguments_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    for (args, want) in [
        (
            vec!["explain".to_string(), "--num-units".into(), "0".into()],
            "--num-units 0: expected",
        ),
        (
            vec!["explain".to_string(), dir.path().display().to_string()],
            "not a run folder",
        ),
    ] {
        let out = rowseq().args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(want) && stderr.trim_end().lines().count() == 1,
            "{stderr}"
        );
    }
}

#[test]
fn explains_any_cell_and_stack_from_flags() {
    let out = rowseq()
        .args([
            "explain",
            "--cell",
            "rnn",
            "--layers",
            "3",
            "--bidirectional",
        ])
        .args(["--num-units", "20", "--batch-size", "8", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let e: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(e["model"], "3-layer bidirectional RNN");
    // Per layer and direction H(I+H) + 2H, with I = 28 then 2H; the head 2H x 10 + 10.
    let (h, d) = (20, 2);
    let params = d * (h * (28 + h) + 2 * h) + 2 * d * (h * (d * h + h) + 2 * h) + d * h * 10 + 10;
    assert_eq!(e["totals"]["params_pytorch"], params);
    // SimpleRNN: one bias vector of H per layer and direction in Keras.
    assert_eq!(e["totals"]["params_keras"], params - 6 * h);
    let names: Vec<&str> = e["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"rnn.weight_ih_l2_reverse"), "{names:?}");
    assert_eq!(names.len(), 3 * 2 * 4 + 2);
    let shapes = e["shapes"].as_array().unwrap();
    assert_eq!(
        shapes[shapes.len() - 2]["shape"],
        serde_json::json!([8, 40])
    );

    rowseq()
        .args(["explain", "--cell", "gru", "--num-units", "128"])
        .assert()
        .success()
        .stdout(contains("GRU with num_units H = 128"))
        .stdout(contains("3H(F+H) + 6H + CH + C = 61,962"))
        .stdout(contains("h_t = (1 - z) * n + z * h_{t-1}"));
}

/// The widest models the config allows are explained from arithmetic alone: nothing is
/// allocated, so 65,536 units (and 100 layers of them) explain in an instant instead of
/// panicking inside tch (issue #36, item 7).
#[test]
fn explains_the_widest_models_without_building_them() {
    for extra in [&[][..], &["--layers", "100"][..], &["--bidirectional"][..]] {
        let out = rowseq()
            .args(["explain", "--num-units", "65536", "--format", "json"])
            .args(extra)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{extra:?}: {stderr}");
        let e: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(e["num_units"], 65536);
        assert!(e["totals"]["params_pytorch"].as_i64().unwrap() > 17_000_000_000);
    }
}
