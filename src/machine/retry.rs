//! The retry decision: a pure function of the attempt and its outcome.
//!
//! The caller supplies time (`elapsed`, `now`) and randomness (`random`);
//! nothing here reads a clock or a random source, so the decision is exact
//! and testable. Backoff is "full jitter" exponential
//! (`random * min(cap, base * 2^(attempt-1))`); a server's `Retry-After`
//! replaces it, and when the server asks for longer than the cap the call
//! stops rather than retry early (the error keeps `retry_after()`). No retry
//! goes out sooner than [`RetryPolicy::min_delay`] after the last attempt,
//! whatever the jitter draws or the server says (`Retry-After: 0`, a date in
//! the past), unless the policy sets that floor to zero.

use std::time::{Duration, SystemTime};

use http::{HeaderMap, Method, StatusCode};

use crate::model::transport_error::TransportErrorKind;
use crate::wire::response::retry_after;

/// Limits on retrying one call.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = never retry).
    pub max_attempts: u32,
    /// The first backoff ceiling; doubles with each attempt.
    pub base_delay: Duration,
    /// The longest single wait. A `Retry-After` longer than this ends the
    /// call instead (retrying earlier than the server allows is useless),
    /// unless [`max_retry_after`](Self::max_retry_after) allows more.
    pub max_delay: Duration,
    /// The shortest wait before a retry. Default 50 ms: a server answering
    /// `Retry-After: 0` (or a date in the past) in a loop, or a jitter draw
    /// near zero, never makes a retry go out at once. Zero only when set so.
    pub min_delay: Duration,
    /// The longest `Retry-After` waited out, when it should differ from
    /// [`max_delay`](Self::max_delay) (which then caps only the backoff).
    /// Default `None`: `max_delay` caps both. A task wait sets it to the
    /// time left before its deadline.
    pub max_retry_after: Option<Duration>,
    /// No retry starts if waiting for it would pass this much time since the
    /// first attempt.
    pub max_elapsed: Duration,
    /// Also retry 500 and the other 5xx statuses, not only 502/503/504.
    /// Off for calls; on while polling a task, where a passing server error
    /// must not end the wait.
    pub retry_server_errors: bool,
}

impl Default for RetryPolicy {
    /// 4 attempts, backoff from 250 ms capped at 10 s, never less than
    /// 50 ms, 60 s in all.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(10),
            min_delay: Duration::from_millis(50),
            max_retry_after: None,
            max_elapsed: Duration::from_secs(60),
            retry_server_errors: false,
        }
    }
}

/// What happened to one attempt, as far as retrying is concerned.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub(crate) enum Outcome<'a> {
    /// A response arrived with this status and these headers.
    Response {
        /// The status.
        status: StatusCode,
        /// The headers (for `Retry-After`).
        headers: &'a HeaderMap,
    },
    /// No response: the transport failed this way.
    Transport(TransportErrorKind),
}

/// The caller's facts about the attempt that just ended. Made with
/// [`Attempt::new`], so that facts can be added without breaking callers.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub(crate) struct Attempt {
    /// Which attempt ended, counting from 1.
    pub number: u32,
    /// Time since the first attempt started.
    pub elapsed: Duration,
    /// Wall-clock time now (to read a `Retry-After` date).
    pub now: SystemTime,
    /// A random number in `[0, 1)` for the jitter.
    pub random: f64,
}

impl Attempt {
    /// The facts of attempt `number` (from 1), `elapsed` after the first
    /// started, at wall-clock time `now`, with a `random` draw in `[0, 1)`.
    #[cfg(test)]
    pub(crate) fn new(number: u32, elapsed: Duration, now: SystemTime, random: f64) -> Self {
        Attempt {
            number,
            elapsed,
            now,
            random,
        }
    }
}

/// The answer: wait and try again, or stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RetryDecision {
    /// Send the request again after this long.
    RetryAfter(Duration),
    /// Do not retry: the outcome is final.
    Stop,
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn never() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// Sets the number of attempts in all (at least 1).
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Sets the first backoff ceiling.
    pub fn with_base_delay(mut self, delay: Duration) -> Self {
        self.base_delay = delay;
        self
    }

    /// Sets the longest single wait.
    pub fn with_max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// Sets the shortest wait before a retry (zero allows immediate retries).
    pub fn with_min_delay(mut self, delay: Duration) -> Self {
        self.min_delay = delay;
        self
    }

    /// Sets the longest `Retry-After` waited out, apart from the backoff cap
    /// [`max_delay`](Self::max_delay).
    pub fn with_max_retry_after(mut self, limit: Duration) -> Self {
        self.max_retry_after = Some(limit);
        self
    }

    /// Sets the time limit for starting retries.
    pub fn with_max_elapsed(mut self, limit: Duration) -> Self {
        self.max_elapsed = limit;
        self
    }

    /// Sets whether every 5xx is retried.
    pub fn with_retry_server_errors(mut self, retry: bool) -> Self {
        self.retry_server_errors = retry;
        self
    }

    /// Decides whether to retry `method` after `outcome`.
    ///
    /// Only safe methods (GET, HEAD, OPTIONS) are retried: in this API even
    /// DELETE starts a server-side task, so it is not repeated blindly. The
    /// retried outcomes are 429, 502, 503, 504 and transport failures where
    /// no answer came (connect, timeout, a broken connection).
    pub(crate) fn decide(
        &self,
        method: &Method,
        outcome: Outcome<'_>,
        attempt: Attempt,
    ) -> RetryDecision {
        if !is_safe(method) || attempt.number >= self.max_attempts {
            return RetryDecision::Stop;
        }
        let server_says = match outcome {
            Outcome::Response { status, headers }
                if is_retryable_status(status)
                    || (self.retry_server_errors && status.is_server_error()) =>
            {
                retry_after(headers).map(|r| r.delay_from(attempt.now))
            }
            Outcome::Transport(kind) if is_retryable_failure(kind) => None,
            _ => return RetryDecision::Stop,
        };
        let longest_server_wait = self.max_retry_after.unwrap_or(self.max_delay);
        let wait = match server_says {
            // Retrying before the server allows it only earns another
            // refusal: give up, and let the caller read `retry_after()`.
            Some(delay) if delay > longest_server_wait => return RetryDecision::Stop,
            Some(delay) => delay,
            None => self.backoff(attempt.number, attempt.random),
        }
        .max(self.min_delay);
        match attempt.elapsed.checked_add(wait) {
            Some(total) if total <= self.max_elapsed => RetryDecision::RetryAfter(wait),
            _ => RetryDecision::Stop,
        }
    }

    /// Full-jitter backoff after attempt `number` (1-based).
    fn backoff(&self, number: u32, random: f64) -> Duration {
        let exponent = number.saturating_sub(1).min(31);
        let ceiling = self
            .base_delay
            .checked_mul(1u32 << exponent)
            .unwrap_or(self.max_delay)
            .min(self.max_delay);
        let random = if random.is_finite() {
            random.clamp(0.0, 1.0)
        } else {
            0.0
        };
        ceiling.mul_f64(random)
    }
}

pub(crate) fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn is_retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 502 | 503 | 504)
}

pub(crate) fn is_retryable_failure(kind: TransportErrorKind) -> bool {
    matches!(
        kind,
        TransportErrorKind::Connect
            | TransportErrorKind::ConnectTimeout
            | TransportErrorKind::Timeout
            | TransportErrorKind::Io
            | TransportErrorKind::Truncated
    )
}
