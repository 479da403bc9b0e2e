/*!
Per-configuration summaries of finished runs: runs that differ only in their seed are one
group, with the mean and sample standard deviation over seeds. Used by the sweep's closing
table and by the report.
*/
use crate::config::{RunConfig, Select, Task};
use crate::records::{ensemble_accuracy, RunResult, TestProbabilities};

/// Mean and sample standard deviation (0 for a single value).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stat {
    pub mean: f64,
    pub std: f64,
    pub n: usize,
}

impl Stat {
    pub fn of(values: &[f64]) -> Stat {
        let n = values.len();
        if n == 0 {
            return Stat {
                mean: f64::NAN,
                std: f64::NAN,
                n,
            };
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let std = if n > 1 {
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            0.0
        };
        Stat { mean, std, n }
    }
}

/// Runs of one configuration over seeds.
#[derive(Clone, Debug)]
pub struct Group {
    /// The shared configuration, with `seed` of the first run.
    pub config: RunConfig,
    pub params: i64,
    /// Epochs of its first run (resolved where "auto").
    pub epochs: usize,
    pub seeds: Vec<u64>,
    /// Its runs' ids, in the order of `seeds`.
    pub run_ids: Vec<String>,
    pub test_acc: Stat,
    pub val_acc: Stat,
    pub seconds_per_epoch: Stat,
    /// Numeric tasks: the headline test error `select` chooses (MASE for forecasts, RMSE for
    /// regression), the test RMSE, the validation error beside the headline, and the
    /// baselines' (named) mean errors.
    pub test_error: Stat,
    pub test_rmse: Stat,
    pub val_error: Stat,
    pub baselines: Vec<(&'static str, f64)>,
    /// Classification over two or more seeds: the test accuracy of their ensemble (the argmax
    /// of the mean of their kept models' test probabilities; `add_ensembles`).
    pub ensemble_acc: Option<f64>,
}

impl Group {
    pub fn task(&self) -> Task {
        self.config.task
    }

    /// The validation score the tables show, higher is better: accuracy, or minus the
    /// validation error for numeric tasks; minus infinity where no run recorded one.
    pub fn val_score(&self) -> f64 {
        let score = match self.task() {
            Task::Classify => self.val_acc.mean,
            _ => -self.val_error.mean,
        };
        if score.is_nan() {
            f64::NEG_INFINITY
        } else {
            score
        }
    }
}

/// Orders groups by validation score, best first, as a search's closing table and `predict
/// --best` rank trials: test scores never choose. Equal scores put the smaller model first,
/// then the config's text, so the order never depends on the order of the groups.
pub fn rank_by_validation(groups: &mut [Group]) {
    let text = |g: &Group| serde_json::to_string(&g.config.without_seed()).unwrap_or_default();
    groups.sort_by(|a, b| {
        b.val_score()
            .total_cmp(&a.val_score())
            .then(a.params.cmp(&b.params))
            .then_with(|| text(a).cmp(&text(b)))
    });
}

/// Groups results by configuration without seed, in first-seen order; `test_acc` holds the
/// test accuracy `select` chooses (results without a best-val record are left out of it).
pub fn group(results: &[RunResult], select: Select) -> Vec<Group> {
    let key = RunConfig::without_seed;
    seed_groups(results.iter().map(|r| &r.config))
        .into_iter()
        .map(|k| {
            let rs: Vec<&RunResult> = results.iter().filter(|r| key(&r.config) == k).collect();
            let vals = |f: &dyn Fn(&RunResult) -> f64| rs.iter().map(|r| f(r)).collect::<Vec<_>>();
            let errors = selected_errors(&rs, select);
            Group {
                config: rs[0].config.clone(),
                params: rs[0].params,
                epochs: rs[0].epochs,
                seeds: rs.iter().map(|r| r.config.seed).collect(),
                run_ids: rs.iter().map(|r| r.run_id.clone()).collect(),
                test_acc: selected_test_acc(&rs, select),
                val_acc: Stat::of(&vals(&|r| r.val_acc)),
                seconds_per_epoch: Stat::of(&vals(&|r| r.seconds_per_epoch)),
                test_error: errors.test_error,
                test_rmse: errors.test_rmse,
                val_error: errors.val_error,
                baselines: baselines(&rs),
                ensemble_acc: None,
            }
        })
        .collect()
}

/// Fills `ensemble_acc` of every classification group of two or more seeds whose runs all have
/// test probabilities (`probabilities` reads a run's from the store).
pub fn add_ensembles(
    groups: &mut [Group],
    results: &[RunResult],
    probabilities: impl Fn(&RunResult) -> Option<TestProbabilities>,
) {
    for g in groups.iter_mut().filter(|g| g.task() == Task::Classify) {
        let key = g.config.without_seed();
        let runs: Vec<&RunResult> = results
            .iter()
            .filter(|r| r.config.without_seed() == key)
            .collect();
        if runs.len() < 2 {
            continue;
        }
        let members: Option<Vec<TestProbabilities>> =
            runs.iter().map(|r| probabilities(r)).collect();
        g.ensemble_acc = members.and_then(|m| ensemble_accuracy(&m.iter().collect::<Vec<_>>()));
    }
}

/// The configurations of `configs` without their seeds, each once, in first-seen order: the
/// groups over seeds that the tables and the report show.
pub fn seed_groups<'a>(configs: impl IntoIterator<Item = &'a RunConfig>) -> Vec<RunConfig> {
    let mut keys: Vec<RunConfig> = Vec::new();
    for c in configs {
        let k = c.without_seed();
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    keys
}

/// Numeric runs' errors over seeds, as `select` chooses them: the headline test error (MASE
/// for forecasts, RMSE for regression), the validation error beside it, and the test RMSE.
pub struct SelectedErrors {
    pub test_error: Stat,
    pub val_error: Stat,
    pub test_rmse: Stat,
}

pub fn selected_errors(results: &[&RunResult], select: Select) -> SelectedErrors {
    let of = |f: &dyn Fn(&RunResult) -> Option<f64>| {
        Stat::of(&results.iter().filter_map(|r| f(r)).collect::<Vec<_>>())
    };
    SelectedErrors {
        test_error: of(&|r| r.selected_test_error(select)),
        val_error: of(&|r| r.selected_val_error(select)),
        test_rmse: of(&|r| match select {
            Select::Last => r.errors.test_rmse,
            Select::BestVal => r.errors.best_val_test_rmse,
        }),
    }
}

/// The baselines of runs, by name, averaged over `results` (they do not depend on the seed):
/// the constant (training-mean) RMSE of regression, the naive and seasonal-naive MASE and RMSE
/// of forecasts (and AutoETS's, where recorded), the 1-NN accuracies of series classification.
pub fn baselines(results: &[&RunResult]) -> Vec<(&'static str, f64)> {
    type Pick = fn(&RunResult) -> Option<f64>;
    let named: [(&str, Pick); 9] = [
        ("1NN-ED", |r| r.nn_ed_test_acc),
        ("1NN-DTW", |r| r.nn_dtw_test_acc),
        ("const RMSE", |r| r.errors.const_test_rmse),
        ("naive MASE", |r| r.errors.naive_test_mase),
        ("snaive MASE", |r| r.errors.snaive_test_mase),
        ("naive RMSE", |r| r.errors.naive_test_rmse),
        ("snaive RMSE", |r| r.errors.snaive_test_rmse),
        ("ETS MASE", |r| r.errors.ets_test_mase),
        ("ETS RMSE", |r| r.errors.ets_test_rmse),
    ];
    named
        .iter()
        .filter_map(|(name, pick)| {
            let v: Vec<f64> = results.iter().filter_map(|r| pick(r)).collect();
            (!v.is_empty()).then(|| (*name, Stat::of(&v).mean))
        })
        .collect()
}

/// The test accuracy `select` chooses, over `results`; those from before best_val_test_acc was
/// recorded have no best-val value and are left out of it.
pub fn selected_test_acc(results: &[&RunResult], select: Select) -> Stat {
    let values: Vec<f64> = results
        .iter()
        .filter_map(|r| r.selected_test_acc(select))
        .collect();
    Stat::of(&values)
}

/// Thousands separated by commas: 82186 -> 82,186.
pub fn thousands(n: i64) -> String {
    let digits = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// The closing table of a sweep, as aligned plain text. `extra` names swept keys other than
/// num_units and seed, shown as a leading column; the test accuracy (or error) is that of
/// `select`. A sweep of several tasks gets a table per task.
pub fn table(groups: &[Group], extra: &[String], select: Select) -> String {
    let mut out = String::new();
    for task in [Task::Classify, Task::Regress, Task::Forecast] {
        let of: Vec<Group> = groups
            .iter()
            .filter(|g| g.task() == task)
            .cloned()
            .collect();
        if of.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&match task {
            Task::Classify => accuracy_table(&of, extra, select),
            _ => error_table(&of, extra, select),
        });
    }
    out
}

/// The table of numeric groups: the headline error (MASE or RMSE) with its spread, the test
/// and validation RMSE, and the baselines.
fn error_table(groups: &[Group], extra: &[String], select: Select) -> String {
    let forecast = groups[0].task() == Task::Forecast;
    let what = if forecast { "MASE" } else { "RMSE" };
    let mut head = vec![
        "config".to_string(),
        "num_units".into(),
        "params".into(),
        match select {
            Select::Last => format!("test {what} (mean ± std)"),
            Select::BestVal => format!("test {what} at best val (mean ± std)"),
        },
    ];
    if forecast {
        head.push("test RMSE".into());
    }
    head.push(format!("val {what}"));
    let baseline_names: Vec<&str> = groups[0]
        .baselines
        .iter()
        .map(|b| b.0)
        .filter(|n| !forecast || n.ends_with("MASE"))
        .collect();
    head.extend(baseline_names.iter().map(|n| n.to_string()));
    head.extend(["seeds".into(), "epochs".into(), "s/epoch".into()]);
    let mut rows = vec![head];
    for g in groups {
        let mut row = vec![
            config_cell(g, extra),
            g.config.num_units.to_string(),
            g.params.to_string(),
            {
                let mean = crate::records::sig(Some(g.test_error.mean));
                let decimals = mean.split_once('.').map_or(0, |(_, d)| d.len());
                format!("{mean} ± {:.decimals$}", g.test_error.std)
            },
        ];
        if forecast {
            row.push(crate::records::sig(Some(g.test_rmse.mean)));
        }
        row.push(crate::records::sig(Some(g.val_error.mean)));
        for name in &baseline_names {
            let v = g.baselines.iter().find(|b| b.0 == *name).map(|b| b.1);
            row.push(crate::records::sig(v));
        }
        row.extend(run_cells(g));
        rows.push(row);
    }
    aligned(&rows)
}

/// The last cells of a configuration's row: its seeds, epochs and seconds per epoch.
fn run_cells(g: &Group) -> [String; 3] {
    [
        g.seeds.len().to_string(),
        g.epochs.to_string(),
        format!("{:.2}", g.seconds_per_epoch.mean),
    ]
}

fn config_cell(g: &Group, extra: &[String]) -> String {
    extra
        .iter()
        .filter(|k| k.as_str() != "num_units" && k.as_str() != "seed")
        .map(|k| format!("{k}={}", g.config.value_text(k)))
        .collect::<Vec<_>>()
        .join(",")
}

/// The table of classification groups, with the 1-NN baselines where some group has them.
fn accuracy_table(groups: &[Group], extra: &[String], select: Select) -> String {
    let mut baseline_names: Vec<&str> = Vec::new();
    for g in groups {
        for (name, _) in &g.baselines {
            if !baseline_names.contains(name) {
                baseline_names.push(name);
            }
        }
    }
    let mut head = vec![
        "config".to_string(),
        "num_units".into(),
        "params".into(),
        match select {
            Select::Last => "test acc (mean ± std)".into(),
            Select::BestVal => "test acc at best val (mean ± std)".into(),
        },
        "val acc".into(),
    ];
    head.extend(baseline_names.iter().map(|n| n.to_string()));
    let ensembles = groups.iter().any(|g| g.ensemble_acc.is_some());
    if ensembles {
        head.push("seed ensemble".into());
    }
    head.extend(["seeds".into(), "epochs".into(), "s/epoch".into()]);
    let mut rows = vec![head];
    for g in groups {
        let mut row = vec![
            config_cell(g, extra),
            g.config.num_units.to_string(),
            g.params.to_string(),
            format!("{:.4} ± {:.4}", g.test_acc.mean, g.test_acc.std),
            format!("{:.4}", g.val_acc.mean),
        ];
        for name in &baseline_names {
            let v = g.baselines.iter().find(|b| b.0 == *name).map(|b| b.1);
            row.push(v.map_or_else(|| "–".into(), |v| format!("{v:.4}")));
        }
        if ensembles {
            row.push(
                g.ensemble_acc
                    .map_or_else(|| "–".into(), |v| format!("{v:.4}")),
            );
        }
        row.extend(run_cells(g));
        rows.push(row);
    }
    aligned(&rows)
}

/// Rows of cells as aligned plain text: the first column (the config, shown only when some
/// row has one) left-aligned, the others right-aligned, a rule under the header.
fn aligned(rows: &[Vec<String>]) -> String {
    let show_cfg = rows.iter().skip(1).any(|r| !r[0].is_empty());
    let cols = rows[0].len();
    let widths: Vec<usize> = (0..cols)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for (i, row) in rows.iter().enumerate() {
        let cells: Vec<String> = (0..cols)
            .filter(|&c| c > 0 || show_cfg)
            .map(|c| {
                let pad = widths[c] - row[c].chars().count();
                if c == 0 {
                    format!("{}{}", row[c], " ".repeat(pad))
                } else {
                    format!("{}{}", " ".repeat(pad), row[c])
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
        if i == 0 {
            out.push_str(&"-".repeat(out.lines().next().unwrap().chars().count()));
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(82186), "82,186");
        assert_eq!(thousands(1306), "1,306");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }

    #[test]
    fn stats_use_the_sample_std() {
        let s = Stat::of(&[0.9, 0.92, 0.94]);
        assert!((s.mean - 0.92).abs() < 1e-12);
        assert!((s.std - 0.02).abs() < 1e-12);
        assert_eq!(Stat::of(&[0.5]).std, 0.0);
        assert!(Stat::of(&[]).mean.is_nan());
    }

    /// A group of one run of `units` units with these validation scores.
    fn group_of(units: i64, task: Task, val_acc: f64, val_error: f64) -> Group {
        Group {
            config: RunConfig {
                num_units: units,
                task,
                ..RunConfig::default()
            },
            params: 0,
            epochs: 1,
            seeds: vec![0],
            run_ids: vec![format!("run{units}")],
            test_acc: Stat::of(&[0.5]),
            val_acc: Stat::of(&[val_acc]),
            seconds_per_epoch: Stat::of(&[1.0]),
            test_error: Stat::of(&[1.0]),
            test_rmse: Stat::of(&[1.0]),
            val_error: Stat::of(&[val_error]),
            baselines: vec![],
            ensemble_acc: None,
        }
    }

    #[test]
    fn trials_rank_by_validation_best_first_missing_last_ties_to_the_smaller() {
        let units = |g: &[Group]| g.iter().map(|g| g.config.num_units).collect::<Vec<_>>();
        let c = Task::Classify;
        let mut g = vec![
            group_of(8, c, 0.90, f64::NAN),
            group_of(16, c, f64::NAN, f64::NAN),
            group_of(32, c, 0.97, f64::NAN),
            group_of(64, c, 0.90, f64::NAN),
        ];
        g[0].params = 20;
        g[3].params = 10;
        rank_by_validation(&mut g);
        assert_eq!(units(&g), [32, 64, 8, 16]);
        g.reverse();
        rank_by_validation(&mut g);
        assert_eq!(units(&g), [32, 64, 8, 16]);
        // Numeric tasks: the lowest validation error first; the test scores play no part.
        let f = Task::Forecast;
        let mut g = vec![group_of(8, f, 0.0, 1.3), group_of(16, f, 0.0, 0.7)];
        g[0].test_error = Stat::of(&[0.1]);
        rank_by_validation(&mut g);
        assert_eq!(units(&g), [16, 8]);
    }
}
