//! Stopping a long run from outside: the Python package sets the flag when Ctrl-C reaches the interpreter, and
//! the long loops (training steps, the audit's rows, the report's sections, Monte Carlo trials) check it
//! between units of work and end with [`Error::Cancelled`]. The CLI never sets it (Ctrl-C ends the process).
//! One flag for the process: a request stops every run in progress, and the next run clears it at its start.

use crate::error::{Error, Result};
use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Asks every run in progress to stop at its next check.
pub fn request() {
    REQUESTED.store(true, Ordering::SeqCst);
}

/// Clears a request (a new run starts).
pub fn clear() {
    REQUESTED.store(false, Ordering::SeqCst);
}

/// Whether a stop was requested: for loops that cannot return an error (a search that keeps its best so far
/// stops early; its caller then [`check`]s).
pub fn requested() -> bool {
    REQUESTED.load(Ordering::Relaxed)
}

/// `Err(Error::Cancelled)` once a stop was requested.
pub fn check() -> Result<()> {
    if REQUESTED.load(Ordering::Relaxed) { Err(Error::Cancelled) } else { Ok(()) }
}

/// Counts `n` units of work done on `pb`, then [`check`]s: the long loops' one call per unit.
pub fn tick(pb: &indicatif::ProgressBar, n: u64) -> Result<()> {
    pb.inc(n);
    check()
}
