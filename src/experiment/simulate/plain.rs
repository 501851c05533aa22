//! The plaintext driver: every model (the paper's and model files) on any data source (images, a user's
//! table, real-valued targets), trained on one core with each step timed; the reference every secure run
//! is compared with, and `rtas simulate --protocol plain`.

use super::SimulateConfig;
use crate::error::{Result, invalid};
use crate::models::{ModelKind, Prepared};
use crate::sim::clock::thread_cpu_ns;
use indicatif::ProgressBar;
use ndarray::ArrayD;

/// The median (the upper one of an even count; 0 for none).
pub(crate) fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Examples a model trains or is tested on: the inputs of a batch of rows, and their labels (class
/// numbers, or real targets for a model whose loss takes values).
pub trait Examples: Sync {
    /// The inputs of `rows`, batch first.
    fn inputs(&self, model: ModelKind, rows: &[usize]) -> ArrayD<f64>;
    /// The labels of `rows`.
    fn labels(&self, rows: &[usize]) -> Vec<f64>;
}

impl Examples for Prepared {
    fn inputs(&self, model: ModelKind, rows: &[usize]) -> ArrayD<f64> {
        self.batch(model, rows)
    }

    fn labels(&self, rows: &[usize]) -> Vec<f64> {
        rows.iter().map(|&r| f64::from(self.labels[r])).collect()
    }
}

/// Plaintext training with per-step timing on one core.
#[derive(Clone)]
pub(crate) struct PlainRun {
    /// The final parameters.
    pub(crate) params: Vec<ArrayD<f64>>,
    /// Loss per step.
    pub(crate) losses: Vec<f64>,
    /// Accuracy on each training batch.
    pub(crate) batch_acc: Vec<f64>,
    /// CPU seconds of each step.
    pub(crate) step_seconds: Vec<f64>,
    /// Test accuracy.
    pub(crate) accuracy: f64,
    /// CPU seconds of the first inference batch.
    pub(crate) infer_seconds: f64,
    /// The outputs of the first test examples.
    pub(crate) first_outputs: Vec<Vec<f64>>,
    /// What it was trained on, when it is to be reused ([`super::simulate_plain`]).
    pub(crate) key: Option<super::PlainKey>,
}

/// How many test examples' outputs a report shows.
pub(crate) const FIRST_OUTPUTS: usize = 4;

/// The first [`FIRST_OUTPUTS`] rows of `yhat` (a batch's outputs).
pub(crate) fn first_rows(yhat: &ArrayD<f64>) -> Vec<Vec<f64>> {
    yhat.outer_iter().take(FIRST_OUTPUTS).map(|r| r.iter().copied().collect()).collect()
}

/// Trains `cfg.model` in plaintext on the batches `sched` of `train` (from the initial parameters every
/// protocol of the run starts from) and tests it on the batches `infer` of `test`.
pub(crate) fn run_plain(
    cfg: &SimulateConfig,
    train: &dyn Examples,
    test: &dyn Examples,
    sched: &[Vec<usize>],
    infer: &[Vec<usize>],
    pb: &ProgressBar,
) -> Result<PlainRun> {
    let model = cfg.model;
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().map_err(|e| invalid(e.to_string()))?;
    pool.install(|| {
        let mut params = init(cfg);
        let (mut losses, mut batch_acc, mut step_seconds) = (Vec::new(), Vec::new(), Vec::new());
        for rows in sched {
            let x = train.inputs(model, rows);
            let labels = train.labels(rows);
            let y = model.net().targets(&labels)?;
            let t0 = thread_cpu_ns();
            let out = model.net().train_on(&mut params, &x, &y, cfg.lr)?;
            step_seconds.push((thread_cpu_ns() - t0) as f64 * 1e-9);
            losses.push(out.loss);
            batch_acc.push(model.net().correct(&out.yhat, &labels)? as f64 / rows.len() as f64);
            crate::cancel::tick(pb, 1)?;
        }
        let (mut correct, mut total, mut infer_times, mut first_outputs) = (0, 0, Vec::new(), Vec::new());
        for rows in infer {
            let x = test.inputs(model, rows);
            let t0 = thread_cpu_ns();
            let yhat = model.net().predict(&params, &x)?;
            infer_times.push((thread_cpu_ns() - t0) as f64 * 1e-9);
            if first_outputs.is_empty() {
                first_outputs = first_rows(&yhat);
            }
            correct += model.net().correct(&yhat, &test.labels(rows))?;
            total += rows.len();
        }
        Ok(PlainRun {
            params,
            losses,
            batch_acc,
            step_seconds,
            accuracy: correct as f64 / total.max(1) as f64,
            infer_seconds: infer_times.first().copied().unwrap_or(0.0),
            first_outputs,
            key: None,
        })
    })
}

/// The shared initialization: Glorot for the CNN; zero weights for logistic regression (its standard start,
/// which reaches the paper's accuracy in one epoch).
pub(super) fn init(cfg: &SimulateConfig) -> Vec<ArrayD<f64>> {
    initial_params(cfg.model, cfg.init_seed.unwrap_or(cfg.seed))
}

/// The initial parameters every protocol of a run starts from, drawn from `seed`.
pub fn initial_params(model: ModelKind, seed: u64) -> Vec<ArrayD<f64>> {
    let mut p = model.init(seed);
    if model == ModelKind::LogReg {
        p.iter_mut().for_each(|a| a.fill(0.0));
    }
    p
}
