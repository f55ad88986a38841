//! The runtime loop: `lambda_runtime` with `TCP_NODELAY` on the Runtime API
//! connection, started again after whatever ends it short of a Runtime API
//! that is really gone.

use crate::handler::Handler;
use crate::runtime_client;
use futures_util::FutureExt;
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;
use std::{
    any::Any,
    panic::AssertUnwindSafe,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

/// Consecutive restarts that got no invocation at all, each failing within
/// [`QUICK_FAILURE`], after which the process gives up: the Runtime API
/// itself is gone.
const MAX_QUICK_FAILURES: u32 = 5;
const QUICK_FAILURE: Duration = Duration::from_secs(1);

/// Serves invocations until the Runtime API goes away, with `TCP_NODELAY`
/// on the Runtime API connection (see [`runtime_client`]).
///
/// The runtime's loop returns on the first failed exchange with the
/// Runtime API, as when a client gave up before its answer could be sent,
/// and panics on some answers it does not expect (an invocation without a
/// request id, as `cargo lambda watch` sends after cutting off a response
/// that overran its timeout). Exiting then would make Lambda start a new
/// process (a cold start for the next caller), and under `cargo lambda watch`
/// stop the function for good; so the loop starts again and takes the next
/// invocation. Only restarts that fail before any invocation arrives count
/// towards giving up: a queue of abandoned invocations (clients that gave up
/// during a cold start) fails one by one, quickly, and must not look like a
/// dead API.
pub async fn serve(handler: Handler) -> Result<(), lambda_runtime::Error> {
    let invocations = Arc::new(AtomicU64::new(0));
    let mut quick_failures = 0;
    loop {
        let started = tokio::time::Instant::now();
        let before = invocations.load(Ordering::Relaxed);
        let (handler, counter) = (handler.clone(), Arc::clone(&invocations));
        let service = service_fn(move |event: LambdaEvent<Value>| {
            counter.fetch_add(1, Ordering::Relaxed);
            let handler = handler.clone();
            async move { handler.handle(event).await }
        });
        // Nothing is shared across the unwind but the counter (an atomic)
        // and the handler (read-only settings), so no state is left half-changed.
        let (error, panicked): (lambda_runtime::Error, bool) =
            match AssertUnwindSafe(runtime_client::run(service))
                .catch_unwind()
                .await
            {
                Ok(Ok(())) => return Ok(()),
                Ok(Err(error)) => (error, false),
                Err(panic) => (
                    format!("the runtime panicked: {}", panic_message(panic.as_ref())).into(),
                    true,
                ),
            };
        let got_none = invocations.load(Ordering::Relaxed) == before;
        quick_failures = if got_none && started.elapsed() < QUICK_FAILURE {
            quick_failures + 1
        } else {
            0
        };
        if quick_failures >= MAX_QUICK_FAILURES {
            return Err(error);
        }
        // A failed exchange the loop recovers from is most often a client
        // that went away while its answer was posted: not an error. A panic
        // is a bug somewhere, and a Runtime API that is really gone ends the
        // process (logged at ERROR by the caller).
        if panicked {
            tracing::error!(%error, "the Runtime API exchange failed; taking the next invocation");
        } else {
            tracing::warn!(%error, "the Runtime API exchange failed; taking the next invocation");
        }
    }
}

/// The text a panic was raised with (`panic!` and `expect` give a string).
fn panic_message(panic: &(dyn Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}
