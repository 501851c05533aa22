//! Function secret sharing in the dealer model: the cryptographic baseline beside RTAS's helper.
//!
//! - [`dcf`]: distributed comparison functions (keys from the dealer, evaluated locally by P0 and P1);
//! - [`gates`]: relu, its derivative, sigmoid and its derivative as spline gates, one online round.

pub mod dcf;
pub mod gates;
