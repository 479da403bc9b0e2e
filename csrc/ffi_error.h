// The error side of rowseq's C ABI (csrc/*.cpp): a C++ exception's message, copied into the
// caller's buffer, which the Rust side turns into an error or a panic.
#pragma once
#include <cstddef>
#include <cstring>
#include <exception>

inline void rowseq_set_message(const char *message, char *err, size_t err_len) {
  if (err_len > 0) {
    std::strncpy(err, message, err_len - 1);
    err[err_len - 1] = 0;
  }
}

inline void rowseq_set_error(const std::exception &e, char *err, size_t err_len) {
  rowseq_set_message(e.what(), err, err_len);
}

// What every extern "C" entry point ends with: no exception, of any type, crosses into Rust.
#define ROWSEQ_CATCH_ALL(err, err_len)                                                        \
  catch (const std::exception &e) {                                                           \
    rowseq_set_error(e, err, err_len);                                                        \
    return 1;                                                                                 \
  }                                                                                           \
  catch (...) {                                                                               \
    rowseq_set_message("an unknown C++ exception", err, err_len);                             \
    return 1;                                                                                 \
  }
