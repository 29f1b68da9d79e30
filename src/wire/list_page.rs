//! `list_page`: `GET <base>/services/:service/:environment/images`, one
//! page of the environment's images.

use http::{Method, Request, Response};

use crate::model::error::Error;
use crate::model::image::{Image, ImageList};
use crate::model::list_options::ListOptions;
use crate::wire::request::Address;
use crate::wire::response::decode_data;

/// The request, with the list options as its query.
pub(crate) fn request(address: &Address, options: &ListOptions) -> Result<Request<Vec<u8>>, Error> {
    let uri = address.uri(&address.images_prefix, &[], &options.query_pairs());
    address.request(Method::GET, uri, None)
}

/// Decodes the answer to [`Endpoint::list_page_request`](crate::Endpoint::list_page_request).
pub fn decode_image_list(response: Response<Vec<u8>>) -> Result<ImageList, Error> {
    let (images, metadata) = decode_data::<Vec<Image>>(response)?;
    Ok(ImageList::new(images, metadata.unwrap_or_default()))
}
