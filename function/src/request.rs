//! An HTTP request, as any front door hands it over, turned into a typed
//! [`Route`] or a [`RequestError`] that says what the caller should change.

use crate::job::{INTERVAL_MS, JobSpec, STEPS};
use crate::number::{NumberError, parse_in_range};
use http::{Method, StatusCode};
use std::time::Duration;

/// What a well-formed request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `GET /health`: a liveness answer. Query parameters are ignored.
    Health,
    /// `GET /events`: stream a new job with this spec.
    Events(JobSpec),
}

/// A request the function refuses, with the HTTP status that says why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("nothing is served at {path}; use GET /events to stream progress or GET /health")]
    NotFound { path: String },
    #[error("{method} is not allowed on {path}; use GET")]
    MethodNotAllowed { method: String, path: String },
    #[error(
        "unknown query parameter {name:?}; /events takes steps ({min_steps} to {max_steps}) and interval_ms ({min_ms} to {max_ms})",
        min_steps = STEPS.start(), max_steps = STEPS.end(),
        min_ms = INTERVAL_MS.start(), max_ms = INTERVAL_MS.end()
    )]
    UnknownParameter { name: String },
    #[error("query parameter {name} is given more than once; give it once")]
    RepeatedParameter { name: &'static str },
    #[error("query parameter {name} {problem}")]
    InvalidParameter {
        name: &'static str,
        problem: NumberError,
    },
}

impl RequestError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// A stable, machine-readable name for the error (the JSON `error` field).
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound { .. } => "not_found",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::UnknownParameter { .. } => "unknown_parameter",
            Self::RepeatedParameter { .. } => "repeated_parameter",
            Self::InvalidParameter { .. } => "invalid_parameter",
        }
    }
}

/// The methods every route accepts; sent as `allow` with a 405.
pub const ALLOWED_METHODS: &str = "GET";

/// Routes a request. `query` is the raw, still percent-encoded query string
/// (without `?`); `defaults` is the job a request gets for what it leaves out.
pub fn route(
    method: &str,
    path: &str,
    query: &str,
    defaults: JobSpec,
) -> Result<Route, RequestError> {
    let known = match path {
        "/health" => Route::Health,
        "/events" => Route::Events(defaults),
        _ => {
            return Err(RequestError::NotFound {
                path: shorten(path),
            });
        }
    };
    if method != Method::GET {
        return Err(RequestError::MethodNotAllowed {
            method: shorten(method),
            path: path.to_owned(),
        });
    }
    match known {
        Route::Events(defaults) => events_spec(query, defaults).map(Route::Events),
        health => Ok(health),
    }
}

fn events_spec(query: &str, defaults: JobSpec) -> Result<JobSpec, RequestError> {
    let mut steps = None;
    let mut interval_ms = None;
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        let (slot, name, range) = match name.as_ref() {
            "steps" => (&mut steps, "steps", STEPS),
            "interval_ms" => (&mut interval_ms, "interval_ms", INTERVAL_MS),
            other => {
                return Err(RequestError::UnknownParameter {
                    name: shorten(other),
                });
            }
        };
        if slot.is_some() {
            return Err(RequestError::RepeatedParameter { name });
        }
        let value = parse_in_range(&value, &range)
            .map_err(|problem| RequestError::InvalidParameter { name, problem })?;
        *slot = Some(value);
    }
    Ok(JobSpec {
        steps: steps.unwrap_or(defaults.steps),
        interval: interval_ms.map_or(defaults.interval, |ms| Duration::from_millis(ms.into())),
    })
}

/// Echoes at most 64 characters of caller input back in a message.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(64) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(query: &str) -> Result<Route, RequestError> {
        route("GET", "/events", query, JobSpec::default())
    }

    fn spec(steps: u32, ms: u64) -> Route {
        Route::Events(JobSpec {
            steps,
            interval: Duration::from_millis(ms),
        })
    }

    #[test]
    fn defaults_and_overrides() {
        assert_eq!(events(""), Ok(spec(11, 2000)));
        assert_eq!(events("steps=5"), Ok(spec(5, 2000)));
        assert_eq!(events("interval_ms=100&steps=5"), Ok(spec(5, 100)));
        assert_eq!(events("steps=%35"), Ok(spec(5, 2000)), "percent-encoded");
        assert_eq!(
            events("&steps=5&"),
            Ok(spec(5, 2000)),
            "empty pieces are nothing"
        );
    }

    #[test]
    fn health_ignores_the_query() {
        assert_eq!(
            route("GET", "/health", "x=1", JobSpec::default()),
            Ok(Route::Health)
        );
    }

    #[test]
    fn bad_parameters_are_400_with_a_code() {
        let cases = [
            ("steps=0", "invalid_parameter"),
            ("steps=1001", "invalid_parameter"),
            ("steps=", "invalid_parameter"),
            ("steps", "invalid_parameter"),
            ("steps=abc", "invalid_parameter"),
            ("interval_ms=9", "invalid_parameter"),
            ("interval_ms=60001", "invalid_parameter"),
            ("steps=2&steps=3", "repeated_parameter"),
            ("stpes=2", "unknown_parameter"),
        ];
        for (query, code) in cases {
            let err = events(query).unwrap_err();
            assert_eq!(
                (err.status(), err.code()),
                (StatusCode::BAD_REQUEST, code),
                "{query}"
            );
        }
    }

    #[test]
    fn messages_say_what_to_change() {
        assert_eq!(
            events("steps=0").unwrap_err().to_string(),
            "query parameter steps is 0, outside the allowed range 1 to 1000"
        );
        assert_eq!(
            events("stpes=2").unwrap_err().to_string(),
            "unknown query parameter \"stpes\"; /events takes steps (1 to 1000) and interval_ms (10 to 60000)"
        );
    }

    #[test]
    fn unknown_path_is_404_before_the_method_is_checked() {
        let err = route("POST", "/nope", "", JobSpec::default()).unwrap_err();
        assert_eq!(
            (err.status(), err.code()),
            (StatusCode::NOT_FOUND, "not_found")
        );
        for path in ["/", "/events/", "/EVENTS", ""] {
            let err = route("GET", path, "", JobSpec::default()).unwrap_err();
            assert_eq!(err.status(), StatusCode::NOT_FOUND, "{path:?}");
        }
    }

    #[test]
    fn other_methods_are_405() {
        for method in ["POST", "PUT", "DELETE", "HEAD", "OPTIONS", "get"] {
            let err = route(method, "/events", "", JobSpec::default()).unwrap_err();
            assert_eq!(err.status(), StatusCode::METHOD_NOT_ALLOWED, "{method}");
            assert_eq!(err.code(), "method_not_allowed");
        }
    }

    #[test]
    fn echoed_input_is_bounded() {
        let path = format!("/{}", "a".repeat(10_000));
        let message = route("GET", &path, "", JobSpec::default())
            .unwrap_err()
            .to_string();
        assert!(message.len() < 200, "{}", message.len());
    }
}
