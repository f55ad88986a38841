//! The table: its name and client, read from the environment, and how to
//! create it with the layout the CDK app deploys.

use super::item::{EXPIRES, SEQ, STREAM};
use aws_sdk_dynamodb::{
    Client,
    error::{ProvideErrorMetadata, SdkError},
    types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
        TimeToLiveSpecification,
    },
};

/// `SSE_TABLE_NAME`: the table that holds the durable streams.
pub const TABLE_NAME_VARIABLE: &str = "SSE_TABLE_NAME";

/// The lengths DynamoDB allows for a table name.
pub const TABLE_NAME_LEN: std::ops::RangeInclusive<usize> = 3..=255;
/// The characters DynamoDB allows in a table name besides ASCII letters and digits.
pub const TABLE_NAME_PUNCTUATION: &str = "_.-";

/// A DynamoDB client and the name of the table it reads or writes.
#[derive(Debug, Clone)]
pub struct Table {
    pub(crate) client: Client,
    pub(crate) name: String,
}

/// The environment does not name a table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    /// `SSE_TABLE_NAME` is unset or empty.
    #[error(
        "environment variable SSE_TABLE_NAME is not set; set it to the name of the durable streams table"
    )]
    NoTableName,
    /// `SSE_TABLE_NAME` is not a DynamoDB table name.
    #[error(
        "environment variable SSE_TABLE_NAME is {0}, not a table name (3 to 255 characters of A-Z, a-z, 0-9, '_', '-' and '.')"
    )]
    InvalidTableName(String),
}

impl Table {
    /// A table reached through `client`.
    pub fn new(client: Client, name: impl Into<String>) -> Self {
        Self {
            client,
            name: name.into(),
        }
    }

    /// The table named by `SSE_TABLE_NAME`, reached with the AWS SDK's
    /// standard configuration: region, credentials, and
    /// `AWS_ENDPOINT_URL_DYNAMODB` (or `AWS_ENDPOINT_URL`) for a local endpoint.
    pub async fn from_env() -> Result<Self, TableError> {
        let name = table_name_from_env()?;
        let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Ok(Self::new(Client::new(&config), name))
    }

    /// The table's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The client.
    pub fn client(&self) -> &Client {
        &self.client
    }
}

/// `SSE_TABLE_NAME`, when set and not empty.
pub fn table_name_from_env() -> Result<String, TableError> {
    let name = std::env::var(TABLE_NAME_VARIABLE)
        .ok()
        .filter(|name| !name.is_empty())
        .ok_or(TableError::NoTableName)?;
    let allowed =
        |b: u8| b.is_ascii_alphanumeric() || TABLE_NAME_PUNCTUATION.as_bytes().contains(&b);
    if TABLE_NAME_LEN.contains(&name.len()) && name.bytes().all(allowed) {
        Ok(name)
    } else {
        Err(TableError::InvalidTableName(crate::number::quoted(
            &crate::number::shorten(&name),
        )))
    }
}

/// An SDK failure in one line: the service's code and message, or what
/// kept the request from reaching it.
pub(crate) fn describe<E, R>(error: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match error {
        SdkError::ServiceError(service) => {
            let error = service.err();
            format!(
                "{}: {}",
                error.code().unwrap_or("error"),
                error.message().unwrap_or("no message")
            )
        }
        // The chain of causes, without the SDK's debug dump.
        other => {
            let mut text = other.to_string();
            let mut cause = std::error::Error::source(other);
            while let Some(error) = cause {
                text.push_str(": ");
                text.push_str(&error.to_string());
                cause = error.source();
            }
            text
        }
    }
}

/// Creating the table failed.
#[derive(Debug, thiserror::Error)]
#[error("could not create table {table}: {detail}")]
pub struct CreateTableError {
    table: String,
    detail: String,
}

/// Creates the table (on-demand, `stream` + `seq` key, TTL on `expires`)
/// unless it exists, and returns whether it was created. Meant for local
/// endpoints and scripts; in AWS the CDK app creates it.
pub async fn create_table(table: &Table) -> Result<bool, CreateTableError> {
    let failed = |detail: String| CreateTableError {
        table: table.name.clone(),
        detail,
    };
    let key = |name: &str, key_type| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(key_type)
            .build()
            .map_err(|e| failed(e.to_string()))
    };
    let attribute = |name: &str, kind| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(kind)
            .build()
            .map_err(|e| failed(e.to_string()))
    };
    let created = table
        .client
        .create_table()
        .table_name(&table.name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(STREAM, KeyType::Hash)?)
        .key_schema(key(SEQ, KeyType::Range)?)
        .attribute_definitions(attribute(STREAM, ScalarAttributeType::S)?)
        .attribute_definitions(attribute(SEQ, ScalarAttributeType::N)?)
        .send()
        .await;
    let created = match created {
        Ok(_) => true,
        Err(error)
            if error
                .as_service_error()
                .is_some_and(|e| e.is_resource_in_use_exception()) =>
        {
            false
        }
        Err(error) => return Err(failed(describe(&error))),
    };
    if created {
        wait_until_active(table).await.map_err(failed)?;
        let ttl = TimeToLiveSpecification::builder()
            .attribute_name(EXPIRES)
            .enabled(true)
            .build()
            .map_err(|e| failed(e.to_string()))?;
        // Readers skip expired events themselves, so a local endpoint without
        // TTL support still behaves; in AWS the CDK app turns TTL on.
        if let Err(error) = table
            .client
            .update_time_to_live()
            .table_name(&table.name)
            .time_to_live_specification(ttl)
            .send()
            .await
        {
            tracing::debug!(error = describe(&error), "TTL not enabled");
        }
    }
    Ok(created)
}

/// A new table takes writes once ACTIVE (at once locally, seconds in AWS).
async fn wait_until_active(table: &Table) -> Result<(), String> {
    use aws_sdk_dynamodb::types::TableStatus;
    for _ in 0..240 {
        let described = table
            .client
            .describe_table()
            .table_name(&table.name)
            .send()
            .await
            .map_err(|e| describe(&e))?;
        if described.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active) {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    Err("the table did not become ACTIVE within 2 minutes".to_owned())
}
