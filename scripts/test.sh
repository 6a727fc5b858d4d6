#!/usr/bin/env bash
# Runs every test: installs what is missing (wasm target, cargo-leptos, wasm-bindgen CLI,
# npm packages, Debian's Chromium, Debian's prometheus for promtool, Debian's redis-server),
# checks formatting and
# lints, runs the Rust unit and integration tests, builds the release site and runs the
# Playwright specs against it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/setup.sh

# Installs Debian package $2 unless command $1 is there; $3 says what it is for.
apt_tool() {
  local cmd=$1 package=$2 why=$3
  if command -v "$cmd" >/dev/null; then
    say "$package: present ($("$cmd" --version 2>&1 | grep -v "unexpected operator" | head -n1))"
  else
    say "installing Debian's $package ($why)"
    local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$package" >/dev/null
  fi
}
apt_tool chromium chromium "the Playwright specs"
# server/tests/observability.rs lints a /metrics scrape with `promtool check metrics`.
apt_tool promtool prometheus "promtool, the /metrics lint"
# server/tests/cluster_*.rs start their own redis-server (free loopback port, temporary dir, AOF).
apt_tool redis-server redis-server "the scale-out tests"

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
# The cluster spec runs two nodes sharing a Redis: one redis-server on a free loopback port,
# AOF on, in a temporary directory, stopped (and removed) however this script ends.
REDIS_DIR=$(mktemp -d)
REDIS_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$REDIS_DIR" --appendonly yes --save "" \
  --daemonize no >"$REDIS_DIR/redis.log" 2>&1 &
REDIS_PID=$!
trap 'kill "$REDIS_PID" 2>/dev/null; wait "$REDIS_PID" 2>/dev/null; rm -rf "$REDIS_DIR"' EXIT
until redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; do
  kill -0 "$REDIS_PID" 2>/dev/null || { cat "$REDIS_DIR/redis.log" >&2; exit 1; }
  sleep 0.1
done
say "redis-server for the cluster spec on 127.0.0.1:$REDIS_PORT (AOF in $REDIS_DIR)"
say "Playwright specs in Debian's Chromium"
(cd end2end && PULSE_E2E_REDIS="redis://127.0.0.1:$REDIS_PORT" npx playwright test)
say "all tests passed"
