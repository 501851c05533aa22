//! Known-plaintext attack on a secret linear map `Y = X A` (Liu, Giannella, Kargupta 2006): the attacker
//! holds K rows of X with their images and fits the linear decoder `B = argmin |Y_K B - X_K|` (least
//! squares; minimum-norm while K is below the number of outputs). Once K reaches the input dimension and
//! A has at least as many outputs as inputs, `B = A⁺` exactly and every other row is recovered. Below that,
//! the decoder recovers the part of each row that the known rows span, which on structured data (images)
//! is most of it.

use super::data::{self, DataKind};
use super::linalg::{mm, ridge};
use super::metrics::{Success, median, psnr, relative_errors, success};
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
    /// Results per K.
    pub points: Vec<KnownPoint>,
    /// Seed.
    pub seed: u64,
}

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
    let x = data::rows(cfg.data, cfg.rows, dim, given, cfg.seed)?;
    let a =
        if cfg.orthogonal { data::random_orthogonal(dim, &mut rng)? } else { data::gaussian(dim, outputs, &mut rng) };
    let y = mm(x.view(), a.view());
    let mut points = Vec::new();
    for &k in &cfg.known {
        let (xk, yk) = (x.slice(ndarray::s![..k, ..]), y.slice(ndarray::s![..k, ..]));
        // Least squares, with a vanishing ridge so that rank-deficient data (MNIST's blank pixels) stays
        // well posed.
        let b = ridge(yk, xk, 1e-10)?;
        let (xr, yr) = (x.slice(ndarray::s![k.., ..]), y.slice(ndarray::s![k.., ..]));
        let xhat: Array2<f64> = mm(yr, b.view());
        let errs = relative_errors(xhat.view(), xr);
        let median_psnr = (cfg.data == DataKind::Mnist).then(|| median(&psnr(xhat.view(), xr, 1.0)));
        points.push(KnownPoint { known: k, success: success(&errs, cfg.delta_relative)?, median_psnr });
    }
    Ok(KnownPlaintextReport {
        data: cfg.data.name().into(),
        rows: cfg.rows,
        dim,
        outputs,
        orthogonal: cfg.orthogonal,
        points,
        seed: cfg.seed,
    })
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
