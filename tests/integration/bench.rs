/*!
Integration tests of `rowseq bench`: it runs on real MNIST (one width, two timed steps, with the
PyTorch reference from the set-up's venv, and without it) and writes its JSON with every field;
`rowseq report FILE.json` plots that JSON, byte-identically when rendered again; bad flags are
one-line errors with exit code 2. No timing is ever asserted: only that numbers were measured.
*/
use std::collections::BTreeMap;
use std::path::Path;

use crate::common::rowseq;
use predicates::str::contains;
use serde_json::Value;

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn tiny_bench(out: &Path) -> assert_cmd::Command {
    let mut cmd = rowseq();
    cmd.args(["bench", "--units", "8", "--steps", "2", "--warmup", "1"])
        .args([
            "--rounds",
            "2",
            "--eval-samples",
            "500",
            "--threads",
            "1",
            "--device",
            "cpu",
        ])
        .arg("--out")
        .arg(out);
    cmd
}

fn positive(v: &Value, what: &str) -> f64 {
    let x = v
        .as_f64()
        .unwrap_or_else(|| panic!("{what} is not a number: {v}"));
    assert!(x.is_finite() && x > 0.0, "{what} = {x}");
    x
}

fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect()
}

#[test]
fn bench_against_pytorch_writes_its_json_and_the_report_plots_it() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("b.json");
    tiny_bench(&json)
        .assert()
        .success()
        .stdout(contains("ratio"))
        .stdout(contains("peak"))
        .stdout(contains("sgemm"))
        .stdout(contains("written to"));
    let v = read_json(&json);
    assert_eq!(v["kind"], "rowseq-bench");
    assert_eq!(v["settings"]["steps"], 2);
    assert_eq!(v["settings"]["rounds"], 2);
    assert_eq!(v["settings"]["batch_size"], 128);
    assert_eq!(v["env"]["threads"], 1);
    assert_eq!(v["env"]["device"], "cpu");
    assert_eq!(v["reference"]["threads"], 1);
    assert_eq!(v["reference"]["interop_threads"], 1);
    assert!(!v["reference"]["torch"].as_str().unwrap().is_empty());
    // The peak is the faster of the sgemm and, where this CPU runs it, rowseq's own kernel.
    let sgemm = positive(&v["sgemm"]["gflops"], "sgemm GFLOP/s");
    let peak = match v["sgemm"].get("own_kernel_gflops") {
        Some(own) => sgemm.max(positive(own, "own kernel GFLOP/s")),
        None => sgemm,
    };
    let widths = v["widths"].as_array().unwrap();
    assert_eq!(widths.len(), 1);
    let w = &widths[0];
    assert_eq!(w["num_units"], 8);
    assert_eq!(w["params"], 1306);
    // 3 x 2*B*T*4H(I+H) with B = 128, T = I = 28, H = 8.
    assert_eq!(w["flops_per_step"], 3.0 * 2.0 * 128.0 * 28.0 * 32.0 * 36.0);
    for side in ["rowseq", "pytorch"] {
        let m = &w[side];
        let ms = positive(&m["ms_per_batch"], "ms/batch");
        // 2 chunks in each of 2 rounds, pooled.
        assert_eq!(m["chunk_ms"].as_array().unwrap().len(), 4, "{side}");
        positive(&m["samples_per_s"], "samples/s");
        positive(&m["eval_samples_per_s"], "eval samples/s");
        let gflops = positive(&m["gflops"], "GFLOP/s");
        let expected = 3.0 * 2.0 * 128.0 * 28.0 * 32.0 * 36.0 / (ms * 1e-3) / 1e9;
        assert!((gflops - expected).abs() < 1e-9 * expected, "{side}");
        let pct = m["percent_of_peak"].as_f64().unwrap();
        assert!((pct - 100.0 * gflops / peak).abs() < 1e-9, "{side}");
        positive(&m["loss_first"], "first loss");
    }
    // The same initial weights and batch on both sides: the same first loss (up to rounding).
    let (a, b) = (
        w["rowseq"]["loss_first"].as_f64().unwrap(),
        w["pytorch"]["loss_first"].as_f64().unwrap(),
    );
    assert!(
        (a - b).abs() < 1e-4,
        "first loss {a} (rowseq) vs {b} (PyTorch)"
    );
    positive(&w["ratio"], "ratio");

    rowseq()
        .arg("report")
        .arg(&json)
        .assert()
        .success()
        .stdout(contains("report: bench"));
    let report = dir.path().join("b");
    let first = files(&report);
    for f in [
        "bench.md",
        "bench_time_vs_units.svg",
        "bench_time_vs_units.png",
        "bench_gflops_vs_units.svg",
        "bench_gflops_vs_units.png",
    ] {
        assert!(first.contains_key(f), "report lacks {f}");
    }
    let svg = String::from_utf8(first["bench_time_vs_units.svg"].clone()).unwrap();
    assert!(svg.contains("PyTorch") && svg.contains("rowseq time / PyTorch time"));
    let md = String::from_utf8(first["bench.md"].clone()).unwrap();
    assert!(md.contains("| 8 | 1,306 |"), "{md}");
    // Rendered again into another folder: the same bytes.
    let again = dir.path().join("again");
    rowseq()
        .arg("report")
        .arg(&json)
        .arg("--out")
        .arg(&again)
        .assert()
        .success();
    assert_eq!(files(&again), first);
}

#[test]
fn bench_without_reference_and_its_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("solo.json");
    rowseq()
        .args(["bench", "--no-reference", "--units", "8", "--steps", "1"])
        .args(["--warmup", "0", "--eval-samples", "100", "--threads", "1"])
        .args(["--device", "cpu", "--out"])
        .arg(&json)
        .assert()
        .success()
        .stdout(contains("no PyTorch reference"));
    let v = read_json(&json);
    assert_eq!(v["reference"], Value::Null);
    assert_eq!(v["widths"][0]["pytorch"], Value::Null);
    assert_eq!(v["widths"][0]["ratio"], Value::Null);
    positive(&v["widths"][0]["rowseq"]["ms_per_batch"], "ms/batch");
    rowseq().arg("report").arg(&json).assert().success();
    let svg = std::fs::read_to_string(dir.path().join("solo/bench_time_vs_units.svg")).unwrap();
    assert!(svg.contains("no PyTorch reference"));

    let missing = dir.path().join("no-python");
    let bad: [(&[&str], &str); 5] = [
        (&["--python", missing.to_str().unwrap()], "--python"),
        (&["--units", "8,0"], "--units 0"),
        (&["--eval-samples", "20000"], "--eval-samples 20000"),
        (&["--steps", "0"], "--steps 0"),
        (&["--rounds", "0"], "--rounds 0"),
    ];
    for (args, says) in bad {
        let out = rowseq()
            .args(["bench", "--device", "cpu", "--threads", "1", "--out"])
            .arg(dir.path().join("never.json"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("error: ") && err.contains(says), "{err}");
    }
    assert!(!dir.path().join("never.json").exists());

    // A JSON that is not a bench: one line naming the file.
    let other = dir.path().join("other.json");
    std::fs::write(&other, "{\"kind\": \"something\"}").unwrap();
    let out = rowseq().arg("report").arg(&other).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("other.json") && err.contains("not a rowseq bench JSON"),
        "{err}"
    );
}
