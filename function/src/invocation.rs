//! The Lambda event of each front door, turned into one [`HttpRequest`]:
//! the Function URL's (streamed answers) or an Application Load Balancer's
//! (buffered answers).

use aws_lambda_events::lambda_function_urls::LambdaFunctionUrlRequest;
use http::{HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;

/// Which front door an invocation came through, and so how to answer it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Front {
    /// A Function URL: answer streamed.
    FunctionUrl,
    /// An ALB target group: answer buffered, as one JSON document, with
    /// headers in the same form (single- or multi-value) the request used.
    Alb { multi_value: bool },
}

/// An HTTP request as the router sees it, whichever front door it came through.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    pub front: Front,
    pub method: String,
    pub path: String,
    /// Still percent-encoded, without `?`.
    pub query: String,
    pub headers: HeaderMap,
}

/// An invocation whose event is not an HTTP request this function serves.
/// Reported to Lambda as an invocation error: no HTTP client is waiting.
#[derive(Debug, thiserror::Error)]
#[error("unsupported event: {0}")]
pub struct UnsupportedEvent(pub String);

impl HttpRequest {
    /// Reads a Function URL or ALB event.
    pub fn from_event(payload: Value) -> Result<Self, UnsupportedEvent> {
        if payload.pointer("/requestContext/http").is_some() {
            from_function_url(payload)
        } else if payload.pointer("/requestContext/elb").is_some() {
            from_alb(payload)
        } else {
            Err(UnsupportedEvent(
                "expected a Function URL request (requestContext.http) or an ALB request (requestContext.elb)"
                    .to_owned(),
            ))
        }
    }
}

fn from_function_url(payload: Value) -> Result<HttpRequest, UnsupportedEvent> {
    let request: LambdaFunctionUrlRequest = serde_json::from_value(payload)
        .map_err(|e| UnsupportedEvent(format!("malformed Function URL request: {e}")))?;
    Ok(HttpRequest {
        front: Front::FunctionUrl,
        method: request.request_context.http.method.unwrap_or_default(),
        path: request.raw_path.unwrap_or_else(|| "/".to_owned()),
        query: request.raw_query_string.unwrap_or_default(),
        headers: request.headers,
    })
}

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

fn from_alb(payload: Value) -> Result<HttpRequest, UnsupportedEvent> {
    let request: AlbRequest = serde_json::from_value(payload)
        .map_err(|e| UnsupportedEvent(format!("malformed ALB request: {e}")))?;
    let multi_value = request.multi_value_headers.is_some();
    // The ALB passes query values as the client sent them, still
    // percent-encoded, so joining them gives back a raw query string.
    let mut query: Vec<String> = name_value_pairs(
        request.multi_value_query_string_parameters,
        request.query_string_parameters,
    )
    .into_iter()
    .map(|(name, value)| format!("{name}={value}"))
    .collect();
    // HashMap order varies; sorted, a request always meets the same error first.
    query.sort();
    let pairs = name_value_pairs(request.multi_value_headers, request.headers);
    let mut headers = HeaderMap::new();
    for (name, value) in pairs {
        // A header that is not valid HTTP cannot be one this function reads.
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            headers.append(name, value);
        }
    }
    Ok(HttpRequest {
        front: Front::Alb { multi_value },
        method: request.http_method,
        path: request.path.unwrap_or_else(|| "/".to_owned()),
        query: query.join("&"),
        headers,
    })
}

/// The pairs of an ALB map, from its multi-value form when the target group
/// sends that (every value of a repeated name), else from its single-value form.
fn name_value_pairs(
    multi: Option<HashMap<String, Vec<String>>>,
    single: Option<HashMap<String, String>>,
) -> Vec<(String, String)> {
    match (multi, single) {
        (Some(multi), _) => multi
            .into_iter()
            .flat_map(|(name, values)| values.into_iter().map(move |value| (name.clone(), value)))
            .collect(),
        (None, Some(single)) => single.into_iter().collect(),
        (None, None) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_an_alb_request_with_single_values() {
        let request = HttpRequest::from_event(json!({
            "requestContext": {"elb": {"targetGroupArn": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/sse/0123456789abcdef"}},
            "httpMethod": "GET", "path": "/events",
            "queryStringParameters": {"steps": "5"},
            "headers": {"last-event-id": "x:1", "accept": "text/event-stream"},
            "isBase64Encoded": false, "body": ""
        }))
        .unwrap();
        assert_eq!(request.front, Front::Alb { multi_value: false });
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
        let request = HttpRequest::from_event(json!({
            "requestContext": {"elb": {"targetGroupArn": "arn"}},
            "httpMethod": "GET", "path": "/events",
            "multiValueQueryStringParameters": {"steps": ["2", "3"]},
            "multiValueHeaders": {"accept": ["text/event-stream"]},
        }))
        .unwrap();
        assert_eq!(request.front, Front::Alb { multi_value: true });
        assert_eq!(request.query, "steps=2&steps=3");
    }

    #[test]
    fn empty_lists_and_odd_headers_are_not_a_panic() {
        let request = HttpRequest::from_event(json!({
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
        let err = HttpRequest::from_event(json!({"Records": []})).unwrap_err();
        assert!(err.to_string().contains("requestContext.elb"), "{err}");
        let err = HttpRequest::from_event(json!({"requestContext": {"elb": {}}})).unwrap_err();
        assert!(err.to_string().contains("malformed ALB request"), "{err}");
    }
}
