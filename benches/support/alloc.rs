//! A counting global allocator for the report binary: live bytes, peak and
//! allocation count, relative to the moment counting was switched on.
//!
//! Counting is off by default, so timed runs pay one relaxed load per
//! allocation (the same for every side) and no atomic read-modify-write.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicUsize, Ordering::Relaxed};

pub struct Counting;

static ON: AtomicBool = AtomicBool::new(false);
/// Bytes allocated minus bytes freed since `start` (negative when memory
/// that existed before `start` is freed).
static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

fn grow(bytes: usize) {
    let now = LIVE.fetch_add(bytes as isize, Relaxed) + bytes as isize;
    PEAK.fetch_max(now, Relaxed);
}

fn shrink(bytes: usize) {
    LIVE.fetch_sub(bytes as isize, Relaxed);
}

// SAFETY: every call is forwarded unchanged to `System`; the counters are
// side bookkeeping only.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() && ON.load(Relaxed) {
            ALLOCS.fetch_add(1, Relaxed);
            grow(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() && ON.load(Relaxed) {
            ALLOCS.fetch_add(1, Relaxed);
            grow(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        if ON.load(Relaxed) {
            shrink(layout.size());
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() && ON.load(Relaxed) {
            ALLOCS.fetch_add(1, Relaxed);
            // Counted as the old block freed after the new one exists: a
            // moving realloc briefly holds both.
            grow(new_size);
            shrink(layout.size());
        }
        p
    }
}

/// What one measured closure did to the heap.
#[derive(Debug, Clone, Copy)]
pub struct HeapUse {
    /// Highest live bytes above the level at the start.
    pub peak: usize,
    /// Live bytes above the start level once the closure returned (what the
    /// result holds, minus whatever pre-existing memory it freed).
    pub retained: isize,
    /// Allocation calls (realloc counts as one).
    pub allocs: usize,
}

/// Runs `f` with counting on; returns its output and heap use.
pub fn measure<R>(f: impl FnOnce() -> R) -> (R, HeapUse) {
    LIVE.store(0, Relaxed);
    PEAK.store(0, Relaxed);
    ALLOCS.store(0, Relaxed);
    ON.store(true, Relaxed);
    let out = f();
    ON.store(false, Relaxed);
    let use_ = HeapUse {
        peak: PEAK.load(Relaxed).max(0) as usize,
        retained: LIVE.load(Relaxed),
        allocs: ALLOCS.load(Relaxed),
    };
    (out, use_)
}
