#!/usr/bin/env bash
# Runs Pulse: installs what is missing, builds the release site with cargo-leptos, and serves it
# on http://127.0.0.1:3000 (set PULSE_ADDR=host:port to change). Embedded: nothing else to start.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/setup.sh

bash scripts/build.sh

export LEPTOS_SITE_ROOT="$ROOT/target/site" LEPTOS_SITE_PKG_DIR=pkg LEPTOS_OUTPUT_NAME=pulse LEPTOS_ENV=PROD
export PULSE_ADDR="${PULSE_ADDR:-127.0.0.1:3000}"
say "starting Pulse on http://$PULSE_ADDR (Ctrl-C drains the pipeline and stops)"
exec "$ROOT/target/release/server"
