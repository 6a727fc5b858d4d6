#!/usr/bin/env bash
# Prints what a visitor downloads: every .wasm chunk under target/site/pkg after
# `cargo leptos build --release --precompress --split`, raw, as served gzip (cargo-leptos'
# .gz), as `gzip -9` would make it, and as served brotli (.br, what Chromium gets).
# `pulse.wasm` is what `/` loads; `split_*.wasm` are lazy chunks (e.g. `/dashboard`).
# With WASM_BUDGET_GZ=<bytes>, exits 1 when pulse.wasm's served .gz is larger than that.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PKG="$ROOT/target/site/pkg"
size() { if [ -f "$1" ]; then wc -c <"$1" | tr -d ' '; else echo "-"; fi; }
kb() { if [ "$1" = "-" ]; then echo "-"; else awk -v b="$1" 'BEGIN { printf "%.1f KB", b / 1000 }'; fi; }

printf '%-58s %11s %11s %11s %11s\n' chunk raw ".gz served" "gzip -9" ".br served"
for f in "$PKG"/*.wasm; do
  printf '%-58s %11s %11s %11s %11s\n' "$(basename "$f")" "$(kb "$(size "$f")")" \
    "$(kb "$(size "$f.gz")")" "$(kb "$(gzip -9 -c "$f" | wc -c | tr -d ' ')")" "$(kb "$(size "$f.br")")"
done

if [ -n "${WASM_BUDGET_GZ:-}" ]; then
  main_gz=$(size "$PKG/pulse.wasm.gz")
  if [ "$main_gz" = "-" ] || [ "$main_gz" -gt "$WASM_BUDGET_GZ" ]; then
    echo "pulse.wasm.gz is $main_gz bytes, over the budget of $WASM_BUDGET_GZ: see docs/performance.md," \
      "\"What a visitor downloads\"" >&2
    exit 1
  fi
  echo "pulse.wasm.gz: $main_gz bytes, within the budget of $WASM_BUDGET_GZ"
fi
