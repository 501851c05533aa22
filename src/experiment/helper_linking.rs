//! The dealer-helper linking attack measured over independent runs: the first training step of logistic
//! regression under RTAS, with the paper's helper (permuted shares sent as they are) and with rtas's
//! re-randomized shares, each attacked from the dealer's recorded view.

use super::simulate::{ProtocolChoice, SimulateConfig, record_with};
use crate::analysis::estimate::Estimate;
use crate::attacks::helper_linking::{self, Knowledge};
use crate::error::{Result, invalid};
use crate::models::secure::Protocol;
use crate::models::{ModelKind, Prepared};
use crate::net::Role;
use crate::protocol::elementwise::HelperMode;
use crate::protocol::ring::RingArith;
use indicatif::ProgressBar;
use rand::seq::SliceRandom;
use serde::Serialize;

/// Settings.
#[derive(Debug, Clone)]
pub struct HelperLinking {
    /// Independent runs (each its own seed, batch and permutation).
    pub runs: usize,
    /// Candidate records the attacker holds, the batch's among them.
    pub candidates: usize,
    /// Seed of the first run (run r uses seed + r).
    pub seed: u64,
}

/// One protocol variant's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct VariantOutcome {
    /// `paper` or `rerandomized`.
    pub helper: HelperMode,
    /// Runs in which the whole permuted vector was put back in order, every record named, with its 95%
    /// interval.
    #[serde(flatten)]
    pub vectors_recovered: Estimate,
    /// Mean share of batch slots linked to the right record.
    pub mean_slots_linked: f64,
    /// The share a guess achieves: one of `candidates` records per slot.
    pub chance_slots_linked: f64,
}

/// Both variants.
#[derive(Debug, Clone, Serialize)]
pub struct HelperLinkingReport {
    /// Runs per variant.
    pub runs: usize,
    /// Candidate records.
    pub candidates: usize,
    /// Batch size (slots per permuted vector).
    pub batch: usize,
    /// log10 of 1/batch!: the paper's Theorem 3.4 figure for one permuted vector.
    pub paper_log10_epsilon: f64,
    /// The paper's helper, then rtas's.
    pub variants: Vec<VariantOutcome>,
}

/// The attacker's candidate records: the batch's and `size - batch` others of the `records`, shuffled (it does
/// not know which are the batch's).
fn candidate_set(truth: &[usize], records: usize, size: usize, mut rng: crate::rng::Rng) -> Vec<usize> {
    let mut rest: Vec<usize> = (0..records).filter(|i| !truth.contains(i)).collect();
    rest.shuffle(&mut rng);
    let mut candidates: Vec<usize> = truth.iter().copied().chain(rest.into_iter().take(size - truth.len())).collect();
    candidates.shuffle(&mut rng);
    candidates
}

/// Runs the attack `cfg.runs` times on each helper variant.
pub fn run(cfg: &HelperLinking, train: &Prepared, test: &Prepared, pb: &ProgressBar) -> Result<HelperLinkingReport> {
    let batch = 32;
    if cfg.runs == 0 {
        return Err(invalid("--runs must be at least 1"));
    }
    if cfg.candidates < batch || cfg.candidates > train.count {
        return Err(invalid(format!(
            "--candidates must lie between the batch size {batch} and the {} training records",
            train.count
        )));
    }
    pb.set_length(2 * cfg.runs as u64);
    let zeros = vec![0.0; 784];
    let mut variants = Vec::new();
    for helper in [HelperMode::Paper, HelperMode::Rerandomized] {
        let (mut recovered, mut linked) = (0u64, 0.0);
        for r in 0..cfg.runs {
            let seed = cfg.seed.wrapping_add(r as u64);
            let mut sc = SimulateConfig::paper(ModelKind::LogReg, ProtocolChoice::Secure(Protocol::Rtas));
            sc.max_steps = Some(1);
            sc.seed = seed;
            sc.helper = helper;
            let run = record_with(sc, (train, test), &ProgressBar::hidden())?;
            let truth = run.schedule.first().ok_or_else(|| invalid("the run made no training step"))?;
            let candidates = candidate_set(truth, train.count, cfg.candidates, crate::rng::stream(seed, 4242));
            let know = Knowledge {
                candidates: &candidates,
                data: train,
                initial_weights: &zeros,
                arith: RingArith::default(),
            };
            let out = helper_linking::run(run.view(Role::Dealer)?, &know, truth)?;
            recovered += u64::from(out.vector_recovered);
            linked += out.slots_linked as f64 / out.slots as f64;
            crate::cancel::tick(pb, 1)?;
        }
        variants.push(VariantOutcome {
            helper,
            vectors_recovered: Estimate::from_counts(recovered, cfg.runs as u64)?,
            mean_slots_linked: linked / cfg.runs as f64,
            chance_slots_linked: 1.0 / cfg.candidates as f64,
        });
    }
    pb.finish_and_clear();
    Ok(HelperLinkingReport {
        runs: cfg.runs,
        candidates: cfg.candidates,
        batch,
        paper_log10_epsilon: -crate::analysis::special::ln_factorial(batch as f64) / std::f64::consts::LN_10,
        variants,
    })
}

/// The value-linking attack's outcome per helper variant.
#[derive(Debug, Clone, Serialize)]
pub struct ValueVariant {
    /// `paper` or `rerandomized`.
    pub helper: HelperMode,
    /// Runs in which the batch's records were named exactly.
    #[serde(flatten)]
    pub batch_named: Estimate,
    /// Across runs, the lowest share of its values a batch record found.
    pub member_low: f64,
    /// Across runs, the highest share of its values a record outside the batch found.
    pub outsider_high: f64,
}

/// The value-linking attack on the CNN (random initial weights, known to the helper), both helper variants.
#[derive(Debug, Clone, Serialize)]
pub struct ValueLinkingReport {
    /// Runs per variant.
    pub runs: usize,
    /// Candidate records.
    pub candidates: usize,
    /// Batch size.
    pub batch: usize,
    /// The paper's helper, then rtas's.
    pub variants: Vec<ValueVariant>,
}

/// Runs [`crate::attacks::value_linking`] `cfg.runs` times per helper variant on the first training step of the
/// CNN under RTAS, each run with its own seed, batch, permutation and owner's `init_seed` (which the helper is
/// granted).
pub fn run_values(
    cfg: &HelperLinking,
    train: &Prepared,
    test: &Prepared,
    pb: &ProgressBar,
) -> Result<ValueLinkingReport> {
    use crate::attacks::value_linking::{ValueKnowledge, run as attack};
    let batch = 32;
    if cfg.runs == 0 || cfg.candidates < batch || cfg.candidates > train.count {
        return Err(invalid("value linking: --runs at least 1, --candidates between the batch and the records"));
    }
    let model = ModelKind::Cnn;
    let mut variants = Vec::new();
    for helper in [HelperMode::Paper, HelperMode::Rerandomized] {
        let (mut named, mut low, mut high) = (0u64, 1.0f64, 0.0f64);
        for r in 0..cfg.runs {
            let seed = cfg.seed.wrapping_add(r as u64);
            let mut sc = SimulateConfig::paper(model, ProtocolChoice::Secure(Protocol::Rtas));
            sc.max_steps = Some(1);
            sc.seed = seed;
            sc.helper = helper;
            sc.init_seed = Some(seed ^ 0x5eed);
            let run = record_with(sc, (train, test), &ProgressBar::hidden())?;
            let truth = run.schedule.first().ok_or_else(|| invalid("the run made no training step"))?;
            let candidates = candidate_set(truth, train.count, cfg.candidates, crate::rng::stream(seed, 4243));
            let init = super::simulate::initial_params(model, seed ^ 0x5eed);
            let know = ValueKnowledge {
                candidates: &candidates,
                data: train,
                model,
                first: &init[..model.first_layer_params()],
                arith: RingArith::default(),
            };
            let out = attack(run.view(Role::Dealer)?, &know, truth)?;
            named += u64::from(out.batch_named);
            low = low.min(out.member_low);
            high = high.max(out.outsider_high);
            crate::cancel::tick(pb, 1)?;
        }
        variants.push(ValueVariant {
            helper,
            batch_named: Estimate::from_counts(named, cfg.runs as u64)?,
            member_low: low,
            outsider_high: high,
        });
    }
    Ok(ValueLinkingReport { runs: cfg.runs, candidates: cfg.candidates, batch, variants })
}
