//! One DP-SGD step (Abadi et al. 2016) on any model's layers: every example's gradient (of its own loss)
//! clipped to norm `C`, the clipped gradients summed, Gaussian noise of standard deviation `sigma C` added to
//! every coordinate, the sum divided by the expected batch size, and `w -= lr * that`.
//!
//! Vectorized, not B backward passes: a forward pass, a backward pass on [`PerExample`] that measures every
//! example's gradient norm inside the layers' products, and a second backward pass from the output delta with
//! example i's row scaled by `min(1, C / |g_i|)`. Each layer's gradient is linear in each example's delta, so
//! the second pass's gradients are exactly the sum of the clipped per-example gradients.

use super::backend::per_example::PerExample;
use super::backend::{Input, Saved};
use super::graph::{Net, plain_label};
use super::walk;
use crate::error::{Result, invalid};
use crate::rng::Rng;
use ndarray::{ArrayD, Axis};
use rand::RngExt;
use rand_distr::StandardNormal;

/// The step's settings.
#[derive(Debug, Clone, Copy)]
pub struct DpStepSettings {
    /// Learning rate.
    pub lr: f64,
    /// Clipping norm C.
    pub clip: f64,
    /// Noise multiplier sigma (0: clipping only, no privacy).
    pub sigma: f64,
    /// The divisor of the noisy sum: the expected batch size q N under Poisson sampling.
    pub expected_batch: f64,
}

/// What a step reports.
#[derive(Debug, Clone)]
pub struct DpStep {
    /// Outputs on the batch (None for an empty batch).
    pub yhat: Option<ArrayD<f64>>,
    /// The batch's loss (0 for an empty batch).
    pub loss: f64,
    /// Each example's gradient norm before clipping.
    pub norms: Vec<f64>,
}

fn copy(s: &Saved<PerExample>) -> Saved<PerExample> {
    match s {
        Saved::Linear(k) => Saved::Linear(k.clone()),
        Saved::Act(t) => Saved::Act(t.clone()),
        Saved::Shape(v) => Saved::Shape(v.clone()),
        Saved::Tree(v, levels) => Saved::Tree(v.clone(), levels.clone()),
        Saved::Nothing => Saved::Nothing,
    }
}

/// A batch's clipped gradient sum.
#[derive(Debug, Clone)]
pub struct Clipped {
    /// The sum of the clipped per-example gradients, per parameter.
    pub grads: Vec<ArrayD<f64>>,
    /// Outputs (None for an empty batch).
    pub yhat: Option<ArrayD<f64>>,
    /// The batch's loss.
    pub loss: f64,
    /// Each example's gradient norm before clipping.
    pub norms: Vec<f64>,
}

/// The sum of the batch's clipped per-example gradients, the outputs, the loss and every example's norm.
pub fn clipped_sum(net: &Net, params: &[ArrayD<f64>], x: &ArrayD<f64>, y: &ArrayD<f64>, clip: f64) -> Result<Clipped> {
    let b = x.shape().first().copied().unwrap_or(0);
    if b == 0 {
        let grads = params.iter().map(|p| ArrayD::zeros(p.raw_dim())).collect();
        return Ok(Clipped { grads, yhat: None, loss: 0.0, norms: Vec::new() });
    }
    let (layers, label) = (net.layers(), plain_label());
    let range = (0, layers.len());
    let (out, saved) =
        walk::forward(&mut PerExample::default(), layers, range, params, Input::Tensor(net.shaped(x)?), true, &label)?;
    let (yhat, loss, d) = net.loss(out, y)?;
    let again: Vec<Saved<PerExample>> = saved.iter().map(copy).collect();
    let mut measure = PerExample::measuring(b);
    walk::backward(&mut measure, layers, range, saved, d.clone(), false, &label)?;
    // The gradient of example i's own loss is f times its part of the unscaled batch gradient.
    let f = net.update_factor(1.0, 1);
    let norms: Vec<f64> = measure.sq.unwrap_or_default().iter().map(|s| f * s.max(0.0).sqrt()).collect();
    let mut scaled = d;
    for (mut row, &n) in scaled.axis_iter_mut(Axis(0)).zip(&norms) {
        let s = if n > clip { clip / n } else { 1.0 };
        row.mapv_inplace(|v| v * f * s);
    }
    let (grads, _) = walk::backward(&mut PerExample::default(), layers, range, again, scaled, false, &label)?;
    Ok(Clipped { grads, yhat: Some(yhat), loss, norms })
}

/// One DP-SGD step on the batch `x` (targets `y`; possibly empty under Poisson sampling), noise from `rng`.
pub fn step(
    net: &Net,
    params: &mut [ArrayD<f64>],
    x: &ArrayD<f64>,
    y: &ArrayD<f64>,
    s: &DpStepSettings,
    rng: &mut Rng,
) -> Result<DpStep> {
    let ok = s.clip > 0.0 && s.clip.is_finite() && s.sigma >= 0.0 && s.sigma.is_finite() && s.expected_batch > 0.0;
    if !ok {
        return Err(invalid(format!(
            "DP-SGD step: clip {}, sigma {}, expected batch {}",
            s.clip, s.sigma, s.expected_batch
        )));
    }
    let Clipped { mut grads, yhat, loss, norms } = clipped_sum(net, params, x, y, s.clip)?;
    let sd = s.sigma * s.clip;
    if sd > 0.0 {
        for g in &mut grads {
            g.mapv_inplace(|v| v + sd * rng.sample::<f64, _>(StandardNormal));
        }
    }
    let c = s.lr / s.expected_batch;
    for (w, g) in params.iter_mut().zip(&grads) {
        if w.shape() != g.shape() {
            return Err(invalid(format!("gradient {:?} for a parameter {:?}", g.shape(), w.shape())));
        }
        w.zip_mut_with(g, |a, &b| *a -= c * b);
    }
    Ok(DpStep { yhat, loss, norms })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::ModelKind;
    use ndarray::IxDyn;

    /// The vectorized norms and clipped sum equal B separate backward passes, for dense and conv layers.
    #[test]
    fn per_example_norms_and_clipped_sum_equal_one_pass_per_example() {
        for model in [ModelKind::LogReg, ModelKind::Cnn] {
            let net = model.net();
            let mut params = model.init(3);
            // Non-zero logistic weights so every gradient differs.
            for p in &mut params {
                let mut r = crate::rng::stream(5, 0);
                p.mapv_inplace(|v| v + 0.05 * r.sample::<f64, _>(StandardNormal));
            }
            let b = 5;
            let mut r = crate::rng::stream(7, 0);
            let x = ArrayD::from_shape_fn(IxDyn(&[b, 784]), |_| r.random::<f64>());
            let labels: Vec<f64> = (0..b).map(|i| (i % 10) as f64).collect();
            let y = net.targets(&labels).unwrap();
            let clip = 0.05;
            let Clipped { grads: sum, norms, .. } = clipped_sum(net, &params, &x, &y, clip).unwrap();
            let mut want: Vec<ArrayD<f64>> = params.iter().map(|p| ArrayD::zeros(p.raw_dim())).collect();
            for (i, &ni) in norms.iter().enumerate() {
                let xi = x.slice_axis(Axis(0), (i..i + 1).into()).to_owned();
                let yi = y.slice_axis(Axis(0), (i..i + 1).into()).to_owned();
                // One example's gradient of its own loss: the plain step's parameter change over lr.
                let mut p1 = params.clone();
                net.train_on(&mut p1, &xi, &yi, 1.0).unwrap();
                let g: Vec<ArrayD<f64>> = params.iter().zip(&p1).map(|(a, b)| a - b).collect();
                let n = g.iter().map(|t| t.iter().map(|v| v * v).sum::<f64>()).sum::<f64>().sqrt();
                assert!((n - ni).abs() < 1e-9 * n.max(1.0), "{model:?} example {i}: {n} vs {ni}");
                let s = (clip / n).min(1.0);
                for (w, gi) in want.iter_mut().zip(&g) {
                    w.zip_mut_with(gi, |a, &v| *a += s * v);
                }
            }
            for (a, b) in sum.iter().zip(&want) {
                let d = (a - b).iter().fold(0.0f64, |m, v| m.max(v.abs()));
                assert!(d < 1e-10, "{model:?}: clipped sum off by {d}");
            }
        }
    }
}
