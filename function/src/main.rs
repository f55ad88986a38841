use lambda_runtime::{Error, LambdaEvent, service_fn, tracing};
use lambda_sse::{Handler, Settings};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    // JSON logs when Lambda's log format is JSON (AWS_LAMBDA_LOG_FORMAT).
    tracing::init_default_subscriber();
    let settings =
        Settings::from_env().inspect_err(|e| tracing::error!(error = %e, "invalid settings"))?;
    let handler = Handler::new(settings);
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        handler.handle(event)
    }))
    .await
}
