/*!
Integration tests for the numeric tasks, the real binary on real data: regression on
Covid3Month (`task = "regress"`) and forecasting on the sunspot series (`task = "forecast"`),
each swept, reported, predicted with and resumed; and the bad inputs of both, which stop with
one line and exit 2 before anything is written.
*/
use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::common::{
    csv_rows, metrics_without_time, ranked_trials, rowseq, rowseq_process, run_dirs, Held,
};
use predicates::str::contains;
use serde_json::Value;

fn require(path: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    assert!(
        p.is_file(),
        "{} is missing: run scripts/setup.sh (the README's test command does)",
        p.display()
    );
    p
}

/// `rowseq train` of a tiny forecast of the yearly sunspots (or a copy of them) into `out`:
/// an 11-year season, 2 epochs of 4 units on one thread.
fn train_sunspots(dataset: &str, out: &Path) -> assert_cmd::Command {
    let mut c = rowseq();
    c.args(["train", "--dataset", dataset, "--task", "forecast"])
        .args(["--season", "11", "--epochs", "2", "--num-units", "4"])
        .args(["--threads", "1", "--out"])
        .arg(out);
    c
}

/// The header of `predict`'s sunspots forecast: each value, then its 80 % and 95 % intervals.
const SUNSPOTS_PREDICTED: [&str; 7] = [
    "step",
    "row",
    "SUNACTIVITY",
    "lo_80",
    "hi_80",
    "lo_95",
    "hi_95",
];

/// `rowseq predict RUN DATA --out OUT`.
fn predict(run: &Path, data: &Path, out: &Path) -> assert_cmd::Command {
    let mut c = rowseq();
    c.arg("predict").arg(run).arg(data).arg("--out").arg(out);
    c
}

fn result(run: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(run.join("result.json")).unwrap()).unwrap()
}

const COVID: &[&str] = &[
    "sweep",
    "configs/covid3month.toml",
    "--set",
    "num_units=[8,16]",
    "--set",
    "seed=0",
    "--set",
    "epochs=3",
    "--threads",
    "1",
    "--jobs",
    "1",
];

#[test]
fn a_regression_sweep_is_scored_in_the_targets_units_reported_and_predicted() {
    require("data/Covid3Month/Covid3Month_TRAIN.ts");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    rowseq()
        .args(COVID)
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .stdout(contains("test RMSE (mean ± std)"))
        .stdout(contains("const RMSE"));
    let sweep = out.join("covid3month");

    // results.csv: the task's columns, no accuracy.
    let (header, rows) = csv_rows(&sweep.join("results.csv"));
    for col in [
        "test_rmse",
        "test_mae",
        "test_r2",
        "val_rmse",
        "const_test_rmse",
    ] {
        assert!(header.iter().any(|h| h == col), "{col} missing: {header:?}");
    }
    assert!(!header.iter().any(|h| h == "test_acc"), "{header:?}");
    assert_eq!(rows.len(), 2);

    let runs = run_dirs(&sweep);
    let run = &runs[0];
    let r = result(run);
    assert!(r.get("test_acc").is_none(), "{r}");
    let rmse = r["test_rmse"].as_f64().unwrap();
    let constant = r["const_test_rmse"].as_f64().unwrap();
    assert!(rmse > 0.0 && constant > 0.0, "{r}");
    // The constant baseline is the training mean's RMSE, from the test truth on disk.
    let (_, predictions) = csv_rows(&run.join("test_predictions.csv"));
    assert_eq!(predictions.len(), 61);
    let truth: Vec<f64> = predictions.iter().map(|p| p[1].parse().unwrap()).collect();
    let predicted: Vec<f64> = predictions.iter().map(|p| p[2].parse().unwrap()).collect();
    let recomputed = (truth
        .iter()
        .zip(&predicted)
        .map(|(t, p)| (t - p).powi(2))
        .sum::<f64>()
        / 61.0)
        .sqrt();
    assert!(
        (recomputed - rmse).abs() < 1e-6 * rmse,
        "{recomputed} vs {rmse}"
    );

    // The report: errors, baselines, the predictions against the truth.
    let report = sweep.join("report");
    for f in [
        "error_vs_units.svg",
        "error_vs_params.svg",
        "error_curves.svg",
        "predicted_vs_truth.svg",
        "summary.csv",
    ] {
        assert!(report.join(f).is_file(), "{f} missing");
    }
    let md = std::fs::read_to_string(report.join("report.md")).unwrap();
    assert!(
        md.contains("| units | params | test RMSE | validation RMSE |"),
        "{md}"
    );
    assert!(
        md.contains("Baseline on the same test series: the training mean: RMSE"),
        "{md}"
    );
    assert!(!md.contains("accuracy"), "{md}");
    let svg = std::fs::read_to_string(report.join("error_vs_units.svg")).unwrap();
    assert!(
        svg.contains("constant: the training mean"),
        "the baseline line is labelled"
    );
    roxmltree::Document::parse(&svg).unwrap();

    // predict on the run's own test file gives its recorded RMSE; on new series without
    // targets, values and no error.
    let p = tmp.path().join("p.csv");
    rowseq()
        .arg("predict")
        .arg(run)
        .arg("ts:data/Covid3Month/Covid3Month")
        .arg("--out")
        .arg(&p)
        .assert()
        .success()
        .stdout(contains(format!("recorded test RMSE {}", rowseq_sig(rmse))));
    let (header, rows) = csv_rows(&p);
    assert_eq!(header, ["index", "target", "predicted"]);
    assert_eq!(rows.len(), 61);
    pytorch_check(run, "data/Covid3Month/Covid3Month_TEST.ts", &p);
    let text = std::fs::read_to_string(require("data/Covid3Month/Covid3Month_TEST.ts")).unwrap();
    let unlabelled: String = text
        .lines()
        .map(
            |l| match l.to_ascii_lowercase().starts_with("@targetlabel") {
                true => "@targetLabel false".to_string(),
                false if l.starts_with('@') || l.is_empty() => l.to_string(),
                false => l.rsplit_once(':').map_or(l, |(v, _)| v).to_string(),
            },
        )
        .collect::<Vec<_>>()
        .join("\n");
    let new = tmp.path().join("new.ts");
    std::fs::write(&new, unlabelled).unwrap();
    rowseq()
        .arg("predict")
        .arg(run)
        .arg(&new)
        .arg("--out")
        .arg(&p)
        .assert()
        .success()
        .stdout(contains("the data has no targets"));
    let (_, unlabelled_rows) = csv_rows(&p);
    assert!(unlabelled_rows.iter().all(|r| r[1].is_empty()));
    let same: Vec<&String> = rows.iter().map(|r| &r[2]).collect();
    let again: Vec<&String> = unlabelled_rows.iter().map(|r| &r[2]).collect();
    assert_eq!(same, again, "the same series predict the same values");

    // explain recomputes the test RMSE from the weights.
    let e = crate::common::explain_json(run);
    let m = &e["measured"];
    assert!(
        (m["recomputed_test_rmse"].as_f64().unwrap() - rmse).abs() < 1e-5 * rmse,
        "{m}"
    );
}

/// scripts/load_in_pytorch.py rebuilds the run in plain PyTorch and checks `predictions`
/// (rowseq predict's output for `data`) value by value.
fn pytorch_check(run: &Path, data: &str, predictions: &Path) {
    let stdout = crate::common::load_in_pytorch(run, data, predictions);
    assert!(stdout.contains("max |y(PyTorch) - y(rowseq)|"), "{stdout}");
}

/// `store::sig` as the binary prints it: four significant digits.
fn rowseq_sig(v: f64) -> String {
    let digits = (3 - v.abs().log10().floor() as i32).clamp(0, 12) as usize;
    format!("{v:.digits$}")
}

#[test]
fn a_resumed_regression_run_ends_bit_identical() {
    require("data/Covid3Month/Covid3Month_TRAIN.ts");
    let args = |out: &Path| {
        let mut a: Vec<String> = COVID.iter().map(|s| s.to_string()).collect();
        a.extend(["--set", "num_units=8", "--no-report", "--out"].map(String::from));
        a.push(out.display().to_string());
        a
    };
    let reference = tempfile::tempdir().unwrap();
    rowseq().args(args(reference.path())).assert().success();

    // Killed with -9 right after its first epoch (held there, so the kill lands exactly
    // then on any machine), then resumed.
    let resumed = tempfile::tempdir().unwrap();
    let held = Held::at(&["epoch-1"]);
    let mut cmd = rowseq_process();
    cmd.args(args(resumed.path()))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    held.apply(&mut cmd);
    let mut child = cmd.spawn().unwrap();
    held.wait(&mut child, "epoch-1", 1);
    child.kill().unwrap();
    child.wait().unwrap();
    rowseq()
        .args(args(resumed.path()))
        .assert()
        .success()
        .stdout(contains("resum"));

    let a = run_dirs(&reference.path().join("covid3month"));
    let b = run_dirs(&resumed.path().join("covid3month"));
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].file_name(), b[0].file_name());
    let metrics = metrics_without_time(&a[0]);
    assert_eq!(metrics.len(), 3);
    assert!(
        metrics[2]["test_errors"]["rmse"].as_f64().is_some(),
        "{:?}",
        metrics[2]
    );
    assert_eq!(metrics, metrics_without_time(&b[0]));
    for f in ["model.safetensors", "test_predictions.csv"] {
        assert_eq!(
            std::fs::read(a[0].join(f)).unwrap(),
            std::fs::read(b[0].join(f)).unwrap(),
            "{f} differs"
        );
    }
}

#[test]
fn a_forecast_sweep_is_scored_against_the_naive_seasonal_naive_and_ets_forecasts() {
    let series = require("data/sunspots/sunspots.csv");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    rowseq()
        .args(["sweep", "configs/sunspots.toml"])
        .args(["--set", "num_units=[8,16]", "--set", "seed=0"])
        .args(["--set", "epochs=3", "--set", "horizon=2", "--threads", "1"])
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .stdout(contains("test MASE (mean ± std)"))
        .stdout(contains("snaive MASE"));
    let sweep = out.join("sunspots");
    let (header, _) = csv_rows(&sweep.join("results.csv"));
    for col in [
        "window",
        "horizon",
        "test_mase",
        "test_rmse",
        "val_rmse",
        "naive_test_rmse",
        "snaive_test_rmse",
        "naive_test_mase",
        "ets_model",
        "ets_test_rmse",
        "ets_test_mae",
        "ets_test_mase",
    ] {
        assert!(header.iter().any(|h| h == col), "{col} missing: {header:?}");
    }
    let runs = run_dirs(&sweep);
    let run = &runs[0];
    let r = result(run);
    // 309 years: 46 test, 46 validation, 217 training; a window of two 11-year seasons.
    assert_eq!(r["resolved"]["window"], 22);
    assert_eq!(r["resolved"]["test_size"], 46);
    assert_eq!(r["resolved"]["normalize"], "last");
    assert!(r.get("test_r2").is_none(), "{r}");

    // The test windows: origins 262..=306 (targets 263..=308), two steps each, the naive
    // forecast the last value and the seasonal one a season back, from the file itself.
    let values: Vec<f64> = csv_rows(&series)
        .1
        .iter()
        .map(|row| row[1].parse().unwrap())
        .collect();
    let (_, rows) = csv_rows(&run.join("test_predictions.csv"));
    assert_eq!(rows.len(), 45 * 2);
    for row in &rows {
        let (t, k): (usize, usize) = (row[0].parse().unwrap(), row[1].parse().unwrap());
        let num = |i: usize| row[i].parse::<f64>().unwrap();
        assert!((262..=306).contains(&t) && (1..=2).contains(&k), "{row:?}");
        assert_eq!(num(2), values[t + k], "truth");
        assert_eq!(num(4), values[t], "naive");
        assert_eq!(num(5), values[t + k - 11], "seasonal naive");
    }
    let abs_err = |col: usize| {
        rows.iter()
            .map(|r| (r[2].parse::<f64>().unwrap() - r[col].parse::<f64>().unwrap()).abs())
            .sum::<f64>()
            / rows.len() as f64
    };
    // MASE: MAE over the in-sample seasonal-naive MAE of the 217 training years.
    let scale = (11..217)
        .map(|t| (values[t] - values[t - 11]).abs())
        .sum::<f64>()
        / 206.0;
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-6 * b.abs();
    assert!(
        close(r["test_mase"].as_f64().unwrap(), abs_err(3) / scale),
        "{r}"
    );
    assert!(
        close(r["snaive_test_mase"].as_f64().unwrap(), abs_err(5) / scale),
        "{r}"
    );
    assert!(
        close(r["naive_test_mase"].as_f64().unwrap(), abs_err(4) / scale),
        "{r}"
    );
    // AutoETS (augurs): MSTL with the 11-year season, its errors those of the ets column,
    // the same forecasts in every run of the sweep (computed once per series and cut).
    let (ets_header, _) = csv_rows(&run.join("test_predictions.csv"));
    assert_eq!(ets_header[6], "ets");
    assert!(
        r["ets_model"].as_str().unwrap().starts_with("MSTL(11)+"),
        "{r}"
    );
    assert!(
        close(r["ets_test_mase"].as_f64().unwrap(), abs_err(6) / scale),
        "{r}"
    );
    assert!(
        close(r["ets_test_mae"].as_f64().unwrap(), abs_err(6)),
        "{r}"
    );
    let (_, other) = csv_rows(&runs[1].join("test_predictions.csv"));
    let ets = |rows: &[Vec<String>]| rows.iter().map(|r| r[6].clone()).collect::<Vec<_>>();
    assert_eq!(ets(&rows), ets(&other));

    // Prediction intervals at the default 80 and 95 %: the forecast minus and plus a
    // half-width per step ahead, calibrated on the 45 validation windows (each has a target
    // for both steps), and their recorded coverage is the share of test targets inside.
    assert_eq!(
        ets_header[7..11],
        ["lo_80", "hi_80", "lo_95", "hi_95"],
        "{ets_header:?}"
    );
    let intervals = r["intervals"].as_array().unwrap();
    assert_eq!(intervals.len(), 2, "{r}");
    for (i, level) in [(0, 80.0), (1, 95.0)] {
        let iv = &intervals[i];
        assert_eq!(iv["level"].as_f64(), Some(level));
        assert_eq!(iv["calibration"], 45);
        assert_eq!(iv["exact"], true);
        let widths: Vec<f64> = iv["half_width"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w.as_f64().unwrap())
            .collect();
        assert_eq!(widths.len(), 2);
        let mut inside = 0;
        for row in &rows {
            let num = |c: usize| row[c].parse::<f64>().unwrap();
            let w = widths[row[1].parse::<usize>().unwrap() - 1];
            let (lo, hi) = (num(7 + 2 * i), num(8 + 2 * i));
            assert!(close(lo, num(3) - w) && close(hi, num(3) + w), "{row:?}");
            inside += usize::from(lo <= num(2) && num(2) <= hi);
        }
        let coverage = iv["test_coverage"].as_f64().unwrap();
        assert!(close(coverage, inside as f64 / rows.len() as f64), "{iv}");
    }
    let width = |i: usize, k: usize| intervals[i]["half_width"][k].as_f64().unwrap();
    assert!(
        width(1, 0) >= width(0, 0) && width(1, 1) >= width(0, 1),
        "{r}"
    );

    // The report plots the test stretch; the table names both baselines.
    let report = sweep.join("report");
    assert!(report.join("forecast_test.svg").is_file());
    let md = std::fs::read_to_string(report.join("summary.md")).unwrap();
    assert!(
        md.contains("Baselines on the same test windows: naive forecast"),
        "{md}"
    );
    assert!(md.contains("AutoETS: MASE"), "{md}");
    // Two steps ahead: report.md draws and tabulates MASE by step for the LSTM and both
    // baselines.
    assert!(report.join("mase_by_step.svg").is_file());
    let report_md = std::fs::read_to_string(report.join("report.md")).unwrap();
    let table = report_md
        .split("| step ahead | LSTM | AutoETS | seasonal naive |")
        .nth(1)
        .unwrap_or_else(|| panic!("no MASE-by-step table: {report_md}"));
    let steps: Vec<&str> = table
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .collect();
    assert_eq!(steps.len(), 2, "{table}");
    assert!(steps[0].starts_with("| 1 | ") && steps[1].starts_with("| 2 | "));

    // predict on the series up to a test origin forecasts what the run recorded there
    // (float32, another batch size: equal to 1e-5 of the values' scale); on the whole series,
    // the two years after 2008.
    let text = std::fs::read_to_string(&series).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let upto = tmp.path().join("upto.csv");
    std::fs::write(&upto, lines[..=263].join("\n")).unwrap(); // header + rows 0..=262
    let p = tmp.path().join("f.csv");
    rowseq()
        .arg("predict")
        .arg(run)
        .arg(&upto)
        .arg("--out")
        .arg(&p)
        .assert()
        .success()
        .stdout(contains(
            "the 2 values after the series' 263 steps, forecast from its last 22",
        ));
    let (header, forecast) = csv_rows(&p);
    assert_eq!(header, SUNSPOTS_PREDICTED);
    for (k, row) in forecast.iter().enumerate() {
        let recorded: f64 = rows[k][3].parse().unwrap();
        let got: f64 = row[2].parse().unwrap();
        assert_eq!(row[1], (263 + k).to_string());
        assert!(
            (got - recorded).abs() < 1e-3,
            "step {}: {got} vs {recorded}",
            k + 1
        );
        // The run's half-width for this step ahead, either side of the value.
        let num = |c: usize| row[c].parse::<f64>().unwrap();
        assert!(close(got - num(3), width(0, k)) && close(num(6) - got, width(1, k)));
    }
    rowseq()
        .arg("predict")
        .arg(run)
        .arg(format!("csv:{}", series.display()))
        .arg("--out")
        .arg(&p)
        .assert()
        .success();
    let (_, after) = csv_rows(&p);
    assert_eq!(
        after.iter().map(|r| r[1].as_str()).collect::<Vec<_>>(),
        ["309", "310"]
    );
    pytorch_check(run, "data/sunspots/sunspots.csv", &p);
}

/// Each bad input stops with one line naming the file, key or value, exit 2, and leaves
/// nothing in the output folder.
#[test]
fn bad_numeric_inputs_are_one_line_errors_that_write_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let long: String = (0..60).map(|t| format!("d{t},{}\n", t % 7)).collect();
    let series = write("series.csv", &format!("date,y\n{long}"));
    let constant: String = (0..60).map(|t| format!("d{t},5\n")).collect();
    let flat = write("flat.csv", &format!("date,y\n{constant}"));
    let text_target = write("text.csv", "date,y\nd0,1\nd1,2\nd2,many\n");
    let nan_target = write("nan.csv", "date,y\nd0,1\nd1,NaN\n");
    let short = write("short.csv", "date,y\nd0,1\nd1,2\nd2,3\nd3,4\nd4,5\n");
    let thirty: String = (0..30).map(|t| format!("d{t},{}\n", t % 5)).collect();
    let thirty = write("thirty.csv", &format!("date,y\n{thirty}"));
    let head = "@problemName R\n@univariate true\n@targetLabel true\n@data\n";
    write("R_TRAIN.ts", &format!("{head}1,2,3:0.5\n4,5,6:oops\n"));
    write("R_TEST.ts", &format!("{head}1,2,3:0.5\n"));
    let regress_ts = format!("ts:{}", dir.join("R").display());
    let csv_train = write("tr.csv", "label,t1,t2\n1.5,1,2\nx,3,4\n");
    let csv_test = write("te.csv", "label,t1,t2\n1.5,1,2\n");
    let regress_csv = format!("csv:{csv_train},{csv_test}");
    let gunpoint = "ts:data/GunPoint/GunPoint";
    let cases: Vec<(Vec<String>, String)> = vec![
        (
            vec![
                format!("csv:{text_target}"),
                "--target-column".into(),
                "y".into(),
            ],
            format!(
                "{}:4: column \"y\": \"many\": expected a finite number",
                text_target
            ),
        ),
        (
            vec![
                format!("csv:{nan_target}"),
                "--target-column".into(),
                "y".into(),
            ],
            format!(
                "{}:3: column \"y\": \"NaN\": expected a finite number",
                nan_target
            ),
        ),
        (
            vec![
                format!("csv:{short}"),
                "--target-column".into(),
                "y".into(),
                "--window".into(),
                "4".into(),
            ],
            "--window: window = 4, horizon = 1: the series has 5 steps".into(),
        ),
        (
            vec![series.clone(), "--horizon".into(), "0".into()],
            "--horizon 0: expected a whole number of values to forecast, at least 1".into(),
        ),
        (
            vec![series.clone(), "--intervals".into(), "80,100".into()],
            "--intervals \"80,100\": expected interval levels in percent between 0 and 100".into(),
        ),
        (
            vec![series.clone(), "--intervals".into(), "95,95".into()],
            "--intervals \"95,95\": expected interval levels in percent".into(),
        ),
        (
            vec![series.clone(), "--season".into(), "300".into()],
            "--season: season = 300: the training stretch has 42 steps".into(),
        ),
        (
            vec![thirty, "--season".into(), "auto".into()],
            "--season: season = \"auto\": the training stretch of csv:".into(),
        ),
        (
            vec![series.clone(), "--season".into(), "often".into()],
            "invalid value 'often' for '--season <SEASON>': expected a season length in \
             timesteps (0 = no season), or \"auto\""
                .into(),
        ),
        (
            vec![flat.clone()],
            "the target \"y\" does not change over the 42 training steps".into(),
        ),
        (
            vec![series.clone(), "--label-column".into(), "y".into()],
            "--label-column y: applies to classification and regression CSV files".into(),
        ),
    ];
    let mut all: Vec<(Vec<String>, String)> = cases
        .into_iter()
        .map(|(mut a, want)| {
            let data = if a[0].starts_with("csv:") {
                a.remove(0)
            } else {
                format!("csv:{}", a.remove(0))
            };
            let mut args = vec![
                "--dataset".to_string(),
                data,
                "--task".into(),
                "forecast".into(),
            ];
            args.extend(a);
            (args, want)
        })
        .collect();
    for (args, want) in [
        (
            vec!["--dataset", &regress_ts, "--task", "regress"],
            "R_TRAIN.ts:6: target \"oops\": expected a finite number".to_string(),
        ),
        (
            vec!["--dataset", &regress_csv, "--task", "regress"],
            "tr.csv:3: target \"x\": expected a finite number".to_string(),
        ),
        (
            vec!["--dataset", gunpoint, "--task", "regress"],
            "@classLabel: a classification problem; expected @targetLabel true".to_string(),
        ),
        (
            vec!["--dataset", &regress_ts],
            "@targetLabel: a regression problem".to_string(),
        ),
        (
            vec!["--dataset", gunpoint, "--task", "regress", "--window", "5"],
            "--window 5: applies to task = \"forecast\" only, not task = \"regress\"".to_string(),
        ),
        (
            vec!["--dataset", gunpoint, "--season", "12"],
            "--season 12: applies to task = \"forecast\" only".to_string(),
        ),
        (
            vec!["--dataset", gunpoint, "--normalize", "last"],
            "--normalize last: applies to task = \"forecast\" only".to_string(),
        ),
        (
            vec!["--dataset", gunpoint, "--intervals", "90"],
            "--intervals 90: applies to task = \"forecast\" only".to_string(),
        ),
        (
            vec!["--dataset", gunpoint, "--highway=true"],
            "--highway true: applies to task = \"forecast\" only".to_string(),
        ),
        (
            vec!["--task", "regress"],
            "--task regress: expected series data (ts: or csv:) for regression".to_string(),
        ),
        (
            vec![
                "--dataset",
                &format!("csv:{}", series.trim_start_matches("csv:")),
            ],
            "one file is a series to forecast".to_string(),
        ),
    ] {
        all.push((args.iter().map(|s| s.to_string()).collect(), want));
    }
    for (args, want) in all {
        let out = dir.join("out");
        let assert = rowseq()
            .arg("train")
            .args(&args)
            .args(["--epochs", "1", "--out"])
            .arg(&out)
            .assert()
            .code(2);
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
        assert!(
            stderr.contains(&want),
            "{args:?}: {stderr:?} lacks {want:?}"
        );
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
        assert!(!out.exists(), "{args:?} wrote {}", out.display());
    }
}

#[test]
fn a_run_records_its_resolved_config_before_it_trains_and_readers_use_it() {
    // GunPoint with series defaults: config.json keeps "auto" (the run id hashes it), the
    // run's resolved.json holds what the data chose, and results.csv shows it.
    let out = tempfile::tempdir().unwrap();
    rowseq()
        .args([
            "train",
            "--dataset",
            "ts:data/GunPoint/GunPoint",
            "--epochs",
            "2",
        ])
        .args([
            "--num-units",
            "8",
            "--threads",
            "1",
            "--device",
            "cpu",
            "--out",
        ])
        .arg(out.path())
        .assert()
        .success()
        // Its training accuracy is measured on jittered inputs (noise = "auto"), and says so.
        .stdout(contains("train (on jittered inputs) "));
    let sweep = crate::common::train_folder(out.path());
    let run = run_dirs(&sweep).remove(0);
    let read = |f: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(run.join(f)).unwrap()).unwrap()
    };
    let (config, resolved) = (read("config.json"), read("resolved.json"));
    for key in ["batch_size", "val_size", "patch", "noise"] {
        assert_eq!(config[key], "auto", "{key}: {config}");
    }
    assert_eq!(resolved["batch_size"], 4, "{resolved}");
    assert_eq!(resolved["val_size"], 10, "{resolved}");
    assert_eq!(resolved["patch"], 5, "{resolved}");
    assert_eq!(resolved["epochs"], 2, "{resolved}");
    // The rule's jitter and none were the candidates (`noise = "auto"` chooses on
    // validation); the resolved config has the one kept (0, none, is left out).
    let result = read("result.json");
    let candidates = &result["choice"]["candidates"];
    let rule = candidates[0]["value"].as_f64().unwrap();
    assert!(rule > 0.1 && rule < 0.2, "{result}");
    let chosen = result["choice"]["chosen"].as_u64().unwrap() as usize;
    let noise = resolved["noise"].as_f64().unwrap_or(0.0);
    assert_eq!(
        noise,
        candidates[chosen]["value"].as_f64().unwrap(),
        "{result}"
    );
    // The result keeps the same config, and the table shows its values.
    assert_eq!(result["resolved"], resolved);
    let (header, rows) = csv_rows(&sweep.join("results.csv"));
    let cell = |name: &str| rows[0][header.iter().position(|h| h == name).unwrap()].clone();
    assert_eq!(
        (cell("batch_size"), cell("patch")),
        ("4".into(), "5".into())
    );
    assert_eq!(cell("noise").parse::<f64>().unwrap(), noise);
    // A record edited to say "auto" again is refused by name, by predict as by explain.
    let text = std::fs::read_to_string(run.join("resolved.json")).unwrap();
    let edited = text.replace("\"patch\": 5", "\"patch\": \"auto\"");
    assert_ne!(edited, text, "{text}");
    std::fs::write(run.join("resolved.json"), edited).unwrap();
    let predict = rowseq()
        .args(["predict"])
        .arg(&run)
        .args(["ts:data/GunPoint/GunPoint", "--out"])
        .arg(out.path().join("p.csv"))
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&predict.get_output().stderr).to_string();
    assert!(
        err.contains("resolved.json") && err.contains("patch = \"auto\""),
        "{err}"
    );
    rowseq().arg("explain").arg(&run).assert().code(2);
}

#[test]
fn a_series_with_gaps_is_refused_by_default_and_trains_with_fill() {
    // Sunspots with a few years blanked out: refused with the line and the way out, then
    // trained with fill = "interpolate"; predict reads new data the same way.
    let series = require("data/sunspots/sunspots.csv");
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(series).unwrap();
    let gappy: String = text
        .lines()
        .enumerate()
        .map(|(i, l)| match i {
            40 | 41 | 100 => format!("{},", l.split(',').next().unwrap()),
            _ => l.to_string(),
        } + "\n")
        .collect();
    let file = tmp.path().join("gappy.csv");
    std::fs::write(&file, gappy).unwrap();
    let dataset = format!("csv:{}", file.display());
    let train = |extra: &[&str]| {
        let mut c = train_sunspots(&dataset, &tmp.path().join("out"));
        c.args(["--columns", "SUNACTIVITY", "--target-column", "SUNACTIVITY"])
            .args(extra);
        c
    };
    let refused = train(&[]).assert().code(2);
    let err = String::from_utf8_lossy(&refused.get_output().stderr).to_string();
    assert!(
        err.contains("gappy.csv:41:") && err.contains("fill = \"interpolate\""),
        "{err}"
    );
    assert!(!tmp.path().join("out").exists(), "nothing written");
    train(&["--fill", "interpolate"]).assert().success();
    let run = run_dirs(&crate::common::train_folder(&tmp.path().join("out"))).remove(0);
    rowseq()
        .arg("predict")
        .arg(&run)
        .arg(&file)
        .arg("--out")
        .arg(tmp.path().join("p.csv"))
        .assert()
        .success();
    // fill is a forecasting key.
    rowseq()
        .args([
            "train",
            "--dataset",
            "ts:data/GunPoint/GunPoint",
            "--fill",
            "ffill",
        ])
        .arg("--out")
        .arg(tmp.path().join("other"))
        .assert()
        .code(2)
        .stderr(contains("--fill"));
}

/// `season = "auto"`: the period is detected on the training stretch, recorded in the resolved
/// config (the run id is the planned config's), and the baselines use it.
#[test]
fn an_auto_season_is_detected_recorded_and_used() {
    let tmp = tempfile::tempdir().unwrap();
    let rows: String = (0..240)
        .map(|t| {
            let phase = t as f64 * std::f64::consts::TAU / 12.0;
            format!("{}\n", 10.0 + 3.0 * phase.sin() + 0.01 * t as f64)
        })
        .collect();
    let series = tmp.path().join("monthly.csv");
    std::fs::write(&series, format!("v\n{rows}")).unwrap();
    let out = tmp.path().join("out");
    rowseq()
        .arg("train")
        .arg("--dataset")
        .arg(format!("csv:{}", series.display()))
        .args(["--task", "forecast", "--season", "auto", "--epochs", "1"])
        .args(["--threads", "1", "--out"])
        .arg(&out)
        .assert()
        .success();
    let runs = run_dirs(&crate::common::train_folder(&out));
    let r = result(&runs[0]);
    assert_eq!(r["config"]["season"], "auto", "{r}");
    let resolved: Value =
        serde_json::from_str(&std::fs::read_to_string(runs[0].join("resolved.json")).unwrap())
            .unwrap();
    assert_eq!(resolved["season"], 12);
    assert_eq!(r["ets_model"].as_str().unwrap(), "MSTL(12)+A,A,N");
}

#[test]
fn dates_are_checked_and_carried_into_the_outputs() {
    // Sunspots by year: a date column is read as the rows' dates (not as a variable), the test
    // predictions and predict's output carry them, and a gap in them is an error naming its row.
    let series = require("data/sunspots/sunspots.csv");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let train = |data: &Path, out: &Path| {
        let mut c = train_sunspots(&format!("csv:{}", data.display()), out);
        c.args(["--date-column", "YEAR"]);
        c
    };
    // The date column is not a variable: SUNACTIVITY is the only column read.
    train(&series, &out).assert().success();
    let run = run_dirs(&crate::common::train_folder(&out)).remove(0);
    let (header, rows) = csv_rows(&run.join("test_predictions.csv"));
    assert_eq!(
        header.last().map(String::as_str),
        Some("date"),
        "{header:?}"
    );
    let (origin, step) = (
        rows[0][0].parse::<i64>().unwrap(),
        rows[0][1].parse::<i64>().unwrap(),
    );
    assert_eq!(rows[0].last().unwrap(), &(1700 + origin + step).to_string());
    let predictions = tmp.path().join("p.csv");
    predict(&run, &series, &predictions).assert().success();
    let (header, rows) = csv_rows(&predictions);
    assert_eq!(header, [&SUNSPOTS_PREDICTED[..], &["date"]].concat());
    assert_eq!(rows[0][7], "2009", "the year after the series' last, 2008");
    crate::common::load_in_pytorch(&run, series.to_str().unwrap(), &predictions);
    // A missing year is an error naming its row, and nothing is written.
    let text = std::fs::read_to_string(&series).unwrap();
    let gap: String = text
        .lines()
        .enumerate()
        .filter(|(i, _)| *i != 50)
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    let file = tmp.path().join("gap.csv");
    std::fs::write(&file, gap).unwrap();
    let bad = train(&file, &tmp.path().join("bad")).assert().code(2);
    let err = String::from_utf8_lossy(&bad.get_output().stderr).to_string();
    assert!(
        err.contains("gap.csv:51: column \"YEAR\": 1750: expected 1749 (a gap"),
        "{err}"
    );
    assert!(!tmp.path().join("bad").exists());
}

/// The report's ensemble of seeds for a forecast: the MASE of the seeds' mean prediction,
/// recomputed here from their test predictions and MASE's scale.
#[test]
fn a_forecast_reports_the_mase_of_its_seeds_mean_forecast() {
    require("data/sunspots/sunspots.csv");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    rowseq()
        .args(["sweep", "configs/sunspots.toml", "--set", "num_units=4"])
        .args(["--set", "seed=[0,1]", "--set", "epochs=2", "--threads", "1"])
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let sweep = out.join("sunspots");
    let runs = run_dirs(&sweep);
    assert_eq!(runs.len(), 2);
    let column = |run: &Path, name: &str| -> Vec<f64> {
        let (header, rows) = csv_rows(&run.join("test_predictions.csv"));
        let c = header.iter().position(|h| h == name).unwrap();
        rows.iter().map(|r| r[c].parse().unwrap()).collect()
    };
    let truth = column(&runs[0], "truth");
    let (a, b) = (column(&runs[0], "predicted"), column(&runs[1], "predicted"));
    let mae = (0..truth.len())
        .map(|i| ((a[i] + b[i]) / 2.0 - truth[i]).abs())
        .sum::<f64>()
        / truth.len() as f64;
    let r = result(&runs[0]);
    let scale = r["test_mae"].as_f64().unwrap() / r["test_mase"].as_f64().unwrap();
    let (header, rows) = csv_rows(&sweep.join("report").join("summary.csv"));
    let c = header
        .iter()
        .position(|h| h == "ensemble_test_mase")
        .unwrap_or_else(|| panic!("{header:?}"));
    let reported: f64 = rows[0][c].parse().unwrap();
    assert!(
        (reported - mae / scale).abs() < 1e-9,
        "{reported} vs {}",
        mae / scale
    );
}

/// A forecast search's report scores trials by their validation MASE, lower first: the Search
/// section ranks them so, and the figure's axis says that lower is better.
#[test]
fn a_forecast_search_ranks_trials_by_validation_error_lower_first() {
    require("data/sunspots/sunspots.csv");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let mut sweep = rowseq();
    sweep
        .args([
            "sweep",
            "configs/sunspots.toml",
            "--threads",
            "1",
            "--jobs",
            "1",
        ])
        .arg("--out")
        .arg(&out);
    for set in [
        "method=\"sobol\"",
        "trials=4",
        "seed=0",
        "num_units={ int_log = [4, 16] }",
        "lr={ log_uniform = [0.001, 0.01] }",
        "epochs=2",
    ] {
        sweep.args(["--set", set]);
    }
    sweep
        .assert()
        .success()
        .stdout(contains("Ranked by validation score"));
    let report = out.join("sunspots/report");
    let svg = std::fs::read_to_string(report.join("search_keys.svg")).unwrap();
    assert!(svg.contains("lower is better"), "{svg}");
    let md = std::fs::read_to_string(report.join("report.md")).unwrap();
    let (head, rows) = ranked_trials(&md);
    let col = head
        .iter()
        .position(|c| c.starts_with("validation"))
        .unwrap_or_else(|| panic!("no validation column in {head:?}"));
    assert!(head[col].contains("MASE"), "{head:?}");
    let ranked: Vec<f64> = rows.iter().map(|r| r[col].parse().unwrap()).collect();
    assert_eq!(ranked.len(), 4, "{md}");
    assert!(ranked.windows(2).all(|w| w[0] <= w[1]), "{ranked:?}");
}

/// A positive series whose seasonal swing grows with its level: forecasting's default
/// (`transform = "auto"`) reads its logarithm, records it, maps forecasts back with exp (so
/// they stay positive) and scales its intervals by exp(-+ half-width); predict and PyTorch
/// agree. A series with a zero keeps its values under "auto" and is refused under "log", and
/// predict refuses a non-positive value for a run that read logarithms: one line, exit 2,
/// nothing written.
#[test]
fn a_positive_series_is_read_as_its_logarithm_by_default() {
    let tmp = tempfile::tempdir().unwrap();
    let value = |t: usize| {
        let phase = t as f64 * std::f64::consts::TAU / 12.0;
        (0.01 * t as f64).exp() * (10.0 + 4.0 * phase.sin()) + 0.3 * ((7 * t) % 5) as f64
    };
    let write = |name: &str, values: &[f64]| {
        let path = tmp.path().join(name);
        let rows: String = values.iter().map(|v| format!("{v}\n")).collect();
        std::fs::write(&path, format!("v\n{rows}")).unwrap();
        path
    };
    let values: Vec<f64> = (0..240).map(value).collect();
    let series = write("growing.csv", &values);
    let train = |data: &Path, out: &Path| {
        let mut c = rowseq();
        c.arg("train")
            .arg("--dataset")
            .arg(format!("csv:{}", data.display()))
            .args(["--task", "forecast", "--season", "12", "--epochs", "2"])
            .args(["--num-units", "8", "--threads", "1", "--out"])
            .arg(out);
        c
    };
    let out = tmp.path().join("out");
    train(&series, &out).assert().success();
    let run = run_dirs(&crate::common::train_folder(&out)).remove(0);
    let r = result(&run);
    assert_eq!(r["config"]["transform"], "auto", "{r}");
    assert_eq!(r["resolved"]["transform"], "log", "{r}");
    // results.csv says what "auto" chose; no training RMSE, which would be the logarithm's.
    let (header, table) = csv_rows(&crate::common::train_folder(&out).join("results.csv"));
    let cell = |name: &str| table[0][header.iter().position(|h| h == name).unwrap()].clone();
    assert_eq!(cell("transform"), "log");
    assert_eq!(cell("train_rmse"), "");
    // Every forecast is positive; each interval is the forecast times exp(-+ half-width).
    let (header, rows) = csv_rows(&run.join("test_predictions.csv"));
    assert_eq!(header[7..11], ["lo_80", "hi_80", "lo_95", "hi_95"]);
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs();
    for (i, iv) in r["intervals"].as_array().unwrap().iter().enumerate() {
        let w = iv["half_width"][0].as_f64().unwrap();
        for row in &rows {
            let num = |c: usize| row[c].parse::<f64>().unwrap();
            assert!(num(3) > 0.0, "{row:?}");
            assert!(close(num(7 + 2 * i), num(3) * (-w).exp()), "{row:?}");
            assert!(close(num(8 + 2 * i), num(3) * w.exp()), "{row:?}");
        }
    }
    let predictions = tmp.path().join("p.csv");
    predict(&run, &series, &predictions).assert().success();
    let (_, predicted) = csv_rows(&predictions);
    let p: f64 = predicted[0][2].parse().unwrap();
    assert!(
        p > 0.0 && predicted[0][3].parse::<f64>().unwrap() < p,
        "{predicted:?}"
    );
    crate::common::load_in_pytorch(&run, series.to_str().unwrap(), &predictions);
    let explained = rowseq().arg("explain").arg(&run).output().unwrap();
    assert!(
        String::from_utf8_lossy(&explained.stdout).contains("read as its logarithm"),
        "{explained:?}"
    );

    // A zero: "auto" reads the values as they are; "log" is refused, naming the step.
    let mut with_zero = values.clone();
    with_zero[5] = 0.0;
    let zero = write("zero.csv", &with_zero);
    let plain = tmp.path().join("plain");
    train(&zero, &plain).assert().success();
    let r = result(&run_dirs(&crate::common::train_folder(&plain))[0]);
    assert!(r["resolved"].get("transform").is_none(), "{r}");
    let bad = tmp.path().join("bad");
    crate::cli::expect_user_error(
        train(&zero, &bad).args(["--transform", "log"]),
        "transform = \"log\": the target \"v\" is 0 at step 5 (0-based): expected positive values",
    );
    assert!(!bad.exists());
    // predict with the run that read logarithms: the same refusal, nothing written.
    let refused = tmp.path().join("refused.csv");
    crate::cli::expect_user_error(
        &mut predict(&run, &zero, &refused),
        "the target \"v\" is 0 at step 5 (0-based): expected positive values only",
    );
    assert!(!refused.exists());
}
