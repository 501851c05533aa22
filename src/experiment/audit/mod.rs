//! `rtas audit`: every claim of the paper in a stated setting, its bound there, every attack rtas mounts
//! against it (seeded) with the knowledge each uses and its 95% interval, and a verdict computed by the rule
//! of [`super::claims`].

mod cost;
mod float_shares;
mod helper;
mod linear;
mod permutation;
mod rows_linking;
mod rtas_fast;

pub use float_shares::float_run_view;

use super::helper_linking;
use crate::analysis::estimate::Estimate;
use crate::analysis::{bounds, estimate};
use crate::attacks::{decoder, degree_matching, float_share, helper_view, known_plaintext, linking, pixel_permutation};
use crate::data::mnist;
use crate::error::Result;
use crate::experiment::simulate::{ProtocolChoice, Sharing, SimulateConfig, record, record_with};
use crate::models::secure::Protocol;
use crate::models::{ModelKind, Prepared};
use crate::net::Role;
use crate::protocol::elementwise::HelperMode;
use crate::protocol::ring::{FloatArith, RingArith};
use indicatif::ProgressBar;
use serde::Serialize;

pub use super::claims::{Attempt, Baseline, Claim, OtherBound, Verdict};

/// One cost measure of one workload: RTAS against the cryptographic baseline in the same dealer model.
#[derive(Debug, Clone, Serialize)]
pub struct CostMeasure {
    /// The workload (`logreg train step`, `cnn inference batch 256`).
    pub workload: String,
    /// What is measured (`online bytes`, `offline bytes`, `online rounds`, `LAN s`, `WAN s`).
    pub measure: String,
    /// RTAS's figure.
    pub rtas: f64,
    /// RTAS-fast's figure.
    pub rtas_fast: f64,
    /// The FSS baseline's figure.
    pub mpc: f64,
    /// RTAS / mpc.
    pub ratio_rtas_to_mpc: f64,
    /// Which of RTAS and mpc costs less here.
    pub cheaper: String,
}

/// The paper's central claim, measured: RTAS against the best cryptography in the same trust model.
#[derive(Debug, Clone, Serialize)]
pub struct CostClaim {
    /// The statement.
    pub statement: String,
    /// Every measure of every workload.
    pub measures: Vec<CostMeasure>,
    /// Measures where RTAS costs less, out of all.
    pub rtas_cheaper: usize,
    /// All measures compared.
    pub compared: usize,
    /// What RTAS reveals that mpc does not (from this audit's rows).
    pub rtas_reveals: Vec<String>,
}

/// The audit.
#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    /// Every claim, with its computed verdict.
    pub claims: Vec<Claim>,
    /// The paper's central claim (RTAS is much cheaper than cryptographic MPC), measured.
    pub cost: CostClaim,
    /// Quick settings.
    pub quick: bool,
    /// Seed of every attack.
    pub seed: u64,
    /// Seconds the audit took.
    pub seconds: f64,
}

pub(super) fn est(successes: u64, trials: u64) -> Result<Estimate> {
    Estimate::from_counts(successes, trials)
}

pub(super) fn count(share: f64, of: usize) -> u64 {
    (share * of as f64).round() as u64
}

/// What a claim's attacks may use: the audit's settings and the bundled digits.
pub(super) struct Setting {
    /// Fewer trials and training steps.
    pub quick: bool,
    /// Seed of every attack.
    pub seed: u64,
    /// All 10,000 digits.
    pub all: Prepared,
    /// The 8,000 training digits.
    pub train: Prepared,
    /// The first 100 test digits (the attacked runs' inference).
    pub test: Prepared,
    /// The 2,000 held-out digits: public data for priors, and the pool of the cost comparison's inference
    /// batches.
    pub held_out: Prepared,
    /// A hidden progress bar for the runs inside a claim.
    pub hidden: ProgressBar,
}

/// A claim of the paper: its setting, its bound there, the attacks mounted and the verdict.
type ClaimOf = fn(&Setting) -> Result<Claim>;

/// Every claim the audit judges, in the order it reports them. A new claim is a file in this folder (its
/// setting, the paper's bound, the attacks) and a line here.
const CLAIMS: [ClaimOf; 8] = [
    |s| linear::theorem_3_3(s.quick, s.seed, &s.hidden),
    |s| permutation::theorem_3_4(&s.all, s.seed),
    |s| rows_linking::linking_3_3_1(s.seed),
    |s| rows_linking::ids_3_4(s.seed),
    |s| float_shares::float_shares_4_1(&s.all, (&s.train, &s.test), &s.held_out, s.seed, &s.hidden),
    |s| rtas_fast::rtas_fast_4_2_2(s.quick, s.seed, (&s.train, &s.test), &s.hidden),
    |s| helper::helper_order_4_2_1(s.quick, s.seed, (&s.train, &s.test), &s.hidden),
    |s| helper::helper_labels_4_2_1(s.seed, (&s.train, &s.test), &s.hidden),
];

/// Runs the audit (`quick`: fewer trials and training steps).
pub fn audit(quick: bool, seed: u64, pb: &ProgressBar) -> Result<AuditReport> {
    let start = std::time::Instant::now();
    let all = Prepared::new(&mnist::bundled()?)?;
    let (tr, te) = mnist::bundled_split()?;
    let train = Prepared::new(&tr)?;
    let test = Prepared::new(&te.slice(0, 100))?;
    let held_out = Prepared::new(&te)?;
    pb.set_length(CLAIMS.len() as u64);
    let setting = Setting { quick, seed, all, train, test, held_out, hidden: ProgressBar::hidden() };
    let mut claims = Vec::with_capacity(CLAIMS.len());
    for (i, claim) in CLAIMS.iter().enumerate() {
        if i > 0 {
            pb.inc(1);
        }
        claims.push(claim(&setting)?);
    }
    let Setting { train, held_out, .. } = setting;
    let cost = cost::cost_claim(quick, seed, (&train, &held_out), &claims)?;
    pb.inc(1);
    pb.finish_and_clear();
    Ok(AuditReport { claims, cost, quick, seed, seconds: start.elapsed().as_secs_f64() })
}

/// One figure of a step's cost.
pub(super) type Measure = Box<dyn Fn(&crate::experiment::simulate::StepCost) -> f64>;
