//! One HTTP request, whichever front door it came through, as a source sees
//! it: method, path and its parameters, query, headers, the invocation's
//! deadline and the caller the front door established.

use http::{HeaderMap, Method};
use std::{borrow::Cow, collections::HashMap, time::Duration};

/// Who sent the request, as the front door established it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Caller {
    /// No identity: a public Function URL, or an ALB without login.
    Anonymous,
    /// An IAM principal that signed the request (an `AWS_IAM` Function URL).
    Iam {
        /// The caller's 12-digit account.
        account_id: String,
        /// The caller's ARN (a user, or an assumed role's session).
        arn: String,
    },
    /// A caller an API Gateway authorizer accepted (a REST API method with a
    /// Cognito user pool or a Lambda authorizer).
    Authorized {
        /// Who: a Cognito token's `sub`, or a Lambda authorizer's `principalId`.
        principal_id: Option<String>,
        /// A Cognito token's claims, or a Lambda authorizer's context, as text.
        claims: std::collections::BTreeMap<String, String>,
    },
}

/// An HTTP request as a source sees it.
#[derive(Debug, Clone)]
pub struct Request {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) query: String,
    pub(crate) headers: HeaderMap,
    pub(crate) params: HashMap<String, String>,
    /// When the invocation must have returned, on tokio's clock.
    pub(crate) deadline: Option<tokio::time::Instant>,
    pub(crate) caller: Caller,
}

impl Request {
    /// A request, for tests of a source: `GET`, no headers, no deadline, anonymous.
    pub fn get(path: &str, query: &str) -> Self {
        Self {
            method: Method::GET,
            path: path.to_owned(),
            query: query.to_owned(),
            headers: HeaderMap::new(),
            params: HashMap::new(),
            deadline: None,
            caller: Caller::Anonymous,
        }
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The path, as sent (`/streams/job-42`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// A path parameter of the route that matched (`name` for `/streams/{name}`).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    /// The raw query string, still percent-encoded, without `?`.
    pub fn raw_query(&self) -> &str {
        &self.query
    }

    /// The query's name-value pairs, decoded (`+` is a space), in order,
    /// repeats included; empty pieces (`a=1&&b=2`) are skipped.
    pub fn query_pairs(&self) -> impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> {
        form_urlencoded::parse(self.query.as_bytes())
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// How long the invocation may still run from now, when known.
    /// Responses already end before it; a source may use it to bound its own work.
    pub fn until_deadline(&self) -> Option<Duration> {
        self.deadline
            .map(|deadline| deadline.saturating_duration_since(tokio::time::Instant::now()))
    }

    /// Who sent the request.
    pub fn caller(&self) -> &Caller {
        &self.caller
    }

    /// Sets a header (for tests of a source).
    pub fn with_header(mut self, name: http::HeaderName, value: http::HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }

    /// Sets a path parameter (for tests of a source).
    pub fn with_param(mut self, name: &str, value: &str) -> Self {
        self.params.insert(name.to_owned(), value.to_owned());
        self
    }

    /// Sets the caller (for tests of a source).
    pub fn with_caller(mut self, caller: Caller) -> Self {
        self.caller = caller;
        self
    }
}
