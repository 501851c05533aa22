//! Element-wise functions through the helper, as the paper does them (Section 4.2.1).
//!
//! P0 and P1 derive a fresh permutation from their shared seed and send their permuted shares to the
//! helper (the dealer). The helper reconstructs the permuted vector, applies each function, and reshares
//! every result: P0's share comes from the seed it shares with the helper, P1 receives the rest. P0 and P1
//! undo the permutation.
//!
//! Re-randomization (rtas's fix; the paper's variant is kept as [`HelperMode::Paper`] to show the attack):
//! the helper is also the dealer, so it knows P0's triple shares; had P0 sent its share unchanged, the
//! dealer could recompute it for a candidate record and slot and undo the permutation
//! (`crate::attacks::helper_linking`). So before sending, P0 adds and P1 subtracts a fresh mask `r` drawn
//! from the P0-P1 seed, which the helper does not hold: what each sends is uniform to the helper, and the
//! sum is unchanged. No extra message. Any `Fn(f64) -> f64` plugs in, several at once (sigmoid and its derivative from
//! one reconstruction).
//!
//! A softmax over each row ([`softmax_rows`], the cross-entropy loss under RTAS) goes the same way with a
//! permutation that keeps each row's values together (rows permuted, values within a row permuted).
//!
//! Ledger for n elements and k functions: P0→D n, P1→D n (online, round 1); D→P1 k·n (online, round 2).
//! The helper sees the permuted values in the clear: that is the design being evaluated, and its view is
//! recorded as such (`ViewKind::Permuted`).

pub use super::functions::{Activation, relu, relu_grad, sigmoid, sigmoid_grad};
pub use super::party::HelperMode;
use super::party::Party;
use super::ring::{Arith, Elem};
use super::share::Shared;
use crate::error::{Result, invalid};
use crate::net::{Label, Op, Phase, Role, ViewKind};
use ndarray::{ArrayD, IxDyn};
use rand::seq::SliceRandom;

/// A function the helper applies.
pub type Func<'a> = &'a (dyn Fn(f64) -> f64 + Sync);

/// Applies each of `fs` to the shared `x` element by element; one shared result per function.
pub fn apply<A: Arith>(
    p: &mut Party<A>,
    x: &Shared<A::E>,
    fs: &[Func<'_>],
    label: &Label,
) -> Result<Vec<Shared<A::E>>> {
    if fs.is_empty() {
        return Err(invalid(format!("'{label}': no function to apply")));
    }
    through_helper(p, x, &Helper::Each(fs), label)
}

/// A softmax over each row of the shared `x` (`[B, K]`) through the helper. The permutation keeps rows
/// together: the rows are permuted, and the values within each row by a permutation of their own, so the
/// helper sees each example's K values without their classes, the examples in a random order (and, as for
/// every helper call, only those values: re-randomized, unlinkable to the dealer's shares).
pub fn softmax_rows<A: Arith>(p: &mut Party<A>, x: &Shared<A::E>, label: &Label) -> Result<Shared<A::E>> {
    let [_, k] = x.shape()[..] else {
        return Err(invalid(format!("'{label}': a row softmax takes [B, K], not {:?}", x.shape())));
    };
    through_helper(p, x, &Helper::RowSoftmax(k), label)?.pop().ok_or_else(|| invalid("the helper returned nothing"))
}

/// What the helper computes on the permuted values.
enum Helper<'a> {
    /// Each function on every value (any permutation).
    Each(&'a [Func<'a>]),
    /// A softmax of each block of this many values (a permutation that keeps the blocks together).
    RowSoftmax(usize),
}

impl Helper<'_> {
    /// Results per call.
    fn outputs(&self) -> usize {
        match self {
            Helper::Each(fs) => fs.len(),
            Helper::RowSoftmax(_) => 1,
        }
    }

    /// Values the permutation keeps together.
    fn block(&self) -> usize {
        match self {
            Helper::Each(_) => 1,
            Helper::RowSoftmax(k) => *k,
        }
    }

    /// Result `j` at the permuted values, streamed to `put` (no copy of the values for element-wise functions,
    /// the hot path).
    fn result(&self, values: &[f64], j: usize, mut put: impl FnMut(f64) -> Result<()>) -> Result<()> {
        match self {
            Helper::Each(fs) => values.iter().try_for_each(|&v| put(fs[j](v))),
            Helper::RowSoftmax(k) => {
                let mut out = values.to_vec();
                for row in out.chunks_mut((*k).max(1)) {
                    super::functions::softmax_row(ndarray::ArrayViewMut1::from(row));
                }
                out.into_iter().try_for_each(put)
            }
        }
    }
}

/// A permutation of `n = rows * block` slots drawn from `prg`: blocks of `block` consecutive slots stay
/// together (the blocks permuted, and the slots within each block), or every slot moves (`block = 1`).
fn permutation(n: usize, block: usize, prg: &mut impl rand::Rng) -> Vec<usize> {
    if block <= 1 {
        let mut perm: Vec<usize> = (0..n).collect();
        perm.shuffle(prg);
        return perm;
    }
    let mut rows: Vec<usize> = (0..n / block).collect();
    rows.shuffle(prg);
    let mut perm = Vec::with_capacity(n);
    for r in rows {
        let mut within: Vec<usize> = (0..block).collect();
        within.shuffle(prg);
        perm.extend(within.into_iter().map(|c| r * block + c));
    }
    perm
}

/// The helper protocol: P0 and P1 permute their shares (blocks of `block` kept together), re-randomize and
/// send them to the helper, who reconstructs, computes `what` and reshares each result; P0 and P1 undo the
/// permutation.
fn through_helper<A: Arith>(
    p: &mut Party<A>,
    x: &Shared<A::E>,
    what: &Helper<'_>,
    label: &Label,
) -> Result<Vec<Shared<A::E>>> {
    let (n, outputs) = (x.len(), what.outputs());
    let shape = x.shape().to_vec();
    let in_label = label.op(Op::Permuted);
    if A::SHAPE_ONLY {
        return apply_shape(p, &shape, outputs, label);
    }
    match p.role {
        Role::P0 | Role::P1 => {
            let mut prg = p.prg(p.role.peer())?;
            let perm = permutation(n, what.block(), &mut prg);
            let share = x.expect_share()?;
            let flat: Vec<A::E> = share.iter().copied().collect();
            let mut permuted: Vec<A::E> = perm.iter().map(|&j| flat[j]).collect();
            if p.helper_mode() == HelperMode::Rerandomized {
                // P0 adds r, P1 subtracts it: a fresh sharing of zero the helper cannot see through.
                let r = p.masks_with(p.role.peer(), n)?;
                let p0 = p.role == Role::P0;
                for (v, m) in permuted.iter_mut().zip(r) {
                    *v = if p0 { v.add(m) } else { v.sub(m) };
                }
            }
            p.send_elems(Role::Dealer, in_label, ViewKind::Permuted, Phase::Online, vec1(permuted)?)?;
            let mut outs = Vec::with_capacity(outputs);
            for k in 0..outputs {
                let got: Vec<A::E> = if p.role == Role::P0 {
                    p.masks_with(Role::Dealer, n)?
                } else {
                    p.recv_elems(Role::Dealer, &label.op(Op::Reshare(k as u32)), &[n])?.into_iter().collect()
                };
                let mut out = vec![A::E::default(); n];
                for (j, &src) in perm.iter().enumerate() {
                    out[src] = got[j];
                }
                outs.push(Shared::held(
                    ArrayD::from_shape_vec(IxDyn(&shape), out).map_err(|e| invalid(e.to_string()))?,
                ));
            }
            Ok(outs)
        }
        Role::Dealer => {
            let a = p.recv_elems(Role::P0, &in_label, &[n])?;
            let b = p.recv_elems(Role::P1, &in_label, &[n])?;
            let values: Vec<f64> = a.iter().zip(b.iter()).map(|(x, y)| p.arith.decode(x.add(*y))).collect();
            for k in 0..outputs {
                let mut masks = p.masks_with(Role::P0, n)?.into_iter();
                let mut out = Vec::with_capacity(n);
                what.result(&values, k, |v| {
                    let m = masks.next().ok_or_else(|| invalid("fewer masks than values"))?;
                    out.push(p.arith.encode(v)?.sub(m));
                    Ok(())
                })?;
                let reshare = label.op(Op::Reshare(k as u32));
                p.send_elems(Role::P1, reshare, ViewKind::Share, Phase::Online, vec1(out)?)?;
            }
            Ok(vec![Shared::shape_only(&shape); outputs])
        }
        _ => Ok(vec![Shared::shape_only(&shape); outputs]),
    }
}

/// [`through_helper`] in a shape-only run: the same messages in the same order; the permutation, the
/// re-randomizing mask and the helper's evaluations charged instead of computed.
fn apply_shape<A: Arith>(p: &mut Party<A>, shape: &[usize], k: usize, label: &Label) -> Result<Vec<Shared<A::E>>> {
    use super::work::{Op as W, charge};
    let n = shape.iter().product::<usize>();
    let nil = || vec1(vec![A::E::default(); n]);
    let in_label = label.op(Op::Permuted);
    match p.role {
        Role::P0 | Role::P1 => {
            p.masks_with(p.role.peer(), n)?; // the permutation's draws
            charge(W::Elem, (2 * n) as f64); // permuting, and undoing it
            if p.helper_mode() == HelperMode::Rerandomized {
                p.masks_with(p.role.peer(), n)?;
            }
            p.send_elems(Role::Dealer, in_label, ViewKind::Permuted, Phase::Online, nil()?)?;
            let mut outs = Vec::with_capacity(k);
            for j in 0..k {
                if p.role == Role::P0 {
                    p.masks_with(Role::Dealer, n)?;
                } else {
                    p.recv_elems(Role::Dealer, &label.op(Op::Reshare(j as u32)), &[n])?;
                }
                charge(W::Elem, n as f64);
                outs.push(Shared::held(ArrayD::from_elem(IxDyn(shape), A::E::default())));
            }
            Ok(outs)
        }
        Role::Dealer => {
            p.recv_elems(Role::P0, &in_label, &[n])?;
            p.recv_elems(Role::P1, &in_label, &[n])?;
            for j in 0..k {
                p.masks_with(Role::P0, n)?;
                charge(W::Helper, n as f64);
                let reshare = label.op(Op::Reshare(j as u32));
                p.send_elems(Role::P1, reshare, ViewKind::Share, Phase::Online, nil()?)?;
            }
            Ok(vec![Shared::shape_only(shape); k])
        }
        _ => Ok(vec![Shared::shape_only(shape); k]),
    }
}

fn vec1<E: Elem>(v: Vec<E>) -> Result<ArrayD<E>> {
    let n = v.len();
    ArrayD::from_shape_vec(IxDyn(&[n]), v).map_err(|e| invalid(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::permutation;

    #[test]
    fn a_block_permutation_keeps_each_row_together_and_moves_every_slot_once() {
        let mut prg = crate::rng::stream(3, 0);
        let (rows, block) = (7, 5);
        let perm = permutation(rows * block, block, &mut prg);
        let mut seen = perm.clone();
        seen.sort_unstable();
        assert_eq!(seen, (0..rows * block).collect::<Vec<_>>(), "a permutation");
        for chunk in perm.chunks(block) {
            let row = chunk[0] / block;
            assert!(chunk.iter().all(|&j| j / block == row), "a row's values stay together: {chunk:?}");
        }
        assert_ne!(perm, (0..rows * block).collect::<Vec<_>>(), "and they move");
    }
}
