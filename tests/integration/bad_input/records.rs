/*!
The corpus's cases on a finished run's records and outputs (issue #36): records edited after the
run (`config.json`, `result.json`, `normalization.json`), which every command reads through the
store's checks and refuses naming the file and value, never a panic or NaN forecasts; outputs
(`predict --out`, `explain --svg`) that would replace an input, a run's file or a file that is
not a previous output; and a training file changed after the run, which `predict` and `explain`
refuse rather than rescale new data with its new statistics.
*/
use std::path::Path;

use serde_json::json;

use super::fixtures::{classify_csv, copy_run, edit_record, Kind};
use super::{special, Special};
use crate::common::{rowseq, run_dirs};

/// A setup: a copy of a fixture run of `$kind` with `$file`'s `$key` set to `$value`.
macro_rules! edited {
    ($name:ident, $kind:expr, $file:expr, $key:expr, $value:tt) => {
        fn $name(t: &Path) {
            copy_run($kind, t);
            edit_record(t, $file, $key, json!($value));
        }
    };
}

edited!(c_patch0, Kind::Classify, "result.json", "data.patch", 0);
edited!(
    c_features0,
    Kind::Classify,
    "result.json",
    "data.features",
    0
);
edited!(
    c_timesteps0,
    Kind::Classify,
    "result.json",
    "data.timesteps",
    0
);
edited!(
    c_res_units0,
    Kind::Classify,
    "result.json",
    "resolved.num_units",
    0
);
edited!(
    c_res_lr,
    Kind::Classify,
    "result.json",
    "resolved.lr",
    (-1.0)
);
edited!(c_cfg_patch0, Kind::Classify, "config.json", "patch", 0);
edited!(c_cfg_units0, Kind::Classify, "config.json", "num_units", 0);
edited!(c_cfg_epochs0, Kind::Classify, "config.json", "epochs", 0);
edited!(i_patch0, Kind::Image, "result.json", "data.patch", 0);
edited!(
    i_patch_big,
    Kind::Image,
    "result.json",
    "data.patch",
    200000
);
edited!(i_cfg_patch0, Kind::Image, "config.json", "patch", 0);
edited!(
    f_window0,
    Kind::Forecast,
    "result.json",
    "resolved.window",
    0
);
edited!(
    f_horizon0,
    Kind::Forecast,
    "result.json",
    "resolved.horizon",
    0
);
edited!(f_patch0, Kind::Forecast, "result.json", "data.patch", 0);
edited!(f_cfg_window0, Kind::Forecast, "config.json", "window", 0);
edited!(f_std0, Kind::Forecast, "normalization.json", "std", [0.0]);
edited!(
    f_std_neg,
    Kind::Forecast,
    "normalization.json",
    "std",
    [(-1.0)]
);
edited!(
    f_std_two,
    Kind::Forecast,
    "normalization.json",
    "std",
    [1.0, 2.0]
);
edited!(
    f_target_std0,
    Kind::Forecast,
    "normalization.json",
    "target_std",
    0.0
);
edited!(
    f_columns,
    Kind::Forecast,
    "normalization.json",
    "columns",
    ["a", "b"]
);

const C_PREDICT: &[&str] = &["predict", "{run}", "{t}/test.csv", "--out", "{t}/p.csv"];
const I_PREDICT: &[&str] = &["predict", "{run}", "mnist", "--out", "{t}/p.csv"];
const F_PREDICT: &[&str] = &[
    "predict",
    "{run}",
    "data/sunspots/sunspots.csv",
    "--out",
    "{t}/p.csv",
];
const EXPLAIN: &[&str] = &["explain", "{run}"];

fn classify(t: &Path) {
    copy_run(Kind::Classify, t);
}

fn image(t: &Path) {
    copy_run(Kind::Image, t);
}

/// A forecast run, and a copy of its series in `{t}/s.csv`.
fn forecast(t: &Path) {
    copy_run(Kind::Forecast, t);
    let series = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sunspots/sunspots.csv");
    std::fs::copy(series, t.join("s.csv")).unwrap();
}

/// A classification run and a file of the user's that is not a predictions file.
fn with_notes(t: &Path) {
    copy_run(Kind::Classify, t);
    std::fs::write(t.join("notes.txt"), "my notes\n").unwrap();
}

/// A classification run and links to its test file: a symlink and a hard link.
fn with_links(t: &Path) {
    copy_run(Kind::Classify, t);
    std::os::unix::fs::symlink(t.join("test.csv"), t.join("sym.csv")).unwrap();
    std::fs::hard_link(t.join("test.csv"), t.join("hard.csv")).unwrap();
}

/// A classification run of its own, trained on `{t}/train.csv` (so that a case may change
/// that file: the fixture's are shared), moved to `{t}/run/<id>`.
fn own_run(t: &Path) {
    std::fs::write(t.join("train.csv"), classify_csv(40)).unwrap();
    std::fs::write(t.join("test.csv"), classify_csv(10)).unwrap();
    let out = t.join("o");
    let spec = format!(
        "csv:{},{}",
        t.join("train.csv").display(),
        t.join("test.csv").display()
    );
    let output = rowseq()
        .args([
            "train",
            "--epochs",
            "1",
            "--threads",
            "1",
            "--device",
            "cpu",
        ])
        .args(["--num-units", "4", "--val-size", "8", "--no-tensorboard"])
        .args(["--name", "own", "--dataset", &spec, "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let runs = run_dirs(&out.join("own"));
    assert_eq!(runs.len(), 1);
    std::fs::create_dir(t.join("run")).unwrap();
    std::fs::rename(&runs[0], t.join("run").join(runs[0].file_name().unwrap())).unwrap();
    std::fs::remove_dir_all(&out).unwrap();
}

/// Its own run, then one value of its training file changed.
fn train_edited(t: &Path) {
    own_run(t);
    let text = std::fs::read_to_string(t.join("train.csv")).unwrap();
    std::fs::write(t.join("train.csv"), text.replacen(",0.", ",9.", 1)).unwrap();
}

/// Its own run, then a row added to its training file.
fn train_grown(t: &Path) {
    own_run(t);
    let mut text = std::fs::read_to_string(t.join("train.csv")).unwrap();
    text.push_str("up,0,1,2,3,4,5\n");
    std::fs::write(t.join("train.csv"), text).unwrap();
}

/// Its own run, then its training file removed.
fn train_gone(t: &Path) {
    own_run(t);
    std::fs::remove_file(t.join("train.csv")).unwrap();
}

const CHANGED: &str = "{t}/train.csv: changed since the run trained";
const INSIDE: &str = "inside the run folder";
const INPUT: &str = "is an input of this command";

pub const CASES: &[Special] = &[
    // Item 6: an edited record is refused naming the file and value, by predict and explain.
    special(
        c_patch0,
        C_PREDICT,
        "{run}/result.json: data.patch = 0: expected",
    ),
    special(
        c_patch0,
        EXPLAIN,
        "{run}/result.json: data.patch = 0: expected",
    ),
    special(c_features0, C_PREDICT, "result.json: data.features = 0"),
    special(c_features0, EXPLAIN, "result.json: data.features = 0"),
    special(c_timesteps0, C_PREDICT, "result.json: data.timesteps = 0"),
    special(c_timesteps0, EXPLAIN, "result.json: data.timesteps = 0"),
    special(
        c_res_units0,
        C_PREDICT,
        "result.json: resolved.num_units = 0",
    ),
    special(c_res_units0, EXPLAIN, "result.json: resolved.num_units = 0"),
    special(c_res_lr, C_PREDICT, "result.json: resolved.lr = -1"),
    special(c_res_lr, EXPLAIN, "result.json: resolved.lr = -1"),
    special(
        c_cfg_patch0,
        C_PREDICT,
        "{run}/config.json: patch = 0: expected",
    ),
    special(
        c_cfg_patch0,
        EXPLAIN,
        "{run}/config.json: patch = 0: expected",
    ),
    special(c_cfg_units0, C_PREDICT, "config.json: num_units = 0"),
    special(c_cfg_units0, EXPLAIN, "config.json: num_units = 0"),
    special(c_cfg_epochs0, C_PREDICT, "config.json: epochs = 0"),
    special(c_cfg_epochs0, EXPLAIN, "config.json: epochs = 0"),
    special(
        i_patch0,
        I_PREDICT,
        "{run}/result.json: data.patch = 0: expected",
    ),
    special(
        i_patch0,
        EXPLAIN,
        "{run}/result.json: data.patch = 0: expected",
    ),
    special(i_patch_big, I_PREDICT, "result.json: data.patch = 200000"),
    special(i_patch_big, EXPLAIN, "result.json: data.patch = 200000"),
    special(i_cfg_patch0, I_PREDICT, "config.json: patch = 0"),
    special(i_cfg_patch0, EXPLAIN, "config.json: patch = 0"),
    special(
        f_window0,
        F_PREDICT,
        "{run}/result.json: resolved.window = 0: expected",
    ),
    special(
        f_window0,
        EXPLAIN,
        "{run}/result.json: resolved.window = 0: expected",
    ),
    special(f_horizon0, F_PREDICT, "result.json: resolved.horizon = 0"),
    special(f_horizon0, EXPLAIN, "result.json: resolved.horizon = 0"),
    special(f_patch0, F_PREDICT, "result.json: data.patch = 0"),
    special(f_patch0, EXPLAIN, "result.json: data.patch = 0"),
    special(f_cfg_window0, F_PREDICT, "config.json: window = 0"),
    special(f_cfg_window0, EXPLAIN, "config.json: window = 0"),
    special(
        f_std0,
        F_PREDICT,
        "{run}/normalization.json: std[0] = 0: expected",
    ),
    special(
        f_std_neg,
        F_PREDICT,
        "normalization.json: std[0] = -1: expected",
    ),
    special(f_std_two, F_PREDICT, "normalization.json: std = 2 values"),
    special(
        f_target_std0,
        F_PREDICT,
        "normalization.json: target_std = 0",
    ),
    special(
        f_columns,
        F_PREDICT,
        "normalization.json: columns = 2 names",
    ),
    // Item 1: predict --out and explain --svg never replace an input, a run's file or a file
    // that is not a previous output.
    special(
        classify,
        &["predict", "{run}", "{t}/test.csv", "--out", "{t}/test.csv"],
        "{t}/test.csv: --out: is an input of this command",
    ),
    special(
        classify,
        &[
            "predict",
            "{run}",
            "{t}/test.csv",
            "--out",
            "{t}/test.csv",
            "--force",
        ],
        INPUT,
    ),
    special(
        classify,
        &[
            "predict",
            "{run}",
            "csv:{t}/train.csv,{t}/test.csv",
            "--out",
            "{t}/train.csv",
        ],
        INPUT,
    ),
    special(
        classify,
        &[
            "predict",
            "{run}",
            "{t}/test.csv",
            "--out",
            "{t}/run/../test.csv",
        ],
        INPUT,
    ),
    special(
        with_links,
        &["predict", "{run}", "{t}/test.csv", "--out", "{t}/hard.csv"],
        INPUT,
    ),
    special(
        with_links,
        &["predict", "{run}", "{t}/sym.csv", "--out", "{t}/test.csv"],
        INPUT,
    ),
    special(
        classify,
        &[
            "predict",
            "{run}",
            "{t}/test.csv",
            "--out",
            "{run}/result.json",
        ],
        "{run}/result.json: --out: inside the run folder",
    ),
    special(
        classify,
        &[
            "predict",
            "{run}",
            "{t}/test.csv",
            "--out",
            "{run}/config.json",
            "--force",
        ],
        INSIDE,
    ),
    special(
        classify,
        &["predict", "{run}", "{t}/test.csv", "--out", "{run}/new.csv"],
        INSIDE,
    ),
    special(
        classify,
        &[
            "predict",
            "{run}",
            "{t}/test.csv",
            "--out",
            "{run}/normalization.json",
        ],
        INSIDE,
    ),
    special(
        image,
        &[
            "predict",
            "{run}",
            "mnist",
            "--out",
            "{run}/model.safetensors",
        ],
        INSIDE,
    ),
    special(
        forecast,
        &["predict", "{run}", "{t}/s.csv", "--out", "{t}/s.csv"],
        INPUT,
    ),
    special(
        forecast,
        &[
            "predict",
            "{run}",
            "{t}/s.csv",
            "--out",
            "{run}/metrics.jsonl",
        ],
        INSIDE,
    ),
    special(
        with_notes,
        &["predict", "{run}", "{t}/test.csv", "--out", "{t}/notes.txt"],
        "{t}/notes.txt: --out: exists and is not a predictions CSV that rowseq wrote: pass \
         --force to overwrite it",
    ),
    special(
        classify,
        &["predict", "{run}", "{t}/test.csv", "--out", "{t}"],
        "{t}: is a folder: expected a file's path (for a predictions CSV)",
    ),
    special(
        classify,
        &["explain", "{run}", "--svg", "{run}/model.safetensors"],
        "{run}/model.safetensors: --svg: inside the run folder",
    ),
    special(
        classify,
        &["explain", "{run}", "--svg", "{run}/d.svg"],
        INSIDE,
    ),
    special(
        with_notes,
        &["explain", "{run}", "--svg", "{t}/notes.txt"],
        "{t}/notes.txt: --svg: exists and is not an SVG diagram that rowseq wrote",
    ),
    special(
        classify,
        &[
            "explain",
            "--dataset",
            "csv:{t}/train.csv,{t}/test.csv",
            "--svg",
            "{t}/train.csv",
        ],
        "{t}/train.csv: --svg: is an input of this command",
    ),
    // Item 3: a training file changed after the run is refused, not used to rescale.
    special(
        train_edited,
        &["predict", "{run}", "{t}/test.csv", "--out", "{t}/p.csv"],
        CHANGED,
    ),
    special(
        train_edited,
        &[
            "predict",
            "{run}",
            "csv:{t}/train.csv,{t}/test.csv",
            "--out",
            "{t}/p.csv",
        ],
        CHANGED,
    ),
    special(train_edited, &["explain", "{run}"], CHANGED),
    special(
        train_grown,
        &["predict", "{run}", "{t}/test.csv", "--out", "{t}/p.csv"],
        CHANGED,
    ),
    special(
        train_gone,
        &["predict", "{run}", "{t}/test.csv", "--out", "{t}/p.csv"],
        "{t}/train.csv: cannot read",
    ),
];
