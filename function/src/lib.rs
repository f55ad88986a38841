//! Server-Sent Events from AWS Lambda, streamed through a `RESPONSE_STREAM`
//! Function URL.
//!
//! Data flows one way: [`lambda`] takes the runtime's event, [`request`] turns
//! it into a typed [`request::Route`] (or a 4xx), [`stream`] drives an
//! [`source::EventSource`] (by default a [`job::JobCursor`]) through the
//! [`sse`] encoder within a window, and [`lambda`] sends the result streamed.
#![deny(clippy::all)]
#![warn(missing_debug_implementations)]

pub mod job;
pub mod lambda;
pub mod number;
pub mod request;
pub mod response;
pub mod settings;
pub mod source;
pub mod sse;
pub mod stream;

pub use lambda::Handler;
pub use settings::Settings;
