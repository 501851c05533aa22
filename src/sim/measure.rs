//! The one measurement path: a (selection of a) recording, measured under a list of network profiles.
//! Traffic per (phase, directed link), rounds (a replay with zero compute and unit latency), CPU per party,
//! and modeled time per profile (all, online only, offline only).

use super::cost::{Profile, replay, rounds};
use super::record::Recording;
use crate::error::Result;
use crate::net::{Phase, Role};
use serde::ser::SerializeSeq;
use serde::{Serialize, Serializer};
use std::collections::BTreeMap;

/// Traffic totals of a recording.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Traffic {
    /// Bytes per (phase, sender, receiver); in JSON a list of `{phase, from, to, bytes}`.
    #[serde(serialize_with = "links_as_list")]
    pub by_link: BTreeMap<(Phase, Role, Role), u64>,
    /// All bytes.
    pub total_bytes: u64,
    /// Bytes between P0 and P1, both directions.
    pub bytes_p0_p1: u64,
    /// Messages.
    pub messages: usize,
    /// Online rounds: the longest chain of online messages in which each was sent after its sender
    /// received the previous one.
    pub rounds: u32,
    /// Offline rounds, likewise.
    pub offline_rounds: u32,
}

#[derive(Serialize)]
struct LinkBytes {
    phase: Phase,
    from: &'static str,
    to: &'static str,
    bytes: u64,
}

fn links_as_list<S: Serializer>(m: &BTreeMap<(Phase, Role, Role), u64>, s: S) -> std::result::Result<S::Ok, S::Error> {
    let mut seq = s.serialize_seq(Some(m.len()))?;
    for (&(phase, from, to), &bytes) in m {
        seq.serialize_element(&LinkBytes { phase, from: from.short(), to: to.short(), bytes })?;
    }
    seq.end()
}

impl Traffic {
    /// Bytes per directed link, both phases together.
    pub fn links(&self) -> BTreeMap<(Role, Role), u64> {
        let mut out = BTreeMap::new();
        for (&(_, from, to), &b) in &self.by_link {
            *out.entry((from, to)).or_default() += b;
        }
        out
    }

    /// Bytes of one phase, every link.
    pub fn phase_bytes(&self, phase: Phase) -> u64 {
        self.by_link.iter().filter(|(k, _)| k.0 == phase).map(|(_, v)| v).sum()
    }

    /// Bytes of one phase on one directed link (0 if none).
    pub fn bytes(&self, phase: Phase, from: Role, to: Role) -> u64 {
        self.by_link.get(&(phase, from, to)).copied().unwrap_or(0)
    }
}

/// The traffic of a whole recording, with its rounds.
pub fn traffic(rec: &Recording) -> Result<Traffic> {
    let mut t = Traffic::default();
    for e in &rec.ledger {
        *t.by_link.entry((e.phase, e.from, e.to)).or_default() += e.bytes;
        t.total_bytes += e.bytes;
        if matches!((e.from, e.to), (Role::P0, Role::P1) | (Role::P1, Role::P0)) {
            t.bytes_p0_p1 += e.bytes;
        }
        t.messages += 1;
    }
    t.rounds = rounds(&rec.ledger, &rec.traces, Phase::Online)?;
    t.offline_rounds = rounds(&rec.ledger, &rec.traces, Phase::Offline)?;
    Ok(t)
}

/// What one recording costs.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Measurement {
    /// Bytes and rounds.
    pub traffic: Traffic,
    /// CPU seconds per party (short names: `P0`, `D`, ...).
    pub compute_seconds: BTreeMap<String, f64>,
    /// Modeled seconds per profile, both phases.
    pub modeled_seconds: BTreeMap<String, f64>,
    /// Modeled seconds of the online phase alone (dealer material delivered in advance).
    pub modeled_online_seconds: BTreeMap<String, f64>,
    /// Modeled seconds of the offline phase alone.
    pub modeled_offline_seconds: BTreeMap<String, f64>,
    /// Seconds the critical party spent per message label, under the first profile.
    pub per_label_seconds: BTreeMap<String, f64>,
}

/// Measures `rec` (usually one stage of a run, [`Recording::select`]) under `profiles`.
pub fn measure(rec: &Recording, profiles: &[Profile]) -> Result<Measurement> {
    let mut m = Measurement {
        traffic: traffic(rec)?,
        compute_seconds: rec.compute_seconds().into_iter().map(|(r, s)| (r.short().to_string(), s)).collect(),
        ..Default::default()
    };
    for (i, prof) in profiles.iter().enumerate() {
        let all = replay(&rec.ledger, &rec.traces, prof, None)?;
        if i == 0 {
            m.per_label_seconds = all.per_label;
        }
        m.modeled_seconds.insert(prof.name.clone(), all.seconds);
        let online = replay(&rec.ledger, &rec.traces, prof, Some(Phase::Online))?;
        m.modeled_online_seconds.insert(prof.name.clone(), online.seconds);
        let offline = replay(&rec.ledger, &rec.traces, prof, Some(Phase::Offline))?;
        m.modeled_offline_seconds.insert(prof.name.clone(), offline.seconds);
    }
    Ok(m)
}
