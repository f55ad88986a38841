#!/usr/bin/env bash
# `npm start`: runs the function behind cargo-lambda's Function URL emulator on
# 127.0.0.1 (PORT, default 9000), and prints how to watch it stream.
# Ctrl-C stops it. Code changes are rebuilt and reloaded automatically.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-tools.sh
ensure_python_tools

port="${PORT:-9000}"
base="http://127.0.0.1:$port/lambda-url/sse-function"

# Its own process group, so Ctrl-C stops the emulator and the function it runs.
set -m
# --disable-cors: answer OPTIONS as a deployed URL without a CORS configuration does (405).
cargo lambda watch --disable-cors --invoke-address 127.0.0.1 --invoke-port "$port" &
watch_pid=$!
set +m
trap 'kill -TERM -- "-$watch_pid" 2>/dev/null || true' EXIT INT TERM

echo "==> building and starting the function (the first build takes a minute or two)" >&2
until curl -fsS -o /dev/null "$base/health" 2>/dev/null; do
  kill -0 "$watch_pid" 2>/dev/null || { echo "the emulator stopped; see its output above" >&2; exit 1; }
  sleep 1
done

cat <<MSG

  lambda-sse is running behind the Function URL emulator:

    $base/events

  Watch a job's progress stream (an event every 2 seconds):

    curl -N $base/events

  Faster:  curl -N "$base/events?interval_ms=200&steps=20"
  Health:  curl $base/health
  Ctrl-C stops it.

MSG
wait "$watch_pid"
