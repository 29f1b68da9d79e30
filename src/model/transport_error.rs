//! [`TransportError`]: what a transport reports when no response arrived.
//!
//! Transports (ours in `transports/`, or a user's) turn their own failures
//! into this type, so the core can decide about retries without knowing which
//! HTTP library was used.

use std::error::Error as StdError;
use std::fmt;

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
    /// The response's status line and headers were larger than the
    /// configured limit (or had too many fields); the rest was not read.
    HeadersTooLarge,
    /// The proxy refused the tunnel to the server: it answered `CONNECT`
    /// with a status other than 2xx (credentials wanted or rejected, the
    /// destination not allowed, the server unreachable from the proxy), or
    /// with something that is not HTTP. The request did not reach the
    /// server, and it is not retried: a proxy that refused credentials would
    /// refuse them again (and may lock the account).
    Proxy,
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
            TransportErrorKind::HeadersTooLarge => "response headers too large",
            TransportErrorKind::Proxy => "proxy refused the tunnel",
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
                | TransportErrorKind::Proxy
        )
    }

    /// Whether the proxy refused the tunnel ([`TransportErrorKind::Proxy`]).
    pub fn is_proxy(self) -> bool {
        self == TransportErrorKind::Proxy
    }
}

/// A failure of the transport: no usable response arrived.
pub struct TransportError {
    kind: TransportErrorKind,
    message: String,
    source: Option<Box<dyn StdError + Send + Sync>>,
    /// The proxy (`host:port`) the request went through, for the logs.
    proxy: Option<Box<str>>,
}

impl TransportError {
    /// A failure of the given kind with a human-readable detail.
    pub fn new(kind: TransportErrorKind, message: impl Into<String>) -> Self {
        TransportError {
            kind,
            message: message.into(),
            source: None,
            proxy: None,
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

    /// Whether the proxy refused the tunnel ([`TransportErrorKind::Proxy`]).
    pub fn is_proxy(&self) -> bool {
        self.kind.is_proxy()
    }

    /// Notes that the request went through the proxy at `host_port` (never
    /// its credentials); the request logs name it. A transport sets it on
    /// every failure of a proxied request.
    pub fn through_proxy(mut self, host_port: impl Into<String>) -> Self {
        self.proxy = Some(host_port.into().into());
        self
    }

    /// The proxy the request went through, as `host:port`, when the
    /// transport said so ([`through_proxy`](Self::through_proxy)).
    pub fn proxy(&self) -> Option<&str> {
        self.proxy.as_deref()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_failures_after_sending_may_have_reached_the_server() {
        use TransportErrorKind as K;
        for kind in [K::Connect, K::ConnectTimeout, K::Refused, K::Tls, K::Proxy] {
            assert!(!kind.may_have_reached_server(), "{kind:?}");
        }
        for kind in [
            K::Timeout,
            K::Io,
            K::Truncated,
            K::BodyTooLarge,
            K::HeadersTooLarge,
            K::Protocol,
        ] {
            assert!(kind.may_have_reached_server(), "{kind:?}");
        }
    }
}
