//! The simulator's transport: in-memory channels between the threads of one process.
//!
//! It only moves messages. Recording (ledger, views, traces) is a wrapper around any transport
//! ([`super::record::Recorded`]), the same for this one and for a network transport.

use crate::error::{Error, Result};
use crate::net::protocol_error;
use crate::net::{Label, Message, Role, Transport};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::Duration;

/// One party's end of the in-memory network.
pub struct MemoryTransport {
    role: Role,
    out: Vec<Option<Sender<Message>>>,
    inbox: Vec<Option<Receiver<Message>>>,
    timeout: Duration,
}

impl MemoryTransport {
    /// Connects every pair of `roles` both ways; one transport per role, in the order of `roles`. A receive
    /// that waits longer than `timeout` fails (a deadlocked protocol).
    pub fn network(roles: &[Role], timeout: Duration) -> Vec<MemoryTransport> {
        let n = Role::ALL.len();
        let mut out: Vec<Vec<Option<_>>> = (0..n).map(|_| (0..n).map(|_| None).collect()).collect();
        let mut inbox: Vec<Vec<Option<_>>> = (0..n).map(|_| (0..n).map(|_| None).collect()).collect();
        for &a in roles {
            for &b in roles {
                if a != b {
                    let (tx, rx) = channel();
                    out[a.index()][b.index()] = Some(tx);
                    inbox[b.index()][a.index()] = Some(rx);
                }
            }
        }
        roles
            .iter()
            .map(|&r| MemoryTransport {
                role: r,
                out: std::mem::take(&mut out[r.index()]),
                inbox: std::mem::take(&mut inbox[r.index()]),
                timeout,
            })
            .collect()
    }
}

impl Transport for MemoryTransport {
    fn role(&self) -> Role {
        self.role
    }

    fn send(&mut self, to: Role, msg: Message) -> Result<()> {
        let link = self.out[to.index()]
            .as_ref()
            .ok_or_else(|| protocol_error(Some(&msg.label), format!("{} has no link to {to}", self.role)))?;
        link.send(msg).map_err(|_| Error::PeerGone(to.into()))
    }

    fn recv(&mut self, from: Role, label: &Label) -> Result<Message> {
        let inbox = self.inbox[from.index()]
            .as_ref()
            .ok_or_else(|| protocol_error(Some(label), format!("{} has no link from {from}", self.role)))?;
        let msg = match inbox.recv_timeout(self.timeout) {
            Ok(m) => m,
            Err(RecvTimeoutError::Timeout) => {
                return Err(protocol_error(
                    Some(label),
                    format!("deadlock: {} waited {:?} for it from {from}", self.role, self.timeout),
                ));
            }
            Err(RecvTimeoutError::Disconnected) => return Err(Error::PeerGone(from.into())),
        };
        if &msg.label != label {
            return Err(protocol_error(
                Some(label),
                format!("out of step: {} expected it from {from}, got '{}'", self.role, msg.label),
            ));
        }
        Ok(msg)
    }
}
