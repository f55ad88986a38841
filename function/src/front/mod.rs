//! The front doors: each turns its Lambda event into one [`Request`] and
//! writes the answer in its own wire format. A Function URL and an API
//! Gateway REST API (with `responseTransferMode: STREAM`) are answered
//! streamed; an Application Load Balancer, which cannot stream from Lambda,
//! buffered.

mod alb;
mod function_url;
mod rest_api;

use crate::handler::Reply;
use crate::request::Request;
use crate::response::HttpResponse;
use http::Method;
use serde_json::Value;
use std::time::Duration;

/// Which front door an invocation came through, and so how to answer it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Front {
    /// A Function URL: answer streamed.
    FunctionUrl,
    /// A REST API method with a streaming integration: answer streamed, as
    /// for a Function URL.
    RestApi,
    /// An ALB target group: answer buffered, as one JSON document, with
    /// headers in the same form (single- or multi-value) the request used.
    Alb { multi_value: bool },
}

impl Front {
    /// Its name in metrics (the `Front` dimension).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Front::FunctionUrl => "FunctionUrl",
            Front::RestApi => "RestApi",
            Front::Alb { .. } => "Alb",
        }
    }
}

/// An invocation whose event is not an HTTP request of a front door this
/// library serves. Reported to Lambda as an invocation error: no HTTP client
/// is waiting for an answer.
#[derive(Debug, thiserror::Error)]
#[error("unsupported event: {0}")]
pub struct UnsupportedEvent(String);

impl From<UnsupportedEvent> for lambda_runtime::Diagnostic {
    fn from(error: UnsupportedEvent) -> Self {
        lambda_runtime::Diagnostic {
            error_type: "UnsupportedEvent".to_owned(),
            error_message: error.to_string(),
        }
    }
}

/// Reads a Function URL, REST API or ALB event, by its shape.
pub(crate) fn read(
    payload: Value,
    until_deadline: Option<Duration>,
) -> Result<(Front, Request), UnsupportedEvent> {
    let (front, mut request) = if payload.pointer("/requestContext/http").is_some() {
        (Front::FunctionUrl, function_url::read(payload)?)
    } else if payload.pointer("/requestContext/elb").is_some() {
        alb::read(payload)?
    } else if payload.pointer("/requestContext/apiId").is_some()
        && payload.get("httpMethod").is_some()
    {
        (Front::RestApi, rest_api::read(payload)?)
    } else {
        return Err(UnsupportedEvent(
            "expected a Function URL request (requestContext.http), a REST API proxy request (httpMethod and requestContext.apiId) or an ALB request (requestContext.elb)".to_owned(),
        ));
    };
    // Kept as a point in time: whatever a source then takes to open comes off it.
    request.deadline = until_deadline.map(|left| tokio::time::Instant::now() + left);
    Ok((front, request))
}

/// `response` as `front` takes it.
pub(crate) async fn answer(front: Front, response: HttpResponse) -> Reply {
    match front {
        Front::FunctionUrl | Front::RestApi => function_url::streamed(response),
        Front::Alb { multi_value } => lambda_runtime::FunctionResponse::BufferedResponse(
            alb::buffered(response, multi_value).await,
        ),
    }
}

/// A method as an event names it. Front doors pass valid methods; text that
/// is not one is kept as a method no route accepts, so it gets a 405 (or 404).
fn method(text: &str) -> Method {
    Method::from_bytes(text.as_bytes())
        .unwrap_or_else(|_| Method::from_bytes(b"INVALID").unwrap_or_default())
}

/// The pairs of an ALB or REST API map, from its multi-value form when the
/// event has it (every value of a repeated name), else its single-value form.
fn name_value_pairs(
    multi: Option<std::collections::HashMap<String, Vec<String>>>,
    single: Option<std::collections::HashMap<String, String>>,
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

/// Headers from name/value pairs; a pair that is not valid HTTP cannot be a
/// header this library reads, and is left out.
fn header_map(pairs: Vec<(String, String)>) -> http::HeaderMap {
    let mut headers = http::HeaderMap::new();
    for (name, value) in pairs {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_str(&value),
        ) {
            headers.append(name, value);
        }
    }
    headers
}
