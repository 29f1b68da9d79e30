//! The facades' random source for retry jitter: a xorshift generator seeded
//! by the standard library's per-process random hasher keys. Jitter needs no
//! cryptographic quality, only independence between clients.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

pub(crate) struct Jitter(AtomicU64);

impl Jitter {
    pub(crate) fn new() -> Self {
        let seed = RandomState::new().build_hasher().finish() | 1;
        Jitter(AtomicU64::new(seed))
    }

    /// A number in `[0, 1)`: the top 53 bits of the next state.
    pub(crate) fn next(&self) -> f64 {
        (self.next_state() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// The next state. It moves in one atomic step, so callers on different
    /// threads never draw from the same state and never back off alike.
    fn next_state(&self) -> u64 {
        let previous = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |x| Some(step(x)))
            .unwrap_or_else(|x| x);
        step(previous)
    }
}

/// One xorshift64 step: a permutation of the non-zero `u64`s, so distinct
/// states give distinct draws for 2^64 - 1 steps.
fn step(mut x: u64) -> u64 {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::sync::Arc;

    use super::*;

    #[test]
    fn threads_never_draw_from_the_same_state() {
        let jitter = Arc::new(Jitter::new());
        let barrier = Arc::new(std::sync::Barrier::new(4));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let jitter = Arc::clone(&jitter);
                let barrier = Arc::clone(&barrier);
                std::thread::spawn(move || {
                    barrier.wait();
                    (0..250_000)
                        .map(|_| jitter.next_state())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut seen = HashSet::new();
        for thread in threads {
            for draw in thread.join().unwrap() {
                // A million steps of a permutation of period 2^64 - 1 never
                // repeat: a state seen twice was handed to two callers.
                assert!(seen.insert(draw), "a state was handed out twice");
            }
        }
        assert_eq!(seen.len(), 4 * 250_000);
    }

    #[test]
    fn draws_are_in_the_unit_interval() {
        let jitter = Jitter::new();
        for _ in 0..10_000 {
            let r = jitter.next();
            assert!((0.0..1.0).contains(&r), "{r}");
        }
    }
}
