//! The async side: the [`AsyncClient`] over an [`AsyncTransport`] and an
//! [`AsyncSleep`], for any runtime, multi-threaded or not.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response};

use super::drive::{Clock, Random, StopEvents, SystemClock, World, run_async};
use super::facade::{Observer, TaskHandle, facade_methods};
use super::jitter::Jitter;
use crate::machine::operation::Quiet;
use crate::{Endpoint, Error, Operation, RetryPolicy, Task, TransportError};

/// Sends one request and resolves to its response.
///
/// Any non-2xx status is a response, not an error. The future need not be
/// `Send`: a transport may hold an `Rc` or wrap the browser's `fetch`. When
/// it is `Send` (as the bundled hyper transport's is), so are the futures of
/// the [`AsyncClient`] over it, and they spawn on multi-threaded runtimes.
///
/// Implemented for every `Fn(Request<Vec<u8>>) -> impl Future<Output =
/// Result<…>>`.
pub trait AsyncTransport {
    /// Sends `request`; resolves to the whole response or why none arrived.
    fn send(
        &self,
        request: Request<Vec<u8>>,
    ) -> impl Future<Output = Result<Response<Vec<u8>>, TransportError>>;
}

impl<F, Fut> AsyncTransport for F
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

/// Waits, on whatever runtime the user runs. Implemented for every
/// `Fn(Duration) -> impl Future<Output = ()>`, e.g. `tokio::time::sleep`.
pub trait AsyncSleep {
    /// Resolves after `duration`.
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()>;
}

impl<F, Fut> AsyncSleep for F
where
    F: Fn(Duration) -> Fut,
    Fut: Future<Output = ()>,
{
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> {
        self(duration)
    }
}

/// An async method's return type: a future of the value, borrowing the
/// client (`'c`) and nothing else.
macro_rules! async_output {
    ($Out:ty) => { impl Future<Output = Result<$Out, Error>> + use<'c, T, S> };
}

/// The async client: every API operation as a method returning a future,
/// over an [`AsyncTransport`] and an [`AsyncSleep`], on any runtime.
///
/// Made with [`AsyncClient::hyper`] (feature `hyper`, on tokio) or
/// [`AsyncClient::new`] over any transport. Its futures borrow the client
/// and are `Send` exactly when the transport's and the sleep's are, so over
/// hyper they spawn on a multi-threaded runtime; share the client by
/// reference or in an `Arc`.
///
/// ```no_run
/// # #[cfg(feature = "hyper")]
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use coxedge_images::{ApiKey, AsyncClient, Endpoint, ListOptions};
///
/// let endpoint = Endpoint::builder()
///     .service("edge-services")
///     .environment("production")
///     .api_key(ApiKey::new(std::env::var("COXEDGE_API_KEY")?)?)
///     .build()?;
/// let client = AsyncClient::hyper(endpoint)?;
/// for image in client.list_images(&ListOptions::new()).await?.images {
///     println!("{} {}", image.id, image.status);
/// }
/// # Ok(())
/// # }
/// ```
pub struct AsyncClient<T, S> {
    endpoint: Endpoint,
    transport: T,
    sleeper: S,
    policy: RetryPolicy,
    observer: Option<Observer>,
    clock: Arc<dyn Clock + Send + Sync>,
    random: Arc<dyn Random + Send + Sync>,
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
    /// A client for `endpoint` over `transport`, waiting with
    /// `sleeper`, with the default [`RetryPolicy`], the system
    /// clocks and its own jitter source.
    pub fn new(endpoint: Endpoint, transport: T, sleeper: S) -> Self {
        AsyncClient {
            endpoint,
            transport,
            sleeper,
            policy: RetryPolicy::default(),
            observer: None,
            clock: Arc::new(SystemClock),
            random: Arc::new(Jitter::new()),
        }
    }

    facade_methods!(async_output ['c] 'c [async move] [.await]);

    /// Drives any [`Operation`] to its end: sends what it asks,
    /// sleeps until the instant it names, and passes its events to
    /// the [`on_event`](Self::on_event) observer. The operation
    /// builds its events even when nothing takes them (the methods
    /// above build none then).
    pub fn run<'c, O: Operation + 'c>(
        &'c self,
        op: O,
    ) -> impl Future<Output = Result<O::Output, Error>> + use<'c, O, T, S> {
        self.drive(Ok(op), |_| {})
    }

    /// Runs `op`, or ends with the error building it gave
    /// (`stop_events` tells it when nobody reads its events): the
    /// driver's own future, with no layer around it (each layer
    /// would copy the whole future once more as it starts).
    fn drive<'c, O: Operation + 'c>(
        &'c self,
        op: Result<O, Error>,
        stop_events: StopEvents<O>,
    ) -> impl Future<Output = Result<O::Output, Error>> + use<'c, O, T, S> {
        let world = World {
            clock: &*self.clock,
            random: &*self.random,
            observer: self.observer.as_ref(),
        };
        let send = move |request| self.transport.send(request);
        let sleep = move |duration| self.sleeper.sleep(duration);
        run_async(op, stop_events, world, send, sleep)
    }
}

impl<T: AsyncTransport, S: AsyncSleep> TaskHandle<'_, AsyncClient<T, S>> {
    /// Polls until the task ends: `Ok` on SUCCESS, a typed error on
    /// failure, timeout or a vanished task. Each poll is reported
    /// to the client's `on_event` observer as
    /// [`Event::TaskPolled`](crate::Event::TaskPolled).
    pub async fn wait(self) -> Result<Task, Error> {
        let wait = self.client.endpoint.wait_for_task(self.task, self.policy);
        self.client.drive(Ok(wait), Quiet::stop_events).await
    }
}
