//! One plaintext run for several protocols or settings: the audit's DP row trains each DP-SGD setting beside
//! the plaintext run at its learning rate, which [`simulate`](super::simulate) would train again each time.

use super::{PlainRun, SimulateConfig, SimulateOutput, batches, check_data, run_after_plain, run_plain};
use crate::error::{Result, invalid};
use crate::models::Prepared;
use indicatif::ProgressBar;

/// The plaintext run every protocol's report is set beside (what [`simulate`] runs first), for callers that
/// run several protocols or settings on one plaintext training: see [`simulate_after_plain`].
pub(crate) fn simulate_plain(cfg: &SimulateConfig, train: &Prepared, test: &Prepared) -> Result<PlainRun> {
    check_data(cfg, train, test)?;
    let (sched, infer) = batches(cfg, train.count, test.count);
    let mut run = run_plain(cfg, train, test, &sched, &infer, &ProgressBar::hidden())?;
    run.key = Some(PlainKey::of(cfg, train.count, test.count));
    Ok(run)
}

/// [`simulate`] with its plaintext run given: `plain` must come from [`simulate_plain`] of a configuration
/// that differs from `cfg` at most in the protocol and its settings (checked), so the report is the one
/// `simulate` would give but for the plaintext step's measured CPU time.
pub(crate) fn simulate_after_plain(
    cfg: &SimulateConfig,
    train: &Prepared,
    test: &Prepared,
    pb: &ProgressBar,
    plain: &PlainRun,
) -> Result<SimulateOutput> {
    check_data(cfg, train, test)?;
    if plain.key != Some(PlainKey::of(cfg, train.count, test.count)) {
        return Err(invalid("internal: a plaintext run reused for another model, data or schedule"));
    }
    let (sched, infer) = batches(cfg, train.count, test.count);
    pb.set_length(2 * sched.len() as u64);
    pb.inc(sched.len() as u64);
    run_after_plain(cfg, (train, test), (sched, infer), plain.clone(), pb)
}

/// What a plaintext run depends on: the model, the data's sizes and every setting of the schedule and the
/// initial parameters (not the protocol).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PlainKey {
    model: String,
    counts: (usize, usize),
    lr: u64,
    schedule: (usize, usize, usize, Option<usize>, u64),
    init_seed: Option<u64>,
}

impl PlainKey {
    fn of(cfg: &SimulateConfig, train: usize, test: usize) -> Self {
        Self {
            model: cfg.model.name().to_string(),
            counts: (train, test),
            lr: cfg.lr.to_bits(),
            schedule: (cfg.batch, cfg.epochs, cfg.infer_batch, cfg.max_steps, cfg.seed),
            init_seed: cfg.init_seed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::dp_sgd::{DpConfig, DpNoise, DpSampling};
    use super::*;
    use crate::experiment::simulate::{ProtocolChoice, SimulateConfig, simulate};
    use crate::models::ModelKind;

    #[test]
    fn a_reused_plaintext_run_gives_simulates_results_and_refuses_another_setting() {
        let (tr, te) = crate::data::mnist::bundled_split().unwrap();
        let (train, test) = (Prepared::new(&tr.slice(0, 640)).unwrap(), Prepared::new(&te.slice(0, 100)).unwrap());
        let mut cfg = SimulateConfig::paper(ModelKind::LogReg, ProtocolChoice::DpSgd);
        cfg.dp =
            Some(DpConfig { noise: DpNoise::Multiplier(1.0), clip: 0.3, delta: 1e-5, sampling: DpSampling::Poisson });
        let hidden = ProgressBar::hidden();
        let own = simulate(&cfg, &train, &test, &hidden).unwrap();
        let plain =
            simulate_plain(&SimulateConfig { protocol: ProtocolChoice::Plain, dp: None, ..cfg.clone() }, &train, &test)
                .unwrap();
        let reused = simulate_after_plain(&cfg, &train, &test, &hidden, &plain).unwrap();
        assert_eq!(own.final_params, reused.final_params);
        assert_eq!(own.report.accuracy, reused.report.accuracy);
        assert_eq!(own.report.plain_accuracy, reused.report.plain_accuracy);
        assert_eq!(own.report.max_param_diff_vs_plain, reused.report.max_param_diff_vs_plain);
        for other in [SimulateConfig { lr: 0.2, ..cfg.clone() }, SimulateConfig { seed: 2, ..cfg.clone() }] {
            let e = simulate_after_plain(&other, &train, &test, &hidden, &plain).unwrap_err();
            assert!(e.to_string().contains("another model, data or schedule"), "{e}");
        }
        assert!(simulate_after_plain(&cfg, &train, &test.range(0, 50), &hidden, &plain).is_err());
    }
}
