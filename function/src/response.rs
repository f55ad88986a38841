//! What the function answers, before a front door (the streamed Function URL
//! or a buffered ALB) turns it into its own wire format.

use crate::router::ALLOWED_METHODS;
use crate::source::Refusal;
use crate::stream::Body as EventStream;
use crate::web::Asset;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode, header};

/// A response: status, headers, and either a whole body or an event stream.
#[derive(Debug)]
pub(crate) struct HttpResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Body,
}

pub(crate) enum Body {
    Full(Bytes),
    Events(EventStream),
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Body::Full(bytes) => f.debug_tuple("Full").field(bytes).finish(),
            Body::Events(_) => f.write_str("Events(..)"),
        }
    }
}

impl HttpResponse {
    /// `200 text/event-stream`, with the headers that keep proxies from
    /// buffering or caching the stream. No `connection` header: HTTP/2 forbids it.
    pub fn events(stream: EventStream) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
        Self {
            status: StatusCode::OK,
            headers,
            body: Body::Events(stream),
        }
    }

    /// `204 No Content`: nothing more to send; an EventSource stops reconnecting.
    /// It is the stream's last answer, so it says so in the stream's own
    /// content type (the runtime would otherwise send
    /// `application/octet-stream`) and must not be cached: the same URL
    /// starts a new job without a `Last-Event-ID`.
    pub fn finished() -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        Self {
            status: StatusCode::NO_CONTENT,
            headers,
            body: Body::Full(Bytes::new()),
        }
    }

    /// `200` with `{"status":"ok","version":...}`.
    pub fn health() -> Self {
        let body = serde_json::json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") });
        Self::json(StatusCode::OK, &body)
    }

    /// `200` with one of the page's files.
    pub fn asset(asset: &Asset) -> Self {
        Self {
            status: StatusCode::OK,
            headers: asset.headers(),
            body: Body::Full(asset.bytes()),
        }
    }

    /// `501`: a source that cannot resume, asked through a buffered front
    /// door (an ALB), whose batches only work for sources that can.
    pub fn not_buffered() -> Self {
        let body = serde_json::json!({
            "error": "not_buffered",
            "message": "this stream cannot be resumed, so it cannot be answered in batches through a load balancer; use the streaming Function URL",
        });
        Self::json(StatusCode::NOT_IMPLEMENTED, &body)
    }

    /// The JSON error body `{"error": code, "message": what to change}`.
    pub fn refused(refusal: &Refusal) -> Self {
        let body = serde_json::json!({ "error": refusal.code(), "message": refusal.message() });
        let mut response = Self::json(refusal.status(), &body);
        if refusal.status() == StatusCode::METHOD_NOT_ALLOWED {
            response
                .headers
                .insert(header::ALLOW, HeaderValue::from_static(ALLOWED_METHODS));
        }
        response
    }

    fn json(status: StatusCode, body: &serde_json::Value) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        Self {
            status,
            headers,
            body: Body::Full(Bytes::from(body.to_string())),
        }
    }
}
