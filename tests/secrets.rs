//! Key hygiene: a canary API key, used in every scenario over both
//! transports, never appears in any text the crate produces (`Debug`,
//! `Display`, error causes, retry notices), never reaches another origin,
//! and never travels over plain http to a host that is not loopback unless
//! that was allowed.
#![cfg(all(feature = "ureq", feature = "hyper"))]

mod support;

use coxedge_images::AsyncClient;
use coxedge_images::transports::hyper::TokioSleep;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use coxedge_images::transports::hyper::HyperTransport;
use coxedge_images::transports::ureq::UreqTransport;
use coxedge_images::{
    API_KEY_HEADER, ApiKey, CreateImage, Endpoint, Error, ErrorKind, ListOptions, PollPolicy,
    RetryPolicy, TransportErrorKind,
};
use coxedge_images::{Client, TransportConfig};
use coxedge_images_simulator::{Fault, FaultAction, Simulator, TaskOutcome};
use http::StatusCode;
use support::{
    CANARY, Notices, canary_key, missing_id, record_into, simulator_builder, tls_simulator,
};

/// Fails if `text` shows the key (or any part of it that is specific: its
/// middle, or its tail `-4242` ending a word, which a port such as `:42429`
/// or a task id's group such as `-4242-` is not).
#[track_caller]
fn assert_clean(what: &str, text: &str) {
    let tail = text.match_indices("-4242").any(|(at, _)| {
        text[at + 5..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_ascii_hexdigit() && c != '-')
    });
    assert!(
        !text.contains(CANARY) && !text.contains("SECRET") && !tail,
        "{what} shows the key: {text}"
    );
}

#[test]
fn the_key_check_sees_the_tail_and_not_a_port_or_an_id() {
    let check = |text: &str| std::panic::catch_unwind(|| assert_clean("t", text)).is_ok();
    assert!(check("http://127.0.0.1:42429/api/v1"));
    assert!(check("task 33526d4c-4242-492e-a220-a8397b1dcdaf"));
    assert!(!check("key …-4242 refused"));
    assert!(!check("key ending -4242"));
    assert!(!check("canary-SECRET-…"));
}

/// Every text an error produces, causes included, one a line.
fn error_texts(error: &Error) -> String {
    support::error_texts(error).join("\n")
}

fn simulator() -> Simulator {
    simulator_builder()
        .task_polls(1)
        .build()
        .expect("simulator starts")
}

fn config() -> TransportConfig {
    TransportConfig::default()
        .no_proxy()
        .timeout(Duration::from_millis(400))
        .connect_timeout(Duration::from_millis(400))
        .max_body_bytes(64 * 1024)
}

fn policy() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(2)
        .with_base_delay(Duration::from_millis(1))
        .with_max_delay(Duration::from_millis(50))
}

fn fast_polls() -> PollPolicy {
    PollPolicy::default()
        .with_initial_interval(Duration::from_millis(5))
        .with_max_interval(Duration::from_millis(20))
        .with_timeout(Duration::from_secs(5))
}

fn ureq_client(endpoint: Endpoint, notices: &Notices) -> Client<UreqTransport> {
    Client::ureq_with(endpoint, config())
        .expect("client")
        .with_retry_policy(policy())
        .on_event(record_into(notices))
}

fn hyper_client(endpoint: Endpoint, notices: &Notices) -> AsyncClient<HyperTransport, TokioSleep> {
    AsyncClient::hyper_with(endpoint, config())
        .expect("client")
        .with_retry_policy(policy())
        .on_event(record_into(notices))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// What a scenario does to the simulator before the call.
struct Scenario {
    name: &'static str,
    /// Faults to inject (given the other origin's base URL).
    faults: fn(&str) -> Vec<Fault>,
    /// The call.
    call: Call,
    /// The error kind expected (`None`: success).
    expect: Option<ErrorKind>,
    /// The simulator's key differs from the client's (so 403).
    wrong_key: bool,
    /// Tasks fail.
    failing_tasks: bool,
}

#[derive(Clone, Copy)]
enum Call {
    List,
    GetMissing,
    CreateAndWait,
}

fn none(_: &str) -> Vec<Fault> {
    Vec::new()
}

const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "success",
        faults: none,
        call: Call::List,
        expect: None,
        wrong_key: false,
        failing_tasks: false,
    },
    Scenario {
        name: "401",
        faults: |_| vec![Fault::always(FaultAction::status(StatusCode::UNAUTHORIZED))],
        call: Call::List,
        expect: Some(ErrorKind::Api),
        wrong_key: false,
        failing_tasks: false,
    },
    Scenario {
        name: "403 (the server wants another key)",
        faults: none,
        call: Call::List,
        expect: Some(ErrorKind::Api),
        wrong_key: true,
        failing_tasks: false,
    },
    Scenario {
        name: "404",
        faults: none,
        call: Call::GetMissing,
        expect: Some(ErrorKind::Api),
        wrong_key: false,
        failing_tasks: false,
    },
    Scenario {
        name: "timeout",
        faults: |_| vec![Fault::always(FaultAction::StallBeforeHeaders)],
        call: Call::List,
        expect: Some(ErrorKind::Transport),
        wrong_key: false,
        failing_tasks: false,
    },
    Scenario {
        name: "reset",
        faults: |_| vec![Fault::always(FaultAction::Reset)],
        call: Call::List,
        expect: Some(ErrorKind::Transport),
        wrong_key: false,
        failing_tasks: false,
    },
    Scenario {
        name: "body too large",
        faults: |_| vec![Fault::always(FaultAction::Oversized(1 << 20))],
        call: Call::List,
        expect: Some(ErrorKind::Transport),
        wrong_key: false,
        failing_tasks: false,
    },
    Scenario {
        name: "html 502",
        faults: |_| vec![Fault::always(FaultAction::Html502)],
        call: Call::List,
        expect: Some(ErrorKind::Http),
        wrong_key: false,
        failing_tasks: false,
    },
    Scenario {
        name: "redirect to another origin",
        faults: |other| {
            vec![Fault::always(FaultAction::RedirectTo(format!(
                "{other}/services/cox/test-area/images"
            )))]
        },
        call: Call::List,
        expect: Some(ErrorKind::Redirect),
        wrong_key: false,
        failing_tasks: false,
    },
    Scenario {
        name: "redirect to the same origin",
        faults: |_| {
            vec![Fault::once(FaultAction::RedirectTo(
                "/api/v1/services/cox/test-area/images".into(),
            ))]
        },
        call: Call::List,
        expect: None,
        wrong_key: false,
        failing_tasks: false,
    },
    Scenario {
        name: "decode error",
        faults: |_| vec![Fault::always(FaultAction::MalformedJson)],
        call: Call::List,
        expect: Some(ErrorKind::Decode),
        wrong_key: false,
        failing_tasks: false,
    },
    Scenario {
        name: "task failure",
        faults: none,
        call: Call::CreateAndWait,
        expect: Some(ErrorKind::TaskFailed),
        wrong_key: false,
        failing_tasks: true,
    },
    Scenario {
        name: "task poll answered 503 then success",
        faults: |_| {
            vec![
                Fault::next(
                    2,
                    FaultAction::status_retry_after(StatusCode::SERVICE_UNAVAILABLE, "0"),
                )
                .on(http::Method::GET, "/api/v1/tasks/"),
            ]
        },
        call: Call::CreateAndWait,
        expect: None,
        wrong_key: false,
        failing_tasks: false,
    },
];

fn scenario_simulator(s: &Scenario) -> (Simulator, Simulator) {
    let mut builder = Simulator::builder()
        .api_key(if s.wrong_key {
            "the-servers-own-key"
        } else {
            CANARY
        })
        .task_polls(1);
    if s.failing_tasks {
        builder = builder.task_outcome(TaskOutcome::Failure);
    }
    let sim = builder.build().expect("simulator");
    let other = simulator();
    for fault in (s.faults)(&other.base_url()) {
        sim.inject(fault);
    }
    (sim, other)
}

fn endpoint_for(sim: &Simulator) -> Endpoint {
    sim.endpoint_builder()
        .api_key(canary_key())
        .build()
        .expect("endpoint")
}

fn create() -> CreateImage {
    CreateImage::new("secret-family", "v1", "workload-1", "instance-1")
}

/// Checks what every scenario must hold, whatever the transport.
fn check_scenario(
    s: &Scenario,
    sim: &Simulator,
    other: &Simulator,
    outcome: Result<String, Error>,
    notices: &Notices,
) {
    let name = s.name;
    match (&outcome, s.expect) {
        (Ok(debug), None) => assert_clean(name, debug),
        (Err(error), Some(kind)) => {
            assert_eq!(error.kind(), kind, "{name}: {error:?}");
            assert_clean(name, &error_texts(error));
        }
        (other, _) => panic!("{name}: unexpected outcome {other:?}"),
    }
    for notice in notices.lock().unwrap().iter() {
        assert_clean(name, &format!("{notice:?} {}", notice.reason));
    }
    // The other origin never hears from us.
    assert!(
        other.requests().is_empty(),
        "{name}: the key went to another origin"
    );
    // The key did go, every time, to the right server, and its records do
    // not print it.
    let requests = sim.requests();
    assert!(!requests.is_empty(), "{name}: no request arrived");
    for request in &requests {
        assert_eq!(
            request.header(API_KEY_HEADER.as_str()),
            Some(CANARY),
            "{name}"
        );
        assert_clean(name, &format!("{request:?}"));
    }
    assert_clean(name, &format!("{sim:?} {other:?}"));
}

#[test]
fn no_scenario_shows_the_key_over_ureq() {
    for s in SCENARIOS {
        let (sim, other) = scenario_simulator(s);
        let notices = Notices::default();
        let client = ureq_client(endpoint_for(&sim), &notices);
        assert_clean(s.name, &format!("{client:?}"));
        let outcome = match s.call {
            Call::List => client
                .list_page(&ListOptions::new())
                .map(|l| format!("{l:?}")),
            Call::GetMissing => client.get_image(&missing_id()).map(|i| format!("{i:?}")),
            Call::CreateAndWait => client.create_image(&create()).and_then(|handle| {
                assert_clean(s.name, &format!("{handle:?}"));
                handle
                    .with_poll_policy(fast_polls())
                    .wait()
                    .map(|t| format!("{t:?}"))
            }),
        };
        check_scenario(s, &sim, &other, outcome, &notices);
    }
}

#[test]
fn no_scenario_shows_the_key_over_hyper() {
    let rt = runtime();
    for s in SCENARIOS {
        let (sim, other) = scenario_simulator(s);
        let notices = Notices::default();
        let client = hyper_client(endpoint_for(&sim), &notices);
        assert_clean(s.name, &format!("{client:?}"));
        let outcome = rt.block_on(async {
            match s.call {
                Call::List => client
                    .list_page(&ListOptions::new())
                    .await
                    .map(|l| format!("{l:?}")),
                Call::GetMissing => client
                    .get_image(&missing_id())
                    .await
                    .map(|i| format!("{i:?}")),
                Call::CreateAndWait => match client.create_image(&create()).await {
                    Ok(handle) => {
                        assert_clean(s.name, &format!("{handle:?}"));
                        handle
                            .with_poll_policy(fast_polls())
                            .wait()
                            .await
                            .map(|t| format!("{t:?}"))
                    }
                    Err(e) => Err(e),
                },
            }
        });
        check_scenario(s, &sim, &other, outcome, &notices);
    }
}

#[test]
fn debug_of_every_value_holding_the_key_is_redacted() {
    let sim = simulator();
    let endpoint = endpoint_for(&sim);
    let builder = sim.endpoint_builder().api_key(canary_key());
    let request = endpoint
        .list_page_request(&ListOptions::new())
        .expect("request");
    let call = endpoint.list_page(&ListOptions::new()).expect("call");
    let list_all = endpoint.list_images(&ListOptions::new()).expect("list all");
    let wait = endpoint.wait_for_task(
        coxedge_images::Task::new("t-1".parse().unwrap(), coxedge_images::TaskStatus::Pending),
        coxedge_images::PollPolicy::default(),
    );
    let ureq = Client::ureq_with(endpoint.clone(), config()).expect("ureq");
    let hyper = AsyncClient::hyper_with(endpoint.clone(), config()).expect("hyper");
    let texts = [
        ("ApiKey", format!("{:?}", canary_key())),
        ("Endpoint", format!("{endpoint:?}")),
        ("EndpointBuilder", format!("{builder:?}")),
        ("http::Request", format!("{request:?}")),
        ("request headers", format!("{:?}", request.headers())),
        ("WaitTask", format!("{wait:?}")),
        ("Call", format!("{call:?}")),
        ("ListAll", format!("{list_all:?}")),
        ("Client", format!("{ureq:?}")),
        ("UreqTransport", format!("{:?}", ureq.transport())),
        ("AsyncClient", format!("{hyper:?}")),
        ("HyperTransport", format!("{:?}", hyper.transport())),
        ("TransportConfig", format!("{:?}", config())),
        ("Simulator", format!("{sim:?}")),
        ("Client (alternate)", format!("{ureq:#?}")),
        ("AsyncClient (alternate)", format!("{hyper:#?}")),
    ];
    for (what, text) in &texts {
        assert_clean(what, text);
    }
    assert_eq!(format!("{:?}", canary_key()), "ApiKey(<redacted>)");
    // The header value the core builds is marked sensitive.
    assert!(request.headers()[API_KEY_HEADER].is_sensitive());

    // A recorded request (the simulator marks the key sensitive too).
    ureq.list_page(&ListOptions::new()).expect("list");
    let recorded = sim.requests();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].header(API_KEY_HEADER.as_str()), Some(CANARY));
    assert_clean(
        "RecordedRequest",
        &format!("{:?} {:#?}", recorded[0], recorded),
    );
}

#[test]
fn api_key_refuses_header_injection_without_echoing_it() {
    for bad in [
        "canary-SECRET-4242\r\nX-Evil: 1",
        "canary-SECRET-4242\nX-Evil: 1",
        "canary-SECRET-4242\r",
        "canary-SECRET-4242\0",
        "canary-SECRET-4242\t",
        "canary-SECRET-4242\u{7f}",
        "canary-SECRET-4242ä",
        " canary-SECRET-4242",
        "canary-SECRET-4242 ",
    ] {
        let error = ApiKey::new(bad).expect_err("refused");
        assert_eq!(error.setting(), "api key");
        assert_clean("ConfigError", &format!("{error} {error:?}"));
        // The simulator refuses it the same way, without echoing it.
        let error = Simulator::builder()
            .api_key(bad)
            .build()
            .expect_err("refused");
        assert_clean("simulator error", &format!("{error} {error:?}"));
    }
    assert!(ApiKey::new(CANARY).is_ok());
}

/// A raw loopback server that redirects every request with `status` to
/// `location`, counting the requests it gets.
fn redirecting_server(status: u16, location: String) -> (u16, Arc<Mutex<usize>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let port = listener.local_addr().expect("addr").port();
    let count = Arc::new(Mutex::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            let Ok((mut stream, _)) = listener.accept() else {
                std::thread::sleep(Duration::from_millis(2));
                continue;
            };
            let _ = stream.set_nonblocking(false);
            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
            let mut head = Vec::new();
            let mut buf = [0u8; 4096];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            *seen.lock().unwrap() += 1;
            let _ = stream.write_all(
                format!(
                    "HTTP/1.1 {status} Moved\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                )
                .as_bytes(),
            );
        }
    });
    (port, count)
}

#[test]
fn every_redirect_status_to_another_origin_is_refused() {
    let rt = runtime();
    for status in [301, 302, 303, 307, 308] {
        let other = simulator();
        let target = format!("{}/services/cox/test-area/images", other.base_url());
        let (port, count) = redirecting_server(status, target);
        let endpoint = Endpoint::builder()
            .base_url(format!("http://127.0.0.1:{port}/api/v1"))
            .service("cox")
            .environment("test-area")
            .api_key(canary_key())
            .build()
            .expect("endpoint");
        let notices = Notices::default();
        let errors = [
            ureq_client(endpoint.clone(), &notices)
                .list_page(&ListOptions::new())
                .expect_err("refused"),
            rt.block_on(hyper_client(endpoint, &notices).list_page(&ListOptions::new()))
                .expect_err("refused"),
        ];
        for error in errors {
            assert_eq!(error.kind(), ErrorKind::Redirect, "{status}: {error:?}");
            assert_eq!(error.status().map(|s| s.as_u16()), Some(status));
            assert_clean("redirect error", &error_texts(&error));
        }
        assert_eq!(*count.lock().unwrap(), 2, "one request per transport");
        assert!(
            other.requests().is_empty(),
            "{status}: the key went to another origin"
        );
    }
}

#[test]
fn redirect_from_https_to_http_on_the_same_host_is_refused() {
    // Same host and port, another scheme: another origin, so the key would
    // travel unencrypted; refused.
    let sim = tls_simulator();
    let port = sim.local_addr().port();
    sim.inject(Fault::always(FaultAction::RedirectTo(format!(
        "http://localhost:{port}/api/v1/services/cox/test-area/images"
    ))));
    let config = config()
        .add_root_certificate_der(sim.ca_certificate_der().expect("ca"))
        .timeout(Duration::from_secs(5));
    let endpoint = endpoint_for(&sim);
    let error = Client::ureq_with(endpoint.clone(), config.clone())
        .expect("client")
        .list_page(&ListOptions::new())
        .expect_err("refused");
    assert_eq!(error.kind(), ErrorKind::Redirect, "{error:?}");
    let error = runtime()
        .block_on(
            AsyncClient::hyper_with(endpoint, config)
                .expect("client")
                .list_page(&ListOptions::new()),
        )
        .expect_err("refused");
    assert_eq!(error.kind(), ErrorKind::Redirect, "{error:?}");
    assert_clean("redirect error", &error_texts(&error));
    assert_eq!(sim.requests().len(), 2);
}

/// An endpoint for plain http to a host that is not loopback (allowed at
/// the endpoint, so only the transport decides).
fn insecure_endpoint(base: &str) -> Endpoint {
    Endpoint::builder()
        .base_url(base)
        .service("cox")
        .environment("test-area")
        .api_key(canary_key())
        .allow_insecure_http(true)
        .build()
        .expect("endpoint")
}

#[test]
fn plain_http_to_a_remote_host_is_refused_without_a_connection() {
    // The endpoint itself refuses it unless allowed, without echoing the key.
    let error = Endpoint::builder()
        .base_url("http://10.255.255.1/api/v1")
        .service("cox")
        .environment("test-area")
        .api_key(canary_key())
        .build()
        .expect_err("refused");
    assert_eq!(error.setting(), "base URL");
    assert_clean("ConfigError", &format!("{error} {error:?}"));

    // An unroutable address: a connection attempt would take the whole
    // connect timeout (raised to 20 s here), so a fast answer proves none
    // was made.
    let endpoint = insecure_endpoint("http://10.255.255.1/api/v1");
    let config = config()
        .connect_timeout(Duration::from_secs(20))
        .timeout(Duration::from_secs(30));
    let started = Instant::now();
    let errors = [
        Client::ureq_with(endpoint.clone(), config.clone())
            .expect("client")
            .with_retry_policy(policy())
            .list_page(&ListOptions::new())
            .expect_err("refused"),
        runtime()
            .block_on(
                AsyncClient::hyper_with(endpoint, config)
                    .expect("client")
                    .with_retry_policy(policy())
                    .list_page(&ListOptions::new()),
            )
            .expect_err("refused"),
    ];
    assert!(started.elapsed() < Duration::from_secs(2));
    for error in errors {
        assert_eq!(error.kind(), ErrorKind::Transport);
        assert_eq!(error.transport_kind(), Some(TransportErrorKind::Refused));
        assert!(!error.may_have_reached_server());
        assert_eq!(error.attempts(), 1, "a refusal is not retried");
        assert_clean("refused", &error_texts(&error));
    }
}

#[test]
fn plain_http_to_a_non_loopback_name_reaches_the_server_only_when_allowed() {
    // `0.0.0.0` is not a loopback address for the check, but on Linux a
    // connection to it reaches the local host, so the simulator sees whether
    // a request was sent at all.
    let sim = simulator();
    let base = format!("http://0.0.0.0:{}/api/v1", sim.local_addr().port());
    let endpoint = insecure_endpoint(&base);
    let rt = runtime();

    let refused = [
        Client::ureq_with(endpoint.clone(), config())
            .expect("client")
            .list_page(&ListOptions::new())
            .expect_err("refused"),
        rt.block_on(
            AsyncClient::hyper_with(endpoint.clone(), config())
                .expect("client")
                .list_page(&ListOptions::new()),
        )
        .expect_err("refused"),
    ];
    for error in refused {
        assert_eq!(error.transport_kind(), Some(TransportErrorKind::Refused));
        assert_clean("refused", &error_texts(&error));
    }
    assert!(sim.requests().is_empty(), "nothing was sent");

    let allowed = config().allow_insecure_http(true);
    let transport = UreqTransport::new(allowed.clone()).expect("transport");
    Client::new(endpoint.clone(), transport)
        .list_page(&ListOptions::new())
        .expect("allowed");
    let transport = HyperTransport::new(allowed).expect("transport");
    rt.block_on(
        coxedge_images::AsyncClient::new(
            endpoint,
            transport,
            coxedge_images::transports::hyper::TokioSleep,
        )
        .list_page(&ListOptions::new()),
    )
    .expect("allowed");
    let requests = sim.requests();
    assert_eq!(requests.len(), 2);
    assert!(
        requests
            .iter()
            .all(|r| r.header("mc-api-key") == Some(CANARY))
    );
}

/// A server that echoes the key back (a debugging proxy, a WAF page
/// quoting the request): the body is the server's, but the error text is
/// the crate's, and it is what ends up in logs.
/// The exchange redacts the key from everything the error holds.
#[test]
fn a_server_echoing_the_key_does_not_make_the_error_text_show_it() {
    let echo_html = format!("<html><pre>MC-Api-Key: {CANARY}</pre></html>");
    let echo_api =
        format!(r#"{{"errors":[{{"code":403,"message":"key {CANARY} is not valid"}}]}}"#);
    let cases = [
        FaultAction::Status {
            status: StatusCode::BAD_REQUEST,
            retry_after: None,
            body: Some(echo_html.clone()),
        },
        FaultAction::Status {
            status: StatusCode::FORBIDDEN,
            retry_after: None,
            body: Some(echo_api),
        },
        FaultAction::RawBody {
            status: StatusCode::OK,
            content_type: "text/html".into(),
            body: echo_html.into_bytes(),
        },
    ];
    let mut leaks = Vec::new();
    for action in cases {
        let sim = simulator();
        sim.inject(Fault::always(action.clone()));
        let error = Client::ureq_with(endpoint_for(&sim), config())
            .expect("client")
            .list_page(&ListOptions::new())
            .expect_err("an error");
        // The whole body stays available to a caller who asks for it.
        assert!(error.body().is_some());
        let text = error_texts(&error);
        if text.contains(CANARY) {
            leaks.push(format!(
                "{:?} → {:?}: {text}",
                action_name(&action),
                error.kind()
            ));
        }
    }
    assert!(
        leaks.is_empty(),
        "the error text repeats the key the server echoed:\n{}",
        leaks.join("\n")
    );
}

fn action_name(action: &FaultAction) -> String {
    match action {
        FaultAction::Status { status, .. } => format!("status {status}"),
        FaultAction::RawBody { status, .. } => format!("raw body {status}"),
        other => format!("{other:?}"),
    }
}
