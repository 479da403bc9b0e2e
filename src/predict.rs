/*!
`rowseq predict RUN_DIR DATA`: a finished run applied to new sequences. DATA is a `.ts` file or a
CSV file (read against the run's own training file, with its CSV keys: its classes, its
normalisation fitted on its training split), a `ts:DIR/NAME` or `csv:TRAIN,TEST` dataset (its
test file), or an image set (`mnist`, `fashion-mnist`, `idx:DIR`: its test images). The run's
patching is applied as it was when it trained.

It writes one row per sequence: its index in the file, the true class (empty when the file has
no labels: `@classLabel false`, or a CSV without the label column), the predicted class and
the probability of each class (softmax of the head's logits), atomically, to `--out` (default
`predictions.csv`), and prints the accuracy when there are labels. On the run's own test file (a run that was tested
on all of it) that accuracy is the run's recorded test accuracy: the same model, data and
arithmetic.
*/
use std::path::{Path, PathBuf};

use anyhow::Result;
use tch::{nn, Device, Kind};

use crate::config::{Patch, RunConfig};
use crate::data::spec::Spec;
use crate::data::{Dataset, Source};
use crate::error::UserError;
use crate::model::{Arch, SeqClassifier};
use crate::store::{self, RunDir};
use crate::train;

/// What `predict` did.
pub struct Predicted {
    pub out: PathBuf,
    pub examples: usize,
    /// Right predictions; None when the data has no labels.
    pub correct: Option<usize>,
    /// The run's recorded test accuracy, when DATA is its own test set and it tested on all.
    pub recorded: Option<f64>,
    pub label: String,
}

/// Applies the run in `run_dir` to `data`, writing the predictions to `out`.
pub fn run(run_dir: &Path, data: &str, data_dir: Option<&Path>, out: &Path) -> Result<Predicted> {
    let run = RunDir {
        path: run_dir.to_path_buf(),
    };
    let config_path = run_dir.join(store::CONFIG);
    let cfg = run.config()?;
    let Some(result) = run.result()? else {
        return Err(UserError::store(
            run_dir,
            "the run has not finished (no result.json): finish it with `rowseq sweep`, then predict",
        )
        .into());
    };
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
    if let Some((features, classes)) = shape {
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
    let (csv, correct) = predictions_csv(&model, &dataset)?;
    let labelled = Vec::<i64>::try_from(&dataset.test.y)?
        .iter()
        .all(|&y| y != crate::data::series::UNLABELLED);
    let correct = labelled.then_some(correct);
    store::write_atomic(out, &csv)?;
    let examples = dataset.test.len();
    let recorded = (own_test && cfg.test_size == 0).then_some(result.test_acc);
    Ok(Predicted {
        out: out.to_path_buf(),
        examples,
        correct,
        recorded,
        label: result.label,
    })
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
