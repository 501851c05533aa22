//! What travels between parties.
//!
//! Byte accounting: a message's size is its payload, 8 bytes per ring (or f64) element and 16 per seed. No
//! header is counted: shapes, labels and step order are fixed by the protocol (every party runs the same
//! program), so a real implementation need not send them. The network profile's per-message overhead stands
//! for framing (TCP/IP, TLS) where a user wants it.

use super::label::Label;
use ndarray::ArrayD;
use serde::{Deserialize, Serialize};

/// A PRG seed (AES-128 key).
pub type Seed = [u8; 16];

/// What travels.
#[derive(Debug, Clone)]
pub enum Payload {
    /// Ring elements (Z_2^64).
    Ring(ArrayD<u64>),
    /// Floating-point values (the paper's float sharing, or plaintext to/from the third party).
    Float(ArrayD<f64>),
    /// A PRG seed.
    Seed(Seed),
    /// Ring elements counted but not carried: the shape of a tensor in a shape-only run (`rtas plan`),
    /// 8 bytes per element in the ledger. No transport sends one.
    Shape(Vec<usize>),
}

impl Payload {
    /// Bytes on the wire.
    pub fn bytes(&self) -> u64 {
        match self {
            Payload::Ring(a) => 8 * a.len() as u64,
            Payload::Float(a) => 8 * a.len() as u64,
            Payload::Seed(_) => 16,
            Payload::Shape(s) => 8 * s.iter().product::<usize>() as u64,
        }
    }

    /// Number of elements (1 for a seed).
    pub fn len(&self) -> usize {
        match self {
            Payload::Ring(a) => a.len(),
            Payload::Float(a) => a.len(),
            Payload::Seed(_) => 1,
            Payload::Shape(s) => s.iter().product(),
        }
    }

    /// Whether it holds no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `ring`, `float` or `seed`.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Payload::Ring(_) => "ring",
            Payload::Float(_) => "float",
            Payload::Seed(_) => "seed",
            Payload::Shape(_) => "shape",
        }
    }
}

/// Dealer material that does not depend on inputs is `Offline`; everything else is `Online`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Before inputs exist (triples, masks, seeds).
    Offline,
    /// Depends on inputs.
    Online,
}

impl Phase {
    /// Both phases, offline first.
    pub const ALL: [Phase; 2] = [Phase::Offline, Phase::Online];

    /// `offline` or `online`.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Offline => "offline",
            Phase::Online => "online",
        }
    }
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What a received value is, for the views attacks read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ViewKind {
    /// A PRG seed.
    Seed,
    /// A share or share correction (uniformly random to its receiver).
    Share,
    /// A masked opening `X - U` of Beaver's protocol.
    MaskedOpening,
    /// A randomly permuted reconstruction seen by the element-wise helper.
    Permuted,
    /// A shared tensor revealed to the third party (RTAS-fast activations).
    Revealed,
    /// A plaintext value sent by the third party (a gradient before it is shared).
    Plain,
    /// A final output opened to its receiver.
    Output,
}

/// One message.
#[derive(Debug, Clone)]
pub struct Message {
    /// Where in the run it belongs, e.g. `t3/dense/fwd/open`.
    pub label: Label,
    /// What the receiver sees in it.
    pub kind: ViewKind,
    /// Offline or online.
    pub phase: Phase,
    /// The content.
    pub payload: Payload,
}
