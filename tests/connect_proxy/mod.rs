//! A small `CONNECT` proxy on loopback for the proxy tests: it records what
//! it is sent (the request heads, and every byte the client sends through a
//! tunnel), can demand credentials (answering 407 or 401 without them), can
//! refuse every tunnel with a status of its choice, and relays to loopback
//! targets only.
//! Shared by the test files that say `mod connect_proxy;`.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// What the proxy saw.
#[derive(Debug, Default)]
pub struct Seen {
    /// Each request head, as text, in arrival order.
    pub heads: Vec<String>,
    /// Every byte clients sent into tunnels.
    pub tunnelled: Vec<u8>,
}

/// A running proxy; dropping it stops accepting.
pub struct ConnectProxy {
    addr: SocketAddr,
    seen: Arc<Mutex<Seen>>,
    stop: Arc<AtomicBool>,
}

impl ConnectProxy {
    /// A proxy that tunnels every `CONNECT` to a loopback target.
    pub fn start() -> ConnectProxy {
        ConnectProxy::start_with(Policy::Open)
    }

    /// A proxy that answers 407 unless `Proxy-Authorization` is exactly
    /// `required`.
    pub fn requiring(required: &str) -> ConnectProxy {
        ConnectProxy::requiring_with(required, "407 Proxy Authentication Required")
    }

    /// A proxy that answers `status` (a status code and reason, e.g.
    /// `401 Unauthorized`) unless `Proxy-Authorization` is exactly
    /// `required`.
    pub fn requiring_with(required: &str, status: &'static str) -> ConnectProxy {
        ConnectProxy::start_with(Policy::Credentials(required.to_owned(), status))
    }

    /// A proxy that answers every `CONNECT` with `status` (e.g.
    /// `403 Forbidden`), credentials or not.
    pub fn refusing(status: &'static str) -> ConnectProxy {
        ConnectProxy::start_with(Policy::Refuse(status))
    }

    /// A "proxy" that answers every `CONNECT` with `bytes` (not HTTP) and
    /// closes.
    pub fn answering(bytes: &'static [u8]) -> ConnectProxy {
        ConnectProxy::start_with(Policy::Garbage(bytes))
    }

    fn start_with(policy: Policy) -> ConnectProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen2, stop2) = (seen.clone(), stop.clone());
        thread::spawn(move || {
            for stream in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let seen = seen2.clone();
                let policy = policy.clone();
                thread::spawn(move || serve(stream, seen, &policy));
            }
        });
        ConnectProxy { addr, seen, stop }
    }

    /// `http://127.0.0.1:port`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://user:password@127.0.0.1:port`.
    pub fn url_with(&self, user: &str, password: &str) -> String {
        format!("http://{user}:{password}@{}", self.addr)
    }

    /// The request heads seen so far.
    pub fn heads(&self) -> Vec<String> {
        self.seen.lock().unwrap().heads.clone()
    }

    /// Every byte clients sent into tunnels so far, as (lossy) text.
    pub fn tunnelled(&self) -> String {
        String::from_utf8_lossy(&self.seen.lock().unwrap().tunnelled).into_owned()
    }
}

impl Drop for ConnectProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
    }
}

/// Which tunnels the proxy opens.
#[derive(Clone)]
enum Policy {
    /// Every one.
    Open,
    /// Those with exactly this `Proxy-Authorization`; the others get this
    /// status.
    Credentials(String, &'static str),
    /// None: every `CONNECT` gets this status.
    Refuse(&'static str),
    /// None: every `CONNECT` gets these bytes.
    Garbage(&'static [u8]),
}

/// The value of header `name` in `head`, if present.
fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn serve(mut client: TcpStream, seen: Arc<Mutex<Seen>>, policy: &Policy) {
    let _ = client.set_read_timeout(Some(Duration::from_secs(10)));
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    // Byte by byte, so nothing after the head is consumed here.
    while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
        match client.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    seen.lock().unwrap().heads.push(head.clone());
    let mut words = head.split_whitespace();
    let (Some("CONNECT"), Some(target)) = (words.next(), words.next()) else {
        let _ = client.write_all(b"HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n");
        return;
    };
    let refusal = match policy {
        Policy::Garbage(bytes) => {
            let _ = client.write_all(bytes);
            return;
        }
        Policy::Open => None,
        Policy::Credentials(required, status) => {
            (header(&head, "proxy-authorization") != Some(required.as_str())).then_some(*status)
        }
        Policy::Refuse(status) => Some(*status),
    };
    if let Some(status) = refusal {
        // A body, as real proxies send with a refusal.
        let body = "<html><body>Access denied</body></html>";
        let _ = client.write_all(
            format!(
                "HTTP/1.1 {status}\r\nproxy-authenticate: Basic realm=\"test\"\r\n\
                 www-authenticate: Basic realm=\"test\"\r\ncontent-type: text/html\r\n\
                 content-length: {}\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        );
        return;
    }
    // Loopback targets only: a test never reaches further.
    let loopback = target
        .to_socket_addrs()
        .map(|addrs| addrs.filter(|a| a.ip().is_loopback()).collect::<Vec<_>>())
        .unwrap_or_default();
    let Some(upstream) = loopback
        .iter()
        .find_map(|a| TcpStream::connect_timeout(a, Duration::from_secs(2)).ok())
    else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n");
        return;
    };
    if client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .is_err()
    {
        return;
    }
    relay(client, upstream, seen);
}

/// Copies both ways until either side closes, recording what the client
/// sends.
fn relay(client: TcpStream, upstream: TcpStream, seen: Arc<Mutex<Seen>>) {
    let _ = client.set_read_timeout(None);
    let (Ok(mut client_r), Ok(mut upstream_w)) = (client.try_clone(), upstream.try_clone()) else {
        return;
    };
    let up = thread::spawn(move || {
        let mut buf = [0u8; 8192];
        loop {
            match client_r.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    seen.lock().unwrap().tunnelled.extend_from_slice(&buf[..n]);
                    if upstream_w.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = upstream_w.shutdown(Shutdown::Write);
    });
    let (mut upstream_r, mut client_w) = (upstream, client);
    let _ = std::io::copy(&mut upstream_r, &mut client_w);
    let _ = client_w.shutdown(Shutdown::Both);
    let _ = up.join();
}
