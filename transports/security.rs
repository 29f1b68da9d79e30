//! The check every bundled transport makes before connecting.

use http::Uri;

use crate::model::host::is_loopback_host;
use crate::{TransportError, TransportErrorKind};

/// Refuses a request that must not leave this process: allows `https`, or
/// `http` to a loopback host (127.0.0.0/8, `::1`, `localhost`), or `http`
/// anywhere when `allow_insecure_http`; anything else is a
/// `TransportErrorKind::Refused` error, before any connection attempt,
/// because the request carries the API key.
///
/// The bundled transports call it on every request: the endpoint checks
/// its base URL once, but a transport is the last place to stop a request
/// whose URI was changed on the way (a redirect, a wrapper).
#[cfg_attr(not(any(feature = "ureq", feature = "hyper")), allow(dead_code))]
pub(crate) fn check_request_security(
    uri: &Uri,
    allow_insecure_http: bool,
) -> Result<(), TransportError> {
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

#[cfg(test)]
mod tests {
    use super::check_request_security as check;
    use crate::TransportErrorKind;

    #[test]
    fn transports_refuse_plain_http_off_loopback() {
        let uri = |s: &str| s.parse::<http::Uri>().unwrap();
        for ok in [
            "https://portal.coxedge.com/x",
            "http://127.0.0.1:9/x",
            "http://127.200.1.1/x",
            "http://[::1]:9/x",
            "http://LOCALHOST/x",
        ] {
            assert!(check(&uri(ok), false).is_ok(), "{ok}");
        }
        for refused in [
            "http://10.0.0.1/x",
            "http://portal.coxedge.com/x",
            "http://[::2]/x",
            "http://localhost.evil.example/x",
            "ftp://127.0.0.1/x",
        ] {
            let err = check(&uri(refused), false).unwrap_err();
            assert_eq!(err.kind(), TransportErrorKind::Refused, "{refused}");
        }
        assert!(check(&uri("http://10.0.0.1/x"), true).is_ok());
    }
}
