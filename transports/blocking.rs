//! The blocking side: the [`Transport`] trait and the [`Client`] facade.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response};

use super::config::{Observer, RetryNotice};
use super::drive::{Clock, Random, Sleep, SystemClock, World, run_blocking};
use super::jitter::Jitter;
use crate::{
    Call, CreateImage, Decode, Endpoint, Error, Image, ImageId, ImageList, ImageReference,
    ListOptions, Operation, PollPolicy, RetryPolicy, Task, TaskId, TransportError,
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

/// A blocking client: one driver over the core's [`Operation`]s, sending
/// through a [`Transport`]. Each method is one line: the operation decides
/// everything (retries, redirects, paging, polling); [`Client::run`] only
/// sends, sleeps (`std::thread::sleep` unless [`with_sleep`](Self::with_sleep)
/// says otherwise) and reports.
pub struct Client<T> {
    pub(crate) endpoint: Endpoint,
    pub(crate) transport: T,
    pub(crate) policy: RetryPolicy,
    observer: Option<Observer>,
    clock: Arc<dyn Clock + Send + Sync>,
    random: Arc<dyn Random + Send + Sync>,
    sleep: Arc<dyn Sleep + Send + Sync>,
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
    /// [`RetryPolicy`], the system clocks, its own jitter source and
    /// `std::thread::sleep`.
    pub fn new(endpoint: Endpoint, transport: T) -> Self {
        Client {
            endpoint,
            transport,
            policy: RetryPolicy::default(),
            observer: None,
            clock: Arc::new(SystemClock),
            random: Arc::new(Jitter::new()),
            sleep: Arc::new(std::thread::sleep),
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

    /// Reads time from `clock` instead of the system clocks (for tests on
    /// virtual time, with a [`with_sleep`](Self::with_sleep) that advances it).
    pub fn with_clock(mut self, clock: impl Clock + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Draws the retry jitter (in `[0, 1)`) from `random`.
    pub fn with_random(mut self, random: impl Random + Send + Sync + 'static) -> Self {
        self.random = Arc::new(random);
        self
    }

    /// Waits with `sleep` instead of `std::thread::sleep`.
    pub fn with_sleep(mut self, sleep: impl Sleep + Send + Sync + 'static) -> Self {
        self.sleep = Arc::new(sleep);
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
        self.run(
            self.endpoint
                .list_images(options)?
                .with_retry_policy(self.policy.clone()),
        )
    }

    /// Fetches one image.
    pub fn get_image(&self, id: &ImageId) -> Result<Image, Error> {
        self.run(
            self.endpoint
                .get_image(id)?
                .with_retry_policy(self.policy.clone()),
        )
    }

    /// Lists every image, following the server's pages (see
    /// [`ListAll`](crate::ListAll)); the metadata is the first page's.
    pub fn list_all_images(&self, options: &ListOptions) -> Result<ImageList, Error> {
        self.run(
            self.endpoint
                .list_all_images(options)?
                .with_retry_policy(self.policy.clone()),
        )
    }

    /// Lists every image and picks the one `reference` names (see
    /// [`resolve`](crate::resolve)); `None` when none matches.
    pub fn resolve(&self, reference: &ImageReference) -> Result<Option<Image>, Error> {
        self.run(
            self.endpoint
                .resolve(reference)?
                .with_retry_policy(self.policy.clone()),
        )
    }

    /// Starts creating a custom image; [`TaskHandle::wait`] waits for it.
    /// Never retried (not idempotent): on failure, check
    /// [`Error::may_have_reached_server`].
    pub fn create_image(&self, create: &CreateImage) -> Result<TaskHandle<'_, T>, Error> {
        let task = self.run(
            self.endpoint
                .create_image(create)?
                .with_retry_policy(self.policy.clone()),
        )?;
        Ok(TaskHandle::new(self, task))
    }

    /// Starts deleting an image; never retried.
    pub fn delete_image(&self, id: &ImageId) -> Result<TaskHandle<'_, T>, Error> {
        let task = self.run(
            self.endpoint
                .delete_image(id)?
                .with_retry_policy(self.policy.clone()),
        )?;
        Ok(TaskHandle::new(self, task))
    }

    /// Fetches a task's current state once.
    pub fn get_task(&self, id: &TaskId) -> Result<Task, Error> {
        self.run(
            self.endpoint
                .get_task(id)?
                .with_retry_policy(self.policy.clone()),
        )
    }

    /// A handle to wait for a task already known: one returned by
    /// [`get_task`](Self::get_task), or kept from an earlier create or
    /// delete. A task that has already ended needs no request.
    pub fn task(&self, task: Task) -> TaskHandle<'_, T> {
        TaskHandle::new(self, task)
    }

    /// Drives any core [`Operation`] to its end: sends what it asks, sleeps
    /// until the instant it names, and passes its retries to the
    /// [`on_retry`](Self::on_retry) observer. The operation's own retry
    /// policy applies (the client's is applied by the methods above).
    pub fn run<O: Operation>(&self, op: O) -> Result<O::Output, Error> {
        self.run_with(op, &mut |_, _| {})
    }

    /// Runs `request` as one call decoded by `decode`, under the client's
    /// retry policy. Kept so that code written for earlier versions still
    /// compiles: it lets any request meet any decoder, which the typed
    /// operations of [`Endpoint`] rule out.
    #[deprecated(
        since = "0.2.0",
        note = "use `run` with an operation from the endpoint, e.g. `client.run(client.endpoint().get_image(&id)?)`"
    )]
    pub fn call<R>(&self, request: Request<Vec<u8>>, decode: Decode<R>) -> Result<R, Error> {
        self.run(Call::new("call", request, decode).with_retry_policy(self.policy.clone()))
    }

    fn run_with<O: Operation>(
        &self,
        op: O,
        progress: &mut dyn FnMut(&Task, Duration),
    ) -> Result<O::Output, Error> {
        let world = World {
            clock: &*self.clock,
            random: &*self.random,
            observer: self.observer.as_ref(),
        };
        run_blocking(
            op,
            &world,
            |r| self.transport.send(r),
            &*self.sleep,
            progress,
        )
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
        let wait = self.client.endpoint.wait_for_task(self.task, self.policy);
        self.client.run_with(wait, &mut progress)
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
