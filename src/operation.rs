//! [`Operation`]: the one driving protocol every API operation speaks, and
//! [`Call`], the operation of a single request.
//!
//! In the style of quinn-proto and str0m, an operation never does I/O and
//! never reads a clock. A driver asks it what to do at `now`
//! ([`Operation::poll`]): send a request, wait until an instant, or take the
//! result. It sends, and hands the answer back ([`Operation::handle`]) with
//! the time, the wall clock and a random draw in `[0, 1)`. In between it may
//! drain [`Event`]s ([`Operation::poll_event`]) to report progress or log.
//!
//! ```text
//! let mut op = endpoint.list_all_images(&options)?;
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

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant, SystemTime};

use http::{Method, Request, Response, StatusCode};

use crate::endpoint::Endpoint;
use crate::error::Error;
use crate::exchange::{Decode, Exchange, Step};
use crate::id::ImageId;
use crate::image::{Image, ImageList};
use crate::list_options::ListOptions;
use crate::paging::{ListAll, Resolve};
use crate::poller::PollPolicy;
use crate::reference::ImageReference;
use crate::request::api_key_of;
use crate::response::{decode_image, decode_image_list};
use crate::retry::RetryPolicy;
use crate::task::{CreateImage, Task, TaskId, decode_deletion, decode_task};
use crate::transport_error::TransportError;
use crate::wait::WaitTask;

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
        /// The operation, e.g. `"list_all_images"`.
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

/// The state of a [`Call`].
#[derive(Debug)]
enum CallState<T> {
    /// The next request may go at this instant (`None`: at once).
    Ready(Option<Instant>),
    /// A request is out.
    InFlight,
    /// Over; the result is handed out once.
    Done(Option<Result<T, Error>>),
}

/// One API call: its request, decoder, retry policy and key redaction
/// together. Made by the [`Endpoint`]'s typed operations
/// ([`Endpoint::get_image`], [`Endpoint::create_image`], …), so a request is
/// never paired with another operation's decoder.
pub struct Call<T> {
    operation: &'static str,
    exchange: Exchange<T>,
    state: CallState<T>,
    started: Option<Instant>,
    events: VecDeque<Event>,
}

impl<T> fmt::Debug for Call<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("operation", &self.operation)
            .field("exchange", &self.exchange)
            .finish_non_exhaustive()
    }
}

impl<T> Call<T> {
    pub(crate) fn new(
        operation: &'static str,
        request: Request<Vec<u8>>,
        decode: Decode<T>,
    ) -> Self {
        Call {
            operation,
            exchange: Exchange::new(request, decode, RetryPolicy::default()),
            state: CallState::Ready(None),
            started: None,
            events: VecDeque::new(),
        }
    }

    /// Redacts the API key from a success with `redact`.
    pub(crate) fn redacting(mut self, redact: fn(T, &str) -> T) -> Self {
        self.exchange = self.exchange.redacting(redact);
        self
    }

    /// Reports under `operation` instead (a page of a listing).
    pub(crate) fn named(mut self, operation: &'static str) -> Self {
        self.operation = operation;
        self
    }

    /// Replaces the retry policy (the default is [`RetryPolicy::default`]).
    /// Creates and deletes are never retried whatever the policy.
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.exchange = self.exchange.with_policy(policy);
        self
    }

    /// The operation's name, e.g. `"get_image"`.
    pub fn operation(&self) -> &'static str {
        self.operation
    }

    /// The call's method.
    pub fn method(&self) -> &Method {
        self.exchange.method()
    }

    /// The underlying [`Exchange`], for a driver that wants each retry as a
    /// [`Step`] instead of this protocol.
    pub fn into_exchange(self) -> Exchange<T> {
        self.exchange
    }
}

impl<T> Operation for Call<T> {
    type Output = T;

    fn poll(&mut self, now: Instant) -> Next<T> {
        match &mut self.state {
            CallState::Ready(Some(at)) if now < *at => Next::WaitUntil(*at),
            CallState::Ready(_) => {
                self.started.get_or_insert(now);
                self.state = CallState::InFlight;
                Next::Send(self.exchange.next_request(now))
            }
            CallState::InFlight => Next::Done(Err(Error::invalid_request(format!(
                "{} was polled while its request was still out (hand the answer to handle first)",
                self.operation
            )))),
            CallState::Done(result) => Next::Done(result.take().unwrap_or_else(|| {
                Err(Error::invalid_request(format!(
                    "{} has already finished",
                    self.operation
                )))
            })),
        }
    }

    fn handle(
        &mut self,
        result: Result<Response<Vec<u8>>, TransportError>,
        now: Instant,
        wall: SystemTime,
        random: f64,
    ) {
        if !matches!(self.state, CallState::InFlight) {
            return;
        }
        let elapsed = now.saturating_duration_since(*self.started.get_or_insert(now));
        self.events.push_back(answered(
            self.operation,
            self.exchange.request(),
            &result,
            self.exchange.attempt().max(1),
            elapsed,
        ));
        match self.exchange.handle(result, now, wall, random) {
            Step::Done(result) => self.state = CallState::Done(Some(result)),
            Step::SendAgain {
                wait,
                reason,
                attempt,
            } => {
                let request = self.exchange.request();
                let key = api_key_of(request);
                self.events.push_back(Event::Retrying {
                    operation: self.operation,
                    method: request.method().clone(),
                    path: redacted(request.uri().path().to_owned(), key),
                    reason: redacted(reason, key),
                    attempt,
                    wait,
                });
                self.state = CallState::Ready(Some(later(now, wait)));
            }
        }
    }

    fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }
}

/// `text` with every occurrence of `key` replaced.
pub(crate) fn redacted(mut text: String, key: &str) -> String {
    crate::error::redact_string(&mut text, key);
    text
}

/// The [`Event::Answered`] of one answer to `request`, for calls and task
/// waits alike: the path (the server's word after a redirect) and a
/// failure's text without the key.
pub(crate) fn answered(
    operation: &'static str,
    request: &Request<Vec<u8>>,
    result: &Result<Response<Vec<u8>>, TransportError>,
    attempt: u32,
    elapsed: Duration,
) -> Event {
    let key = api_key_of(request);
    let (status, failure, body_bytes) = match result {
        Ok(response) => (Some(response.status()), None, response.body().len()),
        Err(error) => (None, Some(redacted(error.to_string(), key)), 0),
    };
    Event::Answered {
        operation,
        method: request.method().clone(),
        path: redacted(request.uri().path().to_owned(), key),
        status,
        failure,
        attempt,
        elapsed,
        body_bytes,
    }
}

/// `now + wait`, saturating far in the future instead of overflowing.
pub(crate) fn later(now: Instant, wait: Duration) -> Instant {
    const CENTURY: Duration = Duration::from_secs(100 * 365 * 86_400);
    now.checked_add(wait)
        .or_else(|| now.checked_add(CENTURY))
        .unwrap_or(now)
}

/// The typed operations: each carries its request, decoder and retry policy.
impl Endpoint {
    /// Lists one page of images (all of them when the server does not page).
    pub fn list_images(&self, options: &ListOptions) -> Result<Call<ImageList>, Error> {
        let request = self.list_images_request(options)?;
        Ok(Call::new("list_images", request, decode_image_list))
    }

    /// Fetches one image.
    pub fn get_image(&self, id: &ImageId) -> Result<Call<Image>, Error> {
        let request = self.get_image_request(id)?;
        Ok(Call::new("get_image", request, decode_image))
    }

    /// Lists every image, following the server's pages; see [`ListAll`].
    pub fn list_all_images(&self, options: &ListOptions) -> Result<ListAll, Error> {
        ListAll::new(self, options.clone())
    }

    /// Lists every image and picks the one `reference` names; see
    /// [`resolve`](crate::resolve).
    pub fn resolve(&self, reference: &ImageReference) -> Result<Resolve, Error> {
        Ok(Resolve::new(
            self.list_all_images(&ListOptions::new())?,
            reference.clone(),
        ))
    }

    /// Starts creating a custom image; the answer is the task to wait for.
    /// Never retried (not idempotent).
    pub fn create_image(&self, create: &CreateImage) -> Result<Call<Task>, Error> {
        let request = self.create_image_request(create)?;
        Ok(Call::new("create_image", request, decode_task).redacting(Task::redacted))
    }

    /// Starts deleting an image; never retried. A `204 No Content` (or an
    /// empty `200`/`202`) is a task already done (see [`decode_deletion`]).
    pub fn delete_image(&self, id: &ImageId) -> Result<Call<Task>, Error> {
        let request = self.delete_image_request(id)?;
        Ok(Call::new("delete_image", request, decode_deletion).redacting(Task::redacted))
    }

    /// Fetches a task's current state once.
    pub fn get_task(&self, id: &TaskId) -> Result<Call<Task>, Error> {
        let request = self.get_task_request(id)?;
        Ok(Call::new("get_task", request, decode_task).redacting(Task::redacted))
    }

    /// Waits for `task` to end under `policy`; see [`WaitTask`].
    pub fn wait_for_task(&self, task: Task, policy: PollPolicy) -> WaitTask {
        WaitTask::new(self, task, policy)
    }
}
