//! rtas: private machine learning by random transformations, made runnable and checkable.
//!
//! - [`analysis`]: reconstructive-privacy bounds in log space and their Monte Carlo estimates;
//! - [`data`]: IDX files (raw or gzip) and the bundled MNIST digits;
//! - [`cli`]: the `rtas` command line, a thin layer over the library.
//!
//! See `DESIGN.md` of the project for the vocabulary (party, share, view, ledger, bound, estimate).

mod alloc;
pub mod analysis;
pub mod attacks;
pub mod cli;
pub mod data;
pub mod error;
pub mod experiment;
pub mod models;
pub mod plot;
pub mod protocol;
pub mod rng;
pub mod sim;

pub use error::{Error, Result};
