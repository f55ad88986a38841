//! Figure 4: SSE encoder throughput against a plain copy of the same bytes.
//!
//! Two payloads: a typical progress event (about 200 bytes on the wire) and a
//! 64 KB multi-line payload. For each, `encode` builds the wire bytes of a
//! ready [`Event`] (one allocation, field by field, `data:` per line);
//! `copy` copies the finished wire bytes into a fresh buffer, the least any
//! encoder that produces owned `Bytes` could do; and `per_line` writes the
//! same bytes the naive way (`str::split` on LF, then `data: `, the line and
//! LF appended), what the per-line prefixing alone costs. Throughput is counted in wire bytes for
//! all three, so the ratios read directly.
//!
//! Run with `cargo bench -p lambda-sse --bench encoder`;
//! `scripts/bench.sh` runs it with short measurement times and reads the
//! results from `target/criterion`.

use bytes::{BufMut, Bytes, BytesMut};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lambda_sse::Event;
use std::hint::black_box;
use std::time::Duration;

/// A progress event as the function sends it (step 5 of 11, with `retry`).
fn progress_event() -> Event {
    let job = "01234567-89ab-4def-8123-456789abcdef";
    let data = format!(
        r#"{{"jobId":"{job}","step":5,"totalSteps":11,"percentage":40,"status":"Processing step 5 of 11..."}}"#
    );
    Event::new()
        .event("progress")
        .expect("a valid event type")
        .data(data)
        .id(format!("{job}/11:5"))
        .expect("a valid id")
        .retry(Duration::from_secs(5))
}

/// 64 KiB of text in 80-character lines (about 820 `data:` lines).
fn large_event() -> Event {
    let line = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-progress-log-line";
    let mut data = String::with_capacity(64 * 1024 + 80);
    while data.len() < 64 * 1024 {
        data.push_str(line);
        data.push('\n');
    }
    data.truncate(64 * 1024);
    Event::new().id("job:1").expect("a valid id").data(data)
}

/// The naive reference for the per-line work: the same wire bytes as
/// [`Event::encode`] for text without CR, written by splitting `data` on LF
/// with `str::split` and appending `data: `, the line and LF for each line.
/// It handles no CR and checks nothing, so it is what per-line prefixing
/// costs before any of the encoder's care; the bench asserts the bytes match.
fn per_line(fields: &Fields) -> Bytes {
    let mut out = BytesMut::with_capacity(fields.data.len() + fields.data.len() / 8 + 96);
    let mut put = |name: &str, value: &str| {
        out.put_slice(name.as_bytes());
        out.put_slice(b": ");
        out.put_slice(value.as_bytes());
        out.put_u8(b'\n');
    };
    if let Some(id) = &fields.id {
        put("id", id);
    }
    if let Some(event) = &fields.event {
        put("event", event);
    }
    if let Some(retry) = fields.retry_ms {
        put("retry", &retry.to_string());
    }
    for line in fields.data.split('\n') {
        put("data", line);
    }
    out.put_u8(b'\n');
    out.freeze()
}

fn bench(c: &mut Criterion) {
    for (name, event) in [("progress", progress_event()), ("64KiB", large_event())] {
        let wire = event.encode();
        let fields = parse(std::str::from_utf8(&wire).expect("UTF-8"));
        assert_eq!(
            per_line(&fields),
            wire,
            "the naive per-line copy writes the same bytes"
        );
        let mut group = c.benchmark_group(format!("sse/{name}"));
        group.throughput(Throughput::Bytes(wire.len() as u64));
        group.bench_function("encode", |b| b.iter(|| black_box(&event).encode()));
        group.bench_function("per_line", |b| b.iter(|| per_line(black_box(&fields))));
        group.bench_function("copy", |b| {
            b.iter(|| Bytes::copy_from_slice(black_box(&wire[..])))
        });
        group.finish();
    }
}

/// The fields of one encoded block (as written by `Event::encode`).
struct Fields {
    id: Option<String>,
    event: Option<String>,
    retry_ms: Option<u128>,
    data: String,
}

/// Reads back the fields of one encoded block.
fn parse(text: &str) -> Fields {
    let (mut id, mut event, mut retry_ms, mut data) = (None, None, None, Vec::new());
    for line in text.trim_end_matches('\n').split('\n') {
        let (name, value) = line.split_once(": ").expect("a field");
        match name {
            "id" => id = Some(value.to_owned()),
            "event" => event = Some(value.to_owned()),
            "retry" => retry_ms = value.parse().ok(),
            "data" => data.push(value),
            other => panic!("unexpected field {other}"),
        }
    }
    Fields {
        id,
        event,
        retry_ms,
        data: data.join("\n"),
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
