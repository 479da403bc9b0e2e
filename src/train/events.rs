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
