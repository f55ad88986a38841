//! The function: the simulated progress job at `/events`, durable streams at
//! `/streams/{name}` when `SSE_TABLE_NAME` names their table, `/health`, and
//! the page that watches a stream at `/`.

use lambda_runtime::tracing;
use lambda_sse::{
    Handler, Metrics, Router, Settings,
    sources::{durable::DurableSource, job::JobSource},
};
use std::process::ExitCode;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    // JSON logs when Lambda's log format is JSON (AWS_LAMBDA_LOG_FORMAT).
    lambda_sse::init_logging();
    let (settings, job) = match (Settings::from_env(), JobSource::from_env()) {
        (Ok(settings), Ok(job)) => (settings, job),
        (Err(error), _) | (_, Err(error)) => {
            tracing::error!(%error, "invalid settings; the function cannot start");
            return ExitCode::FAILURE;
        }
    };
    let mut router = Router::new()
        .route("/events", job)
        .health("/health")
        .watch_page();
    // Set and not empty, as `durable::table_name_from_env` reads it.
    if std::env::var(lambda_sse::durable::TABLE_NAME_VARIABLE).is_ok_and(|name| !name.is_empty()) {
        match DurableSource::from_env() {
            Ok(streams) => router = router.route("/streams/{name}", streams),
            Err(error) => {
                tracing::error!(%error, "invalid settings; the function cannot start");
                return ExitCode::FAILURE;
            }
        }
    }
    let metrics = match Metrics::from_env() {
        Ok(metrics) => metrics,
        Err(error) => {
            tracing::error!(%error, "invalid settings; the function cannot start");
            return ExitCode::FAILURE;
        }
    };
    match lambda_sse::serve(Handler::new(router, settings).metrics(metrics)).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "the Lambda Runtime API is gone");
            ExitCode::FAILURE
        }
    }
}
