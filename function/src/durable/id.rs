//! Event ids of durable streams: `<generation>-<seq>-<check>`, for example
//! `mi3k2a1c-42-3fa9c1`. The generation is written in base 36, the position
//! in decimal, and the check is 24 bits of a hash of the stream name, the
//! generation and the position, so that an id sent to the wrong stream (or
//! mistyped) is told apart from one whose event expired. The check is not a
//! secret: it catches mix-ups, not forgeries, and needs none.

use super::StreamName;
use std::fmt;

/// The position of one event in one stream's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventId {
    /// When the stream's current run of events began (epoch milliseconds):
    /// a stream idle for longer than its retention starts a new one.
    pub generation: u64,
    /// The event's place in the stream, from 1, without holes.
    pub seq: u64,
}

/// Why a text is not an id of a given stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EventIdError {
    /// Not of the form `<generation>-<seq>-<check>`.
    #[error("is not an id of the form <generation>-<seq>-<check> that a stream sends")]
    Shape,
    /// Well formed, but issued by another stream (or altered).
    #[error("was not issued by this stream")]
    OtherStream,
}

impl EventId {
    /// Not an event: the position before a stream's first event, sent to a
    /// `from=now` subscriber of an empty stream so that its reconnect
    /// continues from there. Writers never use generation 0.
    pub const BEFORE_FIRST: Self = Self {
        generation: 0,
        seq: 0,
    };
}

const CHECK_DIGITS: usize = 6;
/// Long enough for any id this module writes (13 + 1 + 20 + 1 + 6).
const MAX_LEN: usize = 48;

impl EventId {
    /// The id as sent to the subscribers of `stream`.
    pub fn render(&self, stream: &StreamName) -> String {
        format!(
            "{}-{}-{:0width$x}",
            Base36(self.generation),
            self.seq,
            check(stream, self.generation, self.seq),
            width = CHECK_DIGITS
        )
    }

    /// Reads an id that `stream` sent; anything else is refused, also ids
    /// in another spelling than the one this module writes.
    pub fn parse(text: &str, stream: &StreamName) -> Result<Self, EventIdError> {
        if text.len() > MAX_LEN {
            return Err(EventIdError::Shape);
        }
        let mut parts = text.split('-');
        let (Some(generation), Some(seq), Some(sum), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(EventIdError::Shape);
        };
        let generation = parse_base36(generation).ok_or(EventIdError::Shape)?;
        let seq = seq
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| seq.parse::<u64>().ok())
            .flatten()
            .filter(|seq| *seq >= 1 || generation == 0)
            .ok_or(EventIdError::Shape)?;
        if generation == 0 && seq != 0 {
            return Err(EventIdError::Shape);
        }
        if sum.len() != CHECK_DIGITS || !sum.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(EventIdError::Shape);
        }
        // Only the spelling this module writes: no leading zeros.
        if text.len() != format!("{}-{}-", Base36(generation), seq).len() + CHECK_DIGITS {
            return Err(EventIdError::Shape);
        }
        let id = Self { generation, seq };
        if id.render(stream) != text {
            return Err(EventIdError::OtherStream);
        }
        Ok(id)
    }
}

/// FNV-1a, 64 bits, folded to 24: small, fast and stable across releases,
/// which is all a check against mix-ups needs.
fn check(stream: &StreamName, generation: u64, seq: u64) -> u32 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for &b in bytes {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    feed(stream.as_str().as_bytes());
    feed(&[0]);
    feed(&generation.to_be_bytes());
    feed(&seq.to_be_bytes());
    ((hash >> 40) ^ (hash & 0xff_ffff)) as u32 & 0xff_ffff
}

struct Base36(u64);

impl fmt::Display for Base36 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut digits = [0u8; 13];
        let mut at = digits.len();
        let mut n = self.0;
        loop {
            at -= 1;
            let d = (n % 36) as u8;
            digits[at] = if d < 10 { b'0' + d } else { b'a' + d - 10 };
            n /= 36;
            if n == 0 {
                break;
            }
        }
        // Only ASCII digits and letters were written.
        f.write_str(std::str::from_utf8(&digits[at..]).unwrap_or_default())
    }
}

fn parse_base36(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'z')) {
        return None;
    }
    u64::from_str_radix(text, 36).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(name: &str) -> StreamName {
        StreamName::new(name).unwrap()
    }

    #[test]
    fn ids_are_compact_and_read_back() {
        let id = EventId {
            generation: 1_764_400_000_000,
            seq: 42,
        };
        let text = id.render(&stream("job-42"));
        assert!(text.len() <= 24, "{text}");
        assert!(text.starts_with("mijy7d34-42-"), "{text}");
        assert_eq!(EventId::parse(&text, &stream("job-42")), Ok(id));
    }

    #[test]
    fn an_id_of_another_stream_is_told_apart_from_a_malformed_one() {
        let id = EventId {
            generation: 1_764_400_000_000,
            seq: 7,
        };
        let text = id.render(&stream("a"));
        assert_eq!(
            EventId::parse(&text, &stream("b")),
            Err(EventIdError::OtherStream)
        );
        // Altered position, same check: not an id this stream sent.
        let altered = text.replace("-7-", "-8-");
        assert_eq!(
            EventId::parse(&altered, &stream("a")),
            Err(EventIdError::OtherStream)
        );
        for bad in [
            "",
            "x",
            "1-2",
            "1-2-3-4",
            "MIJW-1-abcdef",
            "mijw-0-abcdef",
            "0-1-abcdef",
            "mijw-01-abcdef",
            "mijw--abcdef",
            "mijw-1-abcde",
            "mijw-1-ABCDEF",
            "mijw-+1-abcdef",
            &"9".repeat(60),
        ] {
            assert_eq!(
                EventId::parse(bad, &stream("a")),
                Err(EventIdError::Shape),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn base36_round_trips() {
        for n in [0, 1, 35, 36, 1_764_400_000_000, u64::MAX] {
            assert_eq!(parse_base36(&Base36(n).to_string()), Some(n));
        }
    }
}
