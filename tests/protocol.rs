//! The driving protocol's misuse, answered the same way by every operation
//! (the table in `Operation`'s docs): one table, run over all of them.

use std::time::{Instant, SystemTime};

use coxedge_images::{
    ApiKey, CreateImage, Endpoint, ErrorKind, ImageId, ImageReference, ListOptions, Next,
    Operation, PollPolicy, Task, TaskStatus,
};
use http::Response;

fn endpoint() -> Endpoint {
    Endpoint::builder()
        .service("cox")
        .environment("test-area")
        .api_key(ApiKey::new("k").unwrap())
        .build()
        .unwrap()
}

/// Every operation the endpoint hands out, each with an answer that
/// finishes it in one request: the make function returns the operation
/// boxed with its output erased.
fn operations() -> Vec<Row> {
    let e = endpoint();
    let id: ImageId = "s/f/t".parse().unwrap();
    let reference: ImageReference = "cox-edge/f".parse().unwrap();
    let list = r#"{"data": [], "metadata": {"recordCount": 0}}"#;
    // The specification's answer to a get.
    let image = r#"{"data": {"stackId": "s", "id": "s/f/t", "slug": "cox-edge",
        "family": "f", "tag": "t", "createdAt": "2020-11-10T20:34:11.328575Z",
        "description": "test 2", "reference": "cox-edge/f:t", "status": "READY"}}"#;
    let task = r#"{"data": {"id": "t1", "status": "SUCCESS"}}"#;
    let pending = || Task::new("t1".parse().unwrap(), TaskStatus::Pending);
    vec![
        (
            "list_page",
            erase({
                let e = e.clone();
                move || e.list_page(&ListOptions::new()).unwrap()
            }),
            list,
        ),
        (
            "list_images",
            erase({
                let e = e.clone();
                move || e.list_images(&ListOptions::new()).unwrap()
            }),
            list,
        ),
        (
            "resolve",
            erase({
                let (e, r) = (e.clone(), reference.clone());
                move || e.resolve(&r).unwrap()
            }),
            list,
        ),
        (
            "get_image",
            erase({
                let (e, id) = (e.clone(), id.clone());
                move || e.get_image(&id).unwrap()
            }),
            image,
        ),
        (
            "create_image",
            erase({
                let e = e.clone();
                move || {
                    e.create_image(&CreateImage::new("f", "t", "w", "i"))
                        .unwrap()
                }
            }),
            task,
        ),
        (
            "delete_image",
            erase({
                let (e, id) = (e.clone(), id.clone());
                move || e.delete_image(&id).unwrap()
            }),
            task,
        ),
        (
            "get_task",
            erase({
                let e = e.clone();
                move || e.get_task(&"t1".parse().unwrap()).unwrap()
            }),
            task,
        ),
        (
            "wait_for_task",
            erase({
                let e = e.clone();
                move || e.wait_for_task(pending(), PollPolicy::default())
            }),
            task,
        ),
    ]
}

/// One operation: its name, how to make it, and the body that ends it.
type Row = (&'static str, Box<dyn Fn() -> Erased>, &'static str);

/// What the table checks of an answer to `poll`.
#[derive(Debug, PartialEq)]
enum Seen {
    Send,
    Wait,
    Ok,
    Misuse(String),
    OtherError(ErrorKind),
}

/// An operation with its output erased, so one table holds them all.
trait Driven {
    fn poll(&mut self) -> Seen;
    fn answer(&mut self, body: &str);
}

type Erased = Box<dyn Driven>;

impl<O: Operation> Driven for O {
    fn poll(&mut self) -> Seen {
        match Operation::poll(self, Instant::now()) {
            Next::Send(_) => Seen::Send,
            Next::WaitUntil(_) => Seen::Wait,
            Next::Done(Ok(_)) => Seen::Ok,
            Next::Done(Err(e)) if e.kind() == ErrorKind::InvalidRequest => {
                Seen::Misuse(e.to_string())
            }
            Next::Done(Err(e)) => Seen::OtherError(e.kind()),
        }
    }

    fn answer(&mut self, body: &str) {
        let response = Response::new(body.as_bytes().to_vec());
        self.handle(Ok(response), Instant::now(), SystemTime::now(), 0.5);
    }
}

fn erase<O: Operation + 'static>(make: impl Fn() -> O + 'static) -> Box<dyn Fn() -> Erased> {
    Box::new(move || Box::new(make()) as Erased)
}

fn misuse(seen: Seen, name: &str, what: &str) {
    match seen {
        Seen::Misuse(message) => {
            assert!(message.contains(name), "{name}: {message}");
            assert!(message.contains(what), "{name}: {message}");
        }
        other => panic!("{name}: expected a misuse error saying {what:?}, got {other:?}"),
    }
}

#[test]
fn every_operation_answers_misuse_the_same_way() {
    let table = operations();
    assert_eq!(table.len(), 8, "every operation of the endpoint");
    for (name, make, body) in &table {
        // Well driven: one request, then the result, then "finished".
        let mut op = make();
        assert_eq!(op.poll(), Seen::Send, "{name}");
        op.answer(body);
        assert_eq!(op.poll(), Seen::Ok, "{name}");
        misuse(op.poll(), name, "has already finished");
        // An answer after the end is ignored: still finished.
        op.answer(body);
        misuse(op.poll(), name, "has already finished");

        // Polled while its request is out: over, with the error.
        let mut op = make();
        assert_eq!(op.poll(), Seen::Send, "{name}");
        misuse(
            op.poll(),
            name,
            "was polled while its request was still out",
        );
        op.answer(body);
        misuse(op.poll(), name, "has already finished");

        // Handed an answer before any request: the next poll says so.
        let mut op = make();
        op.answer(body);
        misuse(op.poll(), name, "was handed an answer with no request out");
        misuse(op.poll(), name, "has already finished");

        // Handed the same answer twice: the second is the misuse.
        let mut op = make();
        assert_eq!(op.poll(), Seen::Send, "{name}");
        op.answer(body);
        op.answer(body);
        misuse(op.poll(), name, "was handed an answer with no request out");
    }
}
