//! The `rtas` binary: everything happens in [`rtas::cli`]. It keeps freed pages in jemalloc
//! (`rtas::alloc`): large tensors reuse pages already faulted in.

#[cfg(feature = "jemalloc")]
rtas::jemalloc_keeping_pages!();

fn main() {
    std::process::exit(rtas::cli::run(std::env::args_os()));
}
