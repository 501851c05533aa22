//! The small integration tests in one binary (each test binary costs CI about 20 s to compile and link):
//! reference values of the bounds, the estimators' coverage, the module layering, the protocol engine, and
//! differential privacy. The long ones (attacks, cli, deploy, models, report, shaped) keep binaries of their
//! own. Run one part with `cargo test --release --test suite dp::`.

#[path = "bounds_reference.rs"]
mod bounds_reference;
#[path = "dp.rs"]
mod dp;
#[path = "estimates.rs"]
mod estimates;
#[path = "layering.rs"]
mod layering;
#[path = "protocol.rs"]
mod protocol;
