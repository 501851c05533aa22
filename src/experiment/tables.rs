//! `rtas tables`: the paper's Tables 1-4 (one-batch time and traffic of logistic regression and the CNN)
//! with rtas's RTAS and RTAS-fast figures beside the published numbers.

use super::simulate::{ProtocolChoice, SimulateConfig, SimulateReport, StepCost, simulate};
use crate::error::{Result, invalid};
use crate::models::secure::Protocol;
use crate::models::{ModelKind, Prepared};
use crate::net::Phase;
use crate::sim::cost::Profile;
use indicatif::ProgressBar;
use serde::Serialize;

/// What to run.
#[derive(Debug, Clone)]
pub struct TablesConfig {
    /// Training steps measured (the median step is reported).
    pub steps: usize,
    /// Inference batch (the paper's 8192, CryptoNets' minimum).
    pub infer_batch: usize,
    /// Seed.
    pub seed: u64,
}

impl Default for TablesConfig {
    fn default() -> Self {
        Self { steps: 9, infer_batch: 8192, seed: 1 }
    }
}

/// One cell group: one model, one protocol, one phase, measured by rtas.
#[derive(Debug, Clone, Serialize)]
pub struct Measured {
    /// `logreg` or `cnn`.
    pub model: String,
    /// `rtas`, `rtas-fast` or `mpc`.
    pub protocol: String,
    /// `train` (one step, batch 32) or `infer` (one batch).
    pub phase: String,
    /// Examples in the batch.
    pub batch: usize,
    /// Modeled seconds on SecureNN's LAN (offline and online together).
    pub lan_seconds: f64,
    /// Modeled seconds on SecureNN's WAN.
    pub wan_seconds: f64,
    /// Bytes on all links.
    pub total_bytes: u64,
    /// The same in megabits.
    pub megabits: f64,
    /// Bytes between P0 and P1.
    pub bytes_p0_p1: u64,
    /// Online rounds.
    pub rounds: u32,
    /// Bytes of the online phase, all links.
    pub online_bytes: u64,
    /// Bytes of the offline phase (dealer material), all links.
    pub offline_bytes: u64,
    /// Modeled seconds of the online phase alone on the LAN and the WAN.
    pub online_lan_seconds: f64,
    /// The same on the WAN.
    pub online_wan_seconds: f64,
}

/// A published figure.
#[derive(Debug, Clone, Serialize)]
pub struct Published {
    /// Table number in the paper.
    pub table: u8,
    /// System.
    pub system: String,
    /// Row (e.g. `LAN infer`, `train`).
    pub row: String,
    /// The figure as printed.
    pub value: String,
}

/// A measured wall time: real processes over mutual TLS on this machine's loopback.
#[derive(Debug, Clone, Serialize)]
pub struct WallRow {
    /// `logreg` or `cnn`.
    pub model: String,
    /// `rtas`, `rtas-fast` or `mpc`.
    pub protocol: String,
    /// `train` (median step) or `infer` (one batch).
    pub phase: String,
    /// Examples in the batch.
    pub batch: usize,
    /// Measured wall seconds.
    pub seconds: f64,
    /// What the cost model gives the same run on SecureNN's LAN.
    pub modeled_lan_seconds: f64,
    /// The plaintext reference's CPU seconds for the same batch (one core), measured in the same launch.
    pub plain_seconds: f64,
    /// Processes (parties) that shared the machine.
    pub processes: usize,
    /// Its cores.
    pub cores: usize,
}

/// Everything `rtas tables` shows.
#[derive(Debug, Clone, Serialize)]
pub struct TablesReport {
    /// rtas's measurements.
    pub measured: Vec<Measured>,
    /// The paper's (and reference systems') numbers.
    pub published: Vec<Published>,
    /// Where the workloads differ.
    pub notes: Vec<String>,
    /// Training images used; inference images used.
    pub data: String,
    /// Measured wall time of real processes (filled by the caller that runs them; empty otherwise).
    pub wall: Vec<WallRow>,
}

fn published() -> Vec<Published> {
    super::reference::PUBLISHED
        .iter()
        .map(|&(table, system, row, value)| Published {
            table,
            system: system.into(),
            row: row.into(),
            value: value.into(),
        })
        .collect()
}

fn measured(r: &SimulateReport, phase: &str, c: &StepCost) -> Measured {
    Measured {
        model: r.model.name().into(),
        protocol: r.protocol.clone(),
        phase: phase.into(),
        batch: c.batch,
        lan_seconds: c.modeled_seconds.get("lan").copied().unwrap_or(f64::NAN),
        wan_seconds: c.modeled_seconds.get("wan").copied().unwrap_or(f64::NAN),
        total_bytes: c.total_bytes,
        megabits: c.total_bytes as f64 * 8.0 / 1e6,
        bytes_p0_p1: c.bytes_p0_p1,
        rounds: c.rounds,
        online_bytes: c.traffic.phase_bytes(Phase::Online),
        offline_bytes: c.traffic.phase_bytes(Phase::Offline),
        online_lan_seconds: c.modeled_online_seconds.get("lan").copied().unwrap_or(f64::NAN),
        online_wan_seconds: c.modeled_online_seconds.get("wan").copied().unwrap_or(f64::NAN),
    }
}

/// Runs both models under both protocols: `steps` training steps on `train`, one inference batch of
/// `infer_batch` images from `infer_pool`.
pub fn tables(cfg: &TablesConfig, train: &Prepared, infer_pool: &Prepared, pb: &ProgressBar) -> Result<TablesReport> {
    if cfg.steps == 0 || cfg.infer_batch == 0 {
        return Err(invalid("--steps and --infer-batch must be at least 1"));
    }
    if infer_pool.count < cfg.infer_batch {
        return Err(invalid(format!(
            "an inference batch of {} needs that many images; the data has {}",
            cfg.infer_batch, infer_pool.count
        )));
    }
    let pool = infer_pool.range(0, cfg.infer_batch);
    let mut out = Vec::new();
    for model in [ModelKind::LogReg, ModelKind::Cnn] {
        for protocol in [Protocol::Rtas, Protocol::RtasFast, Protocol::Mpc] {
            pb.set_message(format!("tables: {} {}", model.name(), protocol.name()));
            let mut sc = SimulateConfig::paper(model, ProtocolChoice::Secure(protocol));
            sc.max_steps = Some(cfg.steps + 1);
            sc.infer_batch = cfg.infer_batch;
            sc.profiles = vec![Profile::lan(), Profile::wan()];
            sc.seed = cfg.seed;
            let r = simulate(&sc, train, &pool, &ProgressBar::hidden())?.report;
            out.push(measured(&r, "train", &r.train_step));
            out.push(measured(&r, "infer", &r.infer_batch));
            crate::cancel::tick(pb, 1)?;
        }
        // DP-SGD: plaintext, so one core's CPU and no bytes; its price is accuracy (the audit's dp-1-2.3).
        let mut sc = SimulateConfig::paper(model, ProtocolChoice::DpSgd);
        sc.dp = Some(super::simulate::dp_sgd::DpConfig {
            noise: super::simulate::dp_sgd::DpNoise::Multiplier(1.0),
            ..Default::default()
        });
        (sc.max_steps, sc.infer_batch, sc.seed) = (Some(cfg.steps + 1), cfg.infer_batch, cfg.seed);
        sc.profiles = vec![Profile::lan(), Profile::wan()];
        let r = simulate(&sc, train, &pool, &ProgressBar::hidden())?.report;
        out.push(measured(&r, "train", &r.train_step));
        out.push(measured(&r, "infer", &r.infer_batch));
    }
    pb.finish_and_clear();
    let cnn_rtas_infer = out
        .iter()
        .find(|m| m.model == "cnn" && m.protocol == "rtas" && m.phase == "infer")
        .map_or(f64::NAN, |m| m.megabits);
    let paper_infer = super::reference::PAPER_RTAS_CNN_INFER_MB;
    let images_mb = super::reference::mnist_images_megabits(super::reference::CRYPTEN_INFER_BATCH);
    Ok(TablesReport {
        measured: out,
        published: published(),
        data: format!("{} training images (batch 32), {} inference images in one batch", train.count, cfg.infer_batch),
        wall: Vec::new(),
        notes: vec![
            "Times: rtas models each party's CPU time (Rust, one core per party) and replays every message under \
             SecureNN's LAN (625 MB/s, 0.22 ms RTT) and WAN (40 MB/s, 58 ms RTT), dealer material included. The \
             paper measured wall time of Python processes (TensorFlow eager, gRPC, pickled tensors) on one 16-core \
             server, the WAN through the server's public address."
                .into(),
            "Traffic: rtas counts payload bytes of every message on every link (8 per ring element, no headers); \
             the paper measured with tshark, so its figures include TCP/IP, gRPC and pickle overhead. The paper's \
             unit 'Mb' is not defined; rtas shows megabits and megabytes."
                .into(),
            "Model: the paper's text gives the first dense layer 13*13*5 inputs; 4 filters of 4x4 at stride 2 on \
             28x28 give 4*13*13 = 676, which rtas uses."
                .into(),
            "Data: the paper trained on 50,000 MNIST images; one batch's cost does not depend on the set's size. \
             The inference batch of 8192 takes the first 8192 bundled digits (train and test) unless --data is given."
                .into(),
            format!(
                "The paper's RTAS inference traffic for the CNN, {} {} for a batch of {} images, is smaller than the \
                 images themselves ({} x 784 bytes = {images_mb:.1} Mb at 8 bits a pixel), so it cannot include sharing \
                 the inputs, let alone opening their masks as Beaver's protocol requires: rtas's {cnn_rtas_infer:.0} Mb \
                 for a batch of {} is what the protocol the paper describes sends.",
                paper_infer.value,
                paper_infer.unit,
                super::reference::CRYPTEN_INFER_BATCH,
                super::reference::CRYPTEN_INFER_BATCH,
                cfg.infer_batch
            ),
            "dp-sgd is plaintext DP-SGD (sigma 1, clip 1, Poisson batches of 32 on average): its seconds are one core's \
             CPU for a step of 32 (per-example clipping and noise included) and, for inference, plaintext \
             prediction; it sends nothing. Its price is accuracy, measured by `rtas audit` (row dp-1-2.3)."
                .into(),
            "Tables 1 and 2 (logistic regression) are empty in the paper; CrypTen and MP-SPDZ figures measured on \
             this kind of machine are given for reference."
                .into(),
        ],
    })
}
