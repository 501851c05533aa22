//! Plaintext that also measures each example's gradient: DP-SGD's clipping needs the norm of every
//! example's gradient, and computing B separate backward passes would cost B times a step. The gradient of a
//! batch is a sum over its examples, and each layer's parameter gradient is a product over the batch axis, so
//! each example's part is at hand inside the product:
//!
//! - dense `W`: example i's gradient is the outer product `x_i d_i^T`, whose squared norm is `|x_i|^2 |d_i|^2`
//!   (the ghost-norm identity of Goodfellow 2015: no per-example matrix is formed);
//! - conv filters: example i's gradient is `cols_i^T d_i` over its own patch rows (im2col form), formed one
//!   example at a time (a `K x F` matrix, as cheap as the batch's product);
//! - biases: example i's bias gradient is its delta summed over every axis but the channel one.
//!
//! Every other operation is [`Plain`]'s. With `norms` on, the backward methods add each example's squared
//! norm to `sq[i]`; the walker (`super::super::walk`) is unchanged.

use super::plain::{Operands, Plain};
use super::{Backend, ConvGeom, Input, Relayout};
use crate::error::{Result, invalid};
use crate::net::Label;
use crate::protocol::conv;
use crate::protocol::functions::Activation;
use crate::protocol::kernel::matmul_f64;
use ndarray::{ArrayD, Axis, Ix2, s};

/// Plaintext with per-example squared gradient norms.
#[derive(Debug, Default)]
pub struct PerExample {
    /// Each example's squared gradient norm so far (summed over the layers the backward pass went through);
    /// `None`: not measured.
    pub sq: Option<Vec<f64>>,
}

impl PerExample {
    /// A backend that measures a batch of `b` examples.
    pub fn measuring(b: usize) -> Self {
        Self { sq: Some(vec![0.0; b]) }
    }

    fn add(&mut self, i: usize, v: f64) -> Result<()> {
        if let Some(sq) = self.sq.as_mut() {
            let n = sq.len();
            *sq.get_mut(i).ok_or_else(|| invalid(format!("example {i} of a batch of {n}")))? += v;
        }
        Ok(())
    }
}

fn plain_input(x: Input<'_, PerExample>) -> Input<'_, Plain> {
    match x {
        Input::Tensor(t) => Input::Tensor(t),
        Input::Opened(never, _) => match *never {},
    }
}

impl Backend for PerExample {
    type T = ArrayD<f64>;
    type Kept = Operands;
    type Opened = super::plain::NoOpened;

    fn shape(t: &ArrayD<f64>) -> &[usize] {
        t.shape()
    }

    fn dense(&mut self, x: Input<'_, Self>, w: &ArrayD<f64>, keep: bool, l: &Label) -> Result<(ArrayD<f64>, Operands)> {
        Plain.dense(plain_input(x), w, keep, l)
    }

    fn dense_grad_w(&mut self, kept: &Operands, d: &ArrayD<f64>, l: &Label) -> Result<ArrayD<f64>> {
        if self.sq.is_some() {
            let x = kept.input().view().into_dimensionality::<Ix2>().map_err(|e| invalid(e.to_string()))?;
            let dv = d.view().into_dimensionality::<Ix2>().map_err(|e| invalid(e.to_string()))?;
            for (i, (xi, di)) in x.outer_iter().zip(dv.outer_iter()).enumerate() {
                self.add(i, xi.dot(&xi) * di.dot(&di))?;
            }
        }
        Plain.dense_grad_w(kept, d, l)
    }

    fn dense_grad_x(&mut self, kept: &Operands, d: &ArrayD<f64>, l: &Label) -> Result<ArrayD<f64>> {
        Plain.dense_grad_x(kept, d, l)
    }

    fn conv(
        &mut self,
        x: Input<'_, Self>,
        w: &ArrayD<f64>,
        g: &ConvGeom,
        keep: bool,
        l: &Label,
    ) -> Result<(ArrayD<f64>, Operands)> {
        Plain.conv(plain_input(x), w, g, keep, l)
    }

    fn conv_grad_w(&mut self, kept: &Operands, drows: &ArrayD<f64>, g: &ConvGeom, l: &Label) -> Result<ArrayD<f64>> {
        if self.sq.is_none() {
            return Plain.conv_grad_w(kept, drows, g, l);
        }
        let cols = conv::im2col(kept.input(), g.kh, g.kw, g.stride)?;
        let dr = drows.view().into_dimensionality::<Ix2>().map_err(|e| invalid(e.to_string()))?;
        let (b, p) = (kept.input().shape()[0], g.oh * g.ow);
        if cols.nrows() != b * p || dr.nrows() != b * p {
            return Err(invalid(format!(
                "{} patch rows and {} delta rows for {b} examples of {p}",
                cols.nrows(),
                dr.nrows()
            )));
        }
        let mut total = ndarray::Array2::<f64>::zeros((cols.ncols(), dr.ncols()));
        for i in 0..b {
            let gi = matmul_f64(cols.slice(s![i * p..(i + 1) * p, ..]).t(), dr.slice(s![i * p..(i + 1) * p, ..]));
            self.add(i, gi.iter().map(|v| v * v).sum())?;
            total += &gi;
        }
        Ok(total.into_dyn())
    }

    fn conv_grad_x(&mut self, kept: &Operands, drows: &ArrayD<f64>, l: &Label) -> Result<ArrayD<f64>> {
        Plain.conv_grad_x(kept, drows, l)
    }

    fn release(&mut self, _: Operands) {}

    fn activation(
        &mut self,
        x: &ArrayD<f64>,
        f: Activation,
        grad: Option<Activation>,
        l: &Label,
    ) -> Result<(ArrayD<f64>, Option<ArrayD<f64>>)> {
        Plain.activation(x, f, grad, l)
    }

    fn times_derivative(
        &mut self,
        d: ArrayD<f64>,
        x: &ArrayD<f64>,
        grad: Activation,
        l: &Label,
    ) -> Result<ArrayD<f64>> {
        Plain.times_derivative(d, x, grad, l)
    }

    fn add(&mut self, a: &ArrayD<f64>, b: &ArrayD<f64>) -> Result<ArrayD<f64>> {
        Plain.add(a, b)
    }

    fn sub(&mut self, a: &ArrayD<f64>, b: &ArrayD<f64>) -> Result<ArrayD<f64>> {
        Plain.sub(a, b)
    }

    fn add_bias(&mut self, z: ArrayD<f64>, b: &ArrayD<f64>) -> Result<ArrayD<f64>> {
        Plain.add_bias(z, b)
    }

    /// The bias gradient (the walker calls this for biases only), and each example's part of it.
    fn sum_to_axis1(&mut self, d: &ArrayD<f64>) -> Result<ArrayD<f64>> {
        if self.sq.is_some() {
            for (i, di) in d.axis_iter(Axis(0)).enumerate() {
                let v: f64 = di.axis_iter(Axis(0)).map(|c| c.sum().powi(2)).sum();
                self.add(i, v)?;
            }
        }
        Plain.sum_to_axis1(d)
    }

    fn div(&mut self, t: &ArrayD<f64>, k: f64) -> Result<ArrayD<f64>> {
        Plain.div(t, k)
    }

    fn transpose(&mut self, t: &ArrayD<f64>) -> Result<ArrayD<f64>> {
        Plain.transpose(t)
    }

    fn reshape(&mut self, t: &ArrayD<f64>, shape: &[usize]) -> Result<ArrayD<f64>> {
        Plain.reshape(t, shape)
    }

    fn relayout(&mut self, t: &ArrayD<f64>, shape: &[usize], r: &Relayout) -> Result<ArrayD<f64>> {
        Plain.relayout(t, shape, r)
    }

    fn update(&mut self, w: &mut ArrayD<f64>, g: &ArrayD<f64>, c: f64) -> Result<()> {
        Plain.update(w, g, c)
    }
}
