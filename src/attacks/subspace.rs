//! Section 3.3.2's exception, measured: an attacker who knows a Gaussian linear map `A` (fewer outputs than
//! inputs) cannot invert it on arbitrary data, but MNIST digits lie near a low-dimensional subspace that public
//! digits reveal. The attacker fits `x = mu + U z` (the public digits' mean and top `k` principal components)
//! to `y = A x` by least squares, beside the minimum-norm preimage `A+ y` and the mean digit.

use super::linalg::{col_means, covariance, from_mat, mm, ridge, sym_eigen, to_mat};
use super::metrics::{median, psnr, relative_errors, success};
use crate::analysis::estimate::Estimate;
use crate::error::{Error, Result, invalid};
use crate::models::Prepared;
use crate::rng::stream;
use faer::Side;
use faer::linalg::solvers::Solve;
use ndarray::{Array2, Axis};
use rand::RngExt;
use rand_distr::StandardNormal;

/// The attack's outcome.
#[derive(Debug, Clone)]
pub struct SubspaceReport {
    /// Images attacked.
    pub images: usize,
    /// The mean of the public digits, guessed for every image.
    pub baseline: Estimate,
    /// The minimum-norm preimage: success and median PSNR.
    pub pinv: (Estimate, f64),
    /// Per number of principal components: success and median PSNR.
    pub fitted: Vec<(usize, Estimate, f64)>,
}

/// Attacks the first `images` digits of `data` under a seeded `outputs x 784` Gaussian map, with the subspace
/// of `public` at each `k` of `ks` (each at most `outputs`), scored at `|x_hat - x| < 0.3 |x|`.
pub fn run(
    data: &Prepared,
    public: &Prepared,
    images: usize,
    outputs: usize,
    ks: &[usize],
    seed: u64,
) -> Result<SubspaceReport> {
    let d = data.width();
    if images == 0 || images > data.count || ks.iter().any(|&k| k == 0 || k > outputs) || public.count < 2 {
        return Err(invalid("subspace attack: bad sizes"));
    }
    let mut rng = stream(seed, 3322);
    let a = Array2::from_shape_simple_fn((outputs, d), || rng.sample::<f64, _>(StandardNormal));
    let x = Array2::from_shape_vec((images, d), data.x[..images * d].to_vec()).map_err(|e| invalid(e.to_string()))?;
    let y = mm(x.view(), a.t()); // images x outputs
    let score = |est: &Array2<f64>| -> Result<(Estimate, f64)> {
        let s = success(&relative_errors(est.view(), x.view()), 0.3)?;
        Ok((s.estimate, median(&psnr(est.view(), x.view(), 1.0))))
    };
    // A+ y = A^T (A A^T)^-1 y.
    let g = to_mat(mm(a.view(), a.t()).view());
    let llt = g.llt(Side::Lower).map_err(|_| Error::Numerical("A A^T is not positive definite".into()))?;
    let z = from_mat(&llt.solve(&to_mat(y.t()))); // outputs x images
    let pinv = score(&mm(a.t(), z.view()).reversed_axes())?;
    let pub_x = Array2::from_shape_vec((public.count, d), public.x.clone()).map_err(|e| invalid(e.to_string()))?;
    let mu = col_means(pub_x.view());
    let baseline = score(&Array2::from_shape_fn((images, d), |(_, j)| mu[j]))?.0;
    let (_, vecs) = sym_eigen(covariance(pub_x.view()).view())?;
    let a_mu = a.dot(&mu);
    let resid = (&y - &a_mu.view().insert_axis(Axis(0))).reversed_axes(); // outputs x images
    let mut fitted = Vec::new();
    for &k in ks {
        let u = vecs.slice(ndarray::s![.., ..k]).to_owned(); // d x k
        let au = mm(a.view(), u.view()); // outputs x k
        let coef = ridge(au.view(), resid.view(), 1e-12)?; // k x images
        let est = mm(u.view(), coef.view()).reversed_axes() + mu.view().insert_axis(Axis(0));
        let (e, p) = score(&est)?;
        fitted.push((k, e, p));
    }
    Ok(SubspaceReport { images, baseline, pinv, fitted })
}
