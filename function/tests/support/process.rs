//! Child processes for tests: each in a process group of its own, so that
//! stopping it stops everything it started, with its output gathered line by
//! line as it comes.

#![allow(dead_code)] // Each test binary uses its own part of it.

use std::{
    process::Stdio,
    sync::{Arc, Mutex},
};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

/// A running child and its output so far; stopped (with its group) on drop.
pub struct Running {
    pub child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

impl Running {
    /// Starts `command` in its own process group, gathering its output.
    /// `what` says what failed if it cannot start.
    pub fn start(command: &mut Command, what: &str) -> Self {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .expect(what);
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
        Self { child, log }
    }

    /// Everything it printed so far, stdout and stderr interleaved as read.
    pub fn output(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// Whether it is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Running {
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

/// A free port on 127.0.0.1 (free when asked; a test binds it right after).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("bound").port()
}

/// The function binary, against the Runtime API at `endpoint`, with `env`.
pub fn function(endpoint: &str, env: &[(&str, &str)]) -> Running {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sse-function"));
    command
        .env("AWS_LAMBDA_RUNTIME_API", endpoint)
        .env("AWS_LAMBDA_FUNCTION_NAME", "sse-function")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("RUST_LOG", "info");
    for (name, value) in env {
        command.env(name, value);
    }
    Running::start(&mut command, "the function binary starts")
}
