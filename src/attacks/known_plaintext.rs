//! Known-plaintext attack on a secret linear map `Y = X A` (Liu, Giannella, Kargupta 2006): the attacker
//! holds K rows of X with their images and fits the linear decoder `B = argmin |Y_K B - X_K|` (least
//! squares; minimum-norm while K is below the number of outputs). Once K reaches the input dimension and
//! A has at least as many outputs as inputs, `B = A⁺` exactly and every other row is recovered. Below that,
//! the decoder recovers the part of each row that the known rows span, which on structured data (images)
//! is most of it.
//!
//! When A is orthogonal (distance-preserving), inner products survive: `<y, y_i> = <x, x_i>` and `|y| = |x|`
//! (Giannella, Liu and Kargupta 2013, "Breaching Euclidean distance-preserving data perturbation using few
//! known inputs"). From K < d known pairs the attacker gets x's projection on the span of the known inputs
//! exactly (`x_par`; for an orthogonal A the least-squares decoder computes the same) and the norm `r` of
//! the rest, so it knows each record's error `r / |y|` before it guesses. Two attackers use that:
//! - Giannella et al.'s: a uniformly random orthogonal map consistent with the known pairs, applied
//!   backwards; equivalently `x_par` plus a uniformly random direction of norm `r` in the complement;
//! - with a prior (a public sample from the same distribution, a Gaussian fit): the posterior mean given
//!   the known inner products, its part in the complement scaled either to the expected norm under the
//!   constraint `|x_perp| = r` (least error) or, to succeed most often, to the full norm `r` (a bet on the
//!   direction) except where `x_par` is already certain to be within the threshold.

use super::data::{self, DataKind};
use super::linalg::{mm, ridge};
use super::metrics::{Success, median, psnr, relative_errors, success};
use super::prior::GaussianPrior;
use crate::error::{Result, invalid};
use crate::rng::stream;
use ndarray::Array2;
use serde::Serialize;

/// Settings.
#[derive(Debug, Clone)]
pub struct KnownPlaintext {
    /// Data.
    pub data: DataKind,
    /// Rows of the transformed table.
    pub rows: usize,
    /// Input dimension (784 for MNIST).
    pub dim: usize,
    /// Outputs of A (columns of Y).
    pub outputs: usize,
    /// A orthogonal (distance-preserving, `outputs = dim`) instead of Gaussian.
    pub orthogonal: bool,
    /// Known rows to try.
    pub known: Vec<usize>,
    /// Success threshold on the relative error (Giannella et al.: 7%).
    pub delta_relative: f64,
    /// Seed.
    pub seed: u64,
}

/// One K.
#[derive(Debug, Clone, Serialize)]
pub struct KnownPoint {
    /// Known rows.
    pub known: usize,
    /// Success on the other rows.
    #[serde(flatten)]
    pub success: Success,
    /// Median PSNR (dB) of the reconstructions (images only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub median_psnr: Option<f64>,
    /// Orthogonal A: what the attackers that use orthogonality achieve (absent otherwise).
    #[serde(flatten)]
    pub orthogonal: Option<OrthogonalPoint>,
}

/// One K under an orthogonal A.
#[derive(Debug, Clone, Serialize)]
pub struct OrthogonalPoint {
    /// Rows whose error the attacker knows is below the threshold (`r / |y| < delta`).
    pub certified: f64,
    /// The smallest relative error the attacker knows it has on some row (`min r / |y|`): the record it
    /// would single out (Giannella et al. report their attack on the most exposed record).
    pub best_known_error: f64,
    /// Success of Giannella et al.'s random consistent map.
    pub random_map_success: f64,
    /// Its median relative error.
    pub random_map_median_relative_error: f64,
    /// With a public sample: success of span + norm + prior (the success-maximizing variant: `x_par` where
    /// certified, else the posterior's direction at the full residual norm).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prior_success: Option<f64>,
    /// Its 95% interval, lower end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prior_ci_low: Option<f64>,
    /// Median relative error of the least-error variant (the posterior's direction at its expected norm).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub posterior_median_relative_error: Option<f64>,
    /// Its median PSNR (images only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub posterior_median_psnr: Option<f64>,
}

/// The report.
#[derive(Debug, Clone, Serialize)]
pub struct KnownPlaintextReport {
    /// Data kind.
    pub data: String,
    /// Rows, input dimension, outputs.
    pub rows: usize,
    /// Input dimension.
    pub dim: usize,
    /// Outputs.
    pub outputs: usize,
    /// Orthogonal A.
    pub orthogonal: bool,
    /// Rows of the public sample behind the prior (orthogonal A; 0: none available).
    pub public_rows: usize,
    /// Results per K.
    pub points: Vec<KnownPoint>,
    /// Seed.
    pub seed: u64,
}

/// Rows of the public sample behind the orthogonal attack's prior (at most).
const PUBLIC: usize = 2000;

/// Runs the attack for every K.
pub fn run(cfg: &KnownPlaintext, given: Option<&crate::models::Prepared>) -> Result<KnownPlaintextReport> {
    let dim = data::dim_of(cfg.data, cfg.dim, given)?;
    let outputs = if cfg.orthogonal { dim } else { cfg.outputs };
    if outputs == 0 || dim == 0 {
        return Err(invalid("--dim and --outputs must be at least 1"));
    }
    if !(cfg.delta_relative > 0.0 && cfg.delta_relative.is_finite()) {
        return Err(invalid("--delta-relative must be a positive finite number"));
    }
    super::metrics::check_elems("--rows x --dim", &[cfg.rows, dim])?;
    super::metrics::check_elems("--dim x --outputs", &[dim, outputs])?;
    super::metrics::check_elems("--rows x --outputs", &[cfg.rows, outputs])?;
    let max_k = cfg.known.iter().copied().max().unwrap_or(0);
    if cfg.known.is_empty() || cfg.known.contains(&0) || max_k >= cfg.rows {
        return Err(invalid(format!("--known must list sizes from 1 to rows - 1 = {}", cfg.rows.saturating_sub(1))));
    }
    let mut rng = stream(cfg.seed, 502);
    // Orthogonal A: a public sample from the same distribution for the prior (generated rows: 2000 more
    // draws of the same distribution; given rows: up to 2000 rows after the victim's).
    let (x, public) = if !cfg.orthogonal {
        (data::rows(cfg.data, cfg.rows, dim, given, cfg.seed)?, None)
    } else if matches!(cfg.data, DataKind::Gaussian | DataKind::Correlated) {
        super::metrics::check_elems("--rows x --dim", &[cfg.rows + PUBLIC, dim])?;
        let all = data::rows(cfg.data, cfg.rows + PUBLIC, dim, given, cfg.seed)?;
        (all.slice(ndarray::s![..cfg.rows, ..]).to_owned(), Some(all.slice(ndarray::s![cfg.rows.., ..]).to_owned()))
    } else {
        let g = given.ok_or_else(|| invalid("no data given"))?;
        let n = PUBLIC.min(g.count.saturating_sub(cfg.rows));
        let public = (n >= 2)
            .then(|| Array2::from_shape_vec((n, dim), g.x[cfg.rows * dim..(cfg.rows + n) * dim].to_vec()))
            .transpose()
            .map_err(|e| invalid(e.to_string()))?;
        (data::rows(cfg.data, cfg.rows, dim, given, cfg.seed)?, public)
    };
    let a =
        if cfg.orthogonal { data::random_orthogonal(dim, &mut rng)? } else { data::gaussian(dim, outputs, &mut rng) };
    let y = mm(x.view(), a.view());
    let prior = public.as_ref().map(|p| GaussianPrior::fit(p.view())).transpose()?;
    let mut points = Vec::new();
    for &k in &cfg.known {
        crate::cancel::check()?;
        let (xk, yk) = (x.slice(ndarray::s![..k, ..]), y.slice(ndarray::s![..k, ..]));
        // Least squares, with a vanishing ridge so that rank-deficient data (MNIST's blank pixels) stays
        // well posed.
        let b = ridge(yk, xk, 1e-10)?;
        let (xr, yr) = (x.slice(ndarray::s![k.., ..]), y.slice(ndarray::s![k.., ..]));
        let xhat: Array2<f64> = mm(yr, b.view());
        let errs = relative_errors(xhat.view(), xr);
        let is_image = cfg.data == DataKind::Mnist;
        let median_psnr = is_image.then(|| median(&psnr(xhat.view(), xr, 1.0)));
        let orthogonal = if cfg.orthogonal {
            let o = orthogonal_attacks(xk, yk, yr, prior.as_ref(), cfg.delta_relative, &mut rng)?;
            let score = |est: &Array2<f64>| success(&relative_errors(est.view(), xr), cfg.delta_relative);
            let ratios: Vec<f64> = yr
                .rows()
                .into_iter()
                .zip(&o.residual)
                .map(|(y, &r)| {
                    let n = y.dot(&y).sqrt();
                    if n > 0.0 { r / n } else { 0.0 }
                })
                .collect();
            let certified = ratios.iter().filter(|&&q| q < cfg.delta_relative).count();
            let rm = score(&o.random_map)?;
            let mut point = OrthogonalPoint {
                certified: certified as f64 / yr.nrows().max(1) as f64,
                best_known_error: ratios.iter().copied().fold(f64::INFINITY, f64::min),
                random_map_success: rm.estimate.epsilon,
                random_map_median_relative_error: rm.median_relative_error,
                prior_success: None,
                prior_ci_low: None,
                posterior_median_relative_error: None,
                posterior_median_psnr: None,
            };
            if let Some((est, bet)) = &o.with_prior {
                let p = score(bet)?;
                point.prior_success = Some(p.estimate.epsilon);
                point.prior_ci_low = Some(p.estimate.ci_low);
                point.posterior_median_relative_error = Some(score(est)?.median_relative_error);
                point.posterior_median_psnr = is_image.then(|| median(&psnr(est.view(), xr, 1.0)));
            }
            Some(point)
        } else {
            None
        };
        let point = KnownPoint { known: k, success: success(&errs, cfg.delta_relative)?, median_psnr, orthogonal };
        points.push(point);
    }
    Ok(KnownPlaintextReport {
        data: cfg.data.name().into(),
        rows: cfg.rows,
        dim,
        outputs,
        orthogonal: cfg.orthogonal,
        public_rows: public.as_ref().map_or(0, |p| p.nrows()),
        points,
        seed: cfg.seed,
    })
}

/// The orthogonal-map attackers' estimates of the rows behind `yr`.
struct Orthogonal {
    /// `r` per row: the norm of x outside the span of the known inputs (known to the attacker).
    residual: Vec<f64>,
    /// Giannella et al.'s random consistent map.
    random_map: Array2<f64>,
    /// Span + norm + prior: the posterior mean's direction scaled to the expected norm (least error), and
    /// for most successes `x_par` where the attacker knows it is within delta, else the posterior mean's
    /// direction at the full norm `r` (a random one where the prior gives none).
    with_prior: Option<(Array2<f64>, Array2<f64>)>,
}

/// `x_par = <y, Y_K> G^-1 X_K` (G the Gram matrix of the known inputs), `r^2 = |y|^2 - |x_par|^2`, and the
/// two completions of `x_par` (see the module's header).
fn orthogonal_attacks(
    xk: ndarray::ArrayView2<'_, f64>,
    yk: ndarray::ArrayView2<'_, f64>,
    yr: ndarray::ArrayView2<'_, f64>,
    prior: Option<&GaussianPrior>,
    delta: f64,
    rng: &mut crate::rng::Rng,
) -> Result<Orthogonal> {
    use rand::RngExt;
    let d = xk.ncols();
    // Projector on the span of the known inputs: P = X_K^T (X_K X_K^T)^+ X_K (ridge for dependent rows).
    let coef = ridge(xk.t(), ndarray::Array2::eye(d).view(), 1e-10)?; // K x d: (X_K X_K^T)^-1 X_K
    let proj = mm(xk.t(), coef.view()); // d x d
    let perp = Array2::eye(d) - &proj;
    // Known inner products <x, x_i> = <y, y_i>; x_par = c (X_K X_K^T)^-1 X_K = c coef.
    let c = mm(yr, yk.t());
    let x_par = mm(c.view(), coef.view());
    let residual: Vec<f64> =
        yr.rows().into_iter().zip(x_par.rows()).map(|(y, p)| (y.dot(&y) - p.dot(&p)).max(0.0).sqrt()).collect();
    // Random directions in the complement; x_par plus one at norm r is Giannella et al.'s estimate.
    let g = Array2::from_shape_fn(yr.dim(), |_| rng.sample::<f64, _>(rand_distr::StandardNormal));
    let g = mm(g.view(), perp.view());
    let g_norm: Vec<f64> = g.rows().into_iter().map(|r| r.dot(&r).sqrt()).collect();
    let mut random_map = x_par.clone();
    for (i, mut row) in random_map.rows_mut().into_iter().enumerate() {
        if g_norm[i] > 0.0 {
            row.scaled_add(residual[i] / g_norm[i], &g.row(i));
        }
    }
    let with_prior = match prior {
        None => None,
        Some(p) => {
            // Posterior of x given X_K x = c under N(mu, S): mean mu + (c - mu X_K^T) (X_K S X_K^T)^-1 X_K S,
            // covariance S - S X_K^T (X_K S X_K^T)^-1 X_K S.
            let sx = mm(p.cov.view(), xk.t()); // d x K
            let gain = ridge(mm(xk, sx.view()).view(), sx.t(), 1e-9)?; // K x d
            let shift = &c - &mm(p.mu.view().insert_axis(ndarray::Axis(0)), xk.t());
            let mean = mm(shift.view(), gain.view()) + &p.mu;
            let post_cov = &p.cov - &mm(sx.view(), gain.view());
            // Expected squared norm of the complement's part under the posterior, beyond its mean's.
            let spread = mm(post_cov.view(), perp.view()).diag().sum().max(0.0);
            let m_perp = mm(mean.view(), perp.view());
            let (mut est, mut bet) = (x_par.clone(), x_par.clone());
            for (i, (mut row, mut b)) in est.rows_mut().into_iter().zip(bet.rows_mut()).enumerate() {
                let (mi, r) = (m_perp.row(i), residual[i]);
                let n2 = mi.dot(&mi);
                // The prior points somewhere in the complement (else the bet takes the random direction).
                let (dir, n) = if n2 > 1e-24 * r * r { (mi, n2.sqrt()) } else { (g.row(i), g_norm[i]) };
                if n2 > 1e-24 * r * r {
                    row.scaled_add(r / (n2 + spread).sqrt(), &mi);
                }
                let y = yr.row(i);
                if r >= delta * y.dot(&y).sqrt() && n > 0.0 {
                    b.scaled_add(r / n, &dir);
                }
            }
            Some((est, bet))
        }
    };
    Ok(Orthogonal { residual, random_map, with_prior })
}

/// Theorem 3.3's own setting, attacked: `x ~ N(0, I_n)`, `y = A x` with `A ~ N(0, 1)^(m x n)` secret.
/// Each attacker outputs an estimate of `x` from `y`; success is `|x_hat - x| < delta` (absolute, as in the
/// theorem).
#[derive(Debug, Clone, Serialize)]
pub struct GaussianMapAttacks {
    /// The attacker with only the paper's knowledge (the distributions of x and A): the posterior of x given
    /// y is spherically symmetric, so it outputs the prior mean 0.
    pub prior_mean: crate::analysis::estimate::Estimate,
    /// For each K: A fitted from K known pairs `(x, A x)` (min-norm least squares), then the pseudo-inverse
    /// solution; K >= n gives A exactly.
    pub known_pairs: Vec<(usize, crate::analysis::estimate::Estimate)>,
}

/// Runs the attackers of [`GaussianMapAttacks`] on `trials` fresh vectors of one secret `A`.
pub fn gaussian_map(
    n: usize,
    m: usize,
    ks: &[usize],
    delta: f64,
    trials: usize,
    seed: u64,
) -> Result<GaussianMapAttacks> {
    use crate::analysis::estimate::Estimate;
    use rand_distr::{Distribution, StandardNormal};
    if n == 0 || m == 0 || m > n || trials == 0 || delta.is_nan() || delta <= 0.0 {
        return Err(invalid("gaussian map attack: need 0 < m <= n, trials >= 1 and delta > 0"));
    }
    let mut rng = stream(seed, 3303);
    let mut gauss = |r: usize, c: usize| {
        Array2::from_shape_simple_fn((r, c), || {
            <StandardNormal as Distribution<f64>>::sample(&StandardNormal, &mut rng)
        })
    };
    let a = gauss(m, n);
    let x = gauss(trials, n);
    let y = mm(x.view(), a.t());
    let within = |xh: &Array2<f64>| -> Result<Estimate> {
        let hits = xh
            .rows()
            .into_iter()
            .zip(x.rows())
            .filter(|(u, v)| u.iter().zip(v.iter()).map(|(p, q)| (p - q).powi(2)).sum::<f64>() < delta * delta)
            .count();
        Estimate::from_counts(hits as u64, trials as u64)
    };
    let prior_mean = within(&Array2::zeros((trials, n)))?;
    let eye = Array2::<f64>::eye(n);
    let mut known_pairs = Vec::new();
    for &k in ks {
        if k == 0 {
            return Err(invalid("known pairs must be at least 1"));
        }
        let xk = gauss(k, n);
        let yk = mm(xk.view(), a.t());
        // A_hat^T = argmin |X_K B - Y_K| (minimum norm where K < n), then x_hat = y (A_hat A_hat^T)^-1 A_hat.
        let at_hat = ridge(xk.view(), yk.view(), 1e-9)?;
        let pinv = ridge(at_hat.view(), eye.view(), 1e-9)?;
        known_pairs.push((k, within(&mm(y.view(), pinv.view()))?));
    }
    Ok(GaussianMapAttacks { prior_mean, known_pairs })
}
