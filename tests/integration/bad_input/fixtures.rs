/*!
Finished runs for the corpus's cases that act on one (predict, explain, resume, edited records):
each kind is trained once per test process, one epoch at a few units, into the test target's
scratch folder, and copied into a case's `{t}` by its setup.
*/
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::common::{rowseq, run_dirs};

/// What a fixture run was trained on.
#[derive(Clone, Copy)]
pub enum Kind {
    /// Classification of a small generated wide CSV (`train.csv`, `test.csv` beside the run).
    Classify,
    /// A forecast of the sunspot series.
    Forecast,
    /// MNIST images (2,000 training images, 8 units).
    Image,
}

/// A generated two-class wide CSV: rising or falling ramps with a little jitter.
pub fn classify_csv(rows: usize) -> String {
    let mut s = String::from("label,t0,t1,t2,t3,t4,t5\n");
    for i in 0..rows {
        let up = i % 2 == 0;
        let label = if up { "up" } else { "down" };
        let vals: Vec<String> = (0..6)
            .map(|t| {
                let v = if up { t as f64 } else { 5.0 - t as f64 };
                format!("{:.2}", v + ((i * 7 + t * 3) % 5) as f64 * 0.1)
            })
            .collect();
        s.push_str(&format!("{label},{}\n", vals.join(",")));
    }
    s
}

/// The scratch folder of fixture `kind`: its run folder and, for `Classify`, its data files.
struct Trained {
    run: PathBuf,
    data: PathBuf,
}

fn train(kind: Kind) -> Trained {
    let name = match kind {
        Kind::Classify => "classify",
        Kind::Forecast => "forecast",
        Kind::Image => "image",
    };
    let root = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("bad_input_fixtures")
        .join(name);
    let _ = std::fs::remove_dir_all(&root);
    let data = root.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let out = root.join("out");
    let mut cmd = rowseq();
    cmd.args([
        "train",
        "--epochs",
        "1",
        "--threads",
        "1",
        "--device",
        "cpu",
    ]);
    cmd.args(["--name", "fixture", "--no-tensorboard", "--out"])
        .arg(&out);
    match kind {
        Kind::Classify => {
            std::fs::write(data.join("train.csv"), classify_csv(40)).unwrap();
            std::fs::write(data.join("test.csv"), classify_csv(10)).unwrap();
            let spec = format!(
                "csv:{},{}",
                data.join("train.csv").display(),
                data.join("test.csv").display()
            );
            cmd.args(["--dataset", &spec, "--num-units", "4", "--val-size", "8"]);
        }
        Kind::Forecast => {
            cmd.args(["--dataset", "csv:data/sunspots/sunspots.csv", "--task"]);
            cmd.args(["forecast", "--target-column", "SUNACTIVITY"]);
            cmd.args([
                "--columns",
                "SUNACTIVITY",
                "--season",
                "11",
                "--num-units",
                "4",
            ]);
        }
        Kind::Image => {
            cmd.args([
                "--num-units",
                "8",
                "--train-size",
                "2000",
                "--val-size",
                "200",
            ]);
            cmd.args(["--test-size", "500"]);
        }
    }
    let output = cmd.output().unwrap();
    assert!(
        output.status.success(),
        "fixture {name}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let runs = run_dirs(&out.join("fixture"));
    assert_eq!(runs.len(), 1, "fixture {name}: {runs:?}");
    Trained {
        run: runs[0].clone(),
        data,
    }
}

fn trained(kind: Kind) -> &'static Trained {
    static CLASSIFY: OnceLock<Trained> = OnceLock::new();
    static FORECAST: OnceLock<Trained> = OnceLock::new();
    static IMAGE: OnceLock<Trained> = OnceLock::new();
    let cell = match kind {
        Kind::Classify => &CLASSIFY,
        Kind::Forecast => &FORECAST,
        Kind::Image => &IMAGE,
    };
    cell.get_or_init(|| train(kind))
}

/// Copies a finished run of `kind` to `{t}/run/<its id>` (its files, without the lock; the
/// cases name it `{run}`) and, for `Classify`, its data to `{t}/train.csv` and `{t}/test.csv`.
pub fn copy_run(kind: Kind, t: &Path) {
    let trained = trained(kind);
    copy_dir(
        &trained.run,
        &t.join("run").join(trained.run.file_name().unwrap()),
    );
    for e in std::fs::read_dir(&trained.data).unwrap().flatten() {
        std::fs::copy(e.path(), t.join(e.file_name())).unwrap();
    }
}

/// Copies the regular files of `from` (recursively) into `to`, leaving out `.lock`.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let kind = e.file_type().unwrap();
        let dest = to.join(e.file_name());
        if kind.is_dir() {
            copy_dir(&e.path(), &dest);
        } else if kind.is_file() && e.file_name() != ".lock" {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// The run folder that `copy_run` laid out in `{t}` (`{run}` in a case), if any.
pub fn run_path(t: &Path) -> Option<PathBuf> {
    let dirs: Vec<PathBuf> = std::fs::read_dir(t.join("run"))
        .ok()?
        .flatten()
        .map(|e| e.path())
        .collect();
    (dirs.len() == 1).then(|| dirs[0].clone())
}

/// Edits the JSON record `{run}/<file>`: sets `key` (a dotted path into objects) to `value`.
pub fn edit_record(t: &Path, file: &str, key: &str, value: serde_json::Value) {
    let path = run_path(t).expect("a copied run").join(file);
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut at = &mut v;
    let parts: Vec<&str> = key.split('.').collect();
    for p in &parts[..parts.len() - 1] {
        at = at.get_mut(*p).unwrap_or_else(|| panic!("{file}: no {key}"));
    }
    at[parts[parts.len() - 1]] = value;
    std::fs::write(&path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
}
