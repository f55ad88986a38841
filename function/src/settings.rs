//! The library's settings, read once at start-up from the environment, and
//! the [`Variable`] that defines each one (a source defines its own the same
//! way). A bad value stops the function before it takes any request, with a
//! message that names the variable and what it accepts.

use crate::number::{NumberError, parse_in_range};
use std::{ops::RangeInclusive, time::Duration};

/// One environment variable: the one place its name, range and default are
/// written. The CDK app reads the same facts from `cdk/function-settings.json`,
/// which a test keeps equal to these definitions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    /// The environment variable.
    pub name: &'static str,
    /// The CDK app's name for it (`-c sse:<key>`, and the prop).
    pub key: &'static str,
    /// The values it accepts.
    pub range: RangeInclusive<u32>,
    /// Its value when unset.
    pub default: u32,
    /// `ms`, `h`, or empty for a count.
    pub unit: &'static str,
    /// What it sets, as the README's configuration table says it.
    pub meaning: &'static str,
}

impl Variable {
    /// Its value through `lookup` (the environment, or a map in tests):
    /// the default when unset, an error naming it when out of range.
    pub fn read(&self, lookup: &impl Fn(&str) -> Option<String>) -> Result<u32, SettingsError> {
        match lookup(self.name) {
            None => Ok(self.default),
            Some(text) => parse_in_range(&text, &self.range).map_err(|problem| SettingsError {
                name: self.name,
                problem,
            }),
        }
    }

    /// Its value as milliseconds.
    pub fn read_ms(
        &self,
        lookup: &impl Fn(&str) -> Option<String>,
    ) -> Result<Duration, SettingsError> {
        self.read(lookup).map(|ms| Duration::from_millis(ms.into()))
    }

    fn default_ms(&self) -> Duration {
        Duration::from_millis(self.default.into())
    }
}

/// `SSE_RETRY_MS`: the reconnection hint sent to clients.
pub const RETRY_MS: Variable = Variable {
    name: "SSE_RETRY_MS",
    key: "retryMs",
    range: 100..=600_000,
    default: 5_000,
    unit: "ms",
    meaning: "reconnection time sent to clients (`retry`)",
};
/// `SSE_WINDOW_MS`: the longest one response lasts.
pub const WINDOW_MS: Variable = Variable {
    name: "SSE_WINDOW_MS",
    key: "windowMs",
    range: 1_000..=900_000,
    default: 120_000,
    unit: "ms",
    meaning: "longest one response lasts before it asks the client to reconnect",
};
/// `SSE_DEADLINE_MARGIN_MS`: how long before the deadline a response ends.
pub const DEADLINE_MARGIN_MS: Variable = Variable {
    name: "SSE_DEADLINE_MARGIN_MS",
    key: "deadlineMarginMs",
    range: 100..=60_000,
    default: 2_000,
    unit: "ms",
    meaning: "a response ends at least this long before the invocation's deadline",
};
/// `SSE_HEARTBEAT_MS`: idle time before a keep-alive comment.
pub const HEARTBEAT_MS: Variable = Variable {
    name: "SSE_HEARTBEAT_MS",
    key: "heartbeatMs",
    range: 1_000..=300_000,
    default: 15_000,
    unit: "ms",
    meaning: "idle time after which a `: keep-alive` comment is sent",
};
/// `SSE_BATCH_WINDOW_MS`: how long an ALB (buffered) answer collects events.
pub const BATCH_WINDOW_MS: Variable = Variable {
    name: "SSE_BATCH_WINDOW_MS",
    key: "batchWindowMs",
    range: 1_000..=60_000,
    default: 5_000,
    unit: "ms",
    meaning: "how long an ALB (buffered) answer collects events; keep it under the ALB's idle timeout",
};

/// Every variable of the library, in the order the documentation lists them.
// Read by the test that generates cdk/function-settings.json.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) const VARIABLES: [&Variable; 5] = [
    &RETRY_MS,
    &WINDOW_MS,
    &DEADLINE_MARGIN_MS,
    &HEARTBEAT_MS,
    &BATCH_WINDOW_MS,
];

/// How every response is framed and timed, whatever its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Sent as `retry` on the first event of every response.
    pub retry: Duration,
    /// The longest a response may last: it bounds what an abandoned stream costs.
    pub window: Duration,
    /// A response ends this long before the invocation's deadline at the latest.
    pub deadline_margin: Duration,
    /// A comment is sent after this long without an event.
    pub heartbeat: Duration,
    /// How long a buffered (ALB) response collects events before it is sent.
    pub batch_window: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            retry: RETRY_MS.default_ms(),
            window: WINDOW_MS.default_ms(),
            deadline_margin: DEADLINE_MARGIN_MS.default_ms(),
            heartbeat: HEARTBEAT_MS.default_ms(),
            batch_window: BATCH_WINDOW_MS.default_ms(),
        }
    }
}

/// An environment variable with a value the function cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("environment variable {name} {problem}")]
pub struct SettingsError {
    /// The variable.
    pub name: &'static str,
    /// What is wrong with its value, and what it accepts.
    pub problem: NumberError,
}

impl Settings {
    /// Reads the process environment; unset variables keep their defaults.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        Ok(Self {
            retry: RETRY_MS.read_ms(&lookup)?,
            window: WINDOW_MS.read_ms(&lookup)?,
            deadline_margin: DEADLINE_MARGIN_MS.read_ms(&lookup)?,
            heartbeat: HEARTBEAT_MS.read_ms(&lookup)?,
            batch_window: BATCH_WINDOW_MS.read_ms(&lookup)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    pub(crate) fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| vars.get(name).cloned()
    }

    fn from(vars: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        Settings::from_lookup(lookup(vars))
    }

    #[test]
    fn defaults() {
        let settings = from(&[]).unwrap();
        assert_eq!(settings.retry, Duration::from_secs(5));
        assert_eq!(settings.window, Duration::from_secs(120));
        assert_eq!(settings.deadline_margin, Duration::from_secs(2));
        assert_eq!(settings.heartbeat, Duration::from_secs(15));
        assert_eq!(settings.batch_window, Duration::from_secs(5));
        assert_eq!(settings, Settings::default());
    }

    #[test]
    fn reads_every_variable() {
        let settings = from(&[
            ("SSE_RETRY_MS", "1500"),
            ("SSE_WINDOW_MS", "30000"),
            ("SSE_DEADLINE_MARGIN_MS", "500"),
            ("SSE_HEARTBEAT_MS", "1000"),
            ("SSE_BATCH_WINDOW_MS", "2500"),
        ])
        .unwrap();
        assert_eq!(settings.window, Duration::from_secs(30));
        assert_eq!(settings.deadline_margin, Duration::from_millis(500));
        assert_eq!(settings.heartbeat, Duration::from_secs(1));
        assert_eq!(settings.batch_window, Duration::from_millis(2500));
        assert_eq!(settings.retry, Duration::from_millis(1500));
    }

    #[test]
    fn a_bad_value_names_the_variable_and_the_range() {
        let err = from(&[("SSE_WINDOW_MS", "5")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment variable SSE_WINDOW_MS is 5, outside the allowed range 1000 to 900000"
        );
        for variable in VARIABLES {
            assert_eq!(
                from(&[(variable.name, "2s")]).unwrap_err().name,
                variable.name
            );
            assert_eq!(
                from(&[(variable.name, "")]).unwrap_err().name,
                variable.name
            );
            assert_eq!(
                from(&[(variable.name, "0")]).unwrap_err().name,
                variable.name
            );
        }
    }

    /// The CDK app validates and documents every variable the function reads
    /// from `cdk/function-settings.json`: it must say what the code says.
    #[test]
    fn the_cdk_app_reads_the_same_settings() {
        let scoped = VARIABLES
            .iter()
            .map(|v| ("stream", *v))
            .chain(crate::sources::job::VARIABLES.iter().map(|v| ("job", *v)))
            .chain(
                crate::sources::durable::VARIABLES
                    .iter()
                    .map(|v| ("durable", *v)),
            )
            .chain([("publish", &crate::durable::RETENTION_HOURS)]);
        let variables: Vec<serde_json::Value> = scoped
            .map(|(scope, v)| {
                serde_json::json!({
                    "variable": v.name,
                    "key": v.key,
                    "scope": scope,
                    "min": v.range.start(),
                    "max": v.range.end(),
                    "default": v.default,
                    "unit": v.unit,
                    "meaning": v.meaning,
                })
            })
            .collect();
        use crate::durable::{self, StreamName, item};
        let durable_layout = serde_json::json!({
            "tableVariable": durable::TABLE_NAME_VARIABLE,
            "partitionKey": item::STREAM,
            "sortKey": item::SEQ,
            "timeToLiveAttribute": item::EXPIRES,
            "tableName": {
                "minLength": durable::TABLE_NAME_LEN.start(),
                "maxLength": durable::TABLE_NAME_LEN.end(),
                "punctuation": durable::TABLE_NAME_PUNCTUATION,
            },
            "streamName": {
                "minLength": 1,
                "maxLength": StreamName::MAX_LEN,
                "punctuation": StreamName::PUNCTUATION,
            },
            "maxDataBytes": durable::MAX_DATA_BYTES,
        });
        use crate::metrics::{self, dimension, name};
        let metrics_facts = serde_json::json!({
            "namespaceVariable": metrics::NAMESPACE_VARIABLE,
            "switchVariable": metrics::SWITCH_VARIABLE,
            "defaultNamespace": metrics::DEFAULT_NAMESPACE,
            "names": {
                "streamsStarted": name::STREAMS_STARTED,
                "streamsEnded": name::STREAMS_ENDED,
                "eventsSent": name::EVENTS_SENT,
                "bytesSent": name::BYTES_SENT,
                "timeToFirstEvent": name::TIME_TO_FIRST_EVENT,
                "resumes": name::RESUMES,
                "sourceErrors": name::SOURCE_ERRORS,
                "storeReads": name::STORE_READS,
                "publishLag": name::PUBLISH_LAG,
                "refusedRequests": name::REFUSED_REQUESTS,
            },
            "endReasons": crate::stream::End::ALL.map(crate::stream::End::as_str),
            "dimensions": {
                "front": dimension::FRONT,
                "route": dimension::ROUTE,
                "endReason": dimension::END_REASON,
                "errorCode": dimension::ERROR_CODE,
            },
        });
        let page = serde_json::json!({
            "paths": crate::web::ASSETS.map(|asset| asset.path),
        });
        let json = serde_json::json!({
            "page": page,
            "metrics": metrics_facts,
            "durable": durable_layout,
            "about": "Generated from function/src/settings.rs (scope stream), function/src/sources/job.rs (scope job) function/src/sources/durable.rs (scope durable) and function/src/durable/publish.rs (scope publish), the durable streams' layout from function/src/durable/ and the metrics' names from function/src/metrics.rs and the page's paths from function/src/web.rs, by the test `the_cdk_app_reads_the_same_settings`; do not edit. Regenerate with: LAMBDA_SSE_WRITE_SETTINGS=1 cargo test -p lambda-sse --lib settings",
            "variables": variables,
        });
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../cdk/function-settings.json");
        let expected = format!("{json:#}\n");
        if std::env::var_os("LAMBDA_SSE_WRITE_SETTINGS").is_some() {
            std::fs::write(path, &expected).unwrap();
        }
        let actual = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            actual == expected,
            "{path} is out of date; regenerate it with\n  LAMBDA_SSE_WRITE_SETTINGS=1 cargo test -p lambda-sse --lib settings\nexpected:\n{expected}"
        );
    }
}
