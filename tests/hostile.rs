//! Hostile servers: a table of server behaviours, each with its exact
//! expected outcome, run over both bundled transports (the blocking ureq
//! `Client` and the async hyper `AsyncClient`).
//!
//! Every row gets its own simulator (or its own raw TCP server, for
//! behaviours that need byte-level control) plus a second simulator that no
//! request may ever reach. A row passes when the outcome is exactly the one
//! expected (success and its decoded value, or the typed error: kind,
//! transport kind, status, JSON path, message), the server saw exactly the
//! expected number of requests (retries included), every retry wait is the
//! expected one, nothing contains the API key, and the call ended in bounded
//! time. All rows run; the failures are reported together at the end.
#![cfg(all(feature = "ureq", feature = "hyper"))]

mod support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use coxedge_images::AsyncClient;
use coxedge_images::{Client, TransportConfig};
use coxedge_images::{
    Endpoint, Error, ErrorKind, Image, ImageId, ImageList, ImageStatus, ListOptions, RetryAfter,
    RetryPolicy, TransportErrorKind,
};
use coxedge_images_simulator::{Fault, FaultAction, Simulator};
use http::{Method, StatusCode};
use support::SEED_STACK_ID;
use support::{
    CANARY, IMAGES, Notices, canary_key, error_texts, multi_thread_runtime, recorder, seed_id,
    simulator,
};

/// The whole-request timeout of every row.
const TIMEOUT: Duration = Duration::from_millis(500);
/// The body limit of every row.
const MAX_BODY: u64 = 64 * 1024;
/// Attempts in all, per call.
const ATTEMPTS: u32 = 3;
/// The retry policy's cap on one wait (unless a row says otherwise).
const MAX_DELAY: Duration = Duration::from_millis(50);
/// The retry policy's first backoff ceiling.
const BASE_DELAY: Duration = Duration::from_millis(1);
/// The shortest retry wait of the table's policy: what `Retry-After: 0` or a
/// date in the past gets instead of an immediate retry.
const FLOOR: Duration = Duration::from_micros(500);
/// A row whose call has not ended by then has hung.
const ROW_LIMIT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------
// The table's vocabulary.
// ---------------------------------------------------------------------------

/// What the client calls.
#[derive(Clone, Copy, Debug)]
enum Op {
    /// `list_page` with no options.
    List,
    /// `get_image` of `SEED_STACK_ID/family/tag`.
    Get(&'static str, &'static str),
}

/// What the server does.
#[derive(Clone, Copy)]
enum Serve {
    /// The simulator, with these faults injected first.
    Sim(fn(&Ctx) -> Vec<Fault>),
    /// The simulator answering every request with exactly this status,
    /// `Content-Type` and body (`FaultAction::RawBody`, always).
    Body(u16, &'static str, &'static [u8]),
    /// A raw TCP server that reads one request head per connection, then runs
    /// this script and closes the connection.
    Raw(fn(&mut TcpStream)),
}

/// What the row's faults may need to know.
struct Ctx {
    /// `http://127.0.0.1:PORT/api/v1` of the row's simulator.
    base: String,
    /// The port of the row's simulator.
    port: u16,
    /// The base URL of the simulator no request may reach.
    other_base: String,
}

/// The decoded value of a successful call.
#[derive(Debug)]
enum Got {
    List(ImageList),
    Image(Image),
}

/// The expected end of a call.
#[derive(Clone, Copy)]
enum Expect {
    /// Success; the check looks at the decoded value.
    Ok(fn(&Got) -> Result<(), String>),
    /// This typed error.
    Err(Want),
}

/// A typed error, field by field; `None` means "must be absent" for
/// `transport`, `status` and `json_path`.
#[derive(Clone, Copy)]
struct Want {
    kind: ErrorKind,
    transport: Option<TransportErrorKind>,
    status: Option<u16>,
    json_path: Option<&'static str>,
    /// Each must appear in the error's `Display`.
    contains: &'static [&'static str],
    /// `Error::attempts`.
    attempts: u32,
    /// `Error::retry_after`, checked when set.
    retry_after: Option<RetryAfter>,
}

const WANT: Want = Want {
    kind: ErrorKind::Http,
    transport: None,
    status: None,
    json_path: None,
    contains: &[],
    attempts: 1,
    retry_after: None,
};

const fn transport(kind: TransportErrorKind, attempts: u32) -> Want {
    Want {
        kind: ErrorKind::Transport,
        transport: Some(kind),
        attempts,
        ..WANT
    }
}

const fn decode(json_path: &'static str, contains: &'static [&'static str]) -> Want {
    Want {
        kind: ErrorKind::Decode,
        status: Some(200),
        json_path: Some(json_path),
        contains,
        ..WANT
    }
}

/// What every retry wait must be.
#[derive(Clone, Copy, Debug)]
enum Wait {
    /// Anything (no check).
    Any,
    /// At least one wait, and every wait exactly this.
    Exactly(Duration),
    /// At least one wait, and every wait at most this (the backoff).
    AtMost(Duration),
}

/// One server behaviour and its expected outcome.
#[derive(Clone, Copy)]
struct Row {
    name: &'static str,
    op: Op,
    serve: Serve,
    expect: Expect,
    /// Requests the server must have seen (retries and redirects included).
    requests: usize,
    /// When set, the path (as sent, percent-encoded) of every request.
    path: Option<&'static str>,
    wait: Wait,
    /// The retry policy's cap on one wait.
    max_delay: Duration,
}

const ROW: Row = Row {
    name: "",
    op: Op::List,
    serve: Serve::Sim(no_faults),
    expect: Expect::Ok(seeded_list),
    requests: 1,
    path: None,
    wait: Wait::Any,
    max_delay: MAX_DELAY,
};

// ---------------------------------------------------------------------------
// Bodies.
// ---------------------------------------------------------------------------

/// The fields of a valid image, without `description` and `status`.
macro_rules! image_fields {
    () => {
        r#""stackId":"a8050b2b-39eb-4929-bce5-1af42055903e","id":"a8050b2b-39eb-4929-bce5-1af42055903e/ubuntu/v20201110","slug":"cox-edge","family":"ubuntu","tag":"v20201110","createdAt":"2020-11-10T20:34:11.328575Z","reference":"cox-edge/ubuntu:v20201110""#
    };
}

/// A list document holding one image made of these fields.
macro_rules! list_of {
    ($($fields:expr),* $(,)?) => {
        concat!(r#"{"data":[{"#, $($fields),*, r#"}],"metadata":{"recordCount":1}}"#).as_bytes()
    };
}

/// A valid one-image list.
const VALID_LIST: &[u8] = list_of!(
    image_fields!(),
    r#","description":"Image using ubuntu","status":"READY""#
);

fn no_faults(_: &Ctx) -> Vec<Fault> {
    Vec::new()
}

fn seeded_list(got: &Got) -> Result<(), String> {
    match got {
        Got::List(list) if list.images.len() == 2 && list.metadata.record_count == Some(2) => {
            Ok(())
        }
        other => Err(format!("expected the 2 seeded images, got {other:?}")),
    }
}

fn one_ready_ubuntu(got: &Got) -> Result<(), String> {
    match got {
        Got::List(list)
            if list.images.len() == 1
                && list.images[0].family() == "ubuntu"
                && list.images[0].status == ImageStatus::Ready
                && list.images[0].description.as_deref() == Some("Image using ubuntu") =>
        {
            Ok(())
        }
        other => Err(format!(
            "expected the one ready ubuntu image, got {other:?}"
        )),
    }
}

fn no_description(got: &Got) -> Result<(), String> {
    match got {
        Got::List(list) if list.images.len() == 1 && list.images[0].description.is_none() => Ok(()),
        other => Err(format!(
            "expected one image without description, got {other:?}"
        )),
    }
}

fn new_status_kept(got: &Got) -> Result<(), String> {
    match got {
        Got::List(list)
            if list.images.len() == 1
                && list.images[0].status == ImageStatus::Other("BRAND_NEW_STATE".into())
                && list.metadata.page_current == Some(1) =>
        {
            Ok(())
        }
        other => Err(format!(
            "expected status BRAND_NEW_STATE kept, got {other:?}"
        )),
    }
}

/// Far deeper than any JSON parser's recursion limit, yet (twice over) under
/// the 64 KiB body limit.
const NESTING: usize = 20_000;

/// `{"data": [[[[…` nested far deeper than any parser's recursion limit.
fn deeply_nested_data(_: &Ctx) -> Vec<Fault> {
    let depth = NESTING;
    let mut body = br#"{"data":"#.to_vec();
    body.extend(std::iter::repeat_n(b'[', depth));
    body.extend(std::iter::repeat_n(b']', depth));
    body.push(b'}');
    vec![raw_body(200, "application/json", body)]
}

/// A valid image with an unknown field nested far too deep.
fn deeply_nested_unknown_field(_: &Ctx) -> Vec<Fault> {
    let depth = NESTING;
    let mut body = br#"{"data":[{"#.to_vec();
    body.extend_from_slice(image_fields!().as_bytes());
    body.extend_from_slice(br#","status":"READY","extra":"#);
    body.extend(std::iter::repeat_n(b'[', depth));
    body.extend(std::iter::repeat_n(b']', depth));
    body.extend_from_slice(b"}]}");
    vec![raw_body(200, "application/json", body)]
}

/// `{"errors": [[[[…]]]]}`: an error document too deep to read.
fn deeply_nested_errors(_: &Ctx) -> Vec<Fault> {
    let mut body = br#"{"errors":"#.to_vec();
    body.extend(std::iter::repeat_n(b'[', NESTING));
    body.extend(std::iter::repeat_n(b']', NESTING));
    body.push(b'}');
    vec![raw_body(200, "application/json", body)]
}

fn raw_body(status: u16, content_type: &str, body: Vec<u8>) -> Fault {
    Fault::always(FaultAction::RawBody {
        status: StatusCode::from_u16(status).expect("valid status"),
        content_type: content_type.to_owned(),
        body,
    })
}

// ---------------------------------------------------------------------------
// Simulator faults.
// ---------------------------------------------------------------------------

fn always(action: FaultAction) -> Vec<Fault> {
    vec![Fault::always(action)]
}

fn html_502(_: &Ctx) -> Vec<Fault> {
    always(FaultAction::Html502)
}
fn truncate(_: &Ctx) -> Vec<Fault> {
    always(FaultAction::Truncate)
}
fn malformed(_: &Ctx) -> Vec<Fault> {
    always(FaultAction::MalformedJson)
}
fn endless(_: &Ctx) -> Vec<Fault> {
    always(FaultAction::Oversized(u64::MAX))
}
fn drip(_: &Ctx) -> Vec<Fault> {
    always(FaultAction::Drip {
        chunk_delay: Duration::from_secs(1),
    })
}
fn stall_before_headers(_: &Ctx) -> Vec<Fault> {
    always(FaultAction::StallBeforeHeaders)
}
fn stall_after_headers(_: &Ctx) -> Vec<Fault> {
    always(FaultAction::Stall)
}
fn reset(_: &Ctx) -> Vec<Fault> {
    always(FaultAction::Reset)
}
fn reset_after_headers(_: &Ctx) -> Vec<Fault> {
    always(FaultAction::ResetAfterHeaders)
}
fn gzip(_: &Ctx) -> Vec<Fault> {
    always(FaultAction::Gzip)
}
fn unknown_5xx(_: &Ctx) -> Vec<Fault> {
    always(FaultAction::status(StatusCode::from_u16(599).expect("599")))
}

/// One 503 with this `Retry-After`, then the normal answer.
fn once_503(retry_after: &str) -> Vec<Fault> {
    vec![Fault::once(FaultAction::status_retry_after(
        StatusCode::SERVICE_UNAVAILABLE,
        retry_after,
    ))]
}
fn ra_seconds(_: &Ctx) -> Vec<Fault> {
    once_503("1")
}
fn ra_past_date(_: &Ctx) -> Vec<Fault> {
    once_503("Wed, 21 Oct 2015 07:28:00 GMT")
}
fn ra_future_date(_: &Ctx) -> Vec<Fault> {
    once_503(&httpdate::fmt_http_date(
        SystemTime::now() + Duration::from_secs(3600),
    ))
}
fn ra_huge(_: &Ctx) -> Vec<Fault> {
    once_503("99999999999999999999999999")
}
fn ra_negative(_: &Ctx) -> Vec<Fault> {
    once_503("-5")
}
fn ra_garbage(_: &Ctx) -> Vec<Fault> {
    once_503("soon, maybe")
}
fn ra_fraction(_: &Ctx) -> Vec<Fault> {
    once_503("1.5")
}
fn always_429(_: &Ctx) -> Vec<Fault> {
    always(FaultAction::status_retry_after(
        StatusCode::TOO_MANY_REQUESTS,
        "0",
    ))
}

fn redirect_relative(_: &Ctx) -> Vec<Fault> {
    vec![Fault::once(FaultAction::RedirectTo(IMAGES.to_owned())).on(Method::GET, IMAGES)]
}
fn redirect_absolute(ctx: &Ctx) -> Vec<Fault> {
    let to = format!("{}/services/cox/test-area/images", ctx.base);
    vec![Fault::once(FaultAction::RedirectTo(to)).on(Method::GET, IMAGES)]
}
fn redirect_other_origin(ctx: &Ctx) -> Vec<Fault> {
    let to = format!("{}/services/cox/test-area/images", ctx.other_base);
    vec![Fault::once(FaultAction::RedirectTo(to))]
}
fn redirect_localhost_alias(ctx: &Ctx) -> Vec<Fault> {
    let to = format!(
        "http://localhost:{}/api/v1/services/cox/test-area/images",
        ctx.port
    );
    vec![Fault::once(FaultAction::RedirectTo(to))]
}
fn redirect_scheme_relative(ctx: &Ctx) -> Vec<Fault> {
    let host = ctx.other_base.trim_start_matches("http:");
    vec![Fault::once(FaultAction::RedirectTo(format!(
        "{host}/services/cox/test-area/images"
    )))]
}
fn redirect_loop(_: &Ctx) -> Vec<Fault> {
    always(FaultAction::RedirectTo(IMAGES.to_owned()))
}

// ---------------------------------------------------------------------------
// Raw server scripts (one per connection, after the request head was read).
// ---------------------------------------------------------------------------

fn send(stream: &mut TcpStream, bytes: &[u8]) {
    let _ = stream.write_all(bytes);
    let _ = stream.flush();
}

/// `HTTP/1.1 200` with a valid list, preceded by `interim`.
fn ok_list_after(stream: &mut TcpStream, interim: &[u8], content_type: Option<&str>) {
    let mut head = interim.to_vec();
    head.extend_from_slice(b"HTTP/1.1 200 OK\r\nConnection: close\r\n");
    if let Some(ct) = content_type {
        head.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
    }
    head.extend_from_slice(format!("Content-Length: {}\r\n\r\n", VALID_LIST.len()).as_bytes());
    head.extend_from_slice(VALID_LIST);
    send(stream, &head);
}

fn no_content_type(s: &mut TcpStream) {
    ok_list_after(s, b"", None);
}
fn continue_then_ok(s: &mut TcpStream) {
    ok_list_after(
        s,
        b"HTTP/1.1 100 Continue\r\n\r\n",
        Some("application/json"),
    );
}
fn early_hints_then_ok(s: &mut TcpStream) {
    ok_list_after(
        s,
        b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n",
        Some("application/json"),
    );
}
fn interim_only_then_close(s: &mut TcpStream) {
    send(s, b"HTTP/1.1 100 Continue\r\n\r\n");
    std::thread::sleep(Duration::from_millis(50));
}

/// Claims 1000 bytes, sends 31, closes.
fn short_body_then_close(s: &mut TcpStream) {
    send(
        s,
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"data\": [{\"stackId\": \"a8050b2b",
    );
    std::thread::sleep(Duration::from_millis(50));
}

/// A chunk announced as 0x100 bytes, cut after 12, then close.
fn chunk_cut(s: &mut TcpStream) {
    send(
        s,
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n100\r\n{\"data\": [{\"",
    );
    std::thread::sleep(Duration::from_millis(50));
}

/// A `Content-Length` shorter than the body that follows: the client reads
/// only the first 20 bytes, a cut-off JSON document.
fn content_length_too_short(s: &mut TcpStream) {
    let mut bytes =
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: 20\r\n\r\n"
            .to_vec();
    bytes.extend_from_slice(VALID_LIST);
    send(s, &bytes);
    std::thread::sleep(Duration::from_millis(50));
}

/// A body delimited by the connection close (no length, no chunking) that
/// goes on for up to 16 MiB or 3 s.
fn endless_until_close(s: &mut TcpStream) {
    send(
        s,
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{\"data\": [",
    );
    filler(s, 16 << 20);
}

/// A `Content-Length` of a terabyte, then filler.
fn huge_content_length(s: &mut TcpStream) {
    send(
        s,
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000000000000\r\n\r\n{\"data\": [",
    );
    filler(s, 16 << 20);
}

fn filler(s: &mut TcpStream, bytes: usize) {
    let chunk = [b'0'; 16 * 1024];
    let started = Instant::now();
    let mut sent = 0;
    while sent < bytes && started.elapsed() < Duration::from_secs(3) {
        if s.write_all(&chunk).is_err() {
            return;
        }
        sent += chunk.len();
    }
}

/// Ten thousand small headers.
fn header_flood(s: &mut TcpStream) {
    let mut head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n".to_vec();
    for i in 0..10_000 {
        head.extend_from_slice(format!("X-Flood-{i}: {i}\r\n").as_bytes());
    }
    head.extend_from_slice(format!("Content-Length: {}\r\n\r\n", VALID_LIST.len()).as_bytes());
    head.extend_from_slice(VALID_LIST);
    send(s, &head);
    std::thread::sleep(Duration::from_millis(50));
}

/// One header of 1 MiB.
fn huge_header(s: &mut TcpStream) {
    let mut head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Huge: ".to_vec();
    head.extend(std::iter::repeat_n(b'a', 1 << 20));
    head.extend_from_slice(format!("\r\nContent-Length: {}\r\n\r\n", VALID_LIST.len()).as_bytes());
    head.extend_from_slice(VALID_LIST);
    send(s, &head);
    std::thread::sleep(Duration::from_millis(50));
}

/// A head of about 60 KiB in 100 fields: under both limits.
fn large_headers_under_the_limit(s: &mut TcpStream) {
    let mut head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n".to_vec();
    for i in 0..97 {
        head.extend_from_slice(format!("X-Large-{i:02}: ").as_bytes());
        head.extend(std::iter::repeat_n(b'a', 630));
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"Connection: close\r\n");
    head.extend_from_slice(format!("Content-Length: {}\r\n\r\n", VALID_LIST.len()).as_bytes());
    assert!(
        head.len() > 60 * 1024 && head.len() < 64 * 1024,
        "{}",
        head.len()
    );
    head.extend_from_slice(VALID_LIST);
    send(s, &head);
    std::thread::sleep(Duration::from_millis(50));
}

/// 101 small header fields: over the field count both transports share.
fn too_many_header_fields(s: &mut TcpStream) {
    let mut head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n".to_vec();
    for i in 0..99 {
        head.extend_from_slice(format!("X-Field-{i}: {i}\r\n").as_bytes());
    }
    head.extend_from_slice(format!("Content-Length: {}\r\n\r\n", VALID_LIST.len()).as_bytes());
    head.extend_from_slice(VALID_LIST);
    send(s, &head);
    std::thread::sleep(Duration::from_millis(50));
}

/// One header of 100 KiB, a status line and a length: over the 64 KiB
/// limit, under hyper's own default buffer.
fn header_of_100_kib(s: &mut TcpStream) {
    let mut head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Big: ".to_vec();
    head.extend(std::iter::repeat_n(b'a', 100 * 1024));
    head.extend_from_slice(format!("\r\nContent-Length: {}\r\n\r\n", VALID_LIST.len()).as_bytes());
    head.extend_from_slice(VALID_LIST);
    send(s, &head);
    std::thread::sleep(Duration::from_millis(50));
}

/// `HTTP/1.1` and a status code that is not a number.
fn bad_status_line(s: &mut TcpStream) {
    send(s, b"HTTP/1.1 2x0 OK\r\nContent-Length: 2\r\n\r\n{}");
    std::thread::sleep(Duration::from_millis(50));
}

/// A header line without a colon.
fn bad_header_line(s: &mut TcpStream) {
    send(
        s,
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nthis is not a header\r\nContent-Length: 2\r\n\r\n{}",
    );
    std::thread::sleep(Duration::from_millis(50));
}

/// A `Content-Length` that is not a number.
fn bad_content_length(s: &mut TcpStream) {
    send(
        s,
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: twelve\r\n\r\n{}",
    );
    std::thread::sleep(Duration::from_millis(50));
}

fn garbage_status_line(s: &mut TcpStream) {
    send(s, b"HELLO FRIEND, THIS IS NOT HTTP\r\n\r\n{}");
    std::thread::sleep(Duration::from_millis(50));
}

/// Both `Content-Length` (wrong) and chunked framing (right): RFC 9112 says
/// chunked wins.
fn length_and_chunked(s: &mut TcpStream) {
    let mut bytes = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n",
        VALID_LIST.len()
    )
    .into_bytes();
    bytes.extend_from_slice(VALID_LIST);
    bytes.extend_from_slice(b"\r\n0\r\n\r\n");
    send(s, &bytes);
    std::thread::sleep(Duration::from_millis(50));
}

/// Two different `Content-Length` headers.
fn conflicting_lengths(s: &mut TcpStream) {
    let mut bytes = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: {}\r\nContent-Length: 7\r\n\r\n",
        VALID_LIST.len()
    )
    .into_bytes();
    bytes.extend_from_slice(VALID_LIST);
    send(s, &bytes);
    std::thread::sleep(Duration::from_millis(50));
}

/// A chunk size that is not hexadecimal.
fn bad_chunk_size(s: &mut TcpStream) {
    send(
        s,
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    );
    std::thread::sleep(Duration::from_millis(50));
}

/// The status line and headers, one byte every 100 ms, for up to 3 s.
fn slow_headers(s: &mut TcpStream) {
    let head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
    for byte in head.iter().take(30) {
        if s.write_all(&[*byte]).is_err() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// 503 with two `Retry-After` headers that disagree.
fn two_retry_afters(s: &mut TcpStream) {
    send(
        s,
        b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nRetry-After: 2\r\nContent-Type: text/plain\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbusy",
    );
}

/// An HTTP/1.0 answer delimited by the close.
fn http10_until_close(s: &mut TcpStream) {
    let mut bytes = b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n".to_vec();
    bytes.extend_from_slice(VALID_LIST);
    send(s, &bytes);
}

/// Reads the request and closes without a byte.
fn close_without_answer(_: &mut TcpStream) {}

// ---------------------------------------------------------------------------
// The table.
// ---------------------------------------------------------------------------

/// Three attempts, each ended by the 500 ms timeout.
const TIMED_OUT: Want = Want {
    contains: &["timed out: no complete response within 500 ms"],
    ..transport(TransportErrorKind::Timeout, ATTEMPTS)
};
/// Three attempts, each ended by a broken connection.
const BROKEN: Want = transport(TransportErrorKind::Io, ATTEMPTS);
/// Three attempts, each ended by a body cut short after the headers.
const TRUNCATED: Want = transport(TransportErrorKind::Truncated, ATTEMPTS);
/// One attempt: invalid HTTP is not retried.
const PROTOCOL: Want = transport(TransportErrorKind::Protocol, 1);
/// One attempt: a response head over the limit is not retried.
const HEADERS_TOO_LARGE: Want = Want {
    contains: &["response headers too large: more than the limit of 65536 bytes"],
    ..transport(TransportErrorKind::HeadersTooLarge, 1)
};
/// A 404 of the get-image route (not "No such API route").
const IMAGE_NOT_FOUND: Expect = Expect::Err(Want {
    kind: ErrorKind::Api,
    status: Some(404),
    contains: &["Image a8050b2b", "not found"],
    ..WANT
});

static TABLE: &[Row] = &[
    // --- Error pages and error documents -------------------------------------
    Row {
        name: "html 502 from a proxy (retried, then typed)",
        serve: Serve::Sim(html_502),
        expect: Expect::Err(Want {
            status: Some(502),
            contains: &["502 Bad Gateway", "the body is not an API error document", "after 3 attempts"],
            attempts: ATTEMPTS,
            ..WANT
        }),
        requests: 3,
        wait: Wait::AtMost(Duration::from_millis(4)),
        ..ROW
    },
    Row {
        name: "html 500 page",
        serve: Serve::Body(
            500,
            "text/html",
            b"<html><body><h1>Internal Server Error</h1></body></html>",
        ),
        expect: Expect::Err(Want {
            status: Some(500),
            contains: &["Internal Server Error"],
            ..WANT
        }),
        ..ROW
    },
    Row {
        name: "html page with 200",
        serve: Serve::Body(
            200,
            "text/html; charset=utf-8",
            b"<!DOCTYPE html><html><body>Maintenance</body></html>",
        ),
        expect: Expect::Err(decode(".", &["expected value", "text/html", "Maintenance"])),
        ..ROW
    },
    Row {
        name: "plain-text 401",
        serve: Serve::Body(401, "text/plain", b"Unauthorized"),
        expect: Expect::Err(Want {
            status: Some(401),
            contains: &["Unauthorized"],
            ..WANT
        }),
        ..ROW
    },
    Row {
        name: "200 whose body is an errors document",
        serve: Serve::Body(
            200,
            "application/json",
            br#"{"errors":[{"code":2012,"message":"Instance is Stopped","context":{"currentState":"Stopped","expectedStates":["Running"]}}]}"#,
        ),
        expect: Expect::Err(Want {
            kind: ErrorKind::Api,
            status: Some(200),
            contains: &["Instance is Stopped (code 2012)"],
            ..WANT
        }),
        ..ROW
    },
    Row {
        name: "200 with data and errors (errors win)",
        serve: Serve::Body(
            200,
            "application/json",
            br#"{"data":[],"errors":[{"errorCode":"FOO_ERROR","message":"half done"}]}"#,
        ),
        expect: Expect::Err(Want {
            kind: ErrorKind::Api,
            status: Some(200),
            contains: &["half done (code FOO_ERROR)"],
            ..WANT
        }),
        ..ROW
    },
    Row {
        name: "unknown 599 with an errors document (not retried)",
        serve: Serve::Sim(unknown_5xx),
        expect: Expect::Err(Want {
            kind: ErrorKind::Api,
            status: Some(599),
            contains: &["Simulated failure with status 599"],
            ..WANT
        }),
        ..ROW
    },
    // --- Truncated bodies ----------------------------------------------------
    Row {
        name: "truncated body (full Content-Length, half sent, closed)",
        serve: Serve::Sim(truncate),
        expect: Expect::Err(Want {
            contains: &["response cut short: the body ended after 321 of 643 bytes"],
            ..TRUNCATED
        }),
        requests: 3,
        ..ROW
    },
    Row {
        name: "raw: Content-Length 1000, 31 bytes, close",
        serve: Serve::Raw(short_body_then_close),
        expect: Expect::Err(Want {
            contains: &["response cut short: the body ended after 31 of 1000 bytes"],
            ..TRUNCATED
        }),
        requests: 3,
        ..ROW
    },
    Row {
        name: "raw: connection closed mid-chunk",
        serve: Serve::Raw(chunk_cut),
        expect: Expect::Err(Want {
            contains: &["response cut short: the body ended after 12 bytes, before its last chunk"],
            ..TRUNCATED
        }),
        requests: 3,
        ..ROW
    },
    Row {
        name: "raw: Content-Length shorter than the body",
        serve: Serve::Raw(content_length_too_short),
        expect: Expect::Err(decode("data[0].stackId", &["EOF while parsing a value"])),
        ..ROW
    },
    Row {
        name: "200 with malformed (cut-off) JSON",
        serve: Serve::Sim(malformed),
        expect: Expect::Err(decode("data[0].id", &["EOF while parsing"])),
        ..ROW
    },
    // --- Size and time -------------------------------------------------------
    Row {
        name: "endless chunked body",
        serve: Serve::Sim(endless),
        expect: Expect::Err(transport(TransportErrorKind::BodyTooLarge, 1)),
        ..ROW
    },
    Row {
        name: "raw: endless body delimited by close",
        serve: Serve::Raw(endless_until_close),
        expect: Expect::Err(transport(TransportErrorKind::BodyTooLarge, 1)),
        ..ROW
    },
    Row {
        name: "raw: Content-Length of a terabyte",
        serve: Serve::Raw(huge_content_length),
        expect: Expect::Err(transport(TransportErrorKind::BodyTooLarge, 1)),
        ..ROW
    },
    Row {
        name: "body dripping one byte a second",
        serve: Serve::Sim(drip),
        expect: Expect::Err(TIMED_OUT),
        requests: 3,
        ..ROW
    },
    Row {
        name: "accepts and never answers",
        serve: Serve::Sim(stall_before_headers),
        expect: Expect::Err(TIMED_OUT),
        requests: 3,
        ..ROW
    },
    Row {
        name: "headers, then the body never comes",
        serve: Serve::Sim(stall_after_headers),
        expect: Expect::Err(TIMED_OUT),
        requests: 3,
        ..ROW
    },
    // --- Broken connections --------------------------------------------------
    Row {
        name: "reset before the headers",
        serve: Serve::Sim(reset),
        expect: Expect::Err(BROKEN),
        requests: 3,
        ..ROW
    },
    Row {
        name: "reset after the headers",
        serve: Serve::Sim(reset_after_headers),
        expect: Expect::Err(Want {
            contains: &["response cut short: the body ended after 0 of 643 bytes"],
            ..TRUNCATED
        }),
        requests: 3,
        ..ROW
    },
    Row {
        name: "raw: closed without a byte",
        serve: Serve::Raw(close_without_answer),
        expect: Expect::Err(BROKEN),
        requests: 3,
        ..ROW
    },
    // --- Hostile JSON --------------------------------------------------------
    Row {
        name: "invalid UTF-8 in a JSON string",
        serve: Serve::Body(
            200,
            "application/json",
            b"{\"data\":[{\"stackId\":\"a8050b2b-39eb-4929-bce5-1af42055903e\",\"id\":\"a8050b2b-39eb-4929-bce5-1af42055903e/ubuntu/v20201110\",\"slug\":\"cox-edge\",\"family\":\"ubuntu\",\"tag\":\"v20201110\",\"createdAt\":\"2020-11-10T20:34:11.328575Z\",\"reference\":\"cox-edge/ubuntu:v20201110\",\"description\":\"bad \xff\xfe bytes\",\"status\":\"READY\"}]}",
        ),
        expect: Expect::Err(decode("data[0].description", &["invalid unicode code point"])),
        ..ROW
    },
    Row {
        name: "data nested 20 000 deep",
        serve: Serve::Sim(deeply_nested_data),
        // The image decoder takes the first `[` for an image written as an
        // array and fails on its first element, before any depth matters.
        expect: Expect::Err(decode("data[0][0]", &["invalid type: sequence"])),
        ..ROW
    },
    Row {
        name: "unknown field nested 20 000 deep",
        serve: Serve::Sim(deeply_nested_unknown_field),
        // Unknown fields are skipped without recursion: no stack overflow,
        // no error, the image decodes.
        expect: Expect::Ok(no_description),
        ..ROW
    },
    Row {
        name: "errors entry nested 20 000 deep, on a 200",
        serve: Serve::Sim(deeply_nested_errors),
        expect: Expect::Err(decode(
            "errors",
            &["`errors` field that could not be read", "recursion limit"],
        )),
        ..ROW
    },
    Row {
        name: "number where a string belongs",
        serve: Serve::Body(
            200,
            "application/json",
            list_of!(image_fields!(), r#","description":42,"status":"READY""#),
        ),
        expect: Expect::Err(decode("data[0].description", &["invalid type: integer `42`"])),
        ..ROW
    },
    Row {
        name: "string where a number belongs",
        serve: Serve::Body(
            200,
            "application/json",
            br#"{"data":[],"metadata":{"recordCount":"7"}}"#,
        ),
        expect: Expect::Err(decode("metadata.recordCount", &["invalid type: string \"7\""])),
        ..ROW
    },
    Row {
        name: "array where a string belongs",
        serve: Serve::Body(
            200,
            "application/json",
            list_of!(
                image_fields!(),
                r#","description":"d","status":["READY"]"#
            ),
        ),
        expect: Expect::Err(decode("data[0].status", &["invalid type: sequence"])),
        ..ROW
    },
    Row {
        name: "null for a required field",
        serve: Serve::Body(
            200,
            "application/json",
            br#"{"data":[{"id":"a8050b2b-39eb-4929-bce5-1af42055903e/ubuntu/v20201110","slug":null,"createdAt":"2020-11-10T20:34:11.328575Z","reference":"cox-edge/ubuntu:v20201110","status":"READY"}]}"#,
        ),
        expect: Expect::Err(decode("data[0].slug", &["invalid type: null"])),
        ..ROW
    },
    Row {
        name: "null for an optional field (decodes)",
        serve: Serve::Body(
            200,
            "application/json",
            list_of!(image_fields!(), r#","description":null,"status":"READY""#),
        ),
        expect: Expect::Ok(no_description),
        ..ROW
    },
    Row {
        name: "missing required field",
        serve: Serve::Body(
            200,
            "application/json",
            br#"{"data":[{"id":"a8050b2b-39eb-4929-bce5-1af42055903e/ubuntu/v20201110","slug":"cox-edge","reference":"cox-edge/ubuntu:v20201110","status":"READY"}]}"#,
        ),
        expect: Expect::Err(decode("data[0]", &["missing field `createdAt`"])),
        ..ROW
    },
    Row {
        name: "missing data",
        serve: Serve::Body(200, "application/json", br#"{"metadata":{"recordCount":0}}"#),
        expect: Expect::Err(decode(".", &["missing field `data`"])),
        ..ROW
    },
    Row {
        name: "data is null",
        serve: Serve::Body(200, "application/json", br#"{"data":null}"#),
        expect: Expect::Err(decode(".", &["missing field `data`"])),
        ..ROW
    },
    Row {
        name: "duplicate key inside an image",
        serve: Serve::Body(
            200,
            "application/json",
            list_of!(
                image_fields!(),
                r#","slug":"evil","description":"d","status":"READY""#
            ),
        ),
        // serde reports a duplicate at the object that holds it.
        expect: Expect::Err(decode("data[0]", &["duplicate field `slug`"])),
        ..ROW
    },
    Row {
        name: "duplicate data key",
        serve: Serve::Body(200, "application/json", br#"{"data":[],"data":[]}"#),
        expect: Expect::Err(decode(".", &["duplicate field `data`"])),
        ..ROW
    },
    Row {
        name: "UTF-8 byte order mark before the JSON",
        serve: Serve::Body(200, "application/json", b"\xef\xbb\xbf{\"data\":[]}"),
        expect: Expect::Err(decode(".", &["expected value at line 1 column 1"])),
        ..ROW
    },
    Row {
        name: "trailing garbage after the JSON",
        serve: Serve::Body(200, "application/json", br#"{"data":[]} {"data":[1]}"#),
        expect: Expect::Err(decode(".", &["trailing characters"])),
        ..ROW
    },
    Row {
        name: "invalid createdAt",
        serve: Serve::Body(
            200,
            "application/json",
            br#"{"data":[{"id":"a8050b2b-39eb-4929-bce5-1af42055903e/ubuntu/v20201110","slug":"cox-edge","createdAt":"2020-13-45T99:00:00Z","reference":"r","status":"READY"}]}"#,
        ),
        expect: Expect::Err(decode("data[0].createdAt", &[])),
        ..ROW
    },
    Row {
        name: "stackId disagreeing with the id",
        serve: Serve::Body(
            200,
            "application/json",
            br#"{"data":[{"id":"a8050b2b-39eb-4929-bce5-1af42055903e/ubuntu/v20201110","stackId":"other","slug":"cox-edge","createdAt":"2020-11-10T20:34:11Z","reference":"r","status":"READY"}]}"#,
        ),
        expect: Expect::Err(decode("data[0]", &["stackId \"other\" does not match the id"])),
        ..ROW
    },
    Row {
        name: "null image in the list",
        serve: Serve::Body(200, "application/json", br#"{"data":[null]}"#),
        expect: Expect::Err(decode("data[0]", &["invalid type: null"])),
        ..ROW
    },
    Row {
        name: "negative recordCount",
        serve: Serve::Body(200, "application/json", br#"{"data":[],"metadata":{"recordCount":-1}}"#),
        expect: Expect::Err(decode("metadata.recordCount", &["invalid value: integer `-1`"])),
        ..ROW
    },
    Row {
        name: "200 with an empty errors list",
        serve: Serve::Body(200, "application/json", br#"{"data":[],"errors":[]}"#),
        expect: Expect::Err(Want {
            kind: ErrorKind::Api,
            status: Some(200),
            contains: &["an empty `errors` list"],
            ..WANT
        }),
        ..ROW
    },
    Row {
        name: "200 with errors: null (decodes)",
        serve: Serve::Body(200, "application/json", concat!(
            r#"{"errors":null,"data":[{"#,
            image_fields!(),
            r#","description":"Image using ubuntu","status":"READY"}]}"#
        ).as_bytes()),
        expect: Expect::Ok(one_ready_ubuntu),
        ..ROW
    },
    Row {
        name: "500 with JSON that is not an errors document",
        serve: Serve::Body(500, "application/json", br#"{"message":"boom"}"#),
        expect: Expect::Err(Want {
            status: Some(500),
            contains: &["500 Internal Server Error: the body is not an API error document", "boom"],
            ..WANT
        }),
        ..ROW
    },
    Row {
        name: "unknown status and extra fields (decode)",
        serve: Serve::Body(
            200,
            "application/json",
            concat!(
                r#"{"data":[{"#,
                image_fields!(),
                r#","description":"d","status":"BRAND_NEW_STATE","deprecation":{"deprecationDate":"2030-01-01T00:00:00Z"},"labels":[1,2,{"x":null}],"size":12.5}],"#,
                r#""metadata":{"recordCount":1,"pageCurrent":1,"somethingNew":true},"links":{"next":null}}"#
            )
            .as_bytes(),
        ),
        expect: Expect::Ok(new_status_kept),
        ..ROW
    },
    Row {
        name: "wrong Content-Type, valid JSON (decodes)",
        serve: Serve::Body(200, "text/plain; charset=iso-8859-1", VALID_LIST),
        expect: Expect::Ok(one_ready_ubuntu),
        ..ROW
    },
    Row {
        name: "raw: no Content-Type, valid JSON (decodes)",
        serve: Serve::Raw(no_content_type),
        expect: Expect::Ok(one_ready_ubuntu),
        ..ROW
    },
    Row {
        name: "gzip-encoded body",
        serve: Serve::Sim(gzip),
        expect: Expect::Err(Want {
            kind: ErrorKind::Decode,
            status: Some(200),
            contains: &["encoded as \"gzip\""],
            ..WANT
        }),
        ..ROW
    },
    // --- Retry-After ---------------------------------------------------------
    Row {
        name: "Retry-After: 1 (seconds, honoured)",
        serve: Serve::Sim(ra_seconds),
        requests: 2,
        wait: Wait::Exactly(Duration::from_secs(1)),
        max_delay: Duration::from_secs(5),
        ..ROW
    },
    Row {
        name: "Retry-After: an HTTP date in the past (the floor, no more)",
        serve: Serve::Sim(ra_past_date),
        requests: 2,
        wait: Wait::Exactly(FLOOR),
        ..ROW
    },
    Row {
        // Longer than max_delay: retrying early would only be refused
        // again, so the call stops and the error keeps `retry_after()`.
        name: "Retry-After: an HTTP date an hour ahead (stop, typed)",
        serve: Serve::Sim(ra_future_date),
        expect: Expect::Err(Want {
            kind: ErrorKind::Api,
            status: Some(503),
            ..WANT
        }),
        requests: 1,
        wait: Wait::Any,
        ..ROW
    },
    Row {
        name: "Retry-After: huge (stop, typed, retry_after kept)",
        serve: Serve::Sim(ra_huge),
        expect: Expect::Err(Want {
            kind: ErrorKind::Api,
            status: Some(503),
            retry_after: Some(RetryAfter::Delay(Duration::from_secs(u64::MAX))),
            ..WANT
        }),
        requests: 1,
        wait: Wait::Any,
        ..ROW
    },
    Row {
        name: "Retry-After: negative (ignored, backoff)",
        serve: Serve::Sim(ra_negative),
        requests: 2,
        wait: Wait::AtMost(BASE_DELAY),
        ..ROW
    },
    Row {
        name: "Retry-After: garbage (ignored, backoff)",
        serve: Serve::Sim(ra_garbage),
        requests: 2,
        wait: Wait::AtMost(BASE_DELAY),
        ..ROW
    },
    Row {
        name: "Retry-After: fractional (ignored, backoff)",
        serve: Serve::Sim(ra_fraction),
        requests: 2,
        wait: Wait::AtMost(BASE_DELAY),
        ..ROW
    },
    Row {
        name: "429 every time (bounded, typed)",
        serve: Serve::Sim(always_429),
        expect: Expect::Err(Want {
            kind: ErrorKind::Api,
            status: Some(429),
            attempts: ATTEMPTS,
            retry_after: Some(RetryAfter::Delay(Duration::ZERO)),
            contains: &["Simulated failure with status 429", "after 3 attempts"],
            ..WANT
        }),
        requests: 3,
        wait: Wait::Exactly(FLOOR),
        ..ROW
    },
    // --- Redirects -----------------------------------------------------------
    Row {
        name: "redirect to the same origin (relative, followed)",
        serve: Serve::Sim(redirect_relative),
        requests: 2,
        ..ROW
    },
    Row {
        name: "redirect to the same origin (absolute, followed)",
        serve: Serve::Sim(redirect_absolute),
        requests: 2,
        ..ROW
    },
    Row {
        name: "redirect to another origin (refused)",
        serve: Serve::Sim(redirect_other_origin),
        expect: Expect::Err(Want {
            kind: ErrorKind::Redirect,
            status: Some(307),
            contains: &["another origin", "was not followed"],
            ..WANT
        }),
        ..ROW
    },
    Row {
        name: "redirect to another origin, scheme-relative (refused)",
        serve: Serve::Sim(redirect_scheme_relative),
        expect: Expect::Err(Want {
            kind: ErrorKind::Redirect,
            status: Some(307),
            contains: &["another origin"],
            ..WANT
        }),
        ..ROW
    },
    Row {
        name: "redirect to localhost instead of 127.0.0.1 (another origin)",
        serve: Serve::Sim(redirect_localhost_alias),
        expect: Expect::Err(Want {
            kind: ErrorKind::Redirect,
            status: Some(307),
            contains: &["another origin (http://localhost:"],
            ..WANT
        }),
        ..ROW
    },
    Row {
        name: "redirect loop on the same origin (bounded)",
        serve: Serve::Sim(redirect_loop),
        expect: Expect::Err(Want {
            kind: ErrorKind::Redirect,
            status: Some(307),
            contains: &["more than 3 redirects"],
            ..WANT
        }),
        requests: 4,
        ..ROW
    },
    // --- Statuses where a body is expected -----------------------------------
    Row {
        name: "204 No Content",
        serve: Serve::Body(204, "application/json", b""),
        expect: Expect::Err(Want {
            kind: ErrorKind::Decode,
            status: Some(204),
            contains: &["no body where a JSON body was expected"],
            ..WANT
        }),
        ..ROW
    },
    Row {
        name: "205 Reset Content",
        serve: Serve::Body(205, "application/json", b""),
        expect: Expect::Err(Want {
            kind: ErrorKind::Decode,
            status: Some(205),
            contains: &["no body where a JSON body was expected"],
            ..WANT
        }),
        ..ROW
    },
    Row {
        name: "304 Not Modified",
        serve: Serve::Body(304, "application/json", b""),
        expect: Expect::Err(Want {
            status: Some(304),
            contains: &["304 Not Modified: no response body"],
            ..WANT
        }),
        ..ROW
    },
    Row {
        name: "raw: 100 Continue, then 200",
        serve: Serve::Raw(continue_then_ok),
        expect: Expect::Ok(one_ready_ubuntu),
        ..ROW
    },
    Row {
        name: "raw: 103 Early Hints, then 200",
        serve: Serve::Raw(early_hints_then_ok),
        expect: Expect::Ok(one_ready_ubuntu),
        ..ROW
    },
    Row {
        name: "raw: 100 Continue, then close",
        serve: Serve::Raw(interim_only_then_close),
        expect: Expect::Err(BROKEN),
        requests: 3,
        ..ROW
    },
    // --- Invalid HTTP --------------------------------------------------------
    Row {
        name: "raw: 10 000 headers",
        serve: Serve::Raw(header_flood),
        expect: Expect::Err(HEADERS_TOO_LARGE),
        ..ROW
    },
    Row {
        name: "raw: one 1 MiB header",
        serve: Serve::Raw(huge_header),
        expect: Expect::Err(HEADERS_TOO_LARGE),
        ..ROW
    },
    Row {
        name: "raw: headers of 60 KiB in 100 fields",
        serve: Serve::Raw(large_headers_under_the_limit),
        expect: Expect::Ok(one_ready_ubuntu),
        ..ROW
    },
    Row {
        name: "raw: garbage status line",
        serve: Serve::Raw(garbage_status_line),
        expect: Expect::Err(PROTOCOL),
        ..ROW
    },
    Row {
        name: "raw: Content-Length and chunked together",
        serve: Serve::Raw(length_and_chunked),
        expect: Expect::Ok(one_ready_ubuntu),
        ..ROW
    },
    Row {
        name: "raw: two different Content-Length headers",
        serve: Serve::Raw(conflicting_lengths),
        expect: Expect::Err(PROTOCOL),
        ..ROW
    },
    Row {
        name: "raw: chunk size that is not hex",
        serve: Serve::Raw(bad_chunk_size),
        expect: Expect::Err(PROTOCOL),
        ..ROW
    },
    Row {
        name: "raw: headers dripping one byte per 100 ms",
        serve: Serve::Raw(slow_headers),
        expect: Expect::Err(TIMED_OUT),
        requests: 3,
        ..ROW
    },
    Row {
        name: "raw: 503 with two disagreeing Retry-After headers (ignored)",
        serve: Serve::Raw(two_retry_afters),
        expect: Expect::Err(Want {
            status: Some(503),
            attempts: ATTEMPTS,
            contains: &["busy"],
            ..WANT
        }),
        requests: 3,
        wait: Wait::AtMost(Duration::from_millis(2)),
        ..ROW
    },
    Row {
        name: "raw: HTTP/1.0 body delimited by close (decodes)",
        serve: Serve::Raw(http10_until_close),
        expect: Expect::Ok(one_ready_ubuntu),
        ..ROW
    },
    // --- Hostile ids: one percent-encoded segment each, the get-image route --
    Row {
        name: "id with %2F",
        op: Op::Get("ubuntu", "a%2Fb"),
        expect: IMAGE_NOT_FOUND,
        path: Some("a%252Fb"),
        ..ROW
    },
    Row {
        name: "id with ?",
        op: Op::Get("ubuntu", "v?x=1"),
        expect: IMAGE_NOT_FOUND,
        path: Some("v%3Fx%3D1"),
        ..ROW
    },
    Row {
        name: "id with #",
        op: Op::Get("ubuntu", "v#frag"),
        expect: IMAGE_NOT_FOUND,
        path: Some("v%23frag"),
        ..ROW
    },
    Row {
        name: "id with spaces",
        op: Op::Get("ubuntu", "v 2020 11"),
        expect: IMAGE_NOT_FOUND,
        path: Some("v%202020%2011"),
        ..ROW
    },
    Row {
        name: "id with non-ASCII",
        op: Op::Get("ubuntu", "ünï-cödé-日本"),
        expect: IMAGE_NOT_FOUND,
        path: Some("%C3%BCn%C3%AF-c%C3%B6d%C3%A9-%E6%97%A5%E6%9C%AC"),
        ..ROW
    },
    Row {
        name: "id with percent-encoded dots",
        op: Op::Get("ubuntu", "%2e%2e"),
        expect: IMAGE_NOT_FOUND,
        path: Some("%252e%252e"),
        ..ROW
    },
    Row {
        name: "id with three dots (not a dot segment)",
        op: Op::Get("ubuntu", "..."),
        expect: IMAGE_NOT_FOUND,
        path: Some("..."),
        ..ROW
    },
    Row {
        name: "id with CR, LF and a tab",
        op: Op::Get("ubuntu", "v\r\nX-Evil: 1\t"),
        expect: IMAGE_NOT_FOUND,
        path: Some("v%0D%0AX-Evil%3A%201%09"),
        ..ROW
    },
    Row {
        name: "existing id (control row)",
        op: Op::Get("ubuntu", "v20201110"),
        expect: Expect::Ok(|got| match got {
            Got::Image(image) if image.family() == "ubuntu" => Ok(()),
            other => Err(format!("expected the ubuntu image, got {other:?}")),
        }),
        path: Some("v20201110"),
        ..ROW
    },
];

// ---------------------------------------------------------------------------
// The raw server.
// ---------------------------------------------------------------------------

/// A loopback server that reads one request head per connection, records
/// its path, runs a script, and closes. It stops accepting when dropped (or
/// after 30 s); connection threads end by themselves within a few seconds.
struct RawServer {
    port: u16,
    paths: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl RawServer {
    fn start(script: fn(&mut TcpStream)) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let paths = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let accept = {
            let (paths, stop) = (paths.clone(), stop.clone());
            std::thread::spawn(move || {
                let deadline = Instant::now() + Duration::from_secs(30);
                while !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let paths = paths.clone();
                            std::thread::spawn(move || serve_connection(stream, script, &paths));
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(2)),
                    }
                }
            })
        };
        RawServer {
            port,
            paths,
            stop,
            accept: Some(accept),
        }
    }

    fn paths(&self) -> Vec<String> {
        self.paths.lock().unwrap().clone()
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

fn serve_connection(mut stream: TcpStream, script: fn(&mut TcpStream), paths: &Mutex<Vec<String>>) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
        if head.len() > 64 * 1024 {
            return;
        }
    }
    let line = String::from_utf8_lossy(&head);
    let path = line.split_whitespace().nth(1).unwrap_or("").to_owned();
    paths.lock().unwrap().push(path);
    script(&mut stream);
}

// ---------------------------------------------------------------------------
// Running a row.
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Debug)]
enum Side {
    Ureq,
    Hyper,
}

/// The servers of one row.
struct Setup {
    sim: Simulator,
    other: Simulator,
    raw: Option<RawServer>,
}

impl Setup {
    fn new(row: &Row) -> Setup {
        let (sim, other) = (simulator(), simulator());
        let ctx = Ctx {
            base: sim.base_url(),
            port: sim.local_addr().port(),
            other_base: other.base_url(),
        };
        let mut raw = None;
        match row.serve {
            Serve::Sim(faults) => faults(&ctx).into_iter().for_each(|f| sim.inject(f)),
            Serve::Body(status, content_type, body) => {
                sim.inject(raw_body(status, content_type, body.to_vec()))
            }
            Serve::Raw(script) => raw = Some(RawServer::start(script)),
        }
        Setup { sim, other, raw }
    }

    fn endpoint(&self) -> Endpoint {
        match &self.raw {
            None => self.sim.endpoint(),
            Some(raw) => Endpoint::builder()
                .base_url(format!("http://127.0.0.1:{}/api/v1", raw.port))
                .service("cox")
                .environment("test-area")
                .api_key(canary_key())
                .build()
                .expect("endpoint"),
        }
    }

    fn paths(&self) -> Vec<String> {
        match &self.raw {
            None => self.sim.requests().into_iter().map(|r| r.path).collect(),
            Some(raw) => raw.paths(),
        }
    }
}

fn config() -> TransportConfig {
    TransportConfig::default()
        .no_proxy()
        .timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        .max_body_bytes(MAX_BODY)
}

fn policy(row: &Row) -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(ATTEMPTS)
        .with_base_delay(BASE_DELAY)
        .with_min_delay(FLOOR)
        .with_max_delay(row.max_delay)
        .with_max_elapsed(Duration::from_secs(20))
}

fn run_ureq(row: &Row) -> Result<(), String> {
    let setup = Setup::new(row);
    let (notices, record) = recorder();
    let client = Client::ureq_with(setup.endpoint(), config())
        .expect("client")
        .with_retry_policy(policy(row))
        .on_event(record);
    let op = row.op;
    let (tx, rx) = mpsc::channel();
    let started = Instant::now();
    std::thread::spawn(move || {
        let result = match op {
            Op::List => client.list_page(&ListOptions::new()).map(Got::List),
            Op::Get(family, tag) => client.get_image(&seed_id(family, tag)).map(Got::Image),
        };
        let _ = tx.send(result);
    });
    let result = rx
        .recv_timeout(ROW_LIMIT)
        .map_err(|_| format!("HUNG: no outcome within {ROW_LIMIT:?}"))?;
    check(row, &setup, result, &notices, started.elapsed())
}

fn run_hyper(runtime: &tokio::runtime::Runtime, row: &Row) -> Result<(), String> {
    let setup = Setup::new(row);
    let (notices, record) = recorder();
    let client = AsyncClient::hyper_with(setup.endpoint(), config())
        .expect("client")
        .with_retry_policy(policy(row))
        .on_event(record);
    let started = Instant::now();
    let result = runtime.block_on(async {
        let call = async {
            match row.op {
                Op::List => client.list_page(&ListOptions::new()).await.map(Got::List),
                Op::Get(family, tag) => client
                    .get_image(&seed_id(family, tag))
                    .await
                    .map(Got::Image),
            }
        };
        tokio::time::timeout(ROW_LIMIT, call).await
    });
    let result = result.map_err(|_| format!("HUNG: no outcome within {ROW_LIMIT:?}"))?;
    check(row, &setup, result, &notices, started.elapsed())
}

fn check_error(want: &Want, error: &Error) -> Vec<String> {
    let mut problems = Vec::new();
    let mut expect = |ok: bool, what: String| {
        if !ok {
            problems.push(what);
        }
    };
    expect(
        error.kind() == want.kind,
        format!("kind {:?}, expected {:?}", error.kind(), want.kind),
    );
    expect(
        error.transport_kind() == want.transport,
        format!(
            "transport kind {:?}, expected {:?}",
            error.transport_kind(),
            want.transport
        ),
    );
    let status = error.status().map(|s| s.as_u16());
    expect(
        status == want.status,
        format!("status {status:?}, expected {:?}", want.status),
    );
    expect(
        error.json_path() == want.json_path,
        format!(
            "json_path {:?}, expected {:?}",
            error.json_path(),
            want.json_path
        ),
    );
    expect(
        error.attempts() == want.attempts,
        format!("attempts {}, expected {}", error.attempts(), want.attempts),
    );
    if want.retry_after.is_some() {
        expect(
            error.retry_after() == want.retry_after,
            format!(
                "retry_after {:?}, expected {:?}",
                error.retry_after(),
                want.retry_after
            ),
        );
    }
    let text = error.to_string();
    for needle in want.contains {
        expect(
            text.contains(needle),
            format!("the message lacks {needle:?}"),
        );
    }
    // The predicates agree with the fields.
    let t = error.transport_kind();
    expect(
        error.is_timeout()
            == matches!(
                t,
                Some(TransportErrorKind::Timeout | TransportErrorKind::ConnectTimeout)
            ),
        "is_timeout disagrees".into(),
    );
    expect(
        error.is_body_too_large() == (t == Some(TransportErrorKind::BodyTooLarge)),
        "is_body_too_large disagrees".into(),
    );
    expect(
        error.is_decode() == (want.kind == ErrorKind::Decode),
        "is_decode disagrees".into(),
    );
    expect(
        error.is_not_found() == (status == Some(404)),
        "is_not_found disagrees".into(),
    );
    expect(
        error.is_unauthorized() == (status == Some(401)),
        "is_unauthorized disagrees".into(),
    );
    expect(
        error.is_rate_limited() == (status == Some(429)),
        "is_rate_limited disagrees".into(),
    );
    expect(
        error.is_server_error() == status.is_some_and(|s| (500..600).contains(&s)),
        "is_server_error disagrees".into(),
    );
    problems
}

fn check(
    row: &Row,
    setup: &Setup,
    result: Result<Got, Error>,
    notices: &Notices,
    elapsed: Duration,
) -> Result<(), String> {
    let mut problems = Vec::new();
    match (&row.expect, &result) {
        (Expect::Ok(check), Ok(got)) => {
            if let Err(e) = check(got) {
                problems.push(e);
            }
        }
        (Expect::Ok(_), Err(error)) => problems.push(format!("expected success, got {error:?}")),
        (Expect::Err(_), Ok(got)) => problems.push(format!("expected an error, got {got:?}")),
        (Expect::Err(want), Err(error)) => {
            let found = check_error(want, error);
            if !found.is_empty() {
                problems.push(format!(
                    "{} — got {error:?} / \"{error}\"",
                    found.join("; ")
                ));
            }
        }
    }
    if let Err(error) = &result {
        for text in error_texts(error) {
            if text.contains(CANARY) || text.contains("SECRET") {
                problems.push(format!("the key leaked: {text}"));
            }
        }
    }
    let paths = setup.paths();
    if paths.len() != row.requests {
        problems.push(format!(
            "the server saw {} requests, expected {}: {paths:?}",
            paths.len(),
            row.requests
        ));
    }
    if let Some(tag) = row.path {
        let expected = format!("{IMAGES}/{SEED_STACK_ID}/ubuntu/{tag}");
        if let Some(bad) = paths.iter().find(|p| **p != expected) {
            problems.push(format!("path sent {bad:?}, expected {expected:?}"));
        }
    }
    let other = setup.other.requests().len();
    if other != 0 {
        problems.push(format!("the other origin received {other} requests"));
    }
    let waits: Vec<Duration> = notices.lock().unwrap().iter().map(|n| n.wait).collect();
    match row.wait {
        Wait::Any => {}
        Wait::Exactly(d) => {
            if waits.is_empty() || waits.iter().any(|w| *w != d) {
                problems.push(format!(
                    "retry waits {waits:?}, expected each exactly {d:?}"
                ));
            }
        }
        Wait::AtMost(d) => {
            if waits.is_empty() || waits.iter().any(|w| *w > d) {
                problems.push(format!(
                    "retry waits {waits:?}, expected each at most {d:?}"
                ));
            }
        }
    }
    // Bounded: every attempt ends within the timeout (plus scheduling
    // slack), and the waits are what they are.
    let bound = TIMEOUT * ATTEMPTS + waits.iter().sum::<Duration>() + Duration::from_millis(1500);
    if elapsed > bound {
        problems.push(format!("took {elapsed:?}, more than {bound:?}"));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n      "))
    }
}

fn report(side: Side, outcomes: Vec<(&Row, Result<(), String>, Duration)>) {
    let mut failures = 0;
    println!("\n{side:?}: {} rows", outcomes.len());
    for (row, outcome, took) in &outcomes {
        let name = row.name;
        match outcome {
            Ok(()) => println!("  ok    {took:>9.3?}  {name}"),
            Err(why) => {
                failures += 1;
                println!("  FAIL  {took:>9.3?}  {name}\n      {why}");
            }
        }
    }
    assert!(
        failures == 0,
        "{failures} of {} rows failed over {side:?}",
        outcomes.len()
    );
}

#[test]
fn table_is_big_enough_and_names_are_unique() {
    assert!(TABLE.len() >= 25);
    let mut names: Vec<_> = TABLE.iter().map(|r| r.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), TABLE.len());
}

#[test]
fn hostile_servers_over_ureq() {
    let outcomes = TABLE
        .iter()
        .map(|row| {
            let started = Instant::now();
            let outcome = run_ureq(row);
            (row, outcome, started.elapsed())
        })
        .collect();
    report(Side::Ureq, outcomes);
}

#[test]
fn hostile_servers_over_hyper() {
    let runtime = multi_thread_runtime();
    let outcomes = TABLE
        .iter()
        .map(|row| {
            let started = Instant::now();
            let outcome = run_hyper(&runtime, row);
            (row, outcome, started.elapsed())
        })
        .collect();
    report(Side::Hyper, outcomes);
}

/// Ids that would change the path structure never become requests.
#[test]
fn image_ids_with_slash_or_dot_segments_are_rejected() {
    for (stack, family, tag) in [
        ("a/b", "f", "t"),
        ("s", "f/../../x", "t"),
        ("s", "f", "t/extra"),
        ("s", "..", "t"),
        ("s", "f", "."),
        ("..", "f", "t"),
        ("s", "", "t"),
    ] {
        let error = ImageId::new(stack, family, tag).expect_err("rejected");
        assert!(error.part().is_some(), "{error}");
    }
    for text in [
        "s/f/t/u", "s/../t", "s/./t", "../f/t", "s/f/..", "s/f", "s//t", "/f/t",
    ] {
        assert!(text.parse::<ImageId>().is_err(), "{text:?} was accepted");
    }
}

// ---------------------------------------------------------------------------
// The same failure, in the same words, over both transports.
// ---------------------------------------------------------------------------

/// Reads the request and says nothing for longer than the timeout.
fn silent(_: &mut TcpStream) {
    std::thread::sleep(TIMEOUT * 3);
}

/// Where a wording row's request goes.
#[derive(Clone, Copy)]
enum Target {
    /// A raw server running this script.
    Raw(fn(&mut TcpStream)),
    /// A loopback port nothing listens on.
    ClosedPort,
    /// A TLS simulator whose certificate the client does not trust.
    UntrustedTls,
    /// A listener whose accept queue is full and which never accepts: a
    /// connection attempt gets no answer.
    FullBacklog,
    /// A server that accepts TCP and never answers the TLS ClientHello.
    SilentTls,
}

/// One failure and the exact words both transports must use for it.
struct Wording {
    name: &'static str,
    target: Target,
    kind: TransportErrorKind,
    /// The whole `Display` of the transport error.
    says: &'static str,
}

static WORDINGS: &[Wording] = &[
    Wording {
        name: "Content-Length 1000, 31 bytes, close",
        target: Target::Raw(short_body_then_close),
        kind: TransportErrorKind::Truncated,
        says: "response cut short: the body ended after 31 of 1000 bytes",
    },
    Wording {
        name: "closed mid-chunk",
        target: Target::Raw(chunk_cut),
        kind: TransportErrorKind::Truncated,
        says: "response cut short: the body ended after 12 bytes, before its last chunk",
    },
    Wording {
        name: "accepts and never answers",
        target: Target::Raw(silent),
        kind: TransportErrorKind::Timeout,
        says: "timed out: no complete response within 500 ms",
    },
    Wording {
        name: "closes before answering",
        target: Target::Raw(close_without_answer),
        kind: TransportErrorKind::Io,
        says: "connection failed: the server closed the connection before answering",
    },
    Wording {
        name: "Content-Length over the limit",
        target: Target::Raw(huge_content_length),
        kind: TransportErrorKind::BodyTooLarge,
        says: "response body too large: more than the limit of 65536 bytes",
    },
    Wording {
        name: "endless body over the limit",
        target: Target::Raw(endless_until_close),
        kind: TransportErrorKind::BodyTooLarge,
        says: "response body too large: more than the limit of 65536 bytes",
    },
    Wording {
        name: "refused connection",
        target: Target::ClosedPort,
        kind: TransportErrorKind::Connect,
        says: "could not connect: connection refused",
    },
    Wording {
        name: "connect gets no answer",
        target: Target::FullBacklog,
        kind: TransportErrorKind::ConnectTimeout,
        says: "timed out: could not connect within 250 ms",
    },
    Wording {
        name: "TLS handshake never answered",
        target: Target::SilentTls,
        kind: TransportErrorKind::ConnectTimeout,
        says: "timed out: could not connect within 250 ms",
    },
    Wording {
        name: "not HTTP at all",
        target: Target::Raw(garbage_status_line),
        kind: TransportErrorKind::Protocol,
        says: "invalid HTTP from the server: the answer is not HTTP",
    },
    Wording {
        name: "bad status line",
        target: Target::Raw(bad_status_line),
        kind: TransportErrorKind::Protocol,
        says: "invalid HTTP from the server: a bad status line",
    },
    Wording {
        name: "bad header line",
        target: Target::Raw(bad_header_line),
        kind: TransportErrorKind::Protocol,
        says: "invalid HTTP from the server: a bad header line",
    },
    Wording {
        name: "chunk size that is not hex",
        target: Target::Raw(bad_chunk_size),
        kind: TransportErrorKind::Protocol,
        says: "invalid HTTP from the server: a bad chunk size",
    },
    Wording {
        name: "Content-Length that is not a number",
        target: Target::Raw(bad_content_length),
        kind: TransportErrorKind::Protocol,
        says: "invalid HTTP from the server: a bad Content-Length",
    },
    Wording {
        name: "two different Content-Length headers",
        target: Target::Raw(conflicting_lengths),
        kind: TransportErrorKind::Protocol,
        says: "invalid HTTP from the server: a bad Content-Length",
    },
    Wording {
        name: "a 100 KiB header",
        target: Target::Raw(header_of_100_kib),
        kind: TransportErrorKind::HeadersTooLarge,
        says: "response headers too large: more than the limit of 65536 bytes or 100 header fields",
    },
    Wording {
        name: "10 000 headers",
        target: Target::Raw(header_flood),
        kind: TransportErrorKind::HeadersTooLarge,
        says: "response headers too large: more than the limit of 65536 bytes or 100 header fields",
    },
    Wording {
        name: "101 header fields",
        target: Target::Raw(too_many_header_fields),
        kind: TransportErrorKind::HeadersTooLarge,
        says: "response headers too large: more than the limit of 65536 bytes or 100 header fields",
    },
    Wording {
        name: "untrusted certificate",
        target: Target::UntrustedTls,
        kind: TransportErrorKind::Tls,
        says: "TLS failed: the server's certificate was issued by an unknown authority (unknown issuer): add the CA that issued it to the trusted roots",
    },
];

/// Names of the HTTP libraries' internals that a message must not show.
const INTERNAL_NAMES: &[&str] = &[
    "SendRequest",
    "io:",
    "global",
    "hyper",
    "ureq",
    "rustls",
    "client error",
    "Peer disconnected",
    "os error",
    "Kind(",
];

/// Sends one GET to `uri` over each transport; the errors, ureq's first.
fn both_transports(
    runtime: &tokio::runtime::Runtime,
    uri: &str,
) -> [Result<http::StatusCode, coxedge_images::TransportError>; 2] {
    use coxedge_images::transports::hyper::HyperTransport;
    use coxedge_images::transports::ureq::UreqTransport;
    use coxedge_images::{AsyncTransport, Transport};
    let request = || {
        http::Request::get(uri)
            .header(coxedge_images::API_KEY_HEADER, CANARY)
            .body(Vec::new())
            .unwrap()
    };
    // A connect timeout shorter than the request's, so that it is the one
    // that ends a connection attempt.
    let config = || config().connect_timeout(CONNECT_TIMEOUT);
    let ureq = UreqTransport::new(config()).unwrap().send(request());
    let hyper = HyperTransport::new(config()).unwrap();
    let hyper = runtime.block_on(hyper.send(request()));
    [ureq.map(|r| r.status()), hyper.map(|r| r.status())]
}

const CONNECT_TIMEOUT: Duration = Duration::from_millis(250);

/// A loopback listener with a backlog of 0 whose queue is filled: further
/// connection attempts get no answer. Keep it (and the streams) alive.
fn full_backlog(
    runtime: &tokio::runtime::Runtime,
) -> (tokio::net::TcpListener, Vec<TcpStream>, String) {
    let _inside = runtime.enter();
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.bind("127.0.0.1:0".parse().unwrap()).expect("bind");
    let listener = socket.listen(0).expect("listen");
    let addr = listener.local_addr().expect("addr");
    let mut queued = Vec::new();
    for _ in 0..8 {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            Ok(stream) => queued.push(stream),
            Err(_) => break,
        }
    }
    (listener, queued, format!("http://{addr}/x"))
}

#[test]
fn the_same_failure_reads_the_same_on_both_transports() {
    let runtime = multi_thread_runtime();
    let mut failures = Vec::new();
    for row in WORDINGS {
        let (_raw, _sim, _backlog);
        let uri = match row.target {
            Target::FullBacklog => {
                let (listener, queued, uri) = full_backlog(&runtime);
                _backlog = (listener, queued);
                uri
            }
            Target::Raw(script) => {
                let raw = RawServer::start(script);
                let uri = format!("http://127.0.0.1:{}/x", raw.port);
                _raw = raw;
                uri
            }
            Target::ClosedPort => support::request_to_a_closed_port().uri().to_string(),
            Target::SilentTls => {
                // Reads what the client sends (its ClientHello) and says
                // nothing until the client gives up.
                let raw = RawServer::start(silent);
                let uri = format!("https://127.0.0.1:{}/x", raw.port);
                _raw = raw;
                uri
            }
            Target::UntrustedTls => {
                let sim = support::tls_simulator();
                let uri = format!("{}/x", sim.base_url());
                _sim = sim;
                uri
            }
        };
        for (side, result) in [Side::Ureq, Side::Hyper]
            .into_iter()
            .zip(both_transports(&runtime, &uri))
        {
            let error = match result {
                Ok(status) => {
                    failures.push(format!("{} over {side:?}: got {status}", row.name));
                    continue;
                }
                Err(error) => error,
            };
            let text = error.to_string();
            if error.kind() != row.kind || text != row.says {
                failures.push(format!(
                    "{} over {side:?}: {:?} {text:?}, expected {:?} {:?}",
                    row.name,
                    error.kind(),
                    row.kind,
                    row.says
                ));
            }
            let facade = Error::from(error).to_string();
            for name in INTERNAL_NAMES {
                if facade.contains(name) {
                    failures.push(format!(
                        "{} over {side:?}: {facade:?} shows {name:?}",
                        row.name
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
