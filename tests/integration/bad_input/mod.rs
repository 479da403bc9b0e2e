/*!
The bad-input corpus: one table of inputs a user gets wrong (config files and their names,
`--set` overrides, flags, data files, results folders), each run through the real binary. Every
case must end with its exit code (2: a mistake the user can fix), print exactly one line
`error: ...` that names the origin (file:line, key, flag or path) and what is expected, never
panic, and write nothing: the case's folder, where `--out` points, is the same after as before.
*/
use std::collections::BTreeMap;
use std::path::Path;

use crate::common::rowseq;

mod fixtures;
mod links;
mod paths;
mod records;
mod runs;

/// The corpus's other tables: cases whose inputs are more than text files (links, FIFOs,
/// finished runs, edited records), one module per area.
const SPECIAL: &[&[Special]] = &[runs::CASES, links::CASES, paths::CASES, records::CASES];

/// A case that `setup` lays out in `{t}` (files, links, a copy of a finished run, which the
/// arguments name `{run}`) before the same checks as a `Case`. `exit` is what it must end with: 2 for a user's mistake.
pub struct Special {
    pub setup: fn(&Path),
    pub args: &'static [&'static str],
    pub want: &'static str,
    pub exit: i32,
}

/// A special case that must end with exit 2.
pub const fn special(
    setup: fn(&Path),
    args: &'static [&'static str],
    want: &'static str,
) -> Special {
    Special {
        setup,
        args,
        want,
        exit: 2,
    }
}

/// One bad input: files to lay out in a fresh folder `{t}`, the arguments (with `{t}` replaced
/// by that folder), and a text the error line must contain (with `{t}` replaced too).
struct Case {
    files: &'static [(&'static str, &'static str)],
    args: &'static [&'static str],
    want: &'static str,
}

const fn case(
    files: &'static [(&'static str, &'static str)],
    args: &'static [&'static str],
    want: &'static str,
) -> Case {
    Case { files, args, want }
}

/// A sweep of `c.toml` in `{t}`, written into `{t}/out`.
const SWEEP: &[&str] = &["sweep", "{t}/c.toml", "--out", "{t}/out", "--device", "cpu"];

/// `c.toml` holding `text`, swept.
macro_rules! toml_case {
    ($text:expr, $want:expr) => {
        case(&[("c.toml", $text)], SWEEP, $want)
    };
}

/// `rowseq train` with these flags, into `{t}/out`.
macro_rules! train_case {
    ([$($arg:expr),*], $want:expr) => {
        case(
            &[],
            &["train", $($arg,)* "--out", "{t}/out", "--device", "cpu"],
            $want,
        )
    };
}

/// A wide CSV pair: the train file given, a valid test file.
const CSV_TEST: (&str, &str) = ("test.csv", "label,t0,t1\na,1,2\nb,3,4\n");
const CSV_ARGS: &[&str] = &[
    "train",
    "--dataset",
    "csv:{t}/train.csv,{t}/test.csv",
    "--val-size",
    "1",
    "--out",
    "{t}/out",
    "--device",
    "cpu",
];

const CASES: &[Case] = &[
    // Keys and values of a sweep file: file:line, the key and what is expected.
    toml_case!(
        "num_units = 8\nnum_unit = 4\n",
        "{t}/c.toml:2: unknown key `num_unit`"
    ),
    toml_case!(
        "num_units = 0",
        "{t}/c.toml:1: num_units = 0: expected a whole number"
    ),
    toml_case!("num_units = -5", "num_units = -5: expected a whole number"),
    toml_case!(
        "num_units = 70000",
        "num_units = 70000: expected a whole number of hidden units from 1 to 65536"
    ),
    toml_case!(
        "num_units = 1.5",
        "num_units = 1.5: expected a whole number"
    ),
    toml_case!(
        "num_units = []",
        "num_units = []: expected at least one value"
    ),
    toml_case!(
        "num_units = [8, \"x\"]",
        "num_units = \"x\": expected a whole number"
    ),
    toml_case!(
        "lr = 0",
        "{t}/c.toml:1: lr = 0: expected a learning rate > 0"
    ),
    toml_case!("lr = -1", "lr = -1: expected a learning rate > 0"),
    toml_case!(
        "lr = 1e300",
        "lr = 1e300: expected a learning rate > 0 (and at most 3.4e38"
    ),
    toml_case!("lr = nan", "lr = nan: expected a learning rate"),
    toml_case!("lr = inf", "lr = inf: expected a learning rate"),
    toml_case!("lr = \"fast\"", "lr = \"fast\": expected a learning rate"),
    toml_case!(
        "epochs = 0",
        "epochs = 0: expected a whole number of epochs"
    ),
    toml_case!(
        "epochs = 1.5",
        "epochs = 1.5: expected a whole number of epochs"
    ),
    toml_case!("batch_size = 0", "batch_size = 0: expected a batch size"),
    toml_case!(
        "schedule = \"step\"",
        "schedule = \"step\": expected \"cosine\" or \"constant\""
    ),
    toml_case!(
        "cell = \"transformer\"",
        "cell = \"transformer\": expected \"lstm\", \"gru\" or \"rnn\""
    ),
    toml_case!(
        "layers = 0",
        "layers = 0: expected a whole number of stacked layers"
    ),
    toml_case!(
        "layers = 101",
        "layers = 101: expected a whole number of stacked layers"
    ),
    toml_case!(
        "layers = 2\ndropout = 1.0",
        "{t}/c.toml:2: dropout = 1.0: expected a dropout probability"
    ),
    toml_case!(
        "\ndropout = 0.2",
        "{t}/c.toml:2: dropout = 0.2 with layers = 1: expected layers >= 2"
    ),
    toml_case!(
        "bidirectional = \"yes\"",
        "bidirectional = \"yes\": expected true or false"
    ),
    toml_case!("seed = -1", "seed = -1: expected a non-negative integer"),
    toml_case!(
        "val_size = 0",
        "val_size = 0: expected at least 1 validation example"
    ),
    toml_case!(
        "train_size = -1",
        "train_size = -1: expected a non-negative number"
    ),
    toml_case!(
        "clip_grad_norm = -1",
        "clip_grad_norm = -1: expected a gradient-norm bound >= 0"
    ),
    toml_case!(
        "dataset = \"imagenet\"",
        "dataset = \"imagenet\": expected \"mnist\""
    ),
    toml_case!("dataset = \"ts:\"", "dataset = \"ts:\": expected"),
    toml_case!(
        "csv_layout = \"tall\"",
        "csv_layout = \"tall\": expected \"wide\""
    ),
    toml_case!(
        "label_column = \" \"",
        "label_column = \" \": expected a column name"
    ),
    toml_case!(
        "normalize = \"minmax\"",
        "normalize = \"minmax\": expected \"feature\""
    ),
    toml_case!(
        "\nnormalize = \"series\"",
        "{t}/c.toml:2: normalize = \"series\": applies to ts: and csv: series only"
    ),
    toml_case!(
        "patch = 0",
        "patch = 0: expected a whole number of values per timestep"
    ),
    toml_case!(
        "patch = \"big\"",
        "patch = \"big\": expected a whole number of values"
    ),
    toml_case!(
        "name = \"../x\"",
        "{t}/c.toml:1: name = \"../x\": expected a folder name"
    ),
    toml_case!("name = \"..\"", "name = \"..\": expected a folder name"),
    toml_case!("name = 5", "name = 5: expected a folder name"),
    toml_case!("num_units = [8,\nseed = ", "{t}/c.toml:2: invalid TOML"),
    toml_case!(
        "num_units = 8\nnum_units = 16",
        "{t}/c.toml:2: invalid TOML"
    ),
    toml_case!("[grid]\nnum_units = 8", "{t}/c.toml:1: unknown key `grid`"),
    // Checks that need the data name where the key was set.
    toml_case!(
        "\nval_size = 70000",
        "{t}/c.toml:2: val_size = 70000: expected at most 59999 for mnist"
    ),
    toml_case!(
        "train_size = 100000",
        "{t}/c.toml:1: train_size = 100000: expected at most"
    ),
    toml_case!(
        "test_size = 20000",
        "{t}/c.toml:1: test_size = 20000: expected at most 10000"
    ),
    toml_case!("dataset = \"csv:a.csv,b.csv\"\nepochs = 1", "a.csv"),
    // The config file itself, and the folder name taken from it.
    case(
        &[("...toml", "epochs = 1")],
        &["sweep", "{t}/...toml", "--out", "{t}/out"],
        "the file name gives the sweep folder name \"..\"",
    ),
    case(
        &[(".hidden.toml", "epochs = 1")],
        &["sweep", "{t}/.hidden.toml", "--out", "{t}/out"],
        "the file name gives the sweep folder name \".hidden\"",
    ),
    case(
        &[("..toml", "epochs = 1")],
        &["sweep", "{t}/..toml", "--out", "{t}/out"],
        "the file name gives the sweep folder name \".\"",
    ),
    case(
        &[("my sweep.toml", "epochs = 1")],
        &["sweep", "{t}/my sweep.toml", "--out", "{t}/out"],
        "folder name \"my sweep\": expected a folder name",
    ),
    case(
        &[("ünï.toml", "epochs = 1")],
        &["sweep", "{t}/ünï.toml", "--out", "{t}/out"],
        "folder name \"ünï\"",
    ),
    case(
        &[],
        &["sweep", "{t}/missing.toml", "--out", "{t}/out"],
        "{t}/missing.toml: cannot read the sweep config",
    ),
    case(
        &[],
        &["sweep", "/dev/zero", "--out", "{t}/out"],
        "/dev/zero: not a regular file",
    ),
    case(
        &[],
        &["sweep", "/dev/null", "--out", "{t}/out"],
        "/dev/null: not a regular file",
    ),
    case(
        &[("d/x", "")],
        &["sweep", "{t}/d", "--out", "{t}/out"],
        "{t}/d: not a regular file",
    ),
    case(
        &[("c.toml", "\u{0}\u{0}")],
        SWEEP,
        "{t}/c.toml:1: invalid TOML",
    ),
    // Overrides: the override named, and its reason.
    case(
        &[("c.toml", "epochs = 1")],
        &[
            "sweep",
            "{t}/c.toml",
            "--out",
            "{t}/out",
            "--set",
            "epochs=",
        ],
        "--set epochs=: invalid TOML: ",
    ),
    case(
        &[("c.toml", "epochs = 1")],
        &["sweep", "{t}/c.toml", "--out", "{t}/out", "--set", "lr"],
        "--set lr: expected key=value",
    ),
    case(
        &[("c.toml", "epochs = 1")],
        &["sweep", "{t}/c.toml", "--out", "{t}/out", "--set", "foo=1"],
        "--set foo=1: unknown key `foo`",
    ),
    case(
        &[("c.toml", "epochs = 1")],
        &["sweep", "{t}/c.toml", "--out", "{t}/out", "--set", "lr=0"],
        "--set lr=0: lr = 0: expected",
    ),
    case(
        &[("c.toml", "epochs = 1")],
        &[
            "sweep",
            "{t}/c.toml",
            "--out",
            "{t}/out",
            "--set",
            "num_units=[8,\"x\"]",
        ],
        "--set num_units=[8,\"x\"]: num_units = \"x\"",
    ),
    case(
        &[("c.toml", "epochs = 1")],
        &[
            "sweep",
            "{t}/c.toml",
            "--out",
            "{t}/out",
            "--set",
            "val_size=70000",
        ],
        "--set val_size=70000: val_size = 70000: expected at most 59999",
    ),
    // Flags of `train`: the flag, its value and what is expected.
    train_case!(["--lr", "nan"], "--lr nan: expected a learning rate > 0"),
    train_case!(
        ["--lr", "1e300"],
        "--lr 1e300: expected a learning rate > 0 (and at most"
    ),
    train_case!(
        ["--num-units", "0"],
        "--num-units 0: expected a whole number"
    ),
    train_case!(
        ["--dropout", "0.2"],
        "--dropout 0.2: expected 0 with --layers 1"
    ),
    train_case!(
        ["--epochs", "0"],
        "--epochs 0: expected a whole number of epochs"
    ),
    train_case!(["--threads", "0"], "--threads 0: expected 1 to"),
    train_case!(["--threads", "100000"], "--threads 100000: expected 1 to"),
    train_case!(
        ["--val-size", "70000"],
        "--val-size: val_size = 70000: expected at most 59999 for mnist"
    ),
    train_case!(
        ["--cell", "transformer"],
        "'--cell <CELL>': expected \"lstm\", \"gru\" or \"rnn\""
    ),
    train_case!(
        ["--num-units", "many"],
        "invalid value 'many' for '--num-units"
    ),
    train_case!(["--jobs", "0"], "invalid value '0' for '--jobs"),
    train_case!(
        ["--shard", "5/4"],
        "--shard 5/4: expected K/N with 1 <= K <= N"
    ),
    train_case!(["--shard", "x"], "--shard x: expected K/N"),
    case(
        &[],
        &["train", "--device", "cuda", "--out", "{t}/out"],
        "--device cuda: libtorch sees no CUDA GPU",
    ),
    train_case!(
        ["--dataset", "nope"],
        "expected \"mnist\", \"fashion-mnist\""
    ),
    train_case!(["--bogus"], "unexpected argument '--bogus'"),
    train_case!(["--name", ".."], "--name \"..\": expected a folder name"),
    train_case!(["--dataset", "ts:{t}/none/X"], "{t}/none/X_TRAIN.ts"),
    train_case!(["--data-dir", "{t}/empty"], "{t}/empty"),
    // Data files: the file (and line) and what is expected.
    case(
        &[("train.csv", "label,a,a\nx,1,2\ny,3,4\n"), CSV_TEST],
        CSV_ARGS,
        "{t}/train.csv:1: column \"a\" appears twice in the header",
    ),
    case(
        &[("train.csv", "label,t0,t1\nx,1,two\ny,3,4\n"), CSV_TEST],
        CSV_ARGS,
        "{t}/train.csv:2:",
    ),
    case(
        &[("train.csv", "label,t0,t1\nx,1\ny,3,4\n"), CSV_TEST],
        CSV_ARGS,
        "{t}/train.csv:2: 2 fields: expected 3",
    ),
    case(
        &[("train.csv", ""), CSV_TEST],
        CSV_ARGS,
        "{t}/train.csv: empty file",
    ),
    case(
        &[("train.csv", "t0,t1\n1,2\n"), CSV_TEST],
        CSV_ARGS,
        "{t}/train.csv:1: no column \"label\"",
    ),
    case(
        &[("X_TRAIN.ts", "not a ts file\n"), ("X_TEST.ts", "")],
        &["train", "--dataset", "ts:{t}/X", "--out", "{t}/out"],
        "{t}/X_TRAIN.ts",
    ),
    // Results folders.
    case(
        &[],
        &["status", "{t}/nope"],
        "{t}/nope/sweep.json: cannot read",
    ),
    case(
        &[("sweep.json", "{\"name\": 1}")],
        &["status", "{t}"],
        "{t}/sweep.json: not a rowseq sweep record",
    ),
    case(
        &[],
        &["report", "{t}/nope"],
        "{t}/nope: no such sweep folder",
    ),
    case(
        &[("x.txt", "")],
        &["report", "{t}"],
        "{t}: not a rowseq sweep folder",
    ),
    case(
        &[],
        &["explain", "{t}"],
        "{t}: not a run folder: expected config.json",
    ),
    case(
        &[("config.json", "{\"dataset\": 3}")],
        &["explain", "{t}"],
        "{t}/config.json: not a rowseq run config",
    ),
    case(
        &[],
        &["explain", "--num-units", "0"],
        "--num-units 0: expected a whole number",
    ),
    // Slurm: paths go into the script's lines.
    case(
        &[("c.toml", "epochs = 1")],
        &["slurm", "{t}/c.toml", "--out", "{t}/o\nut"],
        "--out \"{t}/o\\nut\": expected a value without line breaks",
    ),
    case(
        &[("c.toml", "epochs = 1")],
        &["slurm", "{t}/c.toml", "--out", "{t}/out", "--threads", "0"],
        "invalid value '0' for '--threads",
    ),
    case(
        &[("c.toml", "epochs = 1")],
        &["slurm", "{t}/c.toml", "--out", "{t}/out", "--set", "lr=0"],
        "--set lr=0: lr = 0: expected",
    ),
    // Repeated header names in a series file (classification's are refused above).
    case(
        &[("s.csv", "spots,spots\n1700,5\n1701,11\n1702,16\n")],
        &[
            "train",
            "--dataset",
            "csv:{t}/s.csv",
            "--task",
            "forecast",
            "--out",
            "{t}/out",
        ],
        "{t}/s.csv:1: column \"spots\" appears twice in the header",
    ),
    case(
        &[("s.csv", "year,spots,year\n1700,5,1\n1701,11,2\n")],
        &[
            "train",
            "--dataset",
            "csv:{t}/s.csv",
            "--task",
            "forecast",
            "--out",
            "{t}/out",
        ],
        "{t}/s.csv:1: column \"year\" appears twice in the header",
    ),
    case(
        &[("s.csv", "a,b,a\n1,2,3\n4,5,6\n")],
        &[
            "train",
            "--dataset",
            "csv:{t}/s.csv",
            "--task",
            "forecast",
            "--columns",
            "b",
            "--out",
            "{t}/out",
        ],
        "{t}/s.csv:1: column \"a\" appears twice in the header",
    ),
    // Keys of the long CSV layout with a wide file.
    case(
        &[("train.csv", "label,t0,t1\nx,1,2\ny,3,4\n"), CSV_TEST],
        &[
            "train",
            "--dataset",
            "csv:{t}/train.csv,{t}/test.csv",
            "--id-column",
            "sid",
            "--out",
            "{t}/out",
        ],
        "--id-column sid: applies to csv_layout = \"long\" only",
    ),
    case(
        &[("train.csv", "label,t0,t1\nx,1,2\ny,3,4\n"), CSV_TEST],
        &[
            "train",
            "--dataset",
            "csv:{t}/train.csv,{t}/test.csv",
            "--time-column",
            "t",
            "--out",
            "{t}/out",
        ],
        "--time-column t: applies to csv_layout = \"long\" only",
    ),
    toml_case!(
        "dataset = \"csv:a.csv,b.csv\"\nid_column = \"sid\"",
        "id_column = \"sid\": applies to csv_layout = \"long\" only"
    ),
    // Control characters in names, paths and values are escaped: one line, inert.
    train_case!(
        ["--name", "a\nb"],
        "--name \"a\\nb\": expected a folder name"
    ),
    train_case!(
        ["--dataset", "csv:x\u{1b}[31mred"],
        "--dataset csv:x\\u{1b}[31mred:"
    ),
    train_case!(["--dataset", "ts:{t}/no\nne/X"], "{t}/no\\nne/X_TRAIN.ts"),
    train_case!(
        ["--num-units", "1\n2"],
        "invalid value '1\\n2' for '--num-units"
    ),
    case(
        &[],
        &["sweep", "{t}/no\nfile.toml", "--out", "{t}/out"],
        "{t}/no\\nfile.toml: cannot read the sweep config",
    ),
    case(
        &[],
        &["sweep", "{t}/\u{1b}]0;title\u{7}.toml", "--out", "{t}/out"],
        "{t}/\\u{1b}]0;title\\u{7}.toml: cannot read",
    ),
    case(
        &[("c.toml", "epochs = 1")],
        &[
            "sweep",
            "{t}/c.toml",
            "--set",
            "lr=0\n1",
            "--out",
            "{t}/out",
        ],
        "lr",
    ),
    case(
        &[],
        &["status", "{t}/x\ny"],
        "{t}/x\\ny/sweep.json: cannot read",
    ),
    // Negative numbers are values of their flag, out of its range.
    train_case!(
        ["--num-units", "-1"],
        "--num-units -1: expected a whole number of hidden units from 1 to 65536"
    ),
    train_case!(["--val-size", "-5"], "'--val-size <VAL_SIZE>'"),
    train_case!(
        ["--clip-grad-norm", "-0.5"],
        "--clip-grad-norm -0.5: expected a gradient-norm bound >= 0"
    ),
    train_case!(["--lr", "-1"], "--lr -1.0: expected a learning rate > 0"),
    train_case!(
        ["--epochs", "-3"],
        "invalid value '-3' for '--epochs <EPOCHS>': expected a whole number of epochs"
    ),
    train_case!(
        ["--seed", "-1"],
        "invalid value '-1' for '--seed <SEED>': expected a non-negative integer"
    ),
    train_case!(["--threads", "-2"], "invalid value '-2' for '--threads"),
    train_case!(["--jobs", "-2"], "'--jobs"),
    train_case!(
        ["--dropout", "-0.1"],
        "--dropout -0.1: expected a dropout probability"
    ),
    case(
        &[],
        &[
            "bench",
            "--units",
            "-5",
            "--out",
            "{t}/b.json",
            "--no-reference",
        ],
        "--units -5: widths from 1 to 65536",
    ),
    case(
        &[],
        &[
            "bench",
            "--units",
            "8,-16",
            "--out",
            "{t}/b.json",
            "--no-reference",
        ],
        "--units -16",
    ),
    case(
        &[],
        &["explain", "--num-units", "-8"],
        "--num-units -8: expected a whole number",
    ),
    case(
        &[("c.toml", "epochs = 1")],
        &["slurm", "{t}/c.toml", "--out", "{t}/out", "--threads", "-2"],
        "invalid value '-2' for '--threads",
    ),
];

/// Every file, folder and link under `dir`, relative to it, with what it holds: a file's bytes,
/// a link's target (never followed), "dir", or the kind of anything else (a FIFO is never read).
fn listing(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    use std::os::unix::fs::FileTypeExt;
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let name = p.strip_prefix(dir).unwrap().display().to_string();
            let kind = e.file_type().unwrap();
            let what = if kind.is_symlink() {
                format!("link {}", std::fs::read_link(&p).unwrap().display()).into_bytes()
            } else if kind.is_dir() {
                stack.push(p);
                b"dir".to_vec()
            } else if kind.is_file() {
                std::fs::read(&p).unwrap_or_else(|_| b"unreadable".to_vec())
            } else if kind.is_fifo() {
                b"fifo".to_vec()
            } else {
                b"other".to_vec()
            };
            out.insert(name, what);
        }
    }
    out
}

/// Runs one case; None if it behaved, else what went wrong.
fn check(case: &Case) -> Option<String> {
    let files = case.files;
    let setup = move |t: &Path| {
        for (name, text) in files {
            let path = t.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap();
        }
    };
    check_with(&setup, case.args, case.want, 2)
}

/// Runs one special case; None if it behaved, else what went wrong.
fn check_special(case: &Special) -> Option<String> {
    check_with(&case.setup, case.args, case.want, case.exit)
}

/// Lays out `{t}` with `setup`, runs `args` and checks the contract: exit `exit`, one line
/// `error: ...` containing `want`, no panic, and every file and folder around `{t}` as it was.
fn check_with(setup: &dyn Fn(&Path), args: &[&str], want: &str, exit: i32) -> Option<String> {
    // The parent folder of {t} shows whether anything landed beside it (a sweep named "..").
    let parent = tempfile::tempdir().unwrap();
    let t = parent.path().join("t");
    std::fs::create_dir(&t).unwrap();
    setup(&t);
    let run = fixtures::run_path(&t).unwrap_or_default();
    let subst = |s: &str| {
        s.replace("{run}", &run.display().to_string())
            .replace("{t}", &t.display().to_string())
    };
    let before = listing(parent.path());
    let args: Vec<String> = args.iter().map(|a| subst(a)).collect();
    // A case that hangs (a FIFO read) fails rather than stalling the corpus.
    let output = match rowseq()
        .args(&args)
        .timeout(std::time::Duration::from_secs(300))
        .output()
    {
        Ok(output) => output,
        Err(e) => return Some(format!("{args:?}: {e} (no end within 300 s)")),
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    let want = subst(want);
    let mut wrong = Vec::new();
    if output.status.code() != Some(exit) {
        wrong.push(format!("exit {:?}, expected {exit}", output.status.code()));
    }
    if stderr.contains("panicked") {
        wrong.push("panicked".into());
    }
    let lines: Vec<&str> = stderr.trim_end().lines().collect();
    if lines.len() != 1 || !lines[0].starts_with("error: ") {
        wrong.push(format!(
            "expected one line \"error: ...\", got {}",
            lines.len()
        ));
    }
    if !stderr.contains(&want) {
        wrong.push(format!("no {want:?}"));
    }
    let after = listing(parent.path());
    if after != before {
        let changed: Vec<_> = after
            .iter()
            .filter(|(k, v)| before.get(*k) != Some(v))
            .map(|(k, _)| k)
            .chain(before.keys().filter(|k| !after.contains_key(*k)))
            .collect();
        wrong.push(format!("wrote or changed {changed:?}"));
    }
    (!wrong.is_empty()).then(|| format!("{args:?}: {}\n    stderr: {stderr}", wrong.join("; ")))
}

#[test]
fn every_bad_input_is_one_line_exit_2_and_writes_nothing() {
    let specials: Vec<&'static Special> = SPECIAL.iter().flat_map(|t| t.iter()).collect();
    let total = CASES.len() + specials.len();
    assert!(total >= 60, "{total} cases");
    // Two at a time: each case is a process of its own.
    let (a, b) = CASES.split_at(CASES.len() / 2);
    let (c, d) = specials.split_at(specials.len() / 2);
    let failures: Vec<String> = std::thread::scope(|s| {
        let run = |cases: &'static [Case], specials: &[&'static Special]| {
            let specials = specials.to_vec();
            s.spawn(move || {
                let mut f: Vec<String> = cases.iter().filter_map(check).collect();
                f.extend(specials.into_iter().filter_map(check_special));
                f
            })
        };
        let (ha, hb) = (run(a, c), run(b, d));
        let mut all = ha.join().unwrap();
        all.extend(hb.join().unwrap());
        all
    });
    assert!(
        failures.is_empty(),
        "{} of {total} cases misbehaved:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
