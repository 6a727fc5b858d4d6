#!/usr/bin/env bash
# Runs two Pulse nodes on this machine sharing a local redis-server (issue 14): Redis on
# 127.0.0.1:${PULSE_REDIS_PORT:-6390} in a temporary directory with AOF on, node-a on
# http://127.0.0.1:3000 and node-b on http://127.0.0.1:3001. Ctrl-C drains both nodes (each
# acks its last entries and leaves the cluster), then stops Redis. Needs Debian's redis-server.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/setup.sh

command -v redis-server >/dev/null || { echo "needs redis-server: apt-get install redis-server" >&2; exit 1; }
bash scripts/build.sh

PORT="${PULSE_REDIS_PORT:-6390}"
DIR="$(mktemp -d)"
redis-server --port "$PORT" --bind 127.0.0.1 --dir "$DIR" --appendonly yes --save "" \
  --daemonize no >"$DIR/redis.log" 2>&1 &
REDIS=$!
until redis-cli -p "$PORT" ping >/dev/null 2>&1; do
  kill -0 "$REDIS" 2>/dev/null || { cat "$DIR/redis.log" >&2; exit 1; }
  sleep 0.1
done
say "redis-server on 127.0.0.1:$PORT (AOF in $DIR)"

export LEPTOS_SITE_ROOT="$ROOT/target/site" LEPTOS_SITE_PKG_DIR=pkg LEPTOS_OUTPUT_NAME=pulse LEPTOS_ENV=PROD
export PULSE_BUS="redis://127.0.0.1:$PORT"
PULSE_ADDR=127.0.0.1:3000 PULSE_NODE_NAME=node-a PULSE_DATA_DIR="$DIR/node-a" "$ROOT/target/release/server" &
A=$!
PULSE_ADDR=127.0.0.1:3001 PULSE_NODE_NAME=node-b PULSE_DATA_DIR="$DIR/node-b" "$ROOT/target/release/server" &
B=$!
stop() {
  kill -TERM "$A" "$B" 2>/dev/null || true
  wait "$A" "$B" 2>/dev/null || true
  kill -TERM "$REDIS" 2>/dev/null || true
  wait "$REDIS" 2>/dev/null || true
}
trap stop INT TERM EXIT
say "node-a: http://127.0.0.1:3000  node-b: http://127.0.0.1:3001  cluster: /api/cluster (Ctrl-C stops all)"
wait "$A" "$B"
