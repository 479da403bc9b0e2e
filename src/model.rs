/*!
The sequence classifier: an LSTM over the T timesteps, and a linear head on the last hidden
state h_T that gives one logit per class.

Initialised like PyTorch, so results compare with PyTorch code: every LSTM weight and bias
U(-1/sqrt(H), 1/sqrt(H)) (tch's defaults are Kaiming-uniform weights and zero biases), and
the head like `nn.Linear`, weight and bias U(-1/sqrt(H), 1/sqrt(H)).
*/
use tch::nn::{self, Module, RNN};
use tch::Tensor;

/// LSTM + dense head. `forward` maps [B, T, F] to [B, classes].
#[derive(Debug)]
pub struct SeqClassifier {
    lstm: nn::LSTM,
    head: nn::Linear,
    pub hidden: i64,
}

impl SeqClassifier {
    /// Creates the variables under `vs` (`lstm.*`, `head.*`), initialised from tch's RNG.
    pub fn new(vs: &nn::Path, input: i64, hidden: i64, classes: i64) -> Self {
        let k = 1.0 / (hidden as f64).sqrt();
        let u = nn::Init::Uniform { lo: -k, up: k };
        let rnn = nn::RNNConfig {
            batch_first: true,
            w_ih_init: u,
            w_hh_init: u,
            b_ih_init: Some(u),
            b_hh_init: Some(u),
            ..Default::default()
        };
        let lstm = nn::lstm(vs / "lstm", input, hidden, rnn);
        let lin = nn::LinearConfig {
            ws_init: u,
            bs_init: Some(u),
            bias: true,
        };
        let head = nn::linear(vs / "head", hidden, classes, lin);
        SeqClassifier { lstm, head, hidden }
    }

    /// Runs the LSTM over all T steps: the outputs h_1..h_T [B, T, H], and the final hidden
    /// and cell states h_T, c_T [B, H].
    pub fn sequence(&self, x: &Tensor) -> (Tensor, Tensor, Tensor) {
        let (outputs, nn::LSTMState((h, c))) = self.lstm.seq(x);
        (outputs, h.get(-1), c.get(-1))
    }

    /// The last hidden state h_T, [B, H].
    pub fn last_hidden(&self, x: &Tensor) -> Tensor {
        self.sequence(x).1
    }

    /// Class logits, [B, classes].
    pub fn forward(&self, x: &Tensor) -> Tensor {
        self.logits(&self.last_hidden(x))
    }

    /// Class logits from last hidden states h_T, [B, H] -> [B, classes].
    pub fn logits(&self, h: &Tensor) -> Tensor {
        self.head.forward(h)
    }
}

/// Parameters of a one-layer LSTM with input I, H units and a dense head to C classes, in
/// the PyTorch/tch convention (two bias vectors per gate block): 4H(I+H) + 8H + CH + C.
pub fn param_count(input: i64, hidden: i64, classes: i64) -> i64 {
    4 * hidden * (input + hidden) + 8 * hidden + classes * hidden + classes
}

/// The same network's parameters in the Keras convention, one bias vector per gate block:
/// 4H(I+H) + 4H + CH + C, that is 4H fewer than `param_count`.
pub fn keras_param_count(input: i64, hidden: i64, classes: i64) -> i64 {
    4 * hidden * (input + hidden) + 4 * hidden + classes * hidden + classes
}

/// The number of scalars actually held by a VarStore.
pub fn counted_params(vs: &nn::VarStore) -> i64 {
    vs.trainable_variables()
        .iter()
        .map(|t| t.numel() as i64)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn param_count_matches_the_varstore_for_several_widths() {
        for h in [1, 8, 16, 64, 128, 256, 300] {
            let vs = nn::VarStore::new(tch::Device::Cpu);
            let _m = SeqClassifier::new(&vs.root(), 28, h, 10);
            assert_eq!(counted_params(&vs), param_count(28, h, 10), "H = {h}");
        }
        // The number usually quoted for 128 units on row-wise MNIST.
        assert_eq!(param_count(28, 128, 10), 82_186);
    }

    #[test]
    fn keras_counts_one_bias_vector_per_gate_block() {
        for h in [8, 128, 256] {
            assert_eq!(param_count(28, h, 10) - keras_param_count(28, h, 10), 4 * h);
        }
        // model.summary() of Keras' LSTM(128) on (28, 28) + Dense(10).
        assert_eq!(keras_param_count(28, 128, 10), 81_674);
    }

    #[test]
    fn init_is_pytorch_uniform() {
        tch::manual_seed(0);
        let vs = nn::VarStore::new(tch::Device::Cpu);
        let _m = SeqClassifier::new(&vs.root(), 28, 64, 10);
        let bound = 1.0 / 8.0;
        for (name, t) in vs.variables() {
            let max = t.abs().max().double_value(&[]);
            assert!(max <= bound + 1e-7, "{name}: max |w| = {max}");
            assert!(
                max > 0.9 * bound,
                "{name} looks not uniform(-1/sqrt(H), 1/sqrt(H))"
            );
        }
    }

    #[test]
    fn forward_shapes() {
        let vs = nn::VarStore::new(tch::Device::Cpu);
        let m = SeqClassifier::new(&vs.root(), 28, 16, 10);
        let x = Tensor::zeros([5, 28, 28], (tch::Kind::Float, tch::Device::Cpu));
        assert_eq!(m.last_hidden(&x).size(), vec![5, 16]);
        assert_eq!(m.forward(&x).size(), vec![5, 10]);
    }
}
