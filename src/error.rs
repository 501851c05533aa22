//! The library's one error type. Every variant is something a user can cause (a flag, a file, a size), a
//! numerical routine that could not converge, or a protocol run that failed; the CLI prints it as one line and
//! exits with code 2.

use std::fmt;
use std::path::PathBuf;

/// The party an error is about, by its short name (`P0`, `P1`, `D`, `T`, `O`). The error type stands below
/// every module, so it carries the name instead of `net::Role` (which converts into it and compares with it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartyName(pub &'static str);

impl fmt::Display for PartyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// The protocol step an error happened at, as its label prints (`t3/dense/fwd/open`). Made from a
/// `net::Label`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepName(pub String);

impl fmt::Display for StepName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

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
    /// A data file (CSV, NPY) was read but is not valid: the reason names the row and column where one
    /// applies.
    #[error("{}: {reason}", path.display())]
    Data {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A numerical routine failed (no convergence, singular system).
    #[error("numerical failure: {0}")]
    Numerical(String),
    /// A party of a protocol run received something other than what the protocol expects at this point
    /// (another label, a wrong shape or kind of payload), waited past its timeout, or was asked for
    /// something its role does not hold.
    #[error("protocol error{}: {reason}", at(label))]
    Protocol {
        /// The step where it happened, where one is known.
        label: Option<StepName>,
        /// What went wrong.
        reason: String,
    },
    /// A peer stopped (its thread or process ended) before sending what was expected, or before taking what
    /// was sent to it. In a failed run this is a consequence; the runner reports the root cause instead.
    #[error("{0} left the protocol")]
    PeerGone(PartyName),
    /// A deployed party lost a peer: its connection broke or closed while the protocol still needed it.
    /// Names the step this party was at.
    #[error("lost {peer}{}: {reason}", at(label))]
    PeerLost {
        /// The peer.
        peer: PartyName,
        /// The step this party was waiting at or sending from, where known.
        label: Option<StepName>,
        /// What the connection said.
        reason: String,
    },
    /// A party's code panicked.
    #[error("party {role} panicked: {message}")]
    PartyPanicked {
        /// The party.
        role: PartyName,
        /// The panic message.
        message: String,
    },
    /// The run was stopped on request ([`crate::cancel`]: Ctrl-C in the Python package).
    #[error("interrupted")]
    Cancelled,
}

impl Error {
    /// The message without its kind's prefix, for wrapping in a message that names the file or flag.
    pub fn detail(&self) -> String {
        match self {
            Error::InvalidArgument(m) => m.clone(),
            e => e.to_string(),
        }
    }
}

fn at(label: &Option<StepName>) -> String {
    label.as_ref().map(|l| format!(" at '{l}'")).unwrap_or_default()
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
