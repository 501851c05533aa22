//! `x W + b` on a batch of vectors.

use super::At;
use crate::error::Result;
use crate::models::backend::{Backend, Backward, Input, Saved};

/// Forward: the product (keeping its operands' masks when training) plus the bias.
pub fn forward<B: Backend>(
    be: &mut B,
    at: &At<'_>,
    params: &[B::T],
    x: Input<'_, B>,
    keep: bool,
) -> Result<(B::T, Saved<B>)> {
    let (z, kept) = be.dense(x, &params[0], keep, &at.forward(keep))?;
    Ok((be.add_bias(z, &params[1])?, Saved::Linear(kept)))
}

/// Backward: `xᵀ d` and the bias gradient; `d Wᵀ` when the delta must go `down`.
pub fn backward<B: Backend>(be: &mut B, at: &At<'_>, kept: B::Kept, d: B::T, down: bool) -> Result<Backward<B>> {
    let gw = be.dense_grad_w(&kept, &d, &at.part("grad"))?;
    let gb = be.sum_to_axis1(&d)?;
    let dx = if down { Some(be.dense_grad_x(&kept, &d, &at.part("back"))?) } else { None };
    be.release(kept);
    Ok((vec![gw, gb], dx))
}
