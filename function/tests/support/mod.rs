//! Helpers shared by the integration tests: child processes that are always
//! stopped, and a Runtime API played on 127.0.0.1.

pub mod dynamo;
pub mod process;
pub mod runtime_api;
