//! The function's settings, read once at start-up from its environment.
//! A bad value stops the function before it takes any request, with a message
//! that names the variable and what it accepts.

use crate::job::{INTERVAL_MS, JobSpec, STEPS};
use crate::number::{NumberError, parse_in_range};
use std::{ops::RangeInclusive, time::Duration};

/// Reconnection hint sent to clients, in milliseconds (`SSE_RETRY_MS`).
pub const RETRY_MS: RangeInclusive<u32> = 100..=600_000;
/// Longest a response lasts before it asks the client to reconnect (`SSE_WINDOW_MS`).
pub const WINDOW_MS: RangeInclusive<u32> = 1_000..=900_000;
/// How long before the invocation's deadline a response ends (`SSE_DEADLINE_MARGIN_MS`).
pub const DEADLINE_MARGIN_MS: RangeInclusive<u32> = 100..=60_000;
/// How long an ALB (buffered) response collects events (`SSE_BATCH_WINDOW_MS`).
pub const BATCH_WINDOW_MS: RangeInclusive<u32> = 1_000..=60_000;
/// Idle time after which a comment is sent to keep proxies from timing out (`SSE_HEARTBEAT_MS`).
pub const HEARTBEAT_MS: RangeInclusive<u32> = 1_000..=300_000;

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
        Self {
            retry: Duration::from_millis(5000),
            job: JobSpec::default(),
            window: Duration::from_secs(120),
            deadline_margin: Duration::from_secs(2),
            heartbeat: Duration::from_secs(15),
            batch_window: Duration::from_secs(5),
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
        let read = |name: &'static str, range: RangeInclusive<u32>, default: u32| match lookup(name)
        {
            None => Ok(default),
            Some(text) => {
                parse_in_range(&text, &range).map_err(|problem| SettingsError { name, problem })
            }
        };
        let defaults = Self::default();
        let ms = |name, range, default: Duration| {
            read(name, range, millis(default)).map(|value| Duration::from_millis(value.into()))
        };
        Ok(Self {
            retry: ms("SSE_RETRY_MS", RETRY_MS, defaults.retry)?,
            job: JobSpec {
                steps: read("SSE_JOB_STEPS", STEPS, defaults.job.steps)?,
                interval: ms("SSE_JOB_INTERVAL_MS", INTERVAL_MS, defaults.job.interval)?,
            },
            window: ms("SSE_WINDOW_MS", WINDOW_MS, defaults.window)?,
            deadline_margin: ms(
                "SSE_DEADLINE_MARGIN_MS",
                DEADLINE_MARGIN_MS,
                defaults.deadline_margin,
            )?,
            heartbeat: ms("SSE_HEARTBEAT_MS", HEARTBEAT_MS, defaults.heartbeat)?,
            batch_window: ms(
                "SSE_BATCH_WINDOW_MS",
                BATCH_WINDOW_MS,
                defaults.batch_window,
            )?,
        })
    }
}

fn millis(duration: Duration) -> u32 {
    u32::try_from(duration.as_millis()).unwrap_or(u32::MAX)
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
