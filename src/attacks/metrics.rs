//! How reconstructions are scored: relative error per row, success at delta with an exact interval, PSNR.

use crate::analysis::estimate::Estimate;
use crate::error::Result;
use ndarray::ArrayView2;
use serde::Serialize;

/// `|x_hat - x| / |x|` per row (rows with `x = 0` score their absolute error).
pub fn relative_errors(xhat: ArrayView2<'_, f64>, x: ArrayView2<'_, f64>) -> Vec<f64> {
    xhat.rows()
        .into_iter()
        .zip(x.rows())
        .map(|(a, b)| {
            let err = a.iter().zip(b.iter()).map(|(u, v)| (u - v).powi(2)).sum::<f64>().sqrt();
            let norm = b.iter().map(|v| v * v).sum::<f64>().sqrt();
            if norm > 0.0 { err / norm } else { err }
        })
        .collect()
}

/// Peak signal-to-noise ratio per row for values in [0, `peak`], in dB (capped at 100 for exact rows).
pub fn psnr(xhat: ArrayView2<'_, f64>, x: ArrayView2<'_, f64>, peak: f64) -> Vec<f64> {
    xhat.rows()
        .into_iter()
        .zip(x.rows())
        .map(|(a, b)| {
            let mse = a.iter().zip(b.iter()).map(|(u, v)| (u.clamp(0.0, peak) - v).powi(2)).sum::<f64>()
                / b.len().max(1) as f64;
            if mse <= 1e-10 * peak * peak { 100.0 } else { 10.0 * (peak * peak / mse).log10() }
        })
        .collect()
}

/// The median of a list (0 when empty).
pub fn median(v: &[f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s[s.len() / 2]
}

/// An attack's success at one threshold.
#[derive(Debug, Clone, Serialize)]
pub struct Success {
    /// The threshold on the relative error.
    pub delta_relative: f64,
    /// Success rate with its 95% interval.
    #[serde(flatten)]
    pub estimate: Estimate,
    /// Median relative error.
    pub median_relative_error: f64,
}

/// Values one array of an attack may hold: 2^31 (16 GiB of f64; the machines rtas runs on have less).
pub const MAX_ELEMS: usize = 1 << 31;

/// Refuses sizes whose array (`dims` multiplied) would hold more than [`MAX_ELEMS`] values: `what` names
/// the flags, e.g. `--rows x --dim`.
pub fn check_elems(what: &str, dims: &[usize]) -> Result<()> {
    match dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d)) {
        Some(n) if n <= MAX_ELEMS => Ok(()),
        _ => Err(crate::error::invalid(format!(
            "{what} = {} values in one array, more than rtas holds (2^31, 16 GiB)",
            dims.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(" x ")
        ))),
    }
}

/// A success threshold must be a positive finite number (`--delta-relative`).
pub fn check_delta(delta: f64) -> Result<()> {
    if !(delta.is_finite() && delta > 0.0) {
        return Err(crate::error::invalid(format!("--delta-relative must be a positive finite number, got {delta}")));
    }
    Ok(())
}

/// Success of `errors` at relative error below `delta` (a positive finite number, else an error).
pub fn success(errors: &[f64], delta: f64) -> Result<Success> {
    check_delta(delta)?;
    let hits = errors.iter().filter(|&&e| e < delta).count() as u64;
    Ok(Success {
        delta_relative: delta,
        estimate: Estimate::from_counts(hits, errors.len().max(1) as u64)?,
        median_relative_error: median(errors),
    })
}
