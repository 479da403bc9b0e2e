/*!
What the training loop tells the world, and the trait of those who listen.
*/
use serde::{Deserialize, Serialize};
use tch::nn;

use super::adam::Adam;
use crate::config::RunConfig;
use crate::data::Dataset;
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
    pub train_acc: f64,
    pub val_loss: f64,
    pub val_acc: f64,
    pub test_loss: f64,
    pub test_acc: f64,
    /// Wall time of the epoch's training steps, evaluation excluded.
    pub train_seconds: f64,
    /// Wall time of the validation and test passes.
    pub eval_seconds: f64,
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
        };
        let json = serde_json::to_string(&m).unwrap();
        let back: EpochMetrics = serde_json::from_str(&json).unwrap();
        assert_eq!(serde_json::to_string(&back).unwrap(), json);
        assert_eq!(back.train_loss.to_bits(), m.train_loss.to_bits());
        assert!(json.contains("0.23866666666666667"), "{json}");
    }
}
