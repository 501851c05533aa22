//! Runs one protocol with one thread per party over in-memory transports, each wrapped in the recorder.

use super::memory::MemoryTransport;
use super::record::{Recorded, Recorder, Recording};
use crate::error::{Error, Result};
use crate::net::{PartyInputs, Role, Transport};
use crate::protocol::party::Party;
use crate::protocol::ring::Arith;
use crate::protocol::truncation::{RangeCounts, TruncationCounts, TruncationMonitor};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// How to run.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// The parties taking part.
    pub roles: Vec<Role>,
    /// Keep a copy of everything each party receives, its inputs and its seeds (for attacks). Costs memory.
    pub record_views: bool,
    /// How long a receive may wait before the run is declared deadlocked.
    pub timeout: Duration,
    /// Threads each party computes with (its own rayon pool); compute time is their summed CPU time.
    pub party_threads: usize,
    /// Compute time is what the party's work meter charged, not CPU time (a shape-only run).
    pub metered: bool,
}

impl SimConfig {
    /// These roles; views recorded.
    pub fn new(roles: &[Role]) -> Self {
        Self {
            roles: roles.to_vec(),
            record_views: true,
            timeout: Duration::from_secs(600),
            party_threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            metered: false,
        }
    }
}

/// What a run returns: each party's output and the recording.
#[derive(Debug)]
pub struct SimRun<O> {
    /// Output of each party's protocol code.
    pub outputs: BTreeMap<Role, O>,
    /// Ledger, views and traces.
    pub recording: Recording,
}

/// Runs `party(transport, inputs)` on its own thread for every role of `config`, all connected pairwise.
/// Each role is handed only its own entry of `inputs` (a role without one gets `I::default()`).
///
/// Compute accounting: every party computes on a rayon pool of its own (`party_threads` threads) and its
/// compute intervals are the summed CPU time of that pool's threads: core-seconds. The cost model adds
/// them to the party's clock as they are, so modeled times describe parties with one core each.
///
/// A failed run returns its root cause: the first error that is not a consequence of another party
/// leaving ([`Error::PeerGone`]); a party that panicked is reported as itself ([`Error::PartyPanicked`]).
pub fn run<I, O, F>(config: &SimConfig, mut inputs: BTreeMap<Role, I>, party: F) -> Result<SimRun<O>>
where
    I: Send + Default,
    O: Send,
    F: Fn(Box<dyn Transport>, I) -> Result<O> + Sync,
{
    let recorder = Arc::new(Recorder::new(config.record_views));
    let transports = MemoryTransport::network(&config.roles, config.timeout);
    let results: Vec<(Role, Result<O>)> = std::thread::scope(|s| {
        let handles: Vec<_> = transports
            .into_iter()
            .zip(&config.roles)
            .map(|(t, &role)| {
                let party = &party;
                let threads = config.party_threads;
                let metered = config.metered;
                let recorder = Arc::clone(&recorder);
                let input = inputs.remove(&role).unwrap_or_default();
                let handle = s.spawn(move || -> Result<O> {
                    // Each party computes on a rayon pool of its own; its compute time is the summed CPU
                    // time of that pool's threads.
                    let (pool, clock) = super::clock::pool(threads, metered)
                        .map_err(|e| Error::Protocol { label: None, reason: format!("no threads for {role}: {e}") })?;
                    pool.install(move || party(Box::new(Recorded::new(t, recorder, clock)), input))
                });
                (role, handle)
            })
            .collect();
        handles
            .into_iter()
            .map(|(role, h)| {
                let r = h.join().unwrap_or_else(|panic| {
                    let message = panic
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "(no message)".into());
                    Err(Error::PartyPanicked { role: role.into(), message })
                });
                (role, r)
            })
            .collect()
    });
    let mut outputs = BTreeMap::new();
    let mut first_err: Option<Error> = None;
    for (role, r) in results {
        match r {
            Ok(o) => {
                outputs.insert(role, o);
            }
            // A party that failed first explains the others' disconnections; report the root cause.
            Err(e) => {
                let consequence = matches!(e, Error::PeerGone(_));
                if first_err.as_ref().is_none_or(|f| matches!(f, Error::PeerGone(_)) && !consequence) {
                    first_err = Some(e);
                }
            }
        }
    }
    if let Some(e) = first_err {
        return Err(e);
    }
    let recorder = Arc::try_unwrap(recorder)
        .map_err(|_| Error::Protocol { label: None, reason: "recorder still shared after the run".into() })?;
    Ok(SimRun { outputs, recording: recorder.into_recording() })
}

/// A finished protocol run: each party's output, the recording, and the truncation failures the simulation
/// counted (it sees both shares of every truncation; see [`TruncationMonitor`]).
#[derive(Debug)]
pub struct ProtocolRun<O> {
    /// Output of each party's protocol code.
    pub outputs: BTreeMap<Role, O>,
    /// Ledger, views and traces.
    pub recording: Recording,
    /// Truncated elements checked and failed.
    pub truncation: TruncationCounts,
    /// Values that entered FSS gates, and those outside the range of their comparisons.
    pub range: RangeCounts,
}

/// Runs `body` as every role of `roles` (one thread each) with arithmetic `arith`, after setting up the
/// seeds the roles share; party randomness from `seed`. Each role is handed only its own entry of
/// `inputs`, which goes into its view. Views are recorded when `record_views`.
pub fn run_protocol<A, I, O, F>(
    arith: &A,
    roles: &[Role],
    seed: u64,
    record_views: bool,
    inputs: BTreeMap<Role, I>,
    body: F,
) -> Result<ProtocolRun<O>>
where
    A: Arith,
    I: PartyInputs,
    O: Send,
    F: Fn(&mut Party<A>, I) -> Result<O> + Sync,
{
    let mut config = SimConfig::new(roles);
    config.record_views = record_views;
    if A::SHAPE_ONLY {
        // One thread per party; its compute is what its meter charges.
        config.metered = true;
        config.party_threads = 1;
    }
    // Fix the ring product's path (calibrating if need be) here, before the parties compete for the cores.
    crate::protocol::kernel::ring_path();
    let monitor = Arc::new(TruncationMonitor::default());
    let run = run(&config, inputs, |net, input: I| {
        let mut local = crate::rng::stream(seed, 1000 + net.role().index() as u64);
        let mut p = Party::setup(net, arith.clone(), roles, &mut local)?;
        p.set_truncation_monitor(Arc::clone(&monitor));
        p.note_inputs(&|| input.describe());
        body(&mut p, input)
    })?;
    Ok(ProtocolRun {
        outputs: run.outputs,
        recording: run.recording,
        truncation: monitor.counts(),
        range: monitor.range_counts(),
    })
}
