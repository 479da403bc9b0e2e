#!/usr/bin/env bash
# Copies a finished sweep's results (not its weights, checkpoints or TensorBoard events; a
# numeric run's test predictions and a classification run's test probabilities, which its
# report draws, included) from experiments/<sweep>/ into paper/<sweep>/ and renders its report there; paper/ is committed, so
# `rowseq report paper/<sweep>` rebuilds the figures on a fresh machine in seconds.
#   scripts/update-paper.sh [SWEEP] [--lean]      (default: units)
# --lean leaves out the test probabilities and predictions (a sweep of many runs on the whole
# MNIST test set, such as capacity's, would commit tens of MiB of them); its report then has no
# confusion matrix (the per-class table comes from the results).
set -euo pipefail
cd "$(dirname "$0")/.."
sweep=${1:-units}
lean=${2:-}
[ "$sweep" != --lean ] || { echo "update-paper: error: name the sweep before --lean: update-paper.sh SWEEP --lean" >&2; exit 2; }
case "$lean" in ""|--lean) ;; *) echo "update-paper: error: unknown option $lean (expected --lean)" >&2; exit 2;; esac
src=experiments/$sweep
dst=paper/$sweep
[ -f "$src/sweep.json" ] || { echo "update-paper: error: $src/sweep.json not found: run the sweep first" >&2; exit 2; }
rm -rf "$dst"
mkdir -p "$dst"
cp "$src"/sweep.json "$src"/results.csv "$src"/results.jsonl "$dst"/
for run in "$src"/*/; do
  [ -f "$run/result.json" ] || continue
  id=$(basename "$run")
  mkdir -p "$dst/$id"
  cp "$run"/config.json "$run"/metrics.jsonl "$run"/result.json "$dst/$id"/
  extra="resolved.json test_predictions.csv test_probabilities.csv"
  [ -z "$lean" ] || extra="resolved.json"
  for f in $extra; do
    if [ -f "$run/$f" ]; then cp "$run/$f" "$dst/$id"/; fi
  done
done
cargo run --release --quiet -- report "$dst"
