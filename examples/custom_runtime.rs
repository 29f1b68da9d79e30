//! Drives the core's operations by hand, in a loop of its own, with no
//! facade: lists every page and waits for a create task, against a local
//! simulator, sending over a raw `std::net::TcpStream` HTTP/1.1 writer.
//!
//! ```text
//! cargo run --no-default-features --example custom_runtime
//! ```
//!
//! Embedding the client in any runtime is this loop: ask the operation what
//! to do ([`Operation::poll`]), do it with your own I/O and timers, hand the
//! answer back ([`Operation::handle`]) and report its events
//! ([`Operation::poll_event`]). Every decision (retries, redirects, paging,
//! polling, decoding) stays in the operation.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant, SystemTime};

use coxedge_images::{
    CreateImage, Error, Event, ListOptions, Next, Operation, PollPolicy, TransportError,
    TransportErrorKind,
};
use coxedge_images_simulator::Simulator;
use http::{Request, Response};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let simulator = Simulator::start();
    let endpoint = simulator.endpoint();
    let mut random = Xorshift::seeded();

    // Every page, one image a page, so that paging shows.
    let listing = endpoint.list_images(&ListOptions::new().page(1, 1))?;
    let list = drive(listing, &mut random)?;
    println!("{} images in all:", list.images.len());
    // The run proves the paging: every image, one page each.
    assert_eq!(
        list.images.len(),
        simulator.images().len(),
        "paging lost images"
    );
    for image in &list.images {
        println!("  {} ({})", image.id, image.status);
    }

    // Create an image, then wait for its task, polling every 200 ms at first.
    let create = CreateImage::new("debian", "v1", "workload-1", "inst-0");
    let task = drive(endpoint.create_image(&create)?, &mut random)?;
    println!("task {} started ({})", task.id, task.status);
    let policy = PollPolicy::default()
        .with_initial_interval(Duration::from_millis(200))
        .with_timeout(Duration::from_secs(30));
    let task = drive(endpoint.wait_for_task(task, policy), &mut random)?;
    println!("task {} ended {}", task.id, task.status);
    Ok(())
}

/// The whole driver: the operation decides, this loop sends and sleeps.
fn drive<O: Operation>(mut op: O, random: &mut Xorshift) -> Result<O::Output, Error> {
    loop {
        let next = op.poll(Instant::now());
        report(&mut op);
        match next {
            Next::Send(request) => {
                let answer = send(request);
                op.handle(answer, Instant::now(), SystemTime::now(), random.next());
                report(&mut op);
            }
            Next::WaitUntil(at) => std::thread::sleep(at.saturating_duration_since(Instant::now())),
            Next::Done(result) => return result,
        }
    }
}

/// One line per event worth showing.
fn report(op: &mut impl Operation) {
    while let Some(event) = op.poll_event() {
        match event {
            Event::Answered {
                operation,
                method,
                path,
                status,
                failure,
                body_bytes,
                attempt,
                ..
            } => eprintln!(
                "  {operation} {method} {path} -> {} ({body_bytes} bytes, attempt {attempt})",
                status.map_or_else(|| failure.unwrap_or_default(), |s| s.to_string()),
            ),
            Event::Retrying { reason, wait, .. } => {
                eprintln!("  retrying after {reason}: waiting {wait:?}")
            }
            Event::Page {
                page,
                received,
                new,
                gathered,
                ..
            } => eprintln!("  page {page}: {received} images, {new} new, {gathered} so far"),
            Event::TaskPolled { task, .. } => eprintln!("  task {} is {}", task.id, task.status),
            _ => {}
        }
    }
}

/// Sends one request over plain HTTP/1.1 (loopback only: the request
/// carries the API key) and reads the whole response.
fn send(request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
    let failed =
        |kind, what: &str, e: std::io::Error| TransportError::new(kind, format!("{what}: {e}"));
    let uri = request.uri();
    if uri.scheme_str() != Some("http") || !matches!(uri.host(), Some("127.0.0.1" | "localhost")) {
        let refused = format!("only plain http to loopback here, not {uri}");
        return Err(TransportError::new(TransportErrorKind::Refused, refused));
    }
    let authority = uri.authority().map(|a| a.as_str()).unwrap_or_default();
    let host = uri.host().unwrap_or_default();
    let port = uri.port_u16().unwrap_or(80);
    let mut stream = TcpStream::connect((host, port))
        .map_err(|e| failed(TransportErrorKind::Connect, "connect", e))?;
    let timeout = Some(Duration::from_secs(10));
    let _ = stream.set_read_timeout(timeout);
    let _ = stream.set_write_timeout(timeout);

    let target = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let mut head = format!(
        "{} {target} HTTP/1.1\r\nHost: {authority}\r\n",
        request.method()
    );
    for (name, value) in request.headers() {
        head.push_str(name.as_str());
        head.push_str(": ");
        head.push_str(value.to_str().unwrap_or_default());
        head.push_str("\r\n");
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        request.body().len()
    ));
    stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(request.body()))
        .map_err(|e| failed(TransportErrorKind::Io, "write", e))?;

    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .map_err(|e| failed(TransportErrorKind::Io, "read", e))?;
    parse(&raw).ok_or_else(|| {
        TransportError::new(TransportErrorKind::Io, "a malformed or cut-short response")
    })
}

/// Status line, headers, and a body by `Content-Length`, chunks, or the
/// end of the connection.
fn parse(raw: &[u8]) -> Option<Response<Vec<u8>>> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..split]).ok()?;
    let mut rest = &raw[split + 4..];
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let mut response = Response::builder().status(status);
    let mut chunked = false;
    let mut length = None;
    for line in lines {
        let (name, value) = line.split_once(':')?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.eq_ignore_ascii_case("chunked");
        } else if name.eq_ignore_ascii_case("content-length") {
            length = value.parse::<usize>().ok();
        }
        response = response.header(name, value);
    }
    let body = if chunked {
        let mut body = Vec::new();
        loop {
            let end = rest.windows(2).position(|w| w == b"\r\n")?;
            let size =
                usize::from_str_radix(std::str::from_utf8(&rest[..end]).ok()?.trim(), 16).ok()?;
            rest = &rest[end + 2..];
            if size == 0 {
                break body;
            }
            body.extend_from_slice(rest.get(..size)?);
            rest = rest.get(size + 2..)?;
        }
    } else {
        // A body shorter than announced is not a response.
        match length {
            Some(n) => rest.get(..n)?.to_vec(),
            None => rest.to_vec(),
        }
    };
    response.body(body).ok()
}

/// The jitter source: any number in `[0, 1)` will do.
struct Xorshift(u64);

impl Xorshift {
    fn seeded() -> Self {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(1, |d| d.subsec_nanos());
        Xorshift(u64::from(nanos) | 1)
    }

    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}
