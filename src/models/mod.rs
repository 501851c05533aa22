//! Models and their data: which model a run trains ([`ModelKind`]: the paper's two, or any model file),
//! the examples it reads ([`Prepared`]), and the batch schedule every protocol shares. Below: model files
//! (`spec`, `onnx`), the layer kinds (`layers`) written once over the arithmetic (`backend`), the one
//! walker (`walk`), the plaintext trainer (`graph`), the secure protocols (`secure`), and the hand-written
//! test oracle (`plain`).
//!
//! The paper's two models, exactly as it states them (Section 5):
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

pub mod backend;
pub mod dp_sgd;
pub mod graph;
pub mod layers;
pub mod onnx;
#[cfg(test)]
mod plain;
pub mod secure;
pub mod spec;
pub mod walk;

use crate::data::mnist::Dataset;
use crate::error::{Result, invalid};
use ndarray::{ArrayD, IxDyn};
use rand::seq::SliceRandom;
use serde::Serialize;

/// Which model: one of the paper's two, or one read from a model file.
#[derive(Debug, Clone, Copy)]
pub enum ModelKind {
    /// Logistic regression, digit 0 against the rest.
    LogReg,
    /// The paper's CNN, ten classes.
    Cnn,
    /// A model file (kept once per process for its lifetime: see [`ModelKind::file`]).
    File(&'static graph::Net),
}

impl PartialEq for ModelKind {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (ModelKind::LogReg, ModelKind::LogReg) | (ModelKind::Cnn, ModelKind::Cnn) => true,
            (ModelKind::File(a), ModelKind::File(b)) => std::ptr::eq(*a, *b) || a == b,
            _ => false,
        }
    }
}

impl Eq for ModelKind {}

impl Serialize for ModelKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
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
    /// A model file's model, or the paper's model when the file describes one of them exactly (so that
    /// `--model models/cnn.toml` is `--model cnn`). The net lives as long as the process (a `ModelKind` is
    /// `Copy` and lends `&'static` nets), kept once: the same model read again is the one already kept, so
    /// a process holds one copy of each distinct model however often it reads it.
    pub fn file(net: graph::Net) -> ModelKind {
        match net.spec.paper_model().filter(|_| net.weights().is_none()) {
            Some(m) => m,
            None => ModelKind::File(keep(net)),
        }
    }

    /// The layers this model runs, whichever backend runs them.
    pub fn net(self) -> &'static graph::Net {
        static LOGREG: std::sync::OnceLock<graph::Net> = std::sync::OnceLock::new();
        static CNN: std::sync::OnceLock<graph::Net> = std::sync::OnceLock::new();
        let paper = |m: ModelKind| {
            // The bundled files are checked by the tests; failing to plan one is a build defect.
            graph::Net::new(spec::Spec::paper(m)).unwrap_or_else(|e| panic!("bundled model file: {e}"))
        };
        match self {
            ModelKind::LogReg => LOGREG.get_or_init(|| paper(ModelKind::LogReg)),
            ModelKind::Cnn => CNN.get_or_init(|| paper(ModelKind::Cnn)),
            ModelKind::File(n) => n,
        }
    }

    /// `logreg`, `cnn`, or the model file's name.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::LogReg => "logreg",
            ModelKind::Cnn => "cnn",
            ModelKind::File(n) => n.name(),
        }
    }

    /// Whether it is one of the paper's two models.
    pub fn is_paper(self) -> bool {
        !matches!(self, ModelKind::File(_))
    }

    /// Parameter names and shapes, in order. The first one or two form the first linear layer (the part
    /// RTAS-fast keeps secret-shared).
    pub fn param_shapes(self) -> Vec<(String, Vec<usize>)> {
        self.net().param_names().into_iter().zip(self.net().layers().iter().flat_map(|p| p.params.clone())).collect()
    }

    /// Parameters of the first layer (weights and bias of a linear first layer): what stays shared in
    /// RTAS-fast.
    pub fn first_layer_params(self) -> usize {
        self.net().params_before(1)
    }

    /// Shape of a batch of inputs.
    pub fn input_shape(self, batch: usize) -> Vec<usize> {
        let mut s = vec![batch];
        s.extend_from_slice(&self.net().spec.input);
        s
    }

    /// Values per example.
    pub fn input_len(self) -> usize {
        self.net().input_len()
    }

    /// Outputs per example.
    pub fn outputs(self) -> usize {
        self.net().outputs()
    }

    /// Initial parameters: Glorot-uniform weights (fan-in and fan-out of each layer), zero biases, from `seed`.
    /// Every protocol starts from these.
    pub fn init(self, seed: u64) -> Vec<ArrayD<f64>> {
        self.net().init(seed)
    }

    /// Targets for labels: `[B, 1]` with 1 for the digit 0 (logistic regression), `[B, 10]` one-hot (CNN),
    /// what the model file's loss says otherwise.
    pub fn targets(self, labels: &[u8]) -> Result<ArrayD<f64>> {
        self.net().targets(&labels.iter().map(|&l| f64::from(l)).collect::<Vec<_>>())
    }

    /// How many of `yhat`'s predictions match `labels` (argmax for one-hot targets, `> 0.5` against the
    /// target for one output).
    pub fn correct(self, yhat: &ArrayD<f64>, labels: &[u8]) -> Result<usize> {
        self.net().correct(yhat, &labels.iter().map(|&l| f64::from(l)).collect::<Vec<_>>())
    }

    /// The factor applied to unscaled gradients at the update: `lr * 2 / (batch * outputs)` (mean squared
    /// error), `lr / batch` (cross-entropy).
    pub fn update_factor(self, lr: f64, batch: usize) -> f64 {
        self.net().update_factor(lr, batch)
    }
}

/// The process's one copy of `net`: the one kept already if an equal net was, else `net`, kept from now on.
fn keep(net: graph::Net) -> &'static graph::Net {
    static KEPT: std::sync::Mutex<Vec<&'static graph::Net>> = std::sync::Mutex::new(Vec::new());
    let mut kept = KEPT.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(n) = kept.iter().find(|n| ***n == net) {
        return n;
    }
    let n: &'static graph::Net = Box::leak(Box::new(net));
    kept.push(n);
    n
}

/// Examples (images scaled to [0, 1), or a table's rows) and their labels.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Number of examples.
    pub count: usize,
    /// Their values (pixels / 256 for images), example after example.
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

    /// A table's rows (`width` values each) and integer class labels.
    pub fn from_rows(x: Vec<f64>, width: usize, labels: &[f64]) -> Result<Self> {
        if width == 0 || x.len() != labels.len() * width {
            return Err(invalid(format!("{} values for {} rows of {width}", x.len(), labels.len())));
        }
        let labels = labels
            .iter()
            .enumerate()
            .map(|(i, &l)| {
                if l.fract() == 0.0 && (0.0..=255.0).contains(&l) {
                    Ok(l as u8)
                } else {
                    Err(invalid(format!(
                        "row {}: label {l} is not a class 0..=255 (the secure protocols train classifiers; \
                         real-valued targets run with --protocol plain)",
                        i + 1
                    )))
                }
            })
            .collect::<Result<Vec<u8>>>()?;
        Ok(Self { count: labels.len(), x, labels })
    }

    /// Values per example.
    pub fn width(&self) -> usize {
        self.x.len().checked_div(self.count).unwrap_or(0)
    }

    /// The inputs of `rows` in the model's shape.
    pub fn batch(&self, model: ModelKind, rows: &[usize]) -> ArrayD<f64> {
        let w = model.input_len();
        let mut v = Vec::with_capacity(rows.len() * w);
        for &r in rows {
            v.extend_from_slice(&self.x[r * w..(r + 1) * w]);
        }
        ArrayD::from_shape_vec(IxDyn(&model.input_shape(rows.len())), v).unwrap_or_else(|_| ArrayD::zeros(IxDyn(&[0])))
    }

    /// Examples `from..to` (a contiguous part, e.g. a validation split).
    pub fn range(&self, from: usize, to: usize) -> Prepared {
        let w = self.width();
        Prepared { count: to - from, x: self.x[from * w..to * w].to_vec(), labels: self.labels[from..to].to_vec() }
    }

    /// Labels of `rows`.
    pub fn labels_of(&self, rows: &[usize]) -> Vec<u8> {
        rows.iter().map(|&r| self.labels[r]).collect()
    }
}

/// The most training steps a run may make (its batch schedule is held in memory).
pub const MAX_STEPS: usize = 10_000_000;

/// Refuses a run of `epochs` epochs of `train / batch` steps, cut at `max_steps`, that would make more than
/// [`MAX_STEPS`] steps.
pub fn check_steps(train: usize, batch: usize, epochs: usize, max_steps: Option<usize>) -> crate::error::Result<()> {
    let per_epoch = (train / batch.max(1)).max(1);
    if max_steps.unwrap_or(usize::MAX).min(epochs.saturating_mul(per_epoch)) > MAX_STEPS {
        return Err(crate::error::invalid(format!(
            "--epochs {epochs} x {per_epoch} steps per epoch is more than 10^7 training steps; use fewer or --max-steps"
        )));
    }
    Ok(())
}

/// The batches of a run: [`schedule`] for only the epochs `max_steps` needs (a huge `epochs` with
/// `max_steps` builds no more), cut at `max_steps`.
pub fn run_schedule(train: usize, batch: usize, epochs: usize, max_steps: Option<usize>, seed: u64) -> Vec<Vec<usize>> {
    let per_epoch = (train / batch.max(1)).max(1);
    let epochs = max_steps.map_or(epochs, |m| epochs.min(m.div_ceil(per_epoch)));
    let mut sched = schedule(train, batch, epochs, seed);
    if let Some(m) = max_steps {
        sched.truncate(m);
    }
    sched
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
