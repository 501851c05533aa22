//! `rtas simulate --model FILE --protocol plain`: a model file in plaintext on images or a user's table
//! (real-valued targets allowed), reported with its layers and the majority baseline beside its accuracy.
//! The training and testing are the one driver's (`simulate::run_plain`), as for every other run.

use super::simulate::{Examples, ProtocolChoice, SimulateConfig, batches, median, run_plain};
use crate::error::{Result, invalid};
use crate::models::ModelKind;
use indicatif::ProgressBar;
use ndarray::{ArrayD, IxDyn};
use serde::Serialize;

/// Examples: features (row-major) and one label each.
#[derive(Debug, Clone)]
pub struct Rows {
    /// Examples.
    pub count: usize,
    /// Features per example.
    pub dim: usize,
    /// Row-major features.
    pub x: Vec<f64>,
    /// Labels.
    pub labels: Vec<f64>,
}

impl Examples for Rows {
    fn inputs(&self, _: ModelKind, rows: &[usize]) -> ArrayD<f64> {
        let mut x = Vec::with_capacity(rows.len() * self.dim);
        for &r in rows {
            x.extend_from_slice(&self.x[r * self.dim..(r + 1) * self.dim]);
        }
        ArrayD::from_shape_vec(IxDyn(&[rows.len(), self.dim]), x).unwrap_or_else(|_| ArrayD::zeros(IxDyn(&[0])))
    }

    fn labels(&self, rows: &[usize]) -> Vec<f64> {
        rows.iter().map(|&r| self.labels[r]).collect()
    }
}

/// What to run.
#[derive(Debug, Clone)]
pub struct CustomConfig {
    /// Epochs.
    pub epochs: usize,
    /// Batch size.
    pub batch: usize,
    /// Learning rate.
    pub lr: f64,
    /// Stop after this many steps.
    pub max_steps: Option<usize>,
    /// Batch order and initialization.
    pub seed: u64,
}

/// One layer as planned.
#[derive(Debug, Clone, Serialize)]
pub struct LayerRow {
    /// Kind.
    pub kind: String,
    /// Output shape of one example.
    pub output: Vec<usize>,
    /// Parameters.
    pub params: usize,
}

/// What it reports.
#[derive(Debug, Clone, Serialize)]
pub struct CustomReport {
    /// The model file.
    pub model: String,
    /// Its layers.
    pub layers: Vec<LayerRow>,
    /// Parameters in all.
    pub params: usize,
    /// Training examples.
    pub train_size: usize,
    /// Test examples.
    pub test_size: usize,
    /// Steps run.
    pub steps: usize,
    /// Test accuracy.
    pub accuracy: f64,
    /// The accuracy of always predicting the test set's most common target (what the model must beat).
    pub majority_accuracy: f64,
    /// Loss per step.
    pub loss_curve: Vec<f64>,
    /// Median CPU seconds of a training step (one core).
    pub step_seconds: f64,
    /// Seed.
    pub seed: u64,
    /// The outputs of the first test examples (after softmax for cross-entropy).
    pub first_outputs: Vec<Vec<f64>>,
}

/// Trains `model` on `train` and tests it on `test`, in plaintext.
pub fn run(model: ModelKind, name: &str, train: &Rows, test: &Rows, cfg: &CustomConfig) -> Result<CustomReport> {
    let net = model.net();
    if cfg.batch == 0 || cfg.epochs == 0 {
        return Err(invalid("--batch and --epochs must be at least 1"));
    }
    if !(cfg.lr.is_finite() && cfg.lr > 0.0) {
        return Err(invalid(format!("--lr must be a positive finite number, got {}", cfg.lr)));
    }
    for (what, r) in [("training", train), ("test", test)] {
        if r.dim != net.input_len() {
            return Err(invalid(format!(
                "the {what} data has {} features per example; the model takes {:?} = {}",
                r.dim,
                net.spec.input,
                net.input_len()
            )));
        }
        if r.count == 0 {
            return Err(invalid(format!("the {what} data is empty")));
        }
        net.targets(&r.labels).map_err(|e| invalid(format!("{what} labels: {}", e.detail())))?;
    }
    if cfg.batch > train.count {
        return Err(invalid(format!("--batch {} is larger than the {} training examples", cfg.batch, train.count)));
    }
    crate::models::check_steps(train.count, cfg.batch, cfg.epochs, cfg.max_steps)?;
    let mut sc = SimulateConfig::paper(model, ProtocolChoice::Plain);
    (sc.epochs, sc.batch, sc.lr, sc.max_steps, sc.seed) = (cfg.epochs, cfg.batch, cfg.lr, cfg.max_steps, cfg.seed);
    let (sched, infer) = batches(&sc, train.count, test.count);
    let run = run_plain(&sc, train, test, &sched, &infer, &ProgressBar::hidden())?;
    if let Some(i) = run.losses.iter().position(|l| !l.is_finite()) {
        return Err(invalid(format!("the loss diverged at step {} (lower --lr)", i + 1)));
    }
    // Always predicting the most common target row scores its frequency.
    let targets = net.targets(&test.labels)?;
    let mut counts: std::collections::HashMap<Vec<u64>, usize> = std::collections::HashMap::new();
    for row in targets.rows() {
        *counts.entry(row.iter().map(|v| v.to_bits()).collect()).or_default() += 1;
    }
    let majority_accuracy = counts.values().copied().max().unwrap_or(0) as f64 / test.count as f64;
    let plan = net.spec.plan()?;
    Ok(CustomReport {
        model: name.to_string(),
        layers: plan
            .iter()
            .map(|p| LayerRow {
                kind: p.layer.kind().into(),
                output: p.output.clone(),
                params: p.params.iter().map(|s| s.iter().product::<usize>()).sum(),
            })
            .collect(),
        params: net.spec.param_count()?,
        train_size: train.count,
        test_size: test.count,
        steps: sched.len(),
        accuracy: run.accuracy,
        majority_accuracy,
        step_seconds: median(run.step_seconds),
        loss_curve: run.losses,
        seed: cfg.seed,
        first_outputs: run.first_outputs,
    })
}
