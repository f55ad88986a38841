//! The function's settings, read once at start-up from its environment.
//! A bad value stops the function before it takes any request, with a message
//! that names the variable and what it accepts.

use crate::job::{DEFAULT_INTERVAL_MS, DEFAULT_STEPS, INTERVAL_MS, JobSpec, STEPS};
use crate::number::{NumberError, parse_in_range};
use std::{ops::RangeInclusive, time::Duration};

/// One environment variable the function reads: the one place its name,
/// range and default are written. The CDK app reads the same facts from
/// `cdk/function-settings.json`, which a test keeps equal to [`ALL`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    /// The environment variable.
    pub name: &'static str,
    /// The CDK app's name for it (`stream.<key>` prop, `-c sse:<key>`).
    pub key: &'static str,
    /// The values it accepts.
    pub range: RangeInclusive<u32>,
    /// Its value when unset.
    pub default: u32,
    /// `ms`, or empty for a count.
    pub unit: &'static str,
    /// What it sets, as the README's configuration table says it.
    pub meaning: &'static str,
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
/// `SSE_JOB_STEPS`: a job's steps when the request names none.
pub const JOB_STEPS: Variable = Variable {
    name: "SSE_JOB_STEPS",
    key: "jobSteps",
    range: STEPS,
    default: DEFAULT_STEPS,
    unit: "",
    meaning: "steps of a job when the request gives no `steps`",
};
/// `SSE_JOB_INTERVAL_MS`: time between steps when the request names none.
pub const JOB_INTERVAL_MS: Variable = Variable {
    name: "SSE_JOB_INTERVAL_MS",
    key: "jobIntervalMs",
    range: INTERVAL_MS,
    default: DEFAULT_INTERVAL_MS,
    unit: "ms",
    meaning: "milliseconds between events when the request gives no `interval_ms`",
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

/// Every variable, in the order the documentation lists them.
pub const ALL: [&Variable; 7] = [
    &RETRY_MS,
    &JOB_STEPS,
    &JOB_INTERVAL_MS,
    &WINDOW_MS,
    &DEADLINE_MARGIN_MS,
    &HEARTBEAT_MS,
    &BATCH_WINDOW_MS,
];

/// Everything a deployer can tune without rebuilding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Sent as `retry` on the first event of every response.
    pub retry: Duration,
    /// The job a request gets when it does not ask for other steps or interval.
    pub job: JobSpec,
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
        let ms = |variable: &Variable| Duration::from_millis(variable.default.into());
        Self {
            retry: ms(&RETRY_MS),
            job: JobSpec {
                steps: JOB_STEPS.default,
                interval: ms(&JOB_INTERVAL_MS),
            },
            window: ms(&WINDOW_MS),
            deadline_margin: ms(&DEADLINE_MARGIN_MS),
            heartbeat: ms(&HEARTBEAT_MS),
            batch_window: ms(&BATCH_WINDOW_MS),
        }
    }
}

/// An environment variable with a value the function cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("environment variable {name} {problem}")]
pub struct SettingsError {
    pub name: &'static str,
    pub problem: NumberError,
}

impl Settings {
    /// Reads the process environment; unset variables keep their defaults.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let read = |variable: &Variable| match lookup(variable.name) {
            None => Ok(variable.default),
            Some(text) => parse_in_range(&text, &variable.range).map_err(|problem| SettingsError {
                name: variable.name,
                problem,
            }),
        };
        let ms = |variable| read(variable).map(|value| Duration::from_millis(value.into()));
        Ok(Self {
            retry: ms(&RETRY_MS)?,
            job: JobSpec {
                steps: read(&JOB_STEPS)?,
                interval: ms(&JOB_INTERVAL_MS)?,
            },
            window: ms(&WINDOW_MS)?,
            deadline_margin: ms(&DEADLINE_MARGIN_MS)?,
            heartbeat: ms(&HEARTBEAT_MS)?,
            batch_window: ms(&BATCH_WINDOW_MS)?,
        })
    }
}

/// [`ALL`] as the CDK app reads it (`cdk/function-settings.json`).
pub fn to_json() -> serde_json::Value {
    let variables: Vec<serde_json::Value> = ALL
        .iter()
        .map(|v| {
            serde_json::json!({
                "variable": v.name,
                "key": v.key,
                "min": v.range.start(),
                "max": v.range.end(),
                "default": v.default,
                "unit": v.unit,
                "meaning": v.meaning,
            })
        })
        .collect();
    serde_json::json!({
        "about": "Generated from function/src/settings.rs by its test `the_cdk_app_reads_the_same_settings`; do not edit. Regenerate with: LAMBDA_SSE_WRITE_SETTINGS=1 cargo test -p lambda-sse-function --lib settings",
        "variables": variables,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from(vars: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn defaults_follow_the_seed() {
        let settings = from(&[]).unwrap();
        assert_eq!(settings.retry, Duration::from_secs(5));
        assert_eq!(settings.job.steps, 11);
        assert_eq!(settings.job.interval, Duration::from_secs(2));
        assert_eq!(settings.window, Duration::from_secs(120));
        assert_eq!(settings.deadline_margin, Duration::from_secs(2));
        assert_eq!(settings.heartbeat, Duration::from_secs(15));
        assert_eq!(settings.batch_window, Duration::from_secs(5));
    }

    #[test]
    fn reads_every_variable() {
        let settings = from(&[
            ("SSE_RETRY_MS", "1500"),
            ("SSE_JOB_STEPS", "5"),
            ("SSE_JOB_INTERVAL_MS", "250"),
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
        assert_eq!(settings.job.steps, 5);
        assert_eq!(settings.job.interval, Duration::from_millis(250));
    }

    /// The CDK app validates and documents these variables from
    /// `cdk/function-settings.json`: it must say what this file says.
    #[test]
    fn the_cdk_app_reads_the_same_settings() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../cdk/function-settings.json");
        let expected = format!("{:#}\n", to_json());
        if std::env::var_os("LAMBDA_SSE_WRITE_SETTINGS").is_some() {
            std::fs::write(path, &expected).unwrap();
        }
        let actual = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            actual == expected,
            "{path} is out of date with settings.rs; regenerate it with\n  LAMBDA_SSE_WRITE_SETTINGS=1 cargo test -p lambda-sse-function --lib settings\nexpected:\n{expected}"
        );
    }

    #[test]
    fn a_bad_value_names_the_variable_and_the_range() {
        let err = from(&[("SSE_JOB_STEPS", "0")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment variable SSE_JOB_STEPS is 0, outside the allowed range 1 to 1000"
        );
        let err = from(&[("SSE_RETRY_MS", "")]).unwrap_err();
        assert_eq!(err.name, "SSE_RETRY_MS");
        for name in [
            "SSE_JOB_INTERVAL_MS",
            "SSE_WINDOW_MS",
            "SSE_DEADLINE_MARGIN_MS",
            "SSE_HEARTBEAT_MS",
            "SSE_BATCH_WINDOW_MS",
        ] {
            assert_eq!(from(&[(name, "2s")]).unwrap_err().name, name);
            assert_eq!(from(&[(name, "0")]).unwrap_err().name, name);
        }
    }
}
