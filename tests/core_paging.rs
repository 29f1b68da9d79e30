//! Listing every page against servers that page well and servers that do
//! not: the listing always stops, soon, and never returns an id twice.
//!
//! The servers here are closures that read `page_number`/`page_size` from
//! the query and answer from a fixed universe of images; the oracles count
//! the requests and the ids the server sent, independently of the client.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use coxedge_images::{
    ApiKey, Endpoint, ErrorKind, Event, ImageList, ImageReference, ListAll, ListOptions, Next,
    Operation,
};
use coxedge_images::{Client, Transport};
use http::{Request, Response};
use proptest::prelude::*;
use serde_json::json;

fn endpoint() -> Endpoint {
    Endpoint::builder()
        .service("cox")
        .environment("test-area")
        .api_key(ApiKey::new("paging-key").unwrap())
        .build()
        .unwrap()
}

/// The wire form of image `v{n}` of family `f`.
fn image(n: u64) -> serde_json::Value {
    json!({
        "id": format!("s/f/v{n}"),
        "slug": "x",
        "createdAt": format!("2020-11-10T20:34:{:02}Z", n % 60),
        "reference": format!("x/f:v{n}"),
        "status": "READY",
    })
}

/// `page_number` and `page_size` of a request (page 1 and no size when
/// absent).
fn asked(request: &Request<Vec<u8>>) -> (u64, Option<u64>) {
    let query = request.uri().query().unwrap_or("");
    let value = |name: &str| {
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.parse::<u64>().ok())
    };
    (value("page_number").unwrap_or(1), value("page_size"))
}

/// What a scripted server was asked and what it sent.
#[derive(Default)]
struct Log {
    requests: u64,
    /// The ids of each answer, in order.
    sent: Vec<Vec<u64>>,
}

type Shared = Arc<Mutex<Log>>;
type Server = Box<dyn Fn(&Request<Vec<u8>>) -> (Vec<u64>, serde_json::Value) + Send + Sync>;

/// A blocking client over `server`, which answers a request with the image
/// numbers to send and the metadata; every request is logged.
fn serve(server: Server) -> (Shared, Client<impl Transport>) {
    let log: Shared = Arc::default();
    let seen = log.clone();
    let transport = move |request: Request<Vec<u8>>| {
        let (ids, metadata) = server(&request);
        let mut log = seen.lock().unwrap();
        log.requests += 1;
        assert!(log.requests < 20_000, "runaway listing");
        log.sent.push(ids.clone());
        let body = json!({
            "data": ids.iter().map(|n| image(*n)).collect::<Vec<_>>(),
            "metadata": metadata,
        });
        Ok(Response::new(serde_json::to_vec(&body).unwrap()))
    };
    (log, Client::new(endpoint(), transport))
}

fn ids(list: &ImageList) -> Vec<String> {
    list.images.iter().map(|i| i.id.to_string()).collect()
}

#[test]
fn a_server_stuck_on_page_one_with_a_huge_count_is_left_at_once() {
    // The same image every time, and a new one every time.
    for fresh in [false, true] {
        let counter = Arc::new(Mutex::new(0u64));
        let (log, client) = serve(Box::new(move |_| {
            let mut n = counter.lock().unwrap();
            *n += 1;
            let id = if fresh { *n } else { 0 };
            (
                vec![id],
                json!({"recordCount": 1_000_000_000u64, "pageCurrent": 1}),
            )
        }));
        let err = client.list_images(&ListOptions::new()).unwrap_err();
        let requests = log.lock().unwrap().requests;
        // The second page does not move the server's page: stop there.
        assert_eq!(requests, 2, "fresh images: {fresh}");
        assert_eq!(err.kind(), ErrorKind::Paging, "{err}");
        assert!(err.is_paging());
        assert_eq!(
            err.images_gathered(),
            Some(requests as usize - usize::from(!fresh))
        );
        assert!(err.to_string().contains("1000000000"), "{err}");
    }
}

#[test]
fn the_image_bound_holds_against_a_server_that_never_runs_out() {
    // 10 000 new images a page, a billion claimed: the client stops at its
    // own bound with a typed error, having asked for exactly enough pages.
    let counter = Arc::new(Mutex::new(0u64));
    let (log, client) = serve(Box::new(move |_| {
        let mut n = counter.lock().unwrap();
        let first = *n;
        *n += 10_000;
        (
            (first..first + 10_000).collect(),
            json!({"recordCount": 1_000_000_000u64}),
        )
    }));
    let err = client.list_images(&ListOptions::new()).unwrap_err();
    assert!(err.is_paging(), "{err}");
    assert_eq!(err.images_gathered(), Some(ListAll::MAX_IMAGES));
    assert_eq!(
        log.lock().unwrap().requests,
        (ListAll::MAX_IMAGES / 10_000) as u64
    );
}

#[test]
fn a_server_that_ignores_paging_gives_no_duplicates() {
    // Always the same three images, claiming one more than it sends.
    let (log, client) = serve(Box::new(|_| (vec![1, 2, 3], json!({"recordCount": 4}))));
    // The second page brings nothing new: a typed error, not a list that
    // looks complete.
    let e = client.list_images(&ListOptions::new()).unwrap_err();
    assert_eq!(log.lock().unwrap().requests, 2);
    assert!(e.is_paging(), "{e}");
    assert_eq!(e.images_gathered(), Some(3));
    // The same within one page.
    let (_, client) = serve(Box::new(|_| (vec![1, 1, 2], json!({"recordCount": 2}))));
    let list = client.list_images(&ListOptions::new()).unwrap();
    assert_eq!(ids(&list), ["s/f/v1", "s/f/v2"]);
}

#[test]
fn an_honest_server_is_followed_to_the_end_in_order() {
    let total = 7u64;
    let (log, client) = serve(Box::new(move |request| {
        let (page, size) = asked(request);
        let size = size.unwrap_or(2);
        let ids = ((page - 1) * size..(page * size).min(total)).collect();
        (
            ids,
            json!({"recordCount": total, "pageSize": size, "pageCurrent": page}),
        )
    }));
    let list = client.list_images(&ListOptions::new()).unwrap();
    let expected: Vec<String> = (0..total).map(|n| format!("s/f/v{n}")).collect();
    assert_eq!(ids(&list), expected);
    assert_eq!(log.lock().unwrap().requests, 4);
    assert_eq!(list.metadata.page_current, Some(1));

    // Resolve is the same listing, then a selection.
    let reference: ImageReference = "x/f".parse().unwrap();
    let picked = client.resolve(&reference).unwrap().unwrap();
    assert_eq!(picked.id.as_str(), "s/f/v6");
}

#[test]
fn a_page_size_of_zero_is_read_as_unknown() {
    // The server pages by 2 but says `pageSize: 0`: the client keeps asking
    // for pages of the first page's length, as for a server that says
    // nothing of its size.
    let total = 5u64;
    let (log, client) = serve(Box::new(move |request| {
        let (page, size) = asked(request);
        let size = size.unwrap_or(2);
        let ids = ((page - 1) * size..(page * size).min(total)).collect();
        (ids, json!({"recordCount": total, "pageSize": 0}))
    }));
    let list = client.list_images(&ListOptions::new()).unwrap();
    assert_eq!(list.images.len(), 5);
    assert_eq!(log.lock().unwrap().requests, 3);
}

#[test]
fn an_endless_honest_looking_server_stops_at_the_page_cap() {
    // Every page is new and moves on, and the count never ends.
    let (log, client) = serve(Box::new(|request| {
        let (page, _) = asked(request);
        (
            vec![page],
            json!({"recordCount": u64::MAX, "pageSize": 1, "pageCurrent": page}),
        )
    }));
    let err = client.list_images(&ListOptions::new()).unwrap_err();
    assert!(err.is_paging(), "{err}");
    assert_eq!(log.lock().unwrap().requests, ListAll::MAX_PAGES);
    assert_eq!(err.images_gathered(), Some(ListAll::MAX_PAGES as usize));
}

#[test]
fn the_operation_runs_by_hand_and_reports_each_page() {
    let endpoint = endpoint();
    let mut op = endpoint
        .list_images(&ListOptions::new().page(1, 2))
        .unwrap();
    let now = Instant::now();
    let mut pages = Vec::new();
    let mut sent = 0;
    let result = loop {
        let next = op.poll(now);
        while let Some(event) = op.poll_event() {
            if let Event::Page {
                page,
                received,
                new,
                gathered,
                ..
            } = event
            {
                pages.push((page, received, new, gathered));
            }
        }
        match next {
            Next::Send(request) => {
                sent += 1;
                let (page, size) = asked(&request);
                assert_eq!((page, size), (sent, Some(2)));
                let ids: Vec<_> = ((page - 1) * 2..(page * 2).min(3)).map(image).collect();
                let body = json!({"data": ids, "metadata": {"recordCount": 3}});
                let response = Response::new(serde_json::to_vec(&body).unwrap());
                op.handle(Ok(response), now, SystemTime::now(), 0.5);
            }
            Next::WaitUntil(_) => panic!("no wait expected"),
            Next::Done(result) => break result,
        }
    };
    assert_eq!(result.unwrap().images.len(), 3);
    assert_eq!(pages, [(1, 2, 2, 2), (2, 1, 1, 3)]);
    assert!(matches!(op.poll(now), Next::Done(Err(_))));
}

/// How a misbehaving server answers one request.
#[derive(Debug, Clone, Copy)]
enum Answer {
    /// The page asked for.
    Honest,
    /// The first page, whatever was asked.
    First,
    /// The page before the one asked for.
    Previous,
    /// Everything, whatever was asked.
    All,
    /// Nothing.
    Empty,
}

/// What a misbehaving server says in `pageCurrent`.
#[derive(Debug, Clone, Copy)]
enum Current {
    Honest,
    Absent,
    One,
}

/// What a misbehaving server says in `recordCount`.
#[derive(Debug, Clone, Copy)]
enum Count {
    Honest,
    Plus(u64),
    Huge,
    Absent,
}

fn answers() -> impl Strategy<Value = Answer> {
    prop_oneof![
        4 => Just(Answer::Honest),
        1 => Just(Answer::First),
        1 => Just(Answer::Previous),
        1 => Just(Answer::All),
        1 => Just(Answer::Empty),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Whatever a server does with pages, the list has no duplicate ids and
    /// only the server's images, the requests are bounded by what the server
    /// can bring (each request but the last brings an image never sent
    /// before), at most 3 requests follow the last one that brought a new
    /// image, and an honest server's list is complete and in order.
    #[test]
    fn listing_ends_without_duplicates_whatever_the_server(
        universe in 0u64..25,
        size in 1u64..6,
        script in proptest::collection::vec(answers(), 1..12),
        current in prop_oneof![Just(Current::Honest), Just(Current::Absent), Just(Current::One)],
        count in prop_oneof![
            Just(Count::Honest),
            (1u64..5).prop_map(Count::Plus),
            Just(Count::Huge),
            Just(Count::Absent),
        ],
        ask_size in any::<bool>(),
    ) {
        let honest = script.iter().all(|a| matches!(a, Answer::Honest))
            && matches!(count, Count::Honest)
            && !matches!(current, Current::One);
        let calls = Arc::new(Mutex::new(0usize));
        let script2 = script.clone();
        let (log, client) = serve(Box::new(move |request| {
            let (page, _) = asked(request);
            let mut n = calls.lock().unwrap();
            let answer = script2[*n % script2.len()];
            *n += 1;
            let range = |p: u64| {
                let start = (p.max(1) - 1) * size;
                (start.min(universe)..(start + size).min(universe)).collect::<Vec<_>>()
            };
            let ids = match answer {
                Answer::Honest => range(page),
                Answer::First => range(1),
                Answer::Previous => range(page - 1),
                Answer::All => (0..universe).collect(),
                Answer::Empty => Vec::new(),
            };
            let mut metadata = serde_json::Map::new();
            metadata.insert("pageSize".into(), json!(size));
            match current {
                Current::Honest => { metadata.insert("pageCurrent".into(), json!(page)); }
                Current::One => { metadata.insert("pageCurrent".into(), json!(1)); }
                Current::Absent => {}
            }
            match count {
                Count::Honest => { metadata.insert("recordCount".into(), json!(universe)); }
                Count::Plus(k) => { metadata.insert("recordCount".into(), json!(universe + k)); }
                Count::Huge => { metadata.insert("recordCount".into(), json!(1_000_000_000u64)); }
                Count::Absent => {}
            }
            (ids, serde_json::Value::Object(metadata))
        }));
        let options = if ask_size { ListOptions::new().page(1, size as u32) } else { ListOptions::new() };
        let result = client.list_images(&options);
        let log = log.lock().unwrap();

        // Requests: each but the last brought an id never sent before.
        let mut sent_before = HashSet::new();
        let mut last_progress = 0;
        for (i, ids) in log.sent.iter().enumerate() {
            if ids.iter().any(|id| !sent_before.contains(id)) {
                last_progress = i + 1;
            }
            sent_before.extend(ids.iter().copied());
        }
        prop_assert!(log.requests <= universe + 1, "{} requests for {} images", log.requests, universe);
        // One request at most after the last one that brought a new id.
        prop_assert!(log.requests as usize - last_progress <= 1);

        match &result {
            Ok(list) => {
                let all = ids(list);
                let distinct: HashSet<_> = all.iter().cloned().collect();
                prop_assert_eq!(distinct.len(), all.len(), "duplicates: {:?}", all);
                for id in &all {
                    let n: u64 = id.trim_start_matches("s/f/v").parse().unwrap();
                    prop_assert!(sent_before.contains(&n));
                }
            }
            Err(e) => prop_assert!(e.is_paging(), "{}", e),
        }
        if honest {
            let list = result.expect("an honest server's list");
            let expected: Vec<String> = (0..universe).map(|n| format!("s/f/v{n}")).collect();
            prop_assert_eq!(ids(&list), expected);
        }
    }
}

#[test]
fn an_empty_page_ends_the_list() {
    let (log, client) = serve(Box::new(|request| {
        let (page, _) = asked(request);
        let ids = if page == 1 { vec![1] } else { vec![] };
        (ids, json!({"recordCount": 2, "pageSize": 1}))
    }));
    // Page 2 is empty while the count says 2: the server says there is no
    // more, so the list ends with what it had.
    let list = client.list_images(&ListOptions::new()).unwrap();
    assert_eq!(ids(&list), ["s/f/v1"]);
    assert_eq!(log.lock().unwrap().requests, 2);
}
