//! The binary refuses to start with a setting it cannot use, and says which.

use std::process::{Command, Output};

/// The function binary with `env`, against a Runtime API nobody listens
/// on: with a bad setting it must stop before it gets that far.
fn start_with(env: &[(&str, &str)]) -> (Output, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_sse-function"))
        .envs(env.iter().copied())
        .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")
        .env("AWS_LAMBDA_FUNCTION_NAME", "sse-function")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .output()
        .expect("the function binary runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output, text)
}

#[test]
fn a_bad_setting_stops_the_function_before_it_serves() {
    let (output, text) = start_with(&[("SSE_WINDOW_MS", "5")]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text.contains(
            "environment variable SSE_WINDOW_MS is 5, outside the allowed range 1000 to 900000"
        ),
        "{text}"
    );
    assert!(!text.contains("Runtime API"), "it went on to serve: {text}");
}

#[test]
fn bad_metrics_settings_and_poll_order_stop_it_too() {
    let cases: [(&[(&str, &str)], &str); 3] = [
        (
            &[("SSE_METRICS", "yes")],
            "SSE_METRICS is \"yes\"; use on or off",
        ),
        (
            &[("SSE_METRICS_NAMESPACE", "AWS/Lambda")],
            "SSE_METRICS_NAMESPACE is \"AWS/Lambda\"",
        ),
        (
            &[
                ("SSE_TABLE_NAME", "sse-streams"),
                ("SSE_POLL_MIN_MS", "5000"),
                ("SSE_POLL_MAX_MS", "1000"),
            ],
            "SSE_POLL_MIN_MS (5000) must not be above SSE_POLL_MAX_MS (1000)",
        ),
    ];
    for (env, message) in cases {
        let (output, text) = start_with(env);
        assert_eq!(output.status.code(), Some(1), "{text}");
        assert!(text.contains(message), "{text}");
    }
}
