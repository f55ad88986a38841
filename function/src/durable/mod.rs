//! Durable event streams: an ordered log per stream in a DynamoDB table,
//! appended to by any producer ([`Publisher`], the `sse-publish` CLI, or a
//! direct writer that follows the rules below) and followed by subscribers
//! through [`crate::sources::durable::DurableSource`].
//!
//! # Table layout
//! One item per event. Key: `stream` (S, partition) and `seq` (N, sort).
//! Attributes: `gen` (N), `type` (S), `data` (S), `final` (BOOL, only on a
//! stream's last event), `published` (N, epoch milliseconds) and `expires`
//! (N, epoch seconds, the table's TTL attribute).
//!
//! # The ordering rule every writer follows
//! Read the stream's last item with a strongly consistent query (`seq`
//! descending, limit 1). Write `seq` = its `seq` + 1 with its `gen`; when
//! there is no last item or it has expired, write a new generation: `gen` =
//! now in epoch milliseconds. Put the item on the condition
//! `attribute_not_exists(seq)`; when the condition fails another producer
//! took that `seq`: read the last item again and retry. Never write after an
//! item with `final`.
//!
//! A `seq` is only written after the one before it was read, so the `seq`s of
//! a generation have no holes: a reader that has read `n` never meets `n + 2`
//! before `n + 1`, and a hole can only mean events that expired.

mod id;
pub(crate) mod item;
mod name;
mod publish;
mod read;
mod table;

pub use id::{EventId, EventIdError};
pub use name::{StreamName, StreamNameError};
pub use publish::{PublishError, Publisher, RETENTION_HOURS, retention_hours_from_env};
pub use table::{
    CreateTableError, TABLE_NAME_LEN, TABLE_NAME_PUNCTUATION, TABLE_NAME_VARIABLE, Table,
    TableError, create_table, table_name_from_env,
};

pub(crate) use item::Stored;
pub(crate) use read::{ReadError, Reader};

/// The largest `data` a published event may carry, in bytes of UTF-8: small
/// enough that the worst case (every byte a line break or a control
/// character, as an ALB's JSON document escapes it) still fits one buffered
/// answer of 1 MB, and far below DynamoDB's 400 KB per item.
pub const MAX_DATA_BYTES: usize = 65_536;

/// The longest event type, in bytes.
pub const MAX_TYPE_BYTES: usize = 64;

/// The event type of an event published without one.
pub const DEFAULT_TYPE: &str = "message";

/// How long events are kept when the producer says nothing else.
pub const DEFAULT_RETENTION_HOURS: u32 = 24;

/// Now in epoch seconds, as the `expires` attribute counts.
pub(crate) fn now_s() -> u64 {
    publish::now().1
}
