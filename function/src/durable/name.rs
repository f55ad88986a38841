//! Stream names: what a producer and the path `/streams/{name}` may use.

use crate::number::quoted;
use std::fmt;

/// A stream's name: 1 to 128 characters of `A-Z`, `a-z`, `0-9`, `-`, `_`
/// and `.`, so that it needs no escaping in a path, a shell or a log line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamName(String);

/// A name outside the alphabet or the length.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "stream name {} is not 1 to {max} characters of A-Z, a-z, 0-9, '-', '_' and '.'",
    quoted(.0),
    max = StreamName::MAX_LEN
)]
pub struct StreamNameError(String);

impl StreamName {
    /// The longest name.
    pub const MAX_LEN: usize = 128;
    /// The characters allowed besides ASCII letters and digits.
    pub const PUNCTUATION: &str = "-_.";

    /// Checks `name` against the alphabet and the length.
    pub fn new(name: &str) -> Result<Self, StreamNameError> {
        let allowed =
            |b: u8| b.is_ascii_alphanumeric() || Self::PUNCTUATION.as_bytes().contains(&b);
        if (1..=Self::MAX_LEN).contains(&name.len()) && name.bytes().all(allowed) {
            Ok(Self(name.to_owned()))
        } else {
            Err(StreamNameError(crate::number::shorten(name)))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StreamName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for StreamName {
    type Err = StreamNameError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::new(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_within_the_alphabet_and_length_are_accepted() {
        for name in ["a", "job-42", "Build_7.log", &"x".repeat(128)] {
            assert_eq!(StreamName::new(name).unwrap().as_str(), name);
        }
    }

    #[test]
    fn other_names_are_refused_with_the_rule() {
        for name in ["", "a b", "a/b", "é", "a\nb", "a:b", &"x".repeat(129)] {
            let error = StreamName::new(name).unwrap_err().to_string();
            assert!(error.contains("1 to 128 characters of A-Z"), "{error}");
        }
    }
}
