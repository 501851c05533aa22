//! Monte Carlo estimates of epsilon: draw x, draw the transformation, run the optimal attacker, count the
//! successes, and report a 95% Clopper-Pearson interval beside the closed form.
//!
//! Trials are cut into numbered blocks; block `i` draws from [`crate::rng::stream`]`(seed, i)` and blocks run
//! in parallel (rayon). Success counts are summed, so the result is the same for a seed whatever the thread
//! count or scheduling.

use super::bounds::{self, Epsilon, short};
use super::special::beta_reg_inv;
use crate::error::{Result, invalid};
use crate::rng::{Rng, stream};
use faer::Mat;
use indicatif::ProgressBar;
use rand::RngExt;
use rand::seq::SliceRandom;
use rand_distr::StandardNormal;
use rayon::prelude::*;
use serde::Serialize;

/// The confidence level of every interval reported.
pub const CONFIDENCE: f64 = 0.95;

/// Largest matrix (elements) the linear estimator will draw: 1e8 doubles is 800 MB.
const MAX_MATRIX_ELEMENTS: u64 = 100_000_000;

/// A Monte Carlo epsilon with its confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    /// successes / trials.
    pub epsilon: f64,
    /// Lower end of the 95% Clopper-Pearson interval.
    pub ci_low: f64,
    /// Upper end of the 95% Clopper-Pearson interval.
    pub ci_high: f64,
    /// Trials run.
    pub trials: u64,
    /// Trials in which the attacker reconstructed x within delta.
    pub successes: u64,
}

impl Estimate {
    /// The estimate and its exact (Clopper-Pearson) interval at [`CONFIDENCE`].
    pub fn from_counts(successes: u64, trials: u64) -> Result<Self> {
        let (ci_low, ci_high) = clopper_pearson(successes, trials, 1.0 - CONFIDENCE)?;
        Ok(Self { epsilon: successes as f64 / trials as f64, ci_low, ci_high, trials, successes })
    }

    /// Whether `p` lies in the interval.
    pub fn contains(&self, p: f64) -> bool {
        self.ci_low <= p && p <= self.ci_high
    }
}

/// The exact binomial interval: the `p` not rejected by a two-sided test of level `alpha`
/// (lower = Beta^-1(alpha/2; k, n-k+1), upper = Beta^-1(1-alpha/2; k+1, n-k)).
pub fn clopper_pearson(successes: u64, trials: u64, alpha: f64) -> Result<(f64, f64)> {
    if trials == 0 || successes > trials {
        return Err(invalid(format!("{successes} successes in {trials} trials")));
    }
    let (k, n) = (successes as f64, trials as f64);
    let low = if successes == 0 { 0.0 } else { beta_reg_inv(k, n - k + 1.0, alpha / 2.0)? };
    let high = if successes == trials { 1.0 } else { beta_reg_inv(k + 1.0, n - k, 1.0 - alpha / 2.0)? };
    Ok((low, high))
}

/// An estimate next to the closed form it checks.
#[derive(Debug, Clone, Serialize)]
pub struct EstimateReport {
    /// What was simulated and who attacked.
    pub setting: String,
    /// The attacker run in every trial.
    pub attacker: String,
    /// The seed.
    pub seed: u64,
    /// The estimate.
    #[serde(flatten)]
    pub estimate: Estimate,
    /// The closed form of the same attacker's success.
    pub closed_form: Epsilon,
    /// Whether the closed form lies in the 95% interval.
    pub closed_form_in_interval: bool,
    /// A second attacker on the same draws, where one is worth showing (noise: the posterior-mean attacker).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub second: Option<SecondAttacker>,
}

/// A second attacker measured on the same draws.
#[derive(Debug, Clone, Serialize)]
pub struct SecondAttacker {
    /// Who it is.
    pub attacker: String,
    /// Its estimate.
    #[serde(flatten)]
    pub estimate: Estimate,
    /// Its closed form.
    pub closed_form: Epsilon,
    /// Whether the closed form lies in its interval.
    pub closed_form_in_interval: bool,
}

fn check_trials(trials: u64) -> Result<()> {
    if trials == 0 {
        return Err(invalid("--trials must be at least 1, got 0"));
    }
    Ok(())
}

/// Runs `trials` trials in blocks of at most `block` and sums the two success counters each block returns.
fn run_blocks<F>(trials: u64, block: u64, seed: u64, progress: &ProgressBar, f: F) -> Result<[u64; 2]>
where
    F: Fn(&mut Rng, u64) -> Result<[u64; 2]> + Sync,
{
    let blocks = trials.div_ceil(block);
    progress.set_length(trials);
    let counts = (0..blocks)
        .into_par_iter()
        .map(|i| {
            let size = block.min(trials - i * block);
            let mut rng = stream(seed, i);
            let c = f(&mut rng, size)?;
            crate::cancel::tick(progress, size)?;
            Ok(c)
        })
        .collect::<Result<Vec<[u64; 2]>>>()?;
    progress.finish_and_clear();
    Ok(counts.iter().fold([0, 0], |acc, c| [acc[0] + c[0], acc[1] + c[1]]))
}

fn gaussian_mat(rng: &mut Rng, rows: usize, cols: usize) -> Mat<f64> {
    Mat::from_fn(rows, cols, |_, _| rng.sample(StandardNormal))
}

/// Trials per drawn matrix in the linear estimator.
const LINEAR_BLOCK: u64 = 256;

/// Monte Carlo of the known-transform attacker against `x -> A x`.
///
/// Each block draws one Gaussian `A` (`outputs x dim`) and up to 256 standard normal `x`; the attacker sees
/// `y = A x` and `A` and outputs the minimum-norm solution `A⁺ y` (by a QR factorization of `Aᵀ`, or of `A`
/// when `outputs >= dim`). Reusing `A` within a block keeps the trials exactly independent: given any
/// full-rank `A`, the error `(I - A⁺A) x` is a projection of a standard normal vector onto an
/// `(n - m)`-dimensional subspace, so every trial succeeds with the same probability whatever `A` is, and
/// trials sharing an `A` are independent given it.
pub fn linear(
    dim: u64,
    outputs: u64,
    delta: f64,
    trials: u64,
    seed: u64,
    progress: &ProgressBar,
) -> Result<EstimateReport> {
    let bound = bounds::linear(dim, outputs, delta)?;
    check_trials(trials)?;
    if dim.saturating_mul(outputs.max(LINEAR_BLOCK)) > MAX_MATRIX_ELEMENTS {
        return Err(invalid(format!(
            "--dim {dim} with --outputs {outputs} needs matrices of more than {MAX_MATRIX_ELEMENTS} elements; \
             the closed form (rtas bound linear) has no such limit"
        )));
    }
    let (n, m) = (dim as usize, outputs as usize);
    let d2 = delta * delta;
    let [successes, _] = run_blocks(trials, LINEAR_BLOCK, seed, progress, |rng, size| {
        let b = size as usize;
        let a = gaussian_mat(rng, m, n);
        let x = gaussian_mat(rng, n, b);
        let y = &a * &x;
        let xhat = pseudo_inverse_solve(&a, y);
        let hits =
            (0..b).filter(|&j| (0..n).map(|i| (x[(i, j)] - xhat[(i, j)]).powi(2)).sum::<f64>() < d2).count() as u64;
        Ok([hits, 0])
    })?;
    let estimate = Estimate::from_counts(successes, trials)?;
    Ok(EstimateReport {
        setting: format!("x ~ N(0, I_{dim}), y = A x, A ~ N(0, 1)^({outputs} x {dim}), delta = {}", short(delta)),
        attacker: "knows A, outputs the pseudo-inverse solution A+ y (posterior mode)".into(),
        seed,
        closed_form_in_interval: estimate.contains(bound.known_transform.epsilon),
        closed_form: bound.known_transform,
        estimate,
        second: None,
    })
}

/// `A⁺ Y` for a full-rank `A` (`m x n`), column by column: the minimum-norm solution when `m < n`, the
/// least-squares (here exact) solution when `m >= n`.
pub fn pseudo_inverse_solve(a: &Mat<f64>, y: Mat<f64>) -> Mat<f64> {
    let (m, n) = (a.nrows(), a.ncols());
    if m < n {
        // Aᵀ = Q R  =>  A = Rᵀ Qᵀ, y = Rᵀ (Qᵀ x): solve Rᵀ z = y, then A⁺ y = Q z.
        let qr = a.transpose().qr();
        let mut z = y;
        qr.thin_R().transpose().solve_lower_triangular_in_place(&mut z);
        qr.compute_thin_Q() * &z
    } else {
        // A = Q R  =>  x = R⁻¹ Qᵀ y.
        let qr = a.qr();
        let mut z = qr.compute_thin_Q().transpose() * &y;
        qr.thin_R().solve_upper_triangular_in_place(&mut z);
        z
    }
}

/// Trials per block in the permutation and noise estimators.
const SMALL_BLOCK: u64 = 4096;

/// Monte Carlo of the optimal attacker against a random permutation: it sees the permuted vector (and the
/// values at `known` positions) and outputs a uniformly random arrangement consistent with what it saw.
/// Success is exact recovery of the vector.
pub fn permutation(
    len: u64,
    counts: Option<&[u64]>,
    known: u64,
    trials: u64,
    seed: u64,
    progress: &ProgressBar,
) -> Result<EstimateReport> {
    let bound = bounds::permutation(len, counts, known)?;
    check_trials(trials)?;
    if len > 100_000_000 {
        return Err(invalid(format!("--len {len} is too long to simulate; rtas bound permutation has no limit")));
    }
    // The secret vector: value labels in a fixed order (by symmetry any fixed vector gives the same answer).
    let secret: Vec<u32> = match counts {
        Some(c) => c.iter().enumerate().flat_map(|(v, &k)| std::iter::repeat_n(v as u32, k as usize)).collect(),
        None => (0..len as u32).collect(),
    };
    let k = known as usize;
    let [successes, _] = run_blocks(trials, SMALL_BLOCK, seed, progress, |rng, size| {
        let mut seen = secret.clone();
        let mut hits = 0;
        for _ in 0..size {
            // What the attacker receives: the vector under a fresh uniform permutation.
            seen.copy_from_slice(&secret);
            seen.shuffle(rng);
            // Its guess: the known positions as known, the remaining values in a uniformly random order.
            let mut guess: Vec<u32> = secret[..k].to_vec();
            let mut rest: Vec<u32> = seen.iter().copied().filter(|&v| k == 0 || v as usize >= k).collect();
            rest.shuffle(rng);
            guess.extend(rest);
            if guess == secret {
                hits += 1;
            }
        }
        Ok([hits, 0])
    })?;
    let estimate = Estimate::from_counts(successes, trials)?;
    let closed_form = Epsilon::from_log10(bound.log10_epsilon);
    Ok(EstimateReport {
        setting: format!(
            "uniform random permutation of {len} values ({} distinct), {known} positions known",
            bound.distinct_values
        ),
        attacker: "outputs a uniformly random arrangement of the values it saw".into(),
        seed,
        closed_form_in_interval: estimate.contains(closed_form.epsilon),
        closed_form,
        estimate,
        second: None,
    })
}

/// Monte Carlo of additive Gaussian noise: x ~ N(0, I_n), the attacker sees x + e with e ~ N(0, S^2 I_n).
/// Two attackers on the same draws: the paper's (outputs x + e) and the posterior mean `(x + e)/(1 + S^2)`.
pub fn noise(
    sigma: f64,
    delta: f64,
    dim: u64,
    trials: u64,
    seed: u64,
    progress: &ProgressBar,
) -> Result<EstimateReport> {
    let bound = bounds::noise(sigma, delta, dim)?;
    check_trials(trials)?;
    if dim > MAX_MATRIX_ELEMENTS {
        return Err(invalid(format!("--dim {dim} is too large to simulate; rtas bound noise has no limit")));
    }
    let d2 = delta * delta;
    let s2 = sigma * sigma;
    let [flat, prior] = run_blocks(trials, SMALL_BLOCK, seed, progress, |rng, size| {
        let mut hits = [0u64; 2];
        for _ in 0..size {
            let (mut err_flat, mut err_prior) = (0.0, 0.0);
            for _ in 0..dim {
                let x: f64 = rng.sample(StandardNormal);
                let e: f64 = sigma * rng.sample::<f64, _>(StandardNormal);
                err_flat += e * e;
                let post = (e - s2 * x) / (1.0 + s2);
                err_prior += post * post;
            }
            hits[0] += u64::from(err_flat < d2);
            hits[1] += u64::from(err_prior < d2);
        }
        Ok(hits)
    })?;
    let estimate = Estimate::from_counts(flat, trials)?;
    let closed_form = Epsilon::from_log10(bound.log10_epsilon);
    let prior_estimate = Estimate::from_counts(prior, trials)?;
    Ok(EstimateReport {
        setting: format!("x ~ N(0, I_{dim}), sees x + e, e ~ N(0, {}^2 I), delta = {}", short(sigma), short(delta)),
        attacker: "outputs x + e (the paper's attacker; optimal with no prior on x)".into(),
        seed,
        closed_form_in_interval: estimate.contains(closed_form.epsilon),
        closed_form,
        estimate,
        second: Some(SecondAttacker {
            attacker: "posterior mean (x + e)/(1 + S^2), using the N(0, 1) prior on x".into(),
            estimate: prior_estimate,
            closed_form_in_interval: prior_estimate.contains(bound.with_prior.epsilon),
            closed_form: bound.with_prior,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clopper_pearson_reference_values() {
        // R: binom.test(5, 20)$conf.int = 0.08657147 0.49104587
        let (lo, hi) = clopper_pearson(5, 20, 0.05).unwrap();
        assert!((lo - 0.086_571_47).abs() < 1e-7, "{lo}");
        assert!((hi - 0.491_045_87).abs() < 1e-7, "{hi}");
        // Zero successes: upper end 1 - (alpha/2)^(1/n).
        let (lo, hi) = clopper_pearson(0, 100_000, 0.05).unwrap();
        assert_eq!(lo, 0.0);
        assert!((hi - (1.0 - 0.025f64.powf(1e-5))).abs() < 1e-12);
    }

    #[test]
    fn clopper_pearson_with_many_trials_converges() {
        let (lo, hi) = clopper_pearson(50_000, 100_000, 0.05).unwrap();
        assert!(lo < 0.5 && hi > 0.5 && hi - lo < 0.007, "{lo} {hi}");
    }

    #[test]
    fn pseudo_inverse_recovers_x_when_a_is_square() {
        let mut rng = stream(1, 0);
        let a = gaussian_mat(&mut rng, 6, 6);
        let x = gaussian_mat(&mut rng, 6, 3);
        let xhat = pseudo_inverse_solve(&a, &a * &x);
        assert!((&xhat - &x).norm_max() < 1e-9);
    }

    #[test]
    fn pseudo_inverse_solution_is_consistent_and_minimum_norm() {
        let mut rng = stream(2, 0);
        let a = gaussian_mat(&mut rng, 3, 8);
        let x = gaussian_mat(&mut rng, 8, 2);
        let y = &a * &x;
        let xhat = pseudo_inverse_solve(&a, y.clone());
        // Consistent: A xhat = y. Minimum norm: xhat lies in the row space, so xhat ⟂ (x - xhat).
        assert!((&a * &xhat - &y).norm_max() < 1e-9);
        let dot = (xhat.transpose() * (&x - &xhat)).norm_max();
        assert!(dot < 1e-9);
    }
}
