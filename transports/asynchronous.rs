//! The async side: the [`AsyncTransport`] and [`AsyncSleep`] traits and the
//! [`AsyncClient`] facade, usable on any runtime.

use std::fmt;
use std::future::Future;
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

/// Sends one request and resolves to its response.
///
/// Any non-2xx status is a response, not an error. Implemented for every
/// `Fn(Request<Vec<u8>>) -> impl Future<Output = Result<…>> + Send`.
pub trait AsyncTransport: Send + Sync {
    /// Sends `request`; resolves to the whole response or why none arrived.
    fn send(
        &self,
        request: Request<Vec<u8>>,
    ) -> impl Future<Output = Result<Response<Vec<u8>>, TransportError>> + Send;
}

impl<F, Fut> AsyncTransport for F
where
    F: Fn(Request<Vec<u8>>) -> Fut + Send + Sync,
    Fut: Future<Output = Result<Response<Vec<u8>>, TransportError>> + Send,
{
    fn send(
        &self,
        request: Request<Vec<u8>>,
    ) -> impl Future<Output = Result<Response<Vec<u8>>, TransportError>> + Send {
        self(request)
    }
}

/// Waits, on whatever runtime the user runs. Implemented for every
/// `Fn(Duration) -> impl Future<Output = ()> + Send`, e.g.
/// `tokio::time::sleep`.
pub trait AsyncSleep: Send + Sync {
    /// Resolves after `duration`.
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send;
}

impl<F, Fut> AsyncSleep for F
where
    F: Fn(Duration) -> Fut + Send + Sync,
    Fut: Future<Output = ()> + Send,
{
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send {
        self(duration)
    }
}

/// An async client: the core's requests, decoders and retry decisions, sent
/// through an [`AsyncTransport`], waiting with an [`AsyncSleep`]. Its futures
/// are `Send`, so it works on multi-threaded runtimes; share it by reference
/// or in an `Arc`.
pub struct AsyncClient<T, S> {
    pub(crate) endpoint: Endpoint,
    pub(crate) transport: T,
    pub(crate) sleeper: S,
    pub(crate) policy: RetryPolicy,
    observer: Option<Observer>,
    pub(crate) jitter: Jitter,
}

impl<T, S> fmt::Debug for AsyncClient<T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncClient")
            .field("endpoint", &self.endpoint)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl<T: AsyncTransport, S: AsyncSleep> AsyncClient<T, S> {
    /// A client for `endpoint` over `transport`, waiting with `sleeper`.
    pub fn new(endpoint: Endpoint, transport: T, sleeper: S) -> Self {
        AsyncClient {
            endpoint,
            transport,
            sleeper,
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

    /// Calls `observer` before each retry wait.
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
    pub async fn list_images(&self, options: &ListOptions) -> Result<ImageList, Error> {
        let request = self.endpoint.list_images_request(options)?;
        self.call(request, decode_image_list).await
    }

    /// Fetches one image.
    pub async fn get_image(&self, id: &ImageId) -> Result<Image, Error> {
        let request = self.endpoint.get_image_request(id)?;
        self.call(request, decode_image).await
    }

    /// Lists every image, following the server's pages when it pages (see
    /// [`ImageList::next_page`]); the metadata is the first page's.
    pub async fn list_all_images(&self, options: &ListOptions) -> Result<ImageList, Error> {
        let mut all = self.list_images(options).await?;
        let mut page = all.next_page(options, all.images.len());
        while let Some(next) = page {
            let more = self.list_images(&next).await?;
            page = more.next_page(&next, all.images.len() + more.images.len());
            all.images.extend(more.images);
        }
        Ok(all)
    }

    /// Lists every image and picks the one `reference` names.
    pub async fn resolve(&self, reference: &ImageReference) -> Result<Option<Image>, Error> {
        let list = self.list_all_images(&ListOptions::new()).await?;
        Ok(crate::resolve(&list.images, reference).cloned())
    }

    /// Starts creating a custom image; [`AsyncTaskHandle::wait`] waits for
    /// it. Never retried (not idempotent).
    pub async fn create_image(
        &self,
        create: &CreateImage,
    ) -> Result<AsyncTaskHandle<'_, T, S>, Error> {
        let request = self.endpoint.create_image_request(create)?;
        let task = self.call(request, decode_task).await?;
        Ok(AsyncTaskHandle::new(self, task))
    }

    /// Starts deleting an image; never retried.
    pub async fn delete_image(&self, id: &ImageId) -> Result<AsyncTaskHandle<'_, T, S>, Error> {
        let request = self.endpoint.delete_image_request(id)?;
        let task = self.call(request, decode_deletion).await?;
        Ok(AsyncTaskHandle::new(self, task))
    }

    /// Fetches a task's current state once.
    pub async fn get_task(&self, id: &TaskId) -> Result<Task, Error> {
        let request = self.endpoint.get_task_request(id)?;
        self.call(request, decode_task).await
    }

    /// A handle to wait for a task already known: one returned by
    /// [`get_task`](Self::get_task), or kept from an earlier create or
    /// delete. A task that has already ended needs no request.
    pub fn task(&self, task: Task) -> AsyncTaskHandle<'_, T, S> {
        AsyncTaskHandle::new(self, task)
    }

    /// Runs one call to its end: send, and retry or follow as the core says.
    pub async fn call<R>(&self, request: Request<Vec<u8>>, decode: Decode<R>) -> Result<R, Error> {
        let mut exchange = Exchange::new(request, decode, self.policy.clone());
        loop {
            let result = self
                .transport
                .send(exchange.next_request(Instant::now()))
                .await;
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
                    self.sleeper.sleep(wait).await;
                }
            }
        }
    }
}

/// A server-side task started by an [`AsyncClient`], to wait for.
pub struct AsyncTaskHandle<'c, T, S> {
    client: &'c AsyncClient<T, S>,
    task: Task,
    policy: PollPolicy,
}

impl<'c, T: AsyncTransport, S: AsyncSleep> AsyncTaskHandle<'c, T, S> {
    fn new(client: &'c AsyncClient<T, S>, task: Task) -> Self {
        AsyncTaskHandle {
            client,
            task,
            policy: PollPolicy::default(),
        }
    }

    /// The task as the server last described it.
    pub fn task(&self) -> &Task {
        &self.task
    }

    /// Replaces the polling policy.
    pub fn with_poll_policy(mut self, policy: PollPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Polls until the task ends.
    pub async fn wait(self) -> Result<Task, Error> {
        self.wait_with(|_, _| {}).await
    }

    /// Like [`wait`](Self::wait), calling `progress` after every answered
    /// poll.
    pub async fn wait_with(
        self,
        mut progress: impl FnMut(&Task, Duration) + Send,
    ) -> Result<Task, Error> {
        let start = Instant::now();
        let mut poller = TaskPoller::new(&self.client.endpoint, self.task, self.policy, start)?;
        loop {
            match poller.poll(Instant::now()) {
                PollAction::Send(request) => {
                    let result = self.client.transport.send(request).await;
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
                    let wait = at.saturating_duration_since(Instant::now());
                    self.client.sleeper.sleep(wait).await;
                }
                PollAction::Done(result) => return result,
            }
        }
    }
}

impl<'c, T, S> fmt::Debug for AsyncTaskHandle<'c, T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncTaskHandle")
            .field("task", &self.task)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}
