#!/usr/bin/env bash
# The test command: set-up (idempotent: venv, MNIST, build), then formatting, lints and the
# whole test suite (unit tests and integration tests that run the real binary on real MNIST).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy --release --all-targets -D warnings"
cargo clippy --release --all-targets --quiet -- -D warnings
echo "==> cargo test --release"
cargo test --release
