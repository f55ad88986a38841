//! What answers each invocation: the front door reads the event into a
//! request, the router picks the source, the source opens its events, the
//! stream driver frames and times them, and the front door writes the answer.

use crate::front::{self, Front, UnsupportedEvent};
use crate::request::Request;
use crate::response::HttpResponse;
use crate::router::{Router, Target};
use crate::settings::Settings;
use crate::source::{Open, Refusal};
use crate::stream::{ResponsePlan, sse_stream};
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
}

impl Handler {
    /// A handler for `router`'s sources, framed and timed by `settings`.
    pub fn new(router: Router, settings: Settings) -> Self {
        Self {
            router: Arc::new(router),
            settings,
        }
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
        let (target, params) = match self.router.find(&request.method, &request.path) {
            Ok(found) => found,
            Err(refusal) => return refused(&refusal),
        };
        let source = match target {
            Target::Health => return HttpResponse::health(),
            Target::Source(source) => source,
        };
        request.params = params;
        let last_event_id = match last_event_id(&request) {
            Ok(id) => id,
            Err(refusal) => return refused(&refusal),
        };
        let events = match source.open(&request, last_event_id.as_deref()).await {
            Open::Events(events) => events,
            Open::Finished => return HttpResponse::finished(),
            Open::Refused(refusal) => return refused(&refusal),
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
            Front::Alb { .. } if !source.resumable() => return HttpResponse::not_buffered(),
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
        HttpResponse::events(sse_stream(events, plan, last_event_id, span))
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
