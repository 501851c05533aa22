//! A party fed frames instead of a network: what a deployed role does with whatever its peers send (the
//! `protocol` fuzz target, and the tests below).
//!
//! [`ReplayTransport`] decodes a byte stream with the TCP transport's frame decoder and hands the frames
//! out, in order, to the party's receives, refusing one whose label is not the one the party expects next
//! (the check `TcpTransport::recv` makes); what the party sends goes nowhere. [`run_role`] runs one role of
//! a small fixed job ([`fixture`]) on such a stream: whatever the bytes, it returns `Ok` or an error, and
//! never holds more than the decoder's cap for one payload.

use crate::error::{Error, Result, protocol_error};
use crate::models::secure::{self, Inputs, Plan, Protocol};
use crate::models::{ModelKind, Prepared};
use crate::net::frame::{Decoder, encode};
use crate::net::{Label, Message, Role, Transport};
use crate::protocol::party::Party;
use crate::protocol::ring::RingArith;
use std::collections::VecDeque;

/// Largest payload a replayed frame may carry (the fixture's messages are far smaller).
pub const CAP: u64 = 1 << 20;

/// Frames from a byte stream, handed out in order.
pub struct ReplayTransport {
    role: Role,
    frames: VecDeque<Message>,
}

impl ReplayTransport {
    /// The frames of `bytes` for `role` (decoding stops at the first malformed frame, as a connection
    /// would be dropped there).
    pub fn new(role: Role, bytes: &[u8]) -> Self {
        let mut d = Decoder::new(CAP);
        let mut frames = Vec::new();
        let _ = d.feed(bytes, &mut frames);
        Self { role, frames: frames.into() }
    }
}

impl Transport for ReplayTransport {
    fn role(&self) -> Role {
        self.role
    }

    fn send(&mut self, _to: Role, _msg: Message) -> Result<()> {
        Ok(())
    }

    fn recv(&mut self, from: Role, label: &Label) -> Result<Message> {
        let m = self.frames.pop_front().ok_or(Error::PeerGone(from))?;
        if &m.label != label {
            return Err(protocol_error(
                Some(label),
                format!("out of step: expected it from {from}, got '{}'", m.label),
            ));
        }
        Ok(m)
    }
}

/// The fixed job: a 4 -> 3 -> 1 network (relu, sigmoid) under `protocol`, one training step of 2 rows and
/// one inference batch of 2. Planned once per process (a model file's `ModelKind` lives as long as the
/// process).
pub fn fixture() -> Result<ModelKind> {
    static MODEL: std::sync::OnceLock<std::result::Result<ModelKind, String>> = std::sync::OnceLock::new();
    let made = MODEL.get_or_init(|| {
        let spec = crate::models::spec::Spec::parse(
            "input = [4]\n[[layer]]\nkind = \"dense\"\nunits = 3\n[[layer]]\nkind = \"relu\"\n\
             [[layer]]\nkind = \"dense\"\nunits = 1\n[[layer]]\nkind = \"sigmoid\"\n\
             [loss]\nkind = \"mse\"\ntarget = \"value\"\n",
        )
        .and_then(|spec| crate::models::graph::Net::named(spec, "replay"))
        .map_err(|e| e.to_string())?;
        Ok(ModelKind::file(spec))
    });
    made.clone().map_err(crate::error::invalid)
}

fn plan(model: ModelKind, protocol: Protocol, rows: &[Vec<usize>]) -> Plan<'_> {
    Plan {
        model,
        protocol,
        lr: 0.5,
        schedule: &rows[..1],
        inference: &rows[1..],
        reuse_masks: false,
        train_rows: 2,
        helper: Default::default(),
        progress: None,
    }
}

/// The protocol a byte picks: rtas, rtas-fast or mpc.
pub fn protocol_of(b: u8) -> Protocol {
    [Protocol::Rtas, Protocol::RtasFast, Protocol::Mpc][usize::from(b) % 3]
}

/// Runs `role` (P0, P1 or the dealer: the roles that hold no data) of the fixture under `protocol`,
/// receiving the frames of `bytes`.
pub fn run_role(role: Role, protocol: Protocol, bytes: &[u8]) -> Result<()> {
    let model = fixture()?;
    let rows = vec![vec![0, 1], vec![0, 1]];
    let net = Box::new(ReplayTransport::new(role, bytes));
    let mut local = crate::rng::stream(1, 0);
    let mut p = Party::setup(net, RingArith::default(), &protocol.roles(), &mut local)?;
    secure::run(&mut p, &plan(model, protocol, &rows), Inputs::Nothing).map(|_| ())
}

/// What `role` receives in an honest simulated run of the fixture, as the frames a TCP peer would send.
pub fn honest_frames(role: Role, protocol: Protocol) -> Result<Vec<u8>> {
    let model = fixture()?;
    let rows = vec![vec![0, 1], vec![0, 1]];
    let data = Prepared::from_rows(vec![0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8], 4, &[0.0, 1.0])?;
    let plan = plan(model, protocol, &rows);
    let inputs = Inputs::split(&plan, &data, &data, &model.init(1));
    let run = crate::sim::run::run_protocol(&RingArith::default(), &protocol.roles(), 1, true, inputs, |p, i| {
        secure::run(p, &plan, i)
    })?;
    let view = run.recording.views.get(&role).ok_or_else(|| protocol_error(None, format!("no view of {role}")))?;
    let mut out = Vec::new();
    for e in &view.received {
        out.extend(encode(&Message {
            label: e.label.clone(),
            kind: e.kind,
            phase: crate::net::Phase::Online,
            payload: e.payload.clone(),
        }));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The honest stream replays to the end for every data-less role and protocol; a stream cut short, or
    /// with one frame's label changed, is refused with an error (never a panic).
    #[test]
    fn honest_streams_replay_and_tampered_ones_are_refused() {
        for protocol in [Protocol::Rtas, Protocol::RtasFast, Protocol::Mpc] {
            for role in [Role::P0, Role::P1, Role::Dealer] {
                let bytes = honest_frames(role, protocol).unwrap();
                run_role(role, protocol, &bytes).unwrap_or_else(|e| panic!("{role} {}: {e}", protocol.name()));
                // (Under rtas-fast and mpc the dealer only sends: its stream is empty.)
                let cut = run_role(role, protocol, &bytes[..bytes.len() / 2]);
                assert_eq!(cut.is_err(), !bytes.is_empty(), "{role} {}: half a stream", protocol.name());
                // Flip one byte a third of the way in: refused or replayed, never a panic.
                let mut bad = bytes.clone();
                if let Some(b) = bad.get_mut(bytes.len() / 3) {
                    *b ^= 0x41;
                }
                let _ = run_role(role, protocol, &bad);
            }
        }
    }

    /// The fuzzer's leak sanitizer found the fixture planned (and its model kept) once per input: it is
    /// planned once per process.
    #[test]
    fn the_fixture_is_planned_once() {
        let (ModelKind::File(a), ModelKind::File(b)) = (fixture().unwrap(), fixture().unwrap()) else {
            panic!("the fixture is a model file")
        };
        assert!(std::ptr::eq(a, b));
    }

    /// Writes the seed corpus of the `protocol` fuzz target (run by hand: `cargo test --release --lib
    /// write_the_protocol_corpus -- --ignored`). Each file: a byte choosing the role and protocol, then the
    /// frames an honest run sends that role.
    #[test]
    #[ignore]
    fn write_the_protocol_corpus() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/protocol");
        std::fs::create_dir_all(&dir).unwrap();
        for (pi, protocol) in [Protocol::Rtas, Protocol::RtasFast, Protocol::Mpc].into_iter().enumerate() {
            for (ri, role) in [Role::P0, Role::P1, Role::Dealer].into_iter().enumerate() {
                let mut bytes = vec![(ri * 3 + pi) as u8];
                bytes.extend(honest_frames(role, protocol).unwrap());
                std::fs::write(dir.join(format!("{}-{}", protocol.name(), role.short())), bytes).unwrap();
            }
        }
    }
}
