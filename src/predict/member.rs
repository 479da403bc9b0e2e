/*!
One finished run applied to new data, as `predict` reads it: DATA is a `.ts` file or a CSV file
(read against the run's own training file, with its CSV keys: its classes, its normalisation
fitted on its training split), a `ts:DIR/NAME` or `csv:TRAIN,TEST` dataset (its test file), or
an image set (`mnist`, `fashion-mnist`, `idx:DIR`: its test images), patched as the run read its
data; a forecasting run takes a series file (CSV, the run's columns) and forecasts the `horizon`
values after its end from its last `window` steps, scaled with the run's saved statistics.

The run's training file, read again for its classes and scaling, must be the file the run
trained on: a run records its SHA-256 (`result.json`, `data.train_sha256`), and a file changed
since is refused, naming it (runs from before the hash was recorded are not checked).
*/
use std::path::{Path, PathBuf};

use anyhow::Result;
use tch::{nn, Device, Kind};

use crate::config::dataset::Spec;
use crate::config::{Patch, RunConfig, Task, Transform};
use crate::data::forecast::{Table, WindowScale, EVERY_COLUMN};
use crate::data::{Dataset, Source, Split};
use crate::error::UserError;
use crate::model::{Arch, SeqClassifier};
use crate::records::{Normalization, RunResult};
use crate::store::{self, RunDir};
use crate::train;

/// What one run predicts for DATA.
pub struct Member {
    /// The run's label, e.g. `units=128,seed=0`.
    pub label: String,
    pub output: Output,
}

/// A run's predictions, by task.
pub enum Output {
    Classes {
        class_names: Vec<String>,
        /// The true class of each sequence (`data::series::UNLABELLED` without labels).
        truth: Vec<i64>,
        /// Each sequence's probability of each class.
        probabilities: Vec<Vec<f64>>,
        /// Each sequence's predicted class.
        predicted: Vec<i64>,
        /// The run's recorded test accuracy, when DATA is its own test set and it tested on all.
        recorded: Option<f64>,
    },
    Numbers {
        /// The target's name.
        target: String,
        /// In the target's units (NaN without labels).
        truth: Vec<f64>,
        predicted: Vec<f64>,
        /// The run's recorded test RMSE, when DATA is its own test set and it tested on all.
        recorded: Option<f64>,
    },
    Forecast {
        target: String,
        /// Each series read: its id ("" for a plain series file) and steps; the window read
        /// from its end.
        series: Vec<(String, usize)>,
        window: usize,
        /// The `horizon` values after each series' end, series by series, in the target's
        /// units.
        values: Vec<f64>,
        /// Their dates, for a run with a `date_column`: each series' step carried on.
        dates: Option<Vec<String>>,
        /// The run's prediction intervals: each level (%) and its bounds per value
        /// (`records::Interval`'s half-width around it, `metrics::interval_bound`).
        intervals: Vec<(f64, Vec<[f64; 2]>)>,
    },
}

/// The files `predict` reads for the run in `run_dir` (its data set's), which `--out` must never
/// be.
pub fn inputs(run_dir: &Path) -> Result<Vec<PathBuf>> {
    let run = RunDir {
        path: run_dir.to_path_buf(),
    };
    Ok(store::output::dataset_files(&run.config()?.dataset))
}

/// The run in `run_dir` applied to `data`.
pub fn predict(run_dir: &Path, data: &str, data_dir: Option<&Path>) -> Result<Member> {
    let run = RunDir {
        path: run_dir.to_path_buf(),
    };
    let cfg = run.config()?;
    let Some(result) = run.result()? else {
        return Err(UserError::store(
            run_dir,
            "the run has not finished (no result.json): finish it with `rowseq sweep`, then predict",
        )
        .into());
    };
    if cfg.task == Task::Forecast {
        return forecast(&run, &cfg, result, data);
    }
    train_file_unchanged(&run, &cfg, &result)?;
    // Read DATA as the run read its data: same training file, the patch it resolved (its
    // `resolved.json`), every test example.
    let resolved = run.resolved()?;
    let mut read_cfg = RunConfig {
        test_size: 0,
        ..cfg.clone()
    };
    // What "auto" resolved to on the run's data (`Natural`, one value a step, when it patched
    // nothing; resolution never leaves `Auto`), never a new choice from DATA's lengths.
    read_cfg.patch = resolved.patch;
    let (source, own_test) = load(data, &cfg, &mut read_cfg, data_dir, run_dir)?;
    let dataset = source.split(&read_cfg)?;
    check_shape(data, &cfg, &result, &dataset)?;
    let whole_test = own_test && cfg.test_size == 0;
    let output = apply(&run, &cfg, &result, &dataset, whole_test)?;
    Ok(Member {
        label: result.label,
        output,
    })
}

/// DATA read as the run (its config `cfg`, in `run_dir`) read its data, with `read_cfg`, and
/// whether DATA is the run's own dataset (its test set). An image set replaces `read_cfg`'s
/// dataset.
fn load(
    data: &str,
    cfg: &RunConfig,
    read_cfg: &mut RunConfig,
    data_dir: Option<&Path>,
    run_dir: &Path,
) -> Result<(Source, bool)> {
    let config_path = run_dir.join(store::CONFIG);
    let own_test;
    let source = match (Spec::parse(data), Spec::parse(&cfg.dataset)) {
        (Ok(spec), Ok(run_spec)) if spec.is_images() => {
            if !run_spec.is_images() {
                return Err(mismatch(data, &cfg.dataset).into());
            }
            own_test = data == cfg.dataset;
            read_cfg.dataset = data.to_string();
            Source::load(read_cfg, data_dir)?
        }
        (Ok(spec), Ok(run_spec)) => {
            let test = match (&spec, &run_spec) {
                (Spec::Ts { dir, name }, Spec::Ts { .. }) => dir.join(format!("{name}_TEST.ts")),
                (Spec::Csv { test, .. }, Spec::Csv { .. })
                | (Spec::Npz { test, .. }, Spec::Npz { .. }) => test.clone(),
                _ => return Err(mismatch(data, &cfg.dataset).into()),
            };
            own_test = data == cfg.dataset;
            Source::load_with_test(read_cfg, None, Some(&test))?
        }
        (Err(_), Ok(run_spec)) => {
            let path = Path::new(data);
            check_file_kind(path, &run_spec, &cfg.dataset)?;
            own_test = false;
            Source::load_with_test(read_cfg, None, Some(path))?
        }
        (_, Err(m)) => {
            return Err(UserError::store(&config_path, format!("dataset: {m}")).into());
        }
    };
    Ok((source, own_test))
}

/// Checks that a file given as DATA has the extension of the run's data (`dataset`, read as
/// `run_spec`): `.ts`, `.csv` or `.npz`.
fn check_file_kind(path: &Path, run_spec: &Spec, dataset: &str) -> Result<(), UserError> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    match (ext, run_spec) {
        ("ts", Spec::Ts { .. }) | ("csv", Spec::Csv { .. }) | ("npz", Spec::Npz { .. }) => Ok(()),
        _ => Err(UserError::data(
            path,
            format!(
                "expected a {} file like the run's data ({}), or a dataset (ts:, \
                 csv:, npz:, idx:, mnist)",
                match run_spec {
                    Spec::Csv { .. } => ".csv",
                    Spec::Npz { .. } => ".npz",
                    _ => ".ts",
                },
                dataset
            ),
        )),
    }
}

/// Checks that a classification run reads DATA (`dataset`) with the features per timestep and
/// the classes it trained on (as its `result` records them).
fn check_shape(
    data: &str,
    cfg: &RunConfig,
    result: &RunResult,
    dataset: &Dataset,
) -> Result<(), UserError> {
    let shape = result
        .data
        .as_ref()
        .map(|d| (d.features, d.class_names.len()));
    if let Some((features, classes)) = shape.filter(|_| cfg.task == Task::Classify) {
        if dataset.features != features || dataset.class_names.len() != classes {
            return Err(UserError::data(
                data,
                format!(
                    "{} features per timestep and {} classes: expected {features} and {classes} \
                     as the run trained on",
                    dataset.features,
                    dataset.class_names.len()
                ),
            ));
        }
    }
    Ok(())
}

/// The run's model, its weights loaded, applied to `dataset`'s test split; the run's recorded
/// test score goes with it when the split is the `whole_test` set it was tested on.
fn apply(
    run: &RunDir,
    cfg: &RunConfig,
    result: &RunResult,
    dataset: &Dataset,
    whole_test: bool,
) -> Result<Output> {
    let arch = Arch::of(cfg, dataset.features, dataset.classes(), dataset.seq_len);
    let mut vs = nn::VarStore::new(Device::Cpu);
    let model = SeqClassifier::new(&vs.root(), &arch);
    run.load_weights(&mut vs, (dataset.features, dataset.classes()))?;
    Ok(match &dataset.target {
        Some(target) => {
            let z = train::predict_values(&model, &dataset.test, Device::Cpu);
            let truth_z =
                Vec::<f64>::try_from(dataset.test.y.flatten(0, -1).to_kind(Kind::Double))?;
            Output::Numbers {
                target: target.name.clone(),
                truth: target.unscale(&truth_z),
                predicted: target.unscale(&z),
                recorded: result.errors.test_rmse.filter(|_| whole_test),
            }
        }
        None => {
            let (probabilities, predicted) = train::predict(&model, &dataset.test, Device::Cpu);
            let probabilities = probabilities
                .into_iter()
                .map(|row| row.into_iter().map(f64::from).collect())
                .collect();
            Output::Classes {
                class_names: dataset.class_names.clone(),
                truth: Vec::<i64>::try_from(&dataset.test.y)?,
                probabilities,
                predicted,
                recorded: whole_test.then_some(result.test_acc),
            }
        }
    })
}

/// A forecasting run applied to a series file (a panel, for a run trained on one): the
/// `horizon` values after each series' end, from its last `window` steps scaled with the
/// run's saved statistics (a panel's series each with its own, found by id).
fn forecast(run: &RunDir, cfg: &RunConfig, result: RunResult, data: &str) -> Result<Member> {
    let path = series_path(data)?;
    let norm = run.normalization()?;
    let norm_path = run.path.join(store::NORMALIZATION);
    // New series are read by the names of the columns the run read, in its order.
    let read_cfg = RunConfig {
        columns: match norm.columns.is_empty() || cfg.target_column == EVERY_COLUMN {
            true => cfg.columns.clone(),
            false => norm.columns.join(","),
        },
        ..cfg.clone()
    };
    let panel = crate::data::forecast::read(&path, &read_cfg)?;
    let trained = run.resolved()?;
    let Some(window) = trained.window() else {
        return Err(UserError::store(
            run.path.join(store::RESOLVED),
            "no resolved window: expected the result of a finished forecasting run",
        )
        .into());
    };
    let (Some(_), Some(t_std)) = (norm.target_mean, norm.target_std) else {
        return Err(UserError::store(
            &norm_path,
            "no target statistics: expected a forecasting run's",
        )
        .into());
    };
    let (h, levels) = (cfg.horizon, &result.intervals);
    // Every series' window, read with its own statistics, then one pass of the model over all.
    let mut series = Vec::with_capacity(panel.tables.len());
    let mut windows = Vec::with_capacity(panel.tables.len());
    let (mut centres, mut stds, mut features) = (Vec::new(), Vec::new(), 0);
    let mut dates = Some(Vec::new());
    let mut widths: Vec<Vec<f64>> = vec![Vec::new(); levels.len()];
    for (id, table) in panel.ids.iter().zip(&panel.tables) {
        let (mean, std) = stats_of(&norm, &norm_path, id, &path)?;
        check_series(table, &path, &norm, &norm_path, window)?;
        let logged;
        let table = match trained.transform {
            Transform::Log => {
                logged = log_of(table, &path, id)?;
                &logged
            }
            _ => table,
        };
        // A panel's intervals are in each series' target std; one series' in its units.
        let (t_std, unit) = match norm.series.is_empty() {
            true => (t_std, 1.0),
            false => (std[table.target], std[table.target]),
        };
        let scale = WindowScale::of(&trained, mean, std);
        features = table.features() + scale.extra_features();
        // Each forecast is the model's output times the target's std plus its centre: the
        // window's last value (or the target's mean) and, with a season, its seasonal index.
        let (split, c) = crate::data::forecast::windows_for_prediction(
            table,
            table.steps - 1,
            (window, h),
            scale,
        );
        windows.push(split);
        centres.extend(c);
        stds.extend(std::iter::repeat_n(t_std, h));
        series.push((id.clone(), table.steps));
        dates = match (dates, table.calendar) {
            (Some(mut d), Some(c)) => {
                d.extend((0..h).map(|k| c.date(table.steps + k).to_string()));
                Some(d)
            }
            _ => None,
        };
        for (w, i) in widths.iter_mut().zip(levels) {
            w.extend(i.half_width.iter().map(|x| x * unit));
        }
    }
    let windows: Vec<&Split> = windows.iter().collect();
    let z = model_outputs(run, cfg, &result, &Split::cat(&windows), (window, features))?;
    let log = trained.transform == Transform::Log;
    let values: Vec<f64> = z
        .iter()
        .zip(&centres)
        .zip(&stds)
        .map(|((v, c), t_std)| crate::data::forecast::unread(v * t_std + c, log))
        .collect();
    let bounds = |widths: &[f64]| -> Vec<[f64; 2]> {
        values
            .iter()
            .zip(widths)
            .map(|(&v, &w)| [-w, w].map(|o| crate::metrics::interval_bound(v, o, log)))
            .collect()
    };
    let intervals = levels
        .iter()
        .zip(&widths)
        .map(|(i, w)| (i.level, bounds(w)))
        .collect();
    Ok(Member {
        label: result.label,
        output: Output::Forecast {
            // A wide panel's series are its columns: their values share one column.
            target: match cfg.target_column == EVERY_COLUMN {
                true => "value".into(),
                false => panel.tables[0].names[panel.tables[0].target].clone(),
            },
            series,
            window,
            values,
            dates,
            intervals,
        },
    })
}

/// The training statistics of series `id`: a panel run's by id (an id it did not train on is
/// an error naming it), a one-series run's own (a panel given to it is an error).
fn stats_of<'a>(
    norm: &'a Normalization,
    norm_path: &Path,
    id: &str,
    path: &Path,
) -> Result<(&'a [f64], &'a [f64]), UserError> {
    if norm.series.is_empty() {
        if !id.is_empty() {
            return Err(UserError::data(
                path,
                format!(
                    "series {id:?}: the run trained on one series ({}): expected a file of \
                     that one series, without an id column",
                    norm_path.display()
                ),
            ));
        }
        return Ok((&norm.mean, &norm.std));
    }
    match norm.series.iter().find(|s| s.id == id) {
        Some(s) => Ok((&s.mean, &s.std)),
        None => Err(UserError::data(
            path,
            format!(
                "series {id:?}: not one the run trained on: expected ids from its training file \
                 ({}{}; statistics in {})",
                norm.series
                    .iter()
                    .take(8)
                    .map(|s| s.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                if norm.series.len() > 8 { ", ..." } else { "" },
                norm_path.display()
            ),
        )),
    }
}

/// The series file that DATA names for a forecasting run: `csv:SERIES.csv` or a `.csv` path.
fn series_path(data: &str) -> Result<PathBuf, UserError> {
    match Spec::parse(data) {
        Ok(Spec::Series(path)) => Ok(path),
        Err(_) if Path::new(data).extension().is_some_and(|e| e == "csv") => {
            Ok(PathBuf::from(data))
        }
        _ => Err(UserError::data(
            data,
            "expected a series CSV file (or csv:SERIES.csv) with the run's columns: a \
             forecasting run forecasts the values after its end",
        )),
    }
}

/// `table` with its target read as its logarithm, for a run trained with `transform = "log"`:
/// a value that is not positive is an error naming the series' step (and its date).
fn log_of(table: &Table, path: &Path, id: &str) -> Result<Table, UserError> {
    let which = match id.is_empty() {
        true => String::new(),
        false => format!(" (series {id:?})"),
    };
    if let Some(bad) = table.non_positive(&which) {
        return Err(UserError::data(
            path,
            format!(
                "{bad}: expected positive values only, as the run read the logarithm of its \
                 target (transform = \"log\")"
            ),
        ));
    }
    Ok(table.with_log_target())
}

/// Checks that the series read from `path` has the columns the run trained on (its statistics
/// `norm`, saved in `norm_path`) and at least the run's `window` steps.
fn check_series(
    table: &Table,
    path: &Path,
    norm: &Normalization,
    norm_path: &Path,
    window: usize,
) -> Result<(), UserError> {
    let (mean, std) = (&norm.mean, &norm.std);
    if mean.len() != std.len() || mean.len() != table.features() {
        return Err(UserError::data(
            path,
            format!(
                "{} columns read ({}): expected {} as the run trained on ({} in {})",
                table.features(),
                table.names.join(", "),
                mean.len(),
                norm.columns.join(", "),
                norm_path.display()
            ),
        ));
    }
    if table.steps < window {
        return Err(UserError::data(
            path,
            format!(
                "{} steps: expected at least the run's window of {window} steps",
                table.steps
            ),
        ));
    }
    Ok(())
}

/// The run's model, its weights loaded once, applied to `windows` (each `window` steps of
/// `features` values, patched as the run read them): their `horizon` outputs each, in the
/// target's std.
fn model_outputs(
    run: &RunDir,
    cfg: &RunConfig,
    result: &RunResult,
    windows: &Split,
    (window, features): (usize, usize),
) -> Result<Vec<f64>> {
    let (w, f) = (window as i64, features as i64);
    let patch = result
        .data
        .as_ref()
        .and_then(|d| d.patch)
        .map_or(Patch::Natural, Patch::Values);
    let reading = crate::data::patch::reading(patch, w, f, false);
    let split = crate::data::patch::apply(windows, reading, false);
    let arch = Arch::of(cfg, reading.features, cfg.horizon as i64, reading.timesteps);
    let mut vs = nn::VarStore::new(Device::Cpu);
    let model = SeqClassifier::new(&vs.root(), &arch);
    run.load_weights(&mut vs, (reading.features, cfg.horizon as i64))?;
    Ok(train::predict_values(&model, &split, Device::Cpu))
}

/// Checks that a series run's training file, which `predict` and `explain` read again (its
/// classes and the scaling fitted on it), is the file the run trained on: the SHA-256 that the
/// run recorded (results from before it was recorded have none, and are not checked).
pub fn train_file_unchanged(
    run: &RunDir,
    cfg: &RunConfig,
    result: &RunResult,
) -> Result<(), UserError> {
    let Some(recorded) = result.data.as_ref().and_then(|d| d.train_sha256.as_ref()) else {
        return Ok(());
    };
    let Ok(spec) = Spec::parse(&cfg.dataset) else {
        return Ok(());
    };
    let Some((train, _)) = spec.files() else {
        return Ok(());
    };
    match crate::data::train_file_sha256(&spec)? {
        Some(now) if now != *recorded => Err(UserError::data(
            &train,
            format!(
                "changed since the run trained (its SHA-256 is not the one recorded in {}): the \
                 run's classes and scaling are read from it; restore the file the run trained \
                 on, or train a new run on the changed file",
                run.path.join(store::RESULT).display()
            ),
        )),
        _ => Ok(()),
    }
}

/// DATA that is not of the run's kind: the error says what would be, naming the run's own
/// test file where it has one.
fn mismatch(data: &str, run: &str) -> UserError {
    let file = Spec::parse(run).ok().and_then(|s| s.files()).map_or_else(
        || "a file like the run's".to_string(),
        |(_, test)| format!("a file like the run's test file ({})", test.display()),
    );
    UserError::data(
        data,
        format!(
            "not the kind of data the run trained on ({run}): expected {file}, or a dataset \
             of the same kind"
        ),
    )
}
