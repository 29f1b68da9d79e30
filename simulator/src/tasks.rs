//! Server-side tasks: what a create or delete starts, and how a poll of
//! `GET /tasks/:id` answers.

use serde::Serialize;
use time::OffsetDateTime;

use std::hash::{BuildHasher, RandomState};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use coxedge_images::Image;

/// How a simulated task ends once it has been polled enough.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum TaskOutcome {
    /// The task succeeds (`SUCCESS`) and its change to the images is made.
    #[default]
    Success,
    /// The task fails with the status `FAILURE` (the spelling the public
    /// clients recognise, both Cox Go clients among them); the images are
    /// left as they were. The spelling to use unless a test needs the other.
    Failure,
    /// The task fails with the status `FAILED` (the spelling of the API
    /// documentation); the images are left as they were.
    Failed,
}

/// The JSON shape of the answer to `GET /tasks/:id`; the API's documentation
/// and its public clients disagree, so the simulator can serve either.
///
/// The default is what the public clients of the API parse, so that a
/// client written in another language sees its tasks finish. The answers to
/// a create or a delete always have the documented
/// `{"taskId", "taskStatus"}` shape, whatever this says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum TaskShape {
    /// `{"data": {"id", "status", "created", "result"}}` (what the public
    /// clients parse; the default).
    #[default]
    Data,
    /// `{"taskId", "taskStatus", "result"}` (the documentation's shape).
    TopLevel,
}

/// What a task changes when it succeeds.
#[derive(Debug, Clone)]
pub(crate) enum TaskKind {
    /// Adds (or replaces) this image.
    Create(Image),
    /// Removes this image (matched by id).
    Delete(Image),
}

/// Where a task is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TaskState {
    Pending,
    Succeeded,
    Failed(&'static str),
}

impl TaskState {
    fn as_str(self) -> &'static str {
        match self {
            TaskState::Pending => "PENDING",
            TaskState::Succeeded => "SUCCESS",
            TaskState::Failed(spelling) => spelling,
        }
    }
}

/// One task.
#[derive(Debug, Clone)]
pub(crate) struct Task {
    pub(crate) id: String,
    pub(crate) kind: TaskKind,
    pub(crate) created: OffsetDateTime,
    pub(crate) polls: u32,
    pub(crate) state: TaskState,
}

impl Task {
    pub(crate) fn new(id: String, kind: TaskKind, created: OffsetDateTime) -> Self {
        Task {
            id,
            kind,
            created,
            polls: 0,
            state: TaskState::Pending,
        }
    }

    /// Counts one poll. Returns the change to make to the images when this
    /// poll is the one that finishes the task successfully.
    pub(crate) fn poll(
        &mut self,
        polls_before_done: u32,
        outcome: TaskOutcome,
    ) -> Option<TaskKind> {
        self.polls = self.polls.saturating_add(1);
        if self.state != TaskState::Pending || self.polls <= polls_before_done {
            return None;
        }
        match outcome {
            TaskOutcome::Success => {
                self.state = TaskState::Succeeded;
                Some(self.kind.clone())
            }
            TaskOutcome::Failure => {
                self.state = TaskState::Failed("FAILURE");
                None
            }
            TaskOutcome::Failed => {
                self.state = TaskState::Failed("FAILED");
                None
            }
        }
    }

    /// The image the task is about.
    fn image(&self) -> &Image {
        match &self.kind {
            TaskKind::Create(image) | TaskKind::Delete(image) => image,
        }
    }

    /// The task's `result`: `null` while pending; once finished, the image's
    /// `id` and a `name` (its workload reference, `slug/family:tag`), with
    /// the whole image for a create, and the `message` for a failure.
    fn result(&self) -> serde_json::Value {
        let image = self.image();
        let mut result = match (self.state, &self.kind) {
            (TaskState::Pending, _) => return serde_json::Value::Null,
            (TaskState::Succeeded, TaskKind::Create(image)) => {
                serde_json::to_value(image).unwrap_or_else(|_| serde_json::json!({}))
            }
            (TaskState::Succeeded, TaskKind::Delete(_)) => serde_json::json!({}),
            (TaskState::Failed(_), _) => {
                serde_json::json!({ "message": "the simulated task failed" })
            }
        };
        if let Some(object) = result.as_object_mut() {
            object.insert("id".into(), image.id.as_str().into());
            object.insert("name".into(), image.reference.clone().into());
        }
        result
    }

    /// The answer to a poll, in the configured shape.
    pub(crate) fn to_json(&self, shape: TaskShape) -> serde_json::Value {
        let status = self.state.as_str();
        match shape {
            TaskShape::TopLevel => serde_json::json!({
                "taskId": self.id,
                "taskStatus": status,
                "result": self.result(),
            }),
            TaskShape::Data => serde_json::json!({
                "data": {
                    "id": self.id,
                    "status": status,
                    "created": rfc3339(self.created),
                    "result": self.result(),
                }
            }),
        }
    }
}

/// The answer to a create or delete: the new task, still pending.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TaskStarted<'a> {
    pub(crate) task_id: &'a str,
    pub(crate) task_status: &'static str,
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// How many tasks every simulator of this process has started: task ids
/// are made from it, so two simulators never hand out the same id.
static TASKS_STARTED: AtomicU64 = AtomicU64::new(0);

/// A new task id, never handed out before in this process.
pub(crate) fn next_task_id() -> String {
    static PROCESS_PREFIX: OnceLock<u64> = OnceLock::new();
    let prefix = *PROCESS_PREFIX.get_or_init(random_u64);
    task_id(prefix, TASKS_STARTED.fetch_add(1, Ordering::Relaxed))
}

/// A task id shaped like a (version 4) UUID: 56 bits of `prefix` (random
/// per process, so separate processes are unlikely to collide either),
/// then the 64 bits of the scrambled counter. Scrambling (splitmix64) is a
/// bijection, so distinct counters give distinct ids; it only keeps ids
/// from looking sequential.
fn task_id(prefix: u64, counter: u64) -> String {
    let hex = format!(
        "{:014x}{:016x}",
        prefix & 0x00ff_ffff_ffff_ffff,
        splitmix64(counter)
    );
    format!(
        "{}-{}-4{}-a{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..15],
        &hex[15..18],
        &hex[18..30]
    )
}

/// 64 bits from the standard library's randomly keyed hasher: not for
/// cryptography, but different in every process and every call.
pub(crate) fn random_u64() -> u64 {
    RandomState::new().hash_one(TASKS_STARTED.load(Ordering::Relaxed))
}

/// The next number of a splitmix64 sequence whose state is `state`.
pub(crate) fn next_random(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    mix(*state)
}

fn splitmix64(x: u64) -> u64 {
    mix(x.wrapping_add(0x9e37_79b9_7f4a_7c15))
}

/// splitmix64's finaliser: a bijection of `u64` (xor-shifts and odd
/// multipliers are each invertible).
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_uuid_shaped_and_distinct() {
        let a = task_id(0x00ab_cdef_0123_4567, 0);
        let b = task_id(0x00ab_cdef_0123_4567, 1);
        assert_ne!(a, b);
        for id in [&a, &b] {
            let groups: Vec<usize> = id.split('-').map(str::len).collect();
            assert_eq!(groups, [8, 4, 4, 4, 12], "{id}");
            assert_eq!(&id[14..15], "4", "{id}");
            assert_eq!(&id[19..20], "a", "{id}");
        }
        assert!(a.starts_with("abcdef01-2345-467"), "{a}");
    }
}
