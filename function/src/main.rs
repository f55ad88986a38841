//! The demo function: the simulated progress job at `/events`, and `/health`.

use lambda_runtime::tracing;
use lambda_sse::{Handler, Router, Settings, sources::job::JobSource};
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
    let router = Router::new().route("/events", job).health("/health");
    match lambda_sse::serve(Handler::new(router, settings)).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "the Lambda Runtime API is gone");
            ExitCode::FAILURE
        }
    }
}
