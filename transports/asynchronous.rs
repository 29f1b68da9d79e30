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

use super::drive::{Clock, Random, StopEvents, SystemClock, World, run_async};
use super::facade::{Observer, TaskHandle, facade_methods};
use super::jitter::Jitter;
use crate::machine::operation::Quiet;
use crate::{Endpoint, Error, Operation, RetryPolicy, Task, TransportError};

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

/// An async method's return type: a future of the value, borrowing the
/// client (`'c`) and nothing else.
macro_rules! async_output {
    ($Out:ty) => { impl Future<Output = Result<$Out, Error>> + use<'c, T, S> };
}

/// One async facade, for a pair of transport and sleep traits: the client,
/// its methods (from [`facade_methods!`]) and its [`TaskHandle`]'s `wait`.
macro_rules! async_facade {
    (
        $(#[$client_doc:meta])*
        client $Client:ident;
        traits $Transport:ident, $Sleep:ident;
    ) => {
        $(#[$client_doc])*
        pub struct $Client<T, S> {
            endpoint: Endpoint,
            transport: T,
            sleeper: S,
            policy: RetryPolicy,
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

        impl<T: $Transport, S: $Sleep> TaskHandle<'_, $Client<T, S>> {
            /// Polls until the task ends: `Ok` on SUCCESS, a typed error on
            /// failure, timeout or a vanished task. Each poll is reported
            /// to the client's `on_event` observer as
            /// [`Event::TaskPolled`](crate::Event::TaskPolled).
            pub async fn wait(self) -> Result<Task, Error> {
                let wait = self.client.endpoint.wait_for_task(self.task, self.policy);
                self.client.drive(Ok(wait), Quiet::stop_events).await
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
    traits AsyncTransport, AsyncSleep;
}

async_facade! {
    /// An async client for single-threaded runtimes: the same methods as
    /// [`AsyncClient`], over a [`LocalAsyncTransport`] and a
    /// [`LocalAsyncSleep`] whose futures need not be `Send` (a transport may
    /// hold an `Rc`, or wrap the browser's `fetch`). Its futures are `Send`
    /// only when what it holds is.
    client LocalAsyncClient;
    traits LocalAsyncTransport, LocalAsyncSleep;
}
