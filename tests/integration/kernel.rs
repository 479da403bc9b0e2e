/*!
ROWSEQ_KERNEL: a value it does not know is a one-line error (exit 2); every run records the path
its LSTM took (`env.kernel` in result.json); `own` trains the same bits as the automatic choice
at one thread (which picks it on an AVX-512 CPU), and is refused where the CPU lacks the kernel,
where the test that needs it says "skipped" (`.ci/run` counts those lines).
*/
use std::io::Write;
use std::path::Path;

use serde_json::Value;

use crate::common::{rowseq, run_dirs, tiny_train};

#[test]
fn an_unknown_kernel_is_a_one_line_error_naming_the_variable() {
    let output = rowseq()
        .env("ROWSEQ_KERNEL", "fast")
        .args(["sweep", "configs/units.toml", "--status"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "error: ROWSEQ_KERNEL=fast: expected reference (libtorch's LSTM) or own (rowseq's \
         kernel), or unset for the automatic choice\n"
    );
}

/// A tiny training run with ROWSEQ_KERNEL at `kernel` (None: unset) into `out`: its result
/// and its weights' bytes, or None where rowseq refused `own` on this CPU.
fn train(out: &Path, kernel: Option<&str>) -> Option<(Value, Vec<u8>)> {
    let mut cmd = tiny_train(out, 16);
    cmd.env_remove("ROWSEQ_KERNEL");
    if let Some(k) = kernel {
        cmd.env("ROWSEQ_KERNEL", k);
    }
    let output = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if kernel == Some("own") && output.status.code() == Some(2) {
        assert!(stderr.contains("needs AVX-512"), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        return None;
    }
    assert!(output.status.success(), "{stderr}");
    let [run] = run_dirs(&crate::common::train_folder(out))
        .try_into()
        .unwrap();
    let text = std::fs::read_to_string(run.join("result.json")).unwrap();
    let weights = std::fs::read(run.join("model.safetensors")).unwrap();
    Some((serde_json::from_str(&text).unwrap(), weights))
}

#[test]
fn each_run_records_its_kernel_path_and_own_is_the_automatic_choice_at_one_thread() {
    let dir = tempfile::tempdir().unwrap();
    let (auto, auto_weights) = train(&dir.path().join("auto"), None).unwrap();
    let (reference, _) = train(&dir.path().join("reference"), Some("reference")).unwrap();
    assert_eq!(reference["env"]["kernel"], "reference");
    let Some((own, own_weights)) = train(&dir.path().join("own"), Some("own")) else {
        assert_eq!(auto["env"]["kernel"], "own-blas");
        let test = "kernel::each_run_records_its_kernel_path_and_own_is_the_automatic_choice";
        let line = format!("skipped: {test} (rowseq's own kernel needs AVX-512 on x86-64)\n");
        let _ = std::io::stderr().write_all(line.as_bytes());
        return;
    };
    // One thread on an AVX-512 CPU: the automatic choice is the own kernel, bit for bit.
    assert_eq!(auto["env"]["kernel"], "own");
    assert_eq!(own["env"]["kernel"], "own");
    assert_eq!(own["run_id"], auto["run_id"]);
    assert_eq!(own["test_acc"], auto["test_acc"]);
    assert!(
        own_weights == auto_weights,
        "own and automatic weights differ"
    );
}
