//! Interleaved timing: every contender runs once per round, rounds rotate
//! the starting contender, and the figures are medians over rounds, so
//! contenders share the machine's noise instead of each getting its own.
//!
//! Each batch is timed twice: in the calling thread's CPU time and in wall
//! time. CPU time leaves out the time the thread spends descheduled while
//! other processes use the shared cores, so it measures the work itself
//! with far less noise; it sees only work done on the calling thread (the
//! benches keep the client's work there: blocking calls, current-thread
//! runtimes) and not time spent waiting, which wall time still shows.

use std::time::{Duration, Instant};

/// One batch's time, both ways.
#[derive(Debug, Clone, Copy)]
pub struct Measured {
    /// The calling thread's CPU time.
    pub cpu: Duration,
    /// Wall time.
    pub wall: Duration,
}

/// Starts both clocks; [`Stopwatch::stop`] reads both.
pub struct Stopwatch {
    cpu: Duration,
    wall: Instant,
}

impl Stopwatch {
    pub fn start() -> Stopwatch {
        Stopwatch {
            cpu: thread_cpu_time(),
            wall: Instant::now(),
        }
    }

    pub fn stop(&self) -> Measured {
        let wall = self.wall.elapsed();
        Measured {
            cpu: thread_cpu_time().saturating_sub(self.cpu),
            wall,
        }
    }
}

/// Which clock a figure is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    Cpu,
    Wall,
}

/// One side of a comparison: `run(n)` does `n` iterations (untimed setup
/// allowed) and returns the time the `n` iterations alone took.
pub struct Contender<'a> {
    pub run: Box<dyn FnMut(u64) -> Measured + 'a>,
}

impl<'a> Contender<'a> {
    pub fn new(run: impl FnMut(u64) -> Measured + 'a) -> Self {
        Contender { run: Box::new(run) }
    }

    /// A contender whose every iteration is `f()`, timed as a whole batch.
    pub fn simple<R>(mut f: impl FnMut() -> R + 'a) -> Self {
        Contender::new(move |n| {
            let start = Stopwatch::start();
            for _ in 0..n {
                std::hint::black_box(f());
            }
            start.stop()
        })
    }
}

/// The calling thread's CPU time (Linux: `CLOCK_THREAD_CPUTIME_ID`;
/// elsewhere wall time).
#[cfg(target_os = "linux")]
fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant
    // Linux always supports.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

#[cfg(not(target_os = "linux"))]
fn thread_cpu_time() -> Duration {
    use std::sync::OnceLock;
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed()
}

/// Seconds per iteration, one value per round, for each contender, on
/// one clock.
pub struct Timings {
    pub per_iter: Vec<Vec<f64>>,
}

/// Both clocks' timings of one comparison.
pub struct Both {
    pub cpu: Timings,
    pub wall: Timings,
}

impl Both {
    pub fn on(&self, clock: Clock) -> &Timings {
        match clock {
            Clock::Cpu => &self.cpu,
            Clock::Wall => &self.wall,
        }
    }
}

impl Timings {
    pub fn median(&self, contender: usize) -> f64 {
        median(&self.per_iter[contender])
    }

    /// `time(baseline) / time(ours)` in each round, summarised over rounds:
    /// > 1 means ours is faster.
    pub fn speedup(&self, ours: usize, baseline: usize) -> Spread {
        self.per_round(baseline, ours)
    }

    /// `time(ours) / time(baseline)` in each round, summarised over rounds:
    /// < 1 means ours is faster.
    pub fn overhead(&self, ours: usize, baseline: usize) -> Spread {
        self.per_round(ours, baseline)
    }

    fn per_round(&self, num: usize, den: usize) -> Spread {
        let ratios: Vec<f64> = self.per_iter[num]
            .iter()
            .zip(&self.per_iter[den])
            .map(|(n, d)| n / d)
            .collect();
        Spread::of(&ratios)
    }

    /// Relative spread (inter-quartile range over median) of one contender.
    pub fn spread(&self, contender: usize) -> f64 {
        let mut v = self.per_iter[contender].clone();
        v.sort_by(f64::total_cmp);
        let q = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
        (q(0.75) - q(0.25)) / q(0.5)
    }
}

/// A ratio over rounds: its median and its inter-quartile range.
#[derive(Debug, Clone, Copy)]
pub struct Spread {
    pub q1: f64,
    pub median: f64,
    pub q3: f64,
}

impl Spread {
    pub fn of(values: &[f64]) -> Spread {
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        let q = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
        Spread {
            q1: q(0.25),
            median: median(values),
            q3: q(0.75),
        }
    }

    /// `1.08 (1.03–1.12)`: median, then the inter-quartile range.
    pub fn show(&self) -> String {
        format!("{:.2} ({:.2}–{:.2})", self.median, self.q1, self.q3)
    }
}

pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    }
}

/// How many iterations make a batch of about `target`.
/// Wall time, so a batch's real length stays bounded.
fn calibrate(run: &mut dyn FnMut(u64) -> Measured, target: Duration, max_iters: u64) -> u64 {
    run(1); // warm caches, allocator, lazy statics
    let mut n = 1u64;
    loop {
        let t = run(n).wall;
        if t >= target / 4 || n >= max_iters {
            let per = t.as_secs_f64().max(1e-9) / n as f64;
            return ((target.as_secs_f64() / per) as u64).clamp(1, max_iters);
        }
        n = (n * 4).min(max_iters);
    }
}

/// Runs `rounds` rounds of every contender, each batch about `target` long.
pub fn interleaved(
    contenders: &mut [Contender<'_>],
    rounds: usize,
    target: Duration,
    max_iters: u64,
) -> Both {
    let iters: Vec<u64> = contenders
        .iter_mut()
        .map(|c| calibrate(&mut c.run, target, max_iters))
        .collect();
    let k = contenders.len();
    let mut cpu = vec![Vec::with_capacity(rounds); k];
    let mut wall = vec![Vec::with_capacity(rounds); k];
    for round in 0..rounds {
        for j in 0..k {
            let i = (round + j) % k;
            let t = (contenders[i].run)(iters[i]);
            cpu[i].push(t.cpu.as_secs_f64() / iters[i] as f64);
            wall[i].push(t.wall.as_secs_f64() / iters[i] as f64);
        }
    }
    Both {
        cpu: Timings { per_iter: cpu },
        wall: Timings { per_iter: wall },
    }
}
