#!/usr/bin/env bash
# The test command: set-up (idempotent: venv, MNIST, build), then formatting, lints and the
# whole test suite (unit tests and integration tests that run the real binary on real MNIST),
# then the training, resume and task tests again with ROWSEQ_KERNEL=reference, so that both of
# the CPU LSTM's paths are tested: rowseq's own (the automatic choice) and libtorch's; last, the
# book (`mdbook build docs`; its reference pages and every documented command are checked
# against the code by the tests).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --docs
echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy --release --all-targets -D warnings"
cargo clippy --release --all-targets --quiet -- -D warnings
echo "==> cargo test --release"
cargo test --release
echo "==> ROWSEQ_KERNEL=reference cargo test --release --test integration (training, resume, tasks)"
ROWSEQ_KERNEL=reference cargo test --release --test integration -- \
  tasks:: cells:: resume::interrupted_runs_resume_to_identical_results
echo "==> mdbook build docs"
./.mdbook build docs
