//! Server-side tasks: what a create or delete starts, and how a poll of
//! `GET /tasks/:id` answers.

use serde::Serialize;
use time::OffsetDateTime;

use crate::{Image, ImageId};

/// How a simulated task ends once it has been polled enough.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum TaskOutcome {
    /// The task succeeds (`SUCCESS`) and its change to the images is made.
    #[default]
    Success,
    /// The task fails with the status `FAILURE` (the spelling of the Cox Go
    /// clients); the images are left as they were.
    Failure,
    /// The task fails with the status `FAILED` (the spelling of the API
    /// documentation); the images are left as they were.
    Failed,
}

/// The JSON shape of the answer to `GET /tasks/:id`; the API's documentation
/// and its public clients disagree, so the simulator can serve either.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum TaskShape {
    /// `{"taskId", "taskStatus", "result"}` (the documentation's shape).
    #[default]
    TopLevel,
    /// `{"data": {"id", "status", "created", "result"}}` (what the public
    /// clients parse).
    Data,
}

/// What a task changes when it succeeds.
#[derive(Debug, Clone)]
pub(crate) enum TaskKind {
    /// Adds (or replaces) this image.
    Create(Image),
    /// Removes the image with this id.
    Delete(ImageId),
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

    /// The task's `result`: `null` while pending, the image (create) or its
    /// id (delete) on success, a message on failure.
    fn result(&self) -> serde_json::Value {
        match (self.state, &self.kind) {
            (TaskState::Pending, _) => serde_json::Value::Null,
            (TaskState::Succeeded, TaskKind::Create(image)) => {
                serde_json::to_value(image).unwrap_or(serde_json::Value::Null)
            }
            (TaskState::Succeeded, TaskKind::Delete(id)) => {
                serde_json::json!({ "id": id.as_str() })
            }
            (TaskState::Failed(_), _) => {
                serde_json::json!({ "message": "the simulated task failed" })
            }
        }
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

/// A task id shaped like a UUID, unique within one simulator: the counter
/// is scrambled (splitmix64) so ids do not look sequential.
pub(crate) fn task_id(counter: u64) -> String {
    let a = splitmix64(counter);
    let b = splitmix64(a ^ 0x5eed_c0de);
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        (b >> 48) & 0xfff,
        b & 0xffff_ffff_ffff
    )
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
