//! The helper links the values it sees to records by their values (Section 4.2.1), which no re-randomization of
//! the shares can stop.
//!
//! The helper reconstructs the permuted pre-activations of the first element-wise function in the clear: that
//! is the design. When it knows the first layer's initial weights (public, or a leaked `init_seed`: the
//! owner's initial weights come from one seed) and holds a candidate set of records, it computes every
//! candidate's pre-activations itself and looks each of them up among the values it saw. A record of the
//! batch finds all of its values (within the fixed point's rounding); any other record finds only the values
//! it happens to share (the bias of empty patches, chance coincidences). The helper so names the batch's
//! records, and with them every slot's value: the permutation hid nothing. rtas's re-randomized helper
//! receives other shares of the same values, so the attack is unchanged there.
//!
//! Logistic regression starts from zero weights: every first-step value is the bias, 0, and there is nothing
//! to link. The CNN starts from random weights drawn from the owner's seed.

use crate::error::{Result, invalid};
use crate::models::{ModelKind, Prepared};
use crate::net::{Op, Payload, Role, Stage, ViewKind};
use crate::protocol::ring::{Arith, RingArith};
use crate::sim::record::View;
use ndarray::ArrayD;
use serde::Serialize;

/// What the helper declares it knows, besides its own view.
#[derive(Debug, Clone)]
pub struct ValueKnowledge<'a> {
    /// Candidate records (rows of `data`) among which the first batch's records lie.
    pub candidates: &'a [usize],
    /// The candidates' features.
    pub data: &'a Prepared,
    /// The model.
    pub model: ModelKind,
    /// The first layer's initial parameters (weights and bias).
    pub first: &'a [ArrayD<f64>],
    /// The fixed point the protocol runs.
    pub arith: RingArith,
}

/// What one attack on one recorded run found.
#[derive(Debug, Clone, Serialize)]
pub struct ValueOutcome {
    /// Records the helper named as the batch's.
    pub named: usize,
    /// Of them, records that were in the batch.
    pub right: usize,
    /// Records in the batch.
    pub batch: usize,
    /// Whether the batch's records were named exactly (none missed, none wrongly named).
    pub batch_named: bool,
    /// The lowest share of its values a batch record found, and the highest share a record outside found.
    pub member_low: f64,
    /// See `member_low`.
    pub outsider_high: f64,
}

/// The share of its values a record must find to be named.
const NAMED_AT: f64 = 0.95;

/// Runs the attack on the first training step's first element-wise call in the helper's `view`; `truth` (the
/// batch's rows) only scores it.
pub fn run(view: &View, know: &ValueKnowledge<'_>, truth: &[usize]) -> Result<ValueOutcome> {
    if view.role != Role::Dealer {
        return Err(invalid(format!("this attack reads the helper's view, not {}'s", view.role)));
    }
    let sent = |from: Role| {
        view.of_kind(ViewKind::Permuted)
            .find(|e| e.from == from && e.label.stage == Stage::Train(0) && e.label.op == Some(Op::Permuted))
            .ok_or_else(|| invalid(format!("the helper's view holds no permuted vector from {from} in the first step")))
    };
    let (Payload::Ring(a), Payload::Ring(b)) = (&sent(Role::P0)?.payload, &sent(Role::P1)?.payload) else {
        return Err(invalid("the permuted vectors are not in the ring"));
    };
    if a.len() != b.len() || a.is_empty() {
        return Err(invalid("the two permuted vectors differ in length"));
    }
    let mut seen: Vec<f64> = a.iter().zip(b.iter()).map(|(x, y)| know.arith.decode(x.wrapping_add(*y))).collect();
    seen.sort_by(f64::total_cmp);
    // The helper computes as the protocol does: weights and bias rounded to the fixed point (the pixels are
    // already on its grid), so its prediction differs from what it saw only by the product's truncation.
    let ulp = 1.0 / 2f64.powi(know.arith.frac_bits as i32);
    let tol = 2.5 * ulp;
    let found = |v: f64| {
        let i = seen.partition_point(|&s| s < v - tol);
        i < seen.len() && seen[i] <= v + tol
    };
    let rounded: Vec<ArrayD<f64>> = know.first.iter().map(|p| p.mapv(|w| (w / ulp).round() * ulp)).collect();
    // Every candidate's first-layer output under the known initial weights, in one batch.
    let z = know.model.net().first_output(&rounded, &know.data.batch(know.model, know.candidates))?;
    let per = z.len() / know.candidates.len().max(1);
    let flat: Vec<f64> = z.iter().copied().collect();
    // A record is scored on its informative values: an empty patch gives the bias, which every record shares.
    let biases: Vec<f64> = rounded.get(1).map_or(Vec::new(), |b| b.iter().copied().collect());
    let informative = |v: f64| biases.iter().all(|b| (v - b).abs() > tol);
    let scores: Vec<f64> = (0..know.candidates.len())
        .map(|c| {
            let vals: Vec<f64> = flat[c * per..(c + 1) * per].iter().copied().filter(|&v| informative(v)).collect();
            vals.iter().filter(|&&v| found(v)).count() as f64 / vals.len().max(1) as f64
        })
        .collect();
    let member = |r: usize| truth.contains(&r);
    let named: Vec<usize> =
        know.candidates.iter().zip(&scores).filter(|(_, s)| **s >= NAMED_AT).map(|(r, _)| *r).collect();
    let right = named.iter().filter(|&&r| member(r)).count();
    let pick =
        |inside: bool| know.candidates.iter().zip(&scores).filter(move |(r, _)| member(**r) == inside).map(|(_, s)| *s);
    Ok(ValueOutcome {
        named: named.len(),
        right,
        batch: truth.len(),
        batch_named: right == truth.len() && named.len() == truth.len(),
        member_low: pick(true).fold(1.0, f64::min),
        outsider_high: pick(false).fold(0.0, f64::max),
    })
}
