//! Any [`Spec`] model in plaintext (f64): forward, loss, backward, SGD — the layer graph written once.
//!
//! The same operations as the paper's hand-written reference (`plain.rs`) in the same order, so the
//! paper's two models read from `models/*.toml` train to the same bits (tested). The secure backends still
//! run only the paper's two architectures (`secure.rs`).

use super::plain::add_bias;
use super::spec::{Layer, LossKind, Planned, Spec, Target};
use crate::error::{Result, invalid};
use crate::protocol::conv;
use crate::protocol::elementwise::{relu, relu_grad, sigmoid};
use crate::protocol::kernel::matmul_f64;
use ndarray::{Array2, ArrayD, Axis, Ix2, IxDyn};
use rand::RngExt;

fn m2(a: &ArrayD<f64>) -> Result<ndarray::ArrayView2<'_, f64>> {
    a.view().into_dimensionality::<Ix2>().map_err(|e| invalid(e.to_string()))
}

fn reshape(a: ArrayD<f64>, shape: &[usize]) -> Result<ArrayD<f64>> {
    a.as_standard_layout().into_owned().into_shape_with_order(IxDyn(shape)).map_err(|e| invalid(e.to_string()))
}

/// Zero padding of `[B, C, H, W]` by `p` on every side.
fn pad(x: &ArrayD<f64>, p: usize) -> ArrayD<f64> {
    if p == 0 {
        return x.clone();
    }
    let s = x.shape();
    let mut out = ArrayD::zeros(IxDyn(&[s[0], s[1], s[2] + 2 * p, s[3] + 2 * p]));
    out.slice_each_axis_mut(|ax| match ax.axis.index() {
        2 | 3 => ndarray::Slice::from(p as isize..-(p as isize)),
        _ => ndarray::Slice::from(..),
    })
    .assign(x);
    out
}

/// The inverse of [`pad`] for gradients: the interior.
fn crop(x: &ArrayD<f64>, p: usize) -> ArrayD<f64> {
    if p == 0 {
        return x.clone();
    }
    x.slice_each_axis(|ax| match ax.axis.index() {
        2 | 3 => ndarray::Slice::from(p as isize..-(p as isize)),
        _ => ndarray::Slice::from(..),
    })
    .to_owned()
}

/// Scatter-adds patch rows `(B*OH*OW, C*KH*KW)` back into `[B, C, H, W]` (the adjoint of im2col).
fn col2im(cols: &Array2<f64>, shape: &[usize], kh: usize, kw: usize, stride: usize) -> ArrayD<f64> {
    let (b, c, h, w) = (shape[0], shape[1], shape[2], shape[3]);
    let (oh, ow) = ((h - kh) / stride + 1, (w - kw) / stride + 1);
    let mut out = vec![0.0; b * c * h * w];
    for bi in 0..b {
        for oi in 0..oh {
            for oj in 0..ow {
                let r = (bi * oh + oi) * ow + oj;
                for ci in 0..c {
                    for i in 0..kh {
                        for j in 0..kw {
                            let v = cols[(r, (ci * kh + i) * kw + j)];
                            out[((bi * c + ci) * h + oi * stride + i) * w + oj * stride + j] += v;
                        }
                    }
                }
            }
        }
    }
    ArrayD::from_shape_vec(IxDyn(shape), out).unwrap_or_else(|_| ArrayD::zeros(IxDyn(shape)))
}

fn avgpool(x: &ArrayD<f64>, size: usize, stride: usize) -> ArrayD<f64> {
    let s = x.shape();
    let (oh, ow) = ((s[2] - size) / stride + 1, (s[3] - size) / stride + 1);
    let k = (size * size) as f64;
    ArrayD::from_shape_fn(IxDyn(&[s[0], s[1], oh, ow]), |ix| {
        let mut acc = 0.0;
        for i in 0..size {
            for j in 0..size {
                acc += x[[ix[0], ix[1], ix[2] * stride + i, ix[3] * stride + j]];
            }
        }
        acc / k
    })
}

fn avgpool_back(d: &ArrayD<f64>, in_shape: &[usize], size: usize, stride: usize) -> ArrayD<f64> {
    let mut out = ArrayD::zeros(IxDyn(in_shape));
    let k = (size * size) as f64;
    for (ix, &v) in d.indexed_iter() {
        for i in 0..size {
            for j in 0..size {
                out[[ix[0], ix[1], ix[2] * stride + i, ix[3] * stride + j]] += v / k;
            }
        }
    }
    out
}

/// A model ready to run: its spec, its layers' shapes, its targets.
#[derive(Debug, Clone)]
pub struct Net {
    /// The model file.
    pub spec: Spec,
    plan: Vec<Planned>,
    target: Target,
    outputs: usize,
}

/// One training step's result.
#[derive(Debug, Clone)]
pub struct Step {
    /// Outputs (after softmax for cross-entropy).
    pub yhat: ArrayD<f64>,
    /// The loss.
    pub loss: f64,
}

impl Net {
    /// Plans `spec`.
    pub fn new(spec: Spec) -> Result<Net> {
        let plan = spec.plan()?;
        let outputs = spec.outputs_of(&plan)?;
        let target = spec.target_for(outputs)?;
        Ok(Net { spec, plan, target, outputs })
    }

    /// Outputs per example.
    pub fn outputs(&self) -> usize {
        self.outputs
    }

    /// Features per example.
    pub fn input_len(&self) -> usize {
        self.spec.input.iter().product()
    }

    /// Glorot-uniform weights and zero biases from `seed`, drawn as the paper's models draw theirs.
    pub fn init(&self, seed: u64) -> Vec<ArrayD<f64>> {
        let mut rng = crate::rng::stream(seed, 77);
        let mut out = Vec::new();
        for p in &self.plan {
            for (k, shape) in p.params.iter().enumerate() {
                if k == 1 {
                    out.push(ArrayD::zeros(IxDyn(shape)));
                    continue;
                }
                let (fan_in, fan_out) = match shape.len() {
                    2 => (shape[0], shape[1]),
                    _ => (shape[1] * shape[2] * shape[3], shape[0] * shape[2] * shape[3]),
                };
                let a = (6.0 / (fan_in + fan_out) as f64).sqrt();
                let n: usize = shape.iter().product();
                let v = (0..n).map(|_| rng.random_range(-a..a)).collect();
                out.push(ArrayD::from_shape_vec(IxDyn(shape), v).unwrap_or_else(|_| ArrayD::zeros(IxDyn(shape))));
            }
        }
        out
    }

    /// Targets for labels.
    pub fn targets(&self, labels: &[f64]) -> Result<ArrayD<f64>> {
        let b = labels.len();
        match self.target {
            Target::Value => {
                Ok(ArrayD::from_shape_vec(IxDyn(&[b, 1]), labels.to_vec()).map_err(|e| invalid(e.to_string()))?)
            }
            Target::Equals(v) => Ok(ArrayD::from_shape_fn(IxDyn(&[b, 1]), |ix| f64::from(labels[ix[0]] == v))),
            Target::OneHot => {
                for &l in labels {
                    if l < 0.0 || l.fract() != 0.0 || l as usize >= self.outputs {
                        return Err(invalid(format!(
                            "label {l} is not a class 0..{} of the model's one-hot outputs",
                            self.outputs - 1
                        )));
                    }
                }
                Ok(ArrayD::from_shape_fn(IxDyn(&[b, self.outputs]), |ix| f64::from(labels[ix[0]] as usize == ix[1])))
            }
        }
    }

    /// The batch `x` (`[B, features]`) in the input's shape.
    fn shaped(&self, x: &ArrayD<f64>) -> Result<ArrayD<f64>> {
        let b = x.shape()[0];
        if x.len() != b * self.input_len() {
            return Err(invalid(format!(
                "a batch of {b} has {} values; the model takes {} per example",
                x.len(),
                self.input_len()
            )));
        }
        let mut shape = vec![b];
        shape.extend_from_slice(&self.spec.input);
        reshape(x.clone(), &shape)
    }

    /// Forward pass keeping every layer's input (and pre-activation) for the backward pass.
    fn forward(&self, params: &[ArrayD<f64>], x: &ArrayD<f64>) -> Result<(ArrayD<f64>, Vec<ArrayD<f64>>)> {
        let mut a = self.shaped(x)?;
        let mut inputs = Vec::with_capacity(self.plan.len());
        let mut k = 0;
        for p in &self.plan {
            let next = match &p.layer {
                Layer::Dense { .. } => {
                    let z = add_bias(&matmul_f64(m2(&a)?, m2(&params[k])?).into_dyn(), &params[k + 1]);
                    k += 2;
                    z
                }
                Layer::Conv2d { stride, padding, .. } => {
                    let z = add_bias(&conv::conv2d(&pad(&a, *padding), &params[k], *stride)?, &params[k + 1]);
                    k += 2;
                    z
                }
                Layer::Relu => a.mapv(relu),
                Layer::Sigmoid => a.mapv(sigmoid),
                Layer::Avgpool { size, stride } => avgpool(&a, *size, stride.unwrap_or(*size)),
                Layer::Flatten => {
                    let b = a.shape()[0];
                    reshape(a.clone(), &[b, p.output[0]])?
                }
            };
            inputs.push(std::mem::replace(&mut a, next));
        }
        Ok((a, inputs))
    }

    /// Outputs for a batch (softmax applied for cross-entropy).
    pub fn predict(&self, params: &[ArrayD<f64>], x: &ArrayD<f64>) -> Result<ArrayD<f64>> {
        let (y, _) = self.forward(params, x)?;
        Ok(match self.spec.loss.kind {
            LossKind::SoftmaxCrossEntropy => softmax(&y),
            LossKind::Mse => y,
        })
    }

    /// One SGD step with learning rate `lr` (mean squared error: factor `lr * 2 / (B * outputs)`, as the
    /// paper's models; cross-entropy: `lr / B`).
    pub fn train_step(&self, params: &mut [ArrayD<f64>], x: &ArrayD<f64>, labels: &[f64], lr: f64) -> Result<Step> {
        let b = x.shape()[0];
        let y = self.targets(labels)?;
        let (out, inputs) = self.forward(params, x)?;
        let (yhat, loss, mut d, c) = match self.spec.loss.kind {
            LossKind::Mse => {
                let loss = (&out - &y).mapv(|v| v * v).mean().unwrap_or(0.0);
                (out.clone(), loss, &out - &y, lr * 2.0 / (b * self.outputs) as f64)
            }
            LossKind::SoftmaxCrossEntropy => {
                let p = softmax(&out);
                let loss = -(&y * &p.mapv(|v| v.max(1e-300).ln())).sum() / b as f64;
                (p.clone(), loss, &p - &y, lr / b as f64)
            }
        };
        // Backward, collecting gradients in parameter order, applied after all are computed.
        let mut grads: Vec<Option<ArrayD<f64>>> = vec![None; params.len()];
        let mut k = params.len();
        for (p, a) in self.plan.iter().zip(&inputs).rev() {
            d = match &p.layer {
                Layer::Dense { .. } => {
                    k -= 2;
                    grads[k] = Some(matmul_f64(m2(a)?.t(), m2(&d)?).into_dyn());
                    grads[k + 1] = Some(super::plain::sum_to_axis1(&d));
                    matmul_f64(m2(&d)?, m2(&params[k])?.t()).into_dyn()
                }
                Layer::Conv2d { stride, padding, kernel, .. } => {
                    k -= 2;
                    let (kh, kw) = kernel.hw();
                    let ap = pad(a, *padding);
                    let cols = conv::im2col(&ap, kh, kw, *stride)?;
                    let rows = conv::nchw_to_rows(&d)?;
                    let gw: Array2<f64> = matmul_f64(cols.t(), rows.view());
                    grads[k] = Some(reshape(gw.t().to_owned().into_dyn(), params[k].shape())?);
                    grads[k + 1] = Some(super::plain::sum_to_axis1(&d));
                    let dcols = matmul_f64(rows.view(), conv::kernel_matrix(&params[k])?.t());
                    crop(&col2im(&dcols, ap.shape(), kh, kw, *stride), *padding)
                }
                Layer::Relu => {
                    let mut g = d;
                    g.zip_mut_with(a, |v, &z| *v *= relu_grad(z));
                    g
                }
                Layer::Sigmoid => {
                    let mut g = d;
                    g.zip_mut_with(a, |v, &z| {
                        let s = sigmoid(z);
                        *v *= s * (1.0 - s)
                    });
                    g
                }
                Layer::Avgpool { size, stride } => avgpool_back(&d, a.shape(), *size, stride.unwrap_or(*size)),
                Layer::Flatten => reshape(d, a.shape())?,
            };
        }
        for (w, g) in params.iter_mut().zip(grads) {
            let g = g.ok_or_else(|| invalid("a parameter got no gradient"))?;
            w.zip_mut_with(&g, |a, &b| *a -= c * b);
        }
        Ok(Step { yhat, loss })
    }

    /// Correct predictions: argmax against the class for one-hot targets, `> 0.5` against the target for a
    /// single output.
    pub fn correct(&self, yhat: &ArrayD<f64>, labels: &[f64]) -> Result<usize> {
        let y = self.targets(labels)?;
        Ok(match self.target {
            Target::OneHot => yhat
                .axis_iter(Axis(0))
                .zip(labels)
                .filter(|(row, l)| {
                    let arg = row
                        .iter()
                        .enumerate()
                        .fold((0, f64::NEG_INFINITY), |m, (i, &v)| if v > m.1 { (i, v) } else { m })
                        .0;
                    arg == **l as usize
                })
                .count(),
            _ => yhat.iter().zip(y.iter()).filter(|(p, t)| (**p > 0.5) == (**t > 0.5)).count(),
        })
    }
}

fn softmax(z: &ArrayD<f64>) -> ArrayD<f64> {
    let mut out = z.clone();
    for mut row in out.axis_iter_mut(Axis(0)) {
        let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        row.mapv_inplace(|v| (v - m).exp());
        let s: f64 = row.sum();
        row.mapv_inplace(|v| v / s);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{ModelKind, plain};

    /// Central differences against the backward pass, on a model with every layer kind.
    #[test]
    fn gradients_match_finite_differences_for_every_layer_kind() {
        let spec = Spec::parse(
            "input = [2, 7, 7]\n\
             [[layer]]\nkind = \"conv2d\"\nfilters = 3\nkernel = [3, 2]\nstride = 2\npadding = 1\n\
             [[layer]]\nkind = \"relu\"\n\
             [[layer]]\nkind = \"avgpool\"\nsize = 2\nstride = 1\n\
             [[layer]]\nkind = \"flatten\"\n\
             [[layer]]\nkind = \"dense\"\nunits = 5\n\
             [[layer]]\nkind = \"sigmoid\"\n\
             [[layer]]\nkind = \"dense\"\nunits = 3\n\
             [loss]\nkind = \"softmax-cross-entropy\"\n",
        )
        .unwrap();
        let net = Net::new(spec).unwrap();
        let mut rng = crate::rng::stream(4, 0);
        let x = ArrayD::from_shape_fn(IxDyn(&[4, 98]), |_| rng.random_range(-1.0..1.0));
        let labels = [0.0, 2.0, 1.0, 2.0];
        let params = net.init(3);
        let loss = |p: &[ArrayD<f64>]| {
            let mut q = p.to_vec();
            // A zero learning rate leaves the parameters and returns the loss.
            net.train_step(&mut q, &x, &labels, 0.0).unwrap().loss
        };
        // The update with lr = 1 moves each parameter by -g / B: recover g.
        let mut moved = params.clone();
        net.train_step(&mut moved, &x, &labels, 1.0).unwrap();
        for (i, (p0, p1)) in params.iter().zip(&moved).enumerate() {
            for j in (0..p0.len()).step_by(p0.len().div_ceil(6)) {
                let g = (p0.as_slice().unwrap()[j] - p1.as_slice().unwrap()[j]) * 4.0;
                let h = 1e-5;
                let mut up = params.clone();
                up[i].as_slice_mut().unwrap()[j] += h;
                let mut dn = params.clone();
                dn[i].as_slice_mut().unwrap()[j] -= h;
                let num = (loss(&up) - loss(&dn)) / (2.0 * h) * 4.0;
                assert!((g - num).abs() < 1e-6 * (1.0 + num.abs()), "param {i}[{j}]: backward {g}, numeric {num}");
            }
        }
    }

    /// The paper's models read from their files train to the same bits as the hand-written reference.
    #[test]
    fn the_papers_models_from_their_files_equal_the_hand_written_reference() {
        let (train, _) = crate::data::mnist::bundled_split().unwrap();
        let data = crate::models::Prepared::new(&train.slice(0, 96)).unwrap();
        for model in [ModelKind::LogReg, ModelKind::Cnn] {
            let net = Net::new(Spec::paper(model)).unwrap();
            let mut a = model.init(9);
            let mut b = net.init(9);
            assert_eq!(a, b, "{}: same initialization", model.name());
            let lr = if model == ModelKind::LogReg { 0.1 } else { 3.0 };
            for rows in (0..96).collect::<Vec<_>>().chunks(32) {
                let xm = data.batch(model, rows);
                let labels = data.labels_of(rows);
                let ya = plain::train_step(model, &mut a, &xm, &model.targets(&labels), lr).unwrap();
                let flat = xm.clone().into_shape_with_order(IxDyn(&[rows.len(), 784])).unwrap();
                let lf: Vec<f64> = labels.iter().map(|&l| f64::from(l)).collect();
                let yb = net.train_step(&mut b, &flat, &lf, lr).unwrap();
                assert_eq!(ya.loss.to_bits(), yb.loss.to_bits(), "{}", model.name());
            }
            assert_eq!(a, b, "{}: same parameters after three steps", model.name());
        }
    }
}
