//! The informed adversary against DP-SGD (Balle, Cherubin and Hayes 2022; Hayes, Mahloujifar and Balle 2023),
//! on the paper's criterion (Definition 3.2): does the attacker name the training record it was not told?
//!
//! The adversary knows every training record but one (the `others`), the initial weights, the
//! hyperparameters (sampling rate, clipping norm, noise multiplier, learning rate) and which of the others each
//! step sampled, and sees every step's noisy clipped gradient sum (the DP-SGD threat model: the strongest
//! observer DP-SGD's guarantee covers; knowing the sampled others only helps it). The target is drawn
//! uniformly from `M` candidates the adversary also knows, so guessing from the prior alone succeeds with
//! `kappa = 1/M`.
//!
//! From the released sums the adversary recomputes the weights of every step (`w_{t+1} = w_t - lr / (q N) S_t`),
//! subtracts the others' clipped gradients, and is left with `R_t = b_t c(z, w_t) + N(0, sigma^2 C^2 I)`,
//! `b_t ~ Bernoulli(q)` the target's inclusion and `c(z, w)` its clipped gradient. For each candidate z_m it
//! computes the exact log-likelihood of every `R_t`, `sum_t ln((1 - q) + q exp((<R_t, c_m> - |c_m|^2 / 2) /
//! (sigma C)^2))`, and names the most likely: the Bayes-optimal guess under the uniform prior.
//!
//! Its success is measured (exact Clopper-Pearson interval) beside the ReRo bound of the same run: exact
//! `Phi(Phi^-1(kappa) + mu)` without sampling, from the PLD privacy profile with sampling.

use crate::analysis::dp::{self, DpSgd, log_add};
use crate::analysis::estimate::clopper_pearson;
use crate::error::{Result, invalid};
use crate::models::dp_sgd::clipped_sum;
use crate::models::{ModelKind, Prepared};
use ndarray::ArrayD;
use rand::RngExt;
use rand::seq::SliceRandom;
use rand_distr::StandardNormal;
use rayon::prelude::*;
use serde::Serialize;

/// The attack's settings.
#[derive(Debug, Clone)]
pub struct DpReconstruction {
    /// The model trained.
    pub model: ModelKind,
    /// Training records besides the target (the first of the training digits).
    pub others: usize,
    /// M: candidates for the target (drawn from the held-out digits in each trial).
    pub candidates: usize,
    /// Poisson sampling rate q (1: every record in every step).
    pub sample_rate: f64,
    /// Steps T.
    pub steps: usize,
    /// The epsilons (at `delta`) the noise is calibrated to, one row each.
    pub epsilons: Vec<f64>,
    /// delta.
    pub delta: f64,
    /// Clipping norm C.
    pub clip: f64,
    /// Learning rate.
    pub lr: f64,
    /// Trials per epsilon.
    pub trials: usize,
    /// Seed.
    pub seed: u64,
}

/// One epsilon's row.
#[derive(Debug, Clone, Serialize)]
pub struct DpReconstructionRow {
    /// The epsilon the noise was calibrated to.
    pub epsilon: f64,
    /// sigma.
    pub noise_multiplier: f64,
    /// Without sampling: mu = sqrt(T) / sigma.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mu: Option<f64>,
    /// The ReRo bound gamma: no attacker names the target with probability above it.
    pub bound: f64,
    /// How the bound was computed.
    pub bound_method: String,
    /// Trials where the attacker named the target.
    pub successes: u64,
    /// Trials.
    pub trials: u64,
    /// successes / trials.
    pub success: f64,
    /// Exact 95% interval.
    pub ci_low: f64,
    /// Exact 95% interval.
    pub ci_high: f64,
    /// The interval's lower end is at most the bound (a measured success above it would refute the bound or
    /// the accountant).
    pub within_bound: bool,
    /// Median fraction of the target's gradients that were clipped (1: its signal is exactly C every step).
    pub target_clipped: f64,
}

/// The attack's report.
#[derive(Debug, Clone, Serialize)]
pub struct DpReconstructionReport {
    /// The attack.
    pub attack: &'static str,
    /// The model.
    pub model: String,
    /// What the attacker knows.
    pub attacker: String,
    /// N = others + 1.
    pub records: usize,
    /// M.
    pub candidates: usize,
    /// kappa = 1/M.
    pub kappa: f64,
    /// q.
    pub sample_rate: f64,
    /// T.
    pub steps: usize,
    /// C.
    pub clip: f64,
    /// lr.
    pub lr: f64,
    /// delta.
    pub delta: f64,
    /// Seed.
    pub seed: u64,
    /// One row per epsilon.
    pub rows: Vec<DpReconstructionRow>,
}

fn flat(g: &[ArrayD<f64>]) -> Vec<f64> {
    g.iter().flat_map(|a| a.iter().copied()).collect()
}

impl DpReconstruction {
    fn check(&self, train: &Prepared, pool: &Prepared) -> Result<()> {
        let want = self.model.input_len();
        for (d, what) in [(train, "training"), (pool, "candidate")] {
            if d.width() != want {
                return Err(invalid(format!(
                    "the {what} digits have {} values each; the model {} takes {want}",
                    d.width(),
                    self.model.name()
                )));
            }
        }
        if self.others == 0 || self.others > train.count {
            return Err(invalid(format!("--others must be between 1 and {}, got {}", train.count, self.others)));
        }
        if self.candidates < 2 || self.candidates > pool.count {
            return Err(invalid(format!("--candidates must be between 2 and {}, got {}", pool.count, self.candidates)));
        }
        if !(self.sample_rate > 0.0 && self.sample_rate <= 1.0) {
            return Err(invalid(format!("--sample-rate must lie in (0, 1], got {}", self.sample_rate)));
        }
        if self.steps == 0 || self.steps > 100_000 {
            return Err(invalid(format!("--steps must be between 1 and 100000, got {}", self.steps)));
        }
        if self.trials == 0 || self.trials > 1_000_000 {
            return Err(invalid(format!("--trials must be between 1 and 10^6, got {}", self.trials)));
        }
        if self.epsilons.is_empty() {
            return Err(invalid("--epsilons needs at least one value"));
        }
        if let Some(e) = self.epsilons.iter().find(|e| !(e.is_finite() && **e > 0.0)) {
            return Err(invalid(format!("--epsilons must be positive finite numbers, got {e}")));
        }
        for &(v, name) in &[(self.clip, "--clip"), (self.lr, "--lr")] {
            if !(v.is_finite() && v > 0.0) {
                return Err(invalid(format!("{name} must be a positive finite number, got {v}")));
            }
        }
        if !(self.delta > 0.0 && self.delta < 1.0) {
            return Err(invalid(format!("--dp-delta must lie in (0, 1), got {}", self.delta)));
        }
        Ok(())
    }

    /// One trial at noise `sigma`: (named the target, fraction of the target's gradients clipped).
    fn trial(&self, sigma: f64, train: &Prepared, pool: &Prepared, seed: u64) -> Result<(bool, f64)> {
        let (model, net) = (self.model, self.model.net());
        let mut rng = crate::rng::stream(seed, 0);
        let mut cands: Vec<usize> = (0..pool.count).collect();
        cands.shuffle(&mut rng);
        cands.truncate(self.candidates);
        let target = rng.random_range(0..self.candidates);
        let cx: Vec<ArrayD<f64>> = cands.iter().map(|&r| pool.batch(model, &[r])).collect();
        let cy: Vec<ArrayD<f64>> =
            cands.iter().map(|&r| model.targets(&pool.labels_of(&[r]))).collect::<Result<_>>()?;
        let q = self.sample_rate;
        let sd = sigma * self.clip;
        let step = self.lr / (q * (self.others + 1) as f64);
        let mut w = model.init(self.seed);
        let mut score = vec![0.0f64; self.candidates];
        let (lq, l1q) = (q.ln(), (-q).ln_1p());
        let mut clipped = 0usize;
        for _ in 0..self.steps {
            crate::cancel::check()?;
            let rows: Vec<usize> = (0..self.others).filter(|_| q >= 1.0 || rng.random::<f64>() < q).collect();
            let included = q >= 1.0 || rng.random::<f64>() < q;
            let others =
                clipped_sum(net, &w, &train.batch(model, &rows), &model.targets(&train.labels_of(&rows))?, self.clip)?;
            let c: Vec<Vec<f64>> = (0..self.candidates)
                .map(|m| clipped_sum(net, &w, &cx[m], &cy[m], self.clip).map(|g| flat(&g.grads)))
                .collect::<Result<_>>()?;
            let target_norm = c[target].iter().map(|v| v * v).sum::<f64>().sqrt();
            clipped += usize::from(target_norm >= self.clip * (1.0 - 1e-9));
            // What is released: the others' clipped sum, the target's if sampled, and the noise.
            let mut released = others.grads.clone();
            let mut k = 0;
            for a in &mut released {
                for v in a.iter_mut() {
                    if included {
                        *v += c[target][k];
                    }
                    *v += sd * rng.sample::<f64, _>(StandardNormal);
                    k += 1;
                }
            }
            // The adversary's residual and each candidate's log-likelihood ratio against absence.
            let resid: Vec<f64> = flat(&released).iter().zip(flat(&others.grads)).map(|(s, o)| s - o).collect();
            for (m, cm) in c.iter().enumerate() {
                let dot: f64 = resid.iter().zip(cm).map(|(r, v)| r * v).sum();
                let nn: f64 = cm.iter().map(|v| v * v).sum();
                let a = (dot - nn / 2.0) / (sd * sd);
                score[m] += if q >= 1.0 { a } else { log_add(l1q, lq + a) };
            }
            for (wi, g) in w.iter_mut().zip(&released) {
                wi.zip_mut_with(g, |x, &v| *x -= step * v);
            }
        }
        let guess = (0..self.candidates).max_by(|&a, &b| score[a].total_cmp(&score[b])).unwrap_or(0);
        Ok((guess == target, clipped as f64 / self.steps as f64))
    }
}

/// Runs the attack at every epsilon: `train` gives the others (its first rows), `pool` the candidates.
pub fn run(cfg: &DpReconstruction, train: &Prepared, pool: &Prepared) -> Result<DpReconstructionReport> {
    cfg.check(train, pool)?;
    let kappa = 1.0 / cfg.candidates as f64;
    let q = cfg.sample_rate;
    let mut rows = Vec::new();
    for (i, &eps) in cfg.epsilons.iter().enumerate() {
        let sigma = dp::sigma_for_epsilon(q, cfg.steps as u64, cfg.delta, eps)?;
        let run = DpSgd::new(q, sigma, cfg.steps as u64)?;
        let (bound, bound_method) = dp::rero_run(&run, kappa)?;
        let bound_method = bound_method.to_string();
        let outcomes: Vec<(bool, f64)> = (0..cfg.trials)
            .into_par_iter()
            .map(|t| cfg.trial(sigma, train, pool, cfg.seed ^ ((i as u64 + 1) << 32) ^ t as u64))
            .collect::<Result<_>>()?;
        let successes = outcomes.iter().filter(|o| o.0).count() as u64;
        let trials = cfg.trials as u64;
        let (ci_low, ci_high) = clopper_pearson(successes, trials, 0.05)?;
        let mut clip_fracs: Vec<f64> = outcomes.iter().map(|o| o.1).collect();
        clip_fracs.sort_by(f64::total_cmp);
        rows.push(DpReconstructionRow {
            epsilon: eps,
            noise_multiplier: sigma,
            mu: run.mu(),
            bound,
            bound_method,
            successes,
            trials,
            success: successes as f64 / trials as f64,
            ci_low,
            ci_high,
            within_bound: ci_low <= bound,
            target_clipped: clip_fracs[clip_fracs.len() / 2],
        });
    }
    Ok(DpReconstructionReport {
        attack: "dp-reconstruction",
        model: cfg.model.name().to_string(),
        attacker: "informed: knows every training record but the target, the initial weights, the hyperparameters \
                   and the others sampled in each step; sees every noisy clipped gradient sum; names the most \
                   likely of the M candidates"
            .into(),
        records: cfg.others + 1,
        candidates: cfg.candidates,
        kappa,
        sample_rate: q,
        steps: cfg.steps,
        clip: cfg.clip,
        lr: cfg.lr,
        delta: cfg.delta,
        seed: cfg.seed,
        rows,
    })
}
