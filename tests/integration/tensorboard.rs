/*!
TensorBoard integration test: a tiny real sweep, then the real `tensorboard` from the set-up's
venv (`.venv/bin/tensorboard`, made by scripts/setup.sh) serves its `tb/` folder on a free
loopback port, and its HTTP data API must show what the dashboards would: the sweep's runs
and no other (no `.` for an event file in `tb/` itself), rowseq's hparams experiment (kept in
the first run's folder) with exactly the swept widths, every session with every metric, and scalar series
whose steps and values are those of `metrics.jsonl`. The server is killed by its pid when the
test ends, also when an assertion fails.
*/
use crate::common::rowseq;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use predicates::str::contains;
use serde_json::{json, Value};

/// The runs' TensorBoard folders: their labels, the width zero-padded so that they sort.
const LABELS: [&str; 2] = ["units=0016,seed=0", "units=0064,seed=0"];
const METRICS: [&str; 5] = [
    "accuracy/test",
    "accuracy/val",
    "accuracy/train",
    "model/params",
    "time/train_seconds",
];

/// The tiny sweep of the issue: two widths, two epochs of 2,000 images in batches of 32.
fn tiny_sweep(out: &Path, extra: &[&str]) -> Command {
    let mut cmd = rowseq();
    cmd.args(["sweep", "configs/quick.toml"])
        .args(["--set", "num_units=[16,64]", "--set", "epochs=2"])
        .args(["--set", "train_size=2000", "--set", "val_size=500"])
        .args(["--set", "test_size=500", "--set", "batch_size=32"])
        .args(["--threads", "1", "--jobs", "1", "--device", "cpu", "--out"])
        .arg(out)
        .args(extra);
    cmd
}

/// A running TensorBoard, killed by its pid when dropped.
struct Server {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(logdir: &Path, log: PathBuf) -> Server {
        let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/tensorboard");
        assert!(
            bin.is_file(),
            "{} is missing: run scripts/setup.sh (the README's test command does) to create \
             the venv with TensorBoard",
            bin.display()
        );
        // A free port: the OS picks one, we release it and hand it to TensorBoard.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let out = std::fs::File::create(&log).unwrap();
        let child = Process::new(&bin)
            .arg("--logdir")
            .arg(logdir)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {}: {e}", bin.display()));
        Server { child, port, log }
    }

    /// Waits until the server answers and lists `runs`.
    fn wait_for_runs(&mut self, runs: &[&str]) {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "tensorboard exited ({status}):\n{}",
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
            if let Ok((200, body)) = self.request("GET", "/data/runs", None) {
                let listed: Vec<String> = serde_json::from_str(&body).unwrap_or_default();
                if runs.iter().all(|r| listed.iter().any(|l| l == r)) {
                    return;
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "tensorboard did not list {runs:?} within 2 minutes:\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// One HTTP/1.0 request; returns the status code and the body.
    fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> std::io::Result<(u16, String)> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(60)))?;
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        write!(
            stream,
            "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\n\
             X-XSRF-Protected: 1\r\nContent-Length: {}\r\n\r\n{body}",
            self.port,
            body.len()
        )?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        Ok((status, body.to_string()))
    }

    /// A JSON answer, which must come with status 200.
    fn json(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let (status, text) = self.request(method, path, body).unwrap();
        assert_eq!(status, 200, "{method} {path}: {text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}"))
    }

    /// The runs that TensorBoard lists, sorted (it lists them by start time).
    fn runs(&self) -> Vec<String> {
        let mut runs: Vec<String> =
            serde_json::from_value(self.json("GET", "/data/runs", None)).unwrap();
        runs.sort();
        runs
    }

    /// `[[wall_time, step, value], ...]` of a scalar series.
    fn scalars(&self, run: &str, tag: &str) -> Vec<(i64, f64)> {
        let path = format!(
            "/data/plugin/scalars/scalars?run={}&tag={}",
            encode(run),
            encode(tag)
        );
        self.json("GET", &path, None)
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p[1].as_i64().unwrap(), p[2].as_f64().unwrap()))
            .collect()
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A run label as its TensorBoard folder (and run) is named: the width padded to four digits.
fn tb_name(label: &str) -> String {
    label
        .split(',')
        .map(|p| match p.strip_prefix("units=") {
            Some(n) => format!("units={n:0>4}"),
            None => p.to_string(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Finished runs of a sweep folder: TensorBoard run name -> (result.json, metrics.jsonl lines).
fn runs(sweep: &Path) -> Vec<(String, Value, Vec<Value>)> {
    let mut runs = Vec::new();
    for entry in std::fs::read_dir(sweep).unwrap().flatten() {
        let result = entry.path().join("result.json");
        if !result.is_file() {
            continue;
        }
        let result: Value =
            serde_json::from_str(&std::fs::read_to_string(result).unwrap()).unwrap();
        let metrics = std::fs::read_to_string(entry.path().join("metrics.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        runs.push((tb_name(result["label"].as_str().unwrap()), result, metrics));
    }
    runs.sort_by(|a, b| a.0.cmp(&b.0));
    runs
}

fn event_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("tfevents"))
        .count()
}

/// The event files in `dir` that hold the sweep's hparams experiment.
fn experiment_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.contains("tfevents") && name.ends_with(".hparams-experiment")
        })
        .count()
}

/// Equal as TensorBoard stores scalars (f32).
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * b.abs().max(1.0)
}

#[test]
fn tensorboard_serves_scalars_and_hparams_of_a_sweep() {
    let out = tempfile::tempdir().unwrap();
    tiny_sweep(out.path(), &[]).assert().success();
    let sweep = out.path().join("quick");
    let tb = sweep.join("tb");

    // Re-running one run replaces its TensorBoard folder rather than adding a second session.
    let (_, result16, _) = runs(&sweep).remove(0);
    std::fs::remove_file(
        sweep
            .join(result16["run_id"].as_str().unwrap())
            .join("result.json"),
    )
    .unwrap();
    tiny_sweep(out.path(), &[])
        .assert()
        .success()
        .stdout(contains("2 runs (1 already done, 1 to train)"));
    // No event file in tb/ itself (TensorBoard would list it as a run named "."): the
    // experiment lives in the first run's folder, and survived that run's re-run.
    assert_eq!(event_files(&tb), 0, "an event file directly in tb/");
    assert_eq!(experiment_files(&tb.join(LABELS[0])), 1, "the experiment");
    assert_eq!(
        experiment_files(&tb.join(LABELS[1])),
        0,
        "a second experiment"
    );
    for label in LABELS {
        let own = event_files(&tb.join(label)) - experiment_files(&tb.join(label));
        assert_eq!(own, 1, "{label}: one event file of its own");
    }

    let runs = runs(&sweep);
    assert_eq!(
        runs.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(),
        LABELS
    );
    let mut server = Server::start(&tb, out.path().join("tensorboard.log"));
    server.wait_for_runs(&LABELS);
    // The sweep's runs and nothing else: no "." for tb/ itself.
    assert_eq!(server.runs(), LABELS);

    // The experiment, rowseq's own (not one TensorBoard made up from the sessions): num_units
    // with exactly the swept values, and every metric.
    let experiment = server.json(
        "POST",
        "/data/plugin/hparams/experiment",
        Some(&json!({ "experimentName": "" })),
    );
    assert_eq!(
        experiment["description"], "rowseq sweep quick: 2 runs varying num_units",
        "{experiment}"
    );
    let infos = experiment["hparamInfos"].as_array().unwrap();
    let units = infos
        .iter()
        .find(|h| h["name"] == "num_units")
        .unwrap_or_else(|| panic!("no num_units hparam: {experiment}"));
    assert_eq!(units["domainDiscrete"], json!([16.0, 64.0]), "{units}");
    let metric_tags: Vec<&str> = experiment["metricInfos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"]["tag"].as_str().unwrap())
        .collect();
    assert_eq!(metric_tags, METRICS);

    // Every session: succeeded, with its hparams and every metric, equal to result.json.
    let mut col_params = vec![
        json!({ "hparam": "num_units" }),
        json!({ "hparam": "seed" }),
    ];
    col_params.extend(
        METRICS
            .iter()
            .map(|t| json!({ "metric": { "group": "", "tag": t } })),
    );
    let groups = server.json(
        "POST",
        "/data/plugin/hparams/session_groups",
        Some(&json!({
            "experimentName": "",
            "allowedStatuses": ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_RUNNING"],
            "colParams": col_params,
            "startIndex": 0,
            "sliceSize": 100,
        })),
    );
    let groups = groups["sessionGroups"].as_array().unwrap();
    assert_eq!(groups.len(), 2, "{groups:?}");
    for (label, result, _) in &runs {
        let group = groups
            .iter()
            .find(|g| g["name"] == label.as_str())
            .unwrap_or_else(|| panic!("no session group {label}"));
        assert_eq!(group["sessions"].as_array().unwrap().len(), 1);
        assert_eq!(group["sessions"][0]["status"], "STATUS_SUCCESS");
        assert_eq!(
            group["hparams"]["num_units"].as_f64(),
            result["config"]["num_units"].as_f64()
        );
        let metric = |tag: &str| {
            group["metricValues"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["name"]["tag"] == tag)
                .unwrap_or_else(|| panic!("{label}: no metric {tag}: {group}"))["value"]
                .as_f64()
                .unwrap()
        };
        for tag in METRICS {
            metric(tag);
        }
        assert!(close(
            metric("accuracy/test"),
            result["test_acc"].as_f64().unwrap()
        ));
        assert!(close(
            metric("accuracy/val"),
            result["val_acc"].as_f64().unwrap()
        ));
        assert_eq!(metric("model/params"), result["params"].as_f64().unwrap());
        assert!(close(
            metric("time/train_seconds"),
            result["train_seconds"].as_f64().unwrap()
        ));
    }

    // Scalar series: the values of metrics.jsonl at its epochs (epoch curves count epochs),
    // the optimiser step beside them; per-step loss at every optimiser step.
    for (label, _, metrics) in &runs {
        let steps: Vec<i64> = metrics
            .iter()
            .map(|m| m["epoch"].as_i64().unwrap())
            .collect();
        assert_eq!(steps, [1, 2]);
        let optimiser = server.scalars(label, "train/step");
        assert_eq!(
            optimiser.iter().map(|p| p.1).collect::<Vec<_>>(),
            [63.0, 126.0],
            "{label} train/step"
        );
        for (tag, field) in [
            ("accuracy/test", "test_acc"),
            ("accuracy/val", "val_acc"),
            ("accuracy/train", "train_acc"),
            ("loss/train", "train_loss"),
            ("loss/val", "val_loss"),
            ("loss/test", "test_loss"),
            ("time/seconds_per_epoch", "train_seconds"),
        ] {
            let series = server.scalars(label, tag);
            assert_eq!(
                series.iter().map(|p| p.0).collect::<Vec<_>>(),
                steps,
                "{label} {tag}"
            );
            for ((_, got), m) in series.iter().zip(metrics) {
                let want = m[field].as_f64().unwrap();
                assert!(close(*got, want), "{label} {tag}: {got} != {want}");
            }
        }
        let per_step = server.scalars(label, "loss/train_step");
        assert_eq!(
            per_step.iter().map(|p| p.0).collect::<Vec<_>>(),
            (1..=126).collect::<Vec<_>>(),
            "{label} loss/train_step"
        );
        let lr = server.scalars(label, "train/lr");
        assert_eq!(lr.len(), 126);
        assert!(close(lr[62].1, metrics[0]["lr"].as_f64().unwrap()));
    }

    // The other dashboards have their data for every run.
    let images = server.json("GET", "/data/plugin/images/tags", None);
    let text = server.json("GET", "/data/plugin/text/tags", None);
    let histograms = server.json("GET", "/data/plugin/histograms/tags", None);
    for label in LABELS {
        assert!(images[label]["mistakes/test"].is_object(), "{images}");
        let mut texts: Vec<&str> = text[label]
            .as_array()
            .unwrap_or_else(|| panic!("{label}: no text: {text}"))
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        texts.sort();
        assert_eq!(
            texts,
            ["run/config", "run/environment", "test/confusion_matrix"]
        );
        for tag in [
            "weights/lstm.weight_hh_l0",
            "gradients/lstm.weight_hh_l0",
            "hidden/h_T",
        ] {
            assert!(
                histograms[label][tag].is_object(),
                "{label}: no histogram {tag}"
            );
        }
    }
}

#[test]
fn no_tensorboard_writes_no_event_files() {
    let out = tempfile::tempdir().unwrap();
    tiny_sweep(
        out.path(),
        &[
            "--set",
            "num_units=8",
            "--set",
            "epochs=1",
            "--no-tensorboard",
        ],
    )
    .assert()
    .success();
    let sweep = out.path().join("quick");
    assert!(sweep.join("results.csv").is_file());
    assert!(!sweep.join("tb").exists(), "--no-tensorboard wrote tb/");
}

/// A regression sweep's dashboards: the HParams metrics are the task's errors and its
/// baseline, each session's values those of its result.json, and the error series those of
/// metrics.jsonl, as TensorBoard itself reads them back.
#[test]
fn tensorboard_serves_the_errors_of_a_regression_sweep() {
    let out = tempfile::tempdir().unwrap();
    rowseq()
        .args(["sweep", "configs/covid3month.toml"])
        .args(["--set", "num_units=[8,16]", "--set", "seed=0"])
        .args([
            "--set",
            "epochs=2",
            "--threads",
            "1",
            "--jobs",
            "1",
            "--no-report",
            "--out",
        ])
        .arg(out.path())
        .assert()
        .success();
    let sweep = out.path().join("covid3month");
    let runs = runs(&sweep);
    let labels: Vec<&str> = runs.iter().map(|r| r.0.as_str()).collect();
    // TensorBoard sorts runs as text: the padded widths come in order.
    assert_eq!(labels, ["units=0008,seed=0", "units=0016,seed=0"]);
    let mut server = Server::start(&sweep.join("tb"), out.path().join("tensorboard.log"));
    server.wait_for_runs(&labels);
    assert_eq!(server.runs(), labels);

    let metrics = [
        "rmse/test",
        "rmse/val",
        "r2/test",
        "baseline/const_rmse_test",
        "model/params",
        "time/train_seconds",
    ];
    let experiment = server.json(
        "POST",
        "/data/plugin/hparams/experiment",
        Some(&json!({ "experimentName": "" })),
    );
    let tags: Vec<&str> = experiment["metricInfos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"]["tag"].as_str().unwrap())
        .collect();
    assert_eq!(tags, metrics);
    let mut col_params = vec![json!({ "hparam": "num_units" })];
    col_params.extend(
        metrics
            .iter()
            .map(|t| json!({ "metric": { "group": "", "tag": t } })),
    );
    let groups = server.json(
        "POST",
        "/data/plugin/hparams/session_groups",
        Some(&json!({
            "experimentName": "",
            "allowedStatuses": ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_RUNNING"],
            "colParams": col_params,
            "startIndex": 0,
            "sliceSize": 100,
        })),
    );
    let groups = groups["sessionGroups"].as_array().unwrap();
    assert_eq!(groups.len(), 2, "{groups:?}");
    for (label, result, epochs) in &runs {
        let group = groups
            .iter()
            .find(|g| g["name"] == label.as_str())
            .unwrap_or_else(|| panic!("no session group {label}"));
        assert_eq!(group["hparams"]["task"], "regress", "{group}");
        let metric = |tag: &str| {
            group["metricValues"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["name"]["tag"] == tag)
                .unwrap_or_else(|| panic!("{label}: no metric {tag}: {group}"))["value"]
                .as_f64()
                .unwrap()
        };
        for (tag, field) in [
            ("rmse/test", "test_rmse"),
            ("rmse/val", "val_rmse"),
            ("r2/test", "test_r2"),
            ("baseline/const_rmse_test", "const_test_rmse"),
        ] {
            let want = result[field].as_f64().unwrap();
            assert!(
                close(metric(tag), want),
                "{label} {tag}: {} != {want}",
                metric(tag)
            );
        }
        // The baseline is a line across the epochs, at its test error.
        let line = server.scalars(label, "baseline/const_rmse_test");
        assert_eq!(
            line.iter().map(|p| p.0).collect::<Vec<_>>(),
            [1, 2],
            "{label}"
        );
        for (tag, split) in [("rmse/val", "val_errors"), ("rmse/test", "test_errors")] {
            let series = server.scalars(label, tag);
            assert_eq!(series.len(), 2, "{label} {tag}");
            for ((step, got), m) in series.iter().zip(epochs) {
                assert_eq!(*step, m["epoch"].as_i64().unwrap());
                let want = m[split]["rmse"].as_f64().unwrap();
                assert!(close(*got, want), "{label} {tag}: {got} != {want}");
            }
        }
    }
}
