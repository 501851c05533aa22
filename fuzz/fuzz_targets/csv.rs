//! The CSV reader: a table that satisfies its invariants (finite values, one label per row, names per
//! column), or an error. The first byte chooses whether to ask for a label column (named by the
//! header's first field).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let label = if mode % 2 == 1 {
        std::str::from_utf8(rest).ok().and_then(|t| t.lines().next()).and_then(|l| l.split(',').next()).map(str::trim)
    } else {
        None
    };
    if let Ok(t) = rtas::data::table::parse_csv(rest, label, std::path::Path::new("fuzz.csv")) {
        t.check().unwrap();
        assert!(t.rows > 0 && t.cols > 0);
    }
});
