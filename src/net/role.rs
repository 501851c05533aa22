//! Who takes part: the computing parties, the dealer/helper, the third party of RTAS-fast, a data owner.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A participant. Protocol code is written once per role (SPMD): every role runs the same function and
/// does its own part of each step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Role {
    /// Computing party 0: holds additive shares.
    P0,
    /// Computing party 1: holds additive shares.
    P1,
    /// The semi-honest dealer (`P2` in the paper): Beaver triples and the element-wise helper.
    Dealer,
    /// RTAS-fast's label holder (`P3`): trains the tail of the model in plaintext.
    ThirdParty,
    /// A data owner who secret-shares its inputs with P0 and P1.
    Owner,
}

impl Role {
    /// Every role, in index order.
    pub const ALL: [Role; 5] = [Role::P0, Role::P1, Role::Dealer, Role::ThirdParty, Role::Owner];

    /// A dense index 0..5.
    pub fn index(self) -> usize {
        self as usize
    }

    /// 0 or 1 for a computing party.
    pub fn share_index(self) -> Option<usize> {
        match self {
            Role::P0 => Some(0),
            Role::P1 => Some(1),
            _ => None,
        }
    }

    /// Whether this role holds shares.
    pub fn is_computing(self) -> bool {
        self.share_index().is_some()
    }

    /// The other computing party.
    pub fn peer(self) -> Role {
        if self == Role::P0 { Role::P1 } else { Role::P0 }
    }

    /// Short name used in ledgers and tables (`P0`, `P1`, `D`, `T`, `O`).
    pub fn short(self) -> &'static str {
        match self {
            Role::P0 => "P0",
            Role::P1 => "P1",
            Role::Dealer => "D",
            Role::ThirdParty => "T",
            Role::Owner => "O",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.short())
    }
}

impl From<Role> for crate::error::PartyName {
    fn from(r: Role) -> Self {
        crate::error::PartyName(r.short())
    }
}

impl PartialEq<Role> for crate::error::PartyName {
    fn eq(&self, r: &Role) -> bool {
        self.0 == r.short()
    }
}
