//! `get_image`: `GET …/images/:stackId/:family/:tag`, one image.

use http::{Method, Request, Response};

use crate::model::error::Error;
use crate::model::id::ImageId;
use crate::model::image::Image;
use crate::wire::request::Address;
use crate::wire::response::decode_data;

/// The request for the image `id`.
pub(crate) fn request(address: &Address, id: &ImageId) -> Result<Request<Vec<u8>>, Error> {
    let uri = address.uri(&address.images_prefix, &id.parts(), &[]);
    address.request(Method::GET, uri, None)
}

/// Decodes the answer to [`Endpoint::get_image_request`](crate::Endpoint::get_image_request).
pub fn decode_image(response: Response<Vec<u8>>) -> Result<Image, Error> {
    decode_data::<Image>(response).map(|(image, _)| image)
}
