//! Recording as a wrapper: [`Recorded`] wraps any [`Transport`] and leaves behind the ledger (every
//! message), the views (what each role knows: what it received, its own inputs, the seeds it drew) and the
//! traces (each party's compute intervals and message events, for the cost model). The in-memory transport
//! and a network transport get the same recording for free.

use super::clock::PoolClock;
use crate::error::Result;
use crate::net::{Label, Message, Payload, Phase, Role, Seed, Stage, Transport, ViewKind};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

/// One message in the ledger.
#[derive(Debug, Clone, Serialize)]
pub struct LedgerEntry {
    /// Index in the ledger (canonical order: by sender, then the sender's program order).
    pub id: usize,
    /// Sender.
    pub from: Role,
    /// Receiver.
    pub to: Role,
    /// Payload bytes (8 per element, 16 per seed, no header).
    pub bytes: u64,
    /// Where in the run it belongs.
    pub label: Label,
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
    /// Where in the run it belongs.
    pub label: Label,
    /// Offline (dealer material) or online.
    pub phase: Phase,
    /// What it is.
    pub kind: ViewKind,
    /// The value.
    pub payload: Payload,
}

/// Everything one role knows after a run: what it received, message by message, its own inputs and the
/// seeds it drew. Attacks read one `View` plus the side knowledge they declare.
#[derive(Debug, Clone)]
pub struct View {
    /// Whose view.
    pub role: Role,
    /// What it received, in its own order.
    pub received: Vec<ViewEntry>,
    /// Its own inputs, by name (the owner's data, the label holder's labels, initial parameters).
    pub inputs: Vec<(String, Payload)>,
    /// The seeds it drew and sent, with the role it shares each with (the seeds it received are in
    /// `received`).
    pub seeds: Vec<(Role, Seed)>,
}

impl View {
    /// An empty view of `role`.
    pub fn new(role: Role) -> Self {
        Self { role, received: Vec::new(), inputs: Vec::new(), seeds: Vec::new() }
    }

    /// The received values of one kind.
    pub fn of_kind(&self, kind: ViewKind) -> impl Iterator<Item = &ViewEntry> {
        self.received.iter().filter(move |e| e.kind == kind)
    }
}

/// A party's activity, in its own order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TraceEvent {
    /// CPU time of this party's threads between two communication events (or stage changes).
    Compute {
        /// Nanoseconds.
        ns: u64,
        /// The stage it was spent in.
        #[serde(skip)]
        stage: Stage,
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

#[derive(Debug, Default)]
struct Log {
    ledger: Vec<LedgerEntry>,
    /// Per directed link: the ledger ids sent on it, and how many of them have been received.
    links: HashMap<(Role, Role), (Vec<usize>, usize)>,
}

/// Shared by the recorded transports of one run.
#[derive(Debug, Default)]
pub struct Recorder {
    log: Mutex<Log>,
    traces: Mutex<BTreeMap<Role, Vec<TraceEvent>>>,
    views: Option<Mutex<BTreeMap<Role, View>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Recorder {
    /// A recorder; `record_views` keeps a copy of every received payload and of each role's inputs.
    pub fn new(record_views: bool) -> Self {
        Self { log: Mutex::default(), traces: Mutex::default(), views: record_views.then(Mutex::default) }
    }

    fn log_send(&self, from: Role, to: Role, msg: &Message) -> usize {
        let mut log = lock(&self.log);
        let id = log.ledger.len();
        log.ledger.push(LedgerEntry {
            id,
            from,
            to,
            bytes: msg.payload.bytes(),
            label: msg.label.clone(),
            phase: msg.phase,
            kind: msg.kind,
        });
        log.links.entry((from, to)).or_default().0.push(id);
        id
    }

    /// The ledger id of the next message received on `from -> me` (links deliver in order). A recorder
    /// that did not see the send (one process of a deployment records only its own party) enters the
    /// message as received; [`Recording::merge`] matches it with the sender's entry.
    fn log_recv(&self, me: Role, from: Role, msg: &Message) -> usize {
        let id = {
            let mut guard = lock(&self.log);
            let log = &mut *guard;
            let (sent, taken) = log.links.entry((from, me)).or_default();
            let id = match sent.get(*taken) {
                Some(&id) => id,
                None => {
                    let id = log.ledger.len();
                    log.ledger.push(LedgerEntry {
                        id,
                        from,
                        to: me,
                        bytes: msg.payload.bytes(),
                        label: msg.label.clone(),
                        phase: msg.phase,
                        kind: msg.kind,
                    });
                    sent.push(id);
                    id
                }
            };
            *taken += 1;
            id
        };
        self.with_view(me, |v| {
            v.received.push(ViewEntry {
                from,
                label: msg.label.clone(),
                phase: msg.phase,
                kind: msg.kind,
                payload: msg.payload.clone(),
            })
        });
        id
    }

    fn with_view(&self, role: Role, f: impl FnOnce(&mut View)) {
        if let Some(views) = &self.views {
            f(lock(views).entry(role).or_insert_with(|| View::new(role)));
        }
    }

    /// Takes the ledger, views and traces out. The ledger is put in a canonical order — by sender, then in
    /// each sender's program order — so that it does not depend on how the threads were scheduled; trace
    /// events are renumbered to match.
    pub fn into_recording(self) -> Recording {
        let mut ledger = self.log.into_inner().unwrap_or_else(|e| e.into_inner()).ledger;
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
        }
    }
}

/// A transport that records everything passing through `inner`, and the CPU time of this party's threads
/// between messages.
pub struct Recorded<T: Transport> {
    inner: T,
    role: Role,
    recorder: Arc<Recorder>,
    trace: Vec<TraceEvent>,
    clock: PoolClock,
    last_cpu_ns: u64,
    stage: Stage,
}

impl<T: Transport> Recorded<T> {
    /// Wraps `inner`; `clock` reads the CPU time of the threads this party computes on.
    pub fn new(inner: T, recorder: Arc<Recorder>, clock: PoolClock) -> Self {
        let role = inner.role();
        let last_cpu_ns = clock.cpu_ns();
        Self { inner, role, recorder, trace: Vec::new(), clock, last_cpu_ns, stage: Stage::Setup }
    }

    fn mark_compute(&mut self) {
        let now = self.clock.cpu_ns();
        let spent = now.saturating_sub(self.last_cpu_ns);
        self.last_cpu_ns = now;
        if spent > 0 {
            self.trace.push(TraceEvent::Compute { ns: spent, stage: self.stage });
        }
    }
}

impl<T: Transport> Drop for Recorded<T> {
    /// Closes the trace with the compute since the last message and hands it to the recorder. Runs on the
    /// party's own thread when its protocol code returns, so the CPU clock is the right one.
    fn drop(&mut self) {
        self.mark_compute();
        lock(&self.recorder.traces).insert(self.role, std::mem::take(&mut self.trace));
    }
}

impl<T: Transport> Transport for Recorded<T> {
    fn role(&self) -> Role {
        self.role
    }

    fn send(&mut self, to: Role, msg: Message) -> Result<()> {
        self.mark_compute();
        let id = self.recorder.log_send(self.role, to, &msg);
        self.trace.push(TraceEvent::Send { id });
        self.inner.send(to, msg)?;
        // Sending costs no CPU worth tracing apart from the copy, which the next interval absorbs.
        self.last_cpu_ns = self.clock.cpu_ns();
        Ok(())
    }

    fn recv(&mut self, from: Role, label: &Label) -> Result<Message> {
        self.mark_compute();
        let msg = self.inner.recv(from, label)?;
        let id = self.recorder.log_recv(self.role, from, &msg);
        self.trace.push(TraceEvent::Recv { id });
        self.last_cpu_ns = self.clock.cpu_ns();
        Ok(msg)
    }

    fn set_stage(&mut self, stage: Stage) {
        self.mark_compute();
        self.stage = stage;
        self.inner.set_stage(stage);
    }

    fn note_seed(&mut self, with: Role, seed: &Seed) {
        self.recorder.with_view(self.role, |v| v.seeds.push((with, *seed)));
        self.inner.note_seed(with, seed);
    }

    fn note_inputs(&mut self, inputs: &dyn Fn() -> Vec<(String, Payload)>) {
        self.recorder.with_view(self.role, |v| v.inputs.extend(inputs()));
        self.inner.note_inputs(inputs);
    }
}

/// Everything one run recorded.
#[derive(Debug, Clone, Default)]
pub struct Recording {
    /// Every message, in canonical order.
    pub ledger: Vec<LedgerEntry>,
    /// What each role knows (empty unless views were recorded).
    pub views: BTreeMap<Role, View>,
    /// Each party's trace.
    pub traces: BTreeMap<Role, Vec<TraceEvent>>,
}

impl Recording {
    /// The part of the run in the stages `keep` selects: their messages and their compute, re-indexed so
    /// that it replays on its own (every party starting at time 0). For measurement: views are left out
    /// (take them from the whole recording).
    pub fn select(&self, keep: impl Fn(Stage) -> bool) -> Recording {
        self.filter(|e| keep(e.label.stage), &keep)
    }

    /// The messages `keep` selects (e.g. one layer's), without compute: for counting bytes and rounds.
    pub fn messages_where(&self, keep: impl Fn(&LedgerEntry) -> bool) -> Recording {
        self.filter(keep, |_| false)
    }

    fn filter(&self, keep_msg: impl Fn(&LedgerEntry) -> bool, keep_compute: impl Fn(Stage) -> bool) -> Recording {
        let mut new_id = vec![None; self.ledger.len()];
        let mut ledger = Vec::new();
        for e in &self.ledger {
            if keep_msg(e) {
                new_id[e.id] = Some(ledger.len());
                ledger.push(LedgerEntry { id: ledger.len(), ..e.clone() });
            }
        }
        let traces = self
            .traces
            .iter()
            .map(|(r, ev)| {
                let kept = ev
                    .iter()
                    .filter_map(|e| match *e {
                        TraceEvent::Compute { ns, stage } => {
                            keep_compute(stage).then_some(TraceEvent::Compute { ns, stage })
                        }
                        TraceEvent::Send { id } => new_id[id].map(|id| TraceEvent::Send { id }),
                        TraceEvent::Recv { id } => new_id[id].map(|id| TraceEvent::Recv { id }),
                    })
                    .collect();
                (*r, kept)
            })
            .collect();
        Recording { ledger, views: BTreeMap::new(), traces }
    }

    /// One stage of the run ([`Recording::select`]).
    pub fn stage(&self, stage: Stage) -> Recording {
        self.select(|s| s == stage)
    }

    /// Joins the recordings of parties that ran apart (one process each, each recorder seeing only its own
    /// party): each part's ledger holds what its party sent and what it received. The result is the
    /// recording one shared recorder would have made: the senders' entries in canonical order, every
    /// receive matched with the send at the same place on its link. Fails if a receiver's entry differs from
    /// the sender's (label, bytes, phase, kind) or a link's counts disagree: the two ends did not see the
    /// same run.
    pub fn merge(parts: Vec<Recording>) -> Result<Recording> {
        use crate::net::protocol_error;
        let mut parts: Vec<(Role, Recording)> = parts
            .into_iter()
            .map(|r| {
                let mut roles = r.traces.keys().copied();
                match (roles.next(), roles.next()) {
                    (Some(role), None) => Ok((role, r)),
                    _ => Err(protocol_error(None, "a part to merge must hold exactly one party's trace")),
                }
            })
            .collect::<Result<_>>()?;
        parts.sort_by_key(|(r, _)| *r);
        // Senders' entries, canonical order: by sender, then program order.
        let mut ledger: Vec<LedgerEntry> = Vec::new();
        let mut send_id: Vec<HashMap<usize, usize>> = Vec::new();
        let mut on_link: HashMap<(Role, Role), Vec<usize>> = HashMap::new();
        for (role, part) in &parts {
            let mut map = HashMap::new();
            for e in part.ledger.iter().filter(|e| e.from == *role) {
                let id = ledger.len();
                map.insert(e.id, id);
                on_link.entry((e.from, e.to)).or_default().push(id);
                ledger.push(LedgerEntry { id, ..e.clone() });
            }
            send_id.push(map);
        }
        let mut traces = BTreeMap::new();
        for ((role, part), sends) in parts.iter().zip(&send_id) {
            let mut recv_id = HashMap::new();
            let mut taken: HashMap<Role, usize> = HashMap::new();
            for e in part.ledger.iter().filter(|e| e.to == *role && e.from != *role) {
                let k = taken.entry(e.from).or_default();
                let id = on_link.get(&(e.from, *role)).and_then(|v| v.get(*k)).copied().ok_or_else(|| {
                    protocol_error(Some(&e.label), format!("{role} received more from {} than it sent", e.from))
                })?;
                *k += 1;
                let s = &ledger[id];
                if (s.bytes, &s.label, s.phase, s.kind) != (e.bytes, &e.label, e.phase, e.kind) {
                    return Err(protocol_error(
                        Some(&e.label),
                        format!(
                            "{role} received '{}' ({} bytes) where {} sent '{}' ({} bytes)",
                            e.label, e.bytes, e.from, s.label, s.bytes
                        ),
                    ));
                }
                recv_id.insert(e.id, id);
            }
            let events = part.traces[role]
                .iter()
                .map(|ev| match *ev {
                    TraceEvent::Compute { ns, stage } => Ok(TraceEvent::Compute { ns, stage }),
                    TraceEvent::Send { id } => sends
                        .get(&id)
                        .map(|&id| TraceEvent::Send { id })
                        .ok_or_else(|| protocol_error(None, format!("{role}'s trace sends an unknown message"))),
                    TraceEvent::Recv { id } => recv_id
                        .get(&id)
                        .map(|&id| TraceEvent::Recv { id })
                        .ok_or_else(|| protocol_error(None, format!("{role}'s trace receives an unknown message"))),
                })
                .collect::<Result<Vec<_>>>()?;
            traces.insert(*role, events);
        }
        for ((from, to), ids) in &on_link {
            let got = parts
                .iter()
                .find(|(r, _)| r == to)
                .map_or(0, |(_, p)| p.ledger.iter().filter(|e| e.from == *from && e.to == *to).count());
            if got != ids.len() && parts.iter().any(|(r, _)| r == to) {
                return Err(protocol_error(
                    None,
                    format!("{from} sent {} messages to {to}, which received {got}", ids.len()),
                ));
            }
        }
        Ok(Recording { ledger, views: BTreeMap::new(), traces })
    }

    /// Total CPU seconds per party.
    pub fn compute_seconds(&self) -> BTreeMap<Role, f64> {
        self.traces
            .iter()
            .map(|(r, ev)| {
                let ns: u64 = ev.iter().map(|e| if let TraceEvent::Compute { ns, .. } = e { *ns } else { 0 }).sum();
                (*r, ns as f64 * 1e-9)
            })
            .collect()
    }
}
