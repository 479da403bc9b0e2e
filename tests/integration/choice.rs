/*!
A series classification chooses its input noise on validation (`noise = "auto"`, its default;
`records::Choice`): it trains the rule's jitter and none, each as a run of its own under
`<run>/candidates/`, and keeps the better on validation. On a generated two-class problem: the
choice follows the rule from the candidates' own records, the kept candidate's model and records
are the run's, a set noise trains once, and a run killed between its candidates resumes to the
same bytes. With `refit` (series classification's default), the kept config trains again on the
training and validation series in `<run>/refit/`, and that model is the run's.
*/
use std::path::Path;

use serde_json::Value;

use crate::common::*;

/// Two classes of 16-step series, a sine and a sawtooth, each with a little deterministic
/// wobble, 24 of each to train and 6 of each to test: `csv:TRAIN,TEST`.
fn problem(dir: &Path) -> String {
    let rows = |n: usize, offset: usize| {
        let mut s = String::from("label");
        for t in 0..16 {
            s.push_str(&format!(",t{t}"));
        }
        s.push('\n');
        for k in 0..2 * n {
            let (label, i) = if k < n { ("a", k) } else { ("b", k - n) };
            s.push_str(label);
            for t in 0..16 {
                let wobble = (((i + offset) * 7 + t * 3) % 11) as f64 / 11.0 - 0.5;
                let phase = t as f64 / 16.0;
                let v = match label {
                    "a" => (std::f64::consts::TAU * phase).sin(),
                    _ => 2.0 * (phase * 2.0).fract() - 1.0,
                };
                s.push_str(&format!(",{:.4}", v + 0.6 * wobble));
            }
            s.push('\n');
        }
        s
    };
    csv_problem(dir, &rows(24, 0), &rows(6, 100))
}

fn train(spec: &str, out: &Path, extra: &[&str]) -> std::process::Command {
    let mut cmd = rowseq_process();
    cmd.args([
        "train",
        "--dataset",
        spec,
        "--num-units",
        "4",
        "--epochs",
        "4",
    ])
    .args(["--threads", "1", "--device", "cpu"])
    .args(extra)
    .arg("--out")
    .arg(out);
    cmd
}

fn json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

#[test]
fn a_series_run_keeps_the_noise_that_validates_better() {
    let t = tempfile::tempdir().unwrap();
    let spec = problem(t.path());
    let out = t.path().join("auto");
    succeeds(train(&spec, &out, &["--refit=false"]));
    let run = only_run(&out);
    let r = json(&run.join("result.json"));
    let choice = &r["choice"];
    assert_eq!(choice["key"], "noise", "{r}");
    assert!(choice.get("refit").is_none(), "{choice}");
    assert!(!run.join("refit").exists());
    let candidates = choice["candidates"].as_array().unwrap();
    assert_eq!(candidates.len(), 2, "{choice}");
    // The rule's jitter first, then none.
    let jitter = candidates[0]["value"].as_f64().unwrap();
    assert!(jitter > 0.0, "{choice}");
    assert_eq!(candidates[1]["value"].as_f64(), Some(0.0), "{choice}");

    // Each candidate is a finished run of its own, and the choice quotes its records.
    let folder = |c: &Value| run.join("candidates").join(c["run_id"].as_str().unwrap());
    let results: Vec<Value> = candidates
        .iter()
        .map(|c| json(&folder(c).join("result.json")))
        .collect();
    for (c, own) in candidates.iter().zip(&results) {
        assert_eq!(c["val_acc"], own["val_acc"], "{c} {own}");
        assert_eq!(c["val_loss"], own["val_loss"], "{c} {own}");
    }
    assert_eq!(
        json(&folder(&candidates[0]).join("resolved.json"))["noise"].as_f64(),
        Some(jitter)
    );

    // The rule: the higher validation accuracy, then the lower loss, then the first.
    let score = |r: &Value| {
        (
            r["val_acc"].as_f64().unwrap(),
            r["val_loss"].as_f64().unwrap(),
        )
    };
    let ((a_acc, a_loss), (b_acc, b_loss)) = (score(&results[0]), score(&results[1]));
    let expected = usize::from(b_acc > a_acc || (b_acc == a_acc && b_loss < a_loss));
    assert_eq!(choice["chosen"].as_u64(), Some(expected as u64), "{choice}");

    // The kept candidate's model, records and scores are the run's.
    let kept = folder(&candidates[expected]);
    for f in [
        "model.safetensors",
        "metrics.jsonl",
        "test_probabilities.csv",
    ] {
        assert_eq!(bytes(&run.join(f)), bytes(&kept.join(f)), "{f}");
    }
    for key in ["test_acc", "val_acc", "train_loss", "epochs"] {
        assert_eq!(r[key], results[expected][key], "{key}");
    }
    let resolved = json(&run.join("resolved.json"));
    assert_eq!(
        resolved["noise"].as_f64().unwrap_or(0.0),
        candidates[expected]["value"].as_f64().unwrap()
    );
    // The run keeps its own identity: its config still says "auto".
    assert_eq!(json(&run.join("config.json"))["noise"], "auto");
    assert_eq!(r["run_id"].as_str(), run.file_name().unwrap().to_str());

    // A noise that is set trains once, with no choice.
    let set = t.path().join("set");
    succeeds(train(&spec, &set, &["--noise", "0.1", "--refit=false"]));
    let run = only_run(&set);
    assert!(json(&run.join("result.json")).get("choice").is_none());
    assert!(!run.join("candidates").exists());
}

/// Killed after its first candidate finished and before its second trained a step, the run
/// resumes: the finished candidate is kept as it is, and the run ends with the bytes of one
/// never interrupted.
#[test]
fn a_run_killed_between_its_candidates_resumes_to_the_same_bytes() {
    let t = tempfile::tempdir().unwrap();
    let spec = problem(t.path());
    let (whole, killed) = (t.path().join("whole"), t.path().join("killed"));
    succeeds(train(&spec, &whole, &[]));

    let held = Held::at(&["epoch-2"]);
    let mut cmd = train(&spec, &killed, &[]);
    held.apply(&mut cmd);
    let mut child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    held.wait(&mut child, "epoch-2", 1);
    // While a candidate trains, status says the run is running, with its epochs.
    let status = rowseq_process()
        .arg("status")
        .arg(train_folder(&killed))
        .output()
        .unwrap();
    let status = String::from_utf8_lossy(&status.stdout).to_string();
    assert!(status.contains("1 running"), "{status}");
    // Hold the next run at its start, then let the first candidate finish.
    std::fs::write(held.dir.path().join("hold-start"), b"").unwrap();
    std::fs::remove_file(held.dir.path().join("hold-epoch-2")).unwrap();
    held.wait(&mut child, "start", 2);
    child.kill().unwrap();
    child.wait().unwrap();
    let run = only_run(&killed);
    assert!(!run.join("result.json").exists());
    let first = held.reached("epoch-2");
    assert_eq!(first.len(), 1, "{first:?}");
    let first = run.join("candidates").join(&first[0]);
    assert!(first.join("result.json").exists());
    let before = bytes(&first.join("result.json"));

    succeeds(train(&spec, &killed, &[]));
    assert_eq!(
        bytes(&first.join("result.json")),
        before,
        "a finished candidate retrained"
    );
    let done = only_run(&whole);
    assert_eq!(metrics_without_time(&run), metrics_without_time(&done));
    for f in ["model.safetensors", "test_probabilities.csv"] {
        assert_eq!(bytes(&run.join(f)), bytes(&done.join(f)), "{f}");
    }
    let choice = |r: &Path| {
        let mut c = json(&r.join("result.json"))["choice"].clone();
        for k in c["candidates"].as_array_mut().unwrap() {
            k.as_object_mut().unwrap().remove("train_seconds");
        }
        c["refit"].as_object_mut().unwrap().remove("train_seconds");
        c
    };
    assert_eq!(choice(&run), choice(&done));
}

/// Killed after its refit finished and before its own result was written, a run resumes from
/// the refit's records without training again; with the refit's result gone too (a finished
/// run's checkpoint is removed, so the refit trains again), it ends the same. Both end with the
/// bytes of a run never interrupted. (Each state is made by removing the records a kill would
/// not have written.)
#[test]
fn a_run_killed_around_its_refit_resumes_to_the_same_bytes() {
    let t = tempfile::tempdir().unwrap();
    let spec = problem(t.path());
    let out = t.path().join("run");
    succeeds(train(&spec, &out, &[]));
    let run = only_run(&out);
    let keep = |f: &str| bytes(&run.join(f));
    let (result, model, refit) = (
        keep("result.json"),
        keep("model.safetensors"),
        keep("refit/result.json"),
    );
    let refit_model = keep("refit/model.safetensors");
    for lost in [&["result.json"][..], &["result.json", "refit/result.json"]] {
        for f in lost {
            std::fs::remove_file(run.join(f)).unwrap();
        }
        succeeds(train(&spec, &out, &[]));
        assert_eq!(keep("model.safetensors"), model, "{lost:?}");
        assert_eq!(keep("refit/model.safetensors"), refit_model, "{lost:?}");
        let without_time = |b: &[u8]| {
            let mut v: Value = serde_json::from_slice(b).unwrap();
            let o = v.as_object_mut().unwrap();
            for k in [
                "train_seconds",
                "seconds_per_epoch",
                "eval_seconds",
                "env",
                "memory",
            ] {
                o.remove(k);
            }
            if let Some(c) = o.get_mut("choice") {
                c["refit"].as_object_mut().unwrap().remove("train_seconds");
            }
            v
        };
        assert_eq!(
            without_time(&keep("result.json")),
            without_time(&result),
            "{lost:?}"
        );
        if lost.len() == 1 {
            assert_eq!(
                keep("refit/result.json"),
                refit,
                "a finished refit trained again"
            );
        }
    }
}

/// By default a series classification refits: the kept candidate's config (its noise, its
/// epochs and batch size) trains again on the training and validation series together, as a
/// run of its own under `<run>/refit/`, and its model and test scores are the run's, with the
/// kept candidate's validation scores. A set noise trains its one config, then the refit.
#[test]
fn a_refit_trains_the_kept_config_on_the_training_and_validation_series() {
    let t = tempfile::tempdir().unwrap();
    let spec = problem(t.path());
    let out = t.path().join("auto");
    succeeds(train(&spec, &out, &[]));
    let run = only_run(&out);
    let r = json(&run.join("result.json"));
    let choice = &r["choice"];
    let candidates = choice["candidates"].as_array().unwrap();
    assert_eq!(
        (choice["key"].as_str(), candidates.len()),
        (Some("noise"), 2)
    );
    let chosen = choice["chosen"].as_u64().unwrap() as usize;
    let kept = run
        .join("candidates")
        .join(candidates[chosen]["run_id"].as_str().unwrap());
    let kept_result = json(&kept.join("result.json"));
    let refit = run.join("refit");
    let refit_result = json(&refit.join("result.json"));

    // The refit is the kept config with refit set, on both splits' series.
    let (kept_config, refit_config) = (
        json(&kept.join("config.json")),
        json(&refit.join("config.json")),
    );
    assert_eq!(refit_config["refit"], true, "{refit_config}");
    assert!(kept_config.get("refit").is_none(), "{kept_config}");
    assert_eq!(refit_config["noise"], kept_config["noise"]);
    let train_size = |r: &Value| r["train_size"].as_u64().unwrap();
    let val_size = kept_result["val_size"].as_u64().unwrap();
    assert!(val_size > 0);
    assert_eq!(
        train_size(&refit_result),
        train_size(&kept_result) + val_size
    );
    let (kept_resolved, refit_resolved) = (
        json(&kept.join("resolved.json")),
        json(&refit.join("resolved.json")),
    );
    for key in ["epochs", "batch_size", "noise"] {
        assert_eq!(refit_resolved[key], kept_resolved[key], "{key}");
    }
    assert_eq!(
        choice["refit"]["run_id"].as_str(),
        Some(refit_result["run_id"].as_str().unwrap())
    );
    assert_eq!(choice["refit"]["train_size"], refit_result["train_size"]);

    // The run's model and test scores are the refit's; its validation scores the kept
    // candidate's, which never saw the validation series.
    for f in [
        "model.safetensors",
        "metrics.jsonl",
        "test_probabilities.csv",
    ] {
        assert_eq!(bytes(&run.join(f)), bytes(&refit.join(f)), "{f}");
    }
    for key in ["test_acc", "test_loss", "train_acc"] {
        assert_eq!(r[key], refit_result[key], "{key}");
    }
    for key in [
        "val_acc",
        "val_loss",
        "best_val_acc",
        "best_val_epoch",
        "train_size",
    ] {
        assert_eq!(r[key], kept_result[key], "{key}");
    }
    assert_eq!(json(&run.join("resolved.json"))["refit"], true);
    assert_ne!(
        bytes(&run.join("model.safetensors")),
        bytes(&kept.join("model.safetensors"))
    );

    // A set noise trains its one config to score validation, then the refit.
    let set = t.path().join("set");
    succeeds(train(&spec, &set, &["--noise", "0.1"]));
    let run = only_run(&set);
    let choice = &json(&run.join("result.json"))["choice"];
    assert_eq!(choice["key"], "refit", "{choice}");
    assert_eq!(
        choice["candidates"].as_array().unwrap().len(),
        1,
        "{choice}"
    );
    assert!(run.join("refit").join("model.safetensors").is_file());
    assert_eq!(
        bytes(&run.join("model.safetensors")),
        bytes(&run.join("refit").join("model.safetensors"))
    );
}
