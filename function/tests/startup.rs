//! The binary refuses to start with a setting it cannot use, and says which.

use std::process::Command;

#[test]
fn a_bad_setting_stops_the_function_before_it_serves() {
    let output = Command::new(env!("CARGO_BIN_EXE_sse-function"))
        .env("SSE_WINDOW_MS", "5")
        // A Runtime API nobody listens on: the function must not get that far.
        .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")
        .env("AWS_LAMBDA_FUNCTION_NAME", "sse-function")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .output()
        .expect("the function binary runs");
    assert_eq!(output.status.code(), Some(1));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        text.contains(
            "environment variable SSE_WINDOW_MS is 5, outside the allowed range 1000 to 900000"
        ),
        "{text}"
    );
    assert!(!text.contains("Runtime API"), "it went on to serve: {text}");
}
