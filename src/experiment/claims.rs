//! Claims as data, verdicts by rule.
//!
//! A [`Claim`] is one statement of the paper in a setting: the paper's epsilon there (log10; `None` where
//! the paper states none), the success criterion the bound and every attack are scored by, and every
//! [`Attempt`] made, each with the knowledge it uses beyond what the paper grants its attacker and its
//! measured success with a 95% Clopper-Pearson interval. [`Claim::judge`] computes the verdict:
//!
//! - **does not hold**: an attack that uses only the knowledge the paper grants (no stated assumption) has
//!   a 95% interval whose lower end lies above the paper's epsilon;
//! - **holds only under stated assumptions**: only attacks with extra knowledge beat it; the verdict names
//!   the least knowledge that does (fewest assumptions, then the smallest swept amount);
//! - **holds (against the attacks tried)**: no attack's interval lies above the bound;
//! - **no bound stated**: the paper gives no epsilon; the row shows the measured success beside a trivial
//!   baseline, and no verdict.
//!
//! Oracle figures (computed with knowledge no attacker has, e.g. the true positions) are shown but never
//! enter a verdict.

use crate::analysis::estimate::Estimate;
use serde::Serialize;

/// How much of a swept kind of knowledge an attempt used (e.g. 3 seed links).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Amount {
    /// What is counted (`seed links`, `known pairs`).
    pub what: String,
    /// How many.
    pub value: f64,
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
    /// Successes by the claim's criterion, with the 95% interval.
    pub success: Estimate,
    /// Computed with knowledge no attacker has: shown, never judged.
    pub oracle: bool,
    /// Other figures of the same run (PSNR, correlation), for people.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub note: String,
}

impl Attempt {
    /// An attempt with no stated assumption (the paper's attacker).
    pub fn paper_attacker(attack: impl Into<String>, success: Estimate) -> Self {
        Self {
            attack: attack.into(),
            assumptions: Vec::new(),
            amount: None,
            success,
            oracle: false,
            note: String::new(),
        }
    }

    /// An attempt that uses `assumptions`.
    pub fn assuming(attack: impl Into<String>, assumptions: &[&str], success: Estimate) -> Self {
        Self {
            assumptions: assumptions.iter().map(|s| s.to_string()).collect(),
            ..Self::paper_attacker(attack, success)
        }
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

    /// Whether its interval lies wholly above `log10_epsilon` (an oracle never beats anything).
    pub fn beats(&self, log10_epsilon: f64) -> bool {
        !self.oracle && self.success.ci_low > 0.0 && self.success.ci_low.log10() > log10_epsilon
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

/// A bound other than the paper's, for comparison (never judged against).
#[derive(Debug, Clone, Serialize)]
pub struct OtherBound {
    /// What it is.
    pub name: String,
    /// log10 epsilon.
    pub log10_epsilon: f64,
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
}

impl Verdict {
    /// As printed.
    pub fn text(self) -> &'static str {
        match self {
            Verdict::DoesNotHold => "does not hold",
            Verdict::HoldsOnlyUnderStatedAssumptions => "holds only under stated assumptions",
            Verdict::Holds => "holds (against the attacks tried)",
            Verdict::NoBoundStated => "no bound stated",
        }
    }
}

/// One claim of the paper, its setting, its attacks and its computed verdict.
#[derive(Debug, Clone, Serialize)]
pub struct Claim {
    /// Where in the paper (`Thm 3.3`, `Section 4.2.1`).
    pub section: String,
    /// The statement.
    pub statement: String,
    /// The setting it is measured in (dimensions, delta, data).
    pub setting: String,
    /// What counts as a success, for the bound and for every attack.
    pub criterion: String,
    /// The paper's epsilon in this setting, log10; `None` where the paper states none.
    pub paper_log10_epsilon: Option<f64>,
    /// Where the paper's figure comes from.
    pub paper_bound: String,
    /// Other bounds worth showing beside it.
    pub other_bounds: Vec<OtherBound>,
    /// A trivial baseline (for claims without a bound).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Baseline>,
    /// Every attack tried.
    pub attempts: Vec<Attempt>,
    /// The rule's outcome.
    pub verdict: Verdict,
    /// Why, in a sentence built from the numbers.
    pub reason: String,
    /// For each swept kind of knowledge, the smallest amount at which an attack beats the bound.
    pub flips: Vec<Amount>,
}

impl Claim {
    /// A claim not judged yet (call [`Claim::judge`]).
    pub fn new(section: &str, statement: &str, setting: String, criterion: &str) -> Self {
        Self {
            section: section.into(),
            statement: statement.into(),
            setting,
            criterion: criterion.into(),
            paper_log10_epsilon: None,
            paper_bound: String::new(),
            other_bounds: Vec::new(),
            baseline: None,
            attempts: Vec::new(),
            verdict: Verdict::NoBoundStated,
            reason: String::new(),
            flips: Vec::new(),
        }
    }

    /// Applies the rule and stores verdict and reason.
    pub fn judge(mut self) -> Self {
        let (verdict, reason) = rule(&self);
        self.verdict = verdict;
        self.reason = reason;
        let mut kinds: Vec<String> =
            self.attempts.iter().filter_map(|a| a.amount.as_ref().map(|m| m.what.clone())).collect();
        kinds.dedup();
        self.flips =
            kinds.into_iter().filter_map(|what| flip_point(&self, &what).map(|value| Amount { what, value })).collect();
        self
    }
}

fn pct(e: &Estimate) -> String {
    format!("{:.1}% [{:.1}, {:.1}]", 100.0 * e.epsilon, 100.0 * e.ci_low, 100.0 * e.ci_high)
}

fn knowledge(a: &Attempt) -> String {
    let mut k = a.assumptions.join(", ");
    if let Some(m) = &a.amount {
        k = format!("{k} (from {} {})", m.value, m.what);
    }
    k
}

/// The verdict of `claim` by the rule in this module's documentation, and the sentence that explains it.
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
    let beating: Vec<&Attempt> = claim.attempts.iter().filter(|a| a.beats(bound)).collect();
    if let Some(a) = beating.iter().find(|a| a.assumptions.is_empty()) {
        return (
            Verdict::DoesNotHold,
            format!("{} succeeds {} with only the paper's knowledge, above 10^{bound:.2}", a.attack, pct(&a.success)),
        );
    }
    // The least knowledge that beats the bound, per kind of knowledge: fewest assumptions first, and within
    // one set of assumptions the smallest swept amount.
    let mut least: Vec<&Attempt> = Vec::new();
    for a in &beating {
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
    if !least.is_empty() {
        let named: Vec<String> =
            least.iter().map(|a| format!("{} — {} {}", knowledge(a), a.attack, pct(&a.success))).collect();
        return (
            Verdict::HoldsOnlyUnderStatedAssumptions,
            format!(
                "beaten only with extra knowledge, above 10^{bound:.2}; the least that does: {}",
                named.join("; or ")
            ),
        );
    }
    let best = claim.attempts.iter().filter(|a| !a.oracle).map(|a| a.success.ci_low).fold(0.0, f64::max);
    (Verdict::Holds, format!("no attack's interval lies above 10^{bound:.2} (highest lower end {:.2e})", best))
}

/// Where along a swept amount the verdict flips: the smallest amount whose attempt beats the bound, among
/// attempts of `what` (None if none does or nothing is swept).
pub fn flip_point(claim: &Claim, what: &str) -> Option<f64> {
    let bound = claim.paper_log10_epsilon?;
    claim
        .attempts
        .iter()
        .filter(|a| a.amount.as_ref().is_some_and(|m| m.what == what) && a.beats(bound))
        .filter_map(|a| a.amount.as_ref().map(|m| m.value))
        .fold(None, |acc: Option<f64>, v| Some(acc.map_or(v, |x| x.min(v))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn est(s: u64, n: u64) -> Estimate {
        Estimate::from_counts(s, n).unwrap()
    }

    fn claim(bound: Option<f64>, attempts: Vec<Attempt>) -> Claim {
        let mut c = Claim::new("Thm", "statement", "setting".into(), "within delta");
        c.paper_log10_epsilon = bound;
        c.attempts = attempts;
        c.judge()
    }

    #[test]
    fn the_rule_follows_the_numbers() {
        // The paper's attacker above the bound: does not hold.
        let c = claim(Some(-2.0), vec![Attempt::paper_attacker("strong", est(90, 100))]);
        assert_eq!(c.verdict, Verdict::DoesNotHold);
        // Only with extra knowledge: names the least (fewest assumptions, then the smallest amount).
        let c = claim(
            Some(-2.0),
            vec![
                Attempt::paper_attacker("mean", est(0, 1000)),
                Attempt::assuming("linking", &["seed links"], est(97, 100)).with_amount("seed links", 12.0),
                Attempt::assuming("linking", &["seed links"], est(90, 100)).with_amount("seed links", 9.0),
                Attempt::assuming("linking", &["seed links"], est(0, 100)).with_amount("seed links", 3.0),
            ],
        );
        assert_eq!(c.verdict, Verdict::HoldsOnlyUnderStatedAssumptions);
        assert!(c.reason.contains("from 9 seed links"), "{}", c.reason);
        assert_eq!(flip_point(&c, "seed links"), Some(9.0));
        // Nothing above: holds.
        let c = claim(Some(-1.0), vec![Attempt::paper_attacker("weak", est(1, 1000))]);
        assert_eq!(c.verdict, Verdict::Holds);
        // An oracle never counts.
        let c = claim(Some(-5.0), vec![Attempt::paper_attacker("oracle", est(100, 100)).oracle()]);
        assert_eq!(c.verdict, Verdict::Holds);
        // No bound: no verdict, whatever the attack does.
        let c = claim(None, vec![Attempt::paper_attacker("decoder", est(100, 100))]);
        assert_eq!(c.verdict, Verdict::NoBoundStated);
    }

    #[test]
    fn an_interval_touching_the_bound_does_not_beat_it() {
        // 3 successes in 100: the interval's lower end is about 0.6%, so a bound of 1% is not beaten.
        let a = Attempt::paper_attacker("x", est(3, 100));
        assert!(!a.beats((0.01f64).log10()));
        assert!(a.beats((0.001f64).log10()));
    }
}
