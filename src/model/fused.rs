/*!
The hook of the fused CPU training pass (`train::fused`) into the network: the parameters it
needs, for the one model it can train, a one-layer, one-direction float32 LSTM whose head reads h_T alone,
that rowseq's
CPU LSTM runs (`cpu_lstm::supports`). Every other model trains through autograd.
*/

use tch::{Kind, Tensor};

use super::cpu_lstm;
use super::network::SeqClassifier;
use crate::config::{Cell, Pooling};

impl SeqClassifier {
    /// The parameters of the fused CPU training pass (`train::fused`), when it can run this
    /// model on `x`: one LSTM layer in one direction (so no dropout), float32, where rowseq's
    /// CPU LSTM runs it (`cpu_lstm::supports`). None for every other model, which trains
    /// through autograd.
    pub fn fused_parts(&self, x: &Tensor) -> Option<FusedParts<'_>> {
        let [layer] = self.layers.as_slice() else {
            return None;
        };
        let weights = &layer.forward.weights;
        let fits = self.arch.cell == Cell::Lstm
            && layer.backward.is_none()
            && self.arch.pooling == Pooling::Last
            && self.conv.is_none()
            && x.kind() == Kind::Float
            && cpu_lstm::supports(x, weights);
        if !fits {
            return None;
        }
        Some(FusedParts {
            lstm: weights.as_slice().try_into().ok()?,
            head_w: &self.head.ws,
            head_b: self.head.bs.as_ref()?,
        })
    }
}

/// A one-layer, one-direction LSTM model's parameters: the layer's [w_ih, w_hh, b_ih, b_hh]
/// and the head's weight [C, H] and bias [C].
pub struct FusedParts<'a> {
    pub lstm: &'a [Tensor; 4],
    pub head_w: &'a Tensor,
    pub head_b: &'a Tensor,
}
