//! Building the API's requests as `http::Request<Vec<u8>>` values.
//!
//! Nothing here sends anything: each method returns a request that any HTTP
//! client can send. Every variable part of the path is its own
//! percent-encoded segment, so no value can change the host, the path
//! structure or the query.

use http::header::{ACCEPT, CONTENT_TYPE, HeaderName, USER_AGENT};
use http::{HeaderValue, Method, Request};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use url::Url;

use crate::endpoint::Endpoint;
use crate::error::Error;
use crate::id::ImageId;
use crate::list_options::ListOptions;

/// The API key header.
pub const API_KEY_HEADER: HeaderName = HeaderName::from_static("mc-api-key");

/// What a path segment may keep unencoded: RFC 3986 unreserved characters.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

const JSON: HeaderValue = HeaderValue::from_static("application/json");

impl Endpoint {
    /// `GET …/services/:service/:environment/images` with the list options.
    pub fn list_images_request(&self, options: &ListOptions) -> Result<Request<Vec<u8>>, Error> {
        let url = self.images_url(&[], &options.query_pairs());
        self.request(Method::GET, url, None)
    }

    /// `GET …/images/:stackId/:family/:tag`.
    pub fn get_image_request(&self, id: &ImageId) -> Result<Request<Vec<u8>>, Error> {
        self.request(Method::GET, self.images_url(&id.parts(), &[]), None)
    }

    /// `<base>/services/:service/:environment/images[/extra…]?query`.
    pub(crate) fn images_url(&self, extra: &[&str], query: &[(&str, String)]) -> Url {
        let fixed = ["services", &self.service, &self.environment, "images"];
        self.url(fixed.iter().chain(extra), query)
    }

    /// `<base>/<segments…>?<query>&org_id=…`. Each segment is percent-encoded
    /// here, everything but RFC 3986's unreserved characters, because `url`'s
    /// own segment pushing silently drops tabs and newlines.
    pub(crate) fn url<'a>(
        &self,
        segments: impl IntoIterator<Item = &'a &'a str>,
        query: &[(&str, String)],
    ) -> Url {
        let mut url = self.base.clone();
        let mut path = url.path().trim_end_matches('/').to_owned();
        for segment in segments {
            path.push('/');
            path.extend(utf8_percent_encode(segment, SEGMENT));
        }
        url.set_path(&path);
        if !query.is_empty() || self.org_id.is_some() {
            let mut pairs = url.query_pairs_mut();
            for (key, value) in query {
                pairs.append_pair(key, value);
            }
            if let Some(org) = &self.org_id {
                pairs.append_pair("org_id", org);
            }
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

/// The API key a request carries (empty if none), so that errors about it
/// can be kept free of it.
pub(crate) fn api_key_of(request: &Request<Vec<u8>>) -> &str {
    request
        .headers()
        .get(API_KEY_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}
