#!/usr/bin/env bash
# Builds the release site (server binary + WASM) the way run.sh and test.sh serve it:
# - `--split`: lazy routes (`/dashboard`) become their own WASM chunks, so `/` downloads only
#   pulse.wasm (see docs/performance.md, "What a visitor downloads");
# - `--precompress`: .br and .gz beside every file; the .gz of the WASM and JS are then redone
#   with `gzip -9` (cargo-leptos' own gzip is ~15 % larger). Prints the chunks' sizes.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/setup.sh

say "building the release site (server + split WASM) with cargo-leptos"
cargo leptos build --release --precompress --split
for f in target/site/pkg/*.wasm target/site/pkg/*.js; do
  gzip -9 -n -k -f "$f"
done
scripts/wasm-size.sh
