//! Settings shared by the transports and the facades.

use std::fmt;
use std::time::Duration;

use super::proxy::{ProxyConfig, ProxyUrl};

/// Limits and trust settings for the bundled transports.
#[derive(Clone)]
#[non_exhaustive]
pub struct TransportConfig {
    /// Time allowed to make the connection: the TCP connect, a proxy's
    /// `CONNECT` and the TLS handshake together. Default 10 s.
    pub connect_timeout: Duration,
    /// Time allowed for the whole request, body included. Default 30 s.
    /// Values above a day are treated as a day.
    pub timeout: Duration,
    /// Largest response body accepted; more fails with
    /// [`TransportErrorKind::BodyTooLarge`](crate::TransportErrorKind::BodyTooLarge)
    /// without reading the rest. Default 16 MiB, far above any real list.
    pub max_body_bytes: u64,
    /// Largest response head (status line and headers) accepted; more, or
    /// more than 100 header fields, fails with
    /// [`TransportErrorKind::HeadersTooLarge`](crate::TransportErrorKind::HeadersTooLarge)
    /// on both transports. Default 64 KiB; at least 8 KiB is used.
    pub max_header_bytes: usize,
    /// Extra trusted root certificates, DER-encoded (private CAs, tests).
    pub root_certificates: Vec<Vec<u8>>,
    /// Trust the Mozilla roots bundled by `webpki-roots`. Default true.
    pub use_webpki_roots: bool,
    /// Send requests over plain `http://` to hosts that are not loopback.
    /// Default false: such requests are refused before connecting.
    pub allow_insecure_http: bool,
    /// Which proxy to use. Default [`ProxyConfig::FromEnvironment`]: the
    /// `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY`/`NO_PROXY` variables, read as
    /// curl reads them (see [`ProxyConfig`]).
    pub proxy: ProxyConfig,
    /// Also trust the operating system's certificate store (on Linux the
    /// bundle in `/etc/ssl/certs`, or the file and directory named by
    /// `SSL_CERT_FILE` and `SSL_CERT_DIR`), loaded when the transport is
    /// built. Default false. Combine with [`use_webpki_roots`](Self::use_webpki_roots)
    /// `= false` to trust the system store instead of the bundled roots.
    pub use_native_roots: bool,
    /// How many requests one async transport (and its clones) sends at
    /// once; the others wait for a turn, and that wait counts against
    /// [`timeout`](Self::timeout). Default [`Self::DEFAULT_MAX_IN_FLIGHT`]. The
    /// blocking transport sends one request per calling thread and ignores
    /// it.
    pub max_in_flight: usize,
    /// How long an idle pooled connection may be reused. Default
    /// [`Self::DEFAULT_POOL_IDLE_TIMEOUT`] (15 s), below the idle limits of
    /// common load balancers and servers (AWS ALB 60 s, nginx 75 s, GCP
    /// 600 s), so the client drops a connection before the server side may
    /// close it: creates and deletes are not retried, and a connection
    /// closed under them would fail them.
    pub pool_idle_timeout: Duration,
}

impl Default for TransportConfig {
    fn default() -> Self {
        TransportConfig {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            max_body_bytes: 16 * 1024 * 1024,
            max_header_bytes: 64 * 1024,
            root_certificates: Vec::new(),
            use_webpki_roots: true,
            allow_insecure_http: false,
            proxy: ProxyConfig::default(),
            use_native_roots: false,
            max_in_flight: Self::DEFAULT_MAX_IN_FLIGHT,
            pool_idle_timeout: Self::DEFAULT_POOL_IDLE_TIMEOUT,
        }
    }
}

impl fmt::Debug for TransportConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportConfig")
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_header_bytes", &self.max_header_bytes)
            .field("root_certificates", &self.root_certificates.len())
            .field("use_webpki_roots", &self.use_webpki_roots)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .field("proxy", &self.proxy)
            .field("use_native_roots", &self.use_native_roots)
            .field("max_in_flight", &self.max_in_flight)
            .field("pool_idle_timeout", &self.pool_idle_timeout)
            .finish()
    }
}

impl TransportConfig {
    /// Sets the whole-request timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the connect timeout.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the body size limit.
    pub fn max_body_bytes(mut self, limit: u64) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// Sets the response head size limit (at least 8 KiB is used).
    pub fn max_header_bytes(mut self, limit: usize) -> Self {
        self.max_header_bytes = limit;
        self
    }

    /// Trusts one more root certificate (DER).
    pub fn add_root_certificate_der(mut self, der: impl Into<Vec<u8>>) -> Self {
        self.root_certificates.push(der.into());
        self
    }

    /// Trusts every certificate in a PEM document; fails if it holds none or
    /// is not PEM.
    #[cfg(any(feature = "ureq", feature = "hyper"))]
    pub fn add_root_certificates_pem(mut self, pem: &[u8]) -> Result<Self, crate::ConfigError> {
        use rustls_pki_types::CertificateDer;
        use rustls_pki_types::pem::PemObject;
        let bad = |_| crate::ConfigError::new("root certificate", "is not valid PEM");
        let certs = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(bad)?;
        if certs.is_empty() {
            return Err(crate::ConfigError::new(
                "root certificate",
                "PEM holds no certificate",
            ));
        }
        self.root_certificates
            .extend(certs.into_iter().map(|c| c.as_ref().to_vec()));
        Ok(self)
    }

    /// Allows plain http to hosts that are not loopback.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// The default [`TransportConfig::max_in_flight`]: enough to keep a
    /// fast server busy from one client, while holding one client to that
    /// many connections to the API. A bulk job against a server that allows
    /// more may raise it (docs/performance.md has the measurements it was
    /// chosen by).
    pub const DEFAULT_MAX_IN_FLIGHT: usize = 64;

    /// The default [`TransportConfig::pool_idle_timeout`].
    pub const DEFAULT_POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(15);

    /// Sets how many requests the async transport sends at once (at least
    /// 1).
    pub fn max_in_flight(mut self, limit: usize) -> Self {
        self.max_in_flight = limit.max(1);
        self
    }

    /// Sets how long an idle pooled connection may be reused.
    pub fn pool_idle_timeout(mut self, timeout: Duration) -> Self {
        self.pool_idle_timeout = timeout;
        self
    }
    /// Sends every request through the HTTP proxy at `url`
    /// (`[http://][user[:password]@]host[:port]`, port 1080 by default),
    /// whatever the environment says. Credentials are sent as
    /// `Proxy-Authorization: Basic` and never shown. Fails (without
    /// repeating the URL) when it does not parse or is not `http://`.
    pub fn proxy(mut self, url: &str) -> Result<Self, crate::ConfigError> {
        self.proxy = ProxyConfig::Url(url.parse::<ProxyUrl>()?);
        Ok(self)
    }

    /// Connects directly, ignoring any proxy named in the environment.
    pub fn no_proxy(mut self) -> Self {
        self.proxy = ProxyConfig::None;
        self
    }

    /// Whether to also trust the operating system's certificate store.
    pub fn native_roots(mut self, enabled: bool) -> Self {
        self.use_native_roots = enabled;
        self
    }

    /// Whether to trust the bundled Mozilla roots.
    pub fn webpki_roots(mut self, enabled: bool) -> Self {
        self.use_webpki_roots = enabled;
        self
    }
}

/// The operating system's trusted roots when
/// [`TransportConfig::use_native_roots`] is set (none otherwise). Fails when
/// the store was asked for but yielded nothing, saying why.
#[cfg(any(feature = "ureq", feature = "hyper"))]
pub(crate) fn native_roots(
    config: &TransportConfig,
) -> Result<Vec<rustls_pki_types::CertificateDer<'static>>, crate::ConfigError> {
    if !config.use_native_roots {
        return Ok(Vec::new());
    }
    let loaded = rustls_native_certs::load_native_certs();
    if loaded.certs.is_empty() {
        let why = loaded.errors.first().map_or_else(
            || "holds no certificate".to_owned(),
            |e| format!("cannot be read: {e}"),
        );
        return Err(crate::ConfigError::new("system certificate store", why));
    }
    Ok(loaded.certs)
}

/// The longest timeout the transports pass on (a day): longer ones make
/// the HTTP libraries' deadline arithmetic overflow.
#[cfg(any(feature = "ureq", feature = "hyper"))]
const MAX_TIMEOUT: Duration = Duration::from_secs(86_400);

/// `timeout` with an upper bound, so that no configured value can panic.
#[cfg(any(feature = "ureq", feature = "hyper"))]
pub(crate) fn bounded(timeout: Duration) -> Duration {
    timeout.min(MAX_TIMEOUT)
}

/// The response head limit the transports apply: the configured one, but
/// at least 8 KiB (hyper's smallest read buffer).
#[cfg(any(feature = "ureq", feature = "hyper"))]
pub(crate) fn header_limit(config: &TransportConfig) -> usize {
    config.max_header_bytes.max(8 * 1024)
}

/// The words both transports use for the same failure, so that a failure
/// reads the same whichever transport met it, with no library's names.
#[cfg(any(feature = "ureq", feature = "hyper"))]
pub(crate) mod wording {
    use std::io;
    use std::time::Duration;

    use crate::{TransportError, TransportErrorKind};

    /// The whole-request timeout ran out.
    pub(crate) fn no_response_within(timeout: Duration) -> TransportError {
        TransportError::new(
            TransportErrorKind::Timeout,
            format!("no complete response within {}", duration_words(timeout)),
        )
    }

    /// The connect timeout ran out.
    pub(crate) fn no_connection_within(timeout: Duration) -> TransportError {
        TransportError::new(
            TransportErrorKind::ConnectTimeout,
            format!("could not connect within {}", duration_words(timeout)),
        )
    }

    /// The request timeout ran out while the request waited for a turn.
    #[cfg(feature = "hyper")]
    pub(crate) fn no_turn_within(timeout: Duration, in_flight: usize) -> TransportError {
        TransportError::new(
            TransportErrorKind::ConnectTimeout,
            format!(
                "no turn to send within {} ({in_flight} requests already in flight); \
                 nothing was sent",
                duration_words(timeout)
            ),
        )
    }

    /// The body ended after `received` bytes, before the `announced` length
    /// (or, without one, before its last chunk).
    pub(crate) fn truncated(received: u64, announced: Option<u64>) -> TransportError {
        let message = match announced {
            Some(announced) => {
                format!("the body ended after {received} of {announced} bytes")
            }
            None => format!("the body ended after {received} bytes, before its last chunk"),
        };
        TransportError::new(TransportErrorKind::Truncated, message)
    }

    /// The body was over `limit` bytes.
    pub(crate) fn too_large(limit: u64) -> TransportError {
        TransportError::new(
            TransportErrorKind::BodyTooLarge,
            format!("more than the limit of {limit} bytes"),
        )
    }

    /// The response's status line and headers were over `limit` bytes, or
    /// had more than [`MAX_HEADER_FIELDS`] fields.
    pub(crate) fn headers_too_large(limit: usize) -> TransportError {
        TransportError::new(
            TransportErrorKind::HeadersTooLarge,
            format!("more than the limit of {limit} bytes or {MAX_HEADER_FIELDS} header fields"),
        )
    }

    /// The most header fields a response may have: hyper's parser keeps
    /// this many on the stack (more would cost an allocation per response),
    /// and the ureq transport holds its responses to the same number.
    pub(crate) const MAX_HEADER_FIELDS: usize = 100;

    /// What was wrong with a response that is not valid HTTP.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(crate) enum Malformed {
        /// It does not begin with an HTTP/1 status line at all.
        NotHttp,
        /// `HTTP/1.1` followed by no valid status code.
        StatusLine,
        /// A header line that is not `name: value`.
        HeaderLine,
        /// A chunk size that is not hexadecimal.
        ChunkSize,
        /// Other chunked framing (a chunk not ended by CRLF).
        Chunked,
        /// A `Content-Length` that is not one number, or several that differ.
        ContentLength,
        /// Anything else a parser refused.
        Other,
    }

    /// A response that is not valid HTTP, in words that name no library.
    pub(crate) fn malformed(what: Malformed) -> TransportError {
        let words = match what {
            Malformed::NotHttp => "the answer is not HTTP",
            Malformed::StatusLine => "a bad status line",
            Malformed::HeaderLine => "a bad header line",
            Malformed::ChunkSize => "a bad chunk size",
            Malformed::Chunked => "bad chunked framing",
            Malformed::ContentLength => "a bad Content-Length",
            Malformed::Other => "the answer could not be read as HTTP",
        };
        TransportError::new(TransportErrorKind::Protocol, words)
    }

    /// The server closed the connection before the response's headers.
    pub(crate) fn closed_before_answering() -> TransportError {
        TransportError::new(
            TransportErrorKind::Io,
            "the server closed the connection before answering",
        )
    }

    /// Why a connection could not be made, in words.
    pub(crate) fn connect_failure(error: &io::Error) -> TransportError {
        let words = match error.kind() {
            io::ErrorKind::ConnectionRefused => "connection refused",
            io::ErrorKind::HostUnreachable => "host unreachable",
            io::ErrorKind::NetworkUnreachable => "network unreachable",
            io::ErrorKind::AddrNotAvailable => "address not available",
            io::ErrorKind::ConnectionReset => "the server reset the connection",
            _ => "the connection could not be made",
        };
        TransportError::new(TransportErrorKind::Connect, words)
    }

    /// The host name did not resolve.
    pub(crate) fn host_not_found() -> TransportError {
        TransportError::new(TransportErrorKind::Connect, "host not found")
    }

    /// The connection broke before the response's headers arrived.
    pub(crate) fn broken(error: &io::Error) -> TransportError {
        match error.kind() {
            io::ErrorKind::UnexpectedEof => closed_before_answering(),
            kind => TransportError::new(TransportErrorKind::Io, broken_words(kind)),
        }
    }

    fn broken_words(kind: io::ErrorKind) -> &'static str {
        match kind {
            io::ErrorKind::ConnectionReset => "the server reset the connection",
            io::ErrorKind::ConnectionAborted => "the connection was aborted",
            io::ErrorKind::BrokenPipe => {
                "the server closed the connection while the request was sent"
            }
            _ => "the connection broke",
        }
    }

    /// A TLS failure, described by rustls's own words (which name no
    /// library).
    pub(crate) fn tls(error: &rustls::Error) -> TransportError {
        use rustls::CertificateError as C;
        let certificate = |what: &str| format!("the server's certificate {what}");
        let text = match error {
            rustls::Error::InvalidCertificate(problem) => match problem {
                C::UnknownIssuer => certificate(
                    "was issued by an unknown authority (unknown issuer): \
                     add the CA that issued it to the trusted roots",
                ),
                C::NotValidForName | C::NotValidForNameContext { .. } => {
                    certificate("is not valid for this host name")
                }
                C::Expired | C::ExpiredContext { .. } => certificate("has expired"),
                C::NotValidYet | C::NotValidYetContext { .. } => certificate("is not valid yet"),
                C::Revoked => certificate("has been revoked"),
                C::BadSignature => certificate("has a bad signature"),
                C::BadEncoding => certificate("is not a valid certificate"),
                C::InvalidPurpose | C::InvalidPurposeContext { .. } => {
                    certificate("is not meant for a server")
                }
                other => certificate(&format!("was refused ({other:?})")),
            },
            other => other.to_string(),
        };
        TransportError::new(TransportErrorKind::Tls, text)
    }

    /// A duration in words for messages: `500 ms`, `1 s`, `1.5 s`, `2 min`.
    fn duration_words(duration: Duration) -> String {
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
    }
}
