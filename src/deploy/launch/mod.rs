//! `rtas launch --local`: every role as its own process on loopback, with fresh keys, and the summary of
//! `rtas simulate` computed from what the processes wrote, plus what only a real run has: wall time per
//! step, per epoch and per inference batch, and the bytes each process put on its sockets.

mod processes;

use super::config::{Config, Job, Keys, Own, PartyEntry};
use super::party::{PartyResult, read_result};
use super::tcp::NetConfig;
use super::tls::{make_keys, role_name};
use crate::error::{Error, Result, invalid};
use crate::experiment::simulate::{self, PlainRun, SimulateConfig, SimulateReport, median};
use crate::models::ModelKind;
use crate::models::secure::{Plan, Protocol};
use crate::net::{Phase, Role, Stage};
use crate::protocol::ring::RingArith;
use crate::sim::record::Recording;
use processes::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn short<S: serde::Serializer>(r: &Role, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(r.short())
}

/// What to launch.
#[derive(Debug, Clone)]
pub struct LaunchOptions {
    /// The job as the simulator describes it (its `seed` is the batch order's).
    pub sim: SimulateConfig,
    /// Where the owner's data comes from: `bundled` or a directory.
    pub data: String,
    /// Rows the owner holds.
    pub rows: (usize, usize),
    /// The `rtas` binary to start the parties with.
    pub exe: PathBuf,
    /// A test run: every party's randomness from `sim.seed`, as in `rtas simulate`.
    pub test: bool,
    /// Network timeouts.
    pub net: NetConfig,
    /// Directory for keys, configuration, logs and results (kept); a fresh temporary one if `None`.
    pub dir: Option<PathBuf>,
    /// Threads per party.
    pub threads: Option<usize>,
    /// Seconds to wait for every party to finish.
    pub timeout: f64,
    /// Keep every party's view (what attacks read; large for P0 and P1, who receive whole tensors).
    pub record_views: bool,
    /// Run every party in a network namespace of its own, every directed link shaped with `tbf` to this
    /// many bytes per second (the cost-model check; needs root).
    pub shape: Option<f64>,
}

/// Payload and framing bytes on one directed link and phase, as the sender's sockets counted them.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SocketLink {
    /// Phase.
    pub phase: Phase,
    /// Sender.
    #[serde(serialize_with = "short")]
    pub from: Role,
    /// Receiver.
    #[serde(serialize_with = "short")]
    pub to: Role,
    /// Frames.
    pub frames: u64,
    /// Payload bytes (what the ledger counts).
    pub payload: u64,
    /// Frame header bytes.
    pub framing: u64,
}

/// Per directed link, everything that went on the socket.
#[derive(Debug, Clone, Serialize)]
pub struct SocketTotal {
    /// Sender.
    #[serde(serialize_with = "short")]
    pub from: Role,
    /// Receiver.
    #[serde(serialize_with = "short")]
    pub to: Role,
    /// Payload bytes, whole run.
    pub payload: u64,
    /// Frame headers.
    pub framing: u64,
    /// Bytes written to the socket (TLS records, handshake, close).
    pub socket: u64,
    /// `socket - payload - framing`: what TLS added.
    pub tls_overhead: u64,
}

/// Measured wall-clock time.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Wall {
    /// Bringing the links up (dials, TLS handshakes), slowest party.
    pub connect_seconds: f64,
    /// Each training step, as P0 saw it (from its start to the next stage's).
    pub train_steps: Vec<f64>,
    /// Median training step.
    pub train_step_median: f64,
    /// Each epoch (sum of its steps).
    pub epochs: Vec<f64>,
    /// Each inference batch.
    pub infer_batches: Vec<f64>,
    /// Median inference batch.
    pub infer_batch_median: f64,
    /// Setup to the last message, P0.
    pub total: f64,
}

/// What `rtas launch` reports.
#[derive(Debug, Clone, Serialize)]
pub struct LaunchReport {
    /// The same summary as `rtas simulate`, computed from the processes' results (compute from their
    /// CPU clocks, modeled times by replaying their joined recording).
    pub summary: SimulateReport,
    /// Measured wall time.
    pub wall: Wall,
    /// Socket bytes of the training step `summary.train_step` describes, per link and phase.
    pub socket_train_step: Vec<SocketLink>,
    /// Socket bytes of the first inference batch.
    pub socket_infer_batch: Vec<SocketLink>,
    /// Socket bytes of the whole run, per link and phase.
    pub socket_run: Vec<SocketLink>,
    /// Per link: payload, framing and TLS bytes of the whole run.
    pub socket_totals: Vec<SocketTotal>,
    /// Whether every process's socket payload counts equal the joined ledger, per link, phase and stage.
    pub sockets_equal_ledger: bool,
    /// Whether the parties ran from a test seed.
    pub test: bool,
    /// The directory holding keys, configuration, logs and results.
    pub dir: PathBuf,
    /// The machine's cores (every process shares them).
    pub cores: usize,
    /// With `--shape`: the measured wall time against the cost model's for the same links.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shaped: Option<ShapedCheck>,
}

/// Measured against modeled on a shaped network.
#[derive(Debug, Clone, Serialize)]
pub struct ShapedCheck {
    /// The profile the model used: the shaped rate per directed link, zero latency, and the measured
    /// framing and TLS bytes per message as overhead.
    pub profile: crate::sim::cost::Profile,
    /// Mean measured training step, seconds (P0's clock).
    pub measured_train_step: f64,
    /// Mean modeled training step: this run's own recording of all training steps replayed together
    /// under `profile`, divided by the steps.
    pub modeled_train_step: f64,
    /// measured / modeled.
    pub train_ratio: f64,
    /// Mean measured inference batch.
    pub measured_infer_batch: f64,
    /// Modeled inference batch.
    pub modeled_infer_batch: f64,
    /// measured / modeled.
    pub infer_ratio: f64,
}

impl LaunchReport {
    /// The processes (parties) that ran.
    pub fn processes(&self) -> usize {
        self.socket_totals.iter().map(|t| t.from).collect::<std::collections::BTreeSet<_>>().len()
    }
}

/// Launches the job and summarizes it.
pub fn launch(o: &LaunchOptions) -> Result<LaunchReport> {
    launch_recorded(o).map(|(r, _)| r)
}

/// [`launch`], and every role's view when `o.record_views` (empty otherwise).
pub fn launch_recorded(o: &LaunchOptions) -> Result<(LaunchReport, BTreeMap<Role, crate::sim::record::View>)> {
    simulate::check_value_bits(&o.sim)?;
    let dir = match &o.dir {
        Some(d) => {
            super::files::private_dir(d)?;
            d.clone()
        }
        None => fresh_dir()?,
    };
    let protocol = match o.sim.protocol {
        simulate::ProtocolChoice::Secure(p) => p,
        c @ (simulate::ProtocolChoice::Plain | simulate::ProtocolChoice::DpSgd) => {
            return Err(invalid(format!(
                "launch runs rtas, rtas-fast or mpc, not {} (one process: use simulate)",
                c.name()
            )));
        }
    };
    let roles = protocol.roles();
    let mesh = match o.shape {
        Some(rate) => Some(super::shaped::Mesh::new(&roles, rate)?),
        None => None,
    };
    let (cfg, owns) = prepare(o, protocol, &dir, mesh.is_some())?;
    // The launcher plays the operator: it holds the data to score the run and to train the plaintext
    // reference (same initial parameters and batches) — none of which the parties see.
    let (train, test) = super::data::load_cut(&Own { base: dir.clone(), ..Own::default() }.source(&o.data), o.rows)?;
    let mut sim = cfg.simulate_config()?;
    sim.profiles = o.sim.profiles.clone();
    sim.init_seed = owns.get(&Role::Owner).and_then(|e| e.init_seed);
    let (sched, infer) = simulate::batches(&sim, train.count, test.count);
    let rtt = match &mesh {
        Some(m) => Some(probe_rtt(o, m, &dir)?),
        None => None,
    };
    let results = run_parties(o, &cfg, &dir, mesh.as_ref())?;
    drop(mesh);
    let pb = indicatif::ProgressBar::hidden();
    let plain: PlainRun = simulate::run_plain(&sim, &train, &test, &sched, &infer, &pb)?;
    let mut summary = simulate::plain_report(&sim, (train.count, test.count), &sched, &infer, &plain);
    summary.protocol = cfg.protocol()?.name().into();
    let protocol = cfg.protocol()?;
    let plan = Plan {
        model: sim.model,
        protocol,
        lr: sim.lr,
        schedule: &sched,
        inference: &infer,
        reuse_masks: sim.reuse_masks,
        train_rows: train.count,
        helper: sim.helper,
        fss_gate: sim.fss_gate,
        value_bits: sim.value_bits,
        progress: None,
    };
    let outputs = results.iter().map(|(r, x)| x.outputs.party_out().map(|o| (*r, o))).collect::<Result<_>>()?;
    let arith = RingArith::new(cfg.job.frac_bits)?;
    simulate::score(&arith, &plan, &outputs, (&train, &test), &plain, &mut summary)?;
    let scorer = if protocol == Protocol::RtasFast { Role::ThirdParty } else { Role::Owner };
    if let Some(acc) = results.get(&scorer).and_then(|r| r.accuracy)
        && (acc - summary.accuracy).abs() > 1e-12
    {
        return Err(invalid(format!("{scorer} scored {acc}, the launcher {}: the runs disagree", summary.accuracy)));
    }
    let parts = results.values().map(|r| r.recording.recording()).collect::<Result<Vec<Recording>>>()?;
    let rec = Recording::merge(parts)?;
    // On a shaped network, model the same links: the shaped rate, the round trip measured through the
    // transport on them before the run, and the framing and TLS bytes this run measured per message.
    let shaped_profile = o.shape.map(|rate| {
        let frames: u64 =
            results.values().flat_map(|r| r.net.links.values().flat_map(|c| c.sent.iter().map(|s| s.frames))).sum();
        let socket: u64 = results.values().flat_map(|r| r.net.links.values().map(|c| c.socket_out)).sum();
        let payload: u64 = rec.ledger.iter().map(|e| e.bytes).sum();
        crate::sim::cost::Profile {
            name: "shaped".into(),
            bandwidth: rate,
            rtt: rtt.unwrap_or(0.0),
            overhead_bytes: socket.saturating_sub(payload) / frames.max(1),
        }
    });
    if let Some(p) = &shaped_profile {
        sim.profiles.push(p.clone());
    }
    simulate::costs(&sim, &rec, (&sched, &infer), train.count, &plain, &mut summary)?;
    // Socket counts against the joined ledger, per stage, phase and link.
    let mut ledger: BTreeMap<(Stage, Phase, Role, Role), u64> = BTreeMap::new();
    for e in &rec.ledger {
        *ledger.entry((e.label.stage, e.phase, e.from, e.to)).or_default() += e.bytes;
    }
    let mut sockets: BTreeMap<(Stage, Phase, Role, Role), u64> = BTreeMap::new();
    for (from, r) in &results {
        for (to, c) in &r.net.links {
            for s in &c.sent {
                *sockets.entry((s.stage, s.phase, *from, *to)).or_default() += s.payload;
            }
        }
    }
    let sockets_equal_ledger = ledger == sockets;
    let p0 = results.get(&Role::P0).ok_or_else(|| invalid("P0 returned nothing"))?;
    let walls = stage_wall(&p0.net.stages);
    let train_steps: Vec<f64> = (0..sched.len()).filter_map(|i| walls.get(&Stage::Train(i as u32)).copied()).collect();
    let per_epoch = (train.count / sim.batch).max(1);
    let epochs = train_steps.chunks(per_epoch).map(|c| c.iter().sum()).collect();
    let infer_batches: Vec<f64> =
        (0..infer.len()).filter_map(|j| walls.get(&Stage::Infer(j as u32)).copied()).collect();
    let wall = Wall {
        connect_seconds: results.values().map(|r| r.net.connect_seconds).fold(0.0, f64::max),
        train_step_median: median(train_steps.clone()),
        train_steps,
        epochs,
        infer_batch_median: median(infer_batches.clone()),
        infer_batches,
        total: p0.wall_seconds,
    };
    let measured = simulate::train_stages(sched.len()).first().copied().unwrap_or(Stage::Train(0));
    let socket_totals = results
        .iter()
        .flat_map(|(from, r)| {
            r.net.links.iter().map(move |(to, c)| {
                let payload: u64 = c.sent.iter().map(|s| s.payload).sum();
                let framing: u64 = c.sent.iter().map(|s| s.framing).sum();
                SocketTotal {
                    from: *from,
                    to: *to,
                    payload,
                    framing,
                    socket: c.socket_out,
                    tls_overhead: c.socket_out.saturating_sub(payload + framing),
                }
            })
        })
        .collect();
    // The check replays all training steps together (and all inference batches), as they ran: a party
    // with nothing to wait for (the owner feeding inputs) runs ahead, which a one-step replay would miss.
    let shaped = match shaped_profile {
        Some(profile) => {
            let modeled = |keep: &dyn Fn(Stage) -> bool, n: usize| -> Result<f64> {
                let part = rec.select(keep);
                let m = crate::sim::cost::replay(&part.ledger, &part.traces, &profile, None)?;
                Ok(m.seconds / n.max(1) as f64)
            };
            let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
            let modeled_train_step = modeled(&|s| matches!(s, Stage::Train(_)), wall.train_steps.len())?;
            let modeled_infer_batch = modeled(&|s| matches!(s, Stage::Infer(_)), wall.infer_batches.len())?;
            let (measured_train_step, measured_infer_batch) = (mean(&wall.train_steps), mean(&wall.infer_batches));
            Some(ShapedCheck {
                profile,
                measured_train_step,
                modeled_train_step,
                train_ratio: measured_train_step / modeled_train_step,
                measured_infer_batch,
                modeled_infer_batch,
                infer_ratio: measured_infer_batch / modeled_infer_batch,
            })
        }
        None => None,
    };
    let views = results
        .iter()
        .filter_map(|(r, x)| x.view.as_ref().map(|v| v.view().map(|v| (*r, v))))
        .collect::<Result<BTreeMap<_, _>>>()?;
    let report = LaunchReport {
        shaped,
        summary,
        wall,
        socket_train_step: socket_links(&results, |s| s == measured),
        socket_infer_batch: socket_links(&results, |s| s == Stage::Infer(0)),
        socket_run: socket_links(&results, |_| true),
        socket_totals,
        sockets_equal_ledger,
        test: o.test,
        dir,
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    Ok((report, views))
}
