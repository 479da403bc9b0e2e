/*!
Integration tests for forecasting panels, many series in one file learnt by one model: a long
file with `id_column`, scored series by series with the mean in the tables, predicted per id
(and checked in PyTorch); a wide one with `target_column = "*"`; and the bad inputs of both,
which stop with one line and exit 2 before anything is written.
*/
use std::path::Path;

use crate::common::{csv_rows, rowseq, run_dirs, train_folder};
use serde_json::Value;

/// Three monthly series of different lengths and levels, one row per series and month, the
/// rows of the series interleaved as a database would write them.
fn long_panel(dir: &Path) -> std::path::PathBuf {
    let mut rows = Vec::new();
    for t in 0..72usize {
        for (k, len) in [72usize, 60, 66].into_iter().enumerate() {
            if t < len {
                let level = 10.0 * (k + 1) as f64 + 0.1 * t as f64;
                let season = (k + 1) as f64 * ((t % 12) as f64 * std::f64::consts::FRAC_PI_6).sin();
                let noise = ((t * 7 + k * 3) % 5) as f64 * 0.1;
                let date = format!("{}-{:02}", 2000 + t / 12, t % 12 + 1);
                rows.push(format!("shop{k},{date},{:.3}\n", level + season + noise));
            }
        }
    }
    let path = dir.join("panel.csv");
    std::fs::write(&path, format!("store,date,sales\n{}", rows.concat())).unwrap();
    path
}

/// `rowseq predict RUN DATA --out PREDICTIONS`, which must succeed: its header and rows.
fn predict(run: &Path, data: &Path, predictions: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    rowseq()
        .arg("predict")
        .arg(run)
        .arg(data)
        .arg("--out")
        .arg(predictions)
        .assert()
        .success();
    csv_rows(predictions)
}

fn train(data: &Path, out: &Path, extra: &[&str]) -> assert_cmd::Command {
    let mut c = rowseq();
    c.args(["train", "--task", "forecast", "--dataset"])
        .arg(format!("csv:{}", data.display()))
        .args(["--date-column", "date", "--season", "12", "--horizon", "2"])
        .args(["--epochs", "2", "--num-units", "4", "--threads", "1"])
        .args(extra)
        .arg("--out")
        .arg(out);
    c
}

#[test]
fn a_panel_is_one_model_scored_per_series_and_predicted_per_id() {
    let tmp = tempfile::tempdir().unwrap();
    let data = long_panel(tmp.path());
    let out = tmp.path().join("out");
    train(&data, &out, &["--id-column", "store"])
        .assert()
        .success();
    let run = run_dirs(&train_folder(&out)).remove(0);
    let result: Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("result.json")).unwrap()).unwrap();
    // Every series scored on its own; the recorded errors are their mean.
    let series = result["series"].as_array().unwrap();
    let ids: Vec<&str> = series.iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["shop0", "shop1", "shop2"]);
    for (key, part) in [
        ("snaive_test_mase", "snaive"),
        ("naive_test_mase", "naive"),
        ("ets_test_mase", "ets"),
    ] {
        let mean = series
            .iter()
            .map(|s| s[part]["mase"].as_f64().unwrap())
            .sum::<f64>()
            / 3.0;
        let recorded = result[key].as_f64().unwrap();
        assert!((mean - recorded).abs() < 1e-12, "{key}: {mean} {recorded}");
    }
    // Each test row names its series; every series holds out the same test stretch (auto:
    // 15 % of the shortest, 60 months).
    let (header, rows) = csv_rows(&run.join("test_predictions.csv"));
    assert_eq!(header.last().map(String::as_str), Some("id"));
    for (id, len) in [("shop0", 72), ("shop1", 60), ("shop2", 66)] {
        let n = rows.iter().filter(|r| r.last().unwrap() == id).count();
        assert_eq!(
            n,
            (9 - 1) * 2,
            "{id} ({len} months): 9 test steps, horizon 2"
        );
    }
    // predict forecasts the 2 months after each series' own end, keyed by its id.
    let predictions = tmp.path().join("p.csv");
    let (header, rows) = predict(&run, &data, &predictions);
    assert_eq!(header.first().map(String::as_str), Some("step"));
    assert_eq!(header.last().map(String::as_str), Some("id"));
    let firsts: Vec<(&str, &str, &str)> = rows
        .iter()
        .step_by(2)
        .map(|r| {
            (
                r[1].as_str(),
                r[r.len() - 2].as_str(),
                r[r.len() - 1].as_str(),
            )
        })
        .collect();
    assert_eq!(
        firsts,
        [
            ("72", "2006-01", "shop0"),
            ("60", "2005-01", "shop1"),
            ("66", "2005-07", "shop2")
        ]
    );
    crate::common::load_in_pytorch(&run, data.to_str().unwrap(), &predictions);
    // An id the run never trained on is refused, naming it, and nothing is written.
    let text = std::fs::read_to_string(&data)
        .unwrap()
        .replace("shop2", "shop9");
    let other = tmp.path().join("other.csv");
    std::fs::write(&other, text).unwrap();
    let refused = tmp.path().join("refused.csv");
    let bad = rowseq()
        .arg("predict")
        .arg(&run)
        .arg(&other)
        .arg("--out")
        .arg(&refused)
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&bad.get_output().stderr).to_string();
    assert!(
        err.contains("series \"shop9\": not one the run trained on"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(!refused.exists());
}

#[test]
fn a_wide_file_is_a_panel_of_its_columns() {
    let tmp = tempfile::tempdir().unwrap();
    let rows: String = (0..60usize)
        .map(|t| {
            let s = ((t % 12) as f64 * std::f64::consts::FRAC_PI_6).sin();
            format!(
                "{}-{:02},{:.3},{:.3}\n",
                2000 + t / 12,
                t % 12 + 1,
                10.0 + s + 0.05 * t as f64,
                50.0 - 3.0 * s - 0.1 * t as f64 + (t % 3) as f64 * 0.2
            )
        })
        .collect();
    let data = tmp.path().join("wide.csv");
    std::fs::write(&data, format!("date,north,south\n{rows}")).unwrap();
    let out = tmp.path().join("out");
    // With the calendar's inputs (the phase of each month), which PyTorch reads the same.
    train(&data, &out, &["--target-column", "*", "--calendar"])
        .assert()
        .success();
    let run = run_dirs(&train_folder(&out)).remove(0);
    let result: Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("result.json")).unwrap()).unwrap();
    let ids: Vec<&str> = result["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["north", "south"]);
    let predictions = tmp.path().join("p.csv");
    let (header, rows) = predict(&run, &data, &predictions);
    assert_eq!(header[2], "value");
    assert_eq!(rows.len(), 4);
    crate::common::load_in_pytorch(&run, data.to_str().unwrap(), &predictions);
}

#[test]
fn bad_panels_are_one_line_errors_that_write_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let data = long_panel(tmp.path());
    let text = std::fs::read_to_string(&data).unwrap();
    let write = |name: &str, text: &str| {
        let p = tmp.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    // shop1's second month written twice (line 5 repeats line 3's 2000-01 for shop1).
    let lines: Vec<&str> = text.lines().collect();
    let mut dup = lines.clone();
    dup[5] = lines[2];
    let duplicate = write("dup.csv", &(dup.join("\n") + "\n"));
    // shop1 cut to 10 months: too short for a 12-month season.
    let short: String = lines
        .iter()
        .enumerate()
        .filter(|(i, l)| !l.starts_with("shop1") || *i < 35)
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    let short = write("short.csv", &short);
    for (file, extra, want) in [
        (
            &data,
            &["--id-column", "shop"][..],
            "id_column = \"shop\": no such column in".to_string(),
        ),
        (
            &duplicate,
            &["--id-column", "store"][..],
            "dup.csv:6: series \"shop1\": date \"2000-01\" repeats line 3".to_string(),
        ),
        (
            &short,
            &["--id-column", "store"][..],
            "series \"shop1\": season = 12: the training stretch has".to_string(),
        ),
    ] {
        let out = tmp.path().join("bad");
        let bad = train(file, &out, extra).assert().code(2);
        let err = String::from_utf8_lossy(&bad.get_output().stderr).to_string();
        assert!(err.contains(&want), "{want}\n{err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(!out.exists(), "{err}");
    }
}
