//! `sse-publish`: appends events to a durable stream from a shell script or
//! a CI job. Configured by the AWS SDK's standard environment (region,
//! credentials, `AWS_ENDPOINT_URL_DYNAMODB`) plus `SSE_TABLE_NAME` and
//! `SSE_RETENTION_HOURS`. Prints each event's id; exits 2 on bad usage, 1
//! when an event could not be published.

use aws_sdk_dynamodb::config::retry::RetryConfig;
use lambda_sse::durable::{
    DEFAULT_TYPE, Publisher, StreamName, Table, create_table, retention_hours_from_env,
    table_name_from_env,
};
use std::{ffi::OsString, process::ExitCode, time::Duration};

const USAGE: &str = "\
usage: sse-publish --stream NAME [--event TYPE] [--final] DATA
       sse-publish --stream NAME [--event TYPE] --lines [--final]
       sse-publish --create-table

  --stream NAME   the stream (1 to 128 characters of A-Z a-z 0-9 - _ .)
  --event TYPE    the event type subscribers receive (default: message)
  --final         this is the stream's last event; with --lines, end the
                  stream at the end of input with a final `end` event
  --lines         publish each line of standard input as it arrives (empty
                  lines are skipped)
  --create-table  create the table SSE_TABLE_NAME names, unless it exists

environment: SSE_TABLE_NAME (required), SSE_RETENTION_HOURS (default 24),
AWS_REGION, credentials, AWS_ENDPOINT_URL_DYNAMODB for a local endpoint";

/// Write attempts per event when DynamoDB throttles (the SDK backs off
/// exponentially between them).
const WRITE_ATTEMPTS: u32 = 10;

#[derive(Debug, Default)]
struct Args {
    stream: Option<String>,
    event: Option<String>,
    is_final: bool,
    lines: bool,
    create_table: bool,
    data: Option<String>,
}

fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Args, String> {
    use lexopt::prelude::*;
    let mut parser = lexopt::Parser::from_args(args);
    let mut parsed = Args::default();
    let text = |value: OsString, what: &str| {
        value
            .into_string()
            .map_err(|_| format!("{what} is not valid UTF-8"))
    };
    while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
        match arg {
            Long("stream") => {
                parsed.stream = Some(text(
                    parser.value().map_err(|e| e.to_string())?,
                    "--stream",
                )?)
            }
            Long("event") => {
                parsed.event = Some(text(parser.value().map_err(|e| e.to_string())?, "--event")?)
            }
            Long("final") => parsed.is_final = true,
            Long("lines") => parsed.lines = true,
            Long("create-table") => parsed.create_table = true,
            Long("help") | Short('h') => return Err(String::new()),
            Value(value) if parsed.data.is_none() => parsed.data = Some(text(value, "DATA")?),
            other => return Err(other.unexpected().to_string()),
        }
    }
    let publishing = parsed.stream.is_some()
        || parsed.lines
        || parsed.data.is_some()
        || parsed.event.is_some()
        || parsed.is_final;
    match (parsed.create_table, publishing, parsed.lines, &parsed.data) {
        (true, true, _, _) => Err("--create-table takes no other arguments".into()),
        (true, false, _, _) => Ok(parsed),
        (false, _, _, _) if parsed.stream.is_none() => Err("--stream NAME is required".into()),
        (false, _, true, Some(_)) => Err("give DATA or --lines, not both".into()),
        (false, _, false, None) => {
            Err("DATA is required (or --lines to read standard input)".into())
        }
        _ => Ok(parsed),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match parse(std::env::args_os().skip(1)) {
        Ok(args) => args,
        Err(problem) if problem.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(problem) => {
            eprintln!("sse-publish: {problem}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(problem)) => {
            eprintln!("sse-publish: {problem}");
            ExitCode::from(2)
        }
        Err(Failure::Publish(problem)) => {
            eprintln!("sse-publish: {problem}");
            ExitCode::FAILURE
        }
    }
}

enum Failure {
    /// The input cannot be published as given.
    Usage(String),
    /// The table refused or failed.
    Publish(String),
}

async fn run(args: Args) -> Result<(), Failure> {
    let usage = |e: &dyn std::fmt::Display| Failure::Usage(e.to_string());
    let table_name = table_name_from_env().map_err(|e| usage(&e))?;
    let hours = retention_hours_from_env().map_err(|e| usage(&e))?;
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(WRITE_ATTEMPTS))
        .load()
        .await;
    let table = Table::new(aws_sdk_dynamodb::Client::new(&config), table_name);
    if args.create_table {
        let created = create_table(&table)
            .await
            .map_err(|e| Failure::Publish(e.to_string()))?;
        let name = table.name();
        println!(
            "{}",
            if created {
                format!("created table {name}")
            } else {
                format!("table {name} exists")
            }
        );
        return Ok(());
    }
    let stream =
        StreamName::new(args.stream.as_deref().unwrap_or_default()).map_err(|e| usage(&e))?;
    let event_type = args.event.as_deref().unwrap_or(DEFAULT_TYPE);
    let publisher = Publisher::new(table).retention(Duration::from_secs(u64::from(hours) * 3600));
    let publish = async |event_type: &str, data: &str, is_final: bool| {
        let published = if is_final {
            publisher.append_final(&stream, event_type, data).await
        } else {
            publisher.append(&stream, event_type, data).await
        };
        match published {
            Ok(id) => {
                println!("{id}");
                Ok(())
            }
            Err(
                error @ (lambda_sse::durable::PublishError::InvalidType(_)
                | lambda_sse::durable::PublishError::DataTooLarge { .. }
                | lambda_sse::durable::PublishError::EmptyData
                | lambda_sse::durable::PublishError::StreamClosed(_)),
            ) => Err(Failure::Usage(error.to_string())),
            Err(error) => Err(Failure::Publish(error.to_string())),
        }
    };
    if let Some(data) = &args.data {
        return publish(event_type, data, args.is_final).await;
    }
    let mut lines = stdin_lines();
    let mut count = 0u64;
    while let Some(line) = lines.recv().await {
        let line = line.map_err(|e| Failure::Usage(format!("standard input: {e}")))?;
        if !line.is_empty() {
            publish(event_type, &line, false).await?;
            count += 1;
        }
    }
    if args.is_final {
        publish("end", &format!("{{\"lines\":{count}}}"), true).await?;
    }
    Ok(())
}

/// Standard input's lines as they arrive, read on a thread of their own so
/// that a slow producer's line is published the moment it is written.
fn stdin_lines() -> tokio::sync::mpsc::Receiver<std::io::Result<String>> {
    let (send, receive) = tokio::sync::mpsc::channel(64);
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::stdin().lock().lines() {
            let line = line.map(|mut line| {
                if line.ends_with('\r') {
                    line.pop();
                }
                line
            });
            let failed = line.is_err();
            if send.blocking_send(line).is_err() || failed {
                break;
            }
        }
    });
    receive
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Result<Args, String> {
        parse(list.iter().map(OsString::from))
    }

    #[test]
    fn usage_errors_say_what_is_missing() {
        assert_eq!(args(&["hello"]).unwrap_err(), "--stream NAME is required");
        assert!(
            args(&["--stream", "a"])
                .unwrap_err()
                .contains("DATA is required")
        );
        assert!(
            args(&["--stream", "a", "--lines", "x"])
                .unwrap_err()
                .contains("not both")
        );
        assert!(
            args(&["--create-table", "--stream", "a"])
                .unwrap_err()
                .contains("no other")
        );
        assert!(
            args(&["--stream", "a", "x", "y"])
                .unwrap_err()
                .contains("\"y\"")
        );
        assert!(
            args(&["--stream"])
                .unwrap_err()
                .contains("missing argument")
        );
    }

    #[test]
    fn arguments_are_read() {
        let parsed = args(&["--stream", "job-1", "--event", "progress", "--final", "50%"]).unwrap();
        assert_eq!(parsed.stream.as_deref(), Some("job-1"));
        assert_eq!(parsed.event.as_deref(), Some("progress"));
        assert!(parsed.is_final && !parsed.lines);
        assert_eq!(parsed.data.as_deref(), Some("50%"));
        assert!(args(&["--create-table"]).unwrap().create_table);
        assert!(args(&["--stream", "a", "--lines"]).unwrap().lines);
    }
}
