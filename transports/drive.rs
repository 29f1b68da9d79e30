//! The drivers: one loop over the core's [`Operation`] protocol for blocking
//! code and one for async code, and what they take from the world (a
//! [`Clock`], a [`Random`] source, a [`Sleep`]). They decide nothing: they
//! send what the operation asks, sleep until the instant it names, and pass
//! its [`Event`]s on: to the facade's observer and (with the `tracing`
//! feature) the request logs ([`CallLog`]).

use std::future::Future;
use std::time::{Duration, Instant, SystemTime};

use http::{Request, Response};

use super::facade::Observer;
use super::jitter::Jitter;
use super::log::CallLog;
use crate::{Error, Next, Operation, TransportError};

/// Where a facade reads the time. The default, [`SystemClock`], reads the
/// system clocks; a test passes a virtual clock (and a [`Sleep`] that
/// advances it) to run a facade on virtual time.
pub trait Clock {
    /// The monotonic time now.
    fn now(&self) -> Instant;
    /// The wall-clock time now (to read `Retry-After` dates).
    fn wall(&self) -> SystemTime;
}

/// The system's clocks.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
    fn wall(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// Where a facade draws the retry jitter: a number in `[0, 1)`. Implemented
/// for every `Fn() -> f64`; the default is a per-client xorshift generator.
pub trait Random {
    /// A number in `[0, 1)`.
    fn random(&self) -> f64;
}

impl<F: Fn() -> f64> Random for F {
    fn random(&self) -> f64 {
        self()
    }
}

impl Random for Jitter {
    fn random(&self) -> f64 {
        self.next()
    }
}

/// How the blocking [`Client`](crate::Client) waits. Implemented for every
/// `Fn(Duration)`; the default is `std::thread::sleep`.
pub trait Sleep {
    /// Returns after `duration`.
    fn sleep(&self, duration: Duration);
}

impl<F: Fn(Duration)> Sleep for F {
    fn sleep(&self, duration: Duration) {
        self(duration)
    }
}

/// What a facade supplies to every run: time, randomness, and its
/// observer.
pub(crate) struct World<'a> {
    pub(crate) clock: &'a (dyn Clock + Send + Sync),
    pub(crate) random: &'a (dyn Random + Send + Sync),
    pub(crate) observer: Option<&'a Observer>,
}

/// How a driver tells an operation that nobody reads its events, so that
/// it builds none: [`Quiet::stop_events`](crate::machine::operation::Quiet)
/// for the crate's own operations, nothing for any other.
pub(crate) type StopEvents<O> = fn(&mut O);

/// Stops `op`'s events when neither the observer nor the log takes them.
fn stop_unheard<O>(op: &mut O, stop_events: StopEvents<O>, log: &CallLog, world: &World<'_>) {
    if world.observer.is_none() && log.is_quiet() {
        stop_events(op);
    }
}

/// Drains `op`'s events, passing each to the log and the observer.
fn drain<O: Operation>(op: &mut O, log: &mut CallLog, world: &World<'_>) {
    while let Some(event) = op.poll_event() {
        log.event(&event, world.clock);
        if let Some(observer) = world.observer {
            observer(&event);
        }
    }
}

/// Drives `op` to its end, blocking.
pub(crate) fn run_blocking<O: Operation>(
    mut op: O,
    stop_events: StopEvents<O>,
    world: &World<'_>,
    send: impl Fn(Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError>,
    sleep: &dyn Sleep,
) -> Result<O::Output, Error> {
    let mut log = CallLog::start();
    stop_unheard(&mut op, stop_events, &log, world);
    loop {
        let next = op.poll(world.clock.now());
        drain(&mut op, &mut log, world);
        match next {
            Next::Send(request) => {
                log.sending(&request, world.clock);
                let answer = log.in_span(|| send(request));
                log.answered(&answer);
                let now = world.clock.now();
                op.handle(answer, now, world.clock.wall(), world.random.random());
                drain(&mut op, &mut log, world);
            }
            Next::WaitUntil(at) => sleep.sleep(at.saturating_duration_since(world.clock.now())),
            Next::Done(result) => {
                log.finish(&result, world.clock);
                return result;
            }
        }
    }
}

/// Drives `op` to its end with async sending and sleeping (or returns the
/// error building it gave). Shared by the `Send` and the local async
/// facades: the future is `Send` exactly when what it holds is.
///
/// An `async move` block rather than an `async fn`, the operation used
/// where it lies, and no request or `Next` held across an `.await`: an
/// `async fn` keeps its arguments twice in its future (as given and as
/// locals), and every byte of the future is copied when a caller starts it.
#[allow(clippy::manual_async_fn)]
pub(crate) fn run_async<'w, O, SendFut, SleepFut>(
    mut op: Result<O, Error>,
    stop_events: StopEvents<O>,
    world: World<'w>,
    send: impl Fn(Request<Vec<u8>>) -> SendFut + 'w,
    sleep: impl Fn(Duration) -> SleepFut + 'w,
) -> impl Future<Output = Result<O::Output, Error>> + 'w
where
    O: Operation + 'w,
    SendFut: Future<Output = Result<Response<Vec<u8>>, TransportError>>,
    SleepFut: Future<Output = ()>,
{
    async move {
        let op = match op {
            Ok(ref mut op) => op,
            Err(error) => return Err(error),
        };
        let mut log = CallLog::start();
        stop_unheard(op, stop_events, &log, &world);
        loop {
            let next = op.poll(world.clock.now());
            drain(op, &mut log, &world);
            let request = match next {
                Next::Send(request) => request,
                Next::WaitUntil(at) => {
                    sleep(at.saturating_duration_since(world.clock.now())).await;
                    continue;
                }
                Next::Done(result) => {
                    log.finish(&result, world.clock);
                    return result;
                }
            };
            log.sending(&request, world.clock);
            let answer = log.instrument(send(request)).await;
            log.answered(&answer);
            let now = world.clock.now();
            op.handle(answer, now, world.clock.wall(), world.random.random());
            drain(op, &mut log, &world);
        }
    }
}

#[cfg(test)]
mod tests {
    //! Whether the drivers stop an operation's events: only when neither an
    //! observer nor the request log takes them (no subscriber is set in
    //! these unit tests, so the log takes nothing).

    use std::cell::Cell;
    use std::rc::Rc;
    use std::sync::Arc;

    use super::*;
    use crate::machine::operation::Quiet;
    use crate::{ApiKey, Call, Endpoint, Event, Image};

    /// A get whose driver's takings of events are counted.
    struct Counted {
        call: Call<Image>,
        taken: Rc<Cell<usize>>,
    }

    impl Operation for Counted {
        type Output = Image;
        fn poll(&mut self, now: std::time::Instant) -> Next<Image> {
            self.call.poll(now)
        }
        fn handle(
            &mut self,
            result: Result<Response<Vec<u8>>, TransportError>,
            now: std::time::Instant,
            wall: SystemTime,
            random: f64,
        ) {
            self.call.handle(result, now, wall, random)
        }
        fn poll_event(&mut self) -> Option<Event> {
            let event = self.call.poll_event();
            self.taken
                .set(self.taken.get() + usize::from(event.is_some()));
            event
        }
    }

    fn stop(op: &mut Counted) {
        op.call.stop_events();
    }

    fn get() -> (Counted, Rc<Cell<usize>>) {
        let endpoint = Endpoint::builder()
            .base_url("https://h.example/api/v2")
            .service("edge-services")
            .environment("env")
            .api_key(ApiKey::new("canary-key").unwrap())
            .build()
            .unwrap();
        let call = endpoint.get_image(&"s/f/t".parse().unwrap()).unwrap();
        let taken = Rc::new(Cell::new(0));
        (
            Counted {
                call,
                taken: Rc::clone(&taken),
            },
            taken,
        )
    }

    /// The answer to the get, as the API's docs write it.
    fn answer(_: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        let body = r#"{"data": {"id": "s/f/t", "slug": "x", "reference": "x/f:t",
            "createdAt": "2020-11-10T20:34:00Z", "status": "READY"}}"#;
        Ok(Response::new(body.as_bytes().to_vec()))
    }

    fn world(observer: Option<&Observer>) -> World<'_> {
        World {
            clock: &SystemClock,
            random: &|| 0.5,
            observer,
        }
    }

    /// Runs the get on the blocking driver, then on the async one; gives
    /// how many events each driver took from it.
    fn takings(observer: Option<&Observer>, stop_events: StopEvents<Counted>) -> [usize; 2] {
        let (op, blocking) = get();
        run_blocking(op, stop_events, &world(observer), answer, &|_| {}).expect("get");
        let (op, asynchronous) = get();
        let run = run_async(
            Ok(op),
            stop_events,
            world(observer),
            |request| std::future::ready(answer(request)),
            |_| std::future::ready(()),
        );
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(run)
            .expect("get");
        [blocking.get(), asynchronous.get()]
    }

    #[test]
    fn events_nobody_takes_are_stopped_and_an_observer_gets_them() {
        // The control: an operation that is never stopped has its answer
        // drained.
        assert_eq!(takings(None, |_| {}), [1, 1]);
        // Nobody takes them: the drivers stop them before the first poll.
        assert_eq!(takings(None, stop), [0, 0]);
        // An observer takes them: nothing is stopped, and it sees each.
        let seen = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = Arc::clone(&seen);
        let observer: Observer = Arc::new(move |event: &Event| {
            assert!(matches!(event, Event::Answered { .. }));
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        });
        assert_eq!(takings(Some(&observer), stop), [1, 1]);
        assert_eq!(seen.load(std::sync::atomic::Ordering::Relaxed), 2);
    }
}
