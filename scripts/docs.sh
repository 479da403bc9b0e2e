#!/usr/bin/env bash
# Writes the book's reference pages that the code makes (docs/src/reference/cli.md from clap,
# config.md from the key table), then builds the book into docs/book/ when mdbook is on the PATH
# or was installed by scripts/setup.sh --docs. A unit test (cli::reference) fails when a
# committed page differs from what the code makes: run this and commit the pages.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
for page in cli config; do
  target/release/rowseq reference "$page" > "docs/src/reference/$page.md.tmp"
  mv "docs/src/reference/$page.md.tmp" "docs/src/reference/$page.md"
done
echo "==> wrote docs/src/reference/cli.md and config.md"
