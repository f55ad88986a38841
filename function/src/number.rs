//! Whole numbers within documented bounds, as read from query parameters and
//! environment variables. One parser, so both say the same thing about a bad value.

use std::ops::RangeInclusive;

/// Why a text is not an acceptable number; `Display` says what to send instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    /// Nothing was given.
    #[error("is empty; expected a whole number from {min} to {max}")]
    Empty {
        /// The smallest value allowed.
        min: u32,
        /// The largest value allowed.
        max: u32,
    },
    #[error(
        "is {}, not a whole number; expected one from {min} to {max}",
        quoted(value)
    )]
    /// Something other than ASCII digits.
    NotANumber {
        /// What was given (at most 64 characters of it).
        value: String,
        /// The smallest value allowed.
        min: u32,
        /// The largest value allowed.
        max: u32,
    },
    /// A number outside the range.
    #[error("is {value}, outside the allowed range {min} to {max}")]
    OutOfRange {
        /// What was given (at most 64 characters of it).
        value: String,
        /// The smallest value allowed.
        min: u32,
        /// The largest value allowed.
        max: u32,
    },
}

/// Parses ASCII digits only (no sign, no spaces, no exponent) within `range`.
pub fn parse_in_range(text: &str, range: &RangeInclusive<u32>) -> Result<u32, NumberError> {
    let (min, max) = (*range.start(), *range.end());
    if text.is_empty() {
        return Err(NumberError::Empty { min, max });
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NumberError::NotANumber {
            value: shorten(text),
            min,
            max,
        });
    }
    // All digits: the only parse failure left is overflow, which is out of range too.
    match text.parse::<u32>() {
        Ok(value) if range.contains(&value) => Ok(value),
        _ => Err(NumberError::OutOfRange {
            value: shorten(text),
            min,
            max,
        }),
    }
}

/// At most 64 characters of caller input, to echo back in a message
/// without letting the caller size our answers or logs.
pub(crate) fn shorten(text: &str) -> String {
    match text.char_indices().nth(64) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.to_owned(),
    }
}

/// Caller input as a message shows it: in double quotes, written as a JSON
/// string (the form the error body is read in), so a control character shows
/// as `\u0000` and never reaches a log line raw; any other character,
/// however unusual, is shown as itself.
pub(crate) fn quoted(text: &str) -> String {
    // Serializing a `str` cannot fail.
    serde_json::to_string(text).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const RANGE: RangeInclusive<u32> = 10..=60_000;

    #[test]
    fn accepts_the_bounds_and_between() {
        assert_eq!(parse_in_range("10", &RANGE), Ok(10));
        assert_eq!(parse_in_range("60000", &RANGE), Ok(60_000));
        assert_eq!(parse_in_range("0100", &RANGE), Ok(100));
    }

    #[test]
    fn refuses_what_is_not_plain_digits() {
        for text in ["-5", "+5", " 5", "5 ", "1e3", "5.0", "0x10", "٣٣"] {
            assert!(
                matches!(
                    parse_in_range(text, &RANGE),
                    Err(NumberError::NotANumber { .. })
                ),
                "{text:?}"
            );
        }
        assert_eq!(
            parse_in_range("", &RANGE),
            Err(NumberError::Empty {
                min: 10,
                max: 60_000
            })
        );
    }

    #[test]
    fn refuses_out_of_range_and_overflow() {
        for text in ["9", "60001", "99999999999999999999999"] {
            assert!(
                matches!(
                    parse_in_range(text, &RANGE),
                    Err(NumberError::OutOfRange { .. })
                ),
                "{text:?}"
            );
        }
    }

    #[test]
    fn echoed_input_is_quoted_as_a_reader_sees_it() {
        assert_eq!(quoted("stpes"), "\"stpes\"");
        assert_eq!(quoted("a\0b\nc"), "\"a\\u0000b\\nc\"");
        assert_eq!(quoted("\u{1080cd}\u{e9}"), "\"\u{1080cd}\u{e9}\"");
        assert_eq!(
            parse_in_range("1\u{0}", &RANGE).unwrap_err().to_string(),
            "is \"1\\u0000\", not a whole number; expected one from 10 to 60000"
        );
    }

    #[test]
    fn messages_say_what_is_allowed_and_stay_short() {
        assert_eq!(
            parse_in_range("abc", &RANGE).unwrap_err().to_string(),
            "is \"abc\", not a whole number; expected one from 10 to 60000"
        );
        let long = "x".repeat(500);
        let message = parse_in_range(&long, &RANGE).unwrap_err().to_string();
        assert!(message.len() < 140, "{message}");
    }
}
