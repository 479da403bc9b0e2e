/*!
The split of labelled sequences (`series::Sequences`, loaded from an image set or a `ts:`/`csv:`
series set) for one run's config (`split`), in this order: the CSV keys are checked, the
validation examples chosen (the last ones for images, stratified or a fixed random choice for
series), the size limits applied, the series scaled (`normalize`, with the training split's
statistics) and a numeric target standardised, then every split is patched.
*/
use tch::{Kind, Tensor};

use super::origin::Origin;
use super::series::Sequences;
use super::{auto, series, validation, Dataset, Split, Target};
use crate::config::dataset::Spec;
use crate::config::{keys_of, Count, Labels, Normalize, RunConfig, Scope, Task, ValSplit};
use crate::error::UserError;
use crate::records::Normalization;

/// Which training examples validate a run.
enum Validation {
    /// Images: the last `n` of the training set.
    Last(usize),
    /// Series: the (training, validation) indices, each in file order.
    Chosen(Vec<i64>, Vec<i64>),
}

impl Validation {
    fn len(&self) -> usize {
        match self {
            Validation::Last(n) => *n,
            Validation::Chosen(_, val) => val.len(),
        }
    }
}

/// How many examples a run takes from each split.
struct Sizes {
    val: usize,
    /// Training examples left once validation is taken.
    available: usize,
    train: usize,
    test: usize,
}

/// The splits a run asks for: validation (from the end of train for images, stratified for
/// series), then the size limits, then (series) the z-score of the training split.
pub fn split(origin: &Origin, seqs: &Sequences, cfg: &RunConfig) -> Result<Dataset, UserError> {
    refuse_csv_keys(origin, cfg)?;
    let validation = choose_validation(origin, seqs, cfg)?;
    let sizes = sizes(origin, seqs, cfg, validation.len())?;
    match validation {
        Validation::Last(_) => split_images(origin, seqs, cfg, &sizes),
        Validation::Chosen(train, val) => split_series(origin, seqs, cfg, &sizes, &train, &val),
    }
}

/// The CSV keys (`csv_layout`, `label_column`, ...) apply to `csv:` data only.
fn refuse_csv_keys(origin: &Origin, cfg: &RunConfig) -> Result<(), UserError> {
    if matches!(origin.spec, Spec::Csv { .. }) {
        return Ok(());
    }
    let changed = cfg.changed_keys();
    match keys_of(Scope::Csv).find(|k| changed.contains(k)) {
        Some(k) => Err(UserError::Config {
            origin: k.to_string(),
            message: format!(
                "{k} = {}: applies to csv: datasets only, not {:?}",
                cfg.value(k),
                origin.name
            ),
        }),
        None => Ok(()),
    }
}

/// `key = value` is more than `max` allows for this dataset.
fn too_big(origin: &Origin, key: &str, v: usize, max: usize) -> UserError {
    UserError::Config {
        origin: key.to_string(),
        message: format!("{key} = {v}: expected at most {max} for {}", origin.name),
    }
}

/// The validation examples of `val_size`: images the last ones; series a stratified choice
/// (classification) or a fixed random one, the same for every seed (regression).
fn choose_validation(
    origin: &Origin,
    seqs: &Sequences,
    cfg: &RunConfig,
) -> Result<Validation, UserError> {
    let n_train = seqs.train.len();
    let images = origin.spec.is_images();
    let labels = || Vec::<i64>::try_from(&seqs.train.y).expect("int64 labels");
    let (train, val) = match (cfg.val_size, images) {
        (Count::Fixed(v), _) if v >= n_train => {
            return Err(too_big(origin, "val_size", v, n_train - 1));
        }
        (Count::Fixed(v), true) => return Ok(Validation::Last(v)),
        (Count::Auto, true) => return Ok(Validation::Last(auto::val_images(n_train))),
        (_, false) if cfg.task == Task::Regress && n_train < 2 => {
            return Err(UserError::Config {
                origin: "val_size".into(),
                message: format!(
                    "the training file of {} has {n_train} series: expected at least 2 (one \
                     for validation)",
                    origin.name
                ),
            });
        }
        // val_split = "file": every given series validates, the training file trains whole.
        (_, false) if cfg.val_split == ValSplit::File => {
            let from = seqs.given_val.unwrap_or(n_train) as i64;
            ((0..from).collect(), (from..n_train as i64).collect())
        }
        (v, false) if cfg.val_split != ValSplit::Auto => {
            let v = v.fixed().unwrap_or_else(|| auto::val_images(n_train));
            let y = match cfg.task {
                Task::Regress => vec![0; n_train],
                _ => labels(),
            };
            let classes: &[String] = match cfg.task {
                Task::Regress => &[],
                _ => &seqs.class_names,
            };
            let (name, split) = match cfg.val_split {
                ValSplit::Group => (
                    format!("\"group\" (group_column = {:?})", cfg.group_column),
                    validation::grouped(&seqs.groups, &y, classes, v),
                ),
                _ => ("\"ordered\"".into(), validation::ordered(&y, classes, v)),
            };
            split.map_err(|m| UserError::Config {
                origin: "val_split".into(),
                message: format!("val_split = {name} with val_size = {v} {m}"),
            })?
        }
        (v, false) if cfg.task == Task::Regress => {
            let v = v.fixed().unwrap_or_else(|| auto::val_images(n_train));
            validation::random_split(n_train, v)
        }
        (Count::Fixed(v), false) => validation::stratified(&labels(), &seqs.class_names, v)
            .map_err(|m| UserError::Config {
                origin: "val_size".into(),
                message: format!("val_size = {v} {m}"),
            })?,
        (Count::Auto, false) => validation::stratified_auto(&labels(), &seqs.class_names),
    };
    Ok(Validation::Chosen(train, val))
}

/// The run's sizes: `train_size` and `test_size` (0: all there is) within what the data
/// holds once `val` examples validate.
fn sizes(
    origin: &Origin,
    seqs: &Sequences,
    cfg: &RunConfig,
    val: usize,
) -> Result<Sizes, UserError> {
    let available = seqs.train.len() - val;
    if cfg.train_size > available {
        return Err(too_big(origin, "train_size", cfg.train_size, available));
    }
    if cfg.test_size > seqs.test.len() {
        return Err(too_big(origin, "test_size", cfg.test_size, seqs.test.len()));
    }
    let all_if_zero = |size: usize, all: usize| if size == 0 { all } else { size };
    Ok(Sizes {
        val,
        available,
        train: all_if_zero(cfg.train_size, available),
        test: all_if_zero(cfg.test_size, seqs.test.len()),
    })
}

/// Images: the first training images, the last ones for validation, the first test images,
/// scaled as read (byte / 255).
fn split_images(
    origin: &Origin,
    seqs: &Sequences,
    cfg: &RunConfig,
    sizes: &Sizes,
) -> Result<Dataset, UserError> {
    if cfg.normalize != Normalize::Feature {
        return Err(UserError::Config {
            origin: "normalize".into(),
            message: format!(
                "normalize = {:?}: applies to ts: and csv: series only; images are \
                 scaled byte / 255",
                cfg.value_text("normalize")
            ),
        });
    }
    labelled(
        origin,
        seqs,
        cfg,
        [
            seqs.train.narrow(0, sizes.train),
            seqs.train.narrow(sizes.available, sizes.val),
            seqs.test.narrow(0, sizes.test),
        ],
    )
}

/// Series: the chosen training and validation series and the first test series, scaled as
/// `normalize` says, a numeric target standardised.
fn split_series(
    origin: &Origin,
    seqs: &Sequences,
    cfg: &RunConfig,
    sizes: &Sizes,
    train_idx: &[i64],
    val_idx: &[i64],
) -> Result<Dataset, UserError> {
    let splits = [
        seqs.train
            .select(&Tensor::from_slice(&train_idx[..sizes.train])),
        seqs.train.select(&Tensor::from_slice(val_idx)),
        seqs.test.narrow(0, sizes.test),
    ];
    let (splits, mut stats) = normalise(splits, cfg.normalize)?;
    let (splits, target) = match cfg.task {
        Task::Regress => {
            let name = match &origin.spec {
                Spec::Csv { .. } => cfg.label_column.clone(),
                _ => "target".into(),
            };
            let (splits, target) = standardise_target(splits, name);
            stats.target_mean = Some(target.mean);
            stats.target_std = Some(target.std);
            (splits, Some(target))
        }
        _ => (splits, None),
    };
    // How jagged the series are, of their values alone: `series_stats`' level and spread
    // inputs are constant over a series and would dilute it (and the "auto" noise) to a third.
    let values = Split {
        x: splits[0].x.narrow(2, 0, seqs.features),
        y: splits[0].y.shallow_clone(),
        lengths: splits[0].lengths.shallow_clone(),
    };
    let change = series::step_change(&values);
    let mut data = labelled(origin, seqs, cfg, splits)?;
    data.normalization = Some(stats);
    data.step_change = Some(change);
    data.target = target;
    Ok(data)
}

/// The series of (train, validation, test) scaled as `normalize` says, each feature by the
/// training split's statistics or each series by its own (with its own statistics as inputs,
/// under `series_stats`), with the statistics to record.
fn normalise(
    splits: [Split; 3],
    normalize: Normalize,
) -> Result<([Split; 3], Normalization), UserError> {
    Ok(match normalize {
        Normalize::Feature => {
            let (mean, std) = series::feature_stats(&splits[0]);
            let stats = Normalization {
                mean: Vec::<f64>::try_from(&mean.flatten(0, -1)).expect("f64 stats"),
                std: Vec::<f64>::try_from(&std.flatten(0, -1)).expect("f64 stats"),
                ..Normalization::of(Normalize::Feature)
            };
            let scaled = splits.each_ref().map(|s| series::normalise(s, &mean, &std));
            (scaled, stats)
        }
        Normalize::Series => (
            splits.each_ref().map(series::per_series),
            Normalization::of(Normalize::Series),
        ),
        Normalize::SeriesStats => {
            let (scaled, inputs) = series::with_stats(&splits);
            let stats = Normalization {
                stats_inputs: Some(inputs),
                ..Normalization::of(Normalize::SeriesStats)
            };
            (scaled, stats)
        }
        Normalize::None => (splits, Normalization::of(Normalize::None)),
        Normalize::Last => {
            return Err(UserError::Config {
                origin: "normalize".into(),
                message: "normalize = \"last\": applies to task = \"forecast\" only".into(),
            })
        }
    })
}

/// Regression: every split's targets standardised by the training split's mean and std, and
/// the target (named `name`) that maps predictions back.
fn standardise_target(splits: [Split; 3], name: String) -> ([Split; 3], Target) {
    let values = Vec::<f64>::try_from(splits[0].y.flatten(0, -1).to_kind(Kind::Double))
        .expect("f64 targets");
    let (mean, std) = mean_std(&values);
    let scale = |s: Split| Split {
        y: (&s.y - mean) / std,
        ..s
    };
    (splits.map(scale), Target { name, mean, std })
}

/// Mean and population std of `values` (std 1 where it is 0, so that scaling never divides by
/// zero).
fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    (mean, if var > 0.0 { var.sqrt() } else { 1.0 })
}

/// The run's dataset of labelled (train, validation, test) splits, patched; the scaling, step
/// change and target are the caller's to add.
fn labelled(
    origin: &Origin,
    seqs: &Sequences,
    cfg: &RunConfig,
    mut splits: [Split; 3],
) -> Result<Dataset, UserError> {
    if cfg.labels == Labels::Random {
        let train = &mut splits[0];
        train.y = random_labels(train.len(), seqs.class_names.len(), cfg.seed);
    }
    let images = origin.spec.is_images();
    // Features as scaled: `series_stats` adds two a feature.
    let shape = (seqs.seq_len, splits[0].x.size()[2]);
    Ok(Dataset {
        class_names: seqs.class_names.clone(),
        ..origin.patched(cfg, splits, shape, images)?
    })
}

/// `labels = "random"`: `n` class indices drawn uniformly from `classes`, from the run's seed.
/// The first n of them are the same for any larger n, so that nested training sets (the
/// capacity experiment's `train_size`) share their labels.
pub fn random_labels(n: usize, classes: usize, seed: u64) -> Tensor {
    use rand::{Rng, SeedableRng};
    // A stream of its own: the seed's other draws (initialisation, shuffling) are unchanged.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ 0x1abe_15ee_d000_0000);
    let drawn: Vec<i64> = (0..n)
        .map(|_| rng.random_range(0..classes.max(1)) as i64)
        .collect();
    Tensor::from_slice(&drawn)
}
