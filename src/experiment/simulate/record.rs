//! A secure run kept with every role's view: the one way to record a run for the attacks.

use super::{ProtocolChoice, SimulateConfig, SimulateReport, simulate};
use crate::error::{Result, invalid};
use crate::models::secure::Protocol;
use crate::models::{ModelKind, Prepared};
use crate::net::Role;
use crate::sim::record::View;
use indicatif::ProgressBar;
use ndarray::ArrayD;
use std::collections::BTreeMap;

/// A secure run kept with what each role saw: the one way to record a run for attacks.
#[derive(Debug)]
pub struct RecordedRun {
    /// The simulation's report.
    pub report: SimulateReport,
    /// Each role's view: what it received, its own inputs, the seeds it drew.
    pub views: BTreeMap<Role, View>,
    /// The training batches run (public to every role).
    pub schedule: Vec<Vec<usize>>,
    /// The final parameters (for attacks that assume they leaked).
    pub final_params: Vec<ArrayD<f64>>,
}

impl RecordedRun {
    /// One role's view.
    pub fn view(&self, role: Role) -> Result<&View> {
        self.views.get(&role).ok_or_else(|| invalid(format!("{role} took no part in this run")))
    }
}

/// Runs `model` under `protocol` in the paper's setting for `steps` training steps on `train` (inference on
/// `test`), from `seed`, recording every role's view; `pb` shows progress.
pub fn record(
    model: ModelKind,
    protocol: Protocol,
    steps: usize,
    seed: u64,
    data: (&Prepared, &Prepared),
    pb: &ProgressBar,
) -> Result<RecordedRun> {
    let mut cfg = SimulateConfig::paper(model, ProtocolChoice::Secure(protocol));
    cfg.max_steps = Some(steps);
    cfg.seed = seed;
    record_with(cfg, data, pb)
}

/// [`record`] with any configuration (views are always recorded).
pub fn record_with(
    mut cfg: SimulateConfig,
    (train, test): (&Prepared, &Prepared),
    pb: &ProgressBar,
) -> Result<RecordedRun> {
    if cfg.max_steps == Some(0) {
        return Err(invalid("--steps must be at least 1"));
    }
    cfg.record_views = true;
    let out = simulate(&cfg, train, test, pb)?;
    let views = out.recording.map(|r| r.views).ok_or_else(|| invalid("the run recorded no views"))?;
    Ok(RecordedRun { report: out.report, views, schedule: out.schedule, final_params: out.final_params })
}
