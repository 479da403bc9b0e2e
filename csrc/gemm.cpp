// rowseq's own float32 matmul for AVX-512 (declared in gemm.h): register tiles of up to 6
// rows by 64 columns (24 accumulators), the k loop innermost, B's rows read in place, the
// column tail masked. Each output element is one fused multiply-add chain over k in order,
// whatever the tile it falls in. Built for the CPU LSTM's per-step matmuls (128 rows, 8 to
// 1,024 columns, K of 32 to 1,024, B small enough to stay in cache), where it avoids BLAS's
// packing and per-call set-up.
#include "gemm.h"

#ifdef ROWSEQ_OWN_GEMM
#include <immintrin.h>

#include <algorithm>
#include <vector>

namespace {

constexpr int kMaxRows = 6;

// AVX-512: a tile of MR rows by NV vectors of 16 columns; the last vector is masked by `last`.
// A's element (r, p) sits at a[r * lda + p] (`TA` false) or at a[p * lda + r] (`TA` true: A
// stored transposed). With `resume` the chains start from c's values, which an earlier call
// over the k values before these left there: the same chains as one call over all of k.
template <int MR, int NV, bool TA>
__attribute__((target("avx512f"), always_inline)) inline void tile512(
    int64_t k, const float *__restrict a, int64_t lda, const float *__restrict b, int64_t ldb,
    float *__restrict c, int64_t ldc, __mmask16 last, bool resume) {
  __m512 acc[MR][NV];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      const float *cp = c + r * ldc + 16 * v;
      acc[r][v] = !resume       ? _mm512_setzero_ps()
                  : v + 1 < NV ? _mm512_loadu_ps(cp)
                               : _mm512_maskz_loadu_ps(last, cp);
    }
  for (int64_t p = 0; p < k; ++p) {
    __m512 bv[NV];
    const float *bp = b + p * ldb;
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v)
      bv[v] = v + 1 < NV ? _mm512_loadu_ps(bp + 16 * v) : _mm512_maskz_loadu_ps(last, bp + 16 * v);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const __m512 av = _mm512_set1_ps(TA ? a[p * lda + r] : a[r * lda + p]);
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

template <int MR, bool TA>
__attribute__((target("avx512f"))) void rows512(int nv, int64_t k, const float *a, int64_t lda,
                                                const float *b, int64_t ldb, float *c,
                                                int64_t ldc, __mmask16 last, bool resume) {
  switch (nv) {
    case 1: tile512<MR, 1, TA>(k, a, lda, b, ldb, c, ldc, last, resume); break;
    case 2: tile512<MR, 2, TA>(k, a, lda, b, ldb, c, ldc, last, resume); break;
    case 3: tile512<MR, 3, TA>(k, a, lda, b, ldb, c, ldc, last, resume); break;
    default: tile512<MR, 4, TA>(k, a, lda, b, ldb, c, ldc, last, resume); break;
  }
}

// The columns in panels of 64, and k in blocks of `kc` (all of k when kc >= k), so that a
// panel's block of B stays in cache while every row tile reads it; each later block resumes
// the chains the one before left in c, and with `resume` the first block resumes them too.
template <bool TA>
__attribute__((target("avx512f"))) void gemm512(int64_t m, int64_t n, int64_t k, const float *a,
                                                int64_t lda, const float *b, int64_t ldb,
                                                float *c, int64_t ldc, int64_t kc,
                                                bool resume_first) {
  // The address of A's element (i, p0): row i's first value in the k block from p0.
  const auto row = [&](int64_t i, int64_t p0) { return TA ? a + p0 * lda + i : a + i * lda + p0; };
  for (int64_t j = 0; j < n; j += 64) {
    const int64_t w = std::min<int64_t>(64, n - j);
    const int nv = static_cast<int>((w + 15) / 16);
    const int tail = static_cast<int>(w % 16);
    const __mmask16 last = tail ? static_cast<__mmask16>((1u << tail) - 1) : 0xFFFF;
    for (int64_t p0 = 0; p0 < k; p0 += kc) {
      const int64_t kb = std::min(kc, k - p0);
      const bool resume = p0 > 0 || resume_first;
      const float *bp = b + p0 * ldb + j;
      int64_t i = 0;
      for (; i + kMaxRows <= m; i += kMaxRows)
        rows512<kMaxRows, TA>(nv, kb, row(i, p0), lda, bp, ldb, c + i * ldc + j, ldc, last,
                              resume);
      const float *ai = row(i, p0);
      float *ci = c + i * ldc + j;
      switch (m - i) {
        case 1: rows512<1, TA>(nv, kb, ai, lda, bp, ldb, ci, ldc, last, resume); break;
        case 2: rows512<2, TA>(nv, kb, ai, lda, bp, ldb, ci, ldc, last, resume); break;
        case 3: rows512<3, TA>(nv, kb, ai, lda, bp, ldb, ci, ldc, last, resume); break;
        case 4: rows512<4, TA>(nv, kb, ai, lda, bp, ldb, ci, ldc, last, resume); break;
        case 5: rows512<5, TA>(nv, kb, ai, lda, bp, ldb, ci, ldc, last, resume); break;
        default: break;
      }
    }
  }
}

// The transposed product for a long row stride of A (the LSTM's weight gradient dG^T xh from
// 256 units: k = T·B rows, in the thousands; A's rows 4H floats apart, 4 KB and more), in
// blocks of `kc` k values. Each block of A is first copied into `pack`, a tile's MR values of
// one k next to each other, so that a tile reads its block contiguously; read in place, each
// of its k steps lands on another page. The block then runs over the 64-column panels of B,
// each tile resuming its chains in c. The copy moves values and never changes an order of
// addition: the same chains, the same bits as gemm512<true>.
__attribute__((target("avx512f"))) void gemm512_tn_packed(int64_t m, int64_t n, int64_t k,
                                                          const float *a, int64_t lda,
                                                          const float *b, int64_t ldb, float *c,
                                                          int64_t ldc, int64_t kc, float *pack,
                                                          bool resume_first) {
  for (int64_t p0 = 0; p0 < k; p0 += kc) {
    const int64_t kb = std::min(kc, k - p0);
    const bool resume = p0 > 0 || resume_first;
    // Tile i's block: pack[i * kb + p * mr + r] = A(i + r, p0 + p), mr = min(6, m - i).
    // Row by row of A (read in order), six values at a time into each tile's block.
    const int64_t full = m - m % kMaxRows;
    const __mmask16 six = (1u << kMaxRows) - 1;
    for (int64_t p = 0; p < kb; ++p) {
      const float *src = a + (p0 + p) * lda;
      for (int64_t i = 0; i < full; i += kMaxRows)
        _mm512_mask_storeu_ps(pack + i * kb + p * kMaxRows, six,
                              _mm512_maskz_loadu_ps(six, src + i));
      for (int64_t r = 0; r < m - full; ++r) pack[full * kb + p * (m - full) + r] = src[full + r];
    }
    for (int64_t j = 0; j < n; j += 64) {
      const int64_t w = std::min<int64_t>(64, n - j);
      const int nv = static_cast<int>((w + 15) / 16);
      const int tail = static_cast<int>(w % 16);
      const __mmask16 last = tail ? static_cast<__mmask16>((1u << tail) - 1) : 0xFFFF;
      const float *bp = b + p0 * ldb + j;
      int64_t i = 0;
      for (; i + kMaxRows <= m; i += kMaxRows)
        rows512<kMaxRows, true>(nv, kb, pack + i * kb, kMaxRows, bp, ldb, c + i * ldc + j, ldc,
                                last, resume);
      const float *ai = pack + i * kb;
      float *ci = c + i * ldc + j;
      switch (m - i) {
        case 1: rows512<1, true>(nv, kb, ai, 1, bp, ldb, ci, ldc, last, resume); break;
        case 2: rows512<2, true>(nv, kb, ai, 2, bp, ldb, ci, ldc, last, resume); break;
        case 3: rows512<3, true>(nv, kb, ai, 3, bp, ldb, ci, ldc, last, resume); break;
        case 4: rows512<4, true>(nv, kb, ai, 4, bp, ldb, ci, ldc, last, resume); break;
        case 5: rows512<5, true>(nv, kb, ai, 5, bp, ldb, ci, ldc, last, resume); break;
        default: break;
      }
    }
  }
}

// k values per block of the transposed product, whose k (T·B rows) runs into the thousands:
// a 64-column panel's block of B is then 64 KB. Chosen by measurement over the LSTM's shapes of
// 8 to 256 units against 512, 1,024 and all of k (paper/perf/README.md has the measurements).
constexpr int64_t kBlockK = 256;

// A's row stride (floats) from which gemm_tn packs A, and its k block there (B's block of a
// panel is then 32 KB, inside L1). Packing paid from 256 units (1,024 x 284) up; at 128 units
// (stride 512) it was slower in isolation and no faster in a training step, so it reads A in
// place there (paper/perf/README.md has the measurements).
constexpr int64_t kPackFrom = 1024;
constexpr int64_t kPackedBlockK = 128;

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
  gemm512<false>(m, n, k, a, lda, b, ldb, c, ldc, k, false);
}

void gemm_tn(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, const float *b,
             int64_t ldb, float *c, int64_t ldc, bool resume) {
  if (lda < kPackFrom) return gemm512<true>(m, n, k, a, lda, b, ldb, c, ldc, kBlockK, resume);
  const int64_t kc = std::min(kPackedBlockK, k);
  std::vector<float> pack(static_cast<size_t>(kc * m));
  gemm512_tn_packed(m, n, k, a, lda, b, ldb, c, ldc, kc, pack.data(), resume);
}

}  // namespace rowseq_gemm

#else  // not x86-64 with GCC or Clang: no kernel (gemm.h declares none); BLAS does it all.

namespace rowseq_gemm {
bool available() { return false; }
}  // namespace rowseq_gemm

#endif
