//! ALB events in, buffered answers out: one JSON document, at most 1 MB,
//! holding the whole body (one batch window of events), with headers in the
//! form the request used.

use super::{Front, UnsupportedEvent};
use crate::request::{Caller, Request};
use crate::response::{Body, HttpResponse};
use aws_lambda_events::{alb::AlbTargetGroupResponse, encodings::Body as AlbBody};
use bytes::BytesMut;
use futures_util::StreamExt;
use http::HeaderMap;
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;

/// The ALB event's fields this function reads. Read here rather than through
/// `aws_lambda_events`' ALB type, whose query map panics on an empty list.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AlbRequest {
    http_method: String,
    path: Option<String>,
    query_string_parameters: Option<HashMap<String, String>>,
    multi_value_query_string_parameters: Option<HashMap<String, Vec<String>>>,
    headers: Option<HashMap<String, String>>,
    multi_value_headers: Option<HashMap<String, Vec<String>>>,
}

pub(super) fn read(payload: Value) -> Result<(Front, Request), UnsupportedEvent> {
    let request: AlbRequest = serde_json::from_value(payload)
        .map_err(|e| UnsupportedEvent(format!("malformed ALB request: {e}")))?;
    let multi_value = request.multi_value_headers.is_some();
    // The ALB passes query values as the client sent them, still
    // percent-encoded, so joining them gives back a raw query string.
    let mut query: Vec<String> = super::name_value_pairs(
        request.multi_value_query_string_parameters,
        request.query_string_parameters,
    )
    .into_iter()
    .map(|(name, value)| format!("{name}={value}"))
    .collect();
    // HashMap order varies; sorted, a request always meets the same error first.
    query.sort();
    let pairs = super::name_value_pairs(request.multi_value_headers, request.headers);
    let headers = super::header_map(pairs);
    Ok((
        Front::Alb { multi_value },
        Request {
            method: super::method(&request.http_method),
            path: request.path.unwrap_or_else(|| "/".to_owned()),
            query: query.join("&"),
            headers,
            params: HashMap::new(),
            deadline: None,
            caller: Caller::Anonymous,
        },
    ))
}

/// The buffered form an ALB takes: the whole body, collected until the
/// stream ends (its batch window bounds how long that is).
pub(super) async fn buffered(response: HttpResponse, multi_value: bool) -> AlbTargetGroupResponse {
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
    use crate::settings::Settings;
    use crate::source::{Events, SourceError};
    use crate::sse::{Event, EventType};
    use crate::stream::{ALB_DOCUMENT_OVERHEAD, MAX_ALB_DOCUMENT, ResponsePlan, sse_stream};
    use futures_util::stream;
    use serde_json::json;

    fn read_event(payload: Value) -> Result<Request, UnsupportedEvent> {
        super::super::read(payload, None).map(|(_, request)| request)
    }

    fn front(payload: Value) -> Front {
        super::super::read(payload, None).unwrap().0
    }

    #[test]
    fn reads_an_alb_request_with_single_values() {
        let event = json!({
            "requestContext": {"elb": {"targetGroupArn": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/sse/0123456789abcdef"}},
            "httpMethod": "GET", "path": "/events",
            "queryStringParameters": {"steps": "5"},
            "headers": {"last-event-id": "x:1", "accept": "text/event-stream"},
            "isBase64Encoded": false, "body": ""
        });
        assert_eq!(front(event.clone()), Front::Alb { multi_value: false });
        let request = read_event(event).unwrap();
        assert_eq!(
            (
                request.method.as_str(),
                request.path.as_str(),
                request.query.as_str()
            ),
            ("GET", "/events", "steps=5")
        );
        assert_eq!(request.headers["last-event-id"], "x:1");
    }

    #[test]
    fn reads_an_alb_request_with_multiple_values_and_keeps_repeats() {
        let event = json!({
            "requestContext": {"elb": {"targetGroupArn": "arn"}},
            "httpMethod": "GET", "path": "/events",
            "multiValueQueryStringParameters": {"steps": ["2", "3"]},
            "multiValueHeaders": {"accept": ["text/event-stream"]},
        });
        assert_eq!(front(event.clone()), Front::Alb { multi_value: true });
        let request = read_event(event).unwrap();
        assert_eq!(request.query, "steps=2&steps=3");
    }

    #[test]
    fn empty_lists_and_odd_headers_are_not_a_panic() {
        let request = read_event(json!({
            "requestContext": {"elb": {}},
            "httpMethod": "GET",
            "multiValueQueryStringParameters": {"steps": []},
            "multiValueHeaders": {"bad header": ["x"], "x-ok": [], "last-event-id": ["a\u{0001}b"]},
        }))
        .unwrap();
        assert_eq!((request.path.as_str(), request.query.as_str()), ("/", ""));
        assert!(request.headers.is_empty());
    }

    #[test]
    fn other_events_are_unsupported() {
        let err = read_event(json!({"Records": []})).unwrap_err();
        assert!(err.to_string().contains("requestContext.elb"), "{err}");
        let err = read_event(json!({"requestContext": {"elb": {}}})).unwrap_err();
        assert!(err.to_string().contains("malformed ALB request"), "{err}");
    }

    /// A resumable source of `total` events, all ready at once, whose data is
    /// `size` bytes of what an ALB document escapes most: quotes, backslashes
    /// and control characters.
    fn escapable(next: u32, total: u32, size: usize) -> Events {
        Events::new(stream::iter((next..total).map(move |n| {
            let unit = ["\"", "\\", "\u{1}", "\n", "\u{1f}x"][n as usize % 5];
            Event::new()
                .event_type(EventType::new("escapable"))
                .data(unit.repeat(size / unit.len()))
                .id(n.to_string())
                .map_err(SourceError::from)
        })))
    }

    /// One ALB answer, resuming after `last_id`, as the document the ALB gets.
    async fn batch(last_id: Option<String>, total: u32, size: usize, multi_value: bool) -> Vec<u8> {
        let next = last_id
            .as_deref()
            .map_or(0, |id| id.parse::<u32>().unwrap() + 1);
        let plan = ResponsePlan::buffered(&Settings::default(), None);
        let body = sse_stream(
            escapable(next, total, size),
            plan,
            last_id,
            tracing::Span::none(),
        );
        let response = HttpResponse::events(body);
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
            response.body = Body::Full(bytes::Bytes::new());
            let document = serde_json::to_vec(&buffered(response, multi_value).await).unwrap();
            assert!(
                document.len() * 4 < ALB_DOCUMENT_OVERHEAD,
                "{}",
                document.len()
            );
        }
    }
}
