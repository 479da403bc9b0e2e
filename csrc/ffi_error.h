// The error side of rowseq's C ABI (csrc/*.cpp): a C++ exception's message, copied into the
// caller's buffer, which the Rust side turns into an error or a panic.
#pragma once
#include <cstddef>
#include <cstring>
#include <exception>

inline void rowseq_set_error(const std::exception &e, char *err, size_t err_len) {
  if (err_len > 0) {
    std::strncpy(err, e.what(), err_len - 1);
    err[err_len - 1] = 0;
  }
}
