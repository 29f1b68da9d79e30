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

    /// A number in `[0, 1)`.
    pub(crate) fn next(&self) -> f64 {
        let mut x = self.0.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0.store(x, Ordering::Relaxed);
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}
