//! Runs one protocol with one thread per party over in-memory transports.

use super::party::Role;
use super::record::{Recorder, Recording};
use super::transport::{SimTransport, Transport};
use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::mpsc::channel;
use std::time::Duration;

/// How to run.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// The parties taking part.
    pub roles: Vec<Role>,
    /// Keep a copy of everything each party receives (for attacks). Costs memory.
    pub record_views: bool,
    /// How long a receive may wait before the run is declared deadlocked.
    pub timeout: Duration,
    /// Threads each party computes with (its own rayon pool); compute time is their summed CPU time.
    pub party_threads: usize,
}

impl SimConfig {
    /// P0, P1 and the dealer; views recorded.
    pub fn new(roles: &[Role]) -> Self {
        Self {
            roles: roles.to_vec(),
            record_views: true,
            timeout: Duration::from_secs(600),
            party_threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
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

/// Runs `party(transport)` on its own thread for every role of `config`, all connected pairwise.
///
/// Compute accounting: every party computes on a rayon pool of its own (`party_threads` threads) and its
/// compute intervals are the summed CPU time of that pool's threads: core-seconds. The cost model adds
/// them to the party's clock as they are, so modeled times describe parties with one core each.
pub fn run<O, F>(config: &SimConfig, party: F) -> Result<SimRun<O>>
where
    O: Send,
    F: Fn(Box<dyn Transport>) -> Result<O> + Sync,
{
    let n = Role::ALL.len();
    let recorder = Arc::new(Recorder::new(config.record_views));
    let mut out: Vec<Vec<Option<_>>> = (0..n).map(|_| (0..n).map(|_| None).collect()).collect();
    let mut inbox: Vec<Vec<Option<_>>> = (0..n).map(|_| (0..n).map(|_| None).collect()).collect();
    for &a in &config.roles {
        for &b in &config.roles {
            if a != b {
                let (tx, rx) = channel();
                out[a.index()][b.index()] = Some(tx);
                inbox[b.index()][a.index()] = Some(rx);
            }
        }
    }
    let mut transports = Vec::new();
    for &r in &config.roles {
        transports.push(SimTransport {
            role: r,
            out: std::mem::take(&mut out[r.index()]),
            inbox: std::mem::take(&mut inbox[r.index()]),
            recorder: Arc::clone(&recorder),
            trace: Vec::new(),
            last_cpu_ns: 0,
            clock: Default::default(),
            depth: [0, 0],
            step: 0,
            timeout: config.timeout,
        });
    }
    let results: Vec<(Role, Result<O>)> = std::thread::scope(|s| {
        let handles: Vec<_> = transports
            .into_iter()
            .map(|mut t| {
                let party = &party;
                let threads = config.party_threads;
                s.spawn(move || {
                    let role = t.role;
                    // Each party computes on a rayon pool of its own; its compute time is the summed CPU
                    // time of that pool's threads.
                    let (pool, clock) = match super::clock::pool(threads) {
                        Ok(p) => p,
                        Err(e) => return (role, Err(Error::Numerical(format!("no threads for {role}: {e}")))),
                    };
                    pool.install(move || {
                        t.last_cpu_ns = clock.cpu_ns();
                        t.clock = clock;
                        (role, party(Box::new(t)))
                    })
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| (Role::Owner, Err(Error::Numerical("a party thread panicked".into()))))
            })
            .collect()
    });
    let mut outputs = BTreeMap::new();
    let mut first_err = None;
    for (role, r) in results {
        match r {
            Ok(o) => {
                outputs.insert(role, o);
            }
            Err(e) => {
                // A party that failed first explains the others' disconnections; report the root cause.
                let root = !e.to_string().contains("stopped before") && !e.to_string().contains("left the protocol");
                if first_err.is_none() || root {
                    first_err = Some(e);
                }
            }
        }
    }
    if let Some(e) = first_err {
        return Err(e);
    }
    let recorder =
        Arc::try_unwrap(recorder).map_err(|_| Error::Numerical("recorder still shared after the run".into()))?;
    Ok(SimRun { outputs, recording: recorder.into_parts() })
}
