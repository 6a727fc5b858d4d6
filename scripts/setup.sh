#!/usr/bin/env bash
# Installs everything Pulse needs to build, run and test on a fresh machine of this kind
# (Rust toolchain, node/npm and apt present). Each step is skipped when what it installs is
# already there at the right version. Sourced by scripts/run.sh and scripts/test.sh.
set -euo pipefail

CARGO_LEPTOS_VERSION=0.3.11
WASM_BINDGEN_VERSION=0.2.130
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

say() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }

# Unpacks a crate from crates.io, pins one dependency whose newest version needs a newer rustc,
# and installs it from the unpacked source with its lockfile.
install_crate_pinned() {
  local name=$1 version=$2 pin_spec=$3 pin_version=$4
  shift 4
  local work
  work=$(mktemp -d)
  say "downloading $name $version from crates.io"
  curl -sSfL --retry 3 -o "$work/$name.crate" \
    "https://static.crates.io/crates/$name/$name-$version.crate"
  tar -xzf "$work/$name.crate" -C "$work"
  (
    cd "$work/$name-$version"
    say "pinning $pin_spec to $pin_version (the published lockfile does not build on this rustc)"
    cargo update -p "$pin_spec" --precise "$pin_version"
    say "building $name $version (this is the slow step on a cold machine)"
    # A tool needs no fat LTO: a plain optimised build takes minutes less on 2 cores.
    CARGO_TARGET_DIR="$work/target" CARGO_PROFILE_RELEASE_LTO=false \
      CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 cargo install --path . --locked --quiet "$@"
  )
  rm -rf "$work"
}

if rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "wasm32-unknown-unknown target: present"
else
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if command -v wasm-bindgen >/dev/null && wasm-bindgen --version | grep -q " $WASM_BINDGEN_VERSION\$"; then
  say "wasm-bindgen $WASM_BINDGEN_VERSION: present"
else
  install_crate_pinned wasm-bindgen-cli "$WASM_BINDGEN_VERSION" webpki-roots@1.0.11 1.0.10
fi

if command -v cargo-leptos >/dev/null && cargo-leptos --version | grep -q " $CARGO_LEPTOS_VERSION\$"; then
  say "cargo-leptos $CARGO_LEPTOS_VERSION: present"
else
  install_crate_pinned cargo-leptos "$CARGO_LEPTOS_VERSION" cargo-util-schemas 0.14.1 \
    --features no_downloads
fi

if [ -x "$ROOT/end2end/node_modules/.bin/playwright" ] && [ -x "$ROOT/end2end/node_modules/.bin/wasm-opt" ] \
  && [ "$ROOT/end2end/node_modules/.package-lock.json" -nt "$ROOT/end2end/package-lock.json" ]; then
  say "npm packages (Playwright, binaryen's wasm-opt): present"
else
  say "installing npm packages in end2end/ (Playwright test runner, binaryen's wasm-opt)"
  (cd "$ROOT/end2end" && npm ci --no-audit --no-fund)
fi
# cargo-leptos runs wasm-opt from PATH on release builds; binaryen from npm is the one that works.
export PATH="$ROOT/end2end/node_modules/.bin:$PATH"
