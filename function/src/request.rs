//! An HTTP request, as any front door hands it over, turned into a typed
//! [`Route`] or a [`RequestError`] that says what the caller should change.

use crate::job::{EventId, EventIdError, INTERVAL_MS, JobSpec, Position, STEPS};
use crate::number::{NumberError, parse_in_range, shorten};
use http::{HeaderMap, Method, StatusCode};
use std::time::Duration;

/// What a well-formed request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `GET /health`: a liveness answer. Query parameters are ignored.
    Health,
    /// `GET /events`: stream a job, new or resumed.
    Events(EventsRequest),
    /// `GET /events` resuming after the job's `complete` event: there is
    /// nothing more to send, and 204 tells an EventSource to stop reconnecting.
    Finished,
}

/// A stream request: the job's shape, and where to resume it, if anywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventsRequest {
    pub spec: JobSpec,
    /// The last event the client saw: continue the same job after it.
    pub resume: Option<EventId>,
}

/// Where the client's last event id came from, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdSource {
    Header,
    Query,
}

impl std::fmt::Display for IdSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            IdSource::Header => "the Last-Event-ID header",
            IdSource::Query => "query parameter lastEventId",
        })
    }
}

/// A request the function refuses, with the HTTP status that says why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("nothing is served at {path}; use GET /events to stream progress or GET /health")]
    NotFound { path: String },
    #[error("{method} is not allowed on {path}; use GET")]
    MethodNotAllowed { method: String, path: String },
    #[error(
        "unknown query parameter {name:?}; /events takes steps ({min_steps} to {max_steps}), interval_ms ({min_ms} to {max_ms}) and lastEventId",
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
    #[error(
        "{from} {problem}; send back an id this stream sent (<jobId>:<step> or <jobId>:complete), or none to start a new job"
    )]
    InvalidLastEventId {
        from: IdSource,
        problem: EventIdError,
    },
    #[error("{from} is not ASCII; send back an id this stream sent, or none to start a new job")]
    NonAsciiLastEventId { from: IdSource },
    #[error(
        "{from} names step {step}, but this job has {steps} steps; reconnect with the same steps parameter as the first request"
    )]
    LastEventIdBeyondJob {
        from: IdSource,
        step: u32,
        steps: u32,
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
            Self::InvalidLastEventId { .. }
            | Self::NonAsciiLastEventId { .. }
            | Self::LastEventIdBeyondJob { .. } => "invalid_last_event_id",
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
    headers: &HeaderMap,
    defaults: JobSpec,
) -> Result<Route, RequestError> {
    let is_events = match path {
        "/health" => false,
        "/events" => true,
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
    if !is_events {
        return Ok(Route::Health);
    }
    let query = EventsQuery::parse(query)?;
    let spec = JobSpec {
        steps: query.steps.unwrap_or(defaults.steps),
        interval: query
            .interval_ms
            .map_or(defaults.interval, |ms| Duration::from_millis(ms.into())),
    };
    let resume = match last_event_id(headers, query.last_event_id.as_deref())? {
        None => None,
        Some((from, id)) => match id.position {
            Position::Complete => return Ok(Route::Finished),
            Position::Step(step) if step > spec.steps => {
                return Err(RequestError::LastEventIdBeyondJob {
                    from,
                    step,
                    steps: spec.steps,
                });
            }
            Position::Step(_) => Some(id),
        },
    };
    Ok(Route::Events(EventsRequest { spec, resume }))
}

#[derive(Default)]
struct EventsQuery {
    steps: Option<u32>,
    interval_ms: Option<u32>,
    last_event_id: Option<String>,
}

impl EventsQuery {
    fn parse(query: &str) -> Result<Self, RequestError> {
        let mut parsed = Self::default();
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            let (slot, name, range) = match name.as_ref() {
                "steps" => (&mut parsed.steps, "steps", STEPS),
                "interval_ms" => (&mut parsed.interval_ms, "interval_ms", INTERVAL_MS),
                "lastEventId" => {
                    if parsed.last_event_id.replace(value.into_owned()).is_some() {
                        return Err(RequestError::RepeatedParameter {
                            name: "lastEventId",
                        });
                    }
                    continue;
                }
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
        Ok(parsed)
    }
}

/// The id to resume after: the `Last-Event-ID` header (what EventSource
/// sends), else the `lastEventId` parameter (for clients that cannot set
/// headers). Empty means none, as an EventSource whose last id is empty
/// sends nothing.
fn last_event_id(
    headers: &HeaderMap,
    from_query: Option<&str>,
) -> Result<Option<(IdSource, EventId)>, RequestError> {
    let from_header = match headers.get("last-event-id") {
        None => None,
        Some(value) => Some(
            value
                .to_str()
                .map_err(|_| RequestError::NonAsciiLastEventId {
                    from: IdSource::Header,
                })?,
        ),
    };
    let chosen = [
        (IdSource::Header, from_header),
        (IdSource::Query, from_query),
    ]
    .into_iter()
    .find_map(|(from, text)| text.filter(|t| !t.is_empty()).map(|t| (from, t)));
    let Some((from, text)) = chosen else {
        return Ok(None);
    };
    if !text.is_ascii() {
        return Err(RequestError::NonAsciiLastEventId { from });
    }
    text.parse()
        .map(|id| Some((from, id)))
        .map_err(|problem| RequestError::InvalidLastEventId { from, problem })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use uuid::Uuid;

    const JOB: &str = "6f1c2b7e-0d4e-4c1a-9d59-1b2f7d3c4a10";

    fn events(query: &str) -> Result<Route, RequestError> {
        route(
            "GET",
            "/events",
            query,
            &HeaderMap::new(),
            JobSpec::default(),
        )
    }

    fn with_header(value: &[u8], query: &str) -> Result<Route, RequestError> {
        let mut headers = HeaderMap::new();
        headers.insert("last-event-id", HeaderValue::from_bytes(value).unwrap());
        route("GET", "/events", query, &headers, JobSpec::default())
    }

    fn spec(steps: u32, ms: u64) -> Route {
        Route::Events(EventsRequest {
            spec: JobSpec {
                steps,
                interval: Duration::from_millis(ms),
            },
            resume: None,
        })
    }

    fn resumed(step: u32) -> Route {
        Route::Events(EventsRequest {
            spec: JobSpec::default(),
            resume: Some(EventId {
                job_id: Uuid::parse_str(JOB).unwrap(),
                position: Position::Step(step),
            }),
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
        let route = route(
            "GET",
            "/health",
            "x=1",
            &HeaderMap::new(),
            JobSpec::default(),
        );
        assert_eq!(route, Ok(Route::Health));
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
            ("lastEventId=a&lastEventId=b", "repeated_parameter"),
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
            "unknown query parameter \"stpes\"; /events takes steps (1 to 1000), interval_ms (10 to 60000) and lastEventId"
        );
    }

    #[test]
    fn resumes_from_the_header_or_the_query() {
        assert_eq!(
            with_header(format!("{JOB}:3").as_bytes(), ""),
            Ok(resumed(3))
        );
        assert_eq!(events(&format!("lastEventId={JOB}:3")), Ok(resumed(3)));
        assert_eq!(events(&format!("lastEventId={JOB}%3A11")), Ok(resumed(11)));
        // The header wins: it is what a standard EventSource sends.
        assert_eq!(
            with_header(
                format!("{JOB}:4").as_bytes(),
                &format!("lastEventId={JOB}:3")
            ),
            Ok(resumed(4))
        );
    }

    #[test]
    fn an_empty_id_starts_a_new_job() {
        assert_eq!(with_header(b"", ""), Ok(spec(11, 2000)));
        assert_eq!(events("lastEventId="), Ok(spec(11, 2000)));
        assert_eq!(
            with_header(b"", &format!("lastEventId={JOB}:2")),
            Ok(resumed(2))
        );
    }

    #[test]
    fn resuming_after_complete_is_finished() {
        assert_eq!(
            with_header(format!("{JOB}:complete").as_bytes(), ""),
            Ok(Route::Finished)
        );
        assert_eq!(
            events(&format!("lastEventId={JOB}:complete")),
            Ok(Route::Finished)
        );
    }

    #[test]
    fn ids_that_are_not_ours_are_400() {
        let long = format!("{JOB}:{}", "9".repeat(100));
        let cases: [&[u8]; 7] = [
            b"hello",
            b"42",
            b"6f1c2b7e-0d4e-4c1a-9d59-1b2f7d3c4a10:0",
            b"6f1c2b7e-0d4e-4c1a-9d59-1b2f7d3c4a10:abc",
            long.as_bytes(),
            "caf\u{e9}:1".as_bytes(),
            b"6f1c2b7e-0d4e-4c1a-9d59-1b2f7d3c4a10:1, 6f1c2b7e-0d4e-4c1a-9d59-1b2f7d3c4a10:2",
        ];
        for value in cases {
            let err = with_header(value, "").unwrap_err();
            assert_eq!(
                (err.status(), err.code()),
                (StatusCode::BAD_REQUEST, "invalid_last_event_id"),
                "{:?}",
                String::from_utf8_lossy(value)
            );
            assert!(
                err.to_string().starts_with("the Last-Event-ID header"),
                "{err}"
            );
        }
        let err = events("lastEventId=caf%C3%A9").unwrap_err();
        assert_eq!(
            err.to_string(),
            "query parameter lastEventId is not ASCII; send back an id this stream sent, or none to start a new job"
        );
    }

    #[test]
    fn an_id_past_the_last_step_is_400() {
        let err = with_header(format!("{JOB}:12").as_bytes(), "").unwrap_err();
        assert_eq!(err.code(), "invalid_last_event_id");
        assert_eq!(
            err.to_string(),
            "the Last-Event-ID header names step 12, but this job has 11 steps; reconnect with the same steps parameter as the first request"
        );
        assert_eq!(
            with_header(format!("{JOB}:12").as_bytes(), "steps=12"),
            Ok(Route::Events(EventsRequest {
                spec: JobSpec {
                    steps: 12,
                    ..JobSpec::default()
                },
                resume: Some(EventId {
                    job_id: Uuid::parse_str(JOB).unwrap(),
                    position: Position::Step(12)
                }),
            }))
        );
    }

    #[test]
    fn unknown_path_is_404_before_the_method_is_checked() {
        let none = HeaderMap::new();
        let err = route("POST", "/nope", "", &none, JobSpec::default()).unwrap_err();
        assert_eq!(
            (err.status(), err.code()),
            (StatusCode::NOT_FOUND, "not_found")
        );
        for path in ["/", "/events/", "/EVENTS", ""] {
            let err = route("GET", path, "", &none, JobSpec::default()).unwrap_err();
            assert_eq!(err.status(), StatusCode::NOT_FOUND, "{path:?}");
        }
    }

    #[test]
    fn other_methods_are_405() {
        for method in ["POST", "PUT", "DELETE", "HEAD", "OPTIONS", "get"] {
            let err =
                route(method, "/events", "", &HeaderMap::new(), JobSpec::default()).unwrap_err();
            assert_eq!(err.status(), StatusCode::METHOD_NOT_ALLOWED, "{method}");
            assert_eq!(err.code(), "method_not_allowed");
        }
    }

    #[test]
    fn echoed_input_is_bounded() {
        let path = format!("/{}", "a".repeat(10_000));
        let message = route("GET", &path, "", &HeaderMap::new(), JobSpec::default())
            .unwrap_err()
            .to_string();
        assert!(message.len() < 200, "{}", message.len());
    }
}
