//! Layer 1, the wire: for each API operation, the request it sends and the
//! decoder of its answer, side by side in one file named for it. This is
//! all a user of another HTTP client needs: build the request with the
//! endpoint (`Endpoint::get_image_request`), send it, decode the answer
//! (`decode_image`). Built on the model; knows nothing of retries, pages
//! or waits.

pub(crate) mod create_image;
pub(crate) mod delete_image;
pub(crate) mod get_image;
pub(crate) mod get_task;
pub(crate) mod list_page;
pub(crate) mod request;
pub(crate) mod response;
