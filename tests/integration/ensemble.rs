/*!
Ensembles of seeds (issue #38, item 3): `rowseq predict` over several runs, or a sweep folder's
runs chosen with `--select`, averages their class probabilities; the same ensemble in plain
PyTorch (`scripts/load_in_pytorch.py`) agrees; mistakes are one line, exit 2.
*/
use std::path::Path;

use predicates::str::contains;

use crate::common::*;

/// The class probabilities of a predictions CSV, row by row.
fn probabilities(csv: &Path) -> Vec<Vec<f64>> {
    std::fs::read_to_string(csv)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').skip(3).map(|v| v.parse().unwrap()).collect())
        .collect()
}

/// Three seeds of GunPoint: each predicted alone, then as an ensemble chosen from the sweep
/// folder with `--select`: its probabilities are the mean of its runs' (to the 6 decimals the
/// CSV holds), its class their argmax, and PyTorch computes the same.
#[test]
fn an_ensembles_probabilities_are_the_mean_of_its_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let swept = rowseq()
        .args(["sweep", "configs/gunpoint.toml", "--set", "epochs=15"])
        .args(["--set", "num_units=[4,8]", "--set", "seed=[0,1,2]"])
        .args(["--no-tensorboard", "--no-report", "--threads", "1"])
        .args(["--device", "cpu", "--out"])
        .arg(&out)
        .assert()
        .success();
    let table = String::from_utf8_lossy(&swept.get_output().stdout).into_owned();
    assert!(table.contains("seed ensemble"), "{table}");
    let sweep = out.join("gunpoint");
    let data = "ts:data/GunPoint/GunPoint";
    let mut runs = Vec::new();
    let mut each = Vec::new();
    for (k, run) in run_dirs(&sweep).iter().enumerate() {
        let config: serde_json::Value =
            serde_json::from_slice(&std::fs::read(run.join("config.json")).unwrap()).unwrap();
        if config["num_units"] != 8 {
            continue;
        }
        let csv = tmp.path().join(format!("run{k}.csv"));
        rowseq()
            .args(["predict"])
            .arg(run)
            .arg(data)
            .arg("--out")
            .arg(&csv)
            .assert()
            .success();
        each.push(probabilities(&csv));
        runs.push(run.clone());
    }
    assert_eq!(runs.len(), 3);
    let ensemble = tmp.path().join("ensemble.csv");
    let said = rowseq()
        .arg("predict")
        .arg(&sweep)
        .arg(data)
        .args(["--select", "units=8", "--out"])
        .arg(&ensemble)
        .assert()
        .success()
        .stdout(contains("an ensemble of 3 runs (units=8,seed="))
        .stdout(contains("predicted 150 sequences"));
    // The sweep's closing table scored the same ensemble from the runs' recorded test
    // probabilities: its units=8 row holds the accuracy predict prints.
    let said = String::from_utf8_lossy(&said.get_output().stdout).into_owned();
    for seed in 0..3 {
        assert!(said.contains(&format!("units=8,seed={seed}")), "{said}");
    }
    let accuracy = said
        .split("accuracy ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap();
    let row = table
        .lines()
        .find(|l| l.split_whitespace().next() == Some("8"))
        .unwrap();
    assert!(
        row.split_whitespace().any(|c| c == accuracy),
        "{accuracy} not in {row}"
    );
    // The report shows the same ensemble beside the mean over seeds.
    rowseq().arg("report").arg(&sweep).assert().success();
    let md = std::fs::read_to_string(sweep.join("report/report.md")).unwrap();
    assert!(md.contains("| ensemble of seeds (%) |"), "{md}");
    let csv = std::fs::read_to_string(sweep.join("report/summary.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let col = header
        .iter()
        .position(|h| *h == "ensemble_test_acc")
        .unwrap();
    let in_report = csv
        .lines()
        .skip(1)
        .find(|l| l.split(',').nth(1) == Some("8"))
        .map(|l| l.split(',').nth(col).unwrap().parse::<f64>().unwrap())
        .unwrap();
    assert!(
        (in_report - accuracy.parse::<f64>().unwrap()).abs() < 1e-4,
        "{csv}"
    );
    let mean = probabilities(&ensemble);
    assert_eq!(mean.len(), 150);
    for (i, row) in mean.iter().enumerate() {
        for (c, p) in row.iter().enumerate() {
            let expected = each.iter().map(|e| e[i][c]).sum::<f64>() / 3.0;
            // Each CSV rounds to 6 decimals: the mean of rounded values is within 1e-6.
            assert!(
                (p - expected).abs() <= 1.01e-6,
                "row {i}: {p} vs {expected}"
            );
        }
    }
    let text = std::fs::read_to_string(&ensemble).unwrap();
    for (line, row) in text.lines().skip(1).zip(&mean) {
        let predicted = line.split(',').nth(2).unwrap();
        let winner = if row[0] >= row[1] { "1" } else { "2" };
        assert_eq!(predicted, winner, "{line}");
    }
    // The run folders named one by one make the same ensemble.
    let named = tmp.path().join("named.csv");
    rowseq()
        .arg("predict")
        .args(&runs)
        .arg(data)
        .arg("--out")
        .arg(&named)
        .assert()
        .success();
    assert_eq!(std::fs::read(&named).unwrap(), text.as_bytes());
    // Plain PyTorch, the same three runs.
    let refs: Vec<&Path> = runs.iter().map(|r| r.as_path()).collect();
    let said = load_ensemble_in_pytorch(&refs, "data/GunPoint/GunPoint_TEST.ts", &ensemble);
    assert!(said.contains("an ensemble of 3 runs"), "{said}");

    // Mistakes: an unknown key, and a selection that matches nothing.
    for (select, says) in [
        (
            "colour=red",
            "--select colour=red: expected KEY=VALUE with a run key",
        ),
        ("units=999", "no finished run matches units=999"),
    ] {
        let refused = tmp.path().join("refused.csv");
        rowseq()
            .arg("predict")
            .arg(&sweep)
            .arg(data)
            .args(["--select", select, "--out"])
            .arg(&refused)
            .assert()
            .code(2)
            .stderr(contains(says));
        assert!(!refused.exists());
    }
}
