/*!
The model, in three jobs: what a model is and its arithmetic (`arch`: the architecture,
parameter counts, their formulas, the cost per timestep; no tch), the network that holds and
runs those parameters (`network`: the recurrent stack and the head, in tch; `conv`: the
convolutional branch beside the stack), and the hook that
lets the fused CPU training pass reach them (`fused`). `cpu_lstm` is rowseq's own CPU LSTM
kernel, which the network and the fused pass call; `states` follows one sequence step by
step (h_t, c_t and the prediction after each step) for `explain --hidden`. Everything is
re-exported here, so callers name `model::Arch`, `model::param_count`, `model::SeqClassifier`, ...
*/

mod arch;
mod conv;
mod cpu_lstm;
mod fused;
mod network;
mod states;

pub use arch::{conv_param_count, formula, formula_parts, keras_param_count, param_count, Arch};
#[cfg(test)]
pub use network::full_lengths;
pub use network::{counted_params, SeqClassifier, SATURATED};
