//! The rule: each attempt tested against the paper's epsilon, the row's measured attempts corrected together
//! (Holm-Bonferroni), and the verdict with the sentence that explains it.

use super::stats::{log10_p_value, lower_end};
use super::{Attempt, Claim, FAMILY_ALPHA, Judgement, Verdict};
use crate::analysis::estimate::Estimate;
use crate::error::Result;

pub(super) fn judge_attempts(claim: &mut Claim) -> Result<()> {
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

pub(super) fn pct(e: &Estimate) -> String {
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
