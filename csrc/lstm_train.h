// The training passes of rowseq's CPU LSTM (`lstm.cpp`), forward and backward, as plain
// functions: its autograd function wraps them, and so does the fused training step
// (`step.cpp`), which runs them without autograd's graph. The same code either way, so the
// same bits.
#pragma once
#include <ATen/ATen.h>

namespace rowseq_lstm_train {

// What a training forward pass keeps for backward: each step's row block xh [T, B, I+H]
// ([x_t, h_{t-1}]), the gate activations [T, B, 4H], the cell states c [T+1, B, H] (c[0] = 0)
// and tanh(c) [T, B, H].
struct Saved {
  at::Tensor xh, gates, c, tc;
};

// A training forward pass over x [B, T, I] (float32 or float64, CPU) with the four weights of
// `at::lstm`'s one layer: y [B, T, H] (time-major storage: strides H, B·H, 1), c_T [B, H] and
// what backward needs.
struct Forward {
  at::Tensor y, c_last;
  Saved saved;
};
Forward train_forward(const at::Tensor &x, const at::Tensor &w_ih, const at::Tensor &w_hh,
                      const at::Tensor &b_ih, const at::Tensor &b_hh);

// The gradient reaching the outputs y, step by step: step t's block [B, H] is steps[t] when
// `steps` ([T, B, H], contiguous) is defined; else `last` ([B, H], contiguous) at the last
// step when it is defined, and zeros at every other step (a head that read only the last
// step); else zeros throughout.
struct OutputGrad {
  at::Tensor steps, last;
};

// Backward from `dy` and dc_T (the gradient reaching c_T, [B, H]; undefined: zeros): the
// weight gradient dW [4H, I+H] (W = [W_ih W_hh]), the bias gradient db [4H] (the same for
// b_ih and b_hh), and dx [B, T, I] when `input_grad`, else undefined.
struct Gradients {
  at::Tensor dx, dw, db;
};
Gradients train_backward(const Saved &saved, const at::Tensor &w_ih, const at::Tensor &w_hh,
                         const OutputGrad &dy, const at::Tensor &dc_last, bool input_grad);

}  // namespace rowseq_lstm_train
