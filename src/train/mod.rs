/*!
The training loop. It trains one `RunConfig` on one `Dataset` under the caller's `Policies`
(how an epoch is made durable, when to stop) and only emits `Event`s of data: it never touches
files or the terminal itself. Sinks (progress, TensorBoard, test pause points) observe.

Recipe: Adam (`adam`, bit-identical to tch's), cross-entropy on the head's logits, per-epoch shuffle from the run's seed,
dropout between layers and input augmentation (`augment`: noise, scaling, slicing; if any) drawn
from tch's RNG seeded at each epoch
from (seed, epoch),
optional cosine decay of the learning rate per step and global gradient-norm clipping. Each
epoch ends with train loss/accuracy (as seen while training), validation and test loss/accuracy,
all computed without gradients. On CPU a run is bit-reproducible for a seed and thread count,
also when it resumes from a `checkpoint` of an earlier epoch.
*/
pub mod adam;
pub mod augment;
pub mod checkpoint;
pub mod collapse;
mod eval;
pub mod events;
pub mod fused;
pub mod keep;
mod step;

use std::time::Instant;

use anyhow::{anyhow, bail, Result};
use rand::seq::SliceRandom;
use rand::{RngCore, SeedableRng};
use tch::{nn, Device, Kind, Tensor};

pub use adam::Adam;
pub use eval::*;
pub use events::{Ended, Event, Look, Policies, Probe, Sink, Variable};
pub use step::*;

use crate::config::{EvalTest, Keep, Resolved, RunConfig, Schedule};
use crate::data::{Dataset, Held, Split};
use crate::model::{counted_params, param_count, Arch, SeqClassifier};
use crate::records::EpochMetrics;
use crate::store::Checkpoint;
use augment::Augment;

/// A trained model's variables and the metrics of every epoch.
pub struct Trained {
    /// The kept epoch's weights (`keep`): the last epoch's, or the best validation epoch's.
    pub vs: nn::VarStore,
    pub model: SeqClassifier,
    pub metrics: Vec<EpochMetrics>,
}

/// About the bytes that training `arch` on batches of `batch` sequences of `t` steps takes:
/// the weights, their gradients and Adam's two moments (4 floats a parameter), and the
/// activations kept for the backward pass (about gates + 3 floats a unit, step and sequence).
/// Arithmetic only, in u128: it never overflows, whatever the widths.
pub fn training_bytes(arch: &Arch, batch: usize, t: i64) -> u128 {
    let params = param_count(arch).max(0) as u128;
    let cells = (arch.layers * arch.directions()).max(0) as u128;
    let per_step = (arch.cell.gates() + 3).max(0) as u128 * arch.hidden.max(0) as u128;
    16 * params + 4 * batch as u128 * t.max(0) as u128 * per_step * cells
}

/// Refuses a model whose training needs more memory than the machine has available
/// (`env::available_memory`; on a GPU the device's memory decides, and an allocation that
/// fails there is caught by `build`): the reason, naming the width, layers and both sizes.
pub fn check_memory(arch: &Arch, batch: usize, t: i64, device: Device) -> Result<(), String> {
    if device.is_cuda() {
        return Ok(());
    }
    let Some(available) = crate::env::available_memory() else {
        return Ok(());
    };
    let need = training_bytes(arch, batch, t);
    if need <= available as u128 {
        return Ok(());
    }
    let gib = |b: u128| b as f64 / (1u64 << 30) as f64;
    Err(format!(
        "num_units = {} with layers = {}{} needs about {:.0} GiB of memory for weights and \
         training state, more than the {:.1} GiB available: expected fewer units or layers",
        arch.hidden,
        arch.layers,
        if arch.bidirectional {
            ", bidirectional"
        } else {
            ""
        },
        gib(need).ceil(),
        gib(available as u128)
    ))
}

/// Builds the model for `cfg` on `data` with tch's RNG seeded from `cfg.seed`.
pub fn build(cfg: &RunConfig, data: &Dataset, device: Device) -> (nn::VarStore, SeqClassifier) {
    tch::manual_seed(cfg.seed as i64);
    let vs = nn::VarStore::new(device);
    let arch = Arch::of(cfg, data.features, data.classes(), data.seq_len);
    let model = SeqClassifier::new(&vs.root(), &arch);
    (vs, model)
}

/// How `train` ended, when it did not fail.
pub enum Outcome {
    /// Every epoch trained.
    Finished(Box<Trained>),
    /// `Policies::should_stop` stopped it after an epoch, which `Policies::persist` made
    /// durable: it resumes from there.
    Stopped,
}

/// Trains `cfg` (resolved on `data`'s split: `data::auto::resolve`) on `data` under
/// `policies`, emitting events to every sink, the last of them `Event::End`; with a
/// checkpoint, carries on from the epoch after it.
pub fn train(
    cfg: &Resolved,
    data: &Dataset,
    device: Device,
    resume: Option<&Checkpoint>,
    policies: &mut Policies,
    sinks: &mut [&mut dyn Sink],
) -> Result<Outcome> {
    let outcome = train_epochs(cfg, data, device, resume, policies, sinks);
    let ended = match &outcome {
        Ok(Outcome::Finished(_)) => Ended::Finished,
        Ok(Outcome::Stopped) => Ended::Stopped,
        Err(e) => Ended::Failed(format!("{e:#}")),
    };
    // A failure is reported as itself, even if a sink then fails to record the end.
    let told = emit(sinks, &Event::End(&ended));
    let outcome = outcome?;
    told?;
    Ok(outcome)
}

/// Builds the model, restores a checkpoint if there is one, and trains epoch by epoch until the
/// budget, early stopping or a stop request ends it.
fn train_epochs(
    cfg: &Resolved,
    data: &Dataset,
    device: Device,
    resume: Option<&Checkpoint>,
    policies: &mut Policies,
    sinks: &mut [&mut dyn Sink],
) -> Result<Outcome> {
    if data.train.is_empty() {
        bail!("the training split is empty");
    }
    let arch = Arch::of(cfg, data.features, data.classes(), data.seq_len);
    check_memory(&arch, cfg.batch_size.get(), data.seq_len, device).map_err(|e| anyhow!(e))?;
    let (vs, model) = build_guarded(cfg, data, device, &arch)?;
    let params = counted_params(&vs);
    debug_assert_eq!(params, param_count(&model.arch));
    let mut opt = Adam::new(&vs, cfg.lr);
    let mut metrics = Vec::with_capacity(cfg.epochs.get());
    // The weights of the epoch the run keeps, where that is not simply the last one.
    let mut kept: Option<keep::Snapshot> = None;
    if let Some(ckpt) = resume {
        (metrics, kept) = resumed(cfg, ckpt, &vs, &mut opt)?;
    }
    let run = Epochs::new(cfg, data, &model, device);
    emit(
        sinks,
        &Event::Start {
            cfg,
            params,
            batches_per_epoch: run.batches,
            data: &events::DataSummary::of(data, policies.look.map(|l| l.probes))?,
        },
    )?;
    let mut step = opt.step as usize;
    for epoch in metrics.len() + 1..=cfg.epochs.get() {
        // Decided from the recorded epochs only, so that a resumed run stops where an
        // uninterrupted one did.
        if keep::should_stop(&metrics, run.stop) {
            break;
        }
        let started = Instant::now();
        // Dropout masks and input noise: a pure function of (seed, epoch), so a resumed run
        // draws the same.
        tch::manual_seed(epoch_seed(cfg.seed, epoch));
        let (tally, lr) = run.train_pass(&mut opt, epoch, &mut step, sinks)?;
        let train_seconds = started.elapsed().as_secs_f64();
        let new_best = run.evaluate(&mut metrics, epoch, step, lr, &tally, train_seconds);
        if cfg.keep == Keep::BestVal && new_best {
            kept = Some(keep::Snapshot::take(&vs, epoch));
        }
        (policies.persist)(&metrics, &vs, &opt, kept.as_ref())?;
        let look = match policies.look {
            Some(l) if l.at(epoch, cfg.epochs.get()) => {
                Some(look_at(&model, &vs, &run.test, l.probes)?)
            }
            _ => None,
        };
        emit(
            sinks,
            &Event::Epoch {
                metrics: &metrics,
                look: look.as_ref(),
            },
        )?;
        if (policies.should_stop)(epoch) {
            return Ok(Outcome::Stopped);
        }
    }
    if let Some(snapshot) = &kept {
        debug_assert_eq!(
            Some(snapshot.epoch),
            crate::records::best_val(&metrics).map(|b| b.epoch)
        );
        snapshot.restore(&vs);
    }
    Ok(Outcome::Finished(Box::new(Trained { vs, model, metrics })))
}

/// The model built, with an allocation that fails even so (the memory estimate is rough; a
/// GPU's memory is not checked), which panics inside tch, turned into the run's error: the run
/// fails with the reason, the process goes on.
fn build_guarded(
    cfg: &Resolved,
    data: &Dataset,
    device: Device,
    arch: &Arch,
) -> Result<(nn::VarStore, SeqClassifier)> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| build(cfg, data, device))).map_err(
        |p| {
            let why = p
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| p.downcast_ref::<&str>().copied())
                .unwrap_or("a panic");
            anyhow!(
                "could not build the model ({}): {}",
                arch.describe(),
                why.lines().next().unwrap_or_default()
            )
        },
    )
}

/// A checkpoint restored into the model and optimizer: its recorded epochs, and the kept
/// epoch's weights when the run keeps its best.
fn resumed(
    cfg: &Resolved,
    ckpt: &Checkpoint,
    vs: &nn::VarStore,
    opt: &mut Adam,
) -> Result<(Vec<EpochMetrics>, Option<keep::Snapshot>)> {
    // An "auto" budget is known only now (the store checked a given one).
    if ckpt.state.epoch > cfg.epochs.get() {
        bail!(
            "{}: epoch {} is past the run's {} epochs; delete it to start the run afresh, \
             or pass --retry-failed",
            ckpt.path.display(),
            ckpt.state.epoch,
            cfg.epochs.get()
        );
    }
    checkpoint::restore(ckpt, vs, opt)?;
    let metrics = ckpt.state.metrics.clone();
    let kept = match cfg.keep {
        Keep::BestVal => Some(checkpoint::restore_kept(ckpt, vs, &metrics)?),
        _ => None,
    };
    Ok((metrics, kept))
}

/// What every epoch of one run reads: the config, the model, the splits on the device and the
/// schedule.
struct Epochs<'a> {
    cfg: &'a Resolved,
    data: &'a Dataset,
    model: &'a SeqClassifier,
    device: Device,
    bs: usize,
    batches: usize,
    total_steps: usize,
    stop: keep::Stop,
    train: Split,
    val: Split,
    test: Split,
}

impl<'a> Epochs<'a> {
    /// The schedule (batch size, batches per epoch, total steps) and the splits moved to the
    /// device.
    fn new(cfg: &'a Resolved, data: &'a Dataset, model: &'a SeqClassifier, device: Device) -> Self {
        let n = data.train.len();
        let bs = cfg.batch_size.get().min(n);
        let batches = n.div_ceil(bs);
        Epochs {
            cfg,
            data,
            model,
            device,
            bs,
            batches,
            total_steps: batches * cfg.epochs.get(),
            stop: keep::Stop::of(cfg),
            train: data.train.to_device(device),
            val: data.val.to_device(device),
            test: data.test.to_device(device),
        }
    }

    /// One pass over the shuffled training split, a step per batch: the tally of its losses and
    /// the last step's learning rate.
    fn train_pass(
        &self,
        opt: &mut Adam,
        epoch: usize,
        step: &mut usize,
        sinks: &mut [&mut dyn Sink],
    ) -> Result<(Tally, f64)> {
        let cfg = self.cfg;
        let n = self.data.train.len();
        let augment = Augment::of(cfg, self.data.patch);
        let order = Tensor::from_slice(&shuffled(n, cfg.seed, epoch)).to_device(self.device);
        let mut tally = Tally::new(self.device);
        let mut lr = cfg.lr;
        for (b, batch) in epoch_batches(&self.train, &order, self.bs).enumerate() {
            lr = learning_rate(cfg, *step, self.total_steps);
            let loss_value = train_step(
                self.model,
                opt,
                &batch,
                lr,
                cfg.clip_grad_norm,
                &augment,
                &mut tally,
            )?;
            *step += 1;
            if !loss_value.is_finite() {
                bail!(
                    "training diverged: loss {loss_value} at epoch {epoch}, step {}",
                    *step
                );
            }
            emit(
                sinks,
                &Event::Batch {
                    epoch,
                    batch: b + 1,
                    step: *step,
                    loss: loss_value,
                    lr,
                },
            )?;
        }
        Ok((tally, lr))
    }

    /// The epoch's metrics, scored on validation (and on test where `eval_test` asks for it),
    /// appended to `metrics`; whether the epoch is the best so far on validation.
    fn evaluate(
        &self,
        metrics: &mut Vec<EpochMetrics>,
        epoch: usize,
        step: usize,
        lr: f64,
        tally: &Tally,
        train_seconds: f64,
    ) -> bool {
        let (cfg, data, n) = (self.cfg, self.data, self.data.train.len());
        let eval_started = Instant::now();
        let (val_loss, val_acc, val_errors) = score(self.model, &self.val, data, Held::Val);
        let train_loss = tally.loss_sum.double_value(&[]) / n as f64;
        let numeric = data.task.is_numeric();
        metrics.push(EpochMetrics {
            epoch,
            step,
            lr,
            train_loss,
            train_acc: match numeric {
                true => f64::NAN,
                false => tally.correct.int64_value(&[]) as f64 / n as f64,
            },
            val_loss,
            val_acc,
            test_loss: f64::NAN,
            test_acc: f64::NAN,
            train_seconds,
            eval_seconds: 0.0,
            // MSE of z-scores: its root times the target's std is the RMSE in its units (none
            // for a forecast read as its logarithm, whose std is the logarithm's).
            train_rmse: data
                .target
                .as_ref()
                .filter(|_| !data.forecast.as_ref().is_some_and(|f| f.log))
                .map(|t| train_loss.sqrt() * t.std),
            val_errors,
            test_errors: None,
        });
        let new_best = crate::records::best_val(metrics).is_some_and(|b| b.epoch == epoch);
        // The test set where `eval_test` asks for it: every epoch, or only where a result
        // reads it (the last epoch, early stopping's included, and each new best validation
        // epoch for best_val).
        let wanted = match cfg.eval_test {
            EvalTest::EveryEpoch => true,
            EvalTest::Final => {
                epoch == cfg.epochs.get() || new_best || keep::should_stop(metrics, self.stop)
            }
        };
        let m = metrics.last_mut().expect("just pushed");
        if wanted {
            (m.test_loss, m.test_acc, m.test_errors) =
                score(self.model, &self.test, data, Held::Test);
        }
        m.eval_seconds = eval_started.elapsed().as_secs_f64();
        new_best
    }
}

/// The model at an epoch's end: every variable and its last gradient, and the first `n`
/// examples of `test` through it in evaluation mode (no gradients, no dropout, no RNG draws).
fn look_at(model: &SeqClassifier, vs: &nn::VarStore, test: &Split, n: usize) -> Result<Look> {
    let mut vars: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    let variables = vars
        .iter()
        .map(|(name, t)| {
            let grad = t.grad();
            Ok(Variable {
                name: name.clone(),
                values: floats(t)?,
                grad: match grad.defined() {
                    true => Some(floats(&grad)?),
                    false => None,
                },
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let n = n.min(test.len());
    let probe = match n {
        0 => None,
        n => {
            let t = test.narrow(0, n);
            let (h, predicted) = tch::no_grad(|| {
                let s = model.sequence(&t.x, &t.lengths, false);
                (s.last, model.logits(&s.readout).argmax(-1, false))
            });
            Some(Probe {
                last_hidden: floats(&h)?,
                predicted: Vec::<i64>::try_from(&predicted.to_device(Device::Cpu))?,
            })
        }
    };
    Ok(Look { variables, probe })
}

/// Any tensor's values as a flat f32 vector on the CPU.
pub fn floats(t: &Tensor) -> Result<Vec<f32>> {
    let flat = t
        .detach()
        .to_device(Device::Cpu)
        .to_kind(Kind::Float)
        .reshape([-1]);
    Ok(Vec::<f32>::try_from(&flat)?)
}

/// The learning rate for `step` (0-based) of `total` steps.
pub fn learning_rate(cfg: &RunConfig, step: usize, total: usize) -> f64 {
    match cfg.schedule {
        Schedule::Constant => cfg.lr,
        Schedule::Cosine => {
            let progress = step as f64 / total.max(1) as f64;
            cfg.lr * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
        }
    }
}

/// The order of training examples in `epoch`: a permutation drawn from (seed, epoch) alone,
/// so an epoch's order does not depend on what ran before it.
pub fn shuffled(n: usize, seed: u64, epoch: usize) -> Vec<i64> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(epoch as u64);
    let mut order: Vec<i64> = (0..n as i64).collect();
    order.shuffle(&mut rng);
    order
}

/// The seed of tch's RNG during `epoch` (its dropout masks): from (seed, epoch) alone.
pub fn epoch_seed(seed: u64, epoch: usize) -> i64 {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream((1 << 32) + epoch as u64);
    (rng.next_u64() >> 1) as i64
}

fn emit(sinks: &mut [&mut dyn Sink], event: &Event) -> Result<()> {
    for sink in sinks.iter_mut() {
        sink.event(event)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_decays_from_lr_to_zero() {
        let cfg = RunConfig {
            lr: 0.01,
            ..RunConfig::default()
        };
        assert_eq!(learning_rate(&cfg, 0, 100), 0.01);
        assert!((learning_rate(&cfg, 50, 100) - 0.005).abs() < 1e-12);
        assert!(learning_rate(&cfg, 99, 100) < 1e-5);
        let constant = RunConfig {
            schedule: Schedule::Constant,
            ..cfg
        };
        assert_eq!(learning_rate(&constant, 99, 100), 0.01);
    }

    #[test]
    fn shuffles_are_permutations_fixed_by_seed_and_epoch() {
        let a = shuffled(1000, 7, 1);
        let mut sorted = a.clone();
        sorted.sort();
        assert_eq!(sorted, (0..1000).collect::<Vec<i64>>());
        assert_eq!(a, shuffled(1000, 7, 1));
        assert_ne!(a, shuffled(1000, 7, 2));
        assert_ne!(a, shuffled(1000, 8, 1));
    }
}
