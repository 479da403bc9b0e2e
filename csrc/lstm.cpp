// rowseq's own one-layer, one-direction LSTM for the CPU (float32 and float64), forward and
// backward, as a libtorch autograd function: what `model.rs` runs instead of `at::lstm` (oneDNN)
// on the CPU. Its two training passes (`rowseq_lstm_train`, lstm_train.h) serve that function
// and the fused training step (step.cpp) alike. Same maths and gate order as PyTorch (i, f,
// g, o; b_ih + b_hh; zero initial states), laid out for one thread:
//   - step t's input and previous output sit side by side in one row block, xh[t] = [x_t, h_{t-1}]
//     [B, I+H], so its gates are one matmul with [W_ih W_hh] (K = I+H, not a thin K = I matmul
//     over all steps plus a second one);
//   - one fused pass per step adds the biases, applies the gates, updates c and writes h both to
//     the output and into xh[t+1];
//   - backward runs one fused pass per step for the gate gradients dG[t] and one matmul for
//     dh_{t-1}; the weight gradients are then one matmul over all T·B rows, dG^T xh, and the
//     input gradient is computed only when the input needs one.
// Without gradients (evaluation) nothing is kept, and the steps are laid out as PyTorch's CPU
// LSTM lays them out, which is faster there: the input projections of all steps in one matmul
// (K = I), then one K = H matmul per step (`infer`).
// On an AVX-512 CPU at one thread the per-step matmuls run rowseq's own kernel (gemm.cpp),
// elsewhere BLAS's sgemm; so does the all-steps weight gradient, while the evaluation's input
// projection always runs BLAS. `rowseq_set_gemm_choice` (ROWSEQ_KERNEL, `env::Kernel`) can
// force the kernel at any thread count, or BLAS; off x86-64 the kernel does not exist.
// The output y [B, T, H] is stored time-major (strides H, B·H, 1): step t's h is contiguous, and
// a layer above reads it without a copy. The fused passes are in lstm_rows.cpp.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <exception>
#include <limits>
#include <type_traits>
#include <utility>

#include "ffi_error.h"
#include "gemm.h"
#include "lstm_rows.h"
#include "lstm_train.h"

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

}  // namespace

// BLAS's gemm, which libtorch's CPU build exports (MKL's, LP64).
extern "C" {
void sgemm_(const char *transa, const char *transb, const int *m, const int *n, const int *k,
            const float *alpha, const float *a, const int *lda, const float *b, const int *ldb,
            const float *beta, float *c, const int *ldc);
void dgemm_(const char *transa, const char *transb, const int *m, const int *n, const int *k,
            const double *alpha, const double *a, const int *lda, const double *b,
            const int *ldb, const double *beta, double *c, const int *ldc);
}

namespace {

// out [rows, cols] (row-major, contiguous) = lhs [rows, inner] (row-major, row stride
// inner) times W^T, W [cols, inner] row-major (`trans`), or times W, W [inner, cols]
// row-major (`!trans`): the very BLAS call that `at::mm_out(out, lhs, W.t())` or
// `at::mm_out(out, lhs, W)` makes for these layouts (addmm_impl_cpu_ swaps the operands to
// column-major terms, then cpublas::gemm calls sgemm_), without libtorch's dispatch, shape
// checks and tensor views, which cost more than the matmul itself at small widths. The
// same call gives the same bits.
template <typename T>
void matmul(bool trans, int64_t rows, int64_t cols, int64_t inner, const T *lhs, const T *w,
            T *out) {
  TORCH_CHECK(rows > 0 && cols > 0 && inner > 0 &&
                  std::max({rows, cols, inner}) <= std::numeric_limits<int>::max(),
              "LSTM matmul: sizes out of range");
  const int m = static_cast<int>(cols), n = static_cast<int>(rows), k = static_cast<int>(inner);
  // Contiguous operands: the smallest leading dimensions, which libtorch's
  // normalize_last_dims leaves as they are.
  const int lda = trans ? k : m, ldb = k, ldc = m;
  const char ta = trans ? 't' : 'n', tb = 'n';
  const T one = 1, zero = 0;
  if constexpr (std::is_same_v<T, float>)
    sgemm_(&ta, &tb, &m, &n, &k, &one, w, &lda, lhs, &ldb, &zero, out, &ldc);
  else
    dgemm_(&ta, &tb, &m, &n, &k, &one, w, &lda, lhs, &ldb, &zero, out, &ldc);
}

// Whether the per-step matmuls of T run rowseq's own kernel (gemm.h) rather than BLAS:
// float32, one thread (a sweep's default), on an AVX-512 CPU. There it was faster than MKL for
// the forward and the backward products at the shapes of 8 to 256 units, and its sums do not
// depend on the CPU's vendor (MKL picks its kernels by vendor and instruction set). With more
// threads BLAS's threaded sgemm runs them: split over libtorch's thread pool, the kernel was
// slower than MKL's threads. `gemm_choice` can force either. (Measurements:
// paper/perf/README.md.)
enum GemmChoice : int { kAutomatic = 0, kOwnKernel = 1, kBlas = 2 };
std::atomic<int> gemm_choice{kAutomatic};

template <typename T>
bool own_gemm() {
#ifdef ROWSEQ_OWN_GEMM
  if constexpr (std::is_same_v<T, float>) {
    switch (gemm_choice.load(std::memory_order_relaxed)) {
      case kOwnKernel: return true;  // refused where unavailable (rowseq_set_gemm_choice)
      case kBlas: return false;
      default: return rowseq_gemm::available() && at::get_num_threads() == 1;
    }
  }
#endif
  return false;
}

// own_gemm for the element type of `t`.
bool own_gemm_for(const at::Tensor &t) {
  return t.scalar_type() == at::kFloat && own_gemm<float>();
}

#ifdef ROWSEQ_OWN_GEMM
// out [rows, cols] = lhs [rows, inner] (row stride ld) times b [inner, cols] (row-major),
// through rowseq's kernel.
void own_matmul(int64_t rows, int64_t cols, int64_t inner, const float *lhs, int64_t ld,
                const float *b, float *out) {
  rowseq_gemm::gemm(rows, cols, inner, lhs, ld, b, cols, out, cols);
}
#endif

// A per-step product out [rows, cols] = lhs [rows, inner] (contiguous rows) times W^T, W
// [cols, inner] row-major: through rowseq's kernel on `wt`, W's transpose [inner, cols], when
// the caller made one (own_gemm), else BLAS on W.
template <typename T>
void times_wt(int64_t rows, int64_t cols, int64_t inner, const T *lhs, const T *w,
              [[maybe_unused]] const T *wt, T *out) {
#ifdef ROWSEQ_OWN_GEMM
  if constexpr (std::is_same_v<T, float>) {
    if (wt != nullptr) return own_matmul(rows, cols, inner, lhs, inner, wt, out);
  }
#endif
  matmul<T>(true, rows, cols, inner, lhs, w, out);
}

// A per-step product out [rows, cols] = lhs [rows, inner] (contiguous rows) times W, W
// [inner, cols] row-major: rowseq's kernel where own_gemm, else BLAS.
template <typename T>
void times_w(int64_t rows, int64_t cols, int64_t inner, const T *lhs, const T *w, T *out) {
#ifdef ROWSEQ_OWN_GEMM
  if constexpr (std::is_same_v<T, float>) {
    if (own_gemm<T>()) return own_matmul(rows, cols, inner, lhs, inner, w, out);
  }
#endif
  matmul<T>(false, rows, cols, inner, lhs, w, out);
}

// dW [4H, I+H] = dG^T xh, dG [T·B, 4H] and xh [T·B, I+H] contiguous: rowseq's kernel on the
// transposed dG where own_gemm, else BLAS through libtorch: inside a training step, where dG
// comes from the step's memory, MKL's sgemm took about half the step at 128 and 256 units and
// the own kernel much less (paper/perf/README.md). From 128 units and below 256 backward sums
// dW step by step instead (fused_gradients, below).
at::Tensor weight_gradient(const at::Tensor &dg, const at::Tensor &xh) {
#ifdef ROWSEQ_OWN_GEMM
  const int64_t rows = dg.size(1), cols = xh.size(1), inner = dg.size(0);
  if (own_gemm_for(dg)) {
    at::Tensor dw = at::empty({rows, cols}, dg.options());
    rowseq_gemm::gemm_tn(rows, cols, inner, dg.data_ptr<float>(), rows, xh.data_ptr<float>(),
                         cols, dw.data_ptr<float>(), cols);
    return dw;
  }
#endif
  return dg.t().mm(xh);
}

// Whether backward sums the weight gradient dG^T xh and the bias gradient (dG's column sums)
// step by step, each step's share added while dG[t] is still in cache, rather than over all
// T·B rows after the loop: where own_gemm, from 128 units and below 256 (where gemm_tn reads
// dG in place and dW, at most 1,024 x 284 floats, stays in a 1 MB L2 cache beside one step's
// dG). Each element is then one chain over the steps from the last to the first (within a
// step over the batch in order), where weight_gradient's and libtorch's sum run from the
// first: other bits. It saved about a tenth of a 128-unit training step and of the weight
// gradient up to 224 units, and nothing at 256 (whose packed product then copies each step's
// block; left as it was, and its bits with it). Measurements: paper/perf/README.md.
constexpr int64_t kFusedGradientsFrom = 128;
constexpr int64_t kFusedGradientsBelow = 256;
bool fused_gradients(const at::Tensor &gates, int64_t hidden) {
  return own_gemm_for(gates) && hidden >= kFusedGradientsFrom && hidden < kFusedGradientsBelow;
}

// One step of the fused weight gradient: dw [rows, cols] = dg^T xh (when `first`) or dw +
// dg^T xh, the chains resumed, for dg [batch, rows] and xh [batch, cols] contiguous; float32
// only (fused_gradients).
// (Off x86-64 it is never called, and its arguments go unused.)
template <typename T>
void weight_gradient_step([[maybe_unused]] int64_t rows, [[maybe_unused]] int64_t cols,
                          [[maybe_unused]] int64_t batch, [[maybe_unused]] const T *dg,
                          [[maybe_unused]] const T *xh, [[maybe_unused]] T *dw,
                          [[maybe_unused]] bool first) {
#ifdef ROWSEQ_OWN_GEMM
  if constexpr (std::is_same_v<T, float>)
    return rowseq_gemm::gemm_tn(rows, cols, batch, dg, rows, xh, cols, dw, cols, !first);
#endif
  TORCH_CHECK(false, "LSTM backward: the fused weight gradient needs rowseq's own kernel");
}

// sum [cols] = m's column sums (when `first`) or sum plus them, m [rows, cols] contiguous:
// each column one chain of additions over the rows in order.
template <typename T>
void add_column_sums(int64_t rows, int64_t cols, const T *m, T *sum, bool first) {
  if (first) std::fill(sum, sum + cols, T(0));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < cols; ++j) sum[j] += m[r * cols + j];
}

// W^T [inner, cols], contiguous, for times_wt where own_gemm; else undefined.
at::Tensor transposed_for_own_gemm(const at::Tensor &w) {
  return own_gemm_for(w) ? w.t().contiguous() : at::Tensor();
}
template <typename T>
const T *data_or_null(const at::Tensor &t) {
  return t.defined() ? t.data_ptr<T>() : nullptr;
}

// The fused passes (lstm_rows.h) in the build for rows of `hidden` floats: 16-float vectors
// when 16 divides a row, else 8-float ones. Both compute the same values.
template <typename T>
void forward_rows(bool keep, ROWSEQ_FORWARD_ARGS(T)) {
  if (hidden % 16 == 0)
    rowseq_rows_wide::forward_rows(keep, g, bias, bias_ld, c_prev, c, tc, h, h_next, ld, hidden,
                                   b0, b1);
  else
    rowseq_rows_narrow::forward_rows(keep, g, bias, bias_ld, c_prev, c, tc, h, h_next, ld,
                                     hidden, b0, b1);
}
template <typename T>
void backward_rows(ROWSEQ_BACKWARD_ARGS(T)) {
  if (hidden % 16 == 0)
    rowseq_rows_wide::backward_rows(a, c_prev, tc, dh, dy, dc, dg, hidden, b0, b1);
  else
    rowseq_rows_narrow::backward_rows(a, c_prev, tc, dh, dy, dc, dg, hidden, b0, b1);
}

// Rows per parallel chunk: about 16k gate values, so that small steps stay on one thread.
int64_t grain(int64_t hidden) { return std::max<int64_t>(1, 16384 / (4 * hidden)); }

// The kernel indexes raw buffers by these sizes: a wrong one would read past a buffer, so every
// shape and type is checked before anything runs (the Rust side checks them too).
void check_shapes(const at::Tensor &x, const at::Tensor &w_ih, const at::Tensor &w_hh,
                  const at::Tensor &b_ih, const at::Tensor &b_hh) {
  TORCH_CHECK(x.dim() == 3, "LSTM input: expected [B, T, I], got ", x.sizes());
  TORCH_CHECK(w_hh.dim() == 2 && w_hh.size(0) == 4 * w_hh.size(1) && w_hh.size(1) > 0,
              "LSTM w_hh: expected [4H, H], got ", w_hh.sizes());
  const int64_t hidden = w_hh.size(1);
  TORCH_CHECK(w_ih.dim() == 2 && w_ih.size(0) == 4 * hidden && w_ih.size(1) == x.size(2),
              "LSTM w_ih: expected [", 4 * hidden, ", ", x.size(2), "], got ", w_ih.sizes());
  for (const at::Tensor *b : {&b_ih, &b_hh}) {
    TORCH_CHECK(b->dim() == 1 && b->size(0) == 4 * hidden, "LSTM bias: expected [",
                4 * hidden, "], got ", b->sizes());
  }
  for (const at::Tensor *t : {&w_ih, &w_hh, &b_ih, &b_hh}) {
    TORCH_CHECK(t->scalar_type() == x.scalar_type() && t->device() == x.device(),
                "LSTM weights: expected the input's type and device");
  }
}

// Without gradients (evaluation), as PyTorch's CPU LSTM does it: the input projections of all
// steps, with both biases, in one matmul (K = I), then one K = H matmul per step on h_{t-1}
// (none at t = 0, where h = 0). It keeps one step's gates and two cell states. Returns y
// [B, T, H] (time-major storage) and c_T [B, H].
std::pair<at::Tensor, at::Tensor> infer(const at::Tensor &x, const at::Tensor &w_ih,
                                        const at::Tensor &w_hh, const at::Tensor &b_ih,
                                        const at::Tensor &b_hh) {
  const int64_t batch = x.size(0), steps = x.size(1), input = x.size(2);
  const int64_t hidden = w_hh.size(1), gate_width = 4 * hidden;
  auto opts = x.options();
  // The projection's rows follow x's storage: time-major (a layer above reads the time-major
  // y below it without a copy) or batch-major; row (b, t) sits at b * row_b + t * row_t.
  const bool time_major = x.transpose(0, 1).is_contiguous();
  at::Tensor rows = time_major ? x.transpose(0, 1).reshape({steps * batch, input})
                               : x.contiguous().view({batch * steps, input});
  at::Tensor proj = at::addmm(b_ih + b_hh, rows, w_ih.t());  // [T·B or B·T, 4H]
  const int64_t row_b = (time_major ? 1 : steps) * gate_width;
  const int64_t row_t = (time_major ? batch : 1) * gate_width;
  at::Tensor gates = at::zeros({batch, gate_width}, opts);
  at::Tensor y = at::empty_strided({batch, steps, hidden}, {hidden, batch * hidden, 1}, opts);
  at::Tensor yt = y.transpose(0, 1);  // [T, B, H], contiguous
  at::Tensor c = at::empty({2, batch, hidden}, opts);
  c.select(0, 0).zero_();
  at::Tensor w_hh_c = w_hh.contiguous();
  at::Tensor w_hh_t = transposed_for_own_gemm(w_hh_c);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "rowseq_lstm_infer", [&] {
    scalar_t *gp = gates.data_ptr<scalar_t>();
    const scalar_t *pp = proj.data_ptr<scalar_t>();
    scalar_t *c0 = c.data_ptr<scalar_t>(), *c1 = c0 + batch * hidden;
    scalar_t *yp = yt.data_ptr<scalar_t>();
    const scalar_t *w_hh_p = w_hh_c.data_ptr<scalar_t>();
    const scalar_t *w_hh_tp = data_or_null<scalar_t>(w_hh_t);
    for (int64_t t = 0; t < steps; ++t) {
      if (t > 0)
        times_wt<scalar_t>(batch, gate_width, hidden, yp + (t - 1) * batch * hidden, w_hh_p,
                           w_hh_tp, gp);
      const scalar_t *cp = t % 2 ? c1 : c0;
      scalar_t *cn = t % 2 ? c0 : c1;
      scalar_t *hp = yp + t * batch * hidden;
      at::parallel_for(0, batch, grain(hidden), [&](int64_t b0, int64_t b1) {
        forward_rows<scalar_t>(false, gp, pp + t * row_t, row_b, cp, cn, nullptr, hp, nullptr, 0,
                               hidden, b0, b1);
      });
    }
  });
  return {y, c.select(0, steps % 2).clone()};
}

// Evaluation up to this width runs `infer`; wider layers run libtorch's own CPU LSTM
// (`libtorch_infer`, oneDNN), whose JIT-compiled gate pass beats rowseq's there (measured on
// MNIST-sized batches at H = 8, 16 and 32: rowseq's faster at 8 and 16, oneDNN's at 32).
constexpr int64_t kInferMaxHidden = 16;

// Without gradients, through `at::lstm` (oneDNN on the CPU): y [B, T, H] and c_T [B, H].
std::pair<at::Tensor, at::Tensor> libtorch_infer(const at::Tensor &x, const at::Tensor &w_ih,
                                                 const at::Tensor &w_hh, const at::Tensor &b_ih,
                                                 const at::Tensor &b_hh) {
  at::Tensor zeros = at::zeros({1, x.size(0), w_hh.size(1)}, x.options());
  auto [y, h_last, c_last] =
      at::lstm(x, {zeros, zeros}, {w_ih, w_hh, b_ih, b_hh}, true, 1, 0.0, false, false, true);
  return {y, c_last.select(0, 0)};
}

// Without gradients: `infer` up to kInferMaxHidden units, libtorch's LSTM above.
std::pair<at::Tensor, at::Tensor> evaluate(const at::Tensor &x, const at::Tensor &w_ih,
                                           const at::Tensor &w_hh, const at::Tensor &b_ih,
                                           const at::Tensor &b_hh) {
  check_shapes(x, w_ih, w_hh, b_ih, b_hh);
  return w_hh.size(1) <= kInferMaxHidden ? infer(x, w_ih, w_hh, b_ih, b_hh)
                                         : libtorch_infer(x, w_ih, w_hh, b_ih, b_hh);
}

struct Lstm : public torch::autograd::Function<Lstm> {
  // x [B, T, I]; returns y [B, T, H] (time-major storage) and c_T [B, H], and saves what
  // backward needs (without gradients, `rowseq_lstm` runs `evaluate` instead).
  static variable_list forward(AutogradContext *ctx, const at::Tensor &x, const at::Tensor &w_ih,
                               const at::Tensor &w_hh, const at::Tensor &b_ih,
                               const at::Tensor &b_hh) {
    rowseq_lstm_train::Forward f = rowseq_lstm_train::train_forward(x, w_ih, w_hh, b_ih, b_hh);
    ctx->saved_data["xh"] = f.saved.xh;
    ctx->saved_data["gates"] = f.saved.gates;
    ctx->saved_data["c"] = f.saved.c;
    ctx->saved_data["tc"] = f.saved.tc;
    ctx->save_for_backward({w_ih, w_hh});  // inputs: autograd checks they are not changed
    return {f.y, f.c_last};
  }

  static variable_list backward(AutogradContext *ctx, variable_list grads) {
    rowseq_lstm_train::Saved saved{
        ctx->saved_data["xh"].toTensor(), ctx->saved_data["gates"].toTensor(),
        ctx->saved_data["c"].toTensor(), ctx->saved_data["tc"].toTensor()};
    variable_list weights = ctx->get_saved_variables();
    at::Tensor w_ih = weights[0], w_hh = weights[1];
    const int64_t input = w_ih.size(1), hidden = w_hh.size(1);
    rowseq_lstm_train::OutputGrad dy;  // [T, B, H], or zeros when y got no gradient
    if (grads[0].defined()) dy.steps = grads[0].transpose(0, 1).contiguous();
    rowseq_lstm_train::Gradients g = rowseq_lstm_train::train_backward(
        saved, w_ih, w_hh, dy, grads[1], ctx->needs_input_grad(0));
    return {g.dx,
            g.dw.narrow(1, 0, input).contiguous(),
            g.dw.narrow(1, input, hidden).contiguous(),
            g.db,
            g.db.clone()};
  }
};

}  // namespace

namespace rowseq_lstm_train {

Forward train_forward(const at::Tensor &x, const at::Tensor &w_ih, const at::Tensor &w_hh,
                      const at::Tensor &b_ih, const at::Tensor &b_hh) {
  check_shapes(x, w_ih, w_hh, b_ih, b_hh);
  const int64_t batch = x.size(0), steps = x.size(1), input = x.size(2);
  const int64_t hidden = w_hh.size(1), width = input + hidden;
  auto opts = x.options();
  at::Tensor w = at::cat({w_ih, w_hh}, 1);  // [4H, I+H]
  at::Tensor wt = transposed_for_own_gemm(w);
  at::Tensor bias = (b_ih + b_hh).contiguous();
  at::Tensor xh = at::empty({steps, batch, width}, opts);
  xh.narrow(2, 0, input).copy_(x.transpose(0, 1));
  xh.select(0, 0).narrow(1, input, hidden).zero_();
  at::Tensor gates = at::empty({steps, batch, 4 * hidden}, opts);
  at::Tensor y = at::empty_strided({batch, steps, hidden}, {hidden, batch * hidden, 1}, opts);
  at::Tensor yt = y.transpose(0, 1);  // [T, B, H], contiguous
  // Cell states: c[0] = 0, and each step writes the next one.
  at::Tensor c = at::empty({steps + 1, batch, hidden}, opts);
  c.select(0, 0).zero_();
  at::Tensor tc = at::empty({steps, batch, hidden}, opts);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "rowseq_lstm_forward", [&] {
    const int64_t state = batch * hidden, block = batch * width;
    scalar_t *gp = gates.data_ptr<scalar_t>(), *xp = xh.data_ptr<scalar_t>();
    scalar_t *cp = c.data_ptr<scalar_t>(), *tp = tc.data_ptr<scalar_t>();
    scalar_t *yp = yt.data_ptr<scalar_t>();
    const scalar_t *bp = bias.data_ptr<scalar_t>(), *wp = w.data_ptr<scalar_t>();
    const scalar_t *wtp = data_or_null<scalar_t>(wt);
    for (int64_t t = 0; t < steps; ++t) {
      scalar_t *g = gp + t * batch * 4 * hidden, *cn = cp + (t + 1) * state;
      scalar_t *hn = t + 1 < steps ? xp + (t + 1) * block + input : nullptr;
      times_wt<scalar_t>(batch, 4 * hidden, width, xp + t * block, wp, wtp, g);
      at::parallel_for(0, batch, grain(hidden), [&](int64_t b0, int64_t b1) {
        forward_rows<scalar_t>(true, g, bp, 0, cp + t * state, cn, tp + t * state,
                               yp + t * state, hn, width, hidden, b0, b1);
      });
    }
  });
  return {y, c.select(0, steps).clone(), Saved{xh, gates, c, tc}};
}

Gradients train_backward(const Saved &saved, const at::Tensor &w_ih, const at::Tensor &w_hh,
                         const OutputGrad &dy, const at::Tensor &dc_last, bool input_grad) {
  const at::Tensor &xh = saved.xh, &gates = saved.gates, &c = saved.c, &tc = saved.tc;
  const int64_t steps = gates.size(0), batch = gates.size(1), hidden = gates.size(2) / 4;
  const int64_t input = w_ih.size(1), width = input + hidden;
  auto opts = gates.options();
  for (const at::Tensor *d : {&dy.steps, &dy.last}) {
    TORCH_CHECK(!d->defined() || (d->is_contiguous() && d->scalar_type() == gates.scalar_type()),
                "LSTM backward: expected contiguous output gradients of the layer's type");
  }
  TORCH_CHECK(!dy.steps.defined() || dy.steps.sizes() == at::IntArrayRef({steps, batch, hidden}),
              "LSTM backward: expected dy [", steps, ", ", batch, ", ", hidden, "], got ",
              dy.steps.sizes());
  TORCH_CHECK(!dy.last.defined() || dy.last.sizes() == at::IntArrayRef({batch, hidden}),
              "LSTM backward: expected the last step's dy [", batch, ", ", hidden, "], got ",
              dy.last.sizes());
  // One step of zeros for the steps whose outputs got no gradient.
  at::Tensor no_dy = dy.steps.defined() ? at::Tensor() : at::zeros({batch, hidden}, opts);
  at::Tensor dc = dc_last.defined() ? dc_last.clone(at::MemoryFormat::Contiguous)
                                    : at::zeros({batch, hidden}, opts);
  at::Tensor dh = at::zeros({batch, hidden}, opts);
  at::Tensor dgates = at::empty({steps, batch, 4 * hidden}, opts);
  // dW = dG^T xh and db (dG's column sums) summed step by step inside the loop
  // (fused_gradients), else after it.
  const bool fused = fused_gradients(gates, hidden);
  at::Tensor dw = fused ? at::empty({4 * hidden, width}, opts) : at::Tensor();
  at::Tensor db = fused ? at::empty({4 * hidden}, opts) : at::Tensor();
  AT_DISPATCH_FLOATING_TYPES(gates.scalar_type(), "rowseq_lstm_backward", [&] {
    const int64_t state = batch * hidden, block = batch * 4 * hidden;
    scalar_t *dcp = dc.data_ptr<scalar_t>(), *dhp = dh.data_ptr<scalar_t>();
    const scalar_t *ap = gates.data_ptr<scalar_t>(), *cp = c.data_ptr<scalar_t>();
    const scalar_t *tp = tc.data_ptr<scalar_t>();
    // dy of step t: a block of dy.steps, or dy.last at the last step, or a block of zeros.
    const scalar_t *zeros = dy.steps.defined() ? nullptr : no_dy.data_ptr<scalar_t>();
    const scalar_t *all = dy.steps.defined() ? dy.steps.data_ptr<scalar_t>() : nullptr;
    const scalar_t *last = dy.last.defined() ? dy.last.data_ptr<scalar_t>() : nullptr;
    const auto dy_at = [&](int64_t t) {
      return all ? all + t * state : last && t + 1 == steps ? last : zeros;
    };
    scalar_t *dgp = dgates.data_ptr<scalar_t>();
    at::Tensor w_hh_c = w_hh.contiguous();
    const scalar_t *w_hh_p = w_hh_c.data_ptr<scalar_t>();
    const scalar_t *xhp = xh.data_ptr<scalar_t>();
    scalar_t *dwp = fused ? dw.data_ptr<scalar_t>() : nullptr;
    scalar_t *dbp = fused ? db.data_ptr<scalar_t>() : nullptr;
    for (int64_t t = steps - 1; t >= 0; --t) {
      const scalar_t *dyp = dy_at(t);
      at::parallel_for(0, batch, grain(hidden), [&](int64_t b0, int64_t b1) {
        backward_rows<scalar_t>(ap + t * block, cp + t * state, tp + t * state, dhp, dyp, dcp,
                                dgp + t * block, hidden, b0, b1);
      });
      if (t > 0) times_w<scalar_t>(batch, hidden, 4 * hidden, dgp + t * block, w_hh_p, dhp);
      if (fused) {
        const bool first = t + 1 == steps;
        weight_gradient_step<scalar_t>(4 * hidden, width, batch, dgp + t * block,
                                       xhp + t * batch * width, dwp, first);
        add_column_sums<scalar_t>(batch, 4 * hidden, dgp + t * block, dbp, first);
      }
    }
  });
  at::Tensor dflat = dgates.view({steps * batch, 4 * hidden});
  // Step t's gates came from xh[t] = [x_t, h_{t-1}] (h_{-1} = 0): one matmul for both.
  if (!fused) {
    dw = weight_gradient(dflat, xh.view({steps * batch, width}));
    db = dflat.sum(0);
  }
  at::Tensor dx;
  if (input_grad) dx = dflat.mm(w_ih).view({steps, batch, input}).transpose(0, 1);
  return {dx, dw, db};
}

}  // namespace rowseq_lstm_train

// x [B, T, I] (float32 or float64, CPU), the four weights of `at::lstm`'s one layer; writes
// new tensors y [B, T, H] and c_T [B, H]. Returns 0, or 1 with a message in err.
extern "C" int rowseq_lstm(const at::Tensor *x, const at::Tensor *w_ih, const at::Tensor *w_hh,
                           const at::Tensor *b_ih, const at::Tensor *b_hh, at::Tensor **y,
                           at::Tensor **c_last, char *err, size_t err_len) {
  try {
    bool grads = at::GradMode::is_enabled() &&
                 (x->requires_grad() || w_ih->requires_grad() || w_hh->requires_grad() ||
                  b_ih->requires_grad() || b_hh->requires_grad());
    if (!grads) {
      // No autograd node: nothing will go backward through this call.
      auto [out, c] = evaluate(*x, *w_ih, *w_hh, *b_ih, *b_hh);
      *y = new at::Tensor(out);
      *c_last = new at::Tensor(c);
      return 0;
    }
    variable_list out = Lstm::apply(*x, *w_ih, *w_hh, *b_ih, *b_hh);
    *y = new at::Tensor(out[0]);
    *c_last = new at::Tensor(out[1]);
    return 0;
  }
  ROWSEQ_CATCH_ALL(err, err_len)
}

// For the tests and the bench's peak: c = a [m, k] (float32, rows contiguous, any row stride)
// times b [k, n] (float32, contiguous) through rowseq's kernel (gemm.h), or with `transposed`
// c = a^T b for a [k, m] through gemm_tn; in one call when split_row and split_col are 0, else
// in four calls on the blocks of c cut at row split_row and column split_col (the cut must not
// change a bit); with `transposed` and split_k > 0, each block in two calls over k cut at
// split_k, the second resuming the chains (neither cut may change a bit either).
// *c stays null on a CPU the kernel does not run on.
extern "C" int rowseq_own_matmul(const at::Tensor *a, const at::Tensor *b, bool transposed,
                                 int64_t split_row, int64_t split_col, int64_t split_k,
                                 [[maybe_unused]] at::Tensor **c, char *err,
                                 size_t err_len) {
  try {
    const int64_t inner_dim = transposed ? 0 : 1;
    TORCH_CHECK(a->dim() == 2 && b->dim() == 2 && a->size(inner_dim) == b->size(0) &&
                    a->numel() > 0 && b->numel() > 0,
                "own matmul: expected a [m, k] (transposed: [k, m]) and b [k, n], got ",
                a->sizes(), " and ", b->sizes());
    TORCH_CHECK(a->scalar_type() == at::kFloat && b->scalar_type() == at::kFloat &&
                    a->device().is_cpu() && b->device().is_cpu() && a->stride(1) == 1 &&
                    b->is_contiguous(),
                "own matmul: expected float32 CPU tensors, a's rows and b contiguous");
    const int64_t m = a->size(1 - inner_dim), k = a->size(inner_dim), n = b->size(1);
    TORCH_CHECK(split_row >= 0 && split_row < m && split_col >= 0 && split_col < n,
                "own matmul: split out of range");
    TORCH_CHECK(split_k >= 0 && split_k < k && (split_k == 0 || transposed),
                "own matmul: k split out of range or not transposed");
#ifdef ROWSEQ_OWN_GEMM
    if (!rowseq_gemm::available()) return 0;
    at::Tensor out = at::empty({m, n}, a->options().memory_format(at::MemoryFormat::Contiguous));
    const float *ap = a->data_ptr<float>(), *bp = b->data_ptr<float>();
    float *cp = out.data_ptr<float>();
    const int64_t lda = a->stride(0);
    const int64_t rows[3] = {0, split_row ? split_row : m, m};
    const int64_t cols[3] = {0, split_col ? split_col : n, n};
    for (int r = 0; r < 2; ++r)
      for (int j = 0; j < 2; ++j) {
        const int64_t mr = rows[r + 1] - rows[r], nc = cols[j + 1] - cols[j];
        if (mr <= 0 || nc <= 0) continue;
        float *block = cp + rows[r] * n + cols[j];
        if (!transposed) {
          rowseq_gemm::gemm(mr, nc, k, ap + rows[r] * lda, lda, bp + cols[j], n, block, n);
          continue;
        }
        const int64_t k0 = split_k ? split_k : k;
        rowseq_gemm::gemm_tn(mr, nc, k0, ap + rows[r], lda, bp + cols[j], n, block, n);
        if (k0 < k)
          rowseq_gemm::gemm_tn(mr, nc, k - k0, ap + k0 * lda + rows[r], lda, bp + k0 * n + cols[j],
                               n, block, n, true);
      }
    *c = new at::Tensor(out);
#endif
    return 0;
  }
  ROWSEQ_CATCH_ALL(err, err_len)
}

// How the per-step float32 products choose their matmul from now on, in every thread
// (`env::Kernel`, from ROWSEQ_KERNEL): 0 automatic (own_gemm's rule), 1 rowseq's own kernel at
// any thread count, refused on a CPU without it, 2 BLAS always. Returns 0, or 1 with a message
// in err.
extern "C" int rowseq_set_gemm_choice(int choice, char *err, size_t err_len) {
  try {
    TORCH_CHECK(choice == kAutomatic || choice == kOwnKernel || choice == kBlas,
                "gemm choice: expected 0, 1 or 2, got ", choice);
    TORCH_CHECK(choice != kOwnKernel || rowseq_gemm::available(),
                "rowseq's own matmul kernel needs AVX-512 on x86-64, which this CPU lacks");
    gemm_choice.store(choice, std::memory_order_relaxed);
    return 0;
  }
  ROWSEQ_CATCH_ALL(err, err_len)
}

// Whether rowseq's LSTM would run its float32 per-step products through its own kernel now,
// on the calling thread (at its thread count): what a run records as its kernel path.
extern "C" bool rowseq_own_gemm_runs() { return own_gemm<float>(); }

// Whether this CPU runs rowseq's own matmul kernel at all (AVX-512 on x86-64).
extern "C" bool rowseq_own_kernel_available() { return rowseq_gemm::available(); }
