//! The API key: a secret that never shows itself.

use std::fmt;

use http::HeaderValue;

use crate::model::config_error::ConfigError;

/// The `MC-Api-Key` credential.
///
/// It is validated once, when it is made: it must be a non-empty header value
/// of visible ASCII with no surrounding white space, so a key can never inject
/// a header (CR/LF) or be silently trimmed by a proxy. `Debug` prints
/// `ApiKey(<redacted>)`; there is no `Display`. The header value it produces is
/// marked sensitive, so HTTP libraries that honour the flag keep it out of their
/// own logs too.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    header: HeaderValue,
    /// The same key as text, kept so that redacting it reads no header.
    text: Box<str>,
}

impl ApiKey {
    /// Validates `key` and wraps it. The error never contains the key.
    pub fn new(key: impl AsRef<str>) -> Result<Self, ConfigError> {
        let key = key.as_ref();
        if key.is_empty() {
            return Err(ConfigError::new("api key", "is empty"));
        }
        if key.trim() != key {
            return Err(ConfigError::new(
                "api key",
                "has leading or trailing white space",
            ));
        }
        if !key.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
            return Err(ConfigError::new(
                "api key",
                "contains a character that is not visible ASCII (control characters such as CR or LF are refused)",
            ));
        }
        let mut value = HeaderValue::from_str(key)
            .map_err(|_| ConfigError::new("api key", "is not a valid header value"))?;
        value.set_sensitive(true);
        Ok(ApiKey {
            header: value,
            text: key.into(),
        })
    }

    /// The key as text, for a transport that must put it somewhere other
    /// than the requests this crate builds. Named so that every use is easy to
    /// find in a review.
    pub fn expose_secret(&self) -> &str {
        &self.text
    }

    /// The header value, marked sensitive.
    pub(crate) fn header_value(&self) -> HeaderValue {
        self.header.clone()
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted_and_errors_never_echo_the_key() {
        let key = ApiKey::new("canary-1234").unwrap();
        assert_eq!(format!("{key:?}"), "ApiKey(<redacted>)");
        assert!(key.header_value().is_sensitive());
        for bad in ["canary\r\nX-Evil: 1", "", " canary", "canary\t", "cañary"] {
            let err = ApiKey::new(bad).unwrap_err();
            let text = format!("{err} {err:?}");
            assert!(!text.contains("canary"), "{text}");
        }
    }
}
