//! The blocking transport: [ureq](https://docs.rs/ureq) 3 with rustls (ring).
//!
//! One [`::ureq::Agent`] per [`UreqTransport`], so connections are pooled and
//! reused across calls. The agent is set up for a keyed API:
//!
//! - error statuses are responses (`http_status_as_error(false)`): the core
//!   decodes the API's error body, which ureq would otherwise drop;
//! - no redirects are followed here: the core decides (same origin only), so
//!   the `MC-Api-Key` header never reaches another origin;
//! - `timeout_global` bounds the whole call, body included, and
//!   `timeout_connect` the connection set-up (TCP, a proxy's `CONNECT` and
//!   TLS); the socket is given those deadlines rounded up to 10 ms, so that
//!   a pooled call does not reset its timeouts on every read and write;
//! - response heads over [`TransportConfig::max_header_bytes`] or with more
//!   than 100 fields are refused, as on hyper;
//! - pooled connections idle for longer than
//!   [`TransportConfig::pool_idle_timeout`] are not reused (`max_idle_age`);
//! - the body is read and counted here, so an oversized or endless body
//!   fails with [`TransportErrorKind::BodyTooLarge`] without reading the
//!   rest, and a body cut short says how much of it came;
//! - TLS is rustls with the `ring` provider chosen explicitly (never the
//!   process default, which may be unset);
//! - proxies follow [`TransportConfig::proxy`] (the environment by default,
//!   read as curl does, by the same rules as the hyper transport, not by
//!   ureq's own `Proxy::try_from_env`, whose `NO_PROXY` and variable order
//!   differ): the proxy is set on each request that uses one, and ureq
//!   reaches the target through a `CONNECT` tunnel.
//!
//! ```no_run
//! use coxedge_images::Client;
//! use coxedge_images::{ApiKey, Endpoint, ListOptions};
//!
//! let endpoint = Endpoint::builder()
//!     .service("edge-services")
//!     .environment("test-area")
//!     .api_key(ApiKey::new("my-key")?)
//!     .build()?;
//! let client = Client::ureq(endpoint)?;
//! for image in client.list_images(&ListOptions::new())?.images {
//!     println!("{}", image.id);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::io::{self, Read};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ::ureq::tls::{Certificate, RootCerts, TlsConfig, TlsProvider};
use ::ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ::ureq::unversioned::transport::{
    Buffers, ConnectProxyConnector, ConnectionDetails, Connector, NextTimeout, RustlsConnector,
    TcpConnector,
};
use http::{Request, Response};

use super::config::wording::{self, MAX_HEADER_FIELDS, Malformed};
use super::config::{bounded, header_limit, native_roots};
use super::proxy::{ProxyRules, ProxyUrl, mark_proxy, wording as proxy_wording};
use super::security::SecurityCheck;
use crate::{
    Client, ConfigError, Endpoint, Transport, TransportConfig, TransportError, TransportErrorKind,
};

/// A blocking [`Transport`] over one pooled ureq agent. Cloning is cheap and
/// shares the pool.
///
/// Trust: the Mozilla roots (when [`TransportConfig::use_webpki_roots`]),
/// the system's (when [`TransportConfig::use_native_roots`]), plus every
/// extra root in [`TransportConfig::root_certificates`], as the
/// hyper transport does. ureq takes roots as whole DER certificates, so the
/// bundled roots come from `webpki-root-certs`, which carries them whole.
#[derive(Clone)]
pub struct UreqTransport {
    agent: ::ureq::Agent,
    config: TransportConfig,
    proxies: Arc<ProxyRules>,
    resolver: SharedResolver,
    security: Arc<SecurityCheck>,
}

impl fmt::Debug for UreqTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UreqTransport")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl UreqTransport {
    /// Builds the agent, reading the proxy variables now if the config says
    /// so. Fails if a root certificate is not a valid DER certificate, if
    /// the system store was asked for and yields nothing, or if no root of
    /// trust is left at all.
    pub fn new(config: TransportConfig) -> Result<Self, ConfigError> {
        let tls = TlsConfig::builder()
            .provider(TlsProvider::Rustls)
            .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .root_certs(root_certs(&config)?)
            .build();
        let config_built = ::ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            // Not ureq's own reading of the environment: the proxy, when one
            // is used, is set per request from the shared rules, after the
            // checks that keep the key off plain-http proxies.
            .proxy(None)
            .timeout_global(Some(bounded(config.timeout)))
            .timeout_connect(Some(bounded(config.connect_timeout)))
            .max_idle_age(config.pool_idle_timeout)
            // The crate's name on the proxy's `CONNECT` too (the requests
            // carry their own `User-Agent`).
            .user_agent(crate::USER_AGENT)
            // The same head limit as hyper's; the input buffer must be
            // larger than the limit for ureq to see a head go over it.
            .max_response_header_size(header_limit(&config))
            .input_buffer_size(
                header_limit(&config)
                    .saturating_add(8 * 1024)
                    .max(128 * 1024),
            )
            .tls_config(tls)
            .build();
        let resolver = SharedResolver::default();
        let agent = ::ureq::Agent::with_parts(config_built, connector(), resolver.clone());
        let proxies = Arc::new(ProxyRules::new(&config.proxy));
        Ok(UreqTransport {
            security: Arc::new(SecurityCheck::new(config.allow_insecure_http)),
            agent,
            config,
            proxies,
            resolver,
        })
    }

    /// The settings this transport was built with.
    pub fn config(&self) -> &TransportConfig {
        &self.config
    }
}

/// ureq's default chain (a proxy's `CONNECT`, TCP, rustls), with the
/// socket's deadlines made [`Coarse`] under TLS.
fn connector() -> impl Connector<()> {
    ().chain(ProxyAnswers(ConnectProxyConnector::default()))
        .chain(TcpConnector::default())
        .chain(CoarseDeadlines)
        .chain(RustlsConnector::default())
}

/// ureq's `CONNECT` step, with an answer that is not HTTP reported as the
/// proxy's failure: ureq reports it as a protocol error, which would read
/// as the API server's invalid HTTP. (Inside this step, a protocol error
/// can only come from the proxy's answer.)
#[derive(Debug)]
struct ProxyAnswers(ConnectProxyConnector);

impl<In: ::ureq::unversioned::transport::Transport> Connector<In> for ProxyAnswers {
    type Out = <ConnectProxyConnector as Connector<In>>::Out;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ::ureq::Error> {
        self.0.connect(details, chained).map_err(|e| match e {
            ::ureq::Error::Protocol(_) => {
                ::ureq::Error::ConnectProxyFailed("the proxy's answer is not HTTP".to_owned())
            }
            other => other,
        })
    }
}

/// How finely the deadline is passed to the socket.
const DEADLINE_STEP: Duration = Duration::from_millis(10);

/// Wraps each connection in [`Coarse`].
#[derive(Debug)]
struct CoarseDeadlines;

impl<In: ::ureq::unversioned::transport::Transport> Connector<In> for CoarseDeadlines {
    type Out = Coarse<In>;

    fn connect(
        &self,
        _: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ::ureq::Error> {
        Ok(chained.map(Coarse))
    }
}

/// A connection that hands ureq's deadlines on rounded up to
/// [`DEADLINE_STEP`]. With a whole-call timeout, ureq gives the socket the
/// time left before each write and read, and its TCP transport sets the
/// socket's timeout again whenever that differs from the last one: two
/// `setsockopt` calls on every get, about 4 % of a pooled get's CPU time.
/// Rounded up, the time left is the same for every write and read of a
/// call that takes less than a step (and for the next call), so the socket
/// is left alone; a deadline then fires at most one step late.
#[derive(Debug)]
struct Coarse<T>(T);

impl<T: ::ureq::unversioned::transport::Transport> ::ureq::unversioned::transport::Transport
    for Coarse<T>
{
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.0.buffers()
    }

    fn transmit_output(
        &mut self,
        amount: usize,
        timeout: NextTimeout,
    ) -> Result<(), ::ureq::Error> {
        self.0.transmit_output(amount, coarse(timeout))
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ::ureq::Error> {
        self.0.await_input(coarse(timeout))
    }

    fn is_open(&mut self) -> bool {
        self.0.is_open()
    }

    fn is_tls(&self) -> bool {
        self.0.is_tls()
    }
}

/// `timeout` with the time left rounded up to a whole [`DEADLINE_STEP`]
/// (zero stays zero: a deadline that has passed still ends the call).
fn coarse(mut timeout: NextTimeout) -> NextTimeout {
    use ::ureq::unversioned::transport::time::Duration as Left;
    if let Left::Exact(left) = timeout.after {
        let step = DEADLINE_STEP.as_nanos();
        let steps = left.as_nanos().div_ceil(step);
        let rounded = u64::try_from(steps * step).map_or(left, Duration::from_nanos);
        timeout.after = Left::Exact(rounded.max(left));
    }
    timeout
}

/// The roots ureq trusts: the bundled ones, the system's and the extra ones
/// together.
fn root_certs(config: &TransportConfig) -> Result<RootCerts, ConfigError> {
    let native = native_roots(config)?;
    if config.root_certificates.is_empty() && native.is_empty() {
        return if config.use_webpki_roots {
            Ok(RootCerts::WebPki)
        } else {
            Err(ConfigError::new(
                "root certificates",
                "are empty and the bundled roots are disabled: nothing could be trusted",
            ))
        };
    }
    // ureq silently skips certificates it cannot parse; check them first so
    // a bad certificate is a configuration error, not a TLS failure later.
    let mut check = rustls::RootCertStore::empty();
    for der in &config.root_certificates {
        check
            .add(rustls_pki_types::CertificateDer::from(der.as_slice()))
            .map_err(|e| ConfigError::new("root certificate", format!("is not usable: {e}")))?;
    }
    let bundled: &[rustls_pki_types::CertificateDer<'static>] = if config.use_webpki_roots {
        webpki_root_certs::TLS_SERVER_ROOT_CERTS
    } else {
        &[]
    };
    let certs: Vec<Certificate<'static>> = bundled
        .iter()
        .map(|c| c.as_ref())
        .chain(native.iter().map(|c| c.as_ref()))
        .chain(config.root_certificates.iter().map(Vec::as_slice))
        .map(|der| Certificate::from_der(der).to_owned())
        .collect();
    Ok(RootCerts::new_with_certs(&certs))
}

/// How long a resolved host name is reused.
const DNS_TTL: Duration = Duration::from_secs(30);

/// ureq resolves the host before it looks in its connection pool, and with a
/// request timeout set its resolver runs each lookup on a new thread: a
/// thread and a DNS query per call even when a pooled connection is ready
/// (docs/performance.md has what it costs). This resolver
/// answers IP literals directly and reuses a name's addresses for
/// [`DNS_TTL`], falling back to ureq's own resolver (with its timeout)
/// otherwise. A call that could not connect, or timed out, forgets the
/// addresses, so that the next call asks again (after a fail-over the old
/// address is not tried for the rest of the TTL).
#[derive(Debug, Default)]
struct CachingResolver {
    fallback: DefaultResolver,
    cache: Mutex<Option<(String, ResolvedSocketAddrs, Instant)>>,
}

impl CachingResolver {
    /// The host (without IPv6 brackets) and port a URI names.
    fn host_port(uri: &http::Uri) -> (&str, u16) {
        let host = uri.host().unwrap_or("");
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let port = uri.port_u16().unwrap_or(match uri.scheme_str() {
            Some("http") => 80,
            _ => 443,
        });
        (host, port)
    }

    /// The addresses remembered for `key`, if still fresh at `now`.
    fn cached(&self, key: &str, now: Instant) -> Option<ResolvedSocketAddrs> {
        let cache = self.cache.lock().ok()?;
        let (cached, addrs, at) = cache.as_ref()?;
        (cached == key && now.saturating_duration_since(*at) < DNS_TTL).then(|| addrs.clone())
    }

    /// Remembers `addrs` for `key` from `now` (one name: a client talks to
    /// one API host).
    fn remember(&self, key: String, addrs: &ResolvedSocketAddrs, now: Instant) {
        if let Ok(mut cache) = self.cache.lock() {
            *cache = Some((key, addrs.clone(), now));
        }
    }

    /// Forgets the remembered addresses.
    fn forget(&self) {
        if let Ok(mut cache) = self.cache.lock() {
            *cache = None;
        }
    }
}

/// The [`CachingResolver`] shared by the agent and the transport (which
/// tells it to forget after a failure).
#[derive(Debug, Default, Clone)]
struct SharedResolver(Arc<CachingResolver>);

impl Resolver for SharedResolver {
    fn resolve(
        &self,
        uri: &http::Uri,
        config: &::ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ::ureq::Error> {
        self.0.resolve(uri, config, timeout)
    }
}

impl Resolver for CachingResolver {
    fn resolve(
        &self,
        uri: &http::Uri,
        config: &::ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ::ureq::Error> {
        let (host, port) = Self::host_port(uri);
        if let Ok(ip) = host.parse::<IpAddr>() {
            let mut addrs = self.empty();
            addrs.push(SocketAddr::new(ip, port));
            return Ok(addrs);
        }
        let key = format!("{host}:{port}");
        let now = Instant::now();
        if let Some(addrs) = self.cached(&key, now) {
            return Ok(addrs);
        }
        let addrs = self.fallback.resolve(uri, config, timeout)?;
        self.remember(key, &addrs, now);
        Ok(addrs)
    }
}

impl Transport for UreqTransport {
    fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        self.security.check(request.uri())?;
        let through = self
            .proxies
            .route(request.uri(), self.config.allow_insecure_http)?;
        let result = mark_proxy(self.exchange(request, through), through);
        if let Err(error) = &result {
            if matches!(
                error.kind(),
                TransportErrorKind::Connect
                    | TransportErrorKind::ConnectTimeout
                    | TransportErrorKind::Timeout
            ) {
                self.resolver.0.forget();
            }
        }
        result
    }
}

impl UreqTransport {
    fn exchange(
        &self,
        request: Request<Vec<u8>>,
        through: Option<&ProxyUrl>,
    ) -> Result<Response<Vec<u8>>, TransportError> {
        let proxy = through.map(ureq_proxy).transpose()?;
        let (parts, body) = request.into_parts();
        // An empty body is sent as no body at all (no `Content-Length: 0` on
        // a GET).
        let response = if body.is_empty() {
            self.run(Request::from_parts(parts, ()), proxy)
        } else {
            self.run(Request::from_parts(parts, body), proxy)
        }
        .map_err(|e| self.request_failure(e, through))?;
        // hyper's parser holds a response to this many fields; so do we.
        if response.headers().len() > MAX_HEADER_FIELDS {
            return Err(wording::headers_too_large(header_limit(&self.config)));
        }
        let limit = self.config.max_body_bytes;
        let announced = announced_length(response.headers());
        if announced.is_some_and(|n| n > limit) {
            return Err(wording::too_large(limit));
        }
        let (mut parts, mut body) = response.into_parts();
        // The limit is ours (counted below), so that the message is the
        // same as the async transport's.
        let mut reader = body.with_config().limit(u64::MAX).reader();
        // Read straight into the body (no staging buffer to clear and copy
        // from), sized from the announced length, which is within the limit
        // (at most 256 KiB before any byte arrives). One byte past the limit
        // is enough to know the body is too large.
        const FIRST_RESERVE: u64 = 256 * 1024;
        let mut bytes = Vec::with_capacity(announced.unwrap_or(0).min(FIRST_RESERVE) as usize);
        // `read_to_end` retries on `Interrupted` and keeps what it read
        // before an error.
        if let Err(e) = (&mut reader)
            .take(limit.saturating_add(1))
            .read_to_end(&mut bytes)
        {
            let error = self.failure(::ureq::Error::from(e));
            return Err(match error.kind() {
                // After the headers, a broken or closed connection is a
                // body cut short.
                TransportErrorKind::Io | TransportErrorKind::Connect => {
                    let source = error;
                    wording::truncated(bytes.len() as u64, announced).with_source(source)
                }
                _ => error,
            });
        }
        if bytes.len() as u64 > limit {
            return Err(wording::too_large(limit));
        }
        // ureq's own bookkeeping is of no use to the core.
        parts.extensions = http::Extensions::new();
        Ok(Response::from_parts(parts, bytes))
    }

    /// A failure before the response's headers arrived, through `proxy` if
    /// one was used: a refused `CONNECT`, and a connection that could not
    /// be made, name the proxy.
    fn request_failure(&self, error: ::ureq::Error, proxy: Option<&ProxyUrl>) -> TransportError {
        let Some(proxy) = proxy else {
            return self.failure(error);
        };
        if let ::ureq::Error::ConnectProxyFailed(reason) = &error {
            // ureq says "proxy server responded 407/407" (the status twice,
            // no reason) or "proxy server did not respond".
            let status = reason
                .strip_prefix("proxy server responded ")
                .and_then(|rest| rest.split('/').next())
                .and_then(|code| code.parse::<u16>().ok());
            let words = match status {
                Some(status) => proxy_wording::refused(proxy, status),
                None if reason.contains("did not respond") => proxy_wording::closed(proxy),
                None => proxy_wording::not_http(proxy),
            };
            return words.with_source(error);
        }
        let failure = self.failure(error);
        match failure.kind() {
            TransportErrorKind::Connect | TransportErrorKind::ConnectTimeout => {
                proxy_wording::through(proxy, failure)
            }
            _ => failure,
        }
    }

    /// A ureq error in the words the async transport uses too.
    fn failure(&self, error: ::ureq::Error) -> TransportError {
        use ::ureq::Error as E;
        use ::ureq::Timeout as T;
        let described = match &error {
            E::Timeout(T::Resolve | T::Connect) => {
                wording::no_connection_within(bounded(self.config.connect_timeout))
            }
            E::Timeout(_) => wording::no_response_within(bounded(self.config.timeout)),
            E::HostNotFound => wording::host_not_found(),
            E::ConnectionFailed => wording::connect_failure(&io::Error::other("")),
            E::Io(io) => match io_kind(io) {
                TransportErrorKind::Tls => match io
                    .get_ref()
                    .and_then(|inner| inner.downcast_ref::<rustls::Error>())
                {
                    Some(tls) => wording::tls(tls),
                    None => TransportError::new(TransportErrorKind::Tls, io.to_string()),
                },
                TransportErrorKind::Connect => wording::connect_failure(io),
                TransportErrorKind::Timeout => {
                    wording::no_response_within(bounded(self.config.timeout))
                }
                _ => wording::broken(io),
            },
            E::Rustls(tls) => wording::tls(tls),
            E::Tls(text) => TransportError::new(TransportErrorKind::Tls, *text),
            E::BodyExceedsLimit(_) => wording::too_large(self.config.max_body_bytes),
            E::Protocol(p) => malformed(p, header_limit(&self.config)),
            E::LargeResponseHeader(..) => wording::headers_too_large(header_limit(&self.config)),
            _ => TransportError::new(map_kind(&error), error.to_string()),
        };
        described.with_source(error)
    }
}

impl UreqTransport {
    /// Runs `request` directly, or through `proxy`.
    fn run<B: ::ureq::AsSendBody>(
        &self,
        request: Request<B>,
        proxy: Option<::ureq::Proxy>,
    ) -> Result<Response<::ureq::Body>, ::ureq::Error> {
        match proxy {
            None => self.agent.run(request),
            Some(proxy) => {
                let request = self
                    .agent
                    .configure_request(request)
                    .proxy(Some(proxy))
                    .build();
                self.agent.run(request)
            }
        }
    }
}

/// A response ureq's parser refused, in the words hyper's refusals are
/// given too. ureq's protocol errors are read by their variant's name (the
/// type is ureq-proto's, which ureq does not re-export).
fn malformed(error: &impl fmt::Debug, header_limit: usize) -> TransportError {
    let debug = format!("{error:?}");
    let variant = debug.split('(').next().unwrap_or("");
    if variant == "HttpParseTooManyHeaders" {
        // Not a malformed answer: over hyper's count, which we share.
        return wording::headers_too_large(header_limit);
    }
    let what = match variant {
        // httparse's own words, inside ureq-proto's.
        "HttpParseFail" if debug.contains("version") => Malformed::NotHttp,
        "HttpParseFail" if debug.contains("status") => Malformed::StatusLine,
        "HttpParseFail" | "BadHeader" => Malformed::HeaderLine,
        "ChunkLenNotAscii" | "ChunkLenNotANumber" => Malformed::ChunkSize,
        "ChunkExpectedCrLf" => Malformed::Chunked,
        "BadContentLengthHeader" | "TooManyContentLengthHeaders" => Malformed::ContentLength,
        _ => Malformed::Other,
    };
    wording::malformed(what)
}

/// ureq's form of a proxy the shared rules chose. Never fails for a parsed
/// [`ProxyUrl`]; the error names only host and port.
fn ureq_proxy(proxy: &ProxyUrl) -> Result<::ureq::Proxy, TransportError> {
    let mut builder = ::ureq::Proxy::builder(::ureq::ProxyProtocol::Http)
        .host(proxy.host())
        .port(proxy.port());
    if let Some((user, password)) = proxy.credentials() {
        builder = builder.username(user).password(password);
    }
    builder.build().map_err(|_| {
        TransportError::new(
            TransportErrorKind::Refused,
            format!("the proxy {proxy} is not usable by ureq"),
        )
    })
}

/// The `Content-Length` a response announced, when it is one number.
fn announced_length(headers: &http::HeaderMap) -> Option<u64> {
    let mut values = headers.get_all(http::header::CONTENT_LENGTH).iter();
    let first = values.next()?.to_str().ok()?.trim().parse().ok()?;
    values.next().is_none().then_some(first)
}

/// The kind of a ureq error, by variant.
fn map_kind(error: &::ureq::Error) -> TransportErrorKind {
    use ::ureq::Error as E;
    match error {
        E::Timeout(_) => TransportErrorKind::Timeout,
        E::HostNotFound | E::ConnectionFailed | E::ConnectProxyFailed(_) => {
            TransportErrorKind::Connect
        }
        E::Io(io) => io_kind(io),
        E::Tls(_) | E::Pem(_) | E::Rustls(_) | E::TlsRequired => TransportErrorKind::Tls,
        E::BodyExceedsLimit(_) => TransportErrorKind::BodyTooLarge,
        E::Protocol(_) | E::LargeResponseHeader(..) => TransportErrorKind::Protocol,
        E::RequireHttpsOnly(_) => TransportErrorKind::Refused,
        _ => TransportErrorKind::Other,
    }
}

/// The kind of an I/O error: the connection could not be made, timed out,
/// failed TLS, or broke.
fn io_kind(error: &io::Error) -> TransportErrorKind {
    if error
        .get_ref()
        .is_some_and(|inner| inner.is::<rustls::Error>())
    {
        return TransportErrorKind::Tls;
    }
    match error.kind() {
        io::ErrorKind::ConnectionRefused
        | io::ErrorKind::HostUnreachable
        | io::ErrorKind::NetworkUnreachable
        | io::ErrorKind::NetworkDown
        | io::ErrorKind::AddrNotAvailable => TransportErrorKind::Connect,
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => TransportErrorKind::Timeout,
        _ => TransportErrorKind::Io,
    }
}

impl Client<UreqTransport> {
    /// A blocking client for `endpoint` over ureq with the default
    /// [`TransportConfig`].
    pub fn ureq(endpoint: Endpoint) -> Result<Self, ConfigError> {
        Client::ureq_with(endpoint, TransportConfig::default())
    }

    /// A blocking client for `endpoint` over ureq with `config`.
    pub fn ureq_with(endpoint: Endpoint, config: TransportConfig) -> Result<Self, ConfigError> {
        Ok(Client::new(endpoint, UreqTransport::new(config)?))
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    #[test]
    fn the_resolver_reads_hosts_and_keeps_names_for_its_ttl() {
        let uri = |s: &str| s.parse::<http::Uri>().unwrap();
        assert_eq!(
            CachingResolver::host_port(&uri("http://[::1]/x")),
            ("::1", 80)
        );
        assert_eq!(
            CachingResolver::host_port(&uri("https://h.example/x")),
            ("h.example", 443)
        );
        assert_eq!(
            CachingResolver::host_port(&uri("https://h:8443/")),
            ("h", 8443)
        );

        let resolver = CachingResolver::default();
        let mut addrs = resolver.empty();
        addrs.push("192.0.2.7:443".parse().unwrap());
        let then = Instant::now();
        assert!(resolver.cached("h.example:443", then).is_none());
        resolver.remember("h.example:443".to_owned(), &addrs, then);
        let hit = resolver
            .cached("h.example:443", then + DNS_TTL / 2)
            .unwrap();
        assert!(hit == addrs);
        assert!(resolver.cached("other.example:443", then).is_none());
        assert!(resolver.cached("h.example:443", then + DNS_TTL).is_none());
    }

    fn get(uri: &str) -> Request<Vec<u8>> {
        Request::get(uri)
            .header(crate::API_KEY_HEADER, "canary-SECRET-4242")
            .body(Vec::new())
            .unwrap()
    }

    #[test]
    fn plain_http_to_a_remote_host_is_refused_before_connecting() {
        // 10.255.255.1 is unroutable: a connection attempt would hang until
        // the connect timeout, so a fast answer proves none was made.
        let config = TransportConfig::default().connect_timeout(Duration::from_secs(20));
        let transport = UreqTransport::new(config).unwrap();
        let started = Instant::now();
        let error = transport.send(get("http://10.255.255.1/")).unwrap_err();
        assert_eq!(error.kind(), TransportErrorKind::Refused);
        assert!(started.elapsed() < Duration::from_secs(1));
        assert!(!format!("{error:?} {error}").contains("SECRET"));
    }

    #[test]
    fn an_unsupported_scheme_is_refused() {
        let transport = UreqTransport::new(TransportConfig::default()).unwrap();
        let error = transport.send(get("ftp://example.com/")).unwrap_err();
        assert_eq!(error.kind(), TransportErrorKind::Refused);
    }

    #[test]
    fn the_config_is_kept() {
        let config = TransportConfig::default()
            .timeout(Duration::from_millis(1500))
            .max_body_bytes(42);
        let transport = UreqTransport::new(config).unwrap();
        assert_eq!(transport.config().timeout, Duration::from_millis(1500));
        assert_eq!(transport.config().max_body_bytes, 42);
        let config = transport.agent.config();
        assert!(!config.http_status_as_error());
        assert_eq!(config.max_redirects(), 0);
        assert_eq!(config.timeouts().global, Some(Duration::from_millis(1500)));
    }

    #[test]
    fn a_bad_root_certificate_is_a_config_error() {
        let config = TransportConfig::default().add_root_certificate_der(b"not DER".to_vec());
        let error = UreqTransport::new(config).unwrap_err();
        assert_eq!(error.setting(), "root certificate");
    }

    #[test]
    fn no_roots_at_all_is_a_config_error() {
        let config = TransportConfig {
            use_webpki_roots: false,
            ..TransportConfig::default()
        };
        assert!(UreqTransport::new(config).is_err());
    }

    #[test]
    fn a_refused_connection_is_a_connect_error() {
        // Bind and drop a listener so the port is (almost surely) closed.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let transport = UreqTransport::new(TransportConfig::default()).unwrap();
        let error = transport
            .send(get(&format!("http://127.0.0.1:{port}/")))
            .unwrap_err();
        assert_eq!(error.kind(), TransportErrorKind::Connect, "{error:?}");
    }

    #[test]
    fn a_failed_connect_forgets_the_cached_address() {
        // A live server on `localhost` fills the cache…
        let live = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = live.local_addr().unwrap().port();
        let key = format!("localhost:{port}");
        let answer = std::thread::spawn(move || {
            use std::io::{Read, Write};
            let (mut stream, _) = live.accept().unwrap();
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
            // The listener is dropped here: the port is closed from now on.
        });
        let transport = UreqTransport::new(TransportConfig::default()).unwrap();
        let url = format!("http://localhost:{port}/");
        assert_eq!(transport.send(get(&url)).unwrap().status(), 204);
        answer.join().unwrap();
        assert!(transport.resolver.0.cached(&key, Instant::now()).is_some());
        // …and a call that cannot connect to the cached address empties it,
        // so that the next call resolves the name again.
        let error = transport.send(get(&url)).unwrap_err();
        assert_eq!(error.kind(), TransportErrorKind::Connect, "{error:?}");
        assert!(transport.resolver.0.cached(&key, Instant::now()).is_none());
    }

    #[test]
    fn deadlines_are_rounded_up_to_a_step() {
        use ::ureq::unversioned::transport::time::Duration as Left;
        let left = |after| {
            coarse(NextTimeout {
                after,
                ..NextTimeout::default()
            })
            .after
        };
        let ms = |n| Left::Exact(Duration::from_millis(n));
        assert_eq!(left(ms(0)), ms(0));
        assert_eq!(left(Left::Exact(Duration::from_micros(1))), ms(10));
        assert_eq!(
            left(Left::Exact(Duration::from_micros(29_999_990))),
            ms(30_000)
        );
        assert_eq!(left(ms(30_000)), ms(30_000));
        assert_eq!(
            left(Left::Exact(Duration::from_micros(30_000_001))),
            ms(30_010)
        );
        assert_eq!(left(Left::NotHappening), Left::NotHappening);
    }

    #[test]
    fn io_errors_map_by_kind() {
        let kind = |k| io_kind(&io::Error::from(k));
        assert_eq!(
            kind(io::ErrorKind::ConnectionRefused),
            TransportErrorKind::Connect
        );
        assert_eq!(kind(io::ErrorKind::TimedOut), TransportErrorKind::Timeout);
        assert_eq!(kind(io::ErrorKind::ConnectionReset), TransportErrorKind::Io);
        assert_eq!(kind(io::ErrorKind::UnexpectedEof), TransportErrorKind::Io);
        let tls = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        assert_eq!(io_kind(&tls), TransportErrorKind::Tls);
    }
}
