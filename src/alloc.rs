//! An allocator for programs built on rtas, offered and never imposed: the library sets no global
//! allocator; the `rtas` binary and the benches opt in with [`jemalloc_keeping_pages!`].
//!
//! Why: secure products allocate and free tensors of tens of megabytes, and on this kind of VM the first
//! touch of a fresh page costs more than the arithmetic on it (measured: 17 ms to fault in 51 MB, 5 ms to
//! fill it with AES-CTR output). jemalloc, told to keep freed pages (no decay, no separate arena for huge
//! allocations), hands the same already-faulted pages to the next tensor: 1.6 ms instead of 17. The price is
//! that the process keeps its peak memory until it exits, which suits a command-line tool and a benchmark,
//! not necessarily a library user's long-running service.

pub use tikv_jemallocator::Jemalloc;

/// Makes jemalloc, configured to keep freed pages, the global allocator of the calling program. Use once,
/// at the top level of a binary crate.
#[macro_export]
macro_rules! jemalloc_keeping_pages {
    () => {
        #[global_allocator]
        static GLOBAL: $crate::alloc::Jemalloc = $crate::alloc::Jemalloc;

        /// jemalloc's configuration string, read at start-up.
        #[allow(non_upper_case_globals)]
        #[unsafe(export_name = "_rjem_malloc_conf")]
        pub static malloc_conf: &[u8] = b"narenas:1,oversize_threshold:0,dirty_decay_ms:-1,muzzy_decay_ms:-1\0";
    };
}
