/*!
The sequence classifier: a stack of recurrent layers (LSTM, GRU or tanh RNN; one direction or
two) over the T timesteps, and a linear head, on the state of each sequence at its last real
timestep, that gives one logit per class.

Each layer and direction is its own one-layer call of `at::lstm` / `at::gru` / `at::rnn_tanh`
(cuDNN on CUDA) or, for an LSTM on the CPU, of rowseq's own kernel (`cpu_lstm`, faster than
libtorch's there, same values up to rounding), so dropout between layers is ours:
`Tensor::dropout(p, train)` on the outputs of every layer but the last, as PyTorch does, and
only while training.

Padding never changes a result. Sequences shorter than T are padded at the end and `lengths`
holds their real lengths: the forward direction is causal, so its outputs up to length-1 never
see the padding, and the head reads them at t = length-1 (not at T). The backward direction
reads each sequence reversed within its length (t' = length-1-t, padding left at the end), and
its outputs are put back in time order before the next layer; its final state is its output at
t = 0.

Initialised like PyTorch, so results compare with PyTorch code: every recurrent weight and
bias U(-1/sqrt(H), 1/sqrt(H)) (tch's defaults are Kaiming-uniform weights and zero biases), and
the head like `nn.Linear(D·H, C)`, weight and bias U(-1/sqrt(D·H), 1/sqrt(D·H)). The variables
have PyTorch's names (`lstm.weight_ih_l0`, `gru.bias_hh_l1_reverse`, ..., `head.weight`,
`head.bias`) and are drawn in PyTorch's order: layer by layer, the forward direction first,
w_ih, w_hh, b_ih, b_hh; then the head.
*/

use tch::nn::{self, Module};
#[cfg(test)]
use tch::Device;
use tch::{Kind, Tensor};

use super::arch::Arch;
use super::conv::ConvBranch;
use super::cpu_lstm;
use crate::config::{Cell, Pooling};

/// |h| above this counts as saturated, for every cell: h_t lies in (-1, 1) (LSTM: o * tanh(c);
/// GRU: a mix of tanh(n) and h_{t-1}; RNN: tanh). `explain` and TensorBoard both measure it.
pub const SATURATED: f64 = 0.95;

impl Cell {
    /// cuDNN's mode number (`rnn.get_cudnn_mode` in PyTorch).
    fn cudnn_mode(self) -> i64 {
        match self {
            Cell::Rnn => 1,
            Cell::Lstm => 2,
            Cell::Gru => 3,
        }
    }
}

/// The number of scalars actually held by a VarStore.
pub fn counted_params(vs: &nn::VarStore) -> i64 {
    vs.trainable_variables()
        .iter()
        .map(|t| t.numel() as i64)
        .sum()
}

/// One direction of one layer: [w_ih, w_hh, b_ih, b_hh], as `at::lstm` and friends take them.
#[derive(Debug)]
pub(super) struct Direction {
    pub(super) weights: Vec<Tensor>,
}

impl Direction {
    /// Creates `weight_ih_l{l}{suffix}`, `weight_hh_...`, `bias_ih_...`, `bias_hh_...` in
    /// that order (tch's and PyTorch's), all U(-k, k).
    fn new(vs: &nn::Path, a: &Arch, l: i64, suffix: &str, init: nn::Init) -> Direction {
        let (rows, input) = (a.cell.gates() * a.hidden, a.layer_input(l));
        let weights = vec![
            vs.var(&format!("weight_ih_l{l}{suffix}"), &[rows, input], init),
            vs.var(&format!("weight_hh_l{l}{suffix}"), &[rows, a.hidden], init),
            vs.var(&format!("bias_ih_l{l}{suffix}"), &[rows], init),
            vs.var(&format!("bias_hh_l{l}{suffix}"), &[rows], init),
        ];
        if vs.device().is_cuda() && tch::Cuda::cudnn_is_available() {
            // As tch's nn::lstm does: one contiguous buffer, so cuDNN need not copy.
            let _ = Tensor::internal_cudnn_rnn_flatten_weight(
                &weights,
                4,
                input,
                a.cell.cudnn_mode(),
                a.hidden,
                0,
                1,
                true,
                false,
            );
        }
        Direction { weights }
    }

    /// Runs over all T steps of `x` [B, T, I] from zero states: the outputs [B, T, H], and
    /// for an LSTM the cell state after step T, [B, H].
    fn run(&self, cell: Cell, x: &Tensor, hidden: i64, train: bool) -> (Tensor, Option<Tensor>) {
        if cell == Cell::Lstm && cpu_lstm::supports(x, &self.weights) {
            let (out, c) = cpu_lstm::lstm(x, &self.weights);
            return (out, Some(c));
        }
        let zeros = Tensor::zeros(
            [1, x.size()[0], hidden],
            (self.weights[0].kind(), x.device()),
        );
        let w: Vec<&Tensor> = self.weights.iter().collect();
        match cell {
            Cell::Lstm => {
                let (out, _, c) = x.lstm(&[&zeros, &zeros], &w, true, 1, 0.0, train, false, true);
                (out, Some(c.get(0)))
            }
            Cell::Gru => (x.gru(&zeros, &w, true, 1, 0.0, train, false, true).0, None),
            Cell::Rnn => (
                x.rnn_tanh(&zeros, &w, true, 1, 0.0, train, false, true).0,
                None,
            ),
        }
    }
}

/// One layer: its forward direction and, when bidirectional, its backward one.
#[derive(Debug)]
pub(super) struct Layer {
    pub(super) forward: Direction,
    pub(super) backward: Option<Direction>,
}

/// What the recurrent stack computes for a batch.
pub struct Sequence {
    /// Outputs of every layer, [B, T, D·H] each, the forward direction's H first. Positions
    /// at and after a sequence's length hold whatever the padding gave: never read them.
    pub layers: Vec<Tensor>,
    /// The last layer's final state, [B, D·H]: its forward output at t = length-1 and, when
    /// bidirectional, its backward output at t = 0.
    pub last: Tensor,
    /// What the head reads, [B, D·H + N]: `last` (or, with `pooling = "mean"`, the mean of the
    /// last layer's outputs over each sequence's real steps), then the N means of the
    /// convolutional branch when there is one.
    pub readout: Tensor,
    /// LSTM only: the cell state c of the first layer's forward direction after all T steps,
    /// [B, H] (at the last real step only for sequences of full length). Read by the tests
    /// that hold `explain`'s arithmetic to the model.
    #[cfg_attr(not(test), allow(dead_code))]
    pub cell_state: Option<Tensor>,
}

impl Sequence {
    /// The last layer's outputs, [B, T, D·H].
    pub fn outputs(&self) -> &Tensor {
        self.layers.last().expect("at least one layer")
    }
}

/// Recurrent layers (and a convolutional branch beside them, `conv`) + dense head. `forward`
/// maps [B, T, F] (and lengths [B]) to [B, C].
#[derive(Debug)]
pub struct SeqClassifier {
    pub arch: Arch,
    pub(super) layers: Vec<Layer>,
    pub(super) conv: Option<ConvBranch>,
    pub(super) head: nn::Linear,
    /// The linear highway from the flattened window to the outputs (`Arch::highway`).
    pub(super) highway: Option<nn::Linear>,
}

impl SeqClassifier {
    /// Creates the variables under `vs` (`<cell>.*`, then `conv.*` when there is a branch,
    /// then `head.*`, then `highway.*` when there is one), initialised from tch's RNG in PyTorch's order.
    pub fn new(vs: &nn::Path, arch: &Arch) -> Self {
        let k = 1.0 / (arch.hidden as f64).sqrt();
        let u = nn::Init::Uniform { lo: -k, up: k };
        let rnn = vs / arch.cell.name();
        let layers = (0..arch.layers)
            .map(|l| Layer {
                forward: Direction::new(&rnn, arch, l, "", u),
                backward: arch
                    .bidirectional
                    .then(|| Direction::new(&rnn, arch, l, "_reverse", u)),
            })
            .collect();
        let conv = ConvBranch::new(vs, arch);
        let k = 1.0 / (arch.head_input() as f64).sqrt();
        let u = nn::Init::Uniform { lo: -k, up: k };
        let lin = nn::LinearConfig {
            ws_init: u,
            bs_init: Some(u),
            bias: true,
        };
        let head = nn::linear(vs / "head", arch.head_input(), arch.classes, lin);
        // The highway starts at zero: training begins from the recurrent network alone.
        let zero = nn::LinearConfig {
            ws_init: nn::Init::Const(0.0),
            bs_init: Some(nn::Init::Const(0.0)),
            bias: true,
        };
        let highway = (arch.highway > 0)
            .then(|| nn::linear(vs / "highway", arch.highway, arch.classes, zero));
        SeqClassifier {
            arch: *arch,
            layers,
            conv,
            head,
            highway,
        }
    }

    /// Runs the stack over `x` [B, T, F] whose sequences have `lengths` [B] (each in 1..=T)
    /// real steps. `train` turns dropout between layers on, and has the convolutional branch
    /// normalise with the batch's statistics.
    pub fn sequence(&self, x: &Tensor, lengths: &Tensor, train: bool) -> Sequence {
        let (b, t) = (x.size()[0], x.size()[1]);
        let (h, width) = (self.arch.hidden, self.arch.width());
        let lengths = lengths.to_device(x.device()).view([b, 1]);
        let reverse = self
            .arch
            .bidirectional
            .then(|| reverse_within_lengths(&lengths, t));
        let mut outputs: Vec<Tensor> = Vec::with_capacity(self.layers.len());
        let mut cell_state = None;
        for (l, layer) in self.layers.iter().enumerate() {
            let input = match outputs.last() {
                None => x.shallow_clone(),
                Some(below) if self.arch.dropout > 0.0 => below.dropout(self.arch.dropout, train),
                Some(below) => below.shallow_clone(),
            };
            let (forward, c) = layer.forward.run(self.arch.cell, &input, h, train);
            if l == 0 {
                cell_state = c;
            }
            let out = match (&layer.backward, &reverse) {
                (Some(backward), Some(rev)) => {
                    let (o, _) = backward.run(self.arch.cell, &along_time(&input, rev), h, train);
                    Tensor::cat(&[forward, along_time(&o, rev)], 2)
                }
                _ => forward,
            };
            outputs.push(out);
        }
        let top = outputs.last().expect("at least one layer");
        let at_last = (&lengths - 1).view([b, 1, 1]).expand([b, 1, width], false);
        let mut last = top.gather(1, &at_last, false).squeeze_dim(1);
        if self.arch.bidirectional {
            // The backward direction's final state is its output at t = 0.
            last = Tensor::cat(&[last.narrow(1, 0, h), top.select(1, 0).narrow(1, h, h)], 1);
        }
        // What reads every step (the mean, the branch) reads up to the batch's longest real
        // sequence only, so that padding beyond it changes no sum, not even by rounding.
        let longest = (self.arch.pooling == Pooling::Mean || self.conv.is_some())
            .then(|| lengths.max().int64_value(&[]));
        let real = longest.map(|n| {
            Tensor::arange(n, (Kind::Int64, x.device()))
                .view([1, n])
                .lt_tensor(&lengths)
        });
        let mut readout = match (self.arch.pooling, &real, longest) {
            (Pooling::Mean, Some(real), Some(n)) => {
                let zero = Tensor::zeros([1], (top.kind(), top.device()));
                let kept = top.narrow(1, 0, n).where_self(&real.unsqueeze(-1), &zero);
                kept.sum_dim_intlist(1, false, top.kind()) / lengths.to_kind(top.kind())
            }
            _ => last.shallow_clone(),
        };
        if let (Some(conv), Some(real), Some(n)) = (&self.conv, &real, longest) {
            let branch = conv.forward(&x.narrow(1, 0, n), &real.unsqueeze(1), &lengths, train);
            readout = Tensor::cat(&[readout, branch], 1);
        }
        Sequence {
            layers: outputs,
            last,
            readout,
            cell_state,
        }
    }

    /// Class logits, [B, C].
    pub fn forward(&self, x: &Tensor, lengths: &Tensor, train: bool) -> Tensor {
        let logits = self.logits(&self.sequence(x, lengths, train).readout);
        match &self.highway {
            // Every window of a forecast has the full T steps, so the flattened [B, T·F]
            // lines up value for value.
            Some(highway) => logits + highway.forward(&x.flatten(1, -1)),
            None => logits,
        }
    }

    /// Class logits from what the head reads, [B, D·H + N] -> [B, C].
    pub fn logits(&self, last: &Tensor) -> Tensor {
        self.head.forward(last)
    }
}

/// [B, T] time indices that reverse each sequence within its length: t -> length-1-t for
/// t < length, t itself (the padding stays at the end) otherwise. Its own inverse.
fn reverse_within_lengths(lengths: &Tensor, t: i64) -> Tensor {
    let steps = Tensor::arange(t, (Kind::Int64, lengths.device())).view([1, t]);
    let flipped = lengths - 1 - &steps;
    flipped.where_self(&steps.lt_tensor(lengths), &steps.expand_as(&flipped))
}

/// `x` [B, T, K] with its timesteps picked by `index` [B, T]: x[b, index[b, t], :].
fn along_time(x: &Tensor, index: &Tensor) -> Tensor {
    let size = x.size();
    x.gather(1, &index.unsqueeze(-1).expand(&size[..], false), false)
}

/// The sequence lengths of a batch whose sequences all have all `t` steps, on `device`.
#[cfg(test)]
pub fn full_lengths(batch: i64, t: i64, device: Device) -> Tensor {
    Tensor::full([batch], t, (Kind::Int64, device))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::path::Path;

    use super::super::arch::tests::arch;
    use super::*;
    use crate::model::param_count;

    #[test]
    fn param_count_matches_the_varstore_for_every_cell_and_stack() {
        for cell in Cell::ALL {
            for layers in [1, 2, 3] {
                for bidirectional in [false, true] {
                    for h in [1, 8, 17, 64] {
                        let a = arch(cell, h, layers, bidirectional);
                        let vs = nn::VarStore::new(Device::Cpu);
                        let _m = SeqClassifier::new(&vs.root(), &a);
                        assert_eq!(counted_params(&vs), param_count(&a), "{a:?}");
                        // The formula written out, independently of `param_count`.
                        let (g, d) = (cell.gates(), if bidirectional { 2 } else { 1 });
                        let first = d * (g * h * (28 + h) + 2 * g * h);
                        let above = d * (g * h * (d * h + h) + 2 * g * h);
                        let head = d * h * 10 + 10;
                        assert_eq!(param_count(&a), first + (layers - 1) * above + head);
                        // A convolutional branch of N filters: its blocks' weights, biases
                        // and batch norms, and N more inputs to the head.
                        let n = 3;
                        let with_conv = Arch { conv: n, ..a };
                        let vs = nn::VarStore::new(Device::Cpu);
                        let _m = SeqClassifier::new(&vs.root(), &with_conv);
                        let branch = (28 * n * 8 + 3 * n)
                            + (n * 2 * n * 5 + 3 * 2 * n)
                            + (2 * n * n * 3 + 3 * n);
                        assert_eq!(counted_params(&vs), param_count(&with_conv));
                        assert_eq!(param_count(&with_conv), param_count(&a) + branch + n * 10);
                    }
                }
            }
        }
    }

    #[test]
    fn default_variables_keep_their_names() {
        let vs = nn::VarStore::new(Device::Cpu);
        let _m = SeqClassifier::new(&vs.root(), &Arch::lstm(28, 8, 10));
        let mut names: Vec<String> = vs.variables().into_keys().collect();
        names.sort();
        assert_eq!(
            names,
            [
                "head.bias",
                "head.weight",
                "lstm.bias_hh_l0",
                "lstm.bias_ih_l0",
                "lstm.weight_hh_l0",
                "lstm.weight_ih_l0"
            ]
        );
        let vs = nn::VarStore::new(Device::Cpu);
        let _m = SeqClassifier::new(&vs.root(), &arch(Cell::Gru, 8, 2, true));
        let v = vs.variables();
        assert_eq!(v["gru.weight_ih_l0_reverse"].size(), vec![24, 28]);
        assert_eq!(v["gru.weight_ih_l1"].size(), vec![24, 16]);
        assert_eq!(v["gru.bias_hh_l1_reverse"].size(), vec![24]);
        assert_eq!(v["head.weight"].size(), vec![10, 16]);
    }

    #[test]
    fn init_is_pytorch_uniform() {
        tch::manual_seed(0);
        for cell in Cell::ALL {
            let vs = nn::VarStore::new(Device::Cpu);
            let _m = SeqClassifier::new(&vs.root(), &arch(cell, 64, 2, true));
            for (name, t) in vs.variables() {
                // nn.Linear(2H, C) for the head, H units for the rest.
                let bound = if name.starts_with("head") {
                    1.0 / 128f64.sqrt()
                } else {
                    1.0 / 8.0
                };
                let max = t.abs().max().double_value(&[]);
                assert!(max <= bound + 1e-7, "{name}: max |w| = {max}");
                // Other tests share tch's global generator, so the draws are not fixed: only
                // tensors large enough that max |w| <= 0.9 bound has odds 0.9^n (< 1e-9) are
                // checked for filling the range.
                if t.numel() >= 200 {
                    assert!(
                        max > 0.9 * bound,
                        "{name} looks not uniform(-1/sqrt(H), 1/sqrt(H))"
                    );
                }
            }
        }
    }

    #[test]
    fn forward_shapes() {
        for cell in Cell::ALL {
            for (layers, bidirectional) in [(1, false), (2, true)] {
                let a = arch(cell, 16, layers, bidirectional);
                let vs = nn::VarStore::new(Device::Cpu);
                let m = SeqClassifier::new(&vs.root(), &a);
                let x = Tensor::zeros([5, 28, 28], (Kind::Float, Device::Cpu));
                let s = m.sequence(&x, &full_lengths(5, 28, Device::Cpu), false);
                assert_eq!(s.last.size(), vec![5, a.width()]);
                assert_eq!(s.outputs().size(), vec![5, 28, a.width()]);
                assert_eq!(s.layers.len() as i64, layers);
                assert_eq!(s.cell_state.is_some(), cell == Cell::Lstm);
                let logits = m.forward(&x, &full_lengths(5, 28, Device::Cpu), true);
                assert_eq!(logits.size(), vec![5, 10]);
            }
        }
    }

    #[test]
    fn the_default_reads_the_last_hidden_state_of_at_lstm() {
        // The one-layer LSTM's head input is h_T of one multi-step at::lstm call, as before
        // cells and lengths existed (up to rounding: on the CPU rowseq runs its own kernel).
        tch::manual_seed(3);
        let vs = nn::VarStore::new(Device::Cpu);
        let m = SeqClassifier::new(&vs.root(), &Arch::lstm(28, 12, 10));
        let x = Tensor::rand([4, 28, 28], (Kind::Float, Device::Cpu));
        let v = vs.variables();
        let w: Vec<&Tensor> = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
            .iter()
            .map(|n| &v[&format!("lstm.{n}")])
            .collect();
        let z = Tensor::zeros([1, 4, 12], (Kind::Float, Device::Cpu));
        let (_, h, _) = x.lstm(&[&z, &z], &w, true, 1, 0.0, true, false, true);
        let s = m.sequence(&x, &full_lengths(4, 28, Device::Cpu), false);
        assert!(s.last.allclose(&h.get(0), 1e-5, 1e-6, false));
    }

    #[test]
    fn reversal_within_lengths_keeps_the_padding_at_the_end() {
        let lengths = Tensor::from_slice(&[3i64, 5, 1]).view([3, 1]);
        let r = reverse_within_lengths(&lengths, 5);
        let rows: Vec<Vec<i64>> = (0..3)
            .map(|i| Vec::<i64>::try_from(&r.get(i)).unwrap())
            .collect();
        assert_eq!(
            rows,
            vec![
                vec![2, 1, 0, 3, 4],
                vec![4, 3, 2, 1, 0],
                vec![0, 1, 2, 3, 4]
            ]
        );
    }

    /// Logits and weight gradients of `m` on `x` with `lengths`, for a fixed loss.
    fn logits_and_grads(
        vs: &nn::VarStore,
        m: &SeqClassifier,
        x: &Tensor,
        lengths: &Tensor,
        y: &Tensor,
    ) -> (Tensor, Vec<(String, Tensor)>) {
        for (_, v) in vs.variables() {
            let mut g = v.grad();
            if g.defined() {
                let _ = g.zero_();
            }
        }
        let logits = m.forward(x, lengths, false);
        logits
            .cross_entropy_loss::<Tensor>(y, None, tch::Reduction::Sum, -100, 0.0)
            .backward();
        // The trained variables (not batch normalisation's running statistics).
        let mut grads: Vec<(String, Tensor)> = vs
            .variables()
            .into_iter()
            .filter(|(_, v)| v.requires_grad())
            .map(|(n, v)| (n, v.grad().copy()))
            .collect();
        grads.sort_by(|a, b| a.0.cmp(&b.0));
        (logits.detach(), grads)
    }

    fn assert_close(a: &Tensor, b: &Tensor, what: &str) {
        let diff = (a - b).abs().max().double_value(&[]);
        assert!(diff < 1e-10, "{what}: max |difference| = {diff}");
    }

    #[test]
    fn padding_never_changes_results() {
        // In double precision, so that any leak of padding into the results shows far above
        // rounding noise.
        let lengths = [7i64, 3, 1, 5];
        let (t, f, n) = (7, 6, lengths.len() as i64);
        // Every cell and direction with the plain readout; the LSTM also mean-pooled, with a
        // convolutional branch, and with both.
        let mut models: Vec<(Cell, bool, Pooling, i64)> = Cell::ALL
            .iter()
            .flat_map(|&c| [(c, false, Pooling::Last, 0), (c, true, Pooling::Last, 0)])
            .collect();
        models.extend([
            (Cell::Lstm, false, Pooling::Mean, 0),
            (Cell::Lstm, false, Pooling::Last, 3),
            (Cell::Lstm, true, Pooling::Mean, 2),
        ]);
        for (cell, bidirectional, pooling, conv) in models {
            {
                tch::manual_seed(11);
                let a = Arch {
                    cell,
                    layers: 2,
                    bidirectional,
                    pooling,
                    conv,
                    ..Arch::lstm(f, 5, 4)
                };
                let mut vs = nn::VarStore::new(Device::Cpu);
                let m = SeqClassifier::new(&vs.root(), &a);
                vs.double();
                // Batch norm shifted up, so that no ReLU of the branch is off for every input
                // (each gradient below must be non-zero, whatever the draws).
                tch::no_grad(|| {
                    for (name, mut v) in vs.variables() {
                        if name.starts_with("conv.bn") && name.ends_with(".bias") {
                            let _ = v.fill_(1.0);
                        }
                    }
                });
                let what = a.describe();
                let x = Tensor::randn([n, t, f], (Kind::Double, Device::Cpu));
                let mask = Tensor::arange(t, (Kind::Int64, Device::Cpu))
                    .view([1, t, 1])
                    .lt_tensor(&Tensor::from_slice(&lengths).view([n, 1, 1]));
                let zero_padded = &x * mask.to_kind(Kind::Double);
                let garbage = zero_padded.where_self(&mask, &(x.abs() * 50.0 + 3.0));
                let y = Tensor::from_slice(&[0i64, 1, 2, 3]);
                let lens = Tensor::from_slice(&lengths);
                let (batch, batch_grads) = logits_and_grads(&vs, &m, &zero_padded, &lens, &y);
                let (noisy, noisy_grads) = logits_and_grads(&vs, &m, &garbage, &lens, &y);
                assert_close(&batch, &noisy, &format!("{what}: logits with garbage"));
                // Each sequence alone, at its own length, without padding.
                let mut alone_grads: Vec<Tensor> =
                    batch_grads.iter().map(|(_, g)| g.zeros_like()).collect();
                for (i, &len) in lengths.iter().enumerate() {
                    let xi = x.narrow(0, i as i64, 1).narrow(1, 0, len);
                    let (logits, grads) = logits_and_grads(
                        &vs,
                        &m,
                        &xi,
                        &Tensor::from_slice(&[len]),
                        &y.narrow(0, i as i64, 1),
                    );
                    assert_close(
                        &logits,
                        &batch.narrow(0, i as i64, 1),
                        &format!("{what}: logits of sequence {i} alone"),
                    );
                    for (sum, (_, g)) in alone_grads.iter_mut().zip(&grads) {
                        *sum += g;
                    }
                }
                for (((name, g), (_, noisy)), alone) in
                    batch_grads.iter().zip(&noisy_grads).zip(&alone_grads)
                {
                    assert!(g.abs().sum(Kind::Double).double_value(&[]) > 0.0, "{name}");
                    assert_close(g, noisy, &format!("{what}: {name} gradient with garbage"));
                    assert_close(g, alone, &format!("{what}: {name} gradient, one by one"));
                }
            }
        }
    }

    #[test]
    fn matches_pytorch_packed_sequences() {
        // scripts/pytorch_fixtures.py: PyTorch's nn.LSTM / nn.GRU / nn.RNN, two layers, one
        // or two directions, on padded sequences of unequal lengths through
        // pack_padded_sequence, with an nn.Linear head on the final states.
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pytorch_rnns.safetensors");
        let fixture: HashMap<String, Tensor> = Tensor::read_safetensors(&path)
            .unwrap()
            .into_iter()
            .collect();
        for cell in Cell::ALL {
            for bidirectional in [false, true] {
                let prefix = format!("{cell}_{}/", if bidirectional { "bi" } else { "uni" });
                let a = Arch {
                    cell,
                    layers: 2,
                    bidirectional,
                    ..Arch::lstm(6, 5, 4)
                };
                let vs = nn::VarStore::new(Device::Cpu);
                let m = SeqClassifier::new(&vs.root(), &a);
                tch::no_grad(|| {
                    for (name, mut var) in vs.variables() {
                        var.copy_(&fixture[&format!("{prefix}{name}")]);
                    }
                });
                let get = |k: &str| &fixture[&format!("{prefix}{k}")];
                let logits = tch::no_grad(|| m.forward(get("x"), get("lengths"), false));
                let diff = (&logits - get("logits")).abs().max().double_value(&[]);
                assert!(diff < 1e-5, "{prefix}: max |rowseq - PyTorch| = {diff}");
            }
        }
    }

    #[test]
    fn padding_test_would_see_a_model_reading_h_t() {
        // The check above can fail: reading the state after all T steps (what the model did
        // before lengths existed) changes with the padding.
        tch::manual_seed(5);
        let vs = nn::VarStore::new(Device::Cpu);
        let m = SeqClassifier::new(&vs.root(), &Arch::lstm(3, 4, 2));
        let x = Tensor::randn([1, 6, 3], (Kind::Float, Device::Cpu));
        let padded = Tensor::cat(
            &[
                x.narrow(1, 0, 4),
                Tensor::ones([1, 2, 3], (Kind::Float, Device::Cpu)),
            ],
            1,
        );
        let four = Tensor::from_slice(&[4i64]);
        let h_t = |x: &Tensor| {
            let t = x.size()[1];
            m.sequence(x, &full_lengths(1, t, Device::Cpu), false).last
        };
        assert!(!h_t(&padded).allclose(&h_t(&x.narrow(1, 0, 4)), 1e-5, 1e-5, false));
        assert!(m.sequence(&padded, &four, false).last.allclose(
            &h_t(&x.narrow(1, 0, 4)),
            1e-6,
            1e-6,
            false
        ));
    }

    #[test]
    fn dropout_acts_between_layers_only_in_training() {
        tch::manual_seed(2);
        let a = Arch {
            layers: 2,
            dropout: 0.5,
            ..Arch::lstm(28, 16, 10)
        };
        let vs = nn::VarStore::new(Device::Cpu);
        let m = SeqClassifier::new(&vs.root(), &a);
        let x = Tensor::rand([8, 28, 28], (Kind::Float, Device::Cpu));
        let lens = full_lengths(8, 28, Device::Cpu);
        let eval = m.forward(&x, &lens, false);
        assert!(
            eval.equal(&m.forward(&x, &lens, false)),
            "eval is deterministic"
        );
        let train = m.forward(&x, &lens, true);
        assert!(
            !train.allclose(&eval, 1e-4, 1e-4, false),
            "no dropout in training"
        );
        assert!(!train.allclose(&m.forward(&x, &lens, true), 1e-4, 1e-4, false));
        // Without dropout, training and evaluation compute the same thing.
        let vs = nn::VarStore::new(Device::Cpu);
        let m = SeqClassifier::new(&vs.root(), &Arch { dropout: 0.0, ..a });
        assert!(m
            .forward(&x, &lens, true)
            .equal(&m.forward(&x, &lens, false)));
    }
}
