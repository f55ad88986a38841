//! Log setup: what `lambda_runtime::tracing::init_default_subscriber` sets up
//! (plain text locally, JSON when Lambda's log format is JSON, the level from
//! `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG`), less the runtime's own ERROR lines
//! for a response whose reader went away.
//!
//! When a client hangs up mid-stream, `lambda_runtime` 1.5 logs
//! `Error sending response body chunk, response channel closed` at ERROR, and
//! the stream then logs its own `stream ended` line with `end="disconnected"`
//! at INFO. A closed tab is not an error, and an ERROR-level alarm must not
//! fire on it; so exactly those runtime lines are dropped. Every other line of
//! the runtime, ERROR or not, passes; a Runtime API exchange that really
//! fails is still logged at ERROR by [`crate::runtime::serve`].

use lambda_runtime::tracing::{
    Event, Level, Metadata, Subscriber,
    field::{Field, Visit},
    subscriber::{
        EnvFilter, Layer,
        filter::LevelFilter,
        fmt::{self, MakeWriter},
        layer::{Context, Filter, SubscriberExt},
        registry::LookupSpan,
    },
};
use std::{fmt::Debug, str::FromStr};

/// The runtime's messages for a response whose reader went away.
const HANG_UP_MESSAGES: [&str; 3] = [
    "Error sending response body chunk, response channel closed",
    "Error sending metadata prelude, response channel closed",
    "Error sending metadata prelude delimiter, response channel closed",
];

/// How the runtime's warning about `AWS_LAMBDA_MAX_CONCURRENCY` begins and
/// ends. Every loop of [`crate::serve`] is one `lambda_runtime` runtime that
/// runs sequentially by design (the loops together serve that many
/// invocations at once), so the warning would be wrong, once per loop.
const SEQUENTIAL_WARNING: (&str, &str) = (
    "AWS_LAMBDA_MAX_CONCURRENCY is set to",
    "running sequentially",
);

/// Installs the subscriber for the process, writing to standard output.
pub fn init() {
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok();
    // Another subscriber already set (a test harness) is not a reason to stop.
    let _ = lambda_runtime::tracing::subscriber::util::SubscriberInitExt::try_init(subscriber(
        json,
        level.as_deref(),
        std::io::stdout,
    ));
}

/// The subscriber [`init`] installs, writing to `writer`.
pub fn subscriber<W>(
    json: bool,
    level: Option<&str>,
    writer: W,
) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let level = LevelFilter::from_str(level.unwrap_or("INFO")).unwrap_or(LevelFilter::INFO);
    let filter = EnvFilter::builder()
        .with_default_directive(level.into())
        .from_env_lossy();
    let layer = fmt::layer()
        .with_target(false)
        .without_time()
        .with_writer(writer);
    let registry = lambda_runtime::tracing::subscriber::registry().with(filter);
    if json {
        Box::new(registry.with(layer.json().with_filter(QuietHangUps)))
    } else {
        Box::new(registry.with(layer.with_filter(QuietHangUps)))
    }
}

/// Drops the runtime's ERROR lines for a client that went away, and its
/// warning that a loop runs sequentially.
struct QuietHangUps;

impl<S: Subscriber + for<'a> LookupSpan<'a>> Filter<S> for QuietHangUps {
    fn enabled(&self, _: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        true
    }

    fn event_enabled(&self, event: &Event<'_>, _: &Context<'_, S>) -> bool {
        let metadata = event.metadata();
        let level = *metadata.level();
        if !(level == Level::ERROR || level == Level::WARN)
            || !metadata.target().starts_with("lambda_runtime")
        {
            return true;
        }
        let mut message = Message(None);
        event.record(&mut message);
        let Some(text) = message.0 else {
            return true;
        };
        let (starts, ends) = SEQUENTIAL_WARNING;
        let quiet = match level {
            Level::ERROR => HANG_UP_MESSAGES.contains(&text.as_str()),
            _ => text.starts_with(starts) && text.ends_with(ends),
        };
        !quiet
    }
}

/// An event's `message` field, as text.
struct Message(Option<String>);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        if field.name() == "message" {
            self.0 = Some(format!("{value:?}"));
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0 = Some(value.to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::{
        io,
        sync::{Arc, Mutex},
    };
    use tracing::{error, info, subscriber::with_default};

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'w> MakeWriter<'w> for Captured {
        type Writer = Self;

        fn make_writer(&'w self) -> Self::Writer {
            self.clone()
        }
    }

    fn logged(json: bool, emit: impl FnOnce()) -> String {
        let captured = Captured::default();
        with_default(subscriber(json, Some("info"), captured.clone()), emit);
        String::from_utf8(captured.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn a_client_hang_up_is_not_an_error_but_other_runtime_errors_are() {
        for json in [false, true] {
            let out = logged(json, || {
                for message in HANG_UP_MESSAGES {
                    error!(target: "lambda_runtime::requests", "{}", message);
                }
                error!(target: "lambda_runtime::runtime", "Error sending response body chunk, request timed out");
                error!(target: "lambda_sse::lambda", "Error sending response body chunk, response channel closed");
                info!(target: "lambda_sse::stream", end = "disconnected", "stream ended");
            });
            let lines: Vec<&str> = out.lines().collect();
            assert_eq!(lines.len(), 3, "{out}");
            assert!(lines[0].contains("request timed out"), "{out}");
            assert!(lines[1].contains("ERROR"), "our own errors pass: {out}");
            assert!(lines[2].contains("disconnected"), "{out}");
        }
    }

    #[test]
    fn the_runtime_warning_that_each_loop_runs_sequentially_is_dropped() {
        let out = logged(false, || {
            tracing::warn!(
                target: "lambda_runtime::runtime",
                "AWS_LAMBDA_MAX_CONCURRENCY is set to '64', but the concurrency-tokio feature is not enabled; running sequentially"
            );
            tracing::warn!(target: "lambda_runtime::runtime", "AWS_LAMBDA_MAX_CONCURRENCY is set to '64', something else");
            tracing::warn!(target: "lambda_sse::runtime", "AWS_LAMBDA_MAX_CONCURRENCY is set to 'x'; running sequentially");
        });
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2, "{out}");
        assert!(lines[0].contains("something else"), "{out}");
        assert!(lines[1].contains("'x'"), "our own warnings pass: {out}");
    }

    #[test]
    fn json_lines_are_json() {
        let out = logged(true, || info!(end = "completed", "stream ended"));
        let line: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(line["fields"]["message"], "stream ended");
        assert_eq!(line["level"], "INFO");
    }
}
