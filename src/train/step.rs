//! One training step and what it needs: an epoch's batches in shuffled order, the step itself
//! (loss, gradients, clipping, Adam; input augmentation when asked) and the epoch's running tally.
use anyhow::Result;
use tch::{Device, Kind, Tensor};

use super::augment::Augment;
use super::{fused, Adam};
use crate::data::Split;
use crate::model::SeqClassifier;

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

/// One training step on `batch`, the one `train` runs (and `rowseq bench` times): the inputs
/// augmented as `augment` says (none, jitter, scaling, slicing), forward, the loss (`loss_of`), backward (one
/// fused C++ pass for the models `fused` runs, autograd for the others: the same values),
/// global gradient-norm clipping when `clip` > 0, an Adam update at `lr`. Adds the
/// batch to `tally` and returns its mean loss (read from the device: the progress events and
/// the divergence check need it every step).
pub fn train_step(
    model: &SeqClassifier,
    opt: &mut Adam,
    batch: &Split,
    lr: f64,
    clip: f64,
    augment: &Augment,
    tally: &mut Tally,
) -> Result<f64> {
    let Split { x, y, lengths } = batch;
    opt.set_lr(lr);
    let augmented = augment.apply(x, lengths);
    let x = augmented.as_ref().unwrap_or(x);
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

/// The training loss of the head's outputs: cross-entropy for class indices (int64 y), the
/// mean squared error for standardised targets (float y, [N, K]).
pub fn loss_of(out: &Tensor, y: &Tensor) -> Tensor {
    if y.kind() == Kind::Int64 {
        out.cross_entropy_for_logits(y)
    } else {
        out.mse_loss(y, tch::Reduction::Mean)
    }
}
