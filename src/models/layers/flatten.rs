//! `[C, H, W]` to a vector (a reshape; its backward reshapes back).

use super::At;
use crate::error::Result;
use crate::models::backend::{Backend, Input, Saved};

/// Forward: `(B, C, H, W)` to `(B, C*H*W)`.
pub fn forward<B: Backend>(be: &mut B, at: &At<'_>, x: Input<'_, B>) -> Result<(B::T, Saved<B>)> {
    let x = x.tensor("a flatten")?;
    let input = B::shape(&x).to_vec();
    Ok((be.reshape(&x, &[input[0], at.layer().output[0]])?, Saved::Shape(input)))
}

/// Backward: the delta in the input's shape.
pub fn backward<B: Backend>(be: &mut B, input: &[usize], d: B::T) -> Result<B::T> {
    be.reshape(&d, input)
}
