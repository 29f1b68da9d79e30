//! The async transport: [hyper](https://docs.rs/hyper) 1 through the
//! hyper-util pooled client, on tokio, with rustls (ring) via hyper-rustls.
//!
//! - One pooled client per [`HyperTransport`]; clones share it. HTTP/1.1
//!   carries one request per connection at a time, so at most
//!   [`TransportConfig::max_in_flight`] requests (default
//!   [`DEFAULT_MAX_IN_FLIGHT`]) are sent at once and the rest wait their
//!   turn: many concurrent calls then share a few pooled connections instead
//!   of opening one each. The wait for a turn counts against the request
//!   timeout. Idle connections are dropped after
//!   [`TransportConfig::pool_idle_timeout`].
//! - URIs are absolute (the core builds them so); plain `http://` is refused
//!   before connecting unless the host is loopback or it was allowed.
//! - The whole call, the wait for a turn and the response body included,
//!   has one deadline; the connect step has its own, shorter limit.
//! - The body is read frame by frame and counted, so an oversized or endless
//!   body fails with [`TransportErrorKind::BodyTooLarge`] without buffering
//!   the rest, and a body cut short says how much of it came.
//! - TLS is rustls with the `ring` provider chosen explicitly (an unset
//!   process default would panic at run time), trusting the Mozilla roots of
//!   `webpki-roots`, the system's roots when asked, and any extra roots given.
//! - Proxies follow [`TransportConfig::proxy`] (the environment by default,
//!   read as curl does): a proxied connection is a `CONNECT` tunnel made by
//!   hyper-util's [`Tunnel`], with TLS to the API inside it.
//!
//! ```no_run
//! use coxedge_images::transports::hyper::HyperClient;
//! use coxedge_images::{ApiKey, Endpoint, ListOptions};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let endpoint = Endpoint::builder()
//!     .service("edge-services")
//!     .environment("test-area")
//!     .api_key(ApiKey::new("my-key")?)
//!     .build()?;
//! let client = HyperClient::hyper(endpoint)?;
//! let list = client.list_images(&ListOptions::new()).await?;
//! println!("{} images", list.images.len());
//! # Ok(())
//! # }
//! ```

use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ::hyper::body::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client as PooledClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tokio::sync::{Semaphore, TryAcquireError};

use super::config::{bounded, native_roots, wording};
use super::proxy::ProxyRules;
use super::{AsyncClient, AsyncSleep, AsyncTransport, TransportConfig};
use crate::{ConfigError, Endpoint, TransportError, TransportErrorKind};

/// How many requests one [`HyperTransport`] (and its clones) sends at once
/// unless told otherwise: [`TransportConfig::DEFAULT_MAX_IN_FLIGHT`].
pub const DEFAULT_MAX_IN_FLIGHT: usize = TransportConfig::DEFAULT_MAX_IN_FLIGHT;

/// An async [`AsyncTransport`] over one pooled hyper client. Cheap to clone;
/// clones share the connection pool and the in-flight limit. Needs a tokio
/// runtime to send.
#[derive(Clone)]
pub struct HyperTransport {
    client: PooledClient<HttpsConnector<ProxyConnector>, Full<Bytes>>,
    config: Arc<TransportConfig>,
    proxies: Arc<ProxyRules>,
    in_flight: Arc<Turns>,
}

impl fmt::Debug for HyperTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HyperTransport")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// An async client over hyper, sleeping with tokio.
pub type HyperClient = AsyncClient<HyperTransport, TokioSleep>;

impl HyperTransport {
    /// Builds the TLS settings and the pooled client, reading the proxy
    /// variables now if the config says so. Fails if a root certificate is
    /// not a valid DER certificate, if the system store was asked for and
    /// yields nothing, or if no root of trust is left at all. Needs no
    /// runtime until the first request.
    pub fn new(config: TransportConfig) -> Result<Self, ConfigError> {
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| ConfigError::owned("TLS", format!("cannot be set up: {e}")))?
        .with_root_certificates(root_store(&config)?)
        .with_no_client_auth();

        let mut http = HttpConnector::new();
        // `https://` URIs reach the TLS wrapper through this connector.
        http.enforce_http(false);
        http.set_connect_timeout(Some(bounded(config.connect_timeout)));
        let proxies = Arc::new(ProxyRules::new(&config.proxy));
        let connector = HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(ProxyConnector {
                http,
                proxies: proxies.clone(),
                connect_timeout: bounded(config.connect_timeout),
            });
        let client = PooledClient::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(config.pool_idle_timeout)
            .build(connector);
        Ok(HyperTransport {
            client,
            in_flight: Arc::new(Turns::new(config.max_in_flight)),
            config: Arc::new(config),
            proxies,
        })
    }

    /// Sends at most `limit` requests at once (at least 1), as
    /// [`TransportConfig::max_in_flight`] does; the others wait for a turn,
    /// within their timeout. This bounds the connections opened to the API.
    /// Clones made after this call share the new limit.
    pub fn max_in_flight(mut self, limit: usize) -> Self {
        let config = TransportConfig::clone(&self.config).max_in_flight(limit);
        self.in_flight = Arc::new(Turns::new(config.max_in_flight));
        self.config = Arc::new(config);
        self
    }

    /// The settings this transport was built with.
    pub fn config(&self) -> &TransportConfig {
        &self.config
    }

    async fn exchange(
        &self,
        request: Request<Vec<u8>>,
    ) -> Result<Response<Vec<u8>>, TransportError> {
        let response = self
            .client
            .request(request.map(|body| Full::new(Bytes::from(body))))
            .await
            .map_err(|e| self.request_failure(e))?;
        let limit = self.config.max_body_bytes;
        let (mut parts, mut body) = response.into_parts();
        // The `Content-Length` hyper has already read and checked (it
        // refuses conflicting ones), when the response has one.
        let announced = ::hyper::body::Body::size_hint(&body).exact();
        if announced.is_some_and(|n| n > limit) {
            return Err(wording::too_large(limit));
        }
        // Room for the announced body up front (it is within the limit), but
        // no more than a modest amount before any of it has arrived.
        const FIRST_RESERVE: u64 = 256 * 1024;
        let mut bytes = Vec::with_capacity(announced.unwrap_or(0).min(FIRST_RESERVE) as usize);
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| body_failure(e, bytes.len() as u64, announced))?;
            if let Ok(data) = frame.into_data() {
                if (bytes.len() + data.len()) as u64 > limit {
                    return Err(wording::too_large(limit));
                }
                bytes.extend_from_slice(&data);
            }
        }
        // hyper's own bookkeeping is of no use to the core.
        parts.extensions = http::Extensions::new();
        Ok(Response::from_parts(parts, bytes))
    }

    /// A failure before the response's headers arrived, in the words the
    /// blocking transport uses too.
    fn request_failure(&self, error: hyper_util::client::legacy::Error) -> TransportError {
        let connecting = error.is_connect();
        let fallback = if connecting {
            TransportErrorKind::Connect
        } else {
            TransportErrorKind::Other
        };
        let kind = kind_of(&error, fallback);
        let described = match kind {
            TransportErrorKind::Tls => find::<rustls::Error>(&error).map(wording::tls),
            TransportErrorKind::Timeout if connecting => Some(wording::no_connection_within(
                bounded(self.config.connect_timeout),
            )),
            TransportErrorKind::Timeout => {
                Some(wording::no_response_within(bounded(self.config.timeout)))
            }
            // A failed lookup is hyper-util's "dns error" (whose cause is
            // the resolver's I/O error): found first, so it reads as on ureq.
            TransportErrorKind::Connect
                if connecting && causes(&error).any(|e| e.to_string() == "dns error") =>
            {
                Some(wording::host_not_found())
            }
            TransportErrorKind::Connect if connecting => Some(match find::<io::Error>(&error) {
                Some(io) => wording::connect_failure(io),
                None => wording::connect_failure(&io::Error::other("")),
            }),
            TransportErrorKind::Connect | TransportErrorKind::Io => {
                Some(match find::<io::Error>(&error) {
                    Some(io) if io.kind() == io::ErrorKind::ConnectionRefused => {
                        wording::connect_failure(io)
                    }
                    Some(io) => wording::broken(io),
                    None => wording::closed_before_answering(),
                })
            }
            _ => None,
        };
        match described {
            Some(described) => described.with_source(error),
            None => transport_error(kind, error),
        }
    }
}

/// The turns to send: the in-flight limit, and how many calls are waiting
/// for a turn.
struct Turns {
    semaphore: Semaphore,
    waiting: AtomicUsize,
}

impl Turns {
    fn new(limit: usize) -> Self {
        Turns {
            semaphore: Semaphore::new(limit.clamp(1, Semaphore::MAX_PERMITS)),
            waiting: AtomicUsize::new(0),
        }
    }
}

/// One call counted as waiting for a turn while this lives (however its
/// wait ends: a turn, the timeout, or the call dropped).
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn count(waiting: &'a AtomicUsize) -> Self {
        waiting.fetch_add(1, Ordering::Relaxed);
        Waiting(waiting)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A failure while the body was read, after `received` bytes: invalid
/// framing is a protocol error, a broken or closed connection a body cut
/// short.
fn body_failure(error: ::hyper::Error, received: u64, announced: Option<u64>) -> TransportError {
    match kind_of(&error, TransportErrorKind::Io) {
        TransportErrorKind::Io | TransportErrorKind::Connect => {
            wording::truncated(received, announced).with_source(error)
        }
        kind => transport_error(kind, error),
    }
}

/// The first cause of type `T` in the chain.
fn find<'a, T: StdError + 'static>(error: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    causes(error).find_map(|e| e.downcast_ref::<T>())
}

impl AsyncTransport for HyperTransport {
    async fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        super::security::check_request_security(request.uri(), self.config.allow_insecure_http)?;
        self.proxies
            .route(request.uri(), self.config.allow_insecure_http)?;
        // One deadline, and one timer, for the whole call: a call that waits
        // for its turn has that much less time to get its answer.
        let timeout = bounded(self.config.timeout);
        let deadline = tokio::time::Instant::now() + timeout;
        let mut queued = true;
        let call = async {
            let turns = &*self.in_flight;
            let _turn = match turns.semaphore.try_acquire() {
                Ok(turn) => turn,
                Err(TryAcquireError::NoPermits) => {
                    let _waiting = Waiting::count(&turns.waiting);
                    let turn = turns.semaphore.acquire().await.map_err(|_| shut_down())?;
                    // A turn that came only as the deadline passed (freed by
                    // calls timing out at the same moment) is no turn: the
                    // request is not sent, and the call says it waited.
                    if tokio::time::Instant::now() >= deadline {
                        return Err(wording::no_turn_within(timeout, self.config.max_in_flight));
                    }
                    turn
                }
                // The semaphore is never closed.
                Err(TryAcquireError::Closed) => return Err(shut_down()),
            };
            queued = false;
            let result = self.exchange(request).await;
            // hyper-util hands a connection back to its pool from a task of
            // its own once the connection has finished the response. When a
            // call is waiting for a turn, ours may be the one it gets: let
            // that task run first, so the waiter finds the connection idle
            // instead of opening another. (A connection whose response
            // arrived in one read is back already; with nobody waiting there
            // is no pause.)
            if turns.waiting.load(Ordering::Relaxed) > 0 {
                tokio::task::yield_now().await;
            }
            result
        };
        let outcome = tokio::time::timeout_at(deadline, call).await;
        match outcome {
            Ok(result) => result,
            Err(_) if queued => Err(wording::no_turn_within(timeout, self.config.max_in_flight)),
            Err(_) => Err(wording::no_response_within(timeout)),
        }
    }
}

/// The in-flight semaphore was closed (it never is).
fn shut_down() -> TransportError {
    TransportError::new(TransportErrorKind::Other, "the transport was shut down")
}

/// The roots hyper trusts: the bundled Mozilla roots (if enabled) and every
/// extra root given.
fn root_store(config: &TransportConfig) -> Result<rustls::RootCertStore, ConfigError> {
    let mut roots = rustls::RootCertStore::empty();
    if config.use_webpki_roots {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    // A system store may hold a certificate rustls cannot use; skip it
    // rather than refuse the whole store.
    roots.add_parsable_certificates(native_roots(config)?);
    for der in &config.root_certificates {
        roots
            .add(rustls_pki_types::CertificateDer::from(der.as_slice()))
            .map_err(|e| ConfigError::owned("root certificate", format!("is not usable: {e}")))?;
    }
    if roots.is_empty() {
        return Err(ConfigError::new(
            "root certificates",
            "are empty and the bundled roots are disabled: nothing could be trusted",
        ));
    }
    Ok(roots)
}

/// The connector under TLS: a direct TCP connection, or a `CONNECT` tunnel
/// through the proxy [`ProxyRules`] chooses for the destination (the same
/// choice the ureq transport makes).
#[derive(Clone)]
struct ProxyConnector {
    http: HttpConnector,
    proxies: Arc<ProxyRules>,
    /// Bounds the tunnel's `CONNECT` exchange too (the TCP connect to the
    /// proxy is bounded by the `HttpConnector`), as ureq's connect timeout
    /// does: a silent proxy is a connect timeout, not "may have reached".
    connect_timeout: Duration,
}

type Connecting = std::pin::Pin<
    Box<
        dyn Future<
                Output = Result<
                    hyper_util::rt::TokioIo<tokio::net::TcpStream>,
                    Box<dyn StdError + Send + Sync>,
                >,
            > + Send,
    >,
>;

impl tower_service::Service<http::Uri> for ProxyConnector {
    type Response = hyper_util::rt::TokioIo<tokio::net::TcpStream>;
    type Error = Box<dyn StdError + Send + Sync>;
    type Future = Connecting;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.http.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, dst: http::Uri) -> Self::Future {
        let proxy = match self.proxies.select(&dst) {
            Ok(proxy) => proxy.cloned(),
            Err(e) => return Box::pin(async move { Err(e.into()) }),
        };
        let Some(proxy) = proxy else {
            let connecting = self.http.call(dst);
            return Box::pin(async move { connecting.await.map_err(Into::into) });
        };
        let mut tunnel = Tunnel::new(proxy.uri(), self.http.clone());
        if let Some(auth) = proxy.basic_authorization() {
            tunnel = tunnel.with_auth(auth);
        }
        // The tunnel would ask for port 443 when the URI names none.
        let dst = with_port(dst);
        let connecting = tokio::time::timeout(self.connect_timeout, tunnel.call(dst));
        Box::pin(async move {
            let failed = |source: Box<dyn StdError + Send + Sync>| {
                Box::new(ProxyFailed {
                    proxy: proxy.to_string(),
                    source,
                })
                .into()
            };
            match connecting.await {
                Ok(tunnelled) => tunnelled.map_err(|e| failed(e.into())),
                Err(_) => Err(failed(Box::new(io::Error::from(io::ErrorKind::TimedOut)))),
            }
        })
    }
}

/// `dst` with its scheme's default port written out.
fn with_port(dst: http::Uri) -> http::Uri {
    if dst.port().is_some() {
        return dst;
    }
    let port = if dst.scheme_str() == Some("http") {
        80
    } else {
        443
    };
    let Some(host) = dst.host() else { return dst };
    let authority = format!("{host}:{port}");
    let mut parts = dst.clone().into_parts();
    match authority.parse() {
        Ok(authority) => {
            parts.authority = Some(authority);
            http::Uri::from_parts(parts).unwrap_or(dst)
        }
        Err(_) => dst,
    }
}

/// A tunnel through a proxy could not be made. Names the proxy by host and
/// port only (never its credentials).
#[derive(Debug)]
struct ProxyFailed {
    proxy: String,
    source: Box<dyn StdError + Send + Sync>,
}

impl fmt::Display for ProxyFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "through the proxy {}", self.proxy)
    }
}

impl StdError for ProxyFailed {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&*self.source)
    }
}

/// The chain of causes, looking inside `io::Error`s too (whose `source()`
/// skips the error they wrap).
fn causes<'a>(
    error: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(error), |&e| match e.downcast_ref::<io::Error>() {
        Some(io) => io.get_ref().map(|inner| inner as &(dyn StdError + 'static)),
        None => e.source(),
    })
}

/// Classifies a hyper / hyper-util / rustls / io failure by the types in its
/// cause chain; `fallback` when nothing more specific is found.
fn kind_of(error: &(dyn StdError + 'static), fallback: TransportErrorKind) -> TransportErrorKind {
    use TransportErrorKind as K;
    // Decisive causes first, wherever they are in the chain.
    for e in causes(error) {
        if e.is::<rustls::Error>() {
            return K::Tls;
        }
        if e.downcast_ref::<::hyper::Error>()
            .is_some_and(::hyper::Error::is_timeout)
            || e.downcast_ref::<io::Error>()
                .is_some_and(|io| io.kind() == io::ErrorKind::TimedOut)
        {
            return K::Timeout;
        }
    }
    if fallback == K::Connect {
        return K::Connect;
    }
    for e in causes(error) {
        if let Some(hyper) = e.downcast_ref::<::hyper::Error>() {
            if hyper.is_parse() {
                return K::Protocol;
            }
            if hyper.is_incomplete_message()
                || hyper.is_closed()
                || hyper.is_canceled()
                || hyper.is_body_write_aborted()
            {
                return K::Io;
            }
        }
        if let Some(io) = e.downcast_ref::<io::Error>() {
            return match io.kind() {
                io::ErrorKind::ConnectionRefused => K::Connect,
                // hyper's h1 decoder reports invalid framing (a chunk size
                // that is not hex, an over-long chunk line) as InvalidInput.
                io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput => K::Protocol,
                _ => K::Io,
            };
        }
    }
    fallback
}

/// A [`TransportError`] whose message is the chain of causes, each said once.
fn transport_error(
    kind: TransportErrorKind,
    error: impl Into<Box<dyn StdError + Send + Sync>>,
) -> TransportError {
    let error = error.into();
    let mut parts: Vec<String> = Vec::new();
    // The pooled client's own layer only names its internals
    // ("client error (SendRequest)"); its cause says what happened.
    for e in causes(&*error).filter(|e| !e.is::<hyper_util::client::legacy::Error>()) {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
    }
    TransportError::new(kind, parts.join(": ")).with_source(error)
}

/// Sleeps with `tokio::time::sleep`: the [`AsyncSleep`] for tokio runtimes.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioSleep;

impl AsyncSleep for TokioSleep {
    // An `async fn`, so the timer is made on first poll, inside the runtime:
    // the future can be created anywhere.
    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

impl AsyncClient<HyperTransport, TokioSleep> {
    /// An async client for `endpoint` over hyper with the default
    /// [`TransportConfig`].
    pub fn hyper(endpoint: Endpoint) -> Result<Self, ConfigError> {
        AsyncClient::hyper_with(endpoint, TransportConfig::default())
    }

    /// An async client for `endpoint` over hyper with `config`.
    pub fn hyper_with(endpoint: Endpoint, config: TransportConfig) -> Result<Self, ConfigError> {
        Ok(AsyncClient::new(
            endpoint,
            HyperTransport::new(config)?,
            TokioSleep,
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::{ImageId, ListOptions};

    fn get(uri: &str) -> Request<Vec<u8>> {
        Request::get(uri)
            .header(crate::API_KEY_HEADER, "canary-SECRET-4242")
            .body(Vec::new())
            .unwrap()
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn futures_are_send_and_the_transport_is_shareable() {
        fn shareable<T: Send + Sync + 'static>() {}
        fn cloneable<T: Clone>() {}
        shareable::<HyperTransport>();
        cloneable::<HyperTransport>();
        shareable::<HyperClient>();

        let endpoint = Endpoint::builder()
            .service("edge-services")
            .environment("test")
            .api_key(crate::ApiKey::new("k").unwrap())
            .build()
            .unwrap();
        let client = HyperClient::hyper(endpoint).unwrap();
        let options = ListOptions::new();
        let id: ImageId = "stack/family/tag".parse().unwrap();
        // Only built, never polled: this is a compile-time check.
        assert_send(&client.list_images(&options));
        assert_send(&client.get_image(&id));
        assert_send(&client.transport().send(get("https://example.com/")));
        assert_send(&TokioSleep.sleep(Duration::ZERO));
    }

    #[test]
    fn plain_http_to_a_remote_host_is_refused_before_connecting() {
        let config = TransportConfig::default()
            .connect_timeout(Duration::from_secs(20))
            .timeout(Duration::from_secs(30));
        let transport = HyperTransport::new(config).unwrap();
        let started = Instant::now();
        let error = runtime()
            .block_on(transport.send(get("http://10.255.255.1/")))
            .unwrap_err();
        assert_eq!(error.kind(), TransportErrorKind::Refused);
        assert!(started.elapsed() < Duration::from_secs(1));
        assert!(!format!("{error:?} {error}").contains("SECRET"));
    }

    #[test]
    fn an_unsupported_scheme_is_refused() {
        let transport = HyperTransport::new(TransportConfig::default()).unwrap();
        let error = runtime()
            .block_on(transport.send(get("ftp://example.com/")))
            .unwrap_err();
        assert_eq!(error.kind(), TransportErrorKind::Refused);
    }

    #[test]
    fn the_config_is_kept_and_shared_by_clones() {
        let config = TransportConfig::default()
            .timeout(Duration::from_millis(1500))
            .max_body_bytes(42);
        let transport = HyperTransport::new(config).unwrap();
        let clone = transport.clone();
        assert!(Arc::ptr_eq(&transport.config, &clone.config));
        assert_eq!(clone.config().timeout, Duration::from_millis(1500));
        assert_eq!(clone.config().max_body_bytes, 42);
    }

    #[test]
    fn roots_are_checked() {
        let bad = TransportConfig::default().add_root_certificate_der(b"not DER".to_vec());
        assert_eq!(
            HyperTransport::new(bad).unwrap_err().setting(),
            "root certificate"
        );
        let none = TransportConfig {
            use_webpki_roots: false,
            ..TransportConfig::default()
        };
        assert!(HyperTransport::new(none).is_err());
        let store = root_store(&TransportConfig::default()).unwrap();
        assert_eq!(store.len(), webpki_roots::TLS_SERVER_ROOTS.len());
    }

    #[test]
    fn a_refused_connection_is_a_connect_error() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let transport = HyperTransport::new(TransportConfig::default()).unwrap();
        let error = runtime()
            .block_on(transport.send(get(&format!("http://127.0.0.1:{port}/"))))
            .unwrap_err();
        assert_eq!(error.kind(), TransportErrorKind::Connect, "{error:?}");
        assert!(error.message().contains("refused"), "{error}");
    }

    #[test]
    fn causes_are_classified_by_type() {
        let tls = io::Error::other(io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        ));
        assert_eq!(
            kind_of(&tls, TransportErrorKind::Connect),
            TransportErrorKind::Tls
        );
        let timed_out = io::Error::from(io::ErrorKind::TimedOut);
        assert_eq!(
            kind_of(&timed_out, TransportErrorKind::Connect),
            TransportErrorKind::Timeout
        );
        let reset = io::Error::from(io::ErrorKind::ConnectionReset);
        assert_eq!(
            kind_of(&reset, TransportErrorKind::Other),
            TransportErrorKind::Io
        );
    }

    #[test]
    fn tunnel_destinations_name_their_port() {
        // hyper-util's tunnel asks for 443 when the URI names no port.
        let uri = |s: &str| s.parse::<http::Uri>().unwrap();
        assert_eq!(
            with_port(uri("http://127.0.0.1/x")),
            "http://127.0.0.1:80/x"
        );
        assert_eq!(
            with_port(uri("https://h.example")),
            "https://h.example:443/"
        );
        assert_eq!(with_port(uri("http://[::1]/")), "http://[::1]:80/");
        assert_eq!(with_port(uri("http://h:8080/")), "http://h:8080/");
    }

    #[test]
    fn tokio_sleep_waits() {
        let rt = runtime();
        let started = Instant::now();
        rt.block_on(TokioSleep.sleep(Duration::from_millis(50)));
        assert!(started.elapsed() >= Duration::from_millis(50));
    }
}
