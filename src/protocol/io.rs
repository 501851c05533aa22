//! Getting values into and out of shares: input sharing by a data owner, opening, and revealing to one party
//! (RTAS-fast's hand-over to the third party and its returned gradient use the same two functions).
//!
//! Message counts (n = elements):
//! - `share_from` an Owner, the ThirdParty or the Dealer: n elements to P1 (P0's share comes from the seed
//!   it shares with the owner); from P0 or P1: nothing (the other's share comes from the P0-P1 seed).
//! - `open`: n elements each way between P0 and P1, 1 round.
//! - `reveal_to(T)`: n elements from each of P0 and P1 to T, 1 round.

use super::party::{Party, check_shape};
use super::ring::{Arith, Elem};
use super::share::Shared;
use crate::error::{Result, invalid};
use crate::net::protocol_error;
use crate::net::{Label, Op, Phase, Role, ViewKind};
use ndarray::{ArrayD, IxDyn};

fn from_vec<E: Elem>(shape: &[usize], v: Vec<E>) -> Result<ArrayD<E>> {
    ArrayD::from_shape_vec(IxDyn(shape), v).map_err(|e| invalid(e.to_string()))
}

/// `owner` secret-shares `value` (which only the owner passes) of shape `shape` between P0 and P1.
pub fn share_from<A: Arith>(
    p: &mut Party<A>,
    owner: Role,
    value: Option<&ArrayD<f64>>,
    shape: &[usize],
    label: &Label,
) -> Result<Shared<A::E>> {
    let n: usize = shape.iter().product();
    let me = p.role;
    let encoded = if me == owner
        && let Some(nil) = A::E::nil_array(shape)
    {
        Some(nil)
    } else if me == owner {
        let v = value.ok_or_else(|| invalid(format!("'{label}': the owner {owner} has no value to share")))?;
        check_shape(v.shape(), shape, label)?;
        Some(p.arith.encode_all(v)?)
    } else {
        None
    };
    if owner.is_computing() {
        // r from the P0-P1 seed: the non-owner's share is r, the owner's x - r. No message.
        if !me.is_computing() {
            return Ok(Shared::shape_only(shape));
        }
        let r = from_vec(shape, p.masks_with(me.peer(), n)?)?;
        return Ok(Shared::held(match encoded {
            Some(x) => sub(&x, &r),
            None => r,
        }));
    }
    // An outside owner shares a seed with P0: P0's share is r, P1 receives x - r.
    let label = label.op(Op::Share);
    match me {
        r if r == owner => {
            let x = encoded.ok_or_else(|| protocol_error(Some(&label), "the owner lost its value"))?;
            let mask = from_vec(shape, p.masks_with(Role::P0, n)?)?;
            p.send_elems(Role::P1, label, ViewKind::Share, Phase::Online, sub(&x, &mask))?;
            Ok(Shared::shape_only(shape))
        }
        Role::P0 => Ok(Shared::held(from_vec(shape, p.masks_with(owner, n)?)?)),
        Role::P1 => Ok(Shared::held(p.recv_elems(owner, &label, shape)?)),
        _ => Ok(Shared::shape_only(shape)),
    }
}

fn sub<E: Elem>(a: &ArrayD<E>, b: &ArrayD<E>) -> ArrayD<E> {
    E::sub_arrays(a, b)
}

fn add<E: Elem>(a: &ArrayD<E>, b: &ArrayD<E>) -> ArrayD<E> {
    E::add_arrays(a, b)
}

/// P0 and P1 exchange shares of `x` and both learn it (`kind` says what it is in their views).
pub(crate) fn exchange<A: Arith>(
    p: &mut Party<A>,
    x: ArrayD<A::E>,
    label: &Label,
    kind: ViewKind,
) -> Result<ArrayD<A::E>> {
    let peer = p.role.peer();
    let shape = x.shape().to_vec();
    p.send_elems(peer, label.clone(), kind, Phase::Online, x.clone())?;
    let mut theirs = p.recv_elems(peer, label, &shape)?;
    A::E::add_assign_arrays(&mut theirs, &x);
    Ok(theirs)
}

/// Opens `x` to both P0 and P1; they return the decoded value, other parties `None`.
pub fn open<A: Arith>(p: &mut Party<A>, x: &Shared<A::E>, label: &Label) -> Result<Option<ArrayD<f64>>> {
    if !p.role.is_computing() {
        return Ok(None);
    }
    let v = exchange(p, x.expect_share()?.clone(), &label.op(Op::Open), ViewKind::Output)?;
    Ok(Some(p.arith.decode_all(&v)))
}

/// Reveals `x` to `to` alone (P0 and P1 send their shares; `to` adds them). `to` returns the decoded value.
pub fn reveal_to<A: Arith>(p: &mut Party<A>, x: &Shared<A::E>, to: Role, label: &Label) -> Result<Option<ArrayD<f64>>> {
    let label = label.op(Op::Reveal);
    let kind = if to == Role::ThirdParty { ViewKind::Revealed } else { ViewKind::Output };
    if p.role.is_computing() && p.role != to {
        p.send_elems(to, label, kind, Phase::Online, x.expect_share()?.clone())?;
        return Ok(None);
    }
    if p.role == to {
        let mut sum = match x.share() {
            Some(s) => s.clone(),
            None => ArrayD::from_elem(IxDyn(x.shape()), A::E::default()),
        };
        for from in [Role::P0, Role::P1] {
            if from != to {
                sum = add(&sum, &p.recv_elems(from, &label, x.shape())?);
            }
        }
        return Ok(Some(p.arith.decode_all(&sum)));
    }
    Ok(None)
}
