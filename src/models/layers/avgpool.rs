//! The mean of each window on `[C, H, W]`, zero-padded first when the layer pads (the zeros count in the
//! mean, as PyTorch's default `count_include_pad`). Linear, so local on shares.

use super::At;
use crate::error::{Result, invalid};
use crate::models::backend::{Backend, Input, Relayout, Saved};
use crate::protocol::conv::Pool;

/// The window as the relayouts take it, its padding and its size.
pub(super) fn window(at: &At<'_>) -> Result<(Pool, usize, usize)> {
    let (g, padding) = at.layer().layer.window().ok_or_else(|| {
        invalid(format!("layer {} ({}) is not a pooling layer", at.layer().name, at.layer().layer.kind()))
    })?;
    Ok((g, padding, g.kh * g.kw))
}

/// Forward: each window's sum, divided by its size.
pub fn forward<B: Backend>(be: &mut B, at: &At<'_>, x: Input<'_, B>) -> Result<(B::T, Saved<B>)> {
    let (g, pad, n) = window(at)?;
    let x = x.tensor("a pool")?;
    let input = B::shape(&x).to_vec();
    let padded = if pad == 0 {
        x
    } else {
        let s = [input[0], input[1], input[2] + 2 * pad, input[3] + 2 * pad];
        be.relayout(&x, &s, &Relayout::Pad(pad))?
    };
    let mut shape = vec![input[0]];
    shape.extend_from_slice(&at.layer().output);
    let sum = be.relayout(&padded, &shape, &Relayout::PoolSum(g))?;
    Ok((be.div(&sum, n as f64)?, Saved::Shape(input)))
}

/// Backward: each window's delta spread onto its inputs, divided by its size (the padding's share dropped).
pub fn backward<B: Backend>(be: &mut B, at: &At<'_>, input: Vec<usize>, d: B::T) -> Result<B::T> {
    let (g, pad, n) = window(at)?;
    let padded = vec![input[0], input[1], input[2] + 2 * pad, input[3] + 2 * pad];
    let spread = be.relayout(&d, &padded, &Relayout::PoolSpread { input: padded.clone(), g })?;
    let spread = be.div(&spread, n as f64)?;
    if pad == 0 { Ok(spread) } else { be.relayout(&spread, &input, &Relayout::Crop(pad)) }
}
