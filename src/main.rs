//! The `rtas` binary: everything happens in [`rtas::cli`].

fn main() {
    std::process::exit(rtas::cli::run(std::env::args_os()));
}
