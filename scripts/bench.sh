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
#   BENCH_IDLE_SECONDS how long figures 10, 11 and 14 count idle streams (default 30)
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

step "figures 10-14: 1,000 subscribers in one process (fake Runtime API, dynalite)"
# The function is handed 1,000 invocations at once (AWS_LAMBDA_MAX_CONCURRENCY)
# and reads through a second counting proxy.
timeout 600 "$runner" many --dynamo "$dynamo" --proxy-port "${BENCH_MANY_PROXY_PORT:-9140}" \
  --function "$bin/sse-function" --idle-seconds "${BENCH_IDLE_SECONDS:-30}" --out "$results"
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
# Figures 10-14 cost model: Managed Instances, on-demand Lambda, AppSync
# Events, per 1,000 subscriber-hours (bench/src/cost.rs). Prices us-east-1,
# checked 2026 against stored copies of the pages named (see each line).
# On-demand Lambda: each subscriber holds one invocation of this size (MB).
put cost.on_demand_memory_mb 128
# https://aws.amazon.com/lambda/pricing/ (Lambda Managed Instances): "$0.20
# per million requests" and a compute management fee of "15% premium on the
# EC2 on-demand instance price" (both quoted verbatim from that page in a
# transcription read 2026-09-20; AWS's own page not seen directly here).
put cost.lmi_request_price_per_million 0.20
put cost.lmi_fee 0.15
# https://aws.amazon.com/ec2/pricing/on-demand/: m7g.large (Graviton3, arm64,
# 2 vCPU, 8 GiB), Linux, us-east-1, $0.0816 an hour. Not confirmed on AWS's
# page itself (its rate table is rendered client-side); as of 2026-06 per a
# third-party rate card (factualminds.com, "EC2 On-Demand Pricing ... 2026").
# c7g.large (2 vCPU, 4 GiB) fits the 2 GiB per vCPU default better and is
# probably cheaper (its price not checked here).
put cost.ec2_instance m7g.large
put cost.ec2_hourly 0.0816
put cost.ec2_vcpus 2
put cost.ec2_memory_gib 8
# One execution environment: 1 vCPU and 2 GiB (cdk/sse-managed-instances.ts:
# 2048 MB default memory, DEFAULT_MANAGED_INSTANCES_MEMORY_PER_VCPU 2; "The
# minimum supported function size is 2GB and 1 vCPU",
# https://docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances-best-practices.html).
put cost.lmi_env_vcpus 1
put cost.lmi_env_memory_gib 2
# Lambda "launches three by default for AZ resiliency", kept running idle
# (https://docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances-scaling.html;
# DEFAULT_MANAGED_INSTANCES_MIN_ENVIRONMENTS 3 in cdk/sse-managed-instances.ts).
put cost.lmi_min_environments 3
# Streams per environment: the CDK default (DEFAULT_MANAGED_INSTANCES_MAX_CONCURRENCY
# 64), and 1,000, what `many` runs in one process (figures 10, 11); the API
# allows up to 1600 (PerExecutionEnvironmentMaxConcurrency,
# https://docs.aws.amazon.com/lambda/latest/api/API_LambdaManagedInstancesCapacityProviderConfig.html).
put cost.lmi_concurrency 64
put cost.lmi_concurrency_high 1000
# Requests per subscriber-hour: one response per window, SSE_WINDOW_MS
# default 120000 ms (function/src/settings.rs WINDOW_MS): 3600 s / 120 s = 30.
put cost.reconnects_per_hour 30
# https://aws.amazon.com/appsync/pricing/ (AppSync Events): $1.00 per million
# Event API operations (AWS price list, "$1 per million Event API operations",
# seen for eu-west-1; us-east-1 assumed the same) and $0.08 per million
# connection-minutes (confirmed on the stored page for AppSync's real-time
# connections; the Events line itself unconfirmed, as of 2026).
put cost.appsync_operation_price_per_million 1.00
put cost.appsync_connection_minute_price_per_million 0.08
# Assumption for the AppSync comparison: events delivered per subscriber-minute.
put cost.appsync_events_per_minute 1

step "report: docs/benchmarks.md"
"$runner" report --results "$results" --template "$root/bench/benchmarks.md.in" \
  --out "$root/docs/benchmarks.md"
echo "wrote docs/benchmarks.md (raw values: target/bench/results.env)"
