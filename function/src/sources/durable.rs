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
//!
//! Subscribers of one stream in one process share one poll loop and a
//! bounded buffer of its recent events ([`super::shared_tail`]).

use crate::durable::{EventId, EventIdError, ReadError, Reader, Stored, StreamName, Table};
use crate::metrics::StoreStats;
use crate::number::{quoted, shorten};
use crate::request::Request;
use crate::settings::{SettingsError, Variable};
use crate::source::{Behind, Events, Open, OpenFuture, Refusal, Source, SourceError};
use crate::sse::Event;
use futures_util::stream;
use http::StatusCode;
use std::{collections::VecDeque, sync::Arc, time::Duration};
use tokio::sync::{OnceCell, watch};

use super::shared_tail::{Newest, Next, PAGE, Subscription, TailFailed, Tails};

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
/// `SSE_TAIL_BUFFER_KIB`: recent events kept in memory per stream.
pub const TAIL_BUFFER_KIB: Variable = Variable {
    name: "SSE_TAIL_BUFFER_KIB",
    key: "tailBufferKib",
    range: 64..=65_536,
    default: 1_024,
    unit: "KiB",
    meaning: "recent events of a durable stream kept in memory, shared by its subscribers in one process; a subscriber further behind ends its response with a reconnect block and resumes from the table",
};
/// The variables of durable streams, in the order the documentation lists them.
pub const VARIABLES: [&Variable; 3] = [&POLL_MIN_MS, &POLL_MAX_MS, &TAIL_BUFFER_KIB];

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
    buffer_bytes: usize,
    tails: Arc<OnceCell<Tails>>,
}

impl DurableSource {
    /// Streams of `table`, read as `polling` says, with the default buffer
    /// of recent events (`SSE_TAIL_BUFFER_KIB`).
    pub fn new(table: Table, polling: Polling) -> Self {
        Self {
            table_name: table.name().to_owned(),
            table: Arc::new(OnceCell::new_with(Some(table))),
            polling,
            buffer_bytes: kib(TAIL_BUFFER_KIB.default),
            tails: Arc::default(),
        }
    }

    /// Keeps `kib` KiB of each followed stream's recent events in memory
    /// (at least the newest event, whatever its size).
    pub fn tail_buffer_kib(mut self, kib: u32) -> Self {
        self.buffer_bytes = self::kib(kib);
        // Tails already made (shared with clones) keep their size.
        self.tails = Arc::default();
        self
    }

    /// Not part of the API: store reads made by the shared tails so far (a
    /// response's own reads, a resume or a backfill, are not counted), for
    /// the tests.
    #[doc(hidden)]
    pub fn tail_reads(&self) -> u64 {
        self.tails.get().map_or(0, Tails::reads)
    }

    /// Not part of the API: shared tails running now, for the tests.
    #[doc(hidden)]
    pub fn tails_running(&self) -> usize {
        self.tails.get().map_or(0, Tails::running)
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
            buffer_bytes: kib(TAIL_BUFFER_KIB.read(&lookup)?),
            tails: Arc::default(),
        })
    }

    async fn tails(&self) -> &Tails {
        let table = self.table().await;
        self.tails
            .get_or_init(|| async { Tails::new(table.clone(), self.polling, self.buffer_bytes) })
            .await
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
        // Judged before joining, so that a refused id starts no tail.
        let resume_from = last
            .filter(|id| !id.is_empty())
            .map(|text| parse_last_event_id(&stream, text))
            .transpose()?;
        let table = self.table().await.clone();
        let tail = self.tails().await.join(&stream);
        let stats = Arc::new(StoreStats::default());
        let reader = Reader {
            table: &table,
            stream: stream.as_str(),
            stats: Some(&stats),
        };
        let now_s = crate::durable::now_s();
        // `announce`: send the starting position as an id-only block, so
        // that a reconnect before the first event continues from it.
        let (position, announce) = match resume_from {
            Some(id) => match resume(&reader, &tail, &stream, id).await? {
                Resumed::Finished => return Ok(Open::Finished),
                Resumed::After(position) => (position, false),
            },
            None if from_now => match newest(&tail, &reader).await? {
                Some(last) if last.is_final => return Ok(Open::Finished),
                Some(last) if !last.expired(now_s) => (Some(last.id), true),
                // Empty, or everything expired: the next event is new.
                _ => (None, true),
            },
            None => match newest(&tail, &reader).await? {
                // Closed, and even its final event has expired.
                Some(last) if last.is_final && last.expired(now_s) => {
                    return Ok(Open::Finished);
                }
                _ => (None, false),
            },
        };
        let announced = announce.then(|| position.unwrap_or(EventId::BEFORE_FIRST));
        let log_id = stream.to_string();
        let mut events = follow(table, tail, stream, position, announced, &stats);
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

/// The stream's newest event as the shared tail last read it: no read of
/// its own for a new subscriber, however many arrive at once. A tail that
/// has not read lately (its process was frozen) is not trusted: then the
/// table is asked.
async fn newest(
    tail: &Subscription,
    reader: &Reader<'_>,
) -> Result<Option<Arc<Stored>>, NotOpened> {
    match tail.newest().await? {
        Newest::Known(newest) => Ok(newest),
        Newest::Stale => Ok(reader.last().await?.map(Arc::new)),
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

/// The id a client sent back, or the 400 that says what is wrong with it.
fn parse_last_event_id(stream: &StreamName, text: &str) -> Result<EventId, Refusal> {
    EventId::parse(text, stream).map_err(|error| {
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
    })
}

/// Where a subscriber that saw `id` resumes: from the shared tail's buffer
/// when it still holds that event, else from the table.
async fn resume(
    reader: &Reader<'_>,
    tail: &Subscription,
    stream: &StreamName,
    id: EventId,
) -> Result<Resumed, NotOpened> {
    if id == EventId::BEFORE_FIRST {
        return Ok(Resumed::After(None));
    }
    let items: Vec<Arc<Stored>> = match tail.find(id) {
        Some((seen, next)) => [Some(seen), next].into_iter().flatten().collect(),
        None => reader
            .from(id.seq, 2)
            .await?
            .into_iter()
            .map(Arc::new)
            .collect(),
    };
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

fn kib(kib: u32) -> usize {
    usize::try_from(kib).map_or(usize::MAX, |kib| kib.saturating_mul(1024))
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
    Store(SourceError),
}

impl From<Refusal> for NotOpened {
    fn from(refusal: Refusal) -> Self {
        Self::Refused(refusal)
    }
}

impl From<ReadError> for NotOpened {
    fn from(error: ReadError) -> Self {
        Self::Store(error.into())
    }
}

impl From<TailFailed> for NotOpened {
    fn from(error: TailFailed) -> Self {
        Self::Store(error.into())
    }
}

/// One subscriber's response: its own position, events from the shared
/// tail's buffer, and its own reads of the table for what came before it.
struct Follow {
    /// Reads and publish-to-send lags, for the response's metrics.
    stats: Arc<StoreStats>,
    /// An id to send before any event (see `start`).
    announce: Option<EventId>,
    table: Table,
    tail: Subscription,
    changed: watch::Receiver<()>,
    stream: StreamName,
    /// The last event sent (or skipped past with `from=now`).
    position: Option<EventId>,
    /// Before the first event: where the next read starts, past expired
    /// events a new subscriber skips.
    skipped_to: u64,
    /// Events read from the table, before the buffer's oldest.
    read: VecDeque<Arc<Stored>>,
    /// Sent an event from the buffer: falling out of it now means behind.
    served: bool,
    /// The table held nothing between this subscriber and the buffer at
    /// its last read: take the buffer's oldest event next.
    skip: bool,
    ended: bool,
}

fn follow(
    table: Table,
    tail: Subscription,
    stream: StreamName,
    position: Option<EventId>,
    announce: Option<EventId>,
    stats: &Arc<StoreStats>,
) -> Events {
    let state = Follow {
        stats: Arc::clone(stats),
        announce,
        table,
        changed: tail.watch(),
        tail,
        stream,
        position,
        skipped_to: 0,
        read: VecDeque::new(),
        served: false,
        skip: false,
        ended: false,
    };
    Events::new(stream::unfold(state, |mut state| async move {
        let next = state.next().await?;
        Some((next, state))
    }))
}

impl Follow {
    async fn next(&mut self) -> Option<Result<Event, SourceError>> {
        loop {
            if self.ended {
                return None;
            }
            if let Some(id) = self.announce.take() {
                return Some(Event::new().id(id.render(&self.stream)).map_err(Into::into));
            }
            let want = self
                .position
                .map_or(self.skipped_to, |at| at.seq.saturating_add(1));
            let (item, buffered) = match self.read.pop_front() {
                Some(item) => (item, false),
                None => {
                    // Seen before looking, so a change in between still wakes.
                    self.changed.borrow_and_update();
                    match self.tail.next(want, self.served, self.skip) {
                        Next::Event(item) => {
                            self.skip = false;
                            (item, true)
                        }
                        Next::Wait => {
                            if self.changed.changed().await.is_err() {
                                // Cannot happen while this subscription holds the tail.
                                self.ended = true;
                                return Some(Err("the shared tail is gone".into()));
                            }
                            continue;
                        }
                        Next::Backfill => {
                            if let Err(error) = self.backfill(want).await {
                                self.ended = true;
                                return Some(Err(error.into()));
                            }
                            continue;
                        }
                        Next::Behind => {
                            self.ended = true;
                            return Some(Err(Behind.into()));
                        }
                        Next::Over => return None,
                        Next::Failed(error) => {
                            self.ended = true;
                            return Some(Err(error.into()));
                        }
                    }
                }
            };
            if item.id.seq < want {
                continue; // Already sent: the table and the buffer overlap.
            }
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
            self.served |= buffered;
            self.stats.sent(item.published_ms);
            return Some(event(&self.stream, &item));
        }
    }

    /// Reads a page from `want` on from the table. An empty page means the
    /// table holds nothing before the buffer: take the buffer's oldest next.
    async fn backfill(&mut self, want: u64) -> Result<(), ReadError> {
        let reader = Reader {
            table: &self.table,
            stream: self.stream.as_str(),
            stats: Some(&self.stats),
        };
        let (items, _) = reader.page(want, PAGE).await?;
        self.skip = items.is_empty();
        self.read.extend(items.into_iter().map(Arc::new));
        Ok(())
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
