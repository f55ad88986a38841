//! The Server-Sent Events encoder: an [`Event`] builder that refuses what a
//! client would misread, and writes UTF-8 with LF line endings.
//!
//! Field order on the wire is fixed (`id`, `event`, `retry`, `data`) so that
//! output is byte-for-byte predictable; the order has no meaning to a client.

use bytes::{BufMut, Bytes, BytesMut};
use std::time::Duration;

/// A field value that would change the meaning of the stream if written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// CR or LF would end the line early and start a new field.
    #[error("the SSE `{field}` field must not contain a line break (CR or LF)")]
    LineBreak {
        /// The field that held the line break.
        field: &'static str,
    },
    /// Clients ignore an `id` that holds NUL.
    #[error("the SSE `id` field must not contain NUL")]
    NulInId,
    /// A client sends the id back in the `Last-Event-ID` header, where a
    /// control character is not allowed: the id would not come back.
    #[error(
        "the SSE `id` field must not contain a control character: it could not come back in the Last-Event-ID header"
    )]
    ControlInId,
}

/// An event type fixed in the program's text, checked when it is compiled:
/// `const PROGRESS: EventType = EventType::new("progress");` fails the build
/// if the name holds CR or LF, so setting it on an [`Event`] cannot fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventType(&'static str);

impl EventType {
    /// Use in a `const`, so a bad name is a compile error, not a panic.
    pub const fn new(name: &'static str) -> Self {
        let bytes = name.as_bytes();
        let mut at = 0;
        while at < bytes.len() {
            assert!(
                bytes[at] != b'\r' && bytes[at] != b'\n',
                "an SSE event type must not contain CR or LF"
            );
            at += 1;
        }
        Self(name)
    }
}

/// One block of the stream: optional comment, `id`, `event`, `retry` and `data`.
///
/// Build it with the setters, then [`Event::encode`] it. Setters for fields
/// that must stay on one line return an error instead of writing a value a
/// client would split or ignore.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Event {
    comment: Option<String>,
    id: Option<String>,
    event: Option<String>,
    retry: Option<Duration>,
    data: Option<String>,
    /// Not written: when the source expects its next event (see [`Event::next_event_in`]).
    next_in: Option<Duration>,
}

impl Event {
    /// An empty event; see the setters.
    pub fn new() -> Self {
        Self::default()
    }

    /// A comment-only block (`: text`), which clients skip: used as a heartbeat.
    pub fn comment(text: impl Into<String>) -> Result<Self, EncodeError> {
        let text = text.into();
        refuse_line_breaks("comment", &text)?;
        Ok(Self {
            comment: Some(text),
            ..Self::default()
        })
    }

    /// Sets `id`, which the client sends back as `Last-Event-ID` on reconnect.
    pub fn id(mut self, id: impl Into<String>) -> Result<Self, EncodeError> {
        let id = id.into();
        refuse_line_breaks("id", &id)?;
        if id.contains('\0') {
            return Err(EncodeError::NulInId);
        }
        if id.chars().any(char::is_control) {
            return Err(EncodeError::ControlInId);
        }
        self.id = Some(id);
        Ok(self)
    }

    /// Sets the event type (`event`); without one a client dispatches `message`.
    pub fn event(mut self, event: impl Into<String>) -> Result<Self, EncodeError> {
        let event = event.into();
        refuse_line_breaks("event", &event)?;
        self.event = Some(event);
        Ok(self)
    }

    /// Sets an event type that was checked at compile time.
    pub fn event_type(mut self, event_type: EventType) -> Self {
        self.event = Some(event_type.0.to_owned());
        self
    }

    /// Sets the reconnection time the client waits after the stream ends.
    /// Sent in whole milliseconds.
    pub fn retry(mut self, retry: Duration) -> Self {
        self.retry = Some(retry);
        self
    }

    /// Sets the payload. Any line break (CRLF, CR or LF) starts a new `data`
    /// line; the client joins them back with LF.
    pub fn data(mut self, data: impl Into<String>) -> Self {
        self.data = Some(data.into());
        self
    }

    /// Says when the source expects its next event, counted from this one.
    /// Not part of the wire format: if the response must end before then (its
    /// window closes), the closing `reconnect` block asks the client to come
    /// back just when that event is due, instead of at once.
    pub fn next_event_in(mut self, after: Duration) -> Self {
        self.next_in = Some(after);
        self
    }

    /// The `id`, if set.
    pub fn id_value(&self) -> Option<&str> {
        self.id.as_deref()
    }

    pub(crate) fn next_in(&self) -> Option<Duration> {
        self.next_in
    }

    /// The event's bytes, ending with the blank line that dispatches it.
    pub fn encode(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(self.encoded_len_hint());
        self.encode_into(&mut out);
        out.freeze()
    }

    /// Appends the event's bytes to `out`.
    pub fn encode_into(&self, out: &mut BytesMut) {
        if let Some(comment) = &self.comment {
            put_field(out, "", comment);
        }
        if let Some(id) = &self.id {
            put_field(out, "id", id);
        }
        if let Some(event) = &self.event {
            put_field(out, "event", event);
        }
        if let Some(retry) = self.retry {
            put_field(out, "retry", &retry.as_millis().to_string());
        }
        if let Some(data) = &self.data {
            for line in lines(data) {
                put_field(out, "data", line);
            }
        }
        out.put_u8(b'\n');
    }

    /// Enough for most events in one allocation: field names are short, and
    /// a `data: ` prefix costs 6 bytes a line, lines averaging over 24 bytes.
    fn encoded_len_hint(&self) -> usize {
        let text = |s: &Option<String>| s.as_ref().map_or(0, |s| s.len() + 8);
        let data = self.data.as_ref().map_or(0, |d| d.len() + d.len() / 4 + 8);
        text(&self.comment) + text(&self.id) + text(&self.event) + 32 + data
    }
}

fn refuse_line_breaks(field: &'static str, value: &str) -> Result<(), EncodeError> {
    if value.contains(['\r', '\n']) {
        Err(EncodeError::LineBreak { field })
    } else {
        Ok(())
    }
}

/// Writes `name: value\n`; the space is always written so a value that starts
/// with a space keeps it (the client strips exactly one).
fn put_field(out: &mut BytesMut, name: &str, value: &str) {
    out.put_slice(name.as_bytes());
    out.put_slice(b": ");
    out.put_slice(value.as_bytes());
    out.put_u8(b'\n');
}

/// Splits on CRLF, CR and LF alike, as an SSE client does. Unlike
/// `str::lines`, a trailing break yields a final empty line, so `"a\n"` is
/// sent as two `data` lines and comes back as `"a\n"`. CR and LF are ASCII,
/// so cutting the bytes there keeps every piece valid UTF-8; `memchr2` finds
/// them with SIMD, which is most of the encoder's time on a large payload.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let current = rest?;
        match memchr::memchr2(b'\r', b'\n', current.as_bytes()) {
            Some(at) => {
                let skip = if current.as_bytes()[at..].starts_with(b"\r\n") {
                    2
                } else {
                    1
                };
                rest = Some(&current[at + skip..]);
                Some(&current[..at])
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(event: &Event) -> String {
        String::from_utf8(event.encode().to_vec()).expect("encoder writes UTF-8")
    }

    #[test]
    fn writes_every_field_in_a_fixed_order() {
        let event = Event::new()
            .data("{\"step\":1}")
            .retry(Duration::from_millis(5000))
            .event("progress")
            .unwrap()
            .id("job:1")
            .unwrap();
        assert_eq!(
            text(&event),
            "id: job:1\nevent: progress\nretry: 5000\ndata: {\"step\":1}\n\n"
        );
    }

    #[test]
    fn splits_data_on_lf_cr_and_crlf() {
        let event = Event::new().data("a\nb\rc\r\nd");
        assert_eq!(text(&event), "data: a\ndata: b\ndata: c\ndata: d\n\n");
    }

    #[test]
    fn keeps_empty_lines_and_a_trailing_break_in_data() {
        assert_eq!(
            text(&Event::new().data("a\n\nb\n")),
            "data: a\ndata: \ndata: b\ndata: \n\n"
        );
        assert_eq!(
            text(&Event::new().data("\r\n\r")),
            "data: \ndata: \ndata: \n\n"
        );
    }

    #[test]
    fn a_crlf_pair_is_one_break_but_lf_cr_is_two() {
        assert_eq!(
            text(&Event::new().data("a\n\rb")),
            "data: a\ndata: \ndata: b\n\n"
        );
    }

    #[test]
    fn empty_data_is_still_one_data_line() {
        // An empty data buffer would not be dispatched; one `data: ` line is.
        assert_eq!(text(&Event::new().data("")), "data: \n\n");
    }

    #[test]
    fn keeps_a_leading_space() {
        assert_eq!(text(&Event::new().data(" x")), "data:  x\n\n");
        assert_eq!(text(&Event::new().id(" 7").unwrap()), "id:  7\n\n");
    }

    #[test]
    fn writes_unicode_as_utf8_without_bom() {
        let bytes = Event::new().data("héllo → 世界 🚀\u{2028}z").encode();
        assert_eq!(
            &bytes[..],
            "data: héllo → 世界 🚀\u{2028}z\n\n".as_bytes(),
            "U+2028 is not a line break in SSE"
        );
        assert!(!bytes.starts_with(&[0xEF, 0xBB, 0xBF]));
    }

    #[test]
    fn retry_is_whole_milliseconds() {
        assert_eq!(
            text(
                &Event::new()
                    .retry(Duration::from_micros(2_500_900))
                    .data("x")
            ),
            "retry: 2500\ndata: x\n\n"
        );
    }

    #[test]
    fn comment_block() {
        assert_eq!(
            text(&Event::comment("keep-alive").unwrap()),
            ": keep-alive\n\n"
        );
        assert_eq!(text(&Event::comment("").unwrap()), ": \n\n");
    }

    #[test]
    fn refuses_line_breaks_in_single_line_fields() {
        for bad in ["a\nb", "a\rb", "a\r\nb", "\n", "end\r"] {
            assert_eq!(
                Event::new().id(bad),
                Err(EncodeError::LineBreak { field: "id" })
            );
            assert_eq!(
                Event::new().event(bad),
                Err(EncodeError::LineBreak { field: "event" })
            );
            assert_eq!(
                Event::comment(bad),
                Err(EncodeError::LineBreak { field: "comment" })
            );
        }
    }

    #[test]
    fn refuses_nul_in_id_only() {
        assert_eq!(Event::new().id("a\0b"), Err(EncodeError::NulInId));
        assert_eq!(Event::new().id("a\u{1}b"), Err(EncodeError::ControlInId));
        assert_eq!(Event::new().id("a\u{85}b"), Err(EncodeError::ControlInId));
        assert!(
            Event::new().id("caf\u{e9} \u{1f600}").is_ok(),
            "any other text"
        );
        assert_eq!(
            text(&Event::new().event("a\0b").unwrap()),
            "event: a\0b\n\n"
        );
        assert_eq!(text(&Event::new().data("a\0b")), "data: a\0b\n\n");
    }

    #[test]
    fn errors_name_the_field() {
        let err = Event::new().event("x\ny").unwrap_err();
        assert_eq!(
            err.to_string(),
            "the SSE `event` field must not contain a line break (CR or LF)"
        );
    }

    #[test]
    fn checked_event_types_are_written_like_event() {
        const PROGRESS: EventType = EventType::new("progress");
        assert_eq!(
            Event::new().event_type(PROGRESS).data("x"),
            Event::new().event("progress").unwrap().data("x")
        );
    }

    #[test]
    #[should_panic(expected = "must not contain CR or LF")]
    fn an_event_type_with_a_line_break_does_not_build() {
        // In a `const` this is a compile error; called at run time it panics.
        let name = String::from("a\nb").leak();
        EventType::new(name);
    }

    #[test]
    fn encode_into_appends() {
        let mut out = BytesMut::from(&b"prefix\n"[..]);
        Event::new().data("x").encode_into(&mut out);
        assert_eq!(&out[..], b"prefix\ndata: x\n\n");
    }
}
