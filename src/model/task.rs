//! Server-side tasks: [`TaskId`], [`TaskStatus`], [`Task`], and
//! [`CreateImage`], the body of the request that starts a create task.

use std::fmt;
use std::str::FromStr;

use serde::de::Deserializer;
use serde::{Deserialize, Serialize, Serializer};

use crate::model::error::Error;
use crate::model::id::{IdKind, ParseIdError};
use crate::model::segment::check_segment;

/// The id of a server-side task.
///
/// Empty only for a [`Task`] the client made itself because the server
/// finished the operation without starting a task (a delete answered
/// `204 No Content`, see [`decode_deletion`](crate::decode_deletion)); see [`TaskId::is_none`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId(String);

impl TaskId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id of a task finished without a server-side task.
    pub(crate) fn none() -> Self {
        TaskId(String::new())
    }

    /// Whether there is no server-side task behind this id: the operation
    /// was done when the server answered, so there is nothing to poll.
    pub fn is_none(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromStr for TaskId {
    type Err = ParseIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        check_segment(s).map_err(|p| ParseIdError::new(IdKind::TaskId, s, "task id", p))?;
        Ok(TaskId(s.to_owned()))
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for TaskId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for TaskId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(crate::model::strings::ParseVisitor::<TaskId>::new(
            "a task id",
        ))
    }
}

/// The state of a task. `FAILED` and `FAILURE` (both seen in public clients)
/// are both [`TaskStatus::Failed`], and equal whatever the spelling kept;
/// comparison is case-insensitive; any other value is kept and treated as
/// still running.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum TaskStatus {
    /// `PENDING`: still running.
    Pending,
    /// `SUCCESS`: done.
    Success,
    /// `FAILED` or `FAILURE`; the spelling sent is kept.
    Failed(String),
    /// Anything else, kept as sent; not terminal.
    Other(String),
}

impl TaskStatus {
    /// The spelling to show or send back.
    pub fn as_str(&self) -> &str {
        match self {
            TaskStatus::Pending => "PENDING",
            TaskStatus::Success => "SUCCESS",
            TaskStatus::Failed(s) | TaskStatus::Other(s) => s,
        }
    }

    /// Whether the task failed (`FAILED` or `FAILURE`).
    pub fn is_failed(&self) -> bool {
        matches!(self, TaskStatus::Failed(_))
    }

    /// Whether the task has ended (success or failure).
    pub fn is_terminal(&self) -> bool {
        matches!(self, TaskStatus::Success | TaskStatus::Failed(_))
    }
}

impl PartialEq for TaskStatus {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (TaskStatus::Other(a), TaskStatus::Other(b)) => a.eq_ignore_ascii_case(b),
            (a, b) => std::mem::discriminant(a) == std::mem::discriminant(b),
        }
    }
}

impl Eq for TaskStatus {}

impl std::hash::Hash for TaskStatus {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        std::mem::discriminant(self).hash(state);
        if let TaskStatus::Other(s) = self {
            crate::model::strings::hash_ignoring_case(s, state);
        }
    }
}

impl From<&str> for TaskStatus {
    fn from(s: &str) -> Self {
        if s.eq_ignore_ascii_case("PENDING") {
            TaskStatus::Pending
        } else if s.eq_ignore_ascii_case("SUCCESS") {
            TaskStatus::Success
        } else if s.eq_ignore_ascii_case("FAILED") || s.eq_ignore_ascii_case("FAILURE") {
            TaskStatus::Failed(s.to_owned())
        } else {
            TaskStatus::Other(s.to_owned())
        }
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for TaskStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl FromStr for TaskStatus {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(TaskStatus::from(s))
    }
}

impl<'de> Deserialize<'de> for TaskStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(crate::model::strings::ParseVisitor::<TaskStatus>::new(
            "a task status string",
        ))
    }
}

/// A task as last seen.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Task {
    /// The task's id.
    pub id: TaskId,
    /// Its status.
    pub status: TaskStatus,
    /// `result`, free-form, when sent.
    pub result: Option<serde_json::Value>,
}

impl Task {
    /// Makes a task value (for tests and simulators).
    pub fn new(id: TaskId, status: TaskStatus) -> Self {
        Task {
            id,
            status,
            result: None,
        }
    }

    /// This task with every occurrence of `secret` in its status text and
    /// `result` replaced by `<redacted>`: a server that echoes the API key
    /// into a task must not put it in a progress line, an event or a log.
    pub(crate) fn redacted(mut self, secret: &str) -> Task {
        if secret.is_empty() {
            return self;
        }
        if let TaskStatus::Failed(text) | TaskStatus::Other(text) = &mut self.status {
            crate::model::error::redact_string(text, secret);
        }
        if let Some(result) = &mut self.result {
            crate::model::error::redact_json(result, secret);
        }
        self
    }

    /// The server's reason, for a failed task: `result` as text, or its
    /// `message`/`error` field when it is an object.
    pub fn reason(&self) -> Option<String> {
        let result = self.result.as_ref()?;
        let text = match result {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Object(o) => match o.get("message").or_else(|| o.get("error")) {
                Some(serde_json::Value::String(s)) => s.clone(),
                _ => result.to_string(),
            },
            serde_json::Value::Null => return None,
            other => other.to_string(),
        };
        Some(text)
    }
}

/// The body of a create-image request: a custom image from a workload
/// instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CreateImage {
    /// The new image's family.
    pub family: String,
    /// The new image's tag.
    pub tag: String,
    /// The workload the instance belongs to.
    pub workload_id: String,
    /// The instance to image.
    pub instance_name: String,
    /// Free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl CreateImage {
    /// A create request without a description.
    pub fn new(
        family: impl Into<String>,
        tag: impl Into<String>,
        workload_id: impl Into<String>,
        instance_name: impl Into<String>,
    ) -> Self {
        CreateImage {
            family: family.into(),
            tag: tag.into(),
            workload_id: workload_id.into(),
            instance_name: instance_name.into(),
            description: None,
        }
    }

    /// Sets the description.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Refuses what the server would refuse or what could not be an image id
    /// afterwards, before anything is sent.
    pub fn validate(&self) -> Result<(), Error> {
        for (what, value) in [("family", &self.family), ("tag", &self.tag)] {
            check_segment(value)
                .map_err(|p| Error::invalid_request(format!("the {what} {}", p.describe())))?;
        }
        for (what, value) in [
            ("workload id", &self.workload_id),
            ("instance name", &self.instance_name),
        ] {
            if value.trim().is_empty() {
                return Err(Error::invalid_request(format!("the {what} is empty")));
            }
        }
        Ok(())
    }
}
