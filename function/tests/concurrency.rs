//! Many invocations at once in one process, as on Lambda Managed Instances:
//! the function binary against a Runtime API played on 127.0.0.1, with and
//! without `AWS_LAMBDA_MAX_CONCURRENCY`.

mod support;

use lambda_sse::durable::{Publisher, StreamName};
use serde_json::{Value, json};
use std::time::Duration;
use support::{dynamo::LocalDynamo, process::function, runtime_api::RuntimeApi};

const FIXTURE: &str = include_str!("fixtures/function-url-get.json");
const LIMIT: Duration = Duration::from_secs(60);

/// A Function URL request for `/events?{query}`, resuming after `last` if given.
fn events(query: &str, last: Option<&str>) -> Value {
    get("/events", query, last)
}

/// A Function URL request for `path?{query}`, resuming after `last` if given.
fn get(path: &str, query: &str, last: Option<&str>) -> Value {
    let mut event: Value = serde_json::from_str(FIXTURE).unwrap();
    event["rawPath"] = json!(path);
    event["requestContext"]["http"]["path"] = json!(path);
    event["rawQueryString"] = json!(query);
    event["queryStringParameters"] = form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), json!(v)))
        .collect::<serde_json::Map<_, _>>()
        .into();
    if let Some(id) = last {
        event["headers"]["last-event-id"] = json!(id);
    }
    event
}

/// The SSE events of a streamed answer (after the prelude and its 8 NULs),
/// as (type, id, data), control blocks included.
fn sse_events(body: &[u8]) -> Vec<(String, String, String)> {
    let start = body
        .windows(8)
        .position(|w| w == [0; 8])
        .map_or(0, |at| at + 8);
    let text = String::from_utf8_lossy(&body[start..]);
    text.split("\n\n")
        .filter_map(|block| {
            let (mut kind, mut id, mut data) = (String::from("message"), None, None);
            for line in block.lines() {
                match line.split_once(": ") {
                    Some(("event", v)) => kind = v.to_owned(),
                    Some(("id", v)) => id = Some(v.to_owned()),
                    Some(("data", v)) => data = Some(v.to_owned()),
                    _ => {}
                }
            }
            data.map(|data| (kind, id.unwrap_or_default(), data))
        })
        .collect()
}

/// With `AWS_LAMBDA_MAX_CONCURRENCY=8` the process asks for 8 invocations
/// before any arrives, and streams 8 jobs at once: every job's first event
/// is out before any job has finished.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_max_concurrency_one_process_streams_that_many_at_once() {
    let api = RuntimeApi::start().await;
    let function = function(&api.endpoint(), &[("AWS_LAMBDA_MAX_CONCURRENCY", "8")]);
    assert!(
        api.wait_for(LIMIT, |api| api.polls() >= 8).await,
        "8 loops ask for work:\n{}",
        function.output()
    );
    let ids: Vec<String> = (0..8).map(|i| format!("job-{i}")).collect();
    for id in &ids {
        api.invoke(id, &events("steps=3&interval_ms=300", None), LIMIT);
    }
    let mut first_chunks = Vec::new();
    let mut last_chunks = Vec::new();
    for id in &ids {
        let posted = api
            .response(id, LIMIT)
            .await
            .unwrap_or_else(|| panic!("no answer to {id}:\n{}", function.output()));
        let kinds: Vec<String> = sse_events(&posted.body())
            .into_iter()
            .map(|(kind, _, _)| kind)
            .collect();
        assert_eq!(
            kinds,
            ["progress", "progress", "progress", "complete"],
            "{id}"
        );
        first_chunks.push(posted.chunks.first().unwrap().0);
        last_chunks.push(posted.chunks.last().unwrap().0);
    }
    assert!(
        first_chunks.iter().max() < last_chunks.iter().min(),
        "the 8 jobs overlapped"
    );
    let log = function.output();
    assert!(
        !log.contains("running sequentially"),
        "no warning from the runtime that each loop is sequential:\n{log}"
    );
}

/// Without the variable, one invocation at a time, as before: the second
/// job starts after the first has finished, and the process asks for work
/// once per invocation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_it_one_invocation_at_a_time() {
    let api = RuntimeApi::start().await;
    api.invoke("first", &events("steps=2&interval_ms=200", None), LIMIT);
    api.invoke("second", &events("steps=2&interval_ms=200", None), LIMIT);
    let function = function(&api.endpoint(), &[]);
    let first = api.response("first", LIMIT).await.expect("first answered");
    let second = api
        .response("second", LIMIT)
        .await
        .expect("second answered");
    assert!(
        second.chunks.first().unwrap().0 >= first.chunks.last().unwrap().0,
        "one at a time:\n{}",
        function.output()
    );
    assert!(api.wait_for(LIMIT, |api| api.polls() == 3).await);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(api.polls(), 3, "one poll per invocation, and one waiting");
}

/// 1,000 subscribers at once in one process, each following its own job
/// across 1 s windows as a browser would (reconnecting with the last id):
/// each receives every step once and in order, then `complete`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_subscribers_each_get_every_event_once_across_windows() {
    const SUBSCRIBERS: usize = 1000;
    let api = RuntimeApi::start().await;
    let function = function(
        &api.endpoint(),
        &[
            ("AWS_LAMBDA_MAX_CONCURRENCY", "1000"),
            ("SSE_WINDOW_MS", "1000"),
            ("RUST_LOG", "warn"),
        ],
    );
    assert!(
        api.wait_for(LIMIT, |api| api.polls() >= SUBSCRIBERS as u64)
            .await,
        "1,000 loops ask for work:\n{}",
        function.output()
    );
    let query = "steps=5&interval_ms=400";
    let (received, round) = follow_all(
        &api,
        &function,
        SUBSCRIBERS,
        |last| events(query, last),
        "complete",
    )
    .await;
    assert!(
        round >= 2,
        "a 2 s job in 1 s windows spans several responses"
    );
    for (i, events) in received.iter().enumerate() {
        let steps = field(events, "step");
        let kinds: Vec<&str> = events.iter().map(|(kind, _, _)| kind.as_str()).collect();
        assert_eq!(steps, [1, 2, 3, 4, 5, 5], "subscriber {i}");
        assert_eq!(kinds.last(), Some(&"complete"), "subscriber {i}");
        assert_eq!(
            kinds.iter().filter(|k| **k == "progress").count(),
            5,
            "subscriber {i}"
        );
    }
}

/// A number field of each event's JSON data.
fn field(events: &[(String, String, String)], name: &str) -> Vec<u64> {
    events
        .iter()
        .map(|(_, _, data)| {
            serde_json::from_str::<Value>(data).unwrap()[name]
                .as_u64()
                .unwrap()
        })
        .collect()
}

/// Each subscriber's events (type, id, data) over as many 1 s windows as it
/// takes: every round invokes the open ones again with their last id, until
/// each has received `last_type`.
async fn follow_all(
    api: &RuntimeApi,
    function: &support::process::Running,
    subscribers: usize,
    request: impl Fn(Option<&str>) -> Value,
    last_type: &str,
) -> (Vec<Vec<(String, String, String)>>, usize) {
    let mut received: Vec<Vec<(String, String, String)>> = vec![Vec::new(); subscribers];
    let mut last: Vec<Option<String>> = vec![None; subscribers];
    let mut open: Vec<usize> = (0..subscribers).collect();
    let mut round = 0;
    while !open.is_empty() {
        assert!(
            round < 10,
            "still open after 10 windows: {} {:?}",
            open.len(),
            received[open[0]]
        );
        for &i in &open {
            api.invoke(
                &format!("s{i}-{round}"),
                &request(last[i].as_deref()),
                LIMIT,
            );
        }
        let mut still_open = Vec::new();
        for &i in &open {
            let id = format!("s{i}-{round}");
            let posted = api
                .response(&id, LIMIT)
                .await
                .unwrap_or_else(|| panic!("no answer to {id}:\n{}", function.output()));
            let mut done = false;
            for (kind, event_id, data) in sse_events(&posted.body()) {
                if !event_id.is_empty() {
                    last[i] = Some(event_id.clone());
                }
                if kind == "reconnect" {
                    continue;
                }
                done |= kind == last_type;
                received[i].push((kind, event_id, data));
            }
            if !done {
                still_open.push(i);
            }
        }
        open = still_open;
        round += 1;
    }
    (received, round)
}

/// 1,000 subscribers of one durable stream in one process, each following
/// it across 1 s windows: each receives every event once and in order, one
/// shared tail reads the table for all of them, and their reconnects resume
/// from its buffer rather than reading the table.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_subscribers_of_one_durable_stream_share_one_reader() {
    const SUBSCRIBERS: usize = 1000;
    const EVENTS: usize = 10;
    let local = LocalDynamo::start().await;
    let api = RuntimeApi::start().await;
    let mut env: Vec<(&str, String)> = local.env();
    env.extend([
        ("AWS_LAMBDA_MAX_CONCURRENCY", "1000".to_owned()),
        ("SSE_WINDOW_MS", "1000".to_owned()),
        // The tail outlives a gap between rounds of reconnects.
        ("SSE_POLL_MAX_MS", "3000".to_owned()),
        (
            "RUST_LOG",
            "warn,lambda_sse::sources::shared_tail=debug".to_owned(),
        ),
    ]);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let function = function(&api.endpoint(), &env);
    assert!(
        api.wait_for(LIMIT, |api| api.polls() >= SUBSCRIBERS as u64)
            .await,
        "1,000 loops ask for work:\n{}",
        function.output()
    );
    let publisher = Publisher::new(local.table());
    let stream = StreamName::new("crowd").unwrap();
    let watching = api.clone();
    let producer = tokio::spawn(async move {
        // Once every first response has begun (each waited for the shared
        // tail's first read to open), an event every 250 ms.
        let begun = watching
            .wait_for(LIMIT, |api| {
                (0..SUBSCRIBERS).all(|i| api.posted(&format!("s{i}-0")).is_some())
            })
            .await;
        assert!(begun, "the first responses began");
        for n in 1..=EVENTS {
            let data = json!({ "n": n }).to_string();
            if n == EVENTS {
                publisher
                    .append_final(&stream, "last", &data)
                    .await
                    .unwrap();
            } else {
                publisher.append(&stream, "n", &data).await.unwrap();
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    });
    let (received, rounds) = follow_all(
        &api,
        &function,
        SUBSCRIBERS,
        |last| get("/streams/crowd", "", last),
        "last",
    )
    .await;
    producer.await.unwrap();
    assert!(
        rounds >= 2,
        "a 2.5 s stream in 1 s windows spans several responses"
    );
    let ids = &received[0];
    for (i, events) in received.iter().enumerate() {
        let numbers = field(events, "n");
        assert_eq!(
            numbers,
            (1..=EVENTS as u64).collect::<Vec<_>>(),
            "subscriber {i}"
        );
        assert_eq!(events, ids, "subscriber {i} saw the same ids");
    }
    let log = function.output();
    let started = log.matches("shared tail started").count();
    assert_eq!(started, 1, "one reader for the stream:\n{log}");
    // Each response's own reads (its metrics line): opening takes where the
    // stream ends from the shared tail, and reconnects resume from its
    // buffer, so hardly any response reads the table itself.
    let own_reads: u64 = log
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter_map(|line| line["StoreReads"].as_u64())
        .sum();
    assert!(
        own_reads < SUBSCRIBERS as u64 / 10,
        "{own_reads} reads for {SUBSCRIBERS} subscribers over {rounds} windows"
    );
}
