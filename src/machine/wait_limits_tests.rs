//! The limits of a task wait and of a call's retries, against servers that
//! try to break them: long or zero `Retry-After`s, dates in the past, answers
//! about another task, deletes finished with `204 No Content`.
//!
//! The poller runs on a virtual clock driven here (not the facades' loop),
//! so every wait the core asks for is measured exactly.

use std::time::{Duration, Instant, SystemTime};

use crate::machine::operation::Next;
use crate::machine::poller::TaskPoller;
use crate::machine::retry::{Attempt, Outcome, RetryDecision};
use crate::{
    ApiKey, Endpoint, ErrorKind, PollPolicy, RetryAfter, RetryPolicy, Task, TaskStatus,
    TransportError, decode_deletion,
};
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode};
use proptest::prelude::*;

fn endpoint() -> Endpoint {
    Endpoint::builder()
        .base_url("https://h.example/api/v2")
        .service("edge-services")
        .environment("env")
        .api_key(ApiKey::new("canary-SECRET-4242").unwrap())
        .build()
        .unwrap()
}

type Answer = Result<Response<Vec<u8>>, TransportError>;

fn answer(status: u16, retry_after: Option<&str>, body: &str) -> Answer {
    let mut response = Response::builder().status(status);
    if let Some(value) = retry_after {
        response = response.header("retry-after", value);
    }
    Ok(response.body(body.as_bytes().to_vec()).unwrap())
}

/// The two task shapes of the API, written from its docs.
fn task_answer(id: &str, status: &str) -> Answer {
    answer(
        200,
        None,
        &format!(r#"{{"data": {{"id": "{id}", "status": "{status}", "result": {{}}}}}}"#),
    )
}

fn rate_limited(retry_after: &str) -> Answer {
    answer(
        429,
        Some(retry_after),
        r#"{"errors": [{"code": 429, "message": "slow down"}]}"#,
    )
}

/// What a wait did, on the virtual clock.
struct Wait {
    result: Result<Task, crate::Error>,
    /// When each request went out, from the start.
    sends: Vec<Duration>,
    /// When the wait ended, from the start.
    end: Duration,
}

/// Waits for task `t-1` under `policy`, answering the n-th request with
/// `server(n)` (from 0), on a virtual clock whose wall time starts at
/// `wall`. Stops the test if the poller asks for more than 100 000 requests.
fn wait(policy: PollPolicy, wall: SystemTime, mut server: impl FnMut(usize) -> Answer) -> Wait {
    let start = Instant::now();
    let mut now = start;
    let task = Task::new("t-1".parse().unwrap(), TaskStatus::Pending);
    let mut poller = TaskPoller::new(endpoint().address(), task, policy, now).unwrap();
    let mut sends = Vec::new();
    loop {
        match poller.poll(now) {
            Next::Send(request) => {
                assert_eq!(request.method(), Method::GET);
                assert!(sends.len() < 100_000, "the wait does not end");
                let n = sends.len();
                sends.push(now - start);
                let virtual_wall = wall + (now - start);
                poller.handle_response(server(n), now, virtual_wall, 0.5);
            }
            Next::WaitUntil(at) => {
                assert!(
                    at > now,
                    "asked to wait until {at:?}, which is not after {now:?}"
                );
                now = at;
            }
            Next::Done(result) => {
                return Wait {
                    result,
                    sends,
                    end: now - start,
                };
            }
        }
    }
}

fn minutes(n: u64) -> Duration {
    Duration::from_secs(60 * n)
}

#[test]
fn a_retry_after_that_fits_before_the_deadline_is_waited_out() {
    // One 429 asking for 30 s in a 5-minute wait: the per-call cap of 10 s
    // must not end the wait.
    let policy = PollPolicy::default().with_timeout(minutes(5));
    let run = wait(policy, SystemTime::now(), |n| match n {
        0 => rate_limited("30"),
        _ => task_answer("t-1", "SUCCESS"),
    });
    let task = run.result.expect("the wait succeeds");
    assert_eq!(task.status, TaskStatus::Success);
    assert_eq!(run.sends, [Duration::ZERO, Duration::from_secs(30)]);
}

#[test]
fn a_retry_after_past_the_deadline_ends_the_wait_at_once_and_keeps_it() {
    let policy = PollPolicy::default().with_timeout(Duration::from_secs(20));
    let run = wait(policy, SystemTime::now(), |_| rate_limited("30"));
    let error = run.result.expect_err("the wait cannot last 30 s");
    assert!(error.is_rate_limited(), "{error:?}");
    assert_eq!(
        error.retry_after(),
        Some(RetryAfter::Delay(Duration::from_secs(30)))
    );
    assert!(!error.is_task_timeout() && !error.is_timeout(), "{error:?}");
    let text = error.to_string();
    assert!(text.contains("t-1") && text.contains("30s"), "{text}");
    assert!(!text.contains("SECRET"), "{text}");
    // Nothing is gained by sitting out the 20 s: the wait ends on the answer.
    assert_eq!(run.sends.len(), 1);
    assert_eq!(run.end, Duration::ZERO);
}

#[test]
fn a_retry_after_date_is_read_against_the_wall_clock() {
    let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let in_40_s = httpdate::fmt_http_date(wall + Duration::from_secs(40));
    let policy = PollPolicy::default().with_timeout(minutes(5));
    let run = wait(policy, wall, |n| match n {
        0 => rate_limited(&in_40_s),
        _ => task_answer("t-1", "SUCCESS"),
    });
    assert!(run.result.is_ok());
    assert_eq!(run.sends, [Duration::ZERO, Duration::from_secs(40)]);
}

#[test]
fn retry_after_zero_or_a_past_date_cannot_make_a_request_storm() {
    let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let yesterday = httpdate::fmt_http_date(wall - Duration::from_secs(86_400));
    // An interval of 7 s does not divide the 60 s: the deadline then comes
    // while a poll is being retried, not between two polls.
    let cases = ["0", yesterday.as_str(), "-5", "garbage"]
        .into_iter()
        .flat_map(|value| [(value, 1), (value, 7)]);
    for (value, interval) in cases {
        let floor = Duration::from_secs(interval);
        let policy = PollPolicy::default()
            .with_initial_interval(floor)
            .with_timeout(Duration::from_secs(60));
        let run = wait(policy, wall, |_| rate_limited(value));
        let error = run
            .result
            .expect_err("the server never lets the task be read");
        // 60 s at one request an interval at most, plus the first.
        assert!(
            run.sends.len() as u64 <= 60 / interval + 1,
            "{value}: {} requests",
            run.sends.len()
        );
        for pair in run.sends.windows(2) {
            assert!(
                pair[1] - pair[0] >= floor,
                "{value}: requests {:?} apart",
                pair[1] - pair[0]
            );
        }
        // The server never asked for more time than was left: the wait ran
        // out, and says so.
        assert!(error.is_task_timeout(), "{value}: {error:?}");
        assert!(
            run.end <= Duration::from_secs(60),
            "{value}: ended at {:?}",
            run.end
        );
    }
}

#[test]
fn an_answer_about_another_task_ends_the_wait_with_both_ids() {
    for status in ["SUCCESS", "PENDING", "FAILURE"] {
        let run = wait(PollPolicy::default(), SystemTime::now(), |_| {
            task_answer("t-2", status)
        });
        let error = run.result.expect_err("t-2's state says nothing of t-1");
        assert_eq!(error.kind(), ErrorKind::TaskMismatch, "{error:?}");
        let text = error.to_string();
        assert!(text.contains("t-1") && text.contains("t-2"), "{text}");
        assert_eq!(run.sends.len(), 1);
    }
    // The docs' top-level shape is checked the same way.
    let run = wait(PollPolicy::default(), SystemTime::now(), |_| {
        answer(200, None, r#"{"taskId": "t-9", "taskStatus": "SUCCESS"}"#)
    });
    let error = run.result.expect_err("t-9 is not t-1");
    assert_eq!(error.kind(), ErrorKind::TaskMismatch);
}

#[test]
fn a_task_wait_that_runs_out_is_not_a_transport_timeout() {
    let policy = PollPolicy::default().with_timeout(Duration::from_secs(10));
    let run = wait(policy, SystemTime::now(), |_| task_answer("t-1", "RUNNING"));
    let error = run.result.expect_err("the task never ends");
    assert!(error.is_task_timeout(), "{error:?}");
    assert!(
        !error.is_timeout(),
        "a wrapper retrying on is_timeout would repeat a create"
    );
}

/// A `Retry-After` value of any form a server may send: seconds (zero,
/// short, long, huge), HTTP dates (past, near, far), or nonsense.
fn retry_after_value(wall: SystemTime) -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        (0u64..5).prop_map(|s| Some(s.to_string())),
        (0u64..1_000).prop_map(|s| Some(s.to_string())),
        Just(Some(u64::MAX.to_string())),
        (-100_000i64..100_000).prop_map(move |offset| {
            let at = if offset < 0 {
                wall - Duration::from_secs(offset.unsigned_abs())
            } else {
                wall + Duration::from_secs(offset as u64)
            };
            Some(httpdate::fmt_http_date(at))
        }),
        "[ -~]{0,12}".prop_map(Some),
    ]
}

/// One answer of a hostile task server.
fn hostile_answer(wall: SystemTime) -> impl Strategy<Value = (u16, Option<String>, u8)> {
    (
        prop_oneof![
            Just(200u16),
            Just(429),
            Just(500),
            Just(502),
            Just(503),
            Just(504)
        ],
        retry_after_value(wall),
        0u8..3,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever the server says, the wait keeps its floor between requests,
    /// ends by its deadline and within its request limit.
    #[test]
    fn any_retry_after_keeps_the_floor_the_deadline_and_the_request_limit(
        answers in prop::collection::vec(hostile_answer(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)), 1..40),
        interval_ms in 1u64..3_000,
        timeout_s in 1u64..600,
        max_requests in 1u32..500,
    ) {
        let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let floor = Duration::from_millis(interval_ms);
        let timeout = Duration::from_secs(timeout_s);
        let policy = PollPolicy::default()
            .with_initial_interval(floor)
            .with_max_interval(floor * 4)
            .with_timeout(timeout)
            .with_max_requests(max_requests);
        let run = wait(policy, wall, |n| {
            let (status, retry_after, body) = &answers[n % answers.len()];
            let body = match (status, body) {
                (200, 0) => r#"{"data": {"id": "t-1", "status": "RUNNING"}}"#,
                (200, 1) => r#"{"taskId": "t-1", "taskStatus": "PENDING"}"#,
                (200, _) => r#"{"data": {"id": "t-1", "status": "IN_PROGRESS"}}"#,
                (_, 0) => r#"{"errors": [{"message": "busy"}]}"#,
                (_, 1) => "<html>busy</html>",
                _ => "",
            };
            answer(*status, retry_after.as_deref(), body)
        });
        prop_assert!(run.sends.len() as u32 <= max_requests);
        prop_assert!(run.end <= timeout, "ended at {:?}, limit {:?}", run.end, timeout);
        for pair in run.sends.windows(2) {
            prop_assert!(pair[1] - pair[0] >= floor, "requests {:?} apart", pair[1] - pair[0]);
        }
        // A Retry-After on a retried status was waited out whenever a next
        // request came: read here as seconds or an HTTP date by httpdate,
        // not by the client's parser.
        for (n, pair) in run.sends.windows(2).enumerate() {
            let (status, retry_after, _) = &answers[n % answers.len()];
            let asked = retry_after.as_deref().and_then(|v| match v.parse::<u64>() {
                Ok(seconds) => Some(Duration::from_secs(seconds)),
                Err(_) => httpdate::parse_http_date(v)
                    .ok()
                    .map(|at| at.duration_since(wall + pair[0]).unwrap_or_default()),
            });
            if let (true, Some(asked)) = (*status != 200, asked) {
                prop_assert!(pair[1] - pair[0] >= asked,
                    "asked to wait {:?}, sent again after {:?}", asked, pair[1] - pair[0]);
            }
        }
        let error = run.result.expect_err("no answer ever ends the task");
        if let Some(retry_after) = error.retry_after() {
            // Ended early only because the server asked for more time than
            // was left.
            let asked = retry_after.delay_from(wall + run.end);
            prop_assert!(run.end.saturating_add(asked.max(floor)) > timeout || error.is_task_timeout(),
                "gave up at {:?} on a Retry-After of {:?} with {:?} left", run.end, asked, timeout - run.end);
        }
    }

    /// A call's retry never goes out sooner than the policy's floor, whatever
    /// the jitter draws or the server's `Retry-After` says.
    #[test]
    fn a_calls_retry_waits_at_least_the_floor(
        retry_after in retry_after_value(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)),
        status in prop_oneof![Just(429u16), Just(502), Just(503), Just(504)],
        random in 0.0f64..1.0,
        number in 1u32..4,
        floor_ms in 0u64..200,
    ) {
        let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let floor = Duration::from_millis(floor_ms);
        let policy = RetryPolicy::default().with_min_delay(floor);
        let mut headers = HeaderMap::new();
        if let Some(value) = retry_after.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
            headers.insert("retry-after", value);
        }
        let outcome = Outcome::Response { status: StatusCode::from_u16(status).unwrap(), headers: &headers };
        let attempt = Attempt::new(number, Duration::ZERO, wall, random);
        let decision = policy.decide(&Method::GET, outcome, attempt);
        if let RetryDecision::RetryAfter(wait) = decision {
            prop_assert!(wait >= floor, "{wait:?} < {floor:?}");
        } else {
            // Only a server asking for more than the cap stops a call that
            // has attempts and time left.
            prop_assert_eq!(decision, RetryDecision::Stop);
            let asked = crate::wire::response::retry_after(&headers).map(|r| r.delay_from(wall));
            prop_assert!(asked.is_some_and(|a| a > policy.max_delay), "stopped on {:?}", retry_after);
        }
    }
}

#[test]
fn the_default_call_floor_is_50_ms_and_zero_only_when_asked() {
    let wall = SystemTime::now();
    let mut headers = HeaderMap::new();
    headers.insert("retry-after", HeaderValue::from_static("0"));
    let outcome = Outcome::Response {
        status: StatusCode::SERVICE_UNAVAILABLE,
        headers: &headers,
    };
    let attempt = Attempt::new(1, Duration::ZERO, wall, 0.0);
    let decide = |policy: RetryPolicy| policy.decide(&Method::GET, outcome, attempt);
    assert_eq!(
        decide(RetryPolicy::default()),
        RetryDecision::RetryAfter(Duration::from_millis(50))
    );
    assert_eq!(
        decide(RetryPolicy::default().with_min_delay(Duration::ZERO)),
        RetryDecision::RetryAfter(Duration::ZERO)
    );
}

fn deletion(status: u16, body: &str) -> Response<Vec<u8>> {
    Response::builder()
        .status(status)
        .body(body.as_bytes().to_vec())
        .unwrap()
}

#[test]
fn a_delete_answered_without_a_task_is_done() {
    for (status, body) in [(204, ""), (202, ""), (200, ""), (202, " \r\n")] {
        let task = decode_deletion(deletion(status, body)).expect("a finished delete");
        assert_eq!(task.status, TaskStatus::Success, "{status}");
        assert!(task.id.is_none(), "{status}");
        // Waiting for it needs no request at all.
        let mut poller = TaskPoller::new(
            endpoint().address(),
            task,
            PollPolicy::default(),
            Instant::now(),
        )
        .unwrap();
        match poller.poll(Instant::now()) {
            Next::Done(Ok(task)) => assert_eq!(task.status, TaskStatus::Success),
            other => panic!("{status}: expected the wait to be over, got {other:?}"),
        }
        assert_eq!(poller.requests(), 0);
    }
    // A task document is still read as one, in either shape.
    let task = decode_deletion(deletion(
        202,
        r#"{"taskId": "t-5", "taskStatus": "PENDING"}"#,
    ))
    .unwrap();
    assert_eq!(task.id.as_str(), "t-5");
    assert!(!task.id.is_none());
    // And an error is still an error.
    let error = decode_deletion(deletion(404, "")).unwrap_err();
    assert!(error.is_not_found());
}

#[test]
fn an_error_without_an_api_body_names_its_status_once() {
    let response = Response::builder()
        .status(503)
        .body(b"<html>Service Unavailable</html>".to_vec())
        .unwrap();
    let error = crate::decode_image_list(response).unwrap_err();
    let text = error.to_string();
    assert!(text.starts_with("HTTP 503 Service Unavailable: "), "{text}");
    // The status line once; the body excerpt (which says it again) apart.
    let before_body = text.split("; body:").next().unwrap();
    assert_eq!(
        before_body.matches("Service Unavailable").count(),
        1,
        "{text}"
    );

    let empty = Response::builder().status(502).body(Vec::new()).unwrap();
    let text = crate::decode_image_list(empty).unwrap_err().to_string();
    assert_eq!(text, "HTTP 502 Bad Gateway: no response body");
}

#[test]
fn a_task_wait_reports_its_retries_and_when_it_polls_next() {
    use crate::{Event, Next, Operation};
    let task = Task::new("t-1".parse().unwrap(), TaskStatus::Pending);
    let policy = PollPolicy::default().with_initial_interval(Duration::from_secs(2));
    let mut op = endpoint().wait_for_task(task, policy);
    let answers = [
        answer(503, Some("0"), ""),
        task_answer("t-1", "RUNNING"),
        task_answer("t-1", "SUCCESS"),
    ];
    let start = Instant::now();
    let mut now = start;
    let mut answers = answers.into_iter();
    let mut events = Vec::new();
    let result = loop {
        match op.poll(now) {
            Next::Send(_) => op.handle(answers.next().unwrap(), now, SystemTime::now(), 0.5),
            Next::WaitUntil(at) => now = at,
            Next::Done(result) => break result,
        }
        while let Some(event) = op.poll_event() {
            events.push(event);
        }
    };
    assert!(result.is_ok(), "{result:?}");
    let retries: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Retrying { reason, wait, .. } => Some((reason, *wait)),
            _ => None,
        })
        .collect();
    assert_eq!(retries.len(), 1, "{events:#?}");
    assert!(retries[0].0.contains("503"), "{:?}", retries[0]);
    // The server said 0 s; the wait's floor is its first interval.
    assert_eq!(retries[0].1, Duration::from_secs(2));
    let next_polls: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::TaskPolled { next_poll, .. } => Some(*next_poll),
            _ => None,
        })
        .collect();
    assert_eq!(
        next_polls,
        [
            Some(Duration::from_secs(2)),
            Some(Duration::from_secs(2)),
            None
        ],
        "{events:#?}"
    );
}

/// A server that echoes the key into a task's status and result: what the
/// wait passes on (progress, events, the result) never holds it, nor does
/// the task a create returns.
#[test]
fn a_task_echoing_the_key_is_passed_on_redacted() {
    use crate::{CreateImage, Next, Operation};
    const KEY: &str = "canary-SECRET-4242";
    let echo = |status: &str| {
        answer(
            200,
            None,
            &format!(
                r#"{{"data": {{"id": "t-1", "status": "{status}", "result": {{"note": "{KEY}", "k": ["{KEY}"]}}}}}}"#
            ),
        )
    };
    let mut create = endpoint()
        .create_image(&CreateImage::new("f", "t", "w", "i"))
        .unwrap();
    let Next::Send(_) = create.poll(Instant::now()) else {
        panic!("the create sends first")
    };
    create.handle(
        answer(
            200,
            None,
            &format!(r#"{{"taskId": "t-1", "taskStatus": "QUEUED {KEY}", "result": "{KEY}"}}"#),
        ),
        Instant::now(),
        SystemTime::now(),
        0.5,
    );
    let Next::Done(Ok(started)) = create.poll(Instant::now()) else {
        panic!("the create succeeds")
    };
    assert!(!format!("{started:?}").contains(KEY), "{started:?}");

    let mut op = endpoint().wait_for_task(started, PollPolicy::default());
    let mut answers = [echo(&format!("RUNNING {KEY}")), echo("SUCCESS")].into_iter();
    let mut now = Instant::now();
    let mut seen = String::new();
    let result = loop {
        match op.poll(now) {
            Next::Send(_) => op.handle(answers.next().unwrap(), now, SystemTime::now(), 0.5),
            Next::WaitUntil(at) => now = at,
            Next::Done(result) => break result,
        }
        while let Some(event) = op.poll_event() {
            seen.push_str(&format!("{event:?}\n"));
        }
    };
    let task = result.expect("the task succeeds");
    assert!(!format!("{task:?}").contains(KEY), "{task:?}");
    assert!(
        seen.contains("<redacted>"),
        "the echo reached the events: {seen}"
    );
    assert!(!seen.contains(KEY), "{seen}");
}
