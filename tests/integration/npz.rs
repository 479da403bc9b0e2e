/*!
NumPy archives (`npz:TRAIN.npz,TEST.npz`, issue #38 item 6): X in aeon's layout (n_cases,
n_channels, n_timepoints) with NaN after a shorter series' end, y the labels. The archives are
written by numpy from the UEA/UCR `.ts` files (the set-up's venv), so a run on them must match
the run on the `.ts` files to the bit; predict and the PyTorch loader read them too; bad archives
are one line, exit 2.
*/
use std::path::Path;

use predicates::str::contains;

use crate::common::*;

/// Writes `out/<name>_{TRAIN,TEST}.npz` from `data/<name>/<name>_*.ts` with numpy: float32
/// values, NaN after each series' end, integer labels where every label is an integer.
fn ts_to_npz(name: &str, out: &Path) {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    let script = r##"
import sys, numpy as np
name, out = sys.argv[1], sys.argv[2]
for part in ("TRAIN", "TEST"):
    series, labels, data = [], [], False
    for line in open(f"data/{name}/{name}_{part}.ts"):
        line = line.strip()
        if not line or line[0] in "#%":
            continue
        if not data:
            data = line.lower().startswith("@data")
            continue
        *dims, label = line.split(":")
        series.append([[np.float32(v) for v in d.split(",")] for d in dims])
        labels.append(label.strip())
    t = max(len(s[0]) for s in series)
    x = np.full((len(series), len(series[0]), t), np.nan, dtype=np.float32)
    for i, s in enumerate(series):
        x[i, :, : len(s[0])] = np.array(s, dtype=np.float32)
    y = np.array([int(l) for l in labels]) if all(l.lstrip("-").isdigit() for l in labels) else np.array(labels)
    np.savez(f"{out}/{name}_{part}.npz", X=x, y=y)
"##;
    let status = std::process::Command::new(python)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["-c", script, name])
        .arg(out)
        .status()
        .unwrap();
    assert!(status.success());
}

/// Trains `dataset` for a few epochs into `out`; returns the run folder.
fn train(dataset: &str, out: &Path) -> std::path::PathBuf {
    rowseq()
        .args([
            "train",
            "--dataset",
            dataset,
            "--epochs",
            "3",
            "--num-units",
            "8",
        ])
        .args([
            "--threads",
            "1",
            "--device",
            "cpu",
            "--no-tensorboard",
            "--out",
        ])
        .arg(out)
        .assert()
        .success();
    run_dirs(&crate::common::train_folder(out)).remove(0)
}

/// JapaneseVowels (12 channels, unequal lengths padded with NaN in the archive) trains on the
/// archives exactly as on the `.ts` files; predict reads a test archive and PyTorch agrees.
#[test]
fn npz_archives_train_like_their_ts_files_and_predict() {
    let tmp = tempfile::tempdir().unwrap();
    let name = "JapaneseVowels";
    ts_to_npz(name, tmp.path());
    let train_npz = tmp.path().join(format!("{name}_TRAIN.npz"));
    let test_npz = tmp.path().join(format!("{name}_TEST.npz"));
    let spec = format!("npz:{},{}", train_npz.display(), test_npz.display());
    let from_npz = train(&spec, &tmp.path().join("npz"));
    let from_ts = train(&format!("ts:data/{name}/{name}"), &tmp.path().join("ts"));
    assert_eq!(
        metrics_without_time(&from_npz),
        metrics_without_time(&from_ts)
    );
    assert_eq!(
        std::fs::read(from_npz.join("model.safetensors")).unwrap(),
        std::fs::read(from_ts.join("model.safetensors")).unwrap()
    );
    let predictions = tmp.path().join("p.csv");
    rowseq()
        .arg("predict")
        .arg(&from_npz)
        .arg(&test_npz)
        .arg("--out")
        .arg(&predictions)
        .assert()
        .success()
        .stdout(contains("predicted 370 sequences"));
    let said = load_in_pytorch(&from_npz, test_npz.to_str().unwrap(), &predictions);
    assert!(said.contains("max |p(PyTorch) - p(rowseq)|"), "{said}");
}

/// Bad archives: one line naming the file and what is expected, exit 2, nothing written.
#[test]
fn bad_npz_archives_are_one_line_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    let write = |file: &str, code: &str| {
        let status = std::process::Command::new(&python)
            .arg("-c")
            .arg(format!(
                "import numpy as np\nnan = np.nan\nnp.savez({file:?}, {code})"
            ))
            .current_dir(tmp.path())
            .status()
            .unwrap();
        assert!(status.success(), "{code}");
        tmp.path().join(file)
    };
    let good = write(
        "good.npz",
        "X=np.zeros((4, 1, 5)), y=np.array([0, 1, 0, 1])",
    );
    let cases = [
        (
            write("nox.npz", "Z=np.zeros((4, 5)), y=np.array([0, 1, 0, 1])"),
            "holds no array X",
        ),
        (write("noy.npz", "X=np.zeros((4, 5))"), "holds no array y"),
        (
            write("short.npz", "X=np.zeros((4, 5)), y=np.array([0, 1])"),
            "y holds 2 labels for the 4 cases",
        ),
        (
            write(
                "shape.npz",
                "X=np.zeros((4, 1, 1, 5)), y=np.array([0, 1, 0, 1])",
            ),
            "X: shape [4, 1, 1, 5]: expected",
        ),
        (
            write(
                "hole.npz",
                "X=np.array([[1, nan, 2], [1, 2, 3]]), y=np.array([0, 1])",
            ),
            "X[0, 0, 1] is NaN before the series' last value",
        ),
        (
            write("text.npz", "X=np.array([['a', 'b']]), y=np.array([0])"),
            "expected numbers",
        ),
        (
            write(
                "objects.npz",
                "X=np.zeros((2, 3)), y=np.array([{}, {}], dtype=object)",
            ),
            "y:",
        ),
    ];
    let nonzip = tmp.path().join("not.npz");
    std::fs::write(&nonzip, b"not a zip").unwrap();
    for (bad, says) in cases
        .iter()
        .map(|(p, s)| (p.clone(), *s))
        .chain([(nonzip, "not a NumPy .npz archive")])
    {
        let out = tmp.path().join("out");
        rowseq()
            .args(["train", "--epochs", "1", "--dataset"])
            .arg(format!("npz:{},{}", bad.display(), good.display()))
            .arg("--out")
            .arg(&out)
            .assert()
            .code(2)
            .stderr(contains(bad.display().to_string()))
            .stderr(contains(says));
        assert!(!out.exists(), "{says}: wrote {}", out.display());
    }
}
