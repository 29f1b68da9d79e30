//! The check every bundled transport makes before connecting.

use http::Uri;

use crate::is_loopback_host;
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

/// [`check_request_security`] for one transport, remembering the first
/// origin it allowed over plain http, so that the calls after it (a client
/// talks to one API host) compare two strings instead of parsing the host
/// again. The answer is the same: the check is a function of the scheme and
/// host alone, and the transport's setting does not change.
#[derive(Debug)]
pub(crate) struct SecurityCheck {
    allow_insecure_http: bool,
    /// The authority (`host:port`) of an `http` URI found allowed.
    allowed_http: std::sync::OnceLock<String>,
}

impl SecurityCheck {
    /// The check for a transport whose setting is `allow_insecure_http`.
    pub(crate) fn new(allow_insecure_http: bool) -> Self {
        SecurityCheck {
            allow_insecure_http,
            allowed_http: std::sync::OnceLock::new(),
        }
    }

    /// As [`check_request_security`].
    pub(crate) fn check(&self, uri: &Uri) -> Result<(), TransportError> {
        let allow_insecure_http = self.allow_insecure_http;
        if uri.scheme_str() != Some("http") {
            return check_request_security(uri, allow_insecure_http);
        }
        let authority = uri.authority().map(|a| a.as_str());
        if authority.is_some() && self.allowed_http.get().map(String::as_str) == authority {
            return Ok(());
        }
        check_request_security(uri, allow_insecure_http)?;
        if let Some(authority) = authority {
            let _ = self.allowed_http.set(authority.to_owned());
        }
        Ok(())
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

    #[test]
    fn the_remembered_origin_answers_as_the_check_does() {
        let uri = |s: &str| s.parse::<http::Uri>().unwrap();
        let remembering = [false, true].map(super::SecurityCheck::new);
        for text in [
            "http://127.0.0.1:9/x",
            "http://127.0.0.1:9/y",
            "http://10.0.0.1/x",
            "http://user@10.0.0.1/x",
            "http://127.0.0.1:9/z",
            "https://portal.coxedge.com/x",
            "ftp://127.0.0.1:9/x",
            "http://portal.coxedge.com/x",
            "http://localhost/x",
        ] {
            for (allow, remembering) in [false, true].into_iter().zip(&remembering) {
                let fresh = check(&uri(text), allow).is_ok();
                let cached = remembering.check(&uri(text)).is_ok();
                assert_eq!(fresh, cached, "{text} {allow}");
            }
        }
    }
}
