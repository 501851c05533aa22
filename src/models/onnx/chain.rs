//! The walk over an ONNX graph's nodes: constants folded ([`super::fold`]), the computing nodes converted one
//! by one ([`super::ops`]) into a chain of rtas layers, each node's fate noted.

use super::fold::{self, Const, V};
use super::ops::{self, At, Built, Made};
use super::proto::*;
use super::{Imported, NodeNote};
use crate::error::{Result, invalid};
use crate::models::spec::{Layer, LayerDef, Loss, LossKind, Spec};
use ndarray::ArrayD;
use std::collections::HashMap;

/// The per-example shape after `layer` on `shape`.
fn after(layer: &Layer, shape: &[usize]) -> Result<Vec<usize>> {
    let s = Spec {
        input: shape.to_vec(),
        layers: vec![LayerDef::from(layer.clone())],
        loss: Loss { kind: LossKind::Mse, target: "one-hot".into() },
    };
    Ok(s.plan()?.remove(0).output)
}

const SUPPORTED: &str = "rtas imports Gemm, MatMul, Conv, BatchNormalization (folded), Relu, Sigmoid, AveragePool, \
                         GlobalAveragePool, ReduceMean over H and W, MaxPool, Flatten, Reshape, Pad (into a conv or \
                         average pool), Identity, Dropout, a final Softmax or LogSoftmax, and shape arithmetic on \
                         constants";

/// What would make an unsupported operator run, where there is a near equivalent.
fn hint(op: &str) -> &'static str {
    match op {
        "Tanh" => "; tanh(x) = 2 sigmoid(2x) - 1: use nn.Sigmoid (or nn.ReLU) in the model",
        "LeakyRelu" | "Elu" | "Selu" | "Gelu" | "Celu" | "Mish" | "HardSwish" | "Softplus" => {
            "; use nn.ReLU in the model"
        }
        "HardSigmoid" => "; use nn.Sigmoid in the model",
        "ConvTranspose" => "; rtas runs forward convolutions only",
        "LpPool" | "GlobalMaxPool" => "; use nn.MaxPool2d or nn.AvgPool2d",
        "Add" | "Mul" | "Sub" | "Div" => {
            "; rtas folds arithmetic on weights, and a bias Add right after a dense or conv layer"
        }
        _ => "",
    }
}

/// The shape of a computed value as a known vector: the batch, then the example's dimensions, cut to
/// `Shape`'s `start..end`.
fn shape_of(n: &Node, shape: &[usize]) -> Const {
    let mut v = vec![V::Batch];
    v.extend(shape.iter().map(|&d| V::N(d as f64)));
    let r = v.len() as i64;
    let attr = |name: &str| n.attrs.iter().find(|a| a.name == name).and_then(|a| a.i);
    let norm = |a: i64| (if a < 0 { a + r } else { a }).clamp(0, r) as usize;
    let (s, e) = (norm(attr("start").unwrap_or(0)), norm(attr("end").unwrap_or(r)));
    let v: Vec<V> = if s < e { v[s..e].to_vec() } else { Vec::new() };
    Const { dims: vec![v.len()], v, int: true }
}

pub(super) fn convert(
    nodes: &[Node],
    inits: &HashMap<String, Tensor>,
    inputs: &[(String, Vec<Option<i64>>)],
    outputs: &[String],
) -> Result<Imported> {
    let (input, dims) = inputs
        .iter()
        .find(|(n, _)| !inits.contains_key(n))
        .ok_or_else(|| bad("the graph has no input besides its weights"))?;
    let shape = ops::input_shape(input, dims)?;
    let mut known: HashMap<String, Const> = inits.iter().map(|(k, t)| (k.clone(), Const::of(t))).collect();
    // Computed values: their per-example shapes.
    let mut computed: HashMap<String, Vec<usize>> = HashMap::from([(input.clone(), shape.clone())]);
    let (mut head, mut cur) = (input.clone(), shape.clone());
    let mut built: Vec<Built> = Vec::new();
    let mut notes: Vec<NodeNote> = Vec::new();
    let mut pad: Option<(usize, usize)> = None;
    let mut softmax: Option<usize> = None;
    let mut flat_input = false;
    for (k, n) in nodes.iter().enumerate() {
        let at = |msg: String| invalid(format!("node {} '{}' ({}): {msg}", k + 1, n.name, n.op));
        let note = |became: String| NodeNote { name: n.name.clone(), op: n.op.clone(), became };
        if let Some(missing) =
            n.inputs.iter().find(|i| !i.is_empty() && !known.contains_key(*i) && !computed.contains_key(*i))
        {
            return Err(at(format!("input '{missing}' is neither a weight nor computed by an earlier node")));
        }
        let data: Vec<&String> = n.inputs.iter().filter(|i| computed.contains_key(*i)).collect();
        let out = n.outputs.first().cloned().ok_or_else(|| at("no output".into()))?;
        if let ("Shape", [value]) = (n.op.as_str(), &data[..]) {
            known.insert(out, shape_of(n, &computed[*value]));
            notes.push(note("constant (the shape of a computed value)".into()));
            continue;
        }
        if data.is_empty() {
            let args: Vec<Option<&Const>> =
                n.inputs.iter().map(|i| if i.is_empty() { None } else { known.get(i) }).collect();
            let c = fold::eval(n, &args).map_err(|e| at(format!("cannot be evaluated at import: {e}")))?;
            for o in &n.outputs {
                known.insert(o.clone(), c.clone());
            }
            notes.push(note("constant".into()));
            continue;
        }
        if data.len() > 1 {
            return Err(at(format!(
                "combines two computed values ({}): rtas imports chains of layers (no residual or branching graphs)",
                data.iter().map(|s| format!("'{s}'")).collect::<Vec<_>>().join(", ")
            )));
        }
        if *data[0] != head || n.inputs.first() != Some(&head) {
            return Err(at(format!(
                "takes '{}', not the chain's current value '{head}': rtas imports chains of layers (no branches)",
                data[0]
            )));
        }
        if let Some(j) = softmax {
            return Err(at(format!(
                "comes after the {} of node {}: rtas takes a softmax only as the model's last node",
                nodes[j].op,
                j + 1
            )));
        }
        let pending_pad = pad.take();
        if let Some((j, _)) = pending_pad.filter(|_| !matches!(n.op.as_str(), "Conv" | "AveragePool")) {
            return Err(invalid(format!(
                "node {} '{}' (Pad): a Pad folds into the Conv or AveragePool after it, and node {} is {}",
                j + 1,
                nodes[j].name,
                k + 1,
                n.op
            )));
        }
        let extra_pad = pending_pad.map_or(0, |(_, p)| p);
        let a = At { k, n, known: &known, head: &head, cur: &cur };
        // The last layer with parameters, when it computed the current value (a bias or batch norm folds in).
        let last = built.last_mut().filter(|b| !b.params.is_empty());
        let made = match n.op.as_str() {
            "Gemm" | "MatMul" => ops::dense(&a)?,
            "Add" if last.is_some() => ops::bias_add(&a, last.ok_or_else(|| at("no layer".into()))?)?,
            "BatchNormalization" => ops::batch_norm(&a, last)?,
            "Conv" => ops::conv(&a, extra_pad)?,
            "Pad" => {
                pad = Some((k, ops::pad(&a)?));
                Made::Dropped("folded into the next layer's padding")
            }
            "Relu" => Made::New(vec![Built { layer: Layer::Relu, params: vec![] }]),
            "Sigmoid" => Made::New(vec![Built { layer: Layer::Sigmoid, params: vec![] }]),
            "AveragePool" | "MaxPool" => ops::pool(&a, extra_pad)?,
            "GlobalAveragePool" | "ReduceMean" => ops::global_pool(&a)?,
            "Flatten" => ops::flatten(&a)?,
            "Reshape" => ops::reshape(&a)?,
            "Identity" => Made::Dropped("identity"),
            "Dropout" => Made::Dropped("dropout (inference)"),
            "Softmax" | "LogSoftmax" => {
                softmax = Some(k);
                ops::softmax(&a)?
            }
            op => return Err(at(format!("operator '{op}' is not supported{} ({SUPPORTED})", hint(op)))),
        };
        match made {
            // A flatten before any layer reshapes data stored example after example: the input is read as a
            // vector.
            Made::New(layers) if built.is_empty() && layers.first().is_some_and(|b| b.layer == Layer::Flatten) => {
                cur = vec![cur.iter().product()];
                flat_input = true;
                notes.push(note("dropped: a flatten of the input (the input is read as a vector)".into()));
            }
            Made::New(layers) => {
                for b in layers {
                    cur = after(&b.layer, &cur).map_err(|e| at(e.detail()))?;
                    built.push(b);
                }
                notes.push(note(format!("layer {}", built.len())));
            }
            Made::Into => notes.push(note(format!("folded into layer {}", built.len()))),
            Made::Dropped(why) => notes.push(note(format!("dropped: {why}"))),
        }
        computed.insert(out.clone(), cur.clone());
        head = out;
    }
    if let Some((j, _)) = pad {
        return Err(invalid(format!("node {} '{}' (Pad): the graph ends after it", j + 1, nodes[j].name)));
    }
    if !outputs.is_empty() && !outputs.contains(&head) {
        return Err(invalid(format!(
            "the graph's output {} is not the end of the chain '{head}' (rtas imports one chain to one output)",
            outputs.iter().map(|o| format!("'{o}'")).collect::<Vec<_>>().join(", ")
        )));
    }
    let kind = if softmax.is_some() { LossKind::SoftmaxCrossEntropy } else { LossKind::Mse };
    let (layers, params): (Vec<LayerDef>, Vec<Vec<ArrayD<f64>>>) =
        built.into_iter().map(|b| (LayerDef::from(b.layer), b.params)).unzip();
    let input = if flat_input { vec![shape.iter().product()] } else { shape };
    let mut spec = Spec { input, layers, loss: Loss { kind, target: "one-hot".into() } };
    if spec.outputs()? == 1 && kind == LossKind::Mse {
        spec.loss.target = "value".into();
    }
    let params: Vec<ArrayD<f64>> = params.into_iter().flatten().collect();
    if params.iter().any(|p| p.iter().any(|v| !v.is_finite())) {
        return Err(invalid("folding (a batch norm, Gemm's alpha or beta) made a weight that is not finite"));
    }
    let want = spec.param_shapes()?;
    for (i, (w, p)) in want.iter().zip(&params).enumerate() {
        if w.as_slice() != p.shape() {
            return Err(invalid(format!(
                "parameter {i}: the weights have shape {:?}, the layer needs {w:?}",
                p.shape()
            )));
        }
    }
    Ok(Imported { spec, params, nodes: notes })
}
