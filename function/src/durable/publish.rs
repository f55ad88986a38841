//! Appending to a durable stream, by the rule in the module's docs.

use super::{
    DEFAULT_RETENTION_HOURS, EventId, MAX_DATA_BYTES, MAX_TYPE_BYTES, ReadError, Reader,
    StreamName, Table,
    item::{SEQ, Stored},
    table::TableError,
};
use crate::number::NumberError;
use crate::settings::Variable;
use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

/// `SSE_RETENTION_HOURS`: how long a producer's events are kept (read by
/// producers; the function only skips what has expired).
pub const RETENTION_HOURS: Variable = Variable {
    name: "SSE_RETENTION_HOURS",
    key: "retentionHours",
    range: 1..=8_760,
    default: DEFAULT_RETENTION_HOURS,
    unit: "h",
    meaning: "how long published events are kept before they expire (DynamoDB TTL)",
};

/// Conflicts with other producers tolerated for one event before giving up:
/// each one means another event was appended meanwhile, so reaching this
/// takes dozens of producers writing one stream flat out.
const MAX_CONFLICTS: u32 = 100;

/// Appends events to durable streams. Cheap to share (`&self` everywhere):
/// build one per process. It remembers the last position it wrote to each
/// stream, so a producer that writes alone pays one write per event; when
/// another producer got there first it reads the stream's end again.
///
/// Throttled writes are retried by the SDK client's retry policy (standard
/// mode: 3 attempts; configure more on the client when writing in bursts).
#[derive(Debug)]
pub struct Publisher {
    table: Table,
    retention: Duration,
    heads: Mutex<HashMap<String, (EventId, u64)>>,
}

/// Why an event was not appended.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The event type is empty, too long, or holds a control character.
    #[error(
        "event type {0} is not 1 to {MAX_TYPE_BYTES} bytes without control characters (such as line breaks)"
    )]
    InvalidType(String),
    /// The data is empty: a browser's EventSource does not deliver an event
    /// without data.
    #[error(
        "data is empty; an event must carry data (a browser's EventSource drops an event without it)"
    )]
    EmptyData,
    /// The data is larger than [`MAX_DATA_BYTES`].
    #[error("data is {bytes} bytes; an event carries at most {MAX_DATA_BYTES} bytes (64 KiB)")]
    DataTooLarge {
        /// Its size in bytes of UTF-8.
        bytes: usize,
    },
    /// The stream already received its final event.
    #[error("stream {0} is closed: it has received its final event; publish to a new stream")]
    StreamClosed(String),
    /// The stream's position counter is exhausted (only a direct writer
    /// that broke the layout can get it there).
    #[error("stream {0} cannot take more events: its last position is the largest there is")]
    StreamFull(String),
    /// Other producers kept taking the next position.
    #[error("gave up on stream {0} after {MAX_CONFLICTS} conflicts with other producers")]
    Contention(String),
    /// DynamoDB refused or failed the write (after the client's retries).
    #[error("write to table {table} failed: {detail}")]
    Write {
        /// The table.
        table: String,
        /// The SDK's description of the failure.
        detail: String,
    },
    /// Reading the stream's end failed.
    #[error("{0}")]
    Read(String),
    /// `SSE_TABLE_NAME` is missing.
    #[error(transparent)]
    Table(#[from] TableError),
    /// `SSE_RETENTION_HOURS` is not usable.
    #[error("environment variable SSE_RETENTION_HOURS {0}")]
    Retention(NumberError),
}

impl From<ReadError> for PublishError {
    fn from(error: ReadError) -> Self {
        Self::Read(error.to_string())
    }
}

impl Publisher {
    /// A publisher to `table` that keeps events for 24 hours.
    pub fn new(table: Table) -> Self {
        Self {
            table,
            retention: Duration::from_secs(u64::from(DEFAULT_RETENTION_HOURS) * 3600),
            heads: Mutex::default(),
        }
    }

    /// The table named by `SSE_TABLE_NAME` (see [`Table::from_env`]),
    /// keeping events for `SSE_RETENTION_HOURS` (1 to 8760, default 24).
    pub async fn from_env() -> Result<Self, PublishError> {
        let hours = retention_hours_from_env()?;
        let table = Table::from_env().await?;
        Ok(Self::new(table).retention(Duration::from_secs(u64::from(hours) * 3600)))
    }

    /// How long the events this publisher writes are kept: at least a
    /// second, at most the longest `SSE_RETENTION_HOURS` allows. Use one
    /// retention for all producers of a stream.
    pub fn retention(mut self, retention: Duration) -> Self {
        let longest = Duration::from_secs(u64::from(*RETENTION_HOURS.range.end()) * 3600);
        self.retention = retention.clamp(Duration::from_secs(1), longest);
        self
    }

    /// Appends an event of type `event_type` (`message` is what a client
    /// dispatches by default) and returns its id, as subscribers see it.
    pub async fn append(
        &self,
        stream: &StreamName,
        event_type: &str,
        data: &str,
    ) -> Result<String, PublishError> {
        self.write(stream, event_type, data, false).await
    }

    /// Appends the stream's final event: subscribers receive it, their
    /// responses end, and a reconnect gets 204. Nothing can follow it.
    pub async fn append_final(
        &self,
        stream: &StreamName,
        event_type: &str,
        data: &str,
    ) -> Result<String, PublishError> {
        self.write(stream, event_type, data, true).await
    }

    async fn write(
        &self,
        stream: &StreamName,
        event_type: &str,
        data: &str,
        is_final: bool,
    ) -> Result<String, PublishError> {
        check_event(event_type, data)?;
        let reader = Reader {
            table: &self.table,
            stream: stream.as_str(),
            stats: None,
        };
        // One token for every attempt at this event (see `Stored::token`).
        let token = uuid::Uuid::new_v4().simple().to_string();
        let mut known = self.head(stream.as_str());
        for _ in 0..MAX_CONFLICTS {
            let last = match known.take() {
                Some(head) => Some(head),
                None => match reader.last().await? {
                    Some(last) if last.is_final => {
                        return Err(PublishError::StreamClosed(stream.to_string()));
                    }
                    Some(last) => Some((last.id, last.expires_s)),
                    None => None,
                },
            };
            let (now_ms, now_s) = now();
            let full = || PublishError::StreamFull(stream.to_string());
            let id = match last {
                None => EventId {
                    generation: now_ms,
                    seq: 1,
                },
                // Past its retention: the events before it may be gone in
                // any order, so a new generation tells subscribers that held
                // an old id that theirs expired.
                Some((last, expires_s)) if expires_s <= now_s => EventId {
                    generation: now_ms.max(last.generation.checked_add(1).ok_or_else(full)?),
                    seq: last.seq.checked_add(1).ok_or_else(full)?,
                },
                Some((last, _)) => EventId {
                    generation: last.generation,
                    seq: last.seq.checked_add(1).ok_or_else(full)?,
                },
            };
            // Never before the event it follows: an event may only expire
            // after the ones before it, or a writer could take its position
            // again while they are still kept.
            let expires_s = (now_s.saturating_add(self.retention.as_secs()))
                .max(last.map_or(0, |(_, expires_s)| expires_s));
            let stored = Stored {
                id,
                event_type: event_type.to_owned(),
                data: data.to_owned(),
                is_final,
                published_ms: now_ms,
                expires_s,
                token: Some(token.clone()),
            };
            let put = self
                .table
                .client
                .put_item()
                .table_name(&self.table.name)
                .set_item(Some(stored.to_item(stream.as_str())))
                .condition_expression("attribute_not_exists(#seq)")
                .expression_attribute_names("#seq", SEQ)
                .send()
                .await;
            match put {
                Ok(_) => {}
                Err(error)
                    if error
                        .as_service_error()
                        .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
                {
                    // Another producer wrote this position, or an attempt of
                    // ours did and its answer was lost: look.
                    self.remember(stream.as_str(), None);
                    let taken = reader.from(id.seq, 1).await?;
                    let ours = taken
                        .first()
                        .is_some_and(|item| item.id == id && item.token.as_ref() == Some(&token));
                    if !ours {
                        continue;
                    }
                }
                Err(error) => {
                    return Err(PublishError::Write {
                        table: self.table.name.clone(),
                        detail: super::table::describe(&error),
                    });
                }
            }
            self.remember(stream.as_str(), (!is_final).then_some((id, expires_s)));
            return Ok(id.render(stream));
        }
        Err(PublishError::Contention(stream.to_string()))
    }

    /// The last position this publisher knows, unless it has expired since.
    fn head(&self, stream: &str) -> Option<(EventId, u64)> {
        let heads = self.heads.lock().ok()?;
        let (id, expires_s) = heads.get(stream)?;
        (*expires_s > now().1).then_some((*id, *expires_s))
    }

    fn remember(&self, stream: &str, head: Option<(EventId, u64)>) {
        if let Ok(mut heads) = self.heads.lock() {
            match head {
                Some(head) => heads.insert(stream.to_owned(), head),
                None => heads.remove(stream),
            };
        }
    }
}

/// Checks an event before anything is written.
pub(crate) fn check_event(event_type: &str, data: &str) -> Result<(), PublishError> {
    if event_type.is_empty()
        || event_type.len() > MAX_TYPE_BYTES
        || event_type.chars().any(char::is_control)
    {
        return Err(PublishError::InvalidType(crate::number::quoted(
            &crate::number::shorten(event_type),
        )));
    }
    if data.is_empty() {
        return Err(PublishError::EmptyData);
    }
    if data.len() > MAX_DATA_BYTES {
        return Err(PublishError::DataTooLarge { bytes: data.len() });
    }
    Ok(())
}

/// `SSE_RETENTION_HOURS`, or the default when unset.
pub fn retention_hours_from_env() -> Result<u32, PublishError> {
    RETENTION_HOURS
        .read(&|name| std::env::var(name).ok())
        .map_err(|error| PublishError::Retention(error.problem))
}

/// Now, in epoch milliseconds and seconds.
pub(crate) fn now() -> (u64, u64) {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    (since.as_millis() as u64, since.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_checked_before_anything_is_written() {
        assert!(check_event("message", &"x".repeat(MAX_DATA_BYTES)).is_ok());
        assert!(check_event(&"t".repeat(MAX_TYPE_BYTES), "x").is_ok());
        assert!(matches!(
            check_event("message", ""),
            Err(PublishError::EmptyData)
        ));
        let too_large = check_event("message", &"x".repeat(MAX_DATA_BYTES + 1)).unwrap_err();
        assert_eq!(
            too_large.to_string(),
            "data is 65537 bytes; an event carries at most 65536 bytes (64 KiB)"
        );
        for bad in [
            "",
            "a\nb",
            "a\rb",
            "a\u{0}",
            &"t".repeat(MAX_TYPE_BYTES + 1),
        ] {
            assert!(
                matches!(check_event(bad, "x"), Err(PublishError::InvalidType(_))),
                "{bad:?}"
            );
        }
    }
}
