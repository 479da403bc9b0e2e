#!/usr/bin/env bash
# Successive halving against the full grid, side by side in one run: for each config in
# configs/asha/ (MNIST, GunPoint, sunspots), the grid as written (36 combinations), then a
# random search over the same lists with early_stop = "asha" (grace_period 1, reduction_factor
# 3) and three times as many trials (108; draws of a combination already drawn are one run),
# each into its own folder under OUT; scripts/search_cost.py prints the best validation score
# each found and the worker-seconds each spent (one run at a time, so that they compare).
#   scripts/asha-vs-grid.sh [OUT]        (default: experiments/asha-vs-grid)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-experiments/asha-vs-grid}"
bin=target/release/rowseq
[ -x "$bin" ] || cargo build --release
for problem in mnist gunpoint sunspots; do
  config="configs/asha/$problem.toml"
  "$bin" sweep "$config" --out "$out" --jobs 1 --no-report --quiet
  "$bin" sweep "$config" --out "$out" --jobs 1 --no-report --quiet \
    --set "name=\"asha-$problem-asha\"" --set 'method="random"' --set trials=108 \
    --set search_seed=0 --set 'early_stop="asha"'
  .venv/bin/python scripts/search_cost.py "$out/asha-$problem" "$out/asha-$problem-asha"
done
