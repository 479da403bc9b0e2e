/*!
Integration tests of `rowseq report` on a small fixture store written by the test itself: eight
planned runs (four widths, two seeds) of which five finished, one failed and two never ran.
Run ids come from the real planner (`rowseq sweep --dry-run`), results are written in the
on-disk format of `store.rs`, and the real binary renders them. No training, no MNIST needed.
*/
use crate::common::{ranked_trials, rowseq};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use predicates::str::contains;
use serde_json::{json, Value};

/// (num_units, seed) -> (test_acc, val_acc, seconds_per_epoch) of the finished runs.
const FINISHED: &[(i64, u64, f64, f64, f64)] = &[
    (8, 0, 0.90, 0.91, 1.0),
    (8, 1, 0.92, 0.93, 1.2),
    (32, 0, 0.97, 0.975, 2.0),
    (32, 1, 0.975, 0.98, 2.2),
    (128, 0, 0.985, 0.99, 8.0),
];
/// Fails: (num_units, seed).
const FAILED: (i64, u64) = (128, 1);

const SWEEP_TOML: &str = r#"
name = "fixture"
num_units = [8, 32, 128, 256]
seed = [0, 1]
epochs = 2
train_size = 1000
val_size = 200
test_size = 500
"#;

fn params(h: i64) -> i64 {
    4 * h * (28 + h) + 8 * h + 10 * h + 10
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// The planned (id, num_units, seed) of the fixture sweep, from the real planner.
fn plan(dir: &Path) -> Vec<(String, i64, u64)> {
    let toml = dir.join("fixture.toml");
    write(&toml, SWEEP_TOML);
    let out = rowseq()
        .args(["sweep", "--dry-run", "--out"])
        .arg(dir.join("unused"))
        .arg(&toml)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            // "<id> pending units=8,seed=0"
            let mut parts = l.split_whitespace();
            let id = parts.next().unwrap().to_string();
            let label = parts.last().unwrap();
            let kv: BTreeMap<&str, &str> = label
                .split(',')
                .map(|p| p.split_once('=').unwrap())
                .collect();
            (
                id,
                kv["units"].parse().unwrap(),
                kv["seed"].parse().unwrap(),
            )
        })
        .collect()
}

fn config(h: i64, seed: u64) -> Value {
    json!({
        "dataset": "mnist", "num_units": h, "seed": seed, "epochs": 2, "lr": 0.003,
        "batch_size": 128, "schedule": "cosine", "clip_grad_norm": 1.0, "val_size": 200,
        "train_size": 1000, "test_size": 500
    })
}

/// Writes the fixture store under `<dir>/fixture`; returns that folder.
fn fixture(dir: &Path) -> PathBuf {
    let runs = plan(dir);
    assert_eq!(runs.len(), 8);
    let sweep = dir.join("fixture");
    let grid = json!({
        "epochs": [2], "num_units": [8, 32, 128, 256], "seed": [0, 1],
        "test_size": [500], "train_size": [1000], "val_size": [200]
    });
    let record = json!({
        "name": "fixture",
        "grid": grid,
        "swept": ["seed", "num_units"],
        "runs": runs.iter().map(|r| r.0.clone()).collect::<Vec<_>>(),
        "command": "rowseq sweep fixture.toml",
    });
    write(
        &sweep.join("sweep.json"),
        &serde_json::to_string_pretty(&record).unwrap(),
    );
    for (id, h, seed) in &runs {
        let run = sweep.join(id);
        let label = format!("units={h},seed={seed}");
        if let Some(&(_, _, test, val, spe)) = FINISHED.iter().find(|f| f.0 == *h && f.1 == *seed) {
            let result = json!({
                "run_id": id, "label": label, "config": config(*h, *seed),
                "params": params(*h), "epochs": 2,
                "test_acc": test, "test_loss": 0.3, "val_acc": val, "val_loss": 0.3,
                "train_acc": 0.95, "train_loss": 0.2, "best_val_acc": val, "best_val_epoch": 2,
                "train_seconds": 2.0 * spe, "seconds_per_epoch": spe, "eval_seconds": 0.5,
                "train_size": 1000, "val_size": 200, "test_size": 500,
                "env": {"rowseq": "0.1.0", "tch": "0.26.0", "libtorch": "2.13.0", "device": "cpu",
                        "threads": 2, "git_commit": "abcdef123456"}
            });
            let metrics: String = (1..=2)
                .map(|e| {
                    let m = json!({
                        "epoch": e, "step": 8 * e, "lr": 0.003, "train_loss": 1.0 / e as f64,
                        "train_acc": 0.5, "val_loss": 0.5, "val_acc": val - 0.1 / e as f64,
                        "test_loss": 0.5, "test_acc": test, "train_seconds": spe,
                        "eval_seconds": 0.25
                    });
                    format!("{m}\n")
                })
                .collect();
            write(&run.join("config.json"), &config(*h, *seed).to_string());
            write(&run.join("metrics.jsonl"), &metrics);
            write(&run.join("result.json"), &result.to_string());
        } else if (*h, *seed) == FAILED {
            write(&run.join("config.json"), &config(*h, *seed).to_string());
            write(
                &run.join("failed.json"),
                &json!({"run_id": id, "label": label, "error": "loss is NaN at epoch 1"})
                    .to_string(),
            );
        }
    }
    sweep
}

const FIGURES: &[&str] = &[
    "accuracy_vs_units",
    "accuracy_vs_params",
    "params_vs_units",
    "learning_curves",
    "cost_vs_units",
];
const TABLES: &[&str] = &["summary.md", "summary.tex", "summary.csv", "report.md"];

fn report(sweep: &Path, out: &Path) {
    rowseq()
        .arg("report")
        .arg(sweep)
        .arg("--out")
        .arg(out)
        .assert()
        .success()
        .stdout(contains("report: 5 runs"))
        .stdout(contains("3 planned runs have no result"));
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(path: &Path) -> (u32, u32) {
    let b = std::fs::read(path).unwrap();
    assert_eq!(
        &b[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is not a PNG",
        path.display()
    );
    assert_eq!(&b[12..16], b"IHDR");
    let be = |i: usize| u32::from_be_bytes(b[i..i + 4].try_into().unwrap());
    (be(16), be(20))
}

/// All text of an SVG, which must parse as XML with an <svg> root.
fn svg_text(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let doc = roxmltree::Document::parse(&text)
        .unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()));
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    doc.descendants()
        .filter_map(|n| n.text())
        .map(str::trim)
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn report_renders_figures_and_tables_from_a_fixture_store() {
    let tmp = tempfile::tempdir().unwrap();
    let sweep = fixture(tmp.path());
    let out = tmp.path().join("out");
    report(&sweep, &out);

    for f in FIGURES {
        assert!(out.join(format!("{f}.svg")).is_file(), "{f}.svg");
        let expected = if *f == "learning_curves" {
            (2400, 1000)
        } else {
            (1520, 960)
        };
        assert_eq!(png_size(&out.join(format!("{f}.png"))), expected, "{f}.png");
    }
    for t in TABLES {
        assert!(out.join(t).is_file(), "{t}");
    }

    let labels: &[(&str, &[&str])] = &[
        (
            "accuracy_vs_units",
            &[
                "LSTM units H (num_units, log₂ scale)",
                "accuracy (%)",
                "test accuracy (mean ± sample std over 1–2 seeds)",
                "validation accuracy",
                "1.3k params",
                "no result yet for H = 256",
            ],
        ),
        (
            "accuracy_vs_params",
            &[
                "trainable parameters (log scale)",
                "test accuracy (%)",
                "H=32",
            ],
        ),
        (
            "params_vs_units",
            &[
                "trainable parameters (log scale)",
                "PyTorch / tch (2 biases): 4H(I+H) + 8H + 10H + 10",
                "Keras (1 bias): 4H(I+H) + 4H + 10H + 10",
            ],
        ),
        (
            "learning_curves",
            &[
                "epoch",
                "validation accuracy (%)",
                "train loss (cross-entropy, log scale)",
                "H = 8",
            ],
        ),
        (
            "cost_vs_units",
            &[
                "training time per epoch (s, log scale)",
                "∝ H² (through H = 128)",
            ],
        ),
    ];
    for (f, want) in labels {
        let text = svg_text(&out.join(format!("{f}.svg")));
        for w in *want {
            assert!(text.contains(w), "{f}.svg lacks {w:?}; it has:\n{text}");
        }
    }

    // The tables hold the fixture's numbers: 8 units: 0.90 and 0.92 -> 91.00 ± 1.41.
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    for row in [
        "| 8 | 1,306 | 91.00 ± 1.41 | 2 | 2 | 1.10 |",
        "| 32 | 8,266 | 97.25 ± 0.35 | 2 | 2 | 2.10 |",
        "| 128 | 82,186 | 98.50 | 1/2 | 2 | 8.00 |",
        "| 256 | 295,434 | missing | 0/2 | 2 | – |",
    ] {
        assert!(md.contains(row), "summary.md lacks {row:?}:\n{md}");
    }
    let tex = std::fs::read_to_string(out.join("summary.tex")).unwrap();
    assert!(tex.contains("\\toprule") && tex.contains("\\bottomrule"));
    assert!(
        tex.contains("8 & 1{,}306 & $91.00 \\pm 1.41$ & 2 & 2 & 1.10 \\\\"),
        "{tex}"
    );
    assert!(
        tex.contains("128 & 82{,}186 & $98.50$ & 1/2 & 2 & 8.00 \\\\"),
        "{tex}"
    );

    let csv = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let rows: Vec<BTreeMap<&str, &str>> = lines
        .map(|l| header.iter().copied().zip(l.split(',')).collect())
        .collect();
    assert_eq!(rows.len(), 4);
    for (h, seeds) in [(8, [0u64, 1].as_slice()), (32, &[0, 1]), (128, &[0])] {
        let row = rows
            .iter()
            .find(|r| r["num_units"] == h.to_string())
            .unwrap();
        let runs: Vec<_> = FINISHED
            .iter()
            .filter(|f| f.0 == h && seeds.contains(&f.1))
            .collect();
        let mean = runs.iter().map(|f| f.2).sum::<f64>() / runs.len() as f64;
        let spe = runs.iter().map(|f| f.4).sum::<f64>() / runs.len() as f64;
        assert_eq!(row["params"], params(h).to_string());
        assert_eq!(row["params_keras"], (params(h) - 4 * h).to_string());
        assert!((row["test_acc_mean"].parse::<f64>().unwrap() - mean).abs() < 1e-6);
        assert!((row["seconds_per_epoch_mean"].parse::<f64>().unwrap() - spe).abs() < 1e-3);
        assert_eq!(row["seeds"], runs.len().to_string());
        assert_eq!(row["planned"], "2");
    }
    let r256 = rows.iter().find(|r| r["num_units"] == "256").unwrap();
    assert_eq!((r256["seeds"], r256["test_acc_mean"]), ("0", ""));

    // report.md: provenance and what is missing.
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    for want in [
        "rowseq sweep fixture.toml",
        "num_units = [8, 32, 128, 256]",
        "| 0.1.0 | 0.26.0 | 2.13.0 | cpu | 2 | abcdef123456 | 5 |",
        "3 planned runs without a result",
        "| units=128,seed=1 | failed: loss is NaN at epoch 1 |",
        "| units=256,seed=0 | not run |",
        "![accuracy_vs_units](accuracy_vs_units.png)",
        "error bars ± one sample standard deviation over 1–2 seeds",
    ] {
        assert!(md.contains(want), "report.md lacks {want:?}:\n{md}");
    }
}

fn read_all(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}

#[test]
fn a_second_render_is_byte_identical() {
    let tmp = tempfile::tempdir().unwrap();
    let sweep = fixture(tmp.path());
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    report(&sweep, &a);
    report(&sweep, &b);
    let first = read_all(&a);
    // Each figure as SVG and PNG, the tables, and the unrolled-network diagram.
    assert_eq!(first.len(), 2 * FIGURES.len() + TABLES.len() + 1);
    let diagram = String::from_utf8(first["unrolled_lstm.svg"].clone()).unwrap();
    assert!(
        diagram.contains("H = 128 units"),
        "the fixture has 128 units: draw that width"
    );
    assert_eq!(first, read_all(&b));
    // Again into the same folder, replacing the files.
    report(&sweep, &a);
    assert_eq!(first, read_all(&a));
}

/// A run's metrics.jsonl cut short at a line's end (one of its two epochs) is not drawn as a
/// shorter curve in silence: the report warns, and report.md names the run.
#[test]
fn a_metrics_file_cut_short_is_named_not_drawn() {
    let tmp = tempfile::tempdir().unwrap();
    let sweep = fixture(tmp.path());
    let (id, _, _) = plan(tmp.path())
        .into_iter()
        .find(|r| sweep.join(&r.0).join("result.json").is_file())
        .unwrap();
    let metrics = sweep.join(&id).join("metrics.jsonl");
    let text = std::fs::read_to_string(&metrics).unwrap();
    write(&metrics, &format!("{}\n", text.lines().next().unwrap()));
    let out = tmp.path().join("out");
    rowseq()
        .arg("report")
        .arg(&sweep)
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .stdout(contains("report: 5 runs"))
        .stderr(contains(format!(
            "warning: 1 run has no whole metrics.jsonl (missing, unreadable, or not one record per \
             epoch), so it is left out of the learning curves: {id}"
        )));
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        md.contains(&format!(
            "not one record per epoch (left out of the learning curves): `{id}`"
        )),
        "{md}"
    );
}

#[test]
fn the_default_output_is_inside_the_sweep_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let sweep = fixture(tmp.path());
    rowseq()
        .arg("report")
        .arg(&sweep)
        .assert()
        .success()
        .stdout(contains(sweep.join("report").display().to_string()));
    assert!(sweep.join("report/report.md").is_file());
    // The report folder is not mistaken for a run on a second render.
    rowseq().arg("report").arg(&sweep).assert().success();
}

#[test]
fn a_missing_empty_or_foreign_folder_is_a_one_line_error() {
    let tmp = tempfile::tempdir().unwrap();
    let cases = [
        (tmp.path().join("nonexistent"), "no such sweep folder"),
        (tmp.path().to_path_buf(), "not a rowseq sweep folder"),
    ];
    std::fs::create_dir_all(tmp.path().join("foreign/some-dir")).unwrap();
    write(&tmp.path().join("foreign/notes.txt"), "hello");
    let foreign = tmp.path().join("foreign");
    let planned_only = tmp.path().join("planned");
    write(
        &planned_only.join("sweep.json"),
        &json!({"name": "planned", "grid": {"num_units": [8]}, "swept": [], "runs": ["abc"],
                "command": "rowseq sweep x.toml"})
        .to_string(),
    );
    let bad_record = tmp.path().join("bad");
    write(&bad_record.join("sweep.json"), "{ not json");
    for (dir, message) in cases.iter().map(|(d, m)| (d.clone(), *m)).chain([
        (foreign, "not a rowseq sweep folder"),
        (planned_only, "has no finished run yet (1 planned"),
        (bad_record, "not a rowseq sweep record"),
    ]) {
        let out = rowseq().arg("report").arg(&dir).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{}: {out:?}", dir.display());
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(&dir.display().to_string()), "{err}");
        assert!(err.contains(message), "{err}");
        assert!(!dir.join("report").exists());
    }
}

/// A search's report: its section in report.md (method, ranges as written, each key's η², the
/// trials ranked by validation) and the figure of the validation score against each drawn key;
/// rendered twice, the same bytes. A tiny random search of four trials, one epoch each.
#[test]
fn a_search_report_draws_each_key_against_validation_and_ranks_the_trials() {
    let out = tempfile::tempdir().unwrap();
    let mut sweep = rowseq();
    sweep
        .args([
            "sweep",
            "configs/quick.toml",
            "--device",
            "cpu",
            "--threads",
            "1",
        ])
        .args(["--jobs", "1", "--no-report", "--out"])
        .arg(out.path());
    for set in [
        "name=\"tiny\"",
        "method=\"random\"",
        "trials=4",
        "num_units={ int_log = [8, 32] }",
        "lr={ log_uniform = [0.003, 0.03] }",
        "epochs=1",
        "train_size=3000",
        "val_size=500",
        "test_size=500",
        "batch_size=32",
    ] {
        sweep.args(["--set", set]);
    }
    sweep.assert().success();
    let dir = out.path().join("tiny");
    let render = |to: &Path| {
        rowseq()
            .arg("report")
            .arg(&dir)
            .arg("--out")
            .arg(to)
            .assert()
            .success();
    };
    let (a, b) = (out.path().join("a"), out.path().join("b"));
    render(&a);
    render(&b);
    for f in ["search_keys.svg", "search_keys.png", "report.md"] {
        let bytes = std::fs::read(a.join(f)).unwrap();
        assert!(!bytes.is_empty(), "{f}");
        assert_eq!(bytes, std::fs::read(b.join(f)).unwrap(), "{f} differs");
    }
    let svg = std::fs::read_to_string(a.join("search_keys.svg")).unwrap();
    assert!(
        svg.contains("num_units: η²") && svg.contains("lr: η²"),
        "{svg}"
    );
    let md = std::fs::read_to_string(a.join("report.md")).unwrap();
    for text in [
        "## Search",
        "A `random` search of 4 trials",
        "lr = { log_uniform = [0.003, 0.03] }",
        "num_units = { int_log = [8, 32] }",
        "share of the validation score's variance explained by the key alone",
        "![search_keys](search_keys.png)",
        "| rank | num_units | lr | params | validation accuracy (%) | seeds | run ids |",
    ] {
        assert!(md.contains(text), "no {text:?} in\n{md}");
    }
    // Four trials, ranked best first by their validation accuracy, each with its run id.
    let (_, rows) = ranked_trials(&md);
    let ranked: Vec<f64> = rows
        .iter()
        .map(|cells| {
            assert!(cells[6].starts_with('`'), "{cells:?}");
            cells[4].parse().unwrap()
        })
        .collect();
    assert_eq!(ranked.len(), 4, "{md}");
    assert!(ranked.windows(2).all(|w| w[0] >= w[1]), "{ranked:?}");
}
