//! rtas: private machine learning by random transformations, made runnable and checkable.
//!
//! Layers, bottom up (a module imports only modules of lower layers):
//!
//! - [`error`], [`rng`]: the one error type; seeded, splittable randomness.
//! - [`net`]: roles, typed messages and labels, seeds, the [`net::Transport`] trait. Imports nothing above.
//! - [`protocol`]: the RTAS primitives (ring, shares, dealer, Beaver products, element-wise functions
//!   through the helper, input and output), written once per role over a `Transport`. Imports `net`.
//! - [`sim`]: the in-memory transport, the recording wrapper around any transport (ledger, views, traces),
//!   the runner, the network cost model and the measurement of a recording.
//! - [`data`]: IDX files (raw or gzip) and the bundled MNIST digits.
//! - [`models`]: the paper's logistic regression and CNN, plaintext and under RTAS / RTAS-fast.
//! - [`analysis`]: reconstructive-privacy bounds in log space and their Monte Carlo estimates (pure math:
//!   imports no protocol and no simulator).
//! - [`attacks`]: one file per attack family; each reads one role's [`sim::record::View`] plus the side
//!   knowledge it declares.
//! - [`experiment`]: measured runs (`op`, `simulate`), the paper's tables, the audit, the report.
//! - [`plot`]: charts (plotters), nothing else.
//! - [`cli`]: the `rtas` command line, a thin layer over the library.
//! - [`alloc`]: an allocator a binary may opt into (the library sets none).
//!
//! See `DESIGN.md` of the project for the vocabulary (party, share, view, ledger, bound, estimate, claim).
//!
//! Unsafe code is denied crate-wide; the modules that need it (SIMD kernels, thread CPU clocks) allow it
//! where they say why.

#![deny(unsafe_code)]

// The opt-in allocator macro expands an `unsafe(export_name)` attribute in the binary that uses it.
#[allow(unsafe_code)]
#[cfg(feature = "jemalloc")]
pub mod alloc;
pub mod analysis;
pub mod attacks;
pub mod cancel;
pub mod cli;
pub mod data;
pub mod deploy;
pub mod error;
pub mod experiment;
pub mod models;
pub mod net;
pub mod plot;
pub mod protocol;
pub mod rng;
pub mod sim;

pub use error::{Error, Result};
