/*!
The training loop. It trains one `RunConfig` on one `Dataset` under the caller's `Policies`
(how an epoch is made durable, when to stop) and only emits `Event`s of data: it never touches
files or the terminal itself. Sinks (progress, TensorBoard, test pause points) observe.

Recipe: Adam (`adam`, bit-identical to tch's), cross-entropy on the head's logits, per-epoch shuffle from the run's seed,
dropout between layers and input noise (if any) drawn from tch's RNG seeded at each epoch
from (seed, epoch),
optional cosine decay of the learning rate per step and global gradient-norm clipping. Each
epoch ends with train loss/accuracy (as seen while training), validation and test loss/accuracy,
all computed without gradients. On CPU a run is bit-reproducible for a seed and thread count,
also when it resumes from a `checkpoint` of an earlier epoch.
*/
pub mod adam;
pub mod checkpoint;
pub mod collapse;
pub mod events;
pub mod fused;
pub mod keep;

use std::time::Instant;

use anyhow::{anyhow, bail, Result};
use rand::seq::SliceRandom;
use rand::{RngCore, SeedableRng};
use tch::{nn, Device, Kind, Tensor};

pub use adam::Adam;
pub use events::{Ended, Event, Look, Policies, Probe, Sink, Variable};

use crate::config::{EvalTest, Keep, Resolved, RunConfig, Schedule};
use crate::data::{Dataset, Split};
use crate::model::{counted_params, param_count, Arch, SeqClassifier};
use crate::records::EpochMetrics;
use crate::store::Checkpoint;

/// Batch size for evaluation: larger than training batches, since no activations are kept,
/// but not so large that a batch's LSTM workspace (B x T x 4H floats: 57 MB at 500 x 28 x
/// 1024) passes malloc's mmap threshold (`env::tune_allocator`): 2,000 was about 20 % slower
/// at H = 128 and 256 on one thread, every batch mapping and faulting in its buffers afresh.
pub const EVAL_BATCH: i64 = 500;

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
            data: &events::DataSummary::of(data, policies.look)?,
        },
    )?;
    let mut step = opt.step as usize;
    for epoch in metrics.len() + 1..=cfg.epochs.get() {
        // Decided from the recorded epochs only, so that a resumed run stops where an
        // uninterrupted one did.
        if keep::should_stop(&metrics, run.patience) {
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
            Some(n) => Some(look_at(&model, &vs, &run.test, n)?),
            None => None,
        };
        emit(
            sinks,
            &Event::Epoch {
                metrics: &metrics,
                look: look.as_ref(),
            },
        )?;
        if (policies.should_stop)() {
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
    patience: usize,
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
            patience: cfg.patience.get(),
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
        let clip_and_noise = (cfg.clip_grad_norm, cfg.noise.std());
        let order = Tensor::from_slice(&shuffled(n, cfg.seed, epoch)).to_device(self.device);
        let mut tally = Tally::new(self.device);
        let mut lr = cfg.lr;
        for (b, batch) in epoch_batches(&self.train, &order, self.bs).enumerate() {
            lr = learning_rate(cfg, *step, self.total_steps);
            let loss_value = train_step(self.model, opt, &batch, lr, clip_and_noise, &mut tally)?;
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
        let (val_loss, val_acc, val_errors) = score(self.model, &self.val, data);
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
            // MSE of z-scores: its root times the target's std is the RMSE in its units.
            train_rmse: data.target.as_ref().map(|t| train_loss.sqrt() * t.std),
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
                epoch == cfg.epochs.get() || new_best || keep::should_stop(metrics, self.patience)
            }
        };
        let m = metrics.last_mut().expect("just pushed");
        if wanted {
            (m.test_loss, m.test_acc, m.test_errors) = score(self.model, &self.test, data);
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

/// The batches of one epoch: `split`'s examples in `order`, `bs` at a time (the last batch
/// may be smaller). Each batch is gathered when the iterator reaches it, so an epoch holds
/// one batch of copies at a time, not a shuffled copy of the whole split.
pub fn epoch_batches<'a>(
    split: &'a Split,
    order: &'a Tensor,
    bs: usize,
) -> impl Iterator<Item = Split> + 'a {
    let n = order.size()[0] as usize;
    (0..n.div_ceil(bs)).map(move |b| {
        let idx = order.narrow(0, (b * bs) as i64, bs.min(n - b * bs) as i64);
        split.select(&idx)
    })
}

/// Sums over an epoch's batches, kept on the device and read once at the epoch's end: the
/// loss times the batch size, and the correct predictions.
pub struct Tally {
    pub loss_sum: Tensor,
    pub correct: Tensor,
}

impl Tally {
    pub fn new(device: Device) -> Tally {
        Tally {
            loss_sum: Tensor::zeros([], (Kind::Float, device)),
            correct: Tensor::zeros([], (Kind::Int64, device)),
        }
    }
}

/// One training step on `batch`, the one `train` runs (and `rowseq bench` times): Gaussian noise
/// of std `noise` on the inputs when `noise` > 0, forward, the loss (`loss_of`), backward (one
/// fused C++ pass for the models `fused` runs, autograd for the others: the same values),
/// global gradient-norm clipping when `clip` > 0, an Adam update at `lr`. Adds the
/// batch to `tally` and returns its mean loss (read from the device: the progress events and
/// the divergence check need it every step).
pub fn train_step(
    model: &SeqClassifier,
    opt: &mut Adam,
    batch: &Split,
    lr: f64,
    (clip, noise): (f64, f64),
    tally: &mut Tally,
) -> Result<f64> {
    let Split { x, y, lengths } = batch;
    opt.set_lr(lr);
    let jittered = (noise > 0.0).then(|| jitter(x, lengths, noise));
    let x = jittered.as_ref().unwrap_or(x);
    let (logits, loss) = match fused::forward_backward(model, opt, x, lengths, y) {
        Some(pass) => pass?,
        None => autograd_pass(model, opt, x, lengths, y),
    };
    if clip > 0.0 {
        opt.clip_grad_norm(clip);
    }
    opt.step()?;
    Ok(tch::no_grad(|| {
        let detached = loss.detach();
        tally.loss_sum += &detached * (y.size()[0] as f64);
        if y.kind() == Kind::Int64 {
            tally.correct += logits.argmax(-1, false).eq_tensor(y).sum(Kind::Int64);
        }
        detached.double_value(&[])
    }))
}

/// A training step's forward and backward pass through autograd: the logits and the loss of
/// `model` on a batch, with every parameter's gradient zeroed, then written by backward. The
/// fused pass (`fused`) computes the same for the models it runs.
pub fn autograd_pass(
    model: &SeqClassifier,
    opt: &mut Adam,
    x: &Tensor,
    lengths: &Tensor,
    y: &Tensor,
) -> (Tensor, Tensor) {
    let logits = model.forward(x, lengths, true);
    let loss = loss_of(&logits, y);
    opt.zero_grad();
    loss.backward();
    (logits, loss)
}

/// `x` with Gaussian noise of standard deviation `std` on the batch's own steps: up to its
/// longest sequence, so that the draws depend on the training data alone, never on how far a
/// longer series of another split padded every split. Steps past a sequence's length are never
/// read; the zero fill of a last, partial patch is jittered like the values beside it.
fn jitter(x: &Tensor, lengths: &Tensor, std: f64) -> Tensor {
    let size = x.size();
    let steps = lengths.max().int64_value(&[]).clamp(1, size[1]);
    let noise = Tensor::randn([size[0], steps, size[2]], (x.kind(), x.device())) * std;
    let out = x.copy();
    let mut own = out.narrow(1, 0, steps);
    own += noise;
    out
}

/// The training loss of the head's outputs: cross-entropy for class indices (int64 y), the
/// mean squared error for standardised targets (float y, [N, K]).
pub fn loss_of(out: &Tensor, y: &Tensor) -> Tensor {
    if y.kind() == Kind::Int64 {
        out.cross_entropy_for_logits(y)
    } else {
        out.mse_loss(y, tch::Reduction::Mean)
    }
}

/// Loss, accuracy (NaN for numeric tasks) and, for numeric tasks, the errors in the target's
/// units (with MASE for forecasts) of the model on `split` of `data`.
pub fn score(
    model: &SeqClassifier,
    split: &Split,
    data: &Dataset,
) -> (f64, f64, Option<crate::metrics::Errors>) {
    let Some(target) = &data.target else {
        let (loss, acc) = evaluate(model, split);
        return (loss, acc, None);
    };
    if split.is_empty() {
        return (f64::NAN, f64::NAN, None);
    }
    let z = predict_values(model, split, split.x.device());
    let truth_z =
        Vec::<f64>::try_from(split.y.flatten(0, -1).to_kind(Kind::Double)).expect("f64 targets");
    let loss = z
        .iter()
        .zip(&truth_z)
        .map(|(p, t)| (p - t).powi(2))
        .sum::<f64>()
        / z.len() as f64;
    let errors = crate::metrics::Errors::of(&target.unscale(&z), &target.unscale(&truth_z));
    let errors = match &data.forecast {
        Some(f) => errors.with_mase(f.scale),
        None => errors,
    };
    (loss, f64::NAN, Some(errors))
}

/// The head's outputs for every example of `split` ([N * K] row-major, standardised units),
/// computed on `device` in batches: a numeric task's predictions.
pub fn predict_values(model: &SeqClassifier, split: &Split, device: Device) -> Vec<f64> {
    let mut out = Vec::with_capacity(split.len());
    tch::no_grad(|| {
        for batch in eval_batches(split) {
            let batch = batch.to_device(device);
            let p = model
                .forward(&batch.x, &batch.lengths, false)
                .to_kind(Kind::Double)
                .to_device(Device::Cpu)
                .flatten(0, -1);
            out.extend(Vec::<f64>::try_from(&p).expect("f64 outputs"));
        }
    });
    out
}

/// `split` in consecutive batches of `EVAL_BATCH` (views, not copies), as evaluation reads it.
pub fn eval_batches(split: &Split) -> impl Iterator<Item = Split> + '_ {
    let (n, bs) = (split.len(), EVAL_BATCH as usize);
    (0..n.div_ceil(bs)).map(move |b| split.narrow(b * bs, bs.min(n - b * bs)))
}

/// Loss and accuracy on a split, without gradients, in batches of `EVAL_BATCH`.
/// An empty split gives NaN for both.
pub fn evaluate(model: &SeqClassifier, split: &Split) -> (f64, f64) {
    let n = split.len();
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    tch::no_grad(|| {
        let mut loss = 0.0;
        let mut correct = 0i64;
        for Split { x, y, lengths } in eval_batches(split) {
            let logits = model.forward(&x, &lengths, false);
            loss += logits.cross_entropy_for_logits(&y).double_value(&[]) * y.size()[0] as f64;
            correct += logits
                .argmax(-1, false)
                .eq_tensor(&y)
                .sum(Kind::Int64)
                .int64_value(&[]);
        }
        (loss / n as f64, correct as f64 / n as f64)
    })
}

/// The class probabilities (the softmax of the head's logits) and the predicted class (the
/// logits' argmax, as evaluation counts it) of every example of `split`, computed on `device`
/// in batches.
pub fn predict(model: &SeqClassifier, split: &Split, device: Device) -> (Vec<Vec<f32>>, Vec<i64>) {
    let (mut probabilities, mut predicted) = (Vec::with_capacity(split.len()), Vec::new());
    tch::no_grad(|| {
        for batch in eval_batches(split) {
            let batch = batch.to_device(device);
            let logits = model.forward(&batch.x, &batch.lengths, false);
            let p = logits.softmax(-1, Kind::Float).to_device(Device::Cpu);
            probabilities.extend(Vec::<Vec<f32>>::try_from(&p).expect("float probabilities"));
            let k = logits.argmax(-1, false).to_device(Device::Cpu);
            predicted.extend(Vec::<i64>::try_from(&k).expect("int64 predictions"));
        }
    });
    (probabilities, predicted)
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
