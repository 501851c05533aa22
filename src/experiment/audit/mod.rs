//! `rtas audit`: every claim of the paper in a stated setting, its bound there, every attack rtas mounts
//! against it (seeded) with the knowledge each uses and its 95% interval, and a verdict computed by the rule
//! of [`super::claims`].

mod cost;
mod definitions;
pub mod dp;
mod float_shares;
mod helper;
mod linear;
mod openings;
mod permutation;
mod rows_linking;
mod rtas_fast;

pub use float_shares::{float_run, float_run_view};

use super::helper_linking;
use crate::analysis::estimate::Estimate;
use crate::analysis::{bounds, estimate};
use crate::attacks::{decoder, degree_matching, float_share, helper_view, known_plaintext, linking, pixel_permutation};
use crate::data::mnist;
use crate::error::Result;
use crate::experiment::shared_runs::SharedRuns;
use crate::experiment::simulate::{ProtocolChoice, Sharing, SimulateConfig, record, record_with};
use crate::models::secure::Protocol;
use crate::models::{ModelKind, Prepared};
use crate::net::Role;
use crate::protocol::elementwise::HelperMode;
use crate::protocol::ring::{FloatArith, RingArith};
use indicatif::ProgressBar;
use serde::Serialize;
use std::sync::Arc;

pub use super::claims::{Attempt, Baseline, Claim, SeedRow, Verdict};

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
    /// The FSS baseline's figure: the better of its two gates here (one round with DCF keys, or two rounds
    /// with DPF keys of less than half the size).
    pub mpc: f64,
    /// The gate that figure came from: `dcf` or `dpf` (`dcf` when both give the same).
    pub mpc_gate: String,
    /// mpc's figure under each gate: (DCF, DPF).
    pub mpc_by_gate: (f64, f64),
    /// RTAS / mpc.
    pub ratio_rtas_to_mpc: f64,
    /// Which of RTAS and mpc costs less here: `rtas`, `mpc`, `equal`, or `tie` (modeled times within 10% of
    /// each other: run-to-run noise of the measured CPU time they include).
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
    /// Measures where mpc costs less.
    pub mpc_cheaper: usize,
    /// Modeled times within 10% of each other (neither called cheaper).
    pub ties: usize,
    /// Where the bytes, rounds and modeled times come from.
    pub time_model: String,
    /// All measures compared.
    pub compared: usize,
    /// What RTAS reveals that mpc does not (from this audit's rows).
    pub rtas_reveals: Vec<String>,
}

/// The audit.
#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    /// The verdict rule and its multiplicity correction, in words.
    pub rule: String,
    /// Every claim, with its computed verdict.
    pub claims: Vec<Claim>,
    /// The paper's central claim (RTAS is much cheaper than cryptographic MPC), measured (absent when
    /// `--claims` leaves it out).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<CostClaim>,
    /// Sections 1 and 2.3 on differential privacy: DP-SGD's accuracy and reconstruction, measured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dp: Option<dp::DpClaim>,
    /// Quick settings.
    pub quick: bool,
    /// Seed of every attack.
    pub seed: u64,
    /// Seconds the audit took.
    pub seconds: f64,
}

/// The audit on several seeds: one verdict per row (the one every seed gives, else inconclusive).
#[derive(Debug, Clone, Serialize)]
pub struct AuditSeeds {
    /// The verdict rule, in words.
    pub rule: String,
    /// The seeds.
    pub seeds: Vec<u64>,
    /// One row per claim, judged across the seeds.
    pub rows: Vec<SeedRow>,
    /// Every seed's audit.
    pub runs: Vec<AuditReport>,
    /// Seconds all of it took.
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
    /// Runs another experiment of the same command may show too (`rtas report`'s sections).
    pub shared: Arc<SharedRuns>,
}

/// A claim of the paper (or a few judged on one shared run): its setting, its bound there, the attacks mounted
/// and the verdict.
type ClaimOf = fn(&Setting) -> Result<Vec<Claim>>;

/// Every group of claims the audit judges, in the order it reports them, with the ids of the rows each gives
/// (for `--claims`). A new claim is a function in a file of this folder (its setting, the paper's words, the
/// bound, the attacks) and a line here.
const CLAIMS: &[(&[&str], ClaimOf)] = &[
    (&["def-3.1"], definitions::example_3_1),
    (&["def-3.2"], definitions::example_3_2),
    (&["thm-3.3"], linear::theorem_3_3),
    (&["thm-3.4"], permutation::theorem_3_4),
    (&["thm-3.4-release"], permutation::release_3_4),
    (&["metadata-3.1"], definitions::metadata_3_1),
    (&["linking-3.3.1"], rows_linking::linking_3_3_1),
    (&["perm-3.3.1", "linear-3.3.1"], definitions::partial_data_3_3_1),
    (&["perm-3.3.2", "linear-3.3.2"], definitions::known_transform_3_3_2),
    (&["ids-3.4"], rows_linking::ids_3_4),
    (&["float-4.1", "float-4.1-var-1.01", "float-4.1-var-2", "beaver-4.1"], float_shares::float_shares_4_1),
    (&["rtas-fast-4.2.2", "conv-3.4", "rtas-fast-4.3"], rtas_fast::rtas_fast_rows),
    (&["helper-order-4.2.1"], helper::helper_order_4_2_1),
    (&["helper-labels-4.2.1"], helper::helper_labels_4_2_1),
];

/// The rows the summary of Sections 1 and 6 ("random transformations can well protect privacy", "very hard to
/// invert") stands on: every row about a random transformation itself.
const TRANSFORMATION_ROWS: &[&str] = &[
    "def-3.1",
    "thm-3.3",
    "thm-3.4",
    "thm-3.4-release",
    "perm-3.3.1",
    "linear-3.3.1",
    "perm-3.3.2",
    "linear-3.3.2",
    "rtas-fast-4.2.2",
    "rtas-fast-4.3",
];

/// Every claim id the audit knows, in order (the summary and the cost claim last).
pub fn claim_ids() -> Vec<&'static str> {
    let mut ids: Vec<&str> = CLAIMS.iter().flat_map(|(ids, _)| ids.iter().copied()).collect();
    ids.extend(["summary-1-6", "dp-1-2.3", "cost"]);
    ids
}

/// Which claims to run: all, or the groups holding the ids asked for (unknown ids are an error naming the known).
fn selected(only: &[String]) -> Result<Vec<usize>> {
    let known = claim_ids();
    if let Some(bad) = only.iter().find(|id| !known.contains(&id.as_str())) {
        return Err(crate::error::invalid(format!("--claims: no claim '{bad}'; the claims are: {}", known.join(", "))));
    }
    Ok((0..CLAIMS.len())
        .filter(|&i| only.is_empty() || CLAIMS[i].0.iter().any(|id| only.iter().any(|o| o == id)))
        .collect())
}

/// Runs the audit (`quick`: fewer trials and training steps) on every claim, or on the claims named in `only`.
pub fn audit(quick: bool, seed: u64, pb: &ProgressBar) -> Result<AuditReport> {
    audit_only(quick, seed, &[], pb)
}

/// Runs the audit on the claims named in `only` (all when empty).
pub fn audit_only(quick: bool, seed: u64, only: &[String], pb: &ProgressBar) -> Result<AuditReport> {
    audit_sharing(quick, seed, only, pb, Arc::default())
}

/// [`audit_only`], reading the runs it shares with another experiment from `shared` (or running them there).
pub fn audit_sharing(
    quick: bool,
    seed: u64,
    only: &[String],
    pb: &ProgressBar,
    shared: Arc<SharedRuns>,
) -> Result<AuditReport> {
    let start = std::time::Instant::now();
    let groups = selected(only)?;
    let all = Prepared::new(&mnist::bundled()?)?;
    let (tr, te) = mnist::bundled_split()?;
    let train = Prepared::new(&tr)?;
    let test = Prepared::new(&te.slice(0, 100))?;
    let held_out = Prepared::new(&te)?;
    pb.set_length(groups.len() as u64 + 1);
    let setting = Setting { quick, seed, all, train, test, held_out, hidden: ProgressBar::hidden(), shared };
    let wanted = |id: &str| only.is_empty() || only.iter().any(|o| o == id);
    // The DP row reads nothing of the other rows: it runs beside them from the start (seeded on its own, so
    // the report does not depend on which finishes first).
    let (claims, dp) = std::thread::scope(|scope| -> Result<_> {
        let (train, held_out) = (&setting.train, &setting.held_out);
        let dp = wanted("dp-1-2.3").then(|| scope.spawn(move || dp::dp_claim(quick, seed, train, held_out)));
        let mut claims = Vec::new();
        for i in groups {
            claims.extend((CLAIMS[i].1)(&setting)?);
            crate::cancel::tick(pb, 1)?;
        }
        let dp =
            dp.map(|h| h.join().map_err(|_| crate::error::Error::Numerical("the DP row's thread panicked".into())));
        Ok((claims, dp.transpose()?.transpose()?))
    })?;
    let mut claims = claims;
    if wanted("summary-1-6") {
        claims.push(summary(&claims));
    }
    let Setting { train, held_out, .. } = setting;
    let cost = if wanted("cost") { Some(cost::cost_claim(quick, seed, (&train, &held_out), &claims)?) } else { None };
    crate::cancel::tick(pb, 1)?;
    pb.finish_and_clear();
    Ok(AuditReport {
        rule: super::claims::RULE.into(),
        claims,
        cost,
        dp,
        quick,
        seed,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// Sections 1 and 6, summarized from the rows about random transformations themselves.
fn summary(rows: &[Claim]) -> Claim {
    let mut c = Claim::new(
        "summary-1-6",
        "Sections 1 and 6",
        "random transformations can well protect privacy; they are very hard to invert",
        "the rows of this audit about a random transformation itself".into(),
        "each row's own criterion",
    )
    .quoting(
        "We proved random transformations, i.e. random linear transformation and random permutation can well \
         protect privacy (1.1). Using this definition, we proved that simple random permutations and linear \
         transformations are very hard to invert (6).",
        "as in each row",
    );
    c.summary_of = TRANSFORMATION_ROWS.iter().map(|s| s.to_string()).collect();
    c.paper_bound = "each row's".into();
    c.summarize(rows)
}

/// Runs the audit on every seed of `seeds` and judges each row across them.
pub fn audit_seeds(quick: bool, seeds: &[u64], only: &[String], pb: &ProgressBar) -> Result<AuditSeeds> {
    let start = std::time::Instant::now();
    if seeds.is_empty() {
        return Err(crate::error::invalid("--seeds needs at least one seed"));
    }
    let mut runs = Vec::with_capacity(seeds.len());
    for &seed in seeds {
        runs.push(audit_only(quick, seed, only, &ProgressBar::hidden())?);
        crate::cancel::tick(pb, 1)?;
    }
    let claims: Vec<Vec<Claim>> = runs.iter().map(|r| r.claims.clone()).collect();
    let rows = super::claims::across_seeds(seeds, &claims)?;
    pb.finish_and_clear();
    Ok(AuditSeeds {
        rule: super::claims::RULE.into(),
        seeds: seeds.to_vec(),
        rows,
        runs,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// One figure of a step's cost.
pub(super) type Measure = Box<dyn Fn(&crate::sim::measure::Measurement) -> f64>;
