//! What the element-wise helper learns. Under RTAS it receives, every step, the permuted pre-activations of
//! the batch in the clear. The permutation hides which value belongs to which example, not the multiset:
//! for logistic regression, the number of positive pre-activations is the number of examples the model
//! classifies as "0" — close to the number of zeros in the batch, a statistic of the private labels — and
//! the spread of the values tracks the model's confidence.

use crate::error::{Result, invalid};
use crate::models::Prepared;
use crate::net::{Op, Payload, Role, Stage, ViewKind};
use crate::protocol::ring::{Arith, RingArith};
use crate::sim::record::View;
use serde::Serialize;
use std::collections::BTreeMap;

/// The report.
#[derive(Debug, Clone, Serialize)]
pub struct HelperViewReport {
    /// Steps whose permuted vectors the helper saw.
    pub steps: usize,
    /// Steps in which the helper's count of positive values equals the batch's true count of label 0.
    pub exact_label_count: f64,
    /// Mean absolute error of that count.
    pub mean_abs_error: f64,
    /// Correlation between the helper's count and the true count over the steps.
    pub correlation: f64,
    /// Mean number of label-0 examples per batch (the base rate).
    pub mean_true_count: f64,
    /// The baseline: steps in which guessing the most frequent count (without any view) is exact.
    pub majority_guess_exact: f64,
}

/// Reads the helper's view of each training step's `act/permuted` (the sigmoid of logistic regression under
/// RTAS). `schedule` and `train`'s labels serve only to score the guesses.
pub fn run(view: &View, schedule: &[Vec<usize>], train: &Prepared, arith: &RingArith) -> Result<HelperViewReport> {
    if view.role != Role::Dealer {
        return Err(invalid(format!("this attack reads the helper's view, not {}'s", view.role)));
    }
    let mut by_step: BTreeMap<usize, Vec<&ndarray::ArrayD<u64>>> = BTreeMap::new();
    for v in view.of_kind(ViewKind::Permuted) {
        let (Stage::Train(step), Some(Op::Permuted), "act") = (v.label.stage, v.label.op, v.label.layer.as_str())
        else {
            continue;
        };
        let step = step as usize;
        if let Payload::Ring(a) = &v.payload {
            by_step.entry(step).or_default().push(a);
        }
    }
    let (mut guess, mut truth) = (Vec::new(), Vec::new());
    for (step, shares) in &by_step {
        if shares.len() != 2 {
            continue;
        }
        let Some(rows) = schedule.get(*step) else { continue };
        let positive =
            shares[0].iter().zip(shares[1].iter()).filter(|(a, b)| arith.decode(a.wrapping_add(**b)) > 0.0).count();
        guess.push(positive as f64);
        truth.push(rows.iter().filter(|&&r| train.labels[r] == 0).count() as f64);
    }
    let n = guess.len();
    if n < 2 {
        return Err(invalid("the helper saw fewer than two steps"));
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (mg, mt) = (mean(&guess), mean(&truth));
    let cov: f64 = guess.iter().zip(&truth).map(|(g, t)| (g - mg) * (t - mt)).sum();
    let vg: f64 = guess.iter().map(|g| (g - mg).powi(2)).sum();
    let vt: f64 = truth.iter().map(|t| (t - mt).powi(2)).sum();
    Ok(HelperViewReport {
        steps: n,
        exact_label_count: guess.iter().zip(&truth).filter(|(g, t)| g == t).count() as f64 / n as f64,
        mean_abs_error: guess.iter().zip(&truth).map(|(g, t)| (g - t).abs()).sum::<f64>() / n as f64,
        correlation: if vg > 0.0 && vt > 0.0 { cov / (vg * vt).sqrt() } else { 0.0 },
        mean_true_count: mt,
        majority_guess_exact: {
            let mut freq: BTreeMap<u64, usize> = BTreeMap::new();
            truth.iter().for_each(|&t| *freq.entry(t as u64).or_default() += 1);
            freq.values().copied().max().unwrap_or(0) as f64 / n as f64
        },
    })
}
