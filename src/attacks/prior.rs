//! A Gaussian fitted to public rows: what an attacker with a public sample of the same distribution knows.
//! The float-share attacker denoises with it; the orthogonal-map attacker conditions it on known inner
//! products.

use super::linalg::{col_means, covariance, mm, sym_eigen};
use crate::error::{Result, invalid};
use crate::models::Prepared;
use ndarray::{Array1, Array2, ArrayView2};

/// Mean `mu`, covariance `cov = Q diag(l) Q^T` (eigenvalues clipped at 0).
#[derive(Debug, Clone)]
pub struct GaussianPrior {
    /// Mean.
    pub mu: Array1<f64>,
    /// Covariance.
    pub cov: Array2<f64>,
    l: Array1<f64>,
    q: Array2<f64>,
}

impl GaussianPrior {
    /// Fits the rows of `x` (at least two).
    pub fn fit(x: ArrayView2<'_, f64>) -> Result<GaussianPrior> {
        if x.nrows() < 2 {
            return Err(invalid(format!("the prior needs at least two public rows (got {})", x.nrows())));
        }
        let cov = covariance(x);
        let (l, q) = sym_eigen(cov.view())?;
        Ok(GaussianPrior { mu: col_means(x), cov, l: l.mapv(|v| v.max(0.0)), q })
    }

    /// Fits public examples of `width` values each.
    pub fn fit_examples(public: &Prepared, width: usize) -> Result<GaussianPrior> {
        if public.width() != width {
            return Err(invalid(format!(
                "the prior needs public examples of {width} values (got {} of {})",
                public.count,
                public.width()
            )));
        }
        let x = ArrayView2::from_shape((public.count, width), &public.x[..public.count * width])
            .map_err(|e| invalid(e.to_string()))?;
        Self::fit(x)
    }

    /// The posterior mean of x given `noisy = x + N(0, v I)`, row by row: `mu + Q diag(l / (l + v)) Q^T (s - mu)`.
    pub fn posterior_mean(&self, noisy: &Array2<f64>, v: f64) -> Array2<f64> {
        let centered = noisy - &self.mu;
        let coords = mm(centered.view(), self.q.view());
        let shrunk = Array2::from_shape_fn(coords.dim(), |(i, k)| coords[(i, k)] * self.l[k] / (self.l[k] + v));
        mm(shrunk.view(), self.q.t()) + &self.mu
    }

    /// The prior mean alone, for `rows` rows (what the attacker guesses without any observation).
    pub fn mean(&self, rows: usize) -> Array2<f64> {
        Array2::from_shape_fn((rows, self.mu.len()), |(_, j)| self.mu[j])
    }
}
