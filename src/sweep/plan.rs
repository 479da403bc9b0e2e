/*!
The plan of a sweep: the grid expanded into runs, each with its id (a hash of its resolved
config) and a readable label, and the result record built from a finished run.
*/
use std::path::Path;

use crate::config::{Noise, Resolved, RunConfig, SweepConfig, Task};
use crate::data::Dataset;
use crate::model::counted_params;
use crate::records::EpochMetrics;
use crate::records::{Environment, ResultErrors, RunResult, SweepRecord};
use crate::store::{self, RunDir};

pub struct PlannedRun {
    pub id: String,
    pub label: String,
    pub config: RunConfig,
    /// Successive halving (`early_stop = "asha"`): the rungs' epochs before the last, after
    /// which the run pauses until its rung is decided (`sweep::asha`); empty otherwise.
    pub pauses: Vec<usize>,
}

impl PlannedRun {
    /// The failure record (`failed.json`) of this run for `error`.
    pub fn failure(&self, error: &str) -> crate::records::Failure {
        crate::records::Failure {
            run_id: self.id.clone(),
            label: self.label.clone(),
            error: error.to_string(),
        }
    }
}

/// Relative cost of one epoch of `cfg` (resolved: `data::auto::resolve`) on `samples`
/// training examples of `timesteps` steps of `features`, for a progress ETA and the order of
/// `--jobs`: the recurrent weights drive the matrix work, and a constant per layer and
/// direction stands for the per-step overhead that dominates small widths. In units of an
/// MNIST row reading (28 steps).
pub fn cost_per_epoch(cfg: &RunConfig, features: i64, timesteps: i64, samples: usize) -> u64 {
    // The head's classes cost nothing here: any count does.
    let a = crate::model::Arch::of(cfg, features, 10, timesteps);
    let work = a.recurrent_macs() + a.layers * a.directions() * 8_000;
    samples as u64 * work as u64 * timesteps.max(1) as u64 / 28_000
}

/// A planned run on its data: the config that trains (resolved once, here: the sweep's only
/// call of `data::auto::resolve`), and the cost of one epoch.
pub struct Fitted {
    pub resolved: Resolved,
    pub cost_per_epoch: u64,
    /// The candidates the run chooses between on validation (`choices`), each a run of its
    /// own with its resolved config; empty when it trains `resolved` alone. Where
    /// `resolved.refit`, the kept one then trains again on the training and validation series
    /// together (`refitted`), and that model is the run's.
    pub candidates: Vec<(PlannedRun, Resolved)>,
}

impl Fitted {
    pub fn of(run: &PlannedRun, data: &Dataset) -> Fitted {
        let resolved = crate::data::auto::resolve(&run.config, data);
        let cost_per_epoch =
            cost_per_epoch(&resolved, data.features, data.seq_len, data.train.len());
        // Without validation examples there is nothing to choose on, nor to add back.
        let refit = run.config.refit
            && resolved.task == Task::Classify
            && run.pauses.is_empty()
            && !data.val.is_empty();
        let candidates = match data.val.is_empty() {
            true => Vec::new(),
            false => Fitted::choices(run, &resolved, refit),
        };
        // The resolved config says whether the run refits: not where it cannot.
        Fitted {
            resolved: with_keys(&resolved, |c| c.refit = refit),
            cost_per_epoch,
            candidates,
        }
    }

    /// The cost of the whole run: every candidate's, where it chooses on validation, and the
    /// refit's (on about a quarter more series).
    pub fn cost(&self) -> u64 {
        let refit = if self.resolved.refit { 5 } else { 0 };
        let trainings = self.candidates.len().max(1) as u64 * 4 + refit;
        self.cost_per_epoch * self.resolved.epochs() as u64 * trainings / 4
    }

    /// The candidates a run trains in turn and keeps the best of on validation
    /// (`sweep::one`), each as a run of its own: a series classification whose `noise =
    /// "auto"` resolved to a jitter trains with it, then without, since the jitter that lifts
    /// most problems sinks some (Adiac: 56 % with it, 73 % without). None (an empty list) for
    /// any other run, for one without validation examples, and for one that pauses at
    /// successive halving's rungs, which trains the rule's jitter alone. A run that `refit`s
    /// and has no noise to choose trains its one config as its only candidate, to score
    /// validation before the refit. Candidates train without the refit (`refit = false` in
    /// their configs); the kept one's refit is `Fitted::refitted`.
    fn choices(run: &PlannedRun, resolved: &Resolved, refit: bool) -> Vec<(PlannedRun, Resolved)> {
        let jitter = resolved.noise();
        let chooses = run.config.noise == Noise::Auto
            && jitter > 0.0
            && resolved.task == Task::Classify
            && run.pauses.is_empty();
        let noises = match (chooses, refit) {
            (true, _) => vec![Noise::Std(jitter), Noise::Off],
            (false, true) => vec![resolved.config().noise],
            (false, false) => return Vec::new(),
        };
        noises
            .into_iter()
            .map(|noise| {
                let set = |c: &mut RunConfig| {
                    c.noise = noise;
                    c.refit = false;
                };
                let mut config = run.config.clone();
                set(&mut config);
                let trained = with_keys(resolved, set);
                let candidate = PlannedRun {
                    id: store::run_id(&config),
                    label: match noise.std() {
                        0.0 => format!("{},noise=0", run.label),
                        x => format!("{},noise={x:.3}", run.label),
                    },
                    config,
                    pauses: Vec::new(),
                };
                (candidate, trained)
            })
            .collect()
    }

    /// The refit of a run's kept candidate `(candidate, resolved)`: the same config with
    /// `refit = true`, trained on the training and validation series together
    /// (`Dataset::with_validation_in_training`), in the run's `refit/` folder.
    pub fn refitted((candidate, resolved): &(PlannedRun, Resolved)) -> (PlannedRun, Resolved) {
        let config = RunConfig {
            refit: true,
            ..candidate.config.clone()
        };
        let trained = with_keys(resolved, |c| c.refit = true);
        let planned = PlannedRun {
            id: store::run_id(&config),
            label: format!("{},refit", candidate.label),
            config,
            pauses: Vec::new(),
        };
        (planned, trained)
    }
}

/// `resolved` with `set` applied: keys (noise, refit) that no "auto" rule resolves, so it
/// stays resolved.
fn with_keys(resolved: &Resolved, set: impl Fn(&mut RunConfig)) -> Resolved {
    let mut config = resolved.config().clone();
    set(&mut config);
    Resolved::new(config).expect("a resolved config with a set key stays resolved")
}

pub struct Plan {
    pub name: String,
    pub grid: SweepConfig,
    pub swept: Vec<String>,
    pub runs: Vec<PlannedRun>,
}

impl Plan {
    pub fn new(sweep: &SweepConfig) -> Plan {
        let swept = sweep.swept_keys();
        let mut runs: Vec<PlannedRun> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for config in sweep.runs() {
            let id = store::run_id(&config);
            if !seen.insert(id.clone()) {
                continue;
            }
            let pauses = match sweep.search.as_ref().and_then(|s| s.early_stop) {
                Some(asha) => {
                    let mut rungs = asha.rungs(config.epochs.fixed().unwrap_or(0));
                    rungs.pop();
                    rungs
                }
                None => Vec::new(),
            };
            runs.push(PlannedRun {
                id,
                label: config.label(&swept),
                config,
                pauses,
            });
        }
        Plan {
            name: sweep.name.clone(),
            grid: sweep.clone(),
            swept,
            runs,
        }
    }

    /// This plan with every other run whose folder is in `dir` (a `train` folder, where runs
    /// accumulate): each with the config its `config.json` holds. The swept keys become those
    /// whose values differ between the runs, and the grid lists each key's values, so that
    /// labels, tables and the report tell the runs apart; a folder that is not a readable run
    /// is left alone.
    pub fn gather(mut self, dir: &Path) -> Plan {
        let mut found: Vec<(String, RunConfig)> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let id = e.file_name().to_string_lossy().into_owned();
                let cfg = RunDir::new(dir, &id).config().ok()?;
                (store::run_id(&cfg) == id && !self.runs.iter().any(|r| r.id == id))
                    .then_some((id, cfg))
            })
            .collect();
        found.sort_by(|a, b| a.0.cmp(&b.0));
        for (id, config) in found {
            self.runs.push(PlannedRun {
                id,
                label: String::new(),
                config,
                pauses: Vec::new(),
            });
        }
        let mut grid = self.grid.grid.clone();
        for key in crate::config::RUN_KEYS {
            let mut values: Vec<toml::Value> = Vec::new();
            for r in &self.runs {
                let v = r.config.toml_value(key);
                if !values.contains(&v) {
                    values.push(v);
                }
            }
            if values.len() > 1 {
                grid.insert(key.to_string(), values);
            }
        }
        self.grid.grid = grid;
        self.swept = self.grid.swept_keys();
        for r in &mut self.runs {
            r.label = r.config.label(&self.swept);
        }
        self
    }

    /// This plan narrowed to the runs `ids` names (a recorded plan), in that order; an id the
    /// grid does not expand to is read from its folder in `dir` (a gathered `train` run).
    pub fn only(mut self, ids: &[String], dir: &Path) -> Plan {
        let mut runs = Vec::new();
        for id in ids {
            if let Some(i) = self.runs.iter().position(|r| r.id == *id) {
                runs.push(self.runs.swap_remove(i));
            } else if let Ok(config) = RunDir::new(dir, id).config() {
                runs.push(PlannedRun {
                    id: id.clone(),
                    label: config.label(&self.swept),
                    config,
                    pauses: Vec::new(),
                });
            }
        }
        self.runs = runs;
        self
    }

    /// Successive halving's settings, for a sweep with `early_stop = "asha"`.
    pub fn asha(&self) -> Option<crate::config::Asha> {
        self.grid.search.as_ref().and_then(|s| s.early_stop)
    }

    pub fn record(&self, command: &str) -> SweepRecord {
        SweepRecord {
            name: self.name.clone(),
            select: self.grid.select,
            grid: self.grid.grid.clone(),
            search: self.grid.search.clone(),
            swept: self.swept.clone(),
            runs: self.runs.iter().map(|r| r.id.clone()).collect(),
            command: command.to_string(),
        }
    }

    /// Finished results of this plan's runs, in plan order.
    pub fn finished(&self, dir: &Path) -> Vec<RunResult> {
        self.runs
            .iter()
            .filter_map(|r| RunDir::new(dir, &r.id).finished())
            .collect()
    }
}

/// A warning for a run whose "auto" validation split came out empty (no class had a series
/// to spare): nothing it would choose on validation was chosen, and nothing says so otherwise.
/// A given `val_size` (at least 1) and a forecast's stretches are the config's own.
fn no_validation(cfg: &RunConfig, data: &Dataset) -> Option<String> {
    (data.val.is_empty() && cfg.val_size.fixed().is_none() && data.forecast.is_none()).then(|| {
        format!(
            "no validation split: val_size \"auto\" left all {} training series for training \
             (too few to spare one per class), so nothing was chosen on validation (the noise, \
             the kept epoch, a refit) and there are no validation scores; give each class two \
             or more training series, or validation series of their own (val_split = \"file\" \
             with val_file)",
            data.train.len()
        )
    })
}

/// The result record of a finished run that trained `resolved`.
pub fn result(
    run: &PlannedRun,
    resolved: &Resolved,
    metrics: &[EpochMetrics],
    data: &Dataset,
    vs: &tch::nn::VarStore,
    env: &Environment,
    test_predicted: &[i64],
) -> RunResult {
    // The kept epoch (`keep`): its scores are the result's (the last epoch's by default).
    let kept = crate::train::keep::record(
        metrics,
        resolved.keep,
        crate::train::keep::Stop::of(resolved),
        resolved.epochs(),
    );
    let last = metrics
        .iter()
        .find(|m| m.epoch == kept.epoch)
        .expect("the kept epoch is recorded");
    // The first epoch of the best validation score (accuracy; minus the RMSE).
    let best_m = crate::records::best_val(metrics).expect("at least one epoch");
    let (best_epoch, best) = (best_m.epoch, best_m.val_acc);
    let train_seconds: f64 = metrics.iter().map(|m| m.train_seconds).sum();
    RunResult {
        run_id: run.id.clone(),
        label: run.label.clone(),
        config: run.config.clone(),
        resolved: Some(resolved.clone()).filter(|resolved| *resolved.config() != run.config),
        params: counted_params(vs),
        epochs: metrics.len(),
        kept: Some(kept),
        test_acc: last.test_acc,
        test_loss: last.test_loss,
        val_acc: last.val_acc,
        val_loss: last.val_loss,
        train_acc: last.train_acc,
        train_loss: last.train_loss,
        best_val_acc: best,
        best_val_epoch: best_epoch,
        best_val_test_acc: metrics
            .iter()
            .find(|m| m.epoch == best_epoch)
            .map(|m| m.test_acc)
            .filter(|a| !a.is_nan()),
        train_fit_acc: None,
        nn_ed_test_acc: data.neighbours.and_then(|n| n.ed),
        nn_dtw_test_acc: data.neighbours.and_then(|n| n.dtw),
        ets_model: data
            .forecast
            .as_ref()
            .and_then(|f| Some(f.ets.as_ref()?.model.clone())),
        choice: None,
        intervals: Vec::new(),
        series: Vec::new(),
        warnings: match data.task {
            crate::config::Task::Classify => crate::train::collapse::warnings(
                &Vec::<i64>::try_from(&data.train.y).expect("int64 labels"),
                last.train_acc,
                &Vec::<i64>::try_from(&data.test.y).expect("int64 labels"),
                test_predicted,
                &data.class_names,
            ),
            _ => Vec::new(),
        }
        .into_iter()
        .chain(no_validation(&run.config, data))
        .collect(),
        train_seconds,
        seconds_per_epoch: train_seconds / metrics.len() as f64,
        eval_seconds: metrics.iter().map(|m| m.eval_seconds).sum(),
        train_size: data.train.len(),
        val_size: data.val.len(),
        test_size: data.test.len(),
        env: env.clone(),
        data: Some(data.info(test_predicted)),
        memory: None,
        errors: errors(last, best_m, data),
    }
}

/// A numeric run's errors: its last epoch's, its best validation epoch's, and the baselines'.
fn errors(last: &EpochMetrics, best: &EpochMetrics, data: &Dataset) -> ResultErrors {
    if data.target.is_none() {
        return ResultErrors::default();
    }
    let (val, test) = (last.val_errors, last.test_errors);
    let mut e = ResultErrors {
        train_rmse: last.train_rmse,
        val_rmse: val.map(|e| e.rmse),
        val_mae: val.map(|e| e.mae),
        val_mase: val.and_then(|e| e.mase),
        test_rmse: test.map(|e| e.rmse),
        test_mae: test.map(|e| e.mae),
        test_r2: test.and_then(|e| e.r2),
        test_mase: test.and_then(|e| e.mase),
        best_val_rmse: best.val_errors.map(|e| e.rmse),
        best_val_mase: best.val_errors.and_then(|e| e.mase),
        best_val_test_rmse: best.test_errors.map(|e| e.rmse),
        best_val_test_mase: best.test_errors.and_then(|e| e.mase),
        ..ResultErrors::default()
    };
    let b = data.baselines();
    e.const_test_rmse = b.constant.map(|c| c.rmse);
    e.const_test_mae = b.constant.map(|c| c.mae);
    e.naive_test_rmse = b.naive.map(|c| c.rmse);
    e.naive_test_mase = b.naive.and_then(|c| c.mase);
    e.snaive_test_rmse = b.snaive.map(|c| c.rmse);
    e.snaive_test_mase = b.snaive.and_then(|c| c.mase);
    e.ets_test_rmse = b.ets.map(|c| c.rmse);
    e.ets_test_mae = b.ets.map(|c| c.mae);
    e.ets_test_mase = b.ets.and_then(|c| c.mase);
    e
}

/// The runs of shard `k` of `n` (1-based): every n-th run of the plan, starting at the k-th,
/// so shards are disjoint, cover the plan, and differ in size by at most one run.
pub fn shard(runs: &[PlannedRun], shard: Option<(usize, usize)>) -> Vec<&PlannedRun> {
    match shard {
        None => runs.iter().collect(),
        Some((k, n)) => runs.iter().skip(k - 1).step_by(n).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SweepConfig;

    #[test]
    fn a_large_grid_is_planned_with_its_duplicates_dropped() {
        // 100,000 runs (duplicates were found by a scan of all runs so far: 48 s here).
        let mut sweep = SweepConfig {
            name: "big".into(),
            ..Default::default()
        };
        let units: Vec<String> = (1..=1000).map(|u| u.to_string()).collect();
        sweep
            .set(&format!("num_units=[{}]", units.join(",")))
            .unwrap();
        let seeds: Vec<String> = (0..100).map(|u| u.to_string()).collect();
        sweep.set(&format!("seed=[{}]", seeds.join(","))).unwrap();
        assert_eq!(Plan::new(&sweep).runs.len(), 100_000);
        // The same run twice in a grid is planned once.
        sweep.set("num_units=[8, 8, 16]").unwrap();
        sweep.set("seed=0").unwrap();
        assert_eq!(Plan::new(&sweep).runs.len(), 2);
    }

    #[test]
    fn shards_are_disjoint_balanced_and_cover_the_plan() {
        let mut sweep = SweepConfig {
            name: "s".into(),
            ..Default::default()
        };
        sweep.set("num_units=[1, 2, 3, 4, 5, 6, 7]").unwrap();
        let plan = Plan::new(&sweep);
        let mut seen: Vec<&str> = Vec::new();
        for k in 1..=3 {
            let part = shard(&plan.runs, Some((k, 3)));
            assert!((2..=3).contains(&part.len()), "shard {k}: {}", part.len());
            seen.extend(part.iter().map(|r| r.id.as_str()));
        }
        let mut all: Vec<&str> = plan.runs.iter().map(|r| r.id.as_str()).collect();
        all.sort();
        seen.sort();
        assert_eq!(seen, all);
        assert_eq!(shard(&plan.runs, None).len(), 7);
    }

    #[test]
    fn cost_follows_the_recurrent_weights_of_every_layer_and_direction() {
        let mut sweep = SweepConfig::parse(
            "cell = [\"lstm\", \"gru\", \"rnn\"]\nnum_units = [64, 128]\ntrain_size = 1000",
            "t.toml",
            "t",
        )
        .unwrap();
        let cost = |plan: &Plan, label: &str| {
            let run = plan.runs.iter().find(|r| r.label == label).unwrap();
            cost_per_epoch(&run.config, 28, 28, 1000)
        };
        let plan = Plan::new(&sweep);
        // The one-layer LSTM as before cells existed: N (4H(28+H) + 8,000) / 1000.
        assert_eq!(
            cost(&plan, "units=128,cell=lstm,seed=0"),
            1000 * (4 * 128 * (28 + 128) + 8_000) / 1000
        );
        assert!(
            cost(&plan, "units=128,cell=gru,seed=0") < cost(&plan, "units=128,cell=lstm,seed=0")
        );
        assert!(
            cost(&plan, "units=128,cell=rnn,seed=0") < cost(&plan, "units=128,cell=gru,seed=0")
        );
        sweep.set("layers=2").unwrap();
        sweep.set("bidirectional=true").unwrap();
        let deep = Plan::new(&sweep);
        let (one, four) = (
            cost(&plan, "units=64,cell=lstm,seed=0"),
            cost(&deep, "units=64,cell=lstm,seed=0"),
        );
        assert!(four > 4 * one, "{one} -> {four}");
    }
}
