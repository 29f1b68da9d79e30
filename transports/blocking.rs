//! The blocking side: the [`Transport`] trait and the [`Client`] facade.

use std::fmt;
use std::sync::Arc;

use http::{Request, Response};

use super::drive::{Clock, Random, Sleep, StopEvents, SystemClock, World, run_blocking};
use super::facade::{Observer, TaskHandle, facade_methods};
use super::jitter::Jitter;
use crate::machine::operation::Quiet;
use crate::{Endpoint, Error, Operation, RetryPolicy, Task, TransportError};

/// A blocking method's return type: the value itself, or why not.
macro_rules! blocking_output {
    ($T:ty) => { Result<$T, Error> };
}

/// Sends one request and returns its response, blocking.
///
/// Any non-2xx status is a response, not an error: the core decodes the API's
/// error body. Implemented for every `Fn(Request<Vec<u8>>) -> Result<…>`,
/// boxed closures included, so `Client<Box<dyn Fn(…) -> … + Send + Sync>>`
/// is one client type over any transport chosen at run time.
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

/// The blocking client: every API operation as a method, over a
/// [`Transport`].
///
/// Made with [`Client::ureq`] (feature `ureq`, the default) or
/// [`Client::new`] over any transport, a closure included. The client
/// retries what is safe to retry, follows pages and polls tasks; share it
/// between threads by reference or in an `Arc`.
///
/// ```no_run
/// # #[cfg(feature = "ureq")]
/// # fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use coxedge_images::{ApiKey, Client, Endpoint, ListOptions};
///
/// let endpoint = Endpoint::builder()
///     .service("edge-services")
///     .environment("production")
///     .api_key(ApiKey::new(std::env::var("COXEDGE_API_KEY")?)?)
///     .build()?;
/// let client = Client::ureq(endpoint)?;
/// for image in client.list_images(&ListOptions::new())?.images {
///     println!("{} {}", image.id, image.status);
/// }
/// # Ok(())
/// # }
/// ```
///
/// Each method is one operation of the core driven to its end: the
/// operation decides everything (retries, redirects, paging, polling);
/// the client only sends, sleeps (`std::thread::sleep` unless
/// [`with_sleep`](Self::with_sleep) says otherwise) and reports each
/// [`Event`](crate::Event) to the [`on_event`](Self::on_event) observer.
pub struct Client<T> {
    endpoint: Endpoint,
    transport: T,
    policy: RetryPolicy,
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

    facade_methods!(blocking_output [] '_ [] []);

    /// Waits with `sleep` instead of `std::thread::sleep`.
    pub fn with_sleep(mut self, sleep: impl Sleep + Send + Sync + 'static) -> Self {
        self.sleep = Arc::new(sleep);
        self
    }

    /// Drives any [`Operation`] to its end: sends what it asks, sleeps
    /// until the instant it names, and passes its events to the
    /// [`on_event`](Self::on_event) observer. The operation's own retry
    /// policy applies (the client's is applied by the methods above), and
    /// it builds its events even when nothing takes them (the methods
    /// above build none then).
    pub fn run<O: Operation>(&self, op: O) -> Result<O::Output, Error> {
        self.drive(Ok(op), |_| {})
    }

    /// Runs `op`, or returns the error building it gave; `stop_events`
    /// tells it when nobody reads its events.
    fn drive<O: Operation>(
        &self,
        op: Result<O, Error>,
        stop_events: StopEvents<O>,
    ) -> Result<O::Output, Error> {
        let world = World {
            clock: &*self.clock,
            random: &*self.random,
            observer: self.observer.as_ref(),
        };
        run_blocking(
            op?,
            stop_events,
            &world,
            |r| self.transport.send(r),
            &*self.sleep,
        )
    }
}

impl<T: Transport> TaskHandle<'_, Client<T>> {
    /// Polls until the task ends: `Ok` on SUCCESS, a typed error on failure,
    /// timeout or a vanished task. Each poll is reported to the client's
    /// [`on_event`](Client::on_event) observer as
    /// [`Event::TaskPolled`](crate::Event::TaskPolled).
    pub fn wait(self) -> Result<Task, Error> {
        let wait = self.client.endpoint.wait_for_task(self.task, self.policy);
        self.client.drive(Ok(wait), Quiet::stop_events)
    }
}
