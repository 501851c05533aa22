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
    /// Per number of shares: the average of the shares.
    pub points: Vec<FloatSharePoint>,
    /// Per number of shares: the posterior mean under a Gaussian fit to public digits (empty without them).
    /// Its bound fields are those of the averaging attacker (the paper's figure does not change).
    pub prior_points: Vec<FloatSharePoint>,
}

/// Runs the attack on the first `images` images of `data`.
pub fn run(cfg: &FloatShare, data: &Prepared, public: Option<&Prepared>) -> Result<FloatShareReport> {
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
    let mut prior_points = Vec::new();
    // A Gaussian prior from public digits: mean mu, covariance Q diag(l) Q^T.
    let prior = match public {
        Some(pubd) if pubd.count >= 2 => {
            let px = Array2::from_shape_vec((pubd.count, 784), pubd.x[..pubd.count * 784].to_vec())
                .map_err(|e| invalid(e.to_string()))?;
            let mu = super::linalg::col_means(px.view());
            let (l, q) = super::linalg::sym_eigen(super::linalg::covariance(px.view()).view())?;
            Some((mu, l, q))
        }
        Some(_) => return Err(invalid("the prior needs at least two public images")),
        None => None,
    };
    for &e in &cfg.shares {
        // P1's views: x - r_1, ..., x - r_E; the attacker averages them. The mean of E independent
        // N(0, sigma^2) masks is N(0, sigma^2 / E): drawn directly, so that large E costs nothing.
        let sd = cfg.sigma / (e as f64).sqrt();
        let mut avg = x.clone();
        avg.mapv_inplace(|v| v - sd * rng.sample::<f64, _>(StandardNormal));
        // The bound for the same criterion, image by image (delta_i = delta_relative |x_i|), averaged.
        let per_image: Vec<f64> = norms
            .iter()
            .map(|&norm| bounds::noise(sd, (cfg.delta_relative * norm).max(1e-300), 784).map(|b| b.log10_epsilon))
            .collect::<Result<_>>()?;
        let top = per_image.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let log10_mean = top + (per_image.iter().map(|l| 10f64.powf(l - top)).sum::<f64>() / n as f64).log10();
        let bound = crate::analysis::bounds::Epsilon::from_log10(log10_mean);
        let score = |est: &Array2<f64>| -> Result<FloatSharePoint> {
            Ok(FloatSharePoint {
                shares: e,
                success: success(&relative_errors(est.view(), x.view()), cfg.delta_relative)?,
                median_psnr: median(&psnr(est.view(), x.view(), 1.0)),
                bound_epsilon: bound.epsilon,
                bound_log10_epsilon: bound.log10_epsilon,
            })
        };
        if let Some((mu, l, q)) = &prior {
            // Posterior mean for noise variance v = sigma^2 / E: mu + Q diag(l / (l + v)) Q^T (s - mu).
            let v = sd * sd;
            let centered = &avg - mu;
            let coords = super::linalg::mm(centered.view(), q.view());
            let shrunk =
                Array2::from_shape_fn(coords.dim(), |(i, k)| coords[(i, k)] * l[k].max(0.0) / (l[k].max(0.0) + v));
            let est = super::linalg::mm(shrunk.view(), q.t()) + mu;
            prior_points.push(score(&est)?);
        }
        points.push(score(&avg)?);
    }
    Ok(FloatShareReport { images: n, sigma: cfg.sigma, points, prior_points })
}

/// The same attack on a real run: P1's recorded view of a float-mode run (the owner's shares `x - r` of each
/// training batch), each image's shares aligned across epochs by the batch schedule (public in rtas's plan:
/// the label holder picks labels by it) and averaged. Scored on the images seen in at least one step.
pub fn from_view(
    view: &crate::sim::record::View,
    schedule: &[Vec<usize>],
    data: &Prepared,
    delta_relative: f64,
) -> Result<FloatSharePoint> {
    use crate::net::{Op, Payload, Role, Stage};
    if view.role != Role::P1 {
        return Err(invalid(format!("this attack reads P1's view, not {}'s", view.role)));
    }
    let mut sums: std::collections::BTreeMap<usize, (Vec<f64>, usize)> = std::collections::BTreeMap::new();
    for e in &view.received {
        let (Stage::Train(step), "x", Some(Op::Share)) = (e.label.stage, e.label.layer.as_str(), e.label.op) else {
            continue;
        };
        let Payload::Float(a) = &e.payload else { return Err(invalid("the run was not in float mode")) };
        let rows = schedule.get(step as usize).ok_or_else(|| invalid(format!("no step {step} in the schedule")))?;
        let flat: Vec<f64> = a.iter().copied().collect();
        let d = flat.len() / rows.len().max(1);
        for (i, &r) in rows.iter().enumerate() {
            let entry = sums.entry(r).or_insert_with(|| (vec![0.0; d], 0));
            entry.0.iter_mut().zip(&flat[i * d..(i + 1) * d]).for_each(|(s, v)| *s += v);
            entry.1 += 1;
        }
    }
    if sums.is_empty() {
        return Err(invalid("P1's view holds no input shares of a training step"));
    }
    let d = sums.values().next().map_or(0, |v| v.0.len());
    let shares = sums.values().map(|v| v.1).min().unwrap_or(0);
    let mut avg = Array2::<f64>::zeros((sums.len(), d));
    let mut x = Array2::<f64>::zeros((sums.len(), d));
    for (k, (r, (sum, n))) in sums.iter().enumerate() {
        for j in 0..d {
            avg[(k, j)] = sum[j] / *n as f64;
            x[(k, j)] = data.x[r * d + j];
        }
    }
    let errs = relative_errors(avg.view(), x.view());
    Ok(FloatSharePoint {
        shares,
        success: success(&errs, delta_relative)?,
        median_psnr: median(&psnr(avg.view(), x.view(), 1.0)),
        bound_epsilon: f64::NAN,
        bound_log10_epsilon: f64::NAN,
    })
}
