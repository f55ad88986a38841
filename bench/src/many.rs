//! Figures 10 to 14: many subscribers in one process, as on Lambda Managed
//! Instances. The fake Runtime API hands one function process up to 1,000
//! invocations at once (`AWS_LAMBDA_MAX_CONCURRENCY`), each a subscriber of
//! a durable stream in dynalite, read through the counting proxy. Each
//! figure has its baseline in the same run: one subscriber in its own
//! process, which is what on-demand Lambda runs per subscriber.
//!
//! - idle: `--subscribers` over `--streams` streams where nothing is
//!   published: peak RSS, CPU time and reads over `--idle-seconds`
//!   (figures 10, 11 and 14); the baseline is one subscriber of one stream.
//! - busy: `--subscribers` of one stream while `--events` events are
//!   published `--interval-ms` apart: publish-to-subscriber latency and reads
//!   (figures 12 and 13); the baseline is one subscriber.

use crate::api::{FakeApi, Record};
use crate::durable::{counting_proxy, name, stream_request, table, table_env};
use crate::wire::{blocks, ms_between, percentile};
use crate::{Args, Function, Result, Results, body_start};
use lambda_sse::durable::Publisher;
use std::{
    sync::atomic::{AtomicU64, Ordering},
    thread,
    time::{Duration, Instant},
};

/// Long enough for the preludes of 1,000 responses, on a busy machine.
const OPEN_TIMEOUT: Duration = Duration::from_secs(120);
/// After the streams open, their idle polls back off to the maximum wait.
const IDLE_WARMUP: Duration = Duration::from_secs(5);

/// What one run measures with, and where it writes.
struct Run<'a> {
    function: &'a str,
    /// The proxy's endpoint, which the function reads through.
    proxy: String,
    reads: &'a AtomicU64,
    tag: String,
    out: Results,
}

pub fn many(args: &Args) -> Result<()> {
    let dynamo = args.need("dynamo")?;
    let proxy_port: u16 = args.need("proxy-port")?.parse()?;
    let subscribers = usize::try_from(args.number("subscribers", 1000)?)?;
    let streams = usize::try_from(args.number("streams", 100)?)?;
    let idle = Duration::from_secs(args.number("idle-seconds", 30)?);
    let events = usize::try_from(args.number("events", 200)?)?;
    let interval = Duration::from_millis(args.number("interval-ms", 50)?);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let table = table(dynamo);
    runtime.block_on(lambda_sse::durable::create_table(&table))?;
    let publisher = Publisher::new(table);
    let reads = counting_proxy(proxy_port, dynamo)?;
    let mut run = Run {
        function: args.need("function")?,
        proxy: format!("http://127.0.0.1:{proxy_port}"),
        reads: &reads,
        tag: std::process::id().to_string(),
        out: Results::open(args.need("out")?)?,
    };
    println!("figures 10, 11, 14: idle subscribers (baseline: one in its own process)");
    run.idle("many.one", 1, 1, idle)?;
    run.idle("many.idle", subscribers, streams, idle)?;
    println!("figures 12, 13: subscribers of one stream, {events} events {interval:?} apart");
    run.out.put("many.shared.events", events)?;
    run.out
        .put("many.shared.interval_ms", interval.as_millis())?;
    run.busy("many.single", 1, events, interval, &publisher, &runtime)?;
    run.busy(
        "many.shared",
        subscribers,
        events,
        interval,
        &publisher,
        &runtime,
    )?;
    Ok(())
}

impl Run<'_> {
    /// The function with `concurrency` loops, every response held open for
    /// the whole measurement, all of them subscribed to `streams`.
    fn open(
        &self,
        concurrency: usize,
        streams: impl Iterator<Item = String>,
    ) -> Result<(FakeApi, Function, Vec<String>)> {
        let mut api = FakeApi::start()?;
        let mut env = table_env(&self.proxy);
        env.push(("AWS_LAMBDA_MAX_CONCURRENCY", concurrency.to_string()));
        env.push(("SSE_WINDOW_MS", "600000".to_owned()));
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let process = Function::spawn(self.function, &api, &env)?;
        if !api.wait_until(OPEN_TIMEOUT, |_, waiting| waiting >= concurrency) {
            return Err(format!("{concurrency} loops did not all ask for work").into());
        }
        let requests = streams
            .map(|stream| stream_request(&stream))
            .collect::<Result<Vec<_>>>()?;
        let ids = api.hand_out(requests);
        // A response begins once its stream is open (the shared tail has
        // read where the stream ends).
        let begun = api.wait_until(OPEN_TIMEOUT, |records, _| {
            ids.iter()
                .all(|id| records.get(id).is_some_and(|r| !r.chunks.is_empty()))
        });
        if !begun {
            return Err(format!("not all {} responses began", ids.len()).into());
        }
        Ok((api, process, ids))
    }

    /// Figures 10, 11 and 14 (or their baseline, as `prefix`).
    fn idle(
        &mut self,
        prefix: &str,
        subscribers: usize,
        streams: usize,
        idle: Duration,
    ) -> Result<()> {
        let tag = self.tag.clone();
        let names = (0..subscribers).map(|i| format!("idle-{tag}-{prefix}-{}", i % streams));
        let (_api, process, _ids) = self.open(subscribers, names.map(|n| n.replace('.', "-")))?;
        thread::sleep(IDLE_WARMUP);
        let (cpu_before, reads_before, began) = (
            cpu_ms(process.pid())?,
            self.reads.load(Ordering::Relaxed),
            Instant::now(),
        );
        thread::sleep(idle);
        let cpu = cpu_ms(process.pid())? - cpu_before;
        let reads = self.reads.load(Ordering::Relaxed) - reads_before;
        let seconds = began.elapsed().as_secs_f64();
        let out = &mut self.out;
        out.put(&format!("{prefix}.subscribers"), subscribers)?;
        out.put(&format!("{prefix}.streams"), streams)?;
        out.put(&format!("{prefix}.rss_kib"), process.peak_rss_kib()?)?;
        out.put(&format!("{prefix}.cpu_ms"), format!("{cpu:.0}"))?;
        out.put(&format!("{prefix}.seconds"), format!("{seconds:.1}"))?;
        out.put(
            &format!("{prefix}.reads_per_minute"),
            format!("{:.1}", reads as f64 * 60.0 / seconds),
        )?;
        let stream_hours = subscribers as f64 * seconds / 3600.0;
        out.put(
            &format!("{prefix}.cpu_s_per_stream_hour"),
            format!("{:.4}", cpu / 1000.0 / stream_hours),
        )?;
        Ok(())
    }

    /// Figures 12 and 13 (or their baseline, as `prefix`).
    fn busy(
        &mut self,
        prefix: &str,
        subscribers: usize,
        events: usize,
        interval: Duration,
        publisher: &Publisher,
        runtime: &tokio::runtime::Runtime,
    ) -> Result<()> {
        let stream = format!("busy-{}-{}", self.tag, prefix.replace('.', "-"));
        let (api, process, ids) = self.open(
            subscribers,
            std::iter::repeat_n(stream.clone(), subscribers),
        )?;
        let stream = name(&stream)?;
        let reads_before = self.reads.load(Ordering::Relaxed);
        let began = Instant::now();
        let published = runtime.block_on(async {
            let start = tokio::time::Instant::now();
            let mut published = Vec::with_capacity(events);
            for n in 1..=events {
                tokio::time::sleep_until(start + interval * (n as u32 - 1)).await;
                let at = Instant::now();
                let data = n.to_string();
                let done = if n == events {
                    publisher.append_final(&stream, "message", &data).await
                } else {
                    publisher.append(&stream, "message", &data).await
                };
                done.map_err(|e| e.to_string())?;
                published.push(at);
            }
            Ok::<_, String>(published)
        })?;
        // The final event ends every response.
        let ended = api.wait_until(OPEN_TIMEOUT, |records, _| {
            ids.iter()
                .all(|id| records.get(id).is_some_and(|r| r.done.is_some()))
        });
        if !ended {
            return Err(format!("{prefix}: not every response ended with the final event").into());
        }
        let seconds = began.elapsed().as_secs_f64();
        let reads = self.reads.load(Ordering::Relaxed) - reads_before;
        drop(process);
        let records: Vec<Record> = ids.iter().filter_map(|id| api.record(id)).collect();
        let lags = lags(&records, &published);
        let out = &mut self.out;
        out.put(&format!("{prefix}.subscribers"), subscribers)?;
        out.put(&format!("{prefix}.samples"), lags.len())?;
        out.put(&format!("{prefix}.lost"), subscribers * events - lags.len())?;
        out.ms(&format!("{prefix}.p50"), percentile(&lags, 50.0))?;
        out.ms(&format!("{prefix}.p99"), percentile(&lags, 99.0))?;
        out.ms(&format!("{prefix}.max"), percentile(&lags, 100.0))?;
        out.put(
            &format!("{prefix}.reads_per_minute"),
            format!("{:.1}", reads as f64 * 60.0 / seconds),
        )?;
        Ok(())
    }
}

/// Each delivered event's lag from the start of its publish call: the
/// event with `seq` n (ids are `<generation>-<seq>-<check>`) was published
/// at `published[n - 1]`. Each event counts once per response.
fn lags(records: &[Record], published: &[Instant]) -> Vec<f64> {
    let mut lags = Vec::new();
    for record in records {
        let mut seen = vec![false; published.len()];
        for block in blocks(&record.chunks, body_start(record)) {
            let seq = block
                .id
                .as_deref()
                .and_then(|id| id.split('-').nth(1))
                .and_then(|seq| seq.parse::<usize>().ok());
            let Some(slot) = seq.and_then(|seq| seq.checked_sub(1)) else {
                continue;
            };
            if let (Some(at), Some(false)) = (published.get(slot), seen.get(slot).copied()) {
                seen[slot] = true;
                lags.push(ms_between(*at, block.at));
            }
        }
    }
    lags
}

/// User and system CPU time of process `pid` so far, in milliseconds.
fn cpu_ms(pid: u32) -> Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may hold spaces): utime and stime
    // are the 12th and 13th after its closing parenthesis.
    let after = stat
        .rsplit_once(')')
        .ok_or("no command in /proc/<pid>/stat")?
        .1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields
        .get(11..13)
        .ok_or("short /proc/<pid>/stat")?
        .iter()
        .map(|f| f.parse::<f64>())
        .sum::<std::result::Result<f64, _>>()?;
    // SAFETY: sysconf only reads a configuration value.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if per_second <= 0 {
        return Err("sysconf(_SC_CLK_TCK) failed".into());
    }
    Ok(ticks * 1000.0 / per_second as f64)
}
