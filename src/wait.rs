//! [`WaitTask`]: waiting for a server-side task as an [`Operation`], over
//! [`TaskPoller`].

use std::collections::VecDeque;
use std::time::{Instant, SystemTime};

use http::Response;

use crate::endpoint::Endpoint;
use crate::error::Error;
use crate::operation::{Event, Next, Operation, answered, redacted};
use crate::poller::{PollAction, PollPolicy, TaskPoller};
use crate::request::api_key_of;
use crate::task::Task;
use crate::transport_error::TransportError;

/// The driving protocol over the poller's own `poll`/`handle_response`.
impl Operation for TaskPoller {
    type Output = Task;

    fn poll(&mut self, now: Instant) -> Next<Task> {
        match TaskPoller::poll(self, now) {
            PollAction::Send(request) => Next::Send(request),
            PollAction::WaitUntil(at) => Next::WaitUntil(at),
            PollAction::Done(result) => Next::Done(result),
        }
    }

    fn handle(
        &mut self,
        result: Result<Response<Vec<u8>>, TransportError>,
        now: Instant,
        wall: SystemTime,
        random: f64,
    ) {
        self.handle_response(result, now, wall, random);
    }
}

/// Waits for a task until it ends: `Ok` on SUCCESS, a typed error on
/// failure, timeout or a vanished task. Made by [`Endpoint::wait_for_task`];
/// the [`TaskPoller`] starts at the first [`poll`](Operation::poll), so the
/// wait's time limit counts from there. Reports [`Event::TaskPolled`] after
/// every poll that got an answer or failed.
#[derive(Debug)]
pub struct WaitTask {
    endpoint: Endpoint,
    pending: Option<(Task, PollPolicy)>,
    poller: Option<TaskPoller>,
    events: VecDeque<Event>,
}

impl WaitTask {
    pub(crate) fn new(endpoint: &Endpoint, task: Task, policy: PollPolicy) -> Self {
        WaitTask {
            endpoint: endpoint.clone(),
            pending: Some((task, policy)),
            poller: None,
            events: VecDeque::new(),
        }
    }

    /// The poller, once the wait has started.
    pub fn poller(&self) -> Option<&TaskPoller> {
        self.poller.as_ref()
    }
}

impl Operation for WaitTask {
    type Output = Task;

    fn poll(&mut self, now: Instant) -> Next<Task> {
        if let Some((task, policy)) = self.pending.take() {
            match TaskPoller::new(&self.endpoint, task, policy, now) {
                Ok(poller) => self.poller = Some(poller),
                Err(e) => return Next::Done(Err(e)),
            }
        }
        let Some(poller) = &mut self.poller else {
            return Next::Done(Err(Error::invalid_request(
                "wait_for_task has already finished",
            )));
        };
        Operation::poll(poller, now)
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
        self.events.push_back(answered(
            "wait_for_task",
            poller.request(),
            &result,
            poller.requests(),
            elapsed,
        ));
        poller.handle_response(result, now, wall, random);
        if let Some((reason, attempt, wait)) = poller.take_retry() {
            let request = poller.request();
            let key = api_key_of(request);
            self.events.push_back(Event::Retrying {
                operation: "wait_for_task",
                method: request.method().clone(),
                path: redacted(request.uri().path().to_owned(), key),
                reason: redacted(reason, key),
                attempt,
                wait,
            });
        }
        self.events.push_back(Event::TaskPolled {
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
}
