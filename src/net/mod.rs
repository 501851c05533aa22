//! The vocabulary every transport and every protocol shares, and nothing else: who takes part ([`Role`]),
//! what travels ([`Message`], [`Payload`], [`Phase`], [`ViewKind`], [`Seed`]), where in a run a message
//! belongs ([`Label`], [`Stage`], [`Op`]), and how a party sends and receives ([`Transport`]).
//!
//! This is the bottom layer: it imports nothing of the crate but the error type. Protocol code
//! (`crate::protocol`) talks only through a [`Transport`]; the in-memory simulator (`crate::sim`) and the
//! recording wrapper implement it, and so does the TCP transport of `crate::deploy`, which puts messages on the
//! wire as [`frame`]s.

pub mod frame;
pub mod label;
pub mod message;
pub mod role;
pub mod transport;

pub(crate) use label::protocol_error;
pub use label::{Label, Op, Stage};
pub use message::{Message, Payload, Phase, Seed, ViewKind};
pub use role::Role;
pub use transport::{PartyInputs, Transport};
