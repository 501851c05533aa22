//! CPU clocks of a party's threads.
//!
//! A party computes on a rayon pool of its own (one or more threads). Its compute time is the CPU time of
//! all of that pool's threads, read through each thread's CPU clock (`pthread_getcpuclockid`), so work that
//! rayon spreads over several threads is counted, and work of other parties is not.

use std::sync::{Arc, Mutex};

/// CPU time consumed by the calling thread, in nanoseconds.
pub fn thread_cpu_ns() -> u64 {
    read(libc::CLOCK_THREAD_CPUTIME_ID)
}

fn read(clock: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime only writes into the timespec we own.
    let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
    if rc != 0 {
        return 0;
    }
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// The summed CPU clock of a set of threads.
#[derive(Debug, Clone, Default)]
pub struct PoolClock {
    clocks: Arc<Mutex<Vec<libc::clockid_t>>>,
    /// Read the calling thread's work meter instead of CPU clocks (a shape-only run).
    metered: bool,
}

impl PoolClock {
    /// Registers the calling thread (call from the pool's start handler).
    pub fn register_current_thread(&self) {
        let mut id: libc::clockid_t = 0;
        // SAFETY: pthread_self is the calling thread; the clock id is written into `id`.
        let rc = unsafe { libc::pthread_getcpuclockid(libc::pthread_self(), &mut id) };
        if rc == 0 {
            self.clocks.lock().unwrap_or_else(|e| e.into_inner()).push(id);
        }
    }

    /// Threads registered so far.
    pub fn threads(&self) -> usize {
        self.clocks.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Total CPU nanoseconds of the registered threads (metered: the nanoseconds the calling thread's
    /// work meter charged; the party's protocol code and its transport run on that one thread).
    pub fn cpu_ns(&self) -> u64 {
        if self.metered {
            return crate::protocol::work::charged_ns();
        }
        self.clocks.lock().unwrap_or_else(|e| e.into_inner()).iter().map(|&c| read(c)).sum()
    }
}

/// A rayon pool of `threads` threads whose CPU time `clock` reads (or, `metered`, whose work meter).
pub fn pool(threads: usize, metered: bool) -> Result<(rayon::ThreadPool, PoolClock), String> {
    let clock = PoolClock { metered, ..PoolClock::default() };
    let c2 = clock.clone();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .start_handler(move |_| c2.register_current_thread())
        .build()
        .map_err(|e| e.to_string())?;
    // The start handlers run as the threads start; wait until every thread has registered.
    while clock.threads() < threads.max(1) {
        std::thread::yield_now();
    }
    Ok((pool, clock))
}
