//! Stopping an operation's events ([`Quiet`]) changes nothing but the
//! events: the same requests at the same instants, the same result, and no
//! event at all. Each script makes the operation report every kind of
//! event it has, so that a run with events shows them and the quiet run can
//! be seen to build none.

use std::time::{Duration, Instant, SystemTime};

use crate::machine::operation::Quiet;
use crate::machine::poller_tests::{Answer, endpoint, json, pending, top};
use crate::{Event, ImageId, ListOptions, Next, PollPolicy, TransportError, TransportErrorKind};

fn unavailable() -> Answer {
    json(503, "busy")
}

fn timed_out() -> Answer {
    Err(TransportError::new(
        TransportErrorKind::Timeout,
        "no answer",
    ))
}

fn image(n: u32) -> String {
    format!(
        r#"{{"id": "s/f/v{n}", "slug": "x", "createdAt": "2020-11-10T20:34:0{n}Z", "reference": "x/f:v{n}", "status": "READY"}}"#
    )
}

/// Page `page` of a listing of four images, two a page.
fn page(page: u32) -> Answer {
    let first = 2 * page - 1;
    json(
        200,
        &format!(
            r#"{{"data": [{}, {}], "metadata": {{"recordCount": 4, "pageSize": 2, "pageCurrent": {page}}}}}"#,
            image(first),
            image(first + 1)
        ),
    )
}

/// What one run of an operation did: each request (method, URI, the
/// instant it went), the result, and the events it reported.
struct Run {
    sent: Vec<(String, Duration)>,
    result: String,
    events: Vec<Event>,
}

/// Drives `op` on a virtual clock, answering its requests from `answers`
/// in order; with `quiet`, its events are stopped before the first poll,
/// as a facade does when nobody reads them.
fn run<O: Quiet>(mut op: O, quiet: bool, answers: Vec<Answer>) -> Run
where
    O::Output: std::fmt::Debug,
{
    if quiet {
        op.stop_events();
    }
    let start = Instant::now();
    let mut now = start;
    let mut answers = answers.into_iter();
    let (mut sent, mut events) = (Vec::new(), Vec::new());
    loop {
        let next = op.poll(now);
        events.extend(std::iter::from_fn(|| op.poll_event()));
        match next {
            Next::Send(request) => {
                sent.push((
                    format!("{} {}", request.method(), request.uri()),
                    now - start,
                ));
                let answer = answers.next().expect("the script ran out of answers");
                now += Duration::from_millis(10);
                op.handle(answer, now, SystemTime::UNIX_EPOCH, 0.5);
                events.extend(std::iter::from_fn(|| op.poll_event()));
            }
            Next::WaitUntil(at) => now = at,
            Next::Done(result) => {
                assert!(answers.next().is_none(), "the script has answers left");
                return Run {
                    sent,
                    result: format!("{result:?}"),
                    events,
                };
            }
        }
    }
}

/// The kinds of `events`, in order.
fn kinds(events: &[Event]) -> Vec<&'static str> {
    events
        .iter()
        .map(|event| match event {
            Event::Answered { .. } => "answered",
            Event::Retrying { .. } => "retrying",
            Event::Page { .. } => "page",
            Event::TaskPolled { .. } => "task polled",
        })
        .collect()
}

/// Runs `make()` with and without events over the same answers; checks
/// that the two runs differ only in their events, that the one with events
/// reported `expected`, and that the quiet one reported none.
fn same_but_silent<O: Quiet>(
    make: impl Fn() -> O,
    answers: impl Fn() -> Vec<Answer>,
    expected: &[&str],
) where
    O::Output: std::fmt::Debug,
{
    let heard = run(make(), false, answers());
    let quiet = run(make(), true, answers());
    assert_eq!(kinds(&heard.events), expected);
    assert_eq!(kinds(&quiet.events), Vec::<&str>::new());
    assert_eq!(quiet.sent, heard.sent);
    assert_eq!(quiet.result, heard.result);
}

#[test]
fn a_quiet_call_sends_and_ends_the_same_without_events() {
    let id: ImageId = "s/f/v1".parse().unwrap();
    same_but_silent(
        || endpoint().get_image(&id).unwrap(),
        || {
            vec![
                unavailable(),
                timed_out(),
                json(200, &format!(r#"{{"data": {}}}"#, image(1))),
            ]
        },
        &["answered", "retrying", "answered", "retrying", "answered"],
    );
}

#[test]
fn a_quiet_listing_stays_quiet_on_every_page() {
    // Page 2 is a new call made after page 1: it must be quiet too.
    let script = || vec![page(1), unavailable(), page(2)];
    let expected = [
        "answered", "page", "answered", "retrying", "answered", "page",
    ];
    same_but_silent(
        || endpoint().list_images(&ListOptions::new()).unwrap(),
        script,
        &expected,
    );
    same_but_silent(
        || endpoint().resolve(&"x/f:v3".parse().unwrap()).unwrap(),
        script,
        &expected,
    );
}

#[test]
fn a_quiet_task_wait_polls_the_same_without_events() {
    let policy = PollPolicy::default();
    same_but_silent(
        || endpoint().wait_for_task(pending(), policy.clone()),
        || vec![top("PENDING"), unavailable(), top("SUCCESS")],
        &[
            "answered",
            "task polled",
            "answered",
            "retrying",
            "task polled",
            "answered",
            "task polled",
        ],
    );
}
