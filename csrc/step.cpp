// rowseq's fused training pass on the CPU for its most common model: one LSTM layer, one
// direction, a dense head on the output at each sequence's last real step (`model.rs`), and
// cross-entropy on class indices or the mean squared error on numeric targets
// (`train::loss_of`). Forward, loss and backward in one call, writing every parameter's
// gradient: the same operations on the same tensors as the autograd path (the LSTM's passes
// are lstm.cpp's own, `lstm_train.h`), so the same values, without autograd's graph, without a
// call from Rust for each operation, and (where every sequence has all T steps) without the
// [B, T, H] gradient that gather's backward fills for one step of each sequence.
// `train::fused` calls it and holds it equal to the autograd path in its tests.
#include <ATen/ATen.h>
#include <ATen/core/LegacyTypeDispatch.h>

#include <cstring>

#include "ffi_error.h"
#include "lstm_train.h"

namespace {

// What the head reads, [B, H] contiguous: y at each sequence's last real step,
// last[b] = y[b, lengths[b] - 1], as `model.rs` gathers it. y is [B, T, H] with time-major
// storage (lstm_train.h).
at::Tensor last_outputs(const at::Tensor &y, const int64_t *lengths) {
  const int64_t batch = y.size(0), hidden = y.size(2);
  at::Tensor last = at::empty({batch, hidden}, y.options());
  const float *yp = y.transpose(0, 1).data_ptr<float>();
  float *lp = last.data_ptr<float>();
  for (int64_t b = 0; b < batch; ++b)
    std::memcpy(lp + b * hidden, yp + ((lengths[b] - 1) * batch + b) * hidden,
                hidden * sizeof(float));
  return last;
}

// The gradient reaching y from the head, d_last [B, H] at each sequence's last real step:
// where every sequence has all T steps, d_last at the last step alone; else all T steps,
// zeros but there, as gather's backward makes it (there it is 0 + d_last, which differs from
// d_last at most in the sign of a zero).
rowseq_lstm_train::OutputGrad output_grad(const at::Tensor &d_last, const int64_t *lengths,
                                          int64_t steps) {
  const int64_t batch = d_last.size(0), hidden = d_last.size(1);
  rowseq_lstm_train::OutputGrad dy;
  bool full = true;
  for (int64_t b = 0; b < batch; ++b) full = full && lengths[b] == steps;
  if (full) {
    dy.last = d_last;
    return dy;
  }
  dy.steps = at::zeros({steps, batch, hidden}, d_last.options());
  float *sp = dy.steps.data_ptr<float>();
  const float *dp = d_last.data_ptr<float>();
  for (int64_t b = 0; b < batch; ++b)
    std::memcpy(sp + ((lengths[b] - 1) * batch + b) * hidden, dp + b * hidden,
                hidden * sizeof(float));
  return dy;
}

// Overwrites p's gradient with `value`: where autograd adds it to the gradient that
// `zero_grad` zeroed (the same values, up to the sign of a zero).
void write_grad(const at::Tensor &p, const at::Tensor &value, const char *name) {
  at::Tensor grad = p.grad();
  TORCH_CHECK(grad.defined() && grad.sizes() == value.sizes(),
              "fused step: the gradient of ", name, " is missing or not of its shape");
  grad.copy_(value);
}

}  // namespace

// x [B, T, I] float32 (CPU), lengths [B] int64 (each in 1..=T), y [B] int64 class indices or
// [B, K] float32 targets; the LSTM's four weights and the head's (head_w [C, H], head_b [C]),
// each with a gradient of its shape, which this overwrites. Writes new tensors logits [B, C]
// and loss (0-d). Returns 0, or 1 with a message in err.
extern "C" int rowseq_lstm_step(const at::Tensor *x, const at::Tensor *lengths,
                                const at::Tensor *y, const at::Tensor *w_ih,
                                const at::Tensor *w_hh, const at::Tensor *b_ih,
                                const at::Tensor *b_hh, const at::Tensor *head_w,
                                const at::Tensor *head_b, at::Tensor **logits_out,
                                at::Tensor **loss_out, char *err, size_t err_len) {
  try {
    // Below autograd: no graph is recorded, and each operation skips autograd's dispatch.
    at::AutoDispatchBelowADInplaceOrView below_autograd;
    TORCH_CHECK(x->dim() == 3 && x->scalar_type() == at::kFloat && x->device().is_cpu(),
                "fused step: expected x [B, T, I] float32 on the CPU, got ", x->sizes());
    TORCH_CHECK(w_hh->dim() == 2, "fused step: expected w_hh [4H, H], got ", w_hh->sizes());
    const int64_t batch = x->size(0), steps = x->size(1), hidden = w_hh->size(1);
    TORCH_CHECK(lengths->dim() == 1 && lengths->size(0) == batch &&
                    lengths->scalar_type() == at::kLong && lengths->device().is_cpu(),
                "fused step: expected lengths [", batch, "] int64, got ", lengths->sizes());
    TORCH_CHECK(head_w->dim() == 2 && head_w->size(1) == hidden && head_b->dim() == 1 &&
                    head_b->size(0) == head_w->size(0),
                "fused step: expected the head [C, ", hidden, "] and [C], got ", head_w->sizes(),
                " and ", head_b->sizes());
    const bool classes = y->scalar_type() == at::kLong;
    TORCH_CHECK(classes ? y->dim() == 1 && y->size(0) == batch
                        : y->dim() == 2 && y->size(0) == batch &&
                              y->size(1) == head_w->size(0) && y->scalar_type() == at::kFloat,
                "fused step: expected y [", batch, "] int64 or [", batch, ", ", head_w->size(0),
                "] float32, got ", y->sizes());
    at::Tensor lengths_c = lengths->contiguous();
    const int64_t *len = lengths_c.data_ptr<int64_t>();
    for (int64_t b = 0; b < batch; ++b)
      TORCH_CHECK(len[b] >= 1 && len[b] <= steps, "fused step: sequence length ", len[b],
                  " outside 1..=", steps);

    // Forward: the LSTM (checks the weights' shapes), the last real steps, the head, the loss.
    rowseq_lstm_train::Forward lstm =
        rowseq_lstm_train::train_forward(*x, *w_ih, *w_hh, *b_ih, *b_hh);
    at::Tensor last = last_outputs(lstm.y, len);
    at::Tensor logits = at::linear(last, *head_w, *head_b);  // at::addmm(b, last, W^T)
    at::Tensor loss, d_logits;
    if (classes) {
      // tch's cross_entropy_for_logits: log_softmax (as float32), then nll_loss (mean).
      at::Tensor lsm = at::log_softmax(logits, -1, at::kFloat);
      auto [out, total_weight] = at::nll_loss_forward(lsm, *y, {}, at::Reduction::Mean, -100);
      loss = out;
      at::Tensor one = at::ones_like(loss, at::MemoryFormat::Contiguous);
      at::Tensor d_lsm = at::nll_loss_backward(one, lsm, *y, {}, at::Reduction::Mean, -100,
                                               total_weight);
      d_logits = at::_log_softmax_backward_data(d_lsm, lsm, -1, at::kFloat);
    } else {
      loss = at::mse_loss(logits, *y, at::Reduction::Mean);
      at::Tensor one = at::ones_like(loss, at::MemoryFormat::Contiguous);
      d_logits = at::mse_loss_backward(one, logits, *y, at::Reduction::Mean);
    }

    // Backward through addmm(b, last, W^T) as autograd's formulas take it (mm_mat1_backward,
    // mm_mat2_backward, and sum_to for the broadcast bias), with the same layouts.
    const at::Tensor mat2 = head_w->t();
    const at::Tensor d_head_b = d_logits.sum({0}, /*keepdim=*/true).view({head_b->size(0)});
    const bool last_column_major = last.stride(0) == 1 && last.stride(1) == last.size(0);
    const at::Tensor d_last =
        last_column_major ? mat2.mm(d_logits.t()).t() : d_logits.mm(mat2.t());
    const bool w_column_major = mat2.stride(0) == 1 && mat2.stride(1) == mat2.size(0);
    const at::Tensor d_head_w =
        (w_column_major ? d_logits.t().mm(last).t() : last.t().mm(d_logits)).t();
    const rowseq_lstm_train::OutputGrad dy = output_grad(d_last.contiguous(), len, steps);
    const rowseq_lstm_train::Gradients g =
        rowseq_lstm_train::train_backward(lstm.saved, *w_ih, *w_hh, dy, at::Tensor(), false);

    const int64_t input = w_ih->size(1);
    write_grad(*w_ih, g.dw.narrow(1, 0, input), "the LSTM's w_ih");
    write_grad(*w_hh, g.dw.narrow(1, input, hidden), "the LSTM's w_hh");
    write_grad(*b_ih, g.db, "the LSTM's b_ih");
    write_grad(*b_hh, g.db, "the LSTM's b_hh");
    write_grad(*head_w, d_head_w, "the head's weight");
    write_grad(*head_b, d_head_b, "the head's bias");
    *logits_out = new at::Tensor(logits);
    *loss_out = new at::Tensor(loss);
    return 0;
  }
  ROWSEQ_CATCH_ALL(err, err_len)
}
