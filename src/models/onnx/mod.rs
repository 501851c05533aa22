//! ONNX import: the layer structure and the weights of a model exported by PyTorch or Keras, for the
//! operators rtas runs.
//!
//! An ONNX file is a protocol buffer (`ModelProto`); this module reads the few messages a model needs with
//! a small wire-format reader of its own (every length checked against the bytes that remain, so a lying
//! length cannot make it allocate or read past the end). The graph must be a chain (each node takes the
//! previous node's output) from one input `[N, features]` or `[N, C, H, W]`:
//!
//! | ONNX | rtas layer |
//! | --- | --- |
//! | `Gemm` (`transA = 0`, `alpha = beta = 1`, `transB` 0 or 1), weights and bias as initializers | dense |
//! | `MatMul` by an initializer, optionally followed by `Add` of an initializer bias | dense |
//! | `Conv` (square or rectangular kernel, equal strides, equal pads, dilation 1, group 1) | conv2d |
//! | `Relu`, `Sigmoid` | relu, sigmoid |
//! | `AveragePool` (square window, equal strides, no padding) | avgpool |
//! | `Flatten` (`axis = 1`), `Reshape` to `[N, -1]` | flatten |
//!
//! Any other operator is refused with its name and node. ONNX carries no loss: an imported model trains on
//! mean squared error against one-hot targets (several outputs) or the label itself (one output). The
//! weights become the model's initial parameters.

mod proto;

use proto::*;

use super::spec::{Layer, LayerDef, Loss, LossKind, Size, Spec};
use crate::error::{Error, Result, invalid};
use ndarray::{ArrayD, IxDyn};
use std::collections::HashMap;
use std::path::Path;

/// A model read from an ONNX file: the layers (as a model file would say them) and their weights.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The model.
    pub spec: Spec,
    /// Weights and biases in rtas's layout (dense `[in, out]`, conv `[O, C, KH, KW]`).
    pub params: Vec<ArrayD<f64>>,
}

/// Reads an ONNX file.
pub fn read(path: &Path) -> Result<Imported> {
    let bytes = std::fs::read(path).map_err(|e| Error::Io { path: path.to_path_buf(), source: e })?;
    parse(&bytes).map_err(|e| invalid(format!("{}: {}", path.display(), e.detail())))
}

/// Imports an ONNX model from its bytes.
pub fn parse(bytes: &[u8]) -> Result<Imported> {
    let mut graph = None;
    let mut r = Reader::new(bytes);
    while let Some((num, v)) = r.field()? {
        if let (7, Value::Bytes(g)) = (num, v) {
            graph = Some(g);
        }
    }
    let graph = graph.ok_or_else(|| bad("no graph (is this an ONNX model file?)"))?;
    let (mut nodes, mut inits, mut inputs) = (Vec::new(), HashMap::new(), Vec::new());
    let mut r = Reader::new(graph);
    while let Some((num, v)) = r.field()? {
        match (num, v) {
            (1, Value::Bytes(b)) => nodes.push(node(b)?),
            (5, Value::Bytes(b)) => {
                let t = tensor(b)?;
                inits.insert(t.name.clone(), t);
            }
            (11, Value::Bytes(b)) => inputs.push(value_info(b)?),
            _ => {}
        }
    }
    convert(&nodes, &inits, &inputs)
}

fn ints(n: &Node, name: &str) -> Option<Vec<i64>> {
    n.attrs.iter().find(|a| a.name == name).map(|a| a.ints.clone())
}

fn int(n: &Node, name: &str) -> Option<i64> {
    n.attrs.iter().find(|a| a.name == name).and_then(|a| a.i)
}

fn float(n: &Node, name: &str) -> Option<f32> {
    n.attrs.iter().find(|a| a.name == name).and_then(|a| a.f)
}

fn arr(shape: &[usize], v: Vec<f64>) -> Result<ArrayD<f64>> {
    ArrayD::from_shape_vec(IxDyn(shape), v).map_err(|e| invalid(e.to_string()))
}

/// `[r, c]` transposed.
fn transpose(v: &[f64], r: usize, c: usize) -> Vec<f64> {
    (0..c * r).map(|k| v[(k % r) * c + k / r]).collect()
}

fn convert(nodes: &[Node], inits: &HashMap<String, Tensor>, inputs: &[(String, Vec<Option<i64>>)]) -> Result<Imported> {
    let (input, dims) = inputs
        .iter()
        .find(|(n, _)| !inits.contains_key(n))
        .ok_or_else(|| bad("the graph has no input besides its weights"))?;
    let shape: Vec<usize> = dims
        .iter()
        .skip(1)
        .map(|d| match d {
            Some(v) if *v > 0 => Ok(*v as usize),
            _ => Err(invalid(format!(
                "input '{input}' has shape {dims:?}: rtas needs every dimension but the batch fixed"
            ))),
        })
        .collect::<Result<_>>()?;
    let mut layers = Vec::new();
    let mut params = Vec::new();
    let mut current = input.clone();
    let mut k = 0;
    while k < nodes.len() {
        let n = &nodes[k];
        let at = |msg: String| invalid(format!("node {} '{}' ({}): {msg}", k + 1, n.name, n.op));
        if n.inputs.first() != Some(&current) {
            return Err(at(format!(
                "rtas imports chains of layers; this node does not take the previous output '{current}'"
            )));
        }
        let weight = |i: usize| -> Result<&Tensor> {
            let name = n.inputs.get(i).ok_or_else(|| at(format!("input {} is missing", i + 1)))?;
            inits.get(name).ok_or_else(|| at(format!("input '{name}' is not a stored weight")))
        };
        let mut out = n.outputs.first().cloned().ok_or_else(|| at("no output".into()))?;
        match n.op.as_str() {
            "Gemm" | "MatMul" => {
                let b = weight(1)?;
                let [r, c] = b.dims[..] else {
                    return Err(at(format!("weight of shape {:?}; a dense layer's is a matrix", b.dims)));
                };
                let trans_b = n.op == "Gemm" && int(n, "transB").unwrap_or(0) == 1;
                if int(n, "transA").unwrap_or(0) != 0
                    || float(n, "alpha").unwrap_or(1.0) != 1.0
                    || float(n, "beta").unwrap_or(1.0) != 1.0
                {
                    return Err(at("only transA = 0, alpha = 1, beta = 1 are supported".into()));
                }
                let (inp, units, w) = if trans_b { (c, r, transpose(&b.data, r, c)) } else { (r, c, b.data.clone()) };
                let mut bias = vec![0.0; units];
                let mut bias_from = |t: &Tensor, k: usize| -> Result<()> {
                    if t.data.len() != units {
                        return Err(invalid(format!(
                            "node {} '{}': bias of shape {:?} for {units} outputs",
                            k + 1,
                            nodes[k].name,
                            t.dims
                        )));
                    }
                    bias.copy_from_slice(&t.data);
                    Ok(())
                };
                if n.op == "Gemm" && n.inputs.len() > 2 {
                    bias_from(weight(2)?, k)?;
                } else if let Some(next) = nodes.get(k + 1).filter(|m| m.op == "Add" && m.inputs.first() == Some(&out))
                {
                    // MatMul + Add: the Add is the bias.
                    let t = next.inputs.get(1).and_then(|b| inits.get(b)).ok_or_else(|| {
                        invalid(format!("node {} '{}' (Add): only a stored bias can be added", k + 2, next.name))
                    })?;
                    bias_from(t, k + 1)?;
                    out = next.outputs.first().cloned().unwrap_or_default();
                    k += 1;
                }
                layers.push(Layer::Dense { units });
                params.push(arr(&[inp, units], w)?);
                params.push(arr(&[units], bias)?);
            }
            "Conv" => {
                let w = weight(1)?;
                let [o, c, kh, kw] = w.dims[..] else {
                    return Err(at(format!("weight of shape {:?}; a convolution's is [O, C, KH, KW]", w.dims)));
                };
                if int(n, "group").unwrap_or(1) != 1 {
                    return Err(at("grouped convolutions are not supported".into()));
                }
                if ints(n, "dilations").is_some_and(|d| d.iter().any(|&x| x != 1)) {
                    return Err(at("dilated convolutions are not supported".into()));
                }
                if n.attrs.iter().any(|a| a.name == "auto_pad" && a.s.as_deref().is_some_and(|s| s != "NOTSET")) {
                    return Err(at("auto_pad is not supported; export with explicit pads".into()));
                }
                let strides = ints(n, "strides").unwrap_or_else(|| vec![1, 1]);
                let pads = ints(n, "pads").unwrap_or_else(|| vec![0; 4]);
                if strides.len() != 2 || strides[0] != strides[1] || strides[0] < 1 {
                    return Err(at(format!("strides {strides:?}: rtas needs one stride for both directions")));
                }
                if pads.len() != 4 || pads.iter().any(|&p| p != pads[0]) || pads[0] < 0 {
                    return Err(at(format!("pads {pads:?}: rtas needs the same padding on every side")));
                }
                if ints(n, "kernel_shape").is_some_and(|ks| ks != [kh as i64, kw as i64]) {
                    return Err(at("kernel_shape disagrees with the weight".into()));
                }
                let bias = match n.inputs.len() {
                    0..=2 => vec![0.0; o],
                    _ => {
                        let b = weight(2)?;
                        if b.data.len() != o {
                            return Err(at(format!("bias of shape {:?} for {o} filters", b.dims)));
                        }
                        b.data.clone()
                    }
                };
                layers.push(Layer::Conv2d {
                    filters: o,
                    kernel: if kh == kw { Size::One(kh) } else { Size::Two([kh, kw]) },
                    stride: strides[0] as usize,
                    padding: pads[0] as usize,
                });
                params.push(arr(&[o, c, kh, kw], w.data.clone())?);
                params.push(arr(&[o], bias)?);
            }
            "Relu" => layers.push(Layer::Relu),
            "Sigmoid" => layers.push(Layer::Sigmoid),
            "AveragePool" => {
                let ks = ints(n, "kernel_shape").unwrap_or_default();
                let strides = ints(n, "strides").unwrap_or_else(|| vec![1, 1]);
                if ks.len() != 2 || ks[0] != ks[1] || ks[0] < 1 {
                    return Err(at(format!("kernel_shape {ks:?}: rtas pools square windows")));
                }
                if strides.len() != 2 || strides[0] != strides[1] || strides[0] < 1 {
                    return Err(at(format!("strides {strides:?}: rtas needs one stride for both directions")));
                }
                if ints(n, "pads").is_some_and(|p| p.iter().any(|&x| x != 0)) || int(n, "ceil_mode").unwrap_or(0) != 0 {
                    return Err(at("padded or ceil_mode pooling is not supported".into()));
                }
                layers.push(Layer::Avgpool { size: ks[0] as usize, stride: Some(strides[0] as usize) });
            }
            "Flatten" => {
                if int(n, "axis").unwrap_or(1) != 1 {
                    return Err(at("only axis = 1 (keep the batch) is supported".into()));
                }
                layers.push(Layer::Flatten);
            }
            "Reshape" => {
                let target = weight(1)?;
                if !(target.ints.len() == 2 && (-1..=1).contains(&target.ints[0]) && target.ints[1] == -1
                    || target.ints.len() == 2 && target.ints[0] == -1 && target.ints[1] > 0)
                {
                    return Err(at(format!("reshape to {:?}: only a flatten to [N, -1] is supported", target.ints)));
                }
                layers.push(Layer::Flatten);
            }
            op => {
                return Err(at(format!(
                    "operator '{op}' is not supported (rtas imports Gemm, MatMul, Add of a bias after MatMul, Conv, \
                     Relu, Sigmoid, AveragePool, Flatten and Reshape to [N, -1])"
                )));
            }
        }
        current = out;
        k += 1;
    }
    let mut spec = Spec {
        input: shape,
        layers: layers.into_iter().map(LayerDef::from).collect(),
        loss: Loss { kind: LossKind::Mse, target: "one-hot".into() },
    };
    if spec.outputs()? == 1 {
        spec.loss.target = "value".into();
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
    Ok(Imported { spec, params })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lying_lengths_and_truncations_are_refused_without_reading_past_the_end() {
        // A graph field that claims 2^40 bytes.
        let mut b = vec![0x3a];
        b.extend([0x80, 0x80, 0x80, 0x80, 0x80, 0x20]);
        assert!(parse(&b).unwrap_err().to_string().contains("past the end"));
        assert!(parse(&[0x08]).unwrap_err().to_string().contains("past the end"));
        assert!(parse(&[]).unwrap_err().to_string().contains("no graph"));
        assert!(parse(&[0x0f]).unwrap_err().to_string().contains("wire type"));
    }
}
