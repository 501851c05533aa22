//! Element-wise activations (relu, sigmoid): `f(x)` forward, `d ∘ f'(x)` backward. On shares both `f` and
//! `f'` are computed in the forward pass (one call to the helper or the FSS gates), and the backward pass
//! is one Beaver product.

use super::At;
use crate::error::{Result, invalid};
use crate::models::backend::{Backend, Input, Saved};
use crate::models::spec::Layer;
use crate::protocol::functions::Activation;

/// The function and its derivative.
fn functions(at: &At<'_>) -> Result<(Activation, Activation)> {
    match at.layer().layer {
        Layer::Relu => Ok((Activation::Relu, Activation::ReluGrad)),
        Layer::Sigmoid => Ok((Activation::Sigmoid, Activation::SigmoidGrad)),
        ref l => Err(invalid(format!("layer {} ({}) is not an activation", at.layer().name, l.kind()))),
    }
}

/// Forward: `f(x)`, and when training what the backward pass needs of `f'(x)`.
pub fn forward<B: Backend>(be: &mut B, at: &At<'_>, x: Input<'_, B>, keep: bool) -> Result<(B::T, Saved<B>)> {
    let (f, g) = functions(at)?;
    let x = x.tensor("an activation")?;
    let (y, kept) = be.activation(&x, f, keep.then_some(g), &at.here())?;
    Ok((y, kept.map_or(Saved::Nothing, Saved::Act)))
}

/// Backward: `d ∘ f'(x)`.
pub fn backward<B: Backend>(be: &mut B, at: &At<'_>, kept: &B::T, d: B::T) -> Result<B::T> {
    let (_, g) = functions(at)?;
    be.times_derivative(d, kept, g, &at.delta())
}
