//! `rtas plan`: traffic, rounds and modeled time of any model under any protocol, at any scale, without data.
//!
//! The protocol code that trains and predicts ([`crate::models::secure::run`]) runs as every role on
//! shape-only tensors ([`ShapeArith`]): each message is sent with its shape, so the ledger is the one a
//! real run records (`--verify` checks that byte for byte and round for round against a real run on random
//! data), and each party's computation is charged to a meter at throughputs measured on this machine
//! ([`Rates`]), which stands in for its CPU clock when the network cost model replays the run. One training
//! step and one inference batch are run; an epoch is `rows / batch` steps (a last partial batch is
//! dropped, as in `simulate`), the total `epochs` epochs.

use crate::error::{Result, invalid};
use crate::models::secure::{self, Inputs, Plan, Protocol};
use crate::models::{ModelKind, Prepared};
use crate::net::{Phase, Role, Stage};
use crate::protocol::elementwise::HelperMode;
use crate::protocol::party::FssGate;
use crate::protocol::ring::RingArith;
use crate::protocol::work::Rates;
use crate::protocol::work::ShapeArith;
use crate::sim::cost::Profile;
use crate::sim::measure::{Measurement, measure};
use crate::sim::record::Recording;
use crate::sim::run::run_protocol;
use serde::Serialize;
use std::collections::BTreeMap;

/// What to plan.
#[derive(Debug, Clone)]
pub struct PlanConfig {
    /// The model.
    pub model: ModelKind,
    /// The protocols.
    pub protocols: Vec<Protocol>,
    /// Training batch.
    pub batch: usize,
    /// Inference batch.
    pub infer_batch: usize,
    /// Training rows (an epoch is `rows / batch` steps).
    pub rows: usize,
    /// Epochs.
    pub epochs: usize,
    /// Networks.
    pub profiles: Vec<Profile>,
    /// Fixed-point fractional bits (they set the FSS gates' key sizes).
    pub frac_bits: u32,
    /// The FSS gate under `mpc`.
    pub fss_gate: FssGate,
    /// The stated signed width of the values mpc's gates compare (`None`: the full `64 - f` bits).
    pub value_bits: Option<u32>,
    /// Cost of each operation on this machine.
    pub rates: Rates,
    /// Where `rates` came from (said in the output).
    pub rates_source: String,
}

/// One protocol's plan.
#[derive(Debug, Clone, Serialize)]
pub struct ProtocolPlan {
    /// `rtas`, `rtas-fast` or `mpc`.
    pub protocol: String,
    /// One training step.
    pub train_step: Measurement,
    /// One inference batch.
    pub infer_batch: Measurement,
    /// Bytes of one epoch (all links, both phases).
    pub epoch_bytes: u64,
    /// Modeled seconds of one epoch per network.
    pub epoch_seconds: BTreeMap<String, f64>,
    /// Bytes of the whole training.
    pub total_bytes: u64,
    /// Modeled seconds of the whole training per network.
    pub total_seconds: BTreeMap<String, f64>,
}

/// The plan of every protocol.
#[derive(Debug, Clone, Serialize)]
pub struct PlanReport {
    /// The model's name.
    pub model: String,
    /// Its parameters.
    pub params: usize,
    /// Multiply-adds of one example's forward pass.
    pub forward_macs: f64,
    /// Training batch.
    pub batch: usize,
    /// Inference batch.
    pub infer_batch: usize,
    /// Training rows.
    pub rows: usize,
    /// Epochs.
    pub epochs: usize,
    /// Training steps per epoch.
    pub steps_per_epoch: usize,
    /// The operation costs the compute times come from.
    pub rates: Rates,
    /// Where they came from.
    pub rates_source: String,
    /// mpc's stated value width (`--value-bits`), when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_bits: Option<u32>,
    /// Per protocol.
    pub protocols: Vec<ProtocolPlan>,
}

/// Checks `cfg`: every error a user can cause, before anything runs.
fn validate(cfg: &PlanConfig) -> Result<()> {
    if cfg.batch == 0 || cfg.infer_batch == 0 || cfg.epochs == 0 {
        return Err(invalid("--batch, --infer-batch and --epochs must be at least 1"));
    }
    // Batches up to 2^24 examples: the largest tensor of a VGG-16 (3.2M values per example) still counts
    // its bytes in 64 bits.
    if cfg.batch > 1 << 24 || cfg.infer_batch > 1 << 24 {
        return Err(invalid(format!("--batch and --infer-batch must be at most 2^24 = {}", 1 << 24)));
    }
    if cfg.rows < cfg.batch {
        return Err(invalid(format!("--rows {} is fewer than one batch of {}", cfg.rows, cfg.batch)));
    }
    if cfg.protocols.is_empty() {
        return Err(invalid("--protocols names none"));
    }
    if cfg.profiles.is_empty() {
        return Err(invalid("--network names none"));
    }
    RingArith::new(cfg.frac_bits)?;
    if cfg.value_bits.is_some() && !cfg.protocols.contains(&Protocol::Mpc) {
        return Err(invalid("--value-bits applies to mpc (its FSS gates): add mpc to --protocols"));
    }
    if let Some(k) = cfg.value_bits {
        crate::protocol::fss::gates::check_value_bits(k, cfg.frac_bits)?;
    }
    for &p in &cfg.protocols {
        secure::check(cfg.model.net(), p, true)?;
    }
    Ok(())
}

fn plan_of<'a>(model: ModelKind, protocol: Protocol, sched: &'a [Vec<usize>], infer: &'a [Vec<usize>]) -> Plan<'a> {
    Plan {
        model,
        protocol,
        // Any rate: shapes and costs do not depend on it.
        lr: 0.1,
        schedule: sched,
        inference: infer,
        reuse_masks: false,
        train_rows: sched.first().map_or(0, Vec::len),
        helper: HelperMode::Rerandomized,
        fss_gate: FssGate::default(),
        value_bits: None,
        progress: None,
    }
}

/// One training step and one inference batch of `protocol` under `arith` (shape-only, or real on the
/// given data), recorded.
fn record<A: crate::protocol::nonlinear::Nonlinear>(
    arith: &A,
    plan: &Plan<'_>,
    inputs: BTreeMap<Role, Inputs>,
) -> Result<Recording> {
    let run = run_protocol(arith, &plan.protocol.roles(), 1, false, inputs, |p, input| secure::run(p, plan, input))?;
    Ok(run.recording)
}

/// The plan of `cfg`.
pub fn plan(cfg: &PlanConfig) -> Result<PlanReport> {
    validate(cfg)?;
    let model = cfg.model;
    let sched = vec![(0..cfg.batch).collect::<Vec<_>>()];
    let infer = vec![(0..cfg.infer_batch).collect::<Vec<_>>()];
    let arith = ShapeArith { frac_bits: cfg.frac_bits, rates: cfg.rates };
    let steps = cfg.rows / cfg.batch;
    let mut protocols = Vec::new();
    for &protocol in &cfg.protocols {
        let mut plan = plan_of(model, protocol, &sched, &infer);
        (plan.fss_gate, plan.value_bits) = (cfg.fss_gate, cfg.value_bits);
        let rec = record(&arith, &plan, BTreeMap::new())?;
        let train_step = measure(&rec.stage(Stage::Train(0)), &cfg.profiles)?;
        let infer_batch = measure(&rec.stage(Stage::Infer(0)), &cfg.profiles)?;
        // The parameters are shared once, before the first step.
        let setup = measure(&rec.select(|s| matches!(s, Stage::Setup | Stage::Params)), &cfg.profiles)?;
        let epoch_bytes = steps as u64 * train_step.traffic.total_bytes;
        let epoch_seconds: BTreeMap<String, f64> =
            train_step.modeled_seconds.iter().map(|(k, v)| (k.clone(), steps as f64 * v)).collect();
        let total_bytes = cfg.epochs as u64 * epoch_bytes + setup.traffic.total_bytes;
        let total_seconds = epoch_seconds
            .iter()
            .map(|(k, v)| (k.clone(), cfg.epochs as f64 * v + setup.modeled_seconds.get(k).copied().unwrap_or(0.0)))
            .collect();
        protocols.push(ProtocolPlan {
            protocol: protocol.name().into(),
            train_step,
            infer_batch,
            epoch_bytes,
            epoch_seconds,
            total_bytes,
            total_seconds,
        });
    }
    Ok(PlanReport {
        model: model.name().into(),
        params: model.param_shapes().iter().map(|(_, s)| s.iter().product::<usize>()).sum(),
        forward_macs: model.net().macs_per_example(0),
        batch: cfg.batch,
        infer_batch: cfg.infer_batch,
        rows: cfg.rows,
        epochs: cfg.epochs,
        steps_per_epoch: steps,
        rates: cfg.rates,
        rates_source: cfg.rates_source.clone(),
        value_bits: cfg.value_bits.filter(|_| cfg.protocols.contains(&Protocol::Mpc)),
        protocols,
    })
}

/// What one directed link carries in a job, from its ledger: the largest message, and the bytes of what
/// happens once (seeds, parameters, a masked data set), of one training step and of one inference batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LinkSize {
    /// The largest payload of one message, bytes.
    pub largest: u64,
    /// Bytes outside the training steps and inference batches.
    pub once: u64,
    /// Bytes of one (full) training step.
    pub step: u64,
    /// Bytes of one (full) inference batch.
    pub infer: u64,
}

impl LinkSize {
    /// Bytes of a whole run of `steps` training steps and `batches` inference batches (an upper bound:
    /// a last partial batch carries less).
    pub fn total(&self, steps: usize, batches: usize) -> u64 {
        self.once
            .saturating_add(self.step.saturating_mul(steps as u64))
            .saturating_add(self.infer.saturating_mul(batches as u64))
    }
}

/// Every directed link's [`LinkSize`] for `model` under `protocol` with full batches of `batch` and
/// `infer_batch` (shape-only: no data, milliseconds for the bundled models). What a deployed party reads
/// its peers' budgets from.
#[allow(clippy::too_many_arguments)]
pub fn link_sizes(
    model: ModelKind,
    protocol: Protocol,
    batch: usize,
    infer_batch: usize,
    train_rows: usize,
    reuse_masks: bool,
    helper: HelperMode,
    (fss_gate, value_bits): (FssGate, Option<u32>),
    frac_bits: u32,
) -> Result<BTreeMap<(Role, Role), LinkSize>> {
    let sched = vec![(0..batch).collect::<Vec<_>>()];
    let infer = vec![(0..infer_batch).collect::<Vec<_>>()];
    let mut plan = plan_of(model, protocol, &sched, &infer);
    (plan.reuse_masks, plan.train_rows, plan.helper) = (reuse_masks, train_rows, helper);
    (plan.fss_gate, plan.value_bits) = (fss_gate, value_bits);
    let arith = ShapeArith { frac_bits, rates: quick_rates() };
    let rec = record(&arith, &plan, BTreeMap::new())?;
    let mut out: BTreeMap<(Role, Role), LinkSize> = BTreeMap::new();
    for e in &rec.ledger {
        let l = out.entry((e.from, e.to)).or_default();
        l.largest = l.largest.max(e.bytes);
        match e.label.stage {
            Stage::Train(_) => l.step += e.bytes,
            Stage::Infer(_) => l.infer += e.bytes,
            _ => l.once += e.bytes,
        }
    }
    Ok(out)
}

/// One message of a ledger, as `--verify` compares them: label, sender, receiver, phase, bytes.
type Line = (String, Role, Role, Phase, u64);

fn lines(rec: &Recording) -> Vec<Line> {
    let mut v: Vec<Line> = rec.ledger.iter().map(|e| (e.label.to_string(), e.from, e.to, e.phase, e.bytes)).collect();
    v.sort();
    v
}

fn rounds(r: &Recording) -> Result<[u32; 2]> {
    let of = |s: Stage| measure(&r.stage(s), &[]).map(|m| m.traffic.rounds);
    Ok([of(Stage::Train(0))?, of(Stage::Infer(0))?])
}

/// The first difference between two recordings' ledgers (label, sender, receiver, phase, bytes of every
/// message) or the rounds of their training step and inference batch; `None` when they agree.
fn compare(run: &Recording, plan: &Recording) -> Result<Option<String>> {
    let (la, lb) = (lines(run), lines(plan));
    let (ra, rb) = (rounds(run)?, rounds(plan)?);
    Ok(if la.len() != lb.len() {
        Some(format!("{} messages in the run, {} in the plan", la.len(), lb.len()))
    } else if let Some((x, y)) = la.iter().zip(&lb).find(|(x, y)| x != y) {
        Some(format!("run {x:?}, plan {y:?}"))
    } else if ra != rb {
        Some(format!("rounds (step, inference): run {ra:?}, plan {rb:?}"))
    } else {
        None
    })
}

/// What `--verify` found for one protocol.
#[derive(Debug, Clone, Serialize)]
pub struct Verified {
    /// The protocol.
    pub protocol: String,
    /// Messages in the real run's ledger.
    pub messages: usize,
    /// Bytes in it.
    pub bytes: u64,
    /// Online rounds of the real training step and inference batch.
    pub rounds: [u32; 2],
    /// The first disagreement, if any (the real run's line, the plan's).
    pub mismatch: Option<String>,
    /// The training step's modeled LAN seconds from the real run's measured compute, and from the plan's
    /// charged compute (a check of the operation costs, not of the ledger).
    pub lan_step_seconds: [f64; 2],
}

/// Runs `cfg`'s model for one step of `batch` and one inference batch of `infer_batch` for real (ring
/// sharing, random inputs and labels) and shape-only, and compares the two ledgers message by message
/// (label, sender, receiver, phase, bytes) and the rounds of each stage; also reports the training step's
/// modeled LAN time from each (measured against charged compute).
pub fn verify(cfg: &PlanConfig, batch: usize, infer_batch: usize) -> Result<Vec<Verified>> {
    let model = cfg.model;
    let small = PlanConfig { batch, infer_batch, rows: batch, epochs: 1, ..cfg.clone() };
    validate(&small)?;
    let sched = vec![(0..batch).collect::<Vec<_>>()];
    let infer = vec![(0..infer_batch).collect::<Vec<_>>()];
    let mut rng = crate::rng::stream(11, 0);
    let data = |count: usize, rng: &mut crate::rng::Rng| -> Result<Prepared> {
        use rand::RngExt;
        let w = model.input_len();
        let x = (0..count * w).map(|_| rng.random_range(0.0..1.0)).collect();
        let classes = if model.outputs() > 1 { model.outputs() } else { 2 };
        let labels: Vec<f64> = (0..count).map(|i| (i % classes) as f64).collect();
        Prepared::from_rows(x, w, &labels)
    };
    let (train, test) = (data(batch, &mut rng)?, data(infer_batch, &mut rng)?);
    let init = model.init(1);
    let real = RingArith::new(cfg.frac_bits)?;
    let shape = ShapeArith { frac_bits: cfg.frac_bits, rates: cfg.rates };
    let mut out = Vec::new();
    for &protocol in &cfg.protocols {
        let mut plan = plan_of(model, protocol, &sched, &infer);
        (plan.fss_gate, plan.value_bits) = (cfg.fss_gate, cfg.value_bits);
        let a = record(&real, &plan, Inputs::split(&plan, &train, &test, &init))?;
        let b = record(&shape, &plan, BTreeMap::new())?;
        let lan = |r: &Recording| {
            measure(&r.stage(Stage::Train(0)), &[Profile::lan()])
                .map(|m| m.modeled_seconds.get("lan").copied().unwrap_or(0.0))
        };
        let ra = rounds(&a)?;
        let la = lines(&a);
        let mismatch = compare(&a, &b)?;
        out.push(Verified {
            protocol: protocol.name().into(),
            messages: la.len(),
            bytes: la.iter().map(|l| l.4).sum(),
            rounds: ra,
            mismatch,
            lan_step_seconds: [lan(&a)?, lan(&b)?],
        });
    }
    Ok(out)
}

/// Operation costs from a quick measurement (the median of 3 runs each) for a plan without kept costs.
pub fn quick_rates() -> Rates {
    Rates::measure(3)
}

mod sweep;
pub use sweep::{CHART_BATCHES, SweepPoint, chart, faster_gate, sweep};

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(model: ModelKind) -> PlanConfig {
        PlanConfig {
            model,
            protocols: vec![Protocol::Rtas, Protocol::RtasFast, Protocol::Mpc],
            batch: 8,
            infer_batch: 4,
            rows: 64,
            epochs: 2,
            profiles: vec![Profile::lan(), Profile::wan()],
            frac_bits: 16,
            fss_gate: FssGate::default(),
            value_bits: None,
            rates: quick_rates(),
            rates_source: "test".into(),
        }
    }

    #[test]
    fn the_plan_and_a_real_run_record_the_same_ledger_for_the_papers_models() {
        for model in [ModelKind::LogReg, ModelKind::Cnn] {
            for v in verify(&cfg(model), 8, 4).unwrap() {
                assert!(v.mismatch.is_none(), "{} {}: {:?}", model.name(), v.protocol, v.mismatch);
                assert!(v.messages > 10 && v.bytes > 0 && v.rounds[0] > 0, "{v:?}");
            }
        }
    }

    /// Held-out specs: a 3-layer MLP and LeNet-5 (`models/mlp.toml`, `models/lenet5.toml`: padding,
    /// pooling, a convolution after the first), byte for byte and round for round.
    #[test]
    fn the_plan_and_a_real_run_record_the_same_ledger_for_held_out_models() {
        use crate::models::graph::Net;
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
        for name in ["mlp", "lenet5"] {
            let model = ModelKind::file(Net::read(&dir.join(format!("{name}.toml"))).unwrap());
            for v in verify(&cfg(model), 5, 3).unwrap() {
                assert!(v.mismatch.is_none(), "{name} {}: {:?}", v.protocol, v.mismatch);
                assert!(v.messages > 10 && v.bytes > 0 && v.rounds[0] > 0, "{v:?}");
            }
        }
    }

    /// The comparison `--verify` rests on tells two ledgers apart when one message's size differs.
    #[test]
    fn the_comparison_sees_a_different_batch() {
        let model = ModelKind::LogReg;
        let arith = ShapeArith { frac_bits: 16, rates: quick_rates() };
        let rec = |b: usize| {
            let (s, i) = (vec![(0..b).collect::<Vec<_>>()], vec![(0..2).collect::<Vec<_>>()]);
            record(&arith, &plan_of(model, Protocol::Rtas, &s, &i), BTreeMap::new()).unwrap()
        };
        assert_eq!(compare(&rec(4), &rec(4)).unwrap(), None);
        assert!(compare(&rec(4), &rec(5)).unwrap().unwrap().contains("run"));
    }

    #[test]
    fn epochs_and_totals_follow_from_one_step() {
        let r = plan(&cfg(ModelKind::LogReg)).unwrap();
        assert_eq!(r.steps_per_epoch, 8);
        for p in &r.protocols {
            assert_eq!(p.epoch_bytes, 8 * p.train_step.traffic.total_bytes);
            assert!(p.total_bytes > 2 * p.epoch_bytes, "the parameters' sharing comes on top");
            let lan = p.epoch_seconds["lan"];
            assert!((lan - 8.0 * p.train_step.modeled_seconds["lan"]).abs() < 1e-12);
            assert!(p.train_step.modeled_seconds["wan"] > p.train_step.modeled_seconds["lan"]);
        }
    }
}
