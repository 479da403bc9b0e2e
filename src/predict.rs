/*!
`rowseq predict RUN_DIR DATA`: a finished run applied to new sequences. DATA is a `.ts` file or a
CSV file (read against the run's own training file, with its CSV keys: its classes, its
normalisation fitted on its training split), a `ts:DIR/NAME` or `csv:TRAIN,TEST` dataset (its
test file), or an image set (`mnist`, `fashion-mnist`, `idx:DIR`: its test images). The run's
patching is applied as it was when it trained.

Regression runs write one row per sequence: its index, the true target (empty without labels)
and the predicted one, in the target's units, and print the RMSE when there are labels (on the
run's own test file: its recorded test RMSE). Forecasting runs take a series file (CSV, the
run's columns) and write the `horizon` values that follow its end: the last `window` steps,
scaled with the run's saved training-stretch statistics, through the model, back in the
target's units.

Classification runs write one row per sequence: its index in the file, the true class (empty when the file has
no labels: `@classLabel false`, or a CSV without the label column), the predicted class and
the probability of each class (softmax of the head's logits), atomically, to `--out` (default
`predictions.csv`), and prints the accuracy when there are labels.

The run's training file, read again for its classes and scaling, must be the file the run
trained on: a run records its SHA-256 (`result.json`, `data.train_sha256`), and a file changed
since is refused, naming it (runs from before the hash was recorded are not checked).

`--out` never replaces a file the user did not ask to lose (`store::output`): it is refused
when it is an input of the command (DATA, the run's own data files) or lies in a run folder,
and an existing file is overwritten only when it is a previous predictions file (its header is
one `predict` writes), or with `--force`. On the run's own test file (a run that was tested
on all of it) that accuracy is the run's recorded test accuracy: the same model, data and
arithmetic.
*/
use std::path::{Path, PathBuf};

use anyhow::Result;
use tch::{nn, Device, Kind};

use crate::config::dataset::Spec;
use crate::config::{Patch, RunConfig, Task};
use crate::data::{Dataset, Source};
use crate::error::UserError;
use crate::metrics::Errors;
use crate::model::{Arch, SeqClassifier};
use crate::store::{self, RunDir};
use crate::train;

/// What `predict` did.
pub struct Predicted {
    pub out: PathBuf,
    pub examples: usize,
    pub label: String,
    pub score: Score,
}

/// How the predictions scored, by task.
pub enum Score {
    Classes {
        /// Right predictions; None when the data has no labels.
        correct: Option<usize>,
        /// The run's recorded test accuracy, when DATA is its own test set and it tested on all.
        recorded: Option<f64>,
    },
    Numbers {
        /// Errors in the target's units; None when the data has no labels.
        errors: Option<Errors>,
        /// The run's recorded test RMSE, when DATA is its own test set and it tested on all.
        recorded: Option<f64>,
    },
    Forecast {
        /// Steps of the series read, values forecast after them, and the window read.
        steps: usize,
        horizon: usize,
        window: usize,
    },
}

impl Predicted {
    /// What `rowseq predict` prints: where the predictions went, then their score.
    pub fn summary(&self) -> String {
        let head = format!(
            "predicted {} {} with {} -> {}",
            self.examples,
            match (&self.score, self.examples) {
                (Score::Forecast { .. }, 1) => "value",
                (Score::Forecast { .. }, _) => "values",
                (_, 1) => "sequence",
                _ => "sequences",
            },
            self.label,
            self.out.display()
        );
        let score = match &self.score {
            Score::Classes {
                correct: Some(correct),
                recorded,
            } => format!(
                "accuracy {:.4} ({} of {}){}",
                *correct as f64 / self.examples.max(1) as f64,
                correct,
                self.examples,
                match recorded {
                    Some(acc) =>
                        format!(", the run's own test set: recorded test accuracy {acc:.4}"),
                    None => String::new(),
                }
            ),
            Score::Classes { correct: None, .. } => {
                "the data has no labels: no accuracy (the class column is empty)".into()
            }
            Score::Numbers {
                errors: Some(e),
                recorded,
            } => format!(
                "RMSE {}, MAE {}, R² {:.4}{}",
                crate::records::sig(Some(e.rmse)),
                crate::records::sig(Some(e.mae)),
                e.r2.unwrap_or(f64::NAN),
                match recorded {
                    Some(r) => format!(
                        ", the run's own test set: recorded test RMSE {}",
                        crate::records::sig(Some(*r))
                    ),
                    None => String::new(),
                }
            ),
            Score::Numbers { errors: None, .. } => {
                "the data has no targets: no error (the target column is empty)".into()
            }
            Score::Forecast {
                steps,
                horizon,
                window,
            } => format!(
                "the {horizon} value{} after the series' {steps} steps, forecast from its last \
                 {window}",
                if *horizon == 1 { "" } else { "s" },
            ),
        };
        format!("{head}\n{score}")
    }
}

/// Applies the run in `run_dir` to `data`, writing the predictions to `out`.
pub fn run(
    run_dir: &Path,
    data: &str,
    data_dir: Option<&Path>,
    out: &Path,
    force: bool,
) -> Result<Predicted> {
    let run = RunDir {
        path: run_dir.to_path_buf(),
    };
    let config_path = run_dir.join(store::CONFIG);
    let cfg = run.config()?;
    let mut inputs = store::output::dataset_files(data);
    inputs.extend(store::output::dataset_files(&cfg.dataset));
    store::output::check_output(
        "--out",
        out,
        Some(run_dir),
        &inputs,
        is_predictions,
        "a predictions CSV",
        force,
    )?;
    let Some(result) = run.result()? else {
        return Err(UserError::store(
            run_dir,
            "the run has not finished (no result.json): finish it with `rowseq sweep`, then predict",
        )
        .into());
    };
    if cfg.task == Task::Forecast {
        return forecast(&run, &cfg, &result, data, out);
    }
    train_file_unchanged(&run, &cfg, &result)?;
    // Read DATA as the run read its data: same training file, same patch, every test example.
    let mut read_cfg = RunConfig {
        test_size: 0,
        ..cfg.clone()
    };
    if let Some(p) = result.data.as_ref().and_then(|d| d.patch) {
        read_cfg.patch = Patch::Values(p);
    }
    let own_test;
    let source = match (Spec::parse(data), Spec::parse(&cfg.dataset)) {
        (Ok(spec), Ok(run_spec)) if spec.is_images() => {
            if !run_spec.is_images() {
                return Err(mismatch(data, &cfg.dataset).into());
            }
            own_test = data == cfg.dataset;
            read_cfg.dataset = data.to_string();
            Source::load(&read_cfg, data_dir)?
        }
        (Ok(spec), Ok(run_spec)) => {
            let test = match (&spec, &run_spec) {
                (Spec::Ts { dir, name }, Spec::Ts { .. }) => dir.join(format!("{name}_TEST.ts")),
                (Spec::Csv { test, .. }, Spec::Csv { .. }) => test.clone(),
                _ => return Err(mismatch(data, &cfg.dataset).into()),
            };
            own_test = data == cfg.dataset;
            Source::load_with_test(&read_cfg, None, Some(&test))?
        }
        (Err(_), Ok(run_spec)) => {
            let path = Path::new(data);
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            match (ext, &run_spec) {
                ("ts", Spec::Ts { .. }) | ("csv", Spec::Csv { .. }) => {}
                _ => {
                    return Err(UserError::data(
                        path,
                        format!(
                            "expected a {} file like the run's data ({}), or a dataset (ts:, \
                             csv:, idx:, mnist)",
                            if matches!(run_spec, Spec::Csv { .. }) {
                                ".csv"
                            } else {
                                ".ts"
                            },
                            cfg.dataset
                        ),
                    )
                    .into())
                }
            }
            own_test = false;
            Source::load_with_test(&read_cfg, None, Some(path))?
        }
        (_, Err(m)) => {
            return Err(UserError::store(&config_path, format!("dataset: {m}")).into());
        }
    };
    let dataset = source.split(&read_cfg)?;
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
            )
            .into());
        }
    }

    let arch = Arch::of(&cfg, dataset.features, dataset.classes());
    let mut vs = nn::VarStore::new(Device::Cpu);
    let model = SeqClassifier::new(&vs.root(), &arch);
    run.load_weights(&mut vs, (dataset.features, dataset.classes()))?;
    let examples = dataset.test.len();
    let whole_test = own_test && cfg.test_size == 0;
    if let Some(target) = &dataset.target {
        let z = train::predict_values(&model, &dataset.test, Device::Cpu);
        let truth_z = Vec::<f64>::try_from(dataset.test.y.flatten(0, -1).to_kind(Kind::Double))?;
        let (predicted, truth) = (target.unscale(&z), target.unscale(&truth_z));
        let mut csv = ::csv::Writer::from_writer(Vec::new());
        csv.write_record(["index", &target.name, "predicted"])?;
        for (i, (t, p)) in truth.iter().zip(&predicted).enumerate() {
            let t = if t.is_nan() {
                String::new()
            } else {
                t.to_string()
            };
            csv.write_record([i.to_string(), t, p.to_string()])?;
        }
        store::write_atomic(out, &csv.into_inner()?)?;
        let labelled = truth.iter().all(|t| !t.is_nan());
        return Ok(Predicted {
            out: out.to_path_buf(),
            examples,
            label: result.label.clone(),
            score: Score::Numbers {
                errors: labelled.then(|| Errors::of(&predicted, &truth)),
                recorded: result.errors.test_rmse.filter(|_| whole_test),
            },
        });
    }
    let (csv, correct) = predictions_csv(&model, &dataset)?;
    let labelled = Vec::<i64>::try_from(&dataset.test.y)?
        .iter()
        .all(|&y| y != crate::data::series::UNLABELLED);
    let correct = labelled.then_some(correct);
    store::write_atomic(out, &csv)?;
    Ok(Predicted {
        out: out.to_path_buf(),
        examples,
        label: result.label,
        score: Score::Classes {
            correct,
            recorded: whole_test.then_some(result.test_acc),
        },
    })
}

/// A forecasting run applied to a series file: the `horizon` values after its end, from its
/// last `window` steps scaled with the run's saved statistics.
fn forecast(
    run: &RunDir,
    cfg: &RunConfig,
    result: &crate::records::RunResult,
    data: &str,
    out: &Path,
) -> Result<Predicted> {
    let path = match Spec::parse(data) {
        Ok(Spec::Series(path)) => path,
        Err(_) if Path::new(data).extension().is_some_and(|e| e == "csv") => PathBuf::from(data),
        _ => {
            return Err(UserError::data(
                data,
                "expected a series CSV file (or csv:SERIES.csv) with the run's columns: a \
                 forecasting run forecasts the values after its end",
            )
            .into())
        }
    };
    let norm = run.normalization()?;
    let norm_path = run.path.join(store::NORMALIZATION);
    // New series are read by the names of the columns the run read, in its order.
    let read_cfg = RunConfig {
        columns: match norm.columns.is_empty() {
            true => cfg.columns.clone(),
            false => norm.columns.join(","),
        },
        ..cfg.clone()
    };
    let table = crate::data::forecast::read(&path, &read_cfg)?;
    let trained = result.effective();
    let Some(window) = trained.window.fixed() else {
        return Err(UserError::store(
            run.path.join(store::RESULT),
            "no resolved window: expected the result of a finished forecasting run",
        )
        .into());
    };
    let (mean, std) = (norm.mean.clone(), norm.std.clone());
    let (Some(t_mean), Some(t_std)) = (norm.target_mean, norm.target_std) else {
        return Err(UserError::store(
            &norm_path,
            "no target statistics: expected a forecasting run's",
        )
        .into());
    };
    if mean.len() != std.len() || mean.len() != table.features() {
        return Err(UserError::data(
            &path,
            format!(
                "{} columns read ({}): expected {} as the run trained on ({} in {})",
                table.features(),
                table.names.join(", "),
                mean.len(),
                norm.columns.join(", "),
                norm_path.display()
            ),
        )
        .into());
    }
    if table.steps < window {
        return Err(UserError::data(
            &path,
            format!(
                "{} steps: expected at least the run's window of {window} steps",
                table.steps
            ),
        )
        .into());
    }
    let last = table.steps - 1;
    let relative = trained.normalize == crate::config::Normalize::Last;
    let split = crate::data::forecast::windows_for_prediction(
        &table,
        last,
        window,
        (&mean, &std),
        relative,
    );
    // A relative forecast is a change from the window's last value of the target.
    let centre = match relative {
        true => table.values[last * table.features() + table.target],
        false => t_mean,
    };
    let (w, f) = (window as i64, table.features() as i64);
    let patch = result
        .data
        .as_ref()
        .and_then(|d| d.patch)
        .map_or(Patch::Natural, Patch::Values);
    let reading = crate::data::patch::reading(patch, w, f, false);
    let split = crate::data::patch::apply(&split, reading, false);
    let arch = Arch::of(cfg, reading.features, cfg.horizon as i64);
    let mut vs = nn::VarStore::new(Device::Cpu);
    let model = SeqClassifier::new(&vs.root(), &arch);
    run.load_weights(&mut vs, (reading.features, cfg.horizon as i64))?;
    let z = train::predict_values(&model, &split, Device::Cpu);
    let target = &table.names[table.target];
    let mut csv = ::csv::Writer::from_writer(Vec::new());
    csv.write_record(["step", "row", target.as_str()])?;
    for (k, v) in z.iter().enumerate() {
        // `row`: the 0-based data row the value would have if the series went on.
        csv.write_record([
            (k + 1).to_string(),
            (last + 1 + k).to_string(),
            (v * t_std + centre).to_string(),
        ])?;
    }
    store::write_atomic(out, &csv.into_inner()?)?;
    Ok(Predicted {
        out: out.to_path_buf(),
        examples: z.len(),
        label: result.label.clone(),
        score: Score::Forecast {
            steps: table.steps,
            horizon: cfg.horizon,
            window,
        },
    })
}

/// Checks that a series run's training file, which `predict` and `explain` read again (its
/// classes and the scaling fitted on it), is the file the run trained on: the SHA-256 that the
/// run recorded (results from before it was recorded have none, and are not checked).
pub fn train_file_unchanged(
    run: &RunDir,
    cfg: &RunConfig,
    result: &crate::records::RunResult,
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

/// Whether a file's first bytes are a header that `predict` writes: `index,class,predicted,...`
/// (classification), `index,TARGET,predicted` (regression) or `step,row,TARGET` (forecasts).
fn is_predictions(head: &[u8]) -> bool {
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let fields: Vec<&[u8]> = line.trim_ascii_end().split(|&b| b == b',').collect();
    matches!(
        fields.as_slice(),
        [b"index", _, b"predicted", ..] | [b"step", b"row", _]
    )
}

fn mismatch(data: &str, run: &str) -> UserError {
    UserError::data(
        data,
        format!("not the kind of data the run trained on ({run}): expected the same kind"),
    )
}

/// The CSV of predictions for the test split of `data`, and how many are right.
fn predictions_csv(model: &SeqClassifier, data: &Dataset) -> Result<(Vec<u8>, usize)> {
    let mut csv = ::csv::Writer::from_writer(Vec::new());
    let mut header = vec!["index".to_string(), "class".into(), "predicted".into()];
    header.extend(data.class_names.iter().map(|c| format!("p_{c}")));
    csv.write_record(&header)?;
    let (mut index, mut correct) = (0usize, 0usize);
    tch::no_grad(|| -> Result<()> {
        for batch in train::eval_batches(&data.test) {
            let logits = model.forward(&batch.x, &batch.lengths, false);
            let probs: Vec<Vec<f32>> = Vec::<Vec<f32>>::try_from(&logits.softmax(-1, Kind::Float))?;
            let truth: Vec<i64> = Vec::try_from(&batch.y)?;
            // The predicted class is the logits' argmax, as evaluation counts it.
            let predicted: Vec<i64> = Vec::try_from(&logits.argmax(-1, false))?;
            for ((p, t), k) in probs.iter().zip(&truth).zip(&predicted) {
                let mut row = vec![
                    index.to_string(),
                    // Empty for data without labels.
                    usize::try_from(*t)
                        .map_or_else(|_| String::new(), |t| data.class_names[t].clone()),
                    data.class_names[*k as usize].clone(),
                ];
                row.extend(p.iter().map(|v| format!("{v:.6}")));
                csv.write_record(&row)?;
                correct += usize::from(t == k);
                index += 1;
            }
        }
        Ok(())
    })?;
    Ok((csv.into_inner()?, correct))
}
