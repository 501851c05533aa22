//! The flags of `rtas simulate` and of the commands that train the same way (`launch`, `party`): the model,
//! the protocol, training, DP-SGD.

use super::super::data::DataArgs;
use super::super::op::{NetworkArgs, SharingName};
use crate::error::Result;
use crate::experiment::op::Sharing;
use crate::experiment::simulate::{self, ProtocolChoice, SimulateConfig};
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
    /// Under --protocol mpc: every value an FSS gate compares is a K-bit signed fixed-point number (|x| <
    /// 2^(K-1-F) in reals), so comparisons run on K-1 bits: smaller keys, less work. Default: 64-F, every
    /// value a product can yield. A value outside the stated range gives a wrong result without any sign;
    /// `simulate` counts them (comparison_range). MP-SPDZ's sfix default is K = 31 at F = 16.
    #[arg(long, value_name = "K", allow_negative_numbers = true)]
    pub value_bits: Option<u32>,
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
        cfg.value_bits = self.value_bits;
        Ok(())
    }
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
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
    #[command(flatten)]
    pub table: super::super::data::TableArgs,
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
