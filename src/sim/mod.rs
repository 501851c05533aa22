//! The simulator: virtual parties on threads over an in-memory transport ([`memory`]), the recording
//! wrapper around any transport ([`record`]), the runner ([`run`]), the cost model that replays traces
//! under network profiles ([`cost`]) and the one measurement path built on it ([`measure`]). Knows parties
//! and networks, not models.

// clock_gettime and pthread_getcpuclockid through libc: each call writes only into memory it owns.
#[allow(unsafe_code)]
pub mod clock;
pub mod cost;
pub mod measure;
pub mod memory;
pub mod record;
pub mod run;
