//! The baseline: a minimal `lambda_runtime` streaming hello-world, built with
//! the workspace's release profile. It answers every invocation with a
//! streamed `text/event-stream` of `steps` small events, one every
//! `interval_ms` (query parameters of the Function URL event; 3 and 100 by
//! default), the first at once: the same schedule as the function's job.
//!
//! It is what a Rust Lambda with `lambda_runtime::run` costs and does before
//! any of our code: figures 1, 2 and 5 are ratios against it. With
//! `BENCH_NODELAY=1` it runs through `lambda_sse::runtime_client::run` (as
//! the function's `serve()` does) instead, to show that the figure 5 stall is
//! the runtime's and that the fix removes it from the plain runtime too.

use bytes::Bytes;
use futures_util::{Stream, stream};
use lambda_runtime::{
    Error, FunctionResponse, LambdaEvent, MetadataPrelude, StreamResponse, service_fn,
};
use serde_json::Value;
use std::{convert::Infallible, pin::Pin, time::Duration};
use tokio::time::{Instant, sleep_until};

type Body = Pin<Box<dyn Stream<Item = Result<Bytes, Infallible>> + Send>>;

async fn handler(event: LambdaEvent<Value>) -> Result<FunctionResponse<Value, Body>, Error> {
    let query = |name: &str, default: u64| {
        event.payload["queryStringParameters"][name]
            .as_str()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let steps = query("steps", 3);
    let interval = Duration::from_millis(query("interval_ms", 100));
    let start = Instant::now();
    let body: Body = Box::pin(stream::unfold(1, move |n| async move {
        if n > steps {
            return None;
        }
        sleep_until(start + interval * (n as u32 - 1)).await;
        let chunk = format!(
            "id: hello:{n}\nevent: progress\ndata: {{\"step\":{n},\"totalSteps\":{steps}}}\n\n"
        );
        Some((Ok(Bytes::from(chunk)), n + 1))
    }));
    let mut prelude = MetadataPrelude::default();
    prelude.headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/event-stream"),
    );
    Ok(FunctionResponse::StreamingResponse(StreamResponse {
        metadata_prelude: prelude,
        stream: body,
    }))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    if std::env::var_os("BENCH_NODELAY").is_some() {
        lambda_sse::runtime_client::run(service_fn(handler)).await
    } else {
        lambda_runtime::run(service_fn(handler)).await
    }
}
