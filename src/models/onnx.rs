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

use super::spec::{Layer, LayerDef, Loss, LossKind, Size, Spec};
use crate::error::{Error, Result, invalid};
use ndarray::{ArrayD, IxDyn};
use std::collections::HashMap;
use std::path::Path;

/// Elements a single tensor may have (2^31; a VGG-16's largest weight has 1.0e8).
const MAX_ELEMS: usize = 1 << 31;

fn bad(what: impl std::fmt::Display) -> Error {
    invalid(format!("not a valid ONNX model: {what}"))
}

/// A protocol-buffer field's value.
enum Value<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32(u32),
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(b: &'a [u8]) -> Self {
        Reader { b, pos: 0 }
    }

    fn varint(&mut self) -> Result<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *self.b.get(self.pos).ok_or_else(|| bad("a number runs past the end"))?;
            self.pos += 1;
            v |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(bad("a number is longer than 10 bytes"))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end =
            self.pos.checked_add(n).filter(|&e| e <= self.b.len()).ok_or_else(|| bad("a field runs past the end"))?;
        let s = &self.b[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    /// The next field: (number, value), or `None` at the end.
    fn field(&mut self) -> Result<Option<(u64, Value<'a>)>> {
        if self.pos >= self.b.len() {
            return Ok(None);
        }
        let key = self.varint()?;
        let (num, wire) = (key >> 3, key & 7);
        let v = match wire {
            0 => Value::Varint(self.varint()?),
            1 => Value::Fixed64(u64::from_le_bytes(self.take(8)?.try_into().map_err(|_| bad("fixed64"))?)),
            2 => {
                let n = usize::try_from(self.varint()?).map_err(|_| bad("a length is too large"))?;
                Value::Bytes(self.take(n)?)
            }
            5 => Value::Fixed32(u32::from_le_bytes(self.take(4)?.try_into().map_err(|_| bad("fixed32"))?)),
            w => return Err(bad(format!("field {num} has wire type {w}"))),
        };
        Ok(Some((num, v)))
    }
}

fn text(v: &Value<'_>) -> Result<String> {
    match v {
        Value::Bytes(b) => String::from_utf8(b.to_vec()).map_err(|_| bad("a name is not UTF-8")),
        _ => Err(bad("a name is not a string")),
    }
}

fn varint_of(v: &Value<'_>) -> Result<u64> {
    match v {
        Value::Varint(x) => Ok(*x),
        _ => Err(bad("an integer field has another type")),
    }
}

/// Repeated int64: packed (bytes of varints) or one per field.
fn push_ints(v: &Value<'_>, out: &mut Vec<i64>) -> Result<()> {
    match v {
        Value::Varint(x) => out.push(*x as i64),
        Value::Bytes(b) => {
            let mut r = Reader::new(b);
            while r.pos < b.len() {
                out.push(r.varint()? as i64);
            }
        }
        _ => return Err(bad("a list of integers has another type")),
    }
    Ok(())
}

#[derive(Debug, Default)]
struct Tensor {
    name: String,
    dims: Vec<usize>,
    data: Vec<f64>,
    ints: Vec<i64>,
}

fn tensor(b: &[u8]) -> Result<Tensor> {
    let mut t = Tensor::default();
    let (mut dims, mut dtype, mut raw, mut floats, mut doubles) = (Vec::new(), 0u64, None, Vec::new(), Vec::new());
    let mut r = Reader::new(b);
    while let Some((num, v)) = r.field()? {
        match num {
            1 => push_ints(&v, &mut dims)?,
            2 => dtype = varint_of(&v)?,
            4 => match v {
                Value::Fixed32(x) => floats.push(f64::from(f32::from_bits(x))),
                Value::Bytes(b) => {
                    floats.extend(b.chunks_exact(4).map(|c| f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]]))))
                }
                _ => return Err(bad("float_data has another type")),
            },
            7 => push_ints(&v, &mut t.ints)?,
            8 => t.name = text(&v)?,
            9 => match v {
                Value::Bytes(b) => raw = Some(b),
                _ => return Err(bad("raw_data is not bytes")),
            },
            10 => match v {
                Value::Fixed64(x) => doubles.push(f64::from_bits(x)),
                Value::Bytes(b) => doubles.extend(
                    b.chunks_exact(8).map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])),
                ),
                _ => return Err(bad("double_data has another type")),
            },
            _ => {}
        }
    }
    t.dims = dims
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| bad(format!("tensor '{}' has dimension {d}", t.name))))
        .collect::<Result<_>>()?;
    let n = t
        .dims
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .filter(|&n| n <= MAX_ELEMS)
        .ok_or_else(|| bad(format!("tensor '{}' of shape {:?} is too large", t.name, t.dims)))?;
    let width = match dtype {
        1 => 4,
        11 | 7 => 8,
        d => {
            return Err(invalid(format!(
                "tensor '{}' has ONNX data type {d}; rtas reads float (1), double (11) and int64 (7)",
                t.name
            )));
        }
    };
    if let Some(raw) = raw {
        if raw.len() != n * width {
            return Err(bad(format!("tensor '{}': {} bytes of data for shape {:?}", t.name, raw.len(), t.dims)));
        }
        match dtype {
            1 => {
                t.data = raw.chunks_exact(4).map(|c| f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]]))).collect()
            }
            11 => t.data = raw.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8]))).collect(),
            _ => t.ints = raw.chunks_exact(8).map(|c| i64::from_le_bytes(c.try_into().unwrap_or([0; 8]))).collect(),
        }
    } else {
        t.data = if dtype == 11 { doubles } else { floats };
    }
    let got = if dtype == 7 { t.ints.len() } else { t.data.len() };
    if got != n {
        return Err(bad(format!("tensor '{}': {got} values for shape {:?}", t.name, t.dims)));
    }
    if t.data.iter().any(|v| !v.is_finite()) {
        return Err(invalid(format!("tensor '{}' holds a value that is not finite", t.name)));
    }
    Ok(t)
}

#[derive(Debug, Default)]
struct Attr {
    name: String,
    i: Option<i64>,
    f: Option<f32>,
    s: Option<String>,
    ints: Vec<i64>,
}

#[derive(Debug, Default)]
struct Node {
    inputs: Vec<String>,
    outputs: Vec<String>,
    name: String,
    op: String,
    attrs: Vec<Attr>,
}

fn attr(b: &[u8]) -> Result<Attr> {
    let mut a = Attr::default();
    let mut r = Reader::new(b);
    while let Some((num, v)) = r.field()? {
        match (num, v) {
            (1, v) => a.name = text(&v)?,
            (2, Value::Fixed32(x)) => a.f = Some(f32::from_bits(x)),
            (3, Value::Varint(x)) => a.i = Some(x as i64),
            (4, v) => a.s = Some(text(&v)?),
            (8, v) => push_ints(&v, &mut a.ints)?,
            _ => {}
        }
    }
    Ok(a)
}

fn node(b: &[u8]) -> Result<Node> {
    let mut n = Node::default();
    let mut r = Reader::new(b);
    while let Some((num, v)) = r.field()? {
        match num {
            1 => n.inputs.push(text(&v)?),
            2 => n.outputs.push(text(&v)?),
            3 => n.name = text(&v)?,
            4 => n.op = text(&v)?,
            5 => match v {
                Value::Bytes(b) => n.attrs.push(attr(b)?),
                _ => return Err(bad("an attribute is not a message")),
            },
            _ => {}
        }
    }
    Ok(n)
}

/// A graph input: its name and dimensions (`None` for a symbolic one such as the batch).
fn value_info(b: &[u8]) -> Result<(String, Vec<Option<i64>>)> {
    let (mut name, mut dims) = (String::new(), Vec::new());
    let mut r = Reader::new(b);
    while let Some((num, v)) = r.field()? {
        match (num, v) {
            (1, v) => name = text(&v)?,
            (2, Value::Bytes(ty)) => {
                // TypeProto.tensor_type (1) -> TypeProto.Tensor.shape (2) -> TensorShapeProto.dim (1).
                let mut rt = Reader::new(ty);
                while let Some((1, Value::Bytes(tt))) = rt.field()? {
                    let mut rs = Reader::new(tt);
                    while let Some((n2, v2)) = rs.field()? {
                        if let (2, Value::Bytes(shape)) = (n2, v2) {
                            let mut rd = Reader::new(shape);
                            while let Some((n3, v3)) = rd.field()? {
                                if let (1, Value::Bytes(dim)) = (n3, v3) {
                                    let mut value = None;
                                    let mut rv = Reader::new(dim);
                                    while let Some((n4, v4)) = rv.field()? {
                                        if let (1, Value::Varint(x)) = (n4, v4) {
                                            value = Some(x as i64);
                                        }
                                    }
                                    dims.push(value);
                                }
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Ok((name, dims))
}

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
