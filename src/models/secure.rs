//! The models under RTAS and RTAS-fast, written once for every role (SPMD).
//!
//! - RTAS: everything secret-shared. Linear layers by Beaver triples (the input's opened mask is kept and
//!   reused for the weight gradient, and the weight's for the backward product), activations and their
//!   derivatives by the permutation helper, `(y_hat - y) * f'(z)` by a Beaver product. Labels are shared
//!   by the data owner.
//! - RTAS-fast: only the first linear layer (dense or conv, without its activation) is secret-shared. Its
//!   output is revealed to the third party, who holds the labels, runs the rest of the model in plaintext
//!   ([`super::plain::tail_train`]), and returns fresh shares of the delta at that output; P0 and P1 compute
//!   the first layer's gradient securely (reusing the input's opened mask) and update it.
//! - `reuse_masks` (SecureML): the whole training set is shared and opened masked once, before training;
//!   each step's products use rows (images) of that mask with fresh masks for the weights only.

use super::{CNN_FILTERS, CNN_FLAT, CNN_KERNEL, CNN_SIDE, CNN_STRIDE, ModelKind, Prepared, plain};
use crate::error::{Result, invalid};
use crate::net::{Label, PartyInputs, Payload, Role, Stage};
use crate::protocol::beaver::{self, Masked};
use crate::protocol::conv;
use crate::protocol::dealer::{self, Reuse};
use crate::protocol::elementwise::HelperMode;
use crate::protocol::functions::Activation;
use crate::protocol::io;
use crate::protocol::nonlinear::{self, Nonlinear, Via};
use crate::protocol::party::Party;
use crate::protocol::share::Shared;
use ndarray::ArrayD;
use serde::Serialize;
use std::collections::BTreeMap;

/// RTAS, RTAS-fast, or the cryptographic baseline in the same dealer model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Protocol {
    /// Everything shared, element-wise functions through the helper.
    Rtas,
    /// First linear layer shared, the rest in plaintext at the third party.
    RtasFast,
    /// Everything shared, element-wise functions through FSS gates from the dealer: no helper, nothing
    /// revealed to anyone.
    Mpc,
}

impl Protocol {
    /// `rtas` or `rtas-fast`.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Rtas => "rtas",
            Protocol::RtasFast => "rtas-fast",
            Protocol::Mpc => "mpc",
        }
    }

    /// How its element-wise functions are computed.
    pub fn via(self) -> Via {
        match self {
            Protocol::Mpc => Via::Fss,
            Protocol::Rtas | Protocol::RtasFast => Via::Helper,
        }
    }

    /// Whether the whole model is secret-shared (RTAS and mpc) rather than only the first layer.
    pub fn shares_everything(self) -> bool {
        self != Protocol::RtasFast
    }

    /// The parties taking part.
    pub fn roles(self) -> Vec<Role> {
        match self {
            Protocol::Rtas | Protocol::Mpc => vec![Role::P0, Role::P1, Role::Dealer, Role::Owner],
            Protocol::RtasFast => vec![Role::P0, Role::P1, Role::Dealer, Role::ThirdParty, Role::Owner],
        }
    }
}

/// What every role knows before the run: the model, the protocol, the learning rate and the batch
/// schedule. The data, the labels and the initial parameters are not here: they are [`Inputs`], handed each
/// to the one role that holds them.
#[derive(Debug, Clone)]
pub struct Plan<'a> {
    /// The model.
    pub model: ModelKind,
    /// The protocol.
    pub protocol: Protocol,
    /// Learning rate.
    pub lr: f64,
    /// Training batches (rows of the training set), in order.
    pub schedule: &'a [Vec<usize>],
    /// Inference batches (rows of the test set).
    pub inference: &'a [Vec<usize>],
    /// Open the masked training set once and reuse it.
    pub reuse_masks: bool,
    /// Rows of the training set (public: the shape of what mask reuse opens).
    pub train_rows: usize,
    /// What P0 and P1 send the element-wise helper.
    pub helper: HelperMode,
    /// Ticked by P0 after every training step.
    pub progress: Option<&'a indicatif::ProgressBar>,
}

/// One role's own inputs.
#[derive(Debug, Clone, Default)]
pub enum Inputs {
    /// P0, P1 and the dealer hold nothing of their own.
    #[default]
    Nothing,
    /// The data owner: its images, its labels under RTAS (under RTAS-fast the third party holds them), the
    /// initial parameters of what is shared.
    Owner {
        /// Training images (`labels` empty under RTAS-fast).
        train: Prepared,
        /// Test images (no labels: predictions are scored outside the protocol).
        test: Prepared,
        /// Initial parameters of the shared layers.
        params: Vec<ArrayD<f64>>,
    },
    /// RTAS-fast's label holder: the training labels and the initial tail of the model.
    LabelHolder {
        /// Label of each training row.
        labels: Vec<u8>,
        /// Initial parameters of the layers after the first.
        tail: Vec<ArrayD<f64>>,
    },
}

impl Inputs {
    /// Each role's inputs for `plan`: the owner gets the images (and under RTAS the labels) and the shared
    /// layers' initial parameters; under RTAS-fast the third party gets the labels and the tail's initial
    /// parameters; nobody else gets anything.
    pub fn split(plan: &Plan<'_>, train: &Prepared, test: &Prepared, init: &[ArrayD<f64>]) -> BTreeMap<Role, Inputs> {
        let nfirst = plan.model.first_layer_params();
        let unlabeled = |d: &Prepared| Prepared { labels: Vec::new(), ..d.clone() };
        let mut out = BTreeMap::new();
        match plan.protocol {
            Protocol::Rtas | Protocol::Mpc => {
                out.insert(
                    Role::Owner,
                    Inputs::Owner { train: train.clone(), test: unlabeled(test), params: init.to_vec() },
                );
            }
            Protocol::RtasFast => {
                let params = init[..nfirst].to_vec();
                out.insert(Role::Owner, Inputs::Owner { train: unlabeled(train), test: unlabeled(test), params });
                let holder = Inputs::LabelHolder { labels: train.labels.clone(), tail: init[nfirst..].to_vec() };
                out.insert(Role::ThirdParty, holder);
            }
        }
        out
    }
}

fn images_payload(d: &Prepared) -> Payload {
    let a = ArrayD::from_shape_vec(ndarray::IxDyn(&[d.count, d.x.len() / d.count.max(1)]), d.x.clone());
    Payload::Float(a.unwrap_or_else(|_| ArrayD::zeros(ndarray::IxDyn(&[0]))))
}

fn labels_payload(labels: &[u8]) -> Payload {
    Payload::Float(ndarray::Array1::from_iter(labels.iter().map(|&l| f64::from(l))).into_dyn())
}

impl PartyInputs for Inputs {
    fn describe(&self) -> Vec<(String, Payload)> {
        match self {
            Inputs::Nothing => Vec::new(),
            Inputs::Owner { train, test, params } => {
                let mut v = vec![("train images".to_string(), images_payload(train))];
                if !train.labels.is_empty() {
                    v.push(("train labels".into(), labels_payload(&train.labels)));
                }
                v.push(("test images".into(), images_payload(test)));
                v.extend(
                    params
                        .iter()
                        .enumerate()
                        .map(|(i, a)| (format!("initial parameter {i}"), Payload::Float(a.clone()))),
                );
                v
            }
            Inputs::LabelHolder { labels, tail } => {
                let mut v = vec![("train labels".to_string(), labels_payload(labels))];
                v.extend(
                    tail.iter()
                        .enumerate()
                        .map(|(i, a)| (format!("initial tail parameter {i}"), Payload::Float(a.clone()))),
                );
                v
            }
        }
    }
}

/// What each party returns.
#[derive(Debug, Clone, Default)]
pub struct PartyOut<E> {
    /// P0, P1 under RTAS: this party's share of each training step's outputs.
    pub yhat_shares: Vec<ArrayD<E>>,
    /// P0, P1: the final shares of the shared parameters.
    pub params: Vec<ArrayD<E>>,
    /// Third party: each step's outputs and loss.
    pub yhat_plain: Vec<ArrayD<f64>>,
    /// Third party: loss per step.
    pub losses: Vec<f64>,
    /// Third party: its final tail parameters.
    pub tail: Vec<ArrayD<f64>>,
    /// Whoever receives predictions (the owner under RTAS, the third party under RTAS-fast): one array per
    /// inference batch.
    pub predictions: Vec<ArrayD<f64>>,
}

/// The first layer's forward pass and what its backward pass needs.
struct First<E: crate::protocol::ring::Elem> {
    z: Shared<E>,
    /// The input's opened mask (or the data set's), with the rows this batch used.
    x_mask: Masked<E>,
    rows: Option<Vec<usize>>,
    release: Vec<u64>,
}

fn wc_matrix<E: crate::protocol::ring::Elem>(wc: &Shared<E>) -> Result<Shared<E>> {
    // (O, C, KH, KW) -> (C*KH*KW, O), the kernel matrix of im2col.
    wc.relayout(&[CNN_KERNEL * CNN_KERNEL, CNN_FILTERS], |a| conv::kernel_matrix(a).map(|m| m.into_dyn()))
}

fn first_forward<A: Nonlinear>(
    p: &mut Party<A>,
    plan: &Plan<'_>,
    params: &[Shared<A::E>],
    x: Option<&Shared<A::E>>,
    data_mask: Option<&Masked<A::E>>,
    rows: &[usize],
    label: &Label,
) -> Result<First<A::E>> {
    let b = rows.len();
    match (plan.model, data_mask) {
        (ModelKind::LogReg, None) => {
            let x = x.ok_or_else(|| invalid("no input"))?;
            let (z, mx, mw) = beaver::matmul(p, x, &params[0], true, &label.sub("dense/fwd"))?;
            Ok(First { z: z.add_bias(&params[1], 1)?, release: vec![mx.key, mw.key], x_mask: mx, rows: None })
        }
        (ModelKind::LogReg, Some(all)) => {
            let reuse = Reuse::Rows(rows.to_vec());
            let z = beaver::matmul_reusing(p, all, reuse, &params[0], &label.sub("dense/fwd"))?;
            Ok(First { z: z.add_bias(&params[1], 1)?, x_mask: all.clone(), rows: Some(rows.to_vec()), release: vec![] })
        }
        (ModelKind::Cnn, None) => {
            let x = x.ok_or_else(|| invalid("no input"))?;
            let (z, mx, mw) = beaver::conv2d(p, x, &params[0], CNN_STRIDE, true, &label.sub("conv/fwd"))?;
            Ok(First { z: z.add_bias(&params[1], 1)?, release: vec![mx.key, mw.key], x_mask: mx, rows: None })
        }
        (ModelKind::Cnn, Some(all)) => {
            let reuse =
                Reuse::ImagesIm2col { images: rows.to_vec(), kh: CNN_KERNEL, kw: CNN_KERNEL, stride: CNN_STRIDE };
            let zr = beaver::matmul_reusing(p, all, reuse, &wc_matrix(&params[0])?, &label.sub("conv/fwd"))?;
            let shape = [b, CNN_FILTERS, CNN_SIDE, CNN_SIDE];
            let z = zr.relayout(&shape, |a| {
                let m = a.view().into_dimensionality::<ndarray::Ix2>().map_err(|e| invalid(e.to_string()))?;
                conv::rows_to_nchw(&m.to_owned(), b, CNN_FILTERS, CNN_SIDE, CNN_SIDE)
            })?;
            Ok(First { z: z.add_bias(&params[1], 1)?, x_mask: all.clone(), rows: Some(rows.to_vec()), release: vec![] })
        }
    }
}

/// Gradients of the first layer (unscaled) from the delta at its output.
fn first_backward<A: Nonlinear>(
    p: &mut Party<A>,
    model: ModelKind,
    first: &First<A::E>,
    delta: &Shared<A::E>,
    label: &Label,
) -> Result<Vec<Shared<A::E>>> {
    let gb = delta.sum_to_axis(1)?;
    let gw = match model {
        ModelKind::LogReg => {
            let reuse = match &first.rows {
                Some(rows) => Reuse::RowsTranspose(rows.clone()),
                None => Reuse::Transpose,
            };
            beaver::matmul_reusing(p, &first.x_mask, reuse, delta, &label.sub("dense/grad"))?
        }
        ModelKind::Cnn => {
            let b = delta.shape()[0];
            let drows = delta
                .relayout(&[b * CNN_SIDE * CNN_SIDE, CNN_FILTERS], |a| conv::nchw_to_rows(a).map(|m| m.into_dyn()))?;
            let (kh, kw, stride) = (CNN_KERNEL, CNN_KERNEL, CNN_STRIDE);
            let reuse = match &first.rows {
                Some(rows) => Reuse::ImagesIm2colTranspose { images: rows.clone(), kh, kw, stride },
                None => Reuse::Im2colTranspose { kh, kw, stride },
            };
            let cols = beaver::matmul_reusing(p, &first.x_mask, reuse, &drows, &label.sub("conv/grad"))?;
            // (C*KH*KW, O) -> (O, C, KH, KW).
            cols.t()?.reshape(&[CNN_FILTERS, 1, CNN_KERNEL, CNN_KERNEL])?
        }
    };
    Ok(vec![gw, gb])
}

/// `w -= c * g` on shares.
fn update<A: Nonlinear>(p: &mut Party<A>, params: &mut [Shared<A::E>], grads: &[Shared<A::E>], c: f64) -> Result<()> {
    for (w, g) in params.iter_mut().zip(grads) {
        *w = w.sub(&p.scale(g, c)?)?;
    }
    Ok(())
}

/// RTAS's secure tail for training: returns the outputs' shares and the (unscaled) delta at the first
/// layer's output; updates the tail parameters `tail` (CNN).
#[allow(clippy::too_many_arguments)]
fn rtas_tail_train<A: Nonlinear>(
    p: &mut Party<A>,
    via: Via,
    model: ModelKind,
    tail: &mut [Shared<A::E>],
    z: &Shared<A::E>,
    y: &Shared<A::E>,
    c: f64,
    label: &Label,
) -> Result<[Shared<A::E>; 2]> {
    match model {
        ModelKind::LogReg => {
            let mut act =
                nonlinear::apply(p, via, z, &[Activation::Sigmoid, Activation::SigmoidGrad], &label.sub("act"))?;
            let (yh, sg) = (act.remove(0), act.remove(0));
            let delta = beaver::mul(p, &yh.sub(y)?, &sg, &label.sub("delta"))?;
            Ok([yh, delta])
        }
        ModelKind::Cnn => {
            let b = z.shape()[0];
            let mut r = nonlinear::apply(p, via, z, &[Activation::Relu, Activation::ReluGrad], &label.sub("relu"))?;
            let (a0, r0) = (r.remove(0).reshape(&[b, CNN_FLAT])?, r.remove(0));
            let (z1, ma0, mw1) = beaver::matmul(p, &a0, &tail[0], true, &label.sub("dense1/fwd"))?;
            let mut s = nonlinear::apply(
                p,
                via,
                &z1.add_bias(&tail[1], 1)?,
                &[Activation::Sigmoid, Activation::SigmoidGrad],
                &label.sub("sig1"),
            )?;
            let (a1, s1) = (s.remove(0), s.remove(0));
            let (z2, ma1, mw2) = beaver::matmul(p, &a1, &tail[2], true, &label.sub("dense2/fwd"))?;
            let mut s = nonlinear::apply(
                p,
                via,
                &z2.add_bias(&tail[3], 1)?,
                &[Activation::Sigmoid, Activation::SigmoidGrad],
                &label.sub("sig2"),
            )?;
            let (yh, s2) = (s.remove(0), s.remove(0));
            let d2 = beaver::mul(p, &yh.sub(y)?, &s2, &label.sub("d2"))?;
            let gw2 = beaver::matmul_reusing(p, &ma1, Reuse::Transpose, &d2, &label.sub("dense2/grad"))?;
            let dh1 = beaver::matmul_reusing(p, &mw2, Reuse::Identity, &d2.t()?, &label.sub("dense2/back"))?.t()?;
            let d1 = beaver::mul(p, &dh1, &s1, &label.sub("d1"))?;
            let gw1 = beaver::matmul_reusing(p, &ma0, Reuse::Transpose, &d1, &label.sub("dense1/grad"))?;
            let da0 = beaver::matmul_reusing(p, &mw1, Reuse::Identity, &d1.t()?, &label.sub("dense1/back"))?
                .t()?
                .reshape(&[b, CNN_FILTERS, CNN_SIDE, CNN_SIDE])?;
            let delta = beaver::mul(p, &da0, &r0, &label.sub("d0"))?;
            let grads = [gw1, d1.sum_to_axis(1)?, gw2, d2.sum_to_axis(1)?];
            update(p, tail, &grads, c)?;
            for m in [&ma0, &mw1, &ma1, &mw2] {
                dealer::release(p, m.key);
            }
            Ok([yh, delta])
        }
    }
}

/// RTAS's secure tail for inference: the outputs' shares.
fn rtas_tail_predict<A: Nonlinear>(
    p: &mut Party<A>,
    via: Via,
    model: ModelKind,
    tail: &[Shared<A::E>],
    z: &Shared<A::E>,
    label: &Label,
) -> Result<Shared<A::E>> {
    match model {
        ModelKind::LogReg => Ok(nonlinear::apply(p, via, z, &[Activation::Sigmoid], &label.sub("act"))?.remove(0)),
        ModelKind::Cnn => {
            let b = z.shape()[0];
            let a0 = nonlinear::apply(p, via, z, &[Activation::Relu], &label.sub("relu"))?
                .remove(0)
                .reshape(&[b, CNN_FLAT])?;
            let z1 = beaver::matmul(p, &a0, &tail[0], false, &label.sub("dense1"))?.0.add_bias(&tail[1], 1)?;
            let a1 = nonlinear::apply(p, via, &z1, &[Activation::Sigmoid], &label.sub("sig1"))?.remove(0);
            let z2 = beaver::matmul(p, &a1, &tail[2], false, &label.sub("dense2"))?.0.add_bias(&tail[3], 1)?;
            Ok(nonlinear::apply(p, via, &z2, &[Activation::Sigmoid], &label.sub("sig2"))?.remove(0))
        }
    }
}

/// Trains and then predicts, as whichever role `p` is, from this role's own `input`.
pub fn run<A: Nonlinear>(p: &mut Party<A>, plan: &Plan<'_>, input: Inputs) -> Result<PartyOut<A::E>> {
    let model = plan.model;
    let shapes = model.param_shapes();
    let nfirst = model.first_layer_params();
    let n_shared = if plan.protocol.shares_everything() { shapes.len() } else { nfirst };
    let via = plan.protocol.via();
    let mut out = PartyOut::default();
    p.set_helper_mode(plan.helper);
    let (own_data, mut tail_plain, labels) = match input {
        Inputs::Owner { train, test, params } => (Some((train, test, params)), Vec::new(), None),
        Inputs::LabelHolder { labels, tail } => (None, tail, Some(labels)),
        Inputs::Nothing => (None, Vec::new(), None),
    };
    let labels_of = |rows: &[usize]| -> Result<Option<Vec<u8>>> {
        let from = match (&own_data, &labels) {
            (Some((train, _, _)), _) if !train.labels.is_empty() => &train.labels,
            (_, Some(l)) => l,
            _ => return Ok(None),
        };
        rows.iter()
            .map(|&r| from.get(r).copied().ok_or_else(|| invalid(format!("row {r} has no label"))))
            .collect::<Result<Vec<u8>>>()
            .map(Some)
    };

    // Parameters: the owner shares them; under RTAS-fast the third party keeps the tail in plaintext.
    p.stage(Stage::Params);
    let mut params = Vec::new();
    for (i, (name, shape)) in shapes.iter().enumerate().take(n_shared) {
        let mine = own_data.as_ref().map(|(_, _, init)| &init[i]);
        params.push(io::share_from(p, Role::Owner, mine, shape, &Stage::Params.at(*name))?);
    }

    // SecureML's mask reuse: the whole training set, shared and opened masked once.
    let data_mask = if plan.reuse_masks {
        p.stage(Stage::Data);
        let x_all = own_data.as_ref().map(|(train, _, _)| train.batch(model, &(0..train.count).collect::<Vec<_>>()));
        let shape = model.input_shape(plan.train_rows);
        let xs = io::share_from(p, Role::Owner, x_all.as_ref(), &shape, &Stage::Data.at(""))?;
        Some(beaver::open_masked(p, &xs, &Stage::Data.at(""))?)
    } else {
        None
    };

    for (i, rows) in plan.schedule.iter().enumerate() {
        let stage = Stage::Train(i as u32);
        let label = stage.at("");
        p.stage(stage);
        let b = rows.len();
        let c = model.update_factor(plan.lr, b);
        let x = match data_mask {
            Some(_) => None,
            None => {
                let xv = own_data.as_ref().map(|(train, _, _)| train.batch(model, rows));
                Some(io::share_from(p, Role::Owner, xv.as_ref(), &model.input_shape(b), &label.sub("x"))?)
            }
        };
        let first = first_forward(p, plan, &params, x.as_ref(), data_mask.as_ref(), rows, &label)?;
        let delta = match plan.protocol {
            Protocol::Rtas | Protocol::Mpc => {
                let yv = labels_of(rows)?.map(|l| model.targets(&l));
                let y = io::share_from(p, Role::Owner, yv.as_ref(), &[b, model.outputs()], &label.sub("y"))?;
                let [yh, delta] = rtas_tail_train(p, via, model, &mut params[nfirst..], &first.z, &y, c, &label)?;
                if let Some(s) = yh.share() {
                    out.yhat_shares.push(s.clone());
                }
                delta
            }
            Protocol::RtasFast => {
                let seen = io::reveal_to(p, &first.z, Role::ThirdParty, &label)?;
                let delta = match seen {
                    Some(z) => {
                        let l = labels_of(rows)?.ok_or_else(|| invalid("the third party holds no labels"))?;
                        let t = plain::tail_train(model, &mut tail_plain, &z, &model.targets(&l), c)?;
                        out.losses.push(t.loss);
                        out.yhat_plain.push(t.yhat);
                        Some(t.delta)
                    }
                    None => None,
                };
                io::share_from(p, Role::ThirdParty, delta.as_ref(), first.z.shape(), &label.sub("delta"))?
            }
        };
        let grads = first_backward(p, model, &first, &delta, &label)?;
        update(p, &mut params[..nfirst], &grads, c)?;
        for &k in &first.release {
            dealer::release(p, k);
        }
        if let (Role::P0, Some(pb)) = (p.role, plan.progress) {
            pb.inc(1);
        }
    }

    for (j, rows) in plan.inference.iter().enumerate() {
        let stage = Stage::Infer(j as u32);
        let label = stage.at("");
        p.stage(stage);
        let b = rows.len();
        let xv = own_data.as_ref().map(|(_, test, _)| test.batch(model, rows));
        let x = io::share_from(p, Role::Owner, xv.as_ref(), &model.input_shape(b), &label.sub("x"))?;
        let z = match model {
            ModelKind::LogReg => beaver::matmul(p, &x, &params[0], false, &label.sub("dense"))?.0,
            ModelKind::Cnn => beaver::conv2d(p, &x, &params[0], CNN_STRIDE, false, &label.sub("conv"))?.0,
        }
        .add_bias(&params[1], 1)?;
        match plan.protocol {
            Protocol::Rtas | Protocol::Mpc => {
                let yh = rtas_tail_predict(p, via, model, &params[nfirst..], &z, &label)?;
                if let Some(v) = io::reveal_to(p, &yh, Role::Owner, &label.sub("out"))? {
                    out.predictions.push(v);
                }
            }
            Protocol::RtasFast => {
                if let Some(zv) = io::reveal_to(p, &z, Role::ThirdParty, &label)? {
                    out.predictions.push(plain::tail_predict(model, &tail_plain, &zv)?);
                }
            }
        }
    }
    p.stage(Stage::Done);
    out.params = params.iter().filter_map(|s| s.share().cloned()).collect();
    out.tail = tail_plain;
    Ok(out)
}

/// Reconstructs P0's and P1's shares of a list of arrays.
pub fn reconstruct<A: crate::protocol::ring::Arith>(
    arith: &A,
    a: &[ArrayD<A::E>],
    b: &[ArrayD<A::E>],
) -> Vec<ArrayD<f64>> {
    a.iter()
        .zip(b)
        .map(|(x, y)| {
            let mut s = x.clone();
            s.zip_mut_with(y, |u, &v| *u = crate::protocol::ring::Elem::add(*u, v));
            arith.decode_all(&s)
        })
        .collect()
}
