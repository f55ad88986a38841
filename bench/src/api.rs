//! A fake Lambda Runtime API on 127.0.0.1: it hands out the invocations it is
//! given, one `/next` at a time, and timestamps what the function sends back.
//!
//! Sockets are plain Linux TCP sockets with default options, as Lambda's own
//! Runtime API presents them: delayed ACKs on, no `TCP_QUICKACK`.

use crate::wire::{Chunk, Conn, Head};
use std::{
    collections::{HashMap, VecDeque},
    io::{self, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    sync::{Arc, Condvar, Mutex},
    thread,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

const PREFIX: &str = "/2018-06-01/runtime";

/// What the function sent for one invocation.
#[derive(Debug, Clone, Default)]
pub struct Record {
    /// When the `/next` answer that carried the invocation began to be written.
    pub handed: Option<Instant>,
    /// The decoded body of the response (or error) POST, chunk by chunk.
    pub chunks: Vec<Chunk>,
    pub done: Option<Instant>,
    pub error: bool,
}

#[derive(Default)]
struct State {
    first_next: Option<Instant>,
    /// `/next` requests waiting for an invocation now.
    waiting: usize,
    queue: VecDeque<(String, String)>,
    records: HashMap<String, Record>,
}

type Shared = Arc<(Mutex<State>, Condvar)>;

/// A running fake Runtime API. Its threads live until the process ends; use
/// a fresh one for every function process, so a killed process's pending
/// `/next` cannot take an invocation meant for the next one.
pub struct FakeApi {
    addr: SocketAddr,
    shared: Shared,
    next_id: u64,
}

impl FakeApi {
    pub fn start() -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let shared: Shared = Arc::default();
        let for_acceptor = shared.clone();
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let shared = for_acceptor.clone();
                thread::spawn(move || {
                    let _ = serve(Conn::new(stream), &shared);
                });
            }
        });
        Ok(Self {
            addr,
            shared,
            next_id: 0,
        })
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn endpoint(&self) -> String {
        self.addr.to_string()
    }

    /// When the function first asked for work, waiting up to `timeout`.
    pub fn wait_first_next(&self, timeout: Duration) -> Option<Instant> {
        let (lock, cvar) = &*self.shared;
        let state = lock.lock().unwrap();
        let (state, _) = cvar
            .wait_timeout_while(state, timeout, |s| s.first_next.is_none())
            .unwrap();
        state.first_next
    }

    /// Queues `events` to be handed out, one per `/next`, without waiting
    /// for their responses; returns their request ids.
    pub fn hand_out(&mut self, events: impl IntoIterator<Item = String>) -> Vec<String> {
        let (lock, cvar) = &*self.shared;
        let mut state = lock.lock().unwrap();
        let mut ids = Vec::new();
        for event in events {
            self.next_id += 1;
            let id = format!("bench-{:08}", self.next_id);
            state.queue.push_back((id.clone(), event));
            ids.push(id);
        }
        cvar.notify_all();
        ids
    }

    /// Waits (up to `timeout`) until `done` holds for the records so far
    /// (by request id) and the number of `/next` requests waiting; says
    /// whether it did.
    pub fn wait_until(
        &self,
        timeout: Duration,
        done: impl Fn(&HashMap<String, Record>, usize) -> bool,
    ) -> bool {
        let (lock, cvar) = &*self.shared;
        let state = lock.lock().unwrap();
        let (state, _) = cvar
            .wait_timeout_while(state, timeout, |s| !done(&s.records, s.waiting))
            .unwrap();
        done(&state.records, state.waiting)
    }

    /// What was sent for request `id` so far.
    pub fn record(&self, id: &str) -> Option<Record> {
        let (lock, _) = &*self.shared;
        lock.lock().unwrap().records.get(id).cloned()
    }

    /// Hands out `event` and waits (up to `timeout`) for its whole response.
    pub fn invoke(&mut self, event: String, timeout: Duration) -> Option<Record> {
        let id = self.hand_out([event]).remove(0);
        let (lock, cvar) = &*self.shared;
        let state = lock.lock().unwrap();
        let (state, _) = cvar
            .wait_timeout_while(state, timeout, |s| {
                s.records.get(&id).is_none_or(|r| r.done.is_none())
            })
            .unwrap();
        state.records.get(&id).cloned()
    }
}

fn serve(mut conn: Conn, shared: &Shared) -> io::Result<()> {
    while let Some(head) = conn.read_head()? {
        let mut parts = head.line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_owned();
        let path = parts.next().unwrap_or_default().to_owned();
        let route = path.strip_prefix(PREFIX).unwrap_or(&path).to_owned();
        if method == "GET" && route == "/invocation/next" {
            next(&mut conn.stream, shared)?;
        } else if let Some(rest) = route.strip_prefix("/invocation/") {
            let (id, kind) = rest.split_once('/').unwrap_or((rest, ""));
            receive(&mut conn, &head, shared, id, kind == "error")?;
        } else {
            // /init/error and anything else: read and acknowledge.
            conn.read_body(&head, |_| {})?;
            accepted(&mut conn.stream)?;
        }
    }
    Ok(())
}

fn next(stream: &mut TcpStream, shared: &Shared) -> io::Result<()> {
    let (lock, cvar) = &**shared;
    let mut state = lock.lock().unwrap();
    state.first_next.get_or_insert_with(Instant::now);
    state.waiting += 1;
    cvar.notify_all();
    let (id, event) = loop {
        if let Some(item) = state.queue.pop_front() {
            break item;
        }
        state = cvar.wait(state).unwrap();
    };
    state.waiting -= 1;
    drop(state);
    let deadline = SystemTime::now().duration_since(UNIX_EPOCH).unwrap() + Duration::from_secs(600);
    let answer = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
         lambda-runtime-aws-request-id: {id}\r\n\
         lambda-runtime-deadline-ms: {}\r\n\
         lambda-runtime-invoked-function-arn: arn:aws:lambda:us-east-1:123456789012:function:bench\r\n\
         lambda-runtime-trace-id: Root=1-00000000-000000000000000000000000;Sampled=0\r\n\
         content-length: {}\r\n\r\n{event}",
        deadline.as_millis(),
        event.len()
    );
    // Handed out when the answer starts on its way: the function cannot
    // read it any earlier (a thread switch after the write would otherwise
    // make the function look faster than it is).
    let handed = Instant::now();
    stream.write_all(answer.as_bytes())?;
    let mut state = lock.lock().unwrap();
    state.records.entry(id).or_default().handed = Some(handed);
    Ok(())
}

fn receive(conn: &mut Conn, head: &Head, shared: &Shared, id: &str, error: bool) -> io::Result<()> {
    let (lock, cvar) = &**shared;
    conn.read_body(head, |chunk| {
        let mut state = lock.lock().unwrap();
        let record = state.records.entry(id.to_owned()).or_default();
        record.chunks.push(chunk.clone());
        // Only the first chunk wakes waiters: enough to see a response
        // begin, without waking every waiter for every event.
        if record.chunks.len() == 1 {
            cvar.notify_all();
        }
    })?;
    accepted(&mut conn.stream)?;
    let mut state = lock.lock().unwrap();
    let record = state.records.entry(id.to_owned()).or_default();
    record.error = error;
    record.done = Some(Instant::now());
    cvar.notify_all();
    Ok(())
}

fn accepted(stream: &mut TcpStream) -> io::Result<()> {
    let body = r#"{"status":"OK"}"#;
    let answer = format!(
        "HTTP/1.1 202 Accepted\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(answer.as_bytes())
}
