//! The retry decision and the exchange that applies it, on virtual time.

use std::time::{Duration, Instant, SystemTime};

use crate::machine::exchange::{Exchange, Step};
use crate::machine::retry::{Attempt, Outcome, RetryDecision};
use crate::{
    ApiKey, CreateImage, Endpoint, ErrorKind, ListOptions, RetryPolicy, TransportError,
    TransportErrorKind,
};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use std::cell::RefCell;

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

/// The decision of `policy` for a GET answered 503 (with `retry_after`, if
/// any) after attempt `number`, `elapsed_ms` into the call, drawing `random`.
fn decide_503(
    policy: &RetryPolicy,
    number: u32,
    elapsed_ms: u64,
    random: f64,
    retry_after: Option<&str>,
) -> RetryDecision {
    let mut headers = HeaderMap::new();
    if let Some(value) = retry_after {
        headers.insert("retry-after", value.parse().unwrap());
    }
    policy.decide(
        &Method::GET,
        status_outcome(503, &headers),
        attempt(number, elapsed_ms, random),
    )
}

#[test]
fn backoff_and_retry_after_are_capped_at_max_delay() {
    use RetryDecision::{RetryAfter, Stop};
    let ms = Duration::from_millis;
    let s = Duration::from_secs;
    // Default limits (250 ms doubling, 10 s cap, 60 s in all) with attempts
    // enough to reach the cap; half of each ceiling drawn.
    let policy = RetryPolicy::default().with_max_attempts(100);
    let table = [
        (1, ms(125)),
        (2, ms(250)),
        (3, ms(500)),
        (4, s(1)),
        (5, s(2)),
        (6, s(4)),
        // 250 ms * 2^6 = 16 s: the ceiling is the 10 s cap from here on.
        (7, s(5)),
        (8, s(5)),
        (20, s(5)),
        (33, s(5)),
        (99, s(5)),
    ];
    for (number, wait) in table {
        assert_eq!(
            decide_503(&policy, number, 0, 0.5, None),
            RetryAfter(wait),
            "after attempt {number}"
        );
    }
    // A draw near 1 gets near the cap, never over it.
    let RetryAfter(wait) = decide_503(&policy, 40, 0, 0.999, None) else {
        panic!("stopped")
    };
    assert!(wait > ms(9_980) && wait <= s(10), "{wait:?}");

    // The server's delay is taken as it is up to the cap, and stops the call
    // beyond it.
    assert_eq!(decide_503(&policy, 1, 0, 0.5, Some("3")), RetryAfter(s(3)));
    assert_eq!(
        decide_503(&policy, 1, 0, 0.5, Some("10")),
        RetryAfter(s(10))
    );
    assert_eq!(decide_503(&policy, 1, 0, 0.5, Some("11")), Stop);
    assert_eq!(decide_503(&policy, 1, 0, 0.5, Some("86400")), Stop);

    // The cap is the policy's, not a constant: 3 s here.
    let short = policy.clone().with_max_delay(s(3));
    assert_eq!(decide_503(&short, 4, 0, 0.5, None), RetryAfter(s(1)));
    assert_eq!(decide_503(&short, 5, 0, 0.5, None), RetryAfter(ms(1_500)));
    assert_eq!(decide_503(&short, 30, 0, 0.5, None), RetryAfter(ms(1_500)));
    assert_eq!(decide_503(&short, 1, 0, 0.5, Some("3")), RetryAfter(s(3)));
    assert_eq!(decide_503(&short, 1, 0, 0.5, Some("4")), Stop);
    // An HTTP date 2 s and 5 s after the caller's `now`.
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
    let date = |secs| httpdate::fmt_http_date(now + Duration::from_secs(secs));
    assert_eq!(
        decide_503(&short, 1, 0, 0.5, Some(&date(2))),
        RetryAfter(s(2))
    );
    assert_eq!(decide_503(&short, 1, 0, 0.5, Some(&date(5))), Stop);

    // No retry whose wait would end past 60 s into the call.
    assert_eq!(
        decide_503(&policy, 1, 57_000, 0.5, Some("3")),
        RetryAfter(s(3))
    );
    assert_eq!(decide_503(&policy, 1, 57_001, 0.5, Some("3")), Stop);
    assert_eq!(decide_503(&policy, 7, 55_000, 0.5, None), RetryAfter(s(5)));
    assert_eq!(decide_503(&policy, 7, 55_001, 0.5, None), Stop);
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
    // A draw near zero waits the floor (50 ms by default), not nothing.
    assert_eq!(wait(1, 0.0), Duration::from_millis(50));
    assert_eq!(wait(1, 0.5), policy.base_delay / 2);
    assert_eq!(wait(2, 0.5), policy.base_delay);
    assert_eq!(wait(3, 0.5), policy.base_delay * 2);
    assert_eq!(wait(1, f64::NAN), Duration::from_millis(50));
    let unfloored = RetryPolicy::default().with_min_delay(Duration::ZERO);
    let decide = unfloored.decide(&Method::GET, status_outcome(503, &none), attempt(1, 0, 0.0));
    assert_eq!(decide, RetryDecision::RetryAfter(Duration::ZERO));
}

proptest! {
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

/// A `Retry-After` as generated: seconds, an HTTP date that many seconds
/// after `now`, or text that is neither (ignored: backoff applies).
#[derive(Debug, Clone)]
enum ServerDelay {
    Seconds(u64),
    DateIn(u64),
    Garbage(&'static str),
}

/// The decision restated from the documentation: only GET, HEAD and
/// OPTIONS; only 429/502/503/504 (every 5xx when asked); not after the last
/// attempt; the server's delay as it is, or a stop when it is over the cap;
/// otherwise `random` times `min(cap, base * 2^(attempt-1))`; no wait that
/// ends past `max_elapsed`. Backoff is computed in f64 seconds.
fn expected_decision(
    policy: &RetryPolicy,
    method: &Method,
    status: u16,
    delay: Option<&ServerDelay>,
    number: u32,
    elapsed: Duration,
    random: f64,
) -> (Option<f64>, &'static str) {
    let safe = [Method::GET, Method::HEAD, Method::OPTIONS].contains(method);
    if !safe {
        return (None, "stop: method");
    }
    if number >= policy.max_attempts {
        return (None, "stop: attempts");
    }
    let retryable = [429, 502, 503, 504].contains(&status)
        || (policy.retry_server_errors && (500..600).contains(&status));
    if !retryable {
        return (None, "stop: status");
    }
    let (wait, class) = match delay {
        Some(ServerDelay::Seconds(n) | ServerDelay::DateIn(n)) => {
            if Duration::from_secs(*n) > policy.max_delay {
                return (None, "stop: server delay over the cap");
            }
            (*n as f64, "retry: server delay")
        }
        _ => {
            let uncapped = policy.base_delay.as_secs_f64() * 2f64.powi(number as i32 - 1);
            let cap = policy.max_delay.as_secs_f64();
            if uncapped > cap {
                (cap * random, "retry: capped backoff")
            } else {
                (uncapped * random, "retry: backoff")
            }
        }
    };
    // No retry goes sooner than the floor, whatever the reason for waiting.
    let (wait, class) = if wait < policy.min_delay.as_secs_f64() {
        (policy.min_delay.as_secs_f64(), "retry: floor")
    } else {
        (wait, class)
    };
    if elapsed.as_secs_f64() + wait > policy.max_elapsed.as_secs_f64() + 1e-9 {
        return (None, "stop: elapsed");
    }
    (Some(wait), class)
}

fn server_delay() -> impl Strategy<Value = ServerDelay> {
    prop_oneof![
        (1u64..=12).prop_map(ServerDelay::Seconds),
        (1u64..=12).prop_map(ServerDelay::DateIn),
        proptest::sample::select(vec!["soon", "1.5", "-1", "", "3 s"])
            .prop_map(ServerDelay::Garbage),
    ]
}

#[test]
fn decision_matches_the_documented_rule_and_reaches_every_limit() {
    let policy_strategy = (
        1u64..2_000,
        100u64..20_000,
        1u64..120,
        1u32..40,
        any::<bool>(),
        prop_oneof![1 => Just(0u64), 3 => 1u64..1_500],
    )
        .prop_map(|(base, cap, total, attempts, all_5xx, floor)| {
            RetryPolicy::default()
                .with_min_delay(Duration::from_millis(floor))
                .with_base_delay(Duration::from_millis(base))
                .with_max_delay(Duration::from_millis(cap))
                .with_max_elapsed(Duration::from_secs(total))
                .with_max_attempts(attempts)
                .with_retry_server_errors(all_5xx)
        });
    let case = policy_strategy.prop_flat_map(|policy| {
        let attempts = policy.max_attempts;
        let limit_ms = policy.max_elapsed.as_millis() as u64;
        (
            Just(policy),
            prop_oneof![
                8 => Just(Method::GET),
                2 => Just(Method::HEAD),
                1 => Just(Method::POST),
                1 => Just(Method::DELETE),
                1 => Just(Method::PUT)
            ],
            proptest::sample::select(vec![200u16, 404, 429, 429, 500, 501, 502, 503, 503, 504]),
            proptest::option::weighted(0.4, server_delay()),
            1..=attempts + 1,
            0..limit_ms + 5_000,
            0.01f64..0.99,
        )
    });
    let counts = RefCell::new(std::collections::BTreeMap::<&str, u32>::new());
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 4000,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    runner
        .run(
            &case,
            |(policy, method, status, delay, number, elapsed_ms, random)| {
                let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
                let mut headers = HeaderMap::new();
                match &delay {
                    Some(ServerDelay::Seconds(n)) => {
                        headers.insert("retry-after", n.to_string().parse().unwrap());
                    }
                    Some(ServerDelay::DateIn(n)) => {
                        let date = httpdate::fmt_http_date(now + Duration::from_secs(*n));
                        headers.insert("retry-after", date.parse().unwrap());
                    }
                    Some(ServerDelay::Garbage(text)) => {
                        headers.insert("retry-after", text.parse().unwrap());
                    }
                    None => {}
                }
                let elapsed = Duration::from_millis(elapsed_ms);
                let got = policy.decide(
                    &method,
                    status_outcome(status, &headers),
                    Attempt::new(number, elapsed, now, random),
                );
                let (want, class) = expected_decision(
                    &policy,
                    &method,
                    status,
                    delay.as_ref(),
                    number,
                    elapsed,
                    random,
                );
                match (got, want) {
                    (RetryDecision::Stop, None) => {}
                    (RetryDecision::RetryAfter(wait), Some(want)) => {
                        prop_assert!(
                            (wait.as_secs_f64() - want).abs() < 1e-6,
                            "{class}: waited {wait:?}, expected {want} s"
                        );
                        prop_assert!(wait <= policy.max_delay.max(policy.min_delay));
                        prop_assert!(elapsed + wait <= policy.max_elapsed);
                    }
                    (got, want) => {
                        prop_assert!(false, "{class}: decided {got:?}, expected {want:?}")
                    }
                }
                *counts.borrow_mut().entry(class).or_insert(0) += 1;
                Ok(())
            },
        )
        .unwrap();
    let counts = counts.into_inner();
    eprintln!("outcomes over 4000 cases: {counts:?}");
    for class in [
        "stop: method",
        "stop: attempts",
        "stop: status",
        "stop: server delay over the cap",
        "stop: elapsed",
        "retry: server delay",
        "retry: capped backoff",
        "retry: backoff",
        "retry: floor",
    ] {
        let n = counts.get(class).copied().unwrap_or(0);
        assert!(n >= 80, "{class} reached in {n} of 4000 cases: {counts:?}");
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
        prop_assert!(sent <= policy.max_attempts + crate::machine::exchange::MAX_REDIRECTS);
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
        prop_assert!(sent <= 1 + crate::machine::exchange::MAX_REDIRECTS);
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
fn list_exchange(policy: RetryPolicy) -> Exchange<crate::ImageList> {
    endpoint()
        .list_page(&ListOptions::new())
        .unwrap()
        .with_retry_policy(policy)
        .into_exchange()
}

/// A redirect answer with `status` to `location`.
fn redirect(status: u16, location: &str) -> Response<Vec<u8>> {
    Response::builder()
        .status(status)
        .header("location", location)
        .body(vec![])
        .unwrap()
}

/// What a driven exchange sent, waited and ended with.
type Driven = (
    Vec<Request<Vec<u8>>>,
    Vec<Duration>,
    Result<crate::ImageList, crate::Error>,
);

fn drive(
    exchange: &mut Exchange<crate::ImageList>,
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
            Ok(redirect(301, "/api/v1/b?x=1")),
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
        let (sent, _, result) = drive(&mut ex, vec![Ok(redirect(307, location))]);
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
    let same_origin = redirect(302, "/api/v1/b");
    match ex.handle(Ok(same_origin), start, SystemTime::now(), 0.5) {
        Step::SendAgain { attempt, wait, .. } => {
            assert_eq!(attempt, 1);
            assert!(wait.is_zero());
        }
        Step::Done(r) => panic!("not followed: {r:?}"),
    }
    let _ = ex.next_request(start);
    let with_credentials = redirect(302, "https://user:pw@h.example/api/v1/c");
    match ex.handle(Ok(with_credentials), start, SystemTime::now(), 0.5) {
        Step::Done(Err(e)) => {
            assert_eq!(e.kind(), ErrorKind::Redirect);
            assert!(e.to_string().contains("credentials"), "{e}");
        }
        other => panic!("followed a redirect with credentials: {other:?}"),
    }
}

/// A retry and a redirect send the request the endpoint built, byte for
/// byte but for the redirect's URI: the exchange rebuilds it rather than
/// keeping a copy. The oracle is the endpoint's own request, built apart.
#[test]
fn resends_are_the_request_as_built() {
    let built = endpoint()
        .list_page_request(&ListOptions::new().page(2, 5))
        .unwrap();
    let mut ex = endpoint()
        .list_page(&ListOptions::new().page(2, 5))
        .unwrap()
        .into_exchange();
    let unavailable = || {
        Ok(Response::builder()
            .status(503)
            .header("retry-after", "0")
            .body(vec![])
            .unwrap())
    };
    let (sent, _, result) = drive(
        &mut ex,
        vec![
            unavailable(),
            unavailable(),
            Ok(redirect(302, "/api/v1/moved?page=2")),
            Ok(Response::new(br#"{"data":[]}"#.to_vec())),
        ],
    );
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(sent.len(), 4);
    for (i, request) in sent.iter().enumerate() {
        assert_eq!(request.method(), built.method(), "send {i}");
        assert_eq!(request.headers(), built.headers(), "send {i}");
        assert_eq!(request.body(), built.body(), "send {i}");
        let expected = if i < 3 {
            built.uri().to_string()
        } else {
            "https://h.example/api/v1/moved?page=2".to_owned()
        };
        assert_eq!(request.uri().to_string(), expected, "send {i}");
    }
}
