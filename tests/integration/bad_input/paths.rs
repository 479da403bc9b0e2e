/*!
The corpus's cases on paths a user gives that cannot be used (issue #36, item 12): `--out` (or
`--svg`) that is a file, a FIFO or `/dev/null`, that lies under a file, whose folder is missing,
that is a folder where a file is written, a path longer than PATH_MAX, a name longer than a
folder takes, and a `.lock` that is a folder; for `train`, `sweep`, `slurm`, `bench`, `explain
--svg`, `report --out` and `predict --out`. Also what a user's sizes can ask too much of: small
gzip bombs among IDX files (item 9), and models too big for any machine's memory (item 7). Each
is the user's to fix: exit 2, one line naming the path or value and what is expected.
(Read-only folders are not a case: the tests run as root, whom permission bits do not stop.)
*/
use std::io::Write;
use std::path::Path;

use super::fixtures::{copy_run, Kind};
use super::{special, Special};

/// A name of 300 bytes: more than a folder takes (255).
macro_rules! name300 {
    () => {
        "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
    };
}

/// A path of 22 names of 200 bytes: longer than PATH_MAX (4096), each name allowed.
macro_rules! path4k {
    () => {
        "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd/dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd/dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd/dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd/dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd/dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd/dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd/dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd/dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd/dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd/dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd/dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd/dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd/dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd/dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd/dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd/dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd/dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd/dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd/dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd/dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd/dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
    };
}

/// A small MNIST sweep file.
const TOML: &str = "epochs = 1\ntrain_size = 100\nval_size = 50\ntest_size = 50\nnum_units = 4\n";

fn file(t: &Path) {
    std::fs::write(t.join("afile"), "precious").unwrap();
}

/// A JSON file of the user's, not a bench record.
fn notes(t: &Path) {
    std::fs::write(t.join("notes.json"), "{\"kind\": \"mine\"}\n").unwrap();
}

fn fifo(t: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(t.join("fifo"))
        .status()
        .unwrap();
    assert!(status.success());
}

fn folder(t: &Path) {
    std::fs::create_dir(t.join("adir")).unwrap();
}

fn toml(t: &Path) {
    std::fs::write(t.join("c.toml"), TOML).unwrap();
}

fn toml_file(t: &Path) {
    toml(t);
    file(t);
}

fn toml_fifo(t: &Path) {
    toml(t);
    fifo(t);
}

/// A sweep folder `{t}/out/c` whose lock file is a folder.
fn toml_lock_dir(t: &Path) {
    toml(t);
    std::fs::create_dir_all(t.join("out/c/.lock")).unwrap();
}

/// `train`'s sweep folder `{t}/out/mnist` (named after its data) whose lock file is a folder.
fn train_lock_dir(t: &Path) {
    std::fs::create_dir_all(t.join("out/mnist/.lock")).unwrap();
}

/// An IDX file: `magic`, the dimensions, then `payload` zero bytes.
fn idx(magic: u32, dims: &[u32], payload: usize) -> Vec<u8> {
    let mut v = magic.to_be_bytes().to_vec();
    for d in dims {
        v.extend(d.to_be_bytes());
    }
    v.extend(std::iter::repeat_n(0u8, payload));
    v
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// An IDX image set in `{t}/d` (gzipped) of 2x2 images, 4 to train on and 2 to test, whose
/// file `bomb` unpacks to 4 MiB more than its header declares: a small gzip bomb.
fn idx_bomb(t: &Path, bomb: usize) {
    let d = t.join("d");
    std::fs::create_dir(&d).unwrap();
    let files = [
        idx(0x803, &[4, 2, 2], 16),
        idx(0x801, &[4], 4),
        idx(0x803, &[2, 2, 2], 8),
        idx(0x801, &[2], 2),
    ];
    for (i, (name, mut bytes)) in IDX_FILES.iter().zip(files).enumerate() {
        if i == bomb {
            bytes.extend(std::iter::repeat_n(0u8, 4 << 20));
        }
        std::fs::write(d.join(format!("{name}.gz")), gzip(&bytes)).unwrap();
    }
}

const IDX_FILES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

fn bomb_train_images(t: &Path) {
    idx_bomb(t, 0);
}

fn bomb_train_labels(t: &Path) {
    idx_bomb(t, 1);
}

fn bomb_test_images(t: &Path) {
    idx_bomb(t, 2);
}

fn nothing(_: &Path) {}

/// A sweep file of one run too big for any machine's memory.
fn big_toml(t: &Path) {
    std::fs::write(
        t.join("c.toml"),
        "num_units = 65536\nlayers = 100\nepochs = 1\n",
    )
    .unwrap();
}

fn run(t: &Path) {
    copy_run(Kind::Classify, t);
}

fn run_file(t: &Path) {
    run(t);
    file(t);
}

fn run_fifo(t: &Path) {
    run(t);
    fifo(t);
}

fn run_folder(t: &Path) {
    run(t);
    folder(t);
}

fn run_notes_folder(t: &Path) {
    run(t);
    std::fs::create_dir(t.join("mine")).unwrap();
    std::fs::write(t.join("mine/summary.csv"), "mine\n").unwrap();
}

/// `rowseq train` (a small MNIST run) into `--out $out`.
macro_rules! train {
    ($out:expr) => {
        &[
            "train",
            "--epochs",
            "1",
            "--train-size",
            "100",
            "--val-size",
            "50",
            "--test-size",
            "50",
            "--num-units",
            "4",
            "--device",
            "cpu",
            "--out",
            $out,
        ]
    };
}

/// `rowseq sweep {t}/c.toml --out $out`.
macro_rules! sweep {
    ($out:expr) => {
        &["sweep", "{t}/c.toml", "--device", "cpu", "--out", $out]
    };
}

/// `rowseq slurm {t}/c.toml --out $out`.
macro_rules! slurm {
    ($out:expr) => {
        &["slurm", "{t}/c.toml", "--out", $out]
    };
}

/// `rowseq bench` (one small width, no PyTorch) with `--out $out`.
macro_rules! bench {
    ($out:expr) => {
        &[
            "bench",
            "--units",
            "4",
            "--no-reference",
            "--device",
            "cpu",
            "--out",
            $out,
        ]
    };
}

/// `rowseq explain` of a small LSTM with `--svg $out`.
macro_rules! explain {
    ($out:expr) => {
        &["explain", "--num-units", "4", "--svg", $out]
    };
}

/// `rowseq predict` of the copied run on its test file with `--out $out`.
macro_rules! predict {
    ($out:expr) => {
        &["predict", "{run}", "{t}/test.csv", "--out", $out]
    };
}

/// `rowseq report` of the copied run's folder with `--out $out`.
macro_rules! report {
    ($out:expr) => {
        &["report", "{t}/run", "--out", $out]
    };
}

const UNDER_FILE: &str = "{t}/afile: is a file, not a folder";
const FIFO: &str = "{t}/fifo: is a FIFO, not a folder";
const DEV_NULL: &str = "/dev/null: is a character device, not a folder";
const NAME_TOO_LONG: &str = "bytes long: expected names of at most 255 bytes";
const PATH_TOO_LONG: &str = "bytes long: expected at most 4095 bytes";
const MISSING: &str = "{t}/nodir: no such folder: expected an existing folder";
const PROC: &str = "/proc/rowseq-out: cannot be created here: expected a folder you can write to";
const PROC_FILE: &str =
    "/proc/rowseq-p.csv: cannot be created here: expected a folder you can write to";
const PROC_REPORT: &str =
    "/proc/rowseq-report: cannot be created here: expected a folder you can write to";
const IS_FOLDER: &str = "{t}/adir: is a folder: expected a file's path";
const FILE_FIFO: &str = "{t}/fifo: is a FIFO: expected a file's path";

pub const CASES: &[Special] = &[
    // train: --out is a file, a FIFO, /dev/null, under a file, too long; a lock that is a folder.
    special(file, train!("{t}/afile"), UNDER_FILE),
    special(file, train!("{t}/afile/sub"), UNDER_FILE),
    special(fifo, train!("{t}/fifo"), FIFO),
    special(file, train!("/dev/null"), DEV_NULL),
    special(file, train!(concat!("{t}/", name300!())), NAME_TOO_LONG),
    special(file, train!(concat!("{t}/", path4k!())), PATH_TOO_LONG),
    special(
        train_lock_dir,
        train!("{t}/out"),
        "{t}/out/mnist/.lock: is a folder: expected rowseq's lock file",
    ),
    // sweep: the same.
    special(toml_file, sweep!("{t}/afile"), UNDER_FILE),
    special(toml_file, sweep!("{t}/afile/x/y"), UNDER_FILE),
    special(toml_fifo, sweep!("{t}/fifo"), FIFO),
    special(toml, sweep!("/dev/null"), DEV_NULL),
    // A folder that its file system will not make though every folder above it exists.
    special(toml, sweep!("/proc/rowseq-out"), PROC),
    special(toml, sweep!(concat!("{t}/", name300!())), NAME_TOO_LONG),
    special(toml, sweep!(concat!("{t}/", path4k!())), PATH_TOO_LONG),
    special(
        toml_lock_dir,
        sweep!("{t}/out"),
        "{t}/out/c/.lock: is a folder: expected rowseq's lock file",
    ),
    // slurm: the folder its script goes in.
    special(toml_file, slurm!("{t}/afile"), UNDER_FILE),
    special(toml_file, slurm!("{t}/afile/x"), UNDER_FILE),
    special(toml_fifo, slurm!("{t}/fifo"), FIFO),
    special(toml, slurm!(concat!("{t}/", name300!())), NAME_TOO_LONG),
    // bench: the record's file, checked before measuring.
    special(file, bench!("{t}/afile/b.json"), UNDER_FILE),
    special(folder, bench!("{t}/adir"), IS_FOLDER),
    // A file of the user's that is not a bench record is never replaced (no --force).
    special(
        notes,
        bench!("{t}/notes.json"),
        "{t}/notes.json: --out: exists and is not a bench record that rowseq wrote: pass --force",
    ),
    special(fifo, bench!("{t}/fifo/b.json"), FIFO),
    special(
        file,
        bench!(concat!("{t}/", name300!(), "/b.json")),
        NAME_TOO_LONG,
    ),
    // explain --svg: a file written where the user says.
    special(file, explain!("{t}/afile/d.svg"), UNDER_FILE),
    special(file, explain!("{t}/nodir/d.svg"), MISSING),
    special(folder, explain!("{t}/adir"), IS_FOLDER),
    special(fifo, explain!("{t}/fifo"), FILE_FIFO),
    special(
        file,
        explain!(concat!("{t}/", name300!(), ".svg")),
        NAME_TOO_LONG,
    ),
    special(
        file,
        explain!(concat!("{t}/", path4k!(), ".svg")),
        PATH_TOO_LONG,
    ),
    // report --out: the report's folder.
    special(run_file, report!("{t}/afile"), UNDER_FILE),
    special(run_file, report!("{t}/afile/r"), UNDER_FILE),
    special(run_fifo, report!("{t}/fifo"), FIFO),
    special(run, report!(concat!("{t}/", name300!())), NAME_TOO_LONG),
    // A folder of the user's: never written over (a report's own folder is reused).
    special(
        run_notes_folder,
        report!("{t}/mine"),
        "{t}/mine: --out: holds files and no report that rowseq wrote",
    ),
    // predict --out: the predictions' file.
    special(run_file, predict!("{t}/afile/p.csv"), UNDER_FILE),
    special(run, predict!("{t}/nodir/p.csv"), MISSING),
    special(run, predict!("/proc/rowseq-p.csv"), PROC_FILE),
    special(run, report!("/proc/rowseq-report"), PROC_REPORT),
    special(run_folder, predict!("{t}/adir"), IS_FOLDER),
    special(run_fifo, predict!("{t}/fifo"), FILE_FIFO),
    special(
        run,
        predict!(concat!("{t}/", name300!(), ".csv")),
        NAME_TOO_LONG,
    ),
    // A gzip bomb (item 9): reading stops at the first byte past the declared size.
    special(
        bomb_train_images,
        &["train", "--dataset", "idx:{t}/d", "--out", "{t}/out"],
        "{t}/d/train-images-idx3-ubyte.gz: oversized file: more than the 32 bytes expected for 4 images",
    ),
    special(
        bomb_train_labels,
        &["train", "--dataset", "idx:{t}/d", "--out", "{t}/out"],
        "{t}/d/train-labels-idx1-ubyte.gz: oversized file: more than the 12 bytes expected for 4 labels",
    ),
    special(
        bomb_test_images,
        &["explain", "--dataset", "idx:{t}/d"],
        "{t}/d/t10k-images-idx3-ubyte.gz: oversized file: more than the 24 bytes expected for 2 images",
    ),
    // Models too big for memory (item 7): refused before anything is written, with the
    // arithmetic; each needs far more than any machine has (tens of TiB).
    special(
        nothing,
        &["train", "--num-units", "65536", "--layers", "100", "--device", "cpu", "--out", "{t}/out"],
        "num_units = 65536 with layers = 100 needs about",
    ),
    special(
        nothing,
        &[
            "train",
            "--num-units",
            "65536",
            "--layers",
            "100",
            "--bidirectional",
            "--device",
            "cpu",
            "--out",
            "{t}/out",
        ],
        "num_units = 65536 with layers = 100, bidirectional needs about",
    ),
    special(
        nothing,
        &["train", "--num-units", "65536", "--layers", "100", "--cell", "gru", "--device", "cpu", "--out", "{t}/out"],
        "GiB of memory for weights and training state, more than the",
    ),
    special(
        big_toml,
        sweep!("{t}/out"),
        "num_units = 65536 with layers = 100 needs about",
    ),
    special(
        nothing,
        &[
            "bench",
            "--units",
            "8,65536",
            "--batch-size",
            "60000",
            "--no-reference",
            "--device",
            "cpu",
            "--out",
            "{t}/b.json",
        ],
        "--units 65536: num_units = 65536 with layers = 1 needs about",
    ),
];
