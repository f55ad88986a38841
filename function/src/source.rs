//! The seam: a [`Source`] is opened for one request and the id the client
//! last saw, and answers with a stream of events, "nothing more" (204) or a
//! refusal (a 4xx of its own). Everything else (framing, heartbeats, windows,
//! the deadline, buffered answers, logging, disconnects) is the library's.

use crate::request::Request;
use crate::sse::Event;
use futures_util::Stream;
use http::StatusCode;
use std::{borrow::Cow, future::Future, pin::Pin};

/// Why a source could not produce its next event. Its text goes to the log
/// only; the client sees a generic `error` event.
pub type SourceError = Box<dyn std::error::Error + Send + Sync>;

/// A source's stream yields `Err(Behind.into())` to end the response at
/// once with the usual `reconnect` block, as a closed window would: the
/// client comes back with the id of the last event it received and resumes
/// there. For a subscriber that fell too far behind a buffer shared with
/// others, which moved on without it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the subscriber fell behind; it resumes after the last event it received")]
pub struct Behind;

/// What [`Source::open`] returns: a boxed future, so that sources of
/// different types can share one router.
pub type OpenFuture<'a> = Pin<Box<dyn Future<Output = Open> + Send + 'a>>;

/// The events of one response, as a source produces them.
pub struct Events {
    pub(crate) stream: Pin<Box<dyn Stream<Item = Result<Event, SourceError>> + Send>>,
    pub(crate) log_id: Option<String>,
    /// A durable stream's reads and lags, for the response's metrics.
    pub(crate) store: Option<std::sync::Arc<crate::metrics::StoreStats>>,
}

impl Events {
    /// Events as `stream` yields them. Each may take as long as it likes (a
    /// query, a call, a channel); heartbeats flow meanwhile. The stream ends
    /// when the source has nothing more to send; an `Err` ends the response
    /// with an `error` event, or with a `reconnect` block if it is [`Behind`].
    pub fn new(stream: impl Stream<Item = Result<Event, SourceError>> + Send + 'static) -> Self {
        Self {
            stream: Box::pin(stream),
            log_id: None,
            store: None,
        }
    }

    /// Names the stream in the log lines of its response (`stream_id`), for
    /// example a job's id, so that one stream's lines can be found.
    pub fn log_id(mut self, id: impl Into<String>) -> Self {
        self.log_id = Some(id.into());
        self
    }
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events")
            .field("log_id", &self.log_id)
            .finish()
    }
}

/// How a source answers a request.
#[derive(Debug)]
pub enum Open {
    /// `200 text/event-stream` with these events.
    Events(Events),
    /// `204 No Content`: nothing more to send (the client resumed after the
    /// last event), and a standard EventSource stops reconnecting.
    Finished,
    /// The source's own refusal: its own query parameters, its own ids.
    Refused(Refusal),
}

/// A 4xx answer with the JSON body `{"error": code, "message": message}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    status: StatusCode,
    code: Cow<'static, str>,
    message: String,
}

impl Refusal {
    /// A refusal with its status, a stable machine-readable `code` and a
    /// message that says what the caller should change. A status that is not
    /// a 4xx is answered as 400: a refusal is always the caller's to fix.
    pub fn new(
        status: StatusCode,
        code: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status: if status.is_client_error() {
                status
            } else {
                StatusCode::BAD_REQUEST
            },
            code: code.into(),
            message: message.into(),
        }
    }

    /// A `400 Bad Request` refusal.
    pub fn bad_request(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The `error` field.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The `message` field.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// Where events come from. Built once at start-up and shared by every
/// invocation, so it holds what is costly to make (an SDK client, a pool)
/// and must be `Send + Sync`.
pub trait Source: Send + Sync + 'static {
    /// Opens the events of one response. `last_event_id` is what the client
    /// sent back (the `Last-Event-ID` header, else the `lastEventId` query
    /// parameter), exactly as sent: ids belong to the source, and the library
    /// never parses them. `None` (or nothing sent) means start afresh.
    fn open<'a>(&'a self, request: &'a Request, last_event_id: Option<&'a str>) -> OpenFuture<'a>;

    /// Whether a stream can be resumed from an id. A response of a source
    /// that cannot is not ended by the window, only by the deadline margin
    /// (and, behind an ALB, by the size limit), since a client that came back
    /// could not continue where it left off.
    fn resumable(&self) -> bool {
        true
    }
}
