//! Element-wise functions by either route: through the permutation helper (RTAS, the paper's design) or
//! through FSS gates (the cryptographic baseline in the same dealer model). Models ask for functions by
//! name ([`Activation`]) and the protocol decides how they are computed.

use super::elementwise::{self, Func};
use super::fss::gates;
use super::functions::{Activation, relu, relu_grad, sigmoid, sigmoid_grad};
use super::party::Party;
use super::ring::{Arith, FloatArith, RingArith};
use super::share::Shared;
use super::work::{Nil, ShapeArith};
use crate::error::{Result, invalid};
use crate::net::Label;
use serde::Serialize;

/// How element-wise functions are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Via {
    /// The permutation helper (the dealer sees the permuted values).
    #[default]
    Helper,
    /// FSS gates: nobody sees anything but masked values; ring sharing only.
    Fss,
}

/// Arithmetics that can compute element-wise functions by FSS (the ring; the float sharing cannot).
pub trait Nonlinear: Arith {
    /// `fs` of `x` through FSS gates.
    fn fss(p: &mut Party<Self>, x: &Shared<Self::E>, fs: &[Activation], label: &Label) -> Result<Vec<Shared<Self::E>>>;
}

impl Nonlinear for RingArith {
    fn fss(p: &mut Party<Self>, x: &Shared<u64>, fs: &[Activation], label: &Label) -> Result<Vec<Shared<u64>>> {
        gates::apply(p, x, fs, label)
    }
}

impl Nonlinear for ShapeArith {
    fn fss(p: &mut Party<Self>, x: &Shared<Nil>, fs: &[Activation], label: &Label) -> Result<Vec<Shared<Nil>>> {
        gates::apply_shape(p, x, fs, label)
    }
}

impl Nonlinear for FloatArith {
    fn fss(_: &mut Party<Self>, _: &Shared<f64>, _: &[Activation], label: &Label) -> Result<Vec<Shared<f64>>> {
        Err(invalid(format!("'{label}': FSS gates need ring sharing, not the float sharing")))
    }
}

fn closure(a: Activation) -> Func<'static> {
    match a {
        Activation::Sigmoid => &sigmoid,
        Activation::SigmoidGrad => &sigmoid_grad,
        Activation::Relu => &relu,
        Activation::ReluGrad => &relu_grad,
    }
}

/// Each of `fs` applied to `x` element by element, by `via`; one shared result per function.
pub fn apply<A: Nonlinear>(
    p: &mut Party<A>,
    via: Via,
    x: &Shared<A::E>,
    fs: &[Activation],
    label: &Label,
) -> Result<Vec<Shared<A::E>>> {
    match via {
        Via::Helper => {
            let closures: Vec<Func<'static>> = fs.iter().map(|&a| closure(a)).collect();
            elementwise::apply(p, x, &closures, label)
        }
        Via::Fss => A::fss(p, x, fs, label),
    }
}
