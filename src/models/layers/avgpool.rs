//! The mean of each `size x size` window (stride `size` by default) on `[C, H, W]`.

use super::At;
use crate::error::{Result, invalid};
use crate::models::backend::{Backend, Input, Relayout, Saved};
use crate::models::spec::Layer;

fn window(at: &At<'_>) -> Result<(usize, usize)> {
    match at.layer().layer {
        Layer::Avgpool { size, stride } => Ok((size, stride.unwrap_or(size))),
        ref l => Err(invalid(format!("layer {} ({}) is not a pooling layer", at.layer().name, l.kind()))),
    }
}

/// Forward: each window's sum, divided by its size.
pub fn forward<B: Backend>(be: &mut B, at: &At<'_>, x: Input<'_, B>) -> Result<(B::T, Saved<B>)> {
    let (size, stride) = window(at)?;
    let x = x.tensor("a pool")?;
    let input = B::shape(&x).to_vec();
    let mut shape = vec![input[0]];
    shape.extend_from_slice(&at.layer().output);
    let sum = be.relayout(&x, &shape, &Relayout::PoolSum { size, stride })?;
    Ok((be.div(&sum, (size * size) as f64)?, Saved::Shape(input)))
}

/// Backward: each window's delta spread onto its inputs, divided by its size.
pub fn backward<B: Backend>(be: &mut B, at: &At<'_>, input: Vec<usize>, d: B::T) -> Result<B::T> {
    let (size, stride) = window(at)?;
    let spread = be.relayout(&d, &input.clone(), &Relayout::PoolSpread { input, size, stride })?;
    be.div(&spread, (size * size) as f64)
}
