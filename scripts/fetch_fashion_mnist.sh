#!/usr/bin/env bash
# Fashion-MNIST's four IDX .gz files into OUT (default data/fashion-mnist), from Debian's package
# dataset-fashion-mnist: `apt-get download` (no root) into CACHE/downloads, `dpkg-deb -x` into a
# temporary folder, each file checked against its pinned sha256. Idempotent: files already there
# with the right sha256 are kept. Only run when asked (scripts/setup.sh --data fashion-mnist).
#
#   scripts/fetch_fashion_mnist.sh [CACHE] [OUT]
set -euo pipefail

cache=${1:-${ROWSEQ_CACHE:-$HOME/.cache/rowseq}}
out=${2:-data/fashion-mnist}
die() { printf 'fetch_fashion_mnist: error: %s\n' "$*" >&2; exit 1; }

declare -A SHA256=(
  [train-images-idx3-ubyte.gz]=b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7
  [train-labels-idx1-ubyte.gz]=0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056
  [t10k-images-idx3-ubyte.gz]=cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa
  [t10k-labels-idx1-ubyte.gz]=8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05
)

complete() {
  local dir=$1 name
  for name in "${!SHA256[@]}"; do
    [ -f "$dir/$name" ] || return 1
    [ "$(sha256sum "$dir/$name" | cut -d' ' -f1)" = "${SHA256[$name]}" ] || return 1
  done
}

if complete "$out"; then
  echo "==> fashion-mnist: $out/ already has the four IDX files (sha256 checked)"
  exit 0
fi
command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null \
  || die "needs apt-get and dpkg-deb (Debian/Ubuntu); or put the four Fashion-MNIST .gz files in $out/"
downloads=$cache/downloads
mkdir -p "$downloads"
deb=$(ls "$downloads"/dataset-fashion-mnist_*_all.deb 2>/dev/null | head -n1 || true)
if [ -z "$deb" ]; then
  echo "==> fashion-mnist: apt-get download dataset-fashion-mnist (31 MB) into $downloads"
  (cd "$downloads" && apt-get download dataset-fashion-mnist) \
    || die "apt-get download dataset-fashion-mnist failed (is the package in your apt sources?)"
  deb=$(ls "$downloads"/dataset-fashion-mnist_*_all.deb | head -n1)
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dpkg-deb -x "$deb" "$tmp"
src=$tmp/usr/share/datasets/fashion-mnist
complete "$src" || die "$deb: its files do not match the pinned sha256s; delete it and run again"
mkdir -p "$out"
for name in "${!SHA256[@]}"; do
  cp "$src/$name" "$out/$name.tmp" && mv "$out/$name.tmp" "$out/$name"
done
echo "==> fashion-mnist: wrote the four IDX .gz files to $out/ (sha256 checked)"
