//! The IDX reader (raw or gzip): data whose dimensions multiply to its length, or an error.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(idx) = rtas::data::idx::parse(data, std::path::Path::new("fuzz")) {
        assert!(!idx.dims.is_empty() && idx.dims.iter().all(|&d| d > 0));
        assert_eq!(idx.dims.iter().product::<usize>(), idx.data.len());
    }
});
