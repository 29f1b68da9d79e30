//! [`TransportError`]: what a transport reports when no response arrived.
//!
//! Transports (ours in `transports/`, or a user's) turn their own failures
//! into this type, so the core can decide about retries without knowing which
//! HTTP library was used.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

/// The kind of transport failure; the retry decision looks only at this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// No connection could be made (refused, DNS, unreachable). The request
    /// did not reach the server.
    Connect,
    /// The whole-request timeout elapsed after the request may have been
    /// sent (no complete response in time).
    Timeout,
    /// The time ran out before the request was sent: no connection was made
    /// within the connect timeout, or (on the async transport) no turn to
    /// send came within the request timeout. The request did not reach the
    /// server.
    ConnectTimeout,
    /// The connection broke before a response arrived (reset, closed before
    /// answering).
    Io,
    /// The response's headers arrived but its body ended early (the
    /// connection closed or broke before the announced length or the last
    /// chunk).
    Truncated,
    /// The TLS handshake failed (certificate, protocol).
    Tls,
    /// The response body was larger than the configured limit; the rest was
    /// not read.
    BodyTooLarge,
    /// The server did not speak valid HTTP.
    Protocol,
    /// The request was refused before any connection was attempted (for
    /// example plain `http://` to a host that is not loopback).
    Refused,
    /// Anything else.
    Other,
}

impl TransportErrorKind {
    fn describe(self) -> &'static str {
        match self {
            TransportErrorKind::Connect => "could not connect",
            TransportErrorKind::Timeout | TransportErrorKind::ConnectTimeout => "timed out",
            TransportErrorKind::Io => "connection failed",
            TransportErrorKind::Truncated => "response cut short",
            TransportErrorKind::Tls => "TLS failed",
            TransportErrorKind::BodyTooLarge => "response body too large",
            TransportErrorKind::Protocol => "invalid HTTP from the server",
            TransportErrorKind::Refused => "request refused",
            TransportErrorKind::Other => "transport failed",
        }
    }

    /// Whether a request that failed this way can have reached the server.
    pub fn may_have_reached_server(self) -> bool {
        !matches!(
            self,
            TransportErrorKind::Connect
                | TransportErrorKind::ConnectTimeout
                | TransportErrorKind::Refused
                | TransportErrorKind::Tls
        )
    }
}

/// A failure of the transport: no usable response arrived.
pub struct TransportError {
    kind: TransportErrorKind,
    message: String,
    source: Option<Box<dyn StdError + Send + Sync>>,
}

impl TransportError {
    /// A failure of the given kind with a human-readable detail.
    pub fn new(kind: TransportErrorKind, message: impl Into<String>) -> Self {
        TransportError {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// Attaches the underlying error (kept as the `source()`).
    pub fn with_source(mut self, source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// The kind of failure.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// The detail given by the transport.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Debug for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportError")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("source", &self.source)
            .finish()
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.describe())?;
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        Ok(())
    }
}

impl StdError for TransportError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}

/// A duration in words for messages: `500 ms`, `1 s`, `1.5 s`, `2 min`.
pub(crate) fn duration_words(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis == 0 {
        return format!("{} µs", duration.as_micros());
    }
    if millis < 1000 {
        return format!("{millis} ms");
    }
    if millis % 60_000 == 0 && millis >= 120_000 {
        return format!("{} min", millis / 60_000);
    }
    let seconds = format!("{}.{:03}", millis / 1000, millis % 1000);
    let seconds = seconds.trim_end_matches('0').trim_end_matches('.');
    format!("{seconds} s")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_words() {
        let words = |ms| duration_words(Duration::from_millis(ms));
        assert_eq!(words(500), "500 ms");
        assert_eq!(words(1000), "1 s");
        assert_eq!(words(1500), "1.5 s");
        assert_eq!(words(1250), "1.25 s");
        assert_eq!(words(10_000), "10 s");
        assert_eq!(words(60_000), "60 s");
        assert_eq!(words(300_000), "5 min");
        assert_eq!(duration_words(Duration::from_micros(20)), "20 µs");
    }

    #[test]
    fn only_failures_after_sending_may_have_reached_the_server() {
        use TransportErrorKind as K;
        for kind in [K::Connect, K::ConnectTimeout, K::Refused, K::Tls] {
            assert!(!kind.may_have_reached_server(), "{kind:?}");
        }
        for kind in [
            K::Timeout,
            K::Io,
            K::Truncated,
            K::BodyTooLarge,
            K::Protocol,
        ] {
            assert!(kind.may_have_reached_server(), "{kind:?}");
        }
    }
}
