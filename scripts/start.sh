#!/usr/bin/env bash
# `npm start`: runs the function behind cargo-lambda's Function URL emulator on
# 127.0.0.1 (PORT, default 9000) with a local DynamoDB (dynalite, on
# 127.0.0.1:DYNAMO_PORT, default 8000) holding the durable streams table, and
# prints how to subscribe and publish. Ctrl-C stops both. Code changes are
# rebuilt and reloaded automatically.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-tools.sh
ensure_python_tools

[ -x node_modules/.bin/dynalite ] || npm ci --no-audit --no-fund

port="${PORT:-9000}"
dynamo_port="${DYNAMO_PORT:-8000}"
base="http://127.0.0.1:$port/lambda-url/sse-function"
# What the function and sse-publish need to reach the local table; dynalite
# takes any credentials.
local_env=(
  SSE_TABLE_NAME=sse-local
  AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$dynamo_port"
  AWS_REGION=us-east-1
  AWS_ACCESS_KEY_ID=local
  AWS_SECRET_ACCESS_KEY=local
)

# Each in its own process group, so Ctrl-C stops them and what they started.
set -m
node_modules/.bin/dynalite --host 127.0.0.1 --port "$dynamo_port" >/dev/null &
dynamo_pid=$!
set +m
trap 'kill -TERM -- "-$dynamo_pid" 2>/dev/null || true' EXIT INT TERM

echo "==> building sse-publish and creating the durable streams table" >&2
cargo build -q --bin sse-publish
for _ in $(seq 50); do
  env "${local_env[@]}" target/debug/sse-publish --create-table >&2 && break
  kill -0 "$dynamo_pid" 2>/dev/null || { echo "dynalite did not start (is port $dynamo_port free? set DYNAMO_PORT)" >&2; exit 1; }
  sleep 0.2
done

env_args=()
for pair in "${local_env[@]}"; do env_args+=(--env-var "$pair"); done
set -m
# --disable-cors: answer OPTIONS as a deployed URL without a CORS configuration does (405).
cargo lambda watch --disable-cors --invoke-address 127.0.0.1 --invoke-port "$port" "${env_args[@]}" &
watch_pid=$!
set +m
trap 'kill -TERM -- "-$watch_pid" "-$dynamo_pid" 2>/dev/null || true' EXIT INT TERM

echo "==> building and starting the function (the first build takes a minute or two)" >&2
until curl -fsS -o /dev/null "$base/health" 2>/dev/null; do
  kill -0 "$watch_pid" 2>/dev/null || { echo "the emulator stopped; see its output above" >&2; exit 1; }
  sleep 1
done

cat <<MSG

  lambda-sse is running behind the Function URL emulator:

    $base/events

  Watch it in a browser (a progress bar, the events, the reconnects):

    $base/?stream=%2Fevents%3Fsteps%3D20%26interval_ms%3D500

  Watch a job's progress stream (an event every 2 seconds):

    curl -N $base/events

  Faster:  curl -N "$base/events?interval_ms=200&steps=20"
  Health:  curl $base/health

  A durable stream: subscribe (it waits for the first event)...

    curl -N $base/streams/demo

  ...and publish to it from another terminal:

    export ${local_env[*]}
    target/debug/sse-publish --stream demo "hello"
    (for i in 1 2 3; do echo "line \$i"; sleep 1; done) | target/debug/sse-publish --stream demo --lines --final

  Ctrl-C stops it.

MSG
wait "$watch_pid"
