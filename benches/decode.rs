//! Criterion benches for list decoding at 10, 1 000 and 10 000 images: ours
//! against the typed derive doing the same checks (`support/typed.rs`), the
//! plain `String` derive, the borrowing derive (the serde_json ceiling) and
//! the typed derive through sonic-rs.
//!
//! Run: `cargo bench --bench decode`.
//!
//! Fairness: every side gets a fresh clone of the body made in criterion's
//! untimed setup (ours wrapped in `http::Response::new`, also untimed); the
//! owning sides free the body inside the timed part (ours consumes it, the
//! baselines drop it explicitly); outputs are dropped untimed. The
//! borrowing derive's output points into the body, so it keeps the body
//! and both are dropped untimed (in its favour).

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

#[path = "support/bodies.rs"]
mod bodies;
// Fields are read by serde; some items are for the report only.
#[allow(dead_code)]
#[path = "support/plain.rs"]
mod plain;
#[allow(dead_code)]
#[path = "support/typed.rs"]
mod typed;

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
        group.bench_with_input(BenchmarkId::new("typed_derive", n), &body, |b, body| {
            b.iter_batched(
                || body.clone(),
                |bytes| {
                    let out = serde_json::from_slice::<typed::TypedList>(black_box(&bytes));
                    drop(bytes);
                    out.unwrap()
                },
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
        group.bench_with_input(BenchmarkId::new("borrowing_derive", n), &body, |b, body| {
            b.iter_batched_ref(
                || body.clone(),
                |bytes| {
                    let text = std::str::from_utf8(black_box(bytes)).unwrap();
                    serde_json::from_str::<typed::BorrowedList<'_>>(text)
                        .unwrap()
                        .data
                        .len()
                },
                batch,
            )
        });
        group.bench_with_input(BenchmarkId::new("sonic_rs_typed", n), &body, |b, body| {
            b.iter_batched(
                || body.clone(),
                |bytes| {
                    let out = sonic_rs::from_slice::<typed::TypedList>(black_box(&bytes));
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
