/*!
A dataset as loaded from disk (`Source`, once per process, shared by every run that reads it):
where it came from (`Origin`) and what was loaded (`load::Loaded`): labelled sequences, or one
series to forecast. `load` reads it; `Source::split` hands each kind to its own split for one
run's config (`sequences::split`, `windows::split`), which end in the one patched `Dataset`
(`Origin::patched`); `summary`, the 1-NN baselines and the ETS baseline match on it the same
way.
*/
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use tch::Tensor;

use super::ets::{self, EtsForecast};
use super::load::{self, Loaded};
use super::neighbours::{self, NearestNeighbour};
use super::origin::Origin;
use super::sequences;
use super::series::Sequences;
use super::{windows, Dataset, Summary};
use crate::config::dataset::Spec;
use crate::config::{RunConfig, Task};
use crate::error::UserError;

/// What an ETS baseline depends on: the series (its index in the file), season, training
/// steps, horizon, first test origin and number of test windows.
type EtsKey = (usize, usize, usize, usize, usize, usize);

/// A whole dataset as loaded from disk, before the run's split sizes are applied. Loaded once
/// per process and shared by every run that uses it.
pub struct Source {
    /// Its name, spec and training file's hash.
    pub origin: Origin,
    task: Task,
    pub(super) loaded: Loaded,
    /// The 1-NN baselines computed so far, by the number of test series they scored.
    neighbours: Mutex<HashMap<usize, NearestNeighbour>>,
    /// The ETS baselines computed so far, by (season, training steps, horizon, first test
    /// origin, test windows); None where augurs could not fit the series.
    ets: Mutex<HashMap<EtsKey, Option<Arc<EtsForecast>>>>,
}

impl Source {
    /// What `load` read for `cfg`: its `dataset` as parsed (`spec`), the data, and the
    /// training file's SHA-256 (series sets).
    pub(super) fn new(
        cfg: &RunConfig,
        spec: Spec,
        loaded: Loaded,
        train_sha256: Option<String>,
    ) -> Source {
        Source {
            origin: Origin {
                name: cfg.dataset.clone(),
                spec,
                train_sha256,
            },
            task: cfg.task,
            loaded,
            neighbours: Default::default(),
            ets: Default::default(),
        }
    }

    /// Loads the dataset `cfg` names; `data_dir` replaces `data/<name>` for named datasets.
    pub fn load(cfg: &RunConfig, data_dir: Option<&Path>) -> Result<Source, UserError> {
        Source::load_with_test(cfg, data_dir, None)
    }

    /// Loads the dataset `cfg` names, its test file replaced by `test` (a `.ts` file for `ts:`
    /// data, a CSV file read with the run's CSV keys for `csv:` data, a series file for
    /// forecasting): new data read against the run's own training file (its classes, its
    /// normalisation), with or without labels (`@classLabel false`; a CSV without the label
    /// column). Image sets take no replacement file (`predict` names another image set
    /// instead).
    pub fn load_with_test(
        cfg: &RunConfig,
        data_dir: Option<&Path>,
        test: Option<&Path>,
    ) -> Result<Source, UserError> {
        let (spec, loaded, train_sha256) = load::load(cfg, data_dir, test)?;
        Ok(Source::new(cfg, spec, loaded, train_sha256))
    }

    /// A named data set (mnist, fashion-mnist), read from a data folder rather than files the
    /// dataset names.
    pub fn is_named(&self) -> bool {
        self.origin.spec.is_named()
    }

    /// Runs with the same key share one loaded source: the dataset, and for CSV how it is read.
    pub fn key(cfg: &RunConfig) -> String {
        match Spec::parse(&cfg.dataset) {
            Ok(Spec::Csv { .. }) => format!(
                "{}|{:?}|{}|{}|{}|{:?}",
                cfg.dataset,
                cfg.csv_layout,
                cfg.label_column,
                cfg.id_column,
                cfg.time_column,
                cfg.task
            ),
            Ok(Spec::Series(_)) => format!(
                "{}|{}|{}|{}",
                cfg.dataset, cfg.columns, cfg.target_column, cfg.id_column
            ),
            _ => format!("{}|{:?}", cfg.dataset, cfg.task),
        }
    }

    /// Series classification: the test accuracies of the 1-NN classifiers (ED and DTW) on the
    /// first `test_len` test series against the whole training file, on the values as read
    /// (`data::neighbours`); computed once per test size and kept. None for images (their
    /// baselines are not what rowseq measures them against) and numeric tasks.
    pub fn nearest_neighbour(&self, test_len: usize) -> Option<NearestNeighbour> {
        let Loaded::Sequences(seqs) = &self.loaded else {
            return None;
        };
        if self.origin.spec.is_images() || self.task != Task::Classify {
            return None;
        }
        let mut done = self.neighbours.lock().expect("not poisoned");
        let nn = done
            .entry(test_len)
            .or_insert_with(|| neighbours::accuracy(&seqs.train, &seqs.test.narrow(0, test_len)));
        Some(*nn)
    }

    /// Forecasting: the AutoETS baseline of the test windows of `f` (`data::ets`), each
    /// series fitted on its own, computed once per series, season and cut and kept, as a
    /// sweep's runs share them (a refit per test origin costs seconds). None for other data,
    /// or where augurs cannot fit a series (said once on stderr).
    pub fn ets(&self, f: &super::Forecast, season: usize) -> Option<Arc<EtsForecast>> {
        let Loaded::Series(panel) = &self.loaded else {
            return None;
        };
        let mut each = Vec::with_capacity(f.series.len());
        for (i, s) in f.series.iter().enumerate() {
            each.push(self.ets_of(panel, i, s, (f.horizon, season))?);
        }
        if let [one] = each.as_slice() {
            return Some(one.clone());
        }
        let models: std::collections::BTreeSet<&str> =
            each.iter().map(|e| e.model.as_str()).collect();
        Some(Arc::new(EtsForecast {
            model: match models.len() {
                1 => format!("{}, per series", each[0].model),
                n => format!("per series, {n} forms"),
            },
            values: each.iter().flat_map(|e| e.values.iter().copied()).collect(),
        }))
    }

    /// Series `i`'s AutoETS baseline (`ets`), computed once and kept.
    fn ets_of(
        &self,
        panel: &super::forecast::Panel,
        i: usize,
        s: &super::SeriesCut,
        (horizon, season): (usize, usize),
    ) -> Option<Arc<EtsForecast>> {
        let origins = &s.test_origins;
        let train = s.stretches.train;
        let key = (i, season, train, horizon, *origins.first()?, origins.len());
        let mut done = self.ets.lock().expect("not poisoned");
        done.entry(key)
            .or_insert_with(|| {
                let y = panel.tables[i].target_values();
                match ets::roll(&y, train, origins, horizon, season) {
                    Ok(e) => Some(Arc::new(e)),
                    Err(e) => {
                        eprintln!(
                            "note: no ETS baseline for {}{}: {e}",
                            self.origin.name,
                            panel.which(i)
                        );
                        None
                    }
                }
            })
            .clone()
    }

    /// The whole dataset at a glance.
    pub fn summary(&self) -> Summary {
        match &self.loaded {
            Loaded::Sequences(seqs) => self.sequences_summary(seqs),
            Loaded::Series(panel) => {
                let table = &panel.tables[0];
                let steps = panel.tables.iter().map(|t| t.steps as i64);
                Summary {
                    dataset: self.origin.name.clone(),
                    train_examples: panel.tables.len(),
                    test_examples: 0,
                    min_length: steps.clone().min().unwrap_or(0),
                    max_length: steps.max().unwrap_or(0),
                    features: table.features() as i64,
                    class_names: Vec::new(),
                    images: false,
                    task: Task::Forecast,
                    columns: table.names.clone(),
                    target: Some(table.names[table.target].clone()),
                }
            }
        }
    }

    fn sequences_summary(&self, seqs: &Sequences) -> Summary {
        let lengths = Tensor::cat(&[&seqs.train.lengths, &seqs.test.lengths], 0);
        Summary {
            dataset: self.origin.name.clone(),
            train_examples: seqs.train.len(),
            test_examples: seqs.test.len(),
            min_length: lengths.min().int64_value(&[]),
            max_length: seqs.seq_len,
            features: seqs.features,
            class_names: seqs.class_names.clone(),
            images: self.origin.spec.is_images(),
            task: self.task,
            columns: Vec::new(),
            target: None,
        }
    }

    /// The splits a run asks for, each kind of data by its own rules: labelled sequences by
    /// validation, sizes and scaling (`sequences::split`), one series by windows cut in time
    /// (`windows::split`).
    pub fn split(&self, cfg: &RunConfig) -> Result<Dataset, UserError> {
        match &self.loaded {
            Loaded::Sequences(seqs) => sequences::split(&self.origin, seqs, cfg),
            Loaded::Series(panel) => windows::split(&self.origin, panel, cfg),
        }
    }
}
