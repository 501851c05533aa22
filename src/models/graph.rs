//! A model ready to run ([`Net`]): its planned layers, parameter names, initialization, targets, loss and
//! scoring, and its plaintext training and prediction: the walker (`walk`) on the plaintext backend.
//!
//! The same operations as the paper's hand-written reference (`plain.rs`) in the same order, so the
//! paper's two models read from `models/*.toml` train to the same bits (tested). The secure protocols
//! (`secure.rs`) walk the same layers on shares; RTAS-fast's third party runs this plaintext trainer from
//! the second layer on ([`Net::tail_train`]).

use super::backend::plain::{Plain, reshape};
use super::backend::{Backend, Input, Saved};
use super::spec::{Layer, LossKind, Planned, Spec, Target};
use super::walk;
use crate::error::{Result, invalid};
use crate::net::{Label, Stage};
use ndarray::{ArrayD, Axis, IxDyn};
use rand::RngExt;

/// Plaintext runs name no messages; the walker's labels go nowhere.
pub(crate) fn plain_label() -> Label {
    Stage::Op.at("")
}

/// What the part of a model after its first layer returns (RTAS-fast's third party).
#[derive(Debug, Clone)]
pub struct TailOut {
    /// Model outputs.
    pub yhat: ArrayD<f64>,
    /// The loss.
    pub loss: f64,
    /// Unscaled delta at the first layer's output.
    pub delta: ArrayD<f64>,
}

/// A model ready to run: its spec, its layers' shapes, its targets.
#[derive(Debug, Clone, PartialEq)]
pub struct Net {
    /// The model file.
    pub spec: Spec,
    name: String,
    source: Option<std::path::PathBuf>,
    /// Weights the file carried (an ONNX export): the initial parameters instead of a random draw.
    weights: Option<Vec<ArrayD<f64>>>,
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
    /// Plans `spec` (without its leading flattens: [`Spec::without_leading_flatten`]).
    pub fn new(spec: Spec) -> Result<Net> {
        let spec = spec.without_leading_flatten();
        let plan = spec.plan()?;
        let outputs = spec.outputs_of(&plan)?;
        let target = spec.target_for(outputs)?;
        Ok(Net { spec, name: "model".into(), source: None, weights: None, plan, target, outputs })
    }

    /// Plans `spec` under the name commands print for it (e.g. the file's stem).
    pub fn named(spec: Spec, name: &str) -> Result<Net> {
        Ok(Net { name: name.to_string(), ..Net::new(spec)? })
    }

    /// Reads a model file; the net is named after the file's stem and remembers where it came from (so
    /// that `rtas launch` can hand the same file to every party).
    /// An `.onnx` file is imported ([`super::onnx`]) with its weights.
    pub fn read(path: &std::path::Path) -> Result<Net> {
        Ok(Net::read_noting(path)?.0)
    }

    /// [`Net::read`], with what became of every node of an ONNX file (empty for a model file).
    pub fn read_noting(path: &std::path::Path) -> Result<(Net, Vec<super::onnx::NodeNote>)> {
        let onnx = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("onnx"));
        let (spec, weights, notes) = if onnx {
            let m = super::onnx::read(path)?;
            (m.spec, Some(m.params), m.nodes)
        } else {
            (Spec::read(path)?, None, Vec::new())
        };
        let stem = path.file_stem().map_or_else(|| "model".to_string(), |n| n.to_string_lossy().into_owned());
        let source = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        Ok((Net { source: Some(source), weights, ..Net::named(spec, &stem)? }, notes))
    }

    /// The weights the file carried, if any.
    pub fn weights(&self) -> Option<&[ArrayD<f64>]> {
        self.weights.as_deref()
    }

    /// The file it was read from.
    pub fn source(&self) -> Option<&std::path::Path> {
        self.source.as_deref()
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Every parameter's name, in order: `w`, `b` when one layer has parameters, else `<layer>_w`,
    /// `<layer>_b` (the labels its shares carry, e.g. `setup/params/conv_w/share`).
    pub fn param_names(&self) -> Vec<String> {
        let with = self.plan.iter().filter(|p| !p.params.is_empty()).count();
        let mut out = Vec::new();
        for p in &self.plan {
            for (k, _) in p.params.iter().enumerate() {
                let suffix = if k == 0 { "w" } else { "b" };
                out.push(if with == 1 { suffix.to_string() } else { format!("{}_{suffix}", p.name) });
            }
        }
        out
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
    /// A model imported with its weights starts from them (and ignores `seed`).
    pub fn init(&self, seed: u64) -> Vec<ArrayD<f64>> {
        if let Some(w) = &self.weights {
            return w.clone();
        }
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
    pub(crate) fn shaped(&self, x: &ArrayD<f64>) -> Result<ArrayD<f64>> {
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

    /// The planned layers.
    pub fn layers(&self) -> &[Planned] {
        &self.plan
    }

    /// Multiply-adds of the forward pass of layers `from..` for one example (dense: inputs x units; conv:
    /// output positions x filters x channels x kernel).
    pub fn macs_per_example(&self, from: usize) -> f64 {
        self.plan[from.min(self.plan.len())..]
            .iter()
            .map(|p| match (&p.layer, p.params.first()) {
                (Layer::Dense { .. }, Some(w)) => (w[0] * w[1]) as f64,
                (Layer::Conv2d { .. }, Some(w)) => {
                    (p.output[1] * p.output[2]) as f64 * w.iter().product::<usize>() as f64
                }
                _ => 0.0,
            })
            .sum()
    }

    /// How labels become targets.
    pub fn target(&self) -> Target {
        self.target
    }

    /// Parameters of the layers before `layer` (where that layer's parameters start).
    pub fn params_before(&self, layer: usize) -> usize {
        self.plan[..layer.min(self.plan.len())].iter().map(|p| p.params.len()).sum()
    }

    /// The factor applied to unscaled gradients at the update: `lr * 2 / (B * outputs)` for mean squared
    /// error (as the paper's models), `lr / B` for cross-entropy.
    pub fn update_factor(&self, lr: f64, batch: usize) -> f64 {
        match self.spec.loss.kind {
            LossKind::Mse => lr * 2.0 / (batch * self.outputs) as f64,
            LossKind::SoftmaxCrossEntropy => lr / batch as f64,
        }
    }

    /// Layers `from..to` forward on `a` (layer `from`'s input, batch first), with `params` the parameters
    /// of those layers; training (`keep`) keeps what the backward pass needs.
    fn forward_range(
        &self,
        (from, to): (usize, usize),
        params: &[ArrayD<f64>],
        a: ArrayD<f64>,
        keep: bool,
    ) -> Result<(ArrayD<f64>, Vec<Saved<Plain>>)> {
        walk::forward(&mut Plain, &self.plan, (from, to), params, Input::Tensor(a), keep, &plain_label())
    }

    /// The loss of outputs `out` against targets `y`: (outputs as the model reports them, loss, unscaled
    /// delta at `out`).
    pub(crate) fn loss(&self, out: ArrayD<f64>, y: &ArrayD<f64>) -> Result<(ArrayD<f64>, f64, ArrayD<f64>)> {
        if out.shape() != y.shape() {
            return Err(invalid(format!("outputs {:?} against targets {:?}", out.shape(), y.shape())));
        }
        let yhat = match self.spec.loss.kind {
            LossKind::Mse => out,
            LossKind::SoftmaxCrossEntropy => softmax(&out),
        };
        let loss = self.reported_loss(&yhat, y);
        let d = &yhat - y;
        Ok((yhat, loss, d))
    }

    /// The loss of outputs as the model reports them (`yhat`: after softmax for cross-entropy) against
    /// targets `y`: mean squared error, or cross-entropy averaged over the batch.
    pub(crate) fn reported_loss(&self, yhat: &ArrayD<f64>, y: &ArrayD<f64>) -> f64 {
        match self.spec.loss.kind {
            LossKind::Mse => (yhat - y).mapv(|v| v * v).mean().unwrap_or(0.0),
            LossKind::SoftmaxCrossEntropy => {
                -(y * &yhat.mapv(|v| v.max(1e-300).ln())).sum() / yhat.shape()[0].max(1) as f64
            }
        }
    }

    /// Backward from the output's delta `d` down to layer `from`'s input, then `w -= c g` for `params`
    /// (layers `from..`). Returns the delta at layer `from`'s input when `input_delta`.
    fn backward_from(
        &self,
        from: usize,
        params: &mut [ArrayD<f64>],
        saved: Vec<Saved<Plain>>,
        d: ArrayD<f64>,
        (c, input_delta): (f64, bool),
    ) -> Result<Option<ArrayD<f64>>> {
        let range = (from, self.plan.len());
        let (grads, d) = walk::backward(&mut Plain, &self.plan, range, saved, d, input_delta, &plain_label())?;
        for (w, g) in params.iter_mut().zip(&grads) {
            Plain.update(w, g, c)?;
        }
        Ok(d)
    }

    /// RTAS-fast's third party: layers `from..` on `z` (layer `from`'s input, as revealed), the loss against
    /// targets `y`, the backward pass down to `z`, and `w -= c g` for `tail` (the parameters of layers
    /// `from..`). Returns the outputs, the loss and the unscaled delta at `z`.
    pub fn tail_train(
        &self,
        from: usize,
        tail: &mut [ArrayD<f64>],
        z: &ArrayD<f64>,
        y: &ArrayD<f64>,
        c: f64,
    ) -> Result<TailOut> {
        let (out, saved) = self.forward_range((from, self.plan.len()), tail, z.clone(), true)?;
        let (yhat, loss, d) = self.loss(out, y)?;
        let delta = self.backward_from(from, tail, saved, d, (c, true))?;
        let delta = delta.ok_or_else(|| invalid("no delta at the first layer's output"))?;
        Ok(TailOut { yhat, loss, delta })
    }

    /// Layers `from..` on `z` without training (softmax applied for cross-entropy).
    pub fn tail_predict(&self, from: usize, tail: &[ArrayD<f64>], z: &ArrayD<f64>) -> Result<ArrayD<f64>> {
        let (y, _) = self.forward_range((from, self.plan.len()), tail, z.clone(), false)?;
        Ok(match self.spec.loss.kind {
            LossKind::SoftmaxCrossEntropy => softmax(&y),
            LossKind::Mse => y,
        })
    }

    /// The first layer's output for a batch `x` (`[B, features]`), from its parameters `first`: what
    /// RTAS-fast reveals to the third party.
    pub fn first_output(&self, first: &[ArrayD<f64>], x: &ArrayD<f64>) -> Result<ArrayD<f64>> {
        Ok(self.forward_range((0, 1), first, self.shaped(x)?, false)?.0)
    }

    /// Outputs for a batch (softmax applied for cross-entropy).
    pub fn predict(&self, params: &[ArrayD<f64>], x: &ArrayD<f64>) -> Result<ArrayD<f64>> {
        self.tail_predict(0, params, &self.shaped(x)?)
    }

    /// One SGD step with learning rate `lr` (mean squared error: factor `lr * 2 / (B * outputs)`, as the
    /// paper's models; cross-entropy: `lr / B`).
    pub fn train_step(&self, params: &mut [ArrayD<f64>], x: &ArrayD<f64>, labels: &[f64], lr: f64) -> Result<Step> {
        self.train_on(params, x, &self.targets(labels)?, lr)
    }

    /// [`Net::train_step`] against targets `y` (`[B, outputs]`).
    pub fn train_on(&self, params: &mut [ArrayD<f64>], x: &ArrayD<f64>, y: &ArrayD<f64>, lr: f64) -> Result<Step> {
        let c = self.update_factor(lr, x.shape()[0]);
        let (out, saved) = self.forward_range((0, self.plan.len()), params, self.shaped(x)?, true)?;
        let (yhat, loss, d) = self.loss(out, y)?;
        self.backward_from(0, params, saved, d, (c, false))?;
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
            _ => yhat.iter().zip(y.iter()).filter(|(p, t)| (**p >= 0.5) == (**t >= 0.5)).count(),
        })
    }
}

/// A softmax over each row of `z` (what a model reports for outputs `z` under cross-entropy).
pub(crate) fn softmax(z: &ArrayD<f64>) -> ArrayD<f64> {
    let mut out = z.clone();
    for row in out.axis_iter_mut(Axis(0)) {
        if let Ok(row) = row.into_dimensionality::<ndarray::Ix1>() {
            crate::protocol::functions::softmax_row(row);
        }
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
                let ya = plain::train_step(model, &mut a, &xm, &model.targets(&labels).unwrap(), lr).unwrap();
                let flat = xm.clone().into_shape_with_order(IxDyn(&[rows.len(), 784])).unwrap();
                let lf: Vec<f64> = labels.iter().map(|&l| f64::from(l)).collect();
                let yb = net.train_step(&mut b, &flat, &lf, lr).unwrap();
                assert_eq!(ya.loss.to_bits(), yb.loss.to_bits(), "{}", model.name());
                assert_eq!(ya.yhat, yb.yhat, "{}: the same outputs", model.name());
            }
            assert_eq!(a, b, "{}: same parameters after three steps", model.name());
        }
    }
}
