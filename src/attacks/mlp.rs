//! A small non-linear decoder: one hidden layer (relu), sigmoid outputs, mean squared error, Adam. Inputs
//! are standardized with the fitting set's statistics. Seeded and single-path, so the same seed gives the
//! same decoder.

use super::linalg::mm;
use crate::error::{Result, invalid};
use crate::rng::stream;
use ndarray::{Array1, Array2, ArrayView2, Axis};
use rand::RngExt;
use rand::seq::SliceRandom;

/// Training settings.
#[derive(Debug, Clone)]
pub struct MlpConfig {
    /// Hidden units.
    pub hidden: usize,
    /// Passes over the fitting set.
    pub epochs: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// Minibatch size.
    pub batch: usize,
    /// Seed.
    pub seed: u64,
}

impl Default for MlpConfig {
    fn default() -> Self {
        Self { hidden: 256, epochs: 40, lr: 2e-3, batch: 64, seed: 1 }
    }
}

/// A trained decoder.
#[derive(Debug, Clone)]
pub struct Mlp {
    mean: Array1<f64>,
    scale: Array1<f64>,
    w1: Array2<f64>,
    b1: Array1<f64>,
    w2: Array2<f64>,
    b2: Array1<f64>,
}

fn sigmoid(v: f64) -> f64 {
    1.0 / (1.0 + (-v).exp())
}

struct Adam {
    m: Vec<Array2<f64>>,
    v: Vec<Array2<f64>>,
    t: i32,
}

impl Adam {
    fn step(&mut self, params: &mut [&mut Array2<f64>], grads: &[Array2<f64>], lr: f64) {
        self.t += 1;
        let (b1, b2, eps): (f64, f64, f64) = (0.9, 0.999, 1e-8);
        let (c1, c2) = (1.0 - b1.powi(self.t), 1.0 - b2.powi(self.t));
        for (i, (p, g)) in params.iter_mut().zip(grads).enumerate() {
            self.m[i].zip_mut_with(g, |m, &g| *m = b1 * *m + (1.0 - b1) * g);
            self.v[i].zip_mut_with(g, |v, &g| *v = b2 * *v + (1.0 - b2) * g * g);
            ndarray::Zip::from(&mut **p).and(&self.m[i]).and(&self.v[i]).for_each(|p, &m, &v| {
                *p -= lr * (m / c1) / ((v / c2).sqrt() + eps);
            });
        }
    }
}

impl Mlp {
    /// Fits `x ≈ decode(z)` on the rows of `z` and `x` (targets in [0, 1]).
    pub fn fit(z: ArrayView2<'_, f64>, x: ArrayView2<'_, f64>, cfg: &MlpConfig) -> Result<Self> {
        let (n, d) = z.dim();
        let out = x.ncols();
        if n < 2
            || x.nrows() != n
            || cfg.hidden == 0
            || cfg.epochs == 0
            || cfg.batch == 0
            || !crate::error::positive(cfg.lr)
        {
            return Err(invalid("the non-linear decoder needs at least two pairs and positive settings"));
        }
        let mean = z.mean_axis(Axis(0)).unwrap_or_else(|| Array1::zeros(d));
        let scale = z.std_axis(Axis(0), 0.0).mapv(|s| if s > 1e-12 { 1.0 / s } else { 0.0 });
        let zs = (&z - &mean) * &scale;
        let mut rng = stream(cfg.seed, 601);
        let (a1, a2) = ((2.0 / d as f64).sqrt(), (1.0 / cfg.hidden as f64).sqrt());
        let mut w1 = Array2::from_shape_fn((d, cfg.hidden), |_| a1 * (rng.random::<f64>() * 2.0 - 1.0) * 3f64.sqrt());
        let mut w2 = Array2::from_shape_fn((cfg.hidden, out), |_| a2 * (rng.random::<f64>() * 2.0 - 1.0) * 3f64.sqrt());
        let mut b1 = Array2::<f64>::zeros((1, cfg.hidden));
        let mut b2 = Array2::<f64>::zeros((1, out));
        let shapes = [w1.dim(), b1.dim(), w2.dim(), b2.dim()];
        let mut adam = Adam {
            m: shapes.iter().map(|&s| Array2::zeros(s)).collect(),
            v: shapes.iter().map(|&s| Array2::zeros(s)).collect(),
            t: 0,
        };
        let mut order: Vec<usize> = (0..n).collect();
        for _ in 0..cfg.epochs {
            crate::cancel::check()?;
            order.shuffle(&mut rng);
            for chunk in order.chunks(cfg.batch) {
                let zb = zs.select(Axis(0), chunk);
                let xb = x.select(Axis(0), chunk);
                let h_pre = mm(zb.view(), w1.view()) + &b1;
                let h = h_pre.mapv(|v| v.max(0.0));
                let y = (mm(h.view(), w2.view()) + &b2).mapv(sigmoid);
                // d loss / d pre-sigmoid, loss = mean over batch of squared error.
                let mut d2 = &y - &xb;
                d2.zip_mut_with(&y, |g, &s| *g *= 2.0 * s * (1.0 - s) / chunk.len() as f64);
                let gw2 = mm(h.t(), d2.view());
                let gb2 = d2.sum_axis(Axis(0)).insert_axis(Axis(0));
                let mut d1 = mm(d2.view(), w2.t());
                d1.zip_mut_with(&h_pre, |g, &p| *g *= f64::from(u8::from(p > 0.0)));
                let gw1 = mm(zb.t(), d1.view());
                let gb1 = d1.sum_axis(Axis(0)).insert_axis(Axis(0));
                adam.step(&mut [&mut w1, &mut b1, &mut w2, &mut b2], &[gw1, gb1, gw2, gb2], cfg.lr);
            }
        }
        Ok(Self { mean, scale, w1, b1: b1.row(0).to_owned(), w2, b2: b2.row(0).to_owned() })
    }

    /// Decodes rows of `z`.
    pub fn predict(&self, z: ArrayView2<'_, f64>) -> Array2<f64> {
        let zs = (&z - &self.mean) * &self.scale;
        let h = (mm(zs.view(), self.w1.view()) + &self.b1).mapv(|v| v.max(0.0));
        (mm(h.view(), self.w2.view()) + &self.b2).mapv(sigmoid)
    }
}
