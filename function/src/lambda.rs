//! The runtime adapter: a Lambda event in, a Lambda response out.
//!
//! The handler returns [`FunctionResponse`], so each invocation chooses its
//! own mode: Function URL invocations are always streamed (a `RESPONSE_STREAM`
//! URL expects the prelude, even for a 404), and the buffered variant is left
//! for front doors that cannot stream.

use crate::job::ProgressJob;
use crate::request::{Route, route};
use crate::response::{Body, HttpResponse};
use crate::settings::Settings;
use crate::stream::job_events;
use aws_lambda_events::lambda_function_urls::LambdaFunctionUrlRequest;
use bytes::Bytes;
use futures_util::{Stream, StreamExt, stream};
use lambda_runtime::{Diagnostic, FunctionResponse, LambdaEvent, MetadataPrelude, StreamResponse};
use serde_json::Value;
use std::{convert::Infallible, pin::Pin};

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
        Ok(streamed(self.respond(method, path, query)))
    }

    /// The response to one HTTP request, whichever front door it came through.
    pub fn respond(&self, method: &str, path: &str, query: &str) -> HttpResponse {
        match route(method, path, query, self.settings.job) {
            Ok(Route::Health) => HttpResponse::health(),
            Ok(Route::Events(spec)) => {
                HttpResponse::events(job_events(ProgressJob::start(spec), self.settings.retry))
            }
            Err(error) => {
                tracing::warn!(status = error.status().as_u16(), code = error.code(), message = %error, "request refused");
                HttpResponse::error(&error)
            }
        }
    }
}

/// The streamed form: the status and headers go in the prelude, the body
/// follows chunk by chunk as it is produced.
fn streamed(response: HttpResponse) -> Reply {
    let body: ResponseBody = match response.body {
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
