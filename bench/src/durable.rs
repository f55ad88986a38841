//! Figures 7 to 9: durable streams against a local DynamoDB (dynalite).
//!
//! - 7: process start to the first event of `/streams/{name}` (one event
//!   already published), against the baseline's process start to its first
//!   event, both through the fake Runtime API; with the breakdown and the
//!   function's peak RSS.
//! - 8: DynamoDB reads of one idle subscriber per minute, counted by a
//!   loopback proxy between the function (under `cargo lambda watch`) and
//!   dynalite.
//! - 9: publish-to-subscriber latency of 1,000 events published 20 ms apart,
//!   through the emulator, and the reads a busy subscriber makes.

use crate::api::FakeApi;
use crate::wire::{Conn, ms_between, percentile};
use crate::{Args, FIXTURE, Function, Result, Results, arrival_of, body_start, events_request};
use lambda_sse::durable::{Publisher, StreamName, Table};
use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

const RUNS: usize = 10;
const LATENCY_EVENTS: u64 = 1000;
const LATENCY_INTERVAL: Duration = Duration::from_millis(20);
const IDLE_WARMUP: Duration = Duration::from_secs(5);
const IDLE_COUNTED: Duration = Duration::from_secs(30);

pub fn durable(args: &Args) -> Result<()> {
    let dynamo = args.need("dynamo")?.to_owned();
    let mut out = Results::open(args.need("out")?)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let table = table(&dynamo);
    runtime.block_on(lambda_sse::durable::create_table(&table))?;
    let publisher = Publisher::new(table);
    let run = format!("{}", std::process::id());

    if let (Some(baseline), Some(function)) = (args.get("baseline"), args.get("function")) {
        first_event(
            baseline, function, &dynamo, &publisher, &runtime, &run, &mut out,
        )?;
    }
    if let (Some(url), Some(proxy_port)) = (args.get("url"), args.get("proxy-port")) {
        // The emulator runs the function with the default polling.
        use lambda_sse::sources::durable::{POLL_MAX_MS, POLL_MIN_MS};
        out.put("poll.min_ms", POLL_MIN_MS.default)?;
        out.put("poll.max_ms", POLL_MAX_MS.default)?;
        let reads = counting_proxy(proxy_port.parse()?, &dynamo)?;
        idle_reads(url, &reads, &run, &mut out)?;
        latency(url, &reads, &publisher, &runtime, &run, &mut out)?;
    }
    Ok(())
}

/// The bench's own client of dynalite (any credentials do).
pub(crate) fn table(endpoint: &str) -> Table {
    use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "bench"))
        .endpoint_url(endpoint)
        .build();
    Table::new(aws_sdk_dynamodb::Client::from_conf(config), "sse-bench")
}

pub(crate) fn name(text: &str) -> Result<StreamName> {
    Ok(StreamName::new(text)?)
}

/// A Function URL `GET /streams/{stream}` event.
pub(crate) fn stream_request(stream: &str) -> Result<String> {
    let mut request: serde_json::Value = serde_json::from_str(FIXTURE)?;
    request["rawPath"] = format!("/streams/{stream}").into();
    request["rawQueryString"] = "".into();
    request["queryStringParameters"] = serde_json::json!({});
    request["requestContext"]["http"]["path"] = format!("/streams/{stream}").into();
    Ok(request.to_string())
}

/// The environment that points the function at the bench's table through
/// `endpoint`.
pub(crate) fn table_env(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("SSE_TABLE_NAME", "sse-bench".to_owned()),
        ("AWS_ENDPOINT_URL_DYNAMODB", endpoint.to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_ACCESS_KEY_ID", "local".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "local".to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
    ]
}

/// Figure 7.
fn first_event(
    baseline: &str,
    function: &str,
    dynamo: &str,
    publisher: &Publisher,
    runtime: &tokio::runtime::Runtime,
    run: &str,
    out: &mut Results,
) -> Result<()> {
    println!("figure 7: process start to the first event of a durable stream ({RUNS} runs each)");
    let stream = format!("first-{run}");
    runtime.block_on(publisher.append_final(&name(&stream)?, "message", "first"))?;
    let env = table_env(dynamo);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let request = stream_request(&stream)?;
    let (mut base, mut total, mut cold, mut prelude, mut first, mut rss) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    for round in 0..=RUNS {
        // The baseline: its process start to its first event, with the
        // TCP_NODELAY fix (figure 5) so that a 40 ms stall of the runtime's
        // does not flatter the ratio.
        let mut api = FakeApi::start()?;
        let started = Instant::now();
        let process = Function::spawn(baseline, &api, &[("BENCH_NODELAY", "1")])?;
        let record = api
            .invoke(events_request(1, 10), Duration::from_secs(10))
            .ok_or("baseline: no response")?;
        let at = arrival_of(&record, body_start(&record)).ok_or("baseline: no event")?;
        drop(process);
        // The function: the same for a stream's first event.
        let mut api = FakeApi::start()?;
        let started_f = Instant::now();
        let process = Function::spawn(function, &api, &env)?;
        let record = api
            .invoke(request.clone(), Duration::from_secs(10))
            .ok_or("function: no response to /streams")?;
        let handed = record.handed.ok_or("never handed out")?;
        let prelude_at = arrival_of(&record, 0).ok_or("function: empty response")?;
        let first_at = arrival_of(&record, body_start(&record))
            .ok_or("function: no event after the prelude")?;
        let peak = process.peak_rss_kib()?;
        drop(process);
        if round > 0 {
            base.push(ms_between(started, at));
            total.push(ms_between(started_f, first_at));
            cold.push(ms_between(started_f, handed));
            prelude.push(ms_between(handed, prelude_at));
            first.push(ms_between(prelude_at, first_at));
            rss.push(peak as f64);
        }
    }
    out.ms("streams_first.baseline.p50", percentile(&base, 50.0))?;
    out.ms("streams_first.function.p50", percentile(&total, 50.0))?;
    out.ms("streams_first.function.max", percentile(&total, 100.0))?;
    out.ms("streams_first.cold.p50", percentile(&cold, 50.0))?;
    out.ms("streams_first.prelude.p50", percentile(&prelude, 50.0))?;
    out.ms("streams_first.store.p50", percentile(&first, 50.0))?;
    out.put("streams_first.rss_kib", percentile(&rss, 100.0))?;
    Ok(())
}

/// A loopback TCP proxy to `upstream` that counts the DynamoDB `Query`
/// calls passing through it (by their `X-Amz-Target` header).
pub(crate) fn counting_proxy(port: u16, upstream: &str) -> Result<Arc<AtomicU64>> {
    let upstream = upstream
        .strip_prefix("http://")
        .ok_or("--dynamo must be an http:// endpoint")?
        .trim_end_matches('/')
        .to_owned();
    let listener = TcpListener::bind(("127.0.0.1", port))?;
    let reads = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&reads);
    thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = TcpStream::connect(&upstream) else {
                continue;
            };
            let counter = Arc::clone(&counter);
            let (mut client_in, mut server_out) = (client, server);
            let (Ok(mut client_out), Ok(mut server_in)) =
                (client_in.try_clone(), server_out.try_clone())
            else {
                continue;
            };
            thread::spawn(move || {
                const TARGET: &[u8] = b"DynamoDB_20120810.Query";
                let mut buffer = [0u8; 16 * 1024];
                // Keeps a target split across two reads countable.
                let mut tail: Vec<u8> = Vec::new();
                while let Ok(n) = client_in.read(&mut buffer) {
                    if n == 0 || server_out.write_all(&buffer[..n]).is_err() {
                        break;
                    }
                    tail.extend_from_slice(&buffer[..n]);
                    let found = tail.windows(TARGET.len()).filter(|w| *w == TARGET).count();
                    counter.fetch_add(found as u64, Ordering::Relaxed);
                    let keep = tail.len().min(TARGET.len() - 1);
                    if found > 0 {
                        tail.clear();
                    } else {
                        tail.drain(..tail.len() - keep);
                    }
                }
                let _ = server_out.shutdown(std::net::Shutdown::Write);
            });
            thread::spawn(move || {
                let _ = std::io::copy(&mut server_in, &mut client_out);
                let _ = client_out.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    Ok(reads)
}

/// Body chunks with the time each was read.
type Chunks = Vec<(Instant, Vec<u8>)>;

/// One subscriber's raw chunks, read on a thread until its response ends.
fn subscribe(url: &str, path: &str) -> Result<thread::JoinHandle<Chunks>> {
    let rest = url.strip_prefix("http://").ok_or("only http:// URLs")?;
    let (authority, base) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut stream = TcpStream::connect(authority)?;
    stream.set_read_timeout(Some(Duration::from_secs(120)))?;
    write!(
        stream,
        "GET {base}{path} HTTP/1.1\r\nhost: {authority}\r\naccept: text/event-stream\r\nconnection: close\r\n\r\n"
    )?;
    Ok(thread::spawn(move || {
        let mut conn = Conn::new(stream);
        let mut chunks = Vec::new();
        if let Ok(Some(head)) = conn.read_head() {
            let _ = conn.read_body(&head, |c| chunks.push((c.at, c.bytes.clone())));
        }
        chunks
    }))
}

/// Figure 8.
fn idle_reads(url: &str, reads: &AtomicU64, run: &str, out: &mut Results) -> Result<()> {
    println!("figure 8: reads of an idle subscriber");
    let subscriber = subscribe(url, &format!("/streams/idle-{run}"))?;
    thread::sleep(IDLE_WARMUP);
    let before = reads.load(Ordering::Relaxed);
    thread::sleep(IDLE_COUNTED);
    let counted = reads.load(Ordering::Relaxed) - before;
    out.put(
        "idle.reads_per_minute",
        format!("{:.1}", counted as f64 * 60.0 / IDLE_COUNTED.as_secs_f64()),
    )?;
    // Its window ends the response (the bench runs the emulator with one
    // just longer than warm-up plus count).
    drop(subscriber.join());
    Ok(())
}

/// Figure 9.
fn latency(
    url: &str,
    reads: &AtomicU64,
    publisher: &Publisher,
    runtime: &tokio::runtime::Runtime,
    run: &str,
    out: &mut Results,
) -> Result<()> {
    println!(
        "figure 9: publish-to-subscriber latency, {LATENCY_EVENTS} events {LATENCY_INTERVAL:?} apart"
    );
    let stream = name(&format!("latency-{run}"))?;
    let subscriber = subscribe(url, &format!("/streams/{stream}"))?;
    // Let the subscription open (and its first empty read happen).
    thread::sleep(Duration::from_millis(500));
    let published = Arc::new(Mutex::new(Vec::new()));
    let before = reads.load(Ordering::Relaxed);
    let began = Instant::now();
    runtime.block_on(async {
        let start = tokio::time::Instant::now();
        for n in 0..LATENCY_EVENTS {
            tokio::time::sleep_until(start + LATENCY_INTERVAL * n as u32).await;
            let at = Instant::now();
            let data = format!("{n}");
            let done = if n + 1 == LATENCY_EVENTS {
                publisher.append_final(&stream, "message", &data).await
            } else {
                publisher.append(&stream, "message", &data).await
            };
            done.map_err(|e| e.to_string())?;
            published.lock().map_err(|e| e.to_string())?.push(at);
        }
        Ok::<_, String>(())
    })?;
    let chunks = subscriber.join().map_err(|_| "subscriber panicked")?;
    let busy = began.elapsed();
    let busy_reads = reads.load(Ordering::Relaxed) - before;
    let published = published.lock().map_err(|e| e.to_string())?.clone();
    // Each event's arrival: the chunk that completed its block.
    let mut arrivals = vec![None; published.len()];
    let mut text = String::new();
    for (at, bytes) in &chunks {
        text.push_str(&String::from_utf8_lossy(bytes));
        while let Some(end) = text.find("\n\n") {
            let block: String = text.drain(..end + 2).collect();
            if let Some(n) = block
                .lines()
                .find_map(|l| l.strip_prefix("data: "))
                .and_then(|d| d.parse::<usize>().ok())
            {
                if let Some(slot) = arrivals.get_mut(n) {
                    *slot = Some(*at);
                }
            }
        }
    }
    let lags: Vec<f64> = published
        .iter()
        .zip(&arrivals)
        .filter_map(|(sent, got)| got.map(|got| ms_between(*sent, got)))
        .collect();
    out.put("latency.events", lags.len())?;
    out.ms("latency.p50", percentile(&lags, 50.0))?;
    out.ms("latency.p99", percentile(&lags, 99.0))?;
    out.ms("latency.max", percentile(&lags, 100.0))?;
    out.put(
        "latency.reads_per_minute",
        format!("{:.0}", busy_reads as f64 * 60.0 / busy.as_secs_f64()),
    )?;
    Ok(())
}
