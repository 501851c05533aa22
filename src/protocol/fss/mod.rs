//! Function secret sharing in the dealer model: the cryptographic baseline beside RTAS's helper.
//!
//! - [`dcf`]: distributed comparison functions (keys from the dealer, evaluated locally by P0 and P1);
//! - [`dpf`]: comparison from distributed point functions (half the key of a DCF, an XOR-shared bit out);
//! - [`mmo`]: the tree PRG (fixed-key AES over many blocks, on the fastest path this CPU has);
//! - [`gates`]: relu, its derivative, sigmoid and its derivative as spline gates, one online round.

pub mod dcf;
pub mod dpf;
pub mod gates;
// AES-NI and VAES intrinsics, behind run-time feature detection.
#[allow(unsafe_code)]
pub mod mmo;
