// The fused per-step passes of rowseq's CPU LSTM (`lstm.cpp`): their declarations. They are
// compiled twice (`lstm_rows.cpp`, see build.rs), into two namespaces that differ only in the
// vector width the compiler prefers on AVX-512: `rowseq_rows_wide` with 16 floats a vector,
// `rowseq_rows_narrow` with 8, for gate rows (H floats) that 16 does not divide: at H = 8 the
// wide build would leave every row to scalar code.
#pragma once
#include <cstdint>

#define ROWSEQ_FORWARD_ARGS(T)                                                               \
  T *g, const T *bias, int64_t bias_ld, const T *c_prev, T *c, T *tc, T *h, T *h_next,      \
      int64_t ld, int64_t hidden, int64_t b0, int64_t b1
#define ROWSEQ_BACKWARD_ARGS(T)                                                              \
  const T *a, const T *c_prev, const T *tc, const T *dh, const T *dy, T *dc, T *dg,         \
      int64_t hidden, int64_t b0, int64_t b1
#define ROWSEQ_DECLARE_ROWS(ns)                                                              \
  namespace ns {                                                                             \
  void forward_rows(bool keep, ROWSEQ_FORWARD_ARGS(float));                                  \
  void forward_rows(bool keep, ROWSEQ_FORWARD_ARGS(double));                                 \
  void backward_rows(ROWSEQ_BACKWARD_ARGS(float));                                           \
  void backward_rows(ROWSEQ_BACKWARD_ARGS(double));                                          \
  }

ROWSEQ_DECLARE_ROWS(rowseq_rows_wide)
ROWSEQ_DECLARE_ROWS(rowseq_rows_narrow)
