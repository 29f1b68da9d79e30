//! [`Operation`]: the one driving protocol every API operation speaks, and
//! the [`Guard`] that holds every operation to it the same way.
//!
//! In the style of quinn-proto and str0m, an operation never does I/O and
//! never reads a clock. A driver asks it what to do at `now`
//! ([`Operation::poll`]): send a request, wait until an instant, or take the
//! result. It sends, and hands the answer back ([`Operation::handle`]) with
//! the time, the wall clock and a random draw in `[0, 1)`. In between it may
//! drain [`Event`]s ([`Operation::poll_event`]) to report progress or log.
//!
//! ```text
//! let mut op = endpoint.list_images(&options)?;
//! loop {
//!     match op.poll(clock.now()) {
//!         Next::Send(request) => {
//!             let answer = transport.send(request);
//!             op.handle(answer, clock.now(), clock.wall(), random());
//!         }
//!         Next::WaitUntil(at) => sleep_until(at),
//!         Next::Done(result) => return result,
//!     }
//!     while let Some(event) = op.poll_event() { log(event) }
//! }
//! ```
//!
//! Every decision (retry, redirect, decode, paging, polling) lives in the
//! operations, so a driver is a page of code in any runtime; the crate's
//! facades are such drivers.
//!
//! A driver that breaks the protocol gets the same answer from every
//! operation (see [`Operation`]): the operation ends with an
//! [`ErrorKind::InvalidRequest`](crate::ErrorKind::InvalidRequest) error
//! saying what was done wrong. Each operation is a [`Machine`] that never
//! sees the misuse, inside a [`Guard`] that answers it.

use std::collections::VecDeque;
use std::time::{Duration, Instant, SystemTime};

use http::{Method, Request, Response, StatusCode};

use crate::machine::exchange::Exchange;
use crate::model::error::Error;
use crate::model::task::Task;
use crate::model::transport_error::TransportError;

/// What an operation wants its driver to do next.
///
/// Deliberately exhaustive: a new kind of step would be a change of the
/// protocol that every driver must handle, so it should fail to compile
/// rather than be skipped. [`Event`], which a driver may ignore, is
/// non-exhaustive.
#[derive(Debug)]
// The request is moved out at once; boxing it would cost an allocation per
// request for nothing.
#[allow(clippy::large_enum_variant)]
pub enum Next<T> {
    /// Send this request, then hand the answer to [`Operation::handle`].
    Send(Request<Vec<u8>>),
    /// Nothing to do before this instant: sleep, then poll again.
    WaitUntil(Instant),
    /// The operation is over. Polling again gives an error.
    Done(Result<T, Error>),
}

/// One API operation as a sans-IO state machine; see the module docs.
///
/// The protocol, the same for every operation: call [`poll`](Self::poll);
/// after [`Next::Send`], hand the answer to [`handle`](Self::handle)
/// before polling again; after [`Next::WaitUntil`], poll again at that
/// instant or later; [`Next::Done`] ends the operation. A driver that
/// breaks it gets the same answer from every operation:
///
/// | misuse | answer |
/// |---|---|
/// | `poll` while a request is out (its answer not yet handled) | `Done(Err)`: "… was polled while its request was still out"; the operation is over |
/// | `handle` with no request out (before the first `Send`, twice, or after `WaitUntil`) | ignored, and the next `poll` is `Done(Err)`: "… was handed an answer with no request out" |
/// | `poll` after `Done` | `Done(Err)`: "… has already finished" |
/// | `handle` after `Done` | ignored |
///
/// Each error is [`ErrorKind::InvalidRequest`](crate::ErrorKind::InvalidRequest),
/// names the operation, and means nothing was decided from the answer.
pub trait Operation {
    /// What the operation produces.
    type Output;

    /// What to do at `now`.
    fn poll(&mut self, now: Instant) -> Next<Self::Output>;

    /// Takes the answer to the last [`Next::Send`]: a response (any status)
    /// or why none arrived. `wall` reads `Retry-After` dates; `random` (in
    /// `[0, 1)`) is the retry jitter.
    fn handle(
        &mut self,
        result: Result<Response<Vec<u8>>, TransportError>,
        now: Instant,
        wall: SystemTime,
        random: f64,
    );

    /// The next thing worth reporting (an answer, a retry, a page, a task
    /// poll), oldest first. Drivers drain it after `poll` and `handle`.
    fn poll_event(&mut self) -> Option<Event> {
        None
    }
}

/// Something an operation reports to its driver, for progress lines,
/// observers and logs. No event ever holds the API key: paths carry no
/// query, and reasons are redacted.
///
/// The enum and each variant are non-exhaustive: match with `..`, and keep
/// a `_` arm, so new events and fields are not breaking changes.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Event {
    /// A request came back: a response or a transport failure.
    #[non_exhaustive]
    Answered {
        /// The operation, e.g. `"list_images"`.
        operation: &'static str,
        /// The request's method.
        method: Method,
        /// The request's path, without its query.
        path: String,
        /// The status, when a response arrived.
        status: Option<StatusCode>,
        /// Why no response arrived, when none did.
        failure: Option<String>,
        /// The attempt this request belonged to, counting from 1 (in a task
        /// wait, the number of the request within the wait).
        attempt: u32,
        /// Time since the operation's first request.
        elapsed: Duration,
        /// The length of the response body (0 without a response).
        body_bytes: usize,
    },
    /// The last attempt failed and will be retried after a wait.
    #[non_exhaustive]
    Retrying {
        /// The operation.
        operation: &'static str,
        /// The request's method.
        method: Method,
        /// The request's path, without its query.
        path: String,
        /// What failed (`"HTTP 503 Service Unavailable"`, a transport
        /// failure, `"redirected …"`).
        reason: String,
        /// The attempt that just ended, counting from 1.
        attempt: u32,
        /// How long the driver waits before the next attempt.
        wait: Duration,
    },
    /// One page of a listing was read.
    #[non_exhaustive]
    Page {
        /// The operation.
        operation: &'static str,
        /// The page number the client asked for.
        page: u32,
        /// Images on the page.
        received: usize,
        /// Of those, images not seen on an earlier page.
        new: usize,
        /// Distinct images gathered so far.
        gathered: usize,
        /// The server's `recordCount`, when sent.
        record_count: Option<u64>,
    },
    /// A task poll got an answer (or failed and is retried).
    #[non_exhaustive]
    TaskPolled {
        /// The operation.
        operation: &'static str,
        /// The task as last seen.
        task: Task,
        /// Time since the wait started.
        elapsed: Duration,
        /// How long until the next poll, when the wait goes on (`None` once
        /// it is over).
        next_poll: Option<Duration>,
    },
}

/// An operation inside its [`Guard`]: the protocol as a well-behaved driver
/// uses it, with no misuse to check.
pub(crate) trait Machine {
    /// What the operation produces.
    type Output;
    /// What to do at `now`; called only when no request is out and the
    /// machine has not said [`Next::Done`].
    fn poll(&mut self, now: Instant) -> Next<Self::Output>;
    /// The answer to the request last handed out; called once per request.
    fn handle(
        &mut self,
        result: Result<Response<Vec<u8>>, TransportError>,
        now: Instant,
        wall: SystemTime,
        random: f64,
    );
    /// The next event, oldest first.
    fn poll_event(&mut self) -> Option<Event>;
    /// Builds no more events (see [`Quiet`]).
    fn stop_events(&mut self);
}

/// An operation that can be told nobody will read its events, so that it
/// builds none: a crate's facade says so when it has no observer and its
/// request log takes nothing. The events are the only thing that changes;
/// every decision and result stays the same.
pub(crate) trait Quiet: Operation {
    /// Builds no more events; [`Operation::poll_event`] gives `None` from
    /// now on.
    fn stop_events(&mut self);
}

/// Where a driver stands in the protocol with one operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Nothing is out: the next call is `poll`.
    Ready,
    /// A request is out: the next call is `handle`.
    Out,
    /// `handle` came with no request out: the next `poll` says so.
    Misused,
    /// `Done` was handed out.
    Over,
}

/// Holds a [`Machine`] to the protocol, answering a driver's misuse the same
/// way for every operation (see [`Operation`]).
#[derive(Debug)]
pub(crate) struct Guard<M> {
    name: &'static str,
    stage: Stage,
    machine: M,
}

impl<M> Guard<M> {
    /// Guards `machine`, naming it `name` in misuse errors.
    pub(crate) fn new(name: &'static str, machine: M) -> Self {
        Guard {
            name,
            stage: Stage::Ready,
            machine,
        }
    }

    /// The machine, to configure before the first poll.
    pub(crate) fn machine_mut(&mut self) -> &mut M {
        &mut self.machine
    }

    /// The machine, taken out (for unit tests).
    #[cfg(test)]
    pub(crate) fn into_machine(self) -> M {
        self.machine
    }

    /// The operation's name.
    pub(crate) fn name(&self) -> &'static str {
        self.name
    }
}

impl<M: Machine> Operation for Guard<M> {
    type Output = M::Output;

    fn poll(&mut self, now: Instant) -> Next<M::Output> {
        if self.stage != Stage::Ready {
            let error = misuse(self.stage, self.name);
            self.stage = Stage::Over;
            return Next::Done(Err(error));
        }
        let next = self.machine.poll(now);
        match next {
            Next::Send(_) => self.stage = Stage::Out,
            Next::Done(_) => self.stage = Stage::Over,
            Next::WaitUntil(_) => {}
        }
        next
    }

    fn handle(
        &mut self,
        result: Result<Response<Vec<u8>>, TransportError>,
        now: Instant,
        wall: SystemTime,
        random: f64,
    ) {
        match self.stage {
            Stage::Out => {
                self.stage = Stage::Ready;
                self.machine.handle(result, now, wall, random);
            }
            Stage::Ready => self.stage = Stage::Misused,
            Stage::Misused | Stage::Over => {}
        }
    }

    fn poll_event(&mut self) -> Option<Event> {
        self.machine.poll_event()
    }
}

/// The error a poll out of turn gets, by where the driver stood. Kept out
/// of line: the protocol's hot path stays small.
#[cold]
#[inline(never)]
fn misuse(stage: Stage, name: &str) -> Error {
    Error::invalid_request(match stage {
        Stage::Out => format!(
            "{name} was polled while its request was still out (hand the answer to handle first)"
        ),
        Stage::Misused => format!("{name} was handed an answer with no request out"),
        Stage::Ready | Stage::Over => format!("{name} has already finished"),
    })
}

/// Implements [`Operation`] for a public operation type by its `guard`
/// field.
macro_rules! guarded {
    ($Type:ty, $Output:ty $(, $T:ident)?) => {
        impl$(<$T>)? crate::Operation for $Type {
            type Output = $Output;

            fn poll(&mut self, now: std::time::Instant) -> crate::Next<$Output> {
                self.guard.poll(now)
            }

            fn handle(
                &mut self,
                result: Result<http::Response<Vec<u8>>, crate::TransportError>,
                now: std::time::Instant,
                wall: std::time::SystemTime,
                random: f64,
            ) {
                self.guard.handle(result, now, wall, random)
            }

            fn poll_event(&mut self) -> Option<crate::Event> {
                self.guard.poll_event()
            }
        }

        impl$(<$T>)? crate::machine::operation::Quiet for $Type {
            fn stop_events(&mut self) {
                crate::machine::operation::Machine::stop_events(self.guard.machine_mut())
            }
        }
    };
}

pub(crate) use guarded;

/// Events waiting for the driver, oldest first; or, once stopped, none
/// built at all.
#[derive(Debug, Default)]
pub(crate) struct Events {
    queue: VecDeque<Event>,
    stopped: bool,
}

impl Events {
    /// An empty queue that takes events.
    pub(crate) fn new() -> Self {
        Events::default()
    }

    /// Queues the event `make` builds; once stopped, `make` is not called.
    pub(crate) fn report(&mut self, make: impl FnOnce() -> Event) {
        if !self.stopped {
            self.queue.push_back(make());
        }
    }

    /// The oldest event not yet handed out.
    pub(crate) fn pop_front(&mut self) -> Option<Event> {
        self.queue.pop_front()
    }

    /// Builds no more events and drops those waiting.
    pub(crate) fn stop(&mut self) {
        self.stopped = true;
        self.queue = VecDeque::new();
    }

    /// Whether events are still built.
    pub(crate) fn building(&self) -> bool {
        !self.stopped
    }
}

/// `text` with every occurrence of `key` replaced.
pub(crate) fn redacted(mut text: String, key: &str) -> String {
    crate::model::error::redact_string(&mut text, key);
    text
}

/// The [`Event::Answered`] of one answer to `exchange`'s request, for
/// calls and task waits alike: the path (the server's word after a
/// redirect) and a failure's text without the key.
pub(crate) fn answered<T>(
    operation: &'static str,
    exchange: &Exchange<T>,
    result: &Result<Response<Vec<u8>>, TransportError>,
    attempt: u32,
    elapsed: Duration,
) -> Event {
    let key = exchange.api_key();
    let (status, failure, body_bytes) = match result {
        Ok(response) => (Some(response.status()), None, response.body().len()),
        Err(error) => (None, Some(redacted(error.to_string(), key)), 0),
    };
    Event::Answered {
        operation,
        method: exchange.method().clone(),
        path: redacted(exchange.uri().path().to_owned(), key),
        status,
        failure,
        attempt,
        elapsed,
        body_bytes,
    }
}

/// The [`Event::Retrying`] of `exchange`'s request, sent again after
/// `wait` because of `reason`, without the key.
#[cold]
#[inline(never)]
pub(crate) fn retrying<T>(
    operation: &'static str,
    exchange: &Exchange<T>,
    reason: String,
    attempt: u32,
    wait: Duration,
) -> Event {
    let key = exchange.api_key();
    Event::Retrying {
        operation,
        method: exchange.method().clone(),
        path: redacted(exchange.uri().path().to_owned(), key),
        reason: redacted(reason, key),
        attempt,
        wait,
    }
}

/// `now + wait`, saturating far in the future instead of overflowing.
pub(crate) fn later(now: Instant, wait: Duration) -> Instant {
    const CENTURY: Duration = Duration::from_secs(100 * 365 * 86_400);
    now.checked_add(wait)
        .or_else(|| now.checked_add(CENTURY))
        .unwrap_or(now)
}
