//! The NPY reader: an array whose shape multiplies to its length (at most 2^31 elements), or an error;
//! never an allocation larger than the bytes given.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(n) = rtas::data::table::parse_npy(data, std::path::Path::new("fuzz.npy")) {
        assert_eq!(n.shape.iter().product::<usize>(), n.data.len());
        assert!(n.data.len() <= data.len());
    }
});
