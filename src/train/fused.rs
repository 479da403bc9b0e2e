/*!
The fused training pass on the CPU (`csrc/step.cpp`): forward, loss and backward of a model of
one LSTM layer in one direction and its head in one C++ call, which writes every parameter's
gradient. It computes what the autograd path of `train_step` computes, with the same
operations on the same tensors, so the same values (the tests below hold the two equal, bit for
bit, over steps of training with Adam and clipping): what it leaves out is autograd's graph,
the call from Rust for each operation and, where every sequence has all T steps, the [B, T, H]
gradient that gather's backward fills for one step of each. At small widths those cost about
as much as the arithmetic.
Other models (GRU, RNN, stacks, two directions, float64, CUDA) keep the autograd path.
*/
use anyhow::{anyhow, Result};
use tch::{Kind, Tensor};

use super::Adam;
use crate::model::SeqClassifier;

/// The logits and the loss of `model` on a batch (`x` [B, T, F], `lengths` [B], `y` class
/// indices [B] or targets [B, K]), with every parameter's gradient written, as `zero_grad`
/// then `backward` leave them; None where the fused pass does not run this model (the caller
/// then takes the autograd path).
pub fn forward_backward(
    model: &SeqClassifier,
    opt: &mut Adam,
    x: &Tensor,
    lengths: &Tensor,
    y: &Tensor,
) -> Option<Result<(Tensor, Tensor)>> {
    let parts = model.fused_parts(x)?;
    // Class indices [B], or as many targets a sequence as the head has outputs.
    let (batch, outputs) = (x.size()[0], parts.head_w.size()[0]);
    let targets_fit = match y.kind() {
        Kind::Int64 => y.size() == [batch],
        Kind::Float => y.size() == [batch, outputs],
        _ => false,
    };
    // Every variable the optimizer updates gets its gradient from the pass: exactly the six
    // of the model, each (in the flat layout) with a gradient to write.
    let six: Vec<&Tensor> = parts
        .lstm
        .iter()
        .chain([parts.head_w, parts.head_b])
        .collect();
    let same_variables = opt.len() == six.len()
        && opt
            .params()
            .all(|(_, p)| six.iter().any(|v| v.data_ptr() == p.data_ptr()));
    if !(opt.is_flat() && same_variables && targets_fit) {
        return None;
    }
    let lengths = lengths.to_device(x.device());
    Some(
        crate::ffi::lstm_step(x, &lengths, y, parts.lstm, parts.head_w, parts.head_b)
            .map_err(|e| anyhow!("the fused training step failed: {e}")),
    )
}

#[cfg(test)]
mod tests {
    use tch::{nn, Device, Kind, Tensor};

    use super::*;
    use crate::config::Cell;
    use crate::model::Arch;
    use crate::train::autograd_pass;

    /// A model of `arch` and its optimizer (other tests draw from tch's process-wide RNG
    /// meanwhile: copy weights between models rather than seed each).
    fn make(arch: &Arch) -> (nn::VarStore, SeqClassifier, Adam) {
        let vs = nn::VarStore::new(Device::Cpu);
        let model = SeqClassifier::new(&vs.root(), arch);
        let opt = Adam::new(&vs, 0.01);
        (vs, model, opt)
    }

    /// A batch: x [B, T, I], lengths [B] (all T unless `ragged`), and class indices or targets.
    fn batch(arch: &Arch, b: i64, t: i64, ragged: bool, numeric: bool) -> (Tensor, Tensor, Tensor) {
        let x = Tensor::randn([b, t, arch.input], (Kind::Float, Device::Cpu));
        let lengths = match ragged {
            true => Tensor::randint_low(1, t + 1, [b], (Kind::Int64, Device::Cpu)),
            false => Tensor::full([b], t, (Kind::Int64, Device::Cpu)),
        };
        let y = match numeric {
            true => Tensor::randn([b, arch.classes], (Kind::Float, Device::Cpu)),
            false => Tensor::randint(arch.classes, [b], (Kind::Int64, Device::Cpu)),
        };
        (x, lengths, y)
    }

    /// A tensor's values as bits, to compare exactly.
    fn bits(t: &Tensor) -> Vec<u32> {
        let values = crate::train::floats(t).unwrap();
        values.into_iter().map(f32::to_bits).collect()
    }

    /// Trains two copies of one model on the same batches, one through autograd and one
    /// through the fused pass (with clipping and Adam, as `train_step` does), at one thread
    /// (where an AVX-512 CPU runs rowseq's own matmul kernel, as a sweep's runs do) and at two
    /// (BLAS): every loss, logit and weight after every step must be the same bits, every
    /// gradient the same numbers.
    fn same_as_autograd(arch: Arch, b: i64, t: i64, ragged: bool, numeric: bool, clip: f64) {
        // set_num_threads sets this test thread's count (OpenMP's and MKL's are per thread).
        let threads_before = tch::get_num_threads();
        for threads in [1, 2] {
            tch::set_num_threads(threads);
            train_both_ways(arch, b, t, ragged, numeric, clip);
        }
        tch::set_num_threads(threads_before);
    }

    fn train_both_ways(arch: Arch, b: i64, t: i64, ragged: bool, numeric: bool, clip: f64) {
        let (vs_a, model_a, mut opt_a) = make(&arch);
        let (mut vs_f, model_f, mut opt_f) = make(&arch);
        vs_f.copy(&vs_a).unwrap();
        let threads = tch::get_num_threads();
        let what = format!("{arch:?}, B = {b}, T = {t}, ragged {ragged}, {threads} threads");
        for step in 0..4 {
            let (x, lengths, y) = batch(&arch, b, t, ragged, numeric);
            let (logits_a, loss_a) = autograd_pass(&model_a, &mut opt_a, &x, &lengths, &y);
            let (logits_f, loss_f) = forward_backward(&model_f, &mut opt_f, &x, &lengths, &y)
                .expect("the fused pass runs this model")
                .unwrap();
            assert_eq!(bits(&loss_a), bits(&loss_f), "loss, step {step}, {what}");
            assert_eq!(
                bits(&logits_a),
                bits(&logits_f),
                "logits, step {step}, {what}"
            );
            for ((name, a), (_, f)) in opt_a.params().zip(opt_f.params()) {
                // Equal as numbers: the fused pass may leave -0 where autograd's 0 + g has +0.
                assert!(
                    a.grad().equal(&f.grad()),
                    "{name}'s gradient, step {step}, {what}"
                );
            }
            for opt in [&mut opt_a, &mut opt_f] {
                if clip > 0.0 {
                    opt.clip_grad_norm(clip);
                }
                opt.set_lr(0.01 / (1.0 + step as f64));
                opt.step().unwrap();
            }
        }
        for (name, a) in vs_a.variables() {
            let f = &vs_f.variables()[&name];
            assert_eq!(bits(&a), bits(f), "{name} after training, {what}");
        }
    }

    #[test]
    fn classifiers_train_to_the_same_bits() {
        // 8 (narrow gate rows), 16 and 32 (compiled widths), 12 (neither), 128 (the weight
        // gradient summed step by step); batches that the kernel's 6-row tiles do not divide.
        for (hidden, b, t, clip) in [
            (8, 13, 9, 1.0),
            (16, 32, 28, 0.0),
            (12, 7, 5, 0.5),
            (32, 6, 3, 1.0),
            (128, 5, 4, 1.0),
        ] {
            same_as_autograd(Arch::lstm(11, hidden, 10), b, t, false, false, clip);
        }
    }

    #[test]
    fn ragged_batches_and_numeric_targets_train_to_the_same_bits() {
        same_as_autograd(Arch::lstm(4, 16, 5), 17, 12, true, false, 1.0);
        // Regression and forecasting: K targets, the mean squared error.
        same_as_autograd(Arch::lstm(3, 8, 2), 9, 6, false, true, 1.0);
        same_as_autograd(Arch::lstm(2, 24, 1), 10, 7, true, true, 0.0);
        // One step, one sequence, one unit: the shapes at which autograd's layouts change.
        same_as_autograd(Arch::lstm(1, 1, 1), 1, 1, false, true, 0.0);
        same_as_autograd(Arch::lstm(2, 1, 3), 1, 2, false, false, 0.0);
    }

    #[test]
    fn other_models_keep_the_autograd_path() {
        let lstm = Arch::lstm(5, 8, 3);
        let others = [
            Arch {
                cell: Cell::Gru,
                ..lstm
            },
            Arch { layers: 2, ..lstm },
            Arch {
                bidirectional: true,
                ..lstm
            },
        ];
        for arch in others {
            let (_, model, mut opt) = make(&arch);
            let (x, lengths, y) = batch(&arch, 4, 3, false, false);
            assert!(
                forward_backward(&model, &mut opt, &x, &lengths, &y).is_none(),
                "{arch:?}"
            );
        }
        // float64 inputs, class indices of another type or shape, targets of another width,
        // and an optimizer over other variables.
        let (_, model, mut opt) = make(&lstm);
        let (x, lengths, y) = batch(&lstm, 4, 3, false, false);
        let x64 = x.to_kind(Kind::Double);
        assert!(forward_backward(&model, &mut opt, &x64, &lengths, &y).is_none());
        let y32 = y.to_kind(Kind::Int);
        assert!(forward_backward(&model, &mut opt, &x, &lengths, &y32).is_none());
        let y_short = y.narrow(0, 0, 3);
        assert!(forward_backward(&model, &mut opt, &x, &lengths, &y_short).is_none());
        let targets = Tensor::zeros([4, 2], (Kind::Float, Device::Cpu));
        assert!(forward_backward(&model, &mut opt, &x, &lengths, &targets).is_none());
        let (_, _, mut other) = make(&lstm);
        assert!(forward_backward(&model, &mut other, &x, &lengths, &y).is_none());
        assert!(forward_backward(&model, &mut opt, &x, &lengths, &y).is_some());
    }
}
