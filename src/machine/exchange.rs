//! [`Exchange`]: one call, driven to its end: retries and same-origin
//! redirects decided here, sending and sleeping left to the caller. It is
//! the engine inside [`Call`](crate::Call) and each poll of a task wait.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use http::header::LOCATION;
use http::{Method, Request, Response, StatusCode, Uri};
use url::Url;

use crate::machine::retry::{Attempt, Outcome, RetryDecision, RetryPolicy, is_safe};
use crate::model::error::{Error, ErrorKind};
use crate::model::transport_error::TransportError;
use crate::wire::request::Address;

/// How many same-origin redirects one call follows.
pub(crate) const MAX_REDIRECTS: u32 = 3;

/// A decoder for one operation's success response.
pub(crate) type Decode<T> = fn(Response<Vec<u8>>) -> Result<T, Error>;

/// What the driver does next.
#[derive(Debug)]
pub(crate) enum Step<T> {
    /// The call is over.
    Done(Result<T, Error>),
    /// Send [`Exchange::next_request`] again once `wait` has passed.
    SendAgain {
        /// How long to wait first.
        wait: Duration,
        /// Why, for a progress line: `"HTTP 503 Service Unavailable"`,
        /// `"timed out: …"`, `"redirected"`.
        reason: String,
        /// The attempt that just ended, counting from 1.
        attempt: u32,
    },
}

/// One API call in progress.
///
/// The request is handed out as it was built the first time, with no copy
/// kept: only GET, HEAD and OPTIONS are ever sent again (retries take only
/// safe methods, redirects only GET), and the endpoint builds those with
/// the address's headers and no body, so a resend is rebuilt from the
/// method, the URI (a redirect's, once followed) and the address.
pub(crate) struct Exchange<T> {
    address: Arc<Address>,
    target: Target,
    decode: Decode<T>,
    /// Applied with the API key to a success whose values carry the
    /// server's free text on to progress lines and logs (tasks).
    redact: Option<fn(T, &str) -> T>,
    policy: RetryPolicy,
    started: Option<Instant>,
    /// Requests handed out, redirected ones included.
    sends: u32,
    redirects: u32,
}

/// What an exchange sends: the request as built until it is first sent,
/// then what sending it again takes.
enum Target {
    Built(Request<Vec<u8>>),
    Sent { method: Method, uri: Uri },
}

impl<T> fmt::Debug for Exchange<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Exchange")
            .field("method", self.method())
            .field("uri", self.uri())
            .field("attempt", &self.attempt())
            .field("redirects", &self.redirects)
            .finish()
    }
}

impl<T> Exchange<T> {
    /// Starts a call of `request` (built on `address`), decoded by
    /// `decode`, retried under `policy`. Crate-private: the endpoint's typed
    /// operations pair each request with its decoder.
    pub(crate) fn new(
        address: Arc<Address>,
        request: Request<Vec<u8>>,
        decode: Decode<T>,
        policy: RetryPolicy,
    ) -> Self {
        // What a resend rebuilds must be the request itself: checked in
        // every debug build, so a request builder that adds a header or a
        // body to a GET fails the tests instead of losing it on a retry.
        debug_assert!(
            !is_safe(request.method())
                || (request.body().is_empty() && *request.headers() == address.headers()),
            "a request that may be sent again is not the one Address::resend rebuilds"
        );
        Exchange {
            address,
            target: Target::Built(request),
            decode,
            redact: None,
            policy,
            started: None,
            sends: 0,
            redirects: 0,
        }
    }

    /// Puts the call under another retry policy.
    pub(crate) fn set_policy(&mut self, policy: RetryPolicy) {
        self.policy = policy;
    }

    /// Redacts the API key from a success with `redact`, as errors are.
    pub(crate) fn redacting(mut self, redact: fn(T, &str) -> T) -> Self {
        self.redact = Some(redact);
        self
    }

    /// The request's method.
    pub(crate) fn method(&self) -> &Method {
        match &self.target {
            Target::Built(request) => request.method(),
            Target::Sent { method, .. } => method,
        }
    }

    /// The request's URI as it stands (redirects applied).
    pub(crate) fn uri(&self) -> &Uri {
        match &self.target {
            Target::Built(request) => request.uri(),
            Target::Sent { uri, .. } => uri,
        }
    }

    /// The API key the requests carry, to keep out of what the call
    /// reports.
    pub(crate) fn api_key(&self) -> &str {
        self.address.api_key.expose_secret()
    }

    /// The request to send now: the one built, the first time; after that
    /// the same request rebuilt (see [`Exchange`]). `now` starts the call's
    /// clock on the first call.
    pub(crate) fn next_request(&mut self, now: Instant) -> Request<Vec<u8>> {
        self.started.get_or_insert(now);
        self.sends += 1;
        let sent = Target::Sent {
            method: self.method().clone(),
            uri: self.uri().clone(),
        };
        match std::mem::replace(&mut self.target, sent) {
            Target::Built(request) => request,
            Target::Sent { method, uri } => self.address.resend(method, uri),
        }
    }

    /// Ends the call, redacting the API key from an error in case the server
    /// echoed it.
    fn done(&self, result: Result<T, Error>) -> Step<T> {
        let key = self.api_key();
        Step::Done(match (result, self.redact) {
            (Ok(value), Some(redact)) => Ok(redact(value, key)),
            (result, _) => result.map_err(|e| e.redact(key)),
        })
    }

    /// The attempt in progress, counting from 1: a redirect is not a
    /// failed attempt, so the send after it continues the same one.
    pub(crate) fn attempt(&self) -> u32 {
        self.sends.saturating_sub(self.redirects)
    }

    /// Consumes the result of sending the last request and says what next.
    /// `now`, `wall` and `random` (in `[0, 1)`) are the caller's clock,
    /// wall clock and random source.
    pub(crate) fn handle(
        &mut self,
        result: Result<Response<Vec<u8>>, TransportError>,
        now: Instant,
        wall: SystemTime,
        random: f64,
    ) -> Step<T> {
        let attempt = Attempt {
            number: self.attempt().max(1),
            elapsed: now.saturating_duration_since(*self.started.get_or_insert(now)),
            now: wall,
            random,
        };
        let response = match result {
            Ok(response) => response,
            Err(error) => return self.failed(error, attempt),
        };
        let status = response.status();
        if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
            return self.redirect(&response);
        }
        let outcome = Outcome::Response {
            status,
            headers: response.headers(),
        };
        match self.policy.decide(self.method(), outcome, attempt) {
            RetryDecision::RetryAfter(wait) => again(wait, status, attempt.number),
            RetryDecision::Stop => {
                let result = (self.decode)(response).map_err(|e| e.with_attempts(attempt.number));
                self.done(result)
            }
        }
    }

    /// A request that got no answer: sent again or the call's end, as the
    /// policy decides. Out of line, as every path but success is: the
    /// success path stays compact in the instruction cache.
    #[cold]
    #[inline(never)]
    fn failed(&mut self, error: TransportError, attempt: Attempt) -> Step<T> {
        let decision = self
            .policy
            .decide(self.method(), Outcome::Transport(error.kind()), attempt);
        match decision {
            RetryDecision::RetryAfter(wait) => Step::SendAgain {
                wait,
                reason: error.to_string(),
                attempt: attempt.number,
            },
            RetryDecision::Stop => self.done(Err(Error::from(error).with_attempts(attempt.number))),
        }
    }

    /// Follows a redirect only to the same origin and only for GET; anything
    /// else ends the call, so the API key never goes to another origin.
    #[cold]
    #[inline(never)]
    fn redirect(&mut self, response: &Response<Vec<u8>>) -> Step<T> {
        let status = response.status();
        let refuse = |why: String| {
            self.done(Err(Error::new(ErrorKind::Redirect, why)
                .with_status(status)
                .with_body(response.body().clone())))
        };
        let Some(location) = response
            .headers()
            .get(LOCATION)
            .and_then(|l| l.to_str().ok())
        else {
            return refuse("a redirect without a usable Location".to_owned());
        };
        let current = Url::parse(&self.uri().to_string());
        let target = current.as_ref().ok().and_then(|c| c.join(location).ok());
        let (Ok(current), Some(target)) = (current, target) else {
            return refuse(format!("a redirect to an invalid location {location:?}"));
        };
        if target.origin() != current.origin() {
            return refuse(format!(
                "a redirect to another origin ({}) was not followed, so the API key was not sent there",
                target.origin().ascii_serialization()
            ));
        }
        if self.method() != Method::GET {
            return refuse(format!(
                "a redirect of a {} request was not followed",
                self.method()
            ));
        }
        if !target.username().is_empty() || target.password().is_some() {
            return refuse("a redirect to a location with credentials was not followed".to_owned());
        }
        if self.redirects >= MAX_REDIRECTS {
            return refuse(format!("more than {MAX_REDIRECTS} redirects"));
        }
        let Ok(uri) = target.as_str().parse::<Uri>() else {
            return refuse(format!("a redirect to an invalid location {location:?}"));
        };
        let attempt = self.attempt();
        self.redirects += 1;
        match &mut self.target {
            Target::Built(request) => *request.uri_mut() = uri,
            Target::Sent { uri: sent, .. } => *sent = uri,
        }
        Step::SendAgain {
            wait: Duration::ZERO,
            reason: format!("redirected ({status}) to {}", target.path()),
            attempt,
        }
    }
}

/// The retry of an answer with `status`, after `wait`.
#[cold]
#[inline(never)]
fn again<T>(wait: Duration, status: StatusCode, attempt: u32) -> Step<T> {
    Step::SendAgain {
        wait,
        reason: format!("HTTP {status}"),
        attempt,
    }
}
