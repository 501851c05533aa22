//! `rtas simulate --protocol dp-sgd`: the model trained in plaintext by DP-SGD (Abadi et al. 2016) from the
//! same initial parameters as the plaintext reference, its privacy accounted, and its cost measured beside
//! the plain step's on the same core.
//!
//! - **Poisson sampling** (the default): each step takes every training record independently with
//!   probability `q = B / N` (batches vary in size and can be empty), `epochs * floor(N / B)` steps; accounted
//!   by the PLD accountant (and RDP beside it) for the Poisson-subsampled Gaussian mechanism.
//! - **Shuffled batches** (`--dp-sampling shuffle`): the plain run's fixed-size batches. Shuffling is not
//!   Poisson sampling and the sampled accountant does not apply to it (Chua et al. 2024); accounted for as
//!   what it is: a record is in one batch per epoch, so with its batch's assignment public each record sees
//!   `E` unsampled Gaussian mechanisms (E = the most batches any record is in), mu-GDP with `mu = sqrt(E) /
//!   sigma`, whose epsilon is exact.
//!
//! `--target-epsilon` calibrates sigma: bisection on the accountant (PLD for Poisson, closed form for shuffle).
//! The noise comes from the run's seed (reproducible; a deployment would draw it from the OS).

use super::plain::{Examples, PlainRun, median};
use super::{SimulateConfig, SimulateReport};
use crate::analysis::dp::{self, DpSgd};
use crate::error::{Result, invalid};
use crate::models::dp_sgd::{self as step, DpStepSettings};
use crate::sim::clock::thread_cpu_ns;
use indicatif::ProgressBar;
use ndarray::ArrayD;
use rand::RngExt;
use serde::Serialize;

/// How batches are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DpSampling {
    /// Each record in each step with probability q = B / N.
    Poisson,
    /// The plain run's shuffled fixed-size batches (accounted without amplification).
    Shuffle,
}

/// The noise: a multiplier, or the epsilon to calibrate it to.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DpNoise {
    /// sigma given.
    Multiplier(f64),
    /// sigma calibrated so that epsilon at delta is at most this.
    TargetEpsilon(f64),
}

/// DP-SGD's settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DpConfig {
    /// The noise.
    pub noise: DpNoise,
    /// Clipping norm C of each example's gradient.
    pub clip: f64,
    /// delta of (epsilon, delta)-DP.
    pub delta: f64,
    /// How batches are drawn.
    pub sampling: DpSampling,
}

impl Default for DpConfig {
    fn default() -> Self {
        Self { noise: DpNoise::TargetEpsilon(1.0), clip: 1.0, delta: 1e-5, sampling: DpSampling::Poisson }
    }
}

impl DpConfig {
    /// Checks every setting (one-line errors naming the flag).
    pub fn check(&self) -> Result<()> {
        match self.noise {
            DpNoise::Multiplier(s) if !(s.is_finite() && s > 0.0) => {
                return Err(invalid(format!("--noise-multiplier must be a positive finite number, got {s}")));
            }
            DpNoise::TargetEpsilon(e) if !(e.is_finite() && e > 0.0) => {
                return Err(invalid(format!("--target-epsilon must be a positive finite number, got {e}")));
            }
            _ => {}
        }
        if !(self.clip.is_finite() && self.clip > 0.0) {
            return Err(invalid(format!("--clip must be a positive finite number, got {}", self.clip)));
        }
        if !(self.delta > 0.0 && self.delta < 1.0) {
            return Err(invalid(format!("--dp-delta must lie in (0, 1), got {}", self.delta)));
        }
        Ok(())
    }
}

/// What a DP-SGD run reports beside accuracy and cost.
#[derive(Debug, Clone, Serialize)]
pub struct DpReport {
    /// poisson or shuffle.
    pub sampling: DpSampling,
    /// q = B / N (Poisson), or 1 for each of the epochs a record is in (shuffle).
    pub sample_rate: f64,
    /// sigma used.
    pub noise_multiplier: f64,
    /// The target epsilon sigma was calibrated to, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_epsilon: Option<f64>,
    /// C.
    pub clip: f64,
    /// delta.
    pub delta: f64,
    /// Steps run.
    pub steps: usize,
    /// Mechanisms composed in the accounting: steps (Poisson) or the most batches any record is in (shuffle).
    pub composed: u64,
    /// epsilon by the accountant named in `accountant`.
    pub epsilon: f64,
    /// epsilon by the RDP accountant (Poisson), for comparison.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epsilon_rdp: Option<f64>,
    /// How epsilon was computed.
    pub accountant: String,
    /// Mean batch size over the steps.
    pub mean_batch: f64,
    /// Fraction of per-example gradients that were clipped.
    pub clipped_fraction: f64,
    /// Median per-example gradient norm (before clipping).
    pub median_norm: f64,
}

/// The Poisson-sampled batches: `steps` of them, each row in with probability `q`.
pub fn poisson_schedule(train: usize, q: f64, steps: usize, seed: u64) -> Vec<Vec<usize>> {
    let mut rng = crate::rng::stream(seed, 0xD5_5A);
    (0..steps).map(|_| (0..train).filter(|_| rng.random::<f64>() < q).collect()).collect()
}

/// The number of steps a Poisson run takes: `epochs * floor(N / B)`, cut at `max_steps`.
fn poisson_steps(cfg: &SimulateConfig, train: usize) -> usize {
    let per_epoch = (train / cfg.batch).max(1);
    let all = cfg.epochs.saturating_mul(per_epoch);
    cfg.max_steps.map_or(all, |m| all.min(m))
}

/// epsilon of a run with noise `sigma`: (epsilon, RDP epsilon, accountant).
fn account(sampling: DpSampling, q: f64, sigma: f64, composed: u64, delta: f64) -> Result<(f64, Option<f64>, String)> {
    match sampling {
        DpSampling::Poisson => {
            let run = DpSgd::new(q, sigma, composed)?;
            let rdp = run.epsilon_rdp(delta)?.0;
            Ok((run.epsilon_pld(delta)?, Some(rdp), "PLD (Poisson-subsampled Gaussian, add/remove)".into()))
        }
        DpSampling::Shuffle => {
            let mu = (composed as f64).sqrt() / sigma;
            Ok((
                dp::gdp_epsilon(mu, delta)?,
                None,
                format!(
                    "exact mu-GDP, mu = sqrt({composed})/sigma: each record in {composed} batches, no amplification"
                ),
            ))
        }
    }
}

/// The smallest sigma (to 0.1%) whose epsilon at `delta` is at most `target`.
pub fn calibrate(sampling: DpSampling, q: f64, composed: u64, delta: f64, target: f64) -> Result<f64> {
    match sampling {
        DpSampling::Shuffle => Ok((composed as f64).sqrt() / dp::gdp_mu_for_epsilon(delta, target)?),
        DpSampling::Poisson => dp::sigma_for_epsilon(q, composed, delta, target),
    }
}

/// A DP-SGD run's final parameters and the batches it ran.
pub(crate) struct DpRun {
    pub(crate) params: Vec<ArrayD<f64>>,
    pub(crate) schedule: Vec<Vec<usize>>,
}

/// Trains `cfg.model` by DP-SGD and fills `report` (accuracy, curves, the step's cost beside plain's, the DP
/// accounting). Returns the final parameters and the batches run.
pub(crate) fn run(
    cfg: &SimulateConfig,
    (train, test): (&dyn Examples, &dyn Examples),
    (train_count, shuffled, infer): (usize, &[Vec<usize>], &[Vec<usize>]),
    plain_run: &PlainRun,
    report: &mut SimulateReport,
    pb: &ProgressBar,
) -> Result<DpRun> {
    let dpc = cfg.dp.ok_or_else(|| invalid("--protocol dp-sgd without its settings"))?;
    dpc.check()?;
    let q = cfg.batch as f64 / train_count as f64;
    let (sched, rate, composed) = match dpc.sampling {
        DpSampling::Poisson => {
            let steps = poisson_steps(cfg, train_count);
            (poisson_schedule(train_count, q, steps, cfg.seed), q, steps as u64)
        }
        DpSampling::Shuffle => {
            let mut count = vec![0u64; train_count];
            shuffled.iter().flatten().for_each(|&r| count[r] += 1);
            (shuffled.to_vec(), 1.0, count.into_iter().max().unwrap_or(0).max(1))
        }
    };
    let (sigma, target) = match dpc.noise {
        DpNoise::Multiplier(s) => (s, None),
        DpNoise::TargetEpsilon(e) => (calibrate(dpc.sampling, rate, composed, dpc.delta, e)?, Some(e)),
    };
    let (epsilon, epsilon_rdp, accountant) = account(dpc.sampling, rate, sigma, composed, dpc.delta)?;
    let model = cfg.model;
    let net = model.net();
    let settings = DpStepSettings { lr: cfg.lr, clip: dpc.clip, sigma, expected_batch: cfg.batch as f64 };
    let mut noise = crate::rng::stream(cfg.seed, 0xD9_01);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().map_err(|e| invalid(e.to_string()))?;
    let (params, losses, batch_acc, seconds, norms) = pool.install(|| -> Result<_> {
        let mut params = super::plain::init(cfg);
        let (mut losses, mut acc, mut seconds, mut norms) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for rows in &sched {
            let x = train.inputs(model, rows);
            let labels = train.labels(rows);
            let y = net.targets(&labels)?;
            let t0 = thread_cpu_ns();
            let out = step::step(net, &mut params, &x, &y, &settings, &mut noise)?;
            seconds.push((thread_cpu_ns() - t0) as f64 * 1e-9 / rows.len().max(1) as f64);
            losses.push(out.loss);
            acc.push(match &out.yhat {
                Some(yhat) => net.correct(yhat, &labels)? as f64 / rows.len() as f64,
                None => f64::NAN,
            });
            norms.extend(out.norms);
            crate::cancel::tick(pb, 1)?;
        }
        Ok((params, losses, acc, seconds, norms))
    })?;
    let (mut correct, mut total) = (0, 0);
    for rows in infer {
        let yhat = net.predict(&params, &test.inputs(model, rows))?;
        if total == 0 {
            report.first_outputs = super::plain::first_rows(&yhat);
        }
        correct += net.correct(&yhat, &test.labels(rows))?;
        total += rows.len();
    }
    let diff = params
        .iter()
        .zip(&plain_run.params)
        .map(|(a, b)| (a - b).iter().fold(0.0f64, |m, v| m.max(v.abs())))
        .fold(0.0, f64::max);
    // Step cost: per example (Poisson batches vary), scaled to the plain step's batch size.
    let dp_step = median(seconds) * cfg.batch as f64;
    let plain_step = median(plain_run.step_seconds.clone());
    report.accuracy = correct as f64 / total.max(1) as f64;
    report.steps = sched.len();
    report.loss_curve = losses;
    report.batch_accuracy_curve = batch_acc;
    report.max_param_diff_vs_plain = diff;
    report.sharing = "none (plaintext, noisy clipped gradients)".into();
    let ts = &mut report.train_step;
    ts.compute_seconds = [("trainer".to_string(), dp_step)].into();
    ts.compute_ratio = dp_step / plain_step.max(1e-12);
    ts.modeled_seconds = cfg.profiles.iter().map(|p| (p.name.clone(), dp_step)).collect();
    ts.ratio_to_plain = cfg.profiles.iter().map(|p| (p.name.clone(), ts.compute_ratio)).collect();
    ts.modeled_online_seconds = ts.modeled_seconds.clone();
    report.infer_batch.modeled_online_seconds = report.infer_batch.modeled_seconds.clone();
    let clipped = norms.iter().filter(|&&n| n > dpc.clip).count();
    let mean_batch = sched.iter().map(Vec::len).sum::<usize>() as f64 / sched.len().max(1) as f64;
    report.dp = Some(DpReport {
        sampling: dpc.sampling,
        sample_rate: rate,
        noise_multiplier: sigma,
        target_epsilon: target,
        clip: dpc.clip,
        delta: dpc.delta,
        steps: sched.len(),
        composed,
        epsilon,
        epsilon_rdp,
        accountant,
        mean_batch,
        clipped_fraction: clipped as f64 / norms.len().max(1) as f64,
        median_norm: median(norms),
    });
    Ok(DpRun { params, schedule: sched })
}
