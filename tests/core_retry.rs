//! The retry decision and the exchange that applies it, on virtual time.

use std::time::{Duration, Instant, SystemTime};

use coxedge_images::{
    ApiKey, Attempt, CreateImage, Endpoint, ErrorKind, Exchange, ListOptions, Outcome,
    RetryDecision, RetryPolicy, Step, TransportError, TransportErrorKind,
};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

fn attempt(number: u32, elapsed_ms: u64, random: f64) -> Attempt {
    Attempt::new(
        number,
        Duration::from_millis(elapsed_ms),
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000),
        random,
    )
}

fn status_outcome(status: u16, headers: &HeaderMap) -> Outcome<'_> {
    Outcome::Response {
        status: StatusCode::from_u16(status).unwrap(),
        headers,
    }
}

#[test]
fn retries_what_it_should_and_nothing_else() {
    let policy = RetryPolicy::default();
    let none = HeaderMap::new();
    let decide = |method: &Method, outcome| policy.decide(method, outcome, attempt(1, 0, 0.5));
    for status in [429, 502, 503, 504] {
        assert!(matches!(
            decide(&Method::GET, status_outcome(status, &none)),
            RetryDecision::RetryAfter(_)
        ));
        assert_eq!(
            decide(&Method::POST, status_outcome(status, &none)),
            RetryDecision::Stop
        );
        assert_eq!(
            decide(&Method::DELETE, status_outcome(status, &none)),
            RetryDecision::Stop
        );
    }
    for status in [200, 400, 401, 403, 404, 500, 501] {
        assert_eq!(
            decide(&Method::GET, status_outcome(status, &none)),
            RetryDecision::Stop,
            "{status}"
        );
    }
    for kind in [
        TransportErrorKind::Connect,
        TransportErrorKind::Timeout,
        TransportErrorKind::Io,
    ] {
        assert!(matches!(
            decide(&Method::GET, Outcome::Transport(kind)),
            RetryDecision::RetryAfter(_)
        ));
    }
    for kind in [
        TransportErrorKind::BodyTooLarge,
        TransportErrorKind::Tls,
        TransportErrorKind::Refused,
        TransportErrorKind::Protocol,
    ] {
        assert_eq!(
            decide(&Method::GET, Outcome::Transport(kind)),
            RetryDecision::Stop
        );
    }
}

#[test]
fn retry_after_is_honoured_and_capped() {
    let policy = RetryPolicy::default();
    let decide = |status, headers: &HeaderMap| {
        policy.decide(
            &Method::GET,
            status_outcome(status, headers),
            attempt(1, 0, 0.0),
        )
    };
    let mut headers = HeaderMap::new();
    headers.insert("retry-after", "3".parse().unwrap());
    assert_eq!(
        decide(429, &headers),
        RetryDecision::RetryAfter(Duration::from_secs(3))
    );
    // Longer than the cap: retrying early would only be refused again.
    headers.insert("retry-after", "86400".parse().unwrap());
    assert_eq!(decide(503, &headers), RetryDecision::Stop);
    headers.insert("retry-after", "10".parse().unwrap());
    assert_eq!(
        decide(503, &headers),
        RetryDecision::RetryAfter(policy.max_delay)
    );
    // An HTTP date 5 s after the caller's `now`.
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
    headers.insert(
        "retry-after",
        httpdate::fmt_http_date(now + Duration::from_secs(5))
            .parse()
            .unwrap(),
    );
    assert_eq!(
        decide(429, &headers),
        RetryDecision::RetryAfter(Duration::from_secs(5))
    );
}

#[test]
fn backoff_is_full_jitter_exponential() {
    let policy = RetryPolicy::default();
    let none = HeaderMap::new();
    let wait =
        |n, r| match policy.decide(&Method::GET, status_outcome(503, &none), attempt(n, 0, r)) {
            RetryDecision::RetryAfter(d) => d,
            RetryDecision::Stop => panic!("stopped"),
        };
    assert_eq!(wait(1, 0.0), Duration::ZERO);
    assert_eq!(wait(1, 0.5), policy.base_delay / 2);
    assert_eq!(wait(2, 0.5), policy.base_delay);
    assert_eq!(wait(3, 0.5), policy.base_delay * 2);
    assert_eq!(wait(1, f64::NAN), Duration::ZERO);
}

proptest! {
    #[test]
    fn decision_respects_every_limit(
        number in 0u32..20,
        elapsed_ms in 0u64..200_000,
        random in any::<f64>(),
        status in 100u16..600,
        retry_after in proptest::option::of(prop_oneof![any::<u64>().prop_map(|n| n.to_string()), "[ -~]{0,30}"]),
        method in prop_oneof![Just(Method::GET), Just(Method::POST), Just(Method::DELETE), Just(Method::PUT), Just(Method::PATCH)],
        max_attempts in 1u32..6,
    ) {
        let policy = RetryPolicy::default().with_max_attempts(max_attempts);
        let mut headers = HeaderMap::new();
        if let Some(v) = retry_after.and_then(|v| v.parse().ok()) {
            headers.insert("retry-after", v);
        }
        let a = attempt(number, elapsed_ms, random);
        match policy.decide(&method, status_outcome(status, &headers), a) {
            RetryDecision::Stop => {}
            RetryDecision::RetryAfter(wait) => {
                prop_assert_eq!(method, Method::GET);
                prop_assert!(number < max_attempts);
                prop_assert!(wait <= policy.max_delay);
                prop_assert!(a.elapsed + wait <= policy.max_elapsed);
            }
        }
    }

    /// Whatever the transport answers, an exchange ends within its limits
    /// and never sends a POST twice.
    #[test]
    fn exchange_always_terminates_within_limits(
        outcomes in proptest::collection::vec(0u8..8, 1..40),
        post in any::<bool>(),
    ) {
        let policy = RetryPolicy::default();
        // A create (POST) or a list (GET), each with its own decoder.
        if post {
            let call = endpoint().create_image(&CreateImage::new("f", "t", "w", "i")).unwrap();
            limits_hold(call.with_retry_policy(policy.clone()).into_exchange(), &outcomes, post, &policy)?;
        } else {
            limits_hold(list_exchange(policy.clone()), &outcomes, post, &policy)?;
        }
    }
}

/// Drives `exchange` through `outcomes` (cycled) and checks its limits.
fn limits_hold<T>(
    mut exchange: Exchange<T>,
    outcomes: &[u8],
    post: bool,
    policy: &RetryPolicy,
) -> Result<(), TestCaseError> {
    let start = Instant::now();
    let mut clock = Duration::ZERO;
    let mut sent = 0u32;
    let mut outcomes = outcomes.iter().cycle();
    loop {
        let _ = exchange.next_request(start + clock);
        sent += 1;
        prop_assert!(sent <= policy.max_attempts + coxedge_images::MAX_REDIRECTS);
        let result = match outcomes.next().unwrap() {
            0 => Err(TransportError::new(TransportErrorKind::Timeout, "t")),
            1 => Err(TransportError::new(TransportErrorKind::Connect, "c")),
            2 => Ok(Response::builder().status(503).body(Vec::new()).unwrap()),
            3 => Ok(Response::builder()
                .status(429)
                .header("retry-after", "2")
                .body(Vec::new())
                .unwrap()),
            4 => Ok(Response::builder()
                .status(302)
                .header("location", "/api/v1/y")
                .body(Vec::new())
                .unwrap()),
            5 => Ok(Response::builder()
                .status(307)
                .header("location", "https://evil.example/")
                .body(Vec::new())
                .unwrap()),
            6 => Ok(Response::new(br#"{"data":[]}"#.to_vec())),
            _ => Ok(Response::builder().status(500).body(b"x".to_vec()).unwrap()),
        };
        match exchange.handle(result, start + clock, SystemTime::now(), 0.7) {
            Step::Done(_) => break,
            Step::SendAgain { wait, .. } => {
                prop_assert!(!post || wait.is_zero());
                prop_assert!(wait <= policy.max_delay);
                clock += wait;
            }
        }
    }
    prop_assert!(clock <= policy.max_elapsed);
    if post {
        prop_assert!(sent <= 1 + coxedge_images::MAX_REDIRECTS);
    }
    Ok(())
}

/// An endpoint at `https://h.example/api/v1`.
fn endpoint() -> Endpoint {
    Endpoint::builder()
        .base_url("https://h.example/api/v1")
        .service("s")
        .environment("e")
        .api_key(ApiKey::new("k").unwrap())
        .build()
        .unwrap()
}

/// A list exchange (a GET of `https://h.example/api/v1/services/s/e/images`)
/// under `policy`.
fn list_exchange(policy: RetryPolicy) -> Exchange<coxedge_images::ImageList> {
    endpoint()
        .list_images(&ListOptions::new())
        .unwrap()
        .with_retry_policy(policy)
        .into_exchange()
}

/// What a driven exchange sent, waited and ended with.
type Driven = (
    Vec<Request<Vec<u8>>>,
    Vec<Duration>,
    Result<coxedge_images::ImageList, coxedge_images::Error>,
);

fn drive(
    exchange: &mut Exchange<coxedge_images::ImageList>,
    answers: Vec<Result<Response<Vec<u8>>, TransportError>>,
) -> Driven {
    let start = Instant::now();
    let (mut sent, mut waits) = (Vec::new(), Vec::new());
    for answer in answers {
        sent.push(exchange.next_request(start));
        match exchange.handle(answer, start, SystemTime::now(), 0.5) {
            Step::Done(result) => return (sent, waits, result),
            Step::SendAgain { wait, .. } => waits.push(wait),
        }
    }
    panic!("the exchange wanted more answers than given");
}

#[test]
fn same_origin_redirect_is_followed_and_cross_origin_refused() {
    let mut ex = list_exchange(RetryPolicy::default());
    let (sent, waits, result) = drive(
        &mut ex,
        vec![
            Ok(Response::builder()
                .status(301)
                .header("location", "/api/v1/b?x=1")
                .body(vec![])
                .unwrap()),
            Ok(Response::new(br#"{"data":[]}"#.to_vec())),
        ],
    );
    assert!(result.is_ok());
    assert_eq!(sent[1].uri(), "https://h.example/api/v1/b?x=1");
    assert_eq!(waits, [Duration::ZERO]);

    for location in [
        "https://evil.example/steal",
        "http://h.example/api/v1/b",
        "https://h.example:444/x",
    ] {
        let mut ex = list_exchange(RetryPolicy::default());
        let (sent, _, result) = drive(
            &mut ex,
            vec![Ok(Response::builder()
                .status(307)
                .header("location", location)
                .body(vec![])
                .unwrap())],
        );
        assert_eq!(sent.len(), 1);
        let err = result.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Redirect, "{location}");
        assert!(!format!("{err} {err:?}").contains("steal"));
    }
}

#[test]
fn gives_up_after_max_attempts_with_the_last_answer() {
    let policy = RetryPolicy::default().with_max_attempts(3);
    let mut ex = list_exchange(policy);
    let answers = (0..5)
        .map(|_| {
            Ok(Response::builder()
                .status(503)
                .body(b"busy".to_vec())
                .unwrap())
        })
        .collect();
    let (sent, waits, result) = drive(&mut ex, answers);
    assert_eq!(sent.len(), 3);
    assert_eq!(waits.len(), 2);
    let err = result.unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(err.attempts(), 3);
    assert!(err.to_string().contains("after 3 attempts"), "{err}");
}

#[test]
fn transport_failures_keep_their_kind() {
    // One exchange that makes no retries, failed by one transport error.
    let fail = |kind, message| {
        let mut ex = list_exchange(RetryPolicy::never());
        let (_, _, result) = drive(&mut ex, vec![Err(TransportError::new(kind, message))]);
        result.unwrap_err()
    };
    let err = fail(TransportErrorKind::Timeout, "after 1s");
    assert!(err.is_timeout());
    assert!(err.may_have_reached_server());
    let err = fail(TransportErrorKind::Connect, "refused");
    assert!(err.is_connect());
    assert!(!err.may_have_reached_server());
}

#[test]
fn redirects_count_no_attempt_and_refuse_credentials() {
    let mut ex = list_exchange(RetryPolicy::default());
    let start = Instant::now();
    let _ = ex.next_request(start);
    let redirect = Response::builder()
        .status(302)
        .header("location", "/api/v1/b")
        .body(vec![])
        .unwrap();
    match ex.handle(Ok(redirect), start, SystemTime::now(), 0.5) {
        Step::SendAgain { attempt, wait, .. } => {
            assert_eq!(attempt, 1);
            assert!(wait.is_zero());
        }
        Step::Done(r) => panic!("not followed: {r:?}"),
    }
    let _ = ex.next_request(start);
    let with_credentials = Response::builder()
        .status(302)
        .header("location", "https://user:pw@h.example/api/v1/c")
        .body(vec![])
        .unwrap();
    match ex.handle(Ok(with_credentials), start, SystemTime::now(), 0.5) {
        Step::Done(Err(e)) => {
            assert_eq!(e.kind(), ErrorKind::Redirect);
            assert!(e.to_string().contains("credentials"), "{e}");
        }
        other => panic!("followed a redirect with credentials: {other:?}"),
    }
}
