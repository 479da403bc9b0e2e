/*!
What the HParams dashboard needs: the experiment (every hyperparameter shown, with its domain,
and the metrics) written once per sweep into one run's folder (`experiment`), and per run a session start
record (its hyperparameter values) and end record (success or failure).

Shown hyperparameters: `num_units` and `seed` always, then every other key the sweep varies,
in `RUN_KEYS` order; their domains are exactly the values the plan holds. Each session records
every run key, so a session stays complete if a later invocation of the sweep varies more keys.
Metrics are the last values of scalar series the run writes (`METRICS`).
*/
use std::collections::{BTreeMap, HashMap};

use serde_json::Value as Json;

use super::proto::{self, Experiment, HParamInfo, MetricInfo, MetricName, SessionStartInfo};
use crate::config::{key, RunConfig, Scope, RUN_KEYS};

/// Scalar tags that are also HParams metrics: (tag, display name, description, dataset type).
pub const METRICS: &[(&str, &str, &str, i32)] = &[
    (
        "accuracy/test",
        "test accuracy",
        "test accuracy after the last epoch",
        0,
    ),
    (
        "accuracy/val",
        "validation accuracy",
        "validation accuracy after the last epoch",
        2,
    ),
    (
        "accuracy/train",
        "train accuracy",
        "accuracy over the last epoch's batches, as trained",
        1,
    ),
    (
        "model/params",
        "parameters",
        "trainable parameters: per layer and direction gH(I+H) + 2gH, then D·H·C + C",
        0,
    ),
    (
        "time/train_seconds",
        "train seconds",
        "training time summed over epochs, evaluation excluded",
        1,
    ),
];

/// The HParams metrics of regression: the test and validation RMSE, R², the constant
/// baseline's RMSE, then parameters and training time (the last two of `METRICS`).
pub const REGRESSION_METRICS: &[(&str, &str, &str, i32)] = &[
    (
        "rmse/test",
        "test RMSE",
        "test RMSE after the last epoch, in the target's units",
        0,
    ),
    (
        "rmse/val",
        "validation RMSE",
        "validation RMSE after the last epoch",
        2,
    ),
    (
        "r2/test",
        "test R²",
        "1 - SSE/SST on the test set after the last epoch",
        0,
    ),
    (
        "baseline/const_rmse_test",
        "constant RMSE",
        "test RMSE of predicting the training mean",
        0,
    ),
];

/// The HParams metrics of forecasting: test MASE and RMSE, validation RMSE, and the naive and
/// seasonal-naive forecasts' test MASE.
pub const FORECAST_METRICS: &[(&str, &str, &str, i32)] = &[
    (
        "mase/test",
        "test MASE",
        "test MAE over the in-sample seasonal-naive MAE, after the last epoch",
        0,
    ),
    (
        "rmse/test",
        "test RMSE",
        "test RMSE after the last epoch, in the target's units",
        0,
    ),
    (
        "rmse/val",
        "validation RMSE",
        "validation RMSE after the last epoch",
        2,
    ),
    (
        "baseline/naive_mase_test",
        "naive MASE",
        "test MASE of the naive forecast",
        0,
    ),
    (
        "baseline/snaive_mase_test",
        "seasonal-naive MASE",
        "test MASE of the seasonal-naive forecast",
        0,
    ),
    (
        "baseline/ets_mase_test",
        "AutoETS MASE",
        "test MASE of the AutoETS forecast (augurs)",
        0,
    ),
];

/// The metrics the dashboard lists for a sweep of `runs`: each task's (classification's
/// alone for a classification sweep), then parameters and training time.
pub fn metrics_of(runs: &[&RunConfig]) -> Vec<(&'static str, &'static str, &'static str, i32)> {
    use crate::config::Task;
    let has = |t: Task| runs.iter().any(|c| c.task == t);
    let mut out: Vec<(&str, &str, &str, i32)> = Vec::new();
    let (scores, common) = METRICS.split_at(3);
    if has(Task::Classify) || runs.is_empty() {
        out.extend(scores);
    }
    for (task, list) in [
        (Task::Regress, REGRESSION_METRICS),
        (Task::Forecast, FORECAST_METRICS),
    ] {
        if has(task) {
            for m in list {
                if !out.iter().any(|o| o.0 == m.0) {
                    out.push(*m);
                }
            }
        }
    }
    out.extend(common);
    out
}

/// The hyperparameters the dashboard shows for a sweep varying `swept`.
pub fn shown_keys(swept: &[String]) -> Vec<String> {
    let mut keys = vec!["num_units".to_string(), "seed".to_string()];
    for k in RUN_KEYS {
        if swept.iter().any(|s| s == k) && !keys.iter().any(|s| s == k) {
            keys.push(k.to_string());
        }
    }
    keys
}

/// The experiment record of sweep `name`, whose runs are `runs` and which varies `swept`.
pub fn experiment(name: &str, swept: &[String], runs: &[&RunConfig], created: f64) -> Experiment {
    let hparam_infos = shown_keys(swept)
        .into_iter()
        .map(|key| {
            // Distinct values in numeric (or string) order.
            let mut numbers: BTreeMap<OrdF64, ()> = BTreeMap::new();
            let mut strings: BTreeMap<String, ()> = BTreeMap::new();
            for c in runs {
                match &c.value(&key) {
                    Json::Number(n) => {
                        numbers.insert(OrdF64(n.as_f64().unwrap_or(f64::NAN)), ());
                    }
                    other => {
                        strings.insert(json_string(other), ());
                    }
                }
            }
            let (kind, values): (i32, Vec<_>) = if strings.is_empty() {
                (
                    proto::DATA_TYPE_FLOAT64,
                    numbers.keys().map(|n| proto::number(n.0)).collect(),
                )
            } else {
                (
                    proto::DATA_TYPE_STRING,
                    strings.keys().map(|s| proto::string(s)).collect(),
                )
            };
            HParamInfo {
                differs: values.len() > 1,
                display_name: key.clone(),
                description: description(&key).into(),
                name: key,
                r#type: kind,
                domain_discrete: Some(prost_types::ListValue { values }),
            }
        })
        .collect();
    let metric_infos = metrics_of(runs)
        .iter()
        .map(|(tag, display, desc, dataset)| MetricInfo {
            name: Some(MetricName {
                group: String::new(),
                tag: tag.to_string(),
            }),
            display_name: display.to_string(),
            description: desc.to_string(),
            dataset_type: *dataset,
        })
        .collect();
    Experiment {
        name: name.to_string(),
        description: format!(
            "rowseq sweep {name}: {} runs varying {}",
            runs.len(),
            if swept.is_empty() {
                "nothing".to_string()
            } else {
                swept.join(", ")
            }
        ),
        time_created_secs: created,
        hparam_infos,
        metric_infos,
    }
}

/// The session start record of one run: every run key's value.
pub fn session_start(cfg: &RunConfig, started: f64) -> SessionStartInfo {
    let hparams: HashMap<String, prost_types::Value> = RUN_KEYS
        .iter()
        .filter(|k| {
            let forecast = cfg.task == crate::config::Task::Forecast;
            match key(k).map(|k| k.scope) {
                Some(Scope::Csv | Scope::LongCsv) => cfg.is_csv() && !forecast,
                Some(Scope::Panel) => cfg.is_csv() || forecast,
                Some(Scope::Forecast) => forecast,
                _ => true,
            }
        })
        .map(|k| {
            let v = match &cfg.value(k) {
                Json::Number(n) => proto::number(n.as_f64().unwrap_or(f64::NAN)),
                other => proto::string(&json_string(other)),
            };
            (k.to_string(), v)
        })
        .collect();
    SessionStartInfo {
        hparams,
        group_name: String::new(),
        start_time_secs: started,
    }
}

fn json_string(v: &Json) -> String {
    v.as_str()
        .map(str::to_string)
        .unwrap_or_else(|| v.to_string())
}

fn description(key: &str) -> &'static str {
    match key {
        "num_units" => "hidden units per layer and direction: the size of h_t (and c_t)",
        "cell" => "recurrent cell: lstm, gru or rnn (tanh)",
        "layers" => "stacked recurrent layers",
        "bidirectional" => "a backward direction in every layer",
        "dropout" => "dropout between layers, in training",
        "seed" => "seed for initialisation and shuffling",
        "lr" => "peak learning rate of Adam",
        "batch_size" => "training batch size",
        "epochs" => "passes over the training set",
        "schedule" => "learning-rate schedule",
        "clip_grad_norm" => "global gradient-norm bound (0 = off)",
        "train_size" => "training images (0 = all)",
        "val_size" => "validation examples",
        "test_size" => "test images (0 = all)",
        "dataset" => "dataset",
        "csv_layout" => "CSV layout: wide or long",
        "label_column" => "CSV label column",
        "id_column" => "long CSV: series id column",
        "time_column" => "long CSV: time column",
        "patch" => "values per timestep",
        "normalize" => "how series are scaled",
        "noise" => "std of Gaussian noise on the inputs, in training",
        "eval_test" => "which epochs score the test set",
        "task" => "classify, regress or forecast",
        "labels" => "training labels: given, or random (memorisation)",
        "stop_train_acc" => "stop once an epoch's training accuracy reaches it (0 = never)",
        "window" => "forecast: past timesteps read",
        "horizon" => "forecast: values predicted",
        "season" => "forecast: season length (MASE, seasonal naive)",
        "target_column" => "forecast: the column forecast",
        "columns" => "forecast: the columns read",
        _ => "",
    }
}

/// f64 with a total order, for sorting domains.
#[derive(PartialEq)]
struct OrdF64(f64);

impl Eq for OrdF64 {}

impl PartialOrd for OrdF64 {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for OrdF64 {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::keys_of;
    use crate::config::SweepConfig;

    /// The HParams experiment of a sweep written as TOML.
    fn experiment_of(toml: &str) -> Experiment {
        let sweep = SweepConfig::parse(toml, "t.toml", "t").unwrap();
        let runs = sweep.runs();
        experiment(
            "t",
            &sweep.swept_keys(),
            &runs.iter().collect::<Vec<_>>(),
            0.0,
        )
    }

    #[test]
    fn experiment_lists_swept_keys_with_their_values() {
        let e = experiment_of("num_units = [64, 8, 16]\nlr = [0.01, 0.001]\nepochs = 1");
        let names: Vec<&str> = e.hparam_infos.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["num_units", "seed", "lr"]);
        let units: Vec<f64> = e.hparam_infos[0]
            .domain_discrete
            .as_ref()
            .unwrap()
            .values
            .iter()
            .map(|v| match v.kind {
                Some(prost_types::value::Kind::NumberValue(x)) => x,
                _ => panic!("not a number"),
            })
            .collect();
        assert_eq!(units, [8.0, 16.0, 64.0]);
        assert_eq!(
            e.hparam_infos[1]
                .domain_discrete
                .as_ref()
                .unwrap()
                .values
                .len(),
            1
        );
        assert_eq!(e.metric_infos.len(), METRICS.len());
    }

    #[test]
    fn swept_cells_and_directions_are_shown_with_their_values() {
        let e = experiment_of(
            "cell = [\"rnn\", \"lstm\", \"gru\"]\nbidirectional = [false, true]\nlayers = 2",
        );
        let names: Vec<&str> = e.hparam_infos.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["num_units", "seed", "cell", "bidirectional"]);
        let domain = |i: usize| {
            e.hparam_infos[i]
                .domain_discrete
                .as_ref()
                .unwrap()
                .values
                .clone()
        };
        assert_eq!(
            domain(2),
            ["gru", "lstm", "rnn"].map(proto::string).to_vec(),
            "the default lstm is a value like the others"
        );
        assert_eq!(domain(3), ["false", "true"].map(proto::string).to_vec());
        assert_eq!(e.hparam_infos[2].r#type, proto::DATA_TYPE_STRING);
    }

    #[test]
    fn sessions_record_every_run_key() {
        let s = session_start(&RunConfig::default(), 1.0);
        // The CSV keys only for CSV data, the forecasting keys only for forecasts.
        assert_eq!(
            s.hparams.len(),
            RUN_KEYS.len() - keys_of(Scope::Csv).count() - keys_of(Scope::Forecast).count()
        );
        assert_eq!(s.hparams["num_units"], proto::number(128.0));
        assert_eq!(s.hparams["schedule"], proto::string("cosine"));
        assert_eq!(s.hparams["cell"], proto::string("lstm"));
        assert_eq!(s.hparams["layers"], proto::number(1.0));
        assert_eq!(s.hparams["dropout"], proto::number(0.0));
        assert_eq!(s.hparams["bidirectional"], proto::string("false"));
        let csv = RunConfig {
            dataset: "csv:a.csv,b.csv".into(),
            ..RunConfig::default()
        };
        let s = session_start(&csv, 1.0);
        assert_eq!(
            s.hparams.len(),
            RUN_KEYS.len() - keys_of(Scope::Forecast).count()
        );
        assert_eq!(s.hparams["csv_layout"], proto::string("wide"));
        assert_eq!(s.hparams["label_column"], proto::string("label"));
        let forecast = RunConfig {
            dataset: "csv:series.csv".into(),
            task: crate::config::Task::Forecast,
            season: crate::config::Count::Fixed(12),
            ..RunConfig::default()
        };
        let s = session_start(&forecast, 1.0);
        // Panel keys (id_column) are CSV keys that forecasts read too.
        assert_eq!(
            s.hparams.len(),
            RUN_KEYS.len() - keys_of(Scope::Csv).count() + keys_of(Scope::Panel).count()
        );
        assert_eq!(s.hparams["season"], proto::number(12.0));
        assert_eq!(s.hparams["task"], proto::string("forecast"));
    }
}
