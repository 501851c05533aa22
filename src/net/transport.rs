//! The one networking trait. Protocol code talks only through a `Transport`; it never knows whether the
//! other parties are threads of this process, machines on a network, or whether anything records it.

use super::label::{Label, Stage};
use super::message::{Message, Payload, Seed};
use super::role::Role;
use crate::error::Result;

/// How a party sends and receives. Sends never block; receives wait for the matching message.
///
/// Errors: a receive whose peer has gone returns [`crate::Error::PeerGone`]; a message that is not the one
/// the protocol expects (another label) returns [`crate::Error::Protocol`] with the expected label.
pub trait Transport: Send {
    /// Who this end belongs to.
    fn role(&self) -> Role;
    /// Sends `msg` to `to`.
    fn send(&mut self, to: Role, msg: Message) -> Result<()>;
    /// Receives the next message from `from`, which must carry `label`.
    fn recv(&mut self, from: Role, label: &Label) -> Result<Message>;
    /// Names the stage the party's computation now belongs to (for accounting; a plain network transport
    /// ignores it).
    fn set_stage(&mut self, _stage: Stage) {}
    /// Notes a seed this party drew and shares with `with` (a recording transport keeps it in the view).
    fn note_seed(&mut self, _with: Role, _seed: &Seed) {}
    /// Notes this party's own inputs, built only if something records them.
    fn note_inputs(&mut self, _inputs: &dyn Fn() -> Vec<(String, Payload)>) {}
}

/// What a runner hands one role at the start: its own inputs and nothing else.
pub trait PartyInputs: Send + Default {
    /// The inputs by name, as they go into the role's view.
    fn describe(&self) -> Vec<(String, Payload)>;
}

/// Tensors, named by position (e.g. the operands a data owner holds).
impl PartyInputs for Vec<ndarray::ArrayD<f64>> {
    fn describe(&self) -> Vec<(String, Payload)> {
        self.iter().enumerate().map(|(i, a)| (format!("tensor {i}"), Payload::Float(a.clone()))).collect()
    }
}

/// Ring tensors (e.g. shares a party holds at the start of a measured operation).
impl PartyInputs for Vec<ndarray::ArrayD<u64>> {
    fn describe(&self) -> Vec<(String, Payload)> {
        self.iter().enumerate().map(|(i, a)| (format!("ring tensor {i}"), Payload::Ring(a.clone()))).collect()
    }
}

/// No inputs.
impl PartyInputs for () {
    fn describe(&self) -> Vec<(String, Payload)> {
        Vec::new()
    }
}
