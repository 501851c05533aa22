//! `rtas simulate`, the one driver: train and test any model under plain, rtas, rtas-fast or mpc on the
//! same schedule, beside the plaintext reference (same initialization, same batches), and report accuracy,
//! the loss curve, and what one training step and one inference batch cost: bytes per directed link and
//! phase, rounds, CPU per party, modeled time per network, and the ratio to plaintext.

use crate::error::{Result, invalid};
use crate::models::secure::{self, Inputs, Plan, Protocol};
use crate::models::{ModelKind, Prepared};
use crate::net::Role;
use crate::protocol::elementwise::HelperMode;
use crate::protocol::party::FssGate;
use crate::protocol::ring::{FloatArith, RingArith};
use crate::protocol::truncation::TruncationCounts;
use crate::sim::cost::Profile;
use crate::sim::measure::Traffic;
use crate::sim::record::Recording;
use crate::sim::run::run_protocol;
use indicatif::ProgressBar;
use ndarray::ArrayD;
use serde::Serialize;
use std::collections::BTreeMap;

pub use crate::experiment::op::Sharing;

mod cost;
pub mod dp_sgd;
mod plain;
mod record;
mod reuse;
mod score;

pub(crate) use cost::{costs, train_stages};
pub use plain::{Examples, initial_params};
pub(crate) use plain::{PlainRun, median, run_plain};
pub use record::{RecordedRun, record, record_with};
pub(crate) use reuse::{PlainKey, simulate_after_plain, simulate_plain};
pub(crate) use score::score;

/// plain, rtas or rtas-fast.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProtocolChoice {
    /// The plaintext reference.
    Plain,
    /// A secure protocol.
    Secure(Protocol),
    /// DP-SGD: plaintext training with clipped, noisy gradients (settings in [`SimulateConfig::dp`]).
    DpSgd,
}

impl ProtocolChoice {
    /// Name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ProtocolChoice::Plain => "plain",
            ProtocolChoice::Secure(p) => p.name(),
            ProtocolChoice::DpSgd => "dp-sgd",
        }
    }
}

/// What to simulate.
#[derive(Debug, Clone)]
pub struct SimulateConfig {
    /// Model.
    pub model: ModelKind,
    /// Protocol.
    pub protocol: ProtocolChoice,
    /// Epochs.
    pub epochs: usize,
    /// Training batch size.
    pub batch: usize,
    /// Learning rate.
    pub lr: f64,
    /// Inference batch size.
    pub infer_batch: usize,
    /// Networks to model.
    pub profiles: Vec<Profile>,
    /// Ring or float sharing.
    pub sharing: Sharing,
    /// SecureML's mask reuse across epochs.
    pub reuse_masks: bool,
    /// Seed (initialization, batch order, party randomness).
    pub seed: u64,
    /// Stop after this many training steps (tests and quick runs).
    pub max_steps: Option<usize>,
    /// Keep every party's view (for attacks).
    pub record_views: bool,
    /// Return the recording (ledger and traces) even without views, for replays under other networks.
    pub keep_recording: bool,
    /// What P0 and P1 send the element-wise helper (`Paper`: the paper's INSECURE variant).
    pub helper: HelperMode,
    /// The FSS gate under `mpc`: one round (DCF, the default) or two (DPF, smaller keys).
    pub fss_gate: FssGate,
    /// The stated signed width of the values mpc's gates compare (`--value-bits`; `None`: the full width).
    pub value_bits: Option<u32>,
    /// Seed of the initial parameters when it is not `seed` (a deployment's owner draws its own).
    pub init_seed: Option<u64>,
    /// DP-SGD's settings (with `--protocol dp-sgd`).
    pub dp: Option<dp_sgd::DpConfig>,
}

impl SimulateConfig {
    /// The paper's settings for `model` (logistic regression: lr 0.1; CNN: lr 3.0, which the paper does
    /// not state), batch 32, one epoch, LAN and WAN.
    pub fn paper(model: ModelKind, protocol: ProtocolChoice) -> Self {
        Self {
            model,
            protocol,
            epochs: 1,
            batch: 32,
            lr: match model {
                ModelKind::Cnn => 3.0,
                ModelKind::LogReg | ModelKind::File(_) => 0.1,
            },
            infer_batch: 1000,
            profiles: vec![Profile::lan(), Profile::wan()],
            sharing: Sharing::Ring { frac_bits: 16 },
            reuse_masks: false,
            seed: 1,
            max_steps: None,
            record_views: false,
            keep_recording: false,
            helper: HelperMode::default(),
            fss_gate: FssGate::default(),
            value_bits: None,
            init_seed: None,
            dp: None,
        }
    }
}

/// The cost of one training step or one inference batch.
#[derive(Debug, Clone, Serialize, Default)]
pub struct StepCost {
    /// Examples in it.
    pub batch: usize,
    /// Bytes between P0 and P1, both directions.
    pub bytes_p0_p1: u64,
    /// The analytic floor of `bytes_p0_p1`: the opening of the masked input of the first layer (or, with
    /// mask reuse, of its weights), which no Beaver-style protocol avoids.
    pub floor_bytes_p0_p1: u64,
    /// Online rounds.
    pub rounds: u32,
    /// All bytes, every link.
    pub total_bytes: u64,
    /// Per link and phase.
    pub traffic: Traffic,
    /// CPU seconds per party (median over the measured steps).
    pub compute_seconds: BTreeMap<String, f64>,
    /// Modeled seconds per network (median over the measured steps).
    pub modeled_seconds: BTreeMap<String, f64>,
    /// Modeled seconds of the online phase alone.
    pub modeled_online_seconds: BTreeMap<String, f64>,
    /// The plaintext step's CPU seconds (one core; median).
    pub plain_seconds: f64,
    /// Modeled seconds over plaintext seconds, per network.
    pub ratio_to_plain: BTreeMap<String, f64>,
    /// Slowest party's CPU over plaintext CPU.
    pub compute_ratio: f64,
    /// Modeled seconds per step label on the first network (critical party).
    pub per_label_seconds: BTreeMap<String, f64>,
}

/// What `rtas simulate` reports.
#[derive(Debug, Clone, Serialize)]
pub struct SimulateReport {
    /// Model.
    pub model: ModelKind,
    /// Protocol.
    pub protocol: String,
    /// mpc's FSS gate (`dcf` or `dpf`); absent under the other protocols.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fss_gate: Option<String>,
    /// mpc's stated value width (`--value-bits`), when given: a deployment cannot check it (no party sees both
    /// shares); a simulation counts what falls outside in `comparison_range`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_bits: Option<u32>,
    /// mpc's FSS gates: the signed width of the values they compare, how many values entered them and how many
    /// lay outside that range (their results wrong); absent under the other protocols.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparison_range: Option<crate::protocol::truncation::RangeCounts>,
    /// Sharing.
    pub sharing: String,
    /// Seed.
    pub seed: u64,
    /// Epochs.
    pub epochs: usize,
    /// Batch.
    pub batch: usize,
    /// Learning rate.
    pub lr: f64,
    /// Training examples.
    pub train_size: usize,
    /// Test examples.
    pub test_size: usize,
    /// Training steps run.
    pub steps: usize,
    /// Test accuracy of this protocol.
    pub accuracy: f64,
    /// Test accuracy of the plaintext reference (same init, same batches).
    pub plain_accuracy: f64,
    /// Loss per training step.
    pub loss_curve: Vec<f64>,
    /// Accuracy on each training batch.
    pub batch_accuracy_curve: Vec<f64>,
    /// The plaintext reference's loss per step.
    pub plain_loss_curve: Vec<f64>,
    /// The plaintext reference's batch accuracy per step.
    pub plain_batch_accuracy_curve: Vec<f64>,
    /// Largest difference between this protocol's final parameters and the plaintext reference's.
    pub max_param_diff_vs_plain: f64,
    /// One training step.
    pub train_step: StepCost,
    /// One inference batch.
    pub infer_batch: StepCost,
    /// With mask reuse: sharing and opening the masked training set, once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub one_time: Option<StepCost>,
    /// Truncated elements checked and failed over the whole secure run (ring sharing; each failure is off by
    /// 2^(64 - 2f) in decoded units).
    pub truncation: TruncationCounts,
    /// DP-SGD's accounting and clipping (with `--protocol dp-sgd`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dp: Option<dp_sgd::DpReport>,
    /// The model's outputs for the first test examples under this protocol (after softmax for
    /// cross-entropy), as the party receiving predictions decodes them.
    pub first_outputs: Vec<Vec<f64>>,
}

/// The report and, when views were asked for, the recording of the secure run.
#[derive(Debug)]
pub struct SimulateOutput {
    /// The report.
    pub report: SimulateReport,
    /// The secure run's recording.
    pub recording: Option<Recording>,
    /// The final parameters the protocol trained (reconstructed from the shares; the third party's tail
    /// under RTAS-fast), for attacks that assume they leaked. Empty for plain.
    pub final_params: Vec<ArrayD<f64>>,
    /// The training batches actually run (rows of the training set, step by step): what views are keyed by.
    pub schedule: Vec<Vec<usize>>,
}

/// The most terms one output of a linear layer sums (dense: its inputs; conv: channels x kernel).
fn max_fan_in(model: ModelKind) -> usize {
    model
        .net()
        .layers()
        .iter()
        .filter_map(|l| l.params.first())
        .map(|w| w[1..].iter().product::<usize>().max(w[0]))
        .max()
        .unwrap_or(0)
}

/// `--value-bits`: only for mpc (its FSS gates), and a width the ring and the sigmoid's breaks allow (also
/// checked by `rtas launch` before it writes any file, so the error names the flag, not the job file).
pub(crate) fn check_value_bits(cfg: &SimulateConfig) -> Result<()> {
    if let Some(k) = cfg.value_bits {
        let ProtocolChoice::Secure(Protocol::Mpc) = cfg.protocol else {
            return Err(invalid(format!(
                "--value-bits applies to --protocol mpc (its FSS gates), not {}",
                cfg.protocol.name()
            )));
        };
        if let Sharing::Ring { frac_bits } = cfg.sharing {
            RingArith::new(frac_bits)?;
            crate::protocol::fss::gates::check_value_bits(k, frac_bits)?;
        }
    }
    Ok(())
}

/// Checks `cfg` against the data: every error a user can cause, before anything runs.
pub(crate) fn validate(cfg: &SimulateConfig, train_count: usize, test_count: usize) -> Result<()> {
    if cfg.batch == 0 || cfg.epochs == 0 || cfg.infer_batch == 0 {
        return Err(invalid("--batch, --epochs and --infer-batch must be at least 1"));
    }
    if !cfg.lr.is_finite() || cfg.lr <= 0.0 {
        return Err(invalid(format!("--lr must be a positive finite number, got {}", cfg.lr)));
    }
    if cfg.batch > train_count {
        return Err(invalid(format!("--batch {} is larger than the {} training images", cfg.batch, train_count)));
    }
    if test_count == 0 {
        return Err(invalid("the test set is empty"));
    }
    if cfg.max_steps == Some(0) && cfg.protocol == ProtocolChoice::DpSgd {
        return Err(invalid("--max-steps 0 evaluates the initial weights; DP-SGD has nothing to account there"));
    }
    crate::models::check_steps(train_count, cfg.batch, cfg.epochs, cfg.max_steps)?;
    if let ProtocolChoice::Secure(p) = cfg.protocol {
        crate::models::secure::check(cfg.model.net(), p, cfg.max_steps != Some(0))?;
    }
    if let (Sharing::Ring { frac_bits }, ProtocolChoice::Secure(_)) = (cfg.sharing, cfg.protocol) {
        // The widest product sums its inputs' terms (784 pixel-by-weight terms for the paper's models) or a
        // batch of gradient terms; with inputs and weights up to 1 it must stay inside the ring's signed
        // range before truncation.
        let fan_in = cfg.model.input_len().max(max_fan_in(cfg.model));
        RingArith::new(frac_bits)?.check_products("a layer", fan_in.max(cfg.batch) as f64, 1.0)?;
        let c = cfg.model.update_factor(cfg.lr, cfg.batch);
        let ulp = 2f64.powi(-(frac_bits as i32));
        if c < ulp {
            return Err(invalid(format!(
                "the update factor lr * 2 / (batch * outputs) = {c:e} is below the fixed point's resolution 2^-{frac_bits}: \
                 every update would round to zero; raise --lr or --frac-bits"
            )));
        }
    }
    check_value_bits(cfg)?;
    if cfg.sharing == Sharing::Float && cfg.protocol == ProtocolChoice::Secure(Protocol::Mpc) {
        return Err(invalid("--protocol mpc (FSS gates) needs --sharing ring"));
    }
    if cfg.reuse_masks && matches!(cfg.protocol, ProtocolChoice::Plain | ProtocolChoice::DpSgd) {
        return Err(invalid(format!("--reuse-masks applies to rtas and rtas-fast, not {}", cfg.protocol.name())));
    }
    match (cfg.protocol, cfg.dp) {
        (ProtocolChoice::DpSgd, Some(d)) => d.check()?,
        (ProtocolChoice::DpSgd, None) => return Err(invalid("--protocol dp-sgd needs its settings")),
        (_, Some(_)) => {
            return Err(invalid(
                "--noise-multiplier, --target-epsilon, --clip and --dp-sampling go with --protocol dp-sgd",
            ));
        }
        _ => {}
    }
    Ok(())
}

/// The training batches (from `cfg.seed`, cut at `max_steps`) and the inference batches of a run.
pub(crate) fn batches(
    cfg: &SimulateConfig,
    train_count: usize,
    test_count: usize,
) -> (Vec<Vec<usize>>, Vec<Vec<usize>>) {
    let sched = crate::models::run_schedule(train_count, cfg.batch, cfg.epochs, cfg.max_steps, cfg.seed);
    let test_rows: Vec<usize> = (0..test_count).collect();
    let infer: Vec<Vec<usize>> = test_rows.chunks(cfg.infer_batch).map(<[usize]>::to_vec).collect();
    (sched, infer)
}

/// The report of the plaintext reference, which a secure run's figures then replace.
pub(crate) fn plain_report(
    cfg: &SimulateConfig,
    (train_count, test_count): (usize, usize),
    sched: &[Vec<usize>],
    infer: &[Vec<usize>],
    plain_run: &PlainRun,
) -> SimulateReport {
    let plain_step = median(plain_run.step_seconds.clone());
    let mut report = SimulateReport {
        model: cfg.model,
        protocol: cfg.protocol.name().into(),
        fss_gate: matches!(cfg.protocol, ProtocolChoice::Secure(Protocol::Mpc)).then(|| cfg.fss_gate.name().into()),
        value_bits: cfg.value_bits.filter(|_| matches!(cfg.protocol, ProtocolChoice::Secure(Protocol::Mpc))),
        comparison_range: None,
        sharing: "none".into(),
        seed: cfg.seed,
        epochs: cfg.epochs,
        batch: cfg.batch,
        lr: cfg.lr,
        train_size: train_count,
        test_size: test_count,
        steps: sched.len(),
        accuracy: plain_run.accuracy,
        plain_accuracy: plain_run.accuracy,
        loss_curve: plain_run.losses.clone(),
        batch_accuracy_curve: plain_run.batch_acc.clone(),
        plain_loss_curve: plain_run.losses.clone(),
        plain_batch_accuracy_curve: plain_run.batch_acc.clone(),
        max_param_diff_vs_plain: 0.0,
        train_step: StepCost { batch: cfg.batch, plain_seconds: plain_step, ..Default::default() },
        infer_batch: StepCost { batch: infer[0].len(), plain_seconds: plain_run.infer_seconds, ..Default::default() },
        one_time: None,
        truncation: TruncationCounts::default(),
        dp: None,
        first_outputs: plain_run.first_outputs.clone(),
    };
    let pm = |s: f64| cfg.profiles.iter().map(|p| (p.name.clone(), s)).collect::<BTreeMap<_, _>>();
    report.train_step.modeled_seconds = pm(plain_step);
    report.infer_batch.modeled_seconds = pm(plain_run.infer_seconds);
    report
}

/// Runs the experiment on prepared train and test data.
pub fn simulate(cfg: &SimulateConfig, train: &Prepared, test: &Prepared, pb: &ProgressBar) -> Result<SimulateOutput> {
    check_data(cfg, train, test)?;
    let (sched, infer) = batches(cfg, train.count, test.count);
    pb.set_length(2 * sched.len() as u64);
    let plain_run = run_plain(cfg, train, test, &sched, &infer, pb)?;
    run_after_plain(cfg, (train, test), (sched, infer), plain_run, pb)
}

/// The configuration checked against the data.
pub(super) fn check_data(cfg: &SimulateConfig, train: &Prepared, test: &Prepared) -> Result<()> {
    validate(cfg, train.count, test.count)?;
    for (d, what) in [(train, "training"), (test, "test")] {
        if d.count > 0 && d.width() != cfg.model.input_len() {
            return Err(invalid(format!(
                "the {what} data has {} values per example; the model {} takes {} ({:?})",
                d.width(),
                cfg.model.name(),
                cfg.model.input_len(),
                cfg.model.net().spec.input
            )));
        }
    }
    Ok(())
}

/// Everything of [`simulate`] after its plaintext run.
pub(super) fn run_after_plain(
    cfg: &SimulateConfig,
    (train, test): (&Prepared, &Prepared),
    (sched, infer): (Vec<Vec<usize>>, Vec<Vec<usize>>),
    plain_run: PlainRun,
    pb: &ProgressBar,
) -> Result<SimulateOutput> {
    let mut report = plain_report(cfg, (train.count, test.count), &sched, &infer, &plain_run);
    if cfg.protocol == ProtocolChoice::DpSgd {
        let data: (&dyn Examples, &dyn Examples) = (train, test);
        let run = dp_sgd::run(cfg, data, (train.count, &sched, &infer), &plain_run, &mut report, pb)?;
        pb.finish_and_clear();
        return Ok(SimulateOutput { report, recording: None, final_params: run.params, schedule: run.schedule });
    }
    let ProtocolChoice::Secure(protocol) = cfg.protocol else {
        pb.finish_and_clear();
        return Ok(SimulateOutput { report, recording: None, final_params: plain_run.params, schedule: sched });
    };
    let plan = Plan {
        model: cfg.model,
        protocol,
        lr: cfg.lr,
        schedule: &sched,
        inference: &infer,
        reuse_masks: cfg.reuse_masks,
        train_rows: train.count,
        helper: cfg.helper,
        fss_gate: cfg.fss_gate,
        value_bits: cfg.value_bits,
        progress: Some(pb),
    };
    let inputs = Inputs::split(&plan, train, test, &plain::init(cfg));
    let data = (train, test);
    let (rec, final_params) = match cfg.sharing {
        Sharing::Ring { frac_bits } => {
            secure_run(&RingArith::new(frac_bits)?, cfg, &plan, inputs, data, &plain_run, &mut report)?
        }
        Sharing::Float => secure_run(&FloatArith::default(), cfg, &plan, inputs, data, &plain_run, &mut report)?,
    };
    pb.finish_and_clear();
    costs(cfg, &rec, (&sched, &infer), train.count, &plain_run, &mut report)?;
    Ok(SimulateOutput {
        report,
        recording: (cfg.record_views || cfg.keep_recording).then_some(rec),
        final_params,
        schedule: sched,
    })
}

fn secure_run<A: crate::protocol::nonlinear::Nonlinear>(
    arith: &A,
    cfg: &SimulateConfig,
    plan: &Plan<'_>,
    inputs: BTreeMap<Role, Inputs>,
    (train, test): (&Prepared, &Prepared),
    plain_run: &PlainRun,
    report: &mut SimulateReport,
) -> Result<(Recording, Vec<ArrayD<f64>>)> {
    let roles = plan.protocol.roles();
    let run = run_protocol(arith, &roles, cfg.seed, cfg.record_views, inputs, |p, input| secure::run(p, plan, input))?;
    report.truncation = run.truncation;
    if plan.protocol == Protocol::Mpc {
        report.comparison_range = Some(run.range);
    }
    let params = score(arith, plan, &run.outputs, (train, test), plain_run, report)?;
    Ok((run.recording, params))
}
