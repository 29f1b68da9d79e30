//! Request logs (the `tracing` feature): every span and event the drivers
//! emit, captured at TRACE over both transports, holds no credential (the
//! canary key, a proxy's password, a query-string secret, any secret header
//! a caller sets, the key echoed back by a server), and there is one event
//! per request, per retry and per task poll, counted against what the
//! servers received.
#![cfg(all(feature = "tracing", feature = "ureq", feature = "hyper"))]

mod connect_proxy;
mod support;

use coxedge_images::transports::hyper::HyperTransport;
use coxedge_images::transports::hyper::TokioSleep;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use connect_proxy::ConnectProxy;
use coxedge_images::{
    API_KEY_HEADER, CreateImage, Endpoint, Error, ListOptions, Next, Operation, PollPolicy,
    TransportError,
};
use coxedge_images::{AsyncClient, Client, TransportConfig};
use coxedge_images_simulator::{Fault, FaultAction, Simulator};
use http::{Method, Request, Response, StatusCode};
use support::{CANARY, IMAGES, canary_key, policy};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record as SpanRecord};
use tracing::{Level, Subscriber};
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

// --- Capturing -------------------------------------------------------------

/// One event, or one span's fields as given at its start or recorded later.
#[derive(Debug, Clone)]
struct Captured {
    /// `"event"`, `"span"` (new) or `"record"`.
    kind: &'static str,
    /// The span's name, or the event's target.
    name: String,
    target: String,
    level: Level,
    /// The span's id (0 for an event).
    span: u64,
    fields: Vec<(String, String)>,
}

impl Captured {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct Fields(Vec<(String, String)>);

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push((field.name().to_owned(), value.to_owned()));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push((field.name().to_owned(), format!("{value:?}")));
    }
}

/// A layer that keeps every event and every span field.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<Captured>>>);

impl<S: Subscriber> Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, _: Context<'_, S>) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        let meta = attrs.metadata();
        self.0.lock().unwrap().push(Captured {
            kind: "span",
            name: meta.name().to_owned(),
            target: meta.target().to_owned(),
            level: *meta.level(),
            span: id.into_u64(),
            fields: fields.0,
        });
    }

    fn on_record(&self, id: &Id, values: &SpanRecord<'_>, _: Context<'_, S>) {
        let mut fields = Fields::default();
        values.record(&mut fields);
        self.0.lock().unwrap().push(Captured {
            kind: "record",
            name: String::new(),
            target: String::new(),
            level: Level::TRACE,
            span: id.into_u64(),
            fields: fields.0,
        });
    }

    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let meta = event.metadata();
        self.0.lock().unwrap().push(Captured {
            kind: "event",
            name: meta.target().to_owned(),
            target: meta.target().to_owned(),
            level: *meta.level(),
            span: 0,
            fields: fields.0,
        });
    }
}

/// What one run logged: the captured records and tracing's own text
/// rendering of them (every level, span openings and closings included).
struct Logs {
    records: Vec<Captured>,
    text: String,
}

impl Logs {
    fn events(&self, target: &str, level: Level) -> Vec<&Captured> {
        self.records
            .iter()
            .filter(|r| r.kind == "event" && r.target == target && r.level == level)
            .collect()
    }

    /// Each `call` span with every field it was given or recorded (the
    /// last value of each), in the order the spans opened.
    fn calls(&self) -> Vec<Captured> {
        let mut calls: Vec<Captured> = self
            .records
            .iter()
            .filter(|r| r.kind == "span" && r.name == "call")
            .cloned()
            .collect();
        for call in &mut calls {
            for r in &self.records {
                if r.kind == "record" && r.span == call.span {
                    for (name, value) in &r.fields {
                        call.fields.retain(|(n, _)| n != name);
                        call.fields.push((name.clone(), value.clone()));
                    }
                }
            }
        }
        calls
    }

    /// Every value and every line, for the secret checks.
    fn all_text(&self) -> String {
        let mut all = self.text.clone();
        for r in &self.records {
            for (name, value) in &r.fields {
                all.push_str(&format!("\n{} {name}={value}", r.name));
            }
        }
        all
    }
}

/// Runs `f` with a TRACE subscriber on this thread and returns what it
/// logged.
fn capture<R>(f: impl FnOnce() -> R) -> (R, Logs) {
    let capture = Capture::default();
    let text = Arc::new(Mutex::new(Vec::<u8>::new()));
    let sink = text.clone();
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(move || Sink(sink.clone()))
        .with_span_events(FmtSpan::FULL);
    let subscriber = tracing_subscriber::registry()
        .with(capture.clone())
        .with(fmt);
    let result = tracing::subscriber::with_default(subscriber, f);
    let records = capture.0.lock().unwrap().clone();
    let text = String::from_utf8_lossy(&text.lock().unwrap()).into_owned();
    (result, Logs { records, text })
}

/// Runs `f` with a subscriber that wants only the events of `target`:
/// no span, so every call's span is disabled.
fn capture_only<R>(target: &'static str, f: impl FnOnce() -> R) -> (R, Vec<Captured>) {
    let capture = Capture::default();
    let only = tracing_subscriber::filter::filter_fn(move |meta| {
        meta.is_event() && meta.target() == target
    });
    let subscriber = tracing_subscriber::registry().with(capture.clone().with_filter(only));
    let result = tracing::subscriber::with_default(subscriber, f);
    let records = capture.0.lock().unwrap().clone();
    (result, records)
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Everything that must never show in a log.
const SECRETS: &[&str] = &[
    CANARY,
    // Its distinctive part (its digits could occur in a timestamp or an id).
    "SECRET",
    // The proxy's password, raw, percent-encoded and inside Basic.
    "pa55",
    "dXNlcjpwYTU1IHcwcmQ=",
    // Set by the raw operation below.
    "q-hush-1",
    "q-hush-2",
    "bearer-hush",
    "cookie-hush",
    "proxy-hush",
    "loc-hush",
];

#[track_caller]
fn assert_no_secret(what: &str, logs: &Logs) {
    let all = logs.all_text();
    assert!(!all.is_empty(), "{what}: nothing was logged");
    for secret in SECRETS {
        if let Some(at) = all.find(secret) {
            let start = all[..at].rfind('\n').map_or(0, |i| i + 1);
            let end = all[at..].find('\n').map_or(all.len(), |i| at + i);
            panic!("{what}: the log shows {secret:?}: {}", &all[start..end]);
        }
    }
}

fn current_thread_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn fast_polls() -> PollPolicy {
    PollPolicy::default()
        .with_initial_interval(Duration::from_millis(5))
        .with_max_interval(Duration::from_millis(20))
        .with_timeout(Duration::from_secs(10))
}

/// A 503 that quotes the key in its body (then answered normally).
fn echoing_503() -> Fault {
    Fault::once(FaultAction::Status {
        status: StatusCode::SERVICE_UNAVAILABLE,
        retry_after: Some("0".into()),
        body: Some(format!("overloaded; your key was {CANARY}")),
    })
    .on(Method::GET, IMAGES)
}

/// A 403 that quotes the key in the API's error document.
fn echoing_403() -> Fault {
    Fault::once(FaultAction::Status {
        status: StatusCode::FORBIDDEN,
        retry_after: None,
        body: Some(format!(
            r#"{{"errors":[{{"code":403,"message":"key {CANARY} is not valid"}}]}}"#
        )),
    })
    .on(Method::GET, format!("{IMAGES}/"))
}

/// The calls of one run over the simulator: a list retried once after the
/// 503, a get refused with 403, a create and its wait.
fn calls_blocking(client: &Client<impl coxedge_images::Transport>) {
    let list = client.list_page(&ListOptions::new()).expect("list");
    assert_eq!(list.images.len(), 2);
    client
        .get_image(&support::seed_id("ubuntu", "v20201110"))
        .expect_err("403");
    create_and_wait(client);
}

/// Creates an image and waits for its task, blocking.
fn create_and_wait(client: &Client<impl coxedge_images::Transport>) {
    let handle = client
        .create_image(&CreateImage::new("fam", "v1", "workload-1", "instance-1"))
        .expect("create");
    handle.with_poll_policy(fast_polls()).wait().expect("wait");
}

/// [`calls_blocking`] on an async client.
async fn calls_async(client: &AsyncClient<HyperTransport, TokioSleep>) {
    let list = client.list_page(&ListOptions::new()).await.expect("list");
    assert_eq!(list.images.len(), 2);
    client
        .get_image(&support::seed_id("ubuntu", "v20201110"))
        .await
        .expect_err("403");
    create_and_wait_async(client).await;
}

/// [`create_and_wait`] on an async client.
async fn create_and_wait_async(client: &AsyncClient<HyperTransport, TokioSleep>) {
    let handle = client
        .create_image(&CreateImage::new("fam", "v1", "workload-1", "instance-1"))
        .await
        .expect("create");
    handle
        .with_poll_policy(fast_polls())
        .wait()
        .await
        .expect("wait");
}

/// The checks of one simulator run: secrets, and the counts against the
/// requests the simulator recorded.
fn check_simulator_run(what: &str, sim: &Simulator, logs: &Logs) {
    assert_no_secret(what, logs);
    let requests = sim.requests();
    // One DEBUG line per request, in order, with its method and path.
    let http = logs.events("coxedge_images::http", Level::DEBUG);
    assert_eq!(http.len(), requests.len(), "{what}: {http:#?}");
    for (line, request) in http.iter().zip(&requests) {
        assert_eq!(line.field("method"), Some(request.method.as_str()));
        assert_eq!(line.field("path"), Some(request.path.as_str()));
        assert!(line.field("status").is_some(), "{what}: {line:?}");
        assert!(line.field("elapsed_ms").is_some(), "{what}: {line:?}");
        assert!(line.field("attempt").is_some(), "{what}: {line:?}");
        assert!(line.field("body_bytes").is_some(), "{what}: {line:?}");
    }
    let statuses: Vec<_> = http.iter().map(|l| l.field("status").unwrap()).collect();
    assert_eq!(&statuses[..3], ["503", "200", "403"], "{what}");
    // The list's first attempt got the 503, its second the list.
    assert_eq!(http[0].field("attempt"), Some("1"));
    assert_eq!(http[1].field("attempt"), Some("2"));
    // One retry: the 503's.
    let retries = logs.events("coxedge_images::retry", Level::INFO);
    assert_eq!(retries.len(), 1, "{what}: {retries:#?}");
    assert!(retries[0].field("reason").unwrap().contains("503"));
    assert!(retries[0].field("wait_ms").is_some());
    // One event per task poll, as many as the simulator answered.
    let polls = requests
        .iter()
        .filter(|r| r.method == Method::GET && r.path.starts_with("/api/v1/tasks/"))
        .count();
    assert!(polls >= 2, "{what}: {polls} polls");
    let task_events = logs.events("coxedge_images::task", Level::DEBUG);
    assert_eq!(task_events.len(), polls, "{what}: {task_events:#?}");
    assert_eq!(
        task_events.last().unwrap().field("status"),
        Some("SUCCESS"),
        "{what}"
    );
    assert_eq!(task_events.last().unwrap().field("next_poll_ms"), None);
    // One span per facade call, with its final values recorded.
    let calls = logs.calls();
    let names: Vec<_> = calls.iter().map(|c| c.field("operation")).collect();
    assert_eq!(
        names,
        [
            Some("list_page"),
            Some("get_image"),
            Some("create_image"),
            Some("wait_for_task")
        ],
        "{what}: {calls:#?}"
    );
    let list = &calls[0];
    assert_eq!(list.field("method"), Some("GET"), "{what}");
    assert_eq!(list.field("path"), Some(IMAGES), "{what}");
    assert_eq!(list.field("status"), Some("200"), "{what}");
    assert_eq!(list.field("attempts"), Some("2"), "{what}");
    assert_eq!(list.field("requests"), Some("2"), "{what}");
    assert!(list.field("elapsed_ms").is_some());
    let bytes: usize = http[..2]
        .iter()
        .map(|l| l.field("body_bytes").unwrap().parse::<usize>().unwrap())
        .sum();
    assert_eq!(list.field("body_bytes"), Some(bytes.to_string().as_str()));
    assert_eq!(calls[1].field("status"), Some("403"), "{what}");
    assert_eq!(calls[3].field("method"), Some("GET"), "{what}");
    assert_eq!(
        calls[3].field("requests"),
        Some(polls.to_string().as_str()),
        "{what}"
    );
    // Headers at TRACE, the key shown redacted.
    assert!(
        logs.text.contains("> mc-api-key: <redacted>"),
        "{what}: {}",
        logs.text
    );
    assert!(logs.text.contains("< content-type: application/json"));
}

fn simulator() -> Simulator {
    support::simulator_builder()
        .task_polls(2)
        .build()
        .expect("simulator")
}

#[test]
fn every_log_line_of_a_blocking_run_is_clean_and_counted() {
    let sim = simulator();
    sim.inject(echoing_503());
    sim.inject(echoing_403());
    let client = Client::ureq_with(sim.endpoint(), support::config())
        .unwrap()
        .with_retry_policy(policy(3));
    let ((), logs) = capture(|| calls_blocking(&client));
    check_simulator_run("ureq", &sim, &logs);
}

#[test]
fn every_log_line_of_an_async_run_is_clean_and_counted() {
    let sim = simulator();
    sim.inject(echoing_503());
    sim.inject(echoing_403());
    let ((), logs) = capture(|| {
        current_thread_runtime().block_on(async {
            let client = AsyncClient::hyper_with(sim.endpoint(), support::config())
                .unwrap()
                .with_retry_policy(policy(3));
            calls_async(&client).await;
        })
    });
    check_simulator_run("hyper", &sim, &logs);
}

/// A subscriber may want a call's events and not its span (a filter such
/// as `coxedge_images::retry=info` alone): the events are still emitted,
/// each under its own target, on both transports.
#[test]
fn events_are_logged_when_only_their_target_is_wanted() {
    let targets = [
        "coxedge_images",
        "coxedge_images::http",
        "coxedge_images::retry",
        "coxedge_images::task",
        "coxedge_images::page",
    ];
    for target in targets {
        let sim = simulator();
        sim.inject(echoing_503());
        let client = Client::ureq_with(sim.endpoint(), support::config())
            .unwrap()
            .with_retry_policy(policy(3));
        let ((), blocking) = capture_only(target, || {
            client
                .list_images(&ListOptions::new().page(1, 1))
                .expect("list");
            create_and_wait(&client);
        });
        let sim = simulator();
        sim.inject(echoing_503());
        let ((), tokio) = capture_only(target, || {
            current_thread_runtime().block_on(async {
                let client = AsyncClient::hyper_with(sim.endpoint(), support::config())
                    .unwrap()
                    .with_retry_policy(policy(3));
                client
                    .list_images(&ListOptions::new().page(1, 1))
                    .await
                    .expect("list");
                create_and_wait_async(&client).await;
            })
        });
        for (transport, records) in [("ureq", blocking), ("hyper", tokio)] {
            assert!(
                !records.is_empty(),
                "{transport}: no event of {target} was logged"
            );
            for record in &records {
                assert_eq!(record.kind, "event", "{transport}: {record:?}");
                assert_eq!(record.target, target, "{transport}: {record:?}");
            }
        }
    }
}

#[test]
fn pages_of_a_listing_are_logged() {
    let sim = support::simulator();
    let client = Client::ureq_with(sim.endpoint(), support::config()).unwrap();
    let (list, logs) = capture(|| {
        client
            .list_images(&ListOptions::new().page(1, 1))
            .expect("list")
    });
    assert_no_secret("pages", &logs);
    let pages = logs.events("coxedge_images::page", Level::DEBUG);
    let requests = sim.requests().len();
    assert_eq!(pages.len(), requests, "{pages:#?}");
    assert_eq!(list.images.len(), 2);
    assert_eq!(
        pages.last().unwrap().field("gathered"),
        Some(list.images.len().to_string().as_str())
    );
}

#[test]
fn the_proxy_credentials_and_the_key_never_show_over_a_tunnel() {
    let sim = support::tls_simulator();
    let proxy = ConnectProxy::start();
    let config = support::config()
        .add_root_certificates_pem(sim.ca_certificate_pem().unwrap().as_bytes())
        .unwrap()
        .proxy(&proxy.url_with("user", "pa55%20w0rd"))
        .unwrap();
    let (results, logs) = capture(|| {
        let blocking = Client::ureq_with(sim.endpoint(), config.clone())
            .unwrap()
            .list_page(&ListOptions::new())
            .map(|l| l.images.len());
        let not_blocking = current_thread_runtime().block_on(async {
            AsyncClient::hyper_with(sim.endpoint(), config.clone())
                .unwrap()
                .list_page(&ListOptions::new())
                .await
                .map(|l| l.images.len())
        });
        [blocking, not_blocking]
    });
    for result in results {
        assert_eq!(result.unwrap(), 2);
    }
    assert_eq!(proxy.heads().len(), 2, "both went through the proxy");
    assert_no_secret("proxy", &logs);
    let lines = logs.events("coxedge_images::http", Level::DEBUG);
    assert_eq!(lines.len(), sim.requests().len());
    // Each request line names the proxy by host and port, nothing more.
    let address = proxy.url().trim_start_matches("http://").to_owned();
    for line in lines {
        assert_eq!(line.field("proxy"), Some(address.as_str()), "{line:?}");
        let message = line.field("message").unwrap_or("");
        assert!(
            message.ends_with(&format!(", through the proxy {address}")),
            "{message}"
        );
    }
}

// --- A server echoing secrets in headers, and secrets a caller sets --------

/// A raw loopback server answering every request with `200 {"data": []}`
/// and headers that repeat what it was sent: the key (under a harmless
/// name) and a cookie holding it, and a `Location` with a token in its
/// query.
/// Returns its port; it serves up to `max` connections.
fn echoing_server(max: usize) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(max) {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let mut head = Vec::new();
            let mut buf = [0u8; 4096];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            let head = String::from_utf8_lossy(&head);
            let key = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("mc-api-key")
                        .then(|| value.trim().to_owned())
                })
                .unwrap_or_default();
            let body = r#"{"data": []}"#;
            let _ = stream.write_all(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                     X-Echo: you sent {key}\r\nSet-Cookie: sid={key}\r\n\
                     Location: /next?page=2&token=loc-hush\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
                .as_bytes(),
            );
        }
    });
    port
}

/// A server whose first answer redirects, within the origin, to a path and
/// query holding the key it was sent; its second answers an empty list.
fn redirecting_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().take(2).enumerate() {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let mut head = Vec::new();
            let mut buf = [0u8; 4096];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            let answer = if n == 0 {
                format!(
                    "HTTP/1.1 302 Found\r\nLocation: /api/v1/k/{CANARY}/images?q={CANARY}\r\n\
                     Content-Length: 0\r\nConnection: close\r\n\r\n"
                )
            } else {
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                 Content-Length: 12\r\nConnection: close\r\n\r\n{\"data\": []}"
                    .to_owned()
            };
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    port
}

#[test]
fn a_redirect_to_a_path_holding_the_key_is_logged_redacted() {
    let port = redirecting_server();
    let (listed, logs) = capture(|| {
        Client::ureq_with(echo_endpoint(port), support::config())
            .unwrap()
            .list_page(&ListOptions::new())
            .map(|l| l.images.len())
    });
    assert_eq!(listed.unwrap(), 0);
    assert_no_secret("redirect", &logs);
    assert!(
        logs.text
            .contains("/api/v1/k/<redacted>/images?q=<redacted>"),
        "the redirected request is logged, redacted:\n{}",
        logs.text
    );
}

/// An operation sending one request a caller built, with credentials in
/// its query and headers; its output is the status.
struct Raw(Option<Request<Vec<u8>>>, Option<Result<StatusCode, Error>>);

impl Raw {
    fn new(port: u16) -> Raw {
        let request = Request::get(format!(
            "http://127.0.0.1:{port}/api/v1/raw?page=2&api_key=q-hush-1&access_token=q-hush-2"
        ))
        .header(API_KEY_HEADER, CANARY)
        .header("authorization", "Bearer bearer-hush")
        .header("cookie", "sid=cookie-hush")
        .header("proxy-authorization", "Basic proxy-hush")
        .body(Vec::new())
        .unwrap();
        Raw(Some(request), None)
    }
}

impl Operation for Raw {
    type Output = StatusCode;

    fn poll(&mut self, _: Instant) -> Next<StatusCode> {
        match self.0.take() {
            Some(request) => Next::Send(request),
            None => Next::Done(self.1.take().expect("answered")),
        }
    }

    fn handle(
        &mut self,
        result: Result<Response<Vec<u8>>, TransportError>,
        _: Instant,
        _: SystemTime,
        _: f64,
    ) {
        self.1 = Some(result.map(|r| r.status()).map_err(Error::from));
    }
}

fn echo_endpoint(port: u16) -> Endpoint {
    Endpoint::builder()
        .base_url(format!("http://127.0.0.1:{port}/api/v1"))
        .service("cox")
        .environment("test-area")
        .api_key(canary_key())
        .build()
        .unwrap()
}

#[test]
fn secrets_in_headers_queries_and_echoes_are_redacted_on_both_transports() {
    let port = echoing_server(4);
    let config: TransportConfig = support::config();
    let (statuses, logs) = capture(|| {
        let blocking = Client::ureq_with(echo_endpoint(port), config.clone()).unwrap();
        let listed = blocking
            .list_page(&ListOptions::new())
            .map(|l| l.images.len());
        let raw = blocking.run(Raw::new(port));
        let (listed_async, raw_async) = current_thread_runtime().block_on(async {
            let client = AsyncClient::hyper_with(echo_endpoint(port), config.clone()).unwrap();
            (
                client
                    .list_page(&ListOptions::new())
                    .await
                    .map(|l| l.images.len()),
                client.run(Raw::new(port)).await,
            )
        });
        (listed, raw, listed_async, raw_async)
    });
    assert_eq!(statuses.0.unwrap(), 0);
    assert_eq!(statuses.1.unwrap(), StatusCode::OK);
    assert_eq!(statuses.2.unwrap(), 0);
    assert_eq!(statuses.3.unwrap(), StatusCode::OK);
    assert_no_secret("echo", &logs);
    let text = &logs.text;
    // Redacted, not dropped: the names stay, and harmless values too.
    for shown in [
        "> mc-api-key: <redacted>",
        "> authorization: <redacted>",
        "> cookie: <redacted>",
        "> proxy-authorization: <redacted>",
        "< set-cookie: <redacted>",
        "< x-echo: <redacted>",
        "?page=2&api_key=<redacted>&access_token=<redacted>",
        "< location: /next?page=2&token=<redacted>",
    ] {
        assert!(text.contains(shown), "no {shown:?} in:\n{text}");
    }
    // Each request of the crate's own operations was logged once at DEBUG
    // (the DEBUG line comes from the core's `Answered` event, which a
    // caller's own `Raw` operation does not report), and every request's
    // line once at TRACE.
    assert_eq!(logs.events("coxedge_images::http", Level::DEBUG).len(), 2);
    let request_lines = logs
        .events("coxedge_images::http", Level::TRACE)
        .into_iter()
        .filter(|e| e.field("url").is_some())
        .count();
    assert_eq!(request_lines, 4);
}
