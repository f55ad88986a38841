//! An HTTP request, as any front door hands it over, turned into a typed
//! [`Route`] or a [`RequestError`] that says what the caller should change.

use crate::job::{EventId, EventIdError, INTERVAL_MS, JobSpec, Position, STEPS};
use crate::number::{NumberError, parse_in_range, quoted, shorten};
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
    #[error(
        "nothing is served at {}; use GET /events to stream progress or GET /health",
        quoted(path)
    )]
    NotFound { path: String },
    #[error("{} is not allowed on {}; use GET", quoted(method), quoted(path))]
    MethodNotAllowed { method: String, path: String },
    #[error(
        "unknown query parameter {}; /events takes steps ({min_steps} to {max_steps}), interval_ms ({min_ms} to {max_ms}) and lastEventId",
        quoted(name),
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
        "{from} {problem}; send back an id this stream sent (<jobId>/<steps>:<step> or <jobId>/<steps>:complete), or none to start a new job"
    )]
    InvalidLastEventId {
        from: IdSource,
        problem: EventIdError,
    },
    #[error("{from} is not ASCII; send back an id this stream sent, or none to start a new job")]
    NonAsciiLastEventId { from: IdSource },
    #[error(
        "{from} belongs to a job of {job_steps} steps, but the query asks for steps={asked}; resume with the query of the first request, or leave steps out"
    )]
    LastEventIdOfOtherJob {
        from: IdSource,
        job_steps: u32,
        asked: u32,
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
            | Self::LastEventIdOfOtherJob { .. } => "invalid_last_event_id",
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
            path: shorten(path),
        });
    }
    if !is_events {
        return Ok(Route::Health);
    }
    let query = EventsQuery::parse(query)?;
    let mut spec = JobSpec {
        steps: query.steps.unwrap_or(defaults.steps),
        interval: query
            .interval_ms
            .map_or(defaults.interval, |ms| Duration::from_millis(ms.into())),
    };
    let Some((from, id)) = last_event_id(headers, query.last_event_id.as_deref())? else {
        return Ok(Route::Events(EventsRequest { spec, resume: None }));
    };
    // The id names its job's steps: a resume continues that job, and a query
    // that asks for another one is a client mixing up two jobs.
    match query.steps {
        Some(asked) if asked != id.steps => {
            return Err(RequestError::LastEventIdOfOtherJob {
                from,
                job_steps: id.steps,
                asked,
            });
        }
        _ => spec.steps = id.steps,
    }
    Ok(match id.position {
        Position::Complete => Route::Finished,
        Position::Step(_) => Route::Events(EventsRequest {
            spec,
            resume: Some(id),
        }),
    })
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
    use serde_json::Value;
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

    /// Resuming job `JOB` of `steps` steps after `step`, at the default pace.
    fn resumed(steps: u32, step: u32) -> Route {
        Route::Events(EventsRequest {
            spec: JobSpec {
                steps,
                ..JobSpec::default()
            },
            resume: Some(EventId {
                job_id: Uuid::parse_str(JOB).unwrap(),
                steps,
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

    /// The table every front door's tests share (`tests/fixtures/refusals.json`).
    #[test]
    fn every_refusal_in_the_shared_table() {
        let table: Value =
            serde_json::from_str(include_str!("../tests/fixtures/refusals.json")).unwrap();
        let cases = table["cases"].as_array().unwrap();
        assert!(cases.len() > 20);
        for case in cases {
            let mut headers = HeaderMap::new();
            if let Some(id) = case["lastEventId"].as_str() {
                headers.insert("last-event-id", HeaderValue::from_str(id).unwrap());
            }
            let text = |field: &str| case[field].as_str().unwrap();
            let err = route(
                text("method"),
                text("path"),
                text("query"),
                &headers,
                JobSpec::default(),
            )
            .expect_err(&case.to_string());
            assert_eq!(
                (err.status().as_u16(), err.code()),
                (case["status"].as_u64().unwrap() as u16, text("error")),
                "{case}"
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
        assert_eq!(
            route("GET", "/nope", "", &HeaderMap::new(), JobSpec::default())
                .unwrap_err()
                .to_string(),
            "nothing is served at \"/nope\"; use GET /events to stream progress or GET /health"
        );
    }

    #[test]
    fn echoed_input_shows_control_characters_as_escapes_not_rust_syntax() {
        let message = events("a%00b=1").unwrap_err().to_string();
        assert!(
            message.starts_with("unknown query parameter \"a\\u0000b\";"),
            "{message}"
        );
        let message = events("steps=%F4%88%83%8D").unwrap_err().to_string();
        assert_eq!(
            message,
            "query parameter steps is \"\u{1080cd}\", not a whole number; expected one from 1 to 1000"
        );
        assert!(!message.contains("\\u{"), "{message}");
    }

    #[test]
    fn resumes_from_the_header_or_the_query() {
        let id = format!("{JOB}/11:3");
        assert_eq!(with_header(id.as_bytes(), ""), Ok(resumed(11, 3)));
        assert_eq!(events(&format!("lastEventId={id}")), Ok(resumed(11, 3)));
        assert_eq!(
            events(&format!("lastEventId={JOB}%2F11%3A11")),
            Ok(resumed(11, 11))
        );
        // The header wins: it is what a standard EventSource sends.
        assert_eq!(
            with_header(
                format!("{JOB}/11:4").as_bytes(),
                &format!("lastEventId={JOB}/11:3")
            ),
            Ok(resumed(11, 4))
        );
    }

    #[test]
    fn a_resume_continues_the_job_the_id_names() {
        // No steps in the query: the id's 20, not the default 11.
        assert_eq!(
            with_header(format!("{JOB}/20:12").as_bytes(), ""),
            Ok(resumed(20, 12))
        );
        assert_eq!(
            with_header(format!("{JOB}/20:12").as_bytes(), "steps=20"),
            Ok(resumed(20, 12))
        );
        let err = with_header(format!("{JOB}/20:12").as_bytes(), "steps=11").unwrap_err();
        assert_eq!(err.code(), "invalid_last_event_id");
        assert_eq!(
            err.to_string(),
            "the Last-Event-ID header belongs to a job of 20 steps, but the query asks for steps=11; resume with the query of the first request, or leave steps out"
        );
    }

    #[test]
    fn an_empty_id_starts_a_new_job() {
        assert_eq!(with_header(b"", ""), Ok(spec(11, 2000)));
        assert_eq!(events("lastEventId="), Ok(spec(11, 2000)));
        assert_eq!(
            with_header(b"", &format!("lastEventId={JOB}/11:2")),
            Ok(resumed(11, 2))
        );
    }

    #[test]
    fn resuming_after_complete_is_finished() {
        assert_eq!(
            with_header(format!("{JOB}/11:complete").as_bytes(), ""),
            Ok(Route::Finished)
        );
        assert_eq!(
            events(&format!("lastEventId={JOB}/4:complete")),
            Ok(Route::Finished)
        );
    }

    #[test]
    fn ids_that_are_not_ours_are_400_naming_where_they_came_from() {
        let long = format!("{JOB}/11:{}", "9".repeat(100));
        let cases: [&[u8]; 8] = [
            b"hello",
            b"42",
            b"6f1c2b7e-0d4e-4c1a-9d59-1b2f7d3c4a10/11:0",
            b"6f1c2b7e-0d4e-4c1a-9d59-1b2f7d3c4a10/11:abc",
            b"00000000-0000-0000-0000-000000000000/11:1",
            long.as_bytes(),
            "caf\u{e9}:1".as_bytes(),
            b"6f1c2b7e-0d4e-4c1a-9d59-1b2f7d3c4a10/11:1, 6f1c2b7e-0d4e-4c1a-9d59-1b2f7d3c4a10/11:2",
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
        let err = with_header(format!("{JOB}/11:12").as_bytes(), "").unwrap_err();
        assert_eq!(
            err.to_string(),
            "the Last-Event-ID header names step 12 of a job of 11 steps; send back an id this stream sent (<jobId>/<steps>:<step> or <jobId>/<steps>:complete), or none to start a new job"
        );
    }

    #[test]
    fn other_methods_are_405_and_lowercase_is_another_method() {
        for method in ["POST", "PUT", "DELETE", "HEAD", "OPTIONS", "get"] {
            let err =
                route(method, "/events", "", &HeaderMap::new(), JobSpec::default()).unwrap_err();
            assert_eq!(err.status(), StatusCode::METHOD_NOT_ALLOWED, "{method}");
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
