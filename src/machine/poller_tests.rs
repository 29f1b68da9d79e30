//! The task poller on virtual time, and the task requests and decoding.

use std::time::{Duration, Instant, SystemTime};

use crate::machine::operation::Next;
use crate::machine::poller::TaskPoller;
use crate::{
    ApiKey, CreateImage, Endpoint, ErrorKind, PollPolicy, Task, TaskId, TaskStatus, TransportError,
    TransportErrorKind, decode_task,
};
use http::{Method, Response};
use proptest::prelude::*;

pub(super) fn endpoint() -> Endpoint {
    Endpoint::builder()
        .base_url("https://h.example/api/v2")
        .service("edge-services")
        .environment("env")
        .org_id("o1")
        .api_key(ApiKey::new("canary-key").unwrap())
        .build()
        .unwrap()
}

pub(super) fn pending() -> Task {
    Task::new("t-1".parse().unwrap(), TaskStatus::Pending)
}

pub(super) type Answer = Result<Response<Vec<u8>>, TransportError>;

pub(super) fn json(status: u16, body: &str) -> Answer {
    Ok(Response::builder()
        .status(status)
        .body(body.as_bytes().to_vec())
        .unwrap())
}

pub(super) fn top(status: &str) -> Answer {
    json(
        200,
        &format!(r#"{{"taskId": "t-1", "taskStatus": "{status}", "result": "r"}}"#),
    )
}

fn data(status: &str) -> Answer {
    json(
        200,
        &format!(
            r#"{{"data": {{"id": "t-1", "status": "{status}", "created": "2024-01-01T00:00:00Z", "result": {{"message": "why"}}}}}}"#
        ),
    )
}

struct Run {
    result: Result<Task, crate::Error>,
    sends: Vec<Duration>,
    end: Duration,
}

/// Drives a poller on a virtual clock, answering each request from `answers`
/// (the last answer repeats).
fn run(policy: PollPolicy, answers: Vec<Answer>) -> Run {
    let start = Instant::now();
    let mut now = start;
    let mut poller = TaskPoller::new(endpoint().address(), pending(), policy, now).unwrap();
    let mut answers = answers.into_iter();
    let mut last: Option<(u16, String)> = None;
    let mut sends = Vec::new();
    loop {
        match poller.poll(now) {
            Next::Send(request) => {
                assert_eq!(request.method(), Method::GET);
                assert_eq!(
                    request.uri(),
                    "https://h.example/api/v2/tasks/t-1?org_id=o1"
                );
                sends.push(now - start);
                let answer = match answers.next() {
                    Some(Ok(r)) => {
                        last = Some((
                            r.status().as_u16(),
                            String::from_utf8(r.body().clone()).unwrap(),
                        ));
                        Ok(r)
                    }
                    Some(Err(e)) => {
                        last = None;
                        Err(e)
                    }
                    None => match &last {
                        Some((status, body)) => json(*status, body),
                        // The script ended on a transport failure: repeat it.
                        None => Err(TransportError::new(TransportErrorKind::Timeout, "t")),
                    },
                };
                poller.handle_response(answer, now, SystemTime::now(), 0.5);
            }
            Next::WaitUntil(at) => {
                assert!(at > now, "asked to wait for a past instant");
                now = at;
            }
            Next::Done(result) => {
                return Run {
                    result,
                    sends,
                    end: now - start,
                };
            }
        }
    }
}

#[test]
fn success_in_both_shapes() {
    for shape in [top, data] {
        let r = run(
            PollPolicy::default(),
            vec![shape("PENDING"), shape("pending"), shape("SUCCESS")],
        );
        let task = r.result.unwrap();
        assert_eq!(task.status, TaskStatus::Success);
        assert_eq!(r.sends.len(), 3);
        // First poll at once, then 1 s, then 1.5 s later.
        assert_eq!(
            r.sends,
            [
                Duration::ZERO,
                Duration::from_secs(1),
                Duration::from_millis(2500)
            ]
        );
    }
}

#[test]
fn failure_in_both_spellings_carries_the_reason() {
    for (answer, reason) in [(top("FAILED"), "r"), (data("failure"), "why")] {
        let r = run(PollPolicy::default(), vec![answer]);
        let err = r.result.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TaskFailed);
        assert!(err.to_string().contains(reason), "{err}");
    }
}

#[test]
fn times_out_with_a_typed_error() {
    let policy = PollPolicy::default().with_timeout(Duration::from_secs(30));
    let r = run(policy, vec![top("PENDING")]);
    let err = r.result.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TaskTimeout);
    assert!(err.is_task_timeout() && !err.is_timeout());
    assert!(err.to_string().contains("last status PENDING"), "{err}");
    assert_eq!(r.end, Duration::from_secs(30));
    // 1, 1.5, 2.25, 3.375, then 5 s each: about 9 polls in 30 s.
    assert!((8..=10).contains(&r.sends.len()), "{}", r.sends.len());
}

#[test]
fn transient_errors_do_not_end_the_wait() {
    let r = run(
        PollPolicy::default(),
        vec![
            top("PENDING"),
            json(503, "busy"),
            json(500, "<html>oops</html>"),
            Err(TransportError::new(TransportErrorKind::Io, "reset")),
            json(429, r#"{"errors":[{"message":"slow"}]}"#),
            top("SUCCESS"),
        ],
    );
    assert_eq!(r.result.unwrap().status, TaskStatus::Success);
    assert_eq!(r.sends.len(), 6);
}

#[test]
fn not_found_ends_the_wait_at_once() {
    let r = run(
        PollPolicy::default(),
        vec![
            top("PENDING"),
            json(404, r#"{"errors":[{"code":404,"message":"gone"}]}"#),
        ],
    );
    let err = r.result.unwrap_err();
    assert!(err.is_not_found());
    assert!(err.to_string().contains("t-1 was not found"), "{err}");
    assert_eq!(r.sends.len(), 2);
}

#[test]
fn unknown_statuses_keep_waiting() {
    let r = run(
        PollPolicy::default(),
        vec![top("RUNNING"), top("QUEUED"), top("SUCCESS")],
    );
    assert_eq!(r.result.unwrap().status, TaskStatus::Success);
}

#[test]
fn a_finished_task_needs_no_request() {
    let mut poller = TaskPoller::new(
        endpoint().address(),
        Task::new("t-9".parse().unwrap(), TaskStatus::Success),
        PollPolicy::default(),
        Instant::now(),
    )
    .unwrap();
    assert!(matches!(poller.poll(Instant::now()), Next::Done(Ok(_))));
    assert_eq!(poller.requests(), 0);
}

#[test]
fn task_decoding_tolerates_both_shapes_and_reports_missing_fields() {
    let t =
        decode_task(json(200, r#"{"taskId": "1f64", "taskStatus": "PENDING"}"#).unwrap()).unwrap();
    assert_eq!((t.id.as_str(), &t.status), ("1f64", &TaskStatus::Pending));
    let t = decode_task(
        json(
            202,
            r#"{"data": {"id": "ef70", "status": "Failure", "result": null}}"#,
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(t.status, TaskStatus::Failed("Failure".into()));
    let err = decode_task(json(200, r#"{"taskStatus": "PENDING"}"#).unwrap()).unwrap_err();
    assert!(err.to_string().contains("missing field `taskId`"), "{err}");
    let err =
        decode_task(json(400, r#"{"errors":[{"code":400,"message":"bad family"}]}"#).unwrap())
            .unwrap_err();
    assert_eq!(err.api_messages().collect::<Vec<_>>(), ["bad family"]);
}

#[test]
fn create_delete_and_task_requests() {
    let e = endpoint();
    let create = CreateImage::new("ubuntu", "v2", "w-1", "inst-0").with_description("mine");
    let r = e.create_image_request(&create).unwrap();
    assert_eq!(r.method(), Method::POST);
    assert_eq!(
        r.uri(),
        "https://h.example/api/v2/services/edge-services/env/images?org_id=o1"
    );
    assert_eq!(r.headers()["content-type"], "application/json");
    let body: serde_json::Value = serde_json::from_slice(r.body()).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"family": "ubuntu", "tag": "v2", "workloadId": "w-1", "instanceName": "inst-0", "description": "mine"})
    );
    let r = e
        .delete_image_request(&"s/ubuntu/v2".parse().unwrap())
        .unwrap();
    assert_eq!(r.method(), Method::DELETE);
    assert_eq!(
        r.uri(),
        "https://h.example/api/v2/services/edge-services/env/images/s/ubuntu/v2?org_id=o1"
    );
    let id: TaskId = "a b/../c".replace('/', "_").parse().unwrap();
    let r = e.get_task_request(&id).unwrap();
    assert_eq!(
        r.uri(),
        "https://h.example/api/v2/tasks/a%20b_.._c?org_id=o1"
    );
    assert!("a/b".parse::<TaskId>().is_err());
}

#[test]
fn invalid_create_requests_are_refused_before_sending() {
    let e = endpoint();
    for (create, what) in [
        (CreateImage::new("", "v1", "w", "i"), "family is empty"),
        (
            CreateImage::new("a/b", "v1", "w", "i"),
            "family contains '/'",
        ),
        (CreateImage::new("f", "", "w", "i"), "tag is empty"),
        (CreateImage::new("f", "x/y", "w", "i"), "tag contains '/'"),
        (CreateImage::new("f", "t", " ", "i"), "workload id is empty"),
        (
            CreateImage::new("f", "t", "w", ""),
            "instance name is empty",
        ),
    ] {
        let err = e.create_image_request(&create).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest);
        assert!(!err.may_have_reached_server());
        assert!(err.to_string().contains(what), "{err}");
    }
}

/// One scripted answer, cloneable for proptest.
#[derive(Debug, Clone)]
enum Script {
    Top(&'static str),
    Data(&'static str),
    Status(u16),
    Timeout,
    NotJson,
}

impl Script {
    fn answer(&self) -> Answer {
        match self {
            Script::Top(s) => top(s),
            Script::Data(s) => data(s),
            Script::Status(code) => json(*code, "{}"),
            Script::Timeout => Err(TransportError::new(TransportErrorKind::Timeout, "t")),
            Script::NotJson => json(200, "not json"),
        }
    }

    fn says_success(&self) -> bool {
        matches!(self, Script::Top(s) | Script::Data(s) if s.eq_ignore_ascii_case("SUCCESS"))
    }
}

fn script() -> impl Strategy<Value = Script> {
    let status = proptest::sample::select(vec![
        "PENDING", "pending", "RUNNING", "SUCCESS", "success", "FAILED", "FAILURE", "",
    ]);
    prop_oneof![
        2 => status.clone().prop_map(Script::Top),
        2 => status.prop_map(Script::Data),
        1 => proptest::sample::select(vec![404u16, 429, 500, 503, 400, 302]).prop_map(Script::Status),
        1 => Just(Script::Timeout),
        1 => Just(Script::NotJson),
    ]
}

proptest! {
    #[test]
    fn poller_always_ends_within_its_limits(
        script in proptest::collection::vec(script(), 1..30),
        max_requests in 1u32..50,
        timeout_s in 1u64..120,
    ) {
        let policy = PollPolicy::default()
            .with_max_requests(max_requests)
            .with_timeout(Duration::from_secs(timeout_s));
        let r = run(policy.clone(), script.iter().map(Script::answer).collect());
        prop_assert!(r.sends.len() as u32 <= max_requests);
        prop_assert!(r.end <= policy.timeout);
        // Success only when the answer to the last request said SUCCESS.
        if r.result.is_ok() {
            let last = (r.sends.len() - 1).min(script.len() - 1);
            prop_assert!(script[last].says_success(), "success without a SUCCESS status");
        }
        // After a successful non-terminal poll, the next one waits at least
        // the first interval.
        for (i, pair) in r.sends.windows(2).enumerate() {
            let pending = matches!(script.get(i), Some(Script::Top(s) | Script::Data(s)) if !s.eq_ignore_ascii_case("SUCCESS") && !s.to_ascii_uppercase().starts_with("FAIL"));
            if pending {
                prop_assert!(pair[1] - pair[0] >= policy.initial_interval);
            }
        }
    }
}

#[test]
fn huge_policies_do_not_overflow_the_clock() {
    let policy = PollPolicy::default()
        .with_timeout(Duration::MAX)
        .with_initial_interval(Duration::MAX)
        .with_max_interval(Duration::MAX)
        .with_max_requests(2);
    let start = Instant::now();
    let mut poller = TaskPoller::new(endpoint().address(), pending(), policy, start).unwrap();
    assert!(matches!(poller.poll(start), Next::Send(_)));
    poller.handle_response(top("PENDING"), start, SystemTime::now(), 0.5);
    match poller.poll(start) {
        Next::WaitUntil(at) => assert!(at > start + Duration::from_secs(86_400)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_request_limit_is_named_as_such() {
    let policy = PollPolicy::default().with_max_requests(3);
    let r = run(policy, vec![top("PENDING")]);
    let err = r.result.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TaskTimeout);
    assert!(err.to_string().contains("limit of 3 requests"), "{err}");
    assert_eq!(r.sends.len(), 3);
}

#[test]
fn a_vanished_task_keeps_the_servers_answer() {
    let r = run(
        PollPolicy::default(),
        vec![json(404, "<html>proxy says no</html>")],
    );
    let err = r.result.unwrap_err();
    assert!(err.is_not_found());
    assert_eq!(err.kind(), ErrorKind::Http);
    assert_eq!(err.body(), Some(&b"<html>proxy says no</html>"[..]));
    assert!(err.to_string().contains("may have expired"), "{err}");
}

#[test]
fn an_errors_document_on_a_2xx_task_is_the_apis_error() {
    for body in [
        r#"{"errors":[{"message":"quota"}],"taskId":"t1","taskStatus":"PENDING"}"#,
        r#"{"errors":[{"message":"quota"}]}"#,
    ] {
        let err = decode_task(json(200, body).unwrap()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Api, "{body}");
        assert_eq!(err.api_messages().collect::<Vec<_>>(), ["quota"]);
    }
}

#[test]
fn statuses_compare_as_the_api_means_them() {
    use crate::ImageStatus;
    assert_eq!(TaskStatus::from("FAILED"), TaskStatus::from("failure"));
    assert!(TaskStatus::from("Failure").is_failed());
    assert_eq!(TaskStatus::from("queued"), TaskStatus::from("QUEUED"));
    assert_ne!(TaskStatus::from("QUEUED"), TaskStatus::Pending);
    assert_eq!(
        ImageStatus::from("deprecated"),
        ImageStatus::from("DEPRECATED")
    );
    assert_eq!(ImageStatus::from("deprecated").as_str(), "deprecated");
    let set: std::collections::HashSet<_> = [
        ImageStatus::from("x"),
        ImageStatus::from("X"),
        ImageStatus::Ready,
    ]
    .into();
    assert_eq!(set.len(), 2);
}
