//! A Lambda Runtime API played on 127.0.0.1, for tests that run the function
//! binary against it: the test queues invocations (any event, any headers),
//! the function long-polls `/next` for them, and what it posts back for each
//! is recorded, chunk by chunk, with the time each chunk arrived.
//!
//! Just enough HTTP/1.1 for `lambda_runtime`'s client: keep-alive
//! connections, `content-length` and chunked bodies. The listener and its
//! connections live in tasks of the test's runtime and end with it.

#![allow(dead_code)] // Each test binary uses its own part of it.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex},
    time::{Duration, SystemTime, UNIX_EPOCH},
};
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
    sync::{Notify, Semaphore},
    time::Instant,
};

const PREFIX: &str = "/2018-06-01/runtime";

/// One invocation to hand out: the `/next` answer's extra headers and body.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// Headers of the `/next` answer, besides `content-length`.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Invocation {
    /// An ordinary invocation with request id `id`, deadline `deadline_ms`
    /// (as the header carries it) and `event` as its payload.
    pub fn new(id: &str, deadline_ms: u64, event: &serde_json::Value) -> Self {
        Self {
            headers: vec![
                ("lambda-runtime-aws-request-id".into(), id.into()),
                ("lambda-runtime-deadline-ms".into(), deadline_ms.to_string()),
                (
                    "lambda-runtime-invoked-function-arn".into(),
                    "arn:aws:lambda:eu-west-1:123456789012:function:sse".into(),
                ),
                (
                    "lambda-runtime-trace-id".into(),
                    "Root=1-00000000-000000000000000000000000;Sampled=0".into(),
                ),
            ],
            body: event.to_string(),
        }
    }
}

/// What the function posted for one invocation.
#[derive(Debug, Clone, Default)]
pub struct Posted {
    /// `response` or `error`.
    pub kind: String,
    /// The body, chunk by chunk as it arrived, each with its arrival time.
    pub chunks: Vec<(Instant, Vec<u8>)>,
    /// Set once the whole body has arrived.
    pub done: bool,
}

impl Posted {
    pub fn body(&self) -> Vec<u8> {
        self.chunks.iter().flat_map(|(_, c)| c.clone()).collect()
    }
}

#[derive(Default)]
struct State {
    queue: VecDeque<Invocation>,
    posted: HashMap<String, Posted>,
    /// `/next` requests received so far.
    polls: u64,
}

/// A running Runtime API.
#[derive(Clone)]
pub struct RuntimeApi {
    port: u16,
    state: Arc<Mutex<State>>,
    changed: Arc<Notify>,
    /// One permit per queued invocation: each `/next` waits for its own, so
    /// a thousand waiting polls are not all woken by every change.
    queued: Arc<Semaphore>,
}

impl RuntimeApi {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1");
        let api = Self {
            port: listener.local_addr().unwrap().port(),
            state: Arc::default(),
            changed: Arc::default(),
            queued: Arc::new(Semaphore::new(0)),
        };
        let accepting = api.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let api = accepting.clone();
                tokio::spawn(async move {
                    let _ = api.serve(socket).await;
                });
            }
        });
        api
    }

    /// The value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn endpoint(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Queues an invocation for the next `/next`.
    pub fn hand_out(&self, invocation: Invocation) {
        self.state.lock().unwrap().queue.push_back(invocation);
        self.queued.add_permits(1);
        self.changed.notify_waiters();
    }

    /// Queues `event` as invocation `id`, due `deadline` from now.
    pub fn invoke(&self, id: &str, event: &serde_json::Value, deadline: Duration) {
        let epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap() + deadline;
        self.hand_out(Invocation::new(id, epoch.as_millis() as u64, event));
    }

    /// What the function posted for `id` so far.
    pub fn posted(&self, id: &str) -> Option<Posted> {
        self.state.lock().unwrap().posted.get(id).cloned()
    }

    /// How many times the function has asked for work.
    pub fn polls(&self) -> u64 {
        self.state.lock().unwrap().polls
    }

    /// Waits until `check` holds, or `limit` passes (then `false`).
    pub async fn wait_for(&self, limit: Duration, check: impl Fn(&Self) -> bool) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            let changed = self.changed.notified();
            if check(self) {
                return true;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return check(self);
            }
        }
    }

    /// The whole answer to `id`, once it has arrived (within `limit`).
    pub async fn response(&self, id: &str, limit: Duration) -> Option<Posted> {
        self.wait_for(limit, |api| api.posted(id).is_some_and(|p| p.done))
            .await
            .then(|| self.posted(id))
            .flatten()
    }

    async fn serve(&self, socket: TcpStream) -> std::io::Result<()> {
        let mut reader = BufReader::new(socket);
        loop {
            let Some((method, path, headers)) = read_head(&mut reader).await? else {
                return Ok(());
            };
            let route = path.strip_prefix(PREFIX).unwrap_or(&path).to_owned();
            if method == "GET" && route == "/invocation/next" {
                let invocation = self.next().await;
                let mut answer =
                    String::from("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n");
                for (name, value) in &invocation.headers {
                    answer += &format!("{name}: {value}\r\n");
                }
                answer += &format!(
                    "content-length: {}\r\n\r\n{}",
                    invocation.body.len(),
                    invocation.body
                );
                reader.get_mut().write_all(answer.as_bytes()).await?;
            } else {
                let (id, kind) = route
                    .strip_prefix("/invocation/")
                    .and_then(|rest| rest.split_once('/'))
                    .map_or(("init", "error"), |(id, kind)| (id, kind));
                self.receive(&mut reader, &headers, id, kind).await?;
                let body = r#"{"status":"OK"}"#;
                let answer = format!(
                    "HTTP/1.1 202 Accepted\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
                reader.get_mut().write_all(answer.as_bytes()).await?;
            }
        }
    }

    async fn next(&self) -> Invocation {
        self.state.lock().unwrap().polls += 1;
        self.changed.notify_waiters();
        self.queued
            .acquire()
            .await
            .expect("the semaphore is never closed")
            .forget();
        let invocation = self.state.lock().unwrap().queue.pop_front();
        invocation.expect("a permit per queued invocation")
    }

    /// Reads a posted body into the record for `id`, chunk by chunk.
    async fn receive(
        &self,
        reader: &mut BufReader<TcpStream>,
        headers: &HashMap<String, String>,
        id: &str,
        kind: &str,
    ) -> std::io::Result<()> {
        let record = |chunk: Option<Vec<u8>>, done: bool| {
            let mut state = self.state.lock().unwrap();
            let posted = state.posted.entry(id.to_owned()).or_default();
            posted.kind = kind.to_owned();
            if let Some(chunk) = chunk {
                posted.chunks.push((Instant::now(), chunk));
            }
            posted.done = done;
            drop(state);
            self.changed.notify_waiters();
        };
        record(None, false);
        let chunked = headers
            .get("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
        if !chunked {
            let length: usize = headers
                .get("content-length")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let mut body = vec![0; length];
            reader.read_exact(&mut body).await?;
            record(Some(body), true);
            return Ok(());
        }
        loop {
            let mut size_line = String::new();
            reader.read_line(&mut size_line).await?;
            let size = usize::from_str_radix(size_line.trim().split(';').next().unwrap_or(""), 16)
                .map_err(|_| std::io::Error::other(format!("bad chunk size {size_line:?}")))?;
            if size == 0 {
                // Trailers, if any, then the blank line.
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).await? == 0 || line == "\r\n" {
                        break;
                    }
                }
                record(None, true);
                return Ok(());
            }
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).await?;
            chunk.truncate(size);
            record(Some(chunk), false);
        }
    }
}

/// A request line and headers (names lowercased); `None` at a clean close.
async fn read_head(
    reader: &mut BufReader<TcpStream>,
) -> std::io::Result<Option<(String, String, HashMap<String, String>)>> {
    let mut line = String::new();
    if reader.read_line(&mut line).await? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (
        parts.next().unwrap_or_default().to_owned(),
        parts.next().unwrap_or_default().to_owned(),
    );
    let mut headers = HashMap::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).await? == 0 || header == "\r\n" {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
    }
    Ok(Some((method, path, headers)))
}
