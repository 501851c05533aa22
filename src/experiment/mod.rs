//! Experiments: protocol runs measured and replayed under network profiles, returned as plain structs for
//! the CLI and the report.

pub mod audit;
pub mod claims;
pub mod custom;
pub mod helper_linking;
pub mod op;
pub mod plan;
pub mod reference;
pub mod report;
pub mod shared_runs;
pub mod simulate;
pub mod tables;
