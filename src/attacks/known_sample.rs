//! Known-sample attack on a distance-preserving map `Y = X A`, A orthogonal (Liu, Giannella, Kargupta
//! 2006): the attacker has a sample from the same distribution — not the same rows — and matches the
//! eigenvectors of the two covariances. With `Cov(X) = V L Vᵀ`, `Cov(Y) = Aᵀ Cov(X) A` has eigenvectors
//! `W = Aᵀ V`, so `A = V Wᵀ` up to the sign of each eigenvector, which the third moment of the projected
//! data fixes. It needs distinct eigenvalues: on isotropic Gaussian data it fails, on real data it works.

use super::data::{self, DataKind};
use super::linalg::{col_means, covariance, mm, sym_eigen};
use super::metrics::{Success, median, psnr, relative_errors, success};
use crate::error::{Result, invalid};
use crate::rng::stream;
use ndarray::{Array2, ArrayView1, Axis, s};
use serde::Serialize;

/// Settings.
#[derive(Debug, Clone)]
pub struct KnownSample {
    /// Data.
    pub data: DataKind,
    /// Transformed rows (the victim's table).
    pub rows: usize,
    /// Rows in the attacker's own sample (disjoint from the victim's).
    pub sample: usize,
    /// Dimension (784 for MNIST).
    pub dim: usize,
    /// Share of the variance whose principal components are matched (e.g. 0.9).
    pub energy: f64,
    /// Success threshold on the relative error.
    pub delta_relative: f64,
    /// Seed.
    pub seed: u64,
}

/// The report.
#[derive(Debug, Clone, Serialize)]
pub struct KnownSampleReport {
    /// Data kind.
    pub data: String,
    /// Victim rows.
    pub rows: usize,
    /// Attacker's sample size.
    pub sample: usize,
    /// Dimension.
    pub dim: usize,
    /// Principal components matched.
    pub components: usize,
    /// Success on the victim's rows.
    #[serde(flatten)]
    pub success: Success,
    /// Median PSNR (images only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub median_psnr: Option<f64>,
    /// Seed.
    pub seed: u64,
}

/// An odd statistic of a projection, robust to outliers: mean minus median (positive for a right tail).
fn skew(v: ArrayView1<'_, f64>) -> f64 {
    let m = v.mean().unwrap_or(0.0);
    let mut s: Vec<f64> = v.to_vec();
    s.sort_by(f64::total_cmp);
    m - s[s.len() / 2]
}

/// Runs the attack.
pub fn run(cfg: &KnownSample, given: Option<&crate::models::Prepared>) -> Result<KnownSampleReport> {
    super::metrics::check_delta(cfg.delta_relative)?;
    crate::cancel::check()?;
    let dim = data::dim_of(cfg.data, cfg.dim, given)?;
    if !(cfg.energy > 0.0 && cfg.energy <= 1.0) {
        return Err(invalid("--energy must lie in (0, 1]"));
    }
    if cfg.rows < 2 || cfg.sample < 2 {
        return Err(invalid("--rows and --sample must be at least 2"));
    }
    let total = cfg.rows.checked_add(cfg.sample).ok_or_else(|| invalid("--rows + --sample overflows"))?;
    super::metrics::check_elems("(--rows + --sample) x --dim", &[total, dim])?;
    let all = data::rows(cfg.data, cfg.rows + cfg.sample, dim, given, cfg.seed)?;
    let (x, own) = (all.slice(s![..cfg.rows, ..]).to_owned(), all.slice(s![cfg.rows.., ..]).to_owned());
    let a = data::random_orthogonal(dim, &mut stream(cfg.seed, 503))?;
    let y = mm(x.view(), a.view());
    // Centre both sides with their own means; the map is linear, so the victim's mean maps too.
    let (mu_s, mu_y) = (col_means(own.view()), col_means(y.view()));
    let (vals, v) = sym_eigen(covariance(own.view()).view())?;
    let (_, w) = sym_eigen(covariance(y.view()).view())?;
    // Only components whose direction the sample pins down: those carrying the first `energy` of the
    // variance (tail eigenvectors of a finite sample are noise, and blank pixels have none).
    let total: f64 = vals.iter().map(|v| v.max(0.0)).sum();
    let mut k = 0;
    let mut acc = 0.0;
    while k < dim && acc < cfg.energy * total {
        acc += vals[k].max(0.0);
        k += 1;
    }
    let (v, w) = (v.slice(s![.., ..k]).to_owned(), w.slice(s![.., ..k]).to_owned());
    let (sc, yc) = (&own - &mu_s, &y - &mu_y);
    // Signs: each eigenvector is known up to sign. Choose, component by component, the sign whose
    // reconstruction stays inside the per-coordinate range the attacker's own sample spans (pixels lie in
    // [0, 1]); for symmetric data (Gaussian) no statistic can tell, and the attack fails, as it should.
    let lo = own.fold_axis(Axis(0), f64::INFINITY, |a, &b| a.min(b));
    let hi = own.fold_axis(Axis(0), f64::NEG_INFINITY, |a, &b| a.max(b));
    let coeffs = mm(yc.view(), w.view()); // rows x k
    let mut xhat: Array2<f64> = Array2::from_shape_fn((cfg.rows, dim), |(_, j)| mu_s[j]);
    let violation = |x: &Array2<f64>| -> f64 {
        x.rows()
            .into_iter()
            .map(|r| {
                r.iter()
                    .enumerate()
                    .map(|(j, &v)| (lo[j] - v).max(0.0).powi(2) + (v - hi[j]).max(0.0).powi(2))
                    .sum::<f64>()
            })
            .sum()
    };
    for i in 0..k {
        let (c, vi) = (coeffs.column(i), v.column(i));
        let mut plus = xhat.clone();
        let mut minus = xhat.clone();
        for (r, &cr) in c.iter().enumerate() {
            for (j, &vj) in vi.iter().enumerate() {
                plus[(r, j)] += cr * vj;
                minus[(r, j)] -= cr * vj;
            }
        }
        // Ties (no violation either way) fall back to the odd moment of the projections.
        let (vp, vm) = (violation(&plus), violation(&minus));
        let flip = if (vp - vm).abs() > 1e-12 * (vp + vm + 1e-300) {
            vm < vp
        } else {
            skew(mm(sc.view(), v.view()).column(i)) * skew(c) < 0.0
        };
        xhat = if flip { minus } else { plus };
    }
    let errs = relative_errors(xhat.view(), x.view());
    let median_psnr = (cfg.data == DataKind::Mnist).then(|| median(&psnr(xhat.view(), x.view(), 1.0)));
    Ok(KnownSampleReport {
        data: cfg.data.name().into(),
        rows: cfg.rows,
        sample: cfg.sample,
        dim,
        components: k,
        success: success(&errs, cfg.delta_relative)?,
        median_psnr,
        seed: cfg.seed,
    })
}
