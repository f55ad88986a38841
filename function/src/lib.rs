//! Server-Sent Events from AWS Lambda, with nothing lost.
//!
//! Write a [`Source`]: opened for one request and the id the client last
//! saw, it yields [`Event`]s as they happen, awaiting whatever it needs in
//! between. Mount it on a [`Router`], and [`serve`] it. The library does the
//! rest, the same for every source: SSE framing, heartbeats while the source
//! is quiet, responses that end on their own before a window or the
//! invocation's deadline with a `reconnect` block (the client resumes with
//! `Last-Event-ID`), in-band `error` events, streamed answers through a
//! Function URL or an API Gateway REST API and buffered ones (at most 1 MB)
//! through an ALB, start and
//! end log lines, and clients that hang up.
//!
//! ```no_run
//! use futures_util::stream;
//! use lambda_sse::{Event, Events, Handler, Open, OpenFuture, Request, Router, Settings, Source};
//!
//! /// Counts to three; resumes after the number the client last saw.
//! struct Count;
//!
//! impl Source for Count {
//!     fn open<'a>(&'a self, _request: &'a Request, last: Option<&'a str>) -> OpenFuture<'a> {
//!         Box::pin(async move {
//!             let from = last.and_then(|id| id.parse::<u32>().ok()).map_or(1, |n| n + 1);
//!             if from > 3 {
//!                 return Open::Finished;
//!             }
//!             Open::Events(Events::new(stream::iter((from..=3).map(|n| {
//!                 Ok(Event::new().data(n.to_string()).id(n.to_string())?)
//!             }))))
//!         })
//!     }
//! }
//!
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() -> Result<(), lambda_runtime::Error> {
//!     lambda_sse::init_logging();
//!     let router = Router::new().route("/count", Count).health("/health");
//!     lambda_sse::serve(Handler::new(router, Settings::from_env()?)).await
//! }
//! ```
//!
//! Data flows one way: a front door (`front/`) turns the runtime's event into
//! a [`Request`], the [`Router`] picks the source, the source opens its
//! [`Events`], the stream driver frames and times them, and the front door
//! writes the answer. `sources::job` is the demo: a simulated job's progress.
#![deny(missing_docs)]
#![deny(clippy::all)]
#![warn(missing_debug_implementations)]

pub mod durable;
mod front;
mod handler;
mod logging;
mod metrics;
mod number;
mod request;
mod response;
mod router;
mod runtime;
mod settings;
mod source;
pub mod sources;
mod sse;
mod stream;
pub mod web;

/// Not part of the API: `lambda_runtime::run` with `TCP_NODELAY` on the
/// Runtime API connection, public only for the benchmark harness's baseline.
#[doc(hidden)]
pub mod runtime_client;

pub use front::UnsupportedEvent;
pub use handler::{Handler, Reply, ResponseBody};
pub use logging::init as init_logging;
pub use metrics::{Metrics, MetricsError};
pub use number::NumberError;
pub use request::{Caller, Request};
pub use router::Router;
pub use runtime::serve;
pub use settings::{Settings, SettingsError, Variable};
pub use source::{Behind, Events, Open, OpenFuture, Refusal, Source, SourceError};
pub use sse::{EncodeError, Event, EventType};

/// The README's Rust examples, compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
mod readme {}
