/*!
Integration tests for successive halving (`early_stop = "asha"`): a search on the yearly
sunspots, whose rung decisions, stopped runs and results are the same bit for bit with
`--jobs 1`, `--jobs 2`, over two shards running side by side, and after a kill in the middle
of a rung and a resume; the run that reaches the last rung ends as a plain sweep trains it.
*/
use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::common::{rowseq, rowseq_process, run_dirs, Held};
use assert_cmd::Command;
use predicates::str::contains;
use serde_json::Value;

/// Six drawn trials of 9 epochs, rungs at epochs 1, 3 and 9: 6 -> 2 -> 1.
const SEARCH: &str = "name = \"asha\"
dataset = \"csv:data/sunspots/sunspots.csv\"
task = \"forecast\"
date_column = \"YEAR\"
season = 11
method = \"random\"
trials = 6
search_seed = 1
num_units = { int_log = [4, 16] }
lr = { log_uniform = [1e-3, 1e-2] }
epochs = 9
early_stop = \"asha\"
";

fn args(config: &Path, out: &Path, extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = ["sweep", "--no-report", "--threads", "1"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    a.push(config.display().to_string());
    a.push("--out".into());
    a.push(out.display().to_string());
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

/// `SEARCH` written under `tmp`, and a sweep of it into an output folder with more flags.
fn search(tmp: &Path) -> (PathBuf, impl Fn(&Path, &[&str]) -> Command) {
    let config = tmp.join("asha.toml");
    std::fs::write(&config, SEARCH).unwrap();
    let path = config.clone();
    let run = move |out: &Path, extra: &[&str]| {
        let mut c = rowseq();
        c.args(args(&path, out, extra));
        c
    };
    (config, run)
}

/// Every run's records that do not depend on time: its result, its stopped record and its
/// metrics, by run id.
fn records(sweep: &Path) -> Vec<(String, Value, Value, Vec<Value>)> {
    let read = |p: &Path| -> Value {
        std::fs::read_to_string(p)
            .ok()
            .map_or(Value::Null, |t| serde_json::from_str(&t).unwrap())
    };
    run_dirs(sweep)
        .iter()
        .map(|run| {
            let mut result = read(&run.join("result.json"));
            if let Some(o) = result.as_object_mut() {
                o.retain(|k, _| !k.contains("seconds"));
                o.remove("env");
                o.remove("memory");
            }
            (
                run.file_name().unwrap().to_string_lossy().into_owned(),
                result,
                read(&run.join("stopped.json")),
                crate::common::metrics_without_time(run),
            )
        })
        .collect()
}

#[test]
fn successive_halving_decides_the_same_under_jobs_shards_and_a_kill() {
    let tmp = tempfile::tempdir().unwrap();
    let (config, run) = search(tmp.path());
    let serial = tmp.path().join("serial");
    run(&serial, &["--jobs", "1"])
        .assert()
        .success()
        .stdout(contains(
            "successive halving (grace_period = 1, reduction_factor = 3): 6 at epoch 1 -> 2 at \
             epoch 3 -> 1 at epoch 9",
        ));
    let reference = records(&serial.join("asha"));
    assert_eq!(reference.len(), 6);
    let finished = reference.iter().filter(|r| !r.1.is_null()).count();
    let stopped: Vec<u64> = reference
        .iter()
        .filter_map(|r| r.2["rung"].as_u64())
        .collect();
    assert_eq!(finished, 1, "one run reaches the last rung");
    assert_eq!(stopped.iter().filter(|&&r| r == 0).count(), 4);
    assert_eq!(stopped.iter().filter(|&&r| r == 1).count(), 1);
    // Each stopped record names the search that decided it.
    for r in reference.iter().filter(|r| !r.2.is_null()) {
        assert_eq!(r.2["asha"]["grace_period"], 1, "{}", r.2);
        assert_eq!(r.2["asha"]["reduction_factor"], 3, "{}", r.2);
        assert_eq!(r.2["rungs"], serde_json::json!([1, 3, 9]), "{}", r.2);
    }
    // A stopped run trained to its rung and no further.
    for r in &reference {
        if let Some(epoch) = r.2["epoch"].as_u64() {
            assert_eq!(r.3.len() as u64, epoch, "{}", r.0);
        }
    }
    let st = rowseq()
        .arg("status")
        .arg(serial.join("asha"))
        .assert()
        .success()
        .stdout(contains(
            "1 done, 0 running, 0 failed, 5 stopped at a rung, 0 pending",
        ))
        .get_output()
        .stdout
        .clone();
    assert!(String::from_utf8_lossy(&st).contains("at rung 1"));

    let parallel = tmp.path().join("parallel");
    run(&parallel, &["--jobs", "2"]).assert().success();
    assert_eq!(records(&parallel.join("asha")), reference);

    // Two shards side by side, each waiting for the other's runs at every rung.
    let sharded = tmp.path().join("sharded");
    let mut other = rowseq_process();
    other
        .args(args(
            &config,
            &sharded,
            &["--jobs", "1", "--shard", "1/2", "--wait"],
        ))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut other = other.spawn().unwrap();
    run(&sharded, &["--jobs", "1", "--shard", "2/2", "--wait"])
        .assert()
        .success();
    assert!(other.wait().unwrap().success());
    assert_eq!(records(&sharded.join("asha")), reference);

    // Killed in the middle of rung 1 (epoch 2 of the first run that goes on), then resumed.
    let killed = tmp.path().join("killed");
    let held = Held::at(&["epoch-2"]);
    let mut cmd = rowseq_process();
    cmd.args(args(&config, &killed, &["--jobs", "1"]))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    held.apply(&mut cmd);
    let mut child = cmd.spawn().unwrap();
    held.wait(&mut child, "epoch-2", 1);
    child.kill().unwrap();
    child.wait().unwrap();
    run(&killed, &["--jobs", "1"]).assert().success();
    assert_eq!(records(&killed.join("asha")), reference);

    // The run that reached the last rung ends as a plain sweep of the same trials trains it.
    let plain = tmp.path().join("plain");
    run(&plain, &["--jobs", "1", "--set", "early_stop=\"none\""])
        .assert()
        .success()
        .stdout(contains("6 trained"));
    let plain = records(&plain.join("asha"));
    let best = reference.iter().find(|r| !r.1.is_null()).unwrap();
    let same = plain.iter().find(|r| r.0 == best.0).unwrap();
    assert_eq!((&same.1, &same.3), (&best.1, &best.3));
}

/// A run that failed before rung 0 was decided: `--retry-failed` trains it again while the
/// rung waits for it (here, before anything else trained), to the same search as one without
/// the failure; once the rung was decided without it and its promoted runs went on, the rung
/// stays decided, the run stays failed, and the sweep says so.
#[test]
fn retry_failed_reopens_a_rung_only_until_it_was_acted_on() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, run) = search(tmp.path());
    let serial = tmp.path().join("serial");
    run(&serial, &["--jobs", "1"]).assert().success();
    let reference = records(&serial.join("asha"));
    // The run that reached the last rung led rung 0: without it, rung 0 promotes others.
    let best = reference.iter().find(|r| !r.1.is_null()).unwrap();
    let failed = |out: &Path| {
        let dir = out.join("asha").join(&best.0);
        std::fs::create_dir_all(&dir).unwrap();
        let failure = serde_json::json!({
            "run_id": best.0,
            "label": best.1["label"],
            "error": "failed by the test",
        });
        std::fs::write(dir.join("failed.json"), failure.to_string()).unwrap();
    };

    // Retried before rung 0 was decided: the same search as without the failure.
    let early = tmp.path().join("early");
    failed(&early);
    run(&early, &["--jobs", "1", "--retry-failed"])
        .assert()
        .success();
    assert_eq!(records(&early.join("asha")), reference);

    // Decided without it, its promoted runs trained on: the rung stays as it was decided.
    let late = tmp.path().join("late");
    failed(&late);
    run(&late, &["--jobs", "1"]).assert().code(1);
    let decided = records(&late.join("asha"));
    assert_ne!(decided, reference);
    assert_eq!(decided.iter().filter(|r| !r.1.is_null()).count(), 1);
    run(&late, &["--jobs", "1", "--retry-failed"])
        .assert()
        .code(1)
        .stdout(contains(format!(
            "successive halving: {} ({}) failed before the rung at epoch 1 was decided",
            best.0,
            best.1["label"].as_str().unwrap()
        )))
        .stdout(contains("--retry-failed leaves it failed"));
    assert_eq!(records(&late.join("asha")), decided);
    assert!(late
        .join("asha")
        .join(&best.0)
        .join("failed.json")
        .is_file());
}

#[test]
fn bad_successive_halving_keys_are_one_line_errors() {
    let tmp = tempfile::tempdir().unwrap();
    for (text, want) in [
        (
            "epochs = 4\ngrace_period = 2\n",
            "grace_period = 2: applies to early_stop = \"asha\"",
        ),
        (
            "epochs = 4\nearly_stop = \"halving\"\n",
            "early_stop = \"halving\": expected \"asha\"",
        ),
        (
            "epochs = [2, 4]\nearly_stop = \"asha\"\n",
            "early_stop = \"asha\": expected one epochs = N for every run",
        ),
        (
            "epochs = 4\nearly_stop = \"asha\"\ngrace_period = 4\n",
            "grace_period = 4: expected fewer epochs than the runs' epochs = 4",
        ),
        (
            "epochs = 4\nearly_stop = \"asha\"\nreduction_factor = 1\n",
            "reduction_factor = 1: expected a whole number from 2 to 1000",
        ),
    ] {
        let config = tmp.path().join("bad.toml");
        std::fs::write(&config, format!("name = \"bad\"\n{text}")).unwrap();
        let out = tmp.path().join("out");
        let bad = rowseq()
            .arg("sweep")
            .arg(&config)
            .arg("--out")
            .arg(&out)
            .assert()
            .code(2);
        let err = String::from_utf8_lossy(&bad.get_output().stderr).to_string();
        assert!(err.contains(want), "{want}\n{err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(!out.exists());
    }
}
