//! The paper's float sharing (Section 4.1): x is shared as `x - r` and `r` with Gaussian `r` "whose variance
//! is greater than x's". One share is then x plus Gaussian noise — exactly the noise transformation whose
//! bound `rtas bound noise` computes — and every fresh sharing of the same x (each epoch re-shares the
//! training set) is another independent noisy copy: averaging E of them divides the noise by sqrt(E).

use super::metrics::{Success, median, psnr, relative_errors, success};
use crate::analysis::bounds;
use crate::error::{Result, invalid, positive};
use crate::models::Prepared;
use crate::rng::stream;
use ndarray::Array2;
use rand::RngExt;
use rand_distr::StandardNormal;
use serde::Serialize;

/// Settings.
#[derive(Debug, Clone)]
pub struct FloatShare {
    /// Images attacked.
    pub images: usize,
    /// Standard deviation of the masks r.
    pub sigma: f64,
    /// Numbers of shares of the same image the attacker averages (epochs).
    pub shares: Vec<usize>,
    /// Success threshold on the relative error.
    pub delta_relative: f64,
    /// Seed.
    pub seed: u64,
}

/// One number of shares.
#[derive(Debug, Clone, Serialize)]
pub struct FloatSharePoint {
    /// Shares averaged.
    pub shares: usize,
    /// Measured success at the threshold.
    #[serde(flatten)]
    pub success: Success,
    /// Median PSNR, dB.
    pub median_psnr: f64,
    /// The noise bound for the same criterion, image by image and averaged:
    /// mean_i P(chi2_784 < (delta |x_i| sqrt(E) / sigma)^2).
    pub bound_epsilon: f64,
    /// Its log10 (exact where the f64 underflows).
    pub bound_log10_epsilon: f64,
}

/// The report.
#[derive(Debug, Clone, Serialize)]
pub struct FloatShareReport {
    /// Images.
    pub images: usize,
    /// Mask standard deviation.
    pub sigma: f64,
    /// Per number of shares.
    pub points: Vec<FloatSharePoint>,
}

/// Runs the attack on the first `images` images of `data`.
pub fn run(cfg: &FloatShare, data: &Prepared) -> Result<FloatShareReport> {
    if cfg.images == 0 || cfg.images > data.count {
        return Err(invalid(format!("--images must be between 1 and {}", data.count)));
    }
    if !positive(cfg.sigma) || !positive(cfg.delta_relative) {
        return Err(invalid("--sigma and --delta-relative must be positive"));
    }
    if cfg.shares.is_empty() || cfg.shares.contains(&0) {
        return Err(invalid("--shares must list counts of at least 1"));
    }
    let n = cfg.images;
    let x = Array2::from_shape_vec((n, 784), data.x[..n * 784].to_vec()).map_err(|e| invalid(e.to_string()))?;
    let norms: Vec<f64> = x.rows().into_iter().map(|r| r.dot(&r).sqrt()).collect();
    let mut rng = stream(cfg.seed, 507);
    let mut points = Vec::new();
    for &e in &cfg.shares {
        // P1's views: x - r_1, ..., x - r_E; the attacker averages them. The mean of E independent
        // N(0, sigma^2) masks is N(0, sigma^2 / E): drawn directly, so that large E costs nothing.
        let sd = cfg.sigma / (e as f64).sqrt();
        let mut avg = x.clone();
        avg.mapv_inplace(|v| v - sd * rng.sample::<f64, _>(StandardNormal));
        let errs = relative_errors(avg.view(), x.view());
        // The bound for the same criterion, image by image (delta_i = delta_relative |x_i|), averaged.
        let per_image: Vec<f64> = norms
            .iter()
            .map(|&norm| bounds::noise(sd, (cfg.delta_relative * norm).max(1e-300), 784).map(|b| b.log10_epsilon))
            .collect::<Result<_>>()?;
        let top = per_image.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let log10_mean = top + (per_image.iter().map(|l| 10f64.powf(l - top)).sum::<f64>() / n as f64).log10();
        let bound = crate::analysis::bounds::Epsilon::from_log10(log10_mean);
        points.push(FloatSharePoint {
            shares: e,
            success: success(&errs, cfg.delta_relative)?,
            median_psnr: median(&psnr(avg.view(), x.view(), 1.0)),
            bound_epsilon: bound.epsilon,
            bound_log10_epsilon: bound.log10_epsilon,
        });
    }
    Ok(FloatShareReport { images: n, sigma: cfg.sigma, points })
}
