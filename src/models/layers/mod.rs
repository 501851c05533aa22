//! One file per layer kind: its forward and backward passes, written once over [`super::backend::Backend`]
//! (plaintext, ring shares, float shares, shape-only). The walker (`super::walk`) calls them in order.
//!
//! A new layer kind: its variant in `spec::Layer` (settings, output shape, parameters), one file here with
//! `forward` and `backward`, and its line in `walk::forward_layer` and `walk::backward_layer`. An operation
//! the backends do not have yet is a new [`super::backend::Backend`] method with its plaintext and
//! share implementations.

pub mod activation;
pub mod avgpool;
pub mod conv2d;
pub mod dense;
pub mod flatten;
pub mod maxpool;

use super::spec::Planned;
use crate::net::Label;

/// Where a layer runs: the model's planned layers, which of them, the step's label.
pub struct At<'a> {
    /// Every layer of the model, as planned.
    pub plan: &'a [Planned],
    /// This layer's place in `plan`.
    pub index: usize,
    /// The step.
    pub label: &'a Label,
}

impl<'a> At<'a> {
    /// The layer as planned.
    pub fn layer(&self) -> &'a Planned {
        &self.plan[self.index]
    }

    /// The label of the product that carries the gradient through this activation's derivative (computed
    /// only where one is sent).
    pub fn delta(&self) -> Label {
        self.label.sub(&super::spec::delta_name(self.plan, self.index))
    }

    /// `<step>/<layer>`.
    pub fn here(&self) -> Label {
        self.label.sub(&self.layer().name)
    }

    /// `<step>/<layer>/<part>` (`fwd`, `grad`, `back`).
    pub fn part(&self, part: &str) -> Label {
        self.label.sub(&format!("{}/{part}", self.layer().name))
    }

    /// A forward product's label: `<layer>/fwd` when training, `<layer>` at inference.
    pub fn forward(&self, keep: bool) -> Label {
        if keep { self.part("fwd") } else { self.here() }
    }
}
