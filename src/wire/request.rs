//! [`Address`]: what every request of an endpoint shares (its URL prefixes,
//! organisation, key and user agent), and how a request is put together.
//!
//! Nothing here sends anything: each operation's request function returns
//! a request that any HTTP client can send. Every variable part of the path
//! is its own percent-encoded segment, so no value can change the host, the
//! path structure or the query.

use http::header::{ACCEPT, CONTENT_TYPE, HeaderName, USER_AGENT};
use http::uri::{Authority, Parts, PathAndQuery, Scheme};
use http::{HeaderMap, HeaderValue, Method, Request, Uri};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::model::error::Error;
use crate::model::secret::ApiKey;

/// The API key header, `MC-Api-Key`.
pub const API_KEY_HEADER: HeaderName = HeaderName::from_static("mc-api-key");

/// What a path segment may keep unencoded: RFC 3986 unreserved characters.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

const JSON: HeaderValue = HeaderValue::from_static("application/json");

/// What every request to one endpoint shares, validated and encoded once
/// by the endpoint's builder.
/// `Debug` shows the key redacted, as [`ApiKey`] does.
#[derive(Clone, Debug)]
pub(crate) struct Address {
    /// The base URL's path, without trailing slashes (may be empty).
    pub(crate) base_prefix: String,
    /// `<base path>/services/:service/:environment/images`, encoded.
    pub(crate) images_prefix: String,
    /// Sent as `org_id` on every request.
    pub(crate) org_id: Option<String>,
    pub(crate) api_key: ApiKey,
    /// The base URL's scheme and authority, parsed once.
    scheme: Scheme,
    authority: Authority,
    user_agent: HeaderValue,
}

impl Address {
    /// The address of a base URL (`scheme://authority/path`, no trailing
    /// slash, as the endpoint's builder normalised it), its images path
    /// below it, and what every request carries.
    pub(crate) fn new(
        base_url: &str,
        images_path: &[&str],
        org_id: Option<String>,
        api_key: ApiKey,
        user_agent: HeaderValue,
    ) -> Result<Self, String> {
        let uri = Uri::try_from(base_url).map_err(|e| e.to_string())?;
        let (Some(scheme), Some(authority)) = (uri.scheme(), uri.authority()) else {
            return Err("has no scheme or host".to_owned());
        };
        let origin = format!("{scheme}://{authority}");
        let base_prefix = base_url
            .strip_prefix(origin.as_str())
            .ok_or("is not in its normal form")?
            .to_owned();
        let mut images_prefix = base_prefix.clone();
        push_segments(&mut images_prefix, images_path);
        Ok(Address {
            base_prefix,
            images_prefix,
            org_id,
            api_key,
            scheme: scheme.clone(),
            authority: authority.clone(),
            user_agent,
        })
    }

    /// `<prefix>/<segments…>?<query>&org_id=…`, the path and query as
    /// text. The prefix was encoded once when the endpoint was built; each
    /// segment is percent-encoded here, everything but RFC 3986's
    /// unreserved characters (`url`'s own segment pushing silently drops
    /// tabs and newlines).
    pub(crate) fn uri(&self, prefix: &str, segments: &[&str], query: &[(&str, String)]) -> String {
        let mut uri = String::with_capacity(prefix.len() + 96);
        uri.push_str(prefix);
        push_segments(&mut uri, segments);
        if !query.is_empty() || self.org_id.is_some() {
            uri.push('?');
            let start = uri.len();
            let mut pairs = url::form_urlencoded::Serializer::for_suffix(uri, start);
            for (key, value) in query {
                pairs.append_pair(key, value);
            }
            if let Some(org) = &self.org_id {
                pairs.append_pair("org_id", org);
            }
            uri = pairs.finish();
        }
        uri
    }

    /// A request to the path and query `path` (from [`uri`](Self::uri))
    /// on the base URL's origin, with the headers every call carries. Only
    /// the path is parsed: the origin was parsed once.
    pub(crate) fn request(
        &self,
        method: Method,
        path: String,
        body: Option<Vec<u8>>,
    ) -> Result<Request<Vec<u8>>, Error> {
        let could_not = |e: &dyn std::fmt::Display| {
            Error::invalid_request(format!("could not build the request: {e}"))
        };
        let mut parts = Parts::default();
        parts.scheme = Some(self.scheme.clone());
        parts.authority = Some(self.authority.clone());
        parts.path_and_query = Some(PathAndQuery::try_from(path).map_err(|e| could_not(&e))?);
        let uri = Uri::from_parts(parts).map_err(|e| could_not(&e))?;
        let mut headers = self.headers();
        if body.is_some() {
            headers.insert(CONTENT_TYPE, JSON);
        }
        Ok(assemble(method, uri, headers, body.unwrap_or_default()))
    }

    /// A request without a body, to `uri`, with the headers every call
    /// carries: what [`request`](Self::request) builds for a GET, made
    /// again to send it again.
    pub(crate) fn resend(&self, method: Method, uri: Uri) -> Request<Vec<u8>> {
        assemble(method, uri, self.headers(), Vec::new())
    }

    /// The headers every request carries, in a map with room for the ones
    /// a request or its HTTP client adds (`Content-Type`, `Host`): a copy
    /// of a full map would have to grow, moving every entry, when hyper
    /// adds `Host`.
    pub(crate) fn headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::with_capacity(6);
        headers.insert(ACCEPT, JSON);
        headers.insert(USER_AGENT, self.user_agent.clone());
        headers.insert(API_KEY_HEADER, self.api_key.header_value());
        headers
    }
}

/// A request of these parts, set directly rather than through
/// `http::request::Builder`, which moves the whole request through a
/// `Result` at every step.
fn assemble(method: Method, uri: Uri, headers: HeaderMap, body: Vec<u8>) -> Request<Vec<u8>> {
    let mut request = Request::new(body);
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    *request.headers_mut() = headers;
    request
}

/// Appends `/segment` for each segment, percent-encoded.
pub(crate) fn push_segments(out: &mut String, segments: &[&str]) {
    for segment in segments {
        out.push('/');
        if segment.bytes().all(|b| UNRESERVED[usize::from(b)]) {
            // Nothing to encode (the usual case): copied as it is.
            out.push_str(segment);
        } else {
            out.extend(utf8_percent_encode(segment, SEGMENT));
        }
    }
}

/// An RFC 3986 unreserved character: what [`SEGMENT`] leaves unencoded.
const fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// [`is_unreserved`] of every byte, looked up rather than computed: a path
/// segment is checked byte by byte on every request.
const UNRESERVED: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = is_unreserved(b as u8);
        b += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    /// The shortcut for segments with nothing to encode gives what the
    /// encoder gives, for every ASCII character and a few others.
    #[test]
    fn segments_are_encoded_as_the_encoder_does() {
        for b in 0..=127u8 {
            let text = char::from(b).to_string();
            let kept = utf8_percent_encode(&text, SEGMENT).to_string() == text;
            assert_eq!(is_unreserved(b), kept, "byte {b}");
        }
        let mut samples: Vec<String> = (0..=127u8)
            .map(|b| format!("a{}z", char::from(b)))
            .collect();
        samples.extend(
            [
                "",
                "tag-1.0_x~y",
                "Ünïcode",
                "a b",
                "a/b",
                "..",
                "%41",
                "\u{0}",
            ]
            .map(String::from),
        );
        for sample in &samples {
            let mut ours = String::new();
            push_segments(&mut ours, &[sample, "plain"]);
            let expected = format!("/{}/plain", utf8_percent_encode(sample, SEGMENT));
            assert_eq!(ours, expected, "{sample:?}");
        }
    }
}
