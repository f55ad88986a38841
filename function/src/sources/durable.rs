//! Durable streams at `/streams/{name}`: follows a stream's log in the
//! table ([`crate::durable`]) with strongly consistent queries, quickly
//! while events flow and more slowly while it is idle.
//!
//! - A new subscriber starts at the oldest event still kept, or with
//!   `?from=now` after the newest one.
//! - `Last-Event-ID` (or `lastEventId`) resumes right after that event.
//! - An id this stream never issued is a 400 `invalid_last_event_id`; an id
//!   whose event (or the events right after it) expired is a 410
//!   `expired_last_event_id`: never a silent gap.
//! - After the final event the response ends; a reconnect gets 204.

use crate::durable::{EventId, EventIdError, ReadError, Reader, Stored, StreamName, Table};
use crate::metrics::StoreStats;
use crate::number::{quoted, shorten};
use crate::request::Request;
use crate::settings::{SettingsError, Variable};
use crate::source::{Events, Open, OpenFuture, Refusal, Source, SourceError};
use crate::sse::Event;
use futures_util::stream;
use http::StatusCode;
use std::{collections::VecDeque, sync::Arc, time::Duration};
use tokio::{sync::OnceCell, time::Instant};

/// `SSE_POLL_MIN_MS`: the wait between reads while events flow.
pub const POLL_MIN_MS: Variable = Variable {
    name: "SSE_POLL_MIN_MS",
    key: "pollMinMs",
    range: 10..=10_000,
    default: 50,
    unit: "ms",
    meaning: "wait between reads of a durable stream while events flow",
};
/// `SSE_POLL_MAX_MS`: the longest wait between reads of an idle stream.
pub const POLL_MAX_MS: Variable = Variable {
    name: "SSE_POLL_MAX_MS",
    key: "pollMaxMs",
    range: 100..=60_000,
    default: 1_000,
    unit: "ms",
    meaning: "longest wait between reads of an idle durable stream (the wait doubles from the minimum after each empty read)",
};
/// The variables of durable streams, in the order the documentation lists them.
pub const VARIABLES: [&Variable; 2] = [&POLL_MIN_MS, &POLL_MAX_MS];

/// Events read per query: enough for a burst, small enough to go out soon.
const PAGE: i32 = 100;

/// How often a subscriber reads its stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Polling {
    /// The wait after a read that found events.
    pub min: Duration,
    /// The longest wait; it doubles from `min` after each empty read.
    pub max: Duration,
}

impl Default for Polling {
    fn default() -> Self {
        Self {
            min: Duration::from_millis(POLL_MIN_MS.default.into()),
            max: Duration::from_millis(POLL_MAX_MS.default.into()),
        }
    }
}

/// Settings a durable source cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurableSettingsError {
    /// A variable out of its range.
    #[error(transparent)]
    Variable(#[from] SettingsError),
    /// The minimum wait is above the maximum.
    #[error("SSE_POLL_MIN_MS ({min}) must not be above SSE_POLL_MAX_MS ({max})")]
    PollOrder {
        /// `SSE_POLL_MIN_MS`.
        min: u32,
        /// `SSE_POLL_MAX_MS`.
        max: u32,
    },
    /// No table is named.
    #[error(transparent)]
    Table(#[from] crate::durable::TableError),
}

/// The durable streams of one table, served at a path with a `{name}`
/// parameter (the function mounts it at `/streams/{name}`).
#[derive(Debug, Clone)]
pub struct DurableSource {
    table_name: String,
    table: Arc<OnceCell<Table>>,
    polling: Polling,
}

impl DurableSource {
    /// Streams of `table`, read as `polling` says.
    pub fn new(table: Table, polling: Polling) -> Self {
        Self {
            table_name: table.name().to_owned(),
            table: Arc::new(OnceCell::new_with(Some(table))),
            polling,
        }
    }

    /// The table named by `SSE_TABLE_NAME`, polled as `SSE_POLL_MIN_MS` and
    /// `SSE_POLL_MAX_MS` say. The SDK client is built on the first request
    /// for a stream, so a function that serves none pays nothing for it.
    pub fn from_env() -> Result<Self, DurableSettingsError> {
        let table_name = crate::durable::table_name_from_env()?;
        let lookup = |name: &str| std::env::var(name).ok();
        let (min, max) = (POLL_MIN_MS.read(&lookup)?, POLL_MAX_MS.read(&lookup)?);
        if min > max {
            return Err(DurableSettingsError::PollOrder { min, max });
        }
        Ok(Self {
            table_name,
            table: Arc::new(OnceCell::new()),
            polling: Polling {
                min: Duration::from_millis(min.into()),
                max: Duration::from_millis(max.into()),
            },
        })
    }

    async fn table(&self) -> &Table {
        self.table
            .get_or_init(|| async {
                let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
                Table::new(aws_sdk_dynamodb::Client::new(&config), &self.table_name)
            })
            .await
    }

    async fn start(&self, request: &Request, last: Option<&str>) -> Result<Open, NotOpened> {
        let name = request.param("name").unwrap_or_default();
        let stream = StreamName::new(name)
            .map_err(|e| Refusal::bad_request("invalid_stream_name", e.to_string()))?;
        let from_now = parse_query(request)?;
        let table = self.table().await.clone();
        let stats = Arc::new(StoreStats::default());
        let reader = Reader {
            table: &table,
            stream: stream.as_str(),
            stats: Some(&stats),
        };
        let now_s = crate::durable::now_s();
        // `announce`: send the starting position as an id-only block, so
        // that a reconnect before the first event continues from it.
        let (position, announce) = match last.filter(|id| !id.is_empty()) {
            Some(text) => match resume(&reader, &stream, text).await? {
                Resumed::Finished => return Ok(Open::Finished),
                Resumed::After(position) => (position, false),
            },
            None if from_now => match reader.last().await? {
                Some(last) if last.is_final => return Ok(Open::Finished),
                Some(last) if !last.expired(now_s) => (Some(last.id), true),
                // Empty, or everything expired: the next event is new.
                _ => (None, true),
            },
            None => match reader.last().await? {
                // Closed, and even its final event has expired.
                Some(last) if last.is_final && last.expired(now_s) => {
                    return Ok(Open::Finished);
                }
                _ => (None, false),
            },
        };
        let announced = announce.then(|| position.unwrap_or(EventId::BEFORE_FIRST));
        let log_id = stream.to_string();
        let mut events = tail(table, stream, position, announced, self.polling, &stats);
        events.store = Some(stats);
        Ok(Open::Events(events.log_id(log_id)))
    }
}

impl Source for DurableSource {
    fn open<'a>(&'a self, request: &'a Request, last_event_id: Option<&'a str>) -> OpenFuture<'a> {
        Box::pin(async move {
            match self.start(request, last_event_id).await {
                Ok(open) => open,
                Err(NotOpened::Refused(refusal)) => Open::Refused(refusal),
                // The store failed, not the caller: the response carries an
                // in-band error and the client reconnects after `retry`,
                // as it would after any failure mid-stream.
                Err(NotOpened::Store(error)) => {
                    Open::Events(Events::new(stream::once(async move {
                        Err(SourceError::from(error))
                    })))
                }
            }
        })
    }
}

/// `from=now`, or nothing; `lastEventId` is the handler's.
fn parse_query(request: &Request) -> Result<bool, Refusal> {
    let mut from = None;
    for (name, value) in request.query_pairs() {
        match name.as_ref() {
            "lastEventId" => {}
            "from" if from.is_some() => {
                return Err(Refusal::bad_request(
                    "repeated_parameter",
                    "query parameter from is given more than once; give it once",
                ));
            }
            "from" => from = Some(value.into_owned()),
            other => {
                return Err(Refusal::bad_request(
                    "unknown_parameter",
                    format!(
                        "unknown query parameter {}; a durable stream takes from (oldest or now) and lastEventId",
                        quoted(&shorten(other))
                    ),
                ));
            }
        }
    }
    match from.as_deref() {
        None | Some("oldest") => Ok(false),
        Some("now") => Ok(true),
        Some(other) => Err(Refusal::bad_request(
            "invalid_parameter",
            format!(
                "query parameter from is {}; use oldest (the default: every event still kept) or now (only new events)",
                quoted(&shorten(other))
            ),
        )),
    }
}

/// What a resume id leads to.
enum Resumed {
    /// It was the final event: 204.
    Finished,
    /// Continue after this position (`None`: from the oldest event kept).
    After(Option<EventId>),
}

/// Where a subscriber that saw `text` resumes.
async fn resume(
    reader: &Reader<'_>,
    stream: &StreamName,
    text: &str,
) -> Result<Resumed, NotOpened> {
    let id = EventId::parse(text, stream).map_err(|error| {
        let why = match error {
            EventIdError::Shape => error.to_string(),
            EventIdError::OtherStream => format!("was not issued by stream {stream}"),
        };
        Refusal::bad_request(
            "invalid_last_event_id",
            format!(
                "the last event id {why}; send back an id this stream sent, or none to start from the oldest event kept"
            ),
        )
    })?;
    if id == EventId::BEFORE_FIRST {
        return Ok(Resumed::After(None));
    }
    let items = reader.from(id.seq, 2).await?;
    let now_s = crate::durable::now_s();
    if let Some(seen) = items.first().filter(|item| item.id == id) {
        if seen.is_final {
            return Ok(Resumed::Finished);
        }
        // The next event, if there is one yet, must be the very next
        // position: a hole or a new generation means events expired.
        let next_follows = items.get(1).is_none_or(|next| {
            next.id.generation == id.generation && Some(next.id.seq) == id.seq.checked_add(1)
        });
        return if seen.expired(now_s) || !next_follows {
            Err(expired(stream).into())
        } else {
            Ok(Resumed::After(Some(id)))
        };
    }
    // Its event is gone: expired, or never written.
    match reader.last().await? {
        Some(last)
            if last.id.generation < id.generation
                || (last.id.generation == id.generation && last.id.seq < id.seq) =>
        {
            Err(NotOpened::Refused(Refusal::bad_request(
                "invalid_last_event_id",
                format!(
                    "the last event id is past the last event of stream {stream}; send back an id this stream sent, or none to start from the oldest event kept"
                ),
            )))
        }
        _ => Err(expired(stream).into()),
    }
}

fn expired(stream: &StreamName) -> Refusal {
    Refusal::new(
        StatusCode::GONE,
        "expired_last_event_id",
        format!(
            "events of stream {stream} after the last event id have expired; reconnect without an id to start from the oldest event kept, or with from=now"
        ),
    )
}

/// Why a stream was not opened: the caller's request, or the store.
enum NotOpened {
    Refused(Refusal),
    Store(ReadError),
}

impl From<Refusal> for NotOpened {
    fn from(refusal: Refusal) -> Self {
        Self::Refused(refusal)
    }
}

impl From<ReadError> for NotOpened {
    fn from(error: ReadError) -> Self {
        Self::Store(error)
    }
}

struct Tail {
    /// Reads and publish-to-send lags, for the response's metrics.
    stats: Arc<StoreStats>,
    /// An id to send before any event (see `start`).
    announce: Option<EventId>,
    table: Table,
    stream: StreamName,
    /// The last event sent (or skipped past with `from=now`).
    position: Option<EventId>,
    /// Before the first event: where the next read starts, past expired
    /// events a new subscriber skips.
    skipped_to: u64,
    read: VecDeque<Stored>,
    wait: Duration,
    polling: Polling,
    /// No read before this instant: the poll interval.
    next_read: Option<Instant>,
    ended: bool,
}

fn tail(
    table: Table,
    stream: StreamName,
    position: Option<EventId>,
    announce: Option<EventId>,
    polling: Polling,
    stats: &Arc<StoreStats>,
) -> Events {
    let state = Tail {
        stats: Arc::clone(stats),
        announce,
        table,
        stream,
        position,
        skipped_to: 0,
        read: VecDeque::new(),
        wait: polling.min,
        polling,
        next_read: None,
        ended: false,
    };
    Events::new(stream::unfold(state, |mut state| async move {
        let next = state.next().await?;
        Some((next, state))
    }))
}

impl Tail {
    async fn next(&mut self) -> Option<Result<Event, SourceError>> {
        loop {
            if self.ended {
                return None;
            }
            if let Some(id) = self.announce.take() {
                return Some(Event::new().id(id.render(&self.stream)).map_err(Into::into));
            }
            if let Some(item) = self.read.pop_front() {
                match self.position {
                    // A new subscriber starts at the oldest event kept.
                    None if item.expired(crate::durable::now_s()) => {
                        self.skipped_to = item.id.seq.saturating_add(1);
                        continue;
                    }
                    None => {}
                    // After that, only the very next position will do (an
                    // event read in time is sent even if it expires meanwhile).
                    Some(at)
                        if item.id.generation != at.generation
                            || Some(item.id.seq) != at.seq.checked_add(1) =>
                    {
                        self.ended = true;
                        return Some(gap(&self.stream));
                    }
                    Some(_) => {}
                }
                self.position = Some(item.id);
                self.ended = item.is_final;
                self.stats.sent(item.published_ms);
                return Some(event(&self.stream, &item));
            }
            if let Some(at) = self.next_read.take() {
                tokio::time::sleep_until(at).await;
            }
            let reader = Reader {
                table: &self.table,
                stream: self.stream.as_str(),
                stats: Some(&self.stats),
            };
            let from = self
                .position
                .map_or(self.skipped_to, |at| at.seq.saturating_add(1));
            match reader.page(from, PAGE).await {
                Err(error) => {
                    self.ended = true;
                    return Some(Err(error.into()));
                }
                Ok((items, _)) if items.is_empty() => {
                    self.next_read = Some(Instant::now() + self.wait);
                    self.wait = (self.wait * 2).min(self.polling.max);
                }
                Ok((items, more)) => {
                    // A page that ended early means more are waiting: read
                    // again at once.
                    if !more {
                        self.next_read = Some(Instant::now() + self.polling.min);
                    }
                    self.wait = self.polling.min;
                    self.read.extend(items);
                }
            }
        }
    }
}

fn event(stream: &StreamName, item: &Stored) -> Result<Event, SourceError> {
    Ok(Event::new()
        .id(item.id.render(stream))?
        .event(item.event_type.clone())?
        .data(item.data.clone()))
}

/// Events between the last one sent and the next one kept have expired: an
/// `error` event says so (without an id, so the client keeps its last one),
/// and the response ends; the client's reconnect then gets the 410.
fn gap(stream: &StreamName) -> Result<Event, SourceError> {
    let body = serde_json::json!({
        "error": "events_expired",
        "message": format!("events of stream {stream} expired before they were sent"),
    });
    Ok(Event::new().event("error")?.data(body.to_string()))
}
