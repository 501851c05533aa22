//! Secret shares under a protocol: ring shares, the paper's float shares, or shape-only tensors (`rtas
//! plan`), whichever arithmetic the party runs. Linear layers are Beaver products whose opened masks are
//! kept (the input's for the weight gradient, the weight's for the backward product); activations and
//! their derivatives go through the permutation helper (RTAS) or FSS gates (mpc); `d ∘ f'` is a Beaver
//! product.

use super::{Backend, ConvGeom, Input, Relayout};
use crate::error::{Result, invalid};
use crate::net::Label;
use crate::protocol::beaver::{self, Masked};
use crate::protocol::conv;
use crate::protocol::dealer::{self, Reuse};
use crate::protocol::functions::Activation;
use crate::protocol::nonlinear::{self, Nonlinear, Via};
use crate::protocol::party::Party;
use crate::protocol::ring::Elem;
use crate::protocol::share::Shared;

/// One party's arithmetic on shares: the party, how it computes element-wise functions, and the dealer
/// masks to release at the end of the step.
pub struct Shares<'p, A: Nonlinear> {
    /// The party (the protocol driver uses it between layers).
    pub p: &'p mut Party<A>,
    via: Via,
    release: Vec<u64>,
}

impl<'p, A: Nonlinear> Shares<'p, A> {
    /// `p`'s arithmetic, element-wise functions `via` the helper or FSS gates.
    pub fn new(p: &'p mut Party<A>, via: Via) -> Self {
        Shares { p, via, release: Vec::new() }
    }
}

/// What a product keeps: the input's opened mask (or the data set's, with the rows this batch used) and
/// the weight's.
pub struct Kept<E: Elem> {
    x_mask: Masked<E>,
    w_mask: Option<Masked<E>>,
    rows: Option<Vec<usize>>,
}

fn wc_matrix<E: Elem>(wc: &Shared<E>) -> Result<Shared<E>> {
    // (O, C, KH, KW) -> (C*KH*KW, O), the kernel matrix of im2col.
    let s = wc.shape();
    wc.relayout(&[s[1] * s[2] * s[3], s[0]], |a| conv::kernel_matrix(a).map(|m| m.into_dyn()))
}

impl<A: Nonlinear> Backend for Shares<'_, A> {
    type T = Shared<A::E>;
    type Kept = Kept<A::E>;
    type Opened = Masked<A::E>;

    fn shape(t: &Shared<A::E>) -> &[usize] {
        t.shape()
    }

    fn dense(&mut self, x: Input<'_, Self>, w: &Self::T, keep: bool, label: &Label) -> Result<(Self::T, Self::Kept)> {
        Ok(match x {
            Input::Tensor(x) => {
                let (z, x_mask, w_mask) = beaver::matmul(self.p, &x, w, keep, label)?;
                (z, Kept { x_mask, w_mask: Some(w_mask), rows: None })
            }
            Input::Opened(all, rows) => {
                let z = beaver::matmul_reusing(self.p, all, Reuse::Rows(rows.to_vec()), w, label)?;
                (z, Kept { x_mask: all.clone(), w_mask: None, rows: Some(rows.to_vec()) })
            }
        })
    }

    fn dense_grad_w(&mut self, kept: &Self::Kept, d: &Self::T, label: &Label) -> Result<Self::T> {
        let reuse = match &kept.rows {
            Some(r) => Reuse::RowsTranspose(r.clone()),
            None => Reuse::Transpose,
        };
        beaver::matmul_reusing(self.p, &kept.x_mask, reuse, d, label)
    }

    fn dense_grad_x(&mut self, kept: &Self::Kept, d: &Self::T, label: &Label) -> Result<Self::T> {
        let mw = kept.w_mask.as_ref().ok_or_else(|| invalid("a layer on a reused data mask has no input delta"))?;
        beaver::matmul_reusing(self.p, mw, Reuse::Identity, &d.t()?, label)?.t()
    }

    fn conv(
        &mut self,
        x: Input<'_, Self>,
        w: &Self::T,
        g: &ConvGeom,
        keep: bool,
        label: &Label,
    ) -> Result<(Self::T, Self::Kept)> {
        Ok(match x {
            Input::Tensor(x) => {
                let xp = if g.padding == 0 {
                    x
                } else {
                    let mut s = x.shape().to_vec();
                    s[2] += 2 * g.padding;
                    s[3] += 2 * g.padding;
                    x.relayout(&s, |v| conv::pad(v, g.padding))?
                };
                let (z, x_mask, w_mask) = beaver::conv2d(self.p, &xp, w, g.stride, keep, label)?;
                (z, Kept { x_mask, w_mask: Some(w_mask), rows: None })
            }
            Input::Opened(all, rows) => {
                if g.padding != 0 {
                    return Err(invalid("mask reuse needs a first convolution without padding"));
                }
                let b = rows.len();
                let reuse = Reuse::ImagesIm2col { images: rows.to_vec(), kh: g.kh, kw: g.kw, stride: g.stride };
                let zr = beaver::matmul_reusing(self.p, all, reuse, &wc_matrix(w)?, label)?;
                let (o, oh, ow) = (g.filters, g.oh, g.ow);
                let z = zr.relayout(&[b, o, oh, ow], |v| {
                    let m = v.view().into_dimensionality::<ndarray::Ix2>().map_err(|e| invalid(e.to_string()))?;
                    conv::rows_to_nchw(&m.to_owned(), b, o, oh, ow)
                })?;
                (z, Kept { x_mask: all.clone(), w_mask: None, rows: Some(rows.to_vec()) })
            }
        })
    }

    fn conv_grad_w(&mut self, kept: &Self::Kept, drows: &Self::T, g: &ConvGeom, label: &Label) -> Result<Self::T> {
        let (kh, kw, stride) = (g.kh, g.kw, g.stride);
        let reuse = match &kept.rows {
            Some(r) => Reuse::ImagesIm2colTranspose { images: r.clone(), kh, kw, stride },
            None => Reuse::Im2colTranspose { kh, kw, stride },
        };
        beaver::matmul_reusing(self.p, &kept.x_mask, reuse, drows, label)
    }

    fn conv_grad_x(&mut self, kept: &Self::Kept, drows: &Self::T, label: &Label) -> Result<Self::T> {
        // (kernel matrix (C*KH*KW, O)) x drowsᵀ, transposed: the patches' deltas.
        let mw = kept.w_mask.as_ref().ok_or_else(|| invalid("a layer on a reused data mask has no input delta"))?;
        beaver::matmul_reusing(self.p, mw, Reuse::KernelMatrix, &drows.t()?, label)?.t()
    }

    fn release(&mut self, kept: Self::Kept) {
        // The data set's mask stays kept for the next steps.
        self.release.extend(kept.rows.is_none().then_some(kept.x_mask.key));
        self.release.extend(kept.w_mask.map(|m| m.key));
    }

    fn end_step(&mut self) {
        for k in std::mem::take(&mut self.release) {
            dealer::release(self.p, k);
        }
    }

    fn activation(
        &mut self,
        x: &Self::T,
        f: Activation,
        grad: Option<Activation>,
        label: &Label,
    ) -> Result<(Self::T, Option<Self::T>)> {
        let fs: Vec<Activation> = std::iter::once(f).chain(grad).collect();
        let mut r = nonlinear::apply(self.p, self.via, x, &fs, label)?.into_iter();
        let y = r.next().ok_or_else(|| invalid("an element-wise function returned nothing"))?;
        Ok((y, r.next()))
    }

    fn times_derivative(&mut self, d: Self::T, kept: &Self::T, _: Activation, label: &Label) -> Result<Self::T> {
        beaver::mul(self.p, &d, kept, label)
    }

    fn add(&mut self, a: &Self::T, b: &Self::T) -> Result<Self::T> {
        a.add(b)
    }

    fn sub(&mut self, a: &Self::T, b: &Self::T) -> Result<Self::T> {
        a.sub(b)
    }

    fn add_bias(&mut self, z: Self::T, b: &Self::T) -> Result<Self::T> {
        z.add_bias(b, 1)
    }

    fn sum_to_axis1(&mut self, d: &Self::T) -> Result<Self::T> {
        d.sum_to_axis(1)
    }

    fn div(&mut self, t: &Self::T, k: f64) -> Result<Self::T> {
        self.p.scale(t, 1.0 / k)
    }

    fn transpose(&mut self, t: &Self::T) -> Result<Self::T> {
        t.t()
    }

    fn reshape(&mut self, t: &Self::T, shape: &[usize]) -> Result<Self::T> {
        t.reshape(shape)
    }

    fn relayout(&mut self, t: &Self::T, shape: &[usize], r: &Relayout) -> Result<Self::T> {
        t.relayout(shape, |v| r.apply(v))
    }

    fn update(&mut self, w: &mut Self::T, g: &Self::T, c: f64) -> Result<()> {
        *w = w.sub(&self.p.scale(g, c)?)?;
        Ok(())
    }
}
