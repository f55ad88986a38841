//! The function process against a Runtime API played on 127.0.0.1: it keeps
//! serving through what makes `lambda_runtime`'s own loop give up.

mod support;

use serde_json::{Value, json};
use std::time::Duration;
use support::{
    process::function,
    runtime_api::{Invocation, RuntimeApi},
};

const FIXTURE: &str = include_str!("fixtures/function-url-get.json");
const LIMIT: Duration = Duration::from_secs(30);

fn health_event() -> Value {
    let mut event: Value = serde_json::from_str(FIXTURE).unwrap();
    event["rawPath"] = json!("/health");
    event["requestContext"]["http"]["path"] = json!("/health");
    event
}

/// `cargo lambda watch` answers `/next` without a request id after it cut off
/// a response that overran its timeout; `lambda_runtime` 1.5 panics on that
/// (`missing lambda-runtime-aws-request-id header`). The process must not
/// die with it: under the emulator every later request would get 408.
#[tokio::test]
async fn a_panic_in_the_runtime_is_contained_and_the_next_invocation_served() {
    let api = RuntimeApi::start().await;
    api.hand_out(Invocation {
        headers: vec![("lambda-runtime-deadline-ms".into(), "600000".into())],
        body: "{}".into(),
    });
    api.invoke("after-the-panic", &health_event(), LIMIT);
    let mut function = function(&api.endpoint(), &[]);

    let posted = api.response("after-the-panic", LIMIT).await;
    let output = function.output();
    let posted = posted.unwrap_or_else(|| panic!("no answer after the panic:\n{output}"));
    let body = String::from_utf8_lossy(&posted.body()).into_owned();
    assert!(body.contains(r#""status":"ok""#), "{body}");
    assert!(function.is_running(), "the process exited:\n{output}");
    assert!(
        output.contains("the runtime panicked: missing lambda-runtime-aws-request-id header"),
        "{output}"
    );
    assert!(output.contains("taking the next invocation"), "{output}");
}

/// A Runtime API that is really gone (here: one that answers every `/next`
/// with an invocation the runtime cannot read, so no invocation ever reaches
/// the handler) ends the process after a few quick tries, with an error.
#[tokio::test]
async fn the_process_gives_up_on_a_runtime_api_that_never_hands_out_work() {
    let api = RuntimeApi::start().await;
    for _ in 0..20 {
        api.hand_out(Invocation {
            headers: vec![],
            body: "{}".into(),
        });
    }
    let mut function = function(&api.endpoint(), &[]);
    let exited = tokio::time::timeout(LIMIT, function.child.wait()).await;
    let output = function.output();
    let status = exited
        .unwrap_or_else(|_| panic!("still running:\n{output}"))
        .unwrap();
    assert_eq!(status.code(), Some(1), "{output}");
    assert!(
        output.contains("the Lambda Runtime API is gone"),
        "{output}"
    );
    assert_eq!(api.polls(), 5, "five quick tries, then it stops:\n{output}");
}
