//! The fuzz targets' bodies, shared by the libFuzzer binaries in
//! `fuzz_targets/` and by `tests/fuzz_corpus.rs`, which replays the committed
//! corpus under `cargo test`. Each function takes outside bytes and must
//! neither panic nor hang; the assertions are the properties checked.
//!
//! The decoders take raw bytes (status, headers and body together). The
//! operations (`exchange`, `task_poller`, `list_all`) are driven through the
//! sans-IO protocol ([`Operation`]) on virtual time, fed answers that the
//! input describes: transport failures, raw responses, statuses with
//! `Retry-After`, redirects, and well-formed answers whose fields (ids,
//! statuses, paging metadata) come from small pools so that repeats and
//! mismatches happen. Each answer's oracle is what the input said was sent,
//! never the code under test.

use std::collections::HashSet;
use std::time::{Duration, Instant, SystemTime};

use coxedge_images::{
    ApiKey, Endpoint, Error, ErrorKind, Event, ImageId, ImageReference, ListAll, ListOptions, Next,
    Operation, PollPolicy, RetryPolicy, Task, TaskStatus, TransportError, TransportErrorKind,
    decode_deletion, decode_image, decode_image_list, decode_task,
};
use http::{HeaderName, HeaderValue, Request, Response, StatusCode};

/// The same-origin redirects one call follows, as the README states.
const MAX_REDIRECTS: u32 = 3;

/// The pages one listing requests at most.
const MAX_PAGES: u64 = ListAll::MAX_PAGES;

/// A target: its name and its body.
pub type Target = (&'static str, fn(&[u8]));

/// Names the targets, for the corpus replay.
pub const TARGETS: [Target; 8] = [
    ("decode_list", decode_list),
    ("decode_image", decode_image_target),
    ("decode_task", decode_task_target),
    ("ids", ids),
    ("retry_after", retry_after),
    ("task_poller", task_poller),
    ("exchange", exchange),
    ("list_all", list_all),
];

/// The API key every target's endpoint uses; the seed corpus puts it in
/// bodies, so errors that echo a body are checked for it.
const KEY: &str = "fuzz-key";

/// The host every request must go to (the endpoint's default base URL).
const HOST: &str = "portal.coxedge.com";

/// The wall clock handed to the operations: 2023-11-14T22:13:20Z, a
/// Tuesday, so `Retry-After` dates are written by hand below.
fn wall() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

const HEADERS: [&str; 5] = [
    "content-type",
    "content-encoding",
    "retry-after",
    "location",
    "content-length",
];

/// Reads a response from bytes: two bytes of status, one byte giving a
/// number of headers, each header as (name index, length, value bytes),
/// then the body.
pub fn response(data: &[u8]) -> (Response<Vec<u8>>, usize) {
    let mut at = 0;
    let mut take = |n: usize| {
        let start = at.min(data.len());
        at = (at + n).min(data.len());
        &data[start..at]
    };
    let status = match take(2) {
        [a, b] => 100 + (u16::from_be_bytes([*a, *b]) % 900),
        _ => 200,
    };
    let mut builder =
        Response::builder().status(StatusCode::from_u16(status).unwrap_or(StatusCode::OK));
    let count = take(1).first().copied().unwrap_or(0) % 4;
    for _ in 0..count {
        let name = HEADERS[take(1).first().copied().unwrap_or(0) as usize % HEADERS.len()];
        let len = take(1).first().copied().unwrap_or(0) as usize % 40;
        if let Ok(value) = HeaderValue::from_bytes(take(len)) {
            builder = builder.header(HeaderName::from_static(name), value);
        }
    }
    let body = data[at.min(data.len())..].to_vec();
    let consumed = data.len();
    (
        builder
            .body(body)
            .unwrap_or_else(|_| Response::new(Vec::new())),
        consumed,
    )
}

fn endpoint() -> Endpoint {
    Endpoint::builder()
        .service("cox")
        .environment("env")
        .api_key(ApiKey::new(KEY).expect("valid key"))
        .build()
        .expect("valid endpoint")
}

/// Errors of the plain decoders must render, and once redacted never carry
/// the key (the decoders do not know it; the fuzzer can put it in a body).
fn check_error(e: Error) {
    let key = ApiKey::new(KEY).expect("valid key");
    check_operation_error(&e.redact_secret(&key));
}

/// An error of an operation, which knows the key: no key anywhere in it,
/// without any redaction by the caller.
fn check_operation_error(e: &Error) {
    let text = format!("{e} {e:?} {:?}", e.api_errors());
    assert!(!text.contains(KEY), "the API key in an error: {text}");
    if let Some(body) = e.body() {
        assert!(
            !body.windows(KEY.len()).any(|w| w == KEY.as_bytes()),
            "the API key in an error's body"
        );
    }
}

/// No event holds the API key, not even a polled task's status or result
/// that the server echoed it into (the task is redacted before it is
/// passed on).
fn check_event(event: &Event) {
    let text = format!("{event:?}");
    assert!(!text.contains(KEY), "the API key in an event: {text}");
}

/// Requests go only to the API's origin, over https.
fn check_request(request: &Request<Vec<u8>>) {
    assert_eq!(request.uri().scheme_str(), Some("https"));
    assert_eq!(request.uri().host(), Some(HOST));
}

pub fn decode_list(data: &[u8]) {
    match decode_image_list(response(data).0) {
        Ok(list) => {
            // What decoded re-encodes and decodes to the same list.
            let body = serde_json::to_vec(&serde_json::json!({ "data": list.images }))
                .expect("an image always encodes");
            let again = decode_image_list(Response::new(body)).expect("re-decode");
            assert_eq!(again.images, list.images);
        }
        Err(e) => check_error(e),
    }
}

pub fn decode_image_target(data: &[u8]) {
    if let Err(e) = decode_image(response(data).0) {
        check_error(e);
    }
}

/// `decode_task`, and `decode_deletion` on the same response: a delete
/// answered `204`, or `200`/`202` with a blank body, is done (a successful
/// task with no id); any other answer reads as `decode_task` reads it.
pub fn decode_task_target(data: &[u8]) {
    let (response, _) = response(data);
    let status = response.status().as_u16();
    let blank = response.body().iter().all(u8::is_ascii_whitespace);
    let task = decode_task(response.clone());
    let deletion = decode_deletion(response);
    if let Ok(task) = &task {
        assert!(!task.id.is_none());
    }
    if status == 204 || (matches!(status, 200 | 202) && blank) {
        let done = deletion.expect("a delete answered with no content is done");
        assert!(done.id.is_none());
        assert_eq!(done.status, TaskStatus::Success);
        if let Err(e) = task {
            check_error(e);
        }
    } else {
        match (deletion, task) {
            (Ok(a), Ok(b)) => assert_eq!(a, b),
            (Err(a), Err(b)) => {
                assert_eq!(a.kind(), b.kind());
                check_error(a);
                check_error(b);
            }
            (a, b) => panic!("decode_deletion {a:?} where decode_task {b:?}"),
        }
    }
}

pub fn ids(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(id) = text.parse::<ImageId>() {
        assert_eq!(id.to_string(), text);
        let request = endpoint()
            .get_image_request(&id)
            .expect("a valid id builds");
        assert_eq!(request.uri().host(), Some(HOST));
        assert_eq!(request.uri().query(), None);
        assert_eq!(request.uri().path().matches('/').count(), 9);
    }
    if let Ok(reference) = text.parse::<ImageReference>() {
        assert_eq!(reference.to_string(), text);
    }
    let _ = text.parse::<coxedge_images::TaskId>();
}

/// A `Retry-After` value on a 429 to a get: the call waits within the
/// policy's floor and cap, or stops with the error keeping what it read.
pub fn retry_after(data: &[u8]) {
    let Ok(value) = HeaderValue::from_bytes(data) else {
        return;
    };
    let policy = RetryPolicy::default();
    let id: ImageId = "s/f/t".parse().unwrap();
    let mut call = endpoint()
        .get_image(&id)
        .unwrap()
        .with_retry_policy(policy.clone());
    let now = Instant::now();
    assert!(matches!(call.poll(now), Next::Send(_)));
    let mut response = Response::new(Vec::new());
    *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    response.headers_mut().insert("retry-after", value);
    call.handle(Ok(response), now, wall(), 0.5);
    match call.poll(now) {
        Next::WaitUntil(at) => {
            let wait = at - now;
            assert!(wait <= policy.max_delay, "a retry after {wait:?}");
            assert!(wait >= policy.min_delay, "a retry after {wait:?}");
        }
        Next::Done(Err(error)) => {
            assert!(error.is_rate_limited(), "{error}");
            let asked = error.retry_after().map(|r| r.delay_from(wall()));
            assert!(
                asked.is_some_and(|a| a > policy.max_delay),
                "stopped on {asked:?}"
            );
        }
        other => panic!("after a 429: {other:?}"),
    }
}

/// The input, read a byte at a time; zeros once it runs out.
struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    fn new(data: &'a [u8]) -> Self {
        Input { data }
    }

    fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((first, rest)) => {
                self.data = rest;
                *first
            }
            None => 0,
        }
    }

    fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.data.split_at(n.min(self.data.len()));
        self.data = rest;
        head
    }

    /// A random draw in `[0, 1)`.
    fn random(&mut self) -> f64 {
        f64::from(self.byte()) / 256.0
    }

    /// How long an answer takes to arrive (at most [`max_latency`]).
    fn latency(&mut self) -> Duration {
        match self.byte() % 8 {
            0..=4 => Duration::ZERO,
            n => Duration::from_millis(u64::from(n) * 700),
        }
    }
}

/// The longest latency [`Input::latency`] gives.
fn max_latency() -> Duration {
    Duration::from_millis(7 * 700)
}

/// A `Retry-After` value, and the wait it asks for in seconds when the
/// oracle knows it (`u64::MAX` for one too large to honour).
fn retry_after_value(input: &mut Input) -> (Option<String>, Option<u64>) {
    match input.byte() % 8 {
        0 => (None, None),
        1 => (Some("0".to_owned()), Some(0)),
        2 => (Some("Thu, 01 Jan 1970 00:00:00 GMT".to_owned()), Some(0)),
        3 => {
            let secs = u64::from(input.byte());
            (Some(secs.to_string()), Some(secs))
        }
        4 => {
            let secs = u64::from(input.byte()) * 4;
            (Some(secs.to_string()), Some(secs))
        }
        5 => {
            // The wall clock (22:13:20) plus up to 598 s, as an HTTP date.
            let secs = u64::from(input.byte()) * 2 % 600;
            let t = 13 * 60 + 20 + secs;
            let date = format!("Tue, 14 Nov 2023 22:{:02}:{:02} GMT", t / 60, t % 60);
            (Some(date), Some(secs))
        }
        6 => (Some("soon".to_owned()), None),
        _ => (Some("99999999999999999999".to_owned()), Some(u64::MAX)),
    }
}

fn transport_error(input: &mut Input) -> TransportError {
    let kind = [
        TransportErrorKind::Connect,
        TransportErrorKind::Timeout,
        TransportErrorKind::ConnectTimeout,
        TransportErrorKind::Io,
        TransportErrorKind::Truncated,
        TransportErrorKind::Tls,
        TransportErrorKind::BodyTooLarge,
        TransportErrorKind::Refused,
    ][usize::from(input.byte()) % 8];
    // A transport could echo the request in its message.
    TransportError::new(kind, format!("fuzz failure, header x-api-key: {KEY}"))
}

/// A response of up to 510 bytes, read as [`response`] reads one.
fn raw_response(input: &mut Input) -> Response<Vec<u8>> {
    let len = usize::from(input.byte()) * 2;
    response(input.take(len)).0
}

/// A redirect: to the same URI (a loop), to another origin, with
/// credentials, or without a location.
fn redirect(input: &mut Input, request: &Request<Vec<u8>>) -> Response<Vec<u8>> {
    let status = [301, 302, 303, 307, 308][usize::from(input.byte()) % 5];
    let location = match input.byte() % 4 {
        0 => Some(request.uri().to_string()),
        1 => Some("https://elsewhere.example/api/v1".to_owned()),
        2 => Some(format!("https://user:pw@{HOST}/api/v1")),
        _ => None,
    };
    let mut builder = Response::builder().status(status);
    if let Some(location) = location {
        builder = builder.header("location", location);
    }
    builder.body(Vec::new()).expect("a valid response")
}

/// A status answer with a `Retry-After`; the status, the header and the
/// wait it asks for.
fn status_answer(input: &mut Input, statuses: &[u16]) -> (Response<Vec<u8>>, u16, Option<u64>) {
    let status = statuses[usize::from(input.byte()) % statuses.len()];
    let (header, secs) = retry_after_value(input);
    let mut builder = Response::builder().status(status);
    if let Some(header) = header {
        builder = builder.header("retry-after", header);
    }
    let body = if input.byte() & 1 == 0 {
        Vec::new()
    } else {
        format!(r#"{{"errors":[{{"code":1,"message":"slow down {KEY}"}}]}}"#).into_bytes()
    };
    let response = builder.body(body).expect("a valid response");
    let secs = if header_known(&response) { secs } else { None };
    (response, status, secs)
}

fn header_known(response: &Response<Vec<u8>>) -> bool {
    response.headers().contains_key("retry-after")
}

/// Whether an answer is a redirect the client may follow.
fn is_redirect(answer: &Result<Response<Vec<u8>>, TransportError>) -> bool {
    matches!(answer, Ok(r) if r.status().is_redirection() && r.status() != StatusCode::NOT_MODIFIED)
}

/// `page_number` of a listing request (1 when absent).
fn page_number(request: &Request<Vec<u8>>) -> u64 {
    request
        .uri()
        .query()
        .unwrap_or("")
        .split('&')
        .find_map(|pair| pair.strip_prefix("page_number="))
        .map(|n| n.parse().expect("a page number"))
        .unwrap_or(1)
}

/// What one call of `exchange` must do after an answer.
#[derive(Debug, Clone, Copy)]
enum CallExpect {
    /// Nothing in particular.
    Free,
    /// Ends at the next poll, with an error keeping `retry_after()`.
    EndsWithRetryAfter,
    /// The next request goes no sooner than this.
    SendNotBefore(Instant),
}

/// One call (`list_page`, `get_image`, `get_task` or `delete_image`)
/// driven to its end over answers the input describes. Checks: requests
/// bounded by the retry policy (a delete is sent once), only to the API's
/// origin; every retry waits at least the policy's floor and at most its
/// cap; a `Retry-After` is waited out when the policy allows it and
/// otherwise ends the call with `retry_after()`; the call ends within the
/// policy's time limit plus one answer's latency; a delete answered `204`
/// is done; no key in any error or event.
pub fn exchange(data: &[u8]) {
    let mut input = Input::new(data);
    let policy = RetryPolicy::default();
    let endpoint = endpoint();
    let image: ImageId = "s/f/t".parse().expect("valid");
    let which = input.byte() % 4;
    let mut call = match which {
        0 => endpoint.list_page(&ListOptions::new()).map(Call::List),
        1 => endpoint.get_image(&image).map(Call::Image),
        2 => endpoint
            .get_task(&"t".parse().expect("valid"))
            .map(Call::Task),
        _ => endpoint.delete_image(&image).map(Call::Task),
    }
    .expect("the call builds")
    .with_retry_policy(policy.clone());
    let delete = which == 3;
    let start = Instant::now();
    let mut now = start;
    let mut sent = 0u32;
    let mut first_sent: Option<Instant> = None;
    let mut after_redirect = false;
    let mut expect = CallExpect::Free;
    // The last answer: its status, and whether it was a blank 204 to a
    // delete.
    let mut last_status: Option<u16> = None;
    let mut no_content = false;
    let limit = (policy.max_attempts + MAX_REDIRECTS) as usize * 2 + 4;
    for _ in 0..limit {
        let next = call.poll(now);
        while let Some(event) = call.poll_event() {
            check_event(&event);
            if let Event::Retrying { reason, wait, .. } = &event {
                if !reason.starts_with("redirected") {
                    assert!(*wait >= policy.min_delay, "a retry after {wait:?}");
                }
                assert!(*wait <= policy.max_delay, "a retry after {wait:?}");
            }
        }
        match next {
            Next::Send(request) => {
                check_request(&request);
                assert!(!matches!(expect, CallExpect::EndsWithRetryAfter));
                if let CallExpect::SendNotBefore(at) = expect {
                    assert!(now >= at, "sent before the server's Retry-After");
                }
                sent += 1;
                assert!(sent <= policy.max_attempts + MAX_REDIRECTS);
                assert!(!delete || sent == 1, "a delete was sent twice");
                let first = *first_sent.get_or_insert(now);
                if !after_redirect {
                    assert!(
                        now - first <= policy.max_elapsed,
                        "a retry after the time limit"
                    );
                }
                now += input.latency();
                let (answer, secs) = match input.byte() % 8 {
                    0 => (Err(transport_error(&mut input)), None),
                    1 | 2 => (Ok(raw_response(&mut input)), None),
                    3 => (Ok(redirect(&mut input, &request)), None),
                    4 if delete => {
                        let status = [204, 202, 200][usize::from(input.byte()) % 3];
                        let body = if input.byte() & 1 == 0 { "" } else { " \n" };
                        let response = Response::builder().status(status).body(body.into());
                        (Ok(response.expect("a valid response")), None)
                    }
                    _ => {
                        let (response, _, secs) =
                            status_answer(&mut input, &[429, 502, 503, 504, 500, 404]);
                        (Ok(response), secs)
                    }
                };
                last_status = answer.as_ref().ok().map(|r| r.status().as_u16());
                after_redirect = matches!(last_status, Some(300..=399)) && last_status != Some(304);
                no_content = delete
                    && matches!(&answer, Ok(r) if r.status() == 204
                        || (matches!(r.status().as_u16(), 200 | 202)
                            && r.body().iter().all(u8::is_ascii_whitespace)));
                let retryable = matches!(last_status, Some(429 | 502 | 503 | 504));
                expect = match secs {
                    Some(secs) if retryable && !delete => {
                        let asked = Duration::from_secs(secs);
                        let wait = asked.max(policy.min_delay);
                        let elapsed = now - first;
                        if asked > policy.max_delay {
                            CallExpect::EndsWithRetryAfter
                        } else if sent < policy.max_attempts && elapsed + wait < policy.max_elapsed
                        {
                            CallExpect::SendNotBefore(now + asked)
                        } else {
                            CallExpect::Free
                        }
                    }
                    _ => CallExpect::Free,
                };
                call.handle(answer, now, wall(), input.random());
            }
            Next::WaitUntil(at) => {
                assert!(at > now);
                now = at;
            }
            Next::Done(result) => {
                // No retry starts after the time limit; redirects (at most
                // MAX_REDIRECTS) are followed at once.
                let elapsed = now - first_sent.unwrap_or(start);
                assert!(elapsed <= policy.max_elapsed + max_latency() * (MAX_REDIRECTS + 1));
                if no_content {
                    let task = result.as_ref().expect("a delete with no content is done");
                    let Output::Task(task) = task else {
                        panic!("a delete gives a task")
                    };
                    assert!(task.id.is_none());
                    return;
                }
                match result {
                    Ok(_) => assert!(matches!(last_status, Some(200..=299))),
                    Err(e) => {
                        if matches!(expect, CallExpect::EndsWithRetryAfter) {
                            assert!(e.retry_after().is_some(), "{e}");
                        }
                        assert!(!matches!(expect, CallExpect::SendNotBefore(_)), "{e}");
                        check_operation_error(&e);
                    }
                }
                return;
            }
        }
    }
    panic!("the call did not finish within {limit} steps");
}

/// The calls `exchange` drives, behind one type.
enum Call {
    List(coxedge_images::Call<coxedge_images::ImageList>),
    Image(coxedge_images::Call<coxedge_images::Image>),
    Task(coxedge_images::Call<Task>),
}

/// What a [`Call`] produces.
#[allow(dead_code)]
enum Output {
    List(coxedge_images::ImageList),
    Image(coxedge_images::Image),
    Task(Task),
}

impl Call {
    fn with_retry_policy(self, policy: RetryPolicy) -> Self {
        match self {
            Call::List(c) => Call::List(c.with_retry_policy(policy)),
            Call::Image(c) => Call::Image(c.with_retry_policy(policy)),
            Call::Task(c) => Call::Task(c.with_retry_policy(policy)),
        }
    }
}

impl Operation for Call {
    type Output = Output;

    fn poll(&mut self, now: Instant) -> Next<Output> {
        fn map<T>(next: Next<T>, f: fn(T) -> Output) -> Next<Output> {
            match next {
                Next::Send(r) => Next::Send(r),
                Next::WaitUntil(at) => Next::WaitUntil(at),
                Next::Done(result) => Next::Done(result.map(f)),
            }
        }
        match self {
            Call::List(c) => map(c.poll(now), Output::List),
            Call::Image(c) => map(c.poll(now), Output::Image),
            Call::Task(c) => map(c.poll(now), Output::Task),
        }
    }

    fn handle(
        &mut self,
        result: Result<Response<Vec<u8>>, TransportError>,
        now: Instant,
        wall: SystemTime,
        random: f64,
    ) {
        match self {
            Call::List(c) => c.handle(result, now, wall, random),
            Call::Image(c) => c.handle(result, now, wall, random),
            Call::Task(c) => c.handle(result, now, wall, random),
        }
    }

    fn poll_event(&mut self) -> Option<Event> {
        match self {
            Call::List(c) => c.poll_event(),
            Call::Image(c) => c.poll_event(),
            Call::Task(c) => c.poll_event(),
        }
    }
}

/// The task the wait is for.
const TASK: &str = "t";

/// What a task wait must do after an answer, by what the answer said.
#[derive(Debug, Clone, Copy)]
enum WaitExpect {
    /// Nothing in particular (a transport failure, a raw response, a
    /// redirect, a `Retry-After` the oracle cannot read).
    Free,
    /// A raw response: success only when its body says so.
    Raw { says_success: bool },
    /// Our task succeeded: done at once, with it.
    Success,
    /// Done at once with an error of this kind.
    Ends(ErrorKind),
    /// Our task is not found: done at once with a not-found error.
    NotFound,
    /// Our task is still running: the next request no sooner than this, or
    /// the wait times out.
    Pending(Instant),
    /// The server asked to wait, and that fits before the deadline: the
    /// next request no sooner than this, and not the end.
    WaitedOut(Instant),
    /// The server asked to wait past the deadline: done at once with an
    /// error keeping `retry_after()`.
    EndsWithRetryAfter,
}

/// A task wait (`Endpoint::wait_for_task`) under a policy and over answers
/// the input describes: transport failures, raw responses, redirects,
/// retryable statuses with every form of `Retry-After`, 404, and task
/// answers about our task or another one. Checks: two requests never
/// closer than the policy's initial interval; no request at or after the
/// deadline, the end by the deadline (plus the last answer's latency);
/// at most `max_requests`; a `Retry-After` that fits before the deadline
/// waited out, one that does not ending the wait at once with
/// `retry_after()`; an answer about another task ending it with
/// `TaskMismatch`; success only on an answer saying our task succeeded; no
/// key in any error or event.
pub fn task_poller(data: &[u8]) {
    let mut input = Input::new(data);
    let floor = Duration::from_millis(100 * (1 + u64::from(input.byte() % 30)));
    let max_interval = floor * (1 + u32::from(input.byte() % 8));
    let timeout = Duration::from_secs(1 + u64::from(input.byte()) * 3);
    let max_requests = 1 + u32::from(input.byte() % 60);
    let policy = PollPolicy::default()
        .with_initial_interval(floor)
        .with_max_interval(max_interval)
        .with_timeout(timeout)
        .with_max_requests(max_requests);
    let endpoint = endpoint();
    let task = Task::new(TASK.parse().expect("valid"), TaskStatus::Pending);
    let mut wait = endpoint.wait_for_task(task, policy);
    let start = Instant::now();
    let deadline = start + timeout;
    let mut now = start;
    let mut requests = 0u32;
    let mut last_sent: Option<Instant> = None;
    let mut latency = Duration::ZERO;
    let mut expect = WaitExpect::Free;
    // A raw response's redirect may point anywhere on the origin (the
    // input's own redirects repeat the request's URI).
    let mut raw_redirect = false;
    let limit = 2 * max_requests as usize + 4;
    for _ in 0..limit {
        let next = wait.poll(now);
        while let Some(event) = wait.poll_event() {
            check_event(&event);
            if let Event::Retrying { wait, .. } = &event {
                assert!(*wait >= floor, "a retry after {wait:?}");
            }
        }
        let must_end = matches!(
            expect,
            WaitExpect::Success
                | WaitExpect::Ends(_)
                | WaitExpect::NotFound
                | WaitExpect::EndsWithRetryAfter
        );
        match next {
            Next::Send(request) => {
                check_request(&request);
                if !raw_redirect {
                    assert!(
                        request.uri().path().ends_with("/tasks/t"),
                        "{}",
                        request.uri()
                    );
                }
                assert!(!must_end, "sent again after {expect:?}");
                assert!(now < deadline, "a request at or after the deadline");
                if let Some(before) = last_sent {
                    assert!(
                        now - before >= floor,
                        "two requests {:?} apart",
                        now - before
                    );
                }
                if let WaitExpect::Pending(at) | WaitExpect::WaitedOut(at) = expect {
                    assert!(now >= at, "sent before {expect:?}");
                }
                requests += 1;
                assert!(requests <= max_requests);
                last_sent = Some(now);
                latency = input.latency();
                now += latency;
                let (answer, said) = task_answer(&mut input, &request);
                raw_redirect |= matches!(said, Said::Raw(_)) && is_redirect(&answer);
                expect = match said {
                    Said::Retry(Some(secs)) => {
                        let asked = Duration::from_secs(secs);
                        let wait = asked.max(floor);
                        match now.checked_add(wait) {
                            Some(at) if at < deadline && requests < max_requests => {
                                WaitExpect::WaitedOut(at)
                            }
                            Some(at) if at == deadline => WaitExpect::Free,
                            Some(at) if at < deadline => WaitExpect::Free,
                            _ => WaitExpect::EndsWithRetryAfter,
                        }
                    }
                    Said::Retry(None) | Said::Other => WaitExpect::Free,
                    Said::Raw(says_success) => WaitExpect::Raw { says_success },
                    Said::NotFound => WaitExpect::NotFound,
                    Said::Task { ours: false, .. } => WaitExpect::Ends(ErrorKind::TaskMismatch),
                    Said::Task {
                        status: TaskStatus::Success,
                        ..
                    } => WaitExpect::Success,
                    Said::Task { status, .. } if status.is_terminal() => {
                        WaitExpect::Ends(ErrorKind::TaskFailed)
                    }
                    Said::Task { .. } => WaitExpect::Pending(now + floor),
                };
                wait.handle(answer, now, wall(), input.random());
            }
            Next::WaitUntil(at) => {
                assert!(!must_end, "waiting after {expect:?}");
                assert!(at > now);
                now = at;
            }
            Next::Done(result) => {
                assert!(now <= deadline + latency, "ended after the deadline");
                assert!(requests <= max_requests);
                if let WaitExpect::WaitedOut(_) = expect {
                    panic!("ended instead of waiting out a Retry-After: {result:?}");
                }
                match result {
                    Ok(task) => {
                        assert_eq!(task.id.as_str(), TASK);
                        assert_eq!(task.status, TaskStatus::Success);
                        assert!(
                            matches!(
                                expect,
                                WaitExpect::Success | WaitExpect::Raw { says_success: true }
                            ),
                            "success after {expect:?}"
                        );
                    }
                    Err(e) => {
                        check_operation_error(&e);
                        match expect {
                            WaitExpect::Success => panic!("our task succeeded, yet {e}"),
                            WaitExpect::Ends(kind) => assert_eq!(e.kind(), kind, "{e}"),
                            WaitExpect::NotFound => assert!(e.is_not_found(), "{e}"),
                            WaitExpect::Pending(_) => {
                                assert_eq!(e.kind(), ErrorKind::TaskTimeout, "{e}")
                            }
                            WaitExpect::EndsWithRetryAfter => {
                                assert!(e.retry_after().is_some(), "{e}")
                            }
                            _ => {}
                        }
                    }
                }
                return;
            }
        }
    }
    panic!("the wait did not finish within {limit} steps");
}

/// What an answer to a task poll said, as the input wrote it.
enum Said {
    /// A retryable status, with the wait its `Retry-After` asks for when
    /// known.
    Retry(Option<u64>),
    /// A raw response; whether its body says SUCCESS anywhere.
    Raw(bool),
    /// 404.
    NotFound,
    /// A task answer: about our task or another, with this status.
    Task { ours: bool, status: TaskStatus },
    /// A transport failure or a redirect.
    Other,
}

/// One answer to a task poll.
fn task_answer(
    input: &mut Input,
    request: &Request<Vec<u8>>,
) -> (Result<Response<Vec<u8>>, TransportError>, Said) {
    match input.byte() % 8 {
        0 => (Err(transport_error(input)), Said::Other),
        1 => {
            let response = raw_response(input);
            let body = String::from_utf8_lossy(response.body()).to_ascii_uppercase();
            (Ok(response), Said::Raw(body.contains("SUCCESS")))
        }
        2 => (Ok(redirect(input, request)), Said::Other),
        3 => {
            let (response, status, secs) = status_answer(input, &[429, 502, 503, 504, 500, 404]);
            let said = if status == 404 {
                Said::NotFound
            } else {
                Said::Retry(secs)
            };
            (Ok(response), said)
        }
        _ => {
            let id = ["t", "t", "t", "t-2", "T", "t0"][usize::from(input.byte()) % 6];
            let (text, status) = [
                ("PENDING", TaskStatus::Pending),
                ("RUNNING", TaskStatus::Other("RUNNING".to_owned())),
                ("SUCCESS", TaskStatus::Success),
                ("FAILED", TaskStatus::Failed("FAILED".to_owned())),
                ("FAILURE", TaskStatus::Failed("FAILURE".to_owned())),
            ][usize::from(input.byte()) % 5]
                .clone();
            let shape = input.byte();
            let result = if shape & 2 == 0 {
                String::new()
            } else {
                format!(r#","result":{{"message":"about {KEY}"}}"#)
            };
            let body = if shape & 1 == 0 {
                format!(r#"{{"taskId":"{id}","taskStatus":"{text}"{result}}}"#)
            } else {
                format!(r#"{{"data":{{"id":"{id}","status":"{text}"{result}}}}}"#)
            };
            let response = Response::builder()
                .status(200)
                .body(body.into_bytes())
                .expect("a valid response");
            let said = Said::Task {
                ours: id == TASK,
                status,
            };
            (Ok(response), said)
        }
    }
}

/// The ids the `list_all` pages draw from: few, so pages repeat them.
const POOL: u8 = 12;

fn image_json(n: u8) -> String {
    format!(
        r#"{{"id":"s/f/v{n}","slug":"x","createdAt":"2020-11-10T20:34:{:02}Z","reference":"x/f:v{n}","status":"READY"}}"#,
        n % 60
    )
}

/// A page the input wrote, as far as the oracle needs it.
#[derive(Debug, Clone)]
struct PageSent {
    ids: Vec<u8>,
    record_count: Option<u64>,
    page_current: Option<u64>,
    page_size: Option<u64>,
}

/// One answer to a page request, and the page when it is one the client
/// must decode (a 200 with a well-formed body).
fn page_answer(
    input: &mut Input,
    request: &Request<Vec<u8>>,
) -> (
    Result<Response<Vec<u8>>, TransportError>,
    Option<PageSent>,
    bool,
) {
    match input.byte() % 16 {
        0 => (Err(transport_error(input)), None, false),
        1 => (Ok(raw_response(input)), None, true),
        2 => (Ok(redirect(input, request)), None, false),
        3 | 4 => {
            let (response, _, _) = status_answer(input, &[429, 502, 503, 504, 500, 404]);
            (Ok(response), None, false)
        }
        _ => {
            let flags = input.byte();
            let record_count = match flags % 4 {
                0 => None,
                1 => Some(u64::from(input.byte() % 16)),
                2 => Some(u64::from(input.byte() % 32)),
                _ => Some(1_000_000_000),
            };
            let page_current = match (flags >> 2) & 3 {
                0 => None,
                1 => Some(1),
                _ => Some(u64::from(input.byte() % 8)),
            };
            let page_size = match (flags >> 4) & 3 {
                0 => None,
                2 => Some(u64::from(u32::MAX) + 1),
                _ => Some(u64::from(input.byte() % 8)),
            };
            let count = input.byte() % 6;
            let ids: Vec<u8> = (0..count).map(|_| input.byte() % POOL).collect();
            let mut images: Vec<String> = ids.iter().map(|n| image_json(*n)).collect();
            // A malformed page: a bad image, or the body cut short.
            let malformed = flags >> 6;
            if malformed == 1 {
                images.push(r#"{"id":"s/f/bad","createdAt":"yesterday"}"#.to_owned());
            }
            let mut metadata = Vec::new();
            for (name, value) in [
                ("recordCount", record_count),
                ("pageCurrent", page_current),
                ("pageSize", page_size),
            ] {
                if let Some(value) = value {
                    metadata.push(format!(r#""{name}":{value}"#));
                }
            }
            let mut body = format!(
                r#"{{"data":[{}],"metadata":{{{}}}}}"#,
                images.join(","),
                metadata.join(",")
            );
            if malformed == 2 {
                body.truncate(body.len() / 2);
            }
            let response = Response::builder()
                .status(200)
                .body(body.into_bytes())
                .expect("a valid response");
            let sent = (malformed == 0 || malformed == 3).then_some(PageSent {
                ids,
                record_count,
                page_current,
                page_size,
            });
            (Ok(response), sent, malformed != 0 && malformed != 3)
        }
    }
}

/// Listing every page (`Endpoint::list_images`, the operation behind
/// `list_images` and `resolve`) over page answers the input describes:
/// transport failures, raw responses, redirects, retryable and final
/// statuses, and pages whose `recordCount`, `pageCurrent`, `pageSize` and
/// image ids (from a small pool) are arbitrary, some malformed. Checks: it
/// ends; the pages asked are 1, 2, 3, … (the client's count); at most the
/// distinct images sent + 1 pages, and at most `MAX_PAGES`; a next page
/// only after a page that brought an image not seen before, with a count
/// still above the images gathered and a `pageCurrent` that moved; no
/// duplicate ids in the result, which holds every image sent when it is
/// complete; complete only when the last page says so; requests only to
/// the API's origin; no key in any error or event.
pub fn list_all(data: &[u8]) {
    let mut input = Input::new(data);
    let policy = RetryPolicy::default();
    let mut list = endpoint()
        .list_images(&ListOptions::new())
        .expect("the listing builds");
    let start = Instant::now();
    let mut now = start;
    // The oracle: what was sent, independently of the client.
    let mut seen: HashSet<u8> = HashSet::new();
    let mut raw_or_odd = false;
    let mut page: u64 = 0;
    let mut requests_of_page = 0u32;
    let mut last_page: Option<PageSent> = None;
    let mut last_new = 0usize;
    let mut last_server_page: Option<u64> = None;
    let mut stalled = false;
    let mut first_page_size: Option<u64> = None;
    let mut raw_redirect = false;
    let mut requests = 0u64;
    let mut steps = 0u64;
    loop {
        steps += 1;
        assert!(steps < 100_000, "the listing did not finish");
        let next = list.poll(now);
        while let Some(event) = list.poll_event() {
            check_event(&event);
        }
        match next {
            Next::Send(request) => {
                check_request(&request);
                requests += 1;
                assert!(requests <= MAX_PAGES * u64::from(policy.max_attempts + MAX_REDIRECTS));
                // A raw response's redirect may point anywhere on the origin,
                // query or not (the input's own redirects repeat the URI).
                let asked = if raw_redirect {
                    page
                } else {
                    page_number(&request)
                };
                if asked == page {
                    requests_of_page += 1;
                    assert!(
                        raw_redirect || requests_of_page <= policy.max_attempts + MAX_REDIRECTS
                    );
                } else {
                    assert_eq!(asked, page + 1, "page {asked} asked after page {page}");
                    if page > 0 {
                        // Going on requires a page that made progress.
                        let before = last_page.as_ref().filter(|_| !raw_or_odd);
                        if let Some(before) = before {
                            let total = before.record_count.expect("a count to go on");
                            assert!(!before.ids.is_empty(), "went on after an empty page");
                            assert!(last_new > 0, "went on after a page with nothing new");
                            assert!((seen.len() as u64) < total, "went on past the count");
                            assert!(!stalled, "went on after a page that did not move");
                            assert!(
                                matches!(first_page_size, Some(1..=0xffff_ffff)),
                                "went on without a page size to ask for"
                            );
                        }
                    }
                    page = asked;
                    requests_of_page = 1;
                    assert!(page <= MAX_PAGES, "more than MAX_PAGES pages");
                    assert!(
                        page <= seen.len() as u64 + 1 || raw_or_odd,
                        "page {page} with {} distinct images sent",
                        seen.len()
                    );
                }
                let (answer, sent, odd) = page_answer(&mut input, &request);
                raw_or_odd |= odd;
                raw_redirect |= odd && is_redirect(&answer);
                if let Some(sent) = &sent {
                    let before = seen.len();
                    seen.extend(sent.ids.iter().copied());
                    last_new = seen.len() - before;
                    stalled = matches!(
                        (last_server_page, sent.page_current),
                        (Some(a), Some(b)) if b <= a
                    );
                    last_server_page = sent.page_current;
                    if first_page_size.is_none() && page == 1 {
                        // The server's size when it says one that can be
                        // asked for (1 to u32::MAX), else the page's own
                        // length (a size of 0 says nothing).
                        first_page_size = Some(
                            sent.page_size
                                .filter(|n| (1..=u64::from(u32::MAX)).contains(n))
                                .unwrap_or(sent.ids.len() as u64),
                        );
                    }
                }
                if sent.is_some() {
                    last_page = sent;
                }
                now += input.latency();
                list.handle(answer, now, wall(), input.random());
            }
            Next::WaitUntil(at) => {
                assert!(at > now);
                now = at;
            }
            Next::Done(result) => {
                match result {
                    Ok(images) => {
                        let ids: Vec<&ImageId> = images.images.iter().map(|i| &i.id).collect();
                        let distinct: HashSet<&&ImageId> = ids.iter().collect();
                        assert_eq!(distinct.len(), ids.len(), "duplicate ids");
                        if !raw_or_odd {
                            let sent: HashSet<String> =
                                seen.iter().map(|n| format!("s/f/v{n}")).collect();
                            let got: HashSet<String> =
                                ids.iter().map(|id| id.to_string()).collect();
                            assert_eq!(got, sent, "the list is not what the pages held");
                            let last = last_page.as_ref().expect("a page was read");
                            assert!(
                                last.record_count.is_none()
                                    || last.ids.is_empty()
                                    || seen.len() as u64 >= last.record_count.unwrap_or(0),
                                "complete while the last page said {last:?}"
                            );
                        }
                    }
                    Err(e) => check_operation_error(&e),
                }
                return;
            }
        }
    }
}
