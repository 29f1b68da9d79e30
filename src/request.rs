//! Building the API's requests as `http::Request<Vec<u8>>` values.
//!
//! Nothing here sends anything: each method returns a request that any HTTP
//! client can send. Every variable part of the path is its own
//! percent-encoded segment, so no value can change the host, the path
//! structure or the query.

use http::header::{ACCEPT, CONTENT_TYPE, HeaderName, USER_AGENT};
use http::{HeaderValue, Method, Request};
use url::Url;

use crate::endpoint::Endpoint;
use crate::error::Error;
use crate::id::ImageId;
use crate::list_options::ListOptions;

/// The API key header.
pub const API_KEY_HEADER: HeaderName = HeaderName::from_static("mc-api-key");

const JSON: HeaderValue = HeaderValue::from_static("application/json");

impl Endpoint {
    /// `GET …/services/:service/:environment/images` with the list options.
    pub fn list_images_request(&self, options: &ListOptions) -> Result<Request<Vec<u8>>, Error> {
        let mut url = self.images_url(&[]);
        if !options.query_pairs().is_empty() {
            let mut query = url.query_pairs_mut();
            for (key, value) in options.query_pairs() {
                query.append_pair(key, &value);
            }
        }
        self.request(Method::GET, url, None)
    }

    /// `GET …/images/:stackId/:family/:tag`.
    pub fn get_image_request(&self, id: &ImageId) -> Result<Request<Vec<u8>>, Error> {
        self.request(Method::GET, self.images_url(&id.parts()), None)
    }

    /// The URL `<base>/services/:service/:environment/images[/parts…]`, with
    /// `org_id` when configured.
    pub(crate) fn images_url(&self, extra: &[&str]) -> Url {
        let fixed = ["services", &self.service, &self.environment, "images"];
        self.url(fixed.iter().copied().chain(extra.iter().copied()))
    }

    /// `<base>/<segments…>` with `org_id` when configured.
    pub(crate) fn url<'a>(&self, segments: impl IntoIterator<Item = &'a str>) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        if let Some(org) = &self.org_id {
            url.query_pairs_mut().append_pair("org_id", org);
        }
        url
    }

    /// A request with the headers every call carries.
    pub(crate) fn request(
        &self,
        method: Method,
        url: Url,
        body: Option<Vec<u8>>,
    ) -> Result<Request<Vec<u8>>, Error> {
        let mut builder = Request::builder()
            .method(method)
            .uri(url.as_str())
            .header(ACCEPT, JSON)
            .header(USER_AGENT, self.user_agent.clone())
            .header(API_KEY_HEADER, self.api_key.header_value());
        if body.is_some() {
            builder = builder.header(CONTENT_TYPE, JSON);
        }
        builder
            .body(body.unwrap_or_default())
            .map_err(|e| Error::invalid_request(format!("could not build the request: {e}")))
    }
}
