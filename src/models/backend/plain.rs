//! Plaintext f64: the reference arithmetic, the backend of `rtas simulate --protocol plain` and of
//! RTAS-fast's third party. Operations are computed in the same order as the hand-written reference
//! (`models/plain.rs`), so that the paper's models train to the same bits.

use super::{Backend, ConvGeom, Input, Relayout};
use crate::error::{Result, invalid};
use crate::net::Label;
use crate::protocol::conv;
use crate::protocol::functions::Activation;
use crate::protocol::kernel::matmul_f64;
use ndarray::{ArrayD, ArrayView2, Axis, Ix2, IxDyn};

/// Plaintext arithmetic (no state).
#[derive(Debug, Clone, Copy, Default)]
pub struct Plain;

/// A product's operands, kept for its gradients (a conv's input after padding).
#[derive(Debug, Clone)]
pub struct Operands {
    x: ArrayD<f64>,
    w: ArrayD<f64>,
}

impl Operands {
    /// The product's input (a conv's after padding).
    pub fn input(&self) -> &ArrayD<f64> {
        &self.x
    }
}

/// Plaintext has no data set opened once.
#[derive(Debug)]
pub enum NoOpened {}

fn m2(a: &ArrayD<f64>) -> Result<ArrayView2<'_, f64>> {
    a.view().into_dimensionality::<Ix2>().map_err(|e| invalid(e.to_string()))
}

/// The same values in `shape`.
pub fn reshape(a: ArrayD<f64>, shape: &[usize]) -> Result<ArrayD<f64>> {
    a.as_standard_layout().into_owned().into_shape_with_order(IxDyn(shape)).map_err(|e| invalid(e.to_string()))
}

fn tensor(x: Input<'_, Plain>) -> Result<ArrayD<f64>> {
    match x {
        Input::Tensor(t) => Ok(t),
        Input::Opened(never, _) => match *never {},
    }
}

impl Backend for Plain {
    type T = ArrayD<f64>;
    type Kept = Operands;
    type Opened = NoOpened;

    fn shape(t: &ArrayD<f64>) -> &[usize] {
        t.shape()
    }

    fn dense(
        &mut self,
        x: Input<'_, Self>,
        w: &ArrayD<f64>,
        _keep: bool,
        _: &Label,
    ) -> Result<(ArrayD<f64>, Operands)> {
        let x = tensor(x)?;
        let z = matmul_f64(m2(&x)?, m2(w)?).into_dyn();
        Ok((z, Operands { x, w: w.clone() }))
    }

    fn dense_grad_w(&mut self, kept: &Operands, d: &ArrayD<f64>, _: &Label) -> Result<ArrayD<f64>> {
        Ok(matmul_f64(m2(&kept.x)?.t(), m2(d)?).into_dyn())
    }

    fn dense_grad_x(&mut self, kept: &Operands, d: &ArrayD<f64>, _: &Label) -> Result<ArrayD<f64>> {
        Ok(matmul_f64(m2(d)?, m2(&kept.w)?.t()).into_dyn())
    }

    fn conv(
        &mut self,
        x: Input<'_, Self>,
        w: &ArrayD<f64>,
        g: &ConvGeom,
        _keep: bool,
        _: &Label,
    ) -> Result<(ArrayD<f64>, Operands)> {
        let xp = conv::pad(&tensor(x)?, g.padding)?;
        let z = conv::conv2d(&xp, w, g.stride)?;
        Ok((z, Operands { x: xp, w: w.clone() }))
    }

    fn conv_grad_w(&mut self, kept: &Operands, drows: &ArrayD<f64>, g: &ConvGeom, _: &Label) -> Result<ArrayD<f64>> {
        let cols = conv::im2col(&kept.x, g.kh, g.kw, g.stride)?;
        Ok(matmul_f64(cols.t(), m2(drows)?).into_dyn())
    }

    fn conv_grad_x(&mut self, kept: &Operands, drows: &ArrayD<f64>, _: &Label) -> Result<ArrayD<f64>> {
        Ok(matmul_f64(m2(drows)?, conv::kernel_matrix(&kept.w)?.t()).into_dyn())
    }

    fn release(&mut self, _: Operands) {}

    fn activation(
        &mut self,
        x: &ArrayD<f64>,
        f: Activation,
        grad: Option<Activation>,
        _: &Label,
    ) -> Result<(ArrayD<f64>, Option<ArrayD<f64>>)> {
        // The derivative is evaluated at the input in the backward pass.
        Ok((x.mapv(|v| f.eval(v)), grad.map(|_| x.clone())))
    }

    fn times_derivative(
        &mut self,
        mut d: ArrayD<f64>,
        x: &ArrayD<f64>,
        grad: Activation,
        _: &Label,
    ) -> Result<ArrayD<f64>> {
        if d.shape() != x.shape() {
            return Err(invalid(format!("delta {:?} against an activation of {:?}", d.shape(), x.shape())));
        }
        d.zip_mut_with(x, |v, &z| *v *= grad.eval(z));
        Ok(d)
    }

    fn add(&mut self, a: &ArrayD<f64>, b: &ArrayD<f64>) -> Result<ArrayD<f64>> {
        same(a, b)?;
        Ok(a + b)
    }

    fn sub(&mut self, a: &ArrayD<f64>, b: &ArrayD<f64>) -> Result<ArrayD<f64>> {
        same(a, b)?;
        Ok(a - b)
    }

    fn add_bias(&mut self, mut z: ArrayD<f64>, b: &ArrayD<f64>) -> Result<ArrayD<f64>> {
        if z.ndim() < 2 || z.shape()[1] != b.len() {
            return Err(invalid(format!("bias of {} values for outputs {:?}", b.len(), z.shape())));
        }
        for (mut lane, &bj) in z.axis_iter_mut(Axis(1)).zip(b.iter()) {
            lane.mapv_inplace(|v| v + bj);
        }
        Ok(z)
    }

    fn sum_to_axis1(&mut self, d: &ArrayD<f64>) -> Result<ArrayD<f64>> {
        let n = d.shape().get(1).copied().ok_or_else(|| invalid("a bias gradient of a vector"))?;
        Ok(ArrayD::from_shape_fn(IxDyn(&[n]), |i| d.index_axis(Axis(1), i[0]).sum()))
    }

    fn div(&mut self, t: &ArrayD<f64>, k: f64) -> Result<ArrayD<f64>> {
        Ok(t.mapv(|v| v / k))
    }

    fn transpose(&mut self, t: &ArrayD<f64>) -> Result<ArrayD<f64>> {
        Ok(m2(t)?.t().to_owned().into_dyn())
    }

    fn reshape(&mut self, t: &ArrayD<f64>, shape: &[usize]) -> Result<ArrayD<f64>> {
        reshape(t.clone(), shape)
    }

    fn relayout(&mut self, t: &ArrayD<f64>, shape: &[usize], r: &Relayout) -> Result<ArrayD<f64>> {
        let out = r.apply(t)?;
        if out.shape() != shape {
            return Err(invalid(format!("{r:?} produced {:?}, expected {shape:?}", out.shape())));
        }
        Ok(out)
    }

    fn update(&mut self, w: &mut ArrayD<f64>, g: &ArrayD<f64>, c: f64) -> Result<()> {
        if w.shape() != g.shape() {
            return Err(invalid(format!("gradient {:?} for a parameter {:?}", g.shape(), w.shape())));
        }
        w.zip_mut_with(g, |a, &b| *a -= c * b);
        Ok(())
    }
}

fn same(a: &ArrayD<f64>, b: &ArrayD<f64>) -> Result<()> {
    if a.shape() != b.shape() {
        return Err(invalid(format!("{:?} and {:?} differ in shape", a.shape(), b.shape())));
    }
    Ok(())
}
