//! Data the attacks run on: isotropic Gaussian rows, correlated Gaussian rows (distinct variances, the case
//! where covariance structure helps an attacker), or MNIST digits (pixels / 256).

use crate::error::{Result, invalid};
use crate::models::Prepared;
use crate::rng::stream;
use ndarray::Array2;
use rand::RngExt;
use rand_distr::StandardNormal;
use serde::Serialize;

/// Which rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DataKind {
    /// x ~ N(0, I_d): the paper's assumption.
    Gaussian,
    /// x ~ N(0, Q diag(s) Qᵀ) with variances s_i = 0.9^i (a random rotation Q): structured data.
    Correlated,
    /// MNIST digits, 784 pixels in [0, 1).
    Mnist,
    /// A user's table (CSV or NPY rows), its own dimension.
    File,
}

impl DataKind {
    /// Name.
    pub fn name(self) -> &'static str {
        match self {
            DataKind::Gaussian => "gaussian",
            DataKind::Correlated => "correlated",
            DataKind::Mnist => "mnist",
            DataKind::File => "file",
        }
    }
}

/// The dimension of the rows `kind` gives: `dim` for generated rows, the given data's own otherwise.
/// `dim` must be at least 1 even where the data's own dimension replaces it (a zero is never meant).
pub fn dim_of(kind: DataKind, dim: usize, given: Option<&Prepared>) -> Result<usize> {
    if dim == 0 {
        return Err(invalid("--dim must be at least 1"));
    }
    match kind {
        DataKind::Gaussian | DataKind::Correlated => Ok(dim),
        DataKind::Mnist | DataKind::File => {
            let g = given.ok_or_else(|| invalid(format!("no {} data given", kind.name())))?;
            Ok(g.x.len() / g.count.max(1))
        }
    }
}

/// `n` rows of dimension `dim` (MNIST or a file: the first `n` rows of `given`, of its own dimension).
pub fn rows(kind: DataKind, n: usize, dim: usize, given: Option<&Prepared>, seed: u64) -> Result<Array2<f64>> {
    if n == 0 || dim == 0 {
        return Err(invalid("the data needs at least one row and one column"));
    }
    let mut rng = stream(seed, 501);
    match kind {
        DataKind::Gaussian => Ok(Array2::from_shape_fn((n, dim), |_| rng.sample(StandardNormal))),
        DataKind::Correlated => {
            let z = Array2::from_shape_fn((n, dim), |(_, j)| {
                rng.sample::<f64, _>(StandardNormal) * 0.9f64.powf(j as f64 / 2.0)
            });
            let q = random_orthogonal(dim, &mut rng)?;
            Ok(super::linalg::mm(z.view(), q.view()))
        }
        DataKind::Mnist | DataKind::File => {
            let m = given.ok_or_else(|| invalid(format!("no {} data given", kind.name())))?;
            if n > m.count {
                return Err(invalid(format!("{n} rows asked for, the {} data has {}", kind.name(), m.count)));
            }
            let d = dim_of(kind, dim, Some(m))?;
            Ok(Array2::from_shape_vec((n, d), m.x[..n * d].to_vec()).map_err(|e| invalid(e.to_string()))?)
        }
    }
}

/// A Haar-random orthogonal matrix (QR of a Gaussian matrix with the signs of R's diagonal fixed).
pub fn random_orthogonal(dim: usize, rng: &mut crate::rng::Rng) -> Result<Array2<f64>> {
    let g = faer::Mat::<f64>::from_fn(dim, dim, |_, _| rng.sample(StandardNormal));
    let qr = g.qr();
    let q = qr.compute_thin_Q();
    let r = qr.thin_R();
    Ok(Array2::from_shape_fn((dim, dim), |(i, j)| q[(i, j)] * r[(j, j)].signum()))
}

/// A `rows x cols` matrix of independent N(0, 1).
pub fn gaussian(rows: usize, cols: usize, rng: &mut crate::rng::Rng) -> Array2<f64> {
    Array2::from_shape_fn((rows, cols), |_| rng.sample(StandardNormal))
}
