//! What a stream draws its events from. The stream asks when the next event
//! is due, sleeps until then (or until a heartbeat or the end of its window),
//! and only then takes the event, so a source never runs ahead of its reader.

use crate::sse::EventType;
use std::time::Duration;

/// One event, ready for the encoder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceEvent {
    /// The SSE `id`: where a client resumes from.
    pub id: String,
    /// The SSE event type.
    pub kind: EventType,
    /// The payload (`data`).
    pub data: String,
}

/// A source that could not produce its next event.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SourceError(pub String);

/// A finite, ordered sequence of events, each due at a time of its own.
pub trait EventSource: Send + 'static {
    /// When the next event is due, counted from the start of the response;
    /// `None` once the last event has been taken.
    fn next_due(&self) -> Option<Duration>;

    /// Takes the next event. Called only after `next_due` said there is one
    /// and its time has come. An error ends the response with an `error` event.
    fn take_next(&mut self) -> Result<SourceEvent, SourceError>;
}
