//! One SSE response: drives a source's [`Events`] through the encoder, a
//! heartbeat comment whenever the source has been quiet for the heartbeat
//! interval, and ends the response on its own before its window closes.
//!
//! The body is lazy: nothing is produced until the runtime asks for the next
//! chunk, the source's stream is polled only then, and dropping the body (the
//! runtime does when the response can no longer be sent) drops the source's
//! stream at once, mid-await if need be.

use crate::metrics::{Metrics, ResponseFigures, StoreStats};
use crate::settings::Settings;
use crate::source::{Events, SourceError};
use crate::sse::{Event, EventType};
use bytes::Bytes;
use futures_util::{Stream, StreamExt, stream};
use std::{pin::Pin, sync::Arc, time::Duration};
use tokio::time::{Instant, sleep_until};

/// The body of an SSE response, one encoded block per item.
pub(crate) type Body = Pin<Box<dyn Stream<Item = Bytes> + Send>>;

/// Sent when nothing else has been for the heartbeat interval.
pub(crate) const HEARTBEAT: &str = ": keep-alive\n\n";
/// The event that ends a response early and tells the client when to come back.
const RECONNECT: EventType = EventType::new("reconnect");
/// The event that reports a failure of the source; the response then ends.
const ERROR: EventType = EventType::new("error");
/// The shortest reconnection time the closing block asks for. It stays the
/// client's reconnection time until the next response's first event resets
/// it, so it is also how often a client retries while the server is away.
pub(crate) const MIN_RECONNECT: Duration = Duration::from_millis(100);
/// The longest: a client is never asked to stay away longer than this, even
/// when the next event is further off (it then finds nothing new, and comes back).
pub(crate) const MAX_RECONNECT: Duration = Duration::from_secs(600);
/// The shortest heartbeat interval the driver keeps to, whatever the settings.
const MIN_HEARTBEAT: Duration = Duration::from_millis(100);

/// The largest JSON document an ALB takes from a Lambda target: 1 MB.
pub(crate) const MAX_ALB_DOCUMENT: usize = 1_000_000;
/// Room in that document for everything but the body: status, description,
/// headers, the field names. Measured at about 250 bytes; see the test in
/// `front/alb.rs`.
pub(crate) const ALB_DOCUMENT_OVERHEAD: usize = 4 * 1024;
/// The most body a buffered response may carry, counted as it will be
/// written into the ALB's JSON document: `"` and `\\` take two bytes there,
/// a line break two, another control character six.
pub(crate) const MAX_BUFFERED_BODY: usize = MAX_ALB_DOCUMENT - ALB_DOCUMENT_OVERHEAD;

/// The message an `error` event shows the client when the source failed; the
/// source's own text goes to the log only.
const SOURCE_FAILED_CODE: &str = "source_failed";
const SOURCE_FAILED: &str =
    "the event source failed; reconnect to resume after the last event received";

/// How long one response may last, and why it would end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ResponsePlan {
    /// Sent as `retry` with the first event.
    pub retry: Duration,
    /// Idle time before a heartbeat comment; none for a buffered response,
    /// which nobody sees until it is complete.
    pub heartbeat: Option<Duration>,
    /// How long after its start the response ends, if the source has not.
    pub window: Duration,
    /// What set `window`: the configured maximum or the invocation's deadline.
    pub limit: End,
    /// The most body a buffered answer may hold, counted as the body's
    /// JSON-escaped size ([`MAX_BUFFERED_BODY`]); `None` for a stream.
    pub max_body: Option<usize>,
}

impl ResponsePlan {
    /// The plan for a streamed response starting now, `until_deadline` before
    /// the invocation must have returned (`None` when that is not known). A
    /// source that cannot resume is not cut by the window, only by the deadline.
    pub fn streamed(
        settings: &Settings,
        until_deadline: Option<Duration>,
        resumable: bool,
    ) -> Self {
        let longest = if resumable {
            settings.window
        } else {
            Duration::MAX
        };
        let (window, limit) = window(longest, settings.deadline_margin, until_deadline);
        Self {
            retry: settings.retry,
            heartbeat: Some(settings.heartbeat),
            window,
            limit,
            max_body: None,
        }
    }

    /// The plan for a buffered response (an ALB's): a batch window, no
    /// heartbeats, and a body that fits the ALB's limit. Only for sources
    /// that can resume: each batch ends at its window.
    pub fn buffered(settings: &Settings, until_deadline: Option<Duration>) -> Self {
        let (window, limit) = window(
            settings.batch_window,
            settings.deadline_margin,
            until_deadline,
        );
        Self {
            retry: settings.retry,
            heartbeat: None,
            window,
            limit,
            max_body: Some(MAX_BUFFERED_BODY),
        }
    }
}

/// The sooner of `longest` and the deadline less `margin`, and which it was.
/// With neither known, a response is still bounded: Lambda's 15 minutes.
fn window(
    longest: Duration,
    margin: Duration,
    until_deadline: Option<Duration>,
) -> (Duration, End) {
    const LAMBDA_MAXIMUM: Duration = Duration::from_secs(900);
    match until_deadline.map(|left| left.saturating_sub(margin)) {
        Some(by_deadline) if by_deadline < longest => (by_deadline, End::Deadline),
        None if longest > LAMBDA_MAXIMUM => (LAMBDA_MAXIMUM, End::Deadline),
        _ => (longest, End::Window),
    }
}

/// How a stream ended, as logged in `end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    /// The source's last event was sent.
    Completed,
    /// The configured window closed first; the client was told to reconnect.
    Window,
    /// The invocation's deadline (less the margin) came first; likewise.
    Deadline,
    /// A buffered body would have passed its size limit with the next
    /// event, which was left for the next response; likewise.
    Size,
    /// The source failed; an `error` event was sent.
    Failed,
    /// The source said its subscriber fell behind ([`crate::Behind`]); the
    /// client was told to reconnect.
    Behind,
    /// The runtime stopped reading before the end: the client went away.
    Disconnected,
}

impl End {
    /// Every way a response ends, as the `EndReason` dimension names it.
    #[cfg_attr(not(test), allow(dead_code))]
    pub const ALL: [End; 7] = [
        End::Completed,
        End::Window,
        End::Deadline,
        End::Size,
        End::Failed,
        End::Behind,
        End::Disconnected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            End::Completed => "completed",
            End::Window => "window",
            End::Deadline => "deadline",
            End::Size => "size",
            End::Failed => "failed",
            End::Behind => "behind",
            End::Disconnected => "disconnected",
        }
    }
}

/// Streams `events` under `plan`. `resumed_from` is the id the client last
/// saw, repeated in the closing block if this response sends no event.
/// Log lines go to `span`, so they carry the caller's fields.
#[cfg(test)]
pub(crate) fn sse_stream(
    events: Events,
    plan: ResponsePlan,
    resumed_from: Option<String>,
    span: tracing::Span,
) -> Body {
    sse_stream_reported(events, plan, resumed_from, span, None)
}

/// The response's metrics: where they go and what is known before it starts.
pub(crate) struct Report {
    pub metrics: Metrics,
    pub figures: ResponseFigures,
}

/// [`sse_stream`], writing the response's metrics line when it ends.
pub(crate) fn sse_stream_reported(
    events: Events,
    plan: ResponsePlan,
    resumed_from: Option<String>,
    span: tracing::Span,
    report: Option<Report>,
) -> Body {
    let now = Instant::now();
    let driver = Driver {
        events: events.stream,
        plan,
        window_end: now + plan.window,
        last_write: now,
        next_due: None,
        body_size: 0,
        last_id: resumed_from,
        first: true,
        end: None,
        log: StreamLog::new(span, report, events.store),
    };
    Box::pin(stream::unfold(driver, Driver::advance))
}

struct Driver {
    events: Pin<Box<dyn Stream<Item = Result<Event, SourceError>> + Send>>,
    plan: ResponsePlan,
    window_end: Instant,
    last_write: Instant,
    /// When the source said its next event would come ([`Event::next_event_in`]).
    next_due: Option<Instant>,
    /// The body so far, as [`ResponsePlan::max_body`] counts it.
    body_size: usize,
    last_id: Option<String>,
    first: bool,
    /// Set once the response has sent its last block.
    end: Option<End>,
    log: StreamLog,
}

impl Driver {
    async fn advance(mut self) -> Option<(Bytes, Self)> {
        if let Some(end) = self.end {
            self.log.finish(end);
            return None;
        }
        // A poll that comes after the window (the runtime was slow to ask)
        // closes at once, or the deadline could pass mid-response.
        if Instant::now() > self.window_end {
            let chunk = self.close(self.plan.limit);
            return self.emit(chunk);
        }
        // With no heartbeat, "never" is the end of the window.
        // A heartbeat interval too short to mean anything is taken as the
        // shortest the settings allow; one past the clock's range as never.
        let heartbeat_at = self.plan.heartbeat.map_or(self.window_end, |every| {
            self.last_write
                .checked_add(every.max(MIN_HEARTBEAT))
                .map_or(self.window_end, |at| at.min(self.window_end))
        });
        // The source first: an event ready at the same instant as the end of
        // the window, or a heartbeat, still goes out.
        let chunk: Bytes = tokio::select! {
            biased;
            item = self.events.next() => match item {
                Some(Ok(event)) => self.event(event),
                Some(Err(error)) if error.is::<crate::source::Behind>() => {
                    self.log.span.in_scope(|| tracing::info!("subscriber fell behind; told to reconnect"));
                    self.close(End::Behind)
                }
                Some(Err(error)) => {
                    self.log.span.in_scope(|| tracing::error!(%error, "event source failed"));
                    self.fail(SOURCE_FAILED_CODE, SOURCE_FAILED)
                }
                None => {
                    self.log.finish(End::Completed);
                    return None;
                }
            },
            () = sleep_until(heartbeat_at) => {
                if heartbeat_at < self.window_end {
                    Bytes::from_static(HEARTBEAT.as_bytes())
                } else {
                    self.close(self.plan.limit)
                }
            }
        };
        self.emit(chunk)
    }

    fn emit(mut self, chunk: Bytes) -> Option<(Bytes, Self)> {
        self.last_write = Instant::now();
        self.body_size += self.measure(&chunk);
        self.log.bytes += chunk.len() as u64;
        Some((chunk, self))
    }

    /// A chunk's size as [`ResponsePlan::max_body`] counts it.
    fn measure(&self, chunk: &[u8]) -> usize {
        match self.plan.max_body {
            Some(_) => json_string_len(chunk),
            None => chunk.len(),
        }
    }

    /// Whether a block of `size` still fits a bounded body, with room left for
    /// the closing block that would then carry `id`.
    fn fits(&self, size: usize, id: Option<&str>) -> bool {
        let Some(max) = self.plan.max_body else {
            return true;
        };
        // Room for whichever block may end the answer: the reconnect block
        // with this id, or an error block.
        let closing = reconnect_block(End::Deadline, id, MAX_RECONNECT);
        let error = error_block(SOURCE_FAILED_CODE, SOURCE_FAILED, Some(self.plan.retry));
        let reserve = self.measure(&closing).max(self.measure(&error));
        self.body_size + size + reserve <= max
    }

    fn event(&mut self, event: Event) -> Bytes {
        let now = Instant::now();
        let first = self.first;
        let id = event
            .id_value()
            .map(str::to_owned)
            .or_else(|| self.last_id.clone());
        let next_due = event.next_in().and_then(|after| now.checked_add(after));
        let chunk = if first {
            event.retry(self.plan.retry)
        } else {
            event
        }
        .encode();
        if !self.fits(self.measure(&chunk), id.as_deref()) {
            if !first {
                // Left for the next response, which resumes after the last id
                // sent and so produces this event again: nothing is lost. It
                // is ready now, so the client is asked back at once.
                self.next_due = None;
                return self.close(End::Size);
            }
            let message = format!(
                "an event is too large for a buffered answer ({} bytes as JSON, at most {})",
                self.measure(&chunk),
                self.plan.max_body.unwrap_or_default(),
            );
            self.log
                .span
                .in_scope(|| tracing::error!(error = %message, "event cannot be sent"));
            return self.fail("event_too_large", &message);
        }
        self.first = false;
        self.last_id = id;
        self.next_due = next_due;
        if self.log.sent == 0 {
            self.log.first_event = Some(self.log.started.elapsed());
        }
        self.log.sent += 1;
        chunk
    }

    /// The in-band `error` event that ends a response whose source failed.
    fn fail(&mut self, code: &str, message: &str) -> Bytes {
        self.end = Some(End::Failed);
        let retry = std::mem::take(&mut self.first).then_some(self.plan.retry);
        error_block(code, message, retry)
    }

    /// The block that ends a response early: the last id again (so even a
    /// client that missed nothing resumes from the right place) and a `retry`
    /// that brings the client back when the source said its next event is due.
    fn close(&mut self, end: End) -> Bytes {
        self.end = Some(end);
        let reconnect = self
            .next_due
            .map_or(MIN_RECONNECT, |due| {
                due.saturating_duration_since(Instant::now())
            })
            .clamp(MIN_RECONNECT, MAX_RECONNECT);
        reconnect_block(end, self.last_id.as_deref(), reconnect)
    }
}

/// The `error` block, with `retry` when it is the response's first.
fn error_block(code: &str, message: &str, retry: Option<Duration>) -> Bytes {
    let data = serde_json::json!({ "error": code, "message": message });
    let block = Event::new().event_type(ERROR).data(data.to_string());
    match retry {
        Some(retry) => block.retry(retry),
        None => block,
    }
    .encode()
}

/// The `reconnect` block: why the response ends, the last id (repeated as the
/// block's `id`, so even a client that missed nothing resumes from the right
/// place) and the time to wait before coming back.
fn reconnect_block(end: End, last_id: Option<&str>, reconnect: Duration) -> Bytes {
    let data = serde_json::json!({
        "reason": end.as_str(),
        "lastEventId": last_id,
        "retryMs": reconnect.as_millis() as u64,
    });
    let block = Event::new()
        .event_type(RECONNECT)
        .data(data.to_string())
        .retry(reconnect);
    // Every id was checked when its event was encoded, so this cannot fail;
    // if it did, the block without an id still tells the client to come back.
    match last_id.map(|id| block.clone().id(id)) {
        Some(Ok(with_id)) => with_id.encode(),
        _ => block.encode(),
    }
}

/// The length of `bytes` (UTF-8) once written inside a JSON string, as
/// `serde_json` writes it: `"` and `\` escaped with a backslash, the five
/// control characters with short escapes (`\b \t \n \f \r`) in two bytes,
/// the other control characters as `\u00XX` in six, everything else as is.
fn json_string_len(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .map(|&b| match b {
            b'"' | b'\\' | 0x08 | b'\t' | b'\n' | 0x0c | b'\r' => 2,
            0x00..=0x1f => 6,
            _ => 1,
        })
        .sum()
}

/// Writes the one "stream ended" line (and the metrics line), whichever
/// way the stream goes.
struct StreamLog {
    span: tracing::Span,
    sent: u32,
    bytes: u64,
    started: Instant,
    first_event: Option<Duration>,
    report: Option<Report>,
    store: Option<Arc<StoreStats>>,
    logged: bool,
}

impl StreamLog {
    fn new(span: tracing::Span, report: Option<Report>, store: Option<Arc<StoreStats>>) -> Self {
        Self {
            span,
            sent: 0,
            bytes: 0,
            started: Instant::now(),
            first_event: None,
            report,
            store,
            logged: false,
        }
    }

    fn finish(&mut self, end: End) {
        if std::mem::replace(&mut self.logged, true) {
            return;
        }
        self.span.in_scope(|| {
            tracing::info!(events_sent = self.sent, end = end.as_str(), "stream ended");
        });
        if let Some(Report {
            metrics,
            mut figures,
        }) = self.report.take()
        {
            figures.events = self.sent;
            figures.bytes = self.bytes;
            figures.first_event_ms = self.first_event.map(|d| d.as_secs_f64() * 1000.0);
            figures.source_failed = end == End::Failed;
            if let Some(store) = &self.store {
                figures.store_reads = Some(store.reads.load(std::sync::atomic::Ordering::Relaxed));
                figures.publish_lags_ms =
                    store.lags_ms.lock().map(|l| l.clone()).unwrap_or_default();
            }
            metrics.response(&figures, end.as_str());
        }
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

    #[test]
    fn the_heartbeat_is_a_comment_block() {
        let built = Event::comment("keep-alive").unwrap().encode();
        assert_eq!(&built[..], HEARTBEAT.as_bytes());
    }

    fn settings(window_s: u64, margin_ms: u64) -> Settings {
        Settings {
            window: Duration::from_secs(window_s),
            deadline_margin: Duration::from_millis(margin_ms),
            ..Settings::default()
        }
    }

    #[test]
    fn the_window_is_the_sooner_of_the_maximum_and_the_deadline_less_the_margin() {
        let plan =
            ResponsePlan::streamed(&settings(120, 2000), Some(Duration::from_secs(300)), true);
        assert_eq!(
            (plan.window, plan.limit),
            (Duration::from_secs(120), End::Window)
        );
        let plan =
            ResponsePlan::streamed(&settings(120, 2000), Some(Duration::from_secs(60)), true);
        assert_eq!(
            (plan.window, plan.limit),
            (Duration::from_secs(58), End::Deadline)
        );
        let plan = ResponsePlan::streamed(&settings(120, 2000), Some(Duration::from_secs(1)), true);
        assert_eq!((plan.window, plan.limit), (Duration::ZERO, End::Deadline));
        let plan = ResponsePlan::streamed(&settings(120, 2000), None, true);
        assert_eq!(
            (plan.window, plan.limit),
            (Duration::from_secs(120), End::Window)
        );
        let plan =
            ResponsePlan::streamed(&settings(120, 2000), Some(Duration::from_secs(300)), false);
        assert_eq!(
            (plan.window, plan.limit),
            (Duration::from_secs(298), End::Deadline),
            "a source that cannot resume runs until the deadline less the margin"
        );
    }

    #[test]
    fn a_buffered_plan_uses_the_batch_window_no_heartbeat_and_a_size_limit() {
        let settings = Settings {
            batch_window: Duration::from_secs(5),
            ..settings(120, 2000)
        };
        let plan = ResponsePlan::buffered(&settings, Some(Duration::from_secs(300)));
        assert_eq!(
            (plan.window, plan.limit),
            (Duration::from_secs(5), End::Window)
        );
        assert_eq!(
            (plan.heartbeat, plan.max_body),
            (None, Some(MAX_BUFFERED_BODY))
        );
        let plan = ResponsePlan::buffered(&settings, Some(Duration::from_secs(4)));
        assert_eq!(
            (plan.window, plan.limit),
            (Duration::from_secs(2), End::Deadline)
        );
    }

    /// A source of `total` events `every` apart from its start, the first at
    /// once, numbered from `from`; event `fail_at` fails instead.
    fn ticks_from(every_ms: u64, from: u32, total: u32, fail_at: Option<u32>) -> Events {
        let every = Duration::from_millis(every_ms);
        let start = Instant::now();
        Events::new(stream::unfold(from, move |n| async move {
            if n >= total {
                return None;
            }
            let due = start + every * (n - from);
            if due > Instant::now() {
                sleep_until(due).await;
            }
            let item = if Some(n) == fail_at {
                Err("the backing store timed out".into())
            } else {
                Ok(Event::new()
                    .event_type(EventType::new("tick"))
                    .data(n.to_string())
                    .id(format!("t{n}"))
                    .unwrap()
                    .next_event_in(every))
            };
            Some((item, n + 1))
        }))
    }

    fn ticks(every_ms: u64, total: u32) -> Events {
        ticks_from(every_ms, 0, total, None)
    }

    fn plan(window_ms: u64, heartbeat_ms: u64) -> ResponsePlan {
        ResponsePlan {
            retry: Duration::from_millis(3000),
            heartbeat: Some(Duration::from_millis(heartbeat_ms)),
            window: Duration::from_millis(window_ms),
            limit: End::Window,
            max_body: None,
        }
    }

    /// Every chunk with its time from the start, as text.
    async fn run(source: Events, plan: ResponsePlan) -> Vec<(u64, String)> {
        let start = Instant::now();
        let stream = sse_stream(source, plan, None, tracing::Span::none());
        stream
            .map(|chunk| {
                (
                    start.elapsed().as_millis() as u64,
                    String::from_utf8(chunk.to_vec()).unwrap(),
                )
            })
            .collect()
            .await
    }

    #[tokio::test(start_paused = true)]
    async fn a_source_that_finishes_in_its_window_ends_the_response() {
        let out = run(ticks(100, 3), plan(10_000, 15_000)).await;
        assert_eq!(
            out,
            [
                (
                    0,
                    "id: t0\nevent: tick\nretry: 3000\ndata: 0\n\n".to_owned()
                ),
                (100, "id: t1\nevent: tick\ndata: 1\n\n".to_owned()),
                (200, "id: t2\nevent: tick\ndata: 2\n\n".to_owned()),
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_heartbeat_fills_each_idle_stretch_and_every_event_resets_it() {
        let out = run(ticks(2500, 3), plan(60_000, 1000)).await;
        let times: Vec<(u64, bool)> = out
            .iter()
            .map(|(t, text)| (*t, text == HEARTBEAT))
            .collect();
        assert_eq!(
            times,
            [
                (0, false),
                (1000, true),
                (2000, true),
                (2500, false),
                (3500, true),
                (4500, true),
                (5000, false)
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn without_heartbeats_an_idle_stretch_stays_silent() {
        let plan = ResponsePlan {
            heartbeat: None,
            ..plan(10_000, 1000)
        };
        let out = run(ticks(3000, 2), plan).await;
        let times: Vec<u64> = out.iter().map(|(t, _)| *t).collect();
        assert_eq!(times, [0, 3000]);
    }

    fn tick_block(n: u32) -> Bytes {
        Event::new()
            .event_type(EventType::new("tick"))
            .data(n.to_string())
            .id(format!("t{n}"))
            .unwrap()
            .encode()
    }

    #[tokio::test(start_paused = true)]
    async fn a_bounded_body_ends_before_the_event_that_would_not_fit() {
        let max = 400;
        let plan = ResponsePlan {
            max_body: Some(max),
            ..plan(60_000, 15_000)
        };
        let out = run(ticks(10, 1000), plan).await;
        let body: usize = out
            .iter()
            .map(|(_, text)| json_string_len(text.as_bytes()))
            .sum();
        assert!(body <= max, "{body} bytes");

        let (close_at, closing) = out.last().unwrap();
        assert!(closing.contains("\"reason\":\"size\""), "{closing}");
        let sent = out.len() - 1;
        assert!(sent >= 2, "{out:?}");
        let last_sent = format!("id: t{}\n", sent - 1);
        assert!(
            closing.starts_with(&last_sent),
            "repeats the last id: {closing}"
        );
        assert_eq!(
            *close_at,
            10 * sent as u64,
            "closed when the next event was due"
        );
        assert!(
            closing.contains("retry: 100\n"),
            "come back at once: {closing}"
        );

        let before_closing = body - json_string_len(closing.as_bytes());
        let next = json_string_len(&tick_block(sent as u32));
        // The event left out would not have fitted with the larger of the
        // blocks that may end an answer: its reconnect block, or an error.
        let next_closing = json_string_len(&reconnect_block(
            End::Deadline,
            Some(&format!("t{sent}")),
            MAX_RECONNECT,
        ))
        .max(json_string_len(&error_block(
            SOURCE_FAILED_CODE,
            SOURCE_FAILED,
            Some(Duration::from_millis(3000)),
        )));
        assert!(before_closing + next + next_closing > max);
    }

    /// 1000 events whose data is `count` copies of `unit`, all at once.
    fn heavy(unit: &'static str, count: usize) -> Events {
        Events::new(stream::iter((1..=1000).map(move |n| {
            Ok(Event::new()
                .event_type(EventType::new("heavy"))
                .data(unit.repeat(count))
                .id(format!("h{n}"))
                .unwrap())
        })))
    }

    #[tokio::test(start_paused = true)]
    async fn the_bound_counts_quotes_and_control_characters_as_json_writes_them() {
        let plain = |unit| async move {
            let plan = ResponsePlan {
                max_body: Some(10_000),
                ..plan(60_000, 15_000)
            };
            run(heavy(unit, 500), plan).await.len() - 1
        };
        let (letters, quotes, controls) =
            (plain("a").await, plain("\"").await, plain("\u{1}").await);
        // 500 bytes of data become 500, 1000 and 3000 bytes of JSON.
        assert_eq!((letters, quotes, controls), (18, 9, 3));
    }

    #[tokio::test(start_paused = true)]
    async fn an_event_too_large_for_any_answer_fails_in_band() {
        let plan = ResponsePlan {
            max_body: Some(1_000),
            ..plan(60_000, 15_000)
        };
        let out = run(heavy("\"", 600), plan).await;
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(
            out[0]
                .1
                .starts_with("event: error\nretry: 3000\ndata: {\"error\":\"event_too_large\""),
            "{}",
            out[0].1
        );
    }

    #[test]
    fn json_string_len_matches_serde_json() {
        let samples = [
            "",
            "plain",
            "\"quoted\" \\ back",
            "\u{0}\u{1}\u{8}\t\n\u{b}\u{c}\r\u{1f}\u{7f}",
            "h\u{e9}llo \u{2028} \u{1f600}",
        ];
        for sample in samples {
            let serialized = serde_json::to_string(sample).unwrap();
            assert_eq!(
                json_string_len(sample.as_bytes()),
                serialized.len() - 2,
                "{sample:?}"
            );
        }
        for byte in 0u8..=0x7f {
            let text = (byte as char).to_string();
            let serialized = serde_json::to_string(&text).unwrap();
            assert_eq!(
                json_string_len(text.as_bytes()),
                serialized.len() - 2,
                "{byte:#x}"
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_window_closes_with_the_last_id_and_a_retry_until_the_next_event() {
        let out = run(ticks(400, 10), plan(1000, 15_000)).await;
        let times: Vec<u64> = out.iter().map(|(t, _)| *t).collect();
        assert_eq!(times, [0, 400, 800, 1000]);
        // Next event was due at 1200: come back in 200 ms.
        assert_eq!(
            out[3].1,
            "id: t2\nevent: reconnect\nretry: 200\ndata: {\"lastEventId\":\"t2\",\"reason\":\"window\",\"retryMs\":200}\n\n"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_poll_after_the_window_closes_at_once_without_overdue_events() {
        let plan = ResponsePlan {
            limit: End::Deadline,
            ..plan(1000, 15_000)
        };
        let mut stream = sse_stream(ticks(100, 50), plan, None, tracing::Span::none());
        stream.next().await.unwrap();
        // The runtime comes back late, long after the deadline's window.
        tokio::time::advance(Duration::from_secs(5)).await;
        let block = String::from_utf8(stream.next().await.unwrap().to_vec()).unwrap();
        assert!(block.starts_with("id: t0\nevent: reconnect\n"), "{block}");
        assert!(block.contains("\"reason\":\"deadline\""), "{block}");
        assert!(stream.next().await.is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn an_event_due_with_a_heartbeat_wins() {
        let out = run(ticks(1000, 3), plan(60_000, 1000)).await;
        assert!(out.iter().all(|(_, text)| text != HEARTBEAT), "{out:?}");
        let times: Vec<u64> = out.iter().map(|(t, _)| *t).collect();
        assert_eq!(times, [0, 1000, 2000]);
    }

    #[tokio::test(start_paused = true)]
    async fn an_event_due_at_the_end_of_the_window_still_goes_out() {
        let out = run(ticks(500, 10), plan(1000, 15_000)).await;
        let times: Vec<u64> = out.iter().map(|(t, _)| *t).collect();
        assert_eq!(times, [0, 500, 1000, 1000]);
        assert!(
            out[3].1.contains("event: reconnect\nretry: 500\n"),
            "{}",
            out[3].1
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_deadline_window_says_deadline() {
        let plan = ResponsePlan {
            limit: End::Deadline,
            ..plan(1000, 15_000)
        };
        let out = run(ticks(5000, 3), plan).await;
        assert!(out[1].1.contains("\"reason\":\"deadline\""), "{}", out[1].1);
        assert!(
            out[1].1.contains("retry: 4000\n"),
            "next due at 5000, closed at 1000"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_failing_source_ends_with_an_error_event_in_band() {
        let source = ticks_from(100, 0, 10, Some(2));
        let out = run(source, plan(60_000, 15_000)).await;
        assert_eq!(out.len(), 3, "two events, then the error, then the end");
        assert_eq!(
            out[2],
            (
                200,
                format!(
                    "event: error\ndata: {{\"error\":\"source_failed\",\"message\":\"{SOURCE_FAILED}\"}}\n\n"
                )
            )
        );
        assert!(
            !out[2].1.contains("backing store"),
            "the source's text stays in the log"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_source_that_fell_behind_ends_with_the_reconnect_block() {
        let source = ticks(100, 2);
        let behind = stream::once(async { Err(crate::source::Behind.into()) });
        let mut source = Events::new(source.stream.chain(behind));
        source.log_id = None;
        let out = run(source, plan(60_000, 15_000)).await;
        assert_eq!(out.len(), 3, "two events, then the reconnect block");
        assert_eq!(
            out[2].1,
            "id: t1\nevent: reconnect\nretry: 100\ndata: {\"lastEventId\":\"t1\",\"reason\":\"behind\",\"retryMs\":100}\n\n"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_error_as_the_first_event_still_carries_retry() {
        let source = ticks_from(100, 0, 10, Some(0));
        let out = run(source, plan(60_000, 15_000)).await;
        assert_eq!(out.len(), 1);
        assert!(
            out[0].1.starts_with("event: error\nretry: 3000\n"),
            "{}",
            out[0].1
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_closing_block_repeats_the_resume_id_when_nothing_was_sent() {
        // The next event is not due until 5 s, and the window is already over.
        let source = Events::new(stream::once(async {
            sleep_until(Instant::now() + Duration::from_secs(5)).await;
            Ok(Event::new().data("late"))
        }));
        let mut stream = sse_stream(
            source,
            plan(0, 15_000),
            Some("t7".into()),
            tracing::Span::none(),
        );
        let block = stream.next().await.unwrap();
        assert!(
            block.starts_with(b"id: t7\nevent: reconnect\n"),
            "{block:?}"
        );
        assert!(stream.next().await.is_none());
    }
}
