//! A small `CONNECT` proxy on loopback for the proxy tests: it records what
//! it is sent (the request heads, and every byte the client sends through a
//! tunnel), can demand credentials, and relays to loopback targets only.
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
        ConnectProxy::start_with(None)
    }

    /// A proxy that answers 407 unless `Proxy-Authorization` is exactly
    /// `required`.
    pub fn requiring(required: &str) -> ConnectProxy {
        ConnectProxy::start_with(Some(required.to_owned()))
    }

    fn start_with(required: Option<String>) -> ConnectProxy {
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
                let required = required.clone();
                thread::spawn(move || serve(stream, seen, required.as_deref()));
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

/// The value of header `name` in `head`, if present.
fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn serve(mut client: TcpStream, seen: Arc<Mutex<Seen>>, required: Option<&str>) {
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
    if let Some(required) = required {
        if header(&head, "proxy-authorization") != Some(required) {
            let _ = client.write_all(
                b"HTTP/1.1 407 Proxy Authentication Required\r\n\
                  proxy-authenticate: Basic realm=\"test\"\r\ncontent-length: 0\r\n\r\n",
            );
            return;
        }
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
