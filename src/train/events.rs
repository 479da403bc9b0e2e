/*!
What the training loop tells the world, and the trait of those who listen.
*/

use tch::nn;

use super::adam::Adam;
use crate::config::RunConfig;
use crate::data::Dataset;
use crate::model::SeqClassifier;
use crate::records::EpochMetrics;

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
