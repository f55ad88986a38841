//! The runtime loop: `lambda_runtime` with `TCP_NODELAY` on the Runtime API
//! connection, started again after whatever ends it short of a Runtime API
//! that is really gone.

use crate::handler::Handler;
use crate::runtime_client;
use futures_util::{FutureExt, StreamExt, stream::FuturesUnordered};
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
///
/// With `AWS_LAMBDA_MAX_CONCURRENCY` above 1 (Lambda Managed Instances sets
/// it), that many such loops run at once in this process, each asking for
/// its own invocations, so one process streams that many responses at once;
/// see [`max_concurrency`].
pub async fn serve(handler: Handler) -> Result<(), lambda_runtime::Error> {
    let workers = max_concurrency(std::env::var(MAX_CONCURRENCY_VARIABLE).ok().as_deref());
    if workers <= 1 {
        return serve_one_at_a_time(handler).await;
    }
    tracing::info!(workers, "serving invocations concurrently");
    // All in this task, polled as each is woken: the loops wait on the
    // network nearly all the time, and the handler's futures need not be
    // `Send`. Each runs until the Runtime API is gone, which it is for all
    // of them: the first to give up ends the process.
    let mut loops: FuturesUnordered<_> = (0..workers)
        .map(|_| serve_one_at_a_time(handler.clone()))
        .collect();
    loops.next().await.unwrap_or(Ok(()))
}

/// Set by Lambda on Managed Instances: how many invocations one execution
/// environment is sent at once.
pub(crate) const MAX_CONCURRENCY_VARIABLE: &str = "AWS_LAMBDA_MAX_CONCURRENCY";

/// The number of runtime loops for `AWS_LAMBDA_MAX_CONCURRENCY`'s value:
/// 1 when it is unset, and 1 (with a warning) when it is not a whole number
/// from 1 up: Lambda sets it, so a bad value is not the deployer's to fix,
/// and serving one at a time is always safe.
pub(crate) fn max_concurrency(value: Option<&str>) -> usize {
    match value.map(str::parse::<usize>) {
        None => 1,
        Some(Ok(workers)) if workers >= 1 => workers,
        Some(_) => {
            tracing::warn!(
                value,
                "{MAX_CONCURRENCY_VARIABLE} is not a whole number from 1 up; serving one invocation at a time"
            );
            1
        }
    }
}

/// One runtime loop: one invocation at a time, started again as [`serve`] says.
async fn serve_one_at_a_time(handler: Handler) -> Result<(), lambda_runtime::Error> {
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

#[cfg(test)]
mod tests {
    use super::max_concurrency;

    #[test]
    fn the_number_of_loops_follows_the_variable_and_falls_back_to_one() {
        assert_eq!(max_concurrency(None), 1);
        assert_eq!(max_concurrency(Some("1")), 1);
        assert_eq!(max_concurrency(Some("64")), 64);
        for bad in ["0", "-2", "", "eight", "1.5"] {
            assert_eq!(max_concurrency(Some(bad)), 1, "{bad:?}");
        }
    }
}
