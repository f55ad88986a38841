//! One event as a DynamoDB item (the layout is in the module's docs).

use super::EventId;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

pub(crate) const STREAM: &str = "stream";
pub(crate) const SEQ: &str = "seq";
pub(crate) const GENERATION: &str = "gen";
pub(crate) const TYPE: &str = "type";
pub(crate) const DATA: &str = "data";
pub(crate) const FINAL: &str = "final";
pub(crate) const PUBLISHED: &str = "published";
pub(crate) const EXPIRES: &str = "expires";
pub(crate) const TOKEN: &str = "token";

/// An event as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stored {
    pub id: EventId,
    pub event_type: String,
    pub data: String,
    pub is_final: bool,
    pub published_ms: u64,
    pub expires_s: u64,
    /// The writer's random token: lets a writer whose write was retried
    /// recognise its own item when the retry meets the condition.
    pub token: Option<String>,
}

/// An item that does not hold what the layout says: written by hand or by
/// a writer that broke the rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("item {seq} of stream {stream:?} has no valid {attribute} attribute")]
pub(crate) struct BadItem {
    pub stream: String,
    pub seq: String,
    pub attribute: &'static str,
}

impl Stored {
    pub fn to_item(&self, stream: &str) -> HashMap<String, AttributeValue> {
        let number = |n: u64| AttributeValue::N(n.to_string());
        let mut item = HashMap::from([
            (STREAM.to_owned(), AttributeValue::S(stream.to_owned())),
            (SEQ.to_owned(), number(self.id.seq)),
            (GENERATION.to_owned(), number(self.id.generation)),
            (TYPE.to_owned(), AttributeValue::S(self.event_type.clone())),
            (DATA.to_owned(), AttributeValue::S(self.data.clone())),
            (PUBLISHED.to_owned(), number(self.published_ms)),
            (EXPIRES.to_owned(), number(self.expires_s)),
        ]);
        if self.is_final {
            item.insert(FINAL.to_owned(), AttributeValue::Bool(true));
        }
        if let Some(token) = &self.token {
            item.insert(TOKEN.to_owned(), AttributeValue::S(token.clone()));
        }
        item
    }

    pub fn from_item(item: &HashMap<String, AttributeValue>) -> Result<Self, BadItem> {
        let stream = item
            .get(STREAM)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .unwrap_or_default();
        let seq_text = item
            .get(SEQ)
            .and_then(|v| v.as_n().ok())
            .cloned()
            .unwrap_or_default();
        let bad = |attribute| BadItem {
            stream: stream.clone(),
            seq: seq_text.clone(),
            attribute,
        };
        let number = |name: &'static str| {
            item.get(name)
                .and_then(|v| v.as_n().ok())
                .and_then(|n| n.parse::<u64>().ok())
                .ok_or_else(|| bad(name))
        };
        let text = |name: &'static str| {
            item.get(name)
                .and_then(|v| v.as_s().ok())
                .cloned()
                .ok_or_else(|| bad(name))
        };
        Ok(Self {
            id: EventId {
                generation: number(GENERATION)?,
                seq: number(SEQ)?,
            },
            event_type: text(TYPE)?,
            data: text(DATA)?,
            is_final: match item.get(FINAL) {
                None => false,
                Some(value) => *value.as_bool().map_err(|_| bad(FINAL))?,
            },
            published_ms: number(PUBLISHED).unwrap_or(0),
            expires_s: number(EXPIRES)?,
            token: item.get(TOKEN).and_then(|v| v.as_s().ok()).cloned(),
        })
    }

    /// Whether the event is past its retention at `now_s` (epoch seconds):
    /// DynamoDB deletes such items late (within days), so readers skip them.
    pub fn expired(&self, now_s: u64) -> bool {
        self.expires_s <= now_s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_reads_back_as_written() {
        let stored = Stored {
            id: EventId {
                generation: 5,
                seq: 9,
            },
            event_type: "progress".into(),
            data: "line 1\nline 2".into(),
            is_final: true,
            published_ms: 1_000,
            expires_s: 2_000,
            token: Some("t".into()),
        };
        assert_eq!(Stored::from_item(&stored.to_item("s")), Ok(stored.clone()));
        let mut item = stored.to_item("s");
        item.remove(DATA);
        assert_eq!(Stored::from_item(&item).unwrap_err().attribute, DATA);
    }
}
