//! The paper's two models written out by hand from its equations (f64): the test oracle that the one layer
//! graph ([`super::graph::Net`], which every backend walks) computes exactly them, to the bit.

use super::{CNN_FLAT, CNN_KERNEL, CNN_STRIDE, ModelKind};
use crate::error::{Result, invalid};
use crate::protocol::conv;
use crate::protocol::elementwise::{relu, relu_grad, sigmoid};
use crate::protocol::kernel::matmul_f64;
use ndarray::{Array2, ArrayD, Ix2, IxDyn};

/// `z + b` with b broadcast along axis 1.
fn add_bias(z: &ArrayD<f64>, b: &ArrayD<f64>) -> ArrayD<f64> {
    let mut out = z.clone();
    for (mut lane, &bj) in out.axis_iter_mut(ndarray::Axis(1)).zip(b.iter()) {
        lane.mapv_inplace(|v| v + bj);
    }
    out
}

/// Sum over every axis but 1.
fn sum_to_axis1(d: &ArrayD<f64>) -> ArrayD<f64> {
    let n = d.shape()[1];
    ArrayD::from_shape_fn(IxDyn(&[n]), |i| d.index_axis(ndarray::Axis(1), i[0]).sum())
}

/// What the part of the model after the first layer returns.
#[derive(Debug, Clone)]
pub struct TailOut {
    /// Model outputs.
    pub yhat: ArrayD<f64>,
    /// Mean squared loss.
    pub loss: f64,
    /// Unscaled delta at the first layer's output.
    pub delta: ArrayD<f64>,
}

fn m2(a: &ArrayD<f64>) -> Result<ndarray::ArrayView2<'_, f64>> {
    a.view().into_dimensionality::<Ix2>().map_err(|e| invalid(e.to_string()))
}

fn mm(a: &ArrayD<f64>, b: &ArrayD<f64>) -> Result<ArrayD<f64>> {
    Ok(matmul_f64(m2(a)?, m2(b)?).into_dyn())
}

fn mm_tn(a: &ArrayD<f64>, b: &ArrayD<f64>) -> Result<ArrayD<f64>> {
    Ok(matmul_f64(m2(a)?.t(), m2(b)?).into_dyn())
}

fn mm_nt(a: &ArrayD<f64>, b: &ArrayD<f64>) -> Result<ArrayD<f64>> {
    Ok(matmul_f64(m2(a)?, m2(b)?.t()).into_dyn())
}

/// `w -= c * g` for every pair.
pub fn update(params: &mut [ArrayD<f64>], grads: &[ArrayD<f64>], c: f64) {
    for (w, g) in params.iter_mut().zip(grads) {
        w.zip_mut_with(g, |a, &b| *a -= c * b);
    }
}

/// The first linear layer: `x W + b` (logistic regression) or the convolution plus bias (CNN).
pub fn first_layer(model: ModelKind, params: &[ArrayD<f64>], x: &ArrayD<f64>) -> Result<ArrayD<f64>> {
    match model {
        ModelKind::LogReg => Ok(add_bias(&mm(x, &params[0])?, &params[1])),
        ModelKind::Cnn => Ok(add_bias(&conv::conv2d(x, &params[0], CNN_STRIDE)?, &params[1])),
        ModelKind::File(_) => Err(invalid("the hand-written oracle covers the paper's two models")),
    }
}

/// Gradients of the first layer from its input and the (unscaled) delta at its output.
pub fn first_layer_grads(model: ModelKind, x: &ArrayD<f64>, delta: &ArrayD<f64>) -> Result<Vec<ArrayD<f64>>> {
    match model {
        ModelKind::LogReg => Ok(vec![mm_tn(x, delta)?, sum_to_axis1(delta)]),
        ModelKind::Cnn => {
            let cols = conv::im2col(x, CNN_KERNEL, CNN_KERNEL, CNN_STRIDE)?; // (B*169, 16)
            let rows = conv::nchw_to_rows(delta)?; // (B*169, 4)
            let gw: Array2<f64> = matmul_f64(cols.t(), rows.view()); // (16, 4)
            let gw =
                gw.t().as_standard_layout().into_owned().into_shape_with_order(IxDyn(&[4, 1, CNN_KERNEL, CNN_KERNEL]));
            Ok(vec![gw.map_err(|e| invalid(e.to_string()))?, sum_to_axis1(delta)])
        }
        ModelKind::File(_) => Err(invalid("the hand-written oracle covers the paper's two models")),
    }
}

/// The CNN after its convolution: relu, flatten, dense + sigmoid twice. Returns (a0, a1, y_hat).
fn cnn_tail_forward(tail: &[ArrayD<f64>], z: &ArrayD<f64>) -> Result<[ArrayD<f64>; 3]> {
    let b = z.shape()[0];
    let a0 = z.mapv(relu).into_shape_with_order(IxDyn(&[b, CNN_FLAT])).map_err(|e| invalid(e.to_string()))?;
    let a1 = add_bias(&mm(&a0, &tail[0])?, &tail[1]).mapv(sigmoid);
    let yhat = add_bias(&mm(&a1, &tail[2])?, &tail[3]).mapv(sigmoid);
    Ok([a0, a1, yhat])
}

/// The rest of the model on the first layer's output `z`: forward, loss against `y`, backward down to `z`,
/// and (CNN) the update of the dense layers' parameters `tail` with factor `c`.
pub fn tail_train(
    model: ModelKind,
    tail: &mut [ArrayD<f64>],
    z: &ArrayD<f64>,
    y: &ArrayD<f64>,
    c: f64,
) -> Result<TailOut> {
    match model {
        ModelKind::LogReg => {
            let yhat = z.mapv(sigmoid);
            let loss = (&yhat - y).mapv(|v| v * v).mean().unwrap_or(0.0);
            let mut delta = &yhat - y;
            delta.zip_mut_with(&yhat, |d, &s| *d *= s * (1.0 - s));
            Ok(TailOut { yhat, loss, delta })
        }
        ModelKind::Cnn => {
            let [a0, a1, yhat] = cnn_tail_forward(tail, z)?;
            let loss = (&yhat - y).mapv(|v| v * v).mean().unwrap_or(0.0);
            let mut d2 = &yhat - y;
            d2.zip_mut_with(&yhat, |d, &s| *d *= s * (1.0 - s));
            let mut d1 = mm_nt(&d2, &tail[2])?;
            d1.zip_mut_with(&a1, |d, &s| *d *= s * (1.0 - s));
            let mut da0 =
                mm_nt(&d1, &tail[0])?.into_shape_with_order(IxDyn(z.shape())).map_err(|e| invalid(e.to_string()))?;
            da0.zip_mut_with(z, |d, &v| *d *= relu_grad(v));
            let grads = [mm_tn(&a1, &d2)?, sum_to_axis1(&d2), mm_tn(&a0, &d1)?, sum_to_axis1(&d1)];
            // tail = [dense1_w, dense1_b, dense2_w, dense2_b]; grads computed before any update.
            let order = [2, 3, 0, 1];
            for (k, &i) in order.iter().enumerate() {
                tail[i].zip_mut_with(&grads[k], |a, &g| *a -= c * g);
            }
            Ok(TailOut { yhat, loss, delta: da0 })
        }
        ModelKind::File(_) => Err(invalid("the hand-written oracle covers the paper's two models")),
    }
}

/// One SGD step on a batch; returns what the tail returned (outputs and loss).
pub fn train_step(
    model: ModelKind,
    params: &mut [ArrayD<f64>],
    x: &ArrayD<f64>,
    y: &ArrayD<f64>,
    lr: f64,
) -> Result<TailOut> {
    let c = model.update_factor(lr, x.shape()[0]);
    let z = first_layer(model, params, x)?;
    let (first, tail) = params.split_at_mut(model.first_layer_params());
    let out = tail_train(model, tail, &z, y, c)?;
    let grads = first_layer_grads(model, x, &out.delta)?;
    update(first, &grads, c);
    Ok(out)
}
