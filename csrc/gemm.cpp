// rowseq's own float32 matmul for AVX-512 (declared in gemm.h): register tiles of up to 6
// rows by 64 columns (24 accumulators), the k loop innermost, B's rows read in place, the
// column tail masked. Each output element is one fused multiply-add chain over k in order,
// whatever the tile it falls in. Built for the CPU LSTM's per-step matmuls (128 rows, 8 to
// 1,024 columns, K of 32 to 1,024, B small enough to stay in cache), where it avoids BLAS's
// packing and per-call set-up.
#include "gemm.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#include <algorithm>

namespace {

constexpr int kMaxRows = 6;

// AVX-512: a tile of MR rows by NV vectors of 16 columns; the last vector is masked by `last`.
template <int MR, int NV>
__attribute__((target("avx512f"), always_inline)) inline void tile512(
    int64_t k, const float *__restrict a, int64_t lda, const float *__restrict b, int64_t ldb,
    float *__restrict c, int64_t ldc, __mmask16 last) {
  __m512 acc[MR][NV];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_setzero_ps();
  for (int64_t p = 0; p < k; ++p) {
    __m512 bv[NV];
    const float *bp = b + p * ldb;
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v)
      bv[v] = v + 1 < NV ? _mm512_loadu_ps(bp + 16 * v) : _mm512_maskz_loadu_ps(last, bp + 16 * v);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const __m512 av = _mm512_set1_ps(a[r * lda + p]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      float *cp = c + r * ldc + 16 * v;
      if (v + 1 < NV)
        _mm512_storeu_ps(cp, acc[r][v]);
      else
        _mm512_mask_storeu_ps(cp, last, acc[r][v]);
    }
}

template <int MR>
__attribute__((target("avx512f"))) void rows512(int nv, int64_t k, const float *a, int64_t lda,
                                                const float *b, int64_t ldb, float *c,
                                                int64_t ldc, __mmask16 last) {
  switch (nv) {
    case 1: tile512<MR, 1>(k, a, lda, b, ldb, c, ldc, last); break;
    case 2: tile512<MR, 2>(k, a, lda, b, ldb, c, ldc, last); break;
    case 3: tile512<MR, 3>(k, a, lda, b, ldb, c, ldc, last); break;
    default: tile512<MR, 4>(k, a, lda, b, ldb, c, ldc, last); break;
  }
}

__attribute__((target("avx512f"))) void gemm512(int64_t m, int64_t n, int64_t k, const float *a,
                                                int64_t lda, const float *b, int64_t ldb,
                                                float *c, int64_t ldc) {
  for (int64_t j = 0; j < n; j += 64) {
    const int64_t w = std::min<int64_t>(64, n - j);
    const int nv = static_cast<int>((w + 15) / 16);
    const int tail = static_cast<int>(w % 16);
    const __mmask16 last = tail ? static_cast<__mmask16>((1u << tail) - 1) : 0xFFFF;
    int64_t i = 0;
    for (; i + kMaxRows <= m; i += kMaxRows)
      rows512<kMaxRows>(nv, k, a + i * lda, lda, b + j, ldb, c + i * ldc + j, ldc, last);
    const float *ai = a + i * lda;
    float *ci = c + i * ldc + j;
    switch (m - i) {
      case 1: rows512<1>(nv, k, ai, lda, b + j, ldb, ci, ldc, last); break;
      case 2: rows512<2>(nv, k, ai, lda, b + j, ldb, ci, ldc, last); break;
      case 3: rows512<3>(nv, k, ai, lda, b + j, ldb, ci, ldc, last); break;
      case 4: rows512<4>(nv, k, ai, lda, b + j, ldb, ci, ldc, last); break;
      case 5: rows512<5>(nv, k, ai, lda, b + j, ldb, ci, ldc, last); break;
      default: break;
    }
  }
}

bool detect() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f");
}

const bool kAvx512 = detect();

}  // namespace

namespace rowseq_gemm {

bool available() { return kAvx512; }

void gemm(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, const float *b,
          int64_t ldb, float *c, int64_t ldc) {
  gemm512(m, n, k, a, lda, b, ldb, c, ldc);
}

}  // namespace rowseq_gemm

#else  // not x86-64 with GCC or Clang: BLAS does every matmul.

namespace rowseq_gemm {
bool available() { return false; }
void gemm(int64_t, int64_t, int64_t, const float *, int64_t, const float *, int64_t, float *,
          int64_t) {}
}  // namespace rowseq_gemm

#endif
