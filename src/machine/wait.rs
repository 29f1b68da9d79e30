//! [`WaitTask`]: waiting for a server-side task, as an operation over the
//! private [`TaskPoller`].

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use http::Response;

use crate::machine::operation::{Event, Events, Guard, Machine, Next, answered, guarded, retrying};
use crate::machine::poller::{PollPolicy, TaskPoller};
use crate::model::error::Error;
use crate::model::task::Task;
use crate::model::transport_error::TransportError;
use crate::wire::request::Address;

/// Waits for a task until it ends: `Ok` on SUCCESS, a typed error on
/// failure, timeout or a vanished task. Made by
/// [`Endpoint::wait_for_task`](crate::Endpoint::wait_for_task); driven by
/// the [`Operation`](crate::Operation) protocol. The wait starts at the
/// first poll, so its time limit counts from there. Reports
/// [`Event::TaskPolled`] after every poll that got an answer or failed.
///
/// Whatever the server says, the wait holds these:
/// - two requests are never closer than [`PollPolicy::initial_interval`]
///   (a `Retry-After: 0` or a date in the past cannot make a request storm);
/// - transient failures (429, 5xx, network) are retried and do not end the
///   wait; a 404 ends it at once;
/// - a `Retry-After` that ends before the deadline is waited out; one that
///   does not ends the wait at once with the server's error, which keeps
///   [`Error::retry_after`];
/// - an answer about another task than the one waited for ends the wait
///   with [`ErrorKind::TaskMismatch`](crate::ErrorKind::TaskMismatch);
/// - it ends by [`PollPolicy::timeout`] and after at most
///   [`PollPolicy::max_requests`] requests.
#[derive(Debug)]
pub struct WaitTask {
    guard: Guard<WaitMachine>,
}

guarded!(WaitTask, Task);

impl WaitTask {
    pub(crate) fn new(address: &Arc<Address>, task: Task, policy: PollPolicy) -> Self {
        let machine = WaitMachine {
            address: Arc::clone(address),
            pending: Some((task, policy)),
            poller: None,
            events: Events::new(),
        };
        WaitTask {
            guard: Guard::new("wait_for_task", machine),
        }
    }
}

/// The machine of a [`WaitTask`]: a [`TaskPoller`], made at the first poll.
#[derive(Debug)]
struct WaitMachine {
    address: Arc<Address>,
    pending: Option<(Task, PollPolicy)>,
    poller: Option<TaskPoller>,
    events: Events,
}

impl Machine for WaitMachine {
    type Output = Task;

    fn poll(&mut self, now: Instant) -> Next<Task> {
        if let Some((task, policy)) = self.pending.take() {
            match TaskPoller::new(&self.address, task, policy, now) {
                Ok(poller) => self.poller = Some(poller),
                Err(e) => return Next::Done(Err(e)),
            }
        }
        let Some(poller) = &mut self.poller else {
            return Next::Done(Err(Error::invalid_request(
                "wait_for_task has already finished",
            )));
        };
        poller.poll(now)
    }

    fn handle(
        &mut self,
        result: Result<Response<Vec<u8>>, TransportError>,
        now: Instant,
        wall: SystemTime,
        random: f64,
    ) {
        let Some(poller) = &mut self.poller else {
            return;
        };
        let elapsed = now.saturating_duration_since(poller.started());
        // A poll is in progress whenever an answer is due.
        if let Some(exchange) = poller.exchange() {
            self.events.report(|| {
                answered(
                    "wait_for_task",
                    exchange,
                    &result,
                    poller.requests(),
                    elapsed,
                )
            });
        }
        poller.handle_response(result, now, wall, random);
        // A retry keeps its poll in progress.
        if let (Some((reason, attempt, wait)), Some(exchange)) =
            (poller.take_retry(), poller.exchange())
        {
            self.events
                .report(|| retrying("wait_for_task", exchange, reason, attempt, wait));
        }
        self.events.report(|| Event::TaskPolled {
            operation: "wait_for_task",
            task: poller.last().clone(),
            elapsed,
            next_poll: poller
                .next_request_at()
                .map(|at| at.saturating_duration_since(now)),
        });
    }

    fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    fn stop_events(&mut self) {
        self.events.stop();
    }
}
