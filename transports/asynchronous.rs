//! The async side: the [`AsyncClient`] facade over [`AsyncTransport`] and
//! [`AsyncSleep`], whose futures are `Send` (multi-threaded runtimes such as
//! tokio's), and the [`LocalAsyncClient`] facade over [`LocalAsyncTransport`]
//! and [`LocalAsyncSleep`], whose futures need not be (single-threaded
//! runtimes, browser `fetch`, an application's own event loop). Both are the
//! same methods over one driver: they differ only in the `Send` bounds.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response};

use super::config::{Observer, RetryNotice};
use super::drive::{Clock, Random, SystemClock, World, run_async};
use super::jitter::Jitter;
use crate::{
    Call, CreateImage, Decode, Endpoint, Error, Image, ImageId, ImageList, ImageReference,
    ListOptions, Operation, PollPolicy, RetryPolicy, Task, TaskId, TransportError,
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

/// Sends one request and resolves to its response, on a runtime where
/// futures need not be `Send`. Implemented for every
/// `Fn(Request<Vec<u8>>) -> impl Future<Output = Result<…>>`.
pub trait LocalAsyncTransport {
    /// Sends `request`; resolves to the whole response or why none arrived.
    fn send(
        &self,
        request: Request<Vec<u8>>,
    ) -> impl Future<Output = Result<Response<Vec<u8>>, TransportError>>;
}

impl<F, Fut> LocalAsyncTransport for F
where
    F: Fn(Request<Vec<u8>>) -> Fut,
    Fut: Future<Output = Result<Response<Vec<u8>>, TransportError>>,
{
    fn send(
        &self,
        request: Request<Vec<u8>>,
    ) -> impl Future<Output = Result<Response<Vec<u8>>, TransportError>> {
        self(request)
    }
}

/// Waits, on a runtime where futures need not be `Send`. Implemented for
/// every `Fn(Duration) -> impl Future<Output = ()>`.
pub trait LocalAsyncSleep {
    /// Resolves after `duration`.
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()>;
}

impl<F, Fut> LocalAsyncSleep for F
where
    F: Fn(Duration) -> Fut,
    Fut: Future<Output = ()>,
{
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> {
        self(duration)
    }
}

/// One async facade: the client, its task handle, and their one-line
/// methods over [`run_async`], for a pair of transport and sleep traits.
macro_rules! async_facade {
    (
        $(#[$client_doc:meta])*
        client $Client:ident;
        $(#[$handle_doc:meta])*
        handle $Handle:ident;
        traits $Transport:ident, $Sleep:ident;
        progress [$($progress:tt)*];
    ) => {
        $(#[$client_doc])*
        pub struct $Client<T, S> {
            pub(crate) endpoint: Endpoint,
            pub(crate) transport: T,
            pub(crate) sleeper: S,
            pub(crate) policy: RetryPolicy,
            observer: Option<Observer>,
            clock: Arc<dyn Clock + Send + Sync>,
            random: Arc<dyn Random + Send + Sync>,
        }

        impl<T, S> fmt::Debug for $Client<T, S> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($Client))
                    .field("endpoint", &self.endpoint)
                    .field("policy", &self.policy)
                    .finish_non_exhaustive()
            }
        }

        impl<T: $Transport, S: $Sleep> $Client<T, S> {
            /// A client for `endpoint` over `transport`, waiting with
            /// `sleeper`, with the default [`RetryPolicy`], the system
            /// clocks and its own jitter source.
            pub fn new(endpoint: Endpoint, transport: T, sleeper: S) -> Self {
                $Client {
                    endpoint,
                    transport,
                    sleeper,
                    policy: RetryPolicy::default(),
                    observer: None,
                    clock: Arc::new(SystemClock),
                    random: Arc::new(Jitter::new()),
                }
            }

            /// Replaces the retry policy.
            pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
                self.policy = policy;
                self
            }

            /// Calls `observer` before each retry wait.
            pub fn on_retry(
                mut self,
                observer: impl Fn(&RetryNotice) + Send + Sync + 'static,
            ) -> Self {
                self.observer = Some(Arc::new(observer));
                self
            }

            /// Reads time from `clock` instead of the system clocks (for
            /// tests on virtual time, with a sleeper that advances it).
            pub fn with_clock(mut self, clock: impl Clock + Send + Sync + 'static) -> Self {
                self.clock = Arc::new(clock);
                self
            }

            /// Draws the retry jitter (in `[0, 1)`) from `random`.
            pub fn with_random(mut self, random: impl Random + Send + Sync + 'static) -> Self {
                self.random = Arc::new(random);
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
                let op = self.endpoint.list_images(options)?;
                self.run(op.with_retry_policy(self.policy.clone())).await
            }

            /// Fetches one image.
            pub async fn get_image(&self, id: &ImageId) -> Result<Image, Error> {
                let op = self.endpoint.get_image(id)?;
                self.run(op.with_retry_policy(self.policy.clone())).await
            }

            /// Lists every image, following the server's pages (see
            /// [`ListAll`](crate::ListAll)); the metadata is the first
            /// page's.
            pub async fn list_all_images(&self, options: &ListOptions) -> Result<ImageList, Error> {
                let op = self.endpoint.list_all_images(options)?;
                self.run(op.with_retry_policy(self.policy.clone())).await
            }

            /// Lists every image and picks the one `reference` names.
            pub async fn resolve(&self, reference: &ImageReference) -> Result<Option<Image>, Error> {
                let op = self.endpoint.resolve(reference)?;
                self.run(op.with_retry_policy(self.policy.clone())).await
            }

            /// Starts creating a custom image; the handle's `wait` waits for
            /// it. Never retried (not idempotent).
            pub async fn create_image(
                &self,
                create: &CreateImage,
            ) -> Result<$Handle<'_, T, S>, Error> {
                let op = self.endpoint.create_image(create)?;
                let task = self.run(op.with_retry_policy(self.policy.clone())).await?;
                Ok($Handle::new(self, task))
            }

            /// Starts deleting an image; never retried.
            pub async fn delete_image(&self, id: &ImageId) -> Result<$Handle<'_, T, S>, Error> {
                let op = self.endpoint.delete_image(id)?;
                let task = self.run(op.with_retry_policy(self.policy.clone())).await?;
                Ok($Handle::new(self, task))
            }

            /// Fetches a task's current state once.
            pub async fn get_task(&self, id: &TaskId) -> Result<Task, Error> {
                let op = self.endpoint.get_task(id)?;
                self.run(op.with_retry_policy(self.policy.clone())).await
            }

            /// A handle to wait for a task already known: one returned by
            /// [`get_task`](Self::get_task), or kept from an earlier create
            /// or delete. A task that has already ended needs no request.
            pub fn task(&self, task: Task) -> $Handle<'_, T, S> {
                $Handle::new(self, task)
            }

            /// Drives any core [`Operation`] to its end: sends what it
            /// asks, sleeps until the instant it names, and passes its
            /// retries to the [`on_retry`](Self::on_retry) observer.
            pub async fn run<O: Operation>(&self, op: O) -> Result<O::Output, Error> {
                self.run_with(op, |_: &Task, _: Duration| {}).await
            }

            /// Runs `request` as one call decoded by `decode`, under the
            /// client's retry policy. Kept so that code written for earlier
            /// versions still compiles: it lets any request meet any
            /// decoder, which the typed operations of [`Endpoint`] rule out.
            #[deprecated(
                since = "0.2.0",
                note = "use `run` with an operation from the endpoint, e.g. `client.run(client.endpoint().get_image(&id)?)`"
            )]
            pub async fn call<R>(&self, request: Request<Vec<u8>>, decode: Decode<R>) -> Result<R, Error> {
                self.run(Call::new("call", request, decode).with_retry_policy(self.policy.clone()))
                    .await
            }

            async fn run_with<O: Operation>(
                &self,
                op: O,
                progress: impl FnMut(&Task, Duration) $($progress)*,
            ) -> Result<O::Output, Error> {
                let world = World {
                    clock: &*self.clock,
                    random: &*self.random,
                    observer: self.observer.as_ref(),
                };
                let send = |request| self.transport.send(request);
                let sleep = |duration| self.sleeper.sleep(duration);
                run_async(op, &world, send, sleep, progress).await
            }
        }

        $(#[$handle_doc])*
        pub struct $Handle<'c, T, S> {
            client: &'c $Client<T, S>,
            task: Task,
            policy: PollPolicy,
        }

        impl<'c, T: $Transport, S: $Sleep> $Handle<'c, T, S> {
            fn new(client: &'c $Client<T, S>, task: Task) -> Self {
                $Handle {
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

            /// Polls until the task ends: `Ok` on SUCCESS, a typed error on
            /// failure, timeout or a vanished task.
            pub async fn wait(self) -> Result<Task, Error> {
                self.wait_with(|_, _| {}).await
            }

            /// Like [`wait`](Self::wait), calling `progress` with the task
            /// and the time waited after every poll.
            pub async fn wait_with(
                self,
                progress: impl FnMut(&Task, Duration) $($progress)*,
            ) -> Result<Task, Error> {
                let wait = self.client.endpoint.wait_for_task(self.task, self.policy);
                self.client.run_with(wait, progress).await
            }
        }

        impl<'c, T, S> fmt::Debug for $Handle<'c, T, S> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($Handle))
                    .field("task", &self.task)
                    .field("policy", &self.policy)
                    .finish_non_exhaustive()
            }
        }
    };
}

async_facade! {
    /// An async client: one driver over the core's [`Operation`]s, sending
    /// through an [`AsyncTransport`] and waiting with an [`AsyncSleep`]. Its
    /// futures are `Send`, so it works on multi-threaded runtimes; share it
    /// by reference or in an `Arc`.
    client AsyncClient;
    /// A server-side task started by an [`AsyncClient`], to wait for.
    handle AsyncTaskHandle;
    traits AsyncTransport, AsyncSleep;
    progress [+ Send];
}

async_facade! {
    /// An async client for single-threaded runtimes: the same methods as
    /// [`AsyncClient`], over a [`LocalAsyncTransport`] and a
    /// [`LocalAsyncSleep`] whose futures need not be `Send` (a transport may
    /// hold an `Rc`, or wrap the browser's `fetch`). Its futures are `Send`
    /// only when what it holds is.
    client LocalAsyncClient;
    /// A server-side task started by a [`LocalAsyncClient`], to wait for.
    handle LocalAsyncTaskHandle;
    traits LocalAsyncTransport, LocalAsyncSleep;
    progress [];
}
