//! `delete_image`: `DELETE …/images/:stackId/:family/:tag`, which starts a
//! delete task (or deletes at once).

use http::{Method, Request, Response};

use crate::model::error::Error;
use crate::model::id::ImageId;
use crate::model::task::{Task, TaskId, TaskStatus};
use crate::wire::get_task::decode_task;
use crate::wire::request::Address;

/// The request deleting the image `id`.
pub(crate) fn request(address: &Address, id: &ImageId) -> Result<Request<Vec<u8>>, Error> {
    let uri = address.uri(&address.images_prefix, &id.parts(), &[]);
    address.request(Method::DELETE, uri, None)
}

/// Decodes the answer to a delete: a task to wait for, or, when the server
/// answers `204 No Content` (or `200`/`202` with an empty body), a task that
/// has already succeeded, with no id ([`TaskId::is_none`]) and `result`
/// `{"httpStatus": <status>}`: the image is gone and there is nothing to
/// poll. Any other answer is read as [`decode_task`] reads it.
pub fn decode_deletion(response: Response<Vec<u8>>) -> Result<Task, Error> {
    let status = response.status();
    let done_at_once = status == http::StatusCode::NO_CONTENT
        || (matches!(status.as_u16(), 200 | 202)
            && response.body().iter().all(u8::is_ascii_whitespace));
    if done_at_once {
        return Ok(Task {
            id: TaskId::none(),
            status: TaskStatus::Success,
            result: Some(serde_json::json!({ "httpStatus": status.as_u16() })),
        });
    }
    decode_task(response)
}
