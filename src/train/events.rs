/*!
What the training loop tells the world, what it asks of its caller, and the trait of those who
listen.

The loop emits `Event`s that carry data only (numbers, never the live model or dataset: the
start of a run tells what the data is through a `DataSummary`), so a sink can only observe: it cannot change training, nor stop it other than by failing. What the caller
decides is explicit in `Policies`: how each finished epoch is made durable (metrics and
checkpoint, before anyone hears of it) and whether to stop after it (Ctrl-C). `train` returns
an `Outcome`, finished or stopped, and ends every run with `Event::End`.
*/
use anyhow::Result;

use super::adam::Adam;
use super::floats;
use super::keep::Snapshot;
use crate::config::RunConfig;
use crate::data::{Baselines, Dataset};
use crate::records::EpochMetrics;

/// Something the training loop reports.
pub enum Event<'a> {
    Start {
        cfg: &'a RunConfig,
        params: i64,
        batches_per_epoch: usize,
        data: &'a DataSummary,
    },
    Batch {
        epoch: usize,
        batch: usize,
        step: usize,
        loss: f64,
        lr: f64,
    },
    /// An epoch ended and `Policies::persist` has made it durable; `metrics` holds every epoch
    /// so far, the newest last; `look` what the model looks like now, where it was asked for.
    Epoch {
        metrics: &'a [EpochMetrics],
        look: Option<&'a Look>,
    },
    /// The run ended (emitted once, also when it failed).
    End(&'a Ended),
}

/// What `Event::Start` tells of the data a run trains on (TensorBoard's run text, baselines
/// and grid of mistakes read it).
pub struct DataSummary {
    /// The `dataset` value it was loaded from.
    pub name: String,
    /// Examples in the training, validation and test splits.
    pub train: usize,
    pub val: usize,
    pub test: usize,
    /// T: timesteps per sequence; F: features per timestep.
    pub seq_len: i64,
    pub features: i64,
    /// Class names, in class-index order.
    pub class_names: Vec<String>,
    /// Numeric tasks: the baselines' test errors (none for classification).
    pub baselines: Baselines,
    /// Image data, when each epoch's `Look` probes test examples: those examples as images.
    pub probe_images: Option<ProbeImages>,
}

/// The test examples that each `Look` probes, as images.
#[derive(Clone)]
pub struct ProbeImages {
    /// Rows and columns of an image: the first R·C values of each example.
    pub shape: (i64, i64),
    /// The examples' inputs, flat, example by example.
    pub inputs: Vec<f32>,
    /// Their true classes.
    pub classes: Vec<i64>,
}

impl DataSummary {
    /// The summary of `data`, for a run whose looks probe the first `probe` test examples
    /// (`Policies::look`).
    pub fn of(data: &Dataset, probe: Option<usize>) -> Result<DataSummary> {
        let n = probe.unwrap_or(0).min(data.test.len());
        let probe_images = match (n, data.image_shape) {
            (1.., Some(shape)) => {
                let t = data.test.narrow(0, n);
                Some(ProbeImages {
                    shape,
                    inputs: floats(&t.x)?,
                    classes: Vec::<i64>::try_from(&t.y)?,
                })
            }
            _ => None,
        };
        Ok(DataSummary {
            name: data.name.clone(),
            train: data.train.len(),
            val: data.val.len(),
            test: data.test.len(),
            seq_len: data.seq_len,
            features: data.features,
            class_names: data.class_names.clone(),
            baselines: data.baselines(),
            probe_images,
        })
    }
}

/// How a run ended, as `Event::End` says it.
#[derive(Clone, Debug, PartialEq)]
pub enum Ended {
    /// Every epoch trained.
    Finished,
    /// Stopped after an epoch by `Policies::should_stop`: it resumes from that epoch.
    Stopped,
    /// Training failed (diverged, or a record could not be written): the reason.
    Failed(String),
}

/// What the model looks like at an epoch's end, for sinks that show it (TensorBoard). The loop
/// computes it where `Policies::look` asks, so that no sink runs the model.
pub struct Look {
    /// Every variable, sorted by name.
    pub variables: Vec<Variable>,
    /// The first test examples through the model in evaluation mode (none without test data).
    pub probe: Option<Probe>,
}

/// One variable's values and the gradient of the epoch's last batch.
pub struct Variable {
    pub name: String,
    pub values: Vec<f32>,
    /// None where the variable has no gradient.
    pub grad: Option<Vec<f32>>,
}

/// The probe examples through the model: the first `n` test examples.
pub struct Probe {
    /// What the head reads (h_T; both directions' final states when bidirectional), example by
    /// example, flattened.
    pub last_hidden: Vec<f32>,
    /// The head's argmax for each example (the predicted class, for classification).
    pub predicted: Vec<i64>,
}

/// How an epoch is made durable: from every epoch's metrics so far, the model's variables (for
/// the statistics that are not trained: batch norm's running mean and variance), the optimizer
/// (the weights and Adam's moments) and the weights of the epoch kept, where that is not the
/// last one.
pub type Persist<'a> =
    dyn FnMut(&[EpochMetrics], &tch::nn::VarStore, &Adam, Option<&Snapshot>) -> Result<()> + 'a;

/// What the caller decides, given to `train` explicitly.
pub struct Policies<'a> {
    /// Makes a finished epoch durable (its metrics, its checkpoint, with the weights of the
    /// epoch the run keeps where that is not the last) before the epoch is emitted, so that
    /// whatever follows (a stop, a kill) finds it on disk.
    pub persist: &'a mut Persist<'a>,
    /// Asked after each epoch is emitted, with that epoch: true stops the run there
    /// (`Outcome::Stopped`).
    pub should_stop: &'a dyn Fn(usize) -> bool,
    /// When to compute a `Look` at an epoch's end, and with how many probe examples (None:
    /// never).
    pub look: Option<Looks>,
}

/// Which epochs end with a `Look` at the model, and how many test examples it probes: the
/// first epoch, every `every`-th and the last. A look reads the model and draws nothing from
/// an RNG, so how often it is taken changes no result, only what TensorBoard shows and its cost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Looks {
    pub probes: usize,
    pub every: usize,
}

impl Looks {
    /// Whether `epoch` (1-based) of a run of `epochs` ends with a look.
    pub fn at(&self, epoch: usize, epochs: usize) -> bool {
        epoch == 1 || epoch == epochs || epoch.is_multiple_of(self.every.max(1))
    }
}

/// A subscriber to training events. An error fails the run.
pub trait Sink {
    fn event(&mut self, event: &Event) -> Result<()>;
}
