//! Any model under RTAS, RTAS-fast or the FSS baseline `mpc`, written once for every role (SPMD): who
//! shares what, the training and inference schedule, what is revealed to whom. The layers themselves run
//! through the one walker (`super::walk`) on shares (`super::backend::shares`).
//!
//! - RTAS: everything secret-shared. Linear layers by Beaver triples (the input's opened mask is kept and
//!   reused for the weight gradient, and the weight's for the backward product), activations and their
//!   derivatives by the permutation helper, `(y_hat - y) * f'(z)` by a Beaver product. Labels are shared
//!   by the data owner. Under softmax-cross-entropy the helper computes the softmax of each row of the
//!   logits (rows permuted, values permuted within a row) and the delta is `softmax(z) - y`.
//! - RTAS-fast: only the first linear layer (dense or conv, without its activation) is secret-shared. Its
//!   output is revealed to the third party, who holds the labels, runs the rest of the model in plaintext
//!   ([`super::graph::Net::tail_train`]), and returns fresh shares of the delta at that output; P0 and P1 compute
//!   the first layer's gradient securely (reusing the input's opened mask) and update it.
//! - `reuse_masks` (SecureML): the whole training set is shared and opened masked once, before training;
//!   each step's products use rows (images) of that mask with fresh masks for the weights only.

use super::backend::shares::Shares;
use super::backend::{Backend, Input};
use super::graph::Net;
use super::spec::{Layer, LossKind};
use super::walk;
use super::{ModelKind, Prepared};
use crate::error::{Result, invalid};
use crate::net::{PartyInputs, Payload, Role, Stage};
use crate::protocol::beaver;
use crate::protocol::elementwise::{self, HelperMode};
use crate::protocol::io;
use crate::protocol::nonlinear::{Nonlinear, Via};
use crate::protocol::party::FssGate;
use crate::protocol::party::Party;
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
    /// The FSS gate of the cryptographic baseline (`mpc`).
    pub fss_gate: FssGate,
    /// The stated signed width of the values its gates compare (`None`: the full `64 - f` bits).
    pub value_bits: Option<u32>,
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

/// Whether `net` can run under `protocol` (training, or only evaluating its weights), and if not, why (one
/// line).
pub fn check(net: &Net, protocol: Protocol, training: bool) -> Result<()> {
    let first = &net.layers()[0];
    if protocol == Protocol::RtasFast && !matches!(first.layer, Layer::Dense { .. } | Layer::Conv2d { .. }) {
        return Err(invalid(format!(
            "rtas-fast shares the first layer and reveals its output; the model's first layer is {} \
             (it must be dense or conv2d)",
            first.layer.kind()
        )));
    }
    if training && protocol == Protocol::Mpc && net.spec.loss.kind == LossKind::SoftmaxCrossEntropy {
        return Err(invalid(
            "mpc: softmax-cross-entropy needs exponentials and a division, which rtas's FSS gates do not compute; \
             train with loss mse, or under rtas (the helper's row softmax) or rtas-fast; evaluating the weights \
             (--max-steps 0) runs",
        ));
    }
    Ok(())
}

/// Trains and then predicts, as whichever role `p` is, from this role's own `input`.
pub fn run<A: Nonlinear>(p: &mut Party<A>, plan: &Plan<'_>, input: Inputs) -> Result<PartyOut<A::E>> {
    let model = plan.model;
    let net = model.net();
    check(net, plan.protocol, !plan.schedule.is_empty())?;
    let layers = net.layers().len();
    let shapes = model.param_shapes();
    let nfirst = model.first_layer_params();
    // Layers computed on shares: all of them, or RTAS-fast's first.
    let shared_to = if plan.protocol.shares_everything() { layers } else { 1 };
    let n_shared = net.params_before(shared_to);
    let mut out = PartyOut::default();
    p.set_helper_mode(plan.helper);
    p.set_fss_gate(plan.fss_gate);
    p.set_value_bits(plan.value_bits);
    let mut be = Shares::new(p, plan.protocol.via());
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
    be.p.stage(Stage::Params);
    let mut params = Vec::new();
    for (i, (name, shape)) in shapes.iter().enumerate().take(n_shared) {
        let mine = own_data.as_ref().map(|(_, _, init)| &init[i]);
        params.push(io::share_from(be.p, Role::Owner, mine, shape, &Stage::Params.at(name.as_str()))?);
    }

    // SecureML's mask reuse: the whole training set, shared and opened masked once.
    let data_mask = if plan.reuse_masks {
        be.p.stage(Stage::Data);
        let x_all = own_data.as_ref().map(|(train, _, _)| train.batch(model, &(0..train.count).collect::<Vec<_>>()));
        let shape = model.input_shape(plan.train_rows);
        let xs = io::share_from(be.p, Role::Owner, x_all.as_ref(), &shape, &Stage::Data.at(""))?;
        Some(beaver::open_masked(be.p, &xs, &Stage::Data.at(""))?)
    } else {
        None
    };

    for (i, rows) in plan.schedule.iter().enumerate() {
        let stage = Stage::Train(i as u32);
        let label = stage.at("");
        be.p.stage(stage);
        let b = rows.len();
        let c = model.update_factor(plan.lr, b);
        let x = match data_mask {
            Some(_) => None,
            None => {
                let xv = own_data.as_ref().map(|(train, _, _)| train.batch(model, rows));
                Some(io::share_from(be.p, Role::Owner, xv.as_ref(), &model.input_shape(b), &label.sub("x"))?)
            }
        };
        let x = match (x, &data_mask) {
            (Some(x), _) => Input::Tensor(x),
            (None, Some(m)) => Input::Opened(m, rows.as_slice()),
            (None, None) => return Err(invalid("a batch has neither an input nor a reused data mask")),
        };
        let (z1, mut saved) = walk::forward(&mut be, net.layers(), (0, 1), &params, x, true, &label)?;
        let (z, delta) = match plan.protocol {
            Protocol::Rtas | Protocol::Mpc => {
                // The labels are shared after the first layer, where the paper's code shares them.
                let yv = labels_of(rows)?.map(|l| model.targets(&l)).transpose()?;
                let y = io::share_from(be.p, Role::Owner, yv.as_ref(), &[b, model.outputs()], &label.sub("y"))?;
                let rest_layers = (1, layers);
                let (z, rest) = walk::forward(
                    &mut be,
                    net.layers(),
                    rest_layers,
                    &params[nfirst..],
                    Input::Tensor(z1),
                    true,
                    &label,
                )?;
                saved.extend(rest);
                // Cross-entropy: the delta at the logits is softmax(z) - y, the softmax by the helper on
                // rows permuted (and values permuted within each row).
                let z = match net.spec.loss.kind {
                    LossKind::SoftmaxCrossEntropy => elementwise::softmax_rows(be.p, &z, &label.sub("softmax"))?,
                    LossKind::Mse => z,
                };
                if let Some(s) = z.share() {
                    out.yhat_shares.push(s.clone());
                }
                let d = z.sub(&y)?;
                (z, d)
            }
            Protocol::RtasFast => {
                let z = z1;
                let seen = io::reveal_to(be.p, &z, Role::ThirdParty, &label)?;
                let delta = match seen {
                    Some(_) if A::SHAPE_ONLY => {
                        // The tail's forward pass and its two backward products, in plaintext.
                        let macs = 3.0 * b as f64 * net.macs_per_example(1);
                        crate::protocol::work::charge(crate::protocol::work::Op::F64Mac, macs);
                        None
                    }
                    Some(zv) => {
                        let l = labels_of(rows)?.ok_or_else(|| invalid("the third party holds no labels"))?;
                        let t = net.tail_train(1, &mut tail_plain, &zv, &model.targets(&l)?, c)?;
                        out.losses.push(t.loss);
                        out.yhat_plain.push(t.yhat);
                        Some(t.delta)
                    }
                    None => None,
                };
                let d = io::share_from(be.p, Role::ThirdParty, delta.as_ref(), z.shape(), &label.sub("delta"))?;
                (z, d)
            }
        };
        drop(z);
        let (grads, _) = walk::backward(&mut be, net.layers(), (0, shared_to), saved, delta, false, &label)?;
        // The later layers first, as the paper's code updates them (the order changes no value).
        for i in (nfirst..grads.len()).chain(0..nfirst) {
            be.update(&mut params[i], &grads[i], c)?;
        }
        be.end_step();
        if let (Role::P0, Some(pb)) = (be.p.role, plan.progress) {
            crate::cancel::tick(pb, 1)?;
        }
    }

    for (j, rows) in plan.inference.iter().enumerate() {
        let stage = Stage::Infer(j as u32);
        let label = stage.at("");
        be.p.stage(stage);
        let b = rows.len();
        let xv = own_data.as_ref().map(|(_, test, _)| test.batch(model, rows));
        let x = io::share_from(be.p, Role::Owner, xv.as_ref(), &model.input_shape(b), &label.sub("x"))?;
        let (z, _) = walk::forward(&mut be, net.layers(), (0, shared_to), &params, Input::Tensor(x), false, &label)?;
        match plan.protocol {
            Protocol::Rtas | Protocol::Mpc => {
                if let Some(v) = io::reveal_to(be.p, &z, Role::Owner, &label.sub("out"))?.filter(|_| !A::SHAPE_ONLY) {
                    out.predictions.push(v);
                }
            }
            Protocol::RtasFast => match io::reveal_to(be.p, &z, Role::ThirdParty, &label)? {
                Some(_) if A::SHAPE_ONLY => {
                    let macs = b as f64 * net.macs_per_example(1);
                    crate::protocol::work::charge(crate::protocol::work::Op::F64Mac, macs);
                }
                Some(zv) => out.predictions.push(net.tail_predict(1, &tail_plain, &zv)?),
                None => {}
            },
        }
    }
    be.p.stage(Stage::Done);
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
