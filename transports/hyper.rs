//! The async transport: [hyper](https://docs.rs/hyper) 1 through the
//! hyper-util pooled client, on tokio, with rustls (ring) via hyper-rustls.
//!
//! - One pooled client per [`HyperTransport`]; clones share it. HTTP/1.1
//!   carries one request per connection at a time, so at most
//!   [`TransportConfig::max_in_flight`] requests (default
//!   [`TransportConfig::DEFAULT_MAX_IN_FLIGHT`]) are sent at once and the rest wait their
//!   turn: many concurrent calls then share a few pooled connections instead
//!   of opening one each. The wait for a turn counts against the request
//!   timeout. Idle connections are dropped after
//!   [`TransportConfig::pool_idle_timeout`].
//! - URIs are absolute (the core builds them so); plain `http://` is refused
//!   before connecting unless the host is loopback or it was allowed.
//! - The whole call, the wait for a turn and the response body included,
//!   has one deadline; making the connection (TCP, a proxy's `CONNECT`, the
//!   TLS handshake) has its own, shorter limit, as on ureq.
//! - A response head over [`TransportConfig::max_header_bytes`] or with more
//!   than 100 fields is refused, as on ureq.
//! - The body is read frame by frame and counted, so an oversized or endless
//!   body fails with [`TransportErrorKind::BodyTooLarge`] without buffering
//!   the rest, and a body cut short says how much of it came.
//! - TLS is rustls with the `ring` provider chosen explicitly (an unset
//!   process default would panic at run time), trusting the Mozilla roots of
//!   `webpki-roots`, the system's roots when asked, and any extra roots given.
//! - Proxies follow [`TransportConfig::proxy`] (the environment by default,
//!   read as curl does): a proxied connection is a `CONNECT` tunnel (made
//!   here, with the crate's `User-Agent`, so that a refusal keeps the
//!   proxy's status), with TLS to the API inside it.
//!
//! ```no_run
//! use coxedge_images::AsyncClient;
//! use coxedge_images::{ApiKey, Endpoint, ListOptions};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let endpoint = Endpoint::builder()
//!     .service("edge-services")
//!     .environment("test-area")
//!     .api_key(ApiKey::new("my-key")?)
//!     .build()?;
//! let client = AsyncClient::hyper(endpoint)?;
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
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::{Client as PooledClient, ResponseFuture};
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tokio::sync::{Semaphore, TryAcquireError};

use super::config::wording::{self, Malformed};
use super::config::{bounded, header_limit, native_roots};
use super::proxy::{ProxyRules, ProxyUrl, mark_proxy, wording as proxy_wording};
use super::security::SecurityCheck;
use crate::{
    AsyncClient, AsyncSleep, AsyncTransport, ConfigError, Endpoint, TransportConfig,
    TransportError, TransportErrorKind,
};

/// An async [`AsyncTransport`] over one pooled hyper client. Cheap to clone;
/// clones share the connection pool and the in-flight limit. Needs a tokio
/// runtime to send.
#[derive(Clone)]
pub struct HyperTransport {
    client: PooledClient<Timed<HttpsConnector<ProxyConnector>>, Full<Bytes>>,
    config: Arc<TransportConfig>,
    proxies: Arc<ProxyRules>,
    in_flight: Arc<Turns>,
    security: Arc<SecurityCheck>,
}

impl fmt::Debug for HyperTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HyperTransport")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

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
        .map_err(|e| ConfigError::new("TLS", format!("cannot be set up: {e}")))?
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
            });
        // One limit for the whole connection set-up: TCP, the proxy's
        // `CONNECT` and the TLS handshake, as on ureq.
        let connector = Timed {
            inner: connector,
            timeout: bounded(config.connect_timeout),
        };
        let client = PooledClient::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(config.pool_idle_timeout)
            // The read buffer is where the status line and headers must fit:
            // a head over the limit fails as "message head is too large".
            .http1_max_buf_size(header_limit(&config))
            .build(connector);
        Ok(HyperTransport {
            client,
            in_flight: Arc::new(Turns::new(config.max_in_flight)),
            security: Arc::new(SecurityCheck::new(config.allow_insecure_http)),
            config: Arc::new(config),
            proxies,
        })
    }

    /// The settings this transport was built with.
    pub fn config(&self) -> &TransportConfig {
        &self.config
    }

    /// Receives the answer to a request handed to hyper-util: its head
    /// within the header limit, then its body within the body limit.
    // Not an `async fn`, which would keep its arguments twice in its future.
    #[allow(clippy::manual_async_fn)]
    fn exchange<'a>(
        &'a self,
        responding: ResponseFuture,
        proxy: Option<&'a ProxyUrl>,
    ) -> impl Future<Output = Result<Response<Vec<u8>>, TransportError>> + Send + 'a {
        async move {
            // Split at once: the future keeps the parts, not a response beside
            // them.
            let (mut parts, mut body) = responding
                .await
                .map_err(|e| self.request_failure(e, proxy))?
                .into_parts();
            // hyper holds a head to its read buffer's size only when the head
            // arrives in pieces; one that came whole is measured here, as ureq
            // measures every head.
            let head_limit = header_limit(&self.config);
            if head_size(&parts) > head_limit {
                return Err(wording::headers_too_large(head_limit));
            }
            let limit = self.config.max_body_bytes;
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
    }

    /// A failure before the response's headers arrived, in the words the
    /// blocking transport uses too. `proxy` is the proxy the request went
    /// through, if any.
    #[cold]
    #[inline(never)]
    fn request_failure(
        &self,
        error: hyper_util::client::legacy::Error,
        proxy: Option<&ProxyUrl>,
    ) -> TransportError {
        if let Some(refused) = find::<ProxyRefused>(&error) {
            return refused.words().with_source(error);
        }
        let connecting = error.is_connect();
        let described = if connecting {
            self.connect_failure(&error)
        } else {
            self.exchange_failure(&error)
        };
        let described = match (described, proxy) {
            (Some(described), Some(proxy)) if connecting => {
                Some(proxy_wording::through(proxy, described))
            }
            (described, _) => described,
        };
        match described {
            Some(described) => described.with_source(error),
            None => transport_error(kind_of(&error, TransportErrorKind::Other), error),
        }
    }

    /// A connection that could not be made (directly or through a proxy).
    fn connect_failure(&self, error: &(dyn StdError + 'static)) -> Option<TransportError> {
        if find::<ConnectTimedOut>(error).is_some() {
            return Some(wording::no_connection_within(bounded(
                self.config.connect_timeout,
            )));
        }
        Some(match kind_of(error, TransportErrorKind::Connect) {
            TransportErrorKind::Tls => find::<rustls::Error>(error).map(wording::tls)?,
            TransportErrorKind::Timeout => {
                wording::no_connection_within(bounded(self.config.connect_timeout))
            }
            // A failed lookup is hyper-util's "dns error" (whose cause is
            // the resolver's I/O error): found first, so it reads as on ureq.
            _ if causes(error).any(|e| e.to_string() == "dns error") => wording::host_not_found(),
            _ => match find::<io::Error>(error) {
                Some(io) => wording::connect_failure(io),
                None => wording::connect_failure(&io::Error::other("")),
            },
        })
    }

    /// A failure after the connection was made, before the response's
    /// headers were complete.
    fn exchange_failure(&self, error: &(dyn StdError + 'static)) -> Option<TransportError> {
        if let Some(malformed) = find::<::hyper::Error>(error).and_then(|e| self.malformed(e)) {
            return Some(malformed);
        }
        match kind_of(error, TransportErrorKind::Other) {
            TransportErrorKind::Tls => find::<rustls::Error>(error).map(wording::tls),
            TransportErrorKind::Timeout => {
                Some(wording::no_response_within(bounded(self.config.timeout)))
            }
            TransportErrorKind::Connect | TransportErrorKind::Io => {
                Some(match find::<io::Error>(error) {
                    Some(io) if io.kind() == io::ErrorKind::ConnectionRefused => {
                        wording::connect_failure(io)
                    }
                    Some(io) => wording::broken(io),
                    None => wording::closed_before_answering(),
                })
            }
            _ => None,
        }
    }

    /// An answer hyper's parser refused, in the words ureq's refusals are
    /// given too.
    fn malformed(&self, error: &::hyper::Error) -> Option<TransportError> {
        if error.is_parse_status() {
            return Some(wording::malformed(Malformed::StatusLine));
        }
        if !error.is_parse() {
            return None;
        }
        // hyper names the other parse errors only in its message (its
        // `is_parse_too_large` exists only with its server half, which this
        // client does not build).
        let text = error.to_string();
        if text.contains("too large") {
            return Some(wording::headers_too_large(header_limit(&self.config)));
        }
        Some(wording::malformed(if text.contains("version") {
            Malformed::NotHttp
        } else if text.contains("content-length") {
            Malformed::ContentLength
        } else if text.contains("header") || text.contains("transfer-encoding") {
            Malformed::HeaderLine
        } else {
            Malformed::Other
        }))
    }
}

/// The size of a response's head as it came on the wire (`HTTP/1.1 200
/// OK`, each `name: value` line, the blank line), give or take the spaces
/// a server put around its values.
fn head_size(head: &http::response::Parts) -> usize {
    let reason = head.status.canonical_reason().map_or(0, str::len);
    let status_line = "HTTP/1.1 200 \r\n".len() + reason;
    head.headers
        .iter()
        .fold(status_line + 2, |size, (name, value)| {
            size + name.as_str().len() + value.len() + 4
        })
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
#[cold]
#[inline(never)]
fn body_failure(error: ::hyper::Error, received: u64, announced: Option<u64>) -> TransportError {
    match kind_of(&error, TransportErrorKind::Io) {
        TransportErrorKind::Io | TransportErrorKind::Connect => {
            wording::truncated(received, announced).with_source(error)
        }
        // hyper's h1 decoder says what was wrong with the chunked framing
        // only in its message ("Invalid chunk size line: …").
        TransportErrorKind::Protocol => {
            let text = causes(&error)
                .map(|e| e.to_string().to_ascii_lowercase())
                .collect::<Vec<_>>()
                .join(" ");
            let what = if text.contains("chunk size") {
                Malformed::ChunkSize
            } else if text.contains("chunk") {
                Malformed::Chunked
            } else {
                Malformed::Other
            };
            wording::malformed(what).with_source(error)
        }
        kind => transport_error(kind, error),
    }
}

/// The first cause of type `T` in the chain.
fn find<'a, T: StdError + 'static>(error: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    causes(error).find_map(|e| e.downcast_ref::<T>())
}

impl AsyncTransport for HyperTransport {
    fn send(
        &self,
        request: Request<Vec<u8>>,
    ) -> impl Future<Output = Result<Response<Vec<u8>>, TransportError>> {
        // The checks, and handing the request to hyper-util (whose future
        // does nothing until polled), happen here: the future below then
        // holds hyper-util's boxed future, not a copy of the request at
        // each of its layers.
        let started = self.security.check(request.uri()).and_then(|()| {
            let proxy = self
                .proxies
                .route(request.uri(), self.config.allow_insecure_http)?;
            let responding = self
                .client
                .request(request.map(|body| Full::new(Bytes::from(body))));
            Ok((responding, proxy))
        });
        self.answer(started)
    }
}

impl HyperTransport {
    /// Waits for a turn to send, then for the answer, all within the
    /// call's timeout; or fails at once as `started` did.
    // Not an `async fn`, which would keep its arguments twice in its future.
    #[allow(clippy::manual_async_fn)]
    fn answer<'a>(
        &'a self,
        started: Result<(ResponseFuture, Option<&'a ProxyUrl>), TransportError>,
    ) -> impl Future<Output = Result<Response<Vec<u8>>, TransportError>> + Send + 'a {
        async move {
            let (responding, proxy) = started?;
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
                            return Err(wording::no_turn_within(
                                timeout,
                                self.config.max_in_flight,
                            ));
                        }
                        turn
                    }
                    // The semaphore is never closed.
                    Err(TryAcquireError::Closed) => return Err(shut_down()),
                };
                queued = false;
                let result = self.exchange(responding, proxy).await;
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
            let result = match outcome {
                Ok(result) => result,
                Err(_) if queued => {
                    Err(wording::no_turn_within(timeout, self.config.max_in_flight))
                }
                Err(_) => Err(wording::no_response_within(timeout)),
            };
            mark_proxy(result, proxy)
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
            .map_err(|e| ConfigError::new("root certificate", format!("is not usable: {e}")))?;
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
}

type Connecting<T> =
    std::pin::Pin<Box<dyn Future<Output = Result<T, Box<dyn StdError + Send + Sync>>> + Send>>;

type Tcp = hyper_util::rt::TokioIo<tokio::net::TcpStream>;

impl tower_service::Service<http::Uri> for ProxyConnector {
    type Response = Tcp;
    type Error = Box<dyn StdError + Send + Sync>;
    type Future = Connecting<Tcp>;

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
        let connecting = self.http.call(proxy.uri());
        let head = tunnel_head(&proxy, &dst);
        Box::pin(async move {
            let mut stream = connecting.await.map_err(|e| -> Self::Error {
                Box::new(ProxyFailed {
                    proxy: proxy.clone(),
                    source: e.into(),
                })
            })?;
            match tunnel(stream.inner_mut(), &head).await {
                Ok(()) => Ok(stream),
                Err(answer) => Err(Box::new(ProxyRefused { proxy, answer }) as Self::Error),
            }
        })
    }
}

/// The `CONNECT` request for `dst`, naming its port (the scheme's default
/// when the URI names none).
fn tunnel_head(proxy: &ProxyUrl, dst: &http::Uri) -> Vec<u8> {
    let port = dst
        .port_u16()
        .unwrap_or(if dst.scheme_str() == Some("http") {
            80
        } else {
            443
        });
    proxy.connect_head(dst.host().unwrap_or(""), port)
}

/// The largest answer to `CONNECT` read (a proxy's status line and headers).
const TUNNEL_HEAD_LIMIT: usize = 16 * 1024;

/// Sends `head` (a `CONNECT` request) and reads the proxy's answer up to
/// the end of its headers: `Ok` for a 2xx, else what came.
async fn tunnel(stream: &mut tokio::net::TcpStream, head: &[u8]) -> Result<(), TunnelAnswer> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream.write_all(head).await.map_err(TunnelAnswer::Io)?;
    let mut answer = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    loop {
        let n = stream.read(&mut buf).await.map_err(TunnelAnswer::Io)?;
        if n == 0 {
            return Err(TunnelAnswer::Closed);
        }
        answer.extend_from_slice(&buf[..n]);
        if let Some(status) = connect_status(&answer) {
            return match status {
                Some(200..=299) => Ok(()),
                Some(status) => Err(TunnelAnswer::Status(status)),
                None => Err(TunnelAnswer::NotHttp),
            };
        }
        if answer.len() > TUNNEL_HEAD_LIMIT {
            return Err(TunnelAnswer::NotHttp);
        }
    }
}

/// The status of a proxy's answer once its head is complete (`None`
/// inside when it is not HTTP); `None` while more is needed. Bytes after
/// the head (a body, which a 2xx must not have) are not looked at.
fn connect_status(answer: &[u8]) -> Option<Option<u16>> {
    let line_end = answer.windows(2).position(|w| w == b"\r\n");
    let looks_http = |line: &[u8]| line.starts_with(b"HTTP/1.");
    let Some(line_end) = line_end else {
        // Not even the start of a status line: no need to wait for more.
        let prefix = &answer[..answer.len().min(7)];
        return (!b"HTTP/1.".starts_with(prefix)).then_some(None);
    };
    let line = &answer[..line_end];
    if !looks_http(line) {
        return Some(None);
    }
    answer.windows(4).position(|w| w == b"\r\n\r\n")?;
    let mut words = line.split(|&b| b == b' ').filter(|w| !w.is_empty());
    let _version = words.next();
    let status = words
        .next()
        .filter(|code| code.len() == 3 && code.iter().all(u8::is_ascii_digit))
        .and_then(|code| std::str::from_utf8(code).ok()?.parse().ok());
    Some(status)
}

/// How a `CONNECT` went wrong.
#[derive(Debug)]
enum TunnelAnswer {
    /// A status other than 2xx.
    Status(u16),
    /// Something that is not an HTTP answer.
    NotHttp,
    /// The proxy closed the connection without answering.
    Closed,
    /// The connection to the proxy broke.
    Io(io::Error),
}

/// The proxy did not open the tunnel. Names it by host and port only.
#[derive(Debug)]
struct ProxyRefused {
    proxy: ProxyUrl,
    answer: TunnelAnswer,
}

impl ProxyRefused {
    /// In the words the blocking transport uses too.
    fn words(&self) -> TransportError {
        match &self.answer {
            TunnelAnswer::Status(status) => proxy_wording::refused(&self.proxy, *status),
            TunnelAnswer::NotHttp => proxy_wording::not_http(&self.proxy),
            TunnelAnswer::Closed | TunnelAnswer::Io(_) => proxy_wording::closed(&self.proxy),
        }
    }
}

impl fmt::Display for ProxyRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the proxy at {} did not open the tunnel",
            self.proxy.host_port()
        )
    }
}

impl StdError for ProxyRefused {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match &self.answer {
            TunnelAnswer::Io(io) => Some(io),
            _ => None,
        }
    }
}

/// The proxy could not be reached. Names it by host and port only.
#[derive(Debug)]
struct ProxyFailed {
    proxy: ProxyUrl,
    source: Box<dyn StdError + Send + Sync>,
}

impl fmt::Display for ProxyFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "through the proxy at {}", self.proxy.host_port())
    }
}

impl StdError for ProxyFailed {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&*self.source)
    }
}

/// A connector whose whole connection set-up (TCP, the proxy's `CONNECT`,
/// the TLS handshake) must end within `timeout`.
#[derive(Clone)]
struct Timed<C> {
    inner: C,
    timeout: Duration,
}

/// The connect timeout ran out while connecting.
#[derive(Debug)]
struct ConnectTimedOut;

impl fmt::Display for ConnectTimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the connection was not made within the connect timeout")
    }
}

impl StdError for ConnectTimedOut {}

impl<C> tower_service::Service<http::Uri> for Timed<C>
where
    C: tower_service::Service<http::Uri>,
    C::Future: Send + 'static,
    C::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    type Response = C::Response;
    type Error = Box<dyn StdError + Send + Sync>;
    type Future = Connecting<C::Response>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, dst: http::Uri) -> Self::Future {
        let connecting = tokio::time::timeout(self.timeout, self.inner.call(dst));
        Box::pin(async move {
            match connecting.await {
                Ok(connected) => connected.map_err(Into::into),
                Err(_) => Err(Box::new(ConnectTimedOut) as Self::Error),
            }
        })
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
        shareable::<AsyncClient<HyperTransport, TokioSleep>>();

        let endpoint = Endpoint::builder()
            .service("edge-services")
            .environment("test")
            .api_key(crate::ApiKey::new("k").unwrap())
            .build()
            .unwrap();
        let client = AsyncClient::hyper(endpoint).unwrap();
        let options = ListOptions::new();
        let id: ImageId = "stack/family/tag".parse().unwrap();
        // Only built, never polled: this is a compile-time check.
        assert_send(&client.list_page(&options));
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
    fn tunnel_requests_name_the_port_and_the_crate() {
        let proxy: ProxyUrl = "http://u:p@127.0.0.1:3128".parse().unwrap();
        let head =
            |dst: &str| String::from_utf8(tunnel_head(&proxy, &dst.parse().unwrap())).unwrap();
        assert!(head("http://127.0.0.1/x").starts_with("CONNECT 127.0.0.1:80 HTTP/1.1\r\n"));
        assert!(head("https://h.example").starts_with("CONNECT h.example:443 HTTP/1.1\r\n"));
        assert!(head("http://[::1]/").starts_with("CONNECT [::1]:80 HTTP/1.1\r\n"));
        let text = head("http://h:8080/");
        assert!(
            text.starts_with("CONNECT h:8080 HTTP/1.1\r\nHost: h:8080\r\n"),
            "{text}"
        );
        assert!(text.contains(&format!("\r\nUser-Agent: {}\r\n", crate::USER_AGENT)));
        assert!(
            text.contains("\r\nProxy-Authorization: Basic dTpw\r\n"),
            "{text}"
        );
        assert!(text.ends_with("\r\n\r\n"));
    }

    #[test]
    fn connect_answers_are_read_to_the_end_of_their_head() {
        let status = |s: &[u8]| connect_status(s);
        assert_eq!(
            status(b"HTTP/1.1 200 Connection established\r\n\r\n"),
            Some(Some(200))
        );
        assert_eq!(
            status(b"HTTP/1.0 407 Proxy Auth\r\nA: b\r\n\r\nbody"),
            Some(Some(407))
        );
        assert_eq!(status(b"HTTP/1.1 200 OK\r\n"), None);
        assert_eq!(status(b"HTTP/1."), None);
        assert_eq!(status(b"HTT"), None);
        assert_eq!(status(b"SSH-2.0"), Some(None));
        assert_eq!(status(b"HTTP/1.1 2x0 OK\r\n\r\n"), Some(None));
        assert_eq!(status(b"hello\r\n"), Some(None));
    }

    #[test]
    fn tokio_sleep_waits() {
        let rt = runtime();
        let started = Instant::now();
        rt.block_on(TokioSleep.sleep(Duration::from_millis(50)));
        assert!(started.elapsed() >= Duration::from_millis(50));
    }
}
