//! Settings shared by the transports and the facades.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Limits and trust settings for the bundled transports.
#[derive(Clone)]
#[non_exhaustive]
pub struct TransportConfig {
    /// Time allowed to establish the TCP connection. Default 10 s. The TLS
    /// handshake is bounded by [`timeout`](Self::timeout).
    pub connect_timeout: Duration,
    /// Time allowed for the whole request, body included. Default 30 s.
    /// Values above a day are treated as a day.
    pub timeout: Duration,
    /// Largest response body accepted; more fails with
    /// [`TransportErrorKind::BodyTooLarge`](crate::TransportErrorKind::BodyTooLarge)
    /// without reading the rest. Default 16 MiB, far above any real list.
    pub max_body_bytes: u64,
    /// Extra trusted root certificates, DER-encoded (private CAs, tests).
    pub root_certificates: Vec<Vec<u8>>,
    /// Trust the Mozilla roots bundled by `webpki-roots`. Default true.
    pub use_webpki_roots: bool,
    /// Send requests over plain `http://` to hosts that are not loopback.
    /// Default false: such requests are refused before connecting.
    pub allow_insecure_http: bool,
}

impl Default for TransportConfig {
    fn default() -> Self {
        TransportConfig {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            max_body_bytes: 16 * 1024 * 1024,
            root_certificates: Vec::new(),
            use_webpki_roots: true,
            allow_insecure_http: false,
        }
    }
}

impl fmt::Debug for TransportConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportConfig")
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("root_certificates", &self.root_certificates.len())
            .field("use_webpki_roots", &self.use_webpki_roots)
            .field("allow_insecure_http", &self.allow_insecure_http)
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

/// Told to the facade's observer before each wait: one line's worth.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RetryNotice {
    /// What failed (`"HTTP 503 Service Unavailable"`, `"timed out: …"`).
    pub reason: String,
    /// The attempt that just ended, counting from 1.
    pub attempt: u32,
    /// How long the client waits before the next attempt.
    pub wait: Duration,
}

/// The observer a facade calls on each retry.
pub(crate) type Observer = Arc<dyn Fn(&RetryNotice) + Send + Sync>;
