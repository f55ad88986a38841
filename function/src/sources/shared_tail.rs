//! One reader of each durable stream per process, shared by all of its
//! subscribers there: the poll loop starts with the first subscriber, reads
//! new events into a bounded buffer of recent events, wakes the subscribers,
//! and stops as soon as the last one has gone. Store reads then grow with
//! the streams being followed, not with their subscribers.
//!
//! Each subscriber keeps its own position and takes the next event from the
//! buffer. The buffer is bounded in bytes per stream and never waits for a
//! subscriber: one that falls further behind than it holds is told so
//! ([`Next::Behind`]), ends its response with the usual `reconnect` block and
//! resumes from the table. A subscriber whose position is older than the
//! buffer (a resume, a new subscriber reading history) reads those events
//! from the table itself until it reaches the buffer.
//!
//! Written by hand rather than on `tokio::sync::broadcast`: a broadcast
//! receiver only sees values sent after it subscribed, while a resuming
//! subscriber (every reconnect) starts from an event already read, which the
//! buffer still holds.

use super::durable::Polling;
use crate::durable::{EventId, Reader, Stored, StreamName, Table};
use std::{
    collections::{HashMap, VecDeque},
    sync::{
        Arc, Mutex, MutexGuard,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::Duration,
};
use tokio::{
    sync::watch,
    time::{Instant, sleep_until},
};

/// Events read per query: enough for a burst, small enough to go out soon.
pub(crate) const PAGE: i32 = 100;

/// What a buffered event costs besides its type and data: the stored event
/// with its id, flags and token, its `Arc`, the queue's slot and the
/// allocator's share.
const EVENT_OVERHEAD: usize = 256;

/// The shared tails of one table: at most one running per stream.
#[derive(Debug)]
pub(crate) struct Tails {
    registry: Arc<Registry>,
}

#[derive(Debug)]
struct Registry {
    table: Table,
    polling: Polling,
    buffer_bytes: usize,
    running: Mutex<HashMap<StreamName, Arc<Shared>>>,
    /// Every read the tails made, for the tests and the benchmarks.
    reads: AtomicU64,
}

impl Tails {
    pub fn new(table: Table, polling: Polling, buffer_bytes: usize) -> Self {
        Self {
            registry: Arc::new(Registry {
                table,
                polling,
                buffer_bytes,
                running: Mutex::default(),
                reads: AtomicU64::new(0),
            }),
        }
    }

    /// A subscription to `stream`'s tail: the running one, or a new one
    /// (started here) when there is none or the last one failed.
    pub fn join(&self, stream: &StreamName) -> Subscription {
        let mut running = lock(&self.registry.running);
        if let Some(shared) = running.get(stream)
            && shared.usable()
        {
            return Subscription::new(shared);
        }
        let (changed, _) = watch::channel(());
        let shared = Arc::new(Shared {
            buffer: Mutex::new(Buffer {
                events: VecDeque::new(),
                bytes: 0,
                limit: self.registry.buffer_bytes,
                next_seq: None,
                read_at: None,
                floor: 0,
                failed: None,
                finished: false,
            }),
            changed,
            subscribers: AtomicUsize::new(0),
            fresh_for: self.registry.polling.max * 2,
        });
        let poll = PollLoop {
            shared: Arc::clone(&shared),
            registry: Arc::clone(&self.registry),
            stream: stream.clone(),
        };
        tokio::spawn(poll.run());
        let subscription = Subscription::new(&shared);
        running.insert(stream.clone(), shared);
        subscription
    }

    /// Tails running now.
    pub fn running(&self) -> usize {
        lock(&self.registry.running).len()
    }

    /// Reads made by the tails so far.
    pub fn reads(&self) -> u64 {
        self.registry.reads.load(Ordering::Relaxed)
    }
}

/// A subscriber's hold on a stream's tail. The tail stops once it has had
/// none for an idle poll interval, so that a subscriber reconnecting after
/// its window still finds its place in the buffer.
#[derive(Debug)]
pub(crate) struct Subscription {
    shared: Arc<Shared>,
}

impl Subscription {
    // Only under the registry's lock, which the loop takes to stop.
    fn new(shared: &Arc<Shared>) -> Self {
        shared.subscribers.fetch_add(1, Ordering::SeqCst);
        Self {
            shared: Arc::clone(shared),
        }
    }

    /// A receiver that wakes when the buffer changes. Mark it seen
    /// (`borrow_and_update`) before looking at the buffer, then await
    /// `changed`: nothing that happens in between is missed.
    pub fn watch(&self) -> watch::Receiver<()> {
        self.shared.changed.subscribe()
    }

    /// What a subscriber that wants the event at `want` (a `seq`) does next.
    /// `served`: it has taken events from the buffer before, so finding its
    /// position gone from the buffer means it fell behind. `skip`: the
    /// table holds nothing before the buffer's oldest event any more, so
    /// the subscriber takes that event, whatever comes before it.
    pub fn next(&self, want: u64, served: bool, skip: bool) -> Next {
        lock(&self.shared.buffer).next(want, served, skip)
    }

    /// The newest event the tail has read (`None`: the stream is empty),
    /// once its first read has told; `Stale` when its last read is older
    /// than two idle poll intervals (a process that Lambda froze between
    /// invocations), so that the caller reads the table itself.
    pub async fn newest(&self) -> Result<Newest, TailFailed> {
        let mut changed = self.watch();
        loop {
            changed.borrow_and_update();
            {
                let buffer = lock(&self.shared.buffer);
                if let Some(failed) = &buffer.failed {
                    return Err(failed.clone());
                }
                if let Some(at) = buffer.read_at {
                    return Ok(if at.elapsed() > self.shared.fresh_for {
                        Newest::Stale
                    } else {
                        Newest::Known(buffer.events.back().cloned())
                    });
                }
            }
            if changed.changed().await.is_err() {
                return Err(TailFailed("the shared tail is gone".into()));
            }
        }
    }

    /// The buffered event with exactly this id, and the one after it if
    /// the buffer holds it (for a resume without reading the table).
    pub fn find(&self, id: EventId) -> Option<(Arc<Stored>, Option<Arc<Stored>>)> {
        let buffer = lock(&self.shared.buffer);
        let at = buffer.index_of(id.seq)?;
        let event = buffer.events.get(at).filter(|event| event.id == id)?;
        Some((Arc::clone(event), buffer.events.get(at + 1).cloned()))
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.shared.subscribers.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Where the stream ends, as the tail last read it.
#[derive(Debug)]
pub(crate) enum Newest {
    /// Its newest event (`None`: the stream is empty), read at most two
    /// idle poll intervals ago.
    Known(Option<Arc<Stored>>),
    /// The tail has not read for longer than that.
    Stale,
}

/// What a subscriber does next.
#[derive(Debug)]
pub(crate) enum Next {
    /// Send (or judge) this event: the first one buffered at or after `want`.
    Event(Arc<Stored>),
    /// Nothing newer yet: wait for the buffer to change.
    Wait,
    /// Events before the buffer's oldest are wanted: read them from the table.
    Backfill,
    /// The buffer has moved past this subscriber's position.
    Behind,
    /// The stream's final event was read, and this subscriber is past it.
    Over,
    /// The tail's read failed; it has stopped.
    Failed(TailFailed),
}

/// The shared tail's read failed, as its error said; the tail has stopped.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub(crate) struct TailFailed(Arc<str>);

#[derive(Debug)]
struct Shared {
    buffer: Mutex<Buffer>,
    /// Sent after each change of the buffer.
    changed: watch::Sender<()>,
    /// Subscriptions alive; changed from 0 only under the registry's lock.
    subscribers: AtomicUsize,
    /// How recent the last read must be for [`Subscription::newest`].
    fresh_for: Duration,
}

impl Shared {
    /// Whether a new subscriber may join: not failed, and not a tail left
    /// without subscribers that has not read lately (Lambda froze its
    /// process between invocations; it stops when it next runs, and a new
    /// one starts from where the stream ends now).
    fn usable(&self) -> bool {
        let buffer = lock(&self.buffer);
        let idle = self.subscribers.load(Ordering::SeqCst) == 0;
        let stale = buffer
            .read_at
            .is_some_and(|at| at.elapsed() > self.fresh_for);
        buffer.failed.is_none() && !(idle && stale)
    }
}

#[derive(Debug)]
struct Buffer {
    /// Recent events in `seq` order, oldest first.
    events: VecDeque<Arc<Stored>>,
    /// What they hold, as [`cost`] counts it.
    bytes: usize,
    /// The most `bytes` may reach; the newest event is kept whatever its size.
    limit: usize,
    /// Where the next read starts: every event before it has been read.
    /// `None` until the first read has told where the stream ends.
    next_seq: Option<u64>,
    /// When the last read answered.
    read_at: Option<Instant>,
    /// Every event from this `seq` on that the loop has read is still
    /// here: below it, events were dropped, or read before the loop began.
    floor: u64,
    failed: Option<TailFailed>,
    /// The final event was read: nothing will follow.
    finished: bool,
}

impl Buffer {
    fn index_of(&self, seq: u64) -> Option<usize> {
        let at = self.events.partition_point(|event| event.id.seq < seq);
        (at < self.events.len()).then_some(at)
    }

    fn next(&self, want: u64, served: bool, skip: bool) -> Next {
        if let Some(failed) = &self.failed {
            return Next::Failed(failed.clone());
        }
        if self.next_seq.is_none() {
            return Next::Wait;
        }
        if want < self.floor && !skip {
            return if served { Next::Behind } else { Next::Backfill };
        }
        match self.index_of(want) {
            Some(at) => Next::Event(Arc::clone(&self.events[at])),
            None if self.finished => Next::Over,
            None => Next::Wait,
        }
    }

    fn push(&mut self, event: Stored) {
        self.next_seq = Some(event.id.seq.saturating_add(1));
        self.finished = event.is_final;
        self.bytes += cost(&event);
        self.events.push_back(Arc::new(event));
        while self.bytes > self.limit && self.events.len() > 1 {
            if let Some(oldest) = self.events.pop_front() {
                self.bytes -= cost(&oldest);
                self.floor = oldest.id.seq.saturating_add(1);
            }
        }
    }

    /// Takes in what `read` found, and says what the loop does next.
    fn apply(&mut self, read: Read, events: Vec<Stored>, more: bool) -> Outcome {
        let mut outcome = Outcome {
            changed: false,
            found: false,
            more,
            then: None,
        };
        match read {
            // Where the stream ends: the first read, or after the newest
            // event held was deleted. The buffer starts again at the last
            // event; what comes before it is read from the table by
            // whoever wants it (nothing comes before a stream's first).
            Read::Last => {
                self.events.clear();
                self.bytes = 0;
                self.finished = false;
                self.next_seq = Some(0);
                self.floor = 0;
                if let Some(last) = events.into_iter().next() {
                    self.floor = if last.id.seq <= 1 { 0 } else { last.id.seq };
                    self.push(last);
                }
                outcome.changed = true;
            }
            Read::From(_) => outcome.changed = self.take(events),
            // The newest event held had expired. TTL may have deleted it
            // (items go in no set order), and a producer may have started
            // a new generation at or below its `seq`: unless that very
            // event is still first, find where the stream ends now.
            Read::Check(newest) => match events.first() {
                Some(first) if first.id == newest => outcome.changed = self.take(events),
                _ => outcome.then = Some(Read::Last),
            },
            Read::Nothing => {}
        }
        outcome.found = outcome.changed && !matches!(read, Read::Last);
        outcome
    }

    /// Pushes the events past the newest held; says whether there were any.
    fn take(&mut self, events: Vec<Stored>) -> bool {
        let mut took = false;
        for event in events {
            if self.next_seq.is_none_or(|next| event.id.seq >= next) {
                self.push(event);
                took = true;
            }
        }
        took
    }

    /// What to read after `outcome`, given `wait`, the wait after an empty
    /// read (doubled here up to `polling.max`), and when.
    fn schedule(
        &self,
        outcome: &Outcome,
        wait: &mut Duration,
        polling: Polling,
        now: Instant,
    ) -> (Read, Instant) {
        let next_seq = self.next_seq.unwrap_or(0);
        let expired = self
            .events
            .back()
            .filter(|newest| newest.expired(crate::durable::now_s()))
            .map(|newest| newest.id);
        if let Some(then) = outcome.then {
            return (then, now);
        }
        match (outcome.found, outcome.more) {
            // Nothing can follow a final event, until it expires.
            _ if self.finished && expired.is_none() => (Read::Nothing, now + polling.max),
            // A full page: more are waiting, read again at once.
            (true, true) => (Read::From(next_seq), now),
            (true, false) => {
                *wait = polling.min;
                (Read::From(next_seq), now + polling.min)
            }
            (false, _) => {
                let at = now + *wait;
                *wait = (*wait * 2).min(polling.max);
                (expired.map_or(Read::From(next_seq), Read::Check), at)
            }
        }
    }
}

/// What one read did to the buffer.
#[derive(Debug)]
struct Outcome {
    /// Subscribers have something new to look at.
    changed: bool,
    /// New events were read.
    found: bool,
    /// The page was full: more are waiting.
    more: bool,
    /// Read this next, at once.
    then: Option<Read>,
}

fn cost(event: &Stored) -> usize {
    event.data.len() + event.event_type.len() + EVENT_OVERHEAD
}

/// A poisoned lock still holds consistent data here (every change is a
/// single push or pop), so a panic elsewhere does not stop the streams.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

struct PollLoop {
    shared: Arc<Shared>,
    registry: Arc<Registry>,
    stream: StreamName,
}

/// What the loop reads next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Read {
    /// The stream's last event: where it ends now.
    Last,
    /// Events from this `seq` on.
    From(u64),
    /// Events from this event's `seq` on, which must begin with this very
    /// event (the newest held, expired).
    Check(EventId),
    /// Nothing: the final event was read (the loop waits for subscribers
    /// to leave, and for it to expire).
    Nothing,
}

/// Reads that fail in a row (after the SDK's own retries) before the tail
/// gives up and its subscribers get an `error` event; until then they wait,
/// with heartbeats.
const FAILURES: u32 = 3;

/// The longest one read may take: the SDK sets no read timeout, and a
/// read that never answers would hold every subscriber of the stream.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

impl PollLoop {
    async fn run(self) {
        let polling = self.registry.polling;
        let started = Instant::now();
        tracing::debug!(stream = %self.stream, "shared tail started");
        let (mut reads, mut failures) = (0_u64, 0_u32);
        let mut wait = polling.min;
        let (mut read, mut at) = (Read::Last, Instant::now());
        let mut idle_since = None;
        loop {
            sleep_until(at).await;
            // Stop after an idle poll interval without subscribers. A join
            // takes the same lock, so none can come in between.
            if self.shared.subscribers.load(Ordering::SeqCst) == 0 {
                let since = *idle_since.get_or_insert(at);
                if since.elapsed() >= polling.max && self.leave() {
                    break;
                }
            } else {
                idle_since = None;
            }
            if read == Read::Nothing {
                let buffer = lock(&self.shared.buffer);
                let outcome = Outcome {
                    changed: false,
                    found: false,
                    more: false,
                    then: None,
                };
                (read, at) = buffer.schedule(&outcome, &mut wait, polling, Instant::now());
                continue;
            }
            let reader = Reader {
                table: &self.registry.table,
                stream: self.stream.as_str(),
                stats: None,
            };
            let result = tokio::time::timeout(READ_TIMEOUT, async {
                match read {
                    Read::Last => reader
                        .last()
                        .await
                        .map(|last| (Vec::from_iter(last), false)),
                    Read::From(seq) => reader.page(seq, PAGE).await,
                    Read::Check(newest) => reader.page(newest.seq, PAGE).await,
                    Read::Nothing => Ok((Vec::new(), false)),
                }
            })
            .await;
            reads += 1;
            self.registry.reads.fetch_add(1, Ordering::Relaxed);
            let (events, more) = match result {
                Ok(Ok(page)) => page,
                failed => {
                    let error = match failed {
                        Ok(Err(error)) => error.to_string(),
                        _ => format!("a read of the table took over {READ_TIMEOUT:?}"),
                    };
                    failures += 1;
                    if failures < FAILURES {
                        tracing::warn!(stream = %self.stream, %error, failures, "shared tail read failed; retrying");
                        at = Instant::now() + polling.max;
                        continue;
                    }
                    tracing::error!(stream = %self.stream, %error, "shared tail stopped: its reads failed");
                    lock(&self.shared.buffer).failed = Some(TailFailed(error.into()));
                    self.shared.changed.send_replace(());
                    self.leave();
                    break;
                }
            };
            failures = 0;
            let mut buffer = lock(&self.shared.buffer);
            buffer.read_at = Some(Instant::now());
            let outcome = buffer.apply(read, events, more);
            (read, at) = buffer.schedule(&outcome, &mut wait, polling, Instant::now());
            drop(buffer);
            // Subscribers are woken only when there is something new for them.
            if outcome.changed {
                self.shared.changed.send_replace(());
            }
        }
        tracing::debug!(
            stream = %self.stream,
            reads,
            seconds = started.elapsed().as_secs_f64(),
            "shared tail stopped"
        );
    }

    /// Takes this tail out of the registry, unless a subscriber has joined
    /// (a failed tail goes whatever); says whether it did.
    fn leave(&self) -> bool {
        let mut running = lock(&self.registry.running);
        let failed = lock(&self.shared.buffer).failed.is_some();
        if !failed && self.shared.subscribers.load(Ordering::SeqCst) > 0 {
            return false;
        }
        if running
            .get(&self.stream)
            .is_some_and(|shared| Arc::ptr_eq(shared, &self.shared))
        {
            running.remove(&self.stream);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(seq: u64, bytes: usize) -> Stored {
        Stored {
            id: EventId { generation: 7, seq },
            event_type: "message".into(),
            data: "x".repeat(bytes),
            is_final: false,
            published_ms: 0,
            expires_s: u64::MAX,
            token: None,
        }
    }

    /// A buffer whose loop began at `floor` and has read `seqs`.
    fn read(limit: usize, floor: u64, seqs: std::ops::Range<u64>) -> Buffer {
        let mut buffer = Buffer {
            events: VecDeque::new(),
            bytes: 0,
            limit,
            next_seq: Some(0),
            read_at: None,
            floor,
            failed: None,
            finished: false,
        };
        for seq in seqs {
            buffer.push(stored(seq, 100));
        }
        buffer
    }

    fn seq_of(next: Next) -> u64 {
        match next {
            Next::Event(event) => event.id.seq,
            other => panic!("expected an event, got {other:?}"),
        }
    }

    #[test]
    fn a_subscriber_takes_the_event_it_wants_and_waits_past_the_newest() {
        let buffer = read(1 << 20, 5, 5..10);
        assert_eq!(seq_of(buffer.next(5, false, false)), 5);
        assert_eq!(seq_of(buffer.next(8, true, false)), 8);
        assert!(matches!(buffer.next(10, true, false), Next::Wait));
    }

    #[test]
    fn before_the_oldest_a_new_subscriber_reads_the_table_and_a_served_one_is_behind() {
        let buffer = read(1 << 20, 5, 5..10);
        assert!(matches!(buffer.next(3, false, false), Next::Backfill));
        assert!(matches!(buffer.next(3, true, false), Next::Behind));
        assert_eq!(seq_of(buffer.next(3, false, true)), 5, "skip to the oldest");
    }

    #[test]
    fn the_buffer_keeps_to_its_bytes_and_always_the_newest() {
        let per_event = 100 + "message".len() + EVENT_OVERHEAD;
        let buffer = read(3 * per_event, 1, 1..11);
        let seqs: Vec<u64> = buffer.events.iter().map(|e| e.id.seq).collect();
        assert_eq!(seqs, [8, 9, 10]);
        assert_eq!(buffer.bytes, 3 * per_event);
        let mut tiny = read(1, 1, 1..2);
        tiny.push(stored(2, 10_000));
        assert_eq!(tiny.events.len(), 1, "the newest stays, whatever its size");
        assert_eq!(tiny.events[0].id.seq, 2);
    }

    #[test]
    fn a_hole_is_handed_over_for_the_subscriber_to_judge() {
        let mut buffer = read(1 << 20, 5, 5..7);
        buffer.push(stored(9, 1));
        assert_eq!(seq_of(buffer.next(7, true, false)), 9);
    }

    #[test]
    fn after_the_final_event_a_subscriber_past_it_is_over() {
        let mut buffer = read(1 << 20, 1, 1..3);
        let mut last = stored(3, 1);
        last.is_final = true;
        buffer.push(last);
        assert_eq!(seq_of(buffer.next(3, true, false)), 3);
        assert!(matches!(buffer.next(4, true, false), Next::Over));
    }

    #[test]
    fn an_empty_buffer_waits_at_the_end_and_sends_older_wants_to_the_table() {
        let mut buffer = read(1 << 20, 12, 12..12);
        assert!(matches!(buffer.next(12, false, false), Next::Wait));
        assert!(matches!(buffer.next(4, false, false), Next::Backfill));
        assert!(matches!(buffer.next(4, true, false), Next::Behind));
        buffer.next_seq = None;
        assert!(
            matches!(buffer.next(12, false, false), Next::Wait),
            "not started"
        );
        buffer.failed = Some(TailFailed("boom".into()));
        assert!(matches!(buffer.next(12, false, false), Next::Failed(_)));
    }

    #[test]
    fn a_stream_read_from_its_start_needs_no_table_read_before_its_first_seq() {
        // The loop found the stream empty: every event passes through it.
        let buffer = read(1 << 20, 0, 1..2);
        assert_eq!(seq_of(buffer.next(0, false, false)), 1);
    }

    #[test]
    fn dropping_the_oldest_raises_the_floor() {
        let per_event = 100 + "message".len() + EVENT_OVERHEAD;
        let buffer = read(2 * per_event, 1, 1..6);
        assert_eq!(buffer.floor, 4);
        assert!(matches!(buffer.next(3, true, false), Next::Behind));
        assert_eq!(seq_of(buffer.next(4, true, false)), 4);
    }

    /// A tail around `buffer` that has just read, trusted for 2 s.
    fn shared(mut buffer: Buffer) -> Arc<Shared> {
        buffer.read_at = Some(Instant::now());
        Arc::new(Shared {
            buffer: Mutex::new(buffer),
            changed: watch::channel(()).0,
            subscribers: AtomicUsize::new(0),
            fresh_for: Duration::from_secs(2),
        })
    }

    #[tokio::test(start_paused = true)]
    async fn a_tail_that_has_not_read_lately_is_not_trusted_for_the_newest_event() {
        let shared = shared(read(1 << 20, 1, 1..4));
        let subscription = Subscription::new(&shared);
        assert_eq!(shared.subscribers.load(Ordering::SeqCst), 1);
        match subscription.newest().await.unwrap() {
            Newest::Known(Some(newest)) => assert_eq!(newest.id.seq, 3),
            other => panic!("expected the newest event, got {other:?}"),
        }
        tokio::time::advance(Duration::from_secs(3)).await;
        assert!(matches!(
            subscription.newest().await.unwrap(),
            Newest::Stale
        ));
        drop(subscription);
        assert_eq!(shared.subscribers.load(Ordering::SeqCst), 0);
    }

    fn of(generation: u64, seq: u64, expired: bool) -> Stored {
        let mut event = stored(seq, 10);
        event.id.generation = generation;
        event.expires_s = if expired { 1 } else { u64::MAX };
        event
    }

    fn polling() -> Polling {
        Polling {
            min: Duration::from_millis(50),
            max: Duration::from_millis(1000),
        }
    }

    #[test]
    fn an_expired_newest_event_is_checked_and_a_reused_seq_sends_the_loop_to_the_end() {
        let mut buffer = read(1 << 20, 0, 1..1);
        (1..=5).for_each(|seq| buffer.push(of(1, seq, true)));
        let newest = buffer.events.back().unwrap().id;
        // Idle, with the newest expired: the next read is the check.
        let idle = buffer.apply(Read::From(6), vec![], false);
        let mut wait = Duration::from_millis(50);
        let (next, _) = buffer.schedule(&idle, &mut wait, polling(), Instant::now());
        assert_eq!(next, Read::Check(newest));
        // TTL deleted (1,5) and a producer started generation 2 at seq 5.
        let check = buffer.apply(
            Read::Check(newest),
            vec![of(2, 5, false), of(2, 6, false)],
            false,
        );
        assert_eq!(check.then, Some(Read::Last));
        assert!(!check.changed);
        let last = buffer.apply(Read::Last, vec![of(2, 6, false)], false);
        assert!(last.changed);
        let seqs: Vec<(u64, u64)> = buffer
            .events
            .iter()
            .map(|e| (e.id.generation, e.id.seq))
            .collect();
        assert_eq!(seqs, [(2, 6)]);
        // A new subscriber reads (2,5) from the table: nothing skipped.
        assert!(matches!(buffer.next(0, false, false), Next::Backfill));
        assert_eq!(seq_of(buffer.next(6, false, false)), 6);
        assert_eq!(buffer.next_seq, Some(7));
    }

    #[test]
    fn a_check_that_finds_the_newest_event_takes_what_follows_it() {
        let mut buffer = read(1 << 20, 0, 1..1);
        (1..=3).for_each(|seq| buffer.push(of(1, seq, true)));
        let newest = buffer.events.back().unwrap().id;
        let same = buffer.apply(Read::Check(newest), vec![of(1, 3, true)], false);
        assert!(!same.changed && same.then.is_none(), "nothing new");
        let more = buffer.apply(
            Read::Check(newest),
            vec![of(1, 3, true), of(1, 4, false)],
            false,
        );
        assert!(more.changed && more.found);
        assert_eq!(buffer.events.back().unwrap().id.seq, 4);
        // Deleted, nothing new: find the end again.
        let gone = buffer.apply(
            Read::Check(EventId {
                generation: 1,
                seq: 4,
            }),
            vec![],
            false,
        );
        assert_eq!(gone.then, Some(Read::Last));
        // Everything deleted: the stream starts again at seq 1.
        buffer.apply(Read::Last, vec![], false);
        assert!(buffer.events.is_empty());
        assert_eq!((buffer.floor, buffer.next_seq), (0, Some(0)));
        assert!(matches!(buffer.next(0, false, false), Next::Wait));
    }

    #[test]
    fn a_final_event_stops_the_reads_until_it_expires() {
        let mut buffer = read(1 << 20, 0, 1..1);
        let mut last = of(1, 1, false);
        last.is_final = true;
        let outcome = buffer.apply(Read::From(0), vec![last], false);
        let mut wait = Duration::from_millis(50);
        let (next, _) = buffer.schedule(&outcome, &mut wait, polling(), Instant::now());
        assert_eq!(next, Read::Nothing);
        let mut expired = of(1, 1, true);
        expired.is_final = true;
        let mut buffer = read(1 << 20, 0, 1..1);
        buffer.push(expired);
        let idle = buffer.apply(Read::Nothing, vec![], false);
        let (next, _) = buffer.schedule(&idle, &mut wait, polling(), Instant::now());
        assert_eq!(
            next,
            Read::Check(EventId {
                generation: 1,
                seq: 1
            })
        );
    }

    #[test]
    fn empty_reads_back_off_to_the_longest_wait_and_events_reset_it() {
        let mut buffer = read(1 << 20, 0, 1..1);
        let now = Instant::now();
        let mut wait = Duration::from_millis(50);
        let mut waits = Vec::new();
        for _ in 0..6 {
            let outcome = buffer.apply(Read::From(0), vec![], false);
            let (_, at) = buffer.schedule(&outcome, &mut wait, polling(), now);
            waits.push((at - now).as_millis());
        }
        assert_eq!(waits, [50, 100, 200, 400, 800, 1000]);
        let outcome = buffer.apply(Read::From(0), vec![of(1, 1, false)], true);
        let (next, at) = buffer.schedule(&outcome, &mut wait, polling(), now);
        assert_eq!((next, at), (Read::From(2), now), "a full page: at once");
        let outcome = buffer.apply(Read::From(2), vec![of(1, 2, false)], false);
        let (_, at) = buffer.schedule(&outcome, &mut wait, polling(), now);
        assert_eq!((at - now).as_millis(), 50);
    }

    #[tokio::test(start_paused = true)]
    async fn a_tail_left_idle_and_not_read_lately_is_not_joined() {
        let shared = shared(read(1 << 20, 0, 1..2));
        assert!(shared.usable());
        tokio::time::advance(Duration::from_secs(3)).await;
        assert!(!shared.usable(), "frozen and idle: start a new tail");
        let held = Subscription::new(&shared);
        assert!(shared.usable(), "a tail with subscribers is running");
        drop(held);
        lock(&shared.buffer).read_at = Some(Instant::now());
        lock(&shared.buffer).failed = Some(TailFailed("boom".into()));
        assert!(!shared.usable(), "a failed tail is replaced");
    }
}
