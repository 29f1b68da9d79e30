//! A bounded load test: 10 000 calls, 100 in flight, through ONE hyper
//! `AsyncClient` on a multi-threaded tokio runtime, against the simulator,
//! with faults on 5 % of them and expected typed errors on another 5 %.
//!
//! Every call must end exactly once, in success or the expected typed error;
//! the simulator must have seen exactly one request per call plus one per
//! retry; the connections must be pooled; and the process's resident memory
//! must not grow without bound. The figures are printed (run with
//! `--nocapture` to see them).
#![cfg(feature = "hyper")]

mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use coxedge_images::transports::hyper::{HyperTransport, TokioSleep};
use coxedge_images::{AsyncClient, TransportConfig};
use coxedge_images::{
    Error, ErrorKind, Event, Image, ImageStatus, ListOptions, RetryPolicy, SYSTEM_SLUG,
};
use coxedge_images_simulator::{Fault, FaultAction, Simulator};
use http::{Method, StatusCode};
use support::SEED_STACK_ID;
use support::{IMAGES, multi_thread_runtime, seed_id, simulator};
use tokio::task::JoinSet;

const CALLS: usize = 10_000;
const WINDOW: usize = 100;
/// Calls per chunk; the window drains between chunks, where the figures are
/// taken.
const CHUNK: usize = 1_000;
/// Every 20th call (i % 20 == 0) gets one 503 and is retried to success.
const FAULT_EVERY: usize = 20;
/// Calls with i % 20 == 10 ask for an image that does not exist: 404.
const MISSING_AT: usize = 10;
/// Allowed growth of the resident set between 1 000 and 10 000 calls.
const MAX_RSS_GROWTH_KIB: u64 = 64 * 1024;

type Hyper = AsyncClient<HyperTransport, TokioSleep>;

/// The memory figures are the whole process's: the tests here take turns.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What one call is.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    /// A get whose first answer is a 503: success after one retry.
    Faulted,
    /// A get of an id that does not exist: a typed 404.
    Missing,
    /// A one-page list.
    List,
    /// A get of a seeded image.
    Get,
}

fn kind(i: usize) -> Kind {
    match i % FAULT_EVERY {
        0 => Kind::Faulted,
        MISSING_AT => Kind::Missing,
        n if n % 2 == 1 => Kind::List,
        _ => Kind::Get,
    }
}

/// Fixed width, so no tag is a prefix of another (faults match prefixes).
fn faulted_tag(i: usize) -> String {
    format!("t{i:05}")
}

fn faulted_path(i: usize) -> String {
    format!("{IMAGES}/{SEED_STACK_ID}/load/{}", faulted_tag(i))
}

/// How a call ended, as far as the test cares.
#[derive(Debug, PartialEq)]
enum Ended {
    Ok,
    NotFound,
}

async fn call(client: &Hyper, i: usize) -> Result<Ended, String> {
    let unexpected = |e: Error| format!("call {i} ({:?}): unexpected {e:?}", kind(i));
    match kind(i) {
        Kind::Faulted => {
            let image = client
                .get_image(&seed_id("load", &faulted_tag(i)))
                .await
                .map_err(unexpected)?;
            if image.tag() != faulted_tag(i) {
                return Err(format!("call {i}: got {}", image.id));
            }
            Ok(Ended::Ok)
        }
        Kind::Missing => match client
            .get_image(&seed_id("load", &format!("missing{i:05}")))
            .await
        {
            Err(e) if e.is_not_found() && e.kind() == ErrorKind::Api && e.attempts() == 1 => {
                Ok(Ended::NotFound)
            }
            Err(e) => Err(unexpected(e)),
            Ok(image) => Err(format!("call {i}: a missing image was found: {image:?}")),
        },
        Kind::List => {
            let list = client
                .list_page(&ListOptions::new().page(1, 2))
                .await
                .map_err(unexpected)?;
            if list.images.len() != 2 {
                return Err(format!("call {i}: {} images", list.images.len()));
            }
            Ok(Ended::Ok)
        }
        Kind::Get => {
            let image = client
                .get_image(&seed_id("ubuntu", "v20201110"))
                .await
                .map_err(unexpected)?;
            if image.family() != "ubuntu" {
                return Err(format!("call {i}: got {}", image.id));
            }
            Ok(Ended::Ok)
        }
    }
}

/// `VmRSS` and `VmHWM` of this process, in KiB.
fn memory_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Runs calls `range` with at most `WINDOW` in flight, storing each
/// outcome at its index; an index that ends twice is a failure.
async fn run(
    client: &Arc<Hyper>,
    range: std::ops::Range<usize>,
    outcomes: &mut [Option<Result<Ended, String>>],
) {
    let mut set = JoinSet::new();
    let mut store = |joined: Result<(usize, Result<Ended, String>), tokio::task::JoinError>| {
        let (i, outcome) = joined.expect("a call task panicked");
        assert!(outcomes[i].is_none(), "call {i} ended twice");
        outcomes[i] = Some(outcome);
    };
    for i in range {
        if set.len() >= WINDOW {
            store(set.join_next().await.expect("a task"));
        }
        let client = client.clone();
        set.spawn(async move { (i, call(&client, i).await) });
    }
    while let Some(joined) = set.join_next().await {
        store(joined);
    }
}

#[test]
fn ten_thousand_calls_through_one_hyper_client() {
    let _turn = one_at_a_time();
    let sim = simulator();
    let created = time::OffsetDateTime::now_utc();
    for i in (0..CALLS).filter(|i| kind(*i) == Kind::Faulted) {
        sim.add_image(Image::new(
            seed_id("load", &faulted_tag(i)),
            SYSTEM_SLUG,
            created,
            ImageStatus::Ready,
        ));
        sim.inject(
            Fault::once(FaultAction::status(StatusCode::SERVICE_UNAVAILABLE))
                .on(Method::GET, faulted_path(i)),
        );
    }
    let faulted = CALLS / FAULT_EVERY;
    assert_eq!(sim.images().len(), 2 + faulted);

    let config = TransportConfig::default()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(5));
    let transport = HyperTransport::new(config.max_in_flight(WINDOW)).expect("transport");
    let retries = Arc::new(AtomicUsize::new(0));
    let counter = retries.clone();
    let client = Arc::new(
        AsyncClient::new(sim.endpoint(), transport, TokioSleep)
            .with_retry_policy(
                RetryPolicy::default()
                    .with_base_delay(Duration::from_millis(1))
                    .with_max_delay(Duration::from_millis(50)),
            )
            .on_event(move |event| {
                if matches!(event, Event::Retrying { .. }) {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            }),
    );
    let runtime = multi_thread_runtime();

    let mut outcomes: Vec<Option<Result<Ended, String>>> = (0..CALLS).map(|_| None).collect();
    // The simulator's request log lives in this process too, and each
    // record pins a few KiB of hyper's read buffers (see
    // `simulator_request_log_is_cheap`), so the log is tallied and cleared after every
    // chunk of 1 000 calls: the memory figures are then the client's.
    let mut per_path: HashMap<String, usize> = HashMap::new();
    let mut seen = 0;
    let mut tally = |sim: &Simulator| {
        let requests = sim.requests();
        sim.clear_requests();
        seen += requests.len();
        for request in requests {
            *per_path.entry(request.path).or_default() += 1;
        }
    };
    let (rss_start, _) = memory_kib();
    let started = Instant::now();
    let mut first = Duration::ZERO;
    let (mut rss_1k, mut hwm_1k) = (0, 0);
    for chunk in 0..CALLS / CHUNK {
        let range = chunk * CHUNK..(chunk + 1) * CHUNK;
        runtime.block_on(async {
            tokio::time::timeout(Duration::from_secs(120), run(&client, range, &mut outcomes))
                .await
                .expect("a chunk of calls finishes in time")
        });
        tally(&sim);
        if chunk == 0 {
            first = started.elapsed();
            (rss_1k, hwm_1k) = memory_kib();
        }
    }
    let total = started.elapsed();
    let (rss_10k, hwm_10k) = memory_kib();

    // Every call ended once, as expected.
    let mut failures = Vec::new();
    let (mut ok, mut not_found) = (0, 0);
    for (i, outcome) in outcomes.iter().enumerate() {
        match outcome {
            None => failures.push(format!("call {i} was lost")),
            Some(Err(why)) => failures.push(why.clone()),
            Some(Ok(Ended::Ok)) => ok += 1,
            Some(Ok(Ended::NotFound)) => not_found += 1,
        }
    }
    let missing = (0..CALLS).filter(|i| kind(*i) == Kind::Missing).count();
    let connections = sim.connections_opened();
    let retries = retries.load(Ordering::Relaxed);

    println!(
        "load: {CALLS} calls, {WINDOW} in flight, in {total:.2?} (first 1 000 in {first:.2?}); \
         {:.0} calls/s",
        CALLS as f64 / total.as_secs_f64()
    );
    println!(
        "load: {ok} ok, {not_found} typed 404, {} failures; {} requests seen, {retries} retries, \
         {connections} connections opened",
        failures.len(),
        seen
    );
    println!(
        "load: RSS start {rss_start} KiB, after 1k {rss_1k} KiB (peak {hwm_1k}), after 10k \
         {rss_10k} KiB (peak {hwm_10k}); growth 1k→10k {} KiB",
        rss_10k.saturating_sub(rss_1k)
    );

    assert!(
        failures.is_empty(),
        "{} calls failed, e.g. {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    assert_eq!(not_found, missing);
    assert_eq!(ok, CALLS - missing);
    // One request per call, plus exactly one retry per faulted call.
    assert_eq!(retries, faulted);
    assert_eq!(seen, CALLS + faulted);
    for i in 0..CALLS {
        match kind(i) {
            Kind::Faulted => assert_eq!(per_path.get(&faulted_path(i)), Some(&2), "{i}"),
            Kind::Missing => {
                let path = format!("{IMAGES}/{SEED_STACK_ID}/load/missing{i:05}");
                assert_eq!(per_path.get(&path), Some(&1), "{i}");
            }
            _ => {}
        }
    }
    // Pooled: at most one connection per slot of the window, give or take
    // the few a broken keep-alive race may cost.
    assert!(
        connections <= 2 * WINDOW,
        "{connections} connections for {CALLS} calls"
    );
    assert!(
        rss_10k.saturating_sub(rss_1k) < MAX_RSS_GROWTH_KIB,
        "RSS grew from {rss_1k} KiB to {rss_10k} KiB"
    );
}

/// Each `RecordedRequest` owns copies of its header bytes, so a long
/// request log does not pin hyper's read buffers (it once cost ~7 KiB a
/// request: +64 MiB per 10 000 calls).
#[test]
fn simulator_request_log_is_cheap() {
    let _turn = one_at_a_time();
    let sim = simulator();
    let transport =
        HyperTransport::new(TransportConfig::default().no_proxy().max_in_flight(WINDOW))
            .expect("transport");
    let client = Arc::new(AsyncClient::new(sim.endpoint(), transport, TokioSleep));
    let runtime = multi_thread_runtime();
    let get = |range: std::ops::Range<usize>| {
        runtime.block_on(async {
            let mut set = JoinSet::new();
            for _ in range {
                if set.len() >= WINDOW {
                    set.join_next().await.expect("task").expect("joined");
                }
                let client = client.clone();
                set.spawn(async move {
                    client
                        .get_image(&seed_id("ubuntu", "v20201110"))
                        .await
                        .expect("get");
                });
            }
            while let Some(joined) = set.join_next().await {
                joined.expect("joined");
            }
        })
    };
    get(0..1_000);
    let (before, _) = memory_kib();
    get(1_000..CALLS);
    let (after, _) = memory_kib();
    assert_eq!(sim.requests().len(), CALLS);
    let per_request = (after.saturating_sub(before) * 1024) / (CALLS as u64 - 1_000);
    println!("simulator log: RSS {before} KiB → {after} KiB, ~{per_request} bytes per record");
    assert!(
        per_request < 2048,
        "each recorded request costs ~{per_request} bytes of RSS"
    );
}
