//! The simulated background job: the default event source. A job is fully
//! described by its id and its number of steps, so any step can be produced
//! again on demand (which is what makes a stream resumable).

use serde::Serialize;
use std::{fmt, ops::RangeInclusive, time::Duration};
use uuid::Uuid;

/// Allowed number of progress steps in one job.
pub const STEPS: RangeInclusive<u32> = 1..=1000;
/// Allowed milliseconds between two steps.
pub const INTERVAL_MS: RangeInclusive<u32> = 10..=60_000;

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
            steps: 11,
            interval: Duration::from_secs(2),
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
    pub fn kind(&self) -> &'static str {
        match self.position {
            Position::Step(_) => "progress",
            Position::Complete => "complete",
        }
    }

    /// The SSE id: `<jobId>:<step>`, or `<jobId>:complete` for the end.
    pub fn id(&self) -> String {
        format!("{}:{}", self.progress.job_id, self.position)
    }
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

    pub fn spec(&self) -> JobSpec {
        self.spec
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

    /// How long after the job's start the event at `position` is due: step 1
    /// at once, each later event one interval after the one before.
    pub fn due_after(&self, position: Position) -> Duration {
        let index = match position {
            Position::Step(step) => step.saturating_sub(1),
            Position::Complete => self.spec.steps,
        };
        self.spec.interval * index
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
        assert_eq!(event.kind(), "complete");
        assert_eq!(event.id(), "00000000-0000-0000-0000-000000000000:complete");
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
                format!("{nil}:1"),
                format!("{nil}:2"),
                format!("{nil}:3"),
                format!("{nil}:complete")
            ]
        );
    }

    #[test]
    fn schedule_is_one_interval_apart_from_zero() {
        let job = job(3);
        assert_eq!(job.due_after(Position::Step(1)), Duration::ZERO);
        assert_eq!(job.due_after(Position::Step(3)), Duration::from_millis(200));
        assert_eq!(
            job.due_after(Position::Complete),
            Duration::from_millis(300)
        );
    }

    #[test]
    fn percentages_stay_within_0_to_100_for_every_allowed_size() {
        for total in [1, 2, 3, 7, 999, 1000] {
            let job = job(total);
            let first = job.event(Position::Step(1)).progress.percentage;
            let last = job.event(Position::Step(total)).progress.percentage;
            assert_eq!((first, last), (if total == 1 { 100 } else { 0 }, 100));
        }
    }
}
