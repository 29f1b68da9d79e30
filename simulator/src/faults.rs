//! Fault injection: which requests a fault applies to ([`Fault`], [`Scope`],
//! [`RouteMatcher`]) and what the simulator does instead of, or on top of,
//! its normal answer ([`FaultAction`]).

use std::time::Duration;

use http::{Method, StatusCode};

/// How many matching requests a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The next `n` matching requests, then the fault is gone. `Next(0)`
    /// applies to none.
    Next(u32),
    /// Every matching request, until [`Simulator::clear_faults`](super::Simulator::clear_faults).
    Always,
    /// Each matching request, independently, with a chance of `per_million`
    /// in a million (values above a million count as a million), until
    /// [`Simulator::clear_faults`](super::Simulator::clear_faults). The draws
    /// come from the simulator's own random sequence, which
    /// [`SimulatorBuilder::random_seed`](super::SimulatorBuilder::random_seed)
    /// makes reproducible. A request the fault spares goes on to the next
    /// matching fault.
    Chance {
        /// The chance, in millionths.
        per_million: u32,
    },
}

/// The number of millionths in `probability`, clamped to `0..=1` (NaN is 0).
fn per_million(probability: f64) -> u32 {
    if probability.is_nan() {
        return 0;
    }
    // Clamped to 0..=1_000_000 first, so the cast is exact.
    (probability.clamp(0.0, 1.0) * 1_000_000.0).round() as u32
}

/// Restricts a fault to some requests: an optional method and a prefix of
/// the request path as sent (still percent-encoded, without the query),
/// e.g. `/api/v1/tasks/` or `/api/v1/services/cox/test-area/images`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatcher {
    /// The method to match; `None` matches any.
    pub method: Option<Method>,
    /// The path prefix to match; `""` matches any path.
    pub path_prefix: String,
}

impl RouteMatcher {
    /// Whether a request with this method and path matches.
    pub fn matches(&self, method: &Method, path: &str) -> bool {
        self.method.as_ref().is_none_or(|m| m == method) && path.starts_with(&self.path_prefix)
    }
}

/// What the simulator does to a faulted request.
///
/// The actions that answer in place of the API (`Status`, `StallBeforeHeaders`,
/// `MalformedJson`, `Html502`, `Reset`, `RedirectTo`, `Oversized`, `RawBody`,
/// `Gzip`) never run the request: a create or delete hit by one of them
/// changes nothing. The others (`Delay`, `Drip`, `Stall`, `Truncate`,
/// `ResetAfterHeaders`) run it normally and then spoil the delivery, like a
/// server that did the work but whose answer was lost.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultAction {
    /// Answer with this status, an optional `Retry-After` header (sent as
    /// given, so invalid values can be tested too) and an optional body
    /// (default: a CloudMC `errors` document). A body that parses as JSON is
    /// sent as `application/json`, any other as `text/plain`.
    Status {
        /// The status to answer with.
        status: StatusCode,
        /// The `Retry-After` header value, if any.
        retry_after: Option<String>,
        /// The body, if not the default error document.
        body: Option<String>,
    },
    /// Wait, then answer normally.
    Delay(Duration),
    /// Answer normally, but send the body one byte at a time with this delay
    /// before each byte (the `Content-Length` is correct).
    Drip {
        /// The delay before each byte.
        chunk_delay: Duration,
    },
    /// Send the normal status and headers, then never send the body.
    Stall,
    /// Accept the request and never answer at all.
    StallBeforeHeaders,
    /// Send the normal headers with the full `Content-Length`, then only the
    /// first half of the body, then close the connection.
    Truncate,
    /// `200 OK`, `application/json`, a body that is cut off mid-document.
    MalformedJson,
    /// `502 Bad Gateway` with a proxy's HTML error page (`text/html`).
    Html502,
    /// Reset the connection (TCP RST) before any response: the client sees
    /// `ECONNRESET`.
    Reset,
    /// Send the normal status and headers, then reset the connection.
    ResetAfterHeaders,
    /// `307 Temporary Redirect` to this location, with an empty body.
    RedirectTo(String),
    /// `200 OK`, `application/json`, a body of this many bytes that starts
    /// like an image list (`{"data": [0,0,…`), streamed in 16 KiB chunks with
    /// chunked transfer encoding (no `Content-Length`), never held in memory
    /// whole. `u64::MAX` is, in practice, endless.
    Oversized(u64),
    /// Any status, content type and body bytes, for hostile tests.
    RawBody {
        /// The status.
        status: StatusCode,
        /// The `Content-Type` header value (sent as given when it is a valid
        /// header value, left out otherwise).
        content_type: String,
        /// The body bytes.
        body: Vec<u8>,
    },
    /// `200 OK` with `Content-Encoding: gzip` and bytes that start like gzip
    /// (they are not a valid gzip stream).
    Gzip,
}

impl FaultAction {
    /// [`FaultAction::Status`] with no `Retry-After` and the default body.
    pub fn status(status: StatusCode) -> Self {
        FaultAction::Status {
            status,
            retry_after: None,
            body: None,
        }
    }

    /// [`FaultAction::Status`] with a `Retry-After` header and the default body.
    pub fn status_retry_after(status: StatusCode, retry_after: impl Into<String>) -> Self {
        FaultAction::Status {
            status,
            retry_after: Some(retry_after.into()),
            body: None,
        }
    }
}

/// A fault: what to do ([`FaultAction`]), to how many requests ([`Scope`]),
/// and optionally to which ([`RouteMatcher`]).
///
/// ```
/// use coxedge_images_simulator::{Fault, FaultAction};
/// use http::{Method, StatusCode};
///
/// // The next two polls of any task answer 503 with `Retry-After: 1`.
/// let fault = Fault::next(2, FaultAction::status_retry_after(StatusCode::SERVICE_UNAVAILABLE, "1"))
///     .on(Method::GET, "/api/v1/tasks/");
/// # let _ = fault;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// How many matching requests it applies to.
    pub scope: Scope,
    /// Which requests match; `None` matches every request.
    pub route: Option<RouteMatcher>,
    /// What happens to them.
    pub action: FaultAction,
}

impl Fault {
    /// A fault for the matching requests in `scope`, on every route.
    pub fn new(scope: Scope, action: FaultAction) -> Self {
        Fault {
            scope,
            route: None,
            action,
        }
    }

    /// A fault for the next request only.
    pub fn once(action: FaultAction) -> Self {
        Fault::new(Scope::Next(1), action)
    }

    /// A fault for the next `n` requests.
    pub fn next(n: u32, action: FaultAction) -> Self {
        Fault::new(Scope::Next(n), action)
    }

    /// A fault for every request.
    pub fn always(action: FaultAction) -> Self {
        Fault::new(Scope::Always, action)
    }

    /// A fault for each request with this probability (`0.05` is 5%),
    /// clamped to `0..=1` and rounded to millionths; see [`Scope::Chance`].
    ///
    /// ```
    /// use coxedge_images_simulator::{Fault, FaultAction, Scope};
    /// use http::StatusCode;
    ///
    /// let fault = Fault::sometimes(0.05, FaultAction::status(StatusCode::SERVICE_UNAVAILABLE));
    /// assert_eq!(fault.scope, Scope::Chance { per_million: 50_000 });
    /// ```
    pub fn sometimes(probability: f64, action: FaultAction) -> Self {
        Fault::new(
            Scope::Chance {
                per_million: per_million(probability),
            },
            action,
        )
    }

    /// Restricts the fault to requests with this method and a path starting
    /// with `path_prefix` (as sent, e.g. `/api/v1/tasks/`).
    pub fn on(mut self, method: Method, path_prefix: impl Into<String>) -> Self {
        self.route = Some(RouteMatcher {
            method: Some(method),
            path_prefix: path_prefix.into(),
        });
        self
    }

    /// Restricts the fault to requests whose path starts with `path_prefix`,
    /// whatever their method.
    pub fn on_path(mut self, path_prefix: impl Into<String>) -> Self {
        self.route = Some(RouteMatcher {
            method: None,
            path_prefix: path_prefix.into(),
        });
        self
    }

    /// Whether the fault applies to a request with this method and path; a
    /// [`Scope::Chance`] fault whose route matches draws from `random`.
    pub(crate) fn matches(&self, random: &mut u64, method: &Method, path: &str) -> bool {
        let live = match self.scope {
            Scope::Next(n) => n > 0,
            Scope::Always | Scope::Chance { .. } => true,
        };
        if !live || !self.route.as_ref().is_none_or(|r| r.matches(method, path)) {
            return false;
        }
        match self.scope {
            Scope::Chance { per_million } => {
                super::tasks::next_random(random) % 1_000_000 < u64::from(per_million)
            }
            Scope::Next(_) | Scope::Always => true,
        }
    }

    /// Uses the fault once; returns whether it is now spent.
    pub(crate) fn consume(&mut self) -> bool {
        match &mut self.scope {
            Scope::Next(n) => {
                *n = n.saturating_sub(1);
                *n == 0
            }
            Scope::Always | Scope::Chance { .. } => false,
        }
    }
}

/// Takes the action of the first live fault matching the request, in order
/// of injection, and drops the fault once it is spent.
pub(crate) fn take_action(
    faults: &mut Vec<Fault>,
    random: &mut u64,
    method: &Method,
    path: &str,
) -> Option<FaultAction> {
    let index = faults
        .iter()
        .position(|f| f.matches(random, method, path))?;
    let action = faults[index].action.clone();
    if faults[index].consume() {
        faults.remove(index);
    }
    Some(action)
}
