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
use futures_util::{Stream, StreamExt, stream};
use http::HeaderMap;
use lambda_runtime::{
    Diagnostic, FunctionResponse, LambdaEvent, MetadataPrelude, StreamResponse, service_fn,
};
use serde_json::Value;
use std::{
    convert::Infallible,
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
/// Runtime API, as when a client gave up before its answer could be sent.
/// Exiting then would make Lambda start a new process (a cold start for the
/// next caller), and under `cargo lambda watch` stop the function for good;
/// so the loop starts again and takes the next invocation. Only restarts
/// that fail before any invocation arrives count towards giving up: a queue
/// of abandoned invocations (clients that gave up during a cold start) fails
/// one by one, quickly, and must not look like a dead API.
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
        let Err(error) = runtime_client::run(service).await else {
            return Ok(());
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
        tracing::error!(%error, "the Runtime API exchange failed; taking the next invocation");
    }
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
                buffered = plan.max_bytes.is_some(),
                "stream started"
            );
        });
        HttpResponse::events(sse_stream(cursor, plan, resumed_from, span))
    }
}

/// Deadlines before this (2001-09-09) are not times: `cargo lambda watch`
/// sends its timeout as a duration (600000), and hand-made events send 0.
const EARLIEST_DEADLINE_MS: u64 = 1_000_000_000_000;

/// How long until `deadline_ms` (epoch milliseconds, as Lambda gives it);
/// `None` when the value is not a point in time.
pub fn until_deadline(deadline_ms: u64, now: SystemTime) -> Option<Duration> {
    if deadline_ms < EARLIEST_DEADLINE_MS {
        return None;
    }
    let deadline = UNIX_EPOCH + Duration::from_millis(deadline_ms);
    Some(deadline.duration_since(now).unwrap_or(Duration::ZERO))
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
        assert_eq!(
            until_deadline(600_000, now),
            None,
            "the emulator's duration"
        );
    }
}
