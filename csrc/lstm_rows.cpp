// The fused per-step passes of rowseq's CPU LSTM, forward and backward, for rows [b0, b1) of
// one step (declared in lstm_rows.h; `lstm.cpp` runs them). build.rs compiles this file twice,
// with ROWSEQ_ROWS_NS naming the namespace: once preferring 16-float vectors on AVX-512
// (`rowseq_rows_wide`), once 8-float ones (`rowseq_rows_narrow`). Sigmoid and tanh in float32
// use branch-free Cephes polynomials (within a few ulp of libm) so that the fused loops
// vectorise; float64 uses libm.
#include "lstm_rows.h"

#include <cmath>
#include <cstring>
#include <type_traits>

#ifndef ROWSEQ_ROWS_NS
#error "build.rs defines ROWSEQ_ROWS_NS"
#endif

namespace {

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

// One step forward for rows [b0, b1). g holds the matmul's pre-activations [B, 4H] and bias
// what is added to them: row b's at bias + b * bias_ld (0: one bias for every row; training),
// or the step's input projection with the biases (evaluation); g gets the activations (i, f,
// g, o) in place, and with `keep` tc = tanh(c). Then c = f c_prev + i g, h = o tanh(c),
// written to h (row stride H) and, with `next`, to h_next (row stride ld: the h part of the
// next step's xh rows). HC > 0 is H known when compiling (forward_for_width).
// In two passes over the rows, the four activations first, then the cell: each element gets
// the same operations as in one pass, but the passes' chains are shorter, so that more rows
// are in flight at once (the forward pass at H = 32 took 0.9x the time).
template <typename T, bool keep, bool next, int64_t HC>
__attribute__((always_inline)) inline void step_forward(
    T *__restrict g, const T *__restrict bias, int64_t bias_ld, const T *__restrict c_prev,
    T *__restrict c, T *__restrict tc, T *__restrict h, T *__restrict h_next, int64_t ld,
    int64_t hidden_at_run, int64_t b0, int64_t b1) {
  const int64_t hidden = HC > 0 ? HC : hidden_at_run;
  for (int64_t b = b0; b < b1; ++b) {
    const T *bi = bias + b * bias_ld, *bf = bi + hidden, *bg = bf + hidden, *bo = bg + hidden;
    T *gi = g + b * 4 * hidden, *gf = gi + hidden, *gg = gf + hidden, *go = gg + hidden;
    for (int64_t j = 0; j < hidden; ++j) {
      gi[j] = sigmoid_f(gi[j] + bi[j]);
      gf[j] = sigmoid_f(gf[j] + bf[j]);
      gg[j] = tanh_f(gg[j] + bg[j]);
      go[j] = sigmoid_f(go[j] + bo[j]);
    }
  }
  for (int64_t b = b0; b < b1; ++b) {
    const T *gi = g + b * 4 * hidden, *gf = gi + hidden, *gg = gf + hidden, *go = gg + hidden;
    const T *cp = c_prev + b * hidden;
    T *cb = c + b * hidden, *hb = h + b * hidden;
    for (int64_t j = 0; j < hidden; ++j) {
      T cn = gf[j] * cp[j] + gi[j] * gg[j];
      T t = tanh_f(cn);
      if (keep) tc[b * hidden + j] = t;
      cb[j] = cn;
      hb[j] = go[j] * t;
      if (next) h_next[b * ld + j] = go[j] * t;
    }
  }
}

// One step backward for rows [b0, b1): from dh (the gradient reaching h_t through h_{t+1}),
// dy (the output's own gradient at t) and dc (reaching c_t, updated in place to the gradient
// reaching c_{t-1}), the gate gradients dg [B, 4H]. HC as in step_forward.
template <typename T, int64_t HC>
__attribute__((always_inline)) inline void step_backward(
    const T *__restrict a, const T *__restrict c_prev, const T *__restrict tc,
    const T *__restrict dh, const T *__restrict dy, T *__restrict dc, T *__restrict dg,
    int64_t hidden_at_run, int64_t b0, int64_t b1) {
  const int64_t hidden = HC > 0 ? HC : hidden_at_run;
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

// Small widths are compiled for their H (with_width, the one list): a float32 row is
// then a few whole vectors with no loop bookkeeping and no remainder. With that and h written
// to the next step's rows in the loop (there was one memcpy call per row), the forward pass at
// H = 8, 16 and 32 went from 8.2, 6.0 and 5.3 to 4.3 or 4.4 ns per cell and the backward pass
// to 0.73, 0.84 and 0.94x its time (B = 128, AVX2). Each element gets the same
// operations in the same order as with H known only at run time, so the values are the same.
// lstm.cpp sends widths that 16 divides to the wide build, so there 8 is never used (nor 16
// and 32 in the narrow one); one list for both keeps the builds the same source.
template <typename F>
__attribute__((always_inline)) inline void with_width(int64_t hidden, F &&f) {
  switch (hidden) {
    case 8: return f(std::integral_constant<int64_t, 8>());
    case 16: return f(std::integral_constant<int64_t, 16>());
    case 32: return f(std::integral_constant<int64_t, 32>());
    default: return f(std::integral_constant<int64_t, 0>());  // H known only at run time
  }
}

// The lambdas are always inlined: compiled on their own they would get the baseline target
// instead of their caller's clone.
template <typename T, bool keep, bool next>
__attribute__((always_inline)) inline void forward_for_width(ROWSEQ_FORWARD_ARGS(T)) {
  with_width(hidden, [&](auto hc) __attribute__((always_inline)) {
    step_forward<T, keep, next, decltype(hc)::value>(g, bias, bias_ld, c_prev, c, tc, h, h_next,
                                                     ld, hidden, b0, b1);
  });
}

// step_forward for any `keep`, h_next and width.
template <typename T>
__attribute__((always_inline)) inline void forward_any(bool keep, ROWSEQ_FORWARD_ARGS(T)) {
  if (keep && h_next)
    forward_for_width<T, true, true>(g, bias, bias_ld, c_prev, c, tc, h, h_next, ld, hidden, b0,
                                     b1);
  else if (keep)
    forward_for_width<T, true, false>(g, bias, bias_ld, c_prev, c, tc, h, h_next, ld, hidden,
                                      b0, b1);
  else if (h_next)
    forward_for_width<T, false, true>(g, bias, bias_ld, c_prev, c, tc, h, h_next, ld, hidden,
                                      b0, b1);
  else
    forward_for_width<T, false, false>(g, bias, bias_ld, c_prev, c, tc, h, h_next, ld, hidden,
                                       b0, b1);
}

// step_backward for any width.
template <typename T>
__attribute__((always_inline)) inline void backward_any(ROWSEQ_BACKWARD_ARGS(T)) {
  with_width(hidden, [&](auto hc) __attribute__((always_inline)) {
    step_backward<T, decltype(hc)::value>(a, c_prev, tc, dh, dy, dc, dg, hidden, b0, b1);
  });
}

}  // namespace

// float32 steps are compiled three times on x86-64, for AVX-512 (x86-64-v4), AVX2 with FMA
// (x86-64-v3) and the baseline, and the loader picks the one for the CPU it runs on (GCC
// function multi-versioning); elsewhere once, for the target. The clones round differently
// (FMA), as MKL's kernels do from one instruction set to the next: results are reproducible
// on one instruction set. float64 is there for the tests.
#if defined(__x86_64__) && defined(__GNUC__)
#define ROWSEQ_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define ROWSEQ_CLONES
#endif

namespace ROWSEQ_ROWS_NS {

ROWSEQ_CLONES void forward_rows(bool keep, ROWSEQ_FORWARD_ARGS(float)) {
  forward_any<float>(keep, g, bias, bias_ld, c_prev, c, tc, h, h_next, ld, hidden, b0, b1);
}
void forward_rows(bool keep, ROWSEQ_FORWARD_ARGS(double)) {
  forward_any<double>(keep, g, bias, bias_ld, c_prev, c, tc, h, h_next, ld, hidden, b0, b1);
}
ROWSEQ_CLONES void backward_rows(ROWSEQ_BACKWARD_ARGS(float)) {
  backward_any<float>(a, c_prev, tc, dh, dy, dc, dg, hidden, b0, b1);
}
void backward_rows(ROWSEQ_BACKWARD_ARGS(double)) {
  backward_any<double>(a, c_prev, tc, dh, dy, dc, dg, hidden, b0, b1);
}

}  // namespace ROWSEQ_ROWS_NS
