//! The runtime adapter: a Lambda event in, a Lambda response out.
//!
//! The handler returns [`FunctionResponse`], so each invocation chooses its
//! own mode: Function URL invocations are always streamed (a `RESPONSE_STREAM`
//! URL expects the prelude, even for a 404), ALB invocations are buffered
//! (an ALB cannot stream from Lambda).

use crate::invocation::{Front, HttpRequest, UnsupportedEvent};
use crate::job::{JobCursor, ProgressJob};
use crate::request::{EventsRequest, Route, route};
use crate::response::{Body, HttpResponse};
use crate::runtime_client;
use crate::settings::Settings;
use crate::source::EventSource;
use crate::stream::{ResponsePlan, sse_stream};
use aws_lambda_events::{alb::AlbTargetGroupResponse, encodings::Body as AlbBody};
use bytes::{Bytes, BytesMut};
use futures_util::{FutureExt, Stream, StreamExt, stream};
use http::HeaderMap;
use lambda_runtime::{
    Diagnostic, FunctionResponse, LambdaEvent, MetadataPrelude, StreamResponse, service_fn,
};
use serde_json::Value;
use std::{
    any::Any,
    convert::Infallible,
    panic::AssertUnwindSafe,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

/// A streamed body as the runtime takes it.
pub type ResponseBody = Pin<Box<dyn Stream<Item = Result<Bytes, Infallible>> + Send>>;

/// What one invocation returns: streamed for the Function URL, one buffered
/// document for an ALB.
pub type Reply = FunctionResponse<AlbTargetGroupResponse, ResponseBody>;

impl From<UnsupportedEvent> for Diagnostic {
    fn from(error: UnsupportedEvent) -> Self {
        Diagnostic {
            error_type: "UnsupportedEvent".to_owned(),
            error_message: error.to_string(),
        }
    }
}

/// Consecutive restarts that got no invocation at all, each failing within
/// [`QUICK_FAILURE`], after which the process gives up: the Runtime API
/// itself is gone.
const MAX_QUICK_FAILURES: u32 = 5;
const QUICK_FAILURE: Duration = Duration::from_secs(1);

/// Serves invocations until the Runtime API goes away, with `TCP_NODELAY`
/// on the Runtime API connection (see [`runtime_client`]).
///
/// The runtime's loop returns on the first failed exchange with the
/// Runtime API, as when a client gave up before its answer could be sent,
/// and panics on some answers it does not expect (an invocation without a
/// request id, as `cargo lambda watch` sends after cutting off a response
/// that overran its timeout). Exiting then would make Lambda start a new
/// process (a cold start for the next caller), and under `cargo lambda watch`
/// stop the function for good; so the loop starts again and takes the next
/// invocation. Only restarts that fail before any invocation arrives count
/// towards giving up: a queue of abandoned invocations (clients that gave up
/// during a cold start) fails one by one, quickly, and must not look like a
/// dead API.
pub async fn serve(handler: Handler) -> Result<(), lambda_runtime::Error> {
    let invocations = Arc::new(AtomicU64::new(0));
    let mut quick_failures = 0;
    loop {
        let started = tokio::time::Instant::now();
        let before = invocations.load(Ordering::Relaxed);
        let (handler, counter) = (handler.clone(), Arc::clone(&invocations));
        let service = service_fn(move |event: LambdaEvent<Value>| {
            counter.fetch_add(1, Ordering::Relaxed);
            let handler = handler.clone();
            async move { handler.handle(event).await }
        });
        // Nothing is shared across the unwind but the counter (an atomic)
        // and the handler (read-only settings), so no state is left half-changed.
        let (error, panicked): (lambda_runtime::Error, bool) =
            match AssertUnwindSafe(runtime_client::run(service))
                .catch_unwind()
                .await
            {
                Ok(Ok(())) => return Ok(()),
                Ok(Err(error)) => (error, false),
                Err(panic) => (
                    format!("the runtime panicked: {}", panic_message(panic.as_ref())).into(),
                    true,
                ),
            };
        let got_none = invocations.load(Ordering::Relaxed) == before;
        quick_failures = if got_none && started.elapsed() < QUICK_FAILURE {
            quick_failures + 1
        } else {
            0
        };
        if quick_failures >= MAX_QUICK_FAILURES {
            return Err(error);
        }
        // A failed exchange the loop recovers from is most often a client
        // that went away while its answer was posted: not an error. A panic
        // is a bug somewhere, and a Runtime API that is really gone ends the
        // process (logged at ERROR by the caller).
        if panicked {
            tracing::error!(%error, "the Runtime API exchange failed; taking the next invocation");
        } else {
            tracing::warn!(%error, "the Runtime API exchange failed; taking the next invocation");
        }
    }
}

/// The text a panic was raised with (`panic!` and `expect` give a string).
fn panic_message(panic: &(dyn Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

/// Answers invocations with the settings read at start-up.
#[derive(Debug, Clone)]
pub struct Handler {
    settings: Settings,
}

impl Handler {
    pub fn new(settings: Settings) -> Self {
        Self { settings }
    }

    pub async fn handle(&self, event: LambdaEvent<Value>) -> Result<Reply, UnsupportedEvent> {
        let until_deadline = until_deadline(event.context.deadline, SystemTime::now());
        let request = HttpRequest::from_event(event.payload)?;
        let response = self.respond(&request, until_deadline);
        Ok(match request.front {
            Front::FunctionUrl => streamed(response),
            Front::Alb { multi_value } => {
                FunctionResponse::BufferedResponse(buffered(response, multi_value).await)
            }
        })
    }

    /// The response to one HTTP request. `until_deadline` is how long the
    /// invocation may still run, if known.
    pub fn respond(&self, request: &HttpRequest, until_deadline: Option<Duration>) -> HttpResponse {
        let routed = route(
            &request.method,
            &request.path,
            &request.query,
            &request.headers,
            self.settings.job,
        );
        match routed {
            Ok(Route::Health) => HttpResponse::health(),
            Ok(Route::Finished) => HttpResponse::finished(),
            Ok(Route::Events(events)) => {
                let plan = match request.front {
                    Front::FunctionUrl => ResponsePlan::streamed(&self.settings, until_deadline),
                    Front::Alb { .. } => ResponsePlan::buffered(&self.settings, until_deadline),
                };
                self.events(events, plan)
            }
            Err(error) => {
                tracing::warn!(status = error.status().as_u16(), code = error.code(), message = %error, "request refused");
                HttpResponse::error(&error)
            }
        }
    }

    fn events(&self, request: EventsRequest, plan: ResponsePlan) -> HttpResponse {
        let (cursor, resumed_from) = match request.resume {
            Some(id) => (
                JobCursor::resume(ProgressJob::with_id(id.job_id, request.spec), id.position),
                Some(id.to_string()),
            ),
            None => (JobCursor::start(ProgressJob::start(request.spec)), None),
        };
        // Nothing left to send: 204 stops an EventSource, where an empty 200
        // would bring it back again and again.
        if cursor.next_due().is_none() {
            return HttpResponse::finished();
        }
        let span = tracing::info_span!("stream", job_id = %cursor.job().id());
        span.in_scope(|| {
            tracing::info!(
                steps = request.spec.steps,
                interval_ms = request.spec.interval.as_millis() as u64,
                resumed_after = resumed_from.as_deref(),
                window_ms = plan.window.as_millis() as u64,
                buffered = plan.max_body.is_some(),
                "stream started"
            );
        });
        HttpResponse::events(sse_stream(cursor, plan, resumed_from, span))
    }
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

/// The streamed form: the status and headers go in the prelude, the body
/// follows chunk by chunk as it is produced.
fn streamed(response: HttpResponse) -> Reply {
    let body: ResponseBody = match response.body {
        // No chunk at all for an empty body: an empty chunk would end a chunked body early.
        Body::Full(bytes) if bytes.is_empty() => Box::pin(stream::empty()),
        Body::Full(bytes) => Box::pin(stream::once(async move { Ok(bytes) })),
        Body::Events(events) => Box::pin(events.map(Ok)),
    };
    FunctionResponse::StreamingResponse(StreamResponse {
        metadata_prelude: MetadataPrelude {
            status_code: response.status,
            headers: response.headers,
            cookies: Vec::new(),
        },
        stream: body,
    })
}

/// The buffered form an ALB takes: the whole body, collected until the
/// stream ends (its batch window bounds how long that is).
async fn buffered(response: HttpResponse, multi_value: bool) -> AlbTargetGroupResponse {
    let body = match response.body {
        Body::Full(bytes) => bytes,
        Body::Events(mut events) => {
            let mut body = BytesMut::new();
            while let Some(chunk) = events.next().await {
                body.extend_from_slice(&chunk);
            }
            body.freeze()
        }
    };
    let (headers, multi_value_headers) = if multi_value {
        (HeaderMap::new(), response.headers)
    } else {
        (response.headers, HeaderMap::new())
    };
    let mut alb = AlbTargetGroupResponse::default();
    alb.status_code = i64::from(response.status.as_u16());
    alb.status_description = Some(format!(
        "{} {}",
        response.status.as_u16(),
        response.status.canonical_reason().unwrap_or_default()
    ));
    alb.headers = headers;
    alb.multi_value_headers = multi_value_headers;
    // Every body this function writes is UTF-8 (JSON or SSE).
    alb.body =
        (!body.is_empty()).then(|| AlbBody::Text(String::from_utf8_lossy(&body).into_owned()));
    alb
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{SourceError, SourceEvent};
    use crate::sse::EventType;
    use crate::stream::{ALB_DOCUMENT_OVERHEAD, MAX_ALB_DOCUMENT};

    /// A resumable source of `total` events, all due at once, whose data is
    /// `size` bytes of what an ALB document escapes most: quotes, backslashes
    /// and control characters.
    struct Escapable {
        next: u32,
        total: u32,
        size: usize,
    }

    impl EventSource for Escapable {
        fn next_due(&self) -> Option<Duration> {
            (self.next < self.total).then_some(Duration::ZERO)
        }

        fn take_next(&mut self) -> Result<SourceEvent, SourceError> {
            let n = self.next;
            self.next += 1;
            let unit = ["\"", "\\", "\u{1}", "\n", "\u{1f}x"][n as usize % 5];
            Ok(SourceEvent {
                id: n.to_string(),
                kind: EventType::new("escapable"),
                data: unit.repeat(self.size / unit.len()),
            })
        }
    }

    /// One ALB answer, resuming after `last_id`, as the document the ALB gets.
    async fn batch(last_id: Option<String>, total: u32, size: usize, multi_value: bool) -> Vec<u8> {
        let next = last_id
            .as_deref()
            .map_or(0, |id| id.parse::<u32>().unwrap() + 1);
        let source = Escapable { next, total, size };
        let plan = ResponsePlan::buffered(&Settings::default(), None);
        let response =
            HttpResponse::events(sse_stream(source, plan, last_id, tracing::Span::none()));
        serde_json::to_vec(&buffered(response, multi_value).await).unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn an_alb_document_stays_under_1_mb_and_batches_lose_nothing() {
        for (size, multi_value) in [(8 * 1024, false), (30_000, true), (100, false)] {
            let total = 150;
            let mut last_id = None;
            let mut seen = Vec::new();
            let mut batches = 0;
            while seen.len() < total as usize {
                let document = batch(last_id.clone(), total, size, multi_value).await;
                assert!(
                    document.len() < MAX_ALB_DOCUMENT,
                    "{} bytes with {size}-byte events",
                    document.len()
                );
                let answer: Value = serde_json::from_slice(&document).unwrap();
                let body = answer["body"].as_str().unwrap();
                for block in body.split("\n\n").filter(|b| b.starts_with("id: ")) {
                    let id = block[4..block.find('\n').unwrap()].to_owned();
                    if !block.contains("event: reconnect") {
                        seen.push(id.parse::<u32>().unwrap());
                    }
                    last_id = Some(id);
                }
                batches += 1;
                assert!(batches < 2 * total, "no progress");
            }
            assert_eq!(seen, (0..total).collect::<Vec<_>>(), "{size}-byte events");
            if size > 1000 {
                assert!(batches > 3, "{batches} batches of {size}-byte events");
            }
        }
    }

    #[tokio::test]
    async fn the_alb_document_around_the_body_fits_its_reserve() {
        for multi_value in [false, true] {
            let mut response = HttpResponse::events(Box::pin(stream::empty()));
            response.body = Body::Full(Bytes::new());
            let document = serde_json::to_vec(&buffered(response, multi_value).await).unwrap();
            assert!(
                document.len() * 4 < ALB_DOCUMENT_OVERHEAD,
                "{}",
                document.len()
            );
        }
    }

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
