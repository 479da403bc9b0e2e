/*!
Datasets other than MNIST, through the real binary: small generated `.ts` and CSV files (equal
and unequal length, string labels, both CSV layouts), the real UEA problem GunPoint end to end
(train, explain, report), and bad data and data-related config mistakes (exit 2, one line naming
the file and line, nothing written).
*/
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::common::{rowseq, run_dirs};
use predicates::str::contains;
use serde_json::Value;

/// A `.ts` problem NAME_TRAIN.ts / NAME_TEST.ts in `dir`: 2 dimensions, unequal lengths (3 to 6),
/// string labels "down" and "up" (the values rise or fall), `n` cases per class in each file.
fn write_ts(dir: &Path, name: &str, n: usize) -> String {
    for (split, offset) in [("TRAIN", 0), ("TEST", 1)] {
        let mut s = String::from(
            "# generated\n@problemName P\n@timeStamps false\n@missing false\n@univariate false\n\
             @dimensions 2\n@equalLength false\n@classLabel true up down\n@data\n",
        );
        for i in 0..2 * n {
            let len = 3 + (i + offset) % 4;
            let up = i % 2 == 0;
            let dim = |scale: f64| {
                (0..len)
                    .map(|t| {
                        let v = if up { t as f64 } else { -(t as f64) };
                        format!("{}", scale * v + 0.1 * (i as f64))
                    })
                    .collect::<Vec<_>>()
                    .join(",")
            };
            let _ = writeln!(
                s,
                "{}:{}:{}",
                dim(1.0),
                dim(0.5),
                if up { "up" } else { "down" }
            );
        }
        std::fs::write(dir.join(format!("{name}_{split}.ts")), s).unwrap();
    }
    format!("ts:{}", dir.join(name).display())
}

/// `rowseq train --dataset DATASET EXTRA...` on one thread of the CPU, without TensorBoard,
/// into `out`: every other key at its default.
fn train_with(out: &Path, dataset: &str, extra: &[&str]) -> assert_cmd::Command {
    let mut cmd = rowseq();
    cmd.args(["train", "--dataset", dataset])
        .args(extra)
        .args([
            "--threads",
            "1",
            "--device",
            "cpu",
            "--no-tensorboard",
            "--out",
        ])
        .arg(out);
    cmd
}

/// A result.json as JSON.
fn result(run: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(run.join("result.json")).unwrap()).unwrap()
}

/// `rowseq train` of a 4-unit model for `epochs` on `dataset`, one thread, into `out`.
fn train(out: &Path, dataset: &str, val: usize, epochs: usize) -> assert_cmd::Command {
    let mut cmd = rowseq();
    cmd.args(["train", "--num-units", "4", "--batch-size", "4"])
        .args([
            "--epochs",
            &epochs.to_string(),
            "--val-size",
            &val.to_string(),
        ])
        .args(["--dataset", dataset])
        .args(["--threads", "1", "--device", "cpu", "--out"])
        .arg(out);
    cmd
}

fn class_names(r: &Value) -> Vec<String> {
    r["data"]["class_names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn unequal_length_ts_trains_explains_and_reports_with_class_names() {
    let tmp = tempfile::tempdir().unwrap();
    let dataset = write_ts(tmp.path(), "Gen", 6);
    let out = tmp.path().join("out");
    train(&out, &dataset, 4, 2).assert().success();
    let runs = run_dirs(&crate::common::train_folder(&out));
    assert_eq!(runs.len(), 1);
    let r = result(&runs[0]);
    assert_eq!(class_names(&r), ["down", "up"]);
    assert_eq!(r["data"]["timesteps"], 6);
    assert_eq!(r["data"]["features"], 2);
    assert_eq!(
        (r["train_size"].as_u64(), r["val_size"].as_u64()),
        (Some(8), Some(4))
    );
    let per_class = r["data"]["test_per_class"].as_array().unwrap();
    let examples: u64 = per_class
        .iter()
        .map(|c| c["examples"].as_u64().unwrap())
        .sum();
    assert_eq!(examples, 12);
    let correct: u64 = per_class
        .iter()
        .map(|c| c["correct"].as_u64().unwrap())
        .sum();
    let acc = r["test_acc"].as_f64().unwrap();
    assert!(
        (correct as f64 / 12.0 - acc).abs() < 1e-9,
        "{correct} vs {acc}"
    );

    let explained = rowseq().arg("explain").arg(&runs[0]).assert().success();
    let text = String::from_utf8(explained.get_output().stdout.clone()).unwrap();
    assert!(
        text.contains("timesteps T = 6, features F = 2, classes C = 2"),
        "{text}"
    );
    assert!(
        text.contains("12 train / 12 test sequences of 3 to 6 (padded to 6) timesteps x 2 features; 2 classes: down, up"),
        "{text}"
    );

    rowseq()
        .arg("report")
        .arg(crate::common::train_folder(&out))
        .assert()
        .success();
    let md = std::fs::read_to_string(crate::common::train_folder(&out).join("report/report.md"))
        .unwrap();
    assert!(md.contains("## Test accuracy per class"), "{md}");
    assert!(md.contains("| down |") && md.contains("| up |"), "{md}");
    assert!(md.contains("input size I = 2 and 2 classes"), "{md}");
}

#[test]
fn csv_in_both_layouts_trains() {
    let tmp = tempfile::tempdir().unwrap();
    // Wide: one univariate series per row, the label in the middle, shorter rows end in blanks.
    let wide = |offset: usize| {
        let mut s = String::from("a,b,label,c,d\n");
        for i in 0..12 {
            let up = i % 2 == 0;
            let len = 2 + (i + offset) % 3;
            let mut cells: Vec<String> = (0..4)
                .map(|t| {
                    if t < len {
                        format!("{}", if up { t as f64 } else { -(t as f64) })
                    } else {
                        String::new()
                    }
                })
                .collect();
            cells.insert(2, if up { "rise".into() } else { "fall".into() });
            let _ = writeln!(s, "{}", cells.join(","));
        }
        s
    };
    let (wtr, wte) = (
        tmp.path().join("w_train.csv"),
        tmp.path().join("w_test.csv"),
    );
    std::fs::write(&wtr, wide(0)).unwrap();
    std::fs::write(&wte, wide(1)).unwrap();
    let out = tmp.path().join("out");
    let dataset = format!("csv:{},{}", wtr.display(), wte.display());
    train(&out, &dataset, 2, 1).assert().success();
    let r = result(&run_dirs(&crate::common::train_folder(&out))[0]);
    assert_eq!(class_names(&r), ["fall", "rise"]);
    assert_eq!(
        (
            r["data"]["timesteps"].as_u64(),
            r["data"]["features"].as_u64()
        ),
        (Some(4), Some(1))
    );
    // Series longer than any it trained on are read as the run read its own, one value a step
    // (what patch = "auto" resolved to), not patched anew for their length.
    let longer = tmp.path().join("w_longer.csv");
    let mut text = String::from("label");
    for t in 0..60 {
        let _ = write!(text, ",t{t}");
    }
    for i in 0..4 {
        let (label, sign) = if i % 2 == 0 {
            ("rise", 1.0)
        } else {
            ("fall", -1.0)
        };
        text.push('\n');
        text.push_str(label);
        for t in 0..60 {
            let _ = write!(text, ",{}", sign * t as f64);
        }
    }
    std::fs::write(&longer, text + "\n").unwrap();
    rowseq()
        .arg("predict")
        .arg(run_dirs(&crate::common::train_folder(&out)).remove(0))
        .arg(&longer)
        .arg("--out")
        .arg(tmp.path().join("longer.csv"))
        .assert()
        .success()
        .stdout(contains("predicted 4 sequences"));

    // Long: rows of a series scattered and out of order, ordered by the time column.
    let long = |offset: usize| {
        let mut s = String::from("series,t,x,class,y\n");
        for t in (0..5).rev() {
            for i in 0..10 {
                if t < 3 + (i + offset) % 3 {
                    let v = if i % 3 == 0 { t as f64 } else { 1.0 - t as f64 };
                    let _ = writeln!(s, "s{i},{t},{v},{},{}", i % 3, 0.5 * v);
                }
            }
        }
        s
    };
    let (ltr, lte) = (
        tmp.path().join("l_train.csv"),
        tmp.path().join("l_test.csv"),
    );
    std::fs::write(&ltr, long(0)).unwrap();
    std::fs::write(&lte, long(2)).unwrap();
    let dataset = format!("csv:{},{}", ltr.display(), lte.display());
    let out = tmp.path().join("out_long");
    train(&out, &dataset, 3, 1)
        .args(["--csv-layout", "long", "--id-column", "series"])
        .args(["--time-column", "t", "--label-column", "class"])
        .assert()
        .success();
    let r = result(&run_dirs(&crate::common::train_folder(&out))[0]);
    assert_eq!(class_names(&r), ["0", "1", "2"]);
    assert_eq!(r["data"]["timesteps"], 5);
    assert_eq!(r["data"]["features"], 2);
    assert_eq!(r["config"]["csv_layout"], "long");
    assert_eq!(r["config"]["time_column"], "t");

    // Both runs in plain PyTorch, on their test file and on a copy without the label column
    // (new data): the probabilities of rowseq predict, read with the run's CSV keys.
    for (sweep, test, label_at) in [(tmp.path().join("out"), &wte, 2), (out, &lte, 3)] {
        let run = run_dirs(&crate::common::train_folder(&sweep)).remove(0);
        let text = std::fs::read_to_string(test).unwrap();
        let unlabelled: String = text
            .lines()
            .map(|l| {
                let mut cells: Vec<&str> = l.split(',').collect();
                cells.remove(label_at);
                cells.join(",") + "\n"
            })
            .collect();
        let new = tmp.path().join("new.csv");
        std::fs::write(&new, unlabelled).unwrap();
        for (data, labelled) in [(test.as_path(), true), (new.as_path(), false)] {
            let predictions = tmp.path().join("p.csv");
            rowseq()
                .arg("predict")
                .arg(&run)
                .arg(data)
                .arg("--out")
                .arg(&predictions)
                .assert()
                .success()
                .stdout(contains(if labelled { "accuracy" } else { "no labels" }));
            let stdout = pytorch_check(&run, data, &predictions);
            assert!(
                stdout.contains(if labelled { "accuracy" } else { "no labels" }),
                "{stdout}"
            );
        }
    }
}

/// `scripts/load_in_pytorch.py RUN DATA --check PREDICTIONS`: succeeds (probabilities within
/// 1e-5 of rowseq's), returns its stdout.
fn pytorch_check(run: &Path, data: &Path, predictions: &Path) -> String {
    let stdout = crate::common::load_in_pytorch(run, data.to_str().unwrap(), predictions);
    assert!(stdout.contains("max |p(PyTorch) - p(rowseq)|"), "{stdout}");
    stdout
}

#[test]
fn gunpoint_end_to_end() {
    let gunpoint = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/GunPoint/GunPoint_TRAIN.ts");
    assert!(
        gunpoint.is_file(),
        "{} is missing: run scripts/setup.sh (it fetches GunPoint)",
        gunpoint.display()
    );
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let mut cmd = rowseq();
    cmd.args(["sweep", "configs/gunpoint.toml"])
        .args([
            "--set",
            "epochs=2",
            "--set",
            "num_units=[4, 8]",
            "--set",
            "seed=0",
        ])
        .args(["--threads", "1", "--device", "cpu", "--out"])
        .arg(&out);
    let done = cmd.assert().success();
    let stdout = String::from_utf8(done.get_output().stdout.clone()).unwrap();
    assert!(stdout.contains("2 trained"), "{stdout}");
    let sweep = out.join("gunpoint");
    for run in run_dirs(&sweep) {
        let r = result(&run);
        assert_eq!(class_names(&r), ["1", "2"]);
        // 150 values read 5 a step (patch = "auto", series data's default).
        assert_eq!(r["data"]["timesteps"], 30);
        assert_eq!(r["data"]["features"], 5);
        assert_eq!(
            (
                r["train_size"].as_u64(),
                r["val_size"].as_u64(),
                r["test_size"].as_u64()
            ),
            (Some(40), Some(10), Some(150))
        );
        let per_class: Vec<u64> = r["data"]["test_per_class"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["examples"].as_u64().unwrap())
            .collect();
        assert_eq!(per_class, [76, 74]);
        // The 1-NN baselines on the same 150 test series against the 50 training series, as
        // the UCR archive publishes them for GunPoint: ED 137/150 right, full-window DTW 136.
        assert_eq!(r["nn_ed_test_acc"].as_f64(), Some(137.0 / 150.0));
        assert_eq!(r["nn_dtw_test_acc"].as_f64(), Some(136.0 / 150.0));
    }
    let table = std::fs::read_to_string(sweep.join("results.csv")).unwrap();
    assert!(
        table
            .lines()
            .next()
            .unwrap()
            .contains(",nn_ed_test_acc,nn_dtw_test_acc,"),
        "{table}"
    );
    assert!(stdout.contains("1NN-ED  1NN-DTW"), "{stdout}");
    let md = std::fs::read_to_string(sweep.join("report/report.md")).unwrap();
    assert!(md.contains("| class | H = 4 | H = 8 |"), "{md}");
    assert!(md.contains("| 91.33 | 90.67 |"), "{md}");
    // No picture of GunPoint's "digits" in TensorBoard: its series are not images.
    let run = run_dirs(&sweep).remove(0);
    // The run chose its noise on validation: each candidate trained as a run of its own, with
    // its own TensorBoard folder.
    let choice = &result(&run)["choice"];
    let id = choice["candidates"][choice["chosen"].as_u64().unwrap() as usize]["run_id"]
        .as_str()
        .unwrap()
        .to_string();
    let tb = sweep.join("tb");
    let folder: PathBuf = std::fs::read_dir(&tb)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| std::fs::read_to_string(p.join(".rowseq-run-id")).is_ok_and(|s| s.trim() == id))
        .expect("a TensorBoard folder for the run");
    let events: Vec<u8> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("tfevents"))
        .flat_map(|p| std::fs::read(p).unwrap())
        .collect();
    let has = |needle: &[u8]| events.windows(needle.len()).any(|w| w == needle);
    assert!(has(b"hidden/h_T"), "the probe still runs");
    assert!(!has(b"mistakes/test"), "no image grid for series");
    rowseq().arg("explain").arg(&run).assert().success();
    the_books_pytorch_snippet_predicts_as_rowseq(&run);
}

/// The Python block of the book's "Predict, ensembles and PyTorch" chapter, run as written on
/// `run` (a GunPoint run): its predictions must score the run's recorded test accuracy.
fn the_books_pytorch_snippet_predicts_as_rowseq(run: &Path) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let chapter = std::fs::read_to_string(root.join("docs/src/tutorials/predict.md")).unwrap();
    let block = chapter
        .split("```python\n")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    assert!(block.contains("experiments/GunPoint/<run-id>"), "{block}");
    let script = block.replace("experiments/GunPoint/<run-id>", run.to_str().unwrap())
        + "print(sum(p == t for p, t in zip(predicted, labels)) / len(labels))\n";
    let out = std::process::Command::new(root.join(".venv/bin/python"))
        .current_dir(root)
        .env("PYTHONPATH", root.join("scripts"))
        .args(["-c", &script])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let accuracy: f64 = stdout.trim().parse().unwrap();
    assert_eq!(
        accuracy,
        result(run)["test_acc"].as_f64().unwrap(),
        "{stdout}"
    );
}

/// Writes `train` and `test` into `dir` as NAME_TRAIN.ts / NAME_TEST.ts.
fn ts_pair(dir: &Path, train: &str, test: &str) -> String {
    std::fs::write(dir.join("B_TRAIN.ts"), train).unwrap();
    std::fs::write(dir.join("B_TEST.ts"), test).unwrap();
    format!("ts:{}", dir.join("B").display())
}

#[test]
fn bad_data_is_one_line_naming_file_and_line_exit_2_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let head = "@problemName B\n@univariate false\n@dimensions 2\n@classLabel true a b\n@data\n";
    let good = format!("{head}1,2,3:4,5,6:a\n1,2:3,4:b\n1:2:a\n3,2,1:1,1,1:b\n");
    let dir = tmp.path();
    let file = |name: &str| dir.join(name).display().to_string();
    // (train file, test file, expected error); None: no such files.
    let cases: Vec<(Option<(String, String)>, String)> = vec![
        // A case whose dimensions differ in length.
        (
            Some((format!("{good}1,2:3:a\n"), good.clone())),
            format!(
                "{}:10: dimension 2 has 1 values: expected 2",
                file("B_TRAIN.ts")
            ),
        ),
        (
            Some((good.clone(), format!("{good}1,x:3,4:a\n"))),
            format!(
                "{}:10: \"x\" in dimension 1, value 2: expected a number",
                file("B_TEST.ts")
            ),
        ),
        (
            Some((good.clone(), format!("{good}1,NaN:3,4:a\n"))),
            format!(
                "{}:10: NaN in dimension 1, value 2: expected a finite number",
                file("B_TEST.ts")
            ),
        ),
        (
            Some((format!("{good}1,2:3,4:\n"), good.clone())),
            format!("{}:10: no class label", file("B_TRAIN.ts")),
        ),
        (
            Some((String::new(), good.clone())),
            format!("{}: empty file", file("B_TRAIN.ts")),
        ),
        (
            Some((good.replace(":b\n", ":a\n"), good.clone())),
            format!(
                "{}:7: class \"b\" does not occur in the training file",
                file("B_TEST.ts")
            ),
        ),
        (None, format!("{}: no such file", file("Nope_TRAIN.ts"))),
    ];
    for (files, want) in cases {
        let dataset = match files {
            Some((train, test)) => ts_pair(dir, &train, &test),
            None => format!("ts:{}", dir.join("Nope").display()),
        };
        let out = tmp.path().join("out");
        let done = train(&out, &dataset, 1, 1).assert().code(2);
        let stderr = String::from_utf8(done.get_output().stderr.clone()).unwrap();
        assert!(
            stderr.starts_with(&format!("error: {want}")),
            "{dataset}: {stderr}"
        );
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        assert!(!out.exists(), "{dataset}: wrote {}", out.display());
    }

    // CSV: a ragged row, infinity, a missing label.
    let csv_cases = [
        (
            "label,a,b\nx,1,2\ny,1\n",
            ":3: 2 fields: expected 3 like the header",
        ),
        (
            "label,a,b\nx,1,2\ny,1,inf\n",
            ":3: inf in column \"b\": expected a finite number",
        ),
        ("label,a,b\nx,1,2\n,1,2\n", ":3: missing label"),
    ];
    let ok = dir.join("ok.csv");
    std::fs::write(&ok, "label,a,b\nx,1,2\ny,2,1\nx,1,3\n").unwrap();
    for (text, want) in csv_cases {
        let bad = dir.join("bad.csv");
        std::fs::write(&bad, text).unwrap();
        let out = tmp.path().join("out");
        let dataset = format!("csv:{},{}", ok.display(), bad.display());
        let done = train(&out, &dataset, 1, 1).assert().code(2);
        let stderr = String::from_utf8(done.get_output().stderr.clone()).unwrap();
        assert!(
            stderr.starts_with(&format!("error: {}{want}", bad.display())),
            "{stderr}"
        );
        assert!(!out.exists());
    }
}

#[test]
fn data_config_mistakes_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let dataset = write_ts(tmp.path(), "Gen", 3);
    let out = tmp.path().join("out");
    for (extra, want) in [
        (
            vec!["--val-size", "6"],
            "val_size = 6: expected at most 5 for ts:",
        ),
        (
            vec!["--val-size", "5"],
            "val_size = 5 leaves class \"down\" (3 examples) without a training example",
        ),
        (
            vec!["--csv-layout", "long"],
            "--csv-layout: csv_layout = \"long\": applies to csv: datasets only",
        ),
        (
            vec!["--data-dir", "data"],
            "--data-dir data: applies to mnist and fashion-mnist only",
        ),
        (
            vec!["--patch", "7"],
            "--patch: patch = 7: more values than the 6 steps of the longest sequence: \
             expected at most 6, or \"auto\"",
        ),
    ] {
        let done = train(&out, &dataset, 1, 1).args(&extra).assert().code(2);
        let stderr = String::from_utf8(done.get_output().stderr.clone()).unwrap();
        assert!(stderr.contains(want), "{extra:?}: {stderr}");
        assert!(!out.exists());
    }
    let done = train(&out, "parquet:x", 1, 1).assert().code(2);
    let stderr = String::from_utf8(done.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains("--dataset \"parquet:x\": expected \"mnist\", \"fashion-mnist\""),
        "{stderr}"
    );
}

#[test]
fn longer_padding_changes_no_result() {
    // The same training and validation data, padded to T = 6 or (one longer test case) T = 20:
    // training and validation metrics must not move.
    let tmp = tempfile::tempdir().unwrap();
    let short = write_ts(tmp.path(), "Gen", 6);
    let test = tmp.path().join("Gen_TEST.ts");
    let long_dir = tmp.path().join("long");
    std::fs::create_dir(&long_dir).unwrap();
    std::fs::copy(
        tmp.path().join("Gen_TRAIN.ts"),
        long_dir.join("Gen_TRAIN.ts"),
    )
    .unwrap();
    let mut text = std::fs::read_to_string(&test).unwrap();
    let values: Vec<String> = (0..20).map(|t| t.to_string()).collect();
    let _ = writeln!(text, "{}:{}:up", values.join(","), values.join(","));
    std::fs::write(long_dir.join("Gen_TEST.ts"), text).unwrap();
    let long = format!("ts:{}", long_dir.join("Gen").display());

    let metrics = |dataset: &str, out: &Path| {
        train(out, dataset, 4, 3).assert().success();
        let run = run_dirs(&crate::common::train_folder(out)).remove(0);
        assert_eq!(
            result(&run)["data"]["timesteps"],
            if dataset == long { 20 } else { 6 }
        );
        crate::common::metrics_without_time(&run)
            .into_iter()
            .map(|mut m| {
                let m = m.as_object_mut().unwrap();
                m.retain(|k, _| k.starts_with("train") || k.starts_with("val"));
                serde_json::to_string(m).unwrap()
            })
            .collect::<Vec<_>>()
    };
    let a = metrics(&short, &tmp.path().join("a"));
    let b = metrics(&long, &tmp.path().join("b"));
    assert_eq!(a.len(), 3);
    assert_eq!(a, b);
}

/// `patch`: GunPoint's 150 values read 5 a step ("auto") are 30 steps of 5 features, in the
/// result and in `explain`; `patch` is a key like any other (swept here, with 1 = the data's
/// own step, whose run id is that of a run without the key).
#[test]
fn patches_read_a_long_series_several_values_a_step() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let sweep = |extra: &[&str]| gunpoint_sweep(&out, extra);
    let plain = sweep(&["--dry-run"]).output().unwrap();
    let plain_id = String::from_utf8_lossy(&plain.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    sweep(&["--set", "patch=[1, \"auto\", 7]"])
        .assert()
        .success()
        .stdout(contains("3 trained"));
    let runs = run_dirs(&out.join("gunpoint"));
    let shapes: Vec<(String, u64, u64)> = runs
        .iter()
        .map(|run| {
            let r = result(run);
            (
                r["label"].as_str().unwrap().to_string(),
                r["data"]["timesteps"].as_u64().unwrap(),
                r["data"]["features"].as_u64().unwrap(),
            )
        })
        .collect();
    for want in [
        ("units=4,patch=1,seed=0".to_string(), 150, 1),
        ("units=4,patch=auto,seed=0".to_string(), 30, 5),
        ("units=4,patch=7,seed=0".to_string(), 22, 7),
    ] {
        assert!(shapes.contains(&want), "{want:?} not in {shapes:?}");
    }
    assert!(
        runs.iter().any(|r| r.ends_with(&plain_id)),
        "patch = 1 is the run without the key"
    );
    let auto = runs
        .iter()
        .find(|r| result(r)["label"] == "units=4,patch=auto,seed=0")
        .unwrap();
    let e = crate::common::explain_json(auto);
    assert_eq!(
        (e["timesteps"].as_i64(), e["features"].as_i64()),
        (Some(30), Some(5))
    );
    // MNIST in explain: 7 steps of 4 rows.
    rowseq()
        .args(["explain", "--patch", "112"])
        .assert()
        .success()
        .stdout(contains("timesteps T = 7, features F = 112"));
    rowseq()
        .args(["explain", "--patch", "0"])
        .assert()
        .code(2)
        .stderr(contains(
            "--patch 0: expected a whole number of values per timestep",
        ));
}

/// `predict`: a finished run applied to its own test file gives its recorded test accuracy,
/// one row per series with each class's probability; to another file (its training file) it
/// reads it against the run's training data; mistakes are one line, exit 2, nothing written.
#[test]
fn predict_applies_a_finished_run_to_new_series() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    rowseq()
        .args(["sweep", "configs/gunpoint.toml"])
        .args([
            "--set",
            "epochs=3",
            "--set",
            "num_units=8",
            "--set",
            "seed=0",
        ])
        .args(["--set", "patch=\"auto\"", "--no-tensorboard", "--no-report"])
        .args(["--threads", "1", "--device", "cpu", "--out"])
        .arg(&out)
        .assert()
        .success();
    let run = run_dirs(&out.join("gunpoint")).remove(0);
    let r = result(&run);
    assert_eq!(r["data"]["patch"], 5);
    // The test accuracy of the epoch that validation selects is recorded beside the last's:
    // the epoch is chosen on the kept candidate's curve (the refit trains on the validation
    // series), and the score is the run's own curve's (the refit's) at that epoch.
    let curve = |dir: &Path| -> Vec<Value> {
        std::fs::read_to_string(dir.join("metrics.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let choice = &r["choice"];
    let kept = &choice["candidates"][choice["chosen"].as_u64().unwrap() as usize]["run_id"];
    let validated = curve(&run.join("candidates").join(kept.as_str().unwrap()));
    let metrics = curve(&run);
    assert_eq!(r["choice"]["refit"]["train_size"], 50);
    let best = r["best_val_epoch"].as_u64().unwrap() as usize;
    let first_best = validated
        .iter()
        .position(|m| m["val_acc"] == r["best_val_acc"])
        .unwrap();
    assert_eq!(
        first_best + 1,
        best,
        "the first epoch with the best validation accuracy"
    );
    assert_eq!(r["best_val_test_acc"], metrics[best - 1]["test_acc"]);
    let recorded = format!("{:.4}", r["test_acc"].as_f64().unwrap());
    let csv = tmp.path().join("pred.csv");
    let predict = |data: &str, to: &Path| {
        let mut cmd = rowseq();
        cmd.arg("predict").arg(&run).arg(data).arg("--out").arg(to);
        cmd
    };
    predict("ts:data/GunPoint/GunPoint", &csv)
        .assert()
        .success()
        .stdout(contains("predicted 150 sequences"))
        .stdout(contains(format!("accuracy {recorded} (")))
        .stdout(contains(format!("recorded test accuracy {recorded}")));
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("index,class,predicted,p_1,p_2"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 150);
    for row in &rows {
        let p: f64 = row[3].parse::<f64>().unwrap() + row[4].parse::<f64>().unwrap();
        assert!((p - 1.0).abs() < 1e-5, "{row:?}");
        let winner = if row[3].parse::<f64>().unwrap() >= row[4].parse::<f64>().unwrap() {
            "1"
        } else {
            "2"
        };
        assert_eq!(row[2], winner, "{row:?}");
    }
    let correct = rows.iter().filter(|r| r[1] == r[2]).count();
    assert_eq!(format!("{:.4}", correct as f64 / 150.0), recorded);
    // The same weights, scaling and patches in plain PyTorch give the same probabilities.
    let stdout = pytorch_check(&run, Path::new("data/GunPoint/GunPoint_TEST.ts"), &csv);
    assert!(stdout.contains(&format!("accuracy {recorded}")), "{stdout}");
    // Another file of the same kind: the training file, 50 series.
    predict(
        "data/GunPoint/GunPoint_TRAIN.ts",
        &tmp.path().join("train.csv"),
    )
    .assert()
    .success()
    .stdout(contains("predicted 50 sequences"));
    // New series without labels (@classLabel false, values only): the same predictions and
    // probabilities, an empty class column, no accuracy.
    let test = std::fs::read_to_string("data/GunPoint/GunPoint_TEST.ts").unwrap();
    let mut unlabelled = String::new();
    let mut data = false;
    for line in test.lines() {
        if line.to_ascii_lowercase().starts_with("@classlabel") {
            unlabelled.push_str("@classLabel false\n");
        } else if data && !line.trim().is_empty() {
            unlabelled.push_str(line.rsplit_once(':').unwrap().0);
            unlabelled.push('\n');
        } else {
            data |= line.to_ascii_lowercase().starts_with("@data");
            unlabelled.push_str(line);
            unlabelled.push('\n');
        }
    }
    let new = tmp.path().join("new.ts");
    std::fs::write(&new, unlabelled).unwrap();
    let new_csv = tmp.path().join("new.csv");
    predict(new.to_str().unwrap(), &new_csv)
        .assert()
        .success()
        .stdout(contains("predicted 150 sequences"))
        .stdout(contains("no labels: no accuracy"));
    let labelled: Vec<String> = text.lines().map(|l| l.to_string()).collect();
    let new_rows: Vec<String> = std::fs::read_to_string(&new_csv)
        .unwrap()
        .lines()
        .map(|l| l.to_string())
        .collect();
    assert_eq!(new_rows.len(), labelled.len());
    for (a, b) in labelled.iter().zip(&new_rows).skip(1) {
        let (a, b): (Vec<&str>, Vec<&str>) = (a.split(',').collect(), b.split(',').collect());
        assert_eq!(b[1], "", "{b:?}");
        assert_eq!((a[0], &a[2..]), (b[0], &b[2..]));
    }
    let stdout = pytorch_check(&run, &new, &new_csv);
    assert!(stdout.contains("no labels, no accuracy"), "{stdout}");
    // Mistakes.
    let bad = tmp.path().join("bad.csv");
    for (run_dir, data, want) in [
        (
            run.clone(),
            "data/JapaneseVowels/JapaneseVowels_TEST.ts".to_string(),
            "12 features (dimensions) per timestep: expected 1".to_string(),
        ),
        (
            run.clone(),
            "mnist".into(),
            "not the kind of data the run trained on".into(),
        ),
        (
            run.clone(),
            tmp.path().join("none.ts").display().to_string(),
            "none.ts".into(),
        ),
        (
            run.clone(),
            "notes.txt".into(),
            "expected a .ts file like the run's data".into(),
        ),
        (
            tmp.path().to_path_buf(),
            "mnist".into(),
            "not a run folder".into(),
        ),
    ] {
        let output = rowseq()
            .arg("predict")
            .arg(&run_dir)
            .arg(&data)
            .arg("--out")
            .arg(&bad)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{data}: {stderr}");
        assert!(stderr.contains(&want), "{data}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        assert!(!bad.exists());
    }
    // A run that has not finished.
    let unfinished = tmp.path().join("unfinished");
    std::fs::create_dir(&unfinished).unwrap();
    std::fs::copy(run.join("config.json"), unfinished.join("config.json")).unwrap();
    let output = rowseq()
        .arg("predict")
        .arg(&unfinished)
        .arg("ts:data/GunPoint/GunPoint")
        .arg("--out")
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("the run has not finished"));
    assert!(!bad.exists());
}

/// `normalize`: the default z-scores each feature with the training split's statistics, saved
/// in the run folder; "series" scales each series on its own, "none" leaves the values; each
/// is a key like any other, and the default keeps the run id of a run without the key.
#[test]
fn normalisation_is_a_key_and_its_statistics_are_saved() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let sweep = |extra: &[&str]| gunpoint_sweep(&out, extra);
    let ids = |extra: &[&str]| -> Vec<String> {
        let mut a = extra.to_vec();
        a.push("--dry-run");
        let o = sweep(&a).output().unwrap();
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(|l| l.split_whitespace().next().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(&[]), ids(&["--set", "normalize=\"feature\""]));
    sweep(&[
        "--set",
        "normalize=[\"feature\", \"series\", \"series_stats\", \"none\"]",
    ])
    .assert()
    .success()
    .stdout(contains("4 trained"));
    let (mut kinds, mut noises) = (Vec::new(), Vec::new());
    for run in run_dirs(&out.join("gunpoint")) {
        let n: Value =
            serde_json::from_str(&std::fs::read_to_string(run.join("normalization.json")).unwrap())
                .unwrap();
        let kind = n["kind"].as_str().unwrap().to_string();
        if kind == "feature" {
            let (mean, std) = (n["mean"].as_array().unwrap(), n["std"].as_array().unwrap());
            assert_eq!((mean.len(), std.len()), (1, 1), "{n}");
            assert!(std[0].as_f64().unwrap() > 0.0);
        } else {
            assert!(n.get("mean").is_none(), "{n}");
        }
        if kind == "series_stats" {
            // One feature's level and spread statistics; the model reads three features a
            // value (z-score, level, spread): GunPoint's patch of 5 is 15 inputs a step.
            let inputs = &n["stats_inputs"];
            for key in [
                "level_mean",
                "level_std",
                "spread_floor",
                "spread_mean",
                "spread_std",
            ] {
                assert_eq!(inputs[key].as_array().map(Vec::len), Some(1), "{key}: {n}");
            }
            assert_eq!(result(&run)["data"]["features"], 15);
            // rowseq and the PyTorch loader read new series alike.
            let predictions = tmp.path().join("p.csv");
            let test = "data/GunPoint/GunPoint_TEST.ts";
            rowseq()
                .arg("predict")
                .arg(&run)
                .arg(test)
                .arg("--out")
                .arg(&predictions)
                .assert()
                .success();
            let said = crate::common::load_in_pytorch(&run, test, &predictions);
            assert!(said.contains("max |p(PyTorch) - p(rowseq)|"), "{said}");
            // explain says what the input's 15 features are.
            rowseq()
                .arg("explain")
                .arg(&run)
                .assert()
                .success()
                .stdout(contains(
                    "F = 5 values a step x 3 x 1: each value's z-score within its sequence, \
                     then the sequence's mean and log std, for each of the 1 feature",
                ));
        } else {
            assert!(n.get("stats_inputs").is_none(), "{n}");
        }
        // The "auto" noise candidate, from how jagged the values are: series_stats' constant
        // level and spread inputs do not dilute it.
        let noise = result(&run)["choice"]["candidates"].as_array().map(|c| {
            c.iter()
                .filter_map(|c| c["value"].as_f64())
                .fold(0.0, f64::max)
        });
        noises.push((kind.clone(), noise));
        kinds.push(kind);
    }
    let noise_of = |k: &str| noises.iter().find(|n| n.0 == k).and_then(|n| n.1);
    assert!(noise_of("series").is_some_and(|n| n > 0.0), "{noises:?}");
    assert_eq!(noise_of("series"), noise_of("series_stats"), "{noises:?}");
    kinds.sort();
    assert_eq!(kinds, ["feature", "none", "series", "series_stats"]);
}

/// `configs/gunpoint.toml` for one epoch at 4 units, seed 0, one thread, into `out` (no
/// TensorBoard), with `extra` arguments.
fn gunpoint_sweep(out: &Path, extra: &[&str]) -> assert_cmd::Command {
    let mut cmd = rowseq();
    cmd.args(["sweep", "configs/gunpoint.toml"])
        .args([
            "--set",
            "epochs=1",
            "--set",
            "num_units=4",
            "--set",
            "seed=0",
        ])
        .args(extra)
        .args([
            "--threads",
            "1",
            "--device",
            "cpu",
            "--no-tensorboard",
            "--out",
        ])
        .arg(out);
    cmd
}

/// A univariate `.ts` problem of equal-length series (100 values) with `counts[c]` training
/// series of class `c` (and as many test series): class c is a sine of frequency c + 1.
fn write_imbalanced(dir: &Path, counts: &[usize]) -> String {
    let labels: Vec<String> = (0..counts.len()).map(|c| format!("c{c}")).collect();
    for split in ["TRAIN", "TEST"] {
        let mut s = format!(
            "@problemName I\n@univariate true\n@equalLength true\n@seriesLength 100\n\
             @classLabel true {}\n@data\n",
            labels.join(" ")
        );
        for (c, &n) in counts.iter().enumerate() {
            for i in 0..n {
                let values: Vec<String> = (0..100)
                    .map(|t| {
                        let x = t as f64 / 100.0 * (c + 1) as f64 * std::f64::consts::TAU;
                        format!("{:.4}", x.sin() + 0.01 * i as f64)
                    })
                    .collect();
                let _ = writeln!(s, "{}:{}", values.join(","), labels[c]);
            }
        }
        std::fs::write(dir.join(format!("I_{split}.ts")), s).unwrap();
    }
    format!("ts:{}", dir.join("I").display())
}

/// Series data with no key but the dataset: "auto" validation split, batch size, budget and
/// patch, resolved from the data, recorded beside the config that names the run; a class with
/// a single training series keeps it; `select` chooses which epoch the tables show.
#[test]
fn series_defaults_fit_the_data_and_select_picks_the_epoch_shown() {
    let tmp = tempfile::tempdir().unwrap();
    let dataset = write_imbalanced(tmp.path(), &[1, 2, 12]);
    let out = tmp.path().join("out");
    train_with(&out, &dataset, &["--num-units", "4", "--seed", "1"])
        .assert()
        .success()
        .stdout(contains("1 trained"));
    let run = run_dirs(&crate::common::train_folder(&out)).remove(0);
    let config: Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("config.json")).unwrap()).unwrap();
    for key in ["epochs", "batch_size", "val_size", "patch", "noise"] {
        assert_eq!(config[key], "auto", "{key} in {config}");
    }
    let r = result(&run);
    // Validation: none of the lone c0, one of the two c1, round(12 / 5) = 2 of c2.
    assert_eq!(
        (r["train_size"].as_u64(), r["val_size"].as_u64()),
        (Some(12), Some(3))
    );
    let resolved = &r["resolved"];
    assert_eq!(resolved["val_size"], 3);
    // A tenth of 12 is below the smallest automatic batch, 4: 3 steps an epoch, and the
    // 2,000-step budget takes ceil(2000 / 3) = 667 epochs.
    assert_eq!(resolved["batch_size"], 4);
    assert_eq!(resolved["epochs"], 667);
    assert_eq!(r["epochs"], 667);
    // 100 values, ceil(100 / 32) = 4 a step: 25 steps.
    assert_eq!(resolved["patch"], 4);
    // Sines of 1 to 3 periods over 100 values change by a few hundredths of their spread a
    // step: jitter of twice that, below the cap.
    let noise = resolved["noise"].as_f64().unwrap();
    assert!(noise > 0.02 && noise < 0.5, "noise {noise}");
    assert_eq!(
        (
            r["data"]["timesteps"].as_u64(),
            r["data"]["features"].as_u64()
        ),
        (Some(25), Some(4))
    );
    let csv =
        std::fs::read_to_string(crate::common::train_folder(&out).join("results.csv")).unwrap();
    let (head, row) = csv.split_once('\n').unwrap();
    let col = |name: &str| {
        let i = head.split(',').position(|c| c == name).unwrap();
        row.trim().split(',').nth(i + 1).unwrap().to_string()
    };
    // The label "units=4,seed=0" holds a comma inside quotes: one more field before the rest.
    assert_eq!(
        (col("epochs"), col("batch_size")),
        ("667".into(), "4".into())
    );
    // The same run by a sweep file that gives nothing but the dataset, width and seed: one id.
    let sweep = tmp.path().join("s.toml");
    let folder = crate::common::train_folder(&out);
    let name = folder.file_name().unwrap().to_str().unwrap();
    std::fs::write(
        &sweep,
        format!("name = \"{name}\"\ndataset = \"{dataset}\"\nnum_units = 4\nseed = 1\n"),
    )
    .unwrap();
    rowseq()
        .args(["sweep"])
        .arg(&sweep)
        .args(["--threads", "1", "--no-tensorboard", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stdout(contains("1 already done"));

    // select: the report shows the test accuracy of the first best-validation epoch, and
    // every caption says so.
    let (best, last) = (
        r["best_val_test_acc"].as_f64().unwrap(),
        r["test_acc"].as_f64().unwrap(),
    );
    assert_ne!(best, last, "the two selections differ on this run");
    let report = tmp.path().join("report");
    rowseq()
        .args(["report"])
        .arg(crate::common::train_folder(&out))
        .args(["--select", "best-val", "--out"])
        .arg(&report)
        .assert()
        .success();
    let md = std::fs::read_to_string(report.join("report.md")).unwrap();
    assert!(
        md.contains("Accuracies are those of the epoch of best validation accuracy"),
        "{md}"
    );
    assert!(!md.contains("final epoch)"), "{md}");
    let summary = std::fs::read_to_string(report.join("summary.csv")).unwrap();
    assert!(
        summary.contains(&format!("{best:.6}")),
        "{summary} lacks {best:.6}"
    );
    rowseq()
        .args(["report"])
        .arg(crate::common::train_folder(&out))
        .args(["--out"])
        .arg(&report)
        .assert()
        .success();
    let md = std::fs::read_to_string(report.join("report.md")).unwrap();
    assert!(
        md.contains("Accuracies are those of the final epoch"),
        "{md}"
    );
    let summary = std::fs::read_to_string(report.join("summary.csv")).unwrap();
    assert!(
        summary.contains(&format!("{last:.6}")),
        "{summary} lacks {last:.6}"
    );
}

/// `eval_test = "final"` scores the test set only at the last epoch and at each new best
/// validation epoch: training, the final test accuracy and the best-validation one are those of
/// `"every_epoch"`, and the other epochs of `metrics.jsonl` carry no test score.
#[test]
fn eval_test_final_skips_test_passes_and_changes_no_result() {
    let tmp = tempfile::tempdir().unwrap();
    let dataset = write_imbalanced(tmp.path(), &[6, 6, 6]);
    let out = tmp.path().join("out");
    let run = |eval: &str| -> (Value, Vec<Value>) {
        train(&out, &dataset, 6, 30)
            .args(["--name", eval, "--eval-test", eval, "--no-tensorboard"])
            .assert()
            .success();
        let dir = run_dirs(&out.join(eval)).remove(0);
        let metrics = std::fs::read_to_string(dir.join("metrics.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        (result(&dir), metrics)
    };
    let (every, every_m) = run("every-epoch");
    let (last, last_m) = run("final");
    for key in [
        "test_acc",
        "best_val_test_acc",
        "best_val_epoch",
        "val_acc",
        "train_loss",
    ] {
        assert_eq!(every[key], last[key], "{key}");
    }
    assert_eq!(every_m.len(), 30);
    let mut best = f64::NEG_INFINITY;
    for (e, f) in every_m.iter().zip(&last_m) {
        for key in ["train_loss", "val_acc", "val_loss"] {
            assert_eq!(e[key], f[key], "epoch {} {key}", e["epoch"]);
        }
        let val = e["val_acc"].as_f64().unwrap();
        let wanted = val > best || e["epoch"] == 30;
        best = best.max(val);
        assert_eq!(f.get("test_acc").is_some(), wanted, "epoch {}", e["epoch"]);
        if wanted {
            assert_eq!(e["test_acc"], f["test_acc"]);
        }
    }
    assert!(
        last_m.iter().any(|m| m.get("test_acc").is_none()),
        "some epoch skipped the test set"
    );
}

/// A named data set is read from `$ROWSEQ_DATA/<name>`, else `data/<name>` in the working
/// folder, never from the checkout the binary was built from; the folder read is printed, and
/// with neither the error names the one folder tried (issue #36, item 17).
#[test]
fn named_data_comes_from_rowseq_data_or_the_working_folder_never_the_checkout() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    let out_arg = out.display().to_string();
    let args = [
        "train",
        "--epochs",
        "1",
        "--train-size",
        "100",
        "--val-size",
        "50",
        "--test-size",
        "50",
        "--num-units",
        "4",
        "--device",
        "cpu",
        "--out",
        &out_arg,
    ];
    rowseq()
        .current_dir(t.path())
        .env_remove("ROWSEQ_DATA")
        .args(args)
        .assert()
        .code(2)
        .stderr(contains(
            "error: data/mnist: no such data folder (the one folder tried, from data/ in the \
             working folder",
        ))
        .stderr(contains("as ROWSEQ_DATA is not set"));
    assert!(!out.exists());
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    rowseq()
        .current_dir(t.path())
        .env("ROWSEQ_DATA", &data)
        .args(args)
        .assert()
        .success()
        .stdout(contains(format!(
            "data: mnist from {}",
            data.join("mnist").display()
        )));
    // The trained run, applied to MNIST from a folder without data/: refused, not read from
    // the checkout.
    let run = run_dirs(&crate::common::train_folder(&out)).remove(0);
    rowseq()
        .current_dir(t.path())
        .env_remove("ROWSEQ_DATA")
        .args(["predict", run.to_str().unwrap(), "mnist", "--out"])
        .arg(t.path().join("p.csv"))
        .assert()
        .code(2)
        .stderr(contains("data/mnist: no such data folder"));
    assert!(!t.path().join("p.csv").exists());
    // (Into a fresh folder: a sweep with nothing left to train reads no data.)
    rowseq()
        .current_dir(t.path())
        .env("ROWSEQ_DATA", t.path().join("nope"))
        .args(&args[..args.len() - 1])
        .arg(t.path().join("out2"))
        .assert()
        .code(2)
        .stderr(contains(format!(
            "{}: no such data folder (the one folder tried, from ROWSEQ_DATA={})",
            t.path().join("nope/mnist").display(),
            t.path().join("nope").display()
        )));
}

/// A run that cannot learn the series (every series the same, no input noise) predicts one
/// class for all: it is warned of when it finishes, and `result.json` and `status` say so
/// (issue #38, item 2). Identical inputs make the outcome certain on any machine.
#[test]
fn a_collapsed_run_is_warned_of_and_recorded() {
    let t = tempfile::tempdir().unwrap();
    let rows = |a: usize, b: usize| {
        let mut s = String::from("label,t0,t1,t2,t3\n");
        for k in 0..a + b {
            s.push_str(if k < a { "a" } else { "b" });
            s.push_str(",0,0,0,0\n");
        }
        s
    };
    std::fs::write(t.path().join("train.csv"), rows(40, 10)).unwrap();
    std::fs::write(t.path().join("test.csv"), rows(8, 2)).unwrap();
    let spec = format!(
        "csv:{},{}",
        t.path().join("train.csv").display(),
        t.path().join("test.csv").display()
    );
    let out = t.path().join("out");
    let done = rowseq()
        .args([
            "train",
            "--dataset",
            &spec,
            "--epochs",
            "2",
            "--num-units",
            "4",
        ])
        .args(["--noise", "0", "--threads", "1", "--device", "cpu", "--out"])
        .arg(&out)
        .assert()
        .success();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&done.get_output().stdout),
        String::from_utf8_lossy(&done.get_output().stderr)
    );
    assert!(said.contains("warning: units=4,seed=0"), "{said}");
    let run = run_dirs(&crate::common::train_folder(&out)).remove(0);
    let r = result(&run);
    let warnings: Vec<&str> = r["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings[0].contains("is no better than always predicting the largest class (0.800)"),
        "{warnings:?}"
    );
    assert!(
        warnings[1].contains("never predicted on the test set"),
        "{warnings:?}"
    );
    let status = rowseq()
        .arg("status")
        .arg(crate::common::train_folder(&out))
        .assert()
        .success();
    let status = String::from_utf8_lossy(&status.get_output().stdout).into_owned();
    assert!(status.contains("(warnings: training accuracy"), "{status}");
}

/// Two training series, one per class: "auto" can spare none to validate, and the run says
/// that nothing was chosen on validation (it trained in silence with val_size 0).
#[test]
fn an_empty_auto_validation_split_is_warned_of() {
    let t = tempfile::tempdir().unwrap();
    let dataset = write_imbalanced(t.path(), &[1, 1]);
    let out = t.path().join("out");
    let done = train_with(&out, &dataset, &["--epochs", "2", "--num-units", "4"])
        .assert()
        .success();
    let said = String::from_utf8_lossy(&done.get_output().stdout).into_owned();
    let r = result(&run_dirs(&crate::common::train_folder(&out)).remove(0));
    assert_eq!(r["val_size"], 0, "{r}");
    let warning = r["warnings"]
        .as_array()
        .and_then(|w| {
            w.iter()
                .filter_map(|w| w.as_str())
                .find(|w| w.starts_with("no validation"))
        })
        .unwrap_or_else(|| panic!("no warning in {r}"));
    assert!(
        warning.starts_with(
            "no validation split: val_size \"auto\" left all 2 training series for training"
        ),
        "{warning}"
    );
    assert!(said.contains(warning), "{said}");
}

#[test]
fn the_ordered_validation_split_takes_the_files_last_series_or_names_the_class_it_would_lose() {
    // Five series in time order, class "b" only at the end: validating on the last two would
    // leave "b" untrained (an error naming the key, nothing written); the last one is fine.
    let tmp = tempfile::tempdir().unwrap();
    let (tr, te) = (tmp.path().join("tr.csv"), tmp.path().join("te.csv"));
    let rows = "label,t1,t2,t3\na,0,1,2\na,1,2,3\na,0,2,1\nb,5,4,3\nb,6,5,4\n";
    std::fs::write(&tr, rows).unwrap();
    std::fs::write(&te, rows).unwrap();
    let dataset = format!("csv:{},{}", tr.display(), te.display());
    let out = tmp.path().join("out");
    let done = train(&out, &dataset, 2, 1)
        .args(["--val-split", "ordered"])
        .assert()
        .code(2);
    let stderr = String::from_utf8(done.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.starts_with("error: --val-split: val_split = \"ordered\" with val_size = 2")
            && stderr.contains("leaves class \"b\" without a training example"),
        "{stderr}"
    );
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(!out.exists());
    train(&out, &dataset, 1, 1)
        .args(["--val-split", "ordered"])
        .assert()
        .success();
    let r = result(&run_dirs(&crate::common::train_folder(&out))[0]);
    assert_eq!(r["config"]["val_split"], "ordered");
    assert_eq!(r["val_size"], 1);
}

#[test]
fn a_grouped_validation_split_keeps_subjects_apart_and_the_group_column_out_of_the_values() {
    // Wide CSV: six subjects of three series each, a `subject` column between the label and
    // the values. Validation takes whole subjects; the subject column is never a timestep, in
    // rowseq or in PyTorch; new data without it still predicts.
    let tmp = tempfile::tempdir().unwrap();
    let (tr, te) = (tmp.path().join("tr.csv"), tmp.path().join("te.csv"));
    let mut text = String::from("label,subject,t1,t2,t3,t4\n");
    for s in 0..6 {
        for k in 0..3 {
            let class = (s + k) % 2;
            let v = |i: usize| (class * 2 + i) as f64 * 0.5 + k as f64 * 0.1;
            let _ = writeln!(text, "c{class},subj{s},{},{},{},{}", v(0), v(1), v(2), v(3));
        }
    }
    std::fs::write(&tr, &text).unwrap();
    std::fs::write(&te, &text).unwrap();
    let dataset = format!("csv:{},{}", tr.display(), te.display());
    let out = tmp.path().join("out");
    train(&out, &dataset, 4, 2)
        .args(["--val-split", "group", "--group-column", "subject"])
        .assert()
        .success();
    let run = run_dirs(&crate::common::train_folder(&out)).remove(0);
    let r = result(&run);
    assert_eq!(r["config"]["val_split"], "group");
    assert_eq!(
        r["data"]["timesteps"], 4,
        "the subject column is not a value"
    );
    // Whole subjects of three: at least 4 series validate, so 6.
    assert_eq!(r["val_size"], 6);
    let predictions = tmp.path().join("p.csv");
    rowseq()
        .arg("predict")
        .arg(&run)
        .arg(&te)
        .arg("--out")
        .arg(&predictions)
        .assert()
        .success();
    pytorch_check(&run, &te, &predictions);

    // A group split without a group column, and one group only: one-line errors.
    for (extra, want) in [
        (
            vec!["--val-split", "group"],
            "val-split group: expected group_column = ",
        ),
        (
            vec!["--val-split", "group", "--group-column", "label"],
            "group_column = \"label\" is the label column",
        ),
    ] {
        let bad = tmp.path().join("bad");
        let done = train(&bad, &dataset, 4, 1).args(&extra).assert().code(2);
        let stderr = String::from_utf8(done.get_output().stderr.clone()).unwrap();
        assert!(stderr.contains(want), "{stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        assert!(!bad.exists());
    }
}

/// `val_split = "file"`: every series of `val_file` validates and the whole training file
/// trains; the first epoch's validation score is the model's on exactly those series (a file of
/// one class scores the share predicted as it); predict needs no validation file; a class the
/// training file lacks, or a val_file without val_split = "file", is a one-line error.
#[test]
fn a_validation_file_validates_and_the_training_file_trains_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let dataset = write_ts(tmp.path(), "P", 6);
    // The validation file: the test file's "up" series alone.
    let test = std::fs::read_to_string(tmp.path().join("P_TEST.ts")).unwrap();
    let (head, body) = test.split_once("@data\n").unwrap();
    let ups: Vec<&str> = body.lines().filter(|l| l.ends_with(":up")).collect();
    let val = tmp.path().join("val.ts");
    std::fs::write(&val, format!("{head}@data\n{}\n", ups.join("\n"))).unwrap();
    let out = tmp.path().join("out");
    train(&out, &dataset, 1, 2)
        .args(["--val-split", "file", "--val-file"])
        .arg(&val)
        .assert()
        .success();
    let run = run_dirs(&crate::common::train_folder(&out)).remove(0);
    let r = result(&run);
    assert_eq!(
        (r["train_size"].as_u64(), r["val_size"].as_u64()),
        (Some(12), Some(ups.len() as u64)),
        "{r}"
    );
    let resolved: Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("resolved.json")).unwrap()).unwrap();
    assert_eq!(resolved["val_size"].as_u64(), Some(ups.len() as u64));
    // predict reads new data against the training file alone.
    std::fs::remove_file(&val).unwrap();
    rowseq()
        .arg("predict")
        .arg(&run)
        .arg(tmp.path().join("P_TEST.ts"))
        .arg("--out")
        .arg(tmp.path().join("p.csv"))
        .assert()
        .success();
    // A class the training file lacks.
    let other = tmp.path().join("other.ts");
    let sideways = test.replace(":up", ":sideways").replace(
        "@classLabel true up down",
        "@classLabel true up down sideways",
    );
    std::fs::write(&other, sideways).unwrap();
    let bad = tmp.path().join("bad");
    let err = train(&bad, &dataset, 1, 1)
        .args(["--val-split", "file", "--val-file"])
        .arg(&other)
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8_lossy(&err);
    assert!(
        err.contains("class \"sideways\" does not occur in the training file"),
        "{err}"
    );
    assert!(!bad.exists());
    train(&bad, &dataset, 1, 1)
        .args(["--val-file"])
        .arg(&other)
        .assert()
        .code(2)
        .stderr(contains("applies to val_split = \"file\""));
    assert!(!bad.exists());
}
