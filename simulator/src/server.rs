//! The server: accepting connections (plain or TLS), serving HTTP/1.1 on
//! each with hyper, and handling one request (record, fault, answer).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::{HeaderValue, Request, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use super::body::SimBody;
use super::deliver::{self, ConnControl, Delivery};
use super::routes::{self, Reply};
use super::state::{RecordedRequest, Shared};
use coxedge_images::API_KEY_HEADER;

/// The largest request body read; larger ones get 413.
const MAX_REQUEST_BODY: usize = 1024 * 1024;

/// How long a client may take to finish the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts connections until `shutdown` fires (or its sender is dropped).
/// Connection tasks are not awaited: the runtime that runs this is dropped
/// right after, which ends them and closes their sockets.
pub(crate) async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    shared: Arc<Shared>,
    mut shutdown: oneshot::Receiver<()>,
) {
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    shared.connection_opened();
                    tokio::spawn(connection(stream, tls.clone(), shared.clone()));
                }
                // Out of file descriptors or similar: wait instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
        }
    }
}

async fn connection(stream: TcpStream, tls: Option<TlsAcceptor>, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let stream = match tls {
        None => Stream::Plain(stream),
        Some(acceptor) => {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(stream)) => Stream::Tls(Box::new(stream)),
                _ => return,
            }
        }
    };
    let control = Arc::new(ConnControl::default());
    let io = ConnIo {
        stream,
        control: control.clone(),
    };
    let service = service_fn(move |request| handle(shared.clone(), control.clone(), request));
    // Errors here are the client going away or a fault aborting the
    // connection: both end this connection only.
    let _ = http1::Builder::new()
        .serve_connection(TokioIo::new(io), service)
        .await;
}

/// Handles one request: read the body, record it, then answer (or not) as
/// the first matching fault says.
async fn handle(
    shared: Arc<Shared>,
    control: Arc<ConnControl>,
    request: Request<Incoming>,
) -> Result<Response<SimBody>, io::Error> {
    let (parts, body) = request.into_parts();
    let (body, too_large) = match Limited::new(body, MAX_REQUEST_BODY).collect().await {
        Ok(collected) => (collected.to_bytes().to_vec(), false),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => (Vec::new(), true),
        Err(e) => return Err(io::Error::other(e)),
    };
    let query = parts.uri.query().map(str::to_owned);
    let query_pairs: Vec<(String, String)> = query
        .as_deref()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let mut headers = parts.headers;
    if let Some(key) = headers.get_mut(API_KEY_HEADER) {
        key.set_sensitive(true);
    }
    let recorded = RecordedRequest {
        method: parts.method.clone(),
        path: parts.uri.path().to_owned(),
        query,
        query_pairs: query_pairs.clone(),
        headers: owned_headers(&headers),
        body: body.clone(),
    };
    let action = shared.record(recorded);

    let answer = || {
        if too_large {
            return Reply::error(
                http::StatusCode::PAYLOAD_TOO_LARGE,
                &format!("The request body is larger than {MAX_REQUEST_BODY} bytes"),
                serde_json::Value::Null,
            );
        }
        routes::respond(
            &shared,
            &routes::Incoming {
                method: &parts.method,
                path: parts.uri.path(),
                query: &query_pairs,
                headers: &headers,
                body: &body,
            },
        )
    };
    let response = match action {
        None => deliver::normal(answer()),
        Some(action) if deliver::replaces_answer(&action) => {
            match deliver::replacement(action, &control).await {
                Delivery::Respond(response) => response,
                Delivery::Abort => return Err(io::Error::other("simulated connection fault")),
            }
        }
        Some(action) => {
            if let super::FaultAction::Delay(delay) = action {
                tokio::time::sleep(delay).await;
            }
            deliver::spoil(&action, answer(), &control)
        }
    };
    Ok(with_server_header(response))
}

fn with_server_header(mut response: Response<SimBody>) -> Response<SimBody> {
    response.headers_mut().insert(
        http::header::SERVER,
        HeaderValue::from_static("coxedge-images-simulator"),
    );
    response
}

/// A plain or TLS connection.
enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl Stream {
    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => s.get_ref().0,
        }
    }
}

/// The connection hyper serves. When dropped after a reset was requested,
/// it sets `SO_LINGER` to zero first, so closing sends a TCP RST.
struct ConnIo {
    stream: Stream,
    control: Arc<ConnControl>,
}

impl Drop for ConnIo {
    fn drop(&mut self) {
        if self.control.reset_requested() {
            // A zero linger never blocks; `set_linger` is deprecated only
            // because other values do.
            #[allow(deprecated)]
            let _ = self.stream.tcp().set_linger(Some(Duration::ZERO));
        }
    }
}

impl AsyncRead for ConnIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match &mut self.get_mut().stream {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for ConnIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().stream {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().stream {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().stream {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// A copy of the headers that owns its bytes: hyper's parsed values share
/// the connection's read buffer, which a kept clone would pin in memory for
/// as long as the request log lives.
fn owned_headers(headers: &http::HeaderMap) -> http::HeaderMap {
    let mut owned = http::HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        if let Ok(mut copy) = http::HeaderValue::from_bytes(value.as_bytes()) {
            copy.set_sensitive(value.is_sensitive());
            owned.append(name.clone(), copy);
        }
    }
    owned
}
