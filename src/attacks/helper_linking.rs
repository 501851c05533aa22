//! The dealer-helper undoes the helper's permutation (Section 4.2.1).
//!
//! In RTAS the helper that receives P0's and P1's permuted shares is also the dealer, which drew P0's
//! triple shares `(U0, V0, Z0)` and P1's `(U1, V1)` from the seeds it shares with them. When the weights are
//! public at the start (logistic regression starts from zeros), the dealer can recompute P0's share of the
//! first pre-activation for any candidate record `x` in any batch slot `i`:
//!
//! `s0(i, x) = trunc0( Z0_i + (enc(x) - U_i)·(V0 + F) + U0_i·F ) + b0`, with `F = W - V` public to it,
//!
//! where `b0` (P0's share of the bias) is unknown but the same for every slot. For every value `v_j` P0 sent
//! (in permuted order) and every (candidate, slot), the difference `v_j - s0(i, x)` equals `b0` exactly for
//! the true matches and is uniform in Z_2^64 otherwise: the most frequent difference is `b0`, and the pairs
//! that give it link each permuted position to its record and slot. The permutation is undone.
//!
//! rtas's protocol re-randomizes what P0 and P1 send with a fresh zero sharing from the P0-P1 seed
//! ([`crate::protocol::elementwise`]); there the differences are uniform, no value repeats, and the attack
//! falls to chance. The attacker here reads only the dealer's own view: its seeds, what it received, and
//! the knowledge it declares (the public initial weights, the protocol's program, a candidate set).

use crate::error::{Result, invalid};
use crate::models::Prepared;
use crate::net::{Op, Payload, Role, Stage, ViewKind};
use crate::protocol::prg::Prg;
use crate::protocol::ring::{Arith, RingArith};
use crate::sim::record::View;
use serde::Serialize;
use std::collections::HashMap;

/// What the attacker declares it knows, besides its own view.
#[derive(Debug, Clone)]
pub struct Knowledge<'a> {
    /// Candidate records (rows of `data`) among which the first batch's records lie.
    pub candidates: &'a [usize],
    /// The candidate records' features (the attacker holds them).
    pub data: &'a Prepared,
    /// The public initial weights of the first layer (`[784]`: zeros for the paper's logistic regression).
    pub initial_weights: &'a [f64],
    /// The fixed point the protocol runs.
    pub arith: RingArith,
}

/// What one attack on one recorded run found.
#[derive(Debug, Clone, Serialize)]
pub struct LinkingOutcome {
    /// Batch slots whose record and permuted position the attacker identified correctly.
    pub slots_linked: usize,
    /// Slots in the batch.
    pub slots: usize,
    /// How many (position, candidate, slot) triples gave the most frequent difference (the true `b0`
    /// repeats once per slot; otherwise 1).
    pub support: usize,
    /// Whether the whole permuted vector was put back in order with every record named.
    pub vector_recovered: bool,
}

/// Runs the attack on the first training step in the dealer's `view`; `truth` (the first batch's rows)
/// only scores it.
pub fn run(view: &View, know: &Knowledge<'_>, truth: &[usize]) -> Result<LinkingOutcome> {
    if view.role != Role::Dealer {
        return Err(invalid(format!("this attack reads the dealer-helper's view, not {}'s", view.role)));
    }
    let seed_with = |r: Role| {
        view.seeds
            .iter()
            .find(|(with, _)| *with == r)
            .map(|(_, s)| *s)
            .ok_or_else(|| invalid(format!("the dealer's view holds no seed shared with {r}")))
    };
    let (s0, s1) = (seed_with(Role::P0)?, seed_with(Role::P1)?);
    let sent = view
        .of_kind(ViewKind::Permuted)
        .find(|e| e.from == Role::P0 && e.label.stage == Stage::Train(0) && e.label.op == Some(Op::Permuted))
        .ok_or_else(|| invalid("the dealer's view holds no permuted vector from P0 in the first training step"))?;
    let Payload::Ring(v) = &sent.payload else { return Err(invalid("the permuted vector is not in the ring")) };
    let b = v.len();
    let d = know.initial_weights.len();
    if b == 0 || d == 0 || know.data.x.len() < know.data.count * d {
        return Err(invalid("empty batch, no weights, or candidate data of another width"));
    }
    // The first triple of the run (the forward product X W of step 0) is stream 0 of both seeds: U (b x d),
    // V (d x 1), then Z0 (b x 1) at P0; U1, V1 at P1.
    let mut p0 = Prg::new(&s0, 0);
    let (u0, v0, z0) = (p0.ring(b * d), p0.ring(d), p0.ring(b));
    let mut p1 = Prg::new(&s1, 0);
    let (u1, v1) = (p1.ring(b * d), p1.ring(d));
    let w: Vec<u64> = know.initial_weights.iter().map(|&x| know.arith.encode(x)).collect::<Result<_>>()?;
    // F = W - V (opened between P0 and P1; the dealer knows V); P0 multiplies E by V0 + F.
    let f: Vec<u64> = (0..d).map(|k| w[k].wrapping_sub(v0[k].wrapping_add(v1[k]))).collect();
    let w0: Vec<u64> = (0..d).map(|k| v0[k].wrapping_add(f[k])).collect();
    let dot = |a: &[u64], b: &[u64]| a.iter().zip(b).fold(0u64, |s, (x, y)| s.wrapping_add(x.wrapping_mul(*y)));
    // s0(i, x) before truncation = Z0_i + enc(x)·w0 - U_i·w0 + U0_i·F.
    let slot_term: Vec<u64> = (0..b)
        .map(|i| {
            let ui: Vec<u64> = (0..d).map(|k| u0[i * d + k].wrapping_add(u1[i * d + k])).collect();
            z0[i].wrapping_sub(dot(&ui, &w0)).wrapping_add(dot(&u0[i * d..(i + 1) * d], &f))
        })
        .collect();
    let cand_term: Vec<u64> = know
        .candidates
        .iter()
        .map(|&r| {
            let x: Vec<u64> =
                know.data.x[r * d..(r + 1) * d].iter().map(|&x| know.arith.encode(x)).collect::<Result<_>>()?;
            Ok(dot(&x, &w0))
        })
        .collect::<Result<_>>()?;
    let mut counts: HashMap<u64, usize> = HashMap::new();
    let mut pairs: Vec<(u64, usize, usize)> = Vec::with_capacity(b * b * know.candidates.len()); // (diff, cand, slot)
    for &vj in v.iter() {
        for (c, &ct) in cand_term.iter().enumerate() {
            for (i, &st) in slot_term.iter().enumerate() {
                let pred = know.arith.truncate_share(0, st.wrapping_add(ct));
                let diff = vj.wrapping_sub(pred);
                *counts.entry(diff).or_default() += 1;
                pairs.push((diff, c, i));
            }
        }
    }
    let (b0, support) =
        counts.iter().max_by_key(|(d, n)| (**n, std::cmp::Reverse(**d))).map(|(d, n)| (*d, *n)).unwrap_or((0, 0));
    let mut named: Vec<Option<usize>> = vec![None; b];
    if support > 1 {
        for &(diff, c, i) in &pairs {
            if diff == b0 {
                named[i] = Some(know.candidates[c]);
            }
        }
    }
    let slots_linked = named.iter().zip(truth).filter(|(n, t)| **n == Some(**t)).count();
    Ok(LinkingOutcome { slots_linked, slots: b, support, vector_recovered: slots_linked == b && truth.len() == b })
}
