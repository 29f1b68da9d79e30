//! [`TaskPoller`]: the engine of a task wait ([`WaitTask`](crate::WaitTask)),
//! and [`PollPolicy`], how often and how long it polls.
//!
//! The wait's driver tells the poller the time, asks what to do
//! ([`TaskPoller::poll`]), does it (send a request, or sleep until an
//! instant), and hands back what happened ([`TaskPoller::handle_response`]).
//! The poller never reads a clock, so its tests run on virtual time.
//!
//! Each poll is one [`Exchange`], so transient failures (429, 5xx, network)
//! are retried by the same decision as every other call and do not end the
//! wait early; a 404 ends it at once. The whole wait is bounded twice: by
//! [`PollPolicy::timeout`] and by [`PollPolicy::max_requests`].
//!
//! Whatever the server says, the wait holds these:
//! - two requests are never closer than [`PollPolicy::initial_interval`]
//!   (a `Retry-After: 0` or a date in the past cannot make a request storm);
//! - a `Retry-After` that ends before the deadline is waited out; one that
//!   does not ends the wait at once with the server's error, which keeps
//!   [`Error::retry_after`];
//! - an answer about another task than the one waited for ends the wait
//!   with [`ErrorKind::TaskMismatch`](crate::ErrorKind::TaskMismatch).

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use http::{Request, Response};

use crate::machine::exchange::{Exchange, Step};
use crate::machine::operation::{Next, later};
use crate::machine::retry::{RetryPolicy, is_retryable_failure};
use crate::model::error::{Error, ErrorKind};
use crate::model::task::{Task, TaskStatus};
use crate::model::transport_error::TransportError;
use crate::wire::get_task::{self, decode_task};
use crate::wire::request::Address;

/// How often and how long to poll.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PollPolicy {
    /// The wait before the second poll (the first is immediate). Default 1 s.
    /// Also the shortest wait between any two requests of the wait, retries
    /// included, whatever the server's `Retry-After` says.
    pub initial_interval: Duration,
    /// The interval grows by half after each poll, up to this. Default 5 s.
    pub max_interval: Duration,
    /// Give up after this long with a typed timeout. Default 5 minutes
    /// (tasks live about 30 minutes on the server).
    pub timeout: Duration,
    /// Never send more requests than this, retries included. Default 1 000.
    pub max_requests: u32,
}

impl Default for PollPolicy {
    fn default() -> Self {
        PollPolicy {
            initial_interval: Duration::from_secs(1),
            max_interval: Duration::from_secs(5),
            timeout: Duration::from_secs(300),
            max_requests: 1_000,
        }
    }
}

impl PollPolicy {
    /// Sets the first interval.
    pub fn with_initial_interval(mut self, interval: Duration) -> Self {
        self.initial_interval = interval;
        self
    }

    /// Sets the longest interval.
    pub fn with_max_interval(mut self, interval: Duration) -> Self {
        self.max_interval = interval;
        self
    }

    /// Sets the overall time limit.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the request limit (at least 1).
    pub fn with_max_requests(mut self, limit: u32) -> Self {
        self.max_requests = limit.max(1);
        self
    }

    /// The retry policy of one poll starting with `remaining` time before the
    /// wait's deadline: every 5xx, 429 and network failure is retried, never
    /// sooner than the poll interval, and a `Retry-After` is waited out when
    /// it ends before the deadline (the backoff stays capped as usual).
    fn retry_policy(&self, remaining: Duration) -> RetryPolicy {
        RetryPolicy::default()
            .with_max_attempts(u32::MAX)
            .with_max_elapsed(remaining)
            .with_max_retry_after(remaining)
            .with_min_delay(self.initial_interval)
            .with_retry_server_errors(true)
    }
}

#[derive(Debug)]
enum State {
    /// The next request may go at `at`.
    Idle { at: Instant },
    /// A request is out; its answer is awaited.
    InFlight,
    /// Finished; the result is handed out once.
    Done(Option<Result<Task, Error>>),
}

/// Polls one task until it ends; see the module docs.
#[derive(Debug)]
pub(crate) struct TaskPoller {
    address: Arc<Address>,
    /// The task request each poll starts from.
    request: Request<Vec<u8>>,
    policy: PollPolicy,
    /// The poll in progress (retries and redirects of one request); `None`
    /// when the next request starts a new poll.
    exchange: Option<Exchange<Task>>,
    /// The retry the last answer led to (reason, attempt, wait), until a
    /// driver takes it for its log.
    retry: Option<(String, u32, Duration)>,
    last: Task,
    started: Instant,
    interval: Duration,
    requests: u32,
    state: State,
}

impl TaskPoller {
    /// Starts waiting for `task` (as returned by a create or delete, or
    /// made from a known id) at `now`. A task that has already ended is
    /// done without any request.
    pub(crate) fn new(
        address: &Arc<Address>,
        task: Task,
        policy: PollPolicy,
        now: Instant,
    ) -> Result<Self, Error> {
        let task = task.redacted(address.api_key.expose_secret());
        // A task that has ended needs no request (and one finished without a
        // server-side task has no id to ask about).
        let request = if task.status.is_terminal() {
            Request::new(Vec::new())
        } else {
            get_task::request(address, &task.id)?
        };
        let mut poller = TaskPoller {
            address: Arc::clone(address),
            request,
            exchange: None,
            retry: None,
            interval: policy.initial_interval,
            policy,
            last: task.clone(),
            started: now,
            requests: 0,
            state: State::Idle { at: now },
        };
        if task.status.is_terminal() {
            poller.finish(task);
        }
        Ok(poller)
    }

    /// The task as last seen.
    pub(crate) fn last(&self) -> &Task {
        &self.last
    }

    /// How many requests were sent.
    pub(crate) fn requests(&self) -> u32 {
        self.requests
    }

    /// The poll in progress (its request with a redirect applied), for a
    /// driver's events; `None` between polls.
    pub(crate) fn exchange(&self) -> Option<&Exchange<Task>> {
        self.exchange.as_ref()
    }

    /// The instant the wait started.
    pub(crate) fn started(&self) -> Instant {
        self.started
    }

    /// When the next request may go, while the wait is between requests.
    pub(crate) fn next_request_at(&self) -> Option<Instant> {
        match self.state {
            State::Idle { at } => Some(at),
            _ => None,
        }
    }

    /// The retry the last answer led to: why, which attempt of the poll
    /// ended, and the wait before the next. Taken once.
    pub(crate) fn take_retry(&mut self) -> Option<(String, u32, Duration)> {
        self.retry.take()
    }

    /// The instant the wait ends by timeout.
    pub(crate) fn deadline(&self) -> Instant {
        later(self.started, self.policy.timeout)
    }

    /// What to do at `now`.
    pub(crate) fn poll(&mut self, now: Instant) -> Next<Task> {
        let deadline = self.deadline();
        let at = match &mut self.state {
            State::Done(result) => {
                return Next::Done(result.take().unwrap_or_else(|| {
                    Err(Error::invalid_request(
                        "the task poller has already finished",
                    ))
                }));
            }
            State::InFlight => return Next::WaitUntil(deadline),
            State::Idle { at } => *at,
        };
        if now >= deadline || self.requests >= self.policy.max_requests {
            let error = self.timeout_error(now);
            self.state = State::Done(None);
            return Next::Done(Err(error));
        }
        if now < at {
            return Next::WaitUntil(at.min(deadline));
        }
        self.requests += 1;
        self.state = State::InFlight;
        // A new poll's retries may use the time left before the deadline.
        let remaining = deadline.saturating_duration_since(now);
        let exchange = self.exchange.get_or_insert_with(|| {
            // The server's task text goes on to progress lines, events and
            // logs: never with the key in it.
            Exchange::new(
                Arc::clone(&self.address),
                self.request.clone(),
                decode_task,
                self.policy.retry_policy(remaining),
            )
            .redacting(Task::redacted)
        });
        Next::Send(exchange.next_request(now))
    }

    /// Consumes the answer to the last [`Next::Send`]. `wall` and
    /// `random` (in `[0, 1)`) serve the retry decision.
    pub(crate) fn handle_response(
        &mut self,
        result: Result<Response<Vec<u8>>, TransportError>,
        now: Instant,
        wall: SystemTime,
        random: f64,
    ) {
        if !matches!(self.state, State::InFlight) {
            return;
        }
        let floor = self.policy.initial_interval;
        let Some(exchange) = self.exchange.as_mut() else {
            return;
        };
        match exchange.handle(result, now, wall, random) {
            // A redirect asks for no wait and a retry may ask for little:
            // the poll interval is the floor of every wait of a task wait.
            Step::SendAgain {
                wait,
                reason,
                attempt,
            } => {
                let wait = wait.max(floor);
                self.retry = Some((reason, attempt, wait));
                self.state = State::Idle {
                    at: later(now, wait),
                }
            }
            Step::Done(Err(e)) if e.is_not_found() => {
                let context = format!(
                    "task {} was not found (it may have expired: tasks live about 30 minutes)",
                    self.last.id
                );
                self.state = State::Done(Some(Err(e.with_context(&context))));
            }
            Step::Done(Err(e)) if retried(&e) => {
                // A poll is retried without limit but by the deadline, so it
                // stopped either because the server asked to wait past the
                // deadline, or because the deadline came while retrying.
                let left = self.deadline().saturating_duration_since(now);
                let asked = e.retry_after().map(|r| r.delay_from(wall));
                let error = match asked {
                    Some(asked) if asked > left => {
                        let context = format!(
                            "task {}: the server asked to wait {asked:?}, past the end of the wait ({left:?} left)",
                            self.last.id,
                        );
                        e.with_context(&context)
                    }
                    _ => {
                        let retry_after = e.retry_after();
                        self.timeout_error(now)
                            .with_retry_after(retry_after)
                            .with_source(e)
                    }
                };
                self.state = State::Done(Some(Err(error)));
            }
            Step::Done(Err(e)) => self.state = State::Done(Some(Err(e))),
            Step::Done(Ok(task)) if task.id != self.last.id => {
                let error = Error::new(
                    ErrorKind::TaskMismatch,
                    format!(
                        "asked about task {} but the server answered about task {}",
                        self.last.id, task.id
                    ),
                )
                .redact(self.address.api_key.expose_secret());
                self.state = State::Done(Some(Err(error)));
            }
            Step::Done(Ok(task)) if task.status.is_terminal() => self.finish(task),
            Step::Done(Ok(task)) => {
                self.last = task;
                self.state = State::Idle {
                    at: later(now, self.interval.max(floor)),
                };
                let grown = self.interval.saturating_add(self.interval / 2);
                self.interval = grown.min(self.policy.max_interval);
                self.exchange = None;
            }
        }
    }

    fn finish(&mut self, task: Task) {
        let result = match &task.status {
            TaskStatus::Success => Ok(task.clone()),
            _ => {
                let reason = task
                    .reason()
                    .unwrap_or_else(|| "no reason given".to_owned());
                let body = task
                    .result
                    .as_ref()
                    .map(|r| r.to_string().into_bytes())
                    .unwrap_or_default();
                Err(Error::new(
                    ErrorKind::TaskFailed,
                    format!("task {} ended {}: {reason}", task.id, task.status),
                )
                .with_body(body)
                .redact(self.address.api_key.expose_secret()))
            }
        };
        self.last = task;
        self.state = State::Done(Some(result));
    }

    fn timeout_error(&self, now: Instant) -> Error {
        let elapsed = now.saturating_duration_since(self.started);
        let limit = if self.requests >= self.policy.max_requests {
            format!("within its limit of {} requests", self.policy.max_requests)
        } else {
            format!("within {:?}", self.policy.timeout)
        };
        Error::new(
            ErrorKind::TaskTimeout,
            format!(
                "task {} did not finish {limit} (last status {} after {} requests, {elapsed:?} elapsed)",
                self.last.id, self.last.status, self.requests,
            ),
        )
        .redact(self.address.api_key.expose_secret())
    }
}

/// Whether a poll retries this failure (429, every 5xx, a transport failure
/// where no answer came), so that ending on it means the wait's time ran
/// out or the server asked for more than was left.
fn retried(e: &Error) -> bool {
    e.is_rate_limited()
        || e.is_server_error()
        || e.transport_kind().is_some_and(is_retryable_failure)
}
