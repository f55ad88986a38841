//! Durable streams against a local DynamoDB (dynalite on 127.0.0.1): events
//! published by `Publisher` or `sse-publish` reach subscribers of
//! `/streams/{name}` (the handler as the runtime calls it, real time), once
//! and in order, across windows, reconnects and concurrent producers.
//!
//! Needs Node.js and the npm packages (dynalite): `npm test` sees to both.

mod support;

use bytes::Bytes;
use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use lambda_runtime::{Context, FunctionResponse, LambdaEvent};
use lambda_sse::{
    Handler, Reply, Router, Settings,
    durable::{MAX_DATA_BYTES, PublishError, Publisher, StreamName},
    sources::durable::{DurableSource, Polling},
};
use serde_json::{Value, json};
use std::{collections::HashSet, process::Stdio, sync::Arc, time::Duration};
use support::dynamo::LocalDynamo;
use tokio::{io::AsyncWriteExt, process::Command, sync::mpsc, time::timeout};

const URL_FIXTURE: &str = include_str!("fixtures/function-url-get.json");
const ALB_FIXTURE: &str = include_str!("fixtures/alb-get.json");

fn settings(window_ms: u64) -> Settings {
    Settings {
        window: Duration::from_millis(window_ms),
        heartbeat: Duration::from_secs(1),
        ..Settings::default()
    }
}

fn polling() -> Polling {
    Polling {
        min: Duration::from_millis(20),
        max: Duration::from_millis(200),
    }
}

fn handler(local: &LocalDynamo, settings: Settings) -> Handler {
    let streams = DurableSource::new(local.table(), polling());
    Handler::new(Router::new().route("/streams/{name}", streams), settings)
}

fn name(text: &str) -> StreamName {
    StreamName::new(text).unwrap()
}

/// A Function URL `GET path?query`, resuming after `last` when given.
fn get(path: &str, query: &str, last: Option<&str>) -> LambdaEvent<Value> {
    let mut event: Value = serde_json::from_str(URL_FIXTURE).unwrap();
    event["rawPath"] = json!(path);
    event["rawQueryString"] = json!(query);
    event["requestContext"]["http"]["path"] = json!(path);
    if let Some(last) = last {
        event["headers"]["last-event-id"] = json!(last);
    }
    LambdaEvent::new(event, Context::default())
}

/// One response: status, and its body's SSE events as they arrive.
struct Response {
    status: u16,
    body: mpsc::UnboundedReceiver<Bytes>,
}

async fn open(handler: &Handler, event: LambdaEvent<Value>) -> Response {
    let reply: Reply = handler.handle(event).await.unwrap();
    let FunctionResponse::StreamingResponse(response) = reply else {
        panic!("Function URL invocations stream");
    };
    let (send, body) = mpsc::unbounded_channel();
    let mut stream = response.stream;
    tokio::spawn(async move {
        while let Some(Ok(chunk)) = stream.next().await {
            if send.send(chunk).is_err() {
                break;
            }
        }
    });
    Response {
        status: response.metadata_prelude.status_code.as_u16(),
        body,
    }
}

impl Response {
    /// The whole body.
    async fn text(mut self) -> String {
        let mut all = Vec::new();
        while let Some(chunk) = self.body.recv().await {
            all.extend_from_slice(&chunk);
        }
        String::from_utf8(all).unwrap()
    }

    /// The body's events, as a spec client parses them.
    async fn events(self) -> Vec<eventsource_stream::Event> {
        let text = self.text().await;
        futures_util::stream::iter([Ok::<_, std::convert::Infallible>(Bytes::from(text))])
            .eventsource()
            .map(|e| e.unwrap())
            .collect()
            .await
    }
}

/// Follows a stream as an EventSource does until 204: reconnects after each
/// response with the last id it saw. Returns the producer's events (type,
/// data, id) and the number of responses.
async fn follow(
    handler: &Handler,
    path: &str,
    query: &str,
) -> (Vec<(String, String, String)>, usize) {
    let mut last: Option<String> = None;
    let mut seen = Vec::new();
    for responses in 1.. {
        let response = open(handler, get(path, query, last.as_deref())).await;
        if response.status == 204 {
            return (seen, responses - 1);
        }
        if response.status != 200 {
            let status = response.status;
            panic!("status {status}: {}", response.text().await);
        }
        for event in response.events().await {
            if !event.id.is_empty() {
                last = Some(event.id.clone());
            }
            // Id-only blocks (a from=now position) carry no data: a browser
            // records the id and dispatches nothing.
            if event.event != "reconnect" && !event.data.is_empty() {
                assert_ne!(event.event, "error", "{}", event.data);
                seen.push((event.event, event.data, event.id));
            }
        }
        assert!(responses < 500, "never ended");
    }
    unreachable!()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_gets_every_event_exactly_as_published() {
    let local = LocalDynamo::start().await;
    let publisher = Publisher::new(local.table());
    let stream = name("job-1");
    let payloads = [
        ("message", "plain"),
        ("progress", "{\"percent\":50}"),
        ("message", "two\nlines\n\nand a blank one"),
        ("message", " leading space, unicode: é 漢字 🚀"),
    ];
    let mut ids = vec![];
    for (event_type, data) in payloads {
        ids.push(publisher.append(&stream, event_type, data).await.unwrap());
    }
    ids.push(
        publisher
            .append_final(&stream, "complete", "done")
            .await
            .unwrap(),
    );
    let handler = handler(&local, settings(10_000));

    let response = open(&handler, get("/streams/job-1", "", None)).await;
    assert_eq!(response.status, 200);
    let events = response.events().await;
    let got: Vec<_> = events
        .iter()
        .map(|e| (e.event.as_str(), e.data.as_str(), e.id.as_str()))
        .collect();
    let mut expected: Vec<_> = payloads
        .iter()
        .zip(&ids)
        .map(|((t, d), id)| (*t, *d, id.as_str()))
        .collect();
    expected.push(("complete", "done", ids[4].as_str()));
    assert_eq!(got, expected, "the final event ends the response");

    // Resuming after the final event: nothing more, ever.
    let after = open(&handler, get("/streams/job-1", "", Some(&ids[4]))).await;
    assert_eq!(after.status, 204);
    // Resuming in the middle: exactly what followed.
    let middle = open(&handler, get("/streams/job-1", "", Some(&ids[1]))).await;
    let rest: Vec<_> = middle.events().await.into_iter().map(|e| e.id).collect();
    assert_eq!(rest, ids[2..].to_vec());
    // A closed stream takes no more events.
    assert!(matches!(
        publisher.append(&stream, "message", "late").await,
        Err(PublishError::StreamClosed(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_that_comes_first_waits_with_heartbeats() {
    let local = LocalDynamo::start().await;
    let handler = handler(&local, settings(10_000));
    let mut response = open(&handler, get("/streams/early", "", None)).await;
    assert_eq!(response.status, 200, "an empty stream is not an error");
    let first = timeout(Duration::from_secs(3), response.body.recv())
        .await
        .expect("a heartbeat within the heartbeat interval")
        .unwrap();
    assert_eq!(&first[..], b": keep-alive\n\n");
    let publisher = Publisher::new(local.table());
    let id = publisher
        .append_final(&name("early"), "message", "first and last")
        .await
        .unwrap();
    let rest = response.text().await;
    assert!(
        rest.ends_with(&format!(
            "id: {id}\nevent: message\nretry: 5000\ndata: first and last\n\n"
        )),
        "{rest}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_now_skips_what_was_published_before() {
    let local = LocalDynamo::start().await;
    let publisher = Publisher::new(local.table());
    let stream = name("news");
    publisher.append(&stream, "message", "old").await.unwrap();
    let handler = handler(&local, settings(10_000));
    let response = open(&handler, get("/streams/news", "from=now", None)).await;
    assert_eq!(response.status, 200);
    publisher.append(&stream, "message", "new").await.unwrap();
    publisher
        .append_final(&stream, "message", "end")
        .await
        .unwrap();
    let data: Vec<_> = response
        .events()
        .await
        .into_iter()
        .map(|e| e.data)
        .collect();
    // (The starting position came first, as an id-only block: a spec
    // client records it and dispatches nothing.)
    assert_eq!(data, ["new", "end"]);
    // The oldest kept is where a plain subscriber starts.
    let all = open(&handler, get("/streams/news", "from=oldest", None)).await;
    let data: Vec<_> = all.events().await.into_iter().map(|e| e.data).collect();
    assert_eq!(data, ["old", "new", "end"]);
    // On a finished stream, `from=now` has nothing to wait for.
    let done = open(&handler, get("/streams/news", "from=now", None)).await;
    assert_eq!(done.status, 204);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_names_ids_and_queries_get_a_clear_4xx() {
    let local = LocalDynamo::start().await;
    let publisher = Publisher::new(local.table());
    let a = publisher.append(&name("a"), "message", "1").await.unwrap();
    publisher.append(&name("a"), "message", "2").await.unwrap();
    let b = publisher.append(&name("b"), "message", "1").await.unwrap();
    let handler = handler(&local, settings(10_000));
    let past_last = {
        // The same generation, one position past the last event.
        let (generation, rest) = a.split_once('-').unwrap();
        let seq: u64 = rest.split('-').next().unwrap().parse().unwrap();
        let id = lambda_sse::durable::EventId {
            generation: u64::from_str_radix(generation, 36).unwrap(),
            seq: seq + 5,
        };
        id.render(&name("a"))
    };
    // Path, query, last id, status, error code, part of the message.
    type Case<'a> = (&'a str, &'a str, Option<&'a str>, u16, &'a str, &'a str);
    let cases: [Case; 7] = [
        (
            "/streams/a%20b",
            "",
            None,
            400,
            "invalid_stream_name",
            "1 to 128 characters",
        ),
        (
            "/streams/a",
            "",
            Some("nonsense"),
            400,
            "invalid_last_event_id",
            "<generation>-<seq>-<check>",
        ),
        (
            "/streams/a",
            "",
            Some(&b),
            400,
            "invalid_last_event_id",
            "was not issued by stream a",
        ),
        (
            "/streams/a",
            "",
            Some(&past_last),
            400,
            "invalid_last_event_id",
            "past the last event",
        ),
        (
            "/streams/a",
            "from=later",
            None,
            400,
            "invalid_parameter",
            "use oldest",
        ),
        (
            "/streams/a",
            "from=now&from=now",
            None,
            400,
            "repeated_parameter",
            "more than once",
        ),
        (
            "/streams/a",
            "limit=5",
            None,
            400,
            "unknown_parameter",
            "\"limit\"",
        ),
    ];
    for (path, query, last, status, code, message) in cases {
        let response = open(&handler, get(path, query, last)).await;
        assert_eq!(response.status, status, "{path}?{query} {last:?}");
        let body: Value = serde_json::from_str(&response.text().await).unwrap();
        assert_eq!(body["error"], code, "{body}");
        assert!(
            body["message"].as_str().unwrap().contains(message),
            "{body}"
        );
    }
    // A name over 128 characters.
    let long = format!("/streams/{}", "x".repeat(129));
    assert_eq!(open(&handler, get(&long, "", None)).await.status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_resume_id_gets_410_never_a_gap() {
    let local = LocalDynamo::start().await;
    let short = Publisher::new(local.table()).retention(Duration::from_secs(1));
    let stream = name("brief");
    let first = short.append(&stream, "message", "soon gone").await.unwrap();
    let second = short.append(&stream, "message", "also gone").await.unwrap();
    // Past the retention (whole seconds), not yet deleted: still expired.
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let handler = handler(&local, settings(10_000));
    for id in [&first, &second] {
        let response = open(&handler, get("/streams/brief", "", Some(id))).await;
        let status = response.status;
        let body = response.text().await;
        assert_eq!(
            (status, body.contains("expired_last_event_id")),
            (410, true),
            "{id}: {body}"
        );
    }
    // The stream goes on in a new generation; the old ids stay expired and a
    // new subscriber starts at the oldest event kept.
    let kept = Publisher::new(local.table())
        .append_final(&stream, "message", "fresh")
        .await
        .unwrap();
    assert_ne!(kept.split('-').next(), first.split('-').next());
    let response = open(&handler, get("/streams/brief", "", Some(&first))).await;
    assert_eq!(response.status, 410);
    let events = open(&handler, get("/streams/brief", "", None))
        .await
        .events()
        .await;
    let data: Vec<_> = events.iter().map(|e| e.data.as_str()).collect();
    assert_eq!(data, ["fresh"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversize_payloads_and_bad_types_are_refused_before_writing() {
    let local = LocalDynamo::start().await;
    let publisher = Publisher::new(local.table());
    let stream = name("big");
    let largest = "x".repeat(MAX_DATA_BYTES);
    let id = publisher
        .append(&stream, "message", &largest)
        .await
        .unwrap();
    let error = publisher
        .append(&stream, "message", &format!("{largest}y"))
        .await
        .unwrap_err();
    assert!(matches!(error, PublishError::DataTooLarge { bytes } if bytes == MAX_DATA_BYTES + 1));
    assert!(matches!(
        publisher.append(&stream, "two\nlines", "x").await,
        Err(PublishError::InvalidType(_))
    ));
    // The largest event reaches a subscriber whole.
    let handler = handler(&local, settings(10_000));
    let mut response = open(&handler, get("/streams/big", "", None)).await;
    let mut text = Vec::new();
    while !text.ends_with(b"\n\n") {
        text.extend_from_slice(&response.body.recv().await.unwrap());
    }
    assert_eq!(
        String::from_utf8(text).unwrap(),
        format!("id: {id}\nevent: message\nretry: 5000\ndata: {largest}\n\n")
    );
}

/// The proof of ordering: 4 producers append 250 events each to one stream
/// at once while 3 subscribers follow it, each response cut by a 1 s window
/// and resumed with the last id. Every subscriber gets all 1000 events (and
/// the final one) exactly once, each producer's in its order, and all three
/// the same order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_producers_and_reconnecting_subscribers_agree_on_one_order() {
    const PRODUCERS: usize = 4;
    const EACH: usize = 250;
    let local = Arc::new(LocalDynamo::start().await);
    let handler = Arc::new(handler(&local, settings(1_000)));
    let subscribers: Vec<_> = (0..3)
        .map(|_| {
            let handler = Arc::clone(&handler);
            tokio::spawn(async move { follow(&handler, "/streams/busy", "").await })
        })
        .collect();
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let local = Arc::clone(&local);
            tokio::spawn(async move {
                // A publisher each, as separate processes would have.
                let publisher = Publisher::new(local.table());
                for n in 0..EACH {
                    publisher
                        .append(&name("busy"), "message", &format!("{p}:{n}"))
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for producer in producers {
        producer.await.unwrap();
    }
    Publisher::new(local.table())
        .append_final(&name("busy"), "complete", "end")
        .await
        .unwrap();
    let mut orders = vec![];
    for subscriber in subscribers {
        let (events, responses) = subscriber.await.unwrap();
        assert!(responses >= 2, "windows cut the responses ({responses})");
        assert_eq!(events.len(), PRODUCERS * EACH + 1);
        let ids: HashSet<_> = events.iter().map(|(_, _, id)| id.clone()).collect();
        assert_eq!(ids.len(), events.len(), "no id twice");
        let mut next = [0usize; PRODUCERS];
        for (_, data, _) in &events[..PRODUCERS * EACH] {
            let (p, n) = data.split_once(':').unwrap();
            let (p, n): (usize, usize) = (p.parse().unwrap(), n.parse().unwrap());
            assert_eq!(n, next[p], "producer {p}'s events in order, none missing");
            next[p] += 1;
        }
        assert_eq!(events.last().unwrap().1, "end");
        orders.push(events);
    }
    assert_eq!(orders[0], orders[1]);
    assert_eq!(orders[0], orders[2]);
}

/// `sse-publish --lines`: each line reaches a subscriber while the producer
/// is still writing (the next line is only written once the last arrived),
/// and `--final` ends the stream at the end of input.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_publishes_each_line_as_it_arrives() {
    let local = LocalDynamo::start().await;
    let handler = handler(&local, settings(10_000));
    let mut cli = Command::new(env!("CARGO_BIN_EXE_sse-publish"));
    cli.args(["--stream", "lines", "--lines", "--final"])
        .envs(local.env())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cli.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let response = open(&handler, get("/streams/lines", "", None)).await;
    let (send, mut received) = mpsc::unbounded_channel();
    let body = futures_util::stream::unfold(response.body, |mut body| async move {
        body.recv()
            .await
            .map(|chunk| (Ok::<_, std::convert::Infallible>(chunk), body))
    });
    tokio::spawn(async move {
        let mut events = std::pin::pin!(body.eventsource());
        while let Some(Ok(event)) = events.next().await {
            let _ = send.send(event);
        }
    });
    for line in ["first", "second", "third"] {
        stdin
            .write_all(format!("{line}\n").as_bytes())
            .await
            .unwrap();
        stdin.flush().await.unwrap();
        let event = timeout(Duration::from_secs(10), received.recv())
            .await
            .unwrap_or_else(|_| panic!("{line} did not arrive while the producer runs"))
            .unwrap();
        assert_eq!(
            (event.event.as_str(), event.data.as_str()),
            ("message", line)
        );
    }
    drop(stdin);
    let output = child.wait_with_output().await.unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed = String::from_utf8(output.stdout).unwrap();
    assert_eq!(printed.lines().count(), 4, "one id per event: {printed}");
    let last = received.recv().await.unwrap();
    assert_eq!(
        (last.event.as_str(), last.data.as_str()),
        ("end", "{\"lines\":3}")
    );
    assert_eq!(last.id, printed.lines().last().unwrap());
    assert!(
        received.recv().await.is_none(),
        "the final event ends the response"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_refuses_bad_input_with_a_message() {
    let local = LocalDynamo::start().await;
    let run = async |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_sse-publish"))
            .args(args)
            .envs(local.env())
            .output()
            .await
            .unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let big = "x".repeat(MAX_DATA_BYTES + 1);
    let cases: [(&[&str], &str); 4] = [
        (&["--stream", "a b", "x"], "is not 1 to 128 characters"),
        (&["--stream", "a", &big], "at most 65536 bytes"),
        (&["--stream", "a", "--event", "", "x"], "event type \"\""),
        (&["x"], "--stream NAME is required"),
    ];
    for (args, message) in cases {
        let (code, stderr) = run(args).await;
        assert_eq!(code, Some(2), "{stderr}");
        assert!(stderr.contains(message), "{stderr}");
    }
    let (code, stderr) = run(&["--create-table"]).await;
    assert_eq!(code, Some(0), "{stderr}");
    // A table that does not exist: a failed write, exit 1.
    let output = Command::new(env!("CARGO_BIN_EXE_sse-publish"))
        .args(["--stream", "a", "x"])
        .envs(local.env())
        .env("SSE_TABLE_NAME", "no-such-table")
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("ResourceNotFoundException"), "{stderr}");
}

/// Behind an ALB the same stream comes in buffered batches that resume
/// where the last one ended.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_an_alb_batches_lose_nothing() {
    let local = LocalDynamo::start().await;
    let publisher = Publisher::new(local.table());
    let stream = name("batched");
    let mut published = vec![];
    for n in 0..5 {
        published.push(format!("{n}"));
        publisher
            .append(&stream, "message", &format!("{n}"))
            .await
            .unwrap();
    }
    publisher
        .append_final(&stream, "complete", "end")
        .await
        .unwrap();
    published.push("end".into());
    let handler = handler(
        &local,
        Settings {
            batch_window: Duration::from_secs(1),
            ..settings(10_000)
        },
    );
    let mut event: Value = serde_json::from_str(ALB_FIXTURE).unwrap();
    event["path"] = json!("/streams/batched");
    event["queryStringParameters"] = json!({});
    let reply = handler
        .handle(LambdaEvent::new(event, Context::default()))
        .await
        .unwrap();
    let FunctionResponse::BufferedResponse(document) = reply else {
        panic!("ALB answers are buffered");
    };
    assert_eq!(document.status_code, 200);
    let body = document
        .body
        .map(|b| String::from_utf8(b.to_vec()).unwrap())
        .unwrap_or_default();
    let data: Vec<_> = body
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(str::to_owned)
        .collect();
    assert_eq!(data, published);
}

/// The store failing is not the caller's fault: no 4xx, but an in-band
/// `error` event after which the client reconnects, as after any failure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_fails_gets_an_error_event_and_a_reconnect() {
    let local = LocalDynamo::start().await;
    let missing = lambda_sse::durable::Table::new(local.table().client().clone(), "missing-table");
    let handler = Handler::new(
        Router::new().route("/streams/{name}", DurableSource::new(missing, polling())),
        settings(10_000),
    );
    let response = open(&handler, get("/streams/a", "", None)).await;
    assert_eq!(response.status, 200);
    let events = response.events().await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].event, "error");
    let body: Value = serde_json::from_str(&events[0].data).unwrap();
    assert_eq!(body["error"], "source_failed");
    assert!(
        !events[0].data.contains("missing-table"),
        "store details stay in the log"
    );
}

/// More expired events than one read returns: a new subscriber, and one
/// from now, skip them all and start with the new generation's first event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_subscribers_skip_pages_of_expired_events() {
    let local = LocalDynamo::start().await;
    let short = Publisher::new(local.table()).retention(Duration::from_secs(1));
    let stream = name("long-idle");
    for n in 0..150 {
        short
            .append(&stream, "message", &n.to_string())
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let handler = handler(&local, settings(10_000));
    let oldest = open(&handler, get("/streams/long-idle", "", None)).await;
    let now = open(&handler, get("/streams/long-idle", "from=now", None)).await;
    assert_eq!((oldest.status, now.status), (200, 200));
    let publisher = Publisher::new(local.table());
    publisher.append(&stream, "message", "fresh").await.unwrap();
    publisher
        .append_final(&stream, "message", "end")
        .await
        .unwrap();
    for response in [oldest, now] {
        let data: Vec<_> = timeout(Duration::from_secs(10), response.events())
            .await
            .expect("the response reaches the new events")
            .into_iter()
            .map(|e| e.data)
            .collect();
        assert_eq!(
            data.iter().filter(|d| !d.is_empty()).collect::<Vec<_>>(),
            ["fresh", "end"]
        );
    }
}

/// A `from=now` subscriber whose response ends before anything is published
/// resumes from where it started: what was published in between arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_now_keeps_its_place_across_a_reconnect() {
    let local = LocalDynamo::start().await;
    let publisher = Publisher::new(local.table());
    let handler = handler(&local, settings(1_000));
    for (stream, before) in [("quiet", None), ("busy-now", Some("old"))] {
        if let Some(data) = before {
            publisher
                .append(&name(stream), "message", data)
                .await
                .unwrap();
        }
        let path = format!("/streams/{stream}");
        let first = open(&handler, get(&path, "from=now", None)).await;
        let events = first.events().await;
        let last_id = events.last().unwrap().id.clone();
        assert_eq!(events.last().unwrap().event, "reconnect", "{events:?}");
        assert!(
            !last_id.is_empty(),
            "the window's end carries the start position"
        );
        publisher
            .append(&name(stream), "message", "between")
            .await
            .unwrap();
        publisher
            .append_final(&name(stream), "message", "end")
            .await
            .unwrap();
        // The reconnect repeats the URL's from=now; the id wins.
        let again = open(&handler, get(&path, "from=now", Some(&last_id))).await;
        let data: Vec<_> = again.events().await.into_iter().map(|e| e.data).collect();
        assert_eq!(data, ["between", "end"], "{stream}");
    }
}

/// Events that expire before a connected subscriber reads them: an `error`
/// event says so and the response ends; the reconnect gets the 410.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_left_behind_by_expiry_is_told() {
    let local = LocalDynamo::start().await;
    // Long enough that "a" is still there when the subscriber opens on a
    // loaded machine (a fresh CI build), short enough to wait out.
    let short = Publisher::new(local.table()).retention(Duration::from_secs(4));
    let stream = name("fading");
    let first = short.append(&stream, "message", "a").await.unwrap();
    let handler = handler(&local, settings(10_000));
    let mut response = open(&handler, get("/streams/fading", "", None)).await;
    let mut text = Vec::new();
    while !text.ends_with(b"\n\n") {
        text.extend_from_slice(&response.body.recv().await.unwrap());
    }
    assert!(String::from_utf8_lossy(&text).contains("data: a"));
    // "a" expires; the stream goes on in a new generation.
    tokio::time::sleep(Duration::from_millis(4_100)).await;
    Publisher::new(local.table())
        .append(&stream, "message", "b")
        .await
        .unwrap();
    let rest = timeout(Duration::from_secs(10), response.text())
        .await
        .expect("the response ends");
    assert!(
        rest.contains("event: error\ndata: {\"error\":\"events_expired\""),
        "{rest}"
    );
    assert!(!rest.contains("data: b"), "{rest}");
    let again = open(&handler, get("/streams/fading", "", Some(&first))).await;
    assert_eq!(again.status, 410);
}

/// A handler and the durable source inside it, whose shared tails the test
/// watches.
fn shared(local: &LocalDynamo, settings: Settings, buffer_kib: u32) -> (Handler, DurableSource) {
    let streams = DurableSource::new(local.table(), polling()).tail_buffer_kib(buffer_kib);
    let handler = Handler::new(
        Router::new().route("/streams/{name}", streams.clone()),
        settings,
    );
    (handler, streams)
}

/// Publishes `count` events `every` apart (the last one final), each with
/// `bytes` of data that start with its number.
async fn publish_numbered(
    publisher: &Publisher,
    stream: &StreamName,
    count: usize,
    bytes: usize,
    every: Duration,
) {
    for n in 1..=count {
        let data = format!("{n:05}{}", "x".repeat(bytes.saturating_sub(5)));
        if n == count {
            publisher.append_final(stream, "last", &data).await.unwrap();
        } else {
            publisher.append(stream, "n", &data).await.unwrap();
        }
        tokio::time::sleep(every).await;
    }
}

fn numbers(events: &[(String, String, String)]) -> Vec<usize> {
    events
        .iter()
        .map(|(_, data, _)| data[..5].parse().unwrap())
        .collect()
}

/// Subscribers of one stream in one process share one reader of the table:
/// 50 subscribers make the tail read no more than one subscriber does, and
/// each still gets every event once and in order, across windows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribers_of_one_stream_share_one_reader() {
    let local = LocalDynamo::start().await;
    let publisher = Publisher::new(local.table());
    let mut reads = Vec::new();
    for (run, subscribers) in [(1, 1), (2, 50)] {
        let (handler, streams) = shared(&local, settings(1_000), 1_024);
        let handler = Arc::new(handler);
        let path = format!("/streams/share-{run}");
        let followers: Vec<_> = (0..subscribers)
            .map(|_| {
                let (handler, path) = (Arc::clone(&handler), path.clone());
                tokio::spawn(async move { follow(&handler, &path, "").await })
            })
            .collect();
        // Every subscriber is waiting before the first event.
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(streams.tails_running(), 1, "one reader for {subscribers}");
        publish_numbered(
            &publisher,
            &name(&format!("share-{run}")),
            40,
            10,
            Duration::from_millis(40),
        )
        .await;
        for follower in followers {
            let (events, responses) = follower.await.unwrap();
            assert_eq!(numbers(&events), (1..=40).collect::<Vec<_>>());
            assert!(responses >= 2, "a 1.6 s stream in 1 s windows");
        }
        reads.push(streams.tail_reads());
    }
    let (one, fifty) = (reads[0], reads[1]);
    assert!(one > 10, "the tail polled while events flowed: {one}");
    // Per-subscriber polling would read about 50 times as often.
    assert!(fifty < one * 2, "50 subscribers: {fifty} reads; one: {one}");
}

/// Whether every shared tail of `streams` stops within 5 s.
async fn all_stopped(streams: &DurableSource) -> bool {
    timeout(Duration::from_secs(5), async {
        while streams.tails_running() > 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .is_ok()
}

/// The tail stops an idle poll interval after its last subscriber leaves,
/// and reads nothing more; a new subscriber starts a new one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shared_tail_stops_after_its_last_subscriber() {
    let local = LocalDynamo::start().await;
    let publisher = Publisher::new(local.table());
    let stream = name("leaving");
    let first = publisher.append(&stream, "n", "1").await.unwrap();
    let (handler, streams) = shared(&local, settings(10_000), 1_024);
    let mut response = open(&handler, get("/streams/leaving", "", None)).await;
    let chunk = timeout(Duration::from_secs(10), response.body.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&chunk).contains(&first));
    assert_eq!(streams.tails_running(), 1);
    drop(response); // The client hangs up.
    let stopped = all_stopped(&streams).await;
    assert!(stopped, "the tail stopped");
    let reads = streams.tail_reads();
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(streams.tail_reads(), reads, "no reads after it stopped");
    // A refused id starts no tail (the id is judged before joining).
    let refused = open(&handler, get("/streams/leaving", "", Some("not-an-id"))).await;
    assert_eq!(refused.status, 400);
    assert_eq!(streams.tails_running(), 0);
    assert_eq!(streams.tail_reads(), reads);
    // A new subscriber resumes with a new tail.
    let second = publisher.append_final(&stream, "n", "2").await.unwrap();
    let events = open(&handler, get("/streams/leaving", "", Some(&first)))
        .await
        .events()
        .await;
    assert_eq!(
        events.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        [second.as_str()]
    );
    assert!(streams.tail_reads() > reads);
}

/// A subscriber that stops reading is never waited for: the others get
/// every event while it stalls, the buffer stays within its bound, and the
/// stalled one, once it reads again, finds its response ended with a
/// `reconnect` block (reason `behind`) and resumes from the table with
/// nothing lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_subscriber_is_cut_and_resumes_without_delaying_the_others() {
    let local = LocalDynamo::start().await;
    let stream = name("slow");
    let (handler, _streams) = shared(&local, settings(30_000), 64);
    let handler = Arc::new(handler);
    // The slow subscriber takes the first event, then stops reading.
    let reply: Reply = handler
        .handle(get("/streams/slow", "", None))
        .await
        .unwrap();
    let FunctionResponse::StreamingResponse(slow) = reply else {
        panic!("Function URL invocations stream");
    };
    let mut slow = slow.stream;
    let fast: Vec<_> = (0..5)
        .map(|_| {
            let handler = Arc::clone(&handler);
            tokio::spawn(async move { follow(&handler, "/streams/slow", "").await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    // 40 events of 8 KiB: five times the 64 KiB buffer.
    let publishing = tokio::spawn({
        let (publisher, stream) = (Publisher::new(local.table()), stream.clone());
        async move {
            publish_numbered(&publisher, &stream, 40, 8 * 1024, Duration::from_millis(10)).await
        }
    });
    let mut first = String::new();
    while !first.contains("\n\n") {
        let chunk = timeout(Duration::from_secs(10), slow.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        first.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(first.contains("data: 00001"), "{first}");
    for follower in fast {
        let (events, _) = timeout(Duration::from_secs(30), follower)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            numbers(&events),
            (1..=40).collect::<Vec<_>>(),
            "a fast subscriber"
        );
    }
    publishing.await.unwrap();
    // Only now does the slow subscriber read on.
    let mut rest = Vec::new();
    while let Some(Ok(chunk)) = timeout(Duration::from_secs(10), slow.next()).await.unwrap() {
        rest.extend_from_slice(&chunk);
    }
    let text = first + &String::from_utf8(rest).unwrap();
    let events: Vec<_> =
        futures_util::stream::iter([Ok::<_, std::convert::Infallible>(Bytes::from(text))])
            .eventsource()
            .map(|e| e.unwrap())
            .collect()
            .await;
    let closing = events.last().unwrap();
    assert_eq!(closing.event, "reconnect");
    let reason: Value = serde_json::from_str(&closing.data).unwrap();
    assert_eq!(reason["reason"], "behind");
    let got: Vec<usize> = events
        .iter()
        .filter(|e| e.event == "n")
        .map(|e| e.data[..5].parse().unwrap())
        .collect();
    assert!(
        got.len() < 40 && got.starts_with(&[1]),
        "cut before the end: {got:?}"
    );
    // The reconnect resumes after the last event it received.
    let again = open(&handler, get("/streams/slow", "", Some(&closing.id))).await;
    let resumed: Vec<usize> = again
        .events()
        .await
        .iter()
        .filter(|e| e.event == "n" || e.event == "last")
        .map(|e| e.data[..5].parse().unwrap())
        .collect();
    let all: Vec<usize> = got.into_iter().chain(resumed).collect();
    assert_eq!(
        all,
        (1..=40).collect::<Vec<_>>(),
        "nothing lost, nothing twice"
    );
}
