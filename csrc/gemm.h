// rowseq's own float32 matmul (csrc/gemm.cpp), for the CPU LSTM's per-step products on
// AVX-512 CPUs. It exists only where it can run, x86-64 with GCC or Clang (ROWSEQ_OWN_GEMM
// defined): elsewhere only `available()` is declared, which says false, and calling the kernel
// does not compile, so no caller can forget to check.
#pragma once
#include <cstdint>

#if defined(__x86_64__) && defined(__GNUC__)
#define ROWSEQ_OWN_GEMM 1
#endif

namespace rowseq_gemm {

// True when this CPU runs the kernel (AVX-512F, x86-64).
bool available();

#ifdef ROWSEQ_OWN_GEMM

// c[m, n] = a[m, k] times b[k, n], all three row-major with row strides lda, ldb and ldc.
// Every element is one chain of fused multiply-adds over k in order 0, 1, ..., k-1, starting
// from zero: the same bits on every CPU that runs it, and for any split of the rows or
// columns into calls. Requires available() and m, n, k > 0.
void gemm(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, const float *b,
          int64_t ldb, float *c, int64_t ldc);

// c[m, n] = a^T b for a stored transposed, [k, m] row-major with row stride lda (the left
// factor's element (i, p) is a[p * lda + i]), b [k, n] and c as in gemm: the same one chain per
// element over k in order, computed in blocks of k that each resume the chain where the block
// before left it. With `resume` the chains start from c's values instead of zero, as a call
// over earlier k values left them: calls over consecutive ranges of k then make the same
// chains as one call over all of them. For the LSTM's weight gradient dG^T xh over the T·B
// rows, step by step.
void gemm_tn(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, const float *b,
             int64_t ldb, float *c, int64_t ldc, bool resume = false);
#endif

}  // namespace rowseq_gemm
