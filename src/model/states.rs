/*!
One sequence followed step by step through a model, for `explain --hidden`: the last recurrent
layer's h_t, its c_t for an LSTM, and the model's prediction after each step.

- h_t are the outputs of the model's own forward pass (`SeqClassifier::sequence`), nothing
  recomputed;
- c_t (LSTM only; the forward pass keeps only the final c) comes from libtorch's LSTM cell fed
  the same layer input and the model's own h_{t-1}, step by step: c_t = f c_{t-1} + i g;
- the prediction after step t is the model's output for the sequence cut after step t (the
  same sequence given length t): for a one-direction stack read at its last state, that is the
  head applied to h_t; for a bidirectional stack, mean pooling or a convolutional branch it is
  what the model would say had the sequence ended there. The last step's is the model's
  prediction for the whole sequence.
*/
use tch::nn::Module;
use tch::{Kind, Tensor};

use super::network::{Direction, SeqClassifier};
use crate::config::Cell;

/// How many cut sequences one forward call reads (bounds memory on long series).
const CUTS_PER_CALL: i64 = 32;

/// One sequence's states over its T real steps, in time order.
pub struct States {
    /// [T, D·H]: the last layer's h_t, the forward direction's H units first.
    pub h: Tensor,
    /// LSTM only: [T, D·H], the last layer's c_t in the same order.
    pub c: Option<Tensor>,
    /// [T, C]: the model's outputs (logits, or values) for the sequence cut after each step.
    pub outputs: Tensor,
}

impl SeqClassifier {
    /// The states of one sequence `x` [T, F] (every step real), in evaluation mode.
    pub fn states(&self, x: &Tensor) -> States {
        tch::no_grad(|| {
            let t = x.size()[0];
            let one = x.unsqueeze(0);
            let seq = self.sequence(&one, &Tensor::from_slice(&[t]), false);
            let h = seq.outputs().get(0);
            let c = (self.arch.cell == Cell::Lstm).then(|| {
                let below = match seq.layers.len() {
                    1 => x.shallow_clone(),
                    n => seq.layers[n - 2].get(0),
                };
                self.cell_states(&below, &h)
            });
            States {
                h,
                c,
                outputs: self.outputs_after_each_step(x),
            }
        })
    }

    /// [T, C]: the outputs for `x` [T, F] cut after step 1, 2, ..., T (padding never changes
    /// a result, so the cuts are the same sequence given lengths 1..=T).
    fn outputs_after_each_step(&self, x: &Tensor) -> Tensor {
        let (t, f) = (x.size()[0], x.size()[1]);
        let mut chunks = Vec::new();
        let mut first = 1;
        while first <= t {
            let last = (first + CUTS_PER_CALL - 1).min(t);
            let n = last - first + 1;
            let batch = x
                .narrow(0, 0, last)
                .unsqueeze(0)
                .expand([n, last, f], false);
            let lengths = Tensor::arange_start(first, last + 1, (Kind::Int64, x.device()));
            let seq = self.sequence(&batch.contiguous(), &lengths, false);
            chunks.push(self.logits(&seq.readout));
            first = last + 1;
        }
        let logits = Tensor::cat(&chunks, 0);
        match &self.highway {
            // The highway reads the whole window, whatever the cut: its term is the full
            // sequence's at every step.
            Some(highway) => logits + highway.forward(&x.reshape([1, -1])),
            None => logits,
        }
    }

    /// [T, D·H]: the last layer's c_t, from its input `below` [T, I] and its outputs `h`
    /// [T, D·H] (the backward direction reads time reversed).
    fn cell_states(&self, below: &Tensor, h: &Tensor) -> Tensor {
        let layer = self.layers.last().expect("at least one layer");
        let units = self.arch.hidden;
        let forward = cells_along(&layer.forward, below, &h.narrow(1, 0, units));
        match &layer.backward {
            None => forward,
            Some(backward) => {
                let back_h = h.narrow(1, units, units).flip([0]);
                let back = cells_along(backward, &below.flip([0]), &back_h).flip([0]);
                Tensor::cat(&[forward, back], 1)
            }
        }
    }
}

/// [T, H]: c_t of one LSTM direction over `input` [T, I] whose outputs were `h` [T, H]: each
/// step is libtorch's LSTM cell from (h_{t-1}, c_{t-1}), zero before the first.
fn cells_along(d: &Direction, input: &Tensor, h: &Tensor) -> Tensor {
    let (t, units) = (input.size()[0], h.size()[1]);
    let w = &d.weights;
    let mut state = (
        Tensor::zeros([1, units], (h.kind(), h.device())),
        Tensor::zeros([1, units], (h.kind(), h.device())),
    );
    let mut cells = Vec::with_capacity(t as usize);
    for step in 0..t {
        let (_, c) = input.narrow(0, step, 1).lstm_cell(
            &[&state.0, &state.1],
            &w[0],
            &w[1],
            Some(&w[2]),
            Some(&w[3]),
        );
        state = (h.narrow(0, step, 1), c.shallow_clone());
        cells.push(c);
    }
    Tensor::cat(&cells, 0)
}

#[cfg(test)]
mod tests {
    use super::super::arch::Arch;
    use super::*;
    use crate::config::Pooling;
    use tch::{nn, Device};

    /// h_t and c_t of one direction by the LSTM equations written out (PyTorch's gate order
    /// i, f, g, o), in double precision: an independent forward pass.
    fn by_hand(w: &[Tensor], x: &Tensor) -> (Tensor, Tensor) {
        let units = w[1].size()[1];
        let mut h = Tensor::zeros([units], (Kind::Double, Device::Cpu));
        let mut c = h.zeros_like();
        let (mut hs, mut cs) = (Vec::new(), Vec::new());
        for step in 0..x.size()[0] {
            let gates = w[0].mv(&x.get(step)) + &w[2] + w[1].mv(&h) + &w[3];
            let g = gates.chunk(4, 0);
            c = g[1].sigmoid() * &c + g[0].sigmoid() * g[2].tanh();
            h = g[3].sigmoid() * c.tanh();
            hs.push(h.shallow_clone());
            cs.push(c.shallow_clone());
        }
        (Tensor::stack(&hs, 0), Tensor::stack(&cs, 0))
    }

    fn max_diff(a: &Tensor, b: &Tensor) -> f64 {
        (a.to_kind(Kind::Double) - b.to_kind(Kind::Double))
            .abs()
            .max()
            .double_value(&[])
    }

    #[test]
    fn states_are_the_models_own_and_the_last_prediction_is_its_prediction() {
        tch::manual_seed(7);
        let (f, units, t) = (5, 6, 9);
        for (layers, bidirectional, pooling) in [
            (1, false, Pooling::Last),
            (2, false, Pooling::Last),
            (2, true, Pooling::Last),
            (1, false, Pooling::Mean),
        ] {
            let a = Arch {
                layers,
                bidirectional,
                pooling,
                ..Arch::lstm(f, units, 3)
            };
            let vs = nn::VarStore::new(Device::Cpu);
            let m = SeqClassifier::new(&vs.root(), &a);
            let x = Tensor::randn([t, f], (Kind::Float, Device::Cpu));
            let s = m.states(&x);
            let what = a.describe();
            assert_eq!(s.h.size(), vec![t, a.width()], "{what}");
            assert_eq!(s.outputs.size(), vec![t, 3], "{what}");
            // The last layer by hand, from the layer below's outputs (or x).
            let below = match layers {
                1 => x.to_kind(Kind::Double),
                _ => {
                    let one = x.unsqueeze(0);
                    let seq = m.sequence(&one, &Tensor::from_slice(&[t]), false);
                    seq.layers[0].get(0).to_kind(Kind::Double)
                }
            };
            let top = m.layers.last().unwrap();
            let w: Vec<Tensor> = top
                .forward
                .weights
                .iter()
                .map(|w| w.to_kind(Kind::Double))
                .collect();
            let (h, c) = by_hand(&w, &below);
            let got_c = s.c.as_ref().unwrap();
            assert!(max_diff(&s.h.narrow(1, 0, units), &h) < 1e-5, "{what}: h");
            assert!(max_diff(&got_c.narrow(1, 0, units), &c) < 1e-5, "{what}: c");
            if let Some(back) = &top.backward {
                let w: Vec<Tensor> = back
                    .weights
                    .iter()
                    .map(|w| w.to_kind(Kind::Double))
                    .collect();
                let (h, c) = by_hand(&w, &below.flip([0]));
                assert!(max_diff(&s.h.narrow(1, units, units), &h.flip([0])) < 1e-5);
                assert!(max_diff(&got_c.narrow(1, units, units), &c.flip([0])) < 1e-5);
            }
            // After the last step: the model's own prediction for the whole sequence.
            let full = m.forward(&x.unsqueeze(0), &Tensor::from_slice(&[t]), false);
            assert!(
                max_diff(&s.outputs.get(t - 1), &full.get(0)) < 1e-5,
                "{what}"
            );
            // After step k: the model's prediction for the first k steps alone.
            let k = 4;
            let cut = m.forward(
                &x.narrow(0, 0, k).unsqueeze(0),
                &Tensor::from_slice(&[k]),
                false,
            );
            assert!(
                max_diff(&s.outputs.get(k - 1), &cut.get(0)) < 1e-5,
                "{what}"
            );
            if !bidirectional && pooling == Pooling::Last {
                // The head applied to h_t, at every step.
                let head = m.logits(&s.h);
                assert!(max_diff(&head, &s.outputs) < 1e-5, "{what}: head(h_t)");
            }
        }
    }

    #[test]
    fn other_cells_have_no_cell_state() {
        for cell in [Cell::Gru, Cell::Rnn] {
            let a = Arch {
                cell,
                ..Arch::lstm(3, 4, 2)
            };
            let vs = nn::VarStore::new(Device::Cpu);
            let m = SeqClassifier::new(&vs.root(), &a);
            let s = m.states(&Tensor::randn([70, 3], (Kind::Float, Device::Cpu)));
            assert!(s.c.is_none());
            assert_eq!(s.h.size(), vec![70, 4]);
            // More cuts than one call reads.
            assert_eq!(s.outputs.size(), vec![70, 2]);
        }
    }
}
