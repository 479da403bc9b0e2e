/*!
Reading the dataset a config names into what was loaded (`Loaded`, returned with its spec and
the training file's SHA-256, from which `Source` is made): MNIST and other IDX image sets
(`idx`) as labelled sequences of rows scaled byte / 255, `ts:` and `csv:` series sets (`ts`,
`csv`, checked against each other and padded by `series::to_tensors`) as labelled sequences, and
one series to forecast (`forecast::read`). The SHA-256 of a series set's training file is what
a run records.
*/
use std::path::{Path, PathBuf};

use tch::{Kind, Tensor};

use super::folders;
use super::series::Sequences;
use super::series::{self, SeriesFile};
use super::{csv, forecast, idx, npz, ts, Split};
use crate::config::dataset::{self as spec, Spec};
use crate::config::{RunConfig, Task, ValSplit};
use crate::error::UserError;

/// What a dataset holds once read. A new kind of data is a new variant, with its reader in
/// `load` and its split beside the others.
pub enum Loaded {
    /// Labelled sequences (image sets, `ts:`, `csv:TRAIN,TEST`): a training and a test set.
    Sequences(Sequences),
    /// One series in time order, or a panel of many (`csv:SERIES.csv`, forecasting): the
    /// windows of a run depend on its keys.
    Series(forecast::Panel),
}

/// Fashion-MNIST's class names, by label.
const FASHION_CLASSES: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

/// Reads the dataset `cfg` names (for `Source::load_with_test`): its spec, what was loaded and
/// the training file's SHA-256; `data_dir` replaces
/// `data/<name>` for named datasets, `test` the test file of a series set or the series.
pub fn load(
    cfg: &RunConfig,
    data_dir: Option<&Path>,
    test: Option<&Path>,
) -> Result<(Spec, Loaded, Option<String>), UserError> {
    let spec = Spec::parse(&cfg.dataset).map_err(|m| UserError::Config {
        origin: "dataset".into(),
        message: format!("{m}: expected {}", spec::EXPECTED),
    })?;
    let dir = named_folder(&spec, &cfg.dataset, data_dir)?;
    if cfg.val_split == ValSplit::File
        && !matches!(spec, Spec::Ts { .. } | Spec::Csv { .. } | Spec::Npz { .. })
    {
        return Err(UserError::Config {
            origin: "val_split".into(),
            message: format!(
                "val_split = \"file\": applies to series sets (ts:, csv:TRAIN,TEST, npz:), not \
                 {:?}, which validates on its own last examples or stretch",
                cfg.dataset
            ),
        });
    }
    let (loaded, train_sha256) = match &spec {
        Spec::Mnist => (Loaded::Sequences(mnist(&dir)?), None),
        Spec::FashionMnist => (Loaded::Sequences(image_set(&dir, true)?), None),
        Spec::Idx(dir) => (Loaded::Sequences(image_set(dir, false)?), None),
        Spec::Series(path) => (
            Loaded::Series(forecast::read(test.unwrap_or(path), cfg)?),
            None,
        ),
        Spec::Ts { .. } | Spec::Csv { .. } | Spec::Npz { .. } => (
            Loaded::Sequences(series_set(&spec, cfg, test)?),
            train_file_sha256(&spec)?,
        ),
    };
    Ok((spec, loaded, train_sha256))
}

/// The folder a named data set is read from (empty for the others, which name their own
/// files and refuse `--data-dir`).
fn named_folder(spec: &Spec, name: &str, data_dir: Option<&Path>) -> Result<PathBuf, UserError> {
    if let Some(given) = data_dir.filter(|_| !spec.is_named()) {
        return Err(UserError::Arg {
            flag: "--data-dir".into(),
            value: given.display().to_string(),
            expected: format!(
                "applies to mnist and fashion-mnist only; dataset {name:?} names its own files"
            ),
        });
    }
    match spec.is_named() {
        true => folders::data_dir(name, data_dir),
        false => Ok(PathBuf::new()),
    }
}

/// MNIST: labels are the digits 0 to 9.
fn mnist(dir: &Path) -> Result<Sequences, UserError> {
    let raw = idx::load(dir)?;
    let (rows, cols) = (idx::ROWS as i64, idx::COLS as i64);
    let labels = |l: &[u8]| Tensor::from_slice(l).to_kind(Kind::Int64);
    Ok(Sequences {
        groups: Vec::new(),
        given_val: None,
        train: image_split(&raw.train_images, labels(&raw.train_labels), rows, cols),
        test: image_split(&raw.test_images, labels(&raw.test_labels), rows, cols),
        seq_len: rows,
        features: cols,
        class_names: (0..10).map(|d| d.to_string()).collect(),
    })
}

/// Fashion-MNIST (`fashion`: its labels index its class names) or another IDX image set in
/// `dir` (classes named by the label values of its training file).
fn image_set(dir: &Path, fashion: bool) -> Result<Sequences, UserError> {
    let hint = match fashion {
        true => "run scripts/setup.sh --data fashion-mnist to fetch Fashion-MNIST",
        false => "expected an IDX image set",
    };
    let set = idx::load_images(dir, hint)?;
    let paths = idx::locate_with(dir, hint)?;
    let names: Vec<String> = if fashion {
        FASHION_CLASSES.iter().map(|s| s.to_string()).collect()
    } else {
        let labels: Vec<String> = set.train_labels.iter().map(|l| l.to_string()).collect();
        series::class_names(labels.iter().map(String::as_str))
    };
    let train_y = class_indices(&set.train_labels, &names, fashion, &paths[1])?;
    let test_y = class_indices(&set.test_labels, &names, fashion, &paths[3])?;
    let (rows, cols) = (set.rows as i64, set.cols as i64);
    Ok(Sequences {
        groups: Vec::new(),
        given_val: None,
        train: image_split(&set.train_images, Tensor::from_slice(&train_y), rows, cols),
        test: image_split(&set.test_images, Tensor::from_slice(&test_y), rows, cols),
        seq_len: rows,
        features: cols,
        class_names: names,
    })
}

/// Each image label of the file at `path` as an index into `names`: Fashion-MNIST's labels
/// are indices into its names; other sets name their classes by their label values.
fn class_indices(
    labels: &[u8],
    names: &[String],
    fashion: bool,
    path: &Path,
) -> Result<Vec<i64>, UserError> {
    let name_of = |l: u8| match fashion {
        true => FASHION_CLASSES.get(l as usize).map(|n| n.to_string()),
        false => Some(l.to_string()),
    };
    labels
        .iter()
        .enumerate()
        .map(|(i, &l)| {
            let pos = name_of(l).and_then(|n| names.iter().position(|m| *m == n));
            pos.map(|p| p as i64).ok_or_else(|| {
                UserError::data(
                    path,
                    format!(
                        "label {l} at index {i} is not a class of the training labels: expected \
                         one of {}",
                        names.join(", ")
                    ),
                )
            })
        })
        .collect()
}

/// Images as sequences of their rows, pixels scaled byte / 255; `y` holds one label each.
fn image_split(images: &[u8], y: Tensor, rows: i64, cols: i64) -> Split {
    let n = y.size()[0];
    let mut x = Tensor::from_slice(images)
        .view([n, rows, cols])
        .to_kind(Kind::Float);
    x /= 255.0; // in place: one float copy of the images, not two
    Split::full_length(x, y)
}

/// A `ts:` or `csv:` series set, its test file replaced by `new_test` if given (new data for
/// `predict`, which may lack labels).
fn series_set(
    spec: &Spec,
    cfg: &RunConfig,
    new_test: Option<&Path>,
) -> Result<Sequences, UserError> {
    let (train_path, test_path) = spec.files().expect("ts: and csv: name their files");
    let (mut train, test) = match spec {
        Spec::Ts { .. } => {
            let train = ts::read(&train_path)?;
            let test = match new_test {
                Some(path) => ts::read_new(path)?,
                None => ts::read(&test_path)?,
            };
            check_ts_task(&train, &test, cfg.task)?;
            (train, test)
        }
        Spec::Npz { .. } => (
            npz::read(&train_path, false)?,
            npz::read(new_test.unwrap_or(&test_path), new_test.is_some())?,
        ),
        _ => {
            let opts = csv::Options::of(cfg);
            let test_opts = csv::Options {
                unlabelled_ok: new_test.is_some(),
                ..opts.clone()
            };
            (
                csv::read(&train_path, &opts)?,
                csv::read(new_test.unwrap_or(&test_path), &test_opts)?,
            )
        }
    };
    // val_split = "file": the validation series follow the training file's, which train whole
    // (new data for `predict` needs no validation: the run's classes and scaling are the
    // training file's alone).
    let given = match cfg.val_split {
        ValSplit::File if new_test.is_none() => {
            let path = Path::new(&cfg.val_file);
            let val = match spec {
                Spec::Ts { .. } => ts::read(path)?,
                Spec::Npz { .. } => npz::read(path, false)?,
                _ => csv::read(path, &csv::Options::of(cfg))?,
            };
            series::check_validation_file(&train, &val, cfg.task == Task::Regress)?;
            let n = train.cases.len();
            train.cases.extend(val.cases);
            Some(n)
        }
        _ => None,
    };
    let mut seqs = series::to_tensors(&train, &test, cfg.task == Task::Regress)?;
    seqs.given_val = given;
    Ok(seqs)
}

/// `.ts` files declare their problem: class labels for classification, target numbers
/// (`@targetLabel`) for regression; either must match `task`.
fn check_ts_task(train: &SeriesFile, test: &SeriesFile, task: Task) -> Result<(), UserError> {
    let regress = task == Task::Regress;
    let Some(file) = [train, test]
        .into_iter()
        .find(|f| f.labelled && f.targets != regress)
    else {
        return Ok(());
    };
    Err(UserError::data(
        &file.path,
        if regress {
            "@classLabel: a classification problem; expected @targetLabel \
             true (a regression problem) with task = \"regress\""
        } else {
            "@targetLabel: a regression problem; expected a classification \
             problem (@classLabel true ...), or task = \"regress\""
        },
    ))
}

/// The SHA-256 (hex) of a series set's training file (`ts:`, `csv:`; None for other data).
pub fn train_file_sha256(spec: &Spec) -> Result<Option<String>, UserError> {
    let Some((path, _)) = spec.files() else {
        return Ok(None);
    };
    let bytes =
        std::fs::read(&path).map_err(|e| UserError::data(&path, format!("cannot read: {e}")))?;
    Ok(Some(crate::store::sha256_hex(&bytes)))
}
