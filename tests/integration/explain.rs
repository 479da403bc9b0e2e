/*!
Integration tests of `rowseq explain`: flags, JSON output, the SVG diagram, a trained run's
measured statistics, the hidden-state figure of trained runs (`--hidden`), and clear errors.
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

/// `explain RUN --hidden 0 1`: the figure lands in the run's folder as SVG and PNG, the same
/// bytes on a second call, and its last-step prediction is the run's recorded one; several
/// runs go side by side into --out; a bad index or output is one line and exit code 2.
#[test]
fn draws_the_hidden_state_of_trained_runs() {
    let out = tempfile::tempdir().unwrap();
    tiny_train(out.path(), 8).assert().success();
    tiny_train(out.path(), 16).assert().success();
    let runs = crate::common::run_dirs(&crate::common::train_folder(out.path()));
    assert_eq!(runs.len(), 2);
    let run = &runs[0];
    let draw = |args: &[&str]| rowseq().arg("explain").args(args).output().unwrap();
    let path = |p: &std::path::Path| p.to_str().unwrap().to_string();
    let first = draw(&[&path(run), "--hidden", "0", "1"]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let files = [run.join("hidden.svg"), run.join("hidden.png")];
    let bytes: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    assert!(bytes[0].starts_with(b"<svg") && bytes[1].starts_with(b"\x89PNG"));
    assert!(draw(&[&path(run), "--hidden", "0", "1"]).status.success());
    for (f, b) in files.iter().zip(&bytes) {
        assert_eq!(&std::fs::read(f).unwrap(), b, "{} changed", f.display());
    }
    // After the last row, the run's own prediction for test image 0 (test_probabilities.csv).
    let svg = String::from_utf8(bytes[0].clone()).unwrap();
    let probs = std::fs::read_to_string(run.join("test_probabilities.csv")).unwrap();
    let row: Vec<f64> = probs
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .skip(2)
        .map(|v| v.parse().unwrap())
        .collect();
    let best = (0..row.len())
        .max_by(|&a, &b| row[a].total_cmp(&row[b]))
        .unwrap();
    let truth = probs.lines().nth(1).unwrap().split(',').nth(1).unwrap();
    assert!(
        svg.contains(&format!("test #0 · true {truth} · predicted {best} ")),
        "predicted {best}"
    );
    assert!(svg.contains(" · LSTM") && svg.contains("|h| &gt; 0.95: "));

    // Two runs side by side, into --out.
    let dir = tempfile::tempdir().unwrap();
    let side = dir.path().join("side.svg");
    let both = draw(&[
        &path(&runs[0]),
        &path(&runs[1]),
        "--hidden",
        "3",
        "--out",
        &path(&side),
    ]);
    assert!(
        both.status.success(),
        "{}",
        String::from_utf8_lossy(&both.stderr)
    );
    let svg = std::fs::read_to_string(&side).unwrap();
    assert!(svg.contains("H = 8 · LSTM") && svg.contains("H = 16 · LSTM"));
    assert!(dir.path().join("side.png").is_file());

    // Bad requests: one line each, exit code 2, nothing written.
    std::fs::write(dir.path().join("notes.svg"), "mine").unwrap();
    for (args, want) in [
        (
            vec![path(run), "--hidden".into(), "500".into()],
            "--hidden 500: a test example's index from 0 to 499",
        ),
        (
            vec![path(run), "--hidden".into(), "-1".into()],
            "--hidden -1: a test example's index",
        ),
        (
            vec![
                path(&runs[0]),
                path(&runs[1]),
                "--hidden".into(),
                "0".into(),
            ],
            "--out (not given)",
        ),
        (
            vec![
                path(run),
                "--hidden".into(),
                "0".into(),
                "--out".into(),
                path(&dir.path().join("notes.svg")),
            ],
            "pass --force",
        ),
        (
            vec![
                path(run),
                "--hidden".into(),
                "0".into(),
                "--out".into(),
                path(&dir.path().join("x.png")),
            ],
            "a path ending in .svg",
        ),
        (
            vec![
                path(&dir.path().join("nothing")),
                "--hidden".into(),
                "0".into(),
            ],
            "not a run folder",
        ),
    ] {
        let out = rowseq().arg("explain").args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(want) && stderr.trim_end().lines().count() == 1,
            "{args:?}: {stderr}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(dir.path().join("notes.svg")).unwrap(),
        "mine"
    );
}
