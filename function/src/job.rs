//! The simulated background job: the default event source. A job is fully
//! described by its id and its number of steps, so any step can be produced
//! again on demand (which is what makes a stream resumable).

use crate::source::{EventSource, SourceError, SourceEvent};
use crate::sse::EventType;
use serde::Serialize;
use std::{fmt, ops::RangeInclusive, str::FromStr, time::Duration};
use uuid::Uuid;

/// Allowed number of progress steps in one job.
pub const STEPS: RangeInclusive<u32> = 1..=1000;
/// Allowed milliseconds between two steps.
pub const INTERVAL_MS: RangeInclusive<u32> = 10..=60_000;
/// Steps of a job whose request names none: 0, 10, ..., 100 %, as the seed's.
pub const DEFAULT_STEPS: u32 = 11;
/// Milliseconds between steps when the request names none.
pub const DEFAULT_INTERVAL_MS: u32 = 2_000;

/// The event type of each step.
pub const PROGRESS: EventType = EventType::new("progress");
/// The event type of the job's last event.
pub const COMPLETE: EventType = EventType::new("complete");

/// How a job runs: how many progress steps, and how far apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobSpec {
    pub steps: u32,
    pub interval: Duration,
}

impl Default for JobSpec {
    /// Eleven steps (0, 10, ..., 100 %) two seconds apart.
    fn default() -> Self {
        Self {
            steps: DEFAULT_STEPS,
            interval: Duration::from_millis(DEFAULT_INTERVAL_MS.into()),
        }
    }
}

/// Where an event stands in its job; it names the event in its SSE `id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// A progress step, counted from 1.
    Step(u32),
    /// The final event, after the last step.
    Complete,
}

/// One job's events, produced in order by [`ProgressJob::event`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgressJob {
    id: Uuid,
    spec: JobSpec,
}

/// What the client receives as an event's `data` (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    pub job_id: Uuid,
    pub step: u32,
    pub total_steps: u32,
    pub percentage: u8,
    pub status: String,
}

/// One event of a job, ready to be encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobEvent {
    pub position: Position,
    pub progress: Progress,
}

impl JobEvent {
    /// The SSE event type: `progress` for steps, `complete` for the end.
    pub fn kind(&self) -> EventType {
        match self.position {
            Position::Step(_) => PROGRESS,
            Position::Complete => COMPLETE,
        }
    }

    /// The SSE id: `<jobId>/<steps>:<step>`, or `<jobId>/<steps>:complete`.
    pub fn id(&self) -> String {
        EventId {
            job_id: self.progress.job_id,
            steps: self.progress.total_steps,
            position: self.position,
        }
        .to_string()
    }
}

/// An event's SSE id, `<jobId>/<steps>:<step>` or `<jobId>/<steps>:complete`:
/// what a client sends back as `Last-Event-ID` to resume. The part before the
/// colon names the whole job (its id and its number of steps), so a resume
/// continues exactly the job the client was following, whatever its query says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventId {
    pub job_id: Uuid,
    pub steps: u32,
    pub position: Position,
}

/// Longest id accepted back from a client: a UUID, `/1000`, a colon and `complete`.
pub const MAX_EVENT_ID_LEN: usize = 36 + 5 + 1 + 8;

/// Why a `Last-Event-ID` is not one of ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventIdError {
    #[error("is longer than {MAX_EVENT_ID_LEN} characters")]
    TooLong,
    #[error("is not of the form <jobId>/<steps>:<step> or <jobId>/<steps>:complete")]
    Shape,
    #[error("does not start with a job id this stream issued (a version 4 UUID)")]
    JobId,
    #[error(
        "does not name a number of steps from {min} to {max} after the job id",
        min = STEPS.start(), max = STEPS.end()
    )]
    Steps,
    #[error("does not end with a step number from 1, or `complete`")]
    Step,
    #[error("names step {step} of a job of {steps} steps")]
    StepBeyondJob { step: u32, steps: u32 },
    #[error("is not written as this stream writes ids (lowercase job id, no leading zeros)")]
    NotCanonical,
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}:{}", self.job_id, self.steps, self.position)
    }
}

impl FromStr for EventId {
    type Err = EventIdError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.len() > MAX_EVENT_ID_LEN {
            return Err(EventIdError::TooLong);
        }
        let (job, position) = text.split_once(':').ok_or(EventIdError::Shape)?;
        let (job, steps) = job.split_once('/').ok_or(EventIdError::Shape)?;
        // Only the hyphenated form we send: `Uuid::parse_str` would also take
        // braces, URNs and bare hex, which no client got from us.
        if job.len() != 36 {
            return Err(EventIdError::JobId);
        }
        let job_id = Uuid::try_parse(job).map_err(|_| EventIdError::JobId)?;
        // Every job id this stream issues is random (version 4, RFC 4122
        // variant): a nil, time-based or hand-made one was never ours.
        if job_id.get_version() != Some(uuid::Version::Random)
            || job_id.get_variant() != uuid::Variant::RFC4122
        {
            return Err(EventIdError::JobId);
        }
        let steps = whole_number(steps)
            .filter(|steps| STEPS.contains(steps))
            .ok_or(EventIdError::Steps)?;
        let position = match position {
            "complete" => Position::Complete,
            digits => match whole_number(digits) {
                Some(step) if step > steps => {
                    return Err(EventIdError::StepBeyondJob { step, steps });
                }
                Some(step) if step >= 1 => Position::Step(step),
                _ => return Err(EventIdError::Step),
            },
        };
        let id = Self {
            job_id,
            steps,
            position,
        };
        // Only the exact text we send: no uppercase UUID, no leading zeros.
        if id.to_string() != text {
            return Err(EventIdError::NotCanonical);
        }
        Ok(id)
    }
}

/// ASCII digits only, as a `u32`; `None` for anything else or an overflow.
fn whole_number(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::Step(step) => write!(f, "{step}"),
            Position::Complete => f.write_str("complete"),
        }
    }
}

impl ProgressJob {
    /// A new job with a random (v4) id.
    pub fn start(spec: JobSpec) -> Self {
        Self::with_id(Uuid::new_v4(), spec)
    }

    pub fn with_id(id: Uuid, spec: JobSpec) -> Self {
        Self { id, spec }
    }

    pub fn id(&self) -> Uuid {
        self.id
    }

    /// The position after `position`, or `None` once the job is complete.
    pub fn next_position(&self, position: Position) -> Option<Position> {
        match position {
            Position::Step(step) if step < self.spec.steps => Some(Position::Step(step + 1)),
            Position::Step(_) => Some(Position::Complete),
            Position::Complete => None,
        }
    }

    /// The event at `position`. Steps past the job's last are clamped to it.
    pub fn event(&self, position: Position) -> JobEvent {
        let total = self.spec.steps;
        let (step, percentage, status) = match position {
            Position::Step(step) => {
                let step = step.clamp(1, total);
                let status = format!("Processing step {step} of {total}...");
                (step, percentage(step, total), status)
            }
            Position::Complete => (total, 100, "Processing complete!".to_owned()),
        };
        JobEvent {
            position,
            progress: Progress {
                job_id: self.id,
                step,
                total_steps: total,
                percentage,
                status,
            },
        }
    }
}

/// A job being streamed: where it stands, and when each remaining event is due.
///
/// A fresh job sends step 1 at once and each later event one interval after
/// the one before. A resumed job sends its next event at once (the client
/// came back when the previous response told it the event would be due) and
/// keeps the interval from there.
#[derive(Debug, Clone)]
pub struct JobCursor {
    job: ProgressJob,
    next: Option<Position>,
    /// Events taken by this cursor so far; the next is due `taken * interval`.
    taken: u32,
}

impl JobCursor {
    /// From step 1.
    pub fn start(job: ProgressJob) -> Self {
        Self {
            job,
            next: Some(Position::Step(1)),
            taken: 0,
        }
    }

    /// From the event after `after`; `None` when `after` was the last one.
    pub fn resume(job: ProgressJob, after: Position) -> Self {
        let next = job.next_position(after);
        Self {
            job,
            next,
            taken: 0,
        }
    }

    pub fn job(&self) -> &ProgressJob {
        &self.job
    }
}

impl EventSource for JobCursor {
    fn next_due(&self) -> Option<Duration> {
        self.next.map(|_| self.job.spec.interval * self.taken)
    }

    fn take_next(&mut self) -> Result<SourceEvent, SourceError> {
        let position = self
            .next
            .ok_or_else(|| SourceError("the job has no events left".to_owned()))?;
        let event = self.job.event(position);
        let data = serde_json::to_string(&event.progress)
            .map_err(|e| SourceError(format!("progress could not be serialized: {e}")))?;
        self.next = self.job.next_position(position);
        self.taken += 1;
        Ok(SourceEvent {
            id: event.id(),
            kind: event.kind(),
            data,
        })
    }
}

/// Step 1 is 0 % and the last step 100 %, evenly spaced (rounded down); a
/// one-step job is done at its only step.
fn percentage(step: u32, total: u32) -> u8 {
    if total <= 1 {
        return 100;
    }
    let done = u64::from(step - 1) * 100 / u64::from(total - 1);
    u8::try_from(done).unwrap_or(100)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(steps: u32) -> ProgressJob {
        ProgressJob::with_id(
            Uuid::nil(),
            JobSpec {
                steps,
                interval: Duration::from_millis(100),
            },
        )
    }

    #[test]
    fn default_job_counts_in_tens_like_the_seed() {
        let job = ProgressJob::with_id(Uuid::nil(), JobSpec::default());
        let percentages: Vec<u8> = (1..=11)
            .map(|s| job.event(Position::Step(s)).progress.percentage)
            .collect();
        assert_eq!(percentages, [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
        assert_eq!(
            job.event(Position::Step(3)).progress.status,
            "Processing step 3 of 11..."
        );
    }

    #[test]
    fn complete_event() {
        let event = job(4).event(Position::Complete);
        assert_eq!(event.kind(), COMPLETE);
        assert_eq!(
            event.id(),
            "00000000-0000-0000-0000-000000000000/4:complete"
        );
        assert_eq!(
            serde_json::to_value(&event.progress).unwrap(),
            serde_json::json!({
                "jobId": "00000000-0000-0000-0000-000000000000",
                "step": 4, "totalSteps": 4, "percentage": 100,
                "status": "Processing complete!"
            })
        );
    }

    #[test]
    fn walks_every_step_then_complete_then_stops() {
        let job = job(3);
        let mut seen = vec![];
        let mut at = Some(Position::Step(1));
        while let Some(position) = at {
            seen.push(job.event(position).id());
            at = job.next_position(position);
        }
        let nil = Uuid::nil();
        assert_eq!(
            seen,
            [
                format!("{nil}/3:1"),
                format!("{nil}/3:2"),
                format!("{nil}/3:3"),
                format!("{nil}/3:complete")
            ]
        );
    }

    fn drain(mut cursor: JobCursor) -> Vec<(Duration, String)> {
        let mut out = vec![];
        while let Some(due) = cursor.next_due() {
            out.push((due, cursor.take_next().unwrap().id));
        }
        out
    }

    #[test]
    fn a_fresh_cursor_starts_at_once_then_keeps_the_interval() {
        let nil = Uuid::nil();
        let ms = Duration::from_millis;
        assert_eq!(
            drain(JobCursor::start(job(2))),
            [
                (ms(0), format!("{nil}/2:1")),
                (ms(100), format!("{nil}/2:2")),
                (ms(200), format!("{nil}/2:complete"))
            ]
        );
    }

    #[test]
    fn a_resumed_cursor_continues_after_the_given_event() {
        let nil = Uuid::nil();
        let ms = Duration::from_millis;
        assert_eq!(
            drain(JobCursor::resume(job(3), Position::Step(2))),
            [
                (ms(0), format!("{nil}/3:3")),
                (ms(100), format!("{nil}/3:complete"))
            ]
        );
        assert_eq!(
            drain(JobCursor::resume(job(3), Position::Step(3))),
            [(ms(0), format!("{nil}/3:complete"))]
        );
        assert!(drain(JobCursor::resume(job(3), Position::Complete)).is_empty());
    }

    #[test]
    fn event_ids_round_trip() {
        let id = Uuid::new_v4();
        for (steps, position) in [
            (1, Position::Step(1)),
            (1000, Position::Step(1000)),
            (7, Position::Complete),
        ] {
            let event_id = EventId {
                job_id: id,
                steps,
                position,
            };
            assert_eq!(event_id.to_string().parse(), Ok(event_id));
        }
    }

    #[test]
    fn an_id_names_the_job_its_steps_and_the_step() {
        let job = ProgressJob::with_id(
            Uuid::parse_str(JOB).unwrap(),
            JobSpec {
                steps: 20,
                interval: Duration::from_millis(100),
            },
        );
        assert_eq!(job.event(Position::Step(3)).id(), format!("{JOB}/20:3"));
        assert_eq!(
            job.event(Position::Complete).id(),
            format!("{JOB}/20:complete")
        );
    }

    const JOB: &str = "6f1c2b7e-0d4e-4c1a-9d59-1b2f7d3c4a10";

    #[test]
    fn malformed_event_ids_are_refused_with_a_reason() {
        let uuid = JOB;
        let cases = [
            (String::new(), EventIdError::Shape),
            ("hello".to_owned(), EventIdError::Shape),
            (uuid.to_owned(), EventIdError::Shape),
            (format!("{uuid}:3"), EventIdError::Shape),
            (format!("{uuid}/11:"), EventIdError::Step),
            (format!("{uuid}/11:0"), EventIdError::Step),
            (format!("{uuid}/11:-1"), EventIdError::Step),
            (format!("{uuid}/11:+1"), EventIdError::Step),
            (format!("{uuid}/11:1.5"), EventIdError::Step),
            (format!("{uuid}/11:00000000"), EventIdError::Step),
            (format!("{uuid}/11:done"), EventIdError::Step),
            (format!("{uuid}/11:\u{ff11}"), EventIdError::Step),
            (
                format!("{uuid}/11:12"),
                EventIdError::StepBeyondJob {
                    step: 12,
                    steps: 11,
                },
            ),
            (format!("{uuid}/0:1"), EventIdError::Steps),
            (format!("{uuid}/1001:1"), EventIdError::Steps),
            (format!("{uuid}/:1"), EventIdError::Steps),
            (format!("{uuid}/x:1"), EventIdError::Steps),
            (
                "not-a-uuid-but-thirty-six-chars-long/1:1".to_owned(),
                EventIdError::JobId,
            ),
            (format!("{{{uuid}}}/1:1"), EventIdError::JobId),
            (
                format!("{}/1:1", uuid.replace('-', "")),
                EventIdError::JobId,
            ),
            (format!("{}/11:1", Uuid::nil()), EventIdError::JobId),
            (
                "6f1c2b7e-0d4e-1c1a-9d59-1b2f7d3c4a10/11:1".to_owned(),
                EventIdError::JobId,
            ),
            (
                "6f1c2b7e-0d4e-4c1a-cd59-1b2f7d3c4a10/11:1".to_owned(),
                EventIdError::JobId,
            ),
            (
                format!("{uuid}/11:1{}", "0".repeat(40)),
                EventIdError::TooLong,
            ),
            ("\u{e9}".repeat(30), EventIdError::TooLong),
            (format!("{uuid}/11:03"), EventIdError::NotCanonical),
            (format!("{uuid}/011:3"), EventIdError::NotCanonical),
            (
                format!("{}/11:3", uuid.to_uppercase()),
                EventIdError::NotCanonical,
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(text.parse::<EventId>(), Err(expected), "{text:?}");
        }
    }

    #[test]
    fn percentages_rise_from_0_to_100_for_every_allowed_size() {
        for total in [1, 2, 3, 7, 11, 999, 1000] {
            let job = job(total);
            let all: Vec<u8> = (1..=total)
                .map(|step| job.event(Position::Step(step)).progress.percentage)
                .collect();
            assert!(all.windows(2).all(|w| w[0] <= w[1]), "{total}: {all:?}");
            let first = if total == 1 { 100 } else { 0 };
            assert_eq!((all[0], all[all.len() - 1]), (first, 100), "{total}");
        }
    }
}
