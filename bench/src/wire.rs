//! Just enough HTTP/1.1 to read requests and chunked bodies off a socket,
//! timestamping every read, and to find SSE events in what arrived.

use std::{
    io::{self, Read},
    net::TcpStream,
    time::{Duration, Instant},
};

/// A connection being read, with the time and sequence number of each read.
pub struct Conn {
    pub stream: TcpStream,
    buf: Vec<u8>,
    /// When the latest read returned: every byte still buffered came with it
    /// or with an earlier one (bytes are only read when needed).
    last_read_at: Instant,
    reads: u64,
    /// Acknowledge every segment at once (`TCP_QUICKACK` before each read)
    /// instead of delaying ACKs: a diagnostic for figure 3.
    pub quickack: bool,
}

/// One decoded body chunk: its bytes, when its last byte arrived, and the
/// number of the read that brought it.
#[derive(Debug, Clone)]
pub struct Chunk {
    pub at: Instant,
    pub read: u64,
    pub bytes: Vec<u8>,
}

/// A request or response head: the first line and the headers.
#[derive(Debug)]
pub struct Head {
    pub line: String,
    pub headers: Vec<(String, String)>,
}

impl Head {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn is_chunked(&self) -> bool {
        self.header("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
    }
}

impl Conn {
    pub fn new(stream: TcpStream) -> Self {
        Self {
            stream,
            buf: Vec::new(),
            last_read_at: Instant::now(),
            reads: 0,
            quickack: false,
        }
    }

    fn read_more(&mut self) -> io::Result<()> {
        let mut chunk = [0u8; 64 * 1024];
        if self.quickack {
            quickack(&self.stream);
        }
        let n = self.stream.read(&mut chunk)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        self.last_read_at = Instant::now();
        self.reads += 1;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }

    /// Reads a head; `None` when the peer closed between messages.
    pub fn read_head(&mut self) -> io::Result<Option<Head>> {
        let end = loop {
            if let Some(at) = find(&self.buf, b"\r\n\r\n") {
                break at;
            }
            match self.read_more() {
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof && self.buf.is_empty() => {
                    return Ok(None);
                }
                other => other?,
            }
        };
        let text = String::from_utf8_lossy(&self.buf[..end]).into_owned();
        self.buf.drain(..end + 4);
        let mut lines = text.split("\r\n");
        let line = lines.next().unwrap_or_default().to_owned();
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
            .collect();
        Ok(Some(Head { line, headers }))
    }

    fn read_line(&mut self) -> io::Result<String> {
        loop {
            if let Some(at) = find(&self.buf, b"\r\n") {
                let line = String::from_utf8_lossy(&self.buf[..at]).into_owned();
                self.buf.drain(..at + 2);
                return Ok(line);
            }
            self.read_more()?;
        }
    }

    fn take(&mut self, n: usize) -> io::Result<Chunk> {
        while self.buf.len() < n {
            self.read_more()?;
        }
        Ok(Chunk {
            at: self.last_read_at,
            read: self.reads,
            bytes: self.buf.drain(..n).collect(),
        })
    }

    /// Reads the body that follows `head`: chunked (each chunk timestamped),
    /// by content length, or (for a response without either) to the end.
    /// `on_chunk` sees each chunk as it is decoded.
    pub fn read_body(&mut self, head: &Head, mut on_chunk: impl FnMut(&Chunk)) -> io::Result<()> {
        if head.is_chunked() {
            loop {
                let line = self.read_line()?;
                let size = usize::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16)
                    .map_err(|_| io::Error::other(format!("bad chunk size {line:?}")))?;
                if size == 0 {
                    // Trailers, then the blank line that ends the body.
                    while !self.read_line()?.is_empty() {}
                    return Ok(());
                }
                let chunk = self.take(size)?;
                self.take(2)?;
                on_chunk(&chunk);
            }
        } else if let Some(len) = head.header("content-length") {
            let len: usize = len.parse().map_err(io::Error::other)?;
            if len > 0 {
                let chunk = self.take(len)?;
                on_chunk(&chunk);
            }
            Ok(())
        } else {
            loop {
                if !self.buf.is_empty() {
                    let n = self.buf.len();
                    on_chunk(&self.take(n)?);
                }
                match self.read_more() {
                    Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
                    other => other?,
                }
            }
        }
    }
}

/// Sets `TCP_QUICKACK`, which Linux clears again on its own: call it before
/// every read to keep acknowledging at once.
fn quickack(stream: &TcpStream) {
    use std::os::fd::AsRawFd;
    let on: libc::c_int = 1;
    // SAFETY: a valid socket descriptor, and a pointer to a live c_int of
    // the size passed.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_QUICKACK,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// An SSE block found in a body: where it ended (time and read of the chunk
/// that held its last byte) and its `id`, if any.
#[derive(Debug, Clone)]
pub struct Block {
    pub at: Instant,
    pub read: u64,
    pub id: Option<String>,
}

impl Block {
    /// The step number of an id `<job>:<step>`.
    pub fn step(&self) -> Option<u32> {
        self.id.as_deref()?.rsplit(':').next()?.parse().ok()
    }
}

/// Splits a body (given as its chunks, from `start` bytes in) into SSE blocks.
pub fn blocks(chunks: &[Chunk], start: usize) -> Vec<Block> {
    let mut body = Vec::new();
    let mut ends = Vec::new();
    for chunk in chunks {
        body.extend_from_slice(&chunk.bytes);
        ends.push((body.len(), chunk.at, chunk.read));
    }
    let mut blocks = Vec::new();
    let mut from = start.min(body.len());
    while let Some(at) = find(&body[from..], b"\n\n") {
        let end = from + at + 2;
        let text = String::from_utf8_lossy(&body[from..end]);
        let id = text
            .lines()
            .find_map(|l| l.strip_prefix("id: "))
            .map(str::to_owned);
        let (_, at, read) = ends
            .iter()
            .copied()
            .find(|(e, _, _)| *e >= end)
            .expect("a block ends inside the body");
        blocks.push(Block { at, read, id });
        from = end;
    }
    blocks
}

/// The lag of each numbered event against its schedule, and how many events
/// arrived in the same read as the next one.
///
/// Step `n` is due `(n - first) * interval` after the schedule's origin. The
/// origin is not known to the reader, so it is taken as the earliest the
/// events allow: the minimum over all events of `arrival - offset`. The
/// least-delayed event thus has lag 0, and a first event held back shows as
/// lag instead of making every later event look early.
pub fn schedule_lags(blocks: &[Block], interval: Duration) -> (Vec<f64>, usize) {
    let steps: Vec<(u32, &Block)> = blocks
        .iter()
        .filter_map(|b| b.step().map(|s| (s, b)))
        .collect();
    let Some(&(first_step, _)) = steps.first() else {
        return (Vec::new(), 0);
    };
    let offset = |step: u32| interval * step.saturating_sub(first_step);
    let origin = steps
        .iter()
        .map(|&(step, b)| b.at.checked_sub(offset(step)).unwrap_or(b.at))
        .min()
        .expect("at least one step");
    let lags = steps
        .iter()
        .map(|&(step, b)| ms_between(origin + offset(step), b.at))
        .collect();
    let batched = steps
        .windows(2)
        .filter(|w| w[0].1.read == w[1].1.read)
        .count();
    (lags, batched)
}

/// `to - from` in milliseconds, negative when `to` is earlier.
pub fn ms_between(from: Instant, to: Instant) -> f64 {
    if to >= from {
        (to - from).as_secs_f64() * 1000.0
    } else {
        -((from - to).as_secs_f64() * 1000.0)
    }
}

/// The `p`-th percentile (nearest rank) of `values`; NaN when empty.
pub fn percentile(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}
