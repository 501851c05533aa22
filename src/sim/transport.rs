//! Messages and the `Transport` trait. Protocol code talks only through a `Transport`; it never knows whether
//! the other parties are threads of this process (the simulator below) or machines on a network.
//!
//! Byte accounting: a message's size is its payload, 8 bytes per ring (or f64) element and 16 per seed. No
//! header is counted: shapes, labels and step order are fixed by the protocol (every party runs the same
//! program), so a real implementation need not send them. The network profile's per-message overhead stands
//! for framing (TCP/IP, TLS) where a user wants it.

use super::party::Role;
use super::record::{Recorder, TraceEvent};
use crate::error::{Error, Result};
use ndarray::ArrayD;
use serde::Serialize;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

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
}

impl Payload {
    /// Bytes on the wire.
    pub fn bytes(&self) -> u64 {
        match self {
            Payload::Ring(a) => 8 * a.len() as u64,
            Payload::Float(a) => 8 * a.len() as u64,
            Payload::Seed(_) => 16,
        }
    }

    /// Number of elements (1 for a seed).
    pub fn len(&self) -> usize {
        match self {
            Payload::Ring(a) => a.len(),
            Payload::Float(a) => a.len(),
            Payload::Seed(_) => 1,
        }
    }

    /// Whether it holds no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Dealer material that does not depend on inputs is `Offline`; everything else is `Online`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Before inputs exist (triples, masks, seeds).
    Offline,
    /// Depends on inputs.
    Online,
}

/// What a received value is, for the views attacks read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
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
    /// Step label, e.g. `dense1/forward/open`.
    pub label: String,
    /// What the receiver sees in it.
    pub kind: ViewKind,
    /// Offline or online.
    pub phase: Phase,
    /// The content.
    pub payload: Payload,
}

/// How a party sends and receives. Sends never block; receives wait for the matching message.
pub trait Transport: Send {
    /// Who this end belongs to.
    fn role(&self) -> Role;
    /// Sends `msg` to `to`.
    fn send(&mut self, to: Role, msg: Message) -> Result<()>;
    /// Receives the next message from `from`, which must carry `label`.
    fn recv(&mut self, from: Role, label: &str) -> Result<Message>;
    /// Names the step the party's computation now belongs to (for accounting; a network transport may
    /// ignore it).
    fn set_step(&mut self, _step: &str) {}
}

/// A message in flight inside the simulator: its ledger index travels with it.
pub(crate) struct Envelope {
    pub id: usize,
    pub round: u32,
    pub msg: Message,
}

/// The simulator's transport: in-memory channels between threads, recording the ledger, the views and the
/// party's trace (thread CPU time between communication events).
pub struct SimTransport {
    pub(crate) role: Role,
    pub(crate) out: Vec<Option<Sender<Envelope>>>,
    pub(crate) inbox: Vec<Option<Receiver<Envelope>>>,
    pub(crate) recorder: Arc<Recorder>,
    pub(crate) trace: Vec<TraceEvent>,
    pub(crate) last_cpu_ns: u64,
    /// The CPU clock of this party's threads.
    pub(crate) clock: super::clock::PoolClock,
    /// Causal depth per phase: the highest round received so far.
    pub(crate) depth: [u32; 2],
    pub(crate) step: u32,
    pub(crate) timeout: Duration,
}

impl SimTransport {
    fn mark_compute(&mut self) {
        let now = self.clock.cpu_ns();
        let spent = now.saturating_sub(self.last_cpu_ns);
        self.last_cpu_ns = now;
        if spent > 0 {
            self.trace.push(TraceEvent::Compute { ns: spent, step: self.step });
        }
    }
}

impl Drop for SimTransport {
    /// Closes the trace with the compute since the last message and hands it to the recorder. Runs on the
    /// party's own thread when its protocol code returns, so the CPU clock is the right one.
    fn drop(&mut self) {
        self.mark_compute();
        self.recorder.log_trace(self.role, std::mem::take(&mut self.trace));
    }
}

impl Transport for SimTransport {
    fn role(&self) -> Role {
        self.role
    }

    fn send(&mut self, to: Role, msg: Message) -> Result<()> {
        self.mark_compute();
        let phase_i = msg.phase as usize;
        let round = self.depth[phase_i] + 1;
        let id = self.recorder.log_send(self.role, to, round, &msg);
        self.trace.push(TraceEvent::Send { id });
        let link = self.out[to.index()]
            .as_ref()
            .ok_or_else(|| Error::Numerical(format!("{} has no link to {to}", self.role)))?;
        link.send(Envelope { id, round, msg })
            .map_err(|_| Error::Numerical(format!("{to} left the protocol before {} sent to it", self.role)))?;
        // Sending costs no CPU worth tracing apart from the copy, which the next interval absorbs.
        self.last_cpu_ns = self.clock.cpu_ns();
        Ok(())
    }

    fn set_step(&mut self, step: &str) {
        self.mark_compute();
        self.step = self.recorder.step_id(step);
    }

    fn recv(&mut self, from: Role, label: &str) -> Result<Message> {
        self.mark_compute();
        let inbox = self.inbox[from.index()]
            .as_ref()
            .ok_or_else(|| Error::Numerical(format!("{} has no link from {from}", self.role)))?;
        let env = match inbox.recv_timeout(self.timeout) {
            Ok(env) => env,
            Err(RecvTimeoutError::Timeout) => {
                return Err(Error::Numerical(format!(
                    "protocol deadlock: {} waited {:?} for '{label}' from {from}",
                    self.role, self.timeout
                )));
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err(Error::Numerical(format!("{from} stopped before sending '{label}' to {}", self.role)));
            }
        };
        if env.msg.label != label {
            return Err(Error::Numerical(format!(
                "protocol out of step: {} expected '{label}' from {from}, got '{}'",
                self.role, env.msg.label
            )));
        }
        let p = env.msg.phase as usize;
        self.depth[p] = self.depth[p].max(env.round);
        self.recorder.log_recv(self.role, from, &env.msg);
        self.trace.push(TraceEvent::Recv { id: env.id });
        self.last_cpu_ns = self.clock.cpu_ns();
        Ok(env.msg)
    }
}
