//! The fuzz targets' bodies, shared by the libFuzzer binaries in
//! `fuzz_targets/` and by `tests/fuzz_corpus.rs`, which replays the committed
//! corpus under `cargo test`. Each function takes outside bytes and must
//! neither panic nor hang; the assertions are the properties checked.

use std::time::{Duration, Instant, SystemTime};

use coxedge_images::{
    ApiKey, Endpoint, ImageId, ImageReference, PollAction, PollPolicy, RetryPolicy, Step, Task,
    TaskPoller, TaskStatus, TransportError, TransportErrorKind, decode_image, decode_image_list,
    decode_task,
};
use http::{HeaderName, HeaderValue, Response, StatusCode};

/// A target: its name and its body.
pub type Target = (&'static str, fn(&[u8]));

/// Names the targets, for the corpus replay.
pub const TARGETS: [Target; 7] = [
    ("decode_list", decode_list),
    ("decode_image", decode_image_target),
    ("decode_task", decode_task_target),
    ("ids", ids),
    ("retry_after", retry_after),
    ("task_poller", task_poller),
    ("exchange", exchange),
];

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
        .api_key(ApiKey::new("fuzz-key").expect("valid key"))
        .build()
        .expect("valid endpoint")
}

/// Errors must render, and once redacted never carry the key (the fuzzer
/// can put `fuzz-key` in a body: the seed corpus does).
fn check_error(e: coxedge_images::Error) {
    let key = ApiKey::new("fuzz-key").expect("valid key");
    let e = e.redact_secret(&key);
    let text = format!("{e} {e:?} {:?}", e.api_errors());
    assert!(!text.contains("fuzz-key"));
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

pub fn decode_task_target(data: &[u8]) {
    match decode_task(response(data).0) {
        Ok(task) => assert!(!task.id.as_str().is_empty()),
        Err(e) => check_error(e),
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
        assert_eq!(request.uri().host(), Some("portal.coxedge.com"));
        assert_eq!(request.uri().query(), None);
        assert_eq!(request.uri().path().matches('/').count(), 9);
    }
    if let Ok(reference) = text.parse::<ImageReference>() {
        assert_eq!(reference.to_string(), text);
    }
    let _ = text.parse::<coxedge_images::TaskId>();
}

pub fn retry_after(data: &[u8]) {
    let Ok(value) = HeaderValue::from_bytes(data) else {
        return;
    };
    let mut headers = http::HeaderMap::new();
    headers.insert("retry-after", value);
    let _ = coxedge_images::retry_after(&headers);
    let policy = RetryPolicy::default();
    let decision = policy.decide(
        &http::Method::GET,
        coxedge_images::Outcome::Response {
            status: StatusCode::TOO_MANY_REQUESTS,
            headers: &headers,
        },
        coxedge_images::Attempt::new(
            1,
            Duration::ZERO,
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            0.5,
        ),
    );
    if let coxedge_images::RetryDecision::RetryAfter(wait) = decision {
        assert!(wait <= policy.max_delay);
    }
}

/// What a transport hands back.
type Answer = Result<Response<Vec<u8>>, TransportError>;

/// Splits the input into responses separated by `0xff 0xfe`; an empty
/// chunk is a transport failure.
fn answers(data: &[u8]) -> Vec<Answer> {
    let mut out = Vec::new();
    let mut rest = data;
    loop {
        let cut = rest.windows(2).position(|w| w == [0xff, 0xfe]);
        let chunk = &rest[..cut.unwrap_or(rest.len())];
        out.push(if chunk.is_empty() {
            Err(TransportError::new(TransportErrorKind::Timeout, "fuzz"))
        } else {
            Ok(response(chunk).0)
        });
        match cut {
            Some(i) => rest = &rest[i + 2..],
            None => return out,
        }
    }
}

pub fn task_poller(data: &[u8]) {
    let policy = PollPolicy::default()
        .with_max_requests(50)
        .with_timeout(Duration::from_secs(600));
    let start = Instant::now();
    let mut now = start;
    let task = Task::new("t".parse().expect("valid"), TaskStatus::Pending);
    let mut poller = TaskPoller::new(&endpoint(), task, policy, now).expect("poller");
    let mut answers = answers(data).into_iter();
    let mut last_ok: Option<bool> = None;
    for _ in 0..200 {
        match poller.poll(now) {
            PollAction::Send(_) => {
                let answer = answers
                    .next()
                    .unwrap_or_else(|| Err(TransportError::new(TransportErrorKind::Io, "end")));
                last_ok = Some(
                    matches!(&answer, Ok(r) if String::from_utf8_lossy(r.body()).to_ascii_uppercase().contains("SUCCESS")),
                );
                poller.handle_response(answer, now, SystemTime::now(), 0.5);
            }
            PollAction::WaitUntil(at) => {
                assert!(at > now);
                now = at;
            }
            PollAction::Done(result) => {
                assert!(poller.requests() <= 50);
                if let Ok(task) = result {
                    assert_eq!(task.status, TaskStatus::Success);
                    assert_eq!(last_ok, Some(true));
                }
                return;
            }
        }
    }
    panic!("the poller did not finish within 200 steps");
}

pub fn exchange(data: &[u8]) {
    let policy = RetryPolicy::default();
    let mut exchange = endpoint()
        .list_images(&coxedge_images::ListOptions::new())
        .expect("call")
        .with_retry_policy(policy.clone())
        .into_exchange();
    let start = Instant::now();
    let mut clock = Duration::ZERO;
    let mut sent = 0;
    for answer in answers(data).into_iter().chain(std::iter::repeat_with(|| {
        Err(TransportError::new(TransportErrorKind::Io, "end"))
    })) {
        let _ = exchange.next_request(start + clock);
        sent += 1;
        assert!(sent <= policy.max_attempts + coxedge_images::MAX_REDIRECTS);
        match exchange.handle(answer, start + clock, SystemTime::now(), 0.5) {
            Step::Done(result) => {
                if let Err(e) = result {
                    check_error(e);
                }
                return;
            }
            Step::SendAgain { wait, .. } => {
                assert!(wait <= policy.max_delay);
                clock += wait;
            }
        }
    }
}
