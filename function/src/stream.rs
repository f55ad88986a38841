//! One streamed response: drives a job through the encoder, each event at its
//! due time, and logs how the stream ended.
//!
//! The stream is lazy: nothing is produced until the runtime asks for the next
//! chunk, and dropping it (the runtime does when the response can no longer be
//! sent) stops the job at once.

use crate::job::{JobEvent, Position, ProgressJob};
use crate::sse::{EncodeError, Event};
use bytes::Bytes;
use futures_util::{Stream, stream};
use std::{pin::Pin, time::Duration};
use tokio::time::{Instant, sleep_until};
use uuid::Uuid;

/// The body of an SSE response, one encoded block per item.
pub type EventStream = Pin<Box<dyn Stream<Item = Bytes> + Send>>;

/// Sent in place of an event the function failed to encode; the stream then
/// ends, so the client sees a clean, parseable end rather than a broken chunk.
pub const INTERNAL_ERROR_EVENT: &str = "event: error\ndata: {\"error\":\"internal\",\"message\":\"the event could not be encoded\"}\n\n";

/// Streams `job` from its first step: each event when due, the first one
/// carrying `retry`, ending after the job's `complete` event.
pub fn job_events(job: ProgressJob, retry: Duration) -> EventStream {
    let spec = job.spec();
    tracing::info!(
        job_id = %job.id(),
        steps = spec.steps,
        interval_ms = spec.interval.as_millis() as u64,
        "stream started"
    );
    let state = State {
        log: StreamLog::new(job.id()),
        job,
        next: Some(Position::Step(1)),
        started: None,
        retry: Some(retry),
    };
    Box::pin(stream::unfold(state, State::advance))
}

struct State {
    job: ProgressJob,
    next: Option<Position>,
    /// Set on the first poll, so the schedule starts when sending can.
    started: Option<Instant>,
    /// Taken by the first event of the response.
    retry: Option<Duration>,
    log: StreamLog,
}

impl State {
    async fn advance(mut self) -> Option<(Bytes, Self)> {
        let Some(position) = self.next else {
            self.log.finish(End::Completed);
            return None;
        };
        let started = *self.started.get_or_insert_with(Instant::now);
        sleep_until(started + self.job.due_after(position)).await;

        let event = self.job.event(position);
        let chunk = match encode(&event, self.retry.take()) {
            Ok(chunk) => {
                self.next = self.job.next_position(position);
                self.log.sent += 1;
                chunk
            }
            Err(error) => {
                tracing::error!(job_id = %self.job.id(), %error, "event could not be encoded");
                self.next = None;
                self.log.end = Some(End::Failed);
                Bytes::from_static(INTERNAL_ERROR_EVENT.as_bytes())
            }
        };
        Some((chunk, self))
    }
}

/// Why an event could not be turned into bytes.
#[derive(Debug, thiserror::Error)]
enum StreamError {
    #[error(transparent)]
    Encode(#[from] EncodeError),
    #[error("progress could not be serialized: {0}")]
    Json(#[from] serde_json::Error),
}

fn encode(event: &JobEvent, retry: Option<Duration>) -> Result<Bytes, StreamError> {
    let mut block = Event::new()
        .id(event.id())?
        .event(event.kind())?
        .data(serde_json::to_string(&event.progress)?);
    if let Some(retry) = retry {
        block = block.retry(retry);
    }
    Ok(block.encode())
}

/// How a stream ended, as logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// The job's `complete` event was sent.
    Completed,
    /// An event could not be encoded; an `error` event was sent instead.
    Failed,
    /// The runtime stopped reading before the end: the client went away or
    /// the invocation was cut short.
    Disconnected,
}

impl End {
    fn as_str(self) -> &'static str {
        match self {
            End::Completed => "completed",
            End::Failed => "failed",
            End::Disconnected => "disconnected",
        }
    }
}

/// Writes the one "stream ended" line, whichever way the stream goes.
struct StreamLog {
    /// The invocation's span, so the end line carries its request id even
    /// though the runtime polls the stream outside that span.
    span: tracing::Span,
    job_id: Uuid,
    sent: u32,
    end: Option<End>,
    logged: bool,
}

impl StreamLog {
    fn new(job_id: Uuid) -> Self {
        Self {
            span: tracing::Span::current(),
            job_id,
            sent: 0,
            end: None,
            logged: false,
        }
    }

    fn finish(&mut self, end: End) {
        if self.logged {
            return;
        }
        self.logged = true;
        let end = self.end.unwrap_or(end);
        self.span.in_scope(|| {
            tracing::info!(job_id = %self.job_id, events_sent = self.sent, end = end.as_str(), "stream ended");
        });
    }
}

impl Drop for StreamLog {
    fn drop(&mut self) {
        self.finish(End::Disconnected);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::JobSpec;
    use futures_util::StreamExt;

    #[test]
    fn the_error_event_is_what_the_encoder_would_write() {
        let built = Event::new()
            .event("error")
            .unwrap()
            .data(r#"{"error":"internal","message":"the event could not be encoded"}"#)
            .encode();
        assert_eq!(&built[..], INTERNAL_ERROR_EVENT.as_bytes());
    }

    #[tokio::test(start_paused = true)]
    async fn events_leave_on_schedule_and_only_the_first_carries_retry() {
        let job = ProgressJob::with_id(
            Uuid::nil(),
            JobSpec {
                steps: 3,
                interval: Duration::from_millis(100),
            },
        );
        let start = Instant::now();
        let mut stream = job_events(job, Duration::from_millis(5000));
        let mut seen = vec![];
        while let Some(chunk) = stream.next().await {
            seen.push((
                start.elapsed().as_millis(),
                String::from_utf8(chunk.to_vec()).unwrap(),
            ));
        }
        let times: Vec<u128> = seen.iter().map(|(t, _)| *t).collect();
        assert_eq!(times, [0, 100, 200, 300]);
        let nil = Uuid::nil();
        assert_eq!(
            seen[0].1,
            format!(
                "id: {nil}:1\nevent: progress\nretry: 5000\ndata: {{\"jobId\":\"{nil}\",\"step\":1,\"totalSteps\":3,\"percentage\":0,\"status\":\"Processing step 1 of 3...\"}}\n\n"
            )
        );
        assert!(seen[1..].iter().all(|(_, text)| !text.contains("retry:")));
        assert!(
            seen[3]
                .1
                .starts_with(&format!("id: {nil}:complete\nevent: complete\n"))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_reader_does_not_shift_the_schedule() {
        let job = ProgressJob::with_id(
            Uuid::nil(),
            JobSpec {
                steps: 3,
                interval: Duration::from_millis(100),
            },
        );
        let start = Instant::now();
        let mut stream = job_events(job, Duration::from_secs(1));
        stream.next().await;
        tokio::time::sleep(Duration::from_millis(150)).await;
        stream.next().await; // was due at 100: sent at once
        assert_eq!(start.elapsed(), Duration::from_millis(150));
        stream.next().await; // due at 200, not 250
        assert_eq!(start.elapsed(), Duration::from_millis(200));
    }
}
