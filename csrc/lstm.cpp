// rowseq's own one-layer, one-direction LSTM for the CPU (float32 and float64), forward and
// backward, as a libtorch autograd function: what `model.rs` runs instead of `at::lstm` (oneDNN)
// on the CPU. Same maths and gate order as PyTorch (i, f, g, o; b_ih + b_hh; zero initial
// states), laid out for one thread:
//   - step t's input and previous output sit side by side in one row block, xh[t] = [x_t, h_{t-1}]
//     [B, I+H], so its gates are one matmul with [W_ih W_hh] (K = I+H, not a thin K = I matmul
//     over all steps plus a second one);
//   - one fused pass per step adds the biases, applies the gates, updates c and writes h both to
//     the output and into xh[t+1];
//   - backward runs one fused pass per step for the gate gradients dG[t] and one matmul for
//     dh_{t-1}; the weight gradients are then one matmul over all T·B rows, dG^T xh, and the
//     input gradient is computed only when the input needs one.
// Without gradients (evaluation) nothing is kept: one step's gates and two cell states.
// The output y [B, T, H] is stored time-major (strides H, B·H, 1): step t's h is contiguous, and
// a layer above reads it without a copy. Sigmoid and tanh in float32 use branch-free Cephes
// polynomials (within a few ulp of libm) so that the fused loops vectorise; float64 uses libm.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <exception>

#include "ffi_error.h"

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Cephes expf: e^x = 2^n e^r, |r| <= ln2/2, degree-6 polynomial; inputs clamped so 2^n is a
// normal float. n is rounded with the 1.5·2^23 trick (no floor call, so SSE2 vectorises it).
// NaN goes through as NaN.
__attribute__((always_inline)) inline float exp_f(float x) {
  x = x < -87.0f ? -87.0f : x;
  x = x > 88.0f ? 88.0f : x;
  float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  x = x - n * 0.693359375f;
  x = x - n * -2.12194440e-4f;
  float z = x * x;
  float y = ((((1.9875691500e-4f * x + 1.3981999507e-3f) * x + 8.3334519073e-3f) * x +
              4.1665795894e-2f) * x + 1.6666665459e-1f) * x + 5.0000001201e-1f;
  y = y * z + x + 1.0f;
  int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return y * scale;
}

__attribute__((always_inline)) inline float sigmoid_f(float x) { return 1.0f / (1.0f + exp_f(-x)); }

// Cephes tanhf: an odd polynomial below 0.625, 1 - 2/(e^{2|x|} + 1) above.
__attribute__((always_inline)) inline float tanh_f(float x) {
  float a = std::fabs(x);
  float z = x * x;
  float small = ((((-5.70498872745e-3f * z + 2.06390887954e-2f) * z - 5.37397155531e-2f) * z +
                  1.33314422036e-1f) * z - 3.33332819422e-1f) * z * a + a;
  float big = 1.0f - 2.0f / (exp_f(2.0f * a) + 1.0f);
  return std::copysign(a < 0.625f ? small : big, x);
}

inline double sigmoid_f(double x) { return 1.0 / (1.0 + std::exp(-x)); }
inline double tanh_f(double x) { return std::tanh(x); }

// One step forward for rows [b0, b1). g holds the matmul's pre-activations [B, 4H], without
// biases; with `keep` it gets the activations (i, f, g, o) in place and tc = tanh(c). Then
// c = f c_prev + i g, h = o tanh(c), written to h (row stride H) and, unless null, to h_next
// (row stride ld: the h part of the next step's xh rows).
template <typename T, bool keep>
__attribute__((always_inline)) inline void step_forward(
    T *__restrict g, const T *__restrict bias, const T *__restrict c_prev, T *__restrict c,
    T *__restrict tc, T *__restrict h, T *__restrict h_next, int64_t ld, int64_t hidden,
    int64_t b0, int64_t b1) {
  const T *bi = bias, *bf = bi + hidden, *bg = bf + hidden, *bo = bg + hidden;
  for (int64_t b = b0; b < b1; ++b) {
    T *gi = g + b * 4 * hidden, *gf = gi + hidden, *gg = gf + hidden, *go = gg + hidden;
    const T *cp = c_prev + b * hidden;
    T *cb = c + b * hidden, *hb = h + b * hidden;
    for (int64_t j = 0; j < hidden; ++j) {
      T i = sigmoid_f(gi[j] + bi[j]), f = sigmoid_f(gf[j] + bf[j]);
      T u = tanh_f(gg[j] + bg[j]), o = sigmoid_f(go[j] + bo[j]);
      T cn = f * cp[j] + i * u;
      T t = tanh_f(cn);
      if (keep) {
        gi[j] = i;
        gf[j] = f;
        gg[j] = u;
        go[j] = o;
        tc[b * hidden + j] = t;
      }
      cb[j] = cn;
      hb[j] = o * t;
    }
    if (h_next) std::memcpy(h_next + b * ld, hb, hidden * sizeof(T));
  }
}

// One step backward for rows [b0, b1): from dh (the gradient reaching h_t through h_{t+1}),
// dy (the output's own gradient at t) and dc (reaching c_t, updated in place to the gradient
// reaching c_{t-1}), the gate gradients dg [B, 4H].
template <typename T>
__attribute__((always_inline)) inline void step_backward(
    const T *__restrict a, const T *__restrict c_prev, const T *__restrict tc,
    const T *__restrict dh, const T *__restrict dy, T *__restrict dc, T *__restrict dg,
    int64_t hidden, int64_t b0, int64_t b1) {
  for (int64_t b = b0; b < b1; ++b) {
    const T *ai = a + b * 4 * hidden, *af = ai + hidden, *ag = af + hidden, *ao = ag + hidden;
    T *di = dg + b * 4 * hidden, *df = di + hidden, *dgg = df + hidden, *dout = dgg + hidden;
    const T *cp = c_prev + b * hidden, *tb = tc + b * hidden, *dhb = dh + b * hidden;
    const T *dyb = dy + b * hidden;
    T *dcb = dc + b * hidden;
    for (int64_t j = 0; j < hidden; ++j) {
      T d = dhb[j] + dyb[j];
      T i = ai[j], f = af[j], u = ag[j], o = ao[j], t = tb[j];
      T dct = dcb[j] + d * o * (T(1) - t * t);
      dout[j] = d * t * o * (T(1) - o);
      di[j] = dct * u * i * (T(1) - i);
      df[j] = dct * cp[j] * f * (T(1) - f);
      dgg[j] = dct * i * (T(1) - u * u);
      dcb[j] = dct * f;
    }
  }
}

// float32 steps are compiled twice on x86-64, for AVX2 and for the baseline, and the loader
// picks the one for the CPU it runs on (GCC function multi-versioning); elsewhere once, for the
// target. float64 is there for the tests.
#if defined(__x86_64__) && defined(__GNUC__)
#define ROWSEQ_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define ROWSEQ_CLONES
#endif
#define ROWSEQ_FORWARD_ARGS(T)                                                               \
  T *g, const T *bias, const T *c_prev, T *c, T *tc, T *h, T *h_next, int64_t ld,           \
      int64_t hidden, int64_t b0, int64_t b1
#define ROWSEQ_BACKWARD_ARGS(T)                                                              \
  const T *a, const T *c_prev, const T *tc, const T *dh, const T *dy, T *dc, T *dg,         \
      int64_t hidden, int64_t b0, int64_t b1

ROWSEQ_CLONES void forward_rows(bool keep, ROWSEQ_FORWARD_ARGS(float)) {
  if (keep)
    step_forward<float, true>(g, bias, c_prev, c, tc, h, h_next, ld, hidden, b0, b1);
  else
    step_forward<float, false>(g, bias, c_prev, c, tc, h, h_next, ld, hidden, b0, b1);
}
void forward_rows(bool keep, ROWSEQ_FORWARD_ARGS(double)) {
  if (keep)
    step_forward<double, true>(g, bias, c_prev, c, tc, h, h_next, ld, hidden, b0, b1);
  else
    step_forward<double, false>(g, bias, c_prev, c, tc, h, h_next, ld, hidden, b0, b1);
}
ROWSEQ_CLONES void backward_rows(ROWSEQ_BACKWARD_ARGS(float)) {
  step_backward<float>(a, c_prev, tc, dh, dy, dc, dg, hidden, b0, b1);
}
void backward_rows(ROWSEQ_BACKWARD_ARGS(double)) {
  step_backward<double>(a, c_prev, tc, dh, dy, dc, dg, hidden, b0, b1);
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

struct Lstm : public torch::autograd::Function<Lstm> {
  // x [B, T, I]; returns y [B, T, H] (time-major storage) and c_T [B, H]. `keep`: save what
  // backward needs (false when no gradient will be asked for).
  static variable_list forward(AutogradContext *ctx, const at::Tensor &x, const at::Tensor &w_ih,
                               const at::Tensor &w_hh, const at::Tensor &b_ih,
                               const at::Tensor &b_hh, bool keep) {
    check_shapes(x, w_ih, w_hh, b_ih, b_hh);
    const int64_t batch = x.size(0), steps = x.size(1), input = x.size(2);
    const int64_t hidden = w_hh.size(1), width = input + hidden;
    auto opts = x.options();
    at::Tensor w = at::cat({w_ih, w_hh}, 1);  // [4H, I+H]
    at::Tensor w_t = w.t();
    at::Tensor bias = (b_ih + b_hh).contiguous();
    at::Tensor xh = at::empty({steps, batch, width}, opts);
    xh.narrow(2, 0, input).copy_(x.transpose(0, 1));
    xh.select(0, 0).narrow(1, input, hidden).zero_();
    at::Tensor gates = at::empty({keep ? steps : 1, batch, 4 * hidden}, opts);
    at::Tensor y = at::empty_strided({batch, steps, hidden}, {hidden, batch * hidden, 1}, opts);
    at::Tensor yt = y.transpose(0, 1);  // [T, B, H], contiguous
    // Cell states: c[0] = 0, and each step writes the next one.
    at::Tensor c = at::empty({keep ? steps + 1 : 2, batch, hidden}, opts);
    c.select(0, 0).zero_();
    at::Tensor tc = at::empty({keep ? steps : 0, batch, hidden}, opts);
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "rowseq_lstm_forward", [&] {
      for (int64_t t = 0; t < steps; ++t) {
        at::Tensor g = gates.select(0, keep ? t : 0);
        at::mm_out(g, xh.select(0, t), w_t);
        scalar_t *gp = g.data_ptr<scalar_t>();
        const scalar_t *bp = bias.data_ptr<scalar_t>();
        const scalar_t *cp = c.select(0, keep ? t : t % 2).data_ptr<scalar_t>();
        scalar_t *cn = c.select(0, keep ? t + 1 : (t + 1) % 2).data_ptr<scalar_t>();
        scalar_t *tp = keep ? tc.select(0, t).data_ptr<scalar_t>() : nullptr;
        scalar_t *hp = yt.select(0, t).data_ptr<scalar_t>();
        scalar_t *hn = t + 1 < steps ? xh.select(0, t + 1).data_ptr<scalar_t>() + input : nullptr;
        at::parallel_for(0, batch, grain(hidden), [&](int64_t b0, int64_t b1) {
          forward_rows(keep, gp, bp, cp, cn, tp, hp, hn, width, hidden, b0, b1);
        });
      }
    });
    at::Tensor c_last = c.select(0, keep ? steps : steps % 2).clone();
    if (keep) {
      ctx->saved_data["xh"] = xh;
      ctx->saved_data["gates"] = gates;
      ctx->saved_data["c"] = c;
      ctx->saved_data["tc"] = tc;
      ctx->save_for_backward({w_ih, w_hh});  // inputs: autograd checks they are not changed
    }
    return {y, c_last};
  }

  static variable_list backward(AutogradContext *ctx, variable_list grads) {
    TORCH_CHECK(ctx->saved_data.count("gates"),
                "rowseq's LSTM was run without gradients, so it cannot go backward");
    at::Tensor xh = ctx->saved_data["xh"].toTensor();
    at::Tensor gates = ctx->saved_data["gates"].toTensor();
    at::Tensor c = ctx->saved_data["c"].toTensor();
    at::Tensor tc = ctx->saved_data["tc"].toTensor();
    variable_list weights = ctx->get_saved_variables();
    at::Tensor w_ih = weights[0], w_hh = weights[1];
    const int64_t steps = gates.size(0), batch = gates.size(1), hidden = gates.size(2) / 4;
    const int64_t input = w_ih.size(1), width = input + hidden;
    auto opts = gates.options();
    at::Tensor dyt;  // [T, B, H], or one step of zeros when y got no gradient
    if (grads[0].defined()) dyt = grads[0].transpose(0, 1).contiguous();
    at::Tensor no_dy = dyt.defined() ? at::Tensor() : at::zeros({batch, hidden}, opts);
    at::Tensor dc = grads[1].defined() ? grads[1].clone(at::MemoryFormat::Contiguous)
                                       : at::zeros({batch, hidden}, opts);
    at::Tensor dh = at::zeros({batch, hidden}, opts);
    at::Tensor dgates = at::empty({steps, batch, 4 * hidden}, opts);
    AT_DISPATCH_FLOATING_TYPES(gates.scalar_type(), "rowseq_lstm_backward", [&] {
      scalar_t *dcp = dc.data_ptr<scalar_t>();
      for (int64_t t = steps - 1; t >= 0; --t) {
        const scalar_t *ap = gates.select(0, t).data_ptr<scalar_t>();
        const scalar_t *cp = c.select(0, t).data_ptr<scalar_t>();
        const scalar_t *tp = tc.select(0, t).data_ptr<scalar_t>();
        const scalar_t *dhp = dh.data_ptr<scalar_t>();
        const scalar_t *dyp = (dyt.defined() ? dyt.select(0, t) : no_dy).data_ptr<scalar_t>();
        at::Tensor dg = dgates.select(0, t);
        scalar_t *dgp = dg.data_ptr<scalar_t>();
        at::parallel_for(0, batch, grain(hidden), [&](int64_t b0, int64_t b1) {
          backward_rows(ap, cp, tp, dhp, dyp, dcp, dgp, hidden, b0, b1);
        });
        if (t > 0) at::mm_out(dh, dg, w_hh);
      }
    });
    at::Tensor dflat = dgates.view({steps * batch, 4 * hidden});
    // Step t's gates came from xh[t] = [x_t, h_{t-1}] (h_{-1} = 0): one matmul for both.
    at::Tensor dw = dflat.t().mm(xh.view({steps * batch, width}));
    at::Tensor db = dflat.sum(0);
    at::Tensor dx;
    if (ctx->needs_input_grad(0)) {
      dx = dflat.mm(w_ih).view({steps, batch, input}).transpose(0, 1);
    }
    return {dx,
            dw.narrow(1, 0, input).contiguous(),
            dw.narrow(1, input, hidden).contiguous(),
            db,
            db.clone(),
            at::Tensor()};
  }
};

}  // namespace

// x [B, T, I] (float32 or float64, CPU), the four weights of `at::lstm`'s one layer; writes
// new tensors y [B, T, H] and c_T [B, H]. Returns 0, or 1 with a message in err.
extern "C" int rowseq_lstm(const at::Tensor *x, const at::Tensor *w_ih, const at::Tensor *w_hh,
                           const at::Tensor *b_ih, const at::Tensor *b_hh, at::Tensor **y,
                           at::Tensor **c_last, char *err, size_t err_len) {
  try {
    bool keep = at::GradMode::is_enabled() &&
                (x->requires_grad() || w_ih->requires_grad() || w_hh->requires_grad() ||
                 b_ih->requires_grad() || b_hh->requires_grad());
    variable_list out = Lstm::apply(*x, *w_ih, *w_hh, *b_ih, *b_hh, keep);
    *y = new at::Tensor(out[0]);
    *c_last = new at::Tensor(out[1]);
    return 0;
  }
  ROWSEQ_CATCH_ALL(err, err_len)
}
