//! Paths to sources: exact segments and `{name}` parameters, `GET` only,
//! 404 for a path nothing is mounted at and 405 (with `allow: GET`) for
//! another method.

use crate::number::{quoted, shorten};
use crate::source::{Refusal, Source};
use crate::web::{ASSETS, Asset};
use http::{Method, StatusCode};
use std::{collections::HashMap, fmt, sync::Arc};

/// The methods every route accepts; sent as `allow` with a 405.
pub(crate) const ALLOWED_METHODS: &str = "GET";

/// The sources a function serves, by path.
///
/// ```
/// # use lambda_sse::{Router, Source, Request, Open, OpenFuture};
/// # struct Feed;
/// # impl Source for Feed {
/// #     fn open<'a>(&'a self, _: &'a Request, _: Option<&'a str>) -> OpenFuture<'a> {
/// #         Box::pin(async { Open::Finished })
/// #     }
/// # }
/// let router = Router::new()
///     .route("/feeds/{name}", Feed)
///     .health("/health");
/// ```
#[derive(Clone, Default)]
pub struct Router {
    routes: Vec<Route>,
}

#[derive(Clone)]
struct Route {
    pattern: String,
    segments: Vec<Segment>,
    target: Target,
}

#[derive(Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
}

/// What a path leads to.
#[derive(Clone)]
pub(crate) enum Target {
    Health,
    Asset(&'static Asset),
    Source(Arc<dyn Source>),
}

impl fmt::Debug for Router {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.routes.iter().map(|r| &r.pattern))
            .finish()
    }
}

impl Router {
    /// A router with nothing mounted: every path is 404.
    pub fn new() -> Self {
        Self::default()
    }

    /// Mounts `source` at `pattern`: segments separated by `/`, each either
    /// literal or a `{name}` parameter that matches one non-empty segment
    /// (read with [`crate::Request::param`], percent-decoded).
    ///
    /// # Panics
    /// On a pattern that is not `/`-separated segments, has an empty or
    /// repeated parameter name, or matches the same paths as one mounted
    /// before (parameter names aside): a mistake in the
    /// program, found when it starts, never by a request.
    pub fn route(self, pattern: &str, source: impl Source) -> Self {
        self.mount(pattern, Target::Source(Arc::new(source)))
    }

    /// Mounts a liveness answer at `path`: `200 {"status":"ok","version":...}`.
    ///
    /// # Panics
    /// As [`Router::route`].
    pub fn health(self, path: &str) -> Self {
        self.mount(path, Target::Health)
    }

    /// Mounts the page that watches a stream at `/`, with the scripts it
    /// loads beside it (`/page.js`, `/sse-client.js`, `/sse-parser.js`):
    /// see [`crate::web`].
    ///
    /// # Panics
    /// As [`Router::route`], when one of those paths is already mounted.
    pub fn watch_page(self) -> Self {
        ASSETS.iter().fold(self, |router, asset| {
            router.mount(asset.path, Target::Asset(asset))
        })
    }

    fn mount(mut self, pattern: &str, target: Target) -> Self {
        let segments =
            parse_pattern(pattern).unwrap_or_else(|problem| panic!("route {pattern:?}: {problem}"));
        // Parameters match any segment, whatever their names: two patterns of
        // the same shape would leave the second unreachable.
        let shape = |segments: &[Segment]| -> Vec<Option<String>> {
            segments
                .iter()
                .map(|s| match s {
                    Segment::Literal(text) => Some(text.clone()),
                    Segment::Param(_) => None,
                })
                .collect()
        };
        assert!(
            !self
                .routes
                .iter()
                .any(|r| shape(&r.segments) == shape(&segments)),
            "route {pattern:?} matches the same paths as one mounted before"
        );
        self.routes.push(Route {
            pattern: pattern.to_owned(),
            segments,
            target,
        });
        self
    }

    /// What `path` leads to, with its parameters, or the 404 or 405.
    pub(crate) fn find(
        &self,
        method: &Method,
        path: &str,
    ) -> Result<(Target, HashMap<String, String>, &str), Refusal> {
        let found = self.routes.iter().find_map(|route| {
            matches(&route.segments, path)
                .map(|params| (route.target.clone(), params, route.pattern.as_str()))
        });
        let Some(found) = found else {
            // The page's scripts are not for a person to GET; the page is.
            let served: Vec<&str> = self
                .routes
                .iter()
                .filter(|r| !matches!(r.target, Target::Asset(asset) if asset.path != "/"))
                .map(|r| r.pattern.as_str())
                .collect();
            return Err(Refusal::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!(
                    "nothing is served at {}; GET one of {}",
                    quoted(&shorten(path)),
                    if served.is_empty() {
                        "(nothing)".to_owned()
                    } else {
                        served.join(", ")
                    }
                ),
            ));
        };
        if method != Method::GET {
            return Err(Refusal::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                format!(
                    "{} is not allowed on {}; use GET",
                    quoted(&shorten(method.as_str())),
                    quoted(&shorten(path))
                ),
            ));
        }
        Ok(found)
    }
}

fn parse_pattern(pattern: &str) -> Result<Vec<Segment>, &'static str> {
    let rest = pattern.strip_prefix('/').ok_or("must start with /")?;
    if rest.is_empty() {
        return Ok(Vec::new());
    }
    let mut names = Vec::new();
    rest.split('/')
        .map(|segment| {
            if segment.is_empty() {
                return Err("has an empty segment");
            }
            match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) if name.is_empty() || name.contains(['{', '}']) => {
                    Err("has a parameter without a name")
                }
                Some(name) if names.contains(&name) => Err("names a parameter twice"),
                Some(name) => {
                    names.push(name);
                    Ok(Segment::Param(name.to_owned()))
                }
                None if segment.contains(['{', '}']) => Err("has a brace outside a {name} segment"),
                None => Ok(Segment::Literal(segment.to_owned())),
            }
        })
        .collect()
}

/// The parameters, when `path` matches `segments` exactly.
fn matches(segments: &[Segment], path: &str) -> Option<HashMap<String, String>> {
    let rest = path.strip_prefix('/')?;
    let parts: Vec<&str> = if rest.is_empty() {
        Vec::new()
    } else {
        rest.split('/').collect()
    };
    if parts.len() != segments.len() {
        return None;
    }
    let mut params = HashMap::new();
    for (segment, part) in segments.iter().zip(parts) {
        match segment {
            Segment::Literal(text) if text == part => {}
            Segment::Param(name) if !part.is_empty() => {
                let value = percent_encoding::percent_decode_str(part)
                    .decode_utf8()
                    .ok()?;
                params.insert(name.clone(), value.into_owned());
            }
            _ => return None,
        }
    }
    Some(params)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::Request;
    use crate::source::{Open, OpenFuture};

    struct Nothing;

    impl Source for Nothing {
        fn open<'a>(&'a self, _: &'a Request, _: Option<&'a str>) -> OpenFuture<'a> {
            Box::pin(async { Open::Finished })
        }
    }

    fn router() -> Router {
        Router::new()
            .route("/events", Nothing)
            .route("/streams/{name}", Nothing)
            .health("/health")
    }

    fn status(method: Method, path: &str) -> Result<HashMap<String, String>, (u16, String)> {
        router()
            .find(&method, path)
            .map(|(_, params, _)| params)
            .map_err(|r| (r.status().as_u16(), r.code().to_owned()))
    }

    #[test]
    fn matches_exact_paths_and_parameters() {
        assert_eq!(status(Method::GET, "/events"), Ok(HashMap::new()));
        assert_eq!(status(Method::GET, "/health"), Ok(HashMap::new()));
        let params = status(Method::GET, "/streams/job%2D42").unwrap();
        assert_eq!(params["name"], "job-42", "percent-decoded");
    }

    #[test]
    fn anything_else_is_404_before_the_method_is_checked() {
        for path in [
            "/",
            "",
            "/events/",
            "/EVENTS",
            "/streams",
            "/streams/",
            "/streams/a/b",
            "/streams/%FF",
        ] {
            assert_eq!(
                status(Method::GET, path),
                Err((404, "not_found".into())),
                "{path:?}"
            );
        }
        assert_eq!(
            status(Method::POST, "/nope"),
            Err((404, "not_found".into()))
        );
        let message = router()
            .find(&Method::GET, "/nope")
            .err()
            .unwrap()
            .message()
            .to_owned();
        assert_eq!(
            message,
            "nothing is served at \"/nope\"; GET one of /events, /streams/{name}, /health"
        );
    }

    #[test]
    fn other_methods_are_405() {
        for method in [
            Method::POST,
            Method::HEAD,
            Method::OPTIONS,
            Method::from_bytes(b"get").unwrap(),
        ] {
            assert_eq!(
                status(method.clone(), "/events"),
                Err((405, "method_not_allowed".into())),
                "{method}"
            );
        }
    }

    #[test]
    fn bad_patterns_are_refused_when_mounted() {
        for pattern in ["events", "/a//b", "/{}", "/{a}/{a}", "/a{b}", "/a/"] {
            let result = std::panic::catch_unwind(|| Router::new().route(pattern, Nothing));
            assert!(result.is_err(), "{pattern:?}");
        }
        let twice = std::panic::catch_unwind(|| {
            Router::new()
                .route("/a/{x}", Nothing)
                .route("/a/{y}", Nothing)
        });
        assert!(twice.is_err());
    }
}
