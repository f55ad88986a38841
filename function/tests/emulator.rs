//! End to end through `cargo lambda watch`, the Function URL emulator that
//! really streams: a real HTTP client on loopback sees events arrive one by
//! one, bad requests get their 4xx, a standard reconnecting EventSource
//! follows one job across several responses, and a client that hangs up
//! frees the function. The test starts the emulator on a free 127.0.0.1 port
//! and stops it (and the function it spawned) at the end.
//!
//! Needs `cargo-lambda` and, for the EventSource client, Node.js with the npm
//! packages installed: `npm test` sees to both. cargo-lambda is looked for in
//! `.venv` first, then on PATH.

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

/// Responses end after one second, so a job of a few seconds spans several.
const WINDOW_MS: &str = "1000";

/// How long the emulator may take to build and start the function (a cold
/// debug build on a loaded two-core CI machine).
const STARTUP_LIMIT: Duration = Duration::from_secs(600);

struct Emulator {
    child: Child,
    port: u16,
    base: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Emulator {
    /// The emulator, running the function, once it answers `/health`.
    async fn start() -> Self {
        let emulator = Self::spawn(&[]);
        emulator.wait_until_healthy().await;
        emulator
    }

    /// The emulator's Runtime API alone, with no function behind it yet.
    async fn start_apis_only() -> Self {
        let emulator = Self::spawn(&["--only-lambda-apis"]);
        let deadline = Instant::now() + STARTUP_LIMIT;
        while tokio::net::TcpStream::connect(("127.0.0.1", emulator.port))
            .await
            .is_err()
        {
            assert!(
                Instant::now() < deadline,
                "no Runtime API:\n{}",
                emulator.output()
            );
            sleep(Duration::from_millis(100)).await;
        }
        emulator
    }

    fn spawn(extra_args: &[&str]) -> Self {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("workspace root")
            .to_path_buf();
        let port = free_port();
        let mut child = Command::new("cargo")
            .args(["lambda", "watch", "--ignore-changes", "--invoke-address", "127.0.0.1"])
            .args(["--invoke-port", &port.to_string()])
            .args(["--env-var", &format!("SSE_WINDOW_MS={WINDOW_MS}")])
            .args(extra_args)
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
        let log = collect_output(&mut child);
        Self {
            child,
            port,
            base: format!("http://127.0.0.1:{port}/lambda-url/sse-function"),
            log,
        }
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

    /// The `function/` crate's folder.
    fn crate_dir(&self) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
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
        stop_group(&mut self.child);
    }
}

/// Stops a child started with `process_group(0)` and everything it started.
fn stop_group(child: &mut Child) {
    if let Some(pid) = child.id() {
        let group = format!("-{pid}");
        let _ = std::process::Command::new("kill")
            .args(["-TERM", "--", &group])
            .status();
    }
    let _ = child.start_kill();
}

/// Gathers a child's stdout and stderr lines as they come.
fn collect_output(child: &mut Child) -> Arc<Mutex<Vec<String>>> {
    let log = Arc::new(Mutex::new(Vec::new()));
    let outputs = [
        child.stdout.take().map(boxed),
        child.stderr.take().map(boxed),
    ];
    for output in outputs.into_iter().flatten() {
        let log = Arc::clone(&log);
        tokio::spawn(async move {
            let mut lines = BufReader::new(output).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                log.lock().unwrap().push(line);
            }
        });
    }
    log
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

/// One emulator for every check: starting it builds the function.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_the_function_url_emulator() {
    let emulator = Emulator::start().await;
    streams_events_one_by_one(&emulator).await;
    a_reconnecting_eventsource_gets_every_step_once(&emulator).await;
    a_client_that_hangs_up_frees_the_function(&emulator).await;
}

async fn streams_events_one_by_one(emulator: &Emulator) {
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

async fn a_reconnecting_eventsource_gets_every_step_once(emulator: &Emulator) {
    let url = emulator.url("/events?steps=12&interval_ms=250");
    let script = emulator.crate_dir().join("tests/clients/follow.mjs");
    let output = Command::new("node")
        .arg(&script)
        .args([url.as_str(), "60000"])
        .stdin(Stdio::null())
        .output()
        .await
        .expect("node runs (Node.js is a prerequisite)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the EventSource client failed: {}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let of_type = |t: &str| lines.iter().filter(|l| l["type"] == t).count();

    let opens = of_type("open");
    assert!(
        opens >= 3,
        "one job should span at least three responses, got {opens}:\n{stdout}"
    );
    assert_eq!(
        of_type("reconnect"),
        opens - 1,
        "each window but the last ends with reconnect"
    );
    let steps: Vec<u64> = lines
        .iter()
        .filter(|l| l["type"] == "progress")
        .map(|l| {
            serde_json::from_str::<Value>(l["data"].as_str().unwrap()).unwrap()["step"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(
        steps,
        (1..=12).collect::<Vec<_>>(),
        "every step exactly once, in order:\n{stdout}"
    );
    assert_eq!(of_type("complete"), 1);
    let last = lines.last().unwrap();
    assert_eq!(
        last["type"], "closed",
        "the client stopped by itself:\n{stdout}"
    );
    assert_eq!(last["code"], 204, "after complete the server said 204");

    let job_ids: std::collections::HashSet<&str> = lines
        .iter()
        .filter_map(|l| l["id"].as_str())
        .map(|id| id.split(':').next().unwrap())
        .collect();
    assert_eq!(job_ids.len(), 1, "one job throughout: {job_ids:?}");
}

async fn a_client_that_hangs_up_frees_the_function(emulator: &Emulator) {
    let client = reqwest::Client::new();
    let response = client
        .get(emulator.url("/events?steps=1000&interval_ms=100"))
        .send()
        .await
        .unwrap();
    let mut events = response.bytes_stream().eventsource();
    let first = events.next().await.unwrap().unwrap();
    events.next().await.unwrap().unwrap();
    let job_id = first.id.split(':').next().unwrap().to_owned();
    drop(events);

    // The function notices at its next write and ends the stream.
    let health = client.get(emulator.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);

    sleep(Duration::from_millis(200)).await;
    let output = emulator.output();
    let ended = output
        .lines()
        .find(|l| l.contains("stream ended") && l.contains(&job_id));
    let ended = ended.unwrap_or_else(|| panic!("no end line for {job_id}:\n{output}"));
    assert!(
        ended.contains("end=\"disconnected\""),
        "not the window: {ended}"
    );
    let sent: u32 = ended
        .split("events_sent=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no events_sent in {ended}"));
    assert!(sent <= 5, "kept producing after the hang-up: {sent} events");
    assert!(!output.contains("panicked"), "{output}");

    // And the next stream is served normally.
    let response = client
        .get(emulator.url("/events?steps=1&interval_ms=10"))
        .send()
        .await
        .unwrap();
    let events: Vec<_> = response.bytes_stream().eventsource().collect().await;
    assert_eq!(events.len(), 2, "progress and complete");
}

/// The function process itself, started by hand against the emulator's
/// Runtime API (what `cargo lambda watch` does, minus the build).
struct Function {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

impl Function {
    fn start(runtime_api_port: u16) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sse-function"))
            .env(
                "AWS_LAMBDA_RUNTIME_API",
                format!("http://127.0.0.1:{runtime_api_port}/.rt/sse-function"),
            )
            .env("AWS_LAMBDA_FUNCTION_NAME", "sse-function")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .expect("the function binary starts");
        let log = collect_output(&mut child);
        Self { child, log }
    }

    fn output(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        stop_group(&mut self.child);
    }
}

/// A client that gives up before the function could answer (here: while the
/// function is not running yet, as during a cold start) leaves the function
/// an invocation it cannot answer. The function must log it and carry on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_gone_before_its_answer_does_not_stop_the_function() {
    let apis = Emulator::start_apis_only().await;
    let client = reqwest::Client::new();
    // Several, so that at least one meets the function when the emulator has
    // already dropped it (how the exchange then fails varies with timing).
    let stale: Vec<_> = futures_util::future::join_all((0..4).map(|_| {
        client
            .get(apis.url("/health"))
            .timeout(Duration::from_millis(300))
            .send()
    }))
    .await;
    assert!(
        stale.iter().all(Result::is_err),
        "no function runs yet, so requests must time out"
    );

    let mut function = Function::start(apis.port);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let attempt = client
            .get(apis.url("/health"))
            .timeout(Duration::from_secs(5))
            .send()
            .await;
        if attempt.is_ok_and(|r| r.status() == 200) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the function stopped serving:\n{}\n{}",
            function.output(),
            apis.output()
        );
        sleep(Duration::from_millis(200)).await;
    }
    assert!(
        function.child.try_wait().unwrap().is_none(),
        "the function process exited"
    );
    let output = function.output();
    assert!(
        output.contains("taking the next invocation"),
        "the stale answer failed unseen:\n{output}"
    );
}
