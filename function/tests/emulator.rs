//! End to end through `cargo lambda watch`, the Function URL emulator that
//! really streams: a real HTTP client on loopback sees events arrive one by
//! one, and bad requests get their 4xx. The test starts the emulator on a
//! free 127.0.0.1 port and stops it (and the function it spawned) at the end.
//!
//! Needs `cargo-lambda`: `npm test` installs it into `.venv`; this test looks
//! there first, then on PATH.

use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use serde_json::Value;
use std::{
    path::{Path, PathBuf},
    process::Stdio,
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
    time::{Instant, sleep},
};

/// How long the emulator may take to build and start the function (a cold
/// debug build on a loaded two-core CI machine).
const STARTUP_LIMIT: Duration = Duration::from_secs(600);

struct Emulator {
    child: Child,
    base: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Emulator {
    async fn start() -> Self {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("workspace root")
            .to_path_buf();
        let port = free_port();
        let mut child = Command::new("cargo")
            .args(["lambda", "watch", "--ignore-changes", "--invoke-address", "127.0.0.1"])
            .args(["--invoke-port", &port.to_string()])
            .current_dir(&root)
            .env("PATH", path_with_cargo_lambda(&root))
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group, so stopping it also stops the function it runs.
            .process_group(0)
            .spawn()
            .expect("cargo lambda watch starts (run `npm test`, which installs cargo-lambda into .venv)");
        let log = Arc::new(Mutex::new(Vec::new()));
        for output in [
            child.stdout.take().map(boxed),
            child.stderr.take().map(boxed),
        ]
        .into_iter()
        .flatten()
        {
            let log = Arc::clone(&log);
            tokio::spawn(async move {
                let mut lines = BufReader::new(output).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    log.lock().unwrap().push(line);
                }
            });
        }
        let emulator = Self {
            child,
            base: format!("http://127.0.0.1:{port}/lambda-url/sse-function"),
            log,
        };
        emulator.wait_until_healthy().await;
        emulator
    }

    async fn wait_until_healthy(&self) {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + STARTUP_LIMIT;
        loop {
            if let Ok(response) = client
                .get(self.url("/health"))
                .timeout(Duration::from_secs(5))
                .send()
                .await
            {
                if response.status() == 200 {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "the emulator did not answer /health within {STARTUP_LIMIT:?}; its output:\n{}",
                self.output()
            );
            sleep(Duration::from_millis(500)).await;
        }
    }

    fn url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.base)
    }

    fn output(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(pid) = self.child.id() {
            let group = format!("-{pid}");
            let _ = std::process::Command::new("kill")
                .args(["-TERM", "--", &group])
                .status();
        }
        let _ = self.child.start_kill();
    }
}

fn boxed(
    reader: impl tokio::io::AsyncRead + Unpin + Send + 'static,
) -> Box<dyn tokio::io::AsyncRead + Unpin + Send> {
    Box::new(reader)
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("bound").port()
}

fn path_with_cargo_lambda(root: &Path) -> std::ffi::OsString {
    let mut dirs = vec![root.join(".venv").join("bin")];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(dirs.iter().map(PathBuf::as_path)).expect("PATH entries")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_through_the_function_url_emulator() {
    let emulator = Emulator::start().await;
    let client = reqwest::Client::new();

    // Events arrive one by one, about 100 ms apart, as they are produced.
    let response = client
        .get(emulator.url("/events?interval_ms=100&steps=5"))
        .send()
        .await
        .expect("request sent");
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("text/event-stream"),
        "{content_type}"
    );
    assert_eq!(response.headers()["cache-control"], "no-cache");
    assert_eq!(response.headers()["x-accel-buffering"], "no");
    assert!(
        response
            .headers()
            .get("connection")
            .is_none_or(|v| v != "close")
    );

    let start = Instant::now();
    let mut arrivals = vec![];
    let mut events = response.bytes_stream().eventsource();
    while let Some(event) = events.next().await {
        arrivals.push((start.elapsed(), event.expect("valid SSE")));
    }

    let kinds: Vec<&str> = arrivals.iter().map(|(_, e)| e.event.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "progress", "progress", "progress", "progress", "progress", "complete"
        ]
    );
    let data: Vec<Value> = arrivals
        .iter()
        .map(|(_, e)| serde_json::from_str(&e.data).unwrap())
        .collect();
    let percentages: Vec<i64> = data
        .iter()
        .map(|d| d["percentage"].as_i64().unwrap())
        .collect();
    assert_eq!(percentages, [0, 25, 50, 75, 100, 100]);
    assert_eq!(data[5]["status"], "Processing complete!");
    let job_id = data[0]["jobId"].as_str().unwrap();
    assert!(
        data.iter().all(|d| d["jobId"] == job_id),
        "one job per stream"
    );
    assert_eq!(arrivals[0].1.id, format!("{job_id}:1"));
    assert_eq!(arrivals[0].1.retry, Some(Duration::from_millis(5000)));

    // Scheduled 100 ms apart: each one must come on its own, not batched at
    // the end. Bounds are loose so a loaded machine does not fail the test;
    // measured lag lives in the benchmark, not here.
    let gaps: Vec<Duration> = arrivals.windows(2).map(|w| w[1].0 - w[0].0).collect();
    for gap in &gaps {
        assert!(
            *gap >= Duration::from_millis(50),
            "events arrived together: gaps {gaps:?}"
        );
    }
    let spread = arrivals[5].0 - arrivals[0].0;
    assert!(
        spread >= Duration::from_millis(400),
        "events held back: spread {spread:?}"
    );

    // Bad requests get their 4xx with a JSON body.
    let cases = [
        ("GET", "/nope", 404, "not_found"),
        ("POST", "/events", 405, "method_not_allowed"),
        ("GET", "/events?steps=0", 400, "invalid_parameter"),
        ("GET", "/events?interval_ms=abc", 400, "invalid_parameter"),
        ("GET", "/events?steps=1&steps=2", 400, "repeated_parameter"),
        ("GET", "/events?steps=", 400, "invalid_parameter"),
        ("GET", "/events?bogus=1", 400, "unknown_parameter"),
    ];
    for (method, path, status, code) in cases {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let response = client
            .request(method.clone(), emulator.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status, "{method} {path}");
        if status == 405 {
            assert_eq!(response.headers()["allow"], "GET");
        }
        let body: Value = response.json().await.expect("JSON error body");
        assert_eq!(body["error"], code, "{method} {path}");
    }

    // The function logged the stream's start and its end, with how it ended.
    sleep(Duration::from_millis(200)).await;
    let output = emulator.output();
    assert!(output.contains("stream started"), "{output}");
    let ended = output
        .lines()
        .find(|l| l.contains("stream ended") && l.contains(job_id));
    let ended = ended.unwrap_or_else(|| panic!("no end line for {job_id}:\n{output}"));
    assert!(
        ended.contains("events_sent=6") && ended.contains("completed"),
        "{ended}"
    );
}
