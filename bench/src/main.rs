//! Whole-process measurements for `scripts/bench.sh`. Every figure is taken
//! against the baseline (`src/bin/baseline.rs`) in the same run.
//!
//! ```text
//! lambda-sse-bench runtime   --baseline B --function F [--cold-runs N] --out FILE
//! lambda-sse-bench delivery  --url URL --steps N --interval-ms MS [--prefix P] [--quickack] --out FILE
//! lambda-sse-bench criterion --dir target/criterion --out FILE
//! lambda-sse-bench durable   --dynamo ENDPOINT [--baseline B --function F] [--url URL --proxy-port P] --out FILE
//! lambda-sse-bench many      --dynamo ENDPOINT --proxy-port P --function F [--subscribers N --streams S --idle-seconds T --events E --interval-ms MS] --out FILE
//! lambda-sse-bench report    --results FILE --template IN --out OUT
//! ```
//!
//! `runtime` runs each binary against a fresh fake Runtime API (figures 1, 2
//! and 5); `delivery` reads one SSE stream over HTTP/1.1 and timestamps every
//! read (figure 3, through `cargo lambda watch`); `criterion` reads the
//! encoder benchmark's results (figure 4); `durable` measures durable streams
//! against a local DynamoDB (figures 7 to 9, see `durable.rs`); `many` runs
//! many subscribers in one process (figures 10 to 14, see `many.rs`); each
//! appends `key=value` lines to FILE. `report` fills the `{{key}}` placeholders of a template
//! with those values (and the verdicts it works out) into `docs/benchmarks.md`.

mod api;
mod cost;
mod durable;
mod many;
mod wire;

use api::{FakeApi, Record};
use std::{
    collections::BTreeMap,
    fs,
    io::{self, Write},
    net::TcpStream,
    path::Path,
    process::{Child, Command, ExitCode, Stdio},
    time::{Duration, Instant},
};
use wire::{Conn, blocks, ms_between, percentile, schedule_lags};

const FIXTURE: &str = include_str!("../../function/tests/fixtures/function-url-get.json");

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("runtime") => runtime(&Args(&args[1..])),
        Some("delivery") => delivery(&Args(&args[1..])),
        Some("report") => report(&Args(&args[1..])),
        Some("criterion") => criterion(&Args(&args[1..])),
        Some("durable") => durable::durable(&Args(&args[1..])),
        Some("many") => many::many(&Args(&args[1..])),
        _ => Err(
            "usage: lambda-sse-bench runtime|delivery|criterion|durable|many|report [options]"
                .into(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("lambda-sse-bench: {error}");
            ExitCode::FAILURE
        }
    }
}

type Result<T, E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

struct Args<'a>(&'a [String]);

impl Args<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        let flag = format!("--{name}");
        self.0
            .windows(2)
            .find(|w| w[0] == flag)
            .map(|w| w[1].as_str())
    }

    fn need(&self, name: &str) -> Result<&str> {
        self.get(name)
            .ok_or_else(|| format!("missing --{name}").into())
    }

    fn number(&self, name: &str, default: u64) -> Result<u64> {
        self.get(name).map_or(Ok(default), |v| {
            v.parse().map_err(|e| format!("--{name}: {e}").into())
        })
    }
}

/// `key=value` lines, appended to the results file and echoed.
struct Results {
    file: fs::File,
}

impl Results {
    fn open(path: &str) -> Result<Self> {
        let file = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(Self { file })
    }

    fn put(&mut self, key: &str, value: impl std::fmt::Display) -> Result<()> {
        println!("  {key} = {value}");
        writeln!(self.file, "{key}={value}")?;
        Ok(())
    }

    fn ms(&mut self, key: &str, value: f64) -> Result<()> {
        self.put(key, format!("{value:.3}"))
    }
}

/// A Function URL `GET /events?steps=..&interval_ms=..` event.
fn events_request(steps: u32, interval_ms: u32) -> String {
    let mut event: serde_json::Value = serde_json::from_str(FIXTURE).expect("fixture is JSON");
    event["rawQueryString"] = format!("interval_ms={interval_ms}&steps={steps}").into();
    event["queryStringParameters"] = serde_json::json!({
        "interval_ms": interval_ms.to_string(),
        "steps": steps.to_string(),
    });
    event.to_string()
}

/// A function process, killed when dropped.
struct Function {
    child: Child,
}

impl Function {
    fn spawn(binary: &str, api: &FakeApi, env: &[(&str, &str)]) -> Result<Self> {
        let child = Command::new(binary)
            .env("AWS_LAMBDA_RUNTIME_API", api.endpoint())
            .env("AWS_LAMBDA_FUNCTION_NAME", "bench")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_FORMAT", "Text")
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("{binary}: {e}"))?;
        Ok(Self { child })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Peak resident set size so far (VmHWM), in KiB.
    fn peak_rss_kib(&self) -> Result<u64> {
        let status = fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| "no VmHWM in /proc/<pid>/status".into())
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Figures 1, 2 and 5.
fn runtime(args: &Args) -> Result<()> {
    let baseline = args.need("baseline")?;
    let function = args.need("function")?;
    let cold_runs = args.number("cold-runs", 30)? as usize;
    let mut out = Results::open(args.need("out")?)?;

    // Figure 1: process start to the first GET /next, binaries interleaved
    // so that both see the same machine; one warm-up round not counted.
    println!("figure 1: cold start ({cold_runs} runs each)");
    out.put("cold_runs", cold_runs)?;
    out.put("ttfe_runs", FIRST_EVENT_RUNS)?;
    let mut cold: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for round in 0..=cold_runs {
        for (name, binary) in [("baseline", baseline), ("function", function)] {
            let api = FakeApi::start()?;
            let started = Instant::now();
            let process = Function::spawn(binary, &api, &[])?;
            let first = api
                .wait_first_next(Duration::from_secs(10))
                .ok_or_else(|| format!("{binary} never asked for work"))?;
            drop(process);
            if round > 0 {
                cold.entry(name)
                    .or_default()
                    .push(ms_between(started, first));
            }
        }
    }
    for (name, values) in &cold {
        out.ms(&format!("cold.{name}.p50"), percentile(values, 50.0))?;
        out.ms(&format!("cold.{name}.p90"), percentile(values, 90.0))?;
        out.ms(&format!("cold.{name}.min"), percentile(values, 0.0))?;
    }

    // Figure 5: time to first event, and whether later events keep time.
    // `baseline_nodelay` is the baseline through `runtime_client::run`, the
    // fix the function's `serve()` uses: it shows the stall is the runtime's.
    println!("figure 5: time to first event");
    type Variant<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);
    let variants: [Variant; 3] = [
        ("baseline", baseline, &[]),
        ("baseline_nodelay", baseline, &[("BENCH_NODELAY", "1")]),
        ("function", function, &[]),
    ];
    for (name, binary, env) in variants {
        first_event(name, binary, env, &mut out)?;
    }

    // Figure 2: peak RSS over a stream of 1000 events (10 ms apart).
    println!("figure 2: peak RSS, 1000 events");
    for (name, binary) in [("baseline", baseline), ("function", function)] {
        let mut api = FakeApi::start()?;
        let process = Function::spawn(binary, &api, &[])?;
        let record = api
            .invoke(events_request(1000, 10), Duration::from_secs(60))
            .ok_or_else(|| format!("{binary}: the 1000-event stream did not finish"))?;
        let events = blocks(&record.chunks, body_start(&record))
            .iter()
            .filter(|b| b.step().is_some())
            .count();
        out.put(&format!("rss.{name}.kib"), process.peak_rss_kib()?)?;
        out.put(&format!("rss.{name}.events"), events)?;
        let (lags, batched) = schedule_lags(
            &blocks(&record.chunks, body_start(&record)),
            Duration::from_millis(10),
        );
        out.ms(&format!("api_lag.{name}.p50"), percentile(&lags, 50.0))?;
        out.ms(&format!("api_lag.{name}.p99"), percentile(&lags, 99.0))?;
        out.put(&format!("api_lag.{name}.batched"), batched)?;
    }
    Ok(())
}

/// Where the body proper starts: after the prelude and its 8 NUL bytes.
fn body_start(record: &Record) -> usize {
    let body: Vec<u8> = record.chunks.iter().flat_map(|c| c.bytes.clone()).collect();
    body.windows(8)
        .position(|w| w == [0u8; 8])
        .map_or(0, |at| at + 8)
}

/// When the byte at `offset` of the body arrived.
fn arrival_of(record: &Record, offset: usize) -> Option<Instant> {
    let mut end = 0;
    record.chunks.iter().find_map(|c| {
        end += c.bytes.len();
        (end > offset).then_some(c.at)
    })
}

const FIRST_EVENT_RUNS: usize = 12;
const FIRST_EVENT_STEPS: u32 = 4;
const FIRST_EVENT_INTERVAL_MS: u32 = 50;

fn first_event(name: &str, binary: &str, env: &[(&str, &str)], out: &mut Results) -> Result<()> {
    let mut api = FakeApi::start()?;
    let _process = Function::spawn(binary, &api, env)?;
    let (mut prelude, mut first, mut later) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..FIRST_EVENT_RUNS {
        let record = api
            .invoke(
                events_request(FIRST_EVENT_STEPS, FIRST_EVENT_INTERVAL_MS),
                Duration::from_secs(10),
            )
            .ok_or_else(|| format!("{binary}: no response"))?;
        let handed = record.handed.ok_or("invocation never handed out")?;
        let start = body_start(&record);
        let prelude_at = arrival_of(&record, 0).ok_or("empty response")?;
        let first_at = arrival_of(&record, start).ok_or("no event after the prelude")?;
        prelude.push(ms_between(handed, prelude_at));
        first.push(ms_between(handed, first_at));
        let (lags, _) = schedule_lags(
            &blocks(&record.chunks, start),
            Duration::from_millis(FIRST_EVENT_INTERVAL_MS.into()),
        );
        // Events after the first, against the schedule of the whole response.
        later.push(lags.iter().skip(1).copied().fold(0.0, f64::max));
    }
    out.ms(
        &format!("ttfe.{name}.prelude_p50"),
        percentile(&prelude, 50.0),
    )?;
    out.ms(&format!("ttfe.{name}.first_invocation"), first[0])?;
    out.ms(&format!("ttfe.{name}.p50"), percentile(&first, 50.0))?;
    out.ms(&format!("ttfe.{name}.max"), percentile(&first, 100.0))?;
    out.ms(
        &format!("ttfe.{name}.later_lag_p50"),
        percentile(&later, 50.0),
    )?;
    out.ms(
        &format!("ttfe.{name}.later_lag_max"),
        percentile(&later, 100.0),
    )?;
    Ok(())
}

/// Figure 3: one SSE stream read over HTTP/1.1, every read timestamped.
fn delivery(args: &Args) -> Result<()> {
    let url = args.need("url")?;
    let steps = args.number("steps", 1000)?;
    let interval = Duration::from_millis(args.number("interval-ms", 10)?);
    let prefix = args.get("prefix").unwrap_or("delivery");
    let mut out = Results::open(args.need("out")?)?;
    let rest = url
        .strip_prefix("http://")
        .ok_or("only http:// URLs are read")?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let target = format!("{path}?steps={steps}&interval_ms={}", interval.as_millis());
    let mut stream = TcpStream::connect(authority)?;
    stream.set_read_timeout(Some(Duration::from_secs(
        steps * interval.as_secs().max(1) + 60,
    )))?;
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nhost: {authority}\r\naccept: text/event-stream\r\nconnection: close\r\n\r\n"
    )?;
    let mut conn = Conn::new(stream);
    conn.quickack = args.0.iter().any(|a| a == "--quickack");
    let head = conn.read_head()?.ok_or("no response")?;
    if !head.line.contains(" 200") {
        return Err(format!("{url}: {}", head.line).into());
    }
    let mut chunks = Vec::new();
    conn.read_body(&head, |c| chunks.push(c.clone()))?;
    let found = blocks(&chunks, 0);
    let (lags, batched) = schedule_lags(&found, interval);
    let events = found.iter().filter(|b| b.step().is_some()).count();
    out.put(&format!("{prefix}.events"), events)?;
    out.ms(&format!("{prefix}.p50"), percentile(&lags, 50.0))?;
    out.ms(&format!("{prefix}.p99"), percentile(&lags, 99.0))?;
    out.ms(&format!("{prefix}.max"), percentile(&lags, 100.0))?;
    out.put(&format!("{prefix}.batched"), batched)?;
    Ok(())
}

/// Figure 4: reads criterion's results (`target/criterion/*/*/new`) into
/// `encoder.<payload>.<function>_mibs` (mean throughput, MiB/s) and `_ns`.
fn criterion(args: &Args) -> Result<()> {
    let dir = Path::new(args.need("dir")?);
    let mut out = Results::open(args.need("out")?)?;
    let mut found = BTreeMap::new();
    for group in fs::read_dir(dir)?.flatten() {
        let Ok(functions) = fs::read_dir(group.path()) else {
            continue;
        };
        for function in functions.flatten() {
            let new = function.path().join("new");
            let (Ok(meta), Ok(estimates)) = (
                fs::read_to_string(new.join("benchmark.json")),
                fs::read_to_string(new.join("estimates.json")),
            ) else {
                continue;
            };
            let meta: serde_json::Value = serde_json::from_str(&meta)?;
            let estimates: serde_json::Value = serde_json::from_str(&estimates)?;
            let group_id = meta["group_id"].as_str().unwrap_or_default();
            let Some(payload) = group_id.strip_prefix("sse/") else {
                continue;
            };
            let name = meta["function_id"].as_str().unwrap_or_default();
            let bytes = meta["throughput"]["Bytes"].as_f64().unwrap_or(0.0);
            let ns = estimates["mean"]["point_estimate"]
                .as_f64()
                .unwrap_or(f64::NAN);
            found.insert(format!("encoder.{payload}.{name}_ns"), format!("{ns:.1}"));
            found.insert(
                format!("encoder.{payload}.{name}_mibs"),
                format!("{:.0}", bytes / ns * 1e9 / 1048576.0),
            );
            found.insert(format!("encoder.{payload}.bytes"), format!("{bytes}"));
        }
    }
    if found.is_empty() {
        return Err(format!("no criterion results under {}", dir.display()).into());
    }
    for (key, value) in found {
        out.put(&key, value)?;
    }
    Ok(())
}

/// Fills the template: `{{key}}` from the results, plus the ratios and
/// verdicts worked out here.
fn report(args: &Args) -> Result<()> {
    let text = fs::read_to_string(args.need("results")?)?;
    let mut values: BTreeMap<String, String> = text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    derive(&mut values);
    let template = fs::read_to_string(args.need("template")?)?;
    let mut rendered = String::with_capacity(template.len());
    let mut rest = template.as_str();
    while let Some(open) = rest.find("{{") {
        rendered.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let close = after.find("}}").ok_or("unclosed {{ in the template")?;
        let key = after[..close].trim();
        rendered.push_str(values.get(key).map_or("n/a", String::as_str));
        rest = &after[close + 2..];
    }
    rendered.push_str(rest);
    let out = args.need("out")?;
    if let Some(dir) = Path::new(out).parent() {
        fs::create_dir_all(dir)?;
    }
    fs::write(out, rendered)?;
    io::stdout().flush()?;
    Ok(())
}

fn derive(v: &mut BTreeMap<String, String>) {
    let num = |v: &BTreeMap<String, String>, k: &str| v.get(k).and_then(|s| s.parse::<f64>().ok());
    let set = |v: &mut BTreeMap<String, String>, k: &str, s: String| {
        v.insert(k.to_owned(), s);
    };
    let verdict = |ok: bool| if ok { "met" } else { "**missed**" }.to_owned();

    // 1. Cold start.
    if let (Some(f), Some(b)) = (num(v, "cold.function.p50"), num(v, "cold.baseline.p50")) {
        set(v, "fig1.ratio", format!("{:.2}x", f / b));
        set(v, "fig1.verdict", verdict(f / b <= 1.1));
    }
    // 2. Memory.
    if let (Some(f), Some(b)) = (num(v, "rss.function.kib"), num(v, "rss.baseline.kib")) {
        set(v, "fig2.function_mib", format!("{:.1} MiB", f / 1024.0));
        set(v, "fig2.baseline_mib", format!("{:.1} MiB", b / 1024.0));
        set(v, "fig2.ratio", format!("{:.2}x", f / b));
        set(
            v,
            "fig2.verdict",
            verdict(f / b <= 1.2 && f / 1024.0 < 20.0),
        );
    }
    // 3. Delivery through the emulator.
    if let (Some(p99), Some(batched)) = (num(v, "delivery.p99"), num(v, "delivery.batched")) {
        if let Some(b) = num(v, "delivery_baseline.p99") {
            set(v, "fig3.ratio", format!("{:.2}x", p99 / b.max(0.001)));
        }
        set(v, "fig3.verdict", verdict(p99 < 2.0 && batched == 0.0));
    }
    // The baseline held to the same target, as a yardstick for the machine.
    if let (Some(p99), Some(batched)) = (
        num(v, "delivery_baseline.p99"),
        num(v, "delivery_baseline.batched"),
    ) {
        let plain = if p99 < 2.0 && batched == 0.0 {
            "met"
        } else {
            "missed"
        };
        set(v, "fig3.baseline_verdict", plain.to_owned());
    }
    // 4. Encoder, against a bare copy (the target) and against a naive
    // per-line prefixing copy (`per_line`, no target: the realistic floor).
    for payload in ["progress", "64KiB"] {
        let encode = num(v, &format!("encoder.{payload}.encode_mibs"));
        let per_line = num(v, &format!("encoder.{payload}.per_line_mibs"));
        let copy = num(v, &format!("encoder.{payload}.copy_mibs"));
        if let (Some(p), Some(c)) = (per_line, copy) {
            set(
                v,
                &format!("fig4.{payload}.per_line_copy_ratio"),
                format!("{:.0} %", 100.0 * p / c),
            );
        }
        for (against, label) in [("copy", "ratio"), ("per_line", "per_line_ratio")] {
            if let (Some(e), Some(c)) =
                (encode, num(v, &format!("encoder.{payload}.{against}_mibs")))
            {
                set(
                    v,
                    &format!("fig4.{payload}.{label}"),
                    format!("{:.0} %", 100.0 * e / c),
                );
                if payload == "64KiB" && against == "copy" {
                    set(v, "fig4.verdict", verdict(e / c >= 0.5));
                }
            }
        }
    }
    // 5. Time to first event, against the plain baseline. The verdict is the
    // function's; `baseline_nodelay` (the fix on the baseline) is informative.
    for name in ["function", "baseline_nodelay"] {
        if let (Some(f), Some(b)) = (
            num(v, &format!("ttfe.{name}.p50")),
            num(v, "ttfe.baseline.p50"),
        ) {
            set(v, &format!("fig5.{name}.ratio"), format!("{:.3}x", f / b));
        }
    }
    if let (Some(p50), Some(max), Some(later)) = (
        num(v, "ttfe.function.p50"),
        num(v, "ttfe.function.max"),
        num(v, "ttfe.function.later_lag_p50"),
    ) {
        set(
            v,
            "fig5.verdict",
            verdict(p50 <= 2.0 && max <= 2.0 && later <= 2.0),
        );
    }
    // 6. Package size.
    for arch in ["x86_64", "arm64"] {
        if let Some(bytes) = num(v, &format!("zip.{arch}.bytes")) {
            set(
                v,
                &format!("fig6.{arch}.mib"),
                format!("{:.2} MiB", bytes / 1048576.0),
            );
            if let Some(b) = num(v, &format!("zip.{arch}.baseline_bytes")) {
                set(
                    v,
                    &format!("fig6.{arch}.baseline_mib"),
                    format!("{:.2} MiB", b / 1048576.0),
                );
                set(
                    v,
                    &format!("fig6.{arch}.ratio"),
                    format!("{:.2}x", bytes / b),
                );
            }
            set(
                v,
                &format!("fig6.{arch}.verdict"),
                // With the AWS SDK linked: under 4 MB (issue target).
                verdict(bytes < 4.0 * 1_000_000.0),
            );
        }
    }
    // 7. A durable stream's first event from process start.
    if let (Some(f), Some(b)) = (
        num(v, "streams_first.function.p50"),
        num(v, "streams_first.baseline.p50"),
    ) {
        set(v, "fig7.ratio", format!("{:.2}x", f / b));
        set(v, "fig7.verdict", verdict(f / b <= 2.5));
    }
    if let Some(kib) = num(v, "streams_first.rss_kib") {
        set(v, "fig7.rss_mib", format!("{:.1} MiB", kib / 1024.0));
        set(v, "fig7.rss_verdict", verdict(kib < 16.0 * 1024.0));
    }
    // 8. Reads of an idle subscriber.
    if let Some(reads) = num(v, "idle.reads_per_minute") {
        set(v, "fig8.verdict", verdict(reads <= 60.0));
        // On-demand list price per million strongly consistent reads
        // (`cost.read_price_per_million`), for 1,000 subscriber-hours.
        if let Some(price) = num(v, "cost.read_price_per_million") {
            let per_1000_hours = reads * 60.0 * 1000.0 / 1e6 * price;
            set(
                v,
                "cost.idle_reads.per_1000_hours",
                format!("${per_1000_hours:.2}"),
            );
            if let Some(busy) = num(v, "latency.reads_per_minute") {
                let busy_cost = busy * 60.0 * 1000.0 / 1e6 * price;
                set(
                    v,
                    "cost.busy_reads.per_1000_hours",
                    format!("${busy_cost:.2}"),
                );
            }
        }
    }
    // A subscriber's Lambda duration: 1,000 hours at 128 MB arm64.
    if let Some(arm) = num(v, "cost.arm64_gbs_price") {
        let gbs = 1000.0 * 3600.0 * 128.0 / 1024.0;
        set(v, "cost.subscriber_hours.gbs", format!("{gbs:.0}"));
        set(
            v,
            "cost.subscriber_hours.arm128",
            format!("${:.2}", gbs * arm),
        );
    }
    // 9. Publish-to-subscriber latency.
    if let (Some(p50), Some(p99)) = (num(v, "latency.p50"), num(v, "latency.p99")) {
        set(v, "fig9.verdict", verdict(p50 < 50.0 && p99 < 150.0));
    }
    // Cost model: GB-s and price per thousand streams of `cost.seconds`.
    if let (Some(secs), Some(arm), Some(x86), Some(req)) = (
        num(v, "cost.seconds"),
        num(v, "cost.arm64_gbs_price"),
        num(v, "cost.x86_gbs_price"),
        num(v, "cost.request_price_per_million"),
    ) {
        let requests = req / 1000.0;
        for (key, mb, price) in [
            ("arm128", 128.0, arm),
            ("arm512", 512.0, arm),
            ("x86_512", 512.0, x86),
        ] {
            let gbs = secs * mb / 1024.0;
            set(v, &format!("cost.{key}.gbs"), format!("{gbs:.3}"));
            set(
                v,
                &format!("cost.{key}.per_1000_gbs"),
                format!("{:.1}", gbs * 1000.0),
            );
            set(
                v,
                &format!("cost.{key}.per_1000"),
                format!("${:.4}", gbs * 1000.0 * price + requests),
            );
        }
    }
    cost::derive_many(v);
}
