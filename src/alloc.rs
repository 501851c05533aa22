//! The allocator. Secure products allocate and free tensors of tens of megabytes, and on this kind of VM
//! the first touch of a fresh page costs more than the arithmetic on it (measured: 17 ms to fault in
//! 51 MB, 5 ms to fill it with AES-CTR output). jemalloc, told to keep freed pages (no decay, no separate
//! arena for huge allocations), hands the same already-faulted pages to the next tensor: 1.6 ms instead of
//! 17. The price is that the process keeps its peak memory until it exits, which suits a command-line tool.

#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's configuration string, read at start-up.
#[allow(non_upper_case_globals)]
#[unsafe(export_name = "_rjem_malloc_conf")]
pub static malloc_conf: &[u8] = b"narenas:1,oversize_threshold:0,dirty_decay_ms:-1,muzzy_decay_ms:-1\0";
