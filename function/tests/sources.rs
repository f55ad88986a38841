//! Sources written on the public API only, driven by the handler with
//! Function URL fixture events: what the library does around any source.
//! No network; time is tokio's paused clock.

use bytes::Bytes;
use eventsource_stream::Eventsource;
use futures_util::{StreamExt, stream};
use lambda_runtime::{Context, FunctionResponse, LambdaEvent};
use lambda_sse::{
    Caller, Event, Events, Handler, Open, OpenFuture, Refusal, Request, Router, Settings, Source,
};
use serde_json::{Value, json};
use std::{
    io,
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio::time::{Instant, sleep};

const FIXTURE: &str = include_str!("fixtures/function-url-get.json");

fn url_event(path: &str, query: &str, last_event_id: Option<&str>) -> LambdaEvent<Value> {
    let mut event: Value = serde_json::from_str(FIXTURE).expect("fixture is JSON");
    event["rawPath"] = json!(path);
    event["rawQueryString"] = json!(query);
    if let Some(id) = last_event_id {
        event["headers"]["last-event-id"] = json!(id);
    }
    LambdaEvent::new(event, Context::default())
}

/// Status, content type and each chunk with its time from the call.
async fn call(
    handler: &Handler,
    event: LambdaEvent<Value>,
) -> (u16, String, Vec<(Duration, Bytes)>) {
    let start = Instant::now();
    let Ok(FunctionResponse::StreamingResponse(response)) = handler.handle(event).await else {
        panic!("a Function URL event is answered streamed");
    };
    let content_type = response.metadata_prelude.headers["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    let mut chunks = vec![];
    let mut body = response.stream;
    while let Some(chunk) = body.next().await {
        chunks.push((start.elapsed(), chunk.unwrap()));
    }
    (
        response.metadata_prelude.status_code.as_u16(),
        content_type,
        chunks,
    )
}

fn text(chunks: &[(Duration, Bytes)]) -> String {
    chunks
        .iter()
        .map(|(_, c)| String::from_utf8_lossy(c).into_owned())
        .collect()
}

async fn events(chunks: &[(Duration, Bytes)]) -> Vec<eventsource_stream::Event> {
    let body = stream::iter([Ok::<_, io::Error>(Bytes::from(text(chunks)))]);
    body.eventsource().map(|e| e.unwrap()).collect().await
}

fn settings(window_ms: u64, heartbeat_ms: u64) -> Settings {
    Settings {
        window: Duration::from_millis(window_ms),
        heartbeat: Duration::from_millis(heartbeat_ms),
        ..Settings::default()
    }
}

/// Waits `wait` (standing in for a slow query), then sends one event.
struct Slow {
    wait: Duration,
}

impl Source for Slow {
    fn open<'a>(&'a self, _: &'a Request, _: Option<&'a str>) -> OpenFuture<'a> {
        let wait = self.wait;
        Box::pin(async move {
            Open::Events(Events::new(stream::once(async move {
                sleep(wait).await;
                Ok(Event::new().data("at last").id("1")?)
            })))
        })
    }
}

#[tokio::test(start_paused = true)]
async fn heartbeats_flow_while_a_source_awaits_then_its_event_arrives() {
    let handler = Handler::new(
        Router::new().route(
            "/slow",
            Slow {
                wait: Duration::from_millis(3500),
            },
        ),
        settings(60_000, 1000),
    );
    let (status, content_type, chunks) = call(&handler, url_event("/slow", "", None)).await;
    assert_eq!((status, content_type.as_str()), (200, "text/event-stream"));
    let times: Vec<(u128, &str)> = chunks
        .iter()
        .map(|(t, c)| {
            (
                t.as_millis(),
                if c.starts_with(b": keep-alive") {
                    "heartbeat"
                } else {
                    "event"
                },
            )
        })
        .collect();
    assert_eq!(
        times,
        [
            (1000, "heartbeat"),
            (2000, "heartbeat"),
            (3000, "heartbeat"),
            (3500, "event")
        ]
    );
    assert_eq!(events(&chunks).await[0].data, "at last");
}

/// Refuses any request without `?ok`, and has nothing after id `last`.
struct Picky;

impl Source for Picky {
    fn open<'a>(&'a self, request: &'a Request, last: Option<&'a str>) -> OpenFuture<'a> {
        Box::pin(async move {
            if last == Some("last") {
                return Open::Finished;
            }
            if !request.query_pairs().any(|(name, _)| name == "ok") {
                return Open::Refused(Refusal::bad_request("not_ok", "add ?ok"));
            }
            Open::Events(Events::new(stream::iter([Event::new()
                .data("fine")
                .id("last")
                .map_err(Into::into)])))
        })
    }
}

#[tokio::test(start_paused = true)]
async fn a_source_refuses_with_its_own_4xx_or_says_it_has_nothing_left() {
    let handler = Handler::new(Router::new().route("/picky", Picky), Settings::default());
    let (status, content_type, chunks) = call(&handler, url_event("/picky", "", None)).await;
    assert_eq!((status, content_type.as_str()), (400, "application/json"));
    let body: Value = serde_json::from_str(&text(&chunks)).unwrap();
    assert_eq!(body, json!({"error": "not_ok", "message": "add ?ok"}));

    let (status, _, chunks) = call(&handler, url_event("/picky", "ok", Some("last"))).await;
    assert_eq!(status, 204);
    assert!(chunks.is_empty());

    let (status, _, chunks) = call(&handler, url_event("/picky", "ok", None)).await;
    assert_eq!(status, 200);
    assert_eq!(events(&chunks).await[0].id, "last");
}

/// A one-shot answer that cannot be resumed: an event every second, for 5 s.
struct OneShot;

impl Source for OneShot {
    fn open<'a>(&'a self, _: &'a Request, _: Option<&'a str>) -> OpenFuture<'a> {
        Box::pin(async {
            Open::Events(Events::new(stream::unfold(0, |n| async move {
                if n == 5 {
                    return None;
                }
                sleep(Duration::from_secs(1)).await;
                Some((Ok(Event::new().data(n.to_string())), n + 1))
            })))
        })
    }

    fn resumable(&self) -> bool {
        false
    }
}

#[tokio::test(start_paused = true)]
async fn a_source_that_cannot_resume_runs_past_the_window_until_it_ends() {
    let handler = Handler::new(
        Router::new().route("/once", OneShot),
        settings(2_000, 15_000),
    );
    let (_, _, chunks) = call(&handler, url_event("/once", "", None)).await;
    let received = events(&chunks).await;
    let data: Vec<&str> = received.iter().map(|e| e.data.as_str()).collect();
    assert_eq!(
        data,
        ["0", "1", "2", "3", "4"],
        "no reconnect block at the 2 s window"
    );
    assert_eq!(chunks.last().unwrap().0, Duration::from_secs(5));
}

/// Fails after one event, with a text that must stay in the log.
struct Failing;

impl Source for Failing {
    fn open<'a>(&'a self, _: &'a Request, _: Option<&'a str>) -> OpenFuture<'a> {
        Box::pin(async {
            Open::Events(Events::new(stream::iter([
                Ok(Event::new().data("one").id("1").unwrap()),
                Err("connection to db-7.internal:5432 refused".into()),
            ])))
        })
    }
}

#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl io::Write for Log {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn a_source_error_shows_the_client_a_code_and_the_log_its_text() {
    let log = global_log();

    let handler = Handler::new(
        Router::new().route("/failing", Failing),
        Settings::default(),
    );
    let (_, _, chunks) = call(&handler, url_event("/failing", "", None)).await;
    let received = events(&chunks).await;
    assert_eq!(received.len(), 2);
    assert_eq!(received[1].event, "error");
    let error: Value = serde_json::from_str(&received[1].data).unwrap();
    assert_eq!(error["error"], "source_failed");
    assert!(
        !text(&chunks).contains("db-7"),
        "the source's text reached the client"
    );

    let logged = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    assert!(
        logged.contains("connection to db-7.internal:5432 refused"),
        "{logged}"
    );
    assert!(
        logged
            .lines()
            .any(|l| l.contains("path=/failing") && l.contains("end=\"failed\"")),
        "{logged}"
    );
}

/// The test binary's one log subscriber, writing into a buffer. Global
/// rather than per test: a subscriber set for one test thread can miss
/// lines whose callsite another test thread registered first (tracing
/// caches each callsite's interest), which made the log check flaky.
fn global_log() -> Log {
    static LOG: std::sync::OnceLock<Log> = std::sync::OnceLock::new();
    LOG.get_or_init(|| {
        let log = Log::default();
        let writer = log.clone();
        let subscriber = lambda_runtime::tracing::subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("the only global subscriber");
        log
    })
    .clone()
}

/// Echoes what the library told it: the path parameter, the caller, the id.
struct Echo;

impl Source for Echo {
    fn open<'a>(&'a self, request: &'a Request, last: Option<&'a str>) -> OpenFuture<'a> {
        let caller = match request.caller() {
            Caller::Iam { account_id, arn } => format!("{account_id} {arn}"),
            _ => "anonymous".to_owned(),
        };
        let data = json!({ "name": request.param("name"), "caller": caller, "last": last, "query": request.raw_query() });
        Box::pin(async move {
            Open::Events(Events::new(stream::iter([Ok(
                Event::new().data(data.to_string())
            )])))
        })
    }
}

#[tokio::test(start_paused = true)]
async fn a_source_sees_path_parameters_the_caller_and_the_id_as_sent() {
    let handler = Handler::new(
        Router::new().route("/streams/{name}", Echo),
        Settings::default(),
    );
    let (_, _, chunks) = call(
        &handler,
        url_event("/streams/job%2D42", "a=1", Some("anything, as sent")),
    )
    .await;
    let echoed: Value = serde_json::from_str(&events(&chunks).await[0].data).unwrap();
    assert_eq!(
        echoed,
        json!({
            "name": "job-42",
            "caller": "123456789012 arn:aws:iam::123456789012:user/stream-reader",
            "last": "anything, as sent",
            "query": "a=1"
        })
    );
    // The query parameter stands in when there is no header.
    let (_, _, chunks) = call(&handler, url_event("/streams/x", "lastEventId=7", None)).await;
    let echoed: Value = serde_json::from_str(&events(&chunks).await[0].data).unwrap();
    assert_eq!(echoed["last"], "7");
}

/// Takes `wait` to open (a slow first query), then has events every 100 ms.
struct SlowToOpen {
    wait: Duration,
}

impl Source for SlowToOpen {
    fn open<'a>(&'a self, _: &'a Request, _: Option<&'a str>) -> OpenFuture<'a> {
        Box::pin(async move {
            sleep(self.wait).await;
            Open::Events(Events::new(stream::unfold(0u32, |n| async move {
                sleep(Duration::from_millis(100)).await;
                Some((
                    Event::new()
                        .data(n.to_string())
                        .id(n.to_string())
                        .map_err(Into::into),
                    n + 1,
                ))
            })))
        })
    }
}

#[tokio::test(start_paused = true)]
async fn the_time_a_source_takes_to_open_comes_off_the_deadline() {
    let handler = Handler::new(
        Router::new().route(
            "/slow",
            SlowToOpen {
                wait: Duration::from_secs(3),
            },
        ),
        Settings::default(),
    );
    let mut event = url_event("/slow", "", None);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    event.context.deadline = now.as_millis() as u64 + 6_000;
    let (_, _, chunks) = call(&handler, event).await;
    // 6 s to the deadline, 3 s to open, 2 s margin: the response ends 4 s after the call.
    assert_eq!(chunks.last().unwrap().0, Duration::from_secs(4));
    assert!(
        text(&chunks).contains("\"reason\":\"deadline\""),
        "{}",
        text(&chunks)
    );
}

#[tokio::test(start_paused = true)]
async fn a_source_that_cannot_resume_is_refused_behind_an_alb() {
    let handler = Handler::new(Router::new().route("/once", OneShot), Settings::default());
    let mut event: Value = serde_json::from_str(include_str!("fixtures/alb-get.json")).unwrap();
    event["path"] = json!("/once");
    let reply = handler
        .handle(LambdaEvent::new(event, Context::default()))
        .await
        .unwrap();
    let FunctionResponse::BufferedResponse(answer) = reply else {
        panic!("an ALB is answered buffered");
    };
    let answer = serde_json::to_value(&answer).unwrap();
    assert_eq!(answer["statusCode"], 501);
    let body: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["error"], "not_buffered");
}
