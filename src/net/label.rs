//! Where in a run a message belongs: a typed label.
//!
//! A label is a [`Stage`] (setup, training step i, inference batch j, ...), a layer path inside it
//! (`dense/fwd`, `relu`, `x`; empty for none) and, once a protocol primitive has added it, the [`Op`] that
//! sent the message (`open`, `triple`, `permuted`, ...). Its `Display` is the path people read in ledgers,
//! e.g. `t3/dense/fwd/open`; code selects by the fields, never by parsing that string.

use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// The part of a run a message or a compute interval belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Stage {
    /// Seed agreement between parties (before anything else).
    Setup,
    /// Sharing the model's initial parameters.
    Params,
    /// Sharing and masking a whole training set once (mask reuse).
    Data,
    /// Training step `i` (from 0).
    Train(u32),
    /// Inference batch `j` (from 0).
    Infer(u32),
    /// Sharing the inputs of a single measured operation.
    Input,
    /// A single measured operation.
    Op,
    /// Opening a single operation's output.
    Output,
    /// After the last message.
    Done,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stage::Setup => f.write_str("setup"),
            Stage::Params => f.write_str("setup/params"),
            Stage::Data => f.write_str("setup/data"),
            Stage::Train(i) => write!(f, "t{i}"),
            Stage::Infer(j) => write!(f, "i{j}"),
            Stage::Input => f.write_str("input"),
            Stage::Op => f.write_str("op"),
            Stage::Output => f.write_str("output"),
            Stage::Done => f.write_str("done"),
        }
    }
}

impl Stage {
    /// A label in this stage with layer path `layer`.
    pub fn at(self, layer: impl Into<String>) -> Label {
        Label { stage: self, layer: layer.into(), op: None }
    }
}

/// The protocol primitive that sent a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Op {
    /// A PRG seed agreed at setup.
    Seed,
    /// A share sent by an input's owner.
    Share,
    /// An exchange of shares or masked values between P0 and P1.
    Open,
    /// Shares sent to one party, who reconstructs.
    Reveal,
    /// The dealer's correction of a Beaver triple.
    Triple,
    /// Permuted shares sent to the element-wise helper.
    Permuted,
    /// The helper's fresh share of the `k`-th function's result.
    Reshare(u32),
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Seed => f.write_str("seed"),
            Op::Share => f.write_str("share"),
            Op::Open => f.write_str("open"),
            Op::Reveal => f.write_str("reveal"),
            Op::Triple => f.write_str("triple"),
            Op::Permuted => f.write_str("permuted"),
            Op::Reshare(k) => write!(f, "reshare{k}"),
        }
    }
}

/// Where a message belongs: stage, layer path, and the primitive that sent it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Label {
    /// The stage.
    pub stage: Stage,
    /// Layer path inside the stage (`dense/fwd`; empty for none).
    pub layer: String,
    /// The primitive, once one has added it.
    pub op: Option<Op>,
}

impl Label {
    /// This label with `op` as its primitive.
    pub fn op(&self, op: Op) -> Label {
        Label { op: Some(op), ..self.clone() }
    }

    /// This label with `part` appended to its layer path (`dense` + `fwd` = `dense/fwd`).
    pub fn sub(&self, part: &str) -> Label {
        let layer = if self.layer.is_empty() { part.to_string() } else { format!("{}/{part}", self.layer) };
        Label { layer, ..self.clone() }
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.stage)?;
        if !self.layer.is_empty() {
            write!(f, "/{}", self.layer)?;
        }
        if let Some(op) = self.op {
            write!(f, "/{op}")?;
        }
        Ok(())
    }
}

impl Serialize for Label {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl From<&Label> for crate::error::StepName {
    fn from(l: &Label) -> Self {
        crate::error::StepName(l.to_string())
    }
}

impl From<Label> for crate::error::StepName {
    fn from(l: Label) -> Self {
        crate::error::StepName(l.to_string())
    }
}

/// Shorthand for an [`crate::Error::Protocol`] at `label`.
pub(crate) fn protocol_error(label: Option<&Label>, reason: impl Into<String>) -> crate::Error {
    crate::Error::Protocol { label: label.map(Into::into), reason: reason.into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_the_readable_path() {
        assert_eq!(Stage::Train(3).at("dense/fwd").op(Op::Open).to_string(), "t3/dense/fwd/open");
        assert_eq!(Stage::Setup.at("").op(Op::Seed).to_string(), "setup/seed");
        assert_eq!(Stage::Params.at("w").op(Op::Share).to_string(), "setup/params/w/share");
        assert_eq!(Stage::Infer(0).at("sig1").op(Op::Reshare(1)).to_string(), "i0/sig1/reshare1");
        assert_eq!(Stage::Data.at("").sub("x").to_string(), "setup/data/x");
        assert_eq!(Stage::Train(1).at("dense").sub("fwd").to_string(), "t1/dense/fwd");
    }
}
