//! Sources that ship with the library.

pub mod job;
