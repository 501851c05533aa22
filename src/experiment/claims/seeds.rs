//! Rows judged across seeds: one verdict per row, the least knowledge that beats the bound on every seed, and
//! for rows the seeds disagree on, what would decide them.

use super::stats::trials_needed;
use super::{Amount, Attempt, Claim, Verdict, knowledge, least};
use crate::error::Result;
use serde::Serialize;

/// One seed's verdict of a row.
#[derive(Debug, Clone, Serialize)]
pub struct SeedVerdict {
    /// The seed.
    pub seed: u64,
    /// The rule's verdict on it.
    pub verdict: Verdict,
}

/// A row judged across seeds.
#[derive(Debug, Clone, Serialize)]
pub struct SeedRow {
    /// The claim's id.
    pub id: String,
    /// Where in the paper.
    pub section: String,
    /// The statement.
    pub statement: String,
    /// The verdict every seed gives, or inconclusive.
    pub verdict: Verdict,
    /// Each seed's verdict.
    pub verdicts: Vec<SeedVerdict>,
    /// Why: the robust least knowledge, or what would decide it.
    pub reason: String,
    /// For each swept kind of knowledge, the smallest amount that beats the bound on every seed.
    pub robust_flips: Vec<Amount>,
}

/// Rows judged across seeds: `runs[s]` holds every row of seed `seeds[s]`, in the same order. A row's verdict
/// is the one every seed gives, else inconclusive; its reason names the least knowledge that beats the bound
/// on every seed (the smallest swept amount whose corrected interval lies above it on every seed), or, when
/// the seeds disagree, the attempts that decide differently and the trials each would need at its pooled rate.
pub fn across_seeds(seeds: &[u64], runs: &[Vec<Claim>]) -> Result<Vec<SeedRow>> {
    let Some(first) = runs.first() else { return Ok(Vec::new()) };
    let mut rows = Vec::with_capacity(first.len());
    for (i, c) in first.iter().enumerate() {
        let same: Vec<&Claim> = runs.iter().map(|r| &r[i]).collect();
        let verdicts: Vec<SeedVerdict> =
            seeds.iter().zip(&same).map(|(&seed, c)| SeedVerdict { seed, verdict: c.verdict }).collect();
        let agree = same.iter().all(|x| x.verdict == c.verdict);
        // Attempts matched by position (every seed runs the same attempts).
        let robust: Vec<&Attempt> = (0..c.attempts.len())
            .filter(|&j| same.iter().all(|x| x.attempts.get(j).is_some_and(Attempt::beats)))
            .map(|j| &c.attempts[j])
            .collect();
        let robust_flips: Vec<Amount> = c
            .swept_kinds()
            .into_iter()
            .filter_map(|what| {
                robust
                    .iter()
                    .filter(|a| a.amount.as_ref().is_some_and(|m| m.what == what))
                    .filter_map(|a| a.amount.as_ref().map(|m| m.value))
                    .fold(None, |acc: Option<f64>, v| Some(acc.map_or(v, |x: f64| x.min(v))))
                    .map(|value| Amount { what, value })
            })
            .collect();
        let (verdict, reason) = if !c.summary_of.is_empty() {
            // A summary: the worst of its rows' verdicts across seeds.
            let worst = same.iter().map(|x| x.verdict).max_by_key(|v| v.severity()).unwrap_or(Verdict::NoBoundStated);
            (
                if agree { worst } else { Verdict::Inconclusive },
                format!("the worst of the rows it summarizes on {} seeds", seeds.len()),
            )
        } else if agree {
            (c.verdict, robust_reason(c, &robust, seeds.len()))
        } else {
            (Verdict::Inconclusive, undecided_reason(c, &same, seeds)?)
        };
        rows.push(SeedRow {
            id: c.id.clone(),
            section: c.section.clone(),
            statement: c.statement.clone(),
            verdict,
            verdicts,
            reason,
            robust_flips,
        });
    }
    Ok(rows)
}

fn robust_reason(c: &Claim, robust: &[&Attempt], seeds: usize) -> String {
    match c.verdict {
        Verdict::DoesNotHold => match robust.iter().find(|a| a.assumptions.is_empty()) {
            Some(a) => format!("on all {seeds} seeds {} beats the bound with only the paper's knowledge", a.attack),
            None => format!("on all {seeds} seeds an attempt with only the paper's knowledge beats the bound"),
        },
        Verdict::HoldsOnlyUnderStatedAssumptions => {
            let l = least(robust);
            if l.is_empty() {
                format!(
                    "on all {seeds} seeds only attempts with extra knowledge beat the bound (not the same attempt on every seed)"
                )
            } else {
                let named: Vec<String> = l.iter().map(|a| format!("{} — {}", knowledge(a), a.attack)).collect();
                format!(
                    "on all {seeds} seeds; the least knowledge that beats the bound on every seed: {}",
                    named.join("; or ")
                )
            }
        }
        Verdict::Holds => format!("no attempt beats the bound on any of {seeds} seeds"),
        _ => c.reason.clone(),
    }
}

fn undecided_reason(c: &Claim, same: &[&Claim], seeds: &[u64]) -> Result<String> {
    let Some(bound) = c.paper_log10_epsilon else { return Ok(String::new()) };
    let mut parts = Vec::new();
    for (j, a) in c.attempts.iter().enumerate() {
        let beats: Vec<bool> = same.iter().map(|x| x.attempts[j].beats()).collect();
        if beats.iter().all(|&b| b) || beats.iter().all(|&b| !b) {
            continue;
        }
        let (s, n) = same
            .iter()
            .fold((0u64, 0u64), |(s, n), x| (s + x.attempts[j].success.successes, n + x.attempts[j].success.trials));
        let level = same.iter().filter_map(|x| x.attempts[j].judged.as_ref().map(|g| g.level)).fold(1.0, f64::min);
        let rate = if n > 0 { s as f64 / n as f64 } else { 0.0 };
        let need = trials_needed(rate, level, bound)?;
        let on: Vec<String> = seeds.iter().zip(&beats).filter(|(_, b)| **b).map(|(s, _)| s.to_string()).collect();
        parts.push(format!(
            "{} [{}] beats it on seed{} {} only; pooled rate {:.2e} ({s}/{n}); {}",
            a.attack,
            a.knowledge(),
            if on.len() == 1 { "" } else { "s" },
            on.join(", "),
            rate,
            match need {
                Some(t) => format!("about {t} trials per seed would decide it at level {level:.4}"),
                None => "its rate is not above the bound: no number of trials makes it beat it".into(),
            }
        ));
    }
    Ok(format!("the seeds disagree: {}", parts.join("; ")))
}
