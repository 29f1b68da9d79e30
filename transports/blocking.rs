//! The blocking side: the [`Transport`] trait and the [`Client`] facade.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use http::{Request, Response};

use super::config::{Observer, RetryNotice};
use super::jitter::Jitter;
use crate::{
    CreateImage, Decode, Endpoint, Error, Exchange, Image, ImageId, ImageList, ImageReference,
    ListOptions, PollAction, PollPolicy, RetryPolicy, Step, Task, TaskId, TaskPoller,
    TransportError, decode_deletion, decode_image, decode_image_list, decode_task,
};

/// Sends one request and returns its response, blocking.
///
/// Any non-2xx status is a response, not an error: the core decodes the API's
/// error body. Implemented for every `Fn(Request<Vec<u8>>) -> Result<…>`.
pub trait Transport {
    /// Sends `request`; returns the whole response or why none arrived.
    fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError>;
}

impl<F> Transport for F
where
    F: Fn(Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError>,
{
    fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        self(request)
    }
}

/// A blocking client: the core's requests, decoders and retry decisions,
/// sent through a [`Transport`], sleeping with `std::thread::sleep`.
pub struct Client<T> {
    pub(crate) endpoint: Endpoint,
    pub(crate) transport: T,
    pub(crate) policy: RetryPolicy,
    observer: Option<Observer>,
    pub(crate) jitter: Jitter,
}

impl<T> fmt::Debug for Client<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.endpoint)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl<T: Transport> Client<T> {
    /// A client for `endpoint` over `transport`, with the default
    /// [`RetryPolicy`].
    pub fn new(endpoint: Endpoint, transport: T) -> Self {
        Client {
            endpoint,
            transport,
            policy: RetryPolicy::default(),
            observer: None,
            jitter: Jitter::new(),
        }
    }

    /// Replaces the retry policy.
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Calls `observer` before each retry wait (for progress lines).
    pub fn on_retry(mut self, observer: impl Fn(&RetryNotice) + Send + Sync + 'static) -> Self {
        self.observer = Some(Arc::new(observer));
        self
    }

    /// The endpoint this client talks to.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// Lists the environment's images.
    pub fn list_images(&self, options: &ListOptions) -> Result<ImageList, Error> {
        self.call(
            self.endpoint.list_images_request(options)?,
            decode_image_list,
        )
    }

    /// Fetches one image.
    pub fn get_image(&self, id: &ImageId) -> Result<Image, Error> {
        self.call(self.endpoint.get_image_request(id)?, decode_image)
    }

    /// Lists every image, following the server's pages when it pages (see
    /// [`ImageList::next_page`]); the metadata is the first page's.
    pub fn list_all_images(&self, options: &ListOptions) -> Result<ImageList, Error> {
        let mut all = self.list_images(options)?;
        let mut page = all.next_page(options, all.images.len());
        while let Some(next) = page {
            let more = self.list_images(&next)?;
            page = more.next_page(&next, all.images.len() + more.images.len());
            all.images.extend(more.images);
        }
        Ok(all)
    }

    /// Lists every image and picks the one `reference` names (see
    /// [`resolve`](crate::resolve)); `None` when none matches.
    pub fn resolve(&self, reference: &ImageReference) -> Result<Option<Image>, Error> {
        let list = self.list_all_images(&ListOptions::new())?;
        Ok(crate::resolve(&list.images, reference).cloned())
    }

    /// Starts creating a custom image; [`TaskHandle::wait`] waits for it.
    /// Never retried (not idempotent): on failure, check
    /// [`Error::may_have_reached_server`].
    pub fn create_image(&self, create: &CreateImage) -> Result<TaskHandle<'_, T>, Error> {
        let task = self.call(self.endpoint.create_image_request(create)?, decode_task)?;
        Ok(TaskHandle::new(self, task))
    }

    /// Starts deleting an image; never retried.
    pub fn delete_image(&self, id: &ImageId) -> Result<TaskHandle<'_, T>, Error> {
        let task = self.call(self.endpoint.delete_image_request(id)?, decode_deletion)?;
        Ok(TaskHandle::new(self, task))
    }

    /// Fetches a task's current state once.
    pub fn get_task(&self, id: &TaskId) -> Result<Task, Error> {
        self.call(self.endpoint.get_task_request(id)?, decode_task)
    }

    /// A handle to wait for a task already known: one returned by
    /// [`get_task`](Self::get_task), or kept from an earlier create or
    /// delete. A task that has already ended needs no request.
    pub fn task(&self, task: Task) -> TaskHandle<'_, T> {
        TaskHandle::new(self, task)
    }

    /// Runs one call to its end: send, and retry or follow as the core says.
    pub fn call<R>(&self, request: Request<Vec<u8>>, decode: Decode<R>) -> Result<R, Error> {
        let mut exchange = Exchange::new(request, decode, self.policy.clone());
        loop {
            let result = self.transport.send(exchange.next_request(Instant::now()));
            match exchange.handle(
                result,
                Instant::now(),
                SystemTime::now(),
                self.jitter.next(),
            ) {
                Step::Done(result) => return result,
                Step::SendAgain {
                    wait,
                    reason,
                    attempt,
                } => {
                    if let Some(observer) = &self.observer {
                        observer(&RetryNotice {
                            reason,
                            attempt,
                            wait,
                        });
                    }
                    std::thread::sleep(wait);
                }
            }
        }
    }
}

/// A server-side task started by a [`Client`], to wait for.
pub struct TaskHandle<'c, T> {
    client: &'c Client<T>,
    task: Task,
    policy: PollPolicy,
}

impl<'c, T: Transport> TaskHandle<'c, T> {
    fn new(client: &'c Client<T>, task: Task) -> Self {
        TaskHandle {
            client,
            task,
            policy: PollPolicy::default(),
        }
    }

    /// The task as the server last described it.
    pub fn task(&self) -> &Task {
        &self.task
    }

    /// Replaces the polling policy (interval, timeout, request limit).
    pub fn with_poll_policy(mut self, policy: PollPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Polls until the task ends: `Ok` on SUCCESS, a typed error on failure,
    /// timeout or a vanished task.
    pub fn wait(self) -> Result<Task, Error> {
        self.wait_with(|_, _| {})
    }

    /// Like [`wait`](Self::wait), calling `progress` with the task and the
    /// time waited after every poll that got an answer.
    pub fn wait_with(self, mut progress: impl FnMut(&Task, Duration)) -> Result<Task, Error> {
        let start = Instant::now();
        let mut poller = TaskPoller::new(&self.client.endpoint, self.task, self.policy, start)?;
        loop {
            match poller.poll(Instant::now()) {
                PollAction::Send(request) => {
                    let result = self.client.transport.send(request);
                    let now = Instant::now();
                    poller.handle_response(
                        result,
                        now,
                        SystemTime::now(),
                        self.client.jitter.next(),
                    );
                    progress(poller.last(), now - start);
                }
                PollAction::WaitUntil(at) => {
                    std::thread::sleep(at.saturating_duration_since(Instant::now()));
                }
                PollAction::Done(result) => return result,
            }
        }
    }
}

impl<'c, T> fmt::Debug for TaskHandle<'c, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskHandle")
            .field("task", &self.task)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}
