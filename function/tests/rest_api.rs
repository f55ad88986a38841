//! The function process against a Runtime API played on 127.0.0.1, handed
//! API Gateway REST API proxy events (payload 1.0) as a streaming
//! integration sends them: no emulator streams REST API invocations, so the
//! test plays Lambda's side. It checks the prelude a streaming integration
//! needs (else the client gets a 500), one value per header, events that
//! arrive one by one and on time, resume, heartbeats and every refusal.

mod support;

use serde_json::{Value, json};
use std::{collections::HashMap, time::Duration};
use support::{process::function, runtime_api::RuntimeApi};

const FIXTURE: &str = include_str!("fixtures/rest-api-get.json");
const REFUSALS: &str = include_str!("fixtures/refusals.json");
const LIMIT: Duration = Duration::from_secs(30);

/// A REST API proxy event for `method path?query`, resuming after `last`.
fn rest_event(method: &str, path: &str, query: &str, last: Option<&str>) -> Value {
    let mut event: Value = serde_json::from_str(FIXTURE).unwrap();
    event["httpMethod"] = json!(method);
    event["path"] = json!(path);
    event["resource"] = json!(path);
    event["requestContext"]["httpMethod"] = json!(method);
    event["requestContext"]["resourcePath"] = json!(path);
    event["requestContext"]["path"] = json!(format!("/live{path}"));
    // API Gateway hands the query decoded, in both forms.
    let mut multi: HashMap<String, Vec<String>> = HashMap::new();
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        multi
            .entry(name.into_owned())
            .or_default()
            .push(value.into_owned());
    }
    let single: HashMap<&String, &String> = multi
        .iter()
        .filter_map(|(name, values)| values.last().map(|value| (name, value)))
        .collect();
    let (single, multi) = if multi.is_empty() {
        (Value::Null, Value::Null)
    } else {
        (json!(single), json!(multi))
    };
    event["queryStringParameters"] = single;
    event["multiValueQueryStringParameters"] = multi;
    for map in ["headers", "multiValueHeaders"] {
        let headers = event[map].as_object_mut().unwrap();
        headers.remove("last-event-id");
        if let Some(id) = last {
            let value = if map == "headers" {
                json!(id)
            } else {
                json!([id])
            };
            headers.insert("last-event-id".into(), value);
        }
    }
    event
}

/// An answer as a streaming integration reads it: the prelude, then the body.
struct Streamed {
    prelude: Value,
    /// Each event block of the body with when it arrived, from the first.
    blocks: Vec<(Duration, String)>,
    body: String,
}

fn streamed(posted: &support::runtime_api::Posted) -> Streamed {
    let bytes = posted.body();
    let at = bytes
        .windows(8)
        .position(|w| w == [0u8; 8])
        .expect("a prelude ended by 8 NUL bytes");
    assert!(at < 16 * 1024, "the delimiter within the first 16 KB");
    let prelude: Value = serde_json::from_slice(&bytes[..at]).expect("a JSON prelude");
    let body = String::from_utf8(bytes[at + 8..].to_vec()).unwrap();
    // When each block's last byte arrived.
    let (mut blocks, mut text, mut offset) = (Vec::new(), String::new(), 0usize);
    let start = posted.chunks.first().map(|(t, _)| *t).unwrap();
    for (time, chunk) in &posted.chunks {
        let from = (at + 8).saturating_sub(offset).min(chunk.len());
        offset += chunk.len();
        text.push_str(&String::from_utf8_lossy(&chunk[from..]));
        while let Some(end) = text.find("\n\n") {
            blocks.push((*time - start, text.drain(..end + 2).collect()));
        }
    }
    Streamed {
        prelude,
        blocks,
        body,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rest_api_request_is_streamed_event_by_event() {
    let api = RuntimeApi::start().await;
    let _function = function(&api.endpoint(), &[]);
    api.invoke(
        "stream",
        &rest_event("GET", "/events", "steps=3&interval_ms=400", None),
        LIMIT,
    );
    let posted = api.response("stream", LIMIT).await.expect("an answer");
    assert_eq!(posted.kind, "response");
    let answer = streamed(&posted);
    assert_eq!(answer.prelude["statusCode"], 200);
    let headers = answer.prelude["headers"].as_object().unwrap();
    assert_eq!(headers["content-type"], "text/event-stream");
    assert!(
        headers.values().all(Value::is_string),
        "one value per header: {headers:?}"
    );
    let events: Vec<&(Duration, String)> = answer
        .blocks
        .iter()
        .filter(|(_, b)| b.contains("event: progress") || b.contains("event: complete"))
        .collect();
    assert_eq!(events.len(), 4, "{}", answer.body);
    // One by one on the job's schedule, not all at the end.
    let gaps: Vec<Duration> = events.windows(2).map(|w| w[1].0 - w[0].0).collect();
    for gap in &gaps {
        assert!(
            *gap >= Duration::from_millis(300) && *gap < Duration::from_millis(1_000),
            "{gaps:?}"
        );
    }
    assert!(events[3].1.contains("event: complete"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_and_heartbeats_work_as_through_a_function_url() {
    let api = RuntimeApi::start().await;
    let _function = function(&api.endpoint(), &[("SSE_HEARTBEAT_MS", "1000")]);
    let job = "0c9d6a5e-3f0e-4b43-9a43-1a4c2f8e7b21";
    api.invoke(
        "resume",
        &rest_event(
            "GET",
            "/events",
            "interval_ms=2500",
            Some(&format!("{job}/3:2")),
        ),
        LIMIT,
    );
    let answer = streamed(&api.response("resume", LIMIT).await.expect("an answer"));
    let ids: Vec<&str> = answer
        .body
        .lines()
        .filter_map(|l| l.strip_prefix("id: "))
        .collect();
    assert_eq!(ids, [format!("{job}/3:3"), format!("{job}/3:complete")]);
    let heartbeat = answer.body.find(": keep-alive").expect("a heartbeat");
    let third = answer.body.find("/3:3").unwrap();
    let complete = answer.body.find("/3:complete").unwrap();
    assert!(
        third < heartbeat && heartbeat < complete,
        "a heartbeat while the job waits 2.5 s:\n{}",
        answer.body
    );
}

/// Every refusal of the shared table, as REST API events.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refusal_comes_streamed_with_its_status() {
    let table: Value = serde_json::from_str(REFUSALS).unwrap();
    let api = RuntimeApi::start().await;
    let _function = function(&api.endpoint(), &[]);
    for (n, case) in table["cases"].as_array().unwrap().iter().enumerate() {
        let text = |field: &str| case[field].as_str().unwrap();
        let id = format!("refusal-{n}");
        api.invoke(
            &id,
            &rest_event(
                text("method"),
                text("path"),
                text("query"),
                case["lastEventId"].as_str(),
            ),
            LIMIT,
        );
        let answer = streamed(&api.response(&id, LIMIT).await.expect("an answer"));
        assert_eq!(answer.prelude["statusCode"], case["status"], "{case}");
        assert_eq!(
            answer.prelude["headers"]["content-type"], "application/json",
            "{case}"
        );
        let body: Value = serde_json::from_str(&answer.body).unwrap();
        assert_eq!(body["error"], case["error"], "{case}");
    }
}
