//! `lambda_runtime::run`, without the Nagle stall on the first event.
//!
//! `lambda_runtime` 1.5 posts a streamed response as separate chunks on its
//! Runtime API connection: the JSON prelude, then the eight-NUL separator,
//! then each body chunk. Its HTTP client is a `hyper_util` `HttpConnector`
//! built with the default `set_nodelay(false)`, and `Runtime` offers no way to
//! supply another client. With Nagle's algorithm on, the separator (and the
//! first event behind it) waits until the prelude is acknowledged, and the
//! Runtime API acknowledges late (delayed ACK, about 40 ms on Linux): the
//! first event reaches the client about 40 ms after it was written. See
//! `docs/benchmarks.md`, figure 5.
//!
//! [`run`] is `lambda_runtime::run` plus one layer, [`NoDelayLayer`], that
//! sets `TCP_NODELAY` on the process's connections to the Runtime API before
//! each invocation is handled, so the response that follows is written at
//! once. The runtime is used as published; only its socket option changes.

use lambda_runtime::{
    Diagnostic, IntoFunctionResponse, LambdaEvent, LambdaInvocation, Runtime, layers,
    tower::{Layer, Service},
};
use serde::Deserialize;
use std::{
    collections::HashSet,
    fmt,
    future::Future,
    mem::ManuallyDrop,
    net::{SocketAddr, TcpStream, ToSocketAddrs},
    os::fd::{FromRawFd, RawFd},
    sync::Mutex,
    task::{Context, Poll},
};

/// Runs `handler` as `lambda_runtime::run` does (same tracing layer), with
/// `TCP_NODELAY` on the Runtime API connections. A drop-in replacement: same
/// bounds, same result.
pub async fn run<A, F, R, B, S, D, E>(handler: F) -> Result<(), lambda_runtime::Error>
where
    F: Service<LambdaEvent<A>, Response = R>,
    F::Future: Future<Output = Result<R, F::Error>>,
    F::Error: Into<Diagnostic> + fmt::Debug,
    A: for<'de> Deserialize<'de>,
    R: IntoFunctionResponse<B, S>,
    B: serde::Serialize,
    S: futures_util::Stream<Item = Result<D, E>> + Unpin + Send + 'static,
    D: Into<bytes::Bytes> + Send,
    E: Into<lambda_runtime::Error> + Send + fmt::Debug,
{
    Runtime::new(handler)
        .layer(layers::TracingLayer::new())
        .layer(NoDelayLayer::from_env())
        .run()
        .await
}

/// Sets `TCP_NODELAY` on every connection to the Runtime API before the
/// invocation goes on to the handler and its response is posted.
#[derive(Debug, Clone)]
pub struct NoDelayLayer {
    runtime_api: Vec<SocketAddr>,
}

impl NoDelayLayer {
    /// For the Runtime API named by `AWS_LAMBDA_RUNTIME_API`. If it cannot
    /// be resolved (the runtime itself would then fail), the layer does nothing.
    pub fn from_env() -> Self {
        if let Ok(mut seen) = SEEN.lock() {
            *seen = SeenSockets::default();
        }
        let runtime_api = std::env::var("AWS_LAMBDA_RUNTIME_API")
            .map(|endpoint| runtime_api_addrs(&endpoint))
            .unwrap_or_default();
        Self { runtime_api }
    }
}

impl<S> Layer<S> for NoDelayLayer {
    type Service = NoDelay<S>;

    fn layer(&self, inner: S) -> Self::Service {
        NoDelay {
            inner,
            runtime_api: self.runtime_api.clone(),
        }
    }
}

/// The service [`NoDelayLayer`] makes.
#[derive(Debug, Clone)]
pub struct NoDelay<S> {
    inner: S,
    runtime_api: Vec<SocketAddr>,
}

/// The descriptors every runtime loop of the process has looked at.
static SEEN: Mutex<SeenSockets> = Mutex::new(SeenSockets(None));

impl<S> Service<LambdaInvocation> for NoDelay<S>
where
    S: Service<LambdaInvocation>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, invocation: LambdaInvocation) -> Self::Future {
        // The connection that brought this invocation is the one (back in
        // the client's pool of one) that will post its response.
        if let Ok(mut seen) = SEEN.lock() {
            set_nodelay_towards(&self.runtime_api, &mut seen);
        }
        self.inner.call(invocation)
    }
}

/// The addresses of a Runtime API endpoint as `AWS_LAMBDA_RUNTIME_API` gives
/// it: `host:port` on Lambda, a URL with a path under `cargo lambda watch`
/// (`http://127.0.0.1:9000/.rt/<binary>`).
pub fn runtime_api_addrs(endpoint: &str) -> Vec<SocketAddr> {
    let rest = endpoint
        .split_once("://")
        .map_or(endpoint, |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or(rest);
    authority
        .to_socket_addrs()
        .or_else(|_| (authority.trim_matches(['[', ']']), 80).to_socket_addrs())
        .map(Iterator::collect)
        .unwrap_or_default()
}

/// The descriptors already looked at, so that each is checked once: with
/// many invocations at once (a Runtime API connection per runtime loop, a
/// thousand loops), checking every descriptor of the process on every
/// invocation took most of the CPU (see `tests/concurrency.rs`). Listing
/// the descriptors is cheap; only new ones are read. A descriptor closed
/// and reused between two invocations of one loop would be missed (a
/// latency cost, never a wrong answer); a runtime loop that starts (or
/// starts again) makes every descriptor be read again once.
#[derive(Debug, Default)]
pub struct SeenSockets(Option<HashSet<RawFd>>);

/// Sets `TCP_NODELAY` on each of this process's TCP sockets whose peer is
/// one of `peers` and that `seen` does not hold yet; returns how many it set.
/// Reads `/proc/self/fd`, so on a system without it (not Linux) it does nothing.
pub fn set_nodelay_towards(peers: &[SocketAddr], seen: &mut SeenSockets) -> usize {
    if peers.is_empty() {
        return 0;
    }
    let Ok(entries) = std::fs::read_dir("/proc/self/fd") else {
        return 0;
    };
    let mut set = 0;
    let seen_before = seen.0.take().unwrap_or_default();
    let mut open = HashSet::with_capacity(seen_before.len());
    for entry in entries.flatten() {
        let Some(fd) = entry
            .file_name()
            .to_str()
            .and_then(|name| name.parse::<RawFd>().ok())
        else {
            continue;
        };
        open.insert(fd);
        if seen_before.contains(&fd) {
            continue;
        }
        let is_socket = std::fs::read_link(entry.path()).is_ok_and(|target| {
            target
                .as_os_str()
                .as_encoded_bytes()
                .starts_with(b"socket:")
        });
        if !is_socket {
            continue;
        }
        // SAFETY: `fd` is a socket this process has open (just listed in
        // /proc/self/fd). The stream is never dropped, so it never closes
        // the descriptor it borrows; `peer_addr` and `set_nodelay` only
        // fail (harmlessly) if the socket is not a connected TCP socket, or
        // if the descriptor was closed meanwhile.
        let stream = ManuallyDrop::new(unsafe { TcpStream::from_raw_fd(fd) });
        if stream.peer_addr().is_ok_and(|peer| peers.contains(&peer))
            && stream.set_nodelay(true).is_ok()
        {
            set += 1;
        }
    }
    // Descriptors closed since are forgotten.
    seen.0 = Some(open);
    set
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::{net::TcpListener, os::fd::AsRawFd};

    #[test]
    fn reads_the_endpoint_as_lambda_and_the_emulator_give_it() {
        let local: SocketAddr = "127.0.0.1:9001".parse().unwrap();
        assert_eq!(runtime_api_addrs("127.0.0.1:9001"), vec![local]);
        assert_eq!(
            runtime_api_addrs("http://127.0.0.1:9001/.rt/sse-function"),
            vec![local]
        );
        assert_eq!(
            runtime_api_addrs("http://127.0.0.1"),
            vec!["127.0.0.1:80".parse().unwrap()]
        );
        assert!(runtime_api_addrs("").is_empty());
    }

    #[test]
    fn sets_nodelay_only_on_connections_to_the_runtime_api() {
        let api = TcpListener::bind("127.0.0.1:0").unwrap();
        let other = TcpListener::bind("127.0.0.1:0").unwrap();
        let to_api = TcpStream::connect(api.local_addr().unwrap()).unwrap();
        let to_other = TcpStream::connect(other.local_addr().unwrap()).unwrap();
        assert!(!to_api.nodelay().unwrap());

        let mut seen = SeenSockets::default();
        let set = set_nodelay_towards(&[api.local_addr().unwrap()], &mut seen);

        assert!(set >= 1, "the connection to the API is found");
        assert!(to_api.nodelay().unwrap());
        assert!(
            !to_other.nodelay().unwrap(),
            "other connections are left alone"
        );
        assert_eq!(set_nodelay_towards(&[], &mut seen), 0);

        // Looked at once: the next call leaves a socket it saw alone (here
        // one whose option was turned off again) and finds a new one.
        to_api.set_nodelay(false).unwrap();
        let second = TcpStream::connect(api.local_addr().unwrap()).unwrap();
        // Tests run in parallel in this process: if another one closed a
        // descriptor that `second` then got, it counts as seen (the
        // documented cost of a reused descriptor).
        let reused = seen
            .0
            .as_ref()
            .is_some_and(|fds| fds.contains(&second.as_raw_fd()));
        let set = set_nodelay_towards(&[api.local_addr().unwrap()], &mut seen);
        assert!(!to_api.nodelay().unwrap(), "a socket seen is left alone");
        if !reused {
            assert_eq!(set, 1, "only the new connection");
            assert!(second.nodelay().unwrap());
        }
    }
}
