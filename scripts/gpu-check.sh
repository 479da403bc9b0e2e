#!/usr/bin/env bash
# The GPU check, one script for a machine with an NVIDIA GPU (about 5 minutes once the venv
# exists; the first build of the libtorch bindings takes about 4 of them): set-up, build, a
# quick sweep on CUDA (configs/quick.toml --device cuda), then `rowseq bench` at H = 128 and
# 256 against PyTorch on the same GPU, which prints the table; the report plots it. It stops at
# once, saying why, when CUDA cannot be used (no driver, a torch without CUDA or cuDNN, or
# libtorch seeing no GPU).
#
#   OUT=DIR  where the sweep and the bench JSON go (default: a new folder under /tmp)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
started=$SECONDS
step() { printf '==> %s\n' "$*"; }
die() { printf 'gpu-check: error: %s\n' "$*" >&2; exit 1; }

command -v nvidia-smi >/dev/null || die "nvidia-smi not found: no NVIDIA driver on this machine"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader \
  || die "nvidia-smi sees no GPU"

step "set-up: scripts/setup.sh (venv, MNIST, release build)"
scripts/setup.sh

step "CUDA and cuDNN as the venv's torch sees them"
.venv/bin/python - <<'PY' || die "the venv's torch cannot use CUDA and cuDNN (CPU-only wheel, or a driver too old for its CUDA)"
import sys, torch
print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}, "
      f"{torch.cuda.device_count()} GPU(s): {torch.cuda.get_device_name(0) if torch.cuda.is_available() else '-'}")
sys.exit(0 if torch.cuda.is_available() and torch.backends.cudnn.is_available() else 1)
PY

out=${OUT:-$(mktemp -d /tmp/rowseq-gpu-check.XXXXXX)}
mkdir -p "$out"
rowseq=target/release/rowseq

step "quick sweep on CUDA (configs/quick.toml) -> $out/quick"
"$rowseq" sweep configs/quick.toml --device cuda --out "$out" --no-tensorboard --no-report
grep -q '"device": "cuda:0"' "$out"/quick/*/result.json || die "the quick sweep's results do not say cuda:0"

step "bench at H = 128, 256 on CUDA, against PyTorch on the same GPU"
"$rowseq" bench --device cuda --units 128,256 --out "$out/bench-cuda.json"
"$rowseq" report "$out/bench-cuda.json"

step "done in $((SECONDS - started)) s: $out/bench-cuda.json, figures in $out/bench-cuda/"
