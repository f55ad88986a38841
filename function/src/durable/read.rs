//! Reading a stream's log: strongly consistent queries only, so that an
//! event acknowledged to its producer is seen by the next read.

use super::{
    Table,
    item::{BadItem, SEQ, STREAM, Stored},
};
use aws_sdk_dynamodb::types::AttributeValue;

/// A read of the table failed, or found an item it cannot use.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadError {
    #[error("query of table {table} failed: {detail}")]
    Query { table: String, detail: String },
    #[error(transparent)]
    BadItem(#[from] BadItem),
}

/// Queries one stream.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    pub table: &'a Table,
    pub stream: &'a str,
    /// Counts each query, when a response's metrics want them.
    pub stats: Option<&'a crate::metrics::StoreStats>,
}

impl Reader<'_> {
    /// The event with the highest `seq`, if the stream has any.
    pub async fn last(&self) -> Result<Option<Stored>, ReadError> {
        Ok(self.query(0, 1, false).await?.0.into_iter().next())
    }

    /// Events from `seq` on (inclusive), in order: at most `limit`, fewer
    /// when DynamoDB's 1 MB page ends first.
    pub async fn from(&self, seq: u64, limit: i32) -> Result<Vec<Stored>, ReadError> {
        Ok(self.query(seq, limit, true).await?.0)
    }

    /// Like [`Reader::from`], and whether more events follow right away (the
    /// page ended at `limit` or at 1 MB).
    pub async fn page(&self, seq: u64, limit: i32) -> Result<(Vec<Stored>, bool), ReadError> {
        self.query(seq, limit, true).await
    }

    async fn query(
        &self,
        seq: u64,
        limit: i32,
        forward: bool,
    ) -> Result<(Vec<Stored>, bool), ReadError> {
        if let Some(stats) = self.stats {
            stats.read();
        }
        let output = self
            .table
            .client
            .query()
            .table_name(&self.table.name)
            .key_condition_expression("#stream = :stream AND #seq >= :seq")
            .expression_attribute_names("#stream", STREAM)
            .expression_attribute_names("#seq", SEQ)
            .expression_attribute_values(":stream", AttributeValue::S(self.stream.to_owned()))
            .expression_attribute_values(":seq", AttributeValue::N(seq.to_string()))
            .consistent_read(true)
            .scan_index_forward(forward)
            .limit(limit)
            .send()
            .await
            .map_err(|error| ReadError::Query {
                table: self.table.name.clone(),
                detail: super::table::describe(&error),
            })?;
        let more = output.last_evaluated_key().is_some();
        let items = output
            .items()
            .iter()
            .map(|item| Stored::from_item(item).map_err(ReadError::from))
            .collect::<Result<_, _>>()?;
        Ok((items, more))
    }
}
