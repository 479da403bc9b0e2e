/*!
`rowseq predict RUN_DIR... DATA`: finished runs applied to new sequences (`member` reads DATA
as each run read its data, and runs its model).

One run predicts alone. Several (run folders, or a sweep folder's finished runs, narrowed with
`--select KEY=VALUE`, or `--best`: the configuration of best validation score, its seeds) are
an ensemble: the mean of their class probabilities (the predicted
class is the argmax of the mean), of their predicted numbers, or of their forecasts. Its members
must be runs of one problem: one task, the same classes or target, the same DATA read to the
same number of sequences.

Classification writes one row per sequence: its index in the file, the true class (empty when
the file has no labels: `@classLabel false`, or a CSV without the label column), the predicted
class and the probability of each class, and prints the accuracy when there are labels. On the
run's own test file (a run that was tested on all of it) a single run's accuracy is its recorded
test accuracy: the same model, data and arithmetic. Regression writes one row per sequence: its
index, the true target (empty without labels) and the predicted one, in the target's units, and
prints the RMSE when there are labels. Forecasting writes the `horizon` values after the
series' end (`step,row,TARGET`), each with the run's prediction intervals (`lo_80,hi_80,...`:
the value minus and plus the run's conformal half-width for that step ahead; an ensemble's is
its runs' mean) and, for a dated series, its date.

`--out` (default `predictions.csv`, written atomically) never replaces a file the user did not
ask to lose (`store::output`): it is refused when it is an input of the command (DATA, the runs'
own data files) or lies in a run folder, and an existing file is overwritten only when it is a
previous predictions file (its header is one `predict` writes), or with `--force`.
*/
mod ensemble;
mod member;

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::error::UserError;
use crate::metrics::Errors;
use crate::store::{self, RunDir};
pub use member::train_file_unchanged;
use member::{Member, Output};

/// What `rowseq predict` is asked.
pub struct Request<'a> {
    /// Run folders, or one sweep folder.
    pub runs: &'a [PathBuf],
    /// `KEY=VALUE` filters on a sweep folder's runs (or on the runs given).
    pub select: &'a [String],
    /// Keep only the configuration of best validation score (its seeds).
    pub best: bool,
    pub data: &'a str,
    pub data_dir: Option<&'a Path>,
    pub out: &'a Path,
    pub force: bool,
}

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
        /// Steps of the (first) series read, series read, values forecast after each, and
        /// the window read.
        steps: usize,
        series: usize,
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
                series: 1,
                horizon,
                window,
            } => format!(
                "the {horizon} value{} after the series' {steps} steps, forecast from its last \
                 {window}",
                if *horizon == 1 { "" } else { "s" },
            ),
            Score::Forecast {
                series,
                horizon,
                window,
                ..
            } => format!(
                "the {horizon} value{} after the end of each of {series} series, forecast from \
                 its last {window} steps",
                if *horizon == 1 { "" } else { "s" },
            ),
        };
        format!("{head}\n{score}")
    }
}

/// Applies the runs of `req` to its data, writing the predictions to its `--out`.
pub fn run(req: &Request) -> Result<Predicted> {
    let mut runs = members(req.runs, req.select)?;
    if req.best {
        runs = best_trial(runs)?;
    }
    let mut inputs = store::output::dataset_files(req.data);
    for run in &runs {
        inputs.extend(member::inputs(run)?);
    }
    store::output::check_output(
        "--out",
        req.out,
        runs.first().map(PathBuf::as_path),
        &inputs,
        is_predictions,
        "a predictions CSV",
        req.force,
    )?;
    let predicted = runs
        .iter()
        .map(|run| member::predict(run, req.data, req.data_dir))
        .collect::<Result<Vec<Member>>>()?;
    let label = match predicted.as_slice() {
        [one] => one.label.clone(),
        all => format!(
            "an ensemble of {} runs ({})",
            all.len(),
            all.iter()
                .map(|m| m.label.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        ),
    };
    let output = ensemble::mean(predicted, &runs)?;
    let (csv, examples, score) = write(&output)?;
    store::write_atomic(req.out, &csv)?;
    Ok(Predicted {
        out: req.out.to_path_buf(),
        examples,
        label,
        score,
    })
}

/// The run folders a request names: the folders given, or the finished runs of the one sweep
/// folder given, kept where every `KEY=VALUE` of `select` matches (a run key, or `units`).
fn members(runs: &[PathBuf], select: &[String]) -> Result<Vec<PathBuf>, UserError> {
    let filters = select
        .iter()
        .map(|s| match s.split_once('=') {
            Some((k, v)) if crate::config::key(k.trim()).is_some() || k.trim() == "units" => {
                Ok((k.trim().to_string(), v.trim().to_string()))
            }
            _ => Err(UserError::Arg {
                flag: "--select".into(),
                value: s.clone(),
                expected: "expected KEY=VALUE with a run key (num_units=128, seed=0; units is \
                           num_units)"
                    .into(),
            }),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let sweep = match runs {
        [one] if !one.join(store::CONFIG).exists() && one.join(store::SWEEP).exists() => Some(one),
        _ => None,
    };
    let candidates: Vec<PathBuf> = match sweep {
        Some(dir) => {
            let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
                .map_err(|e| UserError::store(dir, format!("cannot read: {e}")))?
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.join(store::RESULT).is_file())
                .collect();
            found.sort();
            found
        }
        None => runs.to_vec(),
    };
    let mut kept = Vec::new();
    for run in candidates {
        if filters.is_empty() || matches(&run, &filters)? {
            kept.push(run);
        }
    }
    if kept.is_empty() {
        let place = runs
            .first()
            .map_or_else(String::new, |r| r.display().to_string());
        return Err(UserError::store(
            place,
            format!(
                "no finished run matches {}: expected --select KEY=VALUE naming runs of the \
                 sweep (see its results.csv)",
                select.join(" ")
            ),
        ));
    }
    Ok(kept)
}

/// Of finished runs, those of the configuration (over seeds) with the best validation score
/// of their final epoch, whose weights they keep, ranked as the closing table of a search
/// ranks trials (`summary::rank_by_validation`: equal scores go to the smaller model).
fn best_trial(runs: Vec<PathBuf>) -> Result<Vec<PathBuf>, UserError> {
    let mut results = Vec::with_capacity(runs.len());
    for run in &runs {
        let dir = RunDir {
            path: run.to_path_buf(),
        };
        match dir.result()? {
            Some(r) => results.push(r),
            None => {
                return Err(UserError::store(
                    run,
                    "no result.json: expected finished runs for --best (train it first)",
                ))
            }
        }
    }
    let mut groups = crate::summary::group(&results, crate::config::Select::Last);
    crate::summary::rank_by_validation(&mut groups);
    let best = &groups[0].run_ids;
    Ok(runs
        .into_iter()
        .zip(&results)
        .filter(|(_, r)| best.contains(&r.run_id))
        .map(|(run, _)| run)
        .collect())
}

/// Whether the run in `run` has every key = value of `filters`, as its config states them.
fn matches(run: &Path, filters: &[(String, String)]) -> Result<bool, UserError> {
    let cfg = RunDir {
        path: run.to_path_buf(),
    }
    .config()?;
    Ok(filters.iter().all(|(k, v)| {
        let key = if k == "units" {
            "num_units"
        } else {
            k.as_str()
        };
        let value = cfg.value_text(key);
        value == *v || value.trim_matches('"') == v.trim_matches('"')
    }))
}

/// The predictions CSV of `output`, how many rows it has, and their score.
fn write(output: &Output) -> Result<(Vec<u8>, usize, Score)> {
    let mut csv = ::csv::Writer::from_writer(Vec::new());
    let (examples, score) = match output {
        Output::Classes {
            class_names,
            truth,
            probabilities,
            predicted,
            recorded,
        } => {
            let correct = write_classes(&mut csv, class_names, truth, predicted, probabilities)?;
            let labelled = truth.iter().all(|&y| y != crate::data::series::UNLABELLED);
            let score = Score::Classes {
                correct: labelled.then_some(correct),
                recorded: *recorded,
            };
            (truth.len(), score)
        }
        Output::Numbers {
            target,
            truth,
            predicted,
            recorded,
        } => {
            write_numbers(&mut csv, target, truth, predicted)?;
            let labelled = truth.iter().all(|t| !t.is_nan());
            let score = Score::Numbers {
                errors: labelled.then(|| Errors::of(predicted, truth)),
                recorded: *recorded,
            };
            (truth.len(), score)
        }
        Output::Forecast {
            target,
            series,
            window,
            values,
            dates,
            intervals,
        } => {
            write_forecast(
                &mut csv,
                target,
                series,
                values,
                dates.as_deref(),
                intervals,
            )?;
            let score = Score::Forecast {
                steps: series[0].1,
                series: series.len(),
                horizon: values.len() / series.len(),
                window: *window,
            };
            (values.len(), score)
        }
    };
    Ok((csv.into_inner()?, examples, score))
}

/// Writes classification's rows: each sequence's index, true class (empty without labels),
/// predicted class and class probabilities, after the header; returns how many were right.
fn write_classes(
    csv: &mut ::csv::Writer<Vec<u8>>,
    class_names: &[String],
    truth: &[i64],
    predicted: &[i64],
    probabilities: &[Vec<f64>],
) -> Result<usize> {
    let mut header = vec!["index".to_string(), "class".into(), "predicted".into()];
    header.extend(class_names.iter().map(|c| format!("p_{c}")));
    csv.write_record(&header)?;
    let mut correct = 0usize;
    for (i, ((t, k), p)) in truth.iter().zip(predicted).zip(probabilities).enumerate() {
        let mut row = vec![
            i.to_string(),
            // Empty for data without labels.
            usize::try_from(*t).map_or_else(|_| String::new(), |t| class_names[t].clone()),
            class_names[*k as usize].clone(),
        ];
        row.extend(p.iter().map(|v| format!("{v:.6}")));
        csv.write_record(&row)?;
        correct += usize::from(t == k);
    }
    Ok(correct)
}

/// Writes regression's rows: each sequence's index, true target (empty without labels) and
/// predicted one, after the header.
fn write_numbers(
    csv: &mut ::csv::Writer<Vec<u8>>,
    target: &str,
    truth: &[f64],
    predicted: &[f64],
) -> Result<()> {
    csv.write_record(["index", target, "predicted"])?;
    for (i, (t, p)) in truth.iter().zip(predicted).enumerate() {
        let t = if t.is_nan() {
            String::new()
        } else {
            t.to_string()
        };
        csv.write_record([i.to_string(), t, p.to_string()])?;
    }
    Ok(())
}

/// Writes a forecast's rows: each value's step ahead, its row after the series' `steps`, the
/// value, its interval bounds and its date, after the header.
fn write_forecast(
    csv: &mut ::csv::Writer<Vec<u8>>,
    target: &str,
    series: &[(String, usize)],
    values: &[f64],
    dates: Option<&[String]>,
    intervals: &[(f64, Vec<[f64; 2]>)],
) -> Result<()> {
    let panel = series.len() > 1 || series.iter().any(|s| !s.0.is_empty());
    let h = values.len() / series.len().max(1);
    let mut head = vec!["step".to_string(), "row".into(), target.to_string()];
    for (level, _) in intervals {
        head.extend(crate::records::interval_columns(*level));
    }
    head.extend(dates.map(|_| "date".to_string()));
    head.extend(panel.then(|| "id".to_string()));
    csv.write_record(head)?;
    for (k, v) in values.iter().enumerate() {
        let (id, steps) = &series[k / h];
        // `row`: the 0-based row of its series the value would have if the series went on.
        let ahead = k % h;
        let mut row = vec![
            (ahead + 1).to_string(),
            (steps + ahead).to_string(),
            v.to_string(),
        ];
        for (_, b) in intervals {
            row.extend(b[k].map(|x| x.to_string()));
        }
        row.extend(dates.map(|d| d[k].clone()));
        row.extend(panel.then(|| id.clone()));
        csv.write_record(row)?;
    }
    Ok(())
}

/// Whether a file's first bytes are a header that `predict` writes: `index,class,predicted,...`
/// (classification), `index,TARGET,predicted` (regression) or
/// `step,row,TARGET[,lo_L,hi_L ...][,date][,id]` (forecasts).
fn is_predictions(head: &[u8]) -> bool {
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let fields: Vec<&[u8]> = line.trim_ascii_end().split(|&b| b == b',').collect();
    match fields.as_slice() {
        [b"index", _, b"predicted", ..] => true,
        // A forecast: the value, then only interval pairs and the date, as `write` puts them.
        [b"step", b"row", _, rest @ ..] => {
            let rest = rest.strip_suffix(&[&b"id"[..]]).unwrap_or(rest);
            let rest = rest.strip_suffix(&[&b"date"[..]]).unwrap_or(rest);
            rest.chunks(2).all(|pair| match pair {
                [lo, hi] => {
                    let (lo, hi) = (String::from_utf8_lossy(lo), String::from_utf8_lossy(hi));
                    lo.strip_prefix("lo_")
                        .and_then(|l| l.parse::<f64>().ok())
                        .is_some_and(|l| {
                            crate::records::interval_columns(l) == [lo.to_string(), hi.to_string()]
                        })
                }
                _ => false,
            })
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::is_predictions;

    /// Only headers `predict` writes count as a previous predictions file, which `--out` may
    /// replace without `--force`: a forecast's value may be followed by interval pairs and its
    /// date, nothing else.
    #[test]
    fn only_predicts_own_headers_are_predictions() {
        for ours in [
            "index,class,predicted,p_a,p_b\n1,a,a,0.9,0.1",
            "index,y,predicted",
            "step,row,sales",
            "step,row,sales,date",
            "step,row,sales,lo_80,hi_80,lo_95,hi_95",
            "step,row,sales,lo_97.5,hi_97.5,date\r\n",
        ] {
            assert!(is_predictions(ours.as_bytes()), "{ours}");
        }
        for theirs in [
            "step,row,sales,price",
            "step,row,sales,lo_80",
            "step,row,sales,lo_80,hi_95",
            "step,row,sales,date,lo_80,hi_80",
            "step,row",
            "date,sales",
        ] {
            assert!(!is_predictions(theirs.as_bytes()), "{theirs}");
        }
    }
}
