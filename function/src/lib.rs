//! Server-Sent Events from AWS Lambda, streamed through a `RESPONSE_STREAM`
//! Function URL.
//!
//! Data flows one way: [`lambda`] takes the runtime's event, [`invocation`]
//! reads it as an HTTP request from a Function URL or an ALB, [`request`]
//! turns that into a typed [`request::Route`] (or a 4xx), [`stream`] drives an
//! [`source::EventSource`] (by default a [`job::JobCursor`]) through the
//! [`sse`] encoder within a window, and [`lambda`] sends the result streamed
//! (Function URL) or buffered (ALB).
#![deny(clippy::all)]
#![warn(missing_debug_implementations)]

pub mod invocation;
pub mod job;
pub mod lambda;
pub mod logging;
pub mod number;
pub mod request;
pub mod response;
pub mod runtime_client;
pub mod settings;
pub mod source;
pub mod sse;
pub mod stream;

pub use lambda::Handler;
pub use settings::Settings;
