/*!
The corpus's cases on what rowseq writes into and reads back under its output folder: a symbolic
link in the place of a folder it writes into (the sweep folder, a run folder, `tb/`, a run's
`tb/` folder, `report/`), a lock file that is not its own (a hard link to another file, a
folder), and a FIFO in the place of a record it reads (`sweep.json`, `config.json`,
`result.json`, `normalization.json`, the weights), which must be refused, never waited on.
*/
use std::path::Path;
use std::process::Command;

use super::fixtures::{classify_csv, copy_run, run_path, Kind};
use super::{special, Special};
use crate::common::rowseq;

/// A one-run sweep of a small CSV: `{t}/c.toml` (sweep folder `{t}/out/c`), with its data.
const SWEEP: &[&str] = &[
    "sweep",
    "{t}/c.toml",
    "--out",
    "{t}/out",
    "--device",
    "cpu",
    "--threads",
    "1",
];
/// The same as shard 1 of 2.
const SHARD: &[&str] = &[
    "sweep",
    "{t}/c.toml",
    "--out",
    "{t}/out",
    "--device",
    "cpu",
    "--threads",
    "1",
    "--shard",
    "1/2",
];

/// Lays out the sweep of `SWEEP` (its config, its data, an empty `{t}/out/c`), a folder
/// `{t}/elsewhere` and a file `{t}/victim`; returns the run folder the sweep plans.
fn sweep(t: &Path) -> std::path::PathBuf {
    std::fs::write(t.join("train.csv"), classify_csv(40)).unwrap();
    std::fs::write(t.join("test.csv"), classify_csv(10)).unwrap();
    let toml = format!(
        "dataset = \"csv:{0}/train.csv,{0}/test.csv\"\nnum_units = 4\nval_size = 8\nepochs = 1\n",
        t.display()
    );
    std::fs::write(t.join("c.toml"), toml).unwrap();
    std::fs::create_dir_all(t.join("out/c")).unwrap();
    std::fs::create_dir(t.join("elsewhere")).unwrap();
    std::fs::write(t.join("victim"), "precious").unwrap();
    let out = rowseq()
        .arg("sweep")
        .arg(t.join("c.toml"))
        .arg("--out")
        .arg(t.join("out"))
        .arg("--dry-run")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let id = text.split_whitespace().next().expect("a planned run");
    t.join("out/c").join(id)
}

fn link(to: &Path, at: &Path) {
    std::os::unix::fs::symlink(to, at).unwrap();
}

fn sweep_folder_linked(t: &Path) {
    sweep(t);
    std::fs::remove_dir(t.join("out/c")).unwrap();
    link(&t.join("elsewhere"), &t.join("out/c"));
}

fn run_folder_linked(t: &Path) {
    let run = sweep(t);
    link(&t.join("elsewhere"), &run);
}

fn tb_linked(t: &Path) {
    sweep(t);
    link(&t.join("elsewhere"), &t.join("out/c/tb"));
}

fn tb_run_linked(t: &Path) {
    sweep(t);
    std::fs::create_dir(t.join("out/c/tb")).unwrap();
    link(&t.join("elsewhere"), &t.join("out/c/tb/units=0004,seed=0"));
}

fn tb_a_file(t: &Path) {
    sweep(t);
    std::fs::write(t.join("out/c/tb"), "mine").unwrap();
}

fn report_linked(t: &Path) {
    sweep(t);
    link(&t.join("elsewhere"), &t.join("out/c/report"));
}

/// A finished run in `{t}/run` (a sweep folder without sweep.json) whose `report/` is a link.
fn finished_report_linked(t: &Path) {
    copy_run(Kind::Classify, t);
    std::fs::create_dir(t.join("elsewhere")).unwrap();
    link(&t.join("elsewhere"), &t.join("run/report"));
}

fn hard_link(t: &Path, at: &str) {
    std::fs::hard_link(t.join("victim"), t.join(at)).unwrap();
}

fn lock_hard_linked(t: &Path) {
    sweep(t);
    hard_link(t, "out/c/.lock");
}

fn shard_lock_hard_linked(t: &Path) {
    sweep(t);
    hard_link(t, "out/c/.lock.1-of-2");
}

fn tables_lock_hard_linked(t: &Path) {
    sweep(t);
    hard_link(t, "out/c/.tables.lock");
}

fn run_lock_hard_linked(t: &Path) {
    let run = sweep(t);
    std::fs::create_dir(&run).unwrap();
    std::fs::hard_link(t.join("victim"), run.join(".lock")).unwrap();
}

fn lock_a_folder(t: &Path) {
    sweep(t);
    std::fs::create_dir(t.join("out/c/.lock")).unwrap();
}

fn run_lock_a_folder(t: &Path) {
    let run = sweep(t);
    std::fs::create_dir_all(run.join(".lock")).unwrap();
}

/// Replaces `file` (a path relative to `{t}`) with a FIFO.
fn fifo(t: &Path, file: &Path) {
    let path = t.join(file);
    let _ = std::fs::remove_file(&path);
    let ok = Command::new("mkfifo").arg(&path).status().unwrap();
    assert!(ok.success(), "mkfifo {}", path.display());
}

/// A copied run of `kind` whose record `file` is a FIFO.
fn run_fifo(t: &Path, kind: Kind, file: &str) {
    copy_run(kind, t);
    let run = run_path(t).unwrap();
    fifo(t, &run.join(file));
}

fn sweep_json_fifo(t: &Path) {
    copy_run(Kind::Classify, t);
    fifo(t, Path::new("run/sweep.json"));
}

fn config_fifo(t: &Path) {
    run_fifo(t, Kind::Classify, "config.json");
}

fn result_fifo(t: &Path) {
    run_fifo(t, Kind::Classify, "result.json");
}

fn weights_fifo(t: &Path) {
    run_fifo(t, Kind::Classify, "model.safetensors");
}

fn normalization_fifo(t: &Path) {
    run_fifo(t, Kind::Forecast, "normalization.json");
}

const LINKED: &str = "is a symbolic link: rowseq does not write through links under --out";
const NOT_REGULAR: &str = "cannot read: not a regular file (a FIFO";
const PREDICT: &[&str] = &["predict", "{run}", "{t}/test.csv", "--out", "{t}/p.csv"];

pub const CASES: &[Special] = &[
    // Item 4: no folder under --out that rowseq writes into is a link, and nothing is written
    // before that is checked.
    special(sweep_folder_linked, SWEEP, "{t}/out/c: is a symbolic link"),
    special(sweep_folder_linked, SHARD, "{t}/out/c: is a symbolic link"),
    special(run_folder_linked, SWEEP, LINKED),
    special(tb_linked, SWEEP, "{t}/out/c/tb: is a symbolic link"),
    special(
        tb_run_linked,
        SWEEP,
        "{t}/out/c/tb/units=0004,seed=0: is a symbolic link",
    ),
    special(tb_a_file, SWEEP, "{t}/out/c/tb: is not a folder"),
    special(report_linked, SWEEP, "{t}/out/c/report: is a symbolic link"),
    special(
        finished_report_linked,
        &["report", "{t}/run"],
        "{t}/run/report: is a symbolic link",
    ),
    // Item 5: a lock file is rowseq's own: one link, a regular file.
    special(lock_hard_linked, SWEEP, "{t}/out/c/.lock: has 2 hard links"),
    special(
        shard_lock_hard_linked,
        SHARD,
        "{t}/out/c/.lock.1-of-2: has 2 hard links",
    ),
    special(
        tables_lock_hard_linked,
        SWEEP,
        "{t}/out/c/.tables.lock: has 2 hard links",
    ),
    special(run_lock_hard_linked, SWEEP, "/.lock: has 2 hard links"),
    special(lock_a_folder, SWEEP, "{t}/out/c/.lock: is a folder"),
    special(run_lock_a_folder, SWEEP, "/.lock: is a folder"),
    // Item 8: a FIFO in a record's place is refused, never waited on.
    special(
        sweep_json_fifo,
        &["report", "{t}/run"],
        "{t}/run/sweep.json: cannot read: not a regular file",
    ),
    special(
        sweep_json_fifo,
        &["status", "{t}/run"],
        "{t}/run/sweep.json: cannot read: not a regular file",
    ),
    special(config_fifo, PREDICT, "{run}/config.json: cannot read"),
    special(config_fifo, &["explain", "{run}"], NOT_REGULAR),
    special(result_fifo, PREDICT, "{run}/result.json: cannot read"),
    special(
        weights_fifo,
        PREDICT,
        "{run}/model.safetensors: cannot read",
    ),
    special(
        weights_fifo,
        &["explain", "{run}"],
        "{run}/model.safetensors: cannot read",
    ),
    special(
        normalization_fifo,
        &[
            "predict",
            "{run}",
            "data/sunspots/sunspots.csv",
            "--out",
            "{t}/p.csv",
        ],
        "{run}/normalization.json: cannot read",
    ),
];
