//! `rtas simulate --model FILE --protocol plain` for any model file: training and testing in plaintext,
//! with the loss curve, accuracy and the time per step. (The secure protocols run the paper's two
//! architectures; a model file that describes one of them runs under every protocol.)

use crate::error::{Result, invalid};
use crate::models::graph::Net;
use crate::sim::clock::thread_cpu_ns;
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

impl Rows {
    fn batch(&self, rows: &[usize]) -> (ArrayD<f64>, Vec<f64>) {
        let mut x = Vec::with_capacity(rows.len() * self.dim);
        for &r in rows {
            x.extend_from_slice(&self.x[r * self.dim..(r + 1) * self.dim]);
        }
        let x =
            ArrayD::from_shape_vec(IxDyn(&[rows.len(), self.dim]), x).unwrap_or_else(|_| ArrayD::zeros(IxDyn(&[0])));
        (x, rows.iter().map(|&r| self.labels[r]).collect())
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
}

/// Trains `net` on `train` and tests it on `test`, in plaintext.
pub fn run(net: &Net, name: &str, train: &Rows, test: &Rows, cfg: &CustomConfig) -> Result<CustomReport> {
    if cfg.batch == 0 || cfg.epochs == 0 {
        return Err(invalid("--batch and --epochs must be at least 1"));
    }
    if !(cfg.lr.is_finite() && cfg.lr > 0.0) {
        return Err(invalid(format!("--lr must be a positive finite number, got {}", cfg.lr)));
    }
    if cfg.max_steps == Some(0) {
        return Err(invalid("--max-steps must be at least 1"));
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
    let sched = crate::models::run_schedule(train.count, cfg.batch, cfg.epochs, cfg.max_steps, cfg.seed);
    let mut params = net.init(cfg.seed);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().map_err(|e| invalid(e.to_string()))?;
    let (loss_curve, mut times) = pool.install(|| -> Result<(Vec<f64>, Vec<f64>)> {
        let (mut losses, mut times) = (Vec::new(), Vec::new());
        for rows in &sched {
            let (x, l) = train.batch(rows);
            let t0 = thread_cpu_ns();
            let s = net.train_step(&mut params, &x, &l, cfg.lr)?;
            times.push((thread_cpu_ns() - t0) as f64 * 1e-9);
            if !s.loss.is_finite() {
                return Err(invalid(format!("the loss diverged at step {} (lower --lr)", losses.len() + 1)));
            }
            losses.push(s.loss);
        }
        Ok((losses, times))
    })?;
    let mut correct = 0;
    let all: Vec<usize> = (0..test.count).collect();
    for rows in all.chunks(1000) {
        let (x, l) = test.batch(rows);
        correct += net.correct(&net.predict(&params, &x)?, &l)?;
    }
    times.sort_by(f64::total_cmp);
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
        accuracy: correct as f64 / test.count as f64,
        majority_accuracy,
        loss_curve,
        step_seconds: times.get(times.len() / 2).copied().unwrap_or(0.0),
        seed: cfg.seed,
    })
}
