//! The network cost model: replay a run's traces under a network profile.
//!
//! Discrete events. Each party has a clock. A compute interval advances its clock by the thread CPU time it
//! took. A message leaves when its sender's clock says, queues behind earlier messages on that directed link,
//! occupies the link for `(bytes + overhead) / bandwidth`, and arrives one latency (half the RTT) after it
//! finishes transmitting. A receive advances the receiver's clock to the arrival, if later. Nothing is slept:
//! one recorded run gives LAN, WAN and any sweep.
//!
//! Phases: each compute interval belongs to the phase of the message that follows it (the work that
//! produced it or waits for it). The offline replay keeps only offline events; the online replay treats all
//! offline material as delivered before the start and skips offline compute.

use super::record::{LedgerEntry, TraceEvent};
use crate::error::{Error, Result, invalid};
use crate::net::{Phase, Role};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// A network.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Profile {
    /// Name used in reports (`lan`, `wan`, `custom`).
    pub name: String,
    /// Bytes per second per directed link.
    pub bandwidth: f64,
    /// Round-trip time in seconds (one way is half).
    pub rtt: f64,
    /// Bytes added to every message (framing); 0 by default.
    pub overhead_bytes: u64,
}

impl Profile {
    /// SecureNN's LAN: 625 MB/s, 0.22 ms RTT.
    pub fn lan() -> Self {
        Self { name: "lan".into(), bandwidth: 625e6, rtt: 0.22e-3, overhead_bytes: 0 }
    }

    /// SecureNN's WAN: 40 MB/s, 58 ms RTT.
    pub fn wan() -> Self {
        Self { name: "wan".into(), bandwidth: 40e6, rtt: 58e-3, overhead_bytes: 0 }
    }

    /// A named profile (`lan`, `wan`).
    pub fn named(name: &str) -> Result<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "lan" => Ok(Self::lan()),
            "wan" => Ok(Self::wan()),
            other => Err(invalid(format!("unknown network profile '{other}' (known: lan, wan; or --bandwidth/--rtt)"))),
        }
    }

    /// A custom profile from strings such as `1Gbit` and `10ms`.
    pub fn custom(bandwidth: &str, rtt: &str) -> Result<Self> {
        Ok(Self {
            name: "custom".into(),
            bandwidth: parse_bandwidth(bandwidth)?,
            rtt: parse_duration(rtt)?,
            overhead_bytes: 0,
        })
    }
}

/// `1Gbit`, `100Mbit/s`, `625MB/s`, `40MB`, `1e9` (bytes/s) -> bytes per second.
pub fn parse_bandwidth(s: &str) -> Result<f64> {
    let t = s.trim().trim_end_matches("/s").trim_end_matches("ps");
    let split = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let v: f64 = num.trim().parse().map_err(|_| invalid(format!("bandwidth '{s}': expected e.g. 1Gbit, 625MB/s")))?;
    let factor = match unit.trim() {
        "" | "B" => 1.0,
        "KB" | "kB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "bit" | "b" => 1.0 / 8.0,
        "kbit" | "Kbit" | "kb" => 1e3 / 8.0,
        "Mbit" | "Mb" => 1e6 / 8.0,
        "Gbit" | "Gb" => 1e9 / 8.0,
        other => {
            return Err(invalid(format!(
                "bandwidth '{s}': unknown unit '{other}' (B, KB, MB, GB, bit, kbit, Mbit, Gbit)"
            )));
        }
    };
    let bw = v * factor;
    if !bw.is_finite() || bw <= 0.0 {
        return Err(invalid(format!("bandwidth '{s}' must be positive")));
    }
    Ok(bw)
}

/// `10ms`, `0.22ms`, `58 ms`, `1s`, `250us` -> seconds.
pub fn parse_duration(s: &str) -> Result<f64> {
    let t = s.trim();
    let split = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let v: f64 = num.trim().parse().map_err(|_| invalid(format!("duration '{s}': expected e.g. 10ms, 0.22ms, 1s")))?;
    let factor = match unit.trim() {
        "s" | "" => 1.0,
        "ms" => 1e-3,
        "us" | "µs" => 1e-6,
        "ns" => 1e-9,
        other => {
            return Err(invalid(format!("duration '{s}': unknown unit '{other}' (s, ms, us, ns)")));
        }
    };
    let d = v * factor;
    if !d.is_finite() || d < 0.0 {
        return Err(invalid(format!("duration '{s}' must be zero or positive")));
    }
    Ok(d)
}

/// The modeled time of a run (or one phase of it) under a profile.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Replay {
    /// When the last party finishes, seconds.
    pub seconds: f64,
    /// Each party's finishing time.
    pub per_party: BTreeMap<String, f64>,
    /// Seconds the critical (last-finishing) party spent per step label: compute before and waits for each
    /// label's messages.
    pub per_label: BTreeMap<String, f64>,
}

/// Replays `traces` with the messages of `ledger` under `profile`, keeping the events of `phase` (or all).
pub fn replay(
    ledger: &[LedgerEntry],
    traces: &BTreeMap<Role, Vec<TraceEvent>>,
    profile: &Profile,
    phase: Option<Phase>,
) -> Result<Replay> {
    replay_with(ledger, traces, profile, phase, true)
}

/// Rounds of `phase`: the longest chain of its messages in which each was sent after its sender received
/// the previous one. The same replay with zero compute, unit one-way latency and unbounded bandwidth, so
/// that the finishing time counts latencies; messages of the other phase are delivered in advance.
pub fn rounds(ledger: &[LedgerEntry], traces: &BTreeMap<Role, Vec<TraceEvent>>, phase: Phase) -> Result<u32> {
    let unit = Profile { name: "rounds".into(), bandwidth: f64::INFINITY, rtt: 2.0, overhead_bytes: 0 };
    Ok(replay_with(ledger, traces, &unit, Some(phase), false)?.seconds.round() as u32)
}

fn replay_with(
    ledger: &[LedgerEntry],
    traces: &BTreeMap<Role, Vec<TraceEvent>>,
    profile: &Profile,
    phase: Option<Phase>,
    compute: bool,
) -> Result<Replay> {
    let keep = |p: Phase| phase.is_none_or(|want| want == p);
    let one_way = profile.rtt / 2.0;
    let roles: Vec<Role> = traces.keys().copied().collect();
    let mut clock = vec![0.0f64; roles.len()];
    let mut pos = vec![0usize; roles.len()];
    let mut spent: Vec<BTreeMap<String, f64>> = vec![BTreeMap::new(); roles.len()];
    let mut arrival: Vec<Option<f64>> = vec![None; ledger.len()];
    let mut link_free: HashMap<(Role, Role), f64> = HashMap::new();
    // Phase and label of the event that follows each compute interval.
    let next_msg: Vec<Vec<Option<usize>>> = roles
        .iter()
        .map(|r| {
            let ev = &traces[r];
            let mut next = vec![None; ev.len()];
            let mut upcoming = None;
            for i in (0..ev.len()).rev() {
                match ev[i] {
                    TraceEvent::Send { id } | TraceEvent::Recv { id } => upcoming = Some(id),
                    TraceEvent::Compute { .. } => {}
                }
                next[i] = upcoming;
            }
            next
        })
        .collect();
    loop {
        let mut progressed = false;
        let mut done = true;
        for (p, role) in roles.iter().enumerate() {
            let events = &traces[role];
            while pos[p] < events.len() {
                match events[pos[p]] {
                    TraceEvent::Compute { ns, .. } => {
                        let (ph, label) = match next_msg[p][pos[p]] {
                            Some(id) => (ledger[id].phase, ledger[id].label.to_string()),
                            None => (Phase::Online, "(after last message)".to_string()),
                        };
                        if compute && keep(ph) {
                            let dt = ns as f64 * 1e-9;
                            clock[p] += dt;
                            *spent[p].entry(label).or_default() += dt;
                        }
                    }
                    TraceEvent::Send { id } => {
                        let e = &ledger[id];
                        if keep(e.phase) {
                            let free = link_free.entry((e.from, e.to)).or_insert(0.0);
                            let start = free.max(clock[p]);
                            *free = start + (e.bytes + profile.overhead_bytes) as f64 / profile.bandwidth;
                            arrival[id] = Some(*free + one_way);
                        } else {
                            arrival[id] = Some(f64::NEG_INFINITY);
                        }
                    }
                    TraceEvent::Recv { id } => match arrival[id] {
                        Some(t) => {
                            if t > clock[p] {
                                *spent[p].entry(ledger[id].label.to_string()).or_default() += t - clock[p];
                                clock[p] = t;
                            }
                        }
                        None => break,
                    },
                }
                pos[p] += 1;
                progressed = true;
            }
            if pos[p] < events.len() {
                done = false;
            }
        }
        if done {
            break;
        }
        if !progressed {
            return Err(Error::Protocol {
                label: None,
                reason: "trace replay stalled: a receive has no matching send".into(),
            });
        }
    }
    let critical = (0..roles.len()).max_by(|&a, &b| clock[a].total_cmp(&clock[b]));
    Ok(Replay {
        seconds: clock.iter().copied().fold(0.0, f64::max),
        per_party: roles.iter().zip(&clock).map(|(r, c)| (r.short().to_string(), *c)).collect(),
        per_label: critical.map(|c| spent[c].clone()).unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::{Stage, ViewKind};

    fn entry(id: usize, from: Role, to: Role, bytes: u64, phase: Phase) -> LedgerEntry {
        LedgerEntry { id, from, to, bytes, label: Stage::Op.at(format!("m{id}")), phase, kind: ViewKind::Share }
    }

    #[test]
    fn units_parse() {
        assert_eq!(parse_bandwidth("1Gbit").unwrap(), 125e6);
        assert_eq!(parse_bandwidth("625MB/s").unwrap(), 625e6);
        assert_eq!(parse_bandwidth("10Mbit/s").unwrap(), 1.25e6);
        assert!((parse_duration("0.22ms").unwrap() - 0.22e-3).abs() < 1e-18);
        assert_eq!(parse_duration("10 ms").unwrap(), 0.01);
        assert!(parse_bandwidth("fast").is_err());
        assert!(parse_bandwidth("0Gbit").is_err());
        assert!(parse_duration("-1ms").is_err());
        assert!(parse_duration("3 fortnights").is_err());
    }

    #[test]
    fn ping_pong_costs_two_latencies_and_two_transmissions() {
        // P0 computes 1 ms, sends 1 MB to P1; P1 replies 1 MB after 2 ms of compute.
        let ledger = vec![
            entry(0, Role::P0, Role::P1, 1_000_000, Phase::Online),
            entry(1, Role::P1, Role::P0, 1_000_000, Phase::Online),
        ];
        let mut traces = BTreeMap::new();
        traces.insert(
            Role::P0,
            vec![
                TraceEvent::Compute { ns: 1_000_000, stage: Stage::Op },
                TraceEvent::Send { id: 0 },
                TraceEvent::Recv { id: 1 },
            ],
        );
        traces.insert(
            Role::P1,
            vec![
                TraceEvent::Recv { id: 0 },
                TraceEvent::Compute { ns: 2_000_000, stage: Stage::Op },
                TraceEvent::Send { id: 1 },
            ],
        );
        let p = Profile { name: "t".into(), bandwidth: 1e8, rtt: 0.02, overhead_bytes: 0 };
        let r = replay(&ledger, &traces, &p, None).unwrap();
        // 1 ms + 10 ms transmit + 10 ms latency + 2 ms + 10 ms + 10 ms = 43 ms.
        assert!((r.seconds - 0.043).abs() < 1e-12, "{}", r.seconds);
        assert!((r.per_party["P1"] - 0.023).abs() < 1e-12); // sending does not block the sender
    }

    #[test]
    fn messages_queue_on_a_link_and_offline_material_is_free_online() {
        let ledger = vec![
            entry(0, Role::Dealer, Role::P1, 4_000_000, Phase::Offline),
            entry(1, Role::P0, Role::P1, 1_000_000, Phase::Online),
            entry(2, Role::P0, Role::P1, 1_000_000, Phase::Online),
        ];
        let mut traces = BTreeMap::new();
        traces.insert(
            Role::Dealer,
            vec![TraceEvent::Compute { ns: 5_000_000, stage: Stage::Op }, TraceEvent::Send { id: 0 }],
        );
        traces.insert(Role::P0, vec![TraceEvent::Send { id: 1 }, TraceEvent::Send { id: 2 }]);
        traces
            .insert(Role::P1, vec![TraceEvent::Recv { id: 0 }, TraceEvent::Recv { id: 1 }, TraceEvent::Recv { id: 2 }]);
        let p = Profile { name: "t".into(), bandwidth: 1e8, rtt: 0.0, overhead_bytes: 0 };
        let all = replay(&ledger, &traces, &p, None).unwrap();
        assert!((all.seconds - 0.045).abs() < 1e-12, "{}", all.seconds); // 5 ms + 40 ms
        let online = replay(&ledger, &traces, &p, Some(Phase::Online)).unwrap();
        assert!((online.seconds - 0.020).abs() < 1e-12, "{}", online.seconds); // two queued 10 ms sends
        let offline = replay(&ledger, &traces, &p, Some(Phase::Offline)).unwrap();
        assert!((offline.seconds - 0.045).abs() < 1e-12);
        // Two online messages on one link, neither waiting for the other: one round; one offline round.
        assert_eq!(rounds(&ledger, &traces, Phase::Online).unwrap(), 1);
        assert_eq!(rounds(&ledger, &traces, Phase::Offline).unwrap(), 1);
    }

    #[test]
    fn rounds_count_causal_chains_not_messages() {
        // P0 -> P1, P1 -> P0 (after receiving), P0 -> Dealer (after receiving): three rounds.
        let ledger = vec![
            entry(0, Role::P0, Role::P1, 8, Phase::Online),
            entry(1, Role::P1, Role::P0, 8, Phase::Online),
            entry(2, Role::P0, Role::Dealer, 8, Phase::Online),
        ];
        let mut traces = BTreeMap::new();
        traces
            .insert(Role::P0, vec![TraceEvent::Send { id: 0 }, TraceEvent::Recv { id: 1 }, TraceEvent::Send { id: 2 }]);
        traces.insert(Role::P1, vec![TraceEvent::Recv { id: 0 }, TraceEvent::Send { id: 1 }]);
        traces.insert(
            Role::Dealer,
            vec![TraceEvent::Compute { ns: 9_000_000_000, stage: Stage::Op }, TraceEvent::Recv { id: 2 }],
        );
        assert_eq!(rounds(&ledger, &traces, Phase::Online).unwrap(), 3);
        assert_eq!(rounds(&ledger, &traces, Phase::Offline).unwrap(), 0);
    }
}
