//! A party's protocol context: its role, its arithmetic, its transport, and the PRG seeds it shares.
//!
//! Seeds (setup, offline, 16 bytes each; the first-named party draws and sends):
//! Dealer-P0, Dealer-P1 (triples, helper reshares), P0-P1 (permutations, zero-message input sharing),
//! ThirdParty-P0 and Owner-P0 (sharing their inputs). Each use of a seed opens the next numbered AES-CTR
//! stream, so two parties stay in step as long as they run the same code, which SPMD guarantees.

use super::dealer_state::DealerState;
use super::prg::Prg;
use super::ring::{Arith, Elem};
use super::share::Shared;
use super::truncation::TruncationMonitor;
use crate::error::Result;
use crate::net::protocol_error;
use crate::net::{Label, Message, Op, Payload, Phase, Role, Seed, Stage, Transport, ViewKind};
use crate::rng::Rng;
use ndarray::ArrayD;
use rand::Rng as _;
use std::sync::Arc;

/// Pairs that share a seed, in setup order (first draws it).
const SEED_PAIRS: [(Role, Role); 5] = [
    (Role::Dealer, Role::P0),
    (Role::Dealer, Role::P1),
    (Role::P0, Role::P1),
    (Role::ThirdParty, Role::P0),
    (Role::Owner, Role::P0),
];

/// What P0 and P1 send the helper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HelperMode {
    /// Permuted shares re-randomized with a fresh zero sharing from the P0-P1 seed (rtas's protocol; see `super::elementwise`).
    #[default]
    Rerandomized,
    /// Permuted shares as they are, as the paper describes: INSECURE against the dealer-helper.
    Paper,
}

/// Which FSS gate the cryptographic baseline runs (public: every role runs the same).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FssGate {
    /// One online round: a DCF key per value whose payload gives arithmetic shares of the comparison and of its
    /// product with the mask (LLAMA's gate; 3.1 KB of keys per value at f = 16).
    #[default]
    Dcf,
    /// Two online rounds: a DPF comparison (an XOR-shared bit) whose masked bit is opened in a second round
    /// (SIGMA's construction; about 1.4 KB of keys per relu value at f = 16).
    Dpf,
}

impl FssGate {
    /// The name on the command line and in files.
    pub fn name(self) -> &'static str {
        match self {
            FssGate::Dcf => "dcf",
            FssGate::Dpf => "dpf",
        }
    }
}

impl std::str::FromStr for FssGate {
    type Err = crate::error::Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "dcf" => Ok(FssGate::Dcf),
            "dpf" => Ok(FssGate::Dpf),
            _ => Err(crate::error::invalid(format!("unknown FSS gate '{s}': dcf (one round) or dpf (two rounds)"))),
        }
    }
}

/// One party inside a protocol run.
pub struct Party<A: Arith> {
    /// Who this is.
    pub role: Role,
    /// Fixed point or float.
    pub arith: A,
    net: Box<dyn Transport>,
    seeds: [Option<Seed>; 5],
    streams: [u64; 5],
    /// Triples (and kept masks) drawn so far: the same count at every role, since all run the same code.
    triples: u64,
    /// The dealer's own state; `None` at every other role.
    dealer: Option<DealerState<A::E>>,
    /// What P0 and P1 send the element-wise helper (public: every role runs the same variant).
    helper: HelperMode,
    /// Which FSS gate element-wise functions use under the cryptographic baseline.
    fss: FssGate,
    /// The signed width of the values FSS gates compare, when stated narrower than the ring allows.
    value_bits: Option<u32>,
    /// Rescales (truncations) done so far; numbers them for the monitor.
    rescales: u64,
    /// FSS gates entered so far; numbers them for the monitor.
    gates: u64,
    /// A simulation's truncation monitor (none in a deployment).
    monitor: Option<Arc<TruncationMonitor>>,
}

impl<A: Arith> Party<A> {
    /// Sets up the seeds with the other `present` roles.
    pub fn setup(net: Box<dyn Transport>, arith: A, present: &[Role], local: &mut Rng) -> Result<Self> {
        let role = net.role();
        arith.start();
        let dealer = (role == Role::Dealer).then(DealerState::default);
        let mut p = Self {
            role,
            arith,
            net,
            seeds: [None; 5],
            streams: [0; 5],
            triples: 0,
            dealer,
            helper: HelperMode::default(),
            fss: FssGate::default(),
            value_bits: None,
            rescales: 0,
            gates: 0,
            monitor: None,
        };
        let label = Stage::Setup.at("").op(Op::Seed);
        for (a, b) in SEED_PAIRS {
            if !present.contains(&a) || !present.contains(&b) {
                continue;
            }
            if role == a {
                let mut seed = [0u8; 16];
                local.fill_bytes(&mut seed);
                p.seeds[b.index()] = Some(seed);
                p.net.note_seed(b, &seed);
                p.net.send(
                    b,
                    Message {
                        label: label.clone(),
                        kind: ViewKind::Seed,
                        phase: Phase::Offline,
                        payload: Payload::Seed(seed),
                    },
                )?;
            } else if role == b {
                match p.net.recv(a, &label)?.payload {
                    Payload::Seed(s) => p.seeds[a.index()] = Some(s),
                    other => {
                        return Err(protocol_error(
                            Some(&label),
                            format!("expected a seed, got {}", other.kind_name()),
                        ));
                    }
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
            self.seeds[i].ok_or_else(|| protocol_error(None, format!("{} shares no seed with {with}", self.role)))?;
        let stream = self.streams[i];
        self.streams[i] += 1;
        Ok(Prg::new(&seed, stream))
    }

    /// Names the stage that the following computation belongs to.
    pub fn stage(&mut self, stage: Stage) {
        self.net.set_stage(stage);
    }

    /// Lets a simulation count truncation failures (it sees both shares; a deployment never does).
    pub fn set_truncation_monitor(&mut self, monitor: Arc<TruncationMonitor>) {
        self.monitor = Some(monitor);
    }

    /// Brings this computing party's share of a product of two encodings back to one encoding (one
    /// fixed-point truncation), reporting the pre-truncation share to the monitor if there is one.
    pub fn rescale(&mut self, share: &mut [A::E]) -> Result<()> {
        let i = self
            .share_index()
            .ok_or_else(|| protocol_error(None, format!("{} holds no share to rescale", self.role)))?;
        let call = self.rescales;
        self.rescales += 1;
        if let (Some(m), Some(ring)) = (&self.monitor, A::E::as_ring(share)) {
            m.observe(i, call, ring);
        }
        self.arith.rescale(i, share);
        Ok(())
    }

    /// `x * c` for a public real `c`, rescaled (one truncation). Other roles get `x`'s shape only.
    pub fn scale(&mut self, x: &Shared<A::E>, c: f64) -> Result<Shared<A::E>> {
        let ce = self.arith.encode(c)?;
        if A::SHAPE_ONLY {
            super::work::charge(super::work::Op::Elem, x.len() as f64);
            return Ok(match x.share() {
                Some(a) if self.role.is_computing() => Shared::held(a.clone()),
                _ => Shared::shape_only(x.shape()),
            });
        }
        match x.share() {
            Some(a) if self.role.is_computing() => {
                let mut v: Vec<A::E> = a.iter().map(|&e| e.mul(ce)).collect();
                self.rescale(&mut v)?;
                Ok(Shared::held(
                    ArrayD::from_shape_vec(ndarray::IxDyn(x.shape()), v)
                        .map_err(|e| protocol_error(None, e.to_string()))?,
                ))
            }
            _ => Ok(Shared::shape_only(x.shape())),
        }
    }

    /// Chooses what P0 and P1 send the helper (rtas's re-randomized shares unless told otherwise).
    pub fn set_helper_mode(&mut self, mode: HelperMode) {
        self.helper = mode;
    }

    /// What P0 and P1 send the helper.
    pub fn helper_mode(&self) -> HelperMode {
        self.helper
    }

    /// Chooses the FSS gate of the cryptographic baseline (the one-round DCF gate unless told otherwise).
    pub fn set_fss_gate(&mut self, gate: FssGate) {
        self.fss = gate;
    }

    /// The FSS gate of the cryptographic baseline.
    pub fn fss_gate(&self) -> FssGate {
        self.fss
    }

    /// States the signed width of every value an FSS gate compares (`None`: the full `64 - f` bits, which
    /// every value a product can yield fits). Narrower keys are smaller and faster; a value outside the stated
    /// range comes out wrong without any sign (a simulation counts them: [`TruncationMonitor`]). Public:
    /// every role must state the same.
    pub fn set_value_bits(&mut self, bits: Option<u32>) {
        self.value_bits = bits;
    }

    /// The stated width of compared values, if any ([`Self::set_value_bits`]).
    pub fn value_bits(&self) -> Option<u32> {
        self.value_bits
    }

    /// Whether a simulation's monitor watches this party (never in a deployment).
    pub(crate) fn monitored(&self) -> bool {
        self.monitor.is_some()
    }

    /// Shows a simulation's monitor this computing party's share of the values entering an FSS gate that
    /// compares on `bits` bits against breaks from `lowest` to `highest`.
    pub(crate) fn observe_gate(&mut self, share: &[u64], bits: u32, breaks: (i64, i64)) {
        let call = self.gates;
        self.gates += 1;
        if let (Some(m), Some(i)) = (&self.monitor, self.share_index()) {
            m.observe_gate(i, call, share, bits, breaks);
        }
    }

    /// The next triple id; every role counts the same, so ids agree without a message.
    pub(crate) fn next_triple_id(&mut self) -> u64 {
        let id = self.triples;
        self.triples += 1;
        id
    }

    /// The dealer's own state (an error at any other role).
    pub(crate) fn dealer_state(&mut self) -> Result<&mut DealerState<A::E>> {
        let role = self.role;
        self.dealer.as_mut().ok_or_else(|| protocol_error(None, format!("{role} holds no dealer state")))
    }

    /// `n` masks from the next stream of the seed shared with `with`.
    pub fn masks_with(&mut self, with: Role, n: usize) -> Result<Vec<A::E>> {
        let mut prg = self.prg(with)?;
        Ok(self.arith.masks(&mut prg, n))
    }

    /// Sends a tensor of share elements.
    pub fn send_elems(&mut self, to: Role, label: Label, kind: ViewKind, phase: Phase, t: ArrayD<A::E>) -> Result<()> {
        self.net.send(to, Message { label, kind, phase, payload: A::E::into_payload(t) })
    }

    /// Receives a tensor of share elements of the expected shape.
    pub fn recv_elems(&mut self, from: Role, label: &Label, shape: &[usize]) -> Result<ArrayD<A::E>> {
        let payload = self.net.recv(from, label)?.payload;
        let t = A::E::from_payload(payload).map_err(|reason| protocol_error(Some(label), reason))?;
        check_shape(t.shape(), shape, label)?;
        Ok(t)
    }

    /// Sends plaintext floats (third party's side of RTAS-fast).
    pub fn send_floats(&mut self, to: Role, label: Label, kind: ViewKind, t: ArrayD<f64>) -> Result<()> {
        self.net.send(to, Message { label, kind, phase: Phase::Online, payload: Payload::Float(t) })
    }

    /// Hands this role's own inputs to its transport (a recording transport keeps them in the view).
    pub fn note_inputs(&mut self, inputs: &dyn Fn() -> Vec<(String, Payload)>) {
        self.net.note_inputs(inputs);
    }
}

pub(crate) fn check_shape(got: &[usize], want: &[usize], label: &Label) -> Result<()> {
    if got != want {
        return Err(protocol_error(Some(label), format!("received shape {got:?}, expected {want:?}")));
    }
    Ok(())
}
