#!/usr/bin/env bash
# Runs every test: installs what is missing (wasm target, cargo-leptos, wasm-bindgen CLI,
# npm packages, Debian's Chromium, Debian's prometheus for promtool), checks formatting and
# lints, runs the Rust unit and integration tests, builds the release site and runs the
# Playwright specs against it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/setup.sh

if [ -x /usr/bin/chromium ]; then
  say "Chromium: present ($(/usr/bin/chromium --version 2>/dev/null | head -n1))"
else
  say "installing Debian's chromium for the Playwright specs"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

# server/tests/observability.rs lints a /metrics scrape with `promtool check metrics`.
if command -v promtool >/dev/null; then
  say "promtool: present ($(promtool --version 2>&1 | head -n1))"
else
  say "installing Debian's prometheus for promtool (the /metrics lint)"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq prometheus >/dev/null
fi

say "cargo fmt --check"
cargo fmt --all -- --check
say "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --quiet -- -D warnings
# Each crate is tested on its own: `cargo test --workspace` would unify app's `ssr` and
# `hydrate` features, and with `hydrate` on, the server's Effects try to run as in a browser.
say "cargo test -p app --features ssr (unit tests of the shared crate)"
cargo test -p app --features ssr
say "cargo test -p server (unit tests + integration tests on a real server)"
cargo test -p server
# The live page's WASM must stay within issue 6's goal (200 KB gzip): a regression fails the run.
WASM_BUDGET_GZ="${WASM_BUDGET_GZ:-200000}" bash scripts/build.sh
say "Playwright specs in Debian's Chromium"
(cd end2end && npx playwright test)
say "all tests passed"
