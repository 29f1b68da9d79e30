//! The ureq transport against the simulator, over real loopback sockets.
#![cfg(feature = "ureq")]

mod support;

use std::time::{Duration, Instant};

use coxedge_images::transports::ureq::UreqTransport;
use coxedge_images::{API_KEY_HEADER, ErrorKind, ListOptions, TransportError, TransportErrorKind};
use coxedge_images::{Client, Transport, TransportConfig};
use coxedge_images_simulator::{Fault, FaultAction, Simulator};
use http::StatusCode;
use support::{
    CANARY, config, expect_error, missing_id, policy, recorder, remote_http_endpoint,
    request_to_a_closed_port, simulator, tls_simulator, wrong_key_endpoint,
};

fn client_with(sim: &Simulator, config: TransportConfig, attempts: u32) -> Client<UreqTransport> {
    Client::ureq_with(sim.endpoint(), config)
        .expect("client")
        .with_retry_policy(policy(attempts))
}

fn client(sim: &Simulator, attempts: u32) -> Client<UreqTransport> {
    client_with(sim, config(), attempts)
}

#[test]
fn lists_images() {
    let sim = simulator();
    let list = client(&sim, 1).list_page(&ListOptions::new()).unwrap();
    assert!(!list.images.is_empty());
    let requests = sim.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].header(API_KEY_HEADER.as_str()), Some(CANARY));
}

#[test]
fn lists_system_images_only() {
    let sim = simulator();
    let list = client(&sim, 1)
        .list_page(&ListOptions::new().system_only())
        .unwrap();
    assert!(!list.images.is_empty());
    assert!(list.images.iter().all(|i| i.is_system()));
    assert_eq!(
        sim.requests()[0].query_value("includeOnlySystemImages"),
        Some("true")
    );
}

#[test]
fn gets_one_image() {
    let sim = simulator();
    let client = client(&sim, 1);
    let first = client.list_page(&ListOptions::new()).unwrap().images[0].clone();
    let image = client.get_image(&first.id).unwrap();
    assert_eq!(image.id, first.id);
}

#[test]
fn a_missing_image_is_not_found() {
    let sim = simulator();
    let id = missing_id();
    let error = expect_error(client(&sim, 3).get_image(&id));
    assert!(error.is_not_found(), "{error:?}");
    assert_eq!(error.attempts(), 1);
    assert_eq!(sim.requests().len(), 1, "a 404 is not sent again");
}

#[test]
fn a_wrong_key_is_refused() {
    let sim = simulator();
    let endpoint = wrong_key_endpoint(&sim);
    let client = Client::new(endpoint, UreqTransport::new(config()).unwrap());
    let error = expect_error(client.list_page(&ListOptions::new()));
    assert!(error.is_forbidden() || error.is_unauthorized(), "{error:?}");
    assert_eq!(error.kind(), ErrorKind::Api);
}

#[test]
fn a_missing_key_is_unauthorized() {
    let sim = simulator();
    let inner = UreqTransport::new(config()).unwrap();
    let strip = move |mut request: http::Request<Vec<u8>>| {
        request.headers_mut().remove(API_KEY_HEADER);
        inner.send(request)
    };
    let client = Client::new(sim.endpoint(), strip);
    let error = expect_error(client.list_page(&ListOptions::new()));
    assert!(error.is_unauthorized(), "{error:?}");
}

#[test]
fn rate_limited_once_waits_as_told_and_succeeds() {
    let sim = simulator();
    sim.inject(Fault::once(FaultAction::status_retry_after(
        StatusCode::TOO_MANY_REQUESTS,
        "1",
    )));
    let (notices, observer) = recorder();
    let client = client(&sim, 3).on_event(observer);
    let list = client.list_page(&ListOptions::new()).unwrap();
    assert!(!list.images.is_empty());
    let notices = notices.lock().unwrap();
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].wait, Duration::from_secs(1));
    assert_eq!(notices[0].attempt, 1);
    assert_eq!(sim.requests().len(), 2);
}

#[test]
fn unavailable_forever_gives_up_after_max_attempts() {
    let sim = simulator();
    sim.inject(Fault::always(FaultAction::status(
        StatusCode::SERVICE_UNAVAILABLE,
    )));
    let error = expect_error(client(&sim, 3).list_page(&ListOptions::new()));
    assert_eq!(error.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(error.attempts(), 3);
    assert_eq!(sim.requests().len(), 3);
}

#[test]
fn a_slow_server_times_out() {
    let sim = simulator();
    sim.inject(Fault::always(FaultAction::Delay(Duration::from_secs(5))));
    let config = config().timeout(Duration::from_millis(500));
    let started = Instant::now();
    let error = expect_error(client_with(&sim, config, 1).list_page(&ListOptions::new()));
    let elapsed = started.elapsed();
    assert!(error.is_timeout(), "{error:?}");
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
}

#[test]
fn a_stalled_body_times_out() {
    let sim = simulator();
    sim.inject(Fault::always(FaultAction::Stall));
    let config = config().timeout(Duration::from_millis(500));
    let started = Instant::now();
    let error = expect_error(client_with(&sim, config, 1).list_page(&ListOptions::new()));
    assert!(error.is_timeout(), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn an_endless_body_is_cut_at_the_limit() {
    let sim = simulator();
    sim.inject(Fault::always(FaultAction::Oversized(u64::MAX)));
    let config = config().max_body_bytes(64 * 1024);
    let started = Instant::now();
    let error = expect_error(client_with(&sim, config, 3).list_page(&ListOptions::new()));
    assert!(error.is_body_too_large(), "{error:?}");
    assert_eq!(error.attempts(), 1, "a body over the limit is not retried");
    assert_eq!(
        sim.requests().len(),
        1,
        "a body over the limit is not retried"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[test]
fn a_body_at_the_limit_is_accepted() {
    let sim = simulator();
    sim.inject(Fault::once(FaultAction::Oversized(10_000)));
    let config = config().max_body_bytes(10_000);
    // The body is read whole (it is not valid JSON, so decoding fails).
    let error = expect_error(client_with(&sim, config, 1).list_page(&ListOptions::new()));
    assert!(!error.is_body_too_large(), "{error:?}");
    assert_eq!(error.body().map(<[u8]>::len), Some(10_000));
}

#[test]
fn a_truncated_body_is_reported_as_cut_short() {
    let sim = simulator();
    sim.inject(Fault::always(FaultAction::Truncate));
    let error = expect_error(client(&sim, 1).list_page(&ListOptions::new()));
    assert_eq!(
        error.transport_kind(),
        Some(TransportErrorKind::Truncated),
        "{error:?}"
    );
    // The simulator sends half of the announced body, then closes.
    assert!(
        error
            .to_string()
            .starts_with("response cut short: the body ended after "),
        "{error}"
    );
}

#[test]
fn an_html_502_keeps_status_and_body() {
    let sim = simulator();
    sim.inject(Fault::always(FaultAction::Html502));
    let error = expect_error(client(&sim, 1).list_page(&ListOptions::new()));
    assert_eq!(error.kind(), ErrorKind::Http, "{error:?}");
    assert_eq!(error.status(), Some(StatusCode::BAD_GATEWAY));
    let body = String::from_utf8_lossy(error.body().unwrap()).to_lowercase();
    assert!(body.contains("<html"), "{body}");
}

#[test]
fn a_reset_connection_is_an_io_error_and_is_retried() {
    // The server counts what it received: one request per attempt, no more.
    let sim = simulator();
    sim.inject(Fault::always(FaultAction::Reset));
    let error = expect_error(client(&sim, 1).list_page(&ListOptions::new()));
    assert_eq!(
        error.transport_kind(),
        Some(TransportErrorKind::Io),
        "{error:?}"
    );
    assert_eq!(
        sim.requests().len(),
        1,
        "sent again with one attempt allowed"
    );

    let sim = simulator();
    sim.inject(Fault::always(FaultAction::Reset));
    let (notices, observer) = recorder();
    let error = expect_error(
        client(&sim, 3)
            .on_event(observer)
            .list_page(&ListOptions::new()),
    );
    assert_eq!(error.transport_kind(), Some(TransportErrorKind::Io));
    assert_eq!(sim.requests().len(), 3, "three attempts, three requests");
    let attempts: Vec<u32> = notices.lock().unwrap().iter().map(|n| n.attempt).collect();
    assert_eq!(attempts, [1, 2]);

    let sim = simulator();
    sim.inject(Fault::once(FaultAction::Reset));
    let (notices, observer) = recorder();
    let list = client(&sim, 3)
        .on_event(observer)
        .list_page(&ListOptions::new())
        .unwrap();
    assert!(!list.images.is_empty());
    assert_eq!(sim.requests().len(), 2, "reset once, then answered");
    assert_eq!(notices.lock().unwrap().len(), 1);
}

#[test]
fn a_cross_origin_redirect_is_not_followed() {
    let sim = simulator();
    let other = simulator();
    let target = format!(
        "{}/services/x/y/images",
        other.base_url().trim_end_matches('/')
    );
    sim.inject(Fault::always(FaultAction::RedirectTo(target)));
    let error = expect_error(client(&sim, 3).list_page(&ListOptions::new()));
    assert_eq!(error.kind(), ErrorKind::Redirect, "{error:?}");
    assert!(
        other.requests().is_empty(),
        "the other origin was contacted"
    );
    assert_eq!(sim.requests().len(), 1);
}

#[test]
fn plain_http_to_a_remote_host_is_refused_without_connecting() {
    let endpoint = remote_http_endpoint();
    let client = Client::ureq_with(endpoint, config().connect_timeout(Duration::from_secs(20)))
        .unwrap()
        .with_retry_policy(policy(3));
    let started = Instant::now();
    let error = expect_error(client.list_page(&ListOptions::new()));
    assert_eq!(error.transport_kind(), Some(TransportErrorKind::Refused));
    assert!(!error.may_have_reached_server());
    assert_eq!(error.attempts(), 1);
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[test]
fn tls_with_the_simulator_ca() {
    let sim = tls_simulator();
    assert!(sim.base_url().starts_with("https://"));
    let config = config().add_root_certificate_der(sim.ca_certificate_der().unwrap());
    let list = client_with(&sim, config, 1)
        .list_page(&ListOptions::new())
        .unwrap();
    assert!(!list.images.is_empty());
}

#[test]
fn tls_without_the_ca_fails_as_tls() {
    let sim = tls_simulator();
    let error = expect_error(client(&sim, 3).list_page(&ListOptions::new()));
    assert_eq!(
        error.transport_kind(),
        Some(TransportErrorKind::Tls),
        "{error:?}"
    );
    assert_eq!(error.attempts(), 1, "a TLS failure is not retried");
    assert!(sim.requests().is_empty());
    // No request gets through a failed handshake: count connections.
    assert_eq!(sim.connections_opened(), 1, "a TLS failure is not retried");
}

#[test]
fn connections_are_reused() {
    let sim = simulator();
    let client = client(&sim, 1);
    for _ in 0..20 {
        client.list_page(&ListOptions::new()).unwrap();
    }
    assert_eq!(sim.requests().len(), 20);
    let opened = sim.connections_opened();
    eprintln!("ureq: 20 sequential calls opened {opened} connection(s)");
    assert!(opened <= 2, "{opened} connections for 20 calls");
}

#[test]
fn tls_connections_are_reused() {
    let sim = tls_simulator();
    let config = config().add_root_certificate_der(sim.ca_certificate_der().unwrap());
    let client = client_with(&sim, config, 1);
    for _ in 0..10 {
        client.list_page(&ListOptions::new()).unwrap();
    }
    let opened = sim.connections_opened();
    eprintln!("ureq: 10 sequential TLS calls opened {opened} connection(s)");
    assert!(opened <= 2, "{opened} connections for 10 calls");
}

#[test]
fn transport_errors_never_show_the_key() {
    // A connection refused on loopback, through the transport alone.
    let request = request_to_a_closed_port();
    let error: TransportError = UreqTransport::new(config())
        .unwrap()
        .send(request)
        .unwrap_err();
    assert_eq!(error.kind(), TransportErrorKind::Connect);
    assert!(!format!("{error} {error:?}").contains("SECRET"));
}
