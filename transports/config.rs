//! Settings shared by the transports and the facades.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::proxy::{ProxyConfig, ProxyUrl};

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
            proxy: ProxyConfig::default(),
            use_native_roots: false,
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
            .field("proxy", &self.proxy)
            .field("use_native_roots", &self.use_native_roots)
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
        return Err(crate::ConfigError::owned("system certificate store", why));
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
