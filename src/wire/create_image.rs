//! `create_image`: `POST …/images` with a JSON body, which starts a create
//! task; the answer is decoded by [`decode_task`](crate::decode_task).

use http::{Method, Request};

use crate::model::error::Error;
use crate::model::task::CreateImage;
use crate::wire::request::Address;

/// The request creating the image `create` describes, checked first.
pub(crate) fn request(address: &Address, create: &CreateImage) -> Result<Request<Vec<u8>>, Error> {
    create.validate()?;
    let body = serde_json::to_vec(create)
        .map_err(|e| Error::invalid_request(format!("could not encode the request: {e}")))?;
    let uri = address.uri(&address.images_prefix, &[], &[]);
    address.request(Method::POST, uri, Some(body))
}
