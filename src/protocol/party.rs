//! A party's protocol context: its role, its arithmetic, its transport, and the PRG seeds it shares.
//!
//! Seeds (setup, offline, 16 bytes each; the first-named party draws and sends):
//! Dealer-P0, Dealer-P1 (triples, helper reshares), P0-P1 (permutations, zero-message input sharing),
//! ThirdParty-P0 and Owner-P0 (sharing their inputs). Each use of a seed opens the next numbered AES-CTR
//! stream, so two parties stay in step as long as they run the same code, which SPMD guarantees.

use super::prg::Prg;
use super::ring::{Arith, Elem};
use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::sim::party::Role;
use crate::sim::run::{SimConfig, SimRun, run};
use crate::sim::transport::{Message, Payload, Phase, Seed, Transport, ViewKind};
use ndarray::ArrayD;
use rand::Rng as _;
use std::collections::HashMap;

/// Pairs that share a seed, in setup order (first draws it).
const SEED_PAIRS: [(Role, Role); 5] = [
    (Role::Dealer, Role::P0),
    (Role::Dealer, Role::P1),
    (Role::P0, Role::P1),
    (Role::ThirdParty, Role::P0),
    (Role::Owner, Role::P0),
];

/// One party inside a protocol run.
pub struct Party<A: Arith> {
    /// Who this is.
    pub role: Role,
    /// Fixed point or float.
    pub arith: A,
    net: Box<dyn Transport>,
    seeds: [Option<Seed>; 5],
    streams: [u64; 5],
    /// Dealer only: full masks kept for reuse by later triples (in-step reuse of an opened input).
    pub(crate) kept_masks: HashMap<u64, ArrayD<A::E>>,
    pub(crate) next_triple: u64,
}

impl<A: Arith> Party<A> {
    /// Sets up the seeds with the other `present` roles.
    pub fn setup(net: Box<dyn Transport>, arith: A, present: &[Role], local: &mut Rng) -> Result<Self> {
        let role = net.role();
        let mut p =
            Self { role, arith, net, seeds: [None; 5], streams: [0; 5], kept_masks: HashMap::new(), next_triple: 0 };
        for (a, b) in SEED_PAIRS {
            if !present.contains(&a) || !present.contains(&b) {
                continue;
            }
            if role == a {
                let mut seed = [0u8; 16];
                local.fill_bytes(&mut seed);
                p.seeds[b.index()] = Some(seed);
                p.net.send(
                    b,
                    Message {
                        label: "setup/seed".into(),
                        kind: ViewKind::Seed,
                        phase: Phase::Offline,
                        payload: Payload::Seed(seed),
                    },
                )?;
            } else if role == b {
                match p.net.recv(a, "setup/seed")?.payload {
                    Payload::Seed(s) => p.seeds[a.index()] = Some(s),
                    _ => return Err(Error::Numerical("setup: expected a seed".into())),
                }
            }
        }
        Ok(p)
    }

    /// 0 or 1 for P0/P1.
    pub fn share_index(&self) -> Option<usize> {
        self.role.share_index()
    }

    /// The next stream of the seed shared with `with`.
    pub fn prg(&mut self, with: Role) -> Result<Prg> {
        let i = with.index();
        let seed =
            self.seeds[i].ok_or_else(|| Error::Numerical(format!("{} shares no seed with {with}", self.role)))?;
        let stream = self.streams[i];
        self.streams[i] += 1;
        Ok(Prg::new(&seed, stream))
    }

    /// Names the step that the following computation and messages belong to (e.g. `dense1/forward`).
    pub fn step(&mut self, name: &str) {
        self.net.set_step(name);
    }

    /// `n` masks from the next stream of the seed shared with `with`.
    pub fn masks_with(&mut self, with: Role, n: usize) -> Result<Vec<A::E>> {
        let mut prg = self.prg(with)?;
        Ok(self.arith.masks(&mut prg, n))
    }

    /// Sends a tensor of share elements.
    pub fn send_elems(&mut self, to: Role, label: &str, kind: ViewKind, phase: Phase, t: ArrayD<A::E>) -> Result<()> {
        self.net.send(to, Message { label: label.into(), kind, phase, payload: A::E::into_payload(t) })
    }

    /// Receives a tensor of share elements of the expected shape.
    pub fn recv_elems(&mut self, from: Role, label: &str, shape: &[usize]) -> Result<ArrayD<A::E>> {
        let t = A::E::from_payload(self.net.recv(from, label)?.payload)?;
        check_shape(t.shape(), shape, label)?;
        Ok(t)
    }

    /// Sends plaintext floats (third party's side of RTAS-fast).
    pub fn send_floats(&mut self, to: Role, label: &str, kind: ViewKind, t: ArrayD<f64>) -> Result<()> {
        self.net.send(to, Message { label: label.into(), kind, phase: Phase::Online, payload: Payload::Float(t) })
    }
}

pub(crate) fn check_shape(got: &[usize], want: &[usize], label: &str) -> Result<()> {
    if got != want {
        return Err(Error::Numerical(format!("'{label}': received shape {got:?}, expected {want:?}")));
    }
    Ok(())
}

/// A finished protocol run: each party's output and what the simulator recorded.
pub type ProtocolRun<O> = SimRun<O>;

/// Runs `body` as every role of `roles` (one thread each) with arithmetic `arith`; party randomness from
/// `seed`. Views are recorded when `record_views`.
pub fn run_protocol<A, O, F>(
    arith: &A,
    roles: &[Role],
    seed: u64,
    record_views: bool,
    body: F,
) -> Result<ProtocolRun<O>>
where
    A: Arith,
    O: Send,
    F: Fn(&mut Party<A>) -> Result<O> + Sync,
{
    let mut config = SimConfig::new(roles);
    config.record_views = record_views;
    run(&config, |net| {
        let mut local = crate::rng::stream(seed, 1000 + net.role().index() as u64);
        let mut p = Party::setup(net, arith.clone(), roles, &mut local)?;
        body(&mut p)
    })
}
