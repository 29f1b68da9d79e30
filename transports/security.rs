//! The check every bundled transport makes before connecting.

use http::Uri;

use crate::endpoint::is_loopback_host;
use crate::{TransportError, TransportErrorKind};

/// Refuses a request that must not leave this process: allows `https`, or
/// `http` to a loopback host (127.0.0.0/8, `::1`, `localhost`), or `http`
/// anywhere when `allow_insecure_http`; anything else is a
/// [`TransportErrorKind::Refused`] error, before any connection attempt,
/// because the request carries the API key.
///
/// The bundled transports call it on every request. A custom
/// [`Transport`](super::Transport) should too: the endpoint checks its base
/// URL once, but a transport is the last place to stop a request whose URI
/// was changed on the way (a redirect, a wrapper).
///
/// ```
/// use coxedge_images::transports::check_request_security;
///
/// let uri = |s: &str| s.parse::<http::Uri>().unwrap();
/// assert!(check_request_security(&uri("https://portal.coxedge.com/api/v1"), false).is_ok());
/// assert!(check_request_security(&uri("http://127.0.0.1:8080/api/v1"), false).is_ok());
/// assert!(check_request_security(&uri("http://portal.coxedge.com/api/v1"), false).is_err());
/// ```
pub fn check_request_security(uri: &Uri, allow_insecure_http: bool) -> Result<(), TransportError> {
    let refused = |why: String| Err(TransportError::new(TransportErrorKind::Refused, why));
    match uri.scheme_str() {
        Some("https") => Ok(()),
        Some("http") if allow_insecure_http || uri.host().is_some_and(is_loopback_host) => Ok(()),
        Some("http") => refused(format!(
            "plain http to {} is not allowed (the API key would travel unencrypted)",
            uri.host().unwrap_or("?")
        )),
        other => refused(format!("unsupported URI scheme {:?}", other.unwrap_or(""))),
    }
}
