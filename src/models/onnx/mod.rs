//! ONNX import: the layer structure and the weights of a model as PyTorch's exporters (TorchScript and
//! dynamo) or Keras write it, for the operators rtas runs.
//!
//! An ONNX file is a protocol buffer (`ModelProto`); this module reads the few messages a model needs with
//! a small wire-format reader of its own (every length checked against the bytes that remain, so a lying
//! length cannot make it allocate or read past the end).
//!
//! Every node whose value is known at import is evaluated there ([`fold`]): initializers, `Constant`s, and
//! shape arithmetic on the input's shape (Shape, Gather, Unsqueeze, Squeeze, Concat, Slice, Cast,
//! ConstantOfShape, Add/Sub/Mul/Div), the batch dimension being a symbol that may only pass through. What
//! remains must be a chain from one input `[N, features]` or `[N, C, H, W]`:
//!
//! | ONNX | rtas layer |
//! | --- | --- |
//! | `Gemm` (`transA = 0`; `alpha`, `beta`, `transB` folded into the weights), `MatMul` by a weight, an `Add` of a weight after either | dense |
//! | `Conv` (equal strides, symmetric padding, dilation 1, group 1), a `Pad` of zeros before it | conv2d |
//! | `BatchNormalization` in inference form right after a conv or dense layer | folded into that layer |
//! | `Relu`, `Sigmoid` | relu, sigmoid |
//! | `AveragePool` (equal strides, symmetric padding counted in the mean), `GlobalAveragePool`, `ReduceMean` over H and W | avgpool |
//! | `MaxPool` (equal strides, no padding, dilation 1) | maxpool |
//! | `Flatten` (`axis = 1`), `Reshape` to `[N, -1]` in any spelling | flatten (a no-op where the value is a vector already) |
//! | `Identity`, `Dropout` | dropped (inference) |
//! | `Softmax`, `LogSoftmax` as the last node | the loss becomes softmax-cross-entropy |
//!
//! Any other operator is refused with its name and node and what would make it run. ONNX carries no loss:
//! an imported model trains on softmax-cross-entropy when it ends with a softmax, else on mean squared error
//! against one-hot targets (several outputs) or the label itself (one output). The weights become the
//! model's initial parameters.

mod chain;
mod fold;
mod ops;
mod proto;

use proto::*;

use super::spec::Spec;
use crate::error::{Error, Result, invalid};
use ndarray::ArrayD;
use std::collections::HashMap;
use std::path::Path;

/// A model read from an ONNX file: the layers (as a model file would say them), their weights, and what
/// became of every node.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The model.
    pub spec: Spec,
    /// Weights and biases in rtas's layout (dense `[in, out]`, conv `[O, C, KH, KW]`).
    pub params: Vec<ArrayD<f64>>,
    /// Every node of the graph, in order, and what the import made of it.
    pub nodes: Vec<NodeNote>,
}

/// One ONNX node and what the import made of it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NodeNote {
    /// Its name in the file.
    pub name: String,
    /// Its operator.
    pub op: String,
    /// `layer K`, `folded into layer K`, `constant` (evaluated at import) or `dropped` (with why).
    pub became: String,
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
    let (mut nodes, mut inits, mut inputs, mut outputs) = (Vec::new(), HashMap::new(), Vec::new(), Vec::new());
    let mut r = Reader::new(graph);
    while let Some((num, v)) = r.field()? {
        match (num, v) {
            (1, Value::Bytes(b)) => nodes.push(node(b)?),
            (5, Value::Bytes(b)) => {
                let t = tensor(b)?;
                inits.insert(t.name.clone(), t);
            }
            (11, Value::Bytes(b)) => inputs.push(value_info(b)?),
            (12, Value::Bytes(b)) => outputs.push(value_info(b)?.0),
            _ => {}
        }
    }
    chain::convert(&nodes, &inits, &inputs, &outputs)
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
