/*!
What the training loop tells the world, and the trait of those who listen.
*/
use serde::{Deserialize, Serialize};
use tch::nn;

use super::adam::Adam;
use crate::config::RunConfig;
use crate::data::Dataset;
use crate::metrics::Errors;
use crate::model::SeqClassifier;

/// Metrics of one finished epoch: one line of `metrics.jsonl`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct EpochMetrics {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Optimizer steps taken so far.
    pub step: usize,
    /// Learning rate of the epoch's last step.
    pub lr: f64,
    /// Mean cross-entropy over the epoch's batches, as trained (weights changing).
    pub train_loss: f64,
    /// Accuracies: classification only (absent, NaN, for numeric tasks).
    #[serde(default = "nan", skip_serializing_if = "is_nan")]
    pub train_acc: f64,
    pub val_loss: f64,
    #[serde(default = "nan", skip_serializing_if = "is_nan")]
    pub val_acc: f64,
    /// Test scores: absent (NaN, None) in the epochs `eval_test = "final"` skips.
    #[serde(default = "nan", skip_serializing_if = "is_nan")]
    pub test_loss: f64,
    #[serde(default = "nan", skip_serializing_if = "is_nan")]
    pub test_acc: f64,
    /// Wall time of the epoch's training steps, evaluation excluded.
    pub train_seconds: f64,
    /// Wall time of the validation and test passes.
    pub eval_seconds: f64,
    /// Numeric tasks: the RMSE over the epoch's batches as trained, and the errors on
    /// validation and test, in the target's units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_rmse: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_errors: Option<Errors>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_errors: Option<Errors>,
}

fn nan() -> f64 {
    f64::NAN
}

fn is_nan(v: &f64) -> bool {
    v.is_nan()
}

impl EpochMetrics {
    /// The epoch's scores as progress prints them: `train 0.91, val 0.90, test 0.89`, or the
    /// RMSE of each split (and the test MASE of a forecast) for numeric tasks.
    pub fn scores_text(&self) -> String {
        match (&self.val_errors, &self.test_errors) {
            (Some(v), t) => format!(
                "RMSE train {}, val {}{}",
                crate::store::sig(self.train_rmse),
                crate::store::sig(Some(v.rmse)),
                t.map_or_else(String::new, |t| format!(
                    ", test {}{}",
                    crate::store::sig(Some(t.rmse)),
                    t.mase
                        .map_or_else(String::new, |m| format!(" (MASE {m:.3})"))
                ))
            ),
            (None, _) => format!(
                "train {:.4}, val {:.4}{}",
                self.train_acc,
                self.val_acc,
                match self.test_loss.is_nan() {
                    true => String::new(),
                    false => format!(", test {:.4}", self.test_acc),
                }
            ),
        }
    }

    /// Whether the epoch scored the test set (`eval_test`).
    pub fn has_test(&self) -> bool {
        !self.test_loss.is_nan()
    }

    /// The validation score that selects an epoch, higher is better: accuracy, or minus the
    /// RMSE for numeric tasks.
    pub fn val_score(&self) -> f64 {
        match &self.val_errors {
            Some(e) => -e.rmse,
            None => self.val_acc,
        }
    }
}

/// The epoch a best-validation selection takes: the first with the best `val_score` (epochs
/// whose score is NaN never win over one that has a score).
pub fn best_val(metrics: &[EpochMetrics]) -> Option<&EpochMetrics> {
    metrics.iter().fold(None, |a, m| match a {
        Some(b) if b.val_score() >= m.val_score() || m.val_score().is_nan() => Some(b),
        _ => Some(m),
    })
}

/// Something the training loop reports.
pub enum Event<'a> {
    Start {
        cfg: &'a RunConfig,
        params: i64,
        batches_per_epoch: usize,
        data: &'a Dataset,
    },
    Batch {
        epoch: usize,
        batch: usize,
        step: usize,
        loss: f64,
        lr: f64,
    },
    /// An epoch ended; `metrics` holds every epoch so far, the newest last.
    Epoch {
        metrics: &'a [EpochMetrics],
        model: &'a SeqClassifier,
        vs: &'a nn::VarStore,
        optimizer: &'a Adam,
    },
}

/// A subscriber to training events. An error stops the run.
pub trait Sink {
    fn event(&mut self, event: &Event) -> anyhow::Result<()>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_round_trip_through_json_to_the_bit() {
        // A resumed run re-serialises its restored epochs: a lossy parse changed the last
        // digit of values such as this one.
        let m = EpochMetrics {
            epoch: 1,
            step: 10,
            lr: 0.0029999999999999996,
            train_loss: 0.23866666666666667,
            train_acc: 0.1 + 0.2,
            val_loss: 1e-300,
            val_acc: 0.9166666666666666,
            test_loss: 2.302585092994047,
            test_acc: 0.8888888888888888,
            train_seconds: 1.0,
            eval_seconds: 0.1,
            train_rmse: None,
            val_errors: None,
            test_errors: None,
        };
        let json = serde_json::to_string(&m).unwrap();
        let back: EpochMetrics = serde_json::from_str(&json).unwrap();
        assert_eq!(serde_json::to_string(&back).unwrap(), json);
        assert_eq!(back.train_loss.to_bits(), m.train_loss.to_bits());
        assert!(json.contains("0.23866666666666667"), "{json}");
        // An epoch that skipped the test set leaves its test scores out, and reads back NaN.
        let skipped = EpochMetrics {
            test_loss: f64::NAN,
            test_acc: f64::NAN,
            ..m
        };
        let json = serde_json::to_string(&skipped).unwrap();
        assert!(!json.contains("test"), "{json}");
        let back: EpochMetrics = serde_json::from_str(&json).unwrap();
        assert!(!back.has_test() && back.test_acc.is_nan());
        assert_eq!(back.scores_text(), "train 0.3000, val 0.9167");
    }

    #[test]
    fn best_val_is_the_first_best_and_never_a_nan() {
        let m = |accs: &[f64]| -> Vec<EpochMetrics> {
            accs.iter()
                .enumerate()
                .map(|(i, &val_acc)| EpochMetrics {
                    epoch: i + 1,
                    step: i + 1,
                    lr: 0.1,
                    train_loss: 1.0,
                    train_acc: 0.5,
                    val_loss: 1.0,
                    val_acc,
                    test_loss: 1.0,
                    test_acc: 0.5,
                    train_seconds: 1.0,
                    eval_seconds: 0.0,
                    train_rmse: None,
                    val_errors: None,
                    test_errors: None,
                })
                .collect()
        };
        let best = |accs: &[f64]| best_val(&m(accs)).map(|b| b.epoch);
        assert_eq!(best(&[]), None);
        assert_eq!(best(&[0.5, 0.7, 0.7, 0.6]), Some(2));
        assert_eq!(best(&[f64::NAN, 0.2, f64::NAN]), Some(2));
        assert_eq!(best(&[f64::NAN, f64::NAN]), Some(1));
    }
}
