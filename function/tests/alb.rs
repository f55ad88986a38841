//! ALB invocations: buffered answers, one batch window of events each, that
//! a reconnecting EventSource turns back into the whole job. No network; time
//! is tokio's paused clock.

use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use lambda_runtime::{Context, FunctionResponse, LambdaEvent};
use lambda_sse::{
    Handler, Router, Settings,
    sources::job::{JobSource, JobSpec},
};
use serde_json::{Value, json};
use std::time::Duration;

const FIXTURE: &str = include_str!("fixtures/alb-get.json");
const REFUSALS: &str = include_str!("fixtures/refusals.json");

/// The fixture as a single-value ALB request with this method, path, query
/// and `Last-Event-ID`.
fn alb_event(
    method: &str,
    path: &str,
    query: &[(&str, &str)],
    last_event_id: Option<&str>,
) -> LambdaEvent<Value> {
    let mut event: Value = serde_json::from_str(FIXTURE).expect("fixture is JSON");
    event["httpMethod"] = json!(method);
    event["path"] = json!(path);
    event["queryStringParameters"] = query
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    if let Some(id) = last_event_id {
        event["headers"]["last-event-id"] = json!(id);
    }
    LambdaEvent::new(event, Context::default())
}

/// The same request in the multi-value form (a target group with
/// multi-value headers turned on).
fn multi_value(mut event: LambdaEvent<Value>) -> LambdaEvent<Value> {
    let payload = &mut event.payload;
    let to_lists = |map: &Value| -> Value {
        map.as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), json!([v])))
            .collect()
    };
    payload["multiValueHeaders"] = to_lists(&payload["headers"]);
    payload["multiValueQueryStringParameters"] = to_lists(&payload["queryStringParameters"]);
    let object = payload.as_object_mut().unwrap();
    object.remove("headers");
    object.remove("queryStringParameters");
    event
}

/// The buffered answer, serialized as the runtime sends it to the ALB.
async fn call(handler: &Handler, event: LambdaEvent<Value>) -> Value {
    match handler
        .handle(event)
        .await
        .expect("an ALB event is handled")
    {
        FunctionResponse::BufferedResponse(response) => serde_json::to_value(&response).unwrap(),
        FunctionResponse::StreamingResponse(_) => panic!("an ALB cannot take a streamed answer"),
    }
}

async fn events_of(body: &Value) -> Vec<eventsource_stream::Event> {
    let text = body["body"].as_str().unwrap_or_default().to_owned();
    let chunks = futures_util::stream::iter([Ok::<_, std::convert::Infallible>(text)]);
    chunks
        .eventsource()
        .map(|e| e.expect("valid SSE"))
        .collect()
        .await
}

fn handler(batch_ms: &str) -> Handler {
    let batch_ms = batch_ms.to_owned();
    Handler::new(
        Router::new()
            .route("/events", JobSource::new(JobSpec::default()))
            .health("/health"),
        Settings::from_lookup(move |name| {
            (name == "SSE_BATCH_WINDOW_MS").then(|| batch_ms.clone())
        })
        .unwrap(),
    )
}

#[tokio::test(start_paused = true)]
async fn answers_with_one_buffered_document_of_sse() {
    let answer = call(
        &handler("5000"),
        alb_event(
            "GET",
            "/events",
            &[("steps", "3"), ("interval_ms", "100")],
            None,
        ),
    )
    .await;
    assert_eq!(answer["statusCode"], 200);
    assert_eq!(answer["statusDescription"], "200 OK");
    assert_eq!(answer["isBase64Encoded"], false);
    assert_eq!(answer["headers"]["content-type"], "text/event-stream");
    assert_eq!(answer["headers"]["cache-control"], "no-cache");
    assert!(answer["headers"].get("connection").is_none());
    assert!(
        answer["multiValueHeaders"]
            .as_object()
            .is_none_or(|m| m.is_empty())
    );

    let events = events_of(&answer).await;
    let kinds: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(
        kinds,
        ["progress", "progress", "progress", "complete"],
        "the whole job fit in one batch"
    );
    assert_eq!(events[0].retry, Some(Duration::from_millis(5000)));
}

#[tokio::test(start_paused = true)]
async fn answers_a_multi_value_request_with_multi_value_headers() {
    let event = multi_value(alb_event("GET", "/events", &[("steps", "1")], None));
    let answer = call(&handler("5000"), event).await;
    assert_eq!(answer["statusCode"], 200);
    assert_eq!(
        answer["multiValueHeaders"]["content-type"],
        json!(["text/event-stream"])
    );
    assert!(answer["headers"].as_object().is_none_or(|m| m.is_empty()));
    assert_eq!(events_of(&answer).await.len(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_batch_holds_what_its_window_produced_and_ends_with_reconnect() {
    let query = [("steps", "10"), ("interval_ms", "300")];
    let start = tokio::time::Instant::now();
    let answer = call(&handler("1000"), alb_event("GET", "/events", &query, None)).await;
    assert_eq!(
        start.elapsed(),
        Duration::from_millis(1000),
        "answered when the window closed"
    );
    let events = events_of(&answer).await;
    let kinds: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(
        kinds,
        ["progress", "progress", "progress", "progress", "reconnect"]
    );
    let reconnect = &events[4];
    assert_eq!(reconnect.id, events[3].id, "ends with the last id");
    assert_eq!(
        reconnect.retry,
        Some(Duration::from_millis(200)),
        "come back when step 5 is due"
    );
    assert!(
        !answer["body"].as_str().unwrap().contains(": keep-alive"),
        "no heartbeats in a batch"
    );
}

/// The largest batch a request can ask for: the longest job at the fastest
/// pace, all in one window. (A source with bigger or quote-heavy events is
/// cut before the document passes 1 MB; `lambda.rs`'s unit tests cover that.)
#[tokio::test(start_paused = true)]
async fn the_largest_batch_stays_under_the_alb_limit() {
    let query = [("steps", "1000"), ("interval_ms", "10")];
    let answer = call(&handler("60000"), alb_event("GET", "/events", &query, None)).await;
    let document = serde_json::to_vec(&answer).unwrap();
    assert!(
        document.len() < 1_000_000,
        "{} bytes: over the ALB's 1 MB",
        document.len()
    );
    let events = events_of(&answer).await;
    assert_eq!(events.len(), 1001, "every step and complete in one batch");
    assert_eq!(events.last().unwrap().event, "complete");
}

#[tokio::test(start_paused = true)]
async fn batches_resumed_with_last_event_id_deliver_every_step_once() {
    let handler = handler("1000");
    let query = [("steps", "12"), ("interval_ms", "250")];
    let mut last_id: Option<String> = None;
    let mut batches = 0;
    let mut steps = vec![];
    loop {
        let answer = call(
            &handler,
            alb_event("GET", "/events", &query, last_id.as_deref()),
        )
        .await;
        if answer["statusCode"] == 204 {
            assert!(
                answer.get("body").is_none_or(Value::is_null),
                "204 has no body"
            );
            break;
        }
        assert_eq!(answer["statusCode"], 200);
        batches += 1;
        assert!(batches < 20, "never finished");
        for event in events_of(&answer).await {
            if event.event == "progress" {
                steps.push(
                    serde_json::from_str::<Value>(&event.data).unwrap()["step"]
                        .as_u64()
                        .unwrap(),
                );
            }
            last_id = Some(event.id);
        }
    }
    assert_eq!(steps, (1..=12).collect::<Vec<_>>());
    assert!(batches >= 3, "{batches} batches");
}

#[tokio::test]
async fn health_and_bad_requests_answer_as_through_the_url() {
    let handler = handler("5000");
    let health = call(&handler, alb_event("GET", "/health", &[], None)).await;
    assert_eq!(health["statusCode"], 200);
    assert_eq!(health["headers"]["content-type"], "application/json");
    assert_eq!(
        serde_json::from_str::<Value>(health["body"].as_str().unwrap()).unwrap()["status"],
        "ok"
    );

    // Every refusal of the shared table, from a target group with
    // multi-value headers (as SseAlb configures it), which is what lets the
    // function see a repeated query parameter.
    let table: Value = serde_json::from_str(REFUSALS).unwrap();
    for case in table["cases"].as_array().unwrap() {
        let text = |field: &str| case[field].as_str().unwrap();
        let mut event = multi_value(alb_event(
            text("method"),
            text("path"),
            &[],
            case["lastEventId"].as_str(),
        ));
        let mut query: serde_json::Map<String, Value> = serde_json::Map::new();
        for pair in text("query").split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let values = query.entry(name).or_insert_with(|| json!([]));
            values.as_array_mut().unwrap().push(json!(value));
        }
        event.payload["multiValueQueryStringParameters"] = Value::Object(query);
        let answer = call(&handler, event).await;
        assert_eq!(answer["statusCode"], case["status"], "{case}");
        let body: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["error"], case["error"], "{case}");
    }
}
