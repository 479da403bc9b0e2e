//! Scoring a model without gradients: loss, accuracy and errors on a split, predictions and
//! probabilities, in evaluation batches of `EVAL_BATCH`.
use tch::{Device, Kind};

use crate::data::{Dataset, Held, Split};
use crate::model::SeqClassifier;

/// Batch size for evaluation: larger than training batches, since no activations are kept,
/// but not so large that a batch's LSTM workspace (B x T x 4H floats: 57 MB at 500 x 28 x
/// 1024) passes malloc's mmap threshold (`env::tune_allocator`): 2,000 was about 20 % slower
/// at H = 128 and 256 on one thread, every batch mapping and faulting in its buffers afresh.
pub const EVAL_BATCH: i64 = 500;

/// Loss, accuracy (NaN for numeric tasks) and, for numeric tasks, the errors in the target's
/// units (with MASE for forecasts, per series and their mean for a panel) of the model on
/// `split` of `data`, which is its `held` split.
pub fn score(
    model: &SeqClassifier,
    split: &Split,
    data: &Dataset,
    held: Held,
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
    let errors = match &data.forecast {
        // A panel validates in each series' std (its training loss's units); it tests in
        // each series' units.
        Some(f) if f.panel && held == Held::Val => f.score_scaled(&z, &truth_z, held),
        Some(f) => f.score(&f.unscaled(&z, held), &f.unscaled(&truth_z, held), held),
        None => crate::metrics::Errors::of(&target.unscale(&z), &target.unscale(&truth_z)),
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
