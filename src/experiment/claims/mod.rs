//! Claims as data, verdicts by rule.
//!
//! A [`Claim`] is one statement of the paper in a setting: the paper's epsilon there (log10; `None` where
//! the paper states none), the success criterion the bound and every attack are scored by, and every
//! [`Attempt`] made, each with the knowledge it uses beyond what the paper grants its attacker. An attempt's
//! success is either measured (successes in trials, with a 95% Clopper-Pearson interval) or an exact closed
//! form (a zero-width interval, carried in log10 because it can lie far below f64's range). [`Claim::judge`]
//! computes the verdict by one rule for every attempt:
//!
//! - **the test**: each attempt tests "its success probability is at most the paper's epsilon". A measured
//!   attempt's one-sided exact binomial p-value is `P(X >= successes | trials, epsilon)`; a closed form is
//!   exact, so it beats the bound when its value lies above it, and carries no sampling error.
//! - **the multiplicity correction**: a row tests several attacks and swept amounts, so the measured
//!   attempts of a row are corrected together by Holm-Bonferroni at a family-wise one-sided level of
//!   [`FAMILY_ALPHA`] (2.5%, the lower tail of a 95% two-sided interval): sorted by p-value, the i-th of k
//!   beats the bound when its p-value is at most `FAMILY_ALPHA / (k - i + 1)` and every attempt before it
//!   did. Equivalently, its one-sided Clopper-Pearson lower end at that level lies above the bound
//!   (`corrected_low`). With one attempt this is the uncorrected 95% interval.
//! - **does not hold**: an attempt that uses only the knowledge the paper grants (no stated assumption)
//!   beats the bound;
//! - **holds only under stated assumptions**: only attempts with extra knowledge do; the verdict names the
//!   least knowledge that does (fewest assumptions, then the smallest swept amount);
//! - **holds (against the attacks tried)**: no attempt beats the bound;
//! - **no bound stated**: the paper gives no epsilon; the row shows the measured success beside a trivial
//!   baseline, and no verdict;
//! - **inconclusive** (only across seeds, see [`across_seeds`]): the rule gives different verdicts on
//!   different seeds; the row names the trials a decision would need.
//!
//! Oracle figures (computed with knowledge no attacker has, e.g. the true positions) are shown but never
//! enter a verdict.

use crate::analysis::bounds;
use crate::analysis::estimate::Estimate;
use crate::error::Result;
use serde::Serialize;

mod seeds;
mod stats;

pub use seeds::{SeedRow, SeedVerdict, across_seeds};
pub use stats::{log10_p_value, lower_end, trials_needed};

/// The family-wise, one-sided error level of a row's judgement.
pub const FAMILY_ALPHA: f64 = 0.025;

/// The rule, stated once for every output (text, JSON, report).
pub const RULE: &str = "every attempt tests 'its success is at most the paper's epsilon'; a measured attempt by \
its exact one-sided binomial p-value, a closed form exactly (a zero-width interval); the measured attempts of a row \
are corrected together by Holm-Bonferroni at a family-wise one-sided level of 2.5% (the i-th smallest p-value of k \
beats the bound when it is at most 0.025/(k-i+1) and every smaller one did: its one-sided Clopper-Pearson lower end \
at that level lies above the bound). 'does not hold' when an attempt with only the paper's knowledge beats the bound; \
'holds only under stated assumptions' when only attempts with extra knowledge do (the least such knowledge is named); \
'holds (against the attacks tried)' when none does; 'no bound stated' shows the best attack beside a trivial \
baseline; across seeds, 'inconclusive' when the seeds disagree. Oracle figures are shown, never judged.";

/// How much of a swept kind of knowledge an attempt used (e.g. 3 seed links).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Amount {
    /// What is counted (`seed links`, `known pairs`).
    pub what: String,
    /// How many.
    pub value: f64,
}

/// How the rule judged one attempt of a claim with a bound.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Judgement {
    /// One-sided p-value of "the success is at most the paper's epsilon" (exact binomial; 0 or 1 for a closed
    /// form; underflows to 0 far below f64's range).
    pub p_value: f64,
    /// The one-sided level it is tested at after the Holm-Bonferroni correction, `FAMILY_ALPHA / (k - i + 1)`
    /// (0 for a closed form, which carries no sampling error).
    pub level: f64,
    /// log10 of the one-sided Clopper-Pearson lower end at `level` (a closed form: its own value); absent
    /// with no success.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corrected_low_log10: Option<f64>,
    /// Whether it beats the bound.
    pub beats: bool,
    /// Its uncorrected 95% interval lies above the bound, the corrected one does not: more trials could
    /// decide it.
    pub marginal: bool,
}

/// One attack on a claim.
#[derive(Debug, Clone, Serialize)]
pub struct Attempt {
    /// The attack and its parameters.
    pub attack: String,
    /// Knowledge beyond what the paper grants its attacker, by name; empty for the paper's attacker.
    pub assumptions: Vec<String>,
    /// The swept amount of that knowledge, where it is swept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<Amount>,
    /// Successes by the claim's criterion, with the 95% interval (a closed form: its value, zero width, no
    /// trials).
    pub success: Estimate,
    /// log10 of the exact success probability where it is a closed form.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_form_log10: Option<f64>,
    /// Computed with knowledge no attacker has: shown, never judged.
    pub oracle: bool,
    /// Other figures of the same run (PSNR, correlation), for people.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub note: String,
    /// The rule's judgement (claims with a bound; never for an oracle).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub judged: Option<Judgement>,
}

impl Attempt {
    /// An attempt with no stated assumption (the paper's attacker).
    pub fn paper_attacker(attack: impl Into<String>, success: Estimate) -> Self {
        Self {
            attack: attack.into(),
            assumptions: Vec::new(),
            amount: None,
            success,
            closed_form_log10: None,
            oracle: false,
            note: String::new(),
            judged: None,
        }
    }

    /// An attempt that uses `assumptions`.
    pub fn assuming(attack: impl Into<String>, assumptions: &[&str], success: Estimate) -> Self {
        Self {
            assumptions: assumptions.iter().map(|s| s.to_string()).collect(),
            ..Self::paper_attacker(attack, success)
        }
    }

    /// An attacker whose success is known exactly (a closed form, log10): judged like any other, with a
    /// zero-width interval. `assumptions` empty for the paper's attacker.
    pub fn closed_form(attack: impl Into<String>, assumptions: &[&str], log10_success: f64) -> Self {
        let p = 10f64.powf(log10_success.min(0.0));
        let success = Estimate { epsilon: p, ci_low: p, ci_high: p, trials: 0, successes: 0 };
        Self { closed_form_log10: Some(log10_success.min(0.0)), ..Self::assuming(attack, assumptions, success) }
    }

    /// With a swept amount.
    pub fn with_amount(mut self, what: &str, value: f64) -> Self {
        self.amount = Some(Amount { what: what.into(), value });
        self
    }

    /// With a note.
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.note = note.into();
        self
    }

    /// Marked as an oracle figure.
    pub fn oracle(mut self) -> Self {
        self.oracle = true;
        self
    }

    /// Whether the rule found it beats the bound (never for an oracle or an unjudged attempt).
    pub fn beats(&self) -> bool {
        self.judged.as_ref().is_some_and(|j| j.beats)
    }

    /// log10 of its success (the closed form, or the measured rate; -inf for none).
    pub fn log10_success(&self) -> f64 {
        self.closed_form_log10.unwrap_or_else(|| self.success.epsilon.log10())
    }

    /// Whether it is an exact closed form.
    pub fn is_closed_form(&self) -> bool {
        self.closed_form_log10.is_some()
    }

    /// The knowledge it uses, as a phrase.
    pub fn knowledge(&self) -> String {
        let mut k =
            if self.assumptions.is_empty() { "paper's knowledge".to_string() } else { self.assumptions.join(", ") };
        if let Some(m) = &self.amount {
            k = format!("{k}: {} {}", m.value, m.what);
        }
        k
    }

    /// Its success as printed: a percentage and interval, or a closed form in scientific notation.
    pub fn success_text(&self) -> String {
        match self.closed_form_log10 {
            Some(l) => format!("{} exactly (closed form)", bounds::scientific(l)),
            None => pct(&self.success),
        }
    }
}

/// A trivial baseline for claims without a bound.
#[derive(Debug, Clone, Serialize)]
pub struct Baseline {
    /// What it does (guess the mean image, the majority count).
    pub name: String,
    /// Its success by the claim's criterion.
    pub success: Estimate,
}

/// The outcome of the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Verdict {
    /// An attack with only the paper's knowledge beats the bound.
    #[serde(rename = "does not hold")]
    DoesNotHold,
    /// Only attacks with extra knowledge beat the bound.
    #[serde(rename = "holds only under stated assumptions")]
    HoldsOnlyUnderStatedAssumptions,
    /// No attack tried beats the bound.
    #[serde(rename = "holds (against the attacks tried)")]
    Holds,
    /// The paper states no bound.
    #[serde(rename = "no bound stated")]
    NoBoundStated,
    /// The seeds disagree.
    #[serde(rename = "inconclusive")]
    Inconclusive,
}

impl Verdict {
    /// As printed.
    pub fn text(self) -> &'static str {
        match self {
            Verdict::DoesNotHold => "does not hold",
            Verdict::HoldsOnlyUnderStatedAssumptions => "holds only under stated assumptions",
            Verdict::Holds => "holds (against the attacks tried)",
            Verdict::NoBoundStated => "no bound stated",
            Verdict::Inconclusive => "inconclusive",
        }
    }

    /// How badly the claim fares (for a summary row: the worst of its rows).
    pub(super) fn severity(self) -> u8 {
        match self {
            Verdict::DoesNotHold => 4,
            Verdict::Inconclusive => 3,
            Verdict::HoldsOnlyUnderStatedAssumptions => 2,
            Verdict::Holds => 1,
            Verdict::NoBoundStated => 0,
        }
    }
}

/// One claim of the paper, its setting, its attacks and its computed verdict.
#[derive(Debug, Clone, Serialize)]
pub struct Claim {
    /// A short stable name (`thm-3.4`), for `--claims` and for matching rows across seeds.
    pub id: String,
    /// Where in the paper (`Thm 3.3`, `Section 4.2.1`).
    pub section: String,
    /// The statement, as rtas tests it.
    pub statement: String,
    /// The paper's own words.
    pub quote: String,
    /// What the paper grants its attacker in this setting (the knowledge every "paper's knowledge" attempt
    /// is limited to).
    pub paper_attacker: String,
    /// The setting it is measured in (dimensions, delta, data).
    pub setting: String,
    /// What counts as a success, for the bound and for every attack.
    pub criterion: String,
    /// The paper's epsilon in this setting, log10; `None` where the paper states none.
    pub paper_log10_epsilon: Option<f64>,
    /// Where the figure comes from (the paper's, or rtas's derivation of it, labelled so).
    pub paper_bound: String,
    /// A trivial baseline (for claims without a bound).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Baseline>,
    /// Every attack tried.
    pub attempts: Vec<Attempt>,
    /// For a summary claim: the ids of the rows it summarizes (its verdict is the worst of theirs).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub summary_of: Vec<String>,
    /// The row tests a reading the paper itself warns against: "does not hold" confirms the warning.
    pub warning: bool,
    /// The rule's outcome.
    pub verdict: Verdict,
    /// Why, in a sentence built from the numbers.
    pub reason: String,
    /// For each swept kind of knowledge, the smallest amount at which an attack beats the bound.
    pub flips: Vec<Amount>,
}

impl Claim {
    /// A claim not judged yet (call [`Claim::judge`]).
    pub fn new(id: &str, section: &str, statement: &str, setting: String, criterion: &str) -> Self {
        Self {
            id: id.into(),
            section: section.into(),
            statement: statement.into(),
            quote: String::new(),
            paper_attacker: String::new(),
            setting,
            criterion: criterion.into(),
            paper_log10_epsilon: None,
            paper_bound: String::new(),
            baseline: None,
            attempts: Vec::new(),
            summary_of: Vec::new(),
            warning: false,
            verdict: Verdict::NoBoundStated,
            reason: String::new(),
            flips: Vec::new(),
        }
    }

    /// With the paper's words and what it grants its attacker.
    pub fn quoting(mut self, quote: &str, paper_attacker: &str) -> Self {
        self.quote = quote.into();
        self.paper_attacker = paper_attacker.into();
        self
    }

    /// The strongest attempt with only the paper's knowledge (by its success; oracles excluded).
    pub fn best_paper_attack(&self) -> Option<&Attempt> {
        self.attempts
            .iter()
            .filter(|a| !a.oracle && a.assumptions.is_empty())
            .max_by(|a, b| a.log10_success().total_cmp(&b.log10_success()))
    }

    /// The least extra knowledge that beats the bound (fewest assumptions, then the smallest swept amount);
    /// empty when none does or when the paper's attacker already does.
    pub fn least_extra_knowledge(&self) -> Vec<&Attempt> {
        let beating: Vec<&Attempt> = self.attempts.iter().filter(|a| a.beats() && !a.assumptions.is_empty()).collect();
        least(&beating)
    }

    /// Marks a reading the paper warns against.
    pub fn as_warning(mut self) -> Self {
        self.warning = true;
        self
    }

    /// The finding in words: the verdict, and for a warning whether it is confirmed.
    pub fn finding(&self) -> String {
        format!("{}{}", self.verdict.text(), self.warning_suffix())
    }

    /// For a warning the paper gives: whether the verdict confirms it (empty otherwise).
    pub fn warning_suffix(&self) -> &'static str {
        match (self.warning, self.verdict) {
            (true, Verdict::DoesNotHold) => " (the paper's own warning is confirmed)",
            (true, Verdict::Holds) => " (the paper's warning is not confirmed by the attacks tried)",
            _ => "",
        }
    }

    /// Applies the rule (the test, the correction, the verdict) and stores every judgement, the verdict and
    /// its reason.
    pub fn judge(mut self) -> Result<Self> {
        judge_attempts(&mut self)?;
        let (verdict, reason) = rule(&self);
        self.verdict = verdict;
        self.reason = reason;
        let mut kinds: Vec<String> =
            self.attempts.iter().filter_map(|a| a.amount.as_ref().map(|m| m.what.clone())).collect();
        let mut seen = std::collections::HashSet::new();
        kinds.retain(|k| seen.insert(k.clone()));
        self.flips =
            kinds.into_iter().filter_map(|what| flip_point(&self, &what).map(|value| Amount { what, value })).collect();
        Ok(self)
    }

    /// The worst verdict of `rows` whose ids this summary names.
    pub fn summarize(mut self, rows: &[Claim]) -> Self {
        let parts: Vec<&Claim> = rows.iter().filter(|r| self.summary_of.contains(&r.id)).collect();
        let worst = parts.iter().map(|r| r.verdict).max_by_key(|v| v.severity()).unwrap_or(Verdict::NoBoundStated);
        self.verdict = worst;
        let named: Vec<String> =
            parts.iter().filter(|r| r.verdict == worst).map(|r| format!("{} ({})", r.section, r.id)).collect();
        self.reason = format!(
            "the worst verdict of the {} rows it summarizes: {} for {}",
            parts.len(),
            worst.text(),
            named.join(", ")
        );
        self
    }
}

fn judge_attempts(claim: &mut Claim) -> Result<()> {
    let Some(bound) = claim.paper_log10_epsilon else {
        claim.attempts.iter_mut().for_each(|a| a.judged = None);
        return Ok(());
    };
    let mut measured: Vec<(usize, f64)> = Vec::new();
    for (i, a) in claim.attempts.iter_mut().enumerate() {
        a.judged = None;
        if a.oracle {
            continue;
        }
        match a.closed_form_log10 {
            Some(l) => {
                let beats = l > bound;
                a.judged = Some(Judgement {
                    p_value: if beats { 0.0 } else { 1.0 },
                    level: 0.0,
                    corrected_low_log10: Some(l),
                    beats,
                    marginal: false,
                });
            }
            None => measured.push((i, log10_p_value(a.success.successes, a.success.trials, bound)?)),
        }
    }
    measured.sort_by(|x, y| x.1.total_cmp(&y.1).then(x.0.cmp(&y.0)));
    let k = measured.len();
    let mut still = true;
    for (rank, &(i, log10_p)) in measured.iter().enumerate() {
        let level = FAMILY_ALPHA / (k - rank) as f64;
        let beats = still && log10_p <= level.log10();
        still = beats;
        let a = &mut claim.attempts[i];
        let low = lower_end(a.success.successes, a.success.trials, level)?;
        let uncorrected = a.success.ci_low > 0.0 && a.success.ci_low.log10() > bound;
        a.judged = Some(Judgement {
            p_value: 10f64.powf(log10_p),
            level,
            corrected_low_log10: (low > 0.0).then(|| low.log10()),
            beats,
            marginal: uncorrected && !beats,
        });
    }
    Ok(())
}

fn pct(e: &Estimate) -> String {
    format!("{:.1}% [{:.1}, {:.1}]", 100.0 * e.epsilon, 100.0 * e.ci_low, 100.0 * e.ci_high)
}

pub(super) fn knowledge(a: &Attempt) -> String {
    let mut k = a.assumptions.join(", ");
    if let Some(m) = &a.amount {
        k = format!("{k} (from {} {})", m.value, m.what);
    }
    k
}

/// The least knowledge among `beating`: per set of assumptions the smallest swept amount, then only the sets
/// with the fewest assumptions.
pub(super) fn least<'a>(beating: &[&'a Attempt]) -> Vec<&'a Attempt> {
    let mut least: Vec<&Attempt> = Vec::new();
    for a in beating {
        match least.iter_mut().find(|l| l.assumptions == a.assumptions) {
            Some(l) => {
                let (x, y) = (a.amount.as_ref().map_or(0.0, |m| m.value), l.amount.as_ref().map_or(0.0, |m| m.value));
                if x < y {
                    *l = a;
                }
            }
            None => least.push(a),
        }
    }
    let fewest = least.iter().map(|a| a.assumptions.len()).min();
    least.retain(|a| Some(a.assumptions.len()) == fewest);
    least
}

/// The verdict of `claim` (already judged attempt by attempt) by the rule in this module's documentation, and
/// the sentence that explains it.
pub fn rule(claim: &Claim) -> (Verdict, String) {
    let Some(bound) = claim.paper_log10_epsilon else {
        let best =
            claim.attempts.iter().filter(|a| !a.oracle).max_by(|a, b| a.success.epsilon.total_cmp(&b.success.epsilon));
        let reason = match (best, &claim.baseline) {
            (Some(a), Some(b)) => format!(
                "best attack ({}) {} against {} for the baseline ({})",
                a.attack,
                pct(&a.success),
                pct(&b.success),
                b.name
            ),
            (Some(a), None) => format!("best attack ({}) {}", a.attack, pct(&a.success)),
            _ => "no attack".into(),
        };
        return (Verdict::NoBoundStated, reason);
    };
    let beating: Vec<&Attempt> = claim.attempts.iter().filter(|a| a.beats()).collect();
    if let Some(a) = beating.iter().find(|a| a.assumptions.is_empty()) {
        return (
            Verdict::DoesNotHold,
            format!("{} succeeds {} with only the paper's knowledge, above 10^{bound:.2}", a.attack, a.success_text()),
        );
    }
    let least = least(&beating);
    if !least.is_empty() {
        let named: Vec<String> =
            least.iter().map(|a| format!("{} — {} {}", knowledge(a), a.attack, a.success_text())).collect();
        return (
            Verdict::HoldsOnlyUnderStatedAssumptions,
            format!(
                "beaten only with extra knowledge, above 10^{bound:.2}; the least that does: {}",
                named.join("; or ")
            ),
        );
    }
    let best = claim
        .attempts
        .iter()
        .filter(|a| !a.oracle && !a.is_closed_form())
        .map(|a| a.success.ci_low)
        .fold(0.0, f64::max);
    (Verdict::Holds, format!("no attempt beats 10^{bound:.2} (highest uncorrected lower end {:.2e})", best))
}

/// Where along a swept amount the verdict flips: the smallest amount whose attempt beats the bound, among
/// attempts of `what` (None if none does or nothing is swept).
pub fn flip_point(claim: &Claim, what: &str) -> Option<f64> {
    claim
        .attempts
        .iter()
        .filter(|a| a.amount.as_ref().is_some_and(|m| m.what == what) && a.beats())
        .filter_map(|a| a.amount.as_ref().map(|m| m.value))
        .fold(None, |acc: Option<f64>, v| Some(acc.map_or(v, |x| x.min(v))))
}

#[cfg(test)]
mod tests;
