//! The library's one error type. Every variant is something a user can cause (a flag, a file, a size) or a
//! numerical routine that could not converge; the CLI prints it as one line and exits with code 2.

use std::path::PathBuf;

/// Everything that can go wrong in rtas.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A parameter is outside its domain (zero, negative, NaN, inconsistent with another one).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A file could not be opened or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A file was read but is not a valid IDX file (or not the one expected).
    #[error("{}: malformed IDX file: {reason}", path.display())]
    Idx {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A numerical routine failed (no convergence, singular system).
    #[error("numerical failure: {0}")]
    Numerical(String),
}

/// The library's result type.
pub type Result<T> = std::result::Result<T, Error>;

/// Shorthand for an [`Error::InvalidArgument`].
pub(crate) fn invalid(msg: impl Into<String>) -> Error {
    Error::InvalidArgument(msg.into())
}

/// A finite number above zero (false for NaN).
pub(crate) fn positive(x: f64) -> bool {
    x.is_finite() && x > 0.0
}

/// A finite number at or above zero (false for NaN).
pub(crate) fn non_negative(x: f64) -> bool {
    x.is_finite() && x >= 0.0
}
