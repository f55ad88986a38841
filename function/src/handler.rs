//! What answers each invocation: the front door reads the event into a
//! request, the router picks the source, the source opens its events, the
//! stream driver frames and times them, and the front door writes the answer.

use crate::front::{self, Front, UnsupportedEvent};
use crate::metrics::{Metrics, ResponseFigures};
use crate::request::Request;
use crate::response::HttpResponse;
use crate::router::{Router, Target};
use crate::settings::Settings;
use crate::source::{Open, Refusal};
use crate::stream::{Report, ResponsePlan, sse_stream_reported};
use aws_lambda_events::alb::AlbTargetGroupResponse;
use bytes::Bytes;
use futures_util::Stream;
use lambda_runtime::{FunctionResponse, LambdaEvent};
use serde_json::Value;
use std::{
    convert::Infallible,
    pin::Pin,
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

/// A streamed body as the runtime takes it.
pub type ResponseBody = Pin<Box<dyn Stream<Item = Result<Bytes, Infallible>> + Send>>;

/// What one invocation returns: streamed for a Function URL, one buffered
/// document for an ALB.
pub type Reply = FunctionResponse<AlbTargetGroupResponse, ResponseBody>;

/// Answers invocations: the router and the settings, shared by all of them.
/// [`crate::serve`] runs it; tests drive it with fixture events.
#[derive(Debug, Clone)]
pub struct Handler {
    router: Arc<Router>,
    settings: Settings,
    metrics: Metrics,
}

impl Handler {
    /// A handler for `router`'s sources, framed and timed by `settings`,
    /// writing metrics as `SSE_METRICS` and `SSE_METRICS_NAMESPACE` say (a
    /// value it cannot use is logged and the default kept: read them with
    /// [`Metrics::from_env`] and [`Handler::metrics`] to stop on it instead).
    pub fn new(router: Router, settings: Settings) -> Self {
        let metrics = Metrics::from_env().unwrap_or_else(|error| {
            tracing::warn!(%error, "metrics settings ignored");
            Metrics::default()
        });
        Self {
            router: Arc::new(router),
            settings,
            metrics,
        }
    }

    /// Writes metrics as `metrics` says (into a namespace, or off).
    pub fn metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// Answers one invocation: a Function URL event streamed, an ALB event
    /// buffered; any other event is an invocation error.
    pub async fn handle(&self, event: LambdaEvent<Value>) -> Result<Reply, UnsupportedEvent> {
        let until_deadline = until_deadline(event.context.deadline, SystemTime::now());
        let (front, request) = front::read(event.payload, until_deadline)?;
        let response = self.respond(front, request).await;
        Ok(front::answer(front, response).await)
    }

    async fn respond(&self, front: Front, mut request: Request) -> HttpResponse {
        let (target, params, route) = match self.router.find(&request.method, &request.path) {
            Ok((target, params, route)) => (target, params, route.to_owned()),
            Err(refusal) => return self.refused(&refusal),
        };
        let source = match target {
            Target::Health => return HttpResponse::health(),
            Target::Asset(asset) => return HttpResponse::asset(asset),
            Target::Source(source) => source,
        };
        request.params = params;
        let last_event_id = match last_event_id(&request) {
            Ok(id) => id,
            Err(refusal) => return self.refused(&refusal),
        };
        let events = match source.open(&request, last_event_id.as_deref()).await {
            Open::Events(events) => events,
            Open::Finished => return HttpResponse::finished(),
            Open::Refused(refusal) => return self.refused(&refusal),
        };
        // Measured now, after the source opened: its time comes off the deadline.
        let plan = match front {
            // A REST API response lasts at most 15 minutes: the window's
            // own maximum (SSE_WINDOW_MS), and Lambda's.
            Front::FunctionUrl | Front::RestApi => {
                ResponsePlan::streamed(&self.settings, request.until_deadline(), source.resumable())
            }
            // A batch ends at its window and the client resumes from its id;
            // a source that cannot resume would lose the rest of its answer.
            Front::Alb { .. } if !source.resumable() => {
                self.metrics.refused("not_buffered");
                return HttpResponse::not_buffered();
            }
            Front::Alb { .. } => ResponsePlan::buffered(&self.settings, request.until_deadline()),
        };
        let span = tracing::info_span!("stream", path = %request.path, stream_id = events.log_id.as_deref());
        span.in_scope(|| {
            tracing::info!(
                resumed_after = last_event_id.as_deref(),
                window_ms = plan.window.as_millis() as u64,
                buffered = plan.max_body.is_some(),
                "stream started"
            );
        });
        let report = Report {
            metrics: self.metrics,
            figures: ResponseFigures {
                front: front.name(),
                route,
                resumed: last_event_id.is_some(),
                ..ResponseFigures::default()
            },
        };
        HttpResponse::events(sse_stream_reported(
            events,
            plan,
            last_event_id,
            span,
            Some(report),
        ))
    }

    fn refused(&self, refusal: &Refusal) -> HttpResponse {
        self.metrics.refused(refusal.code());
        refused(refusal)
    }
}

fn refused(refusal: &Refusal) -> HttpResponse {
    tracing::warn!(
        status = refusal.status().as_u16(),
        code = refusal.code(),
        message = refusal.message(),
        "request refused"
    );
    HttpResponse::refused(refusal)
}

/// The id to resume after: the `Last-Event-ID` header (what an EventSource
/// sends), else the `lastEventId` query parameter (for clients that cannot
/// set headers), as sent. Empty means none, as an EventSource whose last id
/// is empty sends nothing.
fn last_event_id(request: &Request) -> Result<Option<String>, Refusal> {
    // Browsers send a non-ASCII id back as its UTF-8 bytes.
    let header = match request
        .headers
        .get("last-event-id")
        .map(|v| std::str::from_utf8(v.as_bytes()))
    {
        None => None,
        Some(Ok(text)) => Some(text.to_owned()),
        Some(Err(_)) => {
            return Err(Refusal::bad_request(
                "invalid_last_event_id",
                "the Last-Event-ID header is not UTF-8 text; send back an id this stream sent, or none to start afresh",
            ));
        }
    };
    let mut from_query = None;
    for (name, value) in request.query_pairs() {
        if name == "lastEventId" && from_query.replace(value.into_owned()).is_some() {
            return Err(Refusal::bad_request(
                "repeated_parameter",
                "query parameter lastEventId is given more than once; give it once",
            ));
        }
    }
    Ok([header, from_query]
        .into_iter()
        .flatten()
        .find(|id| !id.is_empty()))
}

/// Deadlines before this (2001-09-09) are not points in time but durations:
/// `cargo lambda watch` sends its timeout that way (600000 by default,
/// N * 1000 with `--timeout N`).
const EARLIEST_DEADLINE_MS: u64 = 1_000_000_000_000;

/// How long the invocation may still run, from its deadline as the runtime
/// gives it: epoch milliseconds on Lambda, milliseconds from the
/// invocation's arrival (just now) under the emulator, so that a local
/// timeout ends responses as Lambda's would. `None` for 0, which is no
/// deadline at all (a hand-made event).
pub fn until_deadline(deadline_ms: u64, now: SystemTime) -> Option<Duration> {
    match deadline_ms {
        0 => None,
        duration if duration < EARLIEST_DEADLINE_MS => Some(Duration::from_millis(duration)),
        epoch => {
            let deadline = UNIX_EPOCH + Duration::from_millis(epoch);
            Some(deadline.duration_since(now).unwrap_or(Duration::ZERO))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn until_deadline_reads_epoch_milliseconds() {
        let now = UNIX_EPOCH + Duration::from_millis(1_795_000_000_000);
        assert_eq!(
            until_deadline(1_795_000_030_000, now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            until_deadline(1_794_999_999_000, now),
            Some(Duration::ZERO),
            "already past"
        );
        assert_eq!(until_deadline(0, now), None, "hand-made event");
    }

    #[test]
    fn until_deadline_reads_a_small_value_as_a_duration_from_now() {
        let now = UNIX_EPOCH + Duration::from_millis(1_795_000_000_000);
        assert_eq!(
            until_deadline(600_000, now),
            Some(Duration::from_secs(600)),
            "cargo lambda watch's default"
        );
        assert_eq!(
            until_deadline(4_000, now),
            Some(Duration::from_secs(4)),
            "cargo lambda watch --timeout 4"
        );
    }
}

/// The metrics line of each way a response ends, as `Handler::handle` writes
/// it (captured on the test's thread), checked against the EMF rules.
#[cfg(test)]
mod metrics_lines {
    use super::*;
    use crate::metrics::tests::{captured, valid_emf};
    use crate::source::{Events, Source, SourceError};
    use crate::sources::job::{JobSource, JobSpec};
    use crate::sse::Event;
    use futures_util::{StreamExt, stream};
    use lambda_runtime::Context;
    use serde_json::{Map, json};

    const FIXTURE: &str = include_str!("../tests/fixtures/function-url-get.json");

    struct Failing;

    impl Source for Failing {
        fn open<'a>(&'a self, _: &'a Request, _: Option<&'a str>) -> crate::OpenFuture<'a> {
            Box::pin(async {
                Open::Events(Events::new(stream::iter([
                    Ok(Event::new().data("one").id("1").unwrap()),
                    Err(SourceError::from("the store is down")),
                ])))
            })
        }
    }

    fn handler() -> Handler {
        let settings = Settings {
            window: Duration::from_secs(1),
            ..Settings::default()
        };
        let router = Router::new()
            .route("/events", JobSource::new(JobSpec::default()))
            .route("/failing", Failing);
        Handler::new(router, settings).metrics(Metrics::default())
    }

    fn get(path: &str, query: &str, last: Option<&str>) -> LambdaEvent<Value> {
        let mut event: Value = serde_json::from_str(FIXTURE).unwrap();
        event["rawPath"] = json!(path);
        event["rawQueryString"] = json!(query);
        event["requestContext"]["http"]["path"] = json!(path);
        if let Some(last) = last {
            event["headers"]["last-event-id"] = json!(last);
        }
        LambdaEvent::new(event, Context::default())
    }

    /// Reads `take` chunks of the answer (all when `None`), then drops it.
    async fn call(handler: &Handler, event: LambdaEvent<Value>, take: Option<usize>) {
        let reply = handler.handle(event).await.unwrap();
        let lambda_runtime::FunctionResponse::StreamingResponse(response) = reply else {
            panic!("streamed");
        };
        let mut body = response.stream;
        let mut read = 0;
        while take.is_none_or(|n| read < n) && body.next().await.is_some() {
            read += 1;
        }
    }

    fn one_line() -> Map<String, Value> {
        let lines = captured();
        assert_eq!(lines.len(), 1, "{lines:?}");
        valid_emf(&lines[0])
    }

    #[tokio::test(start_paused = true)]
    async fn each_end_writes_one_valid_line() {
        let handler = handler();

        call(
            &handler,
            get("/events", "steps=2&interval_ms=100", None),
            None,
        )
        .await;
        let completed = one_line();
        assert_eq!(completed["EndReason"], "completed");
        assert_eq!(completed["Front"], "FunctionUrl");
        assert_eq!(completed["Route"], "/events");
        assert_eq!(completed["StreamsStarted"], 1);
        assert_eq!(completed["EventsSent"], 3);
        assert_eq!(completed["Resumes"], 0);
        assert_eq!(completed["SourceErrors"], 0);
        assert!(completed["BytesSent"].as_u64().unwrap() > 200);
        assert!(completed["TimeToFirstEvent"].as_f64().unwrap() < 5.0);

        let job = "6f1c2b7e-0d4e-4c1a-9d59-1b2f7d3c4a10";
        let resumed = format!("{job}/20:1");
        call(
            &handler,
            get("/events", "interval_ms=400", Some(&resumed)),
            None,
        )
        .await;
        let windowed = one_line();
        assert_eq!(windowed["EndReason"], "window");
        assert_eq!(windowed["Resumes"], 1);

        call(&handler, get("/failing", "", None), None).await;
        let failed = one_line();
        assert_eq!(failed["EndReason"], "failed");
        assert_eq!(failed["SourceErrors"], 1);
        assert_eq!(failed["Route"], "/failing");

        // The client goes away after the prelude and one event.
        call(
            &handler,
            get("/events", "steps=5&interval_ms=100", None),
            Some(1),
        )
        .await;
        let disconnected = one_line();
        assert_eq!(disconnected["EndReason"], "disconnected");

        call(&handler, get("/nope", "", None), None).await;
        let refused = one_line();
        assert_eq!(refused["RefusedRequests"], 1);
        assert_eq!(refused["ErrorCode"], "not_found");
        assert!(!refused.contains_key("StreamsStarted"));

        let quiet = handler.metrics(Metrics::off());
        call(&quiet, get("/events", "steps=1&interval_ms=10", None), None).await;
        call(&quiet, get("/nope", "", None), None).await;
        assert_eq!(captured(), Vec::<String>::new(), "off means no line");
    }
}
