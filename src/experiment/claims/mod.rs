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

mod rule;
mod seeds;
mod stats;

pub use rule::{flip_point, rule};
use rule::{judge_attempts, knowledge, least, pct};
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

    /// How the rule judged it, as printed (`beats (p = .., level ..)`, `does not beat (exact)`, `oracle, not
    /// judged`, `-` where the row has no bound).
    pub fn judged_text(&self) -> String {
        match &self.judged {
            None if self.oracle => "oracle, not judged".into(),
            None => "-".into(),
            Some(j) if self.is_closed_form() => if j.beats { "beats (exact)" } else { "does not beat (exact)" }.into(),
            Some(j) => format!(
                "{} (p = {:.1e}, level {:.4}){}",
                if j.beats { "beats" } else { "does not beat" },
                j.p_value,
                j.level,
                if j.marginal { ", marginal: beats uncorrected" } else { "" }
            ),
        }
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

    /// Every swept kind of knowledge (`seed links`, `known pairs`), in the order the attempts first use it.
    pub fn swept_kinds(&self) -> Vec<String> {
        let mut kinds: Vec<String> = Vec::new();
        for m in self.attempts.iter().filter_map(|a| a.amount.as_ref()) {
            if !kinds.contains(&m.what) {
                kinds.push(m.what.clone());
            }
        }
        kinds
    }

    /// The paper's epsilon as printed (`none stated` without one).
    pub fn epsilon_text(&self) -> String {
        self.paper_log10_epsilon.map_or("none stated".into(), bounds::scientific)
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
        self.flips = self
            .swept_kinds()
            .into_iter()
            .filter_map(|what| flip_point(&self, &what).map(|value| Amount { what, value }))
            .collect();
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

#[cfg(test)]
mod tests;
