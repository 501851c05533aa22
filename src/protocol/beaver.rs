//! Online Beaver products: element-wise, matrix and convolution.
//!
//! With a triple (U, V, Z = U∘V), P0 and P1 open `E = X - U` and `F = Y - V` (one message each way, one
//! round: `|X| + |Y|` elements per party) and compute locally
//! `[X∘Y]_i = Z_i + E∘(V_i + [i = 0] F) + U_i∘F`, then truncate once (ring) — error at most one unit of
//! `2^-f` per output, see [`super::ring`].
//!
//! Ledger of one product (ring elements; P1's correction from the dealer is offline):
//!
//! | product | P0→P1 and P1→P0 (each, online, 1 round) | Dealer→P1 (offline) |
//! | --- | --- | --- |
//! | element-wise, n elements | 2n | n |
//! | matmul m×k by k×n | mk + kn | mn |
//! | conv (B,C,H,W) by (O,C,KH,KW) | BCHW + OCKHKW | B·O·OH·OW |
//! | reuse, L·D with L = reuse(U) known, D: lk×n | lk·n | lm·n |

use super::dealer::{self, Product, Reuse, TripleShare, as2};
use super::io::exchange;
use super::party::Party;
use super::ring::{Arith, Elem};
use super::share::Shared;
use crate::error::{Result, invalid};
use crate::net::protocol_error;
use crate::net::{Label, Op, ViewKind};
use ndarray::{ArrayD, IxDyn};

/// Masks `x` with a fresh kept mask and opens `x - U` (one message each way). The result can be used by
/// [`matmul_reusing`] in any number of later products.
pub fn open_masked<A: Arith>(p: &mut Party<A>, x: &Shared<A::E>, label: &Label) -> Result<Masked<A::E>> {
    let (key, u) = dealer::mask(p, x.shape())?;
    let Some(u) = u else {
        return Ok(Masked { e: None, u: None, key, shape: x.shape().to_vec() });
    };
    let e = exchange(p, sub(x.expect_share()?, &u), &label.op(Op::Open), ViewKind::MaskedOpening)?;
    Ok(Masked { e: Some(e), u: Some(u), key, shape: x.shape().to_vec() })
}

/// The opened mask of an operand, kept so that a later product can reuse it without opening X again.
#[derive(Debug, Clone)]
pub struct Masked<E: Elem> {
    /// `E = X - U`, public to P0 and P1.
    pub e: Option<ArrayD<E>>,
    /// This party's share of U.
    pub u: Option<ArrayD<E>>,
    /// The dealer's key for the kept U.
    pub key: u64,
    /// Shape of X.
    pub shape: Vec<usize>,
}

/// A product's result and the opened masks of both operands.
pub type WithMasks<E> = (Shared<E>, Masked<E>, Masked<E>);

fn sub<E: Elem>(a: &ArrayD<E>, b: &ArrayD<E>) -> ArrayD<E> {
    E::charge_pass(2 * a.len());
    E::sub_arrays(a, b)
}

fn add_assign<E: Elem>(a: &mut ArrayD<E>, b: &ArrayD<E>) {
    E::charge_pass(a.len());
    E::add_assign_arrays(a, b)
}

/// Opens `x - u` and `y - v` in one message each way.
fn open_pair<A: Arith>(
    p: &mut Party<A>,
    x: &ArrayD<A::E>,
    u: &ArrayD<A::E>,
    y: &ArrayD<A::E>,
    v: &ArrayD<A::E>,
    label: &Label,
) -> Result<[ArrayD<A::E>; 2]> {
    A::E::charge_pass(2 * (x.len() + y.len()));
    let mut flat: Vec<A::E> = Vec::with_capacity(x.len() + y.len());
    if A::SHAPE_ONLY {
        flat.resize(x.len() + y.len(), A::E::default());
    } else {
        flat.extend(x.iter().zip(u.iter()).map(|(a, b)| a.sub(*b)));
        flat.extend(y.iter().zip(v.iter()).map(|(a, b)| a.sub(*b)));
    }
    let n = flat.len();
    let mine = ArrayD::from_shape_vec(IxDyn(&[n]), flat).map_err(|er| invalid(er.to_string()))?;
    let both = exchange(p, mine, label, ViewKind::MaskedOpening)?;
    let mut both = both.into_raw_vec_and_offset().0;
    let f = both.split_off(x.len());
    Ok([
        ArrayD::from_shape_vec(IxDyn(x.shape()), both).map_err(|er| invalid(er.to_string()))?,
        ArrayD::from_shape_vec(IxDyn(y.shape()), f).map_err(|er| invalid(er.to_string()))?,
    ])
}

/// `Z_i + E∘(V_i + [i=0] F) + U_i∘F`, truncated.
fn combine<A: Arith>(
    p: &mut Party<A>,
    product: &Product,
    mut t: TripleShare<A::E>,
    e: &ArrayD<A::E>,
    f: &ArrayD<A::E>,
) -> Result<ArrayD<A::E>> {
    let i = p.share_index().ok_or_else(|| protocol_error(None, "combine outside P0/P1"))?;
    let mut out = dealer::z_share(p, &mut t)?;
    let mut v = t.v;
    if i == 0 {
        add_assign(&mut v, f);
    }
    add_assign(&mut out, &product.apply(e, &v)?);
    add_assign(&mut out, &product.apply(&t.u, f)?);
    rescale(p, out)
}

fn rescale<A: Arith>(p: &mut Party<A>, out: ArrayD<A::E>) -> Result<ArrayD<A::E>> {
    let shape = out.shape().to_vec();
    let mut flat = out.into_raw_vec_and_offset().0;
    p.rescale(&mut flat)?;
    ArrayD::from_shape_vec(IxDyn(&shape), flat).map_err(|er| invalid(er.to_string()))
}

fn product_op<A: Arith>(
    p: &mut Party<A>,
    product: Product,
    x: &Shared<A::E>,
    y: &Shared<A::E>,
    keep: bool,
    label: &Label,
) -> Result<WithMasks<A::E>> {
    let (_, _, sz) = product.shapes()?;
    let (id, t) = dealer::triple(p, &product, keep, label)?;
    let masked = |e, u, side, shape: &[usize]| Masked { e, u, key: dealer::kept_key(id, side), shape: shape.to_vec() };
    let Some(t) = t else {
        return Ok((Shared::shape_only(&sz), masked(None, None, 0, x.shape()), masked(None, None, 1, y.shape())));
    };
    let [e, f] = open_pair(p, x.expect_share()?, &t.u, y.expect_share()?, &t.v, &label.op(Op::Open))?;
    let kept = keep.then(|| (t.u.clone(), t.v.clone()));
    let z = combine(p, &product, t, &e, &f)?;
    Ok(match kept {
        Some((u, v)) => {
            (Shared::held(z), masked(Some(e), Some(u), 0, x.shape()), masked(Some(f), Some(v), 1, y.shape()))
        }
        None => (Shared::held(z), masked(None, None, 0, x.shape()), masked(None, None, 1, y.shape())),
    })
}

/// Element-wise product of two shared tensors of one shape.
pub fn mul<A: Arith>(p: &mut Party<A>, x: &Shared<A::E>, y: &Shared<A::E>, label: &Label) -> Result<Shared<A::E>> {
    if x.shape() != y.shape() {
        return Err(invalid(format!("mul: shapes {:?} and {:?} differ", x.shape(), y.shape())));
    }
    Ok(product_op(p, Product::Mul(x.shape().to_vec()), x, y, false, label)?.0)
}

/// Matrix product `x (m x k) * y (k x n)`; with `keep`, the dealer keeps both masks and the returned
/// [`Masked`] values can be reused (`keep = false` returns placeholders that cannot).
pub fn matmul<A: Arith>(
    p: &mut Party<A>,
    x: &Shared<A::E>,
    y: &Shared<A::E>,
    keep: bool,
    label: &Label,
) -> Result<WithMasks<A::E>> {
    let (xs, ys) = (x.shape(), y.shape());
    if xs.len() != 2 || ys.len() != 2 || xs[1] != ys[0] {
        return Err(invalid(format!("matmul: shapes {xs:?} and {ys:?} do not chain")));
    }
    product_op(p, Product::MatMul { m: xs[0], k: xs[1], n: ys[1] }, x, y, keep, label)
}

/// Convolution of images `x (B, C, H, W)` with filters `w (O, C, KH, KW)`; with `keep`, the opened image
/// mask for reuse by the filter gradient.
pub fn conv2d<A: Arith>(
    p: &mut Party<A>,
    x: &Shared<A::E>,
    w: &Shared<A::E>,
    stride: usize,
    keep: bool,
    label: &Label,
) -> Result<WithMasks<A::E>> {
    super::conv::out_hw(x.shape(), w.shape(), stride)?;
    product_op(p, Product::Conv { x: x.shape().to_vec(), w: w.shape().to_vec(), stride }, x, w, keep, label)
}

/// `reuse(X) * d` for an X whose mask was kept by an earlier product: only `d - V'` is opened.
/// `Reuse::Transpose` gives `Xᵀ d` (X: m x k, d: m x n -> k x n); `Reuse::Im2colTranspose` gives
/// `im2col(X)ᵀ d` (d: B*OH*OW x O -> C*KH*KW x O), the filter gradient of a convolution.
pub fn matmul_reusing<A: Arith>(
    p: &mut Party<A>,
    masked: &Masked<A::E>,
    reuse: Reuse,
    d: &Shared<A::E>,
    label: &Label,
) -> Result<Shared<A::E>> {
    let ds = d.shape();
    if ds.len() != 2 {
        return Err(invalid(format!("matmul_reusing: d must be a matrix, got {ds:?}")));
    }
    let s2 = || -> Result<(usize, usize)> {
        match masked.shape[..] {
            [r, c] => Ok((r, c)),
            _ => Err(invalid(format!("{reuse:?} needs a matrix operand, got {:?}", masked.shape))),
        }
    };
    let (lm, lk) = match &reuse {
        Reuse::Identity => s2()?,
        Reuse::Transpose => {
            let (r, c) = s2()?;
            (c, r)
        }
        Reuse::Rows(rows) => (rows.len(), s2()?.1),
        Reuse::ImagesIm2col { images, kh, kw, stride } | Reuse::ImagesIm2colTranspose { images, kh, kw, stride } => {
            let s = &masked.shape;
            let (oh, ow) = super::conv::out_hw(s, &[1, s.get(1).copied().unwrap_or(0), *kh, *kw], *stride)?;
            let (r, c) = (images.len() * oh * ow, s[1] * kh * kw);
            if matches!(reuse, Reuse::ImagesIm2col { .. }) { (r, c) } else { (c, r) }
        }
        Reuse::RowsTranspose(rows) => (s2()?.1, rows.len()),
        Reuse::KernelMatrix => match masked.shape[..] {
            [o, c, kh, kw] => (c * kh * kw, o),
            _ => return Err(invalid(format!("{reuse:?} needs a filter operand, got {:?}", masked.shape))),
        },
        &Reuse::Im2colTranspose { kh, kw, stride } => {
            let s = &masked.shape;
            let (oh, ow) = super::conv::out_hw(s, &[1, s[1], kh, kw], stride)?;
            (s[1] * kh * kw, s[0] * oh * ow)
        }
    };
    if ds[0] != lk {
        return Err(invalid(format!("matmul_reusing: operand has {lk} columns, d has {} rows", ds[0])));
    }
    let n = ds[1];
    let t = dealer::triple_reusing(p, masked.key, &reuse, masked.u.as_ref(), (lm, lk), n, label)?;
    let Some(mut t) = t else {
        return Ok(Shared::shape_only(&[lm, n]));
    };
    let i = p.share_index().ok_or_else(|| protocol_error(Some(label), "reuse outside P0/P1"))?;
    let f = exchange(p, sub(d.expect_share()?, &t.v), &label.op(Op::Open), ViewKind::MaskedOpening)?;
    let e = masked.e.as_ref().ok_or_else(|| protocol_error(Some(label), "reused mask was never opened here"))?;
    let le = reuse.apply(e)?;
    let mut v = t.v.clone();
    if i == 0 {
        add_assign(&mut v, &f);
    }
    let mut out = dealer::z_share(p, &mut t)?;
    add_assign(&mut out, &A::E::matmul(le.view(), as2(&v)?).into_dyn());
    add_assign(&mut out, &A::E::matmul(as2(&t.u)?, as2(&f)?).into_dyn());
    Ok(Shared::held(rescale(p, out)?))
}
