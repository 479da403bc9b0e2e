// rowseq's own float32 matmul (csrc/gemm.cpp), for the CPU LSTM's per-step products on
// AVX-512 CPUs.
#pragma once
#include <cstdint>

namespace rowseq_gemm {

// True when this CPU runs the kernel (AVX-512F, x86-64).
bool available();

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

}  // namespace rowseq_gemm
