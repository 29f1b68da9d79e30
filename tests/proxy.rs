//! Proxies given in the config, on both transports, against a `CONNECT`
//! proxy and a TLS simulator started here (loopback only). The environment
//! is never read or changed here (`tests/proxy_env.rs` does that, alone).
#![cfg(all(feature = "ureq", feature = "hyper"))]

mod connect_proxy;
mod support;

use std::time::{Duration, Instant};

use connect_proxy::ConnectProxy;
use coxedge_images::{AsyncClient, Client, TransportConfig};
use coxedge_images::{Error, ErrorKind, ListOptions, TransportErrorKind};
use coxedge_images_simulator::Simulator;
use support::{CANARY, assert_no_secret, error_texts, policy};

/// The two transports, one list call each, with `config`.
fn list_both(sim: &Simulator, config: TransportConfig) -> [Result<usize, Error>; 2] {
    list_both_with(sim, config, 1)
}

/// The two transports, one list call each, with `config`, allowing
/// `attempts` attempts per call.
fn list_both_with(
    sim: &Simulator,
    config: TransportConfig,
    attempts: u32,
) -> [Result<usize, Error>; 2] {
    let blocking = Client::ureq_with(sim.endpoint(), config.clone())
        .unwrap()
        .with_retry_policy(policy(attempts))
        .list_page(&ListOptions::new())
        .map(|l| l.images.len());
    let runtime = support::multi_thread_runtime();
    let not_blocking = runtime.block_on(async {
        AsyncClient::hyper_with(sim.endpoint(), config)
            .unwrap()
            .with_retry_policy(policy(attempts))
            .list_page(&ListOptions::new())
            .await
            .map(|l| l.images.len())
    });
    [blocking, not_blocking]
}

/// The TLS simulator's CA trusted, short timeouts, no proxy yet.
fn tls_config(sim: &Simulator) -> TransportConfig {
    support::config()
        .add_root_certificates_pem(sim.ca_certificate_pem().unwrap().as_bytes())
        .unwrap()
}

/// `Basic` + base64("user:pa55 w0rd"), worked out by hand from RFC 7617.
const USER_PASS_BASIC: &str = "Basic dXNlcjpwYTU1IHcwcmQ=";

#[test]
fn https_goes_through_a_connect_tunnel_and_the_proxy_never_sees_the_key() {
    let sim = support::tls_simulator();
    let proxy = ConnectProxy::start();
    let config = tls_config(&sim)
        .proxy(&proxy.url_with("user", "pa55%20w0rd"))
        .unwrap();
    for result in list_both(&sim, config) {
        assert_eq!(result.unwrap(), 2);
    }
    let heads = proxy.heads();
    assert_eq!(heads.len(), 2, "one tunnel per transport: {heads:?}");
    let port = sim.local_addr().port();
    for head in &heads {
        assert!(
            head.starts_with(&format!("CONNECT localhost:{port} HTTP/1.1\r\n")),
            "{head}"
        );
        assert!(
            head.lines()
                .any(|l| l.eq_ignore_ascii_case(&format!("proxy-authorization: {USER_PASS_BASIC}"))),
            "{head}"
        );
        assert!(!head.contains(CANARY), "{head}");
    }
    // The API's requests crossed the proxy, encrypted.
    let tunnelled = proxy.tunnelled();
    assert!(!tunnelled.is_empty());
    assert!(!tunnelled.contains(CANARY));
    assert!(!tunnelled.contains("/api/v1"));
    assert_eq!(sim.requests().len(), 2);
}

/// A proxy that refuses the tunnel: one line saying which proxy refused
/// and why, the same on both transports, asked once however many attempts
/// the policy allows (a proxy that refused credentials would refuse them
/// again, and may lock the account), and never the password.
#[test]
fn a_proxy_refusing_the_tunnel_says_so_once_on_both_transports() {
    const WANTS: &str = "it wants credentials, and none were given \
                         (put them in the proxy URL: http://user:password@host:port)";
    const REJECTED: &str = "it rejected the credentials given";
    // (proxy, credentials in the URL, what it answered, why)
    type Case = (fn() -> ConnectProxy, bool, &'static str, &'static str);
    let cases: &[Case] = &[
        (
            || ConnectProxy::requiring(USER_PASS_BASIC),
            false,
            "407 Proxy Authentication Required",
            WANTS,
        ),
        (
            || ConnectProxy::requiring(USER_PASS_BASIC),
            true,
            "407 Proxy Authentication Required",
            REJECTED,
        ),
        (
            || ConnectProxy::requiring_with(USER_PASS_BASIC, "401 Unauthorized"),
            false,
            "401 Unauthorized",
            WANTS,
        ),
        (
            || ConnectProxy::requiring_with(USER_PASS_BASIC, "401 Unauthorized"),
            true,
            "401 Unauthorized",
            REJECTED,
        ),
        (
            || ConnectProxy::refusing("403 Forbidden"),
            true,
            "403 Forbidden",
            "",
        ),
        (
            || ConnectProxy::refusing("502 Bad Gateway"),
            false,
            "502 Bad Gateway",
            "",
        ),
    ];
    for &(start, credentials, answered, why) in cases {
        let sim = support::tls_simulator();
        let proxy = start();
        let url = if credentials {
            proxy.url_with("user", "hunter2")
        } else {
            proxy.url()
        };
        let config = tls_config(&sim).proxy(&url).unwrap();
        let address = proxy.url().trim_start_matches("http://").to_owned();
        let why = if why.is_empty() {
            String::new()
        } else {
            format!(": {why}")
        };
        let says =
            format!("proxy refused the tunnel: the proxy at {address} answered {answered}{why}");
        let case = format!("{answered}, credentials {credentials}");
        for result in list_both_with(&sim, config, 4) {
            let error = result.unwrap_err();
            assert_eq!(
                error.transport_kind(),
                Some(TransportErrorKind::Proxy),
                "{case}: {error}"
            );
            assert!(error.is_proxy() && !error.is_connect(), "{case}");
            let transport = std::error::Error::source(&error)
                .and_then(|e| e.downcast_ref::<coxedge_images::TransportError>())
                .expect("the transport error is the source");
            assert!(transport.is_proxy(), "{case}");
            assert_eq!(transport.to_string(), says, "{case}");
            assert!(!error.may_have_reached_server(), "{case}");
            assert_eq!(error.attempts(), 1, "{case}: {error}");
            for text in error_texts(&error) {
                assert!(!text.contains("hunter2"), "{case}: {text}");
                assert!(!text.contains("aHVudGVyMg"), "{case}: {text}");
                assert!(
                    !text.contains("ureq") && !text.contains("tunnel error"),
                    "{case}: {text}"
                );
            }
            assert_no_secret(&error);
        }
        let heads = proxy.heads();
        assert_eq!(
            heads.len(),
            2,
            "{case}: one CONNECT per transport: {heads:?}"
        );
        for head in &heads {
            let agent = format!("user-agent: coxedge-images/{}", env!("CARGO_PKG_VERSION"));
            assert!(
                head.lines().any(|l| l.eq_ignore_ascii_case(&agent)),
                "{case}: {head}"
            );
        }
        assert!(sim.requests().is_empty(), "{case}");
    }
}

#[test]
fn plain_http_to_loopback_may_use_a_loopback_proxy() {
    let sim = support::simulator();
    let proxy = ConnectProxy::start();
    let config = support::config().proxy(&proxy.url()).unwrap();
    for result in list_both(&sim, config) {
        assert_eq!(result.unwrap(), 2);
    }
    let port = sim.local_addr().port();
    let heads = proxy.heads();
    assert_eq!(heads.len(), 2, "{heads:?}");
    for head in heads {
        assert!(
            head.starts_with(&format!("CONNECT 127.0.0.1:{port} HTTP/1.1")),
            "{head}"
        );
    }
}

#[test]
fn plain_http_through_a_remote_proxy_is_refused_without_connecting() {
    let sim = support::simulator();
    // Unroutable: a connection attempt would hang until the timeout, so a
    // fast answer proves none was made.
    let config = support::config()
        .connect_timeout(Duration::from_secs(20))
        .timeout(Duration::from_secs(30))
        .proxy("http://user:hunter2@10.255.255.1:3128")
        .unwrap();
    let started = Instant::now();
    for result in list_both(&sim, config.clone()) {
        let error = result.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Transport);
        assert_eq!(error.transport_kind(), Some(TransportErrorKind::Refused));
        let text = error.to_string();
        assert!(text.contains("10.255.255.1:3128"), "{text}");
        assert!(text.contains("NO_PROXY"), "{text}");
        for text in error_texts(&error) {
            assert!(!text.contains("hunter2"), "{text}");
        }
        assert_no_secret(&error);
    }
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(sim.requests().is_empty());

    // Allowed on the transport (and the endpoint, as loopback), it would go.
    let allowed = config.allow_insecure_http(true);
    assert!(format!("{allowed:?}").contains("10.255.255.1"));
    assert!(!format!("{allowed:?}").contains("hunter2"));
}

/// A "proxy" that does not speak HTTP: the proxy's failure on both
/// transports, not the API server's invalid HTTP, and not retried.
#[test]
fn a_proxy_answering_in_something_else_than_http_is_named() {
    let sim = support::tls_simulator();
    let proxy = ConnectProxy::answering(b"SSH-2.0-OpenSSH_9.0\r\n\r\n");
    let config = tls_config(&sim).proxy(&proxy.url()).unwrap();
    let address = proxy.url().trim_start_matches("http://").to_owned();
    for result in list_both_with(&sim, config, 4) {
        let error = result.unwrap_err();
        assert!(error.is_proxy(), "{error}");
        assert_eq!(
            error.to_string(),
            format!(
                "proxy refused the tunnel: the proxy at {address} did not answer CONNECT in HTTP"
            )
        );
        assert_eq!(error.attempts(), 1, "{error}");
    }
    assert_eq!(proxy.heads().len(), 2);
    assert!(sim.requests().is_empty());
}

/// Named as the proxy, not as the API server refusing; still a connect
/// failure (nothing was sent, so it is retried like one).
#[test]
fn a_proxy_that_is_down_is_a_connect_error_naming_it() {
    let sim = support::tls_simulator();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = tls_config(&sim)
        .proxy(&format!("http://user:hunter2@127.0.0.1:{port}"))
        .unwrap();
    for result in list_both(&sim, config) {
        let error = result.unwrap_err();
        assert_eq!(
            error.transport_kind(),
            Some(TransportErrorKind::Connect),
            "{error}"
        );
        assert_eq!(
            error.to_string(),
            format!(
                "could not connect: the proxy at 127.0.0.1:{port} is not reachable: \
                 connection refused"
            )
        );
        for text in error_texts(&error) {
            assert!(!text.contains("hunter2"), "{text}");
        }
    }
    assert!(sim.requests().is_empty());
}

/// A proxy that accepts the connection and never answers `CONNECT`: both
/// transports give up within the connect timeout, and say nothing was sent.
#[test]
fn a_silent_proxy_is_a_connect_timeout_on_both_transports() {
    let sim = support::tls_simulator();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = std::thread::spawn(move || {
        // Keep up to two connections open, silent, for a while.
        let mut open = Vec::new();
        for stream in listener.incoming().take(2) {
            open.push(stream);
        }
        std::thread::sleep(Duration::from_secs(6));
    });
    let config = tls_config(&sim)
        .connect_timeout(Duration::from_millis(300))
        .timeout(Duration::from_secs(20))
        .proxy(&format!("http://127.0.0.1:{port}"))
        .unwrap();
    let started = Instant::now();
    for result in list_both(&sim, config) {
        let error = result.unwrap_err();
        assert_eq!(
            error.transport_kind(),
            Some(TransportErrorKind::ConnectTimeout),
            "{error}"
        );
        assert!(!error.may_have_reached_server(), "{error}");
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(sim.requests().is_empty());
    drop(held);
}

#[test]
fn no_proxy_connects_directly() {
    let sim = support::tls_simulator();
    let config = tls_config(&sim).no_proxy();
    for result in list_both(&sim, config) {
        assert_eq!(result.unwrap(), 2);
    }
}

#[test]
fn an_untrusted_certificate_names_the_problem() {
    let sim = support::tls_simulator();
    for result in list_both(&sim, support::config()) {
        let error = result.unwrap_err();
        assert_eq!(error.transport_kind(), Some(TransportErrorKind::Tls));
        let text = error.to_string();
        assert!(text.contains("unknown issuer"), "{text}");
    }
}

#[test]
fn bad_proxy_urls_are_config_errors_that_hide_credentials() {
    for bad in [
        "socks5://user:hunter2@127.0.0.1:1080",
        "https://user:hunter2@127.0.0.1:3128",
        "http://user:hunter2@127.0.0.1:99999",
        "http://user:hunter2@127.0.0.1:3128/path",
    ] {
        let error = TransportConfig::default().proxy(bad).unwrap_err();
        assert_eq!(error.setting(), "proxy URL");
        assert!(!error.to_string().contains("hunter2"), "{error}");
    }
}
