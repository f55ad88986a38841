//! The handler as the runtime calls it: Function URL request events in,
//! status, headers and parsed events out. No network; time is tokio's paused
//! clock, so the schedule is checked exactly.

use bytes::Bytes;
use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use lambda_runtime::{Context, FunctionResponse, LambdaEvent};
use lambda_sse::{
    Handler, Reply, Router, Settings,
    sources::job::{JobSource, JobSpec},
};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::time::Instant;

const FIXTURE: &str = include_str!("fixtures/function-url-get.json");
const REFUSALS: &str = include_str!("fixtures/refusals.json");

/// The fixture with its method, path and query replaced.
fn url_event(method: &str, path: &str, query: &str) -> LambdaEvent<Value> {
    let mut event: Value = serde_json::from_str(FIXTURE).expect("fixture is JSON");
    event["rawPath"] = json!(path);
    event["rawQueryString"] = json!(query);
    event["requestContext"]["http"]["method"] = json!(method);
    event["requestContext"]["http"]["path"] = json!(path);
    LambdaEvent::new(event, Context::default())
}

/// A `GET /events` that resumes with a `Last-Event-ID` header.
fn resume_event(query: &str, last_event_id: &str) -> LambdaEvent<Value> {
    let mut event = url_event("GET", "/events", query);
    event.payload["headers"]["last-event-id"] = json!(last_event_id);
    event
}

/// The event with an invocation deadline `ms` from now, as the runtime sets it.
fn with_deadline_in(mut event: LambdaEvent<Value>, ms: u64) -> LambdaEvent<Value> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    event.context.deadline = now.as_millis() as u64 + ms;
    event
}

struct Answer {
    status: u16,
    headers: http::HeaderMap,
    /// Each chunk with the (paused-clock) time it was produced, from the call.
    chunks: Vec<(Duration, Bytes)>,
}

impl Answer {
    fn body(&self) -> Vec<u8> {
        self.chunks.iter().flat_map(|(_, c)| c.to_vec()).collect()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body()).expect("JSON body")
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .map(|v| v.to_str().expect("ASCII header"))
    }

    async fn events(&self) -> Vec<eventsource_stream::Event> {
        let body = futures_util::stream::iter([Ok::<_, std::convert::Infallible>(Bytes::from(
            self.body(),
        ))]);
        body.eventsource()
            .map(|e| e.expect("valid SSE"))
            .collect()
            .await
    }
}

async fn call(handler: &Handler, event: LambdaEvent<Value>) -> Answer {
    let start = Instant::now();
    let reply: Reply = handler
        .handle(event)
        .await
        .expect("a Function URL event is handled");
    let FunctionResponse::StreamingResponse(response) = reply else {
        panic!("Function URL invocations must stream");
    };
    let mut chunks = vec![];
    let mut body = response.stream;
    while let Some(chunk) = body.next().await {
        chunks.push((start.elapsed(), chunk.expect("infallible")));
    }
    Answer {
        status: response.metadata_prelude.status_code.as_u16(),
        headers: response.metadata_prelude.headers,
        chunks,
    }
}

/// The demo function's composition: the job at `/events`, `/health`, the page.
fn with(settings: Settings, job: JobSource) -> Handler {
    Handler::new(
        Router::new()
            .route("/events", job)
            .health("/health")
            .watch_page(),
        settings,
    )
}

fn handler() -> Handler {
    with(Settings::default(), JobSource::new(JobSpec::default()))
}

#[tokio::test(start_paused = true)]
async fn streams_progress_then_complete_on_schedule() {
    let answer = call(
        &handler(),
        url_event("GET", "/events", "interval_ms=100&steps=3"),
    )
    .await;

    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("content-type"), Some("text/event-stream"));
    assert_eq!(answer.header("cache-control"), Some("no-cache"));
    assert_eq!(answer.header("x-accel-buffering"), Some("no"));
    assert_eq!(answer.header("connection"), None);

    let times: Vec<u128> = answer.chunks.iter().map(|(t, _)| t.as_millis()).collect();
    assert_eq!(
        times,
        [0, 100, 200, 300],
        "one chunk per event, each when due"
    );

    let events = answer.events().await;
    let kinds: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(kinds, ["progress", "progress", "progress", "complete"]);

    let data: Vec<Value> = events
        .iter()
        .map(|e| serde_json::from_str(&e.data).unwrap())
        .collect();
    let job_id = data[0]["jobId"].as_str().unwrap().to_owned();
    assert_eq!(uuid::Uuid::parse_str(&job_id).unwrap().get_version_num(), 4);
    assert_eq!(
        data[1],
        json!({"jobId": job_id, "step": 2, "totalSteps": 3, "percentage": 50, "status": "Processing step 2 of 3..."})
    );
    assert_eq!(
        data[3],
        json!({"jobId": job_id, "step": 3, "totalSteps": 3, "percentage": 100, "status": "Processing complete!"})
    );
    let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            format!("{job_id}/3:1"),
            format!("{job_id}/3:2"),
            format!("{job_id}/3:3"),
            format!("{job_id}/3:complete")
        ]
    );
    assert_eq!(events[0].retry, Some(Duration::from_millis(5000)));
    assert!(events[1..].iter().all(|e| e.retry.is_none()));
}

#[tokio::test(start_paused = true)]
async fn default_job_is_eleven_steps_two_seconds_apart() {
    let answer = call(&handler(), url_event("GET", "/events", "")).await;
    let events = answer.events().await;
    assert_eq!(events.len(), 12);
    let percentages: Vec<i64> = events[..11]
        .iter()
        .map(|e| {
            serde_json::from_str::<Value>(&e.data).unwrap()["percentage"]
                .as_i64()
                .unwrap()
        })
        .collect();
    assert_eq!(percentages, [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    assert_eq!(answer.chunks.last().unwrap().0, Duration::from_secs(22));
    assert_eq!(answer.chunks[1].0, Duration::from_secs(2));
}

#[tokio::test(start_paused = true)]
async fn settings_change_the_defaults_and_the_retry_hint() {
    let lookup = |name: &str| match name {
        "SSE_RETRY_MS" => Some("1500".into()),
        "SSE_JOB_STEPS" => Some("2".into()),
        "SSE_JOB_INTERVAL_MS" => Some("50".into()),
        _ => None,
    };
    let handler = with(
        Settings::from_lookup(lookup).unwrap(),
        JobSource::from_lookup(lookup).unwrap(),
    );
    let answer = call(&handler, url_event("GET", "/events", "")).await;
    let events = answer.events().await;
    assert_eq!(events.len(), 3);
    assert_eq!(events[0].retry, Some(Duration::from_millis(1500)));
    assert_eq!(answer.chunks.last().unwrap().0, Duration::from_millis(100));
}

#[tokio::test(start_paused = true)]
async fn every_stream_is_a_new_job() {
    let a = call(&handler(), url_event("GET", "/events", "steps=1"))
        .await
        .events()
        .await;
    let b = call(&handler(), url_event("GET", "/events", "steps=1"))
        .await
        .events()
        .await;
    assert_ne!(a[0].id, b[0].id);
}

#[tokio::test]
async fn health_is_200_json() {
    let answer = call(&handler(), url_event("GET", "/health", "")).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("content-type"), Some("application/json"));
    assert_eq!(answer.json()["status"], "ok");
}

/// The page and its scripts, each as it is in `web/`, with the headers that
/// make a browser revalidate it, never sniff it, and run only the page's own
/// scripts (the inline one by its hash). A 404 names the page but not its
/// scripts.
#[tokio::test]
async fn the_page_and_its_scripts_are_served_as_they_are() {
    let handler = handler();
    let page = call(&handler, url_event("GET", "/", "stream=%2Fevents")).await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(page.header("cache-control"), Some("no-cache"));
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(page.body(), include_bytes!("../../web/index.html"));
    let policy = page.header("content-security-policy").unwrap();
    assert!(
        policy.starts_with("default-src 'none'; script-src 'self' 'sha256-"),
        "{policy}"
    );
    assert!(policy.contains("connect-src 'self'"), "{policy}");

    for (path, body) in [
        ("/page.js", &include_bytes!("../../web/page.js")[..]),
        ("/sse-client.js", include_bytes!("../../web/sse-client.js")),
        ("/sse-parser.js", include_bytes!("../../web/sse-parser.js")),
    ] {
        let script = call(&handler, url_event("GET", path, "")).await;
        assert_eq!(script.status, 200, "{path}");
        assert_eq!(
            script.header("content-type"),
            Some("text/javascript; charset=utf-8")
        );
        assert_eq!(script.body(), body, "{path}");
        assert_eq!(script.header("content-security-policy"), None);
    }

    let missing = call(&handler, url_event("GET", "/index.html", "")).await;
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.json()["message"],
        "nothing is served at \"/index.html\"; GET one of /events, /health, /"
    );
}

/// Every refusal of the shared table (`fixtures/refusals.json`), through a
/// Function URL event.
#[tokio::test]
async fn bad_requests_get_json_errors() {
    let table: Value = serde_json::from_str(REFUSALS).unwrap();
    for case in table["cases"].as_array().unwrap() {
        let text = |field: &str| case[field].as_str().unwrap();
        let mut event = url_event(text("method"), text("path"), text("query"));
        if let Some(id) = case["lastEventId"].as_str() {
            event.payload["headers"]["last-event-id"] = json!(id);
        }
        let answer = call(&handler(), event).await;
        assert_eq!(u64::from(answer.status), case["status"], "{case}");
        assert_eq!(
            answer.header("content-type"),
            Some("application/json"),
            "{case}"
        );
        let body = answer.json();
        assert_eq!(body["error"], case["error"], "{case}");
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{case}"
        );
        let allow = answer.header("allow");
        assert_eq!(allow, (answer.status == 405).then_some("GET"), "{case}");
    }
}

#[tokio::test]
async fn events_that_are_not_function_url_requests_are_invocation_errors() {
    let handler = handler();
    let not_http = LambdaEvent::new(json!({"hello": "world"}), Context::default());
    let err = handler.handle(not_http).await.err().expect("refused");
    assert!(err.to_string().contains("Function URL"), "{err}");

    let mut broken: Value = serde_json::from_str(FIXTURE).unwrap();
    broken["requestContext"]["timeEpoch"] = json!("yesterday");
    let err = handler
        .handle(LambdaEvent::new(broken, Context::default()))
        .await
        .err()
        .expect("refused");
    assert!(err.to_string().contains("malformed"), "{err}");
}

fn settings(window_ms: &str, margin_ms: &str) -> Settings {
    let (window_ms, margin_ms) = (window_ms.to_owned(), margin_ms.to_owned());
    Settings::from_lookup(move |name| match name {
        "SSE_WINDOW_MS" => Some(window_ms.clone()),
        "SSE_DEADLINE_MARGIN_MS" => Some(margin_ms.clone()),
        _ => None,
    })
    .unwrap()
}

#[tokio::test(start_paused = true)]
async fn resumes_the_same_job_after_the_last_event_id() {
    let first = call(
        &handler(),
        url_event("GET", "/events", "steps=5&interval_ms=100"),
    )
    .await;
    let first = first.events().await;
    // `<jobId>/<steps>`: the part of every id that names the job.
    let job = first[0].id.split(':').next().unwrap().to_owned();
    assert!(job.ends_with("/5"), "{job}");

    let answer = call(
        &handler(),
        resume_event("steps=5&interval_ms=100", &first[1].id),
    )
    .await;
    assert_eq!(answer.status, 200);
    let times: Vec<u128> = answer.chunks.iter().map(|(t, _)| t.as_millis()).collect();
    assert_eq!(
        times,
        [0, 100, 200, 300],
        "the next step at once, then the interval"
    );
    let events = answer.events().await;
    let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            format!("{job}:3"),
            format!("{job}:4"),
            format!("{job}:5"),
            format!("{job}:complete")
        ]
    );
    assert_eq!(
        events[0].retry,
        Some(Duration::from_millis(5000)),
        "every response sets retry"
    );
    let step3: Value = serde_json::from_str(&events[0].data).unwrap();
    assert_eq!(step3["percentage"], 50);
}

#[tokio::test]
async fn resuming_after_complete_is_204_with_no_body_and_deliberate_headers() {
    let id = "6f1c2b7e-0d4e-4c1a-9d59-1b2f7d3c4a10/11:complete";
    let answer = call(&handler(), resume_event("", id)).await;
    assert_eq!(answer.status, 204);
    assert!(
        answer.chunks.is_empty(),
        "no chunk at all: {:?}",
        answer.chunks
    );
    assert_eq!(answer.header("content-type"), Some("text/event-stream"));
    assert_eq!(answer.header("cache-control"), Some("no-store"));
}

#[tokio::test(start_paused = true)]
async fn a_resume_without_steps_continues_the_job_of_the_id_not_the_default() {
    let job = "6f1c2b7e-0d4e-4c1a-9d59-1b2f7d3c4a10";
    let answer = call(
        &handler(),
        resume_event("interval_ms=10", &format!("{job}/20:5")),
    )
    .await;
    let events = answer.events().await;
    let next: Value = serde_json::from_str(&events[0].data).unwrap();
    assert_eq!(events[0].id, format!("{job}/20:6"));
    assert_eq!(
        (&next["step"], &next["totalSteps"], &next["percentage"]),
        (&json!(6), &json!(20), &json!(26)),
        "step 6 of the same 20-step job"
    );
    assert_eq!(events.len(), 16, "steps 6 to 20 and complete");
}

#[tokio::test]
async fn a_foreign_last_event_id_is_400() {
    for id in [
        "hello",
        "6f1c2b7e-0d4e-4c1a-9d59-1b2f7d3c4a10/11:12",
        "6f1c2b7e-0d4e-4c1a-9d59-1b2f7d3c4a10/11:0",
        "00000000-0000-0000-0000-000000000000/11:1",
    ] {
        let answer = call(&handler(), resume_event("", id)).await;
        assert_eq!(answer.status, 400, "{id}");
        let body = answer.json();
        assert_eq!(body["error"], "invalid_last_event_id");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .starts_with("the last event id")
        );
    }
}

/// `cargo lambda watch --timeout 4` gives the deadline as 4000: four seconds
/// from the invocation's arrival, not a point in time.
#[tokio::test(start_paused = true)]
async fn a_local_timeout_ends_the_response_before_it_like_lambdas_deadline() {
    let mut event = url_event("GET", "/events", "steps=16&interval_ms=500");
    event.context.deadline = 4_000;
    let answer = call(&handler(), event).await;
    let events = answer.events().await;
    let last = events.last().unwrap();
    assert_eq!(last.event, "reconnect");
    let reconnect: Value = serde_json::from_str(&last.data).unwrap();
    assert_eq!(reconnect["reason"], "deadline");
    assert_eq!(
        answer.chunks.last().unwrap().0,
        Duration::from_millis(2000),
        "4 s less the 2 s margin"
    );
}

#[tokio::test(start_paused = true)]
async fn the_deadline_less_the_margin_ends_the_response_with_a_reconnect() {
    let handler = with(
        settings("120000", "500"),
        JobSource::new(JobSpec::default()),
    );
    let event = with_deadline_in(
        url_event("GET", "/events", "steps=20&interval_ms=300"),
        1500,
    );
    let answer = call(&handler, event).await;
    let events = answer.events().await;
    let kinds: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(
        kinds,
        ["progress", "progress", "progress", "progress", "reconnect"]
    );
    let end = answer.chunks.last().unwrap().0;
    assert!(
        end <= Duration::from_millis(1000) && end >= Duration::from_millis(950),
        "ended {end:?} after the start, for a deadline 1500 ms away less 500 ms"
    );
    let reconnect: Value = serde_json::from_str(&events[4].data).unwrap();
    assert_eq!(reconnect["reason"], "deadline");
    assert_eq!(
        events[4].id, events[3].id,
        "the closing block repeats the last id"
    );
    assert_eq!(reconnect["lastEventId"], events[3].id.as_str());
}

/// Plays an EventSource: reconnect with the last id after each response,
/// stop at 204. Returns each response's events.
async fn follow(handler: &Handler, query: &str) -> Vec<Vec<eventsource_stream::Event>> {
    let mut responses = vec![];
    let mut last_id = String::new();
    loop {
        let event = if last_id.is_empty() {
            url_event("GET", "/events", query)
        } else {
            resume_event(query, &last_id)
        };
        let answer = call(handler, event).await;
        if answer.status == 204 {
            return responses;
        }
        assert_eq!(answer.status, 200);
        let events = answer.events().await;
        if let Some(last) = events.last() {
            last_id = last.id.clone();
        }
        responses.push(events);
        assert!(responses.len() < 20, "the job never finished");
    }
}

#[tokio::test(start_paused = true)]
async fn windows_split_a_job_across_responses_with_nothing_lost_or_repeated() {
    let handler = with(settings("1000", "2000"), JobSource::new(JobSpec::default()));
    let responses = follow(&handler, "steps=10&interval_ms=300").await;
    assert!(responses.len() >= 3, "{} responses", responses.len());

    let delivered: Vec<Value> = responses
        .iter()
        .flatten()
        .filter(|e| e.event != "reconnect")
        .map(|e| serde_json::from_str(&e.data).unwrap())
        .collect();
    let steps: Vec<u64> = delivered
        .iter()
        .map(|d| d["step"].as_u64().unwrap())
        .collect();
    assert_eq!(steps, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10]);
    assert_eq!(delivered.last().unwrap()["status"], "Processing complete!");
    let job_id = &delivered[0]["jobId"];
    assert!(delivered.iter().all(|d| &d["jobId"] == job_id));

    for response in &responses[..responses.len() - 1] {
        let last = response.last().unwrap();
        assert_eq!(
            last.event, "reconnect",
            "every window ends with a reconnect block"
        );
        assert!(last.retry.is_some());
        assert_eq!(last.id, response[response.len() - 2].id);
    }
}

#[tokio::test(start_paused = true)]
async fn a_one_step_job_is_done_at_its_only_step() {
    let events = call(&handler(), url_event("GET", "/events", "steps=1"))
        .await
        .events()
        .await;
    let kinds: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(kinds, ["progress", "complete"]);
    let step: Value = serde_json::from_str(&events[0].data).unwrap();
    assert_eq!(
        (step["step"].as_u64(), step["percentage"].as_u64()),
        (Some(1), Some(100))
    );
}

#[tokio::test(start_paused = true)]
async fn resuming_after_the_last_step_sends_only_complete() {
    let job = "6f1c2b7e-0d4e-4c1a-9d59-1b2f7d3c4a10";
    let answer = call(&handler(), resume_event("steps=4", &format!("{job}/4:4"))).await;
    let events = answer.events().await;
    let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, [format!("{job}/4:complete")]);
    assert_eq!(answer.chunks[0].0, Duration::ZERO, "at once");
}

#[tokio::test(start_paused = true)]
async fn resumes_from_the_last_event_id_query_parameter_too() {
    let job = "6f1c2b7e-0d4e-4c1a-9d59-1b2f7d3c4a10";
    let query = format!("steps=3&lastEventId={job}%2F3%3A2");
    let events = call(&handler(), url_event("GET", "/events", &query))
        .await
        .events()
        .await;
    let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, [format!("{job}/3:3"), format!("{job}/3:complete")]);
}

#[tokio::test(start_paused = true)]
async fn a_deadline_already_past_sends_what_is_due_and_closes() {
    let mut event = url_event("GET", "/events", "steps=5&interval_ms=100");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    event.context.deadline = now.as_millis() as u64 - 1000;
    let answer = call(&handler(), event).await;
    let events = answer.events().await;
    let kinds: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(
        kinds,
        ["progress", "reconnect"],
        "the step due now, then at once the close"
    );
    assert_eq!(answer.chunks.last().unwrap().0, Duration::ZERO);
}
