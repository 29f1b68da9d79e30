//! End to end on loopback against the simulator: our clients (request
//! building, transport, decoding into the typed model) against a raw client
//! of the same library fetching the same URL and decoding into the typed
//! derive (`support/typed.rs`: the same checks as ours).

use std::sync::Arc;
use std::time::Duration;

use coxedge_images::transports::hyper::{HyperTransport, TokioSleep};
use coxedge_images::{AsyncClient, Client, TransportConfig};
use coxedge_images::{ImageId, ListOptions, decode_image_list};
use coxedge_images_simulator::Simulator;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client as LegacyClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use super::measure::{Both, Clock, Contender, Spread, Stopwatch, Timings, interleaved, median};
use super::{Row, Target, bodies, fmt_time, print_header, print_row, typed};

/// Images the simulator lists (on top of its two seeds): a ~33 kB body.
const LISTED: usize = 100;
/// The overhead target for both transports: time(ours) / time(raw).
const OVERHEAD_TARGET: Target = Target::AtMost(1.05);
/// How many times the connections for 1 000 calls are counted.
const CONNECTION_RUNS: usize = 5;
/// The throughput target with 64 requests in flight: req/s(ours) / req/s(raw).
const IN_FLIGHT_TARGET: Target = Target::AtLeast(0.95);

type RawHyper = LegacyClient<HttpConnector, Full<Bytes>>;

fn raw_hyper() -> RawHyper {
    LegacyClient::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .build_http()
}

/// The `User-Agent` our client sends, which the raw hyper client sends too.
const USER_AGENT: &str = concat!("coxedge-images/", env!("CARGO_PKG_VERSION"));

/// The raw hyper-util call: the same request on the wire as ours (the key,
/// `Accept` and `User-Agent`; ureq adds the last two by itself, hyper does
/// not), so that both sides do the same exchange and only the clients'
/// own work differs.
async fn raw_hyper_get<T: serde::de::DeserializeOwned>(
    client: &RawHyper,
    url: &str,
    key: &str,
) -> T {
    let request = http::Request::get(url)
        .header(http::header::ACCEPT, "application/json")
        .header(http::header::USER_AGENT, USER_AGENT)
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

/// The two lines of one comparison of time per call: the client's CPU
/// time (the judged cost of the work; steady on a shared machine) and wall
/// time (what a caller waits, which also shows time spent not working; it
/// varies with the machine's load). Both are held to `target` on
/// `time(ours) / time(raw)` (for `AtMost`) or `time(raw) / time(ours)` (for
/// `AtLeast`, a throughput ratio).
fn time_rows(name: &str, t: &Both, ours: usize, raw: usize, target: Target, per: &str) {
    for (clock, label) in [(Clock::Cpu, "client CPU"), (Clock::Wall, "wall")] {
        let t = t.on(clock);
        let (ratio, show) = match target {
            Target::AtMost(_) => (
                t.overhead(ours, raw),
                Box::new(|i: usize| {
                    format!("{}{per} ±{:.0}%", fmt_time(t.median(i)), 50.0 * t.spread(i))
                }) as Box<dyn Fn(usize) -> String>,
            ),
            Target::AtLeast(_) => (
                t.speedup(ours, raw),
                Box::new(|i: usize| {
                    format!("{:.0}{per} ±{:.0}%", 1.0 / t.median(i), 50.0 * t.spread(i))
                }) as Box<dyn Fn(usize) -> String>,
            ),
        };
        print_row(&Row {
            name: format!("{name} ({label})"),
            ours: show(ours),
            baseline: show(raw),
            ratio: ratio.show(),
            target: target.show(""),
            verdict: Some(target.judge(&ratio)),
        });
    }
}

/// Like [`time_rows`], for scale only (no target): `ours` against `raw`
/// in both clocks; a throughput ratio when `throughput`.
fn info_rows(name: &str, t: &Both, ours: usize, raw: usize, throughput: bool, per: &str) {
    for (clock, label) in [(Clock::Cpu, "client CPU"), (Clock::Wall, "wall")] {
        let t = t.on(clock);
        let (ratio, show): (_, Box<dyn Fn(usize) -> String>) = if throughput {
            (
                t.speedup(ours, raw),
                Box::new(|i| format!("{:.0}{per}", 1.0 / t.median(i))),
            )
        } else {
            (
                t.overhead(ours, raw),
                Box::new(|i| format!("{}{per}", fmt_time(t.median(i)))),
            )
        };
        print_row(&Row {
            name: format!("{name} ({label})"),
            ours: show(ours),
            baseline: show(raw),
            ratio: ratio.show(),
            target: "-".into(),
            verdict: None,
        });
    }
}

/// Connections opened over several runs, ours and raw: the target holds
/// for ours when every run stays within it (MET), is NOT MET when no run
/// does, and is "within noise" otherwise.
fn connections_row(name: &str, ours: &[usize], raw: &[usize]) {
    let target = Target::AtMost(2.0);
    let range = |v: &[usize]| {
        let (lo, hi) = (v.iter().min().copied(), v.iter().max().copied());
        (lo.unwrap_or(0), hi.unwrap_or(0))
    };
    let show = |(lo, hi): (usize, usize)| {
        if lo == hi {
            format!("{lo}")
        } else {
            format!("{lo}–{hi}")
        }
    };
    let (lo, hi) = range(ours);
    let spread = Spread {
        q1: lo as f64,
        median: median(&ours.iter().map(|&c| c as f64).collect::<Vec<_>>()),
        q3: hi as f64,
    };
    print_row(&Row {
        name: name.into(),
        ours: format!("{} opened", show((lo, hi))),
        baseline: format!("{} opened (raw)", show(range(raw))),
        ratio: "-".into(),
        target: "<= 2".into(),
        verdict: Some(target.judge(&spread)),
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
        .list_page_request(&ListOptions::new())
        .expect("request")
        .uri()
        .to_string();
    let get_url = endpoint
        .get_image_request(&id)
        .expect("request")
        .uri()
        .to_string();
    let list_len = body_len(&list_url, &key);
    // The raw hyper client sends what ours sends, no more and no less.
    let ours_sends: Vec<(String, String)> = endpoint
        .get_image_request(&id)
        .expect("request")
        .headers()
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_str().expect("text").to_owned()))
        .collect();
    assert_eq!(
        ours_sends,
        [
            ("accept".to_owned(), "application/json".to_owned()),
            ("user-agent".to_owned(), USER_AGENT.to_owned()),
            ("mc-api-key".to_owned(), key.clone()),
        ],
        "the raw hyper baseline must send the headers ours sends"
    );

    println!();
    println!(
        "   simulator on {} (plain HTTP/1.1, its own thread); list = {} images ({:.1} kB), get = 1 image.\n   \
         ours: the crate's client (builds the request, sends, decodes into Image); raw: the same library \
         with one reused client/agent (not ureq::get(), which makes an agent, so a connection, per call),\n   GET of the same URL with the same headers as ours (MC-Api-Key, Accept, User-Agent; ureq adds the last two itself), serde_json into the typed \
         derive (same checks as ours). ratio = ours time / raw time (median of per-round ratios).",
        sim.local_addr(),
        listed.len(),
        list_len as f64 / 1e3
    );

    // Blocking: ureq.
    print_header("end to end, blocking (ureq), sequential calls on one client");
    let ours = Client::ureq_with(endpoint.clone(), TransportConfig::default().no_proxy())
        .expect("ureq client");
    let agent = ureq::Agent::new_with_defaults();
    // The raw agent with deadlines on sending and receiving, as ours has
    // (a whole-call one), to show what that guarantee costs: ureq sets the
    // socket's timeout again before each write and read as a deadline
    // draws nearer (two `setsockopt` calls per get). Not `timeout_global`,
    // which would also make ureq's resolver start a thread per lookup
    // (ours resolves IP literals itself).
    let timed_agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_send_request(Some(Duration::from_secs(30)))
        .timeout_recv_response(Some(Duration::from_secs(30)))
        .timeout_recv_body(Some(Duration::from_secs(30)))
        .build()
        .into();
    let options = ListOptions::new();
    {
        let mut contenders = [
            Contender::simple(|| ours.list_page(&options).expect("list").images.len()),
            Contender::simple(|| {
                raw_ureq_get::<typed::TypedList>(&agent, &list_url, &key)
                    .data
                    .len()
            }),
            Contender::simple(|| ours.get_image(&id).expect("get")),
            Contender::simple(|| raw_ureq_get::<typed::TypedSingle>(&agent, &get_url, &key)),
            Contender::simple(|| raw_ureq_get::<typed::TypedSingle>(&timed_agent, &get_url, &key)),
        ];
        let t = interleaved(
            &mut contenders,
            super::ROUNDS,
            Duration::from_millis(30),
            100_000,
        );
        time_rows(
            "ureq: list (102 images)",
            &t,
            0,
            1,
            OVERHEAD_TARGET,
            "/call",
        );
        time_rows("ureq: get", &t, 2, 3, OVERHEAD_TARGET, "/call");
        info_rows(
            "ureq: get vs raw with socket deadlines",
            &t,
            2,
            4,
            false,
            "/call",
        );
        info_rows(
            "ureq: raw with those deadlines vs raw",
            &t,
            4,
            3,
            false,
            "/call",
        );
    }

    // Async: hyper.
    print_header("end to end, async (hyper), sequential calls on one client");
    // A current-thread runtime: the clients' work (hyper's connection tasks
    // included) runs on this thread, where its CPU time is measured.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let ours_async: Arc<AsyncClient<HyperTransport, TokioSleep>> = Arc::new(
        AsyncClient::hyper_with(endpoint.clone(), TransportConfig::default().no_proxy())
            .expect("hyper client"),
    );
    let raw = raw_hyper();
    {
        // `n` calls in a row inside the runtime, timed as a whole.
        macro_rules! timed {
            ($n:expr, $call:expr) => {
                rt.block_on(async {
                    let start = Stopwatch::start();
                    for _ in 0..$n {
                        std::hint::black_box($call);
                    }
                    start.stop()
                })
            };
        }
        let mut contenders = [
            Contender::new(|n| timed!(n, ours_async.list_page(&options).await.expect("list"))),
            Contender::new(|n| {
                timed!(
                    n,
                    raw_hyper_get::<typed::TypedList>(&raw, &list_url, &key).await
                )
            }),
            Contender::new(|n| timed!(n, ours_async.get_image(&id).await.expect("get"))),
            Contender::new(|n| {
                timed!(
                    n,
                    raw_hyper_get::<typed::TypedSingle>(&raw, &get_url, &key).await
                )
            }),
            // The raw client with one whole-call timeout, as ours has (a
            // tokio timer per call).
            Contender::new(|n| {
                timed!(
                    n,
                    tokio::time::timeout(
                        Duration::from_secs(30),
                        raw_hyper_get::<typed::TypedSingle>(&raw, &get_url, &key)
                    )
                    .await
                    .expect("in time")
                )
            }),
        ];
        let t = interleaved(
            &mut contenders,
            super::ROUNDS,
            Duration::from_millis(30),
            100_000,
        );
        time_rows(
            "hyper: list (102 images)",
            &t,
            0,
            1,
            OVERHEAD_TARGET,
            "/call",
        );
        time_rows("hyper: get", &t, 2, 3, OVERHEAD_TARGET, "/call");
        info_rows(
            "hyper: get vs raw with a whole-call timeout",
            &t,
            2,
            4,
            false,
            "/call",
        );
        info_rows(
            "hyper: raw with that timeout vs raw",
            &t,
            4,
            3,
            false,
            "/call",
        );
    }

    // 64 requests in flight through one async client.
    print_header("end to end, async (hyper), 64 requests in flight through one client");
    {
        const IN_FLIGHT: usize = 64;
        const PER_TASK: usize = 16;
        let total = (IN_FLIGHT * PER_TASK) as f64;
        // Ours as built by default (judged), and with its in-flight limit
        // set to 16, 32 and 64 (64: both sides may send all 64 at once),
        // which is how the default limit is chosen.
        let limited = |limit: usize| -> Arc<AsyncClient<HyperTransport, TokioSleep>> {
            let config = TransportConfig::default().no_proxy().max_in_flight(limit);
            let transport = HyperTransport::new(config).expect("hyper transport");
            Arc::new(AsyncClient::new(endpoint.clone(), transport, TokioSleep))
        };
        let (ours_16, ours_32, ours_64) = (limited(16), limited(32), limited(IN_FLIGHT));
        let ours_run = |client: &Arc<AsyncClient<HyperTransport, TokioSleep>>| {
            let client = Arc::clone(client);
            let id = id.clone();
            rt.block_on(async move {
                let start = Stopwatch::start();
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
                start.stop()
            })
        };
        let raw_run = |_: u64| {
            let raw = raw.clone();
            let url = get_url.clone();
            let key = key.clone();
            rt.block_on(async move {
                let start = Stopwatch::start();
                let mut set = tokio::task::JoinSet::new();
                for _ in 0..IN_FLIGHT {
                    let (raw, url, key) = (raw.clone(), url.clone(), key.clone());
                    set.spawn(async move {
                        for _ in 0..PER_TASK {
                            raw_hyper_get::<typed::TypedSingle>(&raw, &url, &key).await;
                        }
                    });
                }
                set.join_all().await;
                start.stop()
            })
        };
        let before = sim.connections_opened();
        let mut contenders = [
            Contender::new(|_| ours_run(&ours_async)),
            Contender::new(raw_run),
            Contender::new(|_| ours_run(&ours_16)),
            Contender::new(|_| ours_run(&ours_32)),
            Contender::new(|_| ours_run(&ours_64)),
        ];
        // Each batch is 1 024 gets (n is ignored).
        let t = interleaved(&mut contenders, super::ROUNDS, Duration::from_millis(1), 1);
        let opened = sim.connections_opened() - before;
        // Per request: time / total, so 1 / that is requests per second.
        let per_request = |t: &Timings| Timings {
            per_iter: t
                .per_iter
                .iter()
                .map(|v| v.iter().map(|x| x / total).collect())
                .collect(),
        };
        let t = Both {
            cpu: per_request(&t.cpu),
            wall: per_request(&t.wall),
        };
        time_rows(
            &format!(
                "hyper: get, 64 in flight, default limit ({})",
                TransportConfig::DEFAULT_MAX_IN_FLIGHT
            ),
            &t,
            0,
            1,
            IN_FLIGHT_TARGET,
            " req/s",
        );
        for (i, limit) in [(2, 16), (3, 32), (4, IN_FLIGHT)] {
            info_rows(
                &format!("hyper: get, 64 in flight, limit {limit}"),
                &t,
                i,
                1,
                true,
                " req/s",
            );
        }
        println!(
            "   (ratio = ours req/s / raw req/s, per client-CPU second and per wall second; 64 tasks of {PER_TASK} sequential gets each; the raw \
             client has no limit; {opened} connections opened over all runs)"
        );
    }

    // Connections for 1 000 sequential calls, counted in several runs:
    // hyper-util hands a connection back to its pool on a task of its own,
    // so a call made right after the previous one ended sometimes finds none
    // idle and opens another; the count varies from run to run.
    print_header(&format!(
        "connections opened by 1 000 sequential get calls (fresh clients, min–max over {CONNECTION_RUNS} runs)"
    ));
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
        let mut counts: [Vec<usize>; 4] = Default::default();
        for _ in 0..CONNECTION_RUNS {
            counts[0].push(count(&mut || {
                let client =
                    Client::ureq_with(endpoint.clone(), TransportConfig::default().no_proxy())
                        .expect("ureq client");
                for _ in 0..1_000 {
                    client.get_image(&id).expect("get");
                }
            }));
            counts[1].push(count(&mut || {
                let agent = ureq::Agent::new_with_defaults();
                for _ in 0..1_000 {
                    raw_ureq_get::<typed::TypedSingle>(&agent, &get_url, &key);
                }
            }));
            counts[2].push(count(&mut || {
                let client = AsyncClient::hyper_with(
                    endpoint.clone(),
                    TransportConfig::default().no_proxy(),
                )
                .expect("hyper client");
                rt.block_on(async {
                    for _ in 0..1_000 {
                        client.get_image(&id).await.expect("get");
                    }
                });
            }));
            counts[3].push(count(&mut || {
                let client = raw_hyper();
                rt.block_on(async {
                    for _ in 0..1_000 {
                        raw_hyper_get::<typed::TypedSingle>(&client, &get_url, &key).await;
                    }
                });
            }));
        }
        connections_row("ureq: 1 000 sequential gets", &counts[0], &counts[1]);
        connections_row("hyper: 1 000 sequential gets", &counts[2], &counts[3]);
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
