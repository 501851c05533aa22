//! A 2-D convolution plus bias on `[C, H, W]` images (im2col as a matrix product), with stride and zero
//! padding.

use super::At;
use crate::error::{Result, invalid};
use crate::models::backend::{Backend, Backward, ConvGeom, Input, Relayout, Saved};
use crate::models::spec::Layer;

fn geometry(at: &At<'_>) -> Result<ConvGeom> {
    let Layer::Conv2d { filters, kernel, stride, padding } = &at.layer().layer else {
        return Err(invalid(format!("layer {} is not a convolution", at.layer().name)));
    };
    let (kh, kw) = kernel.hw();
    let (oh, ow) = (at.layer().output[1], at.layer().output[2]);
    Ok(ConvGeom { kh, kw, stride: *stride, padding: *padding, filters: *filters, oh, ow })
}

/// Forward: the convolution of the padded input (keeping its operands' masks when training) plus the bias.
pub fn forward<B: Backend>(
    be: &mut B,
    at: &At<'_>,
    params: &[B::T],
    x: Input<'_, B>,
    keep: bool,
) -> Result<(B::T, Saved<B>)> {
    let g = geometry(at)?;
    let (z, kept) = be.conv(x, &params[0], &g, keep, &at.forward(keep))?;
    Ok((be.add_bias(z, &params[1])?, Saved::Linear(kept)))
}

/// Backward: the filter gradient `im2col(x)ᵀ d` and the bias gradient; when the delta must go `down`, the
/// patches' deltas `d Kᵀ` summed back onto the input (col2im) and the padding cropped.
pub fn backward<B: Backend>(be: &mut B, at: &At<'_>, kept: B::Kept, d: B::T, down: bool) -> Result<Backward<B>> {
    let g = geometry(at)?;
    let b = B::shape(&d)[0];
    let drows = be.relayout(&d, &[b * g.oh * g.ow, g.filters], &Relayout::NchwToRows)?;
    let cols = be.conv_grad_w(&kept, &drows, &g, &at.part("grad"))?;
    // (C*KH*KW, O) -> (O, C, KH, KW).
    let gw = be.transpose(&cols)?;
    let gw = be.reshape(&gw, &at.layer().params[0])?;
    let gb = be.sum_to_axis1(&d)?;
    let dx = if down {
        let dcols = be.conv_grad_x(&kept, &drows, &at.part("back"))?;
        let input = &at.layer().input;
        let padded = vec![b, input[0], input[1] + 2 * g.padding, input[2] + 2 * g.padding];
        let shape = [b, input[0], input[1], input[2]];
        Some(be.relayout(&dcols, &shape, &Relayout::Col2imCrop { input: padded, g })?)
    } else {
        None
    };
    be.release(kept);
    Ok((vec![gw, gb], dx))
}
