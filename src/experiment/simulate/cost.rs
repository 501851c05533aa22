//! What one training step and one inference batch of a secure run cost, from its recording: bytes per
//! directed link and phase against the analytic floor, rounds, CPU per party, modeled time per network.

use super::{PlainRun, SimulateConfig, SimulateReport, StepCost, median};
use crate::error::Result;
use crate::models::ModelKind;
use crate::net::Stage;
use crate::sim::cost::Profile;
use crate::sim::measure::measure;
use crate::sim::record::Recording;
use std::collections::BTreeMap;

fn floor_bytes(model: ModelKind, batch: usize, reuse: bool) -> u64 {
    // The first layer's weights (what mask reuse still opens), or the batch's inputs.
    let weights = model.param_shapes().first().map_or(0, |(_, s)| s.iter().product::<usize>());
    let elems = if reuse { weights } else { batch * model.input_len() };
    2 * 8 * elems as u64
}

fn step_cost(
    rec: &Recording,
    stages: &[Stage],
    profiles: &[Profile],
    plain_seconds: f64,
    floor: u64,
    batch: usize,
) -> Result<StepCost> {
    let mut cost = StepCost { batch, plain_seconds, floor_bytes_p0_p1: floor, ..Default::default() };
    let mut compute: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut modeled: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut online: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for (k, &stage) in stages.iter().enumerate() {
        let m = measure(&rec.stage(stage), profiles)?;
        if k == 0 {
            // Every measured step has the same shapes, so the first one's traffic stands for all.
            cost.bytes_p0_p1 = m.traffic.bytes_p0_p1;
            cost.rounds = m.traffic.rounds;
            cost.total_bytes = m.traffic.total_bytes;
            cost.traffic = m.traffic;
            cost.per_label_seconds = m.per_label_seconds;
        }
        for (party, s) in m.compute_seconds {
            compute.entry(party).or_default().push(s);
        }
        for (name, s) in m.modeled_seconds {
            modeled.entry(name).or_default().push(s);
        }
        for (name, s) in m.modeled_online_seconds {
            online.entry(name).or_default().push(s);
        }
    }
    cost.compute_seconds = compute.into_iter().map(|(k, v)| (k, median(v))).collect();
    cost.modeled_seconds = modeled.into_iter().map(|(k, v)| (k, median(v))).collect();
    cost.modeled_online_seconds = online.into_iter().map(|(k, v)| (k, median(v))).collect();
    if plain_seconds > 0.0 {
        cost.ratio_to_plain = cost.modeled_seconds.iter().map(|(k, v)| (k.clone(), v / plain_seconds)).collect();
        cost.compute_ratio = cost.compute_seconds.values().copied().fold(0.0, f64::max) / plain_seconds;
    }
    Ok(cost)
}

/// Up to 16 evenly spaced indices of `n` (skipping the first, which warms caches, when there are more).
fn sample(n: usize) -> Vec<usize> {
    if n <= 2 {
        return (0..n).collect();
    }
    let k = 16.min(n - 1);
    (0..k).map(|i| 1 + i * (n - 1) / k).collect()
}

/// Fills a report's step costs from a secure run's recording: a training step (median over sampled
/// steps), the first inference batch, and with mask reuse the one-time opening of the training set.
pub(crate) fn costs(
    cfg: &SimulateConfig,
    rec: &Recording,
    (sched, infer): (&[Vec<usize>], &[Vec<usize>]),
    train_count: usize,
    plain_run: &PlainRun,
    report: &mut SimulateReport,
) -> Result<()> {
    let model = cfg.model;
    let plain_step = median(plain_run.step_seconds.clone());
    report.train_step = step_cost(
        rec,
        &train_stages(sched.len()),
        &cfg.profiles,
        plain_step,
        floor_bytes(model, cfg.batch, cfg.reuse_masks),
        cfg.batch,
    )?;
    report.infer_batch = step_cost(
        rec,
        &[Stage::Infer(0)],
        &cfg.profiles,
        plain_run.infer_seconds,
        floor_bytes(model, infer[0].len(), false),
        infer[0].len(),
    )?;
    if cfg.reuse_masks {
        report.one_time = Some(step_cost(
            rec,
            &[Stage::Data],
            &cfg.profiles,
            0.0,
            floor_bytes(model, train_count, false),
            train_count,
        )?);
    }
    Ok(())
}

/// The training steps a report's step cost is the median of (the first of them gives its traffic).
pub(crate) fn train_stages(steps: usize) -> Vec<Stage> {
    sample(steps).into_iter().map(|i| Stage::Train(i as u32)).collect()
}
