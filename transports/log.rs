//! Request logs: what the drivers emit with the `tracing` feature, from the
//! core's [`Event`]s and from the requests and responses they carry.
//!
//! Without the feature, [`CallLog`] is an empty type whose methods do
//! nothing, so the drivers compile to what they were.
//!
//! | target | level | what |
//! | --- | --- | --- |
//! | `coxedge_images` | INFO span `call` | one per call: `operation`, `method`, `path`, and when it ends `status`, `attempts`, `requests`, `elapsed_ms`, `body_bytes` |
//! | `coxedge_images` | DEBUG | the call's end (`outcome`) |
//! | `coxedge_images::http` | DEBUG | one line per HTTP request of the crate's operations, answered or failed (from the core's `Answered` event), with the proxy's `host:port` when it went through one |
//! | `coxedge_images::http` | TRACE | the request line and headers, the status line and headers, redacted |
//! | `coxedge_images::retry` | INFO | each retry: `reason`, `wait_ms` |
//! | `coxedge_images::task` | DEBUG | each task poll: `status`, `next_poll_ms` |
//! | `coxedge_images::page` | DEBUG | each page of a listing |
//!
//! Redaction: the values of `MC-Api-Key`, `Authorization`,
//! `Proxy-Authorization`, `Cookie`, `Set-Cookie`, of any header marked
//! sensitive or whose name looks secret (see [`looks_secret`]), and of any
//! header holding the call's key, show as `<redacted>`. Query strings keep
//! their parameter names and the values of harmless ones (`page=2`); the
//! values of parameters whose names look secret are `<redacted>`. Paths in
//! the DEBUG lines carry no query at all.

#[cfg(feature = "tracing")]
pub(crate) use enabled::CallLog;

#[cfg(not(feature = "tracing"))]
pub(crate) use disabled::CallLog;

/// What a redacted value shows.
#[cfg(any(feature = "tracing", test))]
const REDACTED: &str = "<redacted>";

/// Whether a header or query parameter named `name` (any case) probably
/// holds a credential: its name has one of these words in it.
#[cfg(any(feature = "tracing", test))]
fn looks_secret(name: &str) -> bool {
    const WORDS: &[&str] = &[
        "key",
        "token",
        "secret",
        "password",
        "passwd",
        "pwd",
        "signature",
        "sig",
        "auth",
        "credential",
        "session",
        "cookie",
    ];
    let name = name.to_ascii_lowercase();
    WORDS.iter().any(|w| name.contains(w))
}

/// `query` (without its `?`) with the value of every parameter whose name
/// looks secret replaced by `<redacted>`; names, order and harmless values
/// are kept, so paging stays readable.
#[cfg(any(feature = "tracing", test))]
fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let decoded = percent_encoding::percent_decode_str(name).decode_utf8_lossy();
            if looks_secret(&decoded) && !value.is_empty() {
                format!("{name}={REDACTED}")
            } else {
                pair.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(feature = "tracing")]
mod enabled {
    use std::future::Future;
    use std::time::{Duration, Instant};

    use http::{HeaderMap, HeaderName, Request, Response, Uri, header};
    use tracing::field::Empty;
    use tracing::instrument::Instrument;
    use tracing::level_filters::LevelFilter;
    use tracing::{Level, Span};

    use super::{REDACTED, looks_secret, redact_query};
    use crate::transports::drive::Clock;
    use crate::transports::proxy::ThroughProxy;
    use crate::{API_KEY_HEADER, Error, Event, TransportError};

    /// The log of one call: its span, and what the span records at the end.
    pub(crate) struct CallLog {
        span: Span,
        started: Option<Instant>,
        sent_at: Option<Instant>,
        /// The call's key, to redact it wherever a response echoes it.
        /// Never formatted.
        key: Vec<u8>,
        /// The span has its method and path.
        named: bool,
        requests: u32,
        attempt: u32,
        status: Option<u16>,
        body_bytes: usize,
        /// The proxy (`host:port`) the last request went through.
        proxy: Option<String>,
        /// Nobody records the span or any event of this call: every method
        /// returns at once (no clock reads, no copies of the key).
        quiet: bool,
    }

    /// Whether nothing a call logs could be recorded: no subscriber takes
    /// anything as verbose as INFO, the level of the call's span and of its
    /// least verbose event. (Asking per target instead would miss filters
    /// that look at more than the target and level.) Asked once per call.
    fn nobody_listens() -> bool {
        LevelFilter::current() < LevelFilter::INFO
    }

    impl CallLog {
        /// A new span for one call; its fields are filled in as the call
        /// goes (the driver learns the operation from its first event).
        pub(crate) fn start() -> Self {
            let span = tracing::info_span!(
                target: "coxedge_images",
                "call",
                operation = Empty,
                method = Empty,
                path = Empty,
                status = Empty,
                attempts = Empty,
                requests = Empty,
                elapsed_ms = Empty,
                body_bytes = Empty,
            );
            CallLog {
                quiet: nobody_listens(),
                span,
                started: None,
                sent_at: None,
                key: Vec::new(),
                named: false,
                requests: 0,
                attempt: 0,
                status: None,
                body_bytes: 0,
                proxy: None,
            }
        }

        /// Whether nothing of this call is recorded, the events included.
        pub(crate) fn is_quiet(&self) -> bool {
            self.quiet
        }

        /// Runs `f` inside the call's span.
        pub(crate) fn in_span<R>(&self, f: impl FnOnce() -> R) -> R {
            self.span.in_scope(f)
        }

        /// `future`, run inside the call's span.
        pub(crate) fn instrument<F: Future>(&self, future: F) -> impl Future<Output = F::Output> {
            future.instrument(self.span.clone())
        }

        /// A request is about to go.
        pub(crate) fn sending(&mut self, request: &Request<Vec<u8>>, clock: &dyn Clock) {
            if self.quiet {
                return;
            }
            let now = clock.now();
            self.started.get_or_insert(now);
            if let Some(key) = request.headers().get(&API_KEY_HEADER) {
                if !key.is_empty() {
                    self.key = key.as_bytes().to_vec();
                }
            }
            if !self.named {
                // The first request names the call's method and path.
                self.span.record("method", request.method().as_str());
                self.span.record("path", request.uri().path());
                self.named = true;
            }
            self.sent_at = Some(now);
            let _entered = self.span.enter();
            if tracing::enabled!(target: "coxedge_images::http", Level::TRACE) {
                // After a same-origin redirect the URI is the server's word
                // and may carry the key, like the events' paths.
                let mut url = shown_uri(request.uri());
                if let Ok(key) = std::str::from_utf8(&self.key) {
                    crate::model::error::redact_string(&mut url, key);
                }
                tracing::trace!(
                    target: "coxedge_images::http",
                    method = request.method().as_str(),
                    url = %url,
                    "> {} {}",
                    request.method(),
                    url,
                );
                self.headers(">", request.headers());
            }
        }

        /// The answer (or failure) to the request just sent: its status
        /// line and headers at TRACE.
        pub(crate) fn answered(&mut self, answer: &Result<Response<Vec<u8>>, TransportError>) {
            if self.quiet {
                return;
            }
            self.proxy = match answer {
                Ok(response) => response
                    .extensions()
                    .get::<ThroughProxy>()
                    .map(|p| p.0.clone()),
                Err(error) => error.proxy().map(str::to_owned),
            };
            let _entered = self.span.enter();
            if let Ok(response) = answer {
                if tracing::enabled!(target: "coxedge_images::http", Level::TRACE) {
                    tracing::trace!(
                        target: "coxedge_images::http",
                        status = response.status().as_u16(),
                        "< {:?} {}",
                        response.version(),
                        response.status(),
                    );
                    self.headers("<", response.headers());
                }
            }
        }

        /// One TRACE line per header, redacted.
        fn headers(&self, direction: &str, headers: &HeaderMap) {
            for (name, value) in headers {
                let shown = if hidden(name, value.is_sensitive())
                    || (!self.key.is_empty() && contains(value.as_bytes(), &self.key))
                {
                    REDACTED.to_owned()
                } else if name == header::LOCATION || name == header::CONTENT_LOCATION {
                    shown_reference(&String::from_utf8_lossy(value.as_bytes()))
                } else {
                    String::from_utf8_lossy(value.as_bytes()).into_owned()
                };
                tracing::trace!(
                    target: "coxedge_images::http",
                    header = name.as_str(),
                    value = shown.as_str(),
                    "{direction} {name}: {shown}",
                );
            }
        }

        /// One of the core's events, at `now`. An answer's time is this
        /// request's own (from [`sending`](Self::sending) to `now`), which
        /// the core's event (time since the first request) does not give.
        pub(crate) fn event(&mut self, event: &Event, clock: &dyn Clock) {
            if self.quiet {
                return;
            }
            let now = clock.now();
            let _entered = self.span.enter();
            match event {
                Event::Answered {
                    operation,
                    method,
                    path,
                    status,
                    failure,
                    attempt,
                    body_bytes,
                    ..
                } => {
                    if self.requests == 0 {
                        self.span.record("operation", *operation);
                    }
                    self.requests += 1;
                    self.attempt = *attempt;
                    self.status = status.map(|s| s.as_u16());
                    self.body_bytes += *body_bytes;
                    let took = self
                        .sent_at
                        .take()
                        .map_or(Duration::ZERO, |at| now.saturating_duration_since(at));
                    let ms = took.as_millis() as u64;
                    // Host and port only: the transports never hand over
                    // the proxy's credentials.
                    let proxy = self.proxy.take();
                    let through = proxy
                        .as_deref()
                        .map(|p| format!(", through the proxy {p}"))
                        .unwrap_or_default();
                    match (status, failure) {
                        (Some(status), _) => tracing::debug!(
                            target: "coxedge_images::http",
                            operation = *operation,
                            method = method.as_str(),
                            path = path.as_str(),
                            status = status.as_u16(),
                            elapsed_ms = ms,
                            attempt = *attempt,
                            body_bytes = *body_bytes,
                            proxy = proxy.as_deref(),
                            "{} {} {} {ms} ms attempt {}, {} bytes{through}",
                            method,
                            path,
                            status,
                            attempt,
                            body_bytes,
                        ),
                        (None, failure) => {
                            let failure = failure.as_deref().unwrap_or("no response");
                            tracing::debug!(
                                target: "coxedge_images::http",
                                operation = *operation,
                                method = method.as_str(),
                                path = path.as_str(),
                                failure,
                                elapsed_ms = ms,
                                attempt = *attempt,
                                body_bytes = 0,
                                proxy = proxy.as_deref(),
                                "{} {} failed: {failure} {ms} ms attempt {}{through}",
                                method,
                                path,
                                attempt,
                            )
                        }
                    }
                }
                Event::Retrying {
                    operation,
                    method,
                    path,
                    reason,
                    attempt,
                    wait,
                    ..
                } => tracing::info!(
                    target: "coxedge_images::retry",
                    operation = *operation,
                    method = method.as_str(),
                    path = path.as_str(),
                    reason = reason.as_str(),
                    attempt = *attempt,
                    wait_ms = wait.as_millis() as u64,
                    "retrying {} {} after attempt {} ({}) in {} ms",
                    method,
                    path,
                    attempt,
                    reason,
                    wait.as_millis(),
                ),
                Event::Page {
                    operation,
                    page,
                    received,
                    new,
                    gathered,
                    record_count,
                    ..
                } => tracing::debug!(
                    target: "coxedge_images::page",
                    operation = *operation,
                    page = *page,
                    received = *received,
                    new = *new,
                    gathered = *gathered,
                    record_count = *record_count,
                    "page {}: {} images, {} new, {} gathered",
                    page,
                    received,
                    new,
                    gathered,
                ),
                Event::TaskPolled {
                    operation,
                    task,
                    elapsed,
                    next_poll,
                    ..
                } => {
                    let next = next_poll.map(|d| d.as_millis() as u64);
                    tracing::debug!(
                        target: "coxedge_images::task",
                        operation = *operation,
                        task = task.id.as_str(),
                        status = %task.status,
                        elapsed_ms = elapsed.as_millis() as u64,
                        next_poll_ms = next,
                        "task {} {} after {} ms{}",
                        task.id.as_str(),
                        task.status,
                        elapsed.as_millis(),
                        match next {
                            Some(ms) => format!(", next poll in {ms} ms"),
                            None => String::new(),
                        },
                    )
                }
            }
        }

        /// The call is over: the span records its final values.
        pub(crate) fn finish<T>(&self, result: &Result<T, Error>, clock: &dyn Clock) {
            if self.quiet {
                return;
            }
            let now = clock.now();
            let elapsed = self
                .started
                .map_or(Duration::ZERO, |s| now.saturating_duration_since(s));
            if let Some(status) = self.status {
                self.span.record("status", status);
            }
            self.span.record("attempts", self.attempt);
            self.span.record("requests", self.requests);
            self.span.record("elapsed_ms", elapsed.as_millis() as u64);
            self.span.record("body_bytes", self.body_bytes as u64);
            let _entered = self.span.enter();
            match result {
                Ok(_) => tracing::debug!(target: "coxedge_images", outcome = "ok", "call ended"),
                Err(e) => tracing::debug!(
                    target: "coxedge_images",
                    outcome = ?e.kind(),
                    "call failed ({:?})",
                    e.kind(),
                ),
            }
        }
    }

    /// Whether the value of header `name` is never shown.
    fn hidden(name: &HeaderName, sensitive: bool) -> bool {
        sensitive
            || name == API_KEY_HEADER
            || name == header::AUTHORIZATION
            || name == header::PROXY_AUTHORIZATION
            || name == header::COOKIE
            || name == header::SET_COOKIE
            || looks_secret(name.as_str())
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        memchr::memmem::find(haystack, needle).is_some()
    }

    /// A request's URI as logged: scheme, host and port (never user
    /// information), path, and the query with secret values redacted.
    fn shown_uri(uri: &Uri) -> String {
        let mut shown = String::new();
        if let (Some(scheme), Some(host)) = (uri.scheme_str(), uri.host()) {
            shown.push_str(scheme);
            shown.push_str("://");
            shown.push_str(host);
            if let Some(port) = uri.port_u16() {
                shown.push_str(&format!(":{port}"));
            }
        }
        shown.push_str(uri.path());
        if let Some(query) = uri.query() {
            shown.push('?');
            shown.push_str(&redact_query(query));
        }
        shown
    }

    /// A URI reference from a header (`Location`): shown as [`shown_uri`]
    /// when it parses, else only up to its query.
    fn shown_reference(text: &str) -> String {
        match text.parse::<Uri>() {
            Ok(uri) if uri.authority().is_none() || uri.host().is_some() => shown_uri(&uri),
            _ => {
                let end = text.find(['?', '#', '@']).unwrap_or(text.len());
                format!("{}…", &text[..end])
            }
        }
    }
}

#[cfg(not(feature = "tracing"))]
mod disabled {
    use std::future::Future;

    use http::{Request, Response};

    use crate::transports::drive::Clock;
    use crate::{Error, Event, TransportError};

    /// Without the `tracing` feature: nothing, at no cost.
    pub(crate) struct CallLog;

    impl CallLog {
        #[inline(always)]
        pub(crate) fn start() -> Self {
            CallLog
        }
        #[inline(always)]
        pub(crate) fn is_quiet(&self) -> bool {
            true
        }
        #[inline(always)]
        pub(crate) fn in_span<R>(&self, f: impl FnOnce() -> R) -> R {
            f()
        }
        #[inline(always)]
        pub(crate) fn instrument<F: Future>(&self, future: F) -> F {
            future
        }
        #[inline(always)]
        pub(crate) fn sending(&mut self, _: &Request<Vec<u8>>, _: &dyn Clock) {}
        #[inline(always)]
        pub(crate) fn answered(&self, _: &Result<Response<Vec<u8>>, TransportError>) {}
        #[inline(always)]
        pub(crate) fn event(&mut self, _: &Event, _: &dyn Clock) {}
        #[inline(always)]
        pub(crate) fn finish<T>(&self, _: &Result<T, Error>, _: &dyn Clock) {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_looking_names() {
        for name in [
            "api_key",
            "apiKey",
            "X-Api-Key",
            "access_token",
            "client_secret",
            "password",
            "X-Amz-Signature",
            "sig",
            "Authorization",
            "session_id",
        ] {
            assert!(looks_secret(name), "{name}");
        }
        for name in ["page", "perPage", "org_id", "content-type", "accept"] {
            assert!(!looks_secret(name), "{name}");
        }
    }

    #[test]
    fn queries_keep_names_and_harmless_values() {
        assert_eq!(
            redact_query("page=2&api_key=abc&perPage=50&token=x%20y&flag"),
            "page=2&api_key=<redacted>&perPage=50&token=<redacted>&flag"
        );
        // A percent-encoded name is read decoded.
        assert_eq!(redact_query("api%5Fkey=abc"), "api%5Fkey=<redacted>");
        assert_eq!(redact_query(""), "");
    }
}
