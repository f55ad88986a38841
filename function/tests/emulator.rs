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

mod support;

use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use serde_json::Value;
use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};
use support::process::{Running, free_port, function};
use tokio::{
    process::Command,
    time::{Instant, sleep},
};

/// Responses end after one second, so a job of a few seconds spans several;
/// buffered (ALB) batches likewise.
const WINDOW_MS: &str = "1000";

/// How long the emulator may take to build and start the function (a cold
/// debug build on a loaded two-core CI machine).
const STARTUP_LIMIT: Duration = Duration::from_secs(600);

const REFUSALS: &str = include_str!("fixtures/refusals.json");

struct Emulator {
    process: Running,
    port: u16,
    base: String,
}

impl Emulator {
    /// The emulator, running the function with 1 s windows, once it answers `/health`.
    async fn start() -> Self {
        let emulator = Self::spawn(&[
            "--env-var",
            &format!("SSE_WINDOW_MS={WINDOW_MS}"),
            "--env-var",
            &format!("SSE_BATCH_WINDOW_MS={WINDOW_MS}"),
        ]);
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

    /// `cargo lambda watch` on a free loopback port, with `extra_args`.
    /// CORS is off, as on a Function URL without a CORS configuration: an
    /// `OPTIONS` request reaches the function.
    fn spawn(extra_args: &[&str]) -> Self {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("workspace root")
            .to_path_buf();
        let port = free_port();
        let mut command = Command::new("cargo");
        command
            .args([
                "lambda",
                "watch",
                "--ignore-changes",
                "--disable-cors",
                "--invoke-address",
                "127.0.0.1",
            ])
            .args(["--invoke-port", &port.to_string()])
            .args(extra_args)
            .current_dir(&root)
            .env("PATH", path_with_cargo_lambda(&root))
            .env("RUST_LOG", "info");
        // Stopping its process group also stops the function it runs.
        let process = Running::start(
            &mut command,
            "cargo lambda watch starts (run `npm test`, which installs cargo-lambda into .venv)",
        );
        Self {
            process,
            port,
            base: format!("http://127.0.0.1:{port}/lambda-url/sse-function"),
        }
    }

    /// The same emulator, addressed to another binary of the workspace.
    fn serving(mut self, binary: &str) -> Self {
        self.base = format!("http://127.0.0.1:{}/lambda-url/{binary}", self.port);
        self
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
        self.process.output()
    }

    /// The function's "stream ended" line for `job_id`, once it has come
    /// through the emulator's output.
    async fn wait_for_end_line(&self, job_id: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let output = self.output();
            if let Some(line) = output
                .lines()
                .find(|l| l.contains("stream ended") && l.contains(job_id))
            {
                return line.to_owned();
            }
            assert!(
                Instant::now() < deadline,
                "no end line for {job_id}:\n{output}"
            );
            sleep(Duration::from_millis(50)).await;
        }
    }
}

fn path_with_cargo_lambda(root: &Path) -> std::ffi::OsString {
    let mut dirs = vec![root.join(".venv").join("bin")];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(dirs.iter().map(PathBuf::as_path)).expect("PATH entries")
}

/// The tests here run one at a time: each starts an emulator, and the
/// timing checks should not share two cores with another one.
static ONE_EMULATOR_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// One emulator for every check: starting it builds the function.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_the_function_url_emulator() {
    let _turn = ONE_EMULATOR_AT_A_TIME.lock().await;
    let emulator = Emulator::start().await;
    streams_events_one_by_one(&emulator).await;
    a_reconnecting_eventsource_gets_every_step_once(&emulator).await;
    a_client_that_hangs_up_frees_the_function(&emulator).await;
    an_eventsource_behind_a_buffering_front_gets_every_step_once(&emulator).await;
    signed_requests_from_the_stream_script_verify(&emulator).await;
    the_smoke_test_passes_signed_through_windows(&emulator).await;
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
    assert_eq!(arrivals[0].1.id, format!("{job_id}/5:1"));
    assert_eq!(arrivals[0].1.retry, Some(Duration::from_millis(5000)));

    // Scheduled 100 ms apart: they must come one by one, not batched at the
    // end. Loose bounds, so that one late event on a loaded machine (the
    // schedule is absolute, so the next one then follows closely) does not
    // fail the test; measured lag lives in the benchmark, not here.
    let gaps: Vec<Duration> = arrivals.windows(2).map(|w| w[1].0 - w[0].0).collect();
    let apart = gaps
        .iter()
        .filter(|gap| **gap >= Duration::from_millis(50))
        .count();
    assert!(apart >= 3, "events arrived together: gaps {gaps:?}");
    let spread = arrivals[5].0 - arrivals[0].0;
    assert!(
        spread >= Duration::from_millis(250),
        "events held back: spread {spread:?}"
    );

    // Every refusal of the shared table gets its 4xx with a JSON body,
    // OPTIONS included: the emulator runs without its own CORS answers.
    let table: Value = serde_json::from_str(REFUSALS).unwrap();
    for case in table["cases"].as_array().unwrap() {
        let text = |field: &str| case[field].as_str().unwrap();
        let method = reqwest::Method::from_bytes(text("method").as_bytes()).unwrap();
        let query = text("query");
        let url = emulator.url(&format!(
            "{}{}{query}",
            text("path"),
            if query.is_empty() { "" } else { "?" }
        ));
        let mut request = client.request(method, url);
        if let Some(id) = case["lastEventId"].as_str() {
            request = request.header("last-event-id", id);
        }
        let response = request.send().await.unwrap();
        assert_eq!(
            u64::from(response.status().as_u16()),
            case["status"],
            "{case}"
        );
        if response.status() == 405 {
            assert_eq!(response.headers()["allow"], "GET", "{case}");
        }
        let body: Value = response.json().await.expect("JSON error body");
        assert_eq!(body["error"], case["error"], "{case}");
    }

    // The function logged the stream's start and its end, with how it ended.
    let ended = emulator.wait_for_end_line(job_id).await;
    assert!(emulator.output().contains("stream started"));
    assert!(
        ended.contains("events_sent=6") && ended.contains("completed"),
        "{ended}"
    );
}

async fn a_reconnecting_eventsource_gets_every_step_once(emulator: &Emulator) {
    let url = emulator.url("/events?steps=12&interval_ms=250");
    let lines = follow_with_eventsource(emulator, &url).await;
    assert_followed_one_job(&lines, 12);
    let opens = lines.iter().filter(|l| l["type"] == "open").count();
    let reconnects = lines.iter().filter(|l| l["type"] == "reconnect").count();
    assert_eq!(
        reconnects,
        opens - 1,
        "each window but the last ends with reconnect"
    );
}

/// Runs `follow.mjs` (npm `eventsource`) against `url` until the server says 204.
async fn follow_with_eventsource(emulator: &Emulator, url: &str) -> Vec<Value> {
    let script = emulator.crate_dir().join("tests/clients/follow.mjs");
    let output = Command::new("node")
        .arg(&script)
        .args([url, "60000"])
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
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Every step once and in order, one job, over three or more responses,
/// then the 204 that stopped the client.
fn assert_followed_one_job(lines: &[Value], total_steps: u64) {
    let of_type = |t: &str| lines.iter().filter(|l| l["type"] == t).count();
    let transcript = || {
        lines
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    };
    let opens = of_type("open");
    assert!(
        opens >= 3,
        "one job should span at least three responses, got {opens}:\n{}",
        transcript()
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
        (1..=total_steps).collect::<Vec<_>>(),
        "every step exactly once, in order:\n{}",
        transcript()
    );
    assert_eq!(of_type("complete"), 1);
    let last = lines.last().unwrap();
    assert_eq!(
        last["type"],
        "closed",
        "the client stopped by itself:\n{}",
        transcript()
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
    // The span's job_id is the UUID alone.
    let job_id = first.id.split('/').next().unwrap().to_owned();
    drop(events);

    // The function notices at its next write and ends the stream.
    let health = client.get(emulator.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);

    let ended = emulator.wait_for_end_line(&job_id).await;
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
    // The window (1 s) would have let it send about eleven.
    assert!(sent < 10, "kept producing after the hang-up: {sent} events");
    let output = emulator.output();
    assert!(!output.contains("panicked"), "{output}");
    // A closed tab is not an error: no ERROR line from the function for it
    // (the runtime's own "response channel closed" included).
    let errors: Vec<&str> = output
        .lines()
        .filter(|l| l.contains("ERROR") && !l.contains("cargo_lambda"))
        .collect();
    assert!(
        errors.is_empty(),
        "a hang-up logged as an error: {errors:#?}"
    );

    // And the next stream is served normally.
    let response = client
        .get(emulator.url("/events?steps=1&interval_ms=10"))
        .send()
        .await
        .unwrap();
    let events: Vec<_> = response.bytes_stream().eventsource().collect().await;
    assert_eq!(events.len(), 2, "progress and complete");
}

/// A client that gives up before the function could answer (here: while the
/// function is not running yet, as during a cold start) leaves the function
/// an invocation it cannot answer. The function must log it and carry on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_gone_before_its_answer_does_not_stop_the_function() {
    let _turn = ONE_EMULATOR_AT_A_TIME.lock().await;
    let apis = Emulator::start_apis_only().await;
    let client = reqwest::Client::new();
    // Several, as pile up while a cold build runs: more than the function's
    // limit of quick restarts, which must count only restarts that got no
    // invocation. (How each exchange fails varies with timing.)
    let stale: Vec<_> = futures_util::future::join_all((0..8).map(|_| {
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

    let mut function = function(
        &format!("http://127.0.0.1:{}/.rt/sse-function", apis.port),
        &[],
    );
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
        function.is_running(),
        "the function process exited:\n{}",
        function.output()
    );
    // The stale invocations could not be answered, and each time the loop
    // started again: that restart is what kept the process serving.
    let output = function.output();
    assert!(
        output.contains("the Runtime API exchange failed; taking the next invocation"),
        "no restart happened, so nothing was tested:\n{output}"
    );
}

/// `cargo lambda watch --timeout 4` (cargo-lambda 1.9) puts a 4 s timeout on
/// every HTTP request it serves, the function's own long poll for its next
/// invocation included, which it then answers 408 without a request id;
/// `lambda_runtime` 1.5 panics on that answer. The deadline it hands the
/// function stays 600000 (a duration, read as 600 s from arrival), so the
/// function cannot end its responses before 4 s: here 4.5 s windows make a
/// job span three responses, the first two longer than the timeout, during
/// which the runtime's next poll (made while a response streams) times out.
/// Before the fix the panic ended the process: the stream stopped after 4 s
/// and every later request got 408.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_eventsource_follows_a_job_through_a_local_timeout() {
    let _turn = ONE_EMULATOR_AT_A_TIME.lock().await;
    let emulator = Emulator::spawn(&["--timeout", "4", "--env-var", "SSE_WINDOW_MS=4500"]);
    emulator.wait_until_healthy().await;

    let url = emulator.url("/events?steps=24&interval_ms=500");
    let lines = follow_with_eventsource(&emulator, &url).await;
    assert_followed_one_job(&lines, 24);

    // Idle for longer than the timeout: the function's poll for work gets
    // 408 again, and it must still be there for the next request.
    sleep(Duration::from_secs(6)).await;
    let health = reqwest::get(emulator.url("/health")).await.unwrap();
    let output = emulator.output();
    assert_eq!(health.status(), 200, "{output}");
    assert!(
        output.contains("the runtime panicked: missing lambda-runtime-aws-request-id header")
            && output.contains("taking the next invocation"),
        "the emulator's 408 never reached the function, so nothing was tested:\n{output}"
    );
}

/// A local stand-in for an ALB in front of the function: it takes each HTTP
/// request on 127.0.0.1, invokes the function through the emulator's Invoke
/// API with an ALB event, waits for the whole buffered answer, and only then
/// sends it on, as an ALB does.
struct BufferingFront {
    port: u16,
    task: tokio::task::JoinHandle<()>,
}

impl BufferingFront {
    async fn start(emulator_port: u16) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let invoke = format!(
            "http://127.0.0.1:{emulator_port}/2015-03-31/functions/sse-function/invocations"
        );
        let task = tokio::spawn(async move {
            let client = reqwest::Client::new();
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(Self::serve(socket, client.clone(), invoke.clone()));
            }
        });
        Self { port, task }
    }

    async fn serve(mut socket: tokio::net::TcpStream, client: reqwest::Client, invoke: String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut head = Vec::new();
        let mut buffer = [0u8; 4096];
        while !head.ends_with(b"\r\n\r\n") && head.len() < 64 * 1024 {
            match socket.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(n) => head.extend_from_slice(&buffer[..n]),
            }
        }
        let head = String::from_utf8_lossy(&head).into_owned();
        let mut lines = head.split("\r\n");
        let mut request_line = lines.next().unwrap_or_default().split(' ');
        let (method, target) = (
            request_line.next().unwrap_or("GET"),
            request_line.next().unwrap_or("/"),
        );
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let headers: serde_json::Map<String, Value> = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim().to_ascii_lowercase(), Value::from(value.trim())))
            .collect();
        let query: serde_json::Map<String, Value> = query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
            .map(|(name, value)| (name.to_owned(), Value::from(value)))
            .collect();
        let event = serde_json::json!({
            "requestContext": {"elb": {"targetGroupArn": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/sse/0123456789abcdef"}},
            "httpMethod": method, "path": path,
            "queryStringParameters": query, "headers": headers,
            "body": "", "isBase64Encoded": false,
        });
        let answer: Value = match client.post(&invoke).json(&event).send().await {
            Ok(response) => response.json().await.unwrap_or(Value::Null),
            Err(_) => Value::Null,
        };
        let status = answer["statusCode"].as_u64().unwrap_or(502);
        let body = answer["body"].as_str().unwrap_or_default();
        let mut response = format!(
            "HTTP/1.1 {status} {}\r\n",
            answer["statusDescription"].as_str().unwrap_or("")
        );
        for (name, value) in answer["headers"].as_object().into_iter().flatten() {
            response += &format!("{name}: {}\r\n", value.as_str().unwrap_or_default());
        }
        response += &format!(
            "content-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = socket.write_all(response.as_bytes()).await;
        let _ = socket.shutdown().await;
    }
}

impl Drop for BufferingFront {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn an_eventsource_behind_a_buffering_front_gets_every_step_once(emulator: &Emulator) {
    let front = BufferingFront::start(emulator.port).await;
    let url = format!(
        "http://127.0.0.1:{}/events?steps=12&interval_ms=250",
        front.port
    );
    let lines = follow_with_eventsource(emulator, &url).await;
    assert_followed_one_job(&lines, 12);
    let output = emulator.output();
    assert!(
        output.contains("buffered=true"),
        "the function answered buffered:\n{output}"
    );
}

/// A SigV4-verifying proxy (`test/sigv4_verifier.py`, botocore's signer) in
/// front of the emulator, standing in for an `AWS_IAM` Function URL.
struct Verifier {
    process: Running,
    port: u16,
}

const ACCESS_KEY: &str = "AKIDEXAMPLE";
const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const TEMPORARY_KEY: &str = "ASIAEXAMPLE";
const SESSION_TOKEN: &str = "IQoJb3JpZ2luX2VjE//session+token=";

impl Verifier {
    async fn start(root: &Path, upstream: &str) -> Self {
        let mut command = Command::new(root.join(".venv/bin/python"));
        command
            .arg(root.join("test/sigv4_verifier.py"))
            .args([
                "--upstream",
                upstream,
                "--region",
                "eu-west-1",
                "--service",
                "lambda",
            ])
            .args(["--credentials", &format!("{ACCESS_KEY}:{SECRET_KEY}")])
            .args([
                "--credentials",
                &format!("{TEMPORARY_KEY}:{SECRET_KEY}:{SESSION_TOKEN}"),
            ]);
        let process = Running::start(
            &mut command,
            "the SigV4 verifier starts (npm test installs botocore into .venv)",
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let output = process.output();
            if let Some(port) = output
                .lines()
                .find_map(|l| l.strip_prefix("listening on "))
                .and_then(|p| p.trim().parse().ok())
            {
                return Self { process, port };
            }
            assert!(
                Instant::now() < deadline,
                "the verifier did not start:\n{output}"
            );
            sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Runs `bin/stream.sh` against the verifier with these credentials.
async fn stream_script(
    root: &Path,
    verifier: &Verifier,
    credentials: (&str, &str, Option<&str>),
    args: &[&str],
) -> std::process::Output {
    let mut command = Command::new("bash");
    command
        .arg(root.join("bin/stream.sh"))
        .args(["--url", &format!("http://127.0.0.1:{}/", verifier.port)])
        .args(["--region", "eu-west-1"])
        .args(args)
        .env("AWS_ACCESS_KEY_ID", credentials.0)
        .env("AWS_SECRET_ACCESS_KEY", credentials.1)
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .stdin(Stdio::null());
    if let Some(token) = credentials.2 {
        command.env("AWS_SESSION_TOKEN", token);
    }
    command.output().await.expect("bash runs bin/stream.sh")
}

/// What `bin/stream.sh` printed, as SSE events.
async fn events_of(stdout: &[u8]) -> Vec<eventsource_stream::Event> {
    let body = futures_util::stream::iter([Ok::<_, std::convert::Infallible>(stdout.to_vec())]);
    body.eventsource()
        .map(|e| e.expect("valid SSE"))
        .collect()
        .await
}

/// curl before 8 signs the query in the order it was written; AWS (and the
/// verifier) sort it. `bin/stream.sh` must send any query in the order that
/// verifies, with long-term keys and with a session token, and resume with
/// `Last-Event-ID`; a wrong secret must fail with 403 and a non-zero exit.
async fn signed_requests_from_the_stream_script_verify(emulator: &Emulator) {
    let root = emulator.crate_dir().parent().unwrap().to_path_buf();
    let verifier = Verifier::start(&root, &format!("{}/", emulator.base)).await;
    let long_term = (ACCESS_KEY, SECRET_KEY, None);
    let temporary = (TEMPORARY_KEY, SECRET_KEY, Some(SESSION_TOKEN));

    for credentials in [long_term, temporary] {
        let output = stream_script(
            &root,
            &verifier,
            credentials,
            &["events?steps=2&interval_ms=100"],
        )
        .await;
        let log = verifier.process.output();
        assert!(
            output.status.success(),
            "{:?} {}\n{log}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        let events = events_of(&output.stdout).await;
        let kinds: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
        assert_eq!(kinds, ["progress", "progress", "complete"], "{log}");
    }
    let log = verifier.process.output();
    assert!(
        log.contains("verified: GET /events?interval_ms=100&steps=2"),
        "sent sorted:\n{log}"
    );

    // A query with more to encode, and a resume.
    let first = stream_script(
        &root,
        &verifier,
        temporary,
        &["events?steps=3&interval_ms=50"],
    )
    .await;
    let first = events_of(&first.stdout).await;
    let output = stream_script(
        &root,
        &verifier,
        temporary,
        &[
            "--last-event-id",
            &first[0].id,
            "events?steps=3&interval_ms=50&lastEventId=",
        ],
    )
    .await;
    assert!(output.status.success(), "{}", verifier.process.output());
    let resumed: Vec<String> = events_of(&output.stdout)
        .await
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(
        resumed,
        [
            first[1].id.clone(),
            first[2].id.clone(),
            first[3].id.clone()
        ]
    );

    // The wrong secret: 403 from the verifier, and the script says so.
    let output = stream_script(
        &root,
        &verifier,
        (ACCESS_KEY, "not-the-secret", None),
        &["health"],
    )
    .await;
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("403"),
        "{output:?}"
    );
    assert!(
        verifier
            .process
            .output()
            .contains("refused: GET /health: signature mismatch")
    );
}

/// `bin/smoke-test.mjs`, the pipeline's post-deployment check, against the
/// real function behind the SigV4 verifier: with 1 s windows a 5-step job
/// 400 ms apart spans several responses, which it must follow with
/// `Last-Event-ID` to `complete`. With the wrong secret it must fail.
async fn the_smoke_test_passes_signed_through_windows(emulator: &Emulator) {
    let root = emulator.crate_dir().parent().unwrap().to_path_buf();
    let verifier = Verifier::start(&root, &format!("{}/", emulator.base)).await;
    let smoke_test = |secret: &str| {
        let mut command = Command::new("node");
        command
            .arg(root.join("bin/smoke-test.mjs"))
            .args(["--url", &format!("http://127.0.0.1:{}/", verifier.port)])
            .args(["--region", "eu-west-1"])
            .args(["--steps", "5", "--interval-ms", "400"])
            .env("AWS_ACCESS_KEY_ID", TEMPORARY_KEY)
            .env("AWS_SECRET_ACCESS_KEY", secret)
            .env("AWS_SESSION_TOKEN", SESSION_TOKEN)
            .env_remove("AWS_PROFILE")
            .stdin(Stdio::null());
        command
    };

    let output = smoke_test(SECRET_KEY).output().await.expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let log = verifier.process.output();
    assert!(
        output.status.success(),
        "{stdout}{}\n{log}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("/health ok (version "), "{stdout}");
    let reconnects: u32 = stdout
        .split_once("then complete (")
        .and_then(|(_, rest)| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no summary: {stdout}"));
    assert!(reconnects >= 1, "the job should span windows: {stdout}");
    assert!(
        log.contains("verified: GET /events?interval_ms=400&steps=5"),
        "{log}"
    );

    let output = smoke_test("not-the-secret")
        .output()
        .await
        .expect("node runs");
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("smoke-test: FAILED: GET /health failed (status 403)"),
        "{stderr}"
    );
}

/// The example in `examples/` (a source written on the public API only, that
/// streams a file's lines as they are appended) through the emulator: a
/// standard EventSource follows it across windows and gets every line once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_source_follows_a_growing_file_across_windows() {
    let _turn = ONE_EMULATOR_AT_A_TIME.lock().await;
    let dir = std::env::temp_dir().join(format!("sse-tail-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("job.log");
    std::fs::write(&file, "").unwrap();
    let emulator = Emulator::spawn(&[
        "--env-var",
        &format!("TAIL_FILE={}", file.display()),
        "--env-var",
        &format!("SSE_WINDOW_MS={WINDOW_MS}"),
    ])
    .serving("sse-tail");
    emulator.wait_until_healthy().await;

    let lines: Vec<String> = (1..=12).map(|n| format!("line {n}: \"quoted\"")).collect();
    let writer = {
        let (file, lines) = (file.clone(), lines.clone());
        tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            let mut out = tokio::fs::OpenOptions::new()
                .append(true)
                .open(&file)
                .await
                .unwrap();
            for line in lines.iter().map(String::as_str).chain(["-- end --"]) {
                sleep(Duration::from_millis(250)).await;
                out.write_all(format!("{line}\n").as_bytes()).await.unwrap();
            }
        })
    };
    let received = follow_with_eventsource(&emulator, &emulator.url("/tail")).await;
    writer.await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);

    let data: Vec<&str> = received
        .iter()
        .filter(|l| l["type"] == "message")
        .map(|l| l["data"].as_str().unwrap())
        .collect();
    let mut expected: Vec<&str> = lines.iter().map(String::as_str).collect();
    expected.push("-- end --");
    assert_eq!(data, expected, "every line once, in order");
    let opens = received.iter().filter(|l| l["type"] == "open").count();
    assert!(
        opens >= 2,
        "one stream across at least two windows, got {opens}"
    );
    assert_eq!(
        received.last().unwrap()["code"],
        204,
        "after the end line the source said 204"
    );
}

/// A durable stream through the emulator and a local DynamoDB: a standard
/// EventSource subscribes before the producer starts, follows it across
/// at least three 1 s windows while it publishes, gets every event once and
/// in order, and stops at the 204 after the final event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_eventsource_follows_a_durable_stream_across_windows() {
    use lambda_sse::durable::{Publisher, StreamName};
    let _turn = ONE_EMULATOR_AT_A_TIME.lock().await;
    let local = support::dynamo::LocalDynamo::start().await;
    let mut args = vec![
        "--env-var".to_owned(),
        format!("SSE_WINDOW_MS={WINDOW_MS}"),
        "--env-var".to_owned(),
        "SSE_POLL_MIN_MS=20".to_owned(),
        "--env-var".to_owned(),
        "SSE_POLL_MAX_MS=200".to_owned(),
    ];
    for (name, value) in local.env() {
        args.extend(["--env-var".to_owned(), format!("{name}={value}")]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let emulator = Emulator::spawn(&args);
    emulator.wait_until_healthy().await;

    let url = emulator.url("/streams/deploy-7");
    let follower = tokio::spawn({
        let script = emulator.crate_dir().join("tests/clients/follow.mjs");
        async move {
            Command::new("node")
                .arg(&script)
                .args([url.as_str(), "60000"])
                .stdin(Stdio::null())
                .output()
                .await
                .expect("node runs")
        }
    });
    // The subscriber comes first; the producer starts a moment later.
    sleep(Duration::from_millis(500)).await;
    let publisher = Publisher::new(local.table());
    let stream = StreamName::new("deploy-7").unwrap();
    let mut ids = vec![];
    for n in 1..=12 {
        ids.push(
            publisher
                .append(&stream, "message", &format!("step {n}"))
                .await
                .unwrap(),
        );
        sleep(Duration::from_millis(300)).await;
    }
    ids.push(
        publisher
            .append_final(&stream, "complete", "done")
            .await
            .unwrap(),
    );

    let output = follower.await.unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", emulator.output());
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let received: Vec<(&str, &str)> = lines
        .iter()
        .filter(|l| l["type"] == "message" || l["type"] == "complete")
        .map(|l| (l["id"].as_str().unwrap(), l["data"].as_str().unwrap()))
        .collect();
    let expected: Vec<String> = (1..=12)
        .map(|n| format!("step {n}"))
        .chain(["done".to_owned()])
        .collect();
    assert_eq!(
        received,
        ids.iter()
            .map(String::as_str)
            .zip(expected.iter().map(String::as_str))
            .collect::<Vec<_>>(),
        "every event once, in order:\n{stdout}"
    );
    let opens = lines.iter().filter(|l| l["type"] == "open").count();
    assert!(
        opens >= 3,
        "at least three responses, got {opens}:\n{stdout}"
    );
    let last = lines.last().unwrap();
    assert_eq!(
        (last["type"].as_str(), last["code"].as_u64()),
        (Some("closed"), Some(204)),
        "{stdout}"
    );
    // Each response wrote its metrics line, with the store's figures.
    let output = emulator.output();
    let store_lines: Vec<Value> = output
        .lines()
        .filter_map(|l| l.find("{\"").map(|at| &l[at..]))
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["Route"] == "/streams/{name}")
        .collect();
    assert!(
        store_lines.len() >= 3,
        "one metrics line per response:\n{output}"
    );
    // A response counts only its own reads: the emulator keeps the process
    // between invocations, so the stream's shared tail reads for all of
    // them, and a reconnect within its idle poll interval resumes from its
    // buffer without a read of its own.
    assert!(
        store_lines.iter().all(|v| v["StoreReads"].is_u64()),
        "{store_lines:?}"
    );
    assert!(
        store_lines[1..].iter().any(|v| v["StoreReads"] == 0),
        "{store_lines:?}"
    );
    assert!(
        store_lines.iter().any(|v| v["PublishLag"].is_array()),
        "{store_lines:?}"
    );
}
