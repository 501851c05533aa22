//! An allocator for programs built on rtas, offered and never imposed: the library sets no global
//! allocator; the `rtas` binary and the benches opt in with [`jemalloc_keeping_pages!`].
//!
//! Why: secure products allocate and free tensors of tens of megabytes, and on this kind of VM the first
//! touch of a fresh page costs more than the arithmetic on it (measured: 17 ms to fault in 51 MB, 5 ms to
//! fill it with AES-CTR output). jemalloc, told to keep freed pages (no decay, no separate arena for huge
//! allocations), hands the same already-faulted pages to the next tensor: 1.6 ms instead of 17. The price is
//! that the process keeps its peak memory until it exits, which suits a command-line tool and a benchmark,
//! not necessarily a library user's long-running service.
//!
//! One more thing keeps the pages: a zeroed allocation (`vec![0; n]`, `Array::zeros`) of a large size is
//! made as an allocation and a `memset` ([`KeepingPages`]). jemalloc, asked for zeroed memory of that size,
//! zeroes a reused extent by handing its pages back to the kernel (`MADV_DONTNEED`), so the caller's first
//! write faults every page in again and the kernel clears it. `cargo bench --bench kernel -- zeroed` (a
//! zeroed buffer written once, one run on 2026-12-05): 0.24 ns per 8-byte element at 8 MiB, cleared in place
//! (`KeepingPages`'s way), against 3.7 ns at 32 MiB, left to jemalloc; the FSS gates' key messages (6.3 MB)
//! are of the first kind. Zeroed buffers of 16 MiB
//! and more are still left to the kernel: cleared in place they stay resident whether or not they are
//! written, and `rtas report`'s peak grew from 2.6-2.8 GB to 5.0 GB (2.9 GB with the cap).

use std::alloc::{GlobalAlloc, Layout};
pub use tikv_jemallocator::Jemalloc;

/// jemalloc, with large zeroed allocations cleared in place instead of by the kernel (see the module's
/// documentation).
pub struct KeepingPages;

/// Zeroed allocations from this size on are cleared by `memset` (below it jemalloc's own zeroing is as fast).
const CLEARED_IN_PLACE: usize = 64 << 10;

/// Zeroed allocations from this size on are left to jemalloc (and so to the kernel's zero pages).
const LEFT_TO_THE_KERNEL: usize = 16 << 20;

// SAFETY: every method forwards to jemalloc with the same arguments; `alloc_zeroed` returns memory jemalloc
// allocated for `layout`, all of whose `layout.size()` bytes it has set to zero, or null as jemalloc did.
unsafe impl GlobalAlloc for KeepingPages {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is `GlobalAlloc::alloc`'s, passed on unchanged.
        unsafe { Jemalloc.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if !(CLEARED_IN_PLACE..LEFT_TO_THE_KERNEL).contains(&layout.size()) {
            // SAFETY: as in `alloc`.
            return unsafe { Jemalloc.alloc_zeroed(layout) };
        }
        // SAFETY: as in `alloc`; a non-null result is valid for writes of `layout.size()` bytes.
        let p = unsafe { Jemalloc.alloc(layout) };
        if !p.is_null() {
            // SAFETY: `p` points to `layout.size()` writable bytes just allocated.
            unsafe { std::ptr::write_bytes(p, 0, layout.size()) };
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by this allocator (that is, by jemalloc) with `layout`.
        unsafe { Jemalloc.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as in `dealloc`, with the caller's `new_size` contract passed on.
        unsafe { Jemalloc.realloc(ptr, layout, new_size) }
    }
}

/// Makes jemalloc, configured to keep freed pages, the global allocator of the calling program. Use once,
/// at the top level of a binary crate.
#[macro_export]
macro_rules! jemalloc_keeping_pages {
    () => {
        #[global_allocator]
        static GLOBAL: $crate::alloc::KeepingPages = $crate::alloc::KeepingPages;

        /// jemalloc's configuration string, read at start-up.
        #[allow(non_upper_case_globals)]
        #[unsafe(export_name = "_rjem_malloc_conf")]
        pub static malloc_conf: &[u8] = b"narenas:1,oversize_threshold:0,dirty_decay_ms:-1,muzzy_decay_ms:-1\0";
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeroed_allocations_are_zero_even_where_dirty_memory_is_reused() {
        // Sizes on both sides of the threshold; each allocated, dirtied and freed, then asked for zeroed.
        for size in [64usize, 4096, CLEARED_IN_PLACE - 8, CLEARED_IN_PLACE, 1 << 20, 9 << 20] {
            let layout = Layout::from_size_align(size, 64).unwrap();
            for _ in 0..3 {
                // SAFETY: a non-zero size; every pointer is checked for null, used within `size` bytes, and
                // freed with the layout it was allocated with.
                unsafe {
                    let dirty = KeepingPages.alloc(layout);
                    assert!(!dirty.is_null());
                    std::ptr::write_bytes(dirty, 0xa5, size);
                    KeepingPages.dealloc(dirty, layout);
                    let z = KeepingPages.alloc_zeroed(layout);
                    assert!(!z.is_null());
                    let bytes = std::slice::from_raw_parts(z, size);
                    assert!(bytes.iter().all(|&b| b == 0), "{size} bytes not all zero");
                    assert_eq!(z as usize % 64, 0, "alignment kept");
                    KeepingPages.dealloc(z, layout);
                }
            }
        }
    }
}
