//! The paper's two models, exactly as it states them (Section 5), and their data.
//!
//! - Logistic regression: 784 -> 1, label "the digit is 0", `y = sigmoid(x W + b)`, mean squared loss, SGD
//!   (learning rate 0.1, batch 32 in the paper), pixels scaled to [0, 1) by 1/256.
//! - CNN: conv 4 filters 4x4 stride 2 + relu (28x28 -> 4 x 13 x 13 = 676) -> dense 676 -> 100 + sigmoid ->
//!   dense 100 -> 10 + sigmoid, mean squared loss on one-hot labels, SGD. The paper's text says the first
//!   dense layer has 13*13*5 inputs; 4 filters of a 28x28 image at stride 2 give 4*13*13 = 676, which is what
//!   the stated architecture computes, so rtas uses 676.
//!
//! Gradients are carried unscaled — `delta = (y_hat - y) * sigmoid'(z)`, without the loss's `2 / N` — and
//! the factor `lr * 2 / N` is applied once, at the update. The arithmetic is the same; in fixed point it keeps
//! the backward pass far from the last bit.

pub mod graph;
pub mod plain;
pub mod secure;
pub mod spec;

use crate::data::mnist::Dataset;
use crate::error::{Result, invalid};
use ndarray::{ArrayD, IxDyn};
use rand::RngExt;
use rand::seq::SliceRandom;
use serde::Serialize;

/// Which model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// Logistic regression, digit 0 against the rest.
    LogReg,
    /// The paper's CNN, ten classes.
    Cnn,
}

/// Conv layer geometry of the CNN.
pub const CNN_FILTERS: usize = 4;
/// Kernel size.
pub const CNN_KERNEL: usize = 4;
/// Stride.
pub const CNN_STRIDE: usize = 2;
/// Output side: (28 - 4) / 2 + 1.
pub const CNN_SIDE: usize = 13;
/// Flattened conv output: 4 * 13 * 13.
pub const CNN_FLAT: usize = CNN_FILTERS * CNN_SIDE * CNN_SIDE;
/// Hidden width.
pub const CNN_HIDDEN: usize = 100;

impl ModelKind {
    /// `logreg` or `cnn`.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::LogReg => "logreg",
            ModelKind::Cnn => "cnn",
        }
    }

    /// Parameter names and shapes, in order. The first one or two form the first linear layer (the part
    /// RTAS-fast keeps secret-shared).
    pub fn param_shapes(self) -> Vec<(&'static str, Vec<usize>)> {
        match self {
            ModelKind::LogReg => vec![("w", vec![784, 1]), ("b", vec![1])],
            ModelKind::Cnn => vec![
                ("conv_w", vec![CNN_FILTERS, 1, CNN_KERNEL, CNN_KERNEL]),
                ("conv_b", vec![CNN_FILTERS]),
                ("dense1_w", vec![CNN_FLAT, CNN_HIDDEN]),
                ("dense1_b", vec![CNN_HIDDEN]),
                ("dense2_w", vec![CNN_HIDDEN, 10]),
                ("dense2_b", vec![10]),
            ],
        }
    }

    /// Parameters of the first linear layer (weights and bias): what stays shared in RTAS-fast.
    pub fn first_layer_params(self) -> usize {
        2
    }

    /// Shape of a batch of inputs.
    pub fn input_shape(self, batch: usize) -> Vec<usize> {
        match self {
            ModelKind::LogReg => vec![batch, 784],
            ModelKind::Cnn => vec![batch, 1, 28, 28],
        }
    }

    /// Outputs per example.
    pub fn outputs(self) -> usize {
        match self {
            ModelKind::LogReg => 1,
            ModelKind::Cnn => 10,
        }
    }

    /// Initial parameters: Glorot-uniform weights (fan-in and fan-out of each layer), zero biases, from `seed`.
    /// Every protocol starts from these.
    pub fn init(self, seed: u64) -> Vec<ArrayD<f64>> {
        let mut rng = crate::rng::stream(seed, 77);
        self.param_shapes()
            .into_iter()
            .map(|(name, shape)| {
                let n: usize = shape.iter().product();
                if name.ends_with("_b") || name == "b" {
                    return ArrayD::zeros(IxDyn(&shape));
                }
                let (fan_in, fan_out) = match shape.len() {
                    2 => (shape[0], shape[1]),
                    _ => (shape[1] * shape[2] * shape[3], shape[0] * shape[2] * shape[3]),
                };
                let a = (6.0 / (fan_in + fan_out) as f64).sqrt();
                let v = (0..n).map(|_| rng.random_range(-a..a)).collect();
                ArrayD::from_shape_vec(IxDyn(&shape), v).unwrap_or_else(|_| ArrayD::zeros(IxDyn(&shape)))
            })
            .collect()
    }

    /// Targets for labels: `[B, 1]` with 1 for the digit 0 (logistic regression), `[B, 10]` one-hot (CNN).
    pub fn targets(self, labels: &[u8]) -> ArrayD<f64> {
        let b = labels.len();
        match self {
            ModelKind::LogReg => ArrayD::from_shape_fn(IxDyn(&[b, 1]), |i| f64::from(u8::from(labels[i[0]] == 0))),
            ModelKind::Cnn => {
                ArrayD::from_shape_fn(IxDyn(&[b, 10]), |i| f64::from(u8::from(labels[i[0]] as usize == i[1])))
            }
        }
    }

    /// Predicted labels in the same encoding as the data's (0 / "not 0" as 1 for logistic regression).
    pub fn predicted(self, yhat: &ArrayD<f64>) -> Vec<u8> {
        match self {
            ModelKind::LogReg => yhat.iter().map(|&v| if v >= 0.5 { 0 } else { 1 }).collect(),
            ModelKind::Cnn => yhat
                .rows()
                .into_iter()
                .map(|r| {
                    r.iter().enumerate().fold((0, f64::MIN), |b, (i, &v)| if v > b.1 { (i, v) } else { b }).0 as u8
                })
                .collect(),
        }
    }

    /// How many of `yhat`'s predictions match `labels`.
    pub fn correct(self, yhat: &ArrayD<f64>, labels: &[u8]) -> usize {
        let pred = self.predicted(yhat);
        match self {
            ModelKind::LogReg => pred.iter().zip(labels).filter(|(p, l)| (**p == 0) == (**l == 0)).count(),
            ModelKind::Cnn => pred.iter().zip(labels).filter(|(p, l)| p == l).count(),
        }
    }

    /// The factor applied to unscaled gradients at the update: `lr * 2 / (batch * outputs)`.
    pub fn update_factor(self, lr: f64, batch: usize) -> f64 {
        lr * 2.0 / (batch * self.outputs()) as f64
    }
}

/// Images scaled to [0, 1) and their labels.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Number of images.
    pub count: usize,
    /// Pixels / 256, image after image.
    pub x: Vec<f64>,
    /// Labels.
    pub labels: Vec<u8>,
}

impl Prepared {
    /// From a data set of 28x28 images.
    pub fn new(d: &Dataset) -> Result<Self> {
        if d.rows != 28 || d.cols != 28 {
            return Err(invalid(format!("the paper's models take 28x28 images, got {}x{}", d.rows, d.cols)));
        }
        Ok(Self {
            count: d.count,
            x: d.pixels.iter().map(|&p| f64::from(p) / 256.0).collect(),
            labels: d.labels.clone(),
        })
    }

    /// The inputs of `rows` in the model's shape.
    pub fn batch(&self, model: ModelKind, rows: &[usize]) -> ArrayD<f64> {
        let mut v = Vec::with_capacity(rows.len() * 784);
        for &r in rows {
            v.extend_from_slice(&self.x[r * 784..(r + 1) * 784]);
        }
        ArrayD::from_shape_vec(IxDyn(&model.input_shape(rows.len())), v).unwrap_or_else(|_| ArrayD::zeros(IxDyn(&[0])))
    }

    /// Labels of `rows`.
    pub fn labels_of(&self, rows: &[usize]) -> Vec<u8> {
        rows.iter().map(|&r| self.labels[r]).collect()
    }
}

/// The batches of every epoch: a fresh shuffle of the training rows per epoch (from `seed`), cut into full
/// batches (a last partial batch is dropped, so every step has the same shape and cost).
pub fn schedule(train: usize, batch: usize, epochs: usize, seed: u64) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    for e in 0..epochs {
        let mut order: Vec<usize> = (0..train).collect();
        order.shuffle(&mut crate::rng::stream(seed, 10_000 + e as u64));
        out.extend(order.chunks_exact(batch).map(<[usize]>::to_vec));
    }
    out
}
