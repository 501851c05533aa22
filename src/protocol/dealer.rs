//! Beaver triples from the dealer, seed-compressed as CrypTen's trusted-third-party provider does.
//!
//! For a triple (U, V, Z = U ∘ V) (∘: element-wise product, matrix product or convolution) P0 draws
//! `U0, V0, Z0` from the seed it shares with the dealer, P1 draws `U1, V1` from its own seed, and the dealer,
//! which can draw both, sends P1 only the correction `Z1 = U∘V - Z0`. Cost: `|Z|` elements from the dealer
//! to P1, offline, one message; nothing to P0. A matmul triple of `m x k` by `k x n` costs `m*n` elements.
//!
//! In-step reuse: a triple can keep its `U` (the dealer stores the full mask) so that a later triple is
//! built on a transform of the same `U`, e.g. `Uᵀ` for the weight gradient `Xᵀ δ` after the forward
//! `X W`: the masked input `E = X - U` opened once serves both products.

use super::conv;
use super::party::Party;
use super::ring::{Arith, Elem};
use crate::error::{Result, invalid};
use crate::net::protocol_error;
use crate::net::{Label, Op, Phase, Role, ViewKind};
use ndarray::{Array2, ArrayD, ArrayView2, Ix2, IxDyn};

/// What product a triple is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Product {
    /// Element-wise, both operands of this shape.
    Mul(Vec<usize>),
    /// `(m x k) * (k x n)`.
    MatMul {
        /// Rows of the left operand.
        m: usize,
        /// Inner dimension.
        k: usize,
        /// Columns of the right operand.
        n: usize,
    },
    /// Image `(B, C, H, W)` convolved with filters `(O, C, KH, KW)`.
    Conv {
        /// Image shape.
        x: Vec<usize>,
        /// Filter shape.
        w: Vec<usize>,
        /// Stride.
        stride: usize,
    },
}

impl Product {
    /// Shapes of U, V and Z.
    pub fn shapes(&self) -> Result<(Vec<usize>, Vec<usize>, Vec<usize>)> {
        Ok(match self {
            Product::Mul(s) => (s.clone(), s.clone(), s.clone()),
            Product::MatMul { m, k, n } => (vec![*m, *k], vec![*k, *n], vec![*m, *n]),
            Product::Conv { x, w, stride } => {
                let (oh, ow) = conv::out_hw(x, w, *stride)?;
                (x.clone(), w.clone(), vec![x[0], w[0], oh, ow])
            }
        })
    }

    /// `u ∘ v`.
    pub fn apply<E: Elem>(&self, u: &ArrayD<E>, v: &ArrayD<E>) -> Result<ArrayD<E>> {
        match self {
            Product::Mul(_) => Ok(E::mul_arrays(u, v)),
            Product::MatMul { .. } => Ok(E::matmul(as2(u)?, as2(v)?).into_dyn()),
            Product::Conv { stride, .. } => conv::conv2d(u, v, *stride),
        }
    }
}

/// A 2-D view of a tensor (no copy).
pub(crate) fn as2<E: Elem>(a: &ArrayD<E>) -> Result<ArrayView2<'_, E>> {
    a.view().into_dimensionality::<Ix2>().map_err(|_| invalid(format!("expected a matrix, got shape {:?}", a.shape())))
}

/// A computing party's shares of a triple.
#[derive(Debug, Clone)]
pub struct TripleShare<E: Elem> {
    /// Share of U.
    pub u: ArrayD<E>,
    /// Share of V.
    pub v: ArrayD<E>,
    /// Share of Z: P0 draws it at once; P1's correction is received only when [`z_share`] asks for it, so
    /// that P1 opens its masked inputs without waiting for the dealer (as it would with material delivered
    /// ahead of time).
    pub z: Option<ArrayD<E>>,
    pending: Option<(Label, Vec<usize>)>,
}

/// This party's share of Z, receiving P1's correction from the dealer if it has not arrived yet.
pub fn z_share<A: Arith>(p: &mut Party<A>, t: &mut TripleShare<A::E>) -> Result<ArrayD<A::E>> {
    if let Some((label, shape)) = t.pending.take() {
        t.z = Some(p.recv_elems(Role::Dealer, &label, &shape)?);
    }
    t.z.take().ok_or_else(|| protocol_error(None, "a triple's Z share was used twice"))
}

/// How a reused mask is transformed before the new product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reuse {
    /// The kept mask itself (e.g. a weight's forward mask for the backward `W δᵀ`).
    Identity,
    /// `Uᵀ` of a kept `m x k` mask (for `Xᵀ δ`).
    Transpose,
    /// Rows of a kept mask (a batch of a data set masked once, SecureML's reuse across epochs).
    Rows(Vec<usize>),
    /// Those rows, transposed.
    RowsTranspose(Vec<usize>),
    /// `im2col` of some images of a kept image mask `(N, C, H, W)`: the convolution input of a batch of a
    /// data set masked once.
    ImagesIm2col {
        /// Which images.
        images: Vec<usize>,
        /// Kernel height.
        kh: usize,
        /// Kernel width.
        kw: usize,
        /// Stride.
        stride: usize,
    },
    /// Its transpose (for the filter gradient).
    ImagesIm2colTranspose {
        /// Which images.
        images: Vec<usize>,
        /// Kernel height.
        kh: usize,
        /// Kernel width.
        kw: usize,
        /// Stride.
        stride: usize,
    },
    /// The kernel matrix `(C*KH*KW, O)` of a kept filter mask `(O, C, KH, KW)` (for a convolution's delta at
    /// its input: `kernel_matrix(W) · δᵀ` gives the patches' deltas, transposed).
    KernelMatrix,
    /// `im2col(U)ᵀ` of a kept image mask (for the filter gradient of a convolution).
    Im2colTranspose {
        /// Kernel height.
        kh: usize,
        /// Kernel width.
        kw: usize,
        /// Stride.
        stride: usize,
    },
}

impl Reuse {
    /// The transform of a (share of a) kept mask.
    pub fn apply<E: Elem>(&self, u: &ArrayD<E>) -> Result<Array2<E>> {
        match self {
            Reuse::Identity => Ok(as2(u)?.to_owned()),
            Reuse::Transpose => Ok(as2(u)?.t().as_standard_layout().into_owned()),
            Reuse::Rows(rows) => select_rows(as2(u)?, rows),
            Reuse::RowsTranspose(rows) => Ok(select_rows(as2(u)?, rows)?.t().as_standard_layout().into_owned()),
            Reuse::ImagesIm2col { images, kh, kw, stride } => im2col_of(u, images, *kh, *kw, *stride),
            Reuse::ImagesIm2colTranspose { images, kh, kw, stride } => {
                Ok(im2col_of(u, images, *kh, *kw, *stride)?.t().as_standard_layout().into_owned())
            }
            Reuse::KernelMatrix => conv::kernel_matrix(u),
            &Reuse::Im2colTranspose { kh, kw, stride } => {
                Ok(conv::im2col(u, kh, kw, stride)?.t().as_standard_layout().into_owned())
            }
        }
    }
}

fn im2col_of<E: Elem>(u: &ArrayD<E>, images: &[usize], kh: usize, kw: usize, stride: usize) -> Result<Array2<E>> {
    if let Some(&r) = images.iter().find(|&&r| r >= u.shape().first().copied().unwrap_or(0)) {
        return Err(invalid(format!("image {r} of a mask of shape {:?}", u.shape())));
    }
    conv::im2col(&u.select(ndarray::Axis(0), images), kh, kw, stride)
}

fn select_rows<E: Elem>(u: ArrayView2<'_, E>, rows: &[usize]) -> Result<Array2<E>> {
    if let Some(&r) = rows.iter().find(|&&r| r >= u.nrows()) {
        return Err(invalid(format!("row {r} of a mask with {} rows", u.nrows())));
    }
    Ok(u.select(ndarray::Axis(0), rows))
}

/// The dealer's key for the kept mask of operand `side` (0 = left, 1 = right) of triple `id`.
pub(crate) fn kept_key(id: u64, side: u64) -> u64 {
    2 * id + side
}

fn arr<E: Elem>(shape: &[usize], v: Vec<E>) -> Result<ArrayD<E>> {
    ArrayD::from_shape_vec(IxDyn(shape), v).map_err(|e| invalid(e.to_string()))
}

/// Every party calls this at the same point; P0 and P1 get their shares, the dealer sends P1's correction.
/// Every role gets the triple's id (the same at all of them). With `keep`, the dealer keeps the full U and
/// V for [`triple_reusing`] under keys [`kept_key`]`(id, 0 | 1)`.
pub fn triple<A: Arith>(
    p: &mut Party<A>,
    product: &Product,
    keep: bool,
    label: &Label,
) -> Result<(u64, Option<TripleShare<A::E>>)> {
    let id = p.next_triple_id();
    let (su, sv, sz) = product.shapes()?;
    let (nu, nv, nz) = (su.iter().product(), sv.iter().product(), sz.iter().product());
    let label = label.op(Op::Triple);
    let share = match p.role {
        Role::P0 => {
            let mut prg = p.prg(Role::Dealer)?;
            let u = arr(&su, p.arith.masks(&mut prg, nu))?;
            let v = arr(&sv, p.arith.masks(&mut prg, nv))?;
            let z = arr(&sz, p.arith.masks(&mut prg, nz))?;
            Some(TripleShare { u, v, z: Some(z), pending: None })
        }
        Role::P1 => {
            let mut prg = p.prg(Role::Dealer)?;
            let u = arr(&su, p.arith.masks(&mut prg, nu))?;
            let v = arr(&sv, p.arith.masks(&mut prg, nv))?;
            Some(TripleShare { u, v, z: None, pending: Some((label, sz)) })
        }
        Role::Dealer => {
            let mut prg0 = p.prg(Role::P0)?;
            let mut prg1 = p.prg(Role::P1)?;
            let u0 = p.arith.masks(&mut prg0, nu);
            let v0 = p.arith.masks(&mut prg0, nv);
            let z0 = p.arith.masks(&mut prg0, nz);
            let u1 = p.arith.masks(&mut prg1, nu);
            let v1 = p.arith.masks(&mut prg1, nv);
            let u = arr(&su, u0.iter().zip(&u1).map(|(a, b)| a.add(*b)).collect())?;
            let v = arr(&sv, v0.iter().zip(&v1).map(|(a, b)| a.add(*b)).collect())?;
            let mut z1 = product.apply(&u, &v)?;
            A::E::sub_assign_elems(&mut z1, &z0);
            p.send_elems(Role::P1, label, ViewKind::Share, Phase::Offline, z1)?;
            if keep {
                let state = p.dealer_state()?;
                state.keep(kept_key(id, 0), u);
                state.keep(kept_key(id, 1), v);
            }
            None
        }
        _ => None,
    };
    Ok((id, share))
}

/// A triple `(L, V', Z' = L V')` where `L = reuse(U)` for the kept mask `U` of triple `kept_id`, and `V'`
/// has shape `v_shape` (its first dimension must equal L's columns). P0 and P1 pass their share of U and
/// get `(L_i, V'_i, Z'_i)`.
pub fn triple_reusing<A: Arith>(
    p: &mut Party<A>,
    kept_key: u64,
    reuse: &Reuse,
    u_share: Option<&ArrayD<A::E>>,
    l_shape: (usize, usize),
    n: usize,
    label: &Label,
) -> Result<Option<TripleShare<A::E>>> {
    p.next_triple_id();
    let (lm, lk) = l_shape;
    let label = label.op(Op::Triple);
    let own_l = |u: Option<&ArrayD<A::E>>| -> Result<ArrayD<A::E>> {
        let u = u.ok_or_else(|| protocol_error(Some(&label), "reused triple: no share of the kept mask"))?;
        Ok(reuse.apply(u)?.into_dyn())
    };
    match p.role {
        Role::P0 => {
            let l = own_l(u_share)?;
            let mut prg = p.prg(Role::Dealer)?;
            let v = arr(&[lk, n], p.arith.masks(&mut prg, lk * n))?;
            let z = arr(&[lm, n], p.arith.masks(&mut prg, lm * n))?;
            Ok(Some(TripleShare { u: l, v, z: Some(z), pending: None }))
        }
        Role::P1 => {
            let l = own_l(u_share)?;
            let mut prg = p.prg(Role::Dealer)?;
            let v = arr(&[lk, n], p.arith.masks(&mut prg, lk * n))?;
            Ok(Some(TripleShare { u: l, v, z: None, pending: Some((label, vec![lm, n])) }))
        }
        Role::Dealer => {
            let u = p
                .dealer_state()?
                .kept_mask(kept_key)
                .ok_or_else(|| protocol_error(Some(&label), format!("the dealer kept no mask under key {kept_key}")))?;
            let l = reuse.apply(u)?;
            if l.dim() != (lm, lk) {
                let reason = format!("reused mask has shape {:?}, expected {:?}", l.dim(), (lm, lk));
                return Err(protocol_error(Some(&label), reason));
            }
            let mut prg0 = p.prg(Role::P0)?;
            let mut prg1 = p.prg(Role::P1)?;
            let v0 = p.arith.masks(&mut prg0, lk * n);
            let z0 = p.arith.masks(&mut prg0, lm * n);
            let v1 = p.arith.masks(&mut prg1, lk * n);
            let v = Array2::from_shape_vec((lk, n), v0.iter().zip(&v1).map(|(a, b)| a.add(*b)).collect())
                .map_err(|e| invalid(e.to_string()))?;
            let mut z1 = A::E::matmul(l.view(), v.view()).into_dyn();
            A::E::sub_assign_elems(&mut z1, &z0);
            p.send_elems(Role::P1, label, ViewKind::Share, Phase::Offline, z1)?;
            Ok(None)
        }
        _ => Ok(None),
    }
}

/// A fresh mask `U` of `shape` with no product: P0 and P1 get their shares from their seeds, the dealer keeps
/// the whole mask under the returned key. No message. Used to open a whole data set once and reuse its
/// mask in every epoch.
pub fn mask<A: Arith>(p: &mut Party<A>, shape: &[usize]) -> Result<(u64, Option<ArrayD<A::E>>)> {
    let id = p.next_triple_id();
    let n: usize = shape.iter().product();
    match p.role {
        Role::P0 | Role::P1 => Ok((kept_key(id, 0), Some(arr(shape, p.masks_with(Role::Dealer, n)?)?))),
        Role::Dealer => {
            let u0 = p.masks_with(Role::P0, n)?;
            let u1 = p.masks_with(Role::P1, n)?;
            let u = arr(shape, u0.iter().zip(&u1).map(|(a, b)| a.add(*b)).collect())?;
            p.dealer_state()?.keep(kept_key(id, 0), u);
            Ok((kept_key(id, 0), None))
        }
        _ => Ok((kept_key(id, 0), None)),
    }
}

/// Forgets a kept mask (the dealer frees its memory; other roles do nothing).
pub fn release<A: Arith>(p: &mut Party<A>, kept_key: u64) {
    if let Ok(state) = p.dealer_state() {
        state.release(kept_key);
    }
}
