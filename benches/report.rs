//! A quick performance report: one line per comparison, ours against a
//! baseline measured in the same process and run, with the target and
//! whether it is met. It never fails on a missed target.
//!
//! Run: `cargo bench --features ureq,hyper,simulator --bench report`
//! (about half a minute on two noisy cores).
//!
//! Method: each comparison runs its contenders in rounds, one batch each per
//! round (the starting contender rotates), so they share the machine's noise;
//! figures are medians over rounds, and a ratio is the median of the
//! per-round ratios.

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::{Duration, Instant};

use coxedge_images::{
    ApiKey, Endpoint, ImageFilter, ImageId, ImageList, ImageReference, ImageStatus, ListOptions,
    decode_image_list, resolve,
};
use http::Response;

#[path = "support/alloc.rs"]
mod alloc;
#[path = "support/bodies.rs"]
mod bodies;
#[path = "support/e2e.rs"]
mod e2e;
#[path = "support/measure.rs"]
mod measure;
#[path = "support/plain.rs"]
mod plain;

use measure::{Contender, interleaved};

#[global_allocator]
static GLOBAL: alloc::Counting = alloc::Counting;

/// One printed line.
pub struct Row {
    pub name: String,
    pub ours: String,
    pub baseline: String,
    pub ratio: String,
    pub target: String,
    /// `None`: informational, no target.
    pub met: Option<bool>,
}

impl Row {
    pub fn info(name: impl Into<String>, ours: impl Into<String>) -> Row {
        Row {
            name: name.into(),
            ours: ours.into(),
            baseline: "-".into(),
            ratio: "-".into(),
            target: "-".into(),
            met: None,
        }
    }
}

pub fn print_header(title: &str) {
    println!();
    println!("== {title}");
    println!(
        "{:<50} {:>26} {:>26} {:>7} {:>10}  result",
        "comparison", "ours", "baseline", "ratio", "target"
    );
}

pub fn print_row(row: &Row) {
    let verdict = match row.met {
        Some(true) => "MET",
        Some(false) => "NOT MET",
        None => "info",
    };
    println!(
        "{:<50} {:>26} {:>26} {:>7} {:>10}  {verdict}",
        row.name, row.ours, row.baseline, row.ratio, row.target
    );
}

pub fn fmt_time(secs: f64) -> String {
    if secs < 1e-6 {
        format!("{:.1} ns", secs * 1e9)
    } else if secs < 1e-3 {
        format!("{:.2} µs", secs * 1e6)
    } else {
        format!("{:.2} ms", secs * 1e3)
    }
}

fn mb(bytes: f64) -> f64 {
    bytes / 1e6
}

fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{cpus} CPUs available, {model}")
}

const SIZES: [usize; 3] = [10, 1_000, 10_000];
const SEED: u64 = 0xC0E;

/// Decode throughput: ours vs a plain derive and vs `serde_json::Value`.
fn decode_section() {
    println!();
    println!(
        "   fair setup: every side decodes its own clone of the body made before the timer \
         (ours wrapped in http::Response::new, also before the timer);\n   \
         every side frees the body inside the timer (ours consumes it, baselines drop it); \
         results are dropped after the timer."
    );
    print_header("decode of list responses (MB/s of JSON body; higher is better)");
    for n in SIZES {
        let body = bodies::list_body(n, SEED);
        let len = body.len() as f64;
        let ours = Contender::new(|iters| {
            let responses: Vec<_> = (0..iters).map(|_| Response::new(body.clone())).collect();
            let mut out: Vec<ImageList> = Vec::with_capacity(iters as usize);
            let start = Instant::now();
            for r in responses {
                out.push(decode_image_list(black_box(r)).expect("our decode"));
            }
            let t = start.elapsed();
            assert_eq!(out[0].images.len(), n);
            t
        });
        let plain = Contender::new(|iters| {
            let bodies: Vec<_> = (0..iters).map(|_| body.clone()).collect();
            let mut out = Vec::with_capacity(iters as usize);
            let start = Instant::now();
            for b in bodies {
                let v = serde_json::from_slice::<plain::PlainList>(black_box(&b));
                drop(b);
                out.push(v.expect("plain decode"));
            }
            let t = start.elapsed();
            assert_eq!(out[0].data.len(), n);
            t
        });
        let value = Contender::new(|iters| {
            let bodies: Vec<_> = (0..iters).map(|_| body.clone()).collect();
            let mut out = Vec::with_capacity(iters as usize);
            let start = Instant::now();
            for b in bodies {
                let v = serde_json::from_slice::<serde_json::Value>(black_box(&b));
                drop(b);
                out.push(v.expect("value decode"));
            }
            start.elapsed()
        });
        let mut contenders = [ours, plain, value];
        let t = interleaved(&mut contenders, 21, Duration::from_millis(12), 100_000);
        let thr = |i: usize| format!("{:.1} MB/s", mb(len) / t.median(i));
        let size = format!("{:.1} kB", len / 1e3);
        for (i, base, target) in [(1, "plain derive", 1.0), (2, "serde_json::Value", 3.0)] {
            let ratio = t.speedup(0, i);
            print_row(&Row {
                name: format!("decode {n} images ({size}) vs {base}"),
                ours: format!("{} ±{:.0}%", thr(0), 50.0 * t.spread(0)),
                baseline: format!("{} ±{:.0}%", thr(i), 50.0 * t.spread(i)),
                ratio: format!("{ratio:.2}x"),
                target: format!(">= {target:.2}x"),
                met: Some(ratio >= target),
            });
        }
    }
}

fn endpoint() -> Endpoint {
    Endpoint::builder()
        .service("edge-services")
        .environment("test-area")
        .api_key(ApiKey::new("bench-key-0123456789").expect("key"))
        .build()
        .expect("endpoint")
}

/// Time per operation of the small things: no baseline, no target.
fn ops_section() {
    print_header("requests, ids, filtering (time per operation; info only)");
    let endpoint = endpoint();
    let id_text = "a8050b2b-39eb-4929-bce5-1af42055903e/ubuntu/v20201110";
    let id: ImageId = id_text.parse().expect("id");
    let list = decode_image_list(Response::new(bodies::list_body(10_000, SEED))).expect("decode");
    let images = &list.images;
    let all = ListOptions::new();
    let system = ListOptions::new().system_only();
    let filter = ImageFilter::new()
        .family("ubuntu")
        .status(ImageStatus::Ready);
    let latest: ImageReference = "cox-edge/ubuntu".parse().expect("reference");
    let tagged_image = images
        .iter()
        .find(|i| i.slug == "cox-edge" && i.family() == "ubuntu")
        .expect("a cox-edge ubuntu image");
    let tagged: ImageReference = tagged_image.reference.parse().expect("reference");

    let names = [
        "Endpoint::list_images_request (no options)",
        "Endpoint::list_images_request (system only)",
        "Endpoint::get_image_request",
        "ImageId parse (uuid/family/tag)",
        "ImageId display (to_string)",
        "ImageFilter::apply over 10 000 (family+status)",
        "resolve over 10 000 (slug/family, latest READY)",
        "resolve over 10 000 (slug/family:tag)",
    ];
    let mut contenders = [
        Contender::simple(|| endpoint.list_images_request(black_box(&all)).expect("req")),
        Contender::simple(|| {
            endpoint
                .list_images_request(black_box(&system))
                .expect("req")
        }),
        Contender::simple(|| endpoint.get_image_request(black_box(&id)).expect("req")),
        Contender::simple(|| black_box(id_text).parse::<ImageId>().expect("id")),
        Contender::simple(|| black_box(&id).to_string()),
        Contender::simple(|| filter.apply(black_box(images)).len()),
        Contender::simple(|| resolve(black_box(images), &latest).map(|i| i.created_at)),
        Contender::simple(|| resolve(black_box(images), &tagged).map(|i| i.created_at)),
    ];
    let t = interleaved(&mut contenders, 11, Duration::from_millis(5), 10_000_000);
    for (i, name) in names.iter().enumerate() {
        let per = t.median(i);
        let mut ours = fmt_time(per);
        if i >= 5 {
            let _ = write!(ours, " ({:.1} ns/img)", per * 1e9 / 10_000.0);
        }
        print_row(&Row::info(*name, ours));
    }
    println!(
        "   (filter keeps {} images; latest READY cox-edge/ubuntu is {:?})",
        filter.apply(images).len(),
        resolve(images, &latest).map(|i| i.id.as_str())
    );
}

/// Peak heap while decoding the 10 000-image list.
fn memory_section() {
    print_header("memory: peak heap while decoding 10 000 images (counting allocator)");
    let n = 10_000;
    let body = bodies::list_body(n, SEED);
    let len = body.len();
    // Once untimed first, so lazy statics and allocator pools exist.
    let _ = decode_image_list(Response::new(body.clone()));

    let response = Response::new(body.clone());
    let (ours, ours_use) = alloc::measure(|| decode_image_list(response).expect("decode"));
    drop(ours);
    let bytes = body.clone();
    let (plain, plain_use) = alloc::measure(|| {
        let v = serde_json::from_slice::<plain::PlainList>(&bytes).expect("decode");
        drop(bytes);
        v
    });
    drop(plain);
    let bytes = body.clone();
    let (value, value_use) = alloc::measure(|| {
        let v = serde_json::from_slice::<serde_json::Value>(&bytes).expect("decode");
        drop(bytes);
        v
    });
    drop(value);

    // The body is live before decoding starts (the response owns it) and is
    // freed at the end; peak = body + highest extra live bytes.
    let total = |u: &alloc::HeapUse| (len + u.peak) as f64;
    let x = |u: &alloc::HeapUse| total(u) / len as f64;
    let ratio = x(&ours_use);
    println!(
        "   peak = body ({:.2} MB, live before decoding) + the most extra bytes live at once during decoding",
        mb(len as f64)
    );
    print_row(&Row {
        name: "peak heap / body size, vs plain derive".into(),
        ours: format!("{:.2} MB = {:.2}x", mb(total(&ours_use)), ratio),
        baseline: format!("{:.2} MB = {:.2}x", mb(total(&plain_use)), x(&plain_use)),
        ratio: format!("{:.2}", total(&ours_use) / total(&plain_use)),
        target: "<= 3.00x".into(),
        met: Some(ratio <= 3.0),
    });
    print_row(&Row {
        name: "peak heap / body size, vs serde_json::Value".into(),
        ours: format!("{:.2} MB = {:.2}x", mb(total(&ours_use)), ratio),
        baseline: format!("{:.2} MB = {:.2}x", mb(total(&value_use)), x(&value_use)),
        ratio: format!("{:.2}", total(&ours_use) / total(&value_use)),
        target: "-".into(),
        met: None,
    });
    // The body was freed during the measurement, so what is still live is
    // the result minus the body.
    let kept = |u: &alloc::HeapUse| (u.retained + len as isize) as f64;
    print_row(&Row {
        name: "decoded result size, vs plain derive".into(),
        ours: format!(
            "{:.2} MB = {:.2}x",
            mb(kept(&ours_use)),
            kept(&ours_use) / len as f64
        ),
        baseline: format!(
            "{:.2} MB = {:.2}x",
            mb(kept(&plain_use)),
            kept(&plain_use) / len as f64
        ),
        ratio: format!("{:.2}", kept(&ours_use) / kept(&plain_use)),
        target: "-".into(),
        met: None,
    });
    let per = |u: &alloc::HeapUse| u.allocs as f64 / n as f64;
    print_row(&Row {
        name: "allocations per image, vs plain derive".into(),
        ours: format!("{:.2}", per(&ours_use)),
        baseline: format!("{:.2}", per(&plain_use)),
        ratio: format!("{:.2}", per(&ours_use) / per(&plain_use)),
        target: "-".into(),
        met: None,
    });
    print_row(&Row {
        name: "allocations per image, vs serde_json::Value".into(),
        ours: format!("{:.2}", per(&ours_use)),
        baseline: format!("{:.2}", per(&value_use)),
        ratio: format!("{:.2}", per(&ours_use) / per(&value_use)),
        target: "-".into(),
        met: None,
    });
}

fn main() {
    let start = Instant::now();
    println!("coxedge-images performance report");
    println!("machine: {}", machine());
    println!(
        "method: contenders interleaved in rounds (starting one rotates); medians over rounds; \
         ratio = median of per-round ratios; ± = half the inter-quartile range"
    );
    decode_section();
    ops_section();
    memory_section();
    e2e::section();
    println!();
    println!(
        "report done in {:.1} s (targets are reported, never enforced)",
        start.elapsed().as_secs_f64()
    );
}
