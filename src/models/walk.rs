//! The one walker: a model's layers forward and backward on any [`Backend`]. The plaintext trainer
//! (`graph::Net`), RTAS-fast's third party, and the secure protocols (`secure`, on ring shares, float
//! shares and shape-only tensors) all run a model through these two functions.

use super::backend::{Backend, Backward, Input, Saved};
use super::layers::{self, At};
use super::spec::{Layer, Planned};
use crate::error::{Result, invalid};
use crate::net::Label;

fn at<'a>(net: &'a [Planned], i: usize, label: &'a Label) -> At<'a> {
    At { plan: net, index: i, label }
}

/// Layer `i`'s forward pass.
fn forward_layer<B: Backend>(
    be: &mut B,
    at: &At<'_>,
    params: &[B::T],
    x: Input<'_, B>,
    keep: bool,
) -> Result<(B::T, Saved<B>)> {
    match at.layer().layer {
        Layer::Dense { .. } => layers::dense::forward(be, at, params, x, keep),
        Layer::Conv2d { .. } => layers::conv2d::forward(be, at, params, x, keep),
        Layer::Relu | Layer::Sigmoid => layers::activation::forward(be, at, x, keep),
        Layer::Avgpool { .. } => layers::avgpool::forward(be, at, x),
        Layer::Maxpool { .. } => layers::maxpool::forward(be, at, x, keep),
        Layer::Flatten => layers::flatten::forward(be, at, x),
    }
}

/// Layer `i`'s backward pass: its parameters' gradients and, when `down`, the delta at its input.
fn backward_layer<B: Backend>(be: &mut B, at: &At<'_>, saved: Saved<B>, d: B::T, down: bool) -> Result<Backward<B>> {
    let missing = || {
        invalid(format!("layer {} ({}): nothing kept for its backward pass", at.layer().name, at.layer().layer.kind()))
    };
    match (&at.layer().layer, saved) {
        (Layer::Dense { .. }, Saved::Linear(k)) => layers::dense::backward(be, at, k, d, down),
        (Layer::Conv2d { .. }, Saved::Linear(k)) => layers::conv2d::backward(be, at, k, d, down),
        (_, _) if !down => Ok((Vec::new(), None)),
        (Layer::Relu | Layer::Sigmoid, Saved::Act(g)) => {
            Ok((Vec::new(), Some(layers::activation::backward(be, at, &g, d)?)))
        }
        (Layer::Avgpool { .. }, Saved::Shape(input)) => {
            Ok((Vec::new(), Some(layers::avgpool::backward(be, at, input, d)?)))
        }
        (Layer::Maxpool { .. }, Saved::Tree(input, levels)) => {
            Ok((Vec::new(), Some(layers::maxpool::backward(be, at, input, levels, d)?)))
        }
        (Layer::Flatten, Saved::Shape(input)) => Ok((Vec::new(), Some(layers::flatten::backward(be, &input, d)?))),
        _ => Err(missing()),
    }
}

/// Layers `from..to` of `net` (a model's planned layers) forward on `x`, from `params` (the parameters of those layers, in order).
/// Training (`keep`) keeps what each layer's backward pass needs. `label` is the step's.
#[allow(clippy::too_many_arguments)]
pub fn forward<B: Backend>(
    be: &mut B,
    net: &[Planned],
    (from, to): (usize, usize),
    params: &[B::T],
    x: Input<'_, B>,
    keep: bool,
    label: &Label,
) -> Result<(B::T, Vec<Saved<B>>)> {
    let mut saved = Vec::with_capacity(to.saturating_sub(from));
    let (mut k, mut x, mut out) = (0, Some(x), None);
    for i in from..to.min(net.len()) {
        let a = at(net, i, label);
        let n = a.layer().params.len();
        let p = params
            .get(k..k + n)
            .ok_or_else(|| invalid(format!("layer {} ({}) has no parameters given", i + 1, a.layer().name)))?;
        let input = match out.take() {
            Some(t) => Input::Tensor(t),
            None => x.take().ok_or_else(|| invalid(format!("layer {} ({}) has no input", i + 1, a.layer().name)))?,
        };
        let (y, s) = forward_layer(be, &a, p, input, keep)?;
        k += n;
        saved.push(s);
        out = Some(y);
    }
    let out = out.ok_or_else(|| invalid("the model has no layer"))?;
    Ok((out, saved))
}

/// Layers `from..to` backward from the delta `d` at their output, with what their forward pass kept.
/// Returns the parameters' gradients (unscaled, in parameter order) and, with `input_delta`, the delta at
/// layer `from`'s input. The walk stops where no layer below has parameters and no input delta is wanted.
pub fn backward<B: Backend>(
    be: &mut B,
    net: &[Planned],
    (from, to): (usize, usize),
    saved: Vec<Saved<B>>,
    d: B::T,
    input_delta: bool,
    label: &Label,
) -> Result<Backward<B>> {
    let layers = net.get(from..to).ok_or_else(|| invalid(format!("layers {from}..{to} of {}", net.len())))?;
    if saved.len() != layers.len() {
        return Err(invalid(format!("{} layers, {} kept by the forward pass", layers.len(), saved.len())));
    }
    let mut grads: Vec<Option<B::T>> = vec![None; layers.iter().map(|l| l.params.len()).sum()];
    let mut k = grads.len();
    let mut d = Some(d);
    for (j, s) in saved.into_iter().enumerate().rev() {
        let Some(dj) = d.take() else { break };
        // Whether the delta must go on below this layer.
        let down = input_delta || layers[..j].iter().any(|l| !l.params.is_empty());
        let (g, next) = backward_layer(be, &at(net, from + j, label), s, dj, down)?;
        k -= g.len();
        for (slot, gi) in grads[k..].iter_mut().zip(g) {
            *slot = Some(gi);
        }
        d = next;
    }
    let grads = grads.into_iter().collect::<Option<Vec<_>>>().ok_or_else(|| invalid("a parameter got no gradient"))?;
    Ok((grads, d))
}
