//! Criterion benches for list decoding: ours against `serde_json::Value` and
//! a plain `#[derive(Deserialize)]` struct, at 10, 1 000 and 10 000 images.
//!
//! Run: `cargo bench --bench decode`.
//!
//! Fairness: every side gets a fresh clone of the body made in criterion's
//! untimed setup (ours wrapped in `http::Response::new`, also untimed); every
//! side frees the body inside the timed part (ours consumes it, the
//! baselines drop it explicitly); outputs are dropped untimed.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

#[path = "support/bodies.rs"]
mod bodies;
// Fields are read by serde; `PlainSingle` is for the report's e2e part.
#[allow(dead_code)]
#[path = "support/plain.rs"]
mod plain;

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode_list");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for n in [10usize, 1_000, 10_000] {
        let body = bodies::list_body(n, 0xC0E);
        let batch = if n >= 10_000 {
            BatchSize::LargeInput
        } else {
            BatchSize::SmallInput
        };
        group.throughput(Throughput::Bytes(body.len() as u64));

        group.bench_with_input(BenchmarkId::new("ours", n), &body, |b, body| {
            b.iter_batched(
                || http::Response::new(body.clone()),
                |response| coxedge_images::decode_image_list(black_box(response)).unwrap(),
                batch,
            )
        });
        group.bench_with_input(BenchmarkId::new("plain_derive", n), &body, |b, body| {
            b.iter_batched(
                || body.clone(),
                |bytes| {
                    let out = serde_json::from_slice::<plain::PlainList>(black_box(&bytes));
                    drop(bytes);
                    out.unwrap()
                },
                batch,
            )
        });
        group.bench_with_input(BenchmarkId::new("serde_json_value", n), &body, |b, body| {
            b.iter_batched(
                || body.clone(),
                |bytes| {
                    let out = serde_json::from_slice::<serde_json::Value>(black_box(&bytes));
                    drop(bytes);
                    out.unwrap()
                },
                batch,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
