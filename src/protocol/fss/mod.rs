//! Function secret sharing in the dealer model: the cryptographic baseline beside RTAS's helper.
//!
//! - [`dcf`]: distributed comparison functions (keys from the dealer, evaluated locally by P0 and P1);
//! - [`dpf`]: comparison from distributed point functions (half the key of a DCF, an XOR-shared bit out);
//! - [`mmo`]: the tree PRG (fixed-key AES over many blocks, on the fastest path this CPU has);
//! - `trie`: a key's several points walking its tree together (the evaluations of a spline gate's breaks;
//!   `dpf::eval_sets` takes it or the points apart in lanes, whichever measured faster);
//! - `simd`: what the lane-wise AVX-512 paths of [`dcf`] and [`dpf`] share;
//! - [`gates`]: relu, its derivative, sigmoid and its derivative as spline gates, in one online round (DCF) or
//!   two (DPF).

pub mod dcf;
pub mod dpf;
pub mod gates;
mod trie;
// AES-NI and VAES intrinsics, behind run-time feature detection.
#[allow(unsafe_code)]
pub mod mmo;
// AVX-512 block moves shared by the lane-wise DCF and DPF paths.
#[allow(unsafe_code)]
mod simd;
