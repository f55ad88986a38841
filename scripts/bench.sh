#!/usr/bin/env bash
# The benchmark suite: every figure of docs/benchmarks.md, measured against a
# baseline in the same run, then written into docs/benchmarks.md.
#
#   npm run bench            (or: bash scripts/bench.sh)
#
# Environment:
#   BENCH_COLD_RUNS   cold starts per binary for figure 1 (default 30)
#   BENCH_WATCH_PORT  port for `cargo lambda watch` (default 9137, 127.0.0.1 only)
#   BENCH_SKIP_ARM64  set to 1 to skip the arm64 package (figure 6)
#
# Every process this script starts is bounded by `timeout` and stopped on exit.
# Servers bind to 127.0.0.1 only. Results: target/bench/results.env.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/ensure-tools.sh
source scripts/ensure-tools.sh
ensure_python_tools

out="$root/target/bench"
results="$out/results.env"
mkdir -p "$out"
: >"$results"
port="${BENCH_WATCH_PORT:-9137}"
cold_runs="${BENCH_COLD_RUNS:-30}"
watch_pid=""

cleanup() {
  if [[ -n "$watch_pid" ]] && kill -0 "$watch_pid" 2>/dev/null; then
    # The emulator runs in its own process group (setsid): stop all of it.
    kill -TERM -- "-$watch_pid" 2>/dev/null || true
    sleep 1
    kill -KILL -- "-$watch_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT

put() { echo "$1=$2" >>"$results"; echo "  $1 = $2"; }
step() { echo "==> $*" >&2; }

step "machine"
put machine.nproc "$(nproc)"
put machine.cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
put machine.memory "$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
put machine.kernel "$(uname -sr)"
put machine.rustc "$(rustc --version)"
put machine.cargo_lambda "$(cargo lambda --version 2>/dev/null | head -1)"
put machine.date "$(date -u '+%Y-%m-%d %H:%M UTC')"

step "build (release profile: the baseline, the function, the runner)"
timeout 1200 cargo build --release --quiet \
  -p lambda-sse --bin sse-function \
  -p lambda-sse-bench --bin baseline --bin lambda-sse-bench
bin="$root/target/release"
runner="$bin/lambda-sse-bench"

put machine.load_before "$(cut -d' ' -f1-3 /proc/loadavg)"

step "figures 1, 2, 5: cold start, peak RSS, time to first event (fake Runtime API)"
timeout 300 "$runner" runtime \
  --baseline "$bin/baseline" \
  --function "$bin/sse-function" \
  --cold-runs "$cold_runs" \
  --out "$results"

step "figure 4: encoder throughput (criterion)"
rm -rf "$root/target/criterion/sse_progress" "$root/target/criterion/sse_64KiB"
timeout 900 cargo bench --quiet -p lambda-sse --bench encoder -- --noplot \
  | grep -E '^(sse/|[[:space:]]+(time|thrpt):)' || true
"$runner" criterion --dir "$root/target/criterion" --out "$results"

step "figure 3: delivery through cargo lambda watch (1000 events, 10 ms apart)"
setsid timeout 900 cargo lambda watch --release --quiet --ignore-changes --disable-cors \
  -A 127.0.0.1 -P "$port" \
  --env-var SSE_WINDOW_MS=120000 \
  >"$out/watch.log" 2>&1 &
watch_pid=$!
url="http://127.0.0.1:$port/lambda-url"
for binary in baseline sse-function; do
  # The first request starts (and if need be builds) the binary.
  timeout 600 bash -c "until curl -sf -m 300 '$url/$binary/health' -o /dev/null; do sleep 1; done"
done
timeout 60 "$runner" delivery --url "$url/baseline/events" --steps 1000 --interval-ms 10 \
  --prefix delivery_baseline --out "$results"
timeout 60 "$runner" delivery --url "$url/sse-function/events" --steps 1000 --interval-ms 10 \
  --prefix delivery --out "$results"
# Diagnostic: the same, with the client acknowledging every segment at once
# (TCP_QUICKACK). What changes is the emulator-to-client hop only.
timeout 60 "$runner" delivery --url "$url/sse-function/events" --steps 1000 --interval-ms 10 \
  --prefix delivery_quickack --quickack --out "$results"
cleanup
watch_pid=""
put machine.load_after "$(cut -d' ' -f1-3 /proc/loadavg)"

step "figures 7-9: durable streams against dynalite on 127.0.0.1"
[ -x node_modules/.bin/dynalite ] || npm ci --no-audit --no-fund
dynamo_port="${BENCH_DYNAMO_PORT:-9138}"
proxy_port="${BENCH_PROXY_PORT:-9139}"
setsid node_modules/.bin/dynalite --host 127.0.0.1 --port "$dynamo_port" >"$out/dynalite.log" 2>&1 &
dynamo_pid=$!
stop_dynamo() { kill -TERM -- "-$dynamo_pid" 2>/dev/null || true; }
trap 'cleanup; stop_dynamo' EXIT
timeout 30 bash -c "until (echo > /dev/tcp/127.0.0.1/$dynamo_port) 2>/dev/null; do sleep 0.1; done"
dynamo="http://127.0.0.1:$dynamo_port"
timeout 300 "$runner" durable --dynamo "$dynamo" \
  --baseline "$bin/baseline" --function "$bin/sse-function" --out "$results"
# The function reads through the runner's counting proxy; a 36 s window ends
# the idle subscriber's response just after the 35 s it is counted.
setsid timeout 900 cargo lambda watch --release --quiet --ignore-changes --disable-cors \
  -A 127.0.0.1 -P "$port" \
  --env-var SSE_WINDOW_MS=36000 \
  --env-var SSE_TABLE_NAME=sse-bench \
  --env-var AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$proxy_port" \
  --env-var AWS_REGION=us-east-1 \
  --env-var AWS_ACCESS_KEY_ID=local \
  --env-var AWS_SECRET_ACCESS_KEY=local \
  >"$out/watch-durable.log" 2>&1 &
watch_pid=$!
timeout 600 bash -c "until curl -sf -m 300 '$url/sse-function/health' -o /dev/null; do sleep 1; done"
timeout 300 "$runner" durable --dynamo "$dynamo" --url "$url/sse-function" \
  --proxy-port "$proxy_port" --out "$results"
cleanup
watch_pid=""
stop_dynamo

step "figure 6: deployment package (zipped bootstrap, cargo lambda build --release)"
package() { # arch, extra flags...
  local arch="$1"; shift
  local dir="$out/lambda-$arch"
  rm -rf "$dir"
  if timeout 900 cargo lambda build --release --quiet --output-format zip --lambda-dir "$dir" "$@" \
      -p lambda-sse --bin sse-function -p lambda-sse-bench --bin baseline \
      >"$out/package-$arch.log" 2>&1; then
    put "zip.$arch.bytes" "$(stat -c %s "$dir/sse-function/bootstrap.zip")"
    put "zip.$arch.baseline_bytes" "$(stat -c %s "$dir/baseline/bootstrap.zip")"
    put "zip.$arch.unzipped_bytes" "$(unzip -l "$dir/sse-function/bootstrap.zip" | awk 'END {print $1}')"
    put "zip.$arch.status" "built"
  else
    put "zip.$arch.status" "not built: $(grep -m1 -iE 'error' "$out/package-$arch.log" | tr -d '\r' | cut -c1-160)"
  fi
}
package x86_64
if [[ "${BENCH_SKIP_ARM64:-}" != 1 ]]; then
  package arm64 --arm64
fi

step "cost model inputs (AWS Lambda list prices, us-east-1)"
# https://aws.amazon.com/lambda/pricing/ (first pricing tier): duration per
# GB-second, by architecture, and requests per million.
put cost.region us-east-1
put cost.arm64_gbs_price 0.0000133334
put cost.x86_gbs_price 0.0000166667
put cost.request_price_per_million 0.20
# The default job: 11 steps, 2 s apart, and the complete event: about 22 s.
put cost.seconds 22
# https://aws.amazon.com/dynamodb/pricing/on-demand/: read request units per
# million (a strongly consistent read of up to 4 KB is one unit).
put cost.read_price_per_million 0.125

step "report: docs/benchmarks.md"
"$runner" report --results "$results" --template "$root/bench/benchmarks.md.in" \
  --out "$root/docs/benchmarks.md"
echo "wrote docs/benchmarks.md (raw values: target/bench/results.env)"
