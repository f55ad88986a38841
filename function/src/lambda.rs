//! The runtime adapter: a Lambda event in, a Lambda response out.
//!
//! The handler returns [`FunctionResponse`], so each invocation chooses its
//! own mode: Function URL invocations are always streamed (a `RESPONSE_STREAM`
//! URL expects the prelude, even for a 404), and the buffered variant is left
//! for front doors that cannot stream.

use crate::job::{JobCursor, ProgressJob};
use crate::request::{EventsRequest, Route, route};
use crate::response::{Body, HttpResponse};
use crate::settings::Settings;
use crate::stream::{ResponsePlan, sse_stream};
use aws_lambda_events::lambda_function_urls::LambdaFunctionUrlRequest;
use bytes::Bytes;
use futures_util::{Stream, StreamExt, stream};
use http::HeaderMap;
use lambda_runtime::{
    Diagnostic, FunctionResponse, LambdaEvent, MetadataPrelude, StreamResponse, service_fn,
};
use serde_json::Value;
use std::{
    convert::Infallible,
    pin::Pin,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

/// A streamed body as the runtime takes it.
pub type ResponseBody = Pin<Box<dyn Stream<Item = Result<Bytes, Infallible>> + Send>>;

/// What one invocation returns: streamed for the Function URL; buffered
/// (a serialized document) for front doors that cannot stream.
pub type Reply = FunctionResponse<Value, ResponseBody>;

/// An invocation whose event is not an HTTP request this function serves.
/// Reported to Lambda as an invocation error: no HTTP client is waiting.
#[derive(Debug, thiserror::Error)]
#[error("unsupported event: {0}")]
pub struct UnsupportedEvent(String);

impl From<UnsupportedEvent> for Diagnostic {
    fn from(error: UnsupportedEvent) -> Self {
        Diagnostic {
            error_type: "UnsupportedEvent".to_owned(),
            error_message: error.to_string(),
        }
    }
}

/// Consecutive Runtime API failures, each within [`QUICK_FAILURE`] of the
/// last start, after which the process gives up: the API itself is gone.
const MAX_QUICK_FAILURES: u32 = 5;
const QUICK_FAILURE: Duration = Duration::from_secs(1);

/// Serves invocations until the Runtime API goes away.
///
/// `lambda_runtime::run` returns on the first failed exchange with the
/// Runtime API, as when a client gave up before its answer could be sent.
/// Exiting then would make Lambda start a new process (a cold start for the
/// next caller), and under `cargo lambda watch` stop the function for good;
/// so the loop starts again and takes the next invocation.
pub async fn serve(handler: Handler) -> Result<(), lambda_runtime::Error> {
    let mut quick_failures = 0;
    loop {
        let started = tokio::time::Instant::now();
        let handler = handler.clone();
        let service = service_fn(move |event: LambdaEvent<Value>| {
            let handler = handler.clone();
            async move { handler.handle(event).await }
        });
        let Err(error) = lambda_runtime::run(service).await else {
            return Ok(());
        };
        quick_failures = if started.elapsed() < QUICK_FAILURE {
            quick_failures + 1
        } else {
            1
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
        let payload = event.payload;
        if payload.pointer("/requestContext/http").is_none() {
            return Err(UnsupportedEvent(
                "expected a Lambda Function URL request (requestContext.http is missing)"
                    .to_owned(),
            ));
        }
        let request: LambdaFunctionUrlRequest = serde_json::from_value(payload)
            .map_err(|e| UnsupportedEvent(format!("malformed Function URL request: {e}")))?;
        let method = request
            .request_context
            .http
            .method
            .as_deref()
            .unwrap_or_default();
        let path = request.raw_path.as_deref().unwrap_or("/");
        let query = request.raw_query_string.as_deref().unwrap_or_default();
        let response = self.respond(method, path, query, &request.headers, until_deadline);
        Ok(streamed(response))
    }

    /// The response to one HTTP request, whichever front door it came through.
    /// `until_deadline` is how long the invocation may still run, if known.
    pub fn respond(
        &self,
        method: &str,
        path: &str,
        query: &str,
        headers: &HeaderMap,
        until_deadline: Option<Duration>,
    ) -> HttpResponse {
        match route(method, path, query, headers, self.settings.job) {
            Ok(Route::Health) => HttpResponse::health(),
            Ok(Route::Finished) => HttpResponse::finished(),
            Ok(Route::Events(request)) => self.events(request, until_deadline),
            Err(error) => {
                tracing::warn!(status = error.status().as_u16(), code = error.code(), message = %error, "request refused");
                HttpResponse::error(&error)
            }
        }
    }
}

impl Handler {
    fn events(&self, request: EventsRequest, until_deadline: Option<Duration>) -> HttpResponse {
        let (cursor, resumed_from) = match request.resume {
            Some(id) => (
                JobCursor::resume(ProgressJob::with_id(id.job_id, request.spec), id.position),
                Some(id.to_string()),
            ),
            None => (JobCursor::start(ProgressJob::start(request.spec)), None),
        };
        let plan = ResponsePlan::new(&self.settings, until_deadline);
        let span = tracing::info_span!("stream", job_id = %cursor.job().id());
        span.in_scope(|| {
            tracing::info!(
                steps = request.spec.steps,
                interval_ms = request.spec.interval.as_millis() as u64,
                resumed_after = resumed_from.as_deref(),
                window_ms = plan.window.as_millis() as u64,
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
