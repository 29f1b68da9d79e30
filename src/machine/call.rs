//! [`Call`]: the operation of one request, retried and redirected by its
//! [`Exchange`], and [`CallMachine`], the same without its guard, which the
//! listings use for each page.

use std::fmt;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use http::{Request, Response};

use crate::machine::exchange::{Decode, Exchange, Step};
use crate::machine::operation::{
    Event, Events, Guard, Machine, Next, answered, guarded, later, retrying,
};
use crate::machine::retry::RetryPolicy;
use crate::model::error::Error;
use crate::model::transport_error::TransportError;
use crate::wire::request::Address;

/// One API call: its request, decoder, retry policy and key redaction
/// together. Made by the [`Endpoint`](crate::Endpoint)'s typed operations
/// ([`Endpoint::get_image`](crate::Endpoint::get_image),
/// [`Endpoint::create_image`](crate::Endpoint::create_image), …), so a
/// request is never paired with another operation's decoder. Driven by the
/// [`Operation`](crate::Operation) protocol.
pub struct Call<T> {
    guard: Guard<CallMachine<T>>,
}

guarded!(Call<T>, T, T);

impl<T> fmt::Debug for Call<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("operation", &self.guard.name())
            .finish_non_exhaustive()
    }
}

impl<T> Call<T> {
    /// Guards `machine`, under the operation name it reports.
    pub(crate) fn new(machine: CallMachine<T>) -> Self {
        Call {
            guard: Guard::new(machine.operation, machine),
        }
    }

    /// Replaces the retry policy (the default is [`RetryPolicy::default`]).
    /// Creates and deletes are never retried whatever the policy.
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.guard.machine_mut().set_policy(policy);
        self
    }

    /// The operation's name, e.g. `"get_image"`.
    pub fn operation(&self) -> &'static str {
        self.guard.name()
    }

    /// The exchange inside, for unit tests that drive it step by step.
    #[cfg(test)]
    pub(crate) fn into_exchange(self) -> Exchange<T> {
        self.guard.into_machine().exchange
    }
}

/// The state of a [`CallMachine`].
#[derive(Debug)]
enum CallState<T> {
    /// The next request may go at this instant (`None`: at once).
    Ready(Option<Instant>),
    /// A request is out.
    InFlight,
    /// Over; the result is handed out once.
    Done(Option<Result<T, Error>>),
}

/// A call's machine: its exchange, when the next attempt may go, and its
/// events.
pub(crate) struct CallMachine<T> {
    operation: &'static str,
    exchange: Exchange<T>,
    state: CallState<T>,
    started: Option<Instant>,
    events: Events,
}

impl<T> fmt::Debug for CallMachine<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallMachine")
            .field("operation", &self.operation)
            .field("exchange", &self.exchange)
            .finish_non_exhaustive()
    }
}

impl<T> CallMachine<T> {
    /// A call of `request` (built on `address`) decoded by `decode`,
    /// reported as `operation`.
    pub(crate) fn new(
        operation: &'static str,
        address: &Arc<Address>,
        request: Request<Vec<u8>>,
        decode: Decode<T>,
    ) -> Self {
        CallMachine {
            operation,
            exchange: Exchange::new(Arc::clone(address), request, decode, RetryPolicy::default()),
            state: CallState::Ready(None),
            started: None,
            events: Events::new(),
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

    /// Replaces the retry policy.
    pub(crate) fn set_policy(&mut self, policy: RetryPolicy) {
        self.exchange.set_policy(policy);
    }

    /// The answer to a poll with a request out, or a second poll of a
    /// finished call.
    fn out_of_turn(&self) -> Next<T> {
        Next::Done(Err(Error::invalid_request(format!(
            "{} was polled out of turn",
            self.operation
        ))))
    }
}

impl<T> Machine for CallMachine<T> {
    type Output = T;

    fn poll(&mut self, now: Instant) -> Next<T> {
        match &mut self.state {
            CallState::Ready(Some(at)) if now < *at => Next::WaitUntil(*at),
            CallState::Ready(_) => {
                self.started.get_or_insert(now);
                self.state = CallState::InFlight;
                Next::Send(self.exchange.next_request(now))
            }
            // The guard keeps a driver from polling here; a listing only
            // polls its page between answers, once per result.
            CallState::Done(result) => match result.take() {
                Some(result) => Next::Done(result),
                None => self.out_of_turn(),
            },
            CallState::InFlight => self.out_of_turn(),
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
        self.events.report(|| {
            answered(
                self.operation,
                &self.exchange,
                &result,
                self.exchange.attempt().max(1),
                elapsed,
            )
        });
        match self.exchange.handle(result, now, wall, random) {
            Step::Done(result) => self.state = CallState::Done(Some(result)),
            Step::SendAgain {
                wait,
                reason,
                attempt,
            } => {
                self.events
                    .report(|| retrying(self.operation, &self.exchange, reason, attempt, wait));
                self.state = CallState::Ready(Some(later(now, wait)));
            }
        }
    }

    fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    fn stop_events(&mut self) {
        self.events.stop();
    }
}
