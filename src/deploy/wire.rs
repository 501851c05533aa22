//! What a party process hands back to whoever launched it: its outputs and its recording, as plain
//! serializable data (tensors as shape + values, labels by their fields).

use crate::error::{Result, invalid};
use crate::models::secure::PartyOut;
use crate::net::{Label, Op, Phase, Role, Stage, ViewKind};
use crate::sim::record::{LedgerEntry, Recording, TraceEvent};
use ndarray::{ArrayD, IxDyn};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A tensor.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WireArray<T> {
    /// Its shape.
    pub shape: Vec<usize>,
    /// Its values in standard order.
    pub data: Vec<T>,
}

impl<T: Clone> WireArray<T> {
    fn from(a: &ArrayD<T>) -> Self {
        Self { shape: a.shape().to_vec(), data: a.iter().cloned().collect() }
    }

    fn array(&self) -> Result<ArrayD<T>> {
        ArrayD::from_shape_vec(IxDyn(&self.shape), self.data.clone()).map_err(|e| invalid(format!("a tensor: {e}")))
    }
}

fn arrays<T: Clone>(v: &[ArrayD<T>]) -> Vec<WireArray<T>> {
    v.iter().map(WireArray::from).collect()
}

fn unwire<T: Clone>(v: &[WireArray<T>]) -> Result<Vec<ArrayD<T>>> {
    v.iter().map(WireArray::array).collect()
}

/// [`PartyOut`] over the ring.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WireOut {
    yhat_shares: Vec<WireArray<u64>>,
    params: Vec<WireArray<u64>>,
    yhat_plain: Vec<WireArray<f64>>,
    losses: Vec<f64>,
    tail: Vec<WireArray<f64>>,
    predictions: Vec<WireArray<f64>>,
}

impl From<&PartyOut<u64>> for WireOut {
    fn from(o: &PartyOut<u64>) -> Self {
        Self {
            yhat_shares: arrays(&o.yhat_shares),
            params: arrays(&o.params),
            yhat_plain: arrays(&o.yhat_plain),
            losses: o.losses.clone(),
            tail: arrays(&o.tail),
            predictions: arrays(&o.predictions),
        }
    }
}

impl WireOut {
    /// Back to [`PartyOut`].
    pub fn party_out(&self) -> Result<PartyOut<u64>> {
        Ok(PartyOut {
            yhat_shares: unwire(&self.yhat_shares)?,
            params: unwire(&self.params)?,
            yhat_plain: unwire(&self.yhat_plain)?,
            losses: self.losses.clone(),
            tail: unwire(&self.tail)?,
            predictions: unwire(&self.predictions)?,
        })
    }
}

/// A ledger entry with its label by fields.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WireEntry {
    id: usize,
    from: Role,
    to: Role,
    bytes: u64,
    stage: Stage,
    layer: String,
    op: Option<Op>,
    phase: Phase,
    kind: ViewKind,
}

/// A trace event.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub enum WireEvent {
    /// Compute.
    Compute(u64, Stage),
    /// A send (ledger id).
    Send(usize),
    /// A receive (ledger id).
    Recv(usize),
}

/// One party's recording.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WireRecording {
    role: Option<Role>,
    ledger: Vec<WireEntry>,
    trace: Vec<WireEvent>,
}

impl WireRecording {
    /// `rec`, which holds `role`'s trace only.
    pub fn from_recording(rec: &Recording, role: Role) -> Result<Self> {
        let trace = rec.traces.get(&role).ok_or_else(|| invalid(format!("no trace of {role}")))?;
        Ok(Self {
            role: Some(role),
            ledger: rec
                .ledger
                .iter()
                .map(|e| WireEntry {
                    id: e.id,
                    from: e.from,
                    to: e.to,
                    bytes: e.bytes,
                    stage: e.label.stage,
                    layer: e.label.layer.clone(),
                    op: e.label.op,
                    phase: e.phase,
                    kind: e.kind,
                })
                .collect(),
            trace: trace
                .iter()
                .map(|e| match *e {
                    TraceEvent::Compute { ns, stage } => WireEvent::Compute(ns, stage),
                    TraceEvent::Send { id } => WireEvent::Send(id),
                    TraceEvent::Recv { id } => WireEvent::Recv(id),
                })
                .collect(),
        })
    }

    /// Back to a [`Recording`] of one party (merge several with [`Recording::merge`]).
    pub fn recording(&self) -> Result<Recording> {
        let role = self.role.ok_or_else(|| invalid("a recording without its role"))?;
        let n = self.ledger.len();
        for e in &self.ledger {
            if e.id >= n {
                return Err(invalid(format!("{role}'s ledger has an entry id {} of {n}", e.id)));
            }
        }
        for e in &self.trace {
            if let WireEvent::Send(id) | WireEvent::Recv(id) = *e
                && id >= n
            {
                return Err(invalid(format!("{role}'s trace names message {id} of {n}")));
            }
        }
        let ledger = self
            .ledger
            .iter()
            .map(|e| LedgerEntry {
                id: e.id,
                from: e.from,
                to: e.to,
                bytes: e.bytes,
                label: Label { stage: e.stage, layer: e.layer.clone(), op: e.op },
                phase: e.phase,
                kind: e.kind,
            })
            .collect();
        let trace = self
            .trace
            .iter()
            .map(|e| match *e {
                WireEvent::Compute(ns, stage) => TraceEvent::Compute { ns, stage },
                WireEvent::Send(id) => TraceEvent::Send { id },
                WireEvent::Recv(id) => TraceEvent::Recv { id },
            })
            .collect();
        Ok(Recording { ledger, views: BTreeMap::new(), traces: BTreeMap::from([(role, trace)]) })
    }
}

/// A payload (floats by their bits, so that NaN survives JSON).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum WirePayload {
    /// Ring elements.
    Ring(WireArray<u64>),
    /// f64 bits.
    Float(WireArray<u64>),
    /// A seed.
    Seed(crate::net::Seed),
    /// The shape of a tensor a shape-only run counted.
    Shape(Vec<usize>),
}

impl From<&crate::net::Payload> for WirePayload {
    fn from(p: &crate::net::Payload) -> Self {
        use crate::net::Payload;
        match p {
            Payload::Ring(a) => WirePayload::Ring(WireArray::from(a)),
            Payload::Float(a) => WirePayload::Float(WireArray::from(&a.mapv(f64::to_bits))),
            Payload::Seed(s) => WirePayload::Seed(*s),
            Payload::Shape(s) => WirePayload::Shape(s.clone()),
        }
    }
}

impl WirePayload {
    fn payload(&self) -> Result<crate::net::Payload> {
        use crate::net::Payload;
        Ok(match self {
            WirePayload::Ring(a) => Payload::Ring(a.array()?),
            WirePayload::Float(a) => Payload::Float(a.array()?.mapv(f64::from_bits)),
            WirePayload::Seed(s) => Payload::Seed(*s),
            WirePayload::Shape(s) => Payload::Shape(s.clone()),
        })
    }
}

/// One received value.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct WireReceived {
    from: Role,
    stage: Stage,
    layer: String,
    op: Option<Op>,
    phase: Phase,
    kind: ViewKind,
    payload: WirePayload,
}

/// A role's [`crate::sim::record::View`]: what it received, its own inputs, the seeds it drew.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WireView {
    role: Role,
    received: Vec<WireReceived>,
    inputs: Vec<(String, WirePayload)>,
    seeds: Vec<(Role, crate::net::Seed)>,
}

impl From<&crate::sim::record::View> for WireView {
    fn from(v: &crate::sim::record::View) -> Self {
        Self {
            role: v.role,
            received: v
                .received
                .iter()
                .map(|e| WireReceived {
                    from: e.from,
                    stage: e.label.stage,
                    layer: e.label.layer.clone(),
                    op: e.label.op,
                    phase: e.phase,
                    kind: e.kind,
                    payload: WirePayload::from(&e.payload),
                })
                .collect(),
            inputs: v.inputs.iter().map(|(n, p)| (n.clone(), WirePayload::from(p))).collect(),
            seeds: v.seeds.clone(),
        }
    }
}

impl WireView {
    /// Back to a [`crate::sim::record::View`], which the attacks read.
    pub fn view(&self) -> Result<crate::sim::record::View> {
        use crate::sim::record::{View, ViewEntry};
        Ok(View {
            role: self.role,
            received: self
                .received
                .iter()
                .map(|e| {
                    Ok(ViewEntry {
                        from: e.from,
                        label: Label { stage: e.stage, layer: e.layer.clone(), op: e.op },
                        phase: e.phase,
                        kind: e.kind,
                        payload: e.payload.payload()?,
                    })
                })
                .collect::<Result<_>>()?,
            inputs: self.inputs.iter().map(|(n, p)| Ok((n.clone(), p.payload()?))).collect::<Result<_>>()?,
            seeds: self.seeds.clone(),
        })
    }
}
