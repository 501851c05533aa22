//! What a simulated run leaves behind: the ledger (every message), the views (what each party received in
//! the clear) and the traces (each party's compute intervals and message events, for the cost model).

use super::party::Role;
use super::transport::{Message, Payload, Phase, ViewKind};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// One message in the ledger.
#[derive(Debug, Clone, Serialize)]
pub struct LedgerEntry {
    /// Index in the ledger (send order across all parties).
    pub id: usize,
    /// Sender.
    pub from: Role,
    /// Receiver.
    pub to: Role,
    /// Payload bytes (8 per element, 16 per seed, no header).
    pub bytes: u64,
    /// The sender's round: 1 + the highest round of same-phase messages it had received when sending.
    pub round: u32,
    /// Step label.
    pub label: String,
    /// Offline or online.
    pub phase: Phase,
    /// What the receiver sees.
    pub kind: ViewKind,
}

/// One received value, as its receiver saw it.
#[derive(Debug, Clone)]
pub struct ViewEntry {
    /// Sender.
    pub from: Role,
    /// Step label.
    pub label: String,
    /// What it is.
    pub kind: ViewKind,
    /// The value.
    pub payload: Payload,
}

/// A party's activity, in its own order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TraceEvent {
    /// CPU time of this party's thread between two communication events (or step changes).
    Compute {
        /// Nanoseconds.
        ns: u64,
        /// Index of the step it was spent in ([`Recording::steps`]).
        step: u32,
    },
    /// Ledger message `id` sent.
    Send {
        /// Ledger index.
        id: usize,
    },
    /// Ledger message `id` received (the party waits for it).
    Recv {
        /// Ledger index.
        id: usize,
    },
}

/// Shared by the transports of one run.
#[derive(Debug, Default)]
pub struct Recorder {
    ledger: Mutex<Vec<LedgerEntry>>,
    traces: Mutex<BTreeMap<Role, Vec<TraceEvent>>>,
    steps: Mutex<Vec<String>>,
    views: Option<Mutex<BTreeMap<Role, Vec<ViewEntry>>>>,
}

impl Recorder {
    /// A recorder; `record_views` keeps a copy of every received payload.
    pub fn new(record_views: bool) -> Self {
        Self {
            ledger: Mutex::default(),
            traces: Mutex::default(),
            steps: Mutex::new(vec![String::new()]),
            views: record_views.then(Mutex::default),
        }
    }

    pub(crate) fn log_send(&self, from: Role, to: Role, round: u32, msg: &Message) -> usize {
        let mut ledger = self.ledger.lock().unwrap_or_else(|e| e.into_inner());
        let id = ledger.len();
        ledger.push(LedgerEntry {
            id,
            from,
            to,
            bytes: msg.payload.bytes(),
            round,
            label: msg.label.clone(),
            phase: msg.phase,
            kind: msg.kind,
        });
        id
    }

    pub(crate) fn log_recv(&self, me: Role, from: Role, msg: &Message) {
        if let Some(views) = &self.views {
            let mut views = views.lock().unwrap_or_else(|e| e.into_inner());
            views.entry(me).or_default().push(ViewEntry {
                from,
                label: msg.label.clone(),
                kind: msg.kind,
                payload: msg.payload.clone(),
            });
        }
    }

    /// The index of step `name` (registered on first use; index 0 is the unnamed step).
    pub(crate) fn step_id(&self, name: &str) -> u32 {
        let mut steps = self.steps.lock().unwrap_or_else(|e| e.into_inner());
        match steps.iter().position(|s| s == name) {
            Some(i) => i as u32,
            None => {
                steps.push(name.to_string());
                (steps.len() - 1) as u32
            }
        }
    }

    pub(crate) fn log_trace(&self, me: Role, events: Vec<TraceEvent>) {
        self.traces.lock().unwrap_or_else(|e| e.into_inner()).insert(me, events);
    }

    /// Takes the ledger, views and traces out. The ledger is put in a canonical order — by sender, then in
    /// each sender's program order — so that it does not depend on how the threads were scheduled; trace
    /// events are renumbered to match.
    pub(crate) fn into_parts(self) -> Recording {
        let mut ledger = self.ledger.into_inner().unwrap_or_else(|e| e.into_inner());
        ledger.sort_by_key(|e| (e.from, e.id)); // a sender's own ids increase in its program order
        let mut new_id = vec![0usize; ledger.len()];
        for (i, e) in ledger.iter_mut().enumerate() {
            new_id[e.id] = i;
            e.id = i;
        }
        let mut traces = self.traces.into_inner().unwrap_or_else(|e| e.into_inner());
        for events in traces.values_mut() {
            for ev in events.iter_mut() {
                match ev {
                    TraceEvent::Send { id } | TraceEvent::Recv { id } => *id = new_id[*id],
                    TraceEvent::Compute { .. } => {}
                }
            }
        }
        Recording {
            ledger,
            views: self.views.map(|v| v.into_inner().unwrap_or_else(|e| e.into_inner())).unwrap_or_default(),
            traces,
            steps: self.steps.into_inner().unwrap_or_else(|e| e.into_inner()),
        }
    }
}

/// Everything one simulated run recorded.
#[derive(Debug, Clone, Default)]
pub struct Recording {
    /// Every message, in send order.
    pub ledger: Vec<LedgerEntry>,
    /// What each party received (empty unless views were recorded).
    pub views: BTreeMap<Role, Vec<ViewEntry>>,
    /// Each party's trace.
    pub traces: BTreeMap<Role, Vec<TraceEvent>>,
    /// Step names, indexed by `TraceEvent::Compute::step`.
    pub steps: Vec<String>,
}

impl Recording {
    /// Traffic of the whole run.
    pub fn traffic(&self) -> Traffic {
        self.traffic_where(|_| true)
    }

    /// Traffic of the messages whose label starts with `prefix`.
    pub fn traffic_of(&self, prefix: &str) -> Traffic {
        self.traffic_where(|e| e.label.starts_with(prefix))
    }

    /// Traffic of the messages `keep` selects.
    pub fn traffic_where(&self, keep: impl Fn(&LedgerEntry) -> bool) -> Traffic {
        let mut t = Traffic::default();
        for e in self.ledger.iter().filter(|e| keep(e)) {
            let link = format!("{}->{}", e.from, e.to);
            *t.by_phase.entry(format!("{} {link}", phase_name(e.phase))).or_default() += e.bytes;
            *t.links.entry(link).or_default() += e.bytes;
            t.total_bytes += e.bytes;
            if matches!((e.from, e.to), (Role::P0, Role::P1) | (Role::P1, Role::P0)) {
                t.bytes_p0_p1 += e.bytes;
            }
            t.messages += 1;
        }
        t.rounds = self.rounds_where(|e| e.phase == Phase::Online && keep(e));
        t.offline_rounds = self.rounds_where(|e| e.phase == Phase::Offline && keep(e));
        t
    }

    /// The longest causal chain of selected messages (0 if none), walking the traces in causal order.
    pub fn rounds_where(&self, keep: impl Fn(&LedgerEntry) -> bool) -> u32 {
        let roles: Vec<&Vec<TraceEvent>> = self.traces.values().collect();
        let mut pos = vec![0usize; roles.len()];
        let mut seen = vec![0u32; roles.len()]; // deepest selected message each party has received
        let mut depth: Vec<Option<u32>> = vec![None; self.ledger.len()];
        let mut best = 0;
        loop {
            let mut progressed = false;
            for (p, events) in roles.iter().enumerate() {
                while let Some(ev) = events.get(pos[p]) {
                    match *ev {
                        TraceEvent::Compute { .. } => {}
                        TraceEvent::Send { id } => {
                            let d = if keep(&self.ledger[id]) { seen[p] + 1 } else { seen[p] };
                            depth[id] = Some(d);
                            best = best.max(d);
                        }
                        TraceEvent::Recv { id } => match depth[id] {
                            Some(d) => seen[p] = seen[p].max(d),
                            None => break,
                        },
                    }
                    pos[p] += 1;
                    progressed = true;
                }
            }
            if !progressed {
                return best;
            }
        }
    }

    /// The part of the run that belongs to one step: messages whose label starts with `prefix` and compute
    /// spent in steps whose name starts with `prefix`, re-indexed so that it replays on its own (every party
    /// starting at time 0).
    pub fn restrict(&self, prefix: &str) -> Recording {
        let mut new_id = vec![None; self.ledger.len()];
        let mut ledger = Vec::new();
        for e in &self.ledger {
            if e.label.starts_with(prefix) {
                new_id[e.id] = Some(ledger.len());
                ledger.push(LedgerEntry { id: ledger.len(), ..e.clone() });
            }
        }
        let keep_step: Vec<bool> = self.steps.iter().map(|s| s.starts_with(prefix)).collect();
        let traces = self
            .traces
            .iter()
            .map(|(r, ev)| {
                let kept = ev
                    .iter()
                    .filter_map(|e| match *e {
                        TraceEvent::Compute { ns, step } => keep_step
                            .get(step as usize)
                            .copied()
                            .unwrap_or(false)
                            .then_some(TraceEvent::Compute { ns, step }),
                        TraceEvent::Send { id } => new_id[id].map(|id| TraceEvent::Send { id }),
                        TraceEvent::Recv { id } => new_id[id].map(|id| TraceEvent::Recv { id }),
                    })
                    .collect();
                (*r, kept)
            })
            .collect();
        let views = self
            .views
            .iter()
            .map(|(r, v)| (*r, v.iter().filter(|e| e.label.starts_with(prefix)).cloned().collect()))
            .collect();
        Recording { ledger, views, traces, steps: self.steps.clone() }
    }

    /// Total CPU seconds per party.
    pub fn compute_seconds(&self) -> BTreeMap<String, f64> {
        self.traces
            .iter()
            .map(|(r, ev)| {
                let ns: u64 = ev.iter().map(|e| if let TraceEvent::Compute { ns, .. } = e { *ns } else { 0 }).sum();
                (r.short().to_string(), ns as f64 * 1e-9)
            })
            .collect()
    }
}

/// Traffic totals of a set of ledger entries.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Traffic {
    /// Bytes per directed link, keyed `"P0->P1"`.
    pub links: BTreeMap<String, u64>,
    /// Bytes per (phase, directed link), keyed `"online P0->P1"`.
    pub by_phase: BTreeMap<String, u64>,
    /// All bytes.
    pub total_bytes: u64,
    /// Bytes between P0 and P1, both directions.
    pub bytes_p0_p1: u64,
    /// Messages.
    pub messages: usize,
    /// Online rounds: the longest chain of these online messages in which each was sent after its sender
    /// received the previous one.
    pub rounds: u32,
    /// Offline rounds, likewise.
    pub offline_rounds: u32,
}

/// `offline` or `online`.
pub fn phase_name(p: Phase) -> &'static str {
    match p {
        Phase::Offline => "offline",
        Phase::Online => "online",
    }
}
