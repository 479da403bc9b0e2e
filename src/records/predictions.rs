//! A run's test outputs, as written beside its result: a classifier's probabilities per example
//! (`test_probabilities.csv`, with the seed ensemble and confusion matrix made from them) and a
//! numeric run's predictions (`test_predictions.csv`, with its intervals and dates).
use super::interval_columns;

/// A classification run's test probabilities, from its kept model: `test_probabilities.csv`,
/// one row per test example with its true class and the probability of each class (the softmax
/// of the head's logits, to the float's shortest exact text). Seeds of one configuration make
/// an ensemble from them (`ensemble_accuracy`) without rerunning a model.
#[derive(Clone, Debug, PartialEq)]
pub struct TestProbabilities {
    pub class_names: Vec<String>,
    /// Each example's true class, an index into `class_names`.
    pub truth: Vec<usize>,
    pub probabilities: Vec<Vec<f32>>,
}

impl TestProbabilities {
    /// The rows of `test_probabilities.csv`: `index,class,p_<class>...`.
    pub(crate) fn to_csv(&self) -> anyhow::Result<Vec<u8>> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut header = vec!["index".to_string(), "class".into()];
        header.extend(self.class_names.iter().map(|c| format!("p_{c}")));
        w.write_record(&header)?;
        for (i, (t, p)) in self.truth.iter().zip(&self.probabilities).enumerate() {
            let mut row = vec![i.to_string(), self.class_names[*t].clone()];
            row.extend(p.iter().map(f32::to_string));
            w.write_record(&row)?;
        }
        Ok(w.into_inner()?)
    }

    /// Reads `test_probabilities.csv` back, or says what is wrong with it.
    pub(crate) fn from_csv(bytes: &[u8]) -> Result<TestProbabilities, String> {
        let mut r = csv::Reader::from_reader(bytes);
        let header = r
            .headers()
            .map_err(|e| format!("cannot read the header: {e}"))?
            .clone();
        let class_names: Option<Vec<String>> = header
            .iter()
            .skip(2)
            .map(|h| h.strip_prefix("p_").map(str::to_string))
            .collect();
        let class_names = match class_names {
            Some(c) if header.len() > 2 && &header[0] == "index" && &header[1] == "class" => c,
            _ => return Err("expected the header index,class,p_<class>...".into()),
        };
        let mut p = TestProbabilities {
            class_names,
            truth: Vec::new(),
            probabilities: Vec::new(),
        };
        for (i, record) in r.records().enumerate() {
            let bad = || {
                format!(
                    "row {}: expected an index, a class and {} probabilities",
                    i + 2,
                    p.class_names.len()
                )
            };
            let record = record.map_err(|e| format!("row {}: {e}", i + 2))?;
            if record.len() != p.class_names.len() + 2 {
                return Err(bad());
            }
            let truth = p
                .class_names
                .iter()
                .position(|c| c == &record[1])
                .ok_or_else(bad)?;
            let row = record
                .iter()
                .skip(2)
                .map(|v| v.parse::<f32>().ok().filter(|x| x.is_finite()))
                .collect::<Option<Vec<f32>>>()
                .ok_or_else(bad)?;
            p.truth.push(truth);
            p.probabilities.push(row);
        }
        Ok(p)
    }
}

/// The accuracy of an ensemble of runs on one test set: the argmax of their mean class
/// probabilities against the truth (None without runs, or when they are not of one test set).
pub fn ensemble_accuracy(runs: &[&TestProbabilities]) -> Option<f64> {
    let first = runs.first()?;
    let predicted = ensemble_predicted(runs)?;
    let correct = predicted
        .iter()
        .zip(&first.truth)
        .filter(|(p, t)| p == t)
        .count();
    Some(correct as f64 / predicted.len() as f64)
}

/// The class the ensemble of `runs` predicts for each test example: the argmax of the runs'
/// summed probabilities. None unless every run scored the same examples, with the same truth
/// and classes, and there is at least one.
fn ensemble_predicted(runs: &[&TestProbabilities]) -> Option<Vec<usize>> {
    let first = runs.first()?;
    let n = first.truth.len();
    let alike = |r: &&TestProbabilities| {
        r.truth == first.truth && r.class_names == first.class_names && r.probabilities.len() == n
    };
    if n == 0 || !runs.iter().all(alike) {
        return None;
    }
    let predicted = (0..n)
        .map(|i| {
            let sum: Vec<f64> = (0..first.class_names.len())
                .map(|c| {
                    runs.iter()
                        .map(|r| f64::from(r.probabilities[i][c]))
                        .sum::<f64>()
                })
                .collect();
            crate::metrics::argmax(&sum)
        })
        .collect();
    Some(predicted)
}

/// A confusion matrix: `counts[t][p]` test examples of true class t predicted as p.
#[derive(Clone, Debug, PartialEq)]
pub struct Confusion {
    pub class_names: Vec<String>,
    pub counts: Vec<Vec<usize>>,
}

impl Confusion {
    /// The confusion matrix of the ensemble of `runs` (one run: its own), as
    /// `ensemble_predicted` predicts.
    pub fn of_ensemble(runs: &[&TestProbabilities]) -> Option<Confusion> {
        let first = runs.first()?;
        let predicted = ensemble_predicted(runs)?;
        Some(Confusion::of(&first.class_names, &first.truth, &predicted))
    }

    /// The confusion matrix of `predicted` classes against the `truth`, both indices into
    /// `class_names`.
    pub fn of(class_names: &[String], truth: &[usize], predicted: &[usize]) -> Confusion {
        let k = class_names.len();
        let mut counts = vec![vec![0; k]; k];
        for (&t, &p) in truth.iter().zip(predicted) {
            counts[t][p] += 1;
        }
        Confusion {
            class_names: class_names.to_vec(),
            counts,
        }
    }

    /// The matrix as a Markdown table: a row per true class, a column per predicted class
    /// (names with `&`, `|`, `<`, `>` or line breaks escaped, so data cannot break the table).
    pub fn markdown(&self) -> String {
        let cell = |s: &str| {
            s.replace('&', "&amp;")
                .replace('|', "\\|")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace(['\n', '\r'], " ")
        };
        let names: Vec<String> = self.class_names.iter().map(|n| cell(n)).collect();
        let mut out = format!("| true \\ predicted | {} |\n", names.join(" | "));
        out.push_str(&format!("|---|{}\n", "--:|".repeat(names.len())));
        for (t, counts) in self.counts.iter().enumerate() {
            let cells: Vec<String> = counts.iter().map(|n| n.to_string()).collect();
            out.push_str(&format!("| {} | {} |\n", names[t], cells.join(" | ")));
        }
        out
    }
}

/// A numeric run's test predictions in the target's units: `test_predictions.csv`, one row per
/// test example and step ahead. Forecasts also carry each window's origin (the 0-based time
/// step of its last input, so the target is at origin + step) and the naive and seasonal-naive
/// forecasts of the same target, and AutoETS's where it was computed (an `ets` column; older
/// files have none), and, for a series with a `date_column`, the target's date (a last `date`
/// column), and for a panel each row's series (a last `id` column).
#[derive(Clone, Debug, PartialEq)]
pub struct TestPredictions {
    /// Forecasts: each row's (origin, step ahead).
    pub at: Option<Vec<(usize, usize)>>,
    /// A panel's forecasts: each row's series id.
    pub ids: Option<Vec<String>>,
    pub truth: Vec<f64>,
    pub predicted: Vec<f64>,
    pub naive: Option<Vec<f64>>,
    pub snaive: Option<Vec<f64>>,
    pub ets: Option<Vec<f64>>,
    /// Forecasts of a dated series: each row's target date, as the file writes dates.
    pub dates: Option<Vec<String>>,
    /// Forecasts: each interval level's bounds per row (`lo_80`, `hi_80`, ...).
    pub bounds: Vec<Bounds>,
}

/// One level's prediction interval per row of `test_predictions.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct Bounds {
    pub level: f64,
    pub lo: Vec<f64>,
    pub hi: Vec<f64>,
}

impl Bounds {
    /// A level's bounds before any row is read.
    fn empty(level: f64) -> Bounds {
        Bounds {
            level,
            lo: Vec::new(),
            hi: Vec::new(),
        }
    }
}

impl TestPredictions {
    /// The rows of `test_predictions.csv`: `index,truth,predicted` (regression), or
    /// `origin,step,truth,predicted,naive,snaive[,ets][,lo_L,hi_L ...][,date][,id]`
    /// (forecasts).
    pub(crate) fn to_csv(&self) -> anyhow::Result<Vec<u8>> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut head: Vec<String> = match &self.at {
            Some(_) => ["origin", "step", "truth", "predicted", "naive", "snaive"]
                .map(String::from)
                .to_vec(),
            None => ["index", "truth", "predicted"].map(String::from).to_vec(),
        };
        head.extend(self.ets.as_ref().map(|_| "ets".to_string()));
        for b in &self.bounds {
            head.extend(interval_columns(b.level));
        }
        head.extend(self.dates.as_ref().map(|_| "date".to_string()));
        head.extend(self.ids.as_ref().map(|_| "id".to_string()));
        w.write_record(&head)?;
        for i in 0..self.truth.len() {
            let mut row = match &self.at {
                Some(at) => vec![at[i].0.to_string(), at[i].1.to_string()],
                None => vec![i.to_string()],
            };
            row.push(self.truth[i].to_string());
            row.push(self.predicted[i].to_string());
            for b in [&self.naive, &self.snaive, &self.ets].into_iter().flatten() {
                row.push(b[i].to_string());
            }
            for b in &self.bounds {
                row.extend([b.lo[i].to_string(), b.hi[i].to_string()]);
            }
            row.extend(self.dates.as_ref().map(|d| d[i].clone()));
            row.extend(self.ids.as_ref().map(|d| d[i].clone()));
            w.write_record(&row)?;
        }
        Ok(w.into_inner()?)
    }

    /// Reads `test_predictions.csv` back, its columns found by name.
    pub(crate) fn from_csv(bytes: &[u8]) -> Result<TestPredictions, String> {
        let mut r = csv::Reader::from_reader(bytes);
        let header: Vec<String> = r
            .headers()
            .map_err(|e| format!("cannot read the header: {e}"))?
            .iter()
            .map(str::to_string)
            .collect();
        let col = |name: &str| header.iter().position(|h| h == name);
        let forecast = header.first().is_some_and(|h| h == "origin");
        let wanted: &[&str] = match forecast {
            true => &["origin", "step", "truth", "predicted", "naive", "snaive"],
            false => &["index", "truth", "predicted"],
        };
        let missing = wanted.iter().find(|w| col(w).is_none());
        if let Some(m) = missing {
            return Err(format!("no column {m:?}"));
        }
        // Each column's position, found once.
        let at = |name: &str| col(name).expect("checked above");
        let (truth, predicted) = (at("truth"), at("predicted"));
        let origin_step_naive_snaive =
            forecast.then(|| [at("origin"), at("step"), at("naive"), at("snaive")]);
        let levels: Vec<(f64, usize, usize)> = header
            .iter()
            .enumerate()
            .filter_map(|(i, h)| {
                let level = h.strip_prefix("lo_")?.parse::<f64>().ok()?;
                let [_, hi] = interval_columns(level);
                Some((level, i, col(&hi)?))
            })
            .collect();
        let (ets, date) = (col("ets"), col("date"));
        let id = col("id").filter(|_| forecast);
        let mut p = TestPredictions {
            at: forecast.then(Vec::new),
            ids: id.map(|_| Vec::new()),
            truth: Vec::new(),
            predicted: Vec::new(),
            naive: forecast.then(Vec::new),
            snaive: forecast.then(Vec::new),
            ets: ets.map(|_| Vec::new()),
            dates: date.map(|_| Vec::new()),
            bounds: levels.iter().map(|l| Bounds::empty(l.0)).collect(),
        };
        for (i, record) in r.records().enumerate() {
            let record = record.map_err(|e| format!("row {}: {e}", i + 2))?;
            let bad = || format!("row {}: expected {} fields of numbers", i + 2, header.len());
            if record.len() != header.len() {
                return Err(bad());
            }
            let num = |k: usize| record[k].parse::<f64>().map_err(|_| bad());
            let int = |k: usize| record[k].parse::<usize>().map_err(|_| bad());
            p.truth.push(num(truth)?);
            p.predicted.push(num(predicted)?);
            if let Some([origin, step, naive, snaive]) = origin_step_naive_snaive {
                p.at.as_mut()
                    .expect("forecast")
                    .push((int(origin)?, int(step)?));
                p.naive.as_mut().expect("forecast").push(num(naive)?);
                p.snaive.as_mut().expect("forecast").push(num(snaive)?);
            }
            if let (Some(v), Some(k)) = (p.ets.as_mut(), ets) {
                v.push(num(k)?);
            }
            for (v, k) in [(p.dates.as_mut(), date), (p.ids.as_mut(), id)] {
                if let (Some(v), Some(k)) = (v, k) {
                    v.push(record[k].to_string());
                }
            }
            for (b, &(_, lo, hi)) in p.bounds.iter_mut().zip(&levels) {
                b.lo.push(num(lo)?);
                b.hi.push(num(hi)?);
            }
        }
        Ok(p)
    }
}
