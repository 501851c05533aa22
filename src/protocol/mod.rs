//! The RTAS protocol primitives, written once per role (SPMD): every party runs the same code and does its
//! own part of each step, talking only through its [`crate::net::Transport`]; protocol code never knows
//! whether the others are threads, processes, or recorded.
//!
//! - [`ring`]: Z_2^64 fixed point (and the paper's insecure float sharing), truncation;
//! - [`share`]: a party's share of a tensor, local operations;
//! - [`prg`]: AES-128-CTR, the PRG behind seed-compressed shares;
//! - [`party`]: a party's context (role, seeds, transport, the dealer's own state);
//! - [`io`]: input sharing, opening, revealing (RTAS-fast's hand-over to the third party);
//! - [`dealer`]: Beaver triples, [`dealer_state`]: what only the dealer holds; [`beaver`]: online products; [`conv`]: im2col;
//! - [`functions`]: the models' element-wise functions; [`elementwise`]: them through the permutation helper;
//!   [`fss`]: them through FSS gates, no helper; [`nonlinear`]: either, as the protocol says;
//! - [`kernel`]: the ring products (integer kernels and f64 limbs, chosen by measurement) and the f64 product;
//! - [`truncation`]: counting fixed-point truncation failures in a simulation;
//! - [`work`]: what a shape-only run (`rtas plan`) charges instead of computing.

pub mod beaver;
pub mod conv;
pub mod dealer;
pub mod dealer_state;
pub mod elementwise;
pub mod fss;
pub mod functions;
pub mod io;
pub mod kernel;
pub mod nonlinear;
pub mod party;
pub mod prg;
pub mod ring;
pub mod share;
pub mod truncation;
pub mod work;
