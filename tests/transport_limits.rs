//! Limits of the bundled transports against loopback servers: the request
//! timeout bounds a whole async call, the wait for an in-flight turn
//! included; idle pooled connections are not reused past the pool idle
//! timeout.
//!
//! The ignored tests are the measurements behind two defaults (run them with
//! `--ignored --nocapture`): the async in-flight limit, and the blocking
//! transport's host-name cache.
#![cfg(all(feature = "ureq", feature = "hyper"))]

mod support;

use coxedge_images::AsyncClient;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use coxedge_images::transports::hyper::HyperTransport;
use coxedge_images::transports::ureq::UreqTransport;
use coxedge_images::{
    API_KEY_HEADER, Endpoint, ErrorKind, ListOptions, RetryPolicy, TransportErrorKind,
};
use coxedge_images::{AsyncTransport, Transport, TransportConfig};
use support::{CANARY, canary_key, multi_thread_runtime};

/// What a [`Server`] does with each connection.
#[derive(Clone, Copy)]
enum Behaviour {
    /// Reads and never answers (holds the connection until stopped).
    Silent,
    /// Answers every request on the connection with a small list, after
    /// this delay, keeping the connection open.
    KeepAlive(Duration),
}

const LIST: &[u8] = br#"{"data":[]}"#;

/// A loopback server that counts the connections it accepted. It stops
/// when dropped (or after 60 s); connection threads end within a second of
/// that.
struct Server {
    port: u16,
    connections: Arc<AtomicUsize>,
    requests: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl Server {
    fn start(behaviour: Behaviour) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let connections = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let accept = {
            let (connections, requests, stop) =
                (connections.clone(), requests.clone(), stop.clone());
            std::thread::spawn(move || {
                let deadline = Instant::now() + Duration::from_secs(60);
                while !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            connections.fetch_add(1, Ordering::SeqCst);
                            let (requests, stop) = (requests.clone(), stop.clone());
                            std::thread::spawn(move || serve(stream, behaviour, &requests, &stop));
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(1)),
                    }
                }
            })
        };
        Server {
            port,
            connections,
            requests,
            stop,
            accept: Some(accept),
        }
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    fn url(&self, host: &str) -> String {
        format!("http://{host}:{}/api/v1", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

fn serve(mut stream: TcpStream, behaviour: Behaviour, requests: &AtomicUsize, stop: &AtomicBool) {
    let _ = stream.set_nonblocking(false);
    // Short reads, so that the thread sees `stop` soon.
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    let mut pending = Vec::new();
    let mut buf = [0u8; 4096];
    while !stop.load(Ordering::SeqCst) {
        match stream.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => pending.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                continue;
            }
            Err(_) => return,
        }
        // Requests here have no body: each ends at its blank line.
        while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            pending.drain(..end + 4);
            requests.fetch_add(1, Ordering::SeqCst);
            match behaviour {
                Behaviour::Silent => {}
                Behaviour::KeepAlive(delay) => {
                    if !delay.is_zero() {
                        std::thread::sleep(delay);
                    }
                    let mut answer = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                        LIST.len()
                    )
                    .into_bytes();
                    answer.extend_from_slice(LIST);
                    if stream.write_all(&answer).is_err() {
                        return;
                    }
                }
            }
        }
    }
}

fn endpoint(server: &Server, host: &str) -> Endpoint {
    Endpoint::builder()
        .base_url(server.url(host))
        .service("cox")
        .environment("test-area")
        .api_key(canary_key())
        .build()
        .expect("endpoint")
}

fn get(server: &Server, host: &str) -> http::Request<Vec<u8>> {
    http::Request::get(format!("{}/images", server.url(host)))
        .header(API_KEY_HEADER, CANARY)
        .body(Vec::new())
        .unwrap()
}

// ---------------------------------------------------------------------------
// The timeout bounds the whole call.
// ---------------------------------------------------------------------------

/// 48 calls on one client to a server that never answers, timeout 1 s, one
/// attempt each: every call ends within the timeout plus a margin, whether
/// it got a turn to send or waited for one (and then says so).
#[test]
fn queued_async_calls_end_within_their_timeout() {
    const CALLS: usize = 48;
    let server = Server::start(Behaviour::Silent);
    // A third of the calls get a turn at once (whatever the default).
    let config = TransportConfig::default()
        .no_proxy()
        .timeout(Duration::from_secs(1))
        .connect_timeout(Duration::from_millis(500))
        .max_in_flight(CALLS / 3);
    let limit = config.max_in_flight;
    let client = Arc::new(
        AsyncClient::hyper_with(endpoint(&server, "127.0.0.1"), config)
            .expect("client")
            .with_retry_policy(RetryPolicy::default().with_max_attempts(1)),
    );
    let runtime = multi_thread_runtime();
    let started = Instant::now();
    let ended = runtime.block_on(async {
        let mut calls = tokio::task::JoinSet::new();
        for _ in 0..CALLS {
            let client = Arc::clone(&client);
            calls.spawn(async move {
                let result = client.list_page(&ListOptions::new()).await;
                (result, started.elapsed())
            });
        }
        // A guard far above the bound, so a regression fails instead of
        // hanging.
        tokio::time::timeout(Duration::from_secs(20), calls.join_all())
            .await
            .expect("the calls ended")
    });
    let mut queued = 0;
    for (result, took) in &ended {
        let error = result.as_ref().expect_err("the server never answers");
        assert_eq!(error.kind(), ErrorKind::Transport, "{error:?}");
        assert!(error.is_timeout(), "{error:?}");
        if error.transport_kind() == Some(TransportErrorKind::ConnectTimeout) {
            // It never got a turn, so it was never sent.
            queued += 1;
            let text = error.to_string();
            assert!(
                text.contains("no turn to send within 1 s") && text.contains("nothing was sent"),
                "{text}"
            );
        } else {
            assert_eq!(
                error.to_string(),
                "timed out: no complete response within 1 s"
            );
        }
        assert!(
            *took < Duration::from_millis(2500),
            "a call ended after {took:?}: {error}"
        );
    }
    assert_eq!(ended.len(), CALLS);
    // The first `limit` calls are sent at once; of the others, those that
    // get a turn just before their deadline (freed by the first ones timing
    // out) are sent too, the rest never are.
    assert!(
        queued > 0 && queued <= CALLS - limit,
        "{queued} calls waited for a turn"
    );
    // A call that got its turn may still have run out of time before its
    // request was written, never the other way round.
    assert!(server.requests() <= CALLS - queued, "{}", server.requests());
}

/// The in-flight limit set in the config is the one used.
#[test]
fn the_in_flight_limit_comes_from_the_config() {
    let server = Server::start(Behaviour::Silent);
    let config = TransportConfig::default()
        .no_proxy()
        .timeout(Duration::from_secs(3))
        .max_in_flight(3);
    let transport = HyperTransport::new(config).expect("transport");
    let runtime = multi_thread_runtime();
    let seen_while_pending = runtime.block_on(async {
        let mut calls = tokio::task::JoinSet::new();
        for _ in 0..10 {
            let (transport, request) = (transport.clone(), get(&server, "127.0.0.1"));
            calls.spawn(async move { transport.send(request).await.unwrap_err() });
        }
        // While every call is still pending (none has timed out), the
        // server sees the first three and no more.
        let patience = Instant::now();
        while server.requests() < 3 && patience.elapsed() < Duration::from_secs(2) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let seen = (server.requests(), server.connections());
        calls.abort_all();
        seen
    });
    assert_eq!(seen_while_pending, (3, 3), "(requests, connections)");
    let transport = HyperTransport::new(TransportConfig::default().no_proxy()).unwrap();
    assert_eq!(
        transport.config().max_in_flight,
        TransportConfig::DEFAULT_MAX_IN_FLIGHT
    );
}

// ---------------------------------------------------------------------------
// Idle pooled connections.
// ---------------------------------------------------------------------------

const IDLE: Duration = Duration::from_millis(300);
/// Well under [`IDLE`].
const MOMENT: Duration = Duration::from_millis(50);

fn idle_config() -> TransportConfig {
    TransportConfig::default()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .pool_idle_timeout(IDLE)
}

/// Two requests a moment apart share a connection (so reuse is visible); a
/// third after more than the idle timeout opens a new one.
#[test]
fn ureq_does_not_reuse_a_connection_idle_past_the_timeout() {
    let server = Server::start(Behaviour::KeepAlive(Duration::ZERO));
    let transport = UreqTransport::new(idle_config()).unwrap();
    for _ in 0..2 {
        let response = transport.send(get(&server, "127.0.0.1")).unwrap();
        assert_eq!(response.body(), LIST);
        std::thread::sleep(MOMENT);
    }
    assert_eq!(
        server.connections(),
        1,
        "the pool reuses a fresh connection"
    );
    std::thread::sleep(IDLE * 3);
    transport.send(get(&server, "127.0.0.1")).unwrap();
    assert_eq!(server.requests(), 3);
    assert_eq!(server.connections(), 2, "an idle connection was reused");
}

#[test]
fn hyper_does_not_reuse_a_connection_idle_past_the_timeout() {
    let server = Server::start(Behaviour::KeepAlive(Duration::ZERO));
    let transport = HyperTransport::new(idle_config()).unwrap();
    let runtime = multi_thread_runtime();
    runtime.block_on(async {
        for _ in 0..2 {
            let response = transport.send(get(&server, "127.0.0.1")).await.unwrap();
            assert_eq!(response.body(), LIST);
            // The connection goes back to the pool from a task of its own.
            tokio::time::sleep(MOMENT).await;
        }
        assert_eq!(
            server.connections(),
            1,
            "the pool reuses a fresh connection"
        );
        tokio::time::sleep(IDLE * 3).await;
        transport.send(get(&server, "127.0.0.1")).await.unwrap();
    });
    assert_eq!(server.requests(), 3);
    assert_eq!(server.connections(), 2, "an idle connection was reused");
}

#[test]
fn the_default_idle_timeout_is_below_load_balancer_limits() {
    let config = TransportConfig::default().no_proxy();
    // AWS ALB closes idle connections after 60 s, nginx after 75 s.
    assert!(config.pool_idle_timeout <= Duration::from_secs(30));
    assert!(!config.pool_idle_timeout.is_zero());
}

// ---------------------------------------------------------------------------
// Measurements (ignored: run by hand).
// ---------------------------------------------------------------------------

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// 200 concurrent calls through one async transport to a loopback server
/// answering after `delay`, at several in-flight limits: calls per second
/// (median of 5 rounds) and connections opened.
#[test]
#[ignore = "a measurement; run with --ignored --nocapture"]
fn measure_in_flight_limits() {
    const CALLS: usize = 200;
    const ROUNDS: usize = 5;
    let runtime = multi_thread_runtime();
    for delay in [
        Duration::ZERO,
        Duration::from_millis(5),
        Duration::from_millis(50),
    ] {
        for limit in [8, 16, 32, 64] {
            let server = Server::start(Behaviour::KeepAlive(delay));
            let transport =
                HyperTransport::new(TransportConfig::default().no_proxy().max_in_flight(limit))
                    .unwrap();
            let mut rates = Vec::new();
            for _ in 0..ROUNDS {
                let started = Instant::now();
                runtime.block_on(async {
                    let mut calls = tokio::task::JoinSet::new();
                    for _ in 0..CALLS {
                        let (transport, request) = (transport.clone(), get(&server, "127.0.0.1"));
                        calls.spawn(async move { transport.send(request).await.unwrap() });
                    }
                    calls.join_all().await
                });
                rates.push(CALLS as f64 / started.elapsed().as_secs_f64());
            }
            println!(
                "server delay {delay:>5?}  limit {limit:>2}: {:>6.0} calls/s (median of {ROUNDS}; min {:.0}, max {:.0}), {} connections",
                median(rates.clone()),
                rates.iter().copied().fold(f64::MAX, f64::min),
                rates.iter().copied().fold(0.0, f64::max),
                server.connections()
            );
        }
    }
}

/// Sequential gets on one pooled connection to `localhost` (a host name,
/// so the resolver runs): our transport (with its host cache) against a
/// raw ureq agent with the same timeouts. Median time per call over 7
/// rounds of 2 000 calls, and the ratio.
#[test]
#[ignore = "a measurement; run with --ignored --nocapture"]
fn measure_host_cache() {
    const CALLS: usize = 2_000;
    const ROUNDS: usize = 7;
    let server = Server::start(Behaviour::KeepAlive(Duration::ZERO));
    let config = TransportConfig::default().no_proxy();
    let ours = UreqTransport::new(config.clone()).unwrap();
    let raw: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .proxy(None)
        .timeout_global(Some(config.timeout))
        .timeout_connect(Some(config.connect_timeout))
        .max_idle_age(config.pool_idle_timeout)
        .build()
        .into();
    let url = format!("{}/images", server.url("localhost"));
    let per_call = |f: &mut dyn FnMut()| {
        let started = Instant::now();
        for _ in 0..CALLS {
            f();
        }
        started.elapsed().as_secs_f64() * 1e6 / CALLS as f64
    };
    let (mut ours_us, mut raw_us) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        ours_us.push(per_call(&mut || {
            ours.send(get(&server, "localhost")).unwrap();
        }));
        raw_us.push(per_call(&mut || {
            let mut response = raw.get(&url).header(API_KEY_HEADER, CANARY).call().unwrap();
            response.body_mut().read_to_vec().unwrap();
        }));
    }
    let ratios: Vec<f64> = raw_us.iter().zip(&ours_us).map(|(r, o)| r / o).collect();
    println!(
        "localhost, {CALLS} calls x {ROUNDS} rounds: ours {:.1} µs/call, raw ureq {:.1} µs/call, raw/ours median {:.2} (rounds {:?})",
        median(ours_us.clone()),
        median(raw_us.clone()),
        median(ratios.clone()),
        ratios.iter().map(|r| format!("{r:.2}")).collect::<Vec<_>>()
    );
    println!("connections opened: {}", server.connections());
}
