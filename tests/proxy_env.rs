//! Proxies and trust read from the environment, on both transports, against
//! a `CONNECT` proxy and simulators started here (loopback only).
//!
//! Alone in its own test binary because it sets process-wide environment
//! variables; every test holds [`ENV`] for its whole run, so no two of them
//! see each other's variables. The rules themselves are unit-tested as a
//! pure function of the variables (`transports/proxy.rs`); this checks that
//! both transports read them.
#![cfg(all(feature = "ureq", feature = "hyper"))]

mod connect_proxy;
mod support;

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use connect_proxy::ConnectProxy;
use coxedge_images::{AsyncClient, Client, TransportConfig};
use coxedge_images::{Error, ListOptions, TransportErrorKind};
use coxedge_images_simulator::Simulator;
use support::{CANARY, assert_no_secret, policy};

/// Every variable a test here may set; each test starts with none of them.
const VARIABLES: &[&str] = &[
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
    "REQUEST_METHOD",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
];

static ENV: Mutex<()> = Mutex::new(());

/// Holds the environment for one test: cleared now, and again on drop.
struct Env(#[allow(dead_code)] MutexGuard<'static, ()>);

impl Env {
    fn lock() -> Env {
        let guard = ENV.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        clear();
        Env(guard)
    }

    fn set(&self, name: &str, value: &str) {
        // SAFETY: every test of this binary holds `ENV` while it reads or
        // writes the environment, so no other thread of ours does.
        unsafe { std::env::set_var(name, value) };
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        clear();
    }
}

fn clear() {
    for name in VARIABLES {
        // SAFETY: as in `Env::set`.
        unsafe { std::env::remove_var(name) };
    }
}

/// The two transports, one list call each, with `config` (read now, while
/// the variables are set).
fn list_both(sim: &Simulator, config: TransportConfig) -> [Result<usize, Error>; 2] {
    let blocking = Client::ureq_with(sim.endpoint(), config.clone())
        .unwrap()
        .with_retry_policy(policy(1));
    let runtime = support::multi_thread_runtime();
    let not_blocking = AsyncClient::hyper_with(sim.endpoint(), config)
        .unwrap()
        .with_retry_policy(policy(1));
    [
        blocking
            .list_page(&ListOptions::new())
            .map(|l| l.images.len()),
        runtime
            .block_on(not_blocking.list_page(&ListOptions::new()))
            .map(|l| l.images.len()),
    ]
}

/// Short timeouts, proxies from the environment (the default).
fn env_config() -> TransportConfig {
    TransportConfig::default()
        .timeout(Duration::from_secs(5))
        .connect_timeout(Duration::from_secs(2))
}

fn tls_config(sim: &Simulator) -> TransportConfig {
    env_config()
        .add_root_certificates_pem(sim.ca_certificate_pem().unwrap().as_bytes())
        .unwrap()
}

#[test]
fn https_proxy_from_the_environment_is_used_by_both_transports() {
    let env = Env::lock();
    let sim = support::tls_simulator();
    let proxy = ConnectProxy::start();
    env.set("HTTPS_PROXY", &proxy.url_with("user", "hunter2"));
    // For http targets only: not used here.
    env.set("HTTP_PROXY", "http://127.0.0.1:9");
    for result in list_both(&sim, tls_config(&sim)) {
        assert_eq!(result.unwrap(), 2);
    }
    let heads = proxy.heads();
    assert_eq!(heads.len(), 2, "{heads:?}");
    for head in heads {
        assert!(head.starts_with("CONNECT localhost:"), "{head}");
        // base64("user:hunter2")
        assert!(head.contains("dXNlcjpodW50ZXIy"), "{head}");
        assert!(!head.contains(CANARY));
    }
    assert!(!proxy.tunnelled().contains(CANARY));
}

#[test]
fn lowercase_and_all_proxy_are_read_too() {
    let env = Env::lock();
    let sim = support::tls_simulator();
    let proxy = ConnectProxy::start();
    env.set("all_proxy", &proxy.url());
    for result in list_both(&sim, tls_config(&sim)) {
        assert_eq!(result.unwrap(), 2);
    }
    assert_eq!(proxy.heads().len(), 2);

    let specific = ConnectProxy::start();
    env.set("https_proxy", &specific.url());
    for result in list_both(&sim, tls_config(&sim)) {
        assert_eq!(result.unwrap(), 2);
    }
    assert_eq!(specific.heads().len(), 2, "https_proxy wins over all_proxy");
    assert_eq!(proxy.heads().len(), 2);
}

#[test]
fn no_proxy_bypasses_the_proxy() {
    let env = Env::lock();
    let sim = support::tls_simulator();
    let proxy = ConnectProxy::start();
    env.set("HTTPS_PROXY", &proxy.url());
    env.set("NO_PROXY", "example.com, localhost");
    for result in list_both(&sim, tls_config(&sim)) {
        assert_eq!(result.unwrap(), 2);
    }
    assert!(proxy.heads().is_empty(), "{:?}", proxy.heads());
    assert_eq!(sim.requests().len(), 2);
}

#[test]
fn an_explicit_setting_overrides_the_environment() {
    let env = Env::lock();
    let sim = support::tls_simulator();
    let from_env = ConnectProxy::start();
    let explicit = ConnectProxy::start();
    env.set("HTTPS_PROXY", &from_env.url());
    env.set("NO_PROXY", "*");
    let config = tls_config(&sim).proxy(&explicit.url()).unwrap();
    for result in list_both(&sim, config) {
        assert_eq!(result.unwrap(), 2);
    }
    assert_eq!(explicit.heads().len(), 2, "NO_PROXY is not read");
    env.set("NO_PROXY", "");
    for result in list_both(&sim, tls_config(&sim).no_proxy()) {
        assert_eq!(result.unwrap(), 2);
    }
    assert!(from_env.heads().is_empty());
}

/// The review finding this file first guarded: ureq sent plain-http
/// requests, key header included, to the proxy named in the environment,
/// past the loopback check. Now a plain-http request goes through a proxy
/// only when that proxy is on loopback too (or insecure http is allowed).
#[test]
fn plain_http_never_reaches_a_remote_proxy_and_may_use_a_local_one() {
    let env = Env::lock();
    let sim = support::simulator();
    env.set("HTTP_PROXY", "http://user:hunter2@10.255.255.1:3128");
    let started = Instant::now();
    for result in list_both(&sim, env_config()) {
        let error = result.unwrap_err();
        assert_eq!(error.transport_kind(), Some(TransportErrorKind::Refused));
        assert!(error.to_string().contains("10.255.255.1:3128"), "{error}");
        assert!(!format!("{error} {error:?}").contains("hunter2"));
        assert_no_secret(&error);
    }
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(sim.requests().is_empty());

    // Loopback is not bypassed (as in curl): a local proxy is used...
    let proxy = ConnectProxy::start();
    env.set("HTTP_PROXY", &proxy.url());
    for result in list_both(&sim, env_config()) {
        assert_eq!(result.unwrap(), 2);
    }
    assert_eq!(proxy.heads().len(), 2);
    // ...unless NO_PROXY names the host.
    env.set("NO_PROXY", "127.0.0.0/8");
    for result in list_both(&sim, env_config()) {
        assert_eq!(result.unwrap(), 2);
    }
    assert_eq!(proxy.heads().len(), 2);
}

#[test]
fn a_cgi_script_ignores_http_proxy() {
    let env = Env::lock();
    let sim = support::simulator();
    let proxy = ConnectProxy::start();
    env.set("HTTP_PROXY", &proxy.url());
    env.set("REQUEST_METHOD", "GET");
    for result in list_both(&sim, env_config()) {
        assert_eq!(result.unwrap(), 2);
    }
    assert!(proxy.heads().is_empty());
}

#[test]
fn an_unusable_proxy_variable_fails_the_requests_that_would_use_it() {
    let env = Env::lock();
    let sim = support::tls_simulator();
    env.set("HTTPS_PROXY", "socks5://user:hunter2@127.0.0.1:1080");
    for result in list_both(&sim, tls_config(&sim)) {
        let error = result.unwrap_err();
        assert_eq!(error.transport_kind(), Some(TransportErrorKind::Refused));
        let text = error.to_string();
        assert!(text.contains("HTTPS_PROXY"), "{text}");
        assert!(text.contains("only http://"), "{text}");
        assert!(!format!("{error:?}").contains("hunter2"));
    }
    assert!(sim.requests().is_empty());
}

#[test]
fn the_system_store_is_trusted_when_asked() {
    let env = Env::lock();
    let sim = support::tls_simulator();
    let dir = std::env::temp_dir().join(format!("coxedge-proxy-env-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, sim.ca_certificate_pem().unwrap()).unwrap();
    env.set("SSL_CERT_FILE", ca.to_str().unwrap());
    env.set("SSL_CERT_DIR", dir.to_str().unwrap());

    // The system store instead of the bundled roots.
    let system_only = env_config().webpki_roots(false).native_roots(true);
    for result in list_both(&sim, system_only) {
        assert_eq!(result.unwrap(), 2);
    }
    // Not asked: the generated CA is unknown.
    for result in list_both(&sim, env_config()) {
        let error = result.unwrap_err();
        assert_eq!(error.transport_kind(), Some(TransportErrorKind::Tls));
        assert!(error.to_string().contains("unknown issuer"), "{error}");
    }
    // A store that yields nothing, with nothing else trusted, is a
    // configuration error saying so.
    env.set("SSL_CERT_FILE", dir.join("absent.pem").to_str().unwrap());
    env.set("SSL_CERT_DIR", dir.join("absent").to_str().unwrap());
    let error = Client::ureq_with(
        sim.endpoint(),
        env_config().webpki_roots(false).native_roots(true),
    )
    .unwrap_err();
    assert_eq!(error.setting(), "system certificate store", "{error}");
    std::fs::remove_dir_all(&dir).unwrap();
}
