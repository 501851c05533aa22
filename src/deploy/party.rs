//! One role of a deployment, as its own process: read `parties.toml`, load this role's own inputs (and
//! nothing else), connect to the peers over mutual TLS, run the same party code the simulator runs, and
//! write what it produced and measured.
//!
//! Randomness comes from the operating system: the seeds this party shares with others are drawn from it
//! and sent over the TLS channel, and the owner's initial parameters come from it unless the file names
//! a seed. `job.test_seed` (everything from one seed, as `rtas simulate --seed`) is refused unless the
//! party is told it is a test.

use super::config::{Config, Own};
use super::data::{load_cut, load_labels};
use super::tcp::{NetStats, PeerLimits, TcpTransport, listen};
use super::tls::{Identity, role_name};
use super::wire::{WireOut, WireRecording, WireView};
use crate::error::{Error, Result, invalid};
use crate::experiment::simulate::{batches, initial_params};
use crate::models::secure::{self, Inputs, Plan, Protocol};
use crate::net::{PartyInputs, Role};
use crate::protocol::party::Party;
use crate::protocol::ring::RingArith;
use crate::sim::record::{Recorded, Recorder};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Arc;

/// What one party produced and measured; written as JSON when (and only when) its run completed.
#[derive(Debug, Serialize, Deserialize)]
pub struct PartyResult {
    /// The role.
    pub role: Role,
    /// Whether the job ran from `test_seed`.
    pub test: bool,
    /// The protocol's outputs at this role (shares of the final parameters at P0 and P1, predictions at
    /// whoever receives them).
    pub outputs: WireOut,
    /// This party's recording: what it sent and received, its compute between messages.
    pub recording: WireRecording,
    /// Bytes on each link and when each stage began.
    pub net: NetStats,
    /// Seconds from the links being up to this party's last message.
    pub wall_seconds: f64,
    /// Test accuracy, at the role that receives the predictions (and holds the test labels).
    pub accuracy: Option<f64>,
    /// With `record_view`: everything this party received, its own inputs and the seeds it drew (what an
    /// attack on this role reads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view: Option<WireView>,
}

/// Runs `role` of the job in `cfg` with this party's own inputs `own`. `test` allows `job.test_seed`;
/// `record_view` keeps this party's view in the result; `refused` hears of every connection refused at
/// start-up.
pub fn run(
    cfg: &Config,
    own: &Own,
    role: Role,
    test: bool,
    record_view: bool,
    refused: &(dyn Fn(&str) + Sync),
) -> Result<PartyResult> {
    let job = &cfg.job;
    if job.test_seed.is_some() && !test {
        return Err(invalid(
            "job.test_seed is for tests only: a deployment draws its randomness from the operating system \
             (remove it, or pass --test)",
        ));
    }
    let protocol = cfg.protocol()?;
    let roles = protocol.roles();
    if !roles.contains(&role) {
        return Err(invalid(format!("{} takes no part in {}", role_name(role), protocol.name())));
    }
    let sim = cfg.simulate_config()?;
    let model = sim.model;
    let me = cfg.party(role)?;
    let (sched, infer) = batches(&sim, job.train_rows, job.test_rows);
    let init_seed = |entry_seed: Option<u64>| -> Result<u64> {
        match job.test_seed.or(entry_seed) {
            Some(s) => Ok(s),
            None => crate::rng::os_u64(),
        }
    };
    let plan = Plan {
        model,
        protocol,
        lr: sim.lr,
        schedule: &sched,
        inference: &infer,
        reuse_masks: job.reuse_masks,
        train_rows: job.train_rows,
        helper: sim.helper,
        fss_gate: sim.fss_gate,
        value_bits: sim.value_bits,
        progress: None,
    };
    // This role's own inputs, loaded before anyone waits on it; test labels to score predictions with.
    let (input, test_labels): (Inputs, Option<Vec<u8>>) = match role {
        Role::Owner => {
            let src = own.source(own.data.as_deref().ok_or_else(|| {
                invalid("the owner names no data: --data DIR (or bundled), or data = ... in its --own file")
            })?);
            let (train, test) = load_cut(&src, (job.train_rows, job.test_rows))?;
            let init = initial_params(model, init_seed(own.init_seed)?);
            let mut split = Inputs::split(&plan, &train, &test, &init);
            let labels = (protocol != Protocol::RtasFast).then(|| test.labels.clone());
            (split.remove(&Role::Owner).unwrap_or_default(), labels)
        }
        Role::ThirdParty => {
            let src = own.source(own.labels.as_deref().ok_or_else(|| {
                invalid(
                    "the label holder names no labels: --labels DIR (or bundled), or labels = ... in its --own file",
                )
            })?);
            let (labels, test) = load_labels(&src, (job.train_rows, job.test_rows))?;
            let init = initial_params(model, init_seed(own.init_seed)?);
            let tail = init[model.first_layer_params()..].to_vec();
            (Inputs::LabelHolder { labels, tail }, Some(test))
        }
        _ => (Inputs::Nothing, None),
    };
    let identity = Identity::from_dir(role, &cfg.path(&cfg.keys.dir))?;
    let listener = listen(me.listen.as_deref().unwrap_or(&me.address))?;
    let peers: Vec<(Role, String)> = roles
        .iter()
        .filter(|&&r| r != role)
        .map(|&r| cfg.party(r).map(|e| (r, e.address.clone())))
        .collect::<Result<_>>()?;
    let arith = RingArith::new(job.frac_bits)?;
    let mut local = match job.test_seed {
        Some(s) => crate::rng::stream(s, 1000 + role.index() as u64),
        None => crate::rng::from_os()?,
    };
    crate::protocol::kernel::ring_path();
    let threads = own.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if threads == 0 {
        return Err(invalid("threads must be at least 1"));
    }
    let limits = peer_limits(cfg, &plan, role, sched.len(), infer.len())?;
    let transport = TcpTransport::connect_limited(&identity, listener, &peers, &cfg.net, &limits, refused)?;
    let stats = transport.stats();
    let recorder = Arc::new(Recorder::new(record_view));
    let (pool, clock) = crate::sim::clock::pool(threads, false)
        .map_err(|e| Error::Protocol { label: None, reason: format!("no threads: {e}") })?;
    let out = pool.install(|| -> Result<secure::PartyOut<u64>> {
        let net = Box::new(Recorded::new(transport, Arc::clone(&recorder), clock));
        let mut p = Party::setup(net, arith, &roles, &mut local)?;
        p.note_inputs(&|| input.describe());
        secure::run(&mut p, &plan, input)
    })?;
    let recording =
        Arc::try_unwrap(recorder).map_err(|_| invalid("the recorder is still shared after the run"))?.into_recording();
    let net = stats.snapshot();
    let wall_seconds = net.stages.last().map_or(0.0, |s| s.1);
    let accuracy = test_labels
        .as_ref()
        .filter(|_| !out.predictions.is_empty())
        .map(|labels| -> Result<f64> {
            let (mut correct, mut total) = (0, 0);
            for (yh, rows) in out.predictions.iter().zip(&infer) {
                let l: Vec<u8> = rows.iter().map(|&r| labels[r]).collect();
                correct += model.correct(yh, &l)?;
                total += rows.len();
            }
            Ok(correct as f64 / total.max(1) as f64)
        })
        .transpose()?;
    Ok(PartyResult {
        role,
        test: job.test_seed.is_some(),
        outputs: WireOut::from(&out),
        recording: WireRecording::from_recording(&recording, role)?,
        net,
        wall_seconds,
        accuracy,
        view: recording.views.get(&role).map(WireView::from),
    })
}

/// Each peer's limits, from the job's ledger (a shape-only run of one step and one inference batch): the
/// largest frame it may send us is the largest message it sends us in the job; each queue's budget is what
/// goes that way in the whole run, capped by `[net]`'s `inbox_bytes`/`outbox_bytes`, and never less than
/// the largest message; a peer that sends more than the whole run's bytes fails the link, named.
pub fn peer_limits(
    cfg: &Config,
    plan: &Plan<'_>,
    me: Role,
    steps: usize,
    batches: usize,
) -> Result<std::collections::BTreeMap<Role, PeerLimits>> {
    let batch = plan.schedule.iter().map(Vec::len).max().unwrap_or(0);
    let infer_batch = plan.inference.iter().map(Vec::len).max().unwrap_or(0);
    let sizes = crate::experiment::plan::link_sizes(
        plan.model,
        plan.protocol,
        batch,
        infer_batch,
        plan.train_rows,
        plan.reuse_masks,
        plan.helper,
        (plan.fss_gate, plan.value_bits),
        cfg.job.frac_bits,
    )?;
    let net = &cfg.net;
    if let Some(((from, to), l)) = sizes.iter().find(|(_, l)| l.largest > net.max_payload) {
        return Err(invalid(format!(
            "the job sends a message of {} bytes from {from} to {to}, above [net] max_payload = {}",
            l.largest, net.max_payload
        )));
    }
    Ok(plan
        .protocol
        .roles()
        .into_iter()
        .filter(|&r| r != me)
        .map(|peer| {
            let inn = sizes.get(&(peer, me)).copied().unwrap_or_default();
            let out = sizes.get(&(me, peer)).copied().unwrap_or_default();
            // A link that carries nothing one way still takes a frame of the smallest kind (a seed).
            let max_frame = inn.largest.max(16);
            let limits = PeerLimits {
                max_frame,
                inbox: inn.total(steps, batches).min(net.inbox_bytes).max(max_frame),
                outbox: out.total(steps, batches).min(net.outbox_bytes).max(out.largest.max(16)),
                total: Some(inn.total(steps, batches)),
            };
            (peer, limits)
        })
        .collect())
}

/// Writes `result` to `path` atomically and with mode 0600: a reader sees the whole file or none (no partial
/// model is ever left as if complete), and no other user can read it (P0's and P1's results together are
/// the trained model).
pub fn write_result(result: &PartyResult, path: &Path) -> Result<()> {
    let text = serde_json::to_vec(result).map_err(|e| invalid(e.to_string()))?;
    super::files::write_private(path, &text)
}

/// Reads what [`write_result`] wrote.
pub fn read_result(path: &Path) -> Result<PartyResult> {
    let bytes = std::fs::read(path).map_err(|e| Error::Io { path: path.to_path_buf(), source: e })?;
    serde_json::from_slice(&bytes).map_err(|e| invalid(format!("{}: {e}", path.display())))
}
