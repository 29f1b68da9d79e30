//! `get_task`: `GET <base>/tasks/:id`, a task's state; its decoder also
//! reads the answers to creates and deletes, which are tasks too.

use http::{Method, Request, Response};
use serde::Deserialize;

use crate::model::error::{Error, ErrorKind};
use crate::model::task::{Task, TaskId, TaskStatus};
use crate::wire::request::Address;
use crate::wire::response::decode_json;

/// The request for the task `id`.
pub(crate) fn request(address: &Address, id: &TaskId) -> Result<Request<Vec<u8>>, Error> {
    let uri = address.uri(&address.base_prefix, &["tasks", id.as_str()], &[]);
    address.request(Method::GET, uri, None)
}

/// Decodes a task from the answer to a create, a delete or a task poll,
/// whichever shape the server uses.
pub fn decode_task(response: Response<Vec<u8>>) -> Result<Task, Error> {
    let status = response.status();
    let (wire, body): (WireTask, _) = decode_json(response)?;
    wire.into_task().map_err(|why| {
        Error::new(ErrorKind::Decode, format!("the task did not decode: {why}"))
            .with_status(status)
            .with_json_path(".".to_owned())
            .with_body(body)
    })
}

/// Both task shapes: the docs' top-level `taskId`/`taskStatus`/`result`, and
/// the clients' `{"data": {"id", "status", "created", "result"}}`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireTask {
    #[serde(default)]
    task_id: Option<TaskId>,
    #[serde(default)]
    id: Option<TaskId>,
    #[serde(default)]
    task_status: Option<TaskStatus>,
    #[serde(default)]
    status: Option<TaskStatus>,
    #[serde(default)]
    result: Option<serde_json::Value>,
    #[serde(default)]
    data: Option<Box<WireTask>>,
}

impl WireTask {
    fn into_task(self) -> Result<Task, &'static str> {
        if let Some(inner) = self.data {
            return inner.into_task();
        }
        Ok(Task {
            id: self
                .task_id
                .or(self.id)
                .ok_or("missing field `taskId` (or `id`)")?,
            status: self
                .task_status
                .or(self.status)
                .ok_or("missing field `taskStatus` (or `status`)")?,
            result: self.result,
        })
    }
}
