//! The facades driven by closure transports: no server, no network.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use coxedge_images::{
    ApiKey, CreateImage, Endpoint, ErrorKind, Event, ListOptions, PollPolicy, RetryPolicy, Task,
    TaskId, TaskStatus, TransportError, TransportErrorKind,
};
use coxedge_images::{AsyncClient, Client, Clock};
use http::{Request, Response};

fn endpoint() -> Endpoint {
    Endpoint::builder()
        .service("cox")
        .environment("test-area")
        .api_key(ApiKey::new("canary-SECRET-4242").unwrap())
        .build()
        .unwrap()
}

fn fast() -> RetryPolicy {
    RetryPolicy::default()
        .with_base_delay(Duration::from_millis(1))
        .with_max_delay(Duration::from_millis(5))
}

type Log = Arc<Mutex<Vec<String>>>;

/// A transport made of a closure.
type Scripted =
    Box<dyn Fn(Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> + Send + Sync>;

/// A scripted server: answers in order, logging "METHOD path".
fn scripted(answers: Vec<(u16, &'static str)>) -> (Log, Scripted) {
    let log: Log = Arc::default();
    let answers = Arc::new(Mutex::new(answers.into_iter()));
    let seen = log.clone();
    let transport = move |request: Request<Vec<u8>>| {
        seen.lock()
            .unwrap()
            .push(format!("{} {}", request.method(), request.uri().path()));
        match answers.lock().unwrap().next() {
            Some((0, _)) => Err(TransportError::new(TransportErrorKind::Io, "reset")),
            Some((status, body)) => Ok(Response::builder()
                .status(status)
                .body(body.as_bytes().to_vec())
                .unwrap()),
            None => Err(TransportError::new(
                TransportErrorKind::Connect,
                "script over",
            )),
        }
    };
    (log, Box::new(transport))
}

#[test]
fn blocking_retries_then_decodes_and_reports_each_retry() {
    let (log, transport) = scripted(vec![(503, "busy"), (0, ""), (200, r#"{"data": []}"#)]);
    let notices = Arc::new(Mutex::new(Vec::new()));
    let seen = notices.clone();
    let client = Client::new(endpoint(), transport)
        .with_retry_policy(fast())
        .on_event(move |event| {
            if let Event::Retrying {
                attempt, reason, ..
            } = event
            {
                seen.lock().unwrap().push((*attempt, reason.clone()));
            }
        });
    let list = client.list_page(&ListOptions::new()).unwrap();
    assert!(list.images.is_empty());
    assert_eq!(log.lock().unwrap().len(), 3);
    let notices = notices.lock().unwrap();
    assert_eq!(notices.len(), 2);
    assert_eq!(notices[0].0, 1);
    assert!(notices[0].1.contains("503"), "{:?}", notices[0]);
    assert!(notices[1].1.contains("reset"), "{:?}", notices[1]);
}

#[test]
fn blocking_create_is_never_retried_and_waits_for_the_task() {
    let (log, transport) = scripted(vec![(503, "busy")]);
    let client = Client::new(endpoint(), transport).with_retry_policy(fast());
    let err = client
        .create_image(&CreateImage::new("f", "t", "w", "i"))
        .unwrap_err();
    assert!(err.is_server_error());
    assert!(err.may_have_reached_server());
    assert_eq!(log.lock().unwrap().len(), 1);

    let (log, transport) = scripted(vec![
        (200, r#"{"taskId": "t1", "taskStatus": "PENDING"}"#),
        (200, r#"{"data": {"id": "t1", "status": "PENDING"}}"#),
        (502, "<html>bad gateway</html>"),
        (
            200,
            r#"{"data": {"id": "t1", "status": "SUCCESS", "result": {"id": "s/f/t"}}}"#,
        ),
    ]);
    let polled = Polled::default();
    let client = Client::new(endpoint(), transport)
        .with_retry_policy(fast())
        .on_event(polled.observer());
    let handle = client
        .create_image(&CreateImage::new("f", "t", "w", "i"))
        .unwrap();
    assert_eq!(handle.task().status, TaskStatus::Pending);
    let task = handle
        .with_poll_policy(PollPolicy::default().with_initial_interval(Duration::from_millis(5)))
        .wait()
        .unwrap();
    let seen = polled.statuses();
    assert_eq!(task.status, TaskStatus::Success);
    assert_eq!(
        *log.lock().unwrap(),
        [
            "POST /api/v1/services/cox/test-area/images",
            "GET /api/v1/tasks/t1",
            "GET /api/v1/tasks/t1",
            "GET /api/v1/tasks/t1"
        ]
    );
    assert_eq!(seen.last(), Some(&TaskStatus::Success));
}

#[test]
fn blocking_delete_failure_is_typed() {
    let (_, transport) = scripted(vec![
        (200, r#"{"taskId": "t2", "taskStatus": "PENDING"}"#),
        (
            200,
            r#"{"taskId": "t2", "taskStatus": "FAILURE", "result": "image in use"}"#,
        ),
    ]);
    let client = Client::new(endpoint(), transport);
    let err = client
        .delete_image(&"s/f/t".parse().unwrap())
        .unwrap()
        .wait()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TaskFailed);
    assert!(err.to_string().contains("image in use"), "{err}");
}

#[test]
fn errors_never_show_the_key() {
    let (_, transport) = scripted(vec![(
        401,
        r#"{"errors":[{"code":401,"message":"bad key"}]}"#,
    )]);
    let client = Client::new(endpoint(), transport);
    let err = client.list_page(&ListOptions::new()).unwrap_err();
    assert!(err.is_unauthorized());
    let text = format!("{err} {err:?} {client:?}");
    assert!(!text.contains("canary-SECRET-4242"), "{text}");
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn async_client_on_virtual_time() {
    let (log, transport) = scripted(vec![
        (429, "slow down"),
        (
            200,
            r#"{"data": {"stackId": "s", "id": "s/f/t", "slug": "x", "family": "f", "tag": "t",
            "createdAt": "2020-11-10T20:34:11Z", "reference": "x/f:t", "status": "READY"}}"#,
        ),
    ]);
    let transport = Arc::new(transport);
    let async_transport = move |r: Request<Vec<u8>>| {
        let t = transport.clone();
        async move { t(r) }
    };
    let client = AsyncClient::new(endpoint(), async_transport, tokio::time::sleep);
    let image = client.get_image(&"s/f/t".parse().unwrap()).await.unwrap();
    assert_eq!(image.id.as_str(), "s/f/t");
    assert_eq!(log.lock().unwrap().len(), 2);
}

#[test]
fn async_futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    let transport = |_: Request<Vec<u8>>| async {
        Err::<Response<Vec<u8>>, _>(TransportError::new(TransportErrorKind::Connect, "x"))
    };
    let client = AsyncClient::new(endpoint(), transport, tokio::time::sleep);
    assert_send(&client.list_page(&ListOptions::new()));
    assert_send(&client.get_image(&"s/f/t".parse().unwrap()));
    assert_send(&client.create_image(&CreateImage::new("f", "t", "w", "i")));
    assert_send(&client.list_images(&ListOptions::new()));
    assert_send(&client.resolve(&"cox-edge/ubuntu".parse().unwrap()));
    assert_send(&client.task(running()).wait());
}

/// A clock that moves only when its sleep is called.
#[derive(Clone)]
struct VirtualClock(Arc<Mutex<(Instant, SystemTime)>>);

impl VirtualClock {
    fn new() -> Self {
        VirtualClock(Arc::new(Mutex::new((
            Instant::now(),
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        ))))
    }

    fn advance(&self, by: Duration) {
        let mut t = self.0.lock().unwrap();
        t.0 += by;
        t.1 += by;
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> Instant {
        self.0.lock().unwrap().0
    }
    fn wall(&self) -> SystemTime {
        self.0.lock().unwrap().1
    }
}

/// A server whose task never ends, with a rate limit now and then.
fn never_ending_task(
    log: Log,
) -> impl Fn(Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
    move |request: Request<Vec<u8>>| {
        let mut log = log.lock().unwrap();
        log.push(request.uri().path().to_owned());
        let status = if log.len() % 10 == 3 { 503 } else { 200 };
        Ok(Response::builder()
            .status(status)
            .body(br#"{"data": {"id": "t9", "status": "RUNNING"}}"#.to_vec())
            .unwrap())
    }
}

fn running() -> Task {
    Task::new(
        "t9".parse::<TaskId>().unwrap(),
        TaskStatus::Other("RUNNING".into()),
    )
}

#[test]
fn blocking_facade_runs_a_five_minute_wait_on_virtual_time() {
    let real = Instant::now();
    let clock = VirtualClock::new();
    let start = clock.now();
    let log: Log = Arc::default();
    let advance = clock.clone();
    let polled = Polled::default();
    let client = Client::new(endpoint(), never_ending_task(log.clone()))
        .with_clock(clock.clone())
        .with_sleep(move |d| advance.advance(d))
        .with_random(|| 0.5)
        .on_event(polled.observer());
    let err = client
        .task(running())
        .with_poll_policy(PollPolicy::default().with_timeout(Duration::from_secs(300)))
        .wait()
        .unwrap_err();
    let polls = polled.statuses().len();
    assert_eq!(err.kind(), ErrorKind::TaskTimeout, "{err}");
    let waited = clock.now() - start;
    assert!(waited >= Duration::from_secs(300), "{waited:?}");
    assert!(waited < Duration::from_secs(320), "{waited:?}");
    let requests = log.lock().unwrap().len();
    assert!((40..1_000).contains(&requests), "{requests} requests");
    assert_eq!(polls, requests);
    assert!(
        real.elapsed() < Duration::from_secs(3),
        "{:?}",
        real.elapsed()
    );
}

#[test]
fn async_facade_runs_a_five_minute_wait_on_virtual_time() {
    let real = Instant::now();
    let clock = VirtualClock::new();
    let start = clock.now();
    let log: Log = Arc::default();
    let send = Arc::new(never_ending_task(log.clone()));
    let transport = move |r: Request<Vec<u8>>| {
        let send = send.clone();
        async move { send(r) }
    };
    let advance = clock.clone();
    let sleep = move |d: Duration| {
        advance.advance(d);
        std::future::ready(())
    };
    let client = AsyncClient::new(endpoint(), transport, sleep)
        .with_clock(clock.clone())
        .with_random(|| 0.5);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let err = runtime.block_on(client.task(running()).wait()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TaskTimeout, "{err}");
    assert!(clock.now() - start >= Duration::from_secs(300));
    assert!(log.lock().unwrap().len() >= 40);
    assert!(
        real.elapsed() < Duration::from_secs(3),
        "{:?}",
        real.elapsed()
    );
}

#[test]
fn local_async_facade_runs_with_a_transport_that_is_not_send() {
    // The transport keeps its log in an `Rc`: its futures cannot be `Send`.
    let log: Rc<RefCell<Vec<String>>> = Rc::default();
    let seen = log.clone();
    let transport = move |request: Request<Vec<u8>>| {
        let seen = seen.clone();
        async move {
            let path = request.uri().path().to_owned();
            let n = {
                let mut seen = seen.borrow_mut();
                seen.push(format!("{} {path}", request.method()));
                seen.len()
            };
            let body: &[u8] = match n {
                1 => br#"{"data": [], "metadata": {"recordCount": 0}}"#,
                2 => br#"{"taskId": "t5", "taskStatus": "PENDING"}"#,
                3 => br#"{"data": {"id": "t5", "status": "RUNNING"}}"#,
                _ => br#"{"data": {"id": "t5", "status": "SUCCESS"}}"#,
            };
            Ok::<_, TransportError>(Response::new(body.to_vec()))
        }
    };
    let clock = VirtualClock::new();
    let advance = clock.clone();
    let sleep = move |d: Duration| {
        advance.advance(d);
        std::future::ready(())
    };
    let polled = Polled::default();
    let client = AsyncClient::new(endpoint(), transport, sleep)
        .with_clock(clock)
        .on_event(polled.observer());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let local = tokio::task::LocalSet::new();
    let task = local.block_on(&runtime, async {
        let list = client.list_images(&ListOptions::new()).await.unwrap();
        assert!(list.images.is_empty());
        let handle = client
            .create_image(&CreateImage::new("f", "t", "w", "i"))
            .await
            .unwrap();
        let task = handle.wait().await.unwrap();
        assert_eq!(polled.statuses().len(), 2);
        task
    });
    assert_eq!(task.status, TaskStatus::Success);
    assert_eq!(
        *log.borrow(),
        [
            "GET /api/v1/services/cox/test-area/images",
            "POST /api/v1/services/cox/test-area/images",
            "GET /api/v1/tasks/t5",
            "GET /api/v1/tasks/t5",
        ]
    );
}

/// The statuses of the task polls a client reported
/// ([`Event::TaskPolled`]), in order.
#[derive(Clone, Default)]
struct Polled(Arc<Mutex<Vec<TaskStatus>>>);

impl Polled {
    fn observer(&self) -> impl Fn(&Event) + Send + Sync + 'static {
        let sink = self.0.clone();
        move |event| {
            if let Event::TaskPolled { task, .. } = event {
                sink.lock().unwrap().push(task.status.clone());
            }
        }
    }

    fn statuses(&self) -> Vec<TaskStatus> {
        self.0.lock().unwrap().clone()
    }
}
