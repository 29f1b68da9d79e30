//! Helpers shared by the integration tests. Each test file that needs them
//! says `mod support;`; this file is not a test target of its own.
//!
//! Every test file is compiled as its own crate and none uses every helper,
//! so the ones a file leaves unused would warn there.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use coxedge_images::Event;
use coxedge_images::ImageId;
use coxedge_images::TransportConfig;
use coxedge_images::{API_KEY_HEADER, ApiKey, Endpoint, Error, RetryPolicy};
use coxedge_images_simulator::{Simulator, SimulatorBuilder};

/// The stack id of the specification's seed images, which the simulator serves.
pub const SEED_STACK_ID: &str = "a8050b2b-39eb-4929-bce5-1af42055903e";

/// The key the simulators accept; it must never show in an error.
pub const CANARY: &str = "canary-SECRET-4242";

/// The images path of the simulator's default service and environment.
pub const IMAGES: &str = "/api/v1/services/cox/test-area/images";

/// [`CANARY`] as an [`ApiKey`].
pub fn canary_key() -> ApiKey {
    ApiKey::new(CANARY).expect("a valid key")
}

/// Short waits so a suite stays fast; `max_delay` lets a 1 s `Retry-After`
/// through unchanged.
pub fn policy(max_attempts: u32) -> RetryPolicy {
    let mut policy = RetryPolicy::default();
    policy.max_attempts = max_attempts;
    policy.base_delay = Duration::from_millis(10);
    policy.max_delay = Duration::from_secs(2);
    policy.max_elapsed = Duration::from_secs(10);
    policy
}

/// A 5 s timeout and a 2 s connect timeout, and no proxy: the tests talk to
/// loopback servers directly whatever proxy the environment names.
pub fn config() -> TransportConfig {
    TransportConfig::default()
        .timeout(Duration::from_secs(5))
        .connect_timeout(Duration::from_secs(2))
        .no_proxy()
}

/// Plain http to a host that is not loopback (allowed at the endpoint, so
/// only the transport decides), with the canary key.
pub fn remote_http_endpoint() -> Endpoint {
    Endpoint::builder()
        .base_url("http://10.255.255.1/api/v1")
        .allow_insecure_http(true)
        .service("edge-services")
        .environment("test")
        .api_key(canary_key())
        .build()
        .unwrap()
}

/// A request carrying the canary key to a loopback port nothing listens on
/// (bound, then released), so it is refused at connect.
pub fn request_to_a_closed_port() -> http::Request<Vec<u8>> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    http::Request::get(format!("http://127.0.0.1:{port}/"))
        .header(API_KEY_HEADER, CANARY)
        .body(Vec::new())
        .unwrap()
}

/// Every text an error produces: `Display`, `Debug`, and the same for each
/// cause.
pub fn error_texts(error: &Error) -> Vec<String> {
    let mut texts = vec![format!("{error}"), format!("{error:?}")];
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        texts.push(format!("{cause} {cause:?}"));
        source = cause.source();
    }
    texts
}

/// Fails if the canary key shows anywhere in the error or its causes.
pub fn assert_no_secret(error: &Error) {
    for text in error_texts(error) {
        assert!(!text.contains("SECRET"), "the key leaked: {text}");
    }
}

/// The error of a call that must fail, checked for the key.
pub fn expect_error<T: std::fmt::Debug>(result: Result<T, Error>) -> Error {
    let error = result.expect_err("the call should fail");
    assert_no_secret(&error);
    error
}

/// What a client reported about one retry ([`Event::Retrying`]).
#[derive(Debug, Clone)]
pub struct RetryNotice {
    /// What failed.
    pub reason: String,
    /// The attempt that ended.
    pub attempt: u32,
    /// The wait before the next.
    pub wait: std::time::Duration,
}

/// The retry notices a client reported.
pub type Notices = Arc<Mutex<Vec<RetryNotice>>>;

/// An `on_event` observer that appends each retry to `notices`.
pub fn record_into(notices: &Notices) -> impl Fn(&Event) + Send + Sync + use<> {
    let sink = Arc::clone(notices);
    move |event: &Event| {
        if let Event::Retrying {
            reason,
            attempt,
            wait,
            ..
        } = event
        {
            sink.lock().unwrap().push(RetryNotice {
                reason: reason.clone(),
                attempt: *attempt,
                wait: *wait,
            });
        }
    }
}

/// New, empty [`Notices`] and an `on_event` observer that fills them.
pub fn recorder() -> (Notices, impl Fn(&Event) + Send + Sync + 'static) {
    let notices = Notices::default();
    let observer = record_into(&notices);
    (notices, observer)
}

/// A multi-threaded tokio runtime with two workers.
#[cfg(feature = "hyper")]
pub fn multi_thread_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// A simulator builder that accepts [`CANARY`].
pub fn simulator_builder() -> SimulatorBuilder {
    Simulator::builder().api_key(CANARY)
}

/// A simulator that accepts [`CANARY`].
pub fn simulator() -> Simulator {
    simulator_builder().build().expect("simulator starts")
}

/// A TLS simulator that accepts [`CANARY`].
pub fn tls_simulator() -> Simulator {
    simulator_builder()
        .tls(true)
        .build()
        .expect("TLS simulator starts")
}

/// The id of `family`/`tag` in the seeded stack.
pub fn seed_id(family: &str, tag: &str) -> ImageId {
    ImageId::new(SEED_STACK_ID, family, tag).expect("a valid id")
}

/// An id in the seeded stack that names no image.
pub fn missing_id() -> ImageId {
    seed_id("no-such-family", "v0")
}

/// The endpoint of `sim` with a key it does not accept.
pub fn wrong_key_endpoint(sim: &Simulator) -> Endpoint {
    Endpoint::builder()
        .base_url(sim.base_url())
        .service(sim.endpoint().service())
        .environment(sim.endpoint().environment())
        .api_key(ApiKey::new("canary-SECRET-wrong").unwrap())
        .build()
        .unwrap()
}
