use lambda_runtime::tracing;
use lambda_sse::{Handler, Settings, lambda::serve, logging};
use std::process::ExitCode;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    // JSON logs when Lambda's log format is JSON (AWS_LAMBDA_LOG_FORMAT).
    logging::init();
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(error) => {
            tracing::error!(%error, "invalid settings; the function cannot start");
            return ExitCode::FAILURE;
        }
    };
    match serve(Handler::new(settings)).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "the Lambda Runtime API is gone");
            ExitCode::FAILURE
        }
    }
}
