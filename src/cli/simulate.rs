//! `rtas simulate`: any model (the paper's two, a TOML or ONNX file) under plain, rtas, rtas-fast or mpc.

use super::data::DataArgs;
use super::op::{NetworkArgs, SharingName};
use super::output::{Table, render};
use super::progress::bar;
use crate::error::Result;
use crate::experiment::op::Sharing;
use crate::experiment::simulate::{self, ProtocolChoice, SimulateConfig, SimulateReport, StepCost};
use crate::models::ModelKind;
use crate::models::secure::Protocol;
use crate::protocol::party::FssGate;
use clap::{Args, ValueEnum};

/// `logreg`, `cnn`, or a model file (TOML; see `models/`).
#[derive(Debug, Clone)]
pub struct ModelName {
    /// The model (a file describing one of the paper's two is that model).
    pub kind: ModelKind,
    /// The file it was read from, if any.
    pub path: Option<std::path::PathBuf>,
}

/// clap's parser for `--model`.
pub fn parse_model(s: &str) -> std::result::Result<ModelName, String> {
    match s {
        "logreg" => return Ok(ModelName { kind: ModelKind::LogReg, path: None }),
        "cnn" => return Ok(ModelName { kind: ModelKind::Cnn, path: None }),
        _ => {}
    }
    let path = std::path::PathBuf::from(s);
    if !path.is_file() {
        return Err(format!("'{s}' is neither logreg, cnn nor a model file"));
    }
    let net = crate::models::graph::Net::read(&path).map_err(|e| e.detail())?;
    Ok(ModelName { kind: ModelKind::file(net), path: Some(path) })
}

impl ModelName {
    /// The model.
    pub fn kind(&self) -> Result<ModelKind> {
        Ok(self.kind)
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ProtocolName {
    /// Plaintext reference.
    Plain,
    /// Everything secret-shared; element-wise functions through the permutation helper.
    Rtas,
    /// First linear layer secret-shared, the rest trained by the third party in plaintext.
    RtasFast,
    /// The cryptographic baseline: everything secret-shared, element-wise functions by FSS gates, no helper.
    Mpc,
    /// Differential privacy: plaintext DP-SGD (clipped per-example gradients plus Gaussian noise), accounted.
    DpSgd,
}

impl ProtocolName {
    pub fn choice(self) -> ProtocolChoice {
        match self {
            ProtocolName::Plain => ProtocolChoice::Plain,
            ProtocolName::Rtas => ProtocolChoice::Secure(Protocol::Rtas),
            ProtocolName::Mpc => ProtocolChoice::Secure(Protocol::Mpc),
            ProtocolName::RtasFast => ProtocolChoice::Secure(Protocol::RtasFast),
            ProtocolName::DpSgd => ProtocolChoice::DpSgd,
        }
    }
}

/// How a model trains and predicts: the flags `simulate` and `launch` share.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Training epochs.
    #[arg(long, value_name = "E", default_value_t = 1, allow_negative_numbers = true)]
    pub epochs: usize,
    /// Training batch size.
    #[arg(long, value_name = "B", default_value_t = 32, allow_negative_numbers = true)]
    pub batch: usize,
    /// Learning rate (default: 0.1 for logreg, as in the paper; 3.0 for the CNN, which the paper does not state).
    #[arg(long, value_name = "L", allow_negative_numbers = true)]
    pub lr: Option<f64>,
    /// Inference batch size.
    #[arg(long, value_name = "B", default_value_t = 1000, allow_negative_numbers = true)]
    pub infer_batch: usize,
    /// Fractional bits of the ring's fixed point.
    #[arg(long, value_name = "F", default_value_t = 16, allow_negative_numbers = true)]
    pub frac_bits: u32,
    /// SecureML's trick: open the masked training set once and reuse it every epoch.
    #[arg(long)]
    pub reuse_masks: bool,
    /// Stop after this many training steps (0: no training; evaluate the initial or imported weights).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub max_steps: Option<usize>,
    /// The FSS gate under --protocol mpc: dcf (one online round; 3.1 KB of keys per value) or dpf (two
    /// rounds; 1.4 KB per relu value).
    #[arg(long, value_name = "dcf|dpf", default_value = "dcf", value_parser = parse_gate)]
    pub fss_gate: FssGate,
}

/// `--fss-gate`'s value.
pub fn parse_gate(s: &str) -> std::result::Result<FssGate, String> {
    match s {
        "dcf" => Ok(FssGate::Dcf),
        "dpf" => Ok(FssGate::Dpf),
        _ => Err("dcf (one online round) or dpf (two rounds, smaller keys)".into()),
    }
}

impl TrainArgs {
    /// Sets these flags in `cfg` (ring sharing with `--frac-bits`).
    pub fn apply(&self, cfg: &mut SimulateConfig) -> Result<()> {
        cfg.epochs = self.epochs;
        cfg.batch = self.batch;
        if let Some(lr) = self.lr {
            cfg.lr = lr;
        }
        cfg.infer_batch = self.infer_batch;
        cfg.sharing = Sharing::Ring { frac_bits: self.frac_bits };
        cfg.reuse_masks = self.reuse_masks;
        cfg.max_steps = self.max_steps;
        cfg.fss_gate = self.fss_gate;
        Ok(())
    }
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Data given in memory (the Python package), in place of `--data-file`'s file.
    #[arg(skip)]
    pub in_memory: Option<Box<super::InMemory>>,
    /// Keep every role's view of the secure run for an in-process caller ([`take_views`]).
    #[arg(skip)]
    pub keep_views: bool,
    /// The model: logreg, cnn, or a model file (TOML, see models/).
    #[arg(long, value_parser = parse_model, value_name = "logreg|cnn|FILE")]
    pub model: ModelName,
    /// The protocol.
    #[arg(long, value_enum, default_value = "rtas")]
    pub protocol: ProtocolName,
    #[command(flatten)]
    pub train: TrainArgs,
    /// ring (secure) or float (the paper's sharing, INSECURE).
    #[arg(long, value_enum, default_value = "ring")]
    pub sharing: SharingName,
    #[command(flatten)]
    pub net: NetworkArgs,
    #[command(flatten)]
    pub data: DataArgs,
    /// A table to train on instead of MNIST: CSV with a header or .npy features; the first 80% of the rows
    /// train, the rest test. The secure protocols need integer class labels.
    #[arg(long, value_name = "FILE")]
    pub data_file: Option<std::path::PathBuf>,
    /// The label column of --data-file (CSV), or a .npy file of labels (one per row).
    #[arg(long, value_name = "COLUMN|FILE", requires = "data_file")]
    pub label: Option<String>,
    /// Scale every feature of --data-file to mean 0 and variance 1 (statistics of the training rows).
    #[arg(long, requires = "data_file")]
    pub standardize: bool,
    #[command(flatten)]
    pub dp: DpFlags,
    /// Random seed (initialization, batch order, parties).
    #[arg(long, value_name = "S", default_value_t = 1, allow_negative_numbers = true)]
    pub seed: u64,
}

/// DP-SGD's flags (`--protocol dp-sgd`).
#[derive(Debug, Args)]
pub struct DpFlags {
    /// DP-SGD: the noise multiplier sigma (noise standard deviation over the clipping norm).
    #[arg(long, value_name = "SIGMA", allow_negative_numbers = true)]
    pub noise_multiplier: Option<f64>,
    /// DP-SGD: calibrate sigma so that epsilon at --dp-delta is at most this (PLD accountant).
    #[arg(long, value_name = "EPS", allow_negative_numbers = true)]
    pub target_epsilon: Option<f64>,
    /// DP-SGD: clipping norm C of each example's gradient [default: 1].
    #[arg(long, value_name = "C", allow_negative_numbers = true)]
    pub clip: Option<f64>,
    /// DP-SGD: delta of (epsilon, delta)-DP [default: 1e-5].
    #[arg(long, value_name = "D", allow_negative_numbers = true)]
    pub dp_delta: Option<f64>,
    /// DP-SGD: poisson (each record in each step with probability B/N) or shuffle (fixed batches, accounted
    /// without amplification) [default: poisson].
    #[arg(long, value_enum, value_name = "HOW")]
    pub dp_sampling: Option<DpSamplingName>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DpSamplingName {
    /// Each record in each step with probability B/N.
    Poisson,
    /// The plain run's shuffled fixed-size batches.
    Shuffle,
}

impl DpFlags {
    /// The settings for `--protocol dp-sgd`; an error when they are given with another protocol.
    pub fn config(&self, protocol: ProtocolName) -> Result<Option<simulate::dp_sgd::DpConfig>> {
        use crate::error::invalid;
        use simulate::dp_sgd::{DpConfig, DpNoise, DpSampling};
        let any = self.noise_multiplier.is_some()
            || self.target_epsilon.is_some()
            || self.clip.is_some()
            || self.dp_delta.is_some()
            || self.dp_sampling.is_some();
        if !matches!(protocol, ProtocolName::DpSgd) {
            if any {
                return Err(invalid(
                    "--noise-multiplier, --target-epsilon, --clip, --dp-delta and --dp-sampling go with --protocol dp-sgd",
                ));
            }
            return Ok(None);
        }
        let noise = match (self.noise_multiplier, self.target_epsilon) {
            (Some(s), None) => DpNoise::Multiplier(s),
            (None, Some(e)) => DpNoise::TargetEpsilon(e),
            (Some(_), Some(_)) => return Err(invalid("give --noise-multiplier or --target-epsilon, not both")),
            (None, None) => return Err(invalid("--protocol dp-sgd needs --noise-multiplier or --target-epsilon")),
        };
        let d = DpConfig::default();
        let c = DpConfig {
            noise,
            clip: self.clip.unwrap_or(d.clip),
            delta: self.dp_delta.unwrap_or(d.delta),
            sampling: match self.dp_sampling {
                Some(DpSamplingName::Shuffle) => DpSampling::Shuffle,
                Some(DpSamplingName::Poisson) | None => DpSampling::Poisson,
            },
        };
        c.check()?;
        Ok(Some(c))
    }
}

impl SimulateArgs {
    pub fn config(&self) -> Result<SimulateConfig> {
        let mut cfg = SimulateConfig::paper(self.model.kind()?, self.protocol.choice());
        self.train.apply(&mut cfg)?;
        cfg.profiles = self.net.profiles()?;
        if let SharingName::Float = self.sharing {
            cfg.sharing = Sharing::Float;
        }
        cfg.seed = self.seed;
        cfg.dp = self.dp.config(self.protocol)?;
        Ok(cfg)
    }
}

pub fn run(a: SimulateArgs, json: bool) -> Result<String> {
    let model = a.model.kind;
    if !model.is_paper() && matches!(a.protocol, ProtocolName::Plain) {
        return run_file(&a, model, json);
    }
    let mut cfg = a.config()?;
    if a.keep_views {
        if !matches!(cfg.protocol, simulate::ProtocolChoice::Secure(_)) {
            return Err(crate::error::invalid(format!(
                "views are what the roles of a secure run saw; --protocol {} has none",
                cfg.protocol.name()
            )));
        }
        cfg.record_views = true;
    }
    let (train, test) = match a.data_file.is_some() || a.in_memory.is_some() {
        true => {
            let (tr, te) = table_rows(&a)?;
            let prep = |r: crate::experiment::custom::Rows| crate::models::Prepared::from_rows(r.x, r.dim, &r.labels);
            (prep(tr)?, prep(te)?)
        }
        false => a.data.load()?,
    };
    let pb = bar(0, &format!("simulate {} {}", cfg.model.name(), cfg.protocol.name()));
    let out = simulate::simulate(&cfg, &train, &test, &pb)?;
    if a.keep_views {
        let views = out.recording.as_ref().map(|r| r.views.clone()).unwrap_or_default();
        VIEWS.with(|v| *v.borrow_mut() = Some(views));
    }
    render(&out.report, json, table)
}

fn kb(b: u64) -> String {
    format!("{:.1} KB", b as f64 / 1e3)
}

pub fn cost_table(title: &str, c: &StepCost) -> String {
    let mut t = Table::new(&["link", "phase", "bytes"]);
    for (&(phase, from, to), v) in &c.traffic.by_link {
        t.row(&[format!("{from}->{to}"), phase.to_string(), v.to_string()]);
    }
    let mut m = Table::new(&["network", "modeled s", "online s", "x plain"]);
    for (k, v) in &c.modeled_seconds {
        m.row(&[
            k.clone(),
            format!("{v:.6}"),
            format!("{:.6}", c.modeled_online_seconds.get(k).copied().unwrap_or(*v)),
            format!("{:.1}", c.ratio_to_plain.get(k).copied().unwrap_or(f64::NAN)),
        ]);
    }
    let compute: Vec<String> = c.compute_seconds.iter().map(|(p, s)| format!("{p} {:.2} ms", s * 1e3)).collect();
    format!(
        "{title} (batch {}): P0<->P1 {} (analytic floor {}), {} online rounds, all links {}\n{}\ncompute: {} | plaintext {:.3} ms\n{}",
        c.batch,
        kb(c.bytes_p0_p1),
        kb(c.floor_bytes_p0_p1),
        c.rounds,
        kb(c.total_bytes),
        t.render(),
        if compute.is_empty() { "-".to_string() } else { compute.join(", ") },
        c.plain_seconds * 1e3,
        m.render()
    )
}

/// The first test examples' outputs, one line each.
fn outputs_text(rows: &[Vec<f64>]) -> String {
    let mut s = String::from("outputs of the first test examples:");
    for (i, row) in rows.iter().enumerate() {
        let v: Vec<String> = row.iter().map(|x| format!("{x:.6}")).collect();
        s.push_str(&format!("\n  {}: [{}]", i + 1, v.join(", ")));
    }
    s
}

/// `mpc on the dpf gate`, or the protocol's name.
fn protocol_label(r: &SimulateReport) -> String {
    match &r.fss_gate {
        Some(g) => format!("{} on the {g} gate", r.protocol),
        None => r.protocol.clone(),
    }
}

pub(super) fn table(r: &SimulateReport) -> String {
    if r.steps == 0 {
        return format!(
            "evaluate {} under {} (sharing {}): the weights as they are (no training), {} test images, seed {}\n\
             test accuracy {:.2}% (plain: {:.2}%)\n{}\n\n{}",
            r.model.name(),
            protocol_label(r),
            r.sharing,
            r.test_size,
            r.seed,
            100.0 * r.accuracy,
            100.0 * r.plain_accuracy,
            outputs_text(&r.first_outputs),
            cost_table("one inference batch", &r.infer_batch)
        );
    }
    let n = r.loss_curve.len();
    let pick: Vec<usize> = if n <= 6 { (0..n).collect() } else { (0..6).map(|i| i * (n - 1) / 5).collect() };
    let curve: Vec<String> = pick.iter().map(|&i| format!("{}:{:.4}", i + 1, r.loss_curve[i])).collect();
    let plain_curve: Vec<String> = pick.iter().map(|&i| format!("{}:{:.4}", i + 1, r.plain_loss_curve[i])).collect();
    let mut s = format!(
        "simulate {} under {} (sharing {}), {} epoch(s), batch {}, lr {}, {} train / {} test images, {} steps, seed {}\n\
         test accuracy {:.2}% (plain, same init and batches: {:.2}%); largest parameter difference from plain {:.2e}\n\
         loss by step: {}\n  plain loss: {}\n\n{}",
        r.model.name(),
        protocol_label(r),
        r.sharing,
        r.epochs,
        r.batch,
        r.lr,
        r.train_size,
        r.test_size,
        r.steps,
        r.seed,
        100.0 * r.accuracy,
        100.0 * r.plain_accuracy,
        r.max_param_diff_vs_plain,
        curve.join(" "),
        plain_curve.join(" "),
        match &r.dp {
            // DP-SGD is plaintext: its step costs compute only, beside the plain step's.
            Some(_) => format!(
                "one training step (batch {}): {:.3} ms on one core, plaintext {:.3} ms: {:.2}x (no bytes, no rounds)\n\
                 one inference batch (batch {}): {:.3} ms, as plaintext",
                r.train_step.batch,
                r.train_step.compute_seconds.values().next().copied().unwrap_or(f64::NAN) * 1e3,
                r.train_step.plain_seconds * 1e3,
                r.train_step.compute_ratio,
                r.infer_batch.batch,
                r.infer_batch.plain_seconds * 1e3
            ),
            None => format!(
                "{}\n\n{}",
                cost_table("one training step", &r.train_step),
                cost_table("one inference batch", &r.infer_batch)
            ),
        }
    );
    if let Some(d) = &r.dp {
        s.push_str(&format!(
            "\n\nDP-SGD ({:?} sampling, rate {:.5}): noise multiplier {:.4}{}, clip {}, {} steps (mean batch {:.1}); \
             {:.1}% of per-example gradients clipped (median norm {:.4})\nepsilon = {:.4} at delta = {} ({}){}",
            d.sampling,
            d.sample_rate,
            d.noise_multiplier,
            d.target_epsilon.map_or(String::new(), |t| if t < 1e6 {
                format!(" (calibrated to epsilon {t})")
            } else {
                format!(" (calibrated to epsilon {t:e})")
            }),
            d.clip,
            d.steps,
            d.mean_batch,
            100.0 * d.clipped_fraction,
            d.median_norm,
            d.epsilon,
            d.delta,
            d.accountant,
            d.epsilon_rdp.map_or(String::new(), |e| format!("; RDP accountant {e:.4}"))
        ));
    }
    if let Some(o) = &r.one_time {
        s.push_str(&format!("\n\n{}", cost_table("one-time: sharing and opening the masked training set", o)));
    }
    if r.sharing.contains("INSECURE") {
        s.push_str("\n\nWARNING: float sharing is insecure: each share is the secret plus Gaussian noise");
    }
    if r.truncation.checked > 0 {
        s.push_str(&format!(
            "\n\ntruncation failures: {} of {} truncated elements",
            r.truncation.failures, r.truncation.checked
        ));
        if r.truncation.failures > 0 {
            s.push_str(" — WARNING: each is off by 2^(64-2f); use fewer --frac-bits");
        }
    }
    s
}

/// `--data-file` cut 80/20 into train and test rows (standardized with `--standardize`).
fn table_rows(a: &SimulateArgs) -> Result<(crate::experiment::custom::Rows, crate::experiment::custom::Rows)> {
    match a.in_memory.as_deref().cloned() {
        Some(super::InMemory::Table(t)) => return super::data::split_table(t, a.standardize),
        Some(super::InMemory::Split(tr, te)) => return super::data::given_split((tr, te), a.standardize),
        None => {}
    }
    let file = a.data_file.as_ref().ok_or_else(|| crate::error::invalid("no --data-file"))?;
    super::data::table_split(file, a.label.as_deref(), a.standardize)
}

/// A model file that is not one of the paper's, in plaintext on MNIST or a user's table (real-valued
/// targets allowed), with the majority baseline beside its accuracy.
fn run_file(a: &SimulateArgs, model: crate::models::ModelKind, json: bool) -> Result<String> {
    let net = model.net();
    use crate::experiment::custom::{self, CustomConfig, Rows};
    let (train, test) = match a.data_file.is_some() || a.in_memory.is_some() {
        true => table_rows(a)?,
        false => {
            let (tr, te) = a.data.load()?;
            let rows = |p: &crate::models::Prepared| Rows {
                count: p.count,
                dim: 784,
                x: p.x.clone(),
                labels: p.labels.iter().map(|&l| f64::from(l)).collect(),
            };
            (rows(&tr), rows(&te))
        }
    };
    let t = &a.train;
    let cfg = CustomConfig {
        epochs: t.epochs,
        batch: t.batch,
        lr: t.lr.unwrap_or(0.1),
        max_steps: t.max_steps,
        seed: a.seed,
    };
    let name = a.model.path.as_ref().map_or_else(|| net.name().to_string(), |p| p.display().to_string());
    let r = custom::run(model, &name, &train, &test, &cfg)?;
    render(&r, json, |r| {
        let mut t = Table::new(&["layer", "output", "parameters"]);
        for l in &r.layers {
            t.row(&[l.kind.clone(), format!("{:?}", l.output), l.params.to_string()]);
        }
        let n = r.loss_curve.len();
        let pick: Vec<usize> = if n <= 6 { (0..n).collect() } else { (0..6).map(|i| i * (n - 1) / 5).collect() };
        let curve: Vec<String> = pick.iter().map(|&i| format!("{}:{:.4}", i + 1, r.loss_curve[i])).collect();
        if r.steps == 0 {
            return format!(
                "evaluate {} in plaintext: the weights as they are (no training), {} parameters, {} test examples\n{}\n\
                 test accuracy {:.2}% (always guessing the most common target: {:.2}%)\n{}",
                r.model,
                r.params,
                r.test_size,
                t.render(),
                100.0 * r.accuracy,
                100.0 * r.majority_accuracy,
                outputs_text(&r.first_outputs)
            );
        }
        format!(
            "simulate {} in plaintext: {} parameters, {} train / {} test examples, {} steps, seed {}\n{}\n\
             test accuracy {:.2}% (always guessing the most common target: {:.2}%); loss by step: {}; median step {:.3} ms (one core)",
            r.model,
            r.params,
            r.train_size,
            r.test_size,
            r.steps,
            r.seed,
            t.render(),
            100.0 * r.accuracy,
            100.0 * r.majority_accuracy,
            curve.join(" "),
            r.step_seconds * 1e3
        )
    })
}

std::thread_local! {
    /// The views of this thread's last `simulate` run with `keep_views`.
    static VIEWS: std::cell::RefCell<Option<Views>> = const { std::cell::RefCell::new(None) };
}

/// Every role's view of a run.
pub type Views = std::collections::BTreeMap<crate::net::Role, crate::sim::record::View>;

/// The views kept by this thread's last `simulate` run with `keep_views` (taken: a second call gives None).
pub fn take_views() -> Option<Views> {
    VIEWS.with(|v| v.borrow_mut().take())
}
