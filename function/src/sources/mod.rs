//! Sources that ship with the library.

pub mod durable;
pub mod job;
mod shared_tail;
