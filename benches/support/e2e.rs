//! End to end on loopback against the simulator: our clients (request
//! building, transport, decoding into the typed model) against a raw client
//! of the same library fetching the same URL and decoding into the plain
//! derive struct.

use std::sync::Arc;
use std::time::{Duration, Instant};

use coxedge_images::simulator::Simulator;
use coxedge_images::transports::hyper::HyperClient;
use coxedge_images::transports::{AsyncClient, Client};
use coxedge_images::{ImageId, ListOptions, decode_image_list};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client as LegacyClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use super::measure::{Contender, interleaved};
use super::{Row, bodies, fmt_time, plain, print_header, print_row};

/// Images the simulator lists (on top of its two seeds): a ~33 kB body.
const LISTED: usize = 100;
/// The overhead target for both transports.
const TARGET: f64 = 1.05;

type RawHyper = LegacyClient<HttpConnector, Full<Bytes>>;

fn raw_hyper() -> RawHyper {
    LegacyClient::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .build_http()
}

async fn raw_hyper_get<T: serde::de::DeserializeOwned>(
    client: &RawHyper,
    url: &str,
    key: &str,
) -> T {
    let request = http::Request::get(url)
        .header("MC-Api-Key", key)
        .body(Full::new(Bytes::new()))
        .expect("request");
    let response = client.request(request).await.expect("raw hyper call");
    assert!(response.status().is_success());
    let body = response
        .into_body()
        .collect()
        .await
        .expect("raw hyper body")
        .to_bytes();
    serde_json::from_slice(&body).expect("raw hyper decode")
}

fn raw_ureq_get<T: serde::de::DeserializeOwned>(agent: &ureq::Agent, url: &str, key: &str) -> T {
    let mut response = agent
        .get(url)
        .header("MC-Api-Key", key)
        .call()
        .expect("raw ureq call");
    let body = response.body_mut().read_to_vec().expect("raw ureq body");
    serde_json::from_slice(&body).expect("raw ureq decode")
}

/// One overhead line: ours vs raw, time per call; target ours/raw <= 1.05.
fn overhead_row(name: &str, t: &super::measure::Timings, ours: usize, raw: usize) {
    let overhead = 1.0 / t.speedup(ours, raw);
    print_row(&Row {
        name: name.into(),
        ours: format!(
            "{}/call ±{:.0}%",
            fmt_time(t.median(ours)),
            50.0 * t.spread(ours)
        ),
        baseline: format!(
            "{}/call ±{:.0}%",
            fmt_time(t.median(raw)),
            50.0 * t.spread(raw)
        ),
        ratio: format!("{overhead:.3}"),
        target: format!("<= {TARGET:.2}"),
        met: Some(overhead <= TARGET),
    });
}

fn connections_row(name: &str, ours: usize, raw: usize) {
    print_row(&Row {
        name: name.into(),
        ours: format!("{ours} opened"),
        baseline: format!("{raw} opened (raw)"),
        ratio: "-".into(),
        target: "<= 2".into(),
        met: Some(ours <= 2),
    });
}

pub fn section() {
    let sim = Simulator::start();
    for image in decode_image_list(http::Response::new(bodies::list_body(LISTED, 7)))
        .expect("generated list")
    {
        sim.add_image(image);
    }
    let endpoint = sim.endpoint();
    let key = sim.api_key().to_owned();
    let listed = sim.images();
    let id: ImageId = listed[listed.len() / 2].id.clone();
    let list_url = endpoint
        .list_images_request(&ListOptions::new())
        .expect("request")
        .uri()
        .to_string();
    let get_url = endpoint
        .get_image_request(&id)
        .expect("request")
        .uri()
        .to_string();
    let list_len = body_len(&list_url, &key);

    println!();
    println!(
        "   simulator on {} (plain HTTP/1.1, its own thread); list = {} images ({:.1} kB), get = 1 image.\n   \
         ours: the crate's client (builds the request, sends, decodes into Image); raw: the same library \
         with one reused client/agent (not ureq::get(), which makes an agent, so a connection, per call),\n   GET of the same URL with MC-Api-Key, serde_json into the plain \
         derive struct. ratio = ours time / raw time (median of per-round ratios).",
        sim.local_addr(),
        listed.len(),
        list_len as f64 / 1e3
    );

    // Blocking: ureq.
    print_header("end to end, blocking (ureq), sequential calls on one client");
    let ours = Client::ureq(endpoint.clone()).expect("ureq client");
    let agent = ureq::Agent::new_with_defaults();
    let options = ListOptions::new();
    {
        let mut contenders = [
            Contender::simple(|| ours.list_images(&options).expect("list").images.len()),
            Contender::simple(|| {
                raw_ureq_get::<plain::PlainList>(&agent, &list_url, &key)
                    .data
                    .len()
            }),
            Contender::simple(|| ours.get_image(&id).expect("get")),
            Contender::simple(|| raw_ureq_get::<plain::PlainSingle>(&agent, &get_url, &key)),
        ];
        let t = interleaved(&mut contenders, 15, Duration::from_millis(30), 100_000);
        overhead_row("ureq: list (102 images) ours vs raw ureq", &t, 0, 1);
        overhead_row("ureq: get ours vs raw ureq", &t, 2, 3);
    }

    // Async: hyper.
    print_header("end to end, async (hyper), sequential calls on one client");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let ours_async: Arc<HyperClient> =
        Arc::new(AsyncClient::hyper(endpoint.clone()).expect("hyper client"));
    let raw = raw_hyper();
    {
        // `n` calls in a row inside the runtime, timed as a whole.
        macro_rules! timed {
            ($n:expr, $call:expr) => {
                rt.block_on(async {
                    let start = Instant::now();
                    for _ in 0..$n {
                        std::hint::black_box($call);
                    }
                    start.elapsed()
                })
            };
        }
        let mut contenders = [
            Contender::new(|n| timed!(n, ours_async.list_images(&options).await.expect("list"))),
            Contender::new(|n| {
                timed!(
                    n,
                    raw_hyper_get::<plain::PlainList>(&raw, &list_url, &key).await
                )
            }),
            Contender::new(|n| timed!(n, ours_async.get_image(&id).await.expect("get"))),
            Contender::new(|n| {
                timed!(
                    n,
                    raw_hyper_get::<plain::PlainSingle>(&raw, &get_url, &key).await
                )
            }),
        ];
        let t = interleaved(&mut contenders, 15, Duration::from_millis(30), 100_000);
        overhead_row("hyper: list (102 images) ours vs raw hyper-util", &t, 0, 1);
        overhead_row("hyper: get ours vs raw hyper-util", &t, 2, 3);
    }

    // 64 requests in flight through one async client.
    print_header("end to end, async (hyper), 64 requests in flight through one client");
    {
        const IN_FLIGHT: usize = 64;
        const PER_TASK: usize = 8;
        let total = (IN_FLIGHT * PER_TASK) as f64;
        let ours_run = |_: u64| {
            let client = Arc::clone(&ours_async);
            let id = id.clone();
            rt.block_on(async move {
                let start = Instant::now();
                let mut set = tokio::task::JoinSet::new();
                for _ in 0..IN_FLIGHT {
                    let client = Arc::clone(&client);
                    let id = id.clone();
                    set.spawn(async move {
                        for _ in 0..PER_TASK {
                            client.get_image(&id).await.expect("get");
                        }
                    });
                }
                set.join_all().await;
                start.elapsed()
            })
        };
        let raw_run = |_: u64| {
            let raw = raw.clone();
            let url = get_url.clone();
            let key = key.clone();
            rt.block_on(async move {
                let start = Instant::now();
                let mut set = tokio::task::JoinSet::new();
                for _ in 0..IN_FLIGHT {
                    let (raw, url, key) = (raw.clone(), url.clone(), key.clone());
                    set.spawn(async move {
                        for _ in 0..PER_TASK {
                            raw_hyper_get::<plain::PlainSingle>(&raw, &url, &key).await;
                        }
                    });
                }
                set.join_all().await;
                start.elapsed()
            })
        };
        let before = sim.connections_opened();
        let mut contenders = [Contender::new(ours_run), Contender::new(raw_run)];
        // Each batch is 512 gets (n is ignored): a few rounds suffice.
        let t = interleaved(&mut contenders, 7, Duration::from_millis(1), 1);
        let opened = sim.connections_opened() - before;
        let rps = |i: usize| total / t.median(i);
        print_row(&Row {
            name: "hyper: get, 64 in flight, requests/s".into(),
            ours: format!("{:.0} req/s ±{:.0}%", rps(0), 50.0 * t.spread(0)),
            baseline: format!("{:.0} req/s ±{:.0}%", rps(1), 50.0 * t.spread(1)),
            ratio: format!("{:.2}", t.speedup(0, 1)),
            target: "-".into(),
            met: None,
        });
        println!(
            "   (ratio = ours req/s / raw req/s; ours sends at most {} at once by design, the raw client all 64; \
             {opened} connections opened over both sides' runs)",
            coxedge_images::transports::hyper::DEFAULT_MAX_IN_FLIGHT
        );
    }

    // Connections for 1 000 sequential calls.
    print_header("connections opened by 1 000 sequential get calls (fresh clients)");
    drop(rt);
    // A fresh default runtime (as `#[tokio::main]` makes), so no idle
    // connections or tasks of the runs above share its workers.
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    {
        let count = |f: &mut dyn FnMut()| {
            let before = sim.connections_opened();
            f();
            sim.connections_opened() - before
        };
        let ours_ureq = count(&mut || {
            let client = Client::ureq(endpoint.clone()).expect("ureq client");
            for _ in 0..1_000 {
                client.get_image(&id).expect("get");
            }
        });
        let raw_ureq = count(&mut || {
            let agent = ureq::Agent::new_with_defaults();
            for _ in 0..1_000 {
                raw_ureq_get::<plain::PlainSingle>(&agent, &get_url, &key);
            }
        });
        connections_row("ureq: 1 000 sequential gets", ours_ureq, raw_ureq);
        let ours_hyper = count(&mut || {
            let client = AsyncClient::hyper(endpoint.clone()).expect("hyper client");
            rt.block_on(async {
                for _ in 0..1_000 {
                    client.get_image(&id).await.expect("get");
                }
            });
        });
        let raw_hyper_count = count(&mut || {
            let client = raw_hyper();
            rt.block_on(async {
                for _ in 0..1_000 {
                    raw_hyper_get::<plain::PlainSingle>(&client, &get_url, &key).await;
                }
            });
        });
        connections_row("hyper: 1 000 sequential gets", ours_hyper, raw_hyper_count);
    }
    drop(rt);
}

/// The list body's size, fetched once with a throwaway agent.
fn body_len(url: &str, key: &str) -> usize {
    let agent = ureq::Agent::new_with_defaults();
    let mut response = agent
        .get(url)
        .header("MC-Api-Key", key)
        .call()
        .expect("list");
    response.body_mut().read_to_vec().expect("body").len()
}
