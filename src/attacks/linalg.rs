//! Dense linear algebra for the attacks (faer, single-threaded so results do not depend on the thread
//! count), on ndarray matrices.

use crate::error::{Error, Result};
use faer::linalg::solvers::Solve;
use faer::{Mat, Side};
use ndarray::{Array1, Array2, ArrayView2};

/// ndarray -> faer.
pub fn to_mat(a: ArrayView2<'_, f64>) -> Mat<f64> {
    Mat::from_fn(a.nrows(), a.ncols(), |i, j| a[(i, j)])
}

/// faer -> ndarray.
pub fn from_mat(m: &Mat<f64>) -> Array2<f64> {
    Array2::from_shape_fn((m.nrows(), m.ncols()), |(i, j)| m[(i, j)])
}

/// `a * b`.
pub fn mm(a: ArrayView2<'_, f64>, b: ArrayView2<'_, f64>) -> Array2<f64> {
    crate::protocol::kernel::matmul_f64(a, b)
}

/// Ridge regression: the `B` minimizing `|Y B - X|^2 + lambda |B|^2` (`Y`: K x f, `X`: K x d), by the normal
/// equations and a Cholesky factorization.
pub fn ridge(y: ArrayView2<'_, f64>, x: ArrayView2<'_, f64>, lambda: f64) -> Result<Array2<f64>> {
    let mut g = to_mat(mm(y.t(), y).view());
    let scale = (0..g.nrows()).map(|i| g[(i, i)]).fold(0.0, f64::max).max(1e-300);
    for i in 0..g.nrows() {
        g[(i, i)] += lambda * scale;
    }
    let rhs = to_mat(mm(y.t(), x).view());
    let llt = g.llt(Side::Lower).map_err(|_| Error::Numerical("ridge system is not positive definite".into()))?;
    Ok(from_mat(&llt.solve(&rhs)))
}

/// Eigenvalues (descending) and unit eigenvectors (columns) of a symmetric matrix.
pub fn sym_eigen(c: ArrayView2<'_, f64>) -> Result<(Array1<f64>, Array2<f64>)> {
    let e =
        to_mat(c).self_adjoint_eigen(Side::Lower).map_err(|_| Error::Numerical("eigendecomposition failed".into()))?;
    let n = c.nrows();
    let s = e.S();
    let u = e.U();
    // faer sorts ascending; reverse.
    let vals = Array1::from_shape_fn(n, |i| s[n - 1 - i]);
    let vecs = Array2::from_shape_fn((n, n), |(r, k)| u[(r, n - 1 - k)]);
    Ok((vals, vecs))
}

/// Column means.
pub fn col_means(x: ArrayView2<'_, f64>) -> Array1<f64> {
    x.mean_axis(ndarray::Axis(0)).unwrap_or_else(|| Array1::zeros(x.ncols()))
}

/// Covariance of the rows of `x` (columns are variables).
pub fn covariance(x: ArrayView2<'_, f64>) -> Array2<f64> {
    let mu = col_means(x);
    let c = &x - &mu;
    mm(c.t(), c.view()) / (x.nrows().max(2) - 1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eigen_is_descending_with_matching_vectors() {
        let c = ndarray::arr2(&[[1.0, 0.0, 0.0], [0.0, 3.0, 0.0], [0.0, 0.0, 2.0]]);
        let (vals, vecs) = sym_eigen(c.view()).unwrap();
        assert!(
            (vals[0] - 3.0).abs() < 1e-12 && (vals[1] - 2.0).abs() < 1e-12 && (vals[2] - 1.0).abs() < 1e-12,
            "{vals}"
        );
        assert!((vecs[(1, 0)].abs() - 1.0).abs() < 1e-12 && (vecs[(2, 1)].abs() - 1.0).abs() < 1e-12, "{vecs}");
    }
}
