#!/usr/bin/env bash
# A sweep's wall time, rowseq against PyTorch: `rowseq sweep CONFIG` with rowseq's defaults (one
# thread a run, as many runs at once as there are cores; into a fresh folder, no TensorBoard, no
# report; any further arguments, e.g. --jobs 1 --threads 2, go to rowseq), then the same runs
# trained one after another by scripts/bench_torch.py --config CONFIG (the same model, recipe
# and evaluation every epoch, the plain PyTorch way) on all cores (THREADS, default nproc);
# prints both wall times and their ratio. Never part of the tests: it takes as long as the
# sweep, twice.
#
#   scripts/sweep-vs-torch.sh configs/units.toml    # the full default sweep (76 min on 2 cores: 26 + 50)
#   scripts/sweep-vs-torch.sh configs/quick.toml
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 CONFIG [rowseq sweep flags...]" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
config=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
shift
cd "$root"
threads=${THREADS:-$(nproc)}
python=.venv/bin/python
rowseq=target/release/rowseq
[ -x "$rowseq" ] || cargo build --release --quiet
out=$(mktemp -d /tmp/rowseq-sweep-vs-torch.XXXXXX)
files=()
for name in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  if [ -f "data/mnist/$name" ]; then files+=("data/mnist/$name"); else files+=("data/mnist/$name.gz"); fi
done

now() { date +%s.%N; }
t0=$(now)
"$rowseq" sweep "$config" --out "$out" --device cpu --no-tensorboard --no-report "$@"
t1=$(now)
"$python" scripts/bench_torch.py --config "$config" --threads "$threads" --files "${files[@]}" > "$out/pytorch.json"
t2=$(now)
awk -v a="$t0" -v b="$t1" -v c="$t2" -v th="$threads" 'BEGIN {
  r = b - a; p = c - b
  printf "\nrowseq sweep: %.1f s; PyTorch, the same runs one after another: %.1f s; ratio %.2f (PyTorch on %d threads)\n", r, p, r / p, th
}'
echo "outputs: $out (rowseq's sweep folder, pytorch.json)"
