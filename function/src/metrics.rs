//! CloudWatch metrics in the Embedded Metric Format: one JSON line on
//! standard output per response (and per refused request), which CloudWatch
//! Logs turns into metrics. No API call, nothing on the stream's path: the
//! line is written when the response has ended.
//!
//! Written by hand rather than with an EMF crate: the format is one JSON
//! object (`_aws.CloudWatchMetrics` with namespace, dimension sets and
//! metric definitions, values at the top level), and the crates that write
//! it bring their own logging setup, which would fight the one the runtime
//! uses. The tests check every line against the format's rules.

use serde_json::{Map, Value, json};
use std::time::{SystemTime, UNIX_EPOCH};

/// `SSE_METRICS_NAMESPACE`: where the metrics go.
pub const NAMESPACE_VARIABLE: &str = "SSE_METRICS_NAMESPACE";
/// `SSE_METRICS`: `on` (default) or `off`.
pub const SWITCH_VARIABLE: &str = "SSE_METRICS";
/// The namespace when `SSE_METRICS_NAMESPACE` is unset.
pub const DEFAULT_NAMESPACE: &str = "LambdaSse";

/// The metrics' names, as dashboards and alarms use them.
pub(crate) mod name {
    pub const STREAMS_STARTED: &str = "StreamsStarted";
    pub const STREAMS_ENDED: &str = "StreamsEnded";
    pub const EVENTS_SENT: &str = "EventsSent";
    pub const BYTES_SENT: &str = "BytesSent";
    pub const TIME_TO_FIRST_EVENT: &str = "TimeToFirstEvent";
    pub const RESUMES: &str = "Resumes";
    pub const SOURCE_ERRORS: &str = "SourceErrors";
    pub const STORE_READS: &str = "StoreReads";
    pub const PUBLISH_LAG: &str = "PublishLag";
    pub const REFUSED_REQUESTS: &str = "RefusedRequests";
}

/// The dimensions: few values each, never an id or a stream's name.
pub(crate) mod dimension {
    pub const FRONT: &str = "Front";
    pub const ROUTE: &str = "Route";
    pub const END_REASON: &str = "EndReason";
    pub const ERROR_CODE: &str = "ErrorCode";
}

/// Whether and where metrics are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metrics {
    namespace: Option<&'static str>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::to(DEFAULT_NAMESPACE)
    }
}

/// A metrics setting the function cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetricsError {
    /// `SSE_METRICS` other than `on` or `off`.
    #[error("environment variable SSE_METRICS is {0}; use on or off")]
    Switch(String),
    /// Not a CloudWatch namespace.
    #[error(
        "environment variable SSE_METRICS_NAMESPACE is {0}; use 1 to 255 of A-Z a-z 0-9 . - _ / # : and space, not starting with AWS/"
    )]
    Namespace(String),
}

impl Metrics {
    /// Metrics into `namespace`.
    pub const fn to(namespace: &'static str) -> Self {
        Self {
            namespace: Some(namespace),
        }
    }

    /// No metrics.
    pub const fn off() -> Self {
        Self { namespace: None }
    }

    /// As `SSE_METRICS` and `SSE_METRICS_NAMESPACE` say.
    pub fn from_env() -> Result<Self, MetricsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// As `lookup` says (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, MetricsError> {
        match lookup(SWITCH_VARIABLE).as_deref() {
            None | Some("on") => {}
            Some("off") => return Ok(Self::off()),
            Some(other) => {
                return Err(MetricsError::Switch(crate::number::quoted(
                    &crate::number::shorten(other),
                )));
            }
        }
        let Some(namespace) = lookup(NAMESPACE_VARIABLE) else {
            return Ok(Self::default());
        };
        let allowed = |c: char| c.is_ascii_alphanumeric() || ".-_/#: ".contains(c);
        if namespace.is_empty()
            || namespace.len() > 255
            || !namespace.chars().all(allowed)
            || namespace.starts_with("AWS/")
        {
            return Err(MetricsError::Namespace(crate::number::quoted(
                &crate::number::shorten(&namespace),
            )));
        }
        // Read once per process: kept for its life, so settings stay `Copy`.
        Ok(Self::to(Box::leak(namespace.into_boxed_str())))
    }

    /// The namespace, when metrics are on.
    pub fn namespace(&self) -> Option<&'static str> {
        self.namespace
    }
}

/// What a durable stream's tail did during one response: reads of the
/// store, and each sent event's time from publish to send.
#[derive(Debug, Default)]
pub(crate) struct StoreStats {
    pub reads: std::sync::atomic::AtomicU32,
    pub lags_ms: std::sync::Mutex<Vec<f64>>,
}

impl StoreStats {
    pub fn read(&self) {
        self.reads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn sent(&self, published_ms: u64) {
        if let Ok(mut lags) = self.lags_ms.lock() {
            // EMF takes at most 100 values a metric: keep the first 100.
            if lags.len() < 100 {
                lags.push(now_ms().saturating_sub(published_ms) as f64);
            }
        }
    }
}

/// What one response did, for its metrics line.
#[derive(Debug, Clone, Default)]
pub(crate) struct ResponseFigures {
    pub front: &'static str,
    pub route: String,
    pub resumed: bool,
    pub events: u32,
    pub bytes: u64,
    pub first_event_ms: Option<f64>,
    pub source_failed: bool,
    pub store_reads: Option<u32>,
    pub publish_lags_ms: Vec<f64>,
}

impl Metrics {
    /// Writes the line of a response that ended for `end_reason`.
    pub(crate) fn response(&self, figures: &ResponseFigures, end_reason: &str) {
        if let Some(line) = self.response_line(figures, end_reason, now_ms()) {
            emit(line);
        }
    }

    /// Writes the line of a refused request.
    pub(crate) fn refused(&self, code: &str) {
        if let Some(line) = self.refused_line(code, now_ms()) {
            emit(line);
        }
    }

    pub(crate) fn response_line(
        &self,
        figures: &ResponseFigures,
        end_reason: &str,
        timestamp: u64,
    ) -> Option<String> {
        let namespace = self.namespace?;
        let mut values = Map::new();
        let mut per_response = vec![
            (name::STREAMS_STARTED, "Count", json!(1)),
            (name::EVENTS_SENT, "Count", json!(figures.events)),
            (name::BYTES_SENT, "Bytes", json!(figures.bytes)),
            (name::RESUMES, "Count", json!(u8::from(figures.resumed))),
            (
                name::SOURCE_ERRORS,
                "Count",
                json!(u8::from(figures.source_failed)),
            ),
        ];
        if let Some(ms) = figures.first_event_ms {
            per_response.push((name::TIME_TO_FIRST_EVENT, "Milliseconds", json!(ms)));
        }
        if let Some(reads) = figures.store_reads {
            per_response.push((name::STORE_READS, "Count", json!(reads)));
        }
        if !figures.publish_lags_ms.is_empty() {
            // EMF takes an array: each value counts in the statistics.
            per_response.push((
                name::PUBLISH_LAG,
                "Milliseconds",
                json!(figures.publish_lags_ms),
            ));
        }
        let definitions = |metrics: &[(&str, &str, Value)]| -> Vec<Value> {
            metrics
                .iter()
                .map(|(name, unit, _)| json!({"Name": name, "Unit": unit}))
                .collect()
        };
        let directives = json!([
            {
                "Namespace": namespace,
                "Dimensions": [[], [dimension::FRONT, dimension::ROUTE]],
                "Metrics": definitions(&per_response),
            },
            {
                "Namespace": namespace,
                "Dimensions": [[], [dimension::END_REASON]],
                "Metrics": [{"Name": name::STREAMS_ENDED, "Unit": "Count"}],
            },
        ]);
        for (name, _, value) in per_response {
            values.insert(name.to_owned(), value);
        }
        values.insert(name::STREAMS_ENDED.to_owned(), json!(1));
        values.insert(dimension::FRONT.to_owned(), json!(figures.front));
        values.insert(dimension::ROUTE.to_owned(), json!(figures.route));
        values.insert(dimension::END_REASON.to_owned(), json!(end_reason));
        Some(line(timestamp, directives, values))
    }

    pub(crate) fn refused_line(&self, code: &str, timestamp: u64) -> Option<String> {
        let namespace = self.namespace?;
        let directives = json!([{
            "Namespace": namespace,
            "Dimensions": [[], [dimension::ERROR_CODE]],
            "Metrics": [{"Name": name::REFUSED_REQUESTS, "Unit": "Count"}],
        }]);
        let mut values = Map::new();
        values.insert(name::REFUSED_REQUESTS.to_owned(), json!(1));
        values.insert(dimension::ERROR_CODE.to_owned(), json!(code));
        Some(line(timestamp, directives, values))
    }
}

/// One line on standard output, where CloudWatch Logs finds it (the
/// runtime's own log lines go there too, each a line of its own).
fn emit(line: String) {
    #[cfg(test)]
    tests::CAPTURED.with(|lines| lines.borrow_mut().push(line.clone()));
    println!("{line}");
}

fn line(timestamp: u64, directives: Value, mut values: Map<String, Value>) -> String {
    values.insert(
        "_aws".to_owned(),
        json!({"Timestamp": timestamp, "CloudWatchMetrics": directives}),
    );
    Value::Object(values).to_string()
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    thread_local! {
        /// The lines written on this thread, for tests of what writes them.
        pub(crate) static CAPTURED: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
    }

    /// The lines written on this thread so far, taken.
    pub(crate) fn captured() -> Vec<String> {
        CAPTURED.with(|lines| std::mem::take(&mut *lines.borrow_mut()))
    }

    /// Checks `line` against the Embedded Metric Format's rules: a JSON
    /// object with `_aws.Timestamp` and `_aws.CloudWatchMetrics`, each
    /// directive's namespace, dimension sets whose keys are top-level
    /// strings (at most 30 each), and metric definitions whose values are
    /// top-level numbers or arrays of numbers (at most 100 each). Returns
    /// the object.
    pub(crate) fn valid_emf(line: &str) -> Map<String, Value> {
        let value: Value = serde_json::from_str(line).expect("one JSON object per line");
        let object = value.as_object().expect("an object").clone();
        let aws = object["_aws"].as_object().expect("_aws");
        assert!(aws["Timestamp"].as_u64().is_some(), "Timestamp in ms");
        let directives = aws["CloudWatchMetrics"].as_array().expect("directives");
        assert!(!directives.is_empty());
        for directive in directives {
            let namespace = directive["Namespace"].as_str().expect("Namespace");
            assert!(!namespace.is_empty() && namespace.len() <= 255);
            for set in directive["Dimensions"].as_array().expect("Dimensions") {
                let set = set.as_array().expect("a dimension set");
                assert!(set.len() <= 30);
                for key in set {
                    let key = key.as_str().expect("a dimension name");
                    assert!(
                        object[key].is_string(),
                        "dimension {key} is a top-level string"
                    );
                }
            }
            let metrics = directive["Metrics"].as_array().expect("Metrics");
            assert!(!metrics.is_empty() && metrics.len() <= 100);
            for metric in metrics {
                let name = metric["Name"].as_str().expect("Name");
                let value = &object[name];
                let numeric = value.is_number()
                    || value.as_array().is_some_and(|a| {
                        !a.is_empty() && a.len() <= 100 && a.iter().all(Value::is_number)
                    });
                assert!(numeric, "metric {name} has a numeric value: {value}");
                assert!(metric["Unit"].is_string(), "{name} has a unit");
            }
        }
        object
    }

    #[test]
    fn a_response_line_is_valid_emf_and_holds_its_figures() {
        let figures = ResponseFigures {
            front: "FunctionUrl",
            route: "/streams/{name}".into(),
            resumed: true,
            events: 3,
            bytes: 420,
            first_event_ms: Some(1.5),
            source_failed: false,
            store_reads: Some(7),
            publish_lags_ms: vec![12.0, 30.5],
        };
        let line = Metrics::default()
            .response_line(&figures, "window", 1_000)
            .unwrap();
        let object = valid_emf(&line);
        assert_eq!(object["EventsSent"], 3);
        assert_eq!(object["Resumes"], 1);
        assert_eq!(object["StoreReads"], 7);
        assert_eq!(object["PublishLag"], json!([12.0, 30.5]));
        assert_eq!(object["EndReason"], "window");
        assert_eq!(object["Route"], "/streams/{name}");
        assert_eq!(
            object["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "LambdaSse"
        );
        // Without store figures, no store metrics are defined.
        let plain = ResponseFigures {
            store_reads: None,
            publish_lags_ms: vec![],
            first_event_ms: None,
            ..figures
        };
        let object = valid_emf(
            &Metrics::default()
                .response_line(&plain, "completed", 1)
                .unwrap(),
        );
        assert!(!object.contains_key("StoreReads") && !object.contains_key("TimeToFirstEvent"));
    }

    #[test]
    fn settings_are_read_and_checked() {
        let from = |vars: &[(&str, &str)]| {
            let vars: std::collections::HashMap<String, String> = vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            Metrics::from_lookup(move |name| vars.get(name).cloned())
        };
        assert_eq!(from(&[]), Ok(Metrics::default()));
        assert_eq!(from(&[("SSE_METRICS", "off")]), Ok(Metrics::off()));
        assert_eq!(
            from(&[("SSE_METRICS_NAMESPACE", "Team/Feeds")])
                .unwrap()
                .namespace(),
            Some("Team/Feeds")
        );
        assert!(matches!(
            from(&[("SSE_METRICS", "yes")]),
            Err(MetricsError::Switch(_))
        ));
        for bad in ["", "AWS/Lambda", "a\nb", &"x".repeat(256)] {
            assert!(
                matches!(
                    from(&[("SSE_METRICS_NAMESPACE", bad)]),
                    Err(MetricsError::Namespace(_))
                ),
                "{bad:?}"
            );
        }
        assert_eq!(
            Metrics::off().response_line(&ResponseFigures::default(), "completed", 1),
            None
        );
    }
}
