//! Models described in a file: a sequence of layers over an input shape, and a loss (TOML).
//!
//! ```toml
//! input = [1, 28, 28]           # [channels, height, width] for images, [features] for tables
//!
//! [[layer]]
//! kind = "conv2d"               # conv2d | dense | relu | sigmoid | avgpool | maxpool | flatten
//! filters = 4
//! kernel = 4                    # or [kh, kw]
//! stride = 2                    # default 1
//! padding = 0                   # default 0
//!
//! [[layer]]
//! kind = "relu"
//!
//! [[layer]]
//! kind = "flatten"
//!
//! [[layer]]
//! kind = "dense"
//! units = 10
//!
//! [[layer]]
//! kind = "sigmoid"
//!
//! [loss]
//! kind = "mse"                  # mse | softmax-cross-entropy
//! target = "one-hot"            # one-hot (label k -> e_k) | value (the label itself) | "equals:0" (1 if label == 0)
//! ```
//!
//! Shapes are checked when the file is read: an error names the layer (1-based, with its kind) and the
//! mismatch. The paper's two models ship as `models/logreg.toml` and `models/cnn.toml`.

mod layer;

use super::ModelKind;
use crate::error::{Error, Result, invalid};
use serde::{Deserialize, Serialize};
use std::path::Path;

pub use layer::{Layer, LayerDef, Size};

/// The loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LossKind {
    /// Mean squared error over every output of the batch.
    Mse,
    /// Softmax over the outputs, then cross-entropy with one-hot targets.
    SoftmaxCrossEntropy,
}

/// The loss and how labels become targets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Loss {
    /// Which loss.
    pub kind: LossKind,
    /// `one-hot`, `value` or `equals:K`.
    #[serde(default = "one_hot")]
    pub target: String,
}

fn one_hot() -> String {
    "one-hot".into()
}

/// How labels become targets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// Label `k` -> the k-th unit vector.
    OneHot,
    /// The label itself (one output).
    Value,
    /// 1 if the label equals this value, else 0 (one output).
    Equals(f64),
}

/// A model file, read and checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Input shape of one example.
    pub input: Vec<usize>,
    /// The layers, in order.
    #[serde(rename = "layer")]
    pub layers: Vec<LayerDef>,
    /// The loss.
    pub loss: Loss,
}

/// What one layer does to shapes, and what parameters it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// The layer.
    pub layer: Layer,
    /// Its name (given, or the kind's short name, numbered when the kind occurs more than once).
    pub name: String,
    /// Its input shape (one example).
    pub input: Vec<usize>,
    /// Its output shape.
    pub output: Vec<usize>,
    /// Its parameter shapes (weights then bias), empty for parameter-free layers.
    pub params: Vec<Vec<usize>>,
}

/// The most values one layer's output may hold per example, and the most parameters a model may have
/// (2^31: 16 GiB of f64 for one example's activations or for the weights).
pub const MAX_VALUES: usize = 1 << 31;

/// The number of values in an array of shape `dims`, if at most [`MAX_VALUES`].
fn values(dims: &[usize]) -> Option<usize> {
    dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).filter(|&n| n <= MAX_VALUES)
}

impl Spec {
    /// Reads and checks a model file.
    pub fn read(path: &Path) -> Result<Spec> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Io { path: path.to_path_buf(), source: e })?;
        Self::parse(&text).map_err(|e| invalid(format!("{}: {}", path.display(), e.detail())))
    }

    /// Parses and checks a model description.
    pub fn parse(text: &str) -> Result<Spec> {
        let spec: Spec =
            toml::from_str(text).map_err(|e| invalid(e.to_string().lines().collect::<Vec<_>>().join(" ")))?;
        // Plans every layer (shape errors), then checks the loss against the outputs.
        spec.target()?;
        Ok(spec)
    }

    /// How labels become targets.
    pub fn target(&self) -> Result<Target> {
        self.target_for(self.outputs()?)
    }

    /// How labels become targets for a model with `out` outputs.
    pub(crate) fn target_for(&self, out: usize) -> Result<Target> {
        let t = match self.loss.target.as_str() {
            "one-hot" => Target::OneHot,
            "value" => Target::Value,
            s => match s.strip_prefix("equals:").map(|v| v.trim().parse::<f64>()) {
                Some(Ok(v)) if v.is_finite() => Target::Equals(v),
                _ => {
                    return Err(invalid(format!("loss.target '{s}' (known: one-hot, value, equals:K)")));
                }
            },
        };
        if !matches!(t, Target::OneHot) && out != 1 {
            return Err(invalid(format!("loss.target '{}' needs one output; the model has {out}", self.loss.target)));
        }
        if self.loss.kind == LossKind::SoftmaxCrossEntropy && (t != Target::OneHot || out < 2) {
            return Err(invalid("softmax-cross-entropy needs target = \"one-hot\" and at least 2 outputs"));
        }
        Ok(t)
    }

    /// Outputs of the last layer (a vector).
    pub fn outputs(&self) -> Result<usize> {
        self.outputs_of(&self.plan()?)
    }

    /// Outputs of the last layer of `plan` (this spec's [`Spec::plan`]).
    pub(crate) fn outputs_of(&self, plan: &[Planned]) -> Result<usize> {
        let last = plan.last().map_or(self.input.clone(), |p| p.output.clone());
        if last.len() != 1 {
            return Err(invalid(format!("the model ends with shape {last:?}; end with a vector (flatten, dense)")));
        }
        Ok(last[0])
    }

    /// Every layer's shapes and parameters; an error names the first layer whose input does not fit it, or
    /// whose output (per example) or parameters would exceed [`MAX_VALUES`].
    pub fn plan(&self) -> Result<Vec<Planned>> {
        if self.input.is_empty() || self.input.len() > 3 || self.input.contains(&0) {
            return Err(invalid(format!(
                "input {:?}: give [features] or [channels, height, width], all >= 1",
                self.input
            )));
        }
        if self.layers.is_empty() {
            return Err(invalid("the model has no [[layer]]"));
        }
        if values(&self.input).is_none() {
            return Err(invalid(format!("input {:?}: more than 2^31 values per example", self.input)));
        }
        let mut shape = self.input.clone();
        let mut out: Vec<Planned> = Vec::new();
        let mut total_params = 0usize;
        for (i, def) in self.layers.iter().enumerate() {
            let layer = &def.layer;
            let at = |msg: String| invalid(format!("layer {} ({}): {msg}", i + 1, layer.kind()));
            let (output, params) = match *layer {
                Layer::Dense { units } => {
                    if units == 0 {
                        return Err(at("units must be at least 1".into()));
                    }
                    if shape.len() != 1 {
                        return Err(at(format!(
                            "input has shape {shape:?}; a dense layer takes a vector (add a flatten)"
                        )));
                    }
                    (vec![units], vec![vec![shape[0], units], vec![units]])
                }
                Layer::Conv2d { filters, kernel, stride, padding } => {
                    let (kh, kw) = kernel.hw();
                    if filters == 0 || kh == 0 || kw == 0 || stride == 0 {
                        return Err(at("filters, kernel and stride must be at least 1".into()));
                    }
                    if shape.len() != 3 {
                        return Err(at(format!("input has shape {shape:?}; conv2d takes [channels, height, width]")));
                    }
                    let pad = |d: usize| padding.checked_mul(2).and_then(|p| p.checked_add(d));
                    let (Some(h), Some(w)) = (pad(shape[1]), pad(shape[2])) else {
                        return Err(at(format!("padding {padding} is too large")));
                    };
                    if kh > h || kw > w {
                        return Err(at(format!(
                            "kernel {kh}x{kw} is larger than the padded input {h}x{w} (input {shape:?}, padding {padding})"
                        )));
                    }
                    let (oh, ow) = ((h - kh) / stride + 1, (w - kw) / stride + 1);
                    (vec![filters, oh, ow], vec![vec![filters, shape[0], kh, kw], vec![filters]])
                }
                Layer::Avgpool { .. } | Layer::Maxpool { .. } => {
                    let (w, padding) = layer.window().ok_or_else(|| at("not a pooling layer".into()))?;
                    if w.kh == 0 || w.kw == 0 || w.sh == 0 || w.sw == 0 {
                        return Err(at("size and stride must be at least 1".into()));
                    }
                    if shape.len() != 3 {
                        return Err(at(format!(
                            "input has shape {shape:?}; {} takes [channels, height, width]",
                            layer.kind()
                        )));
                    }
                    if padding >= w.kh.max(w.kw) {
                        return Err(at(format!("padding {padding} must be smaller than the window")));
                    }
                    let (h, wd) = (shape[1] + 2 * padding, shape[2] + 2 * padding);
                    if w.kh > h || w.kw > wd {
                        return Err(at(format!("window {}x{} is larger than the input {shape:?}", w.kh, w.kw)));
                    }
                    (vec![shape[0], (h - w.kh) / w.sh + 1, (wd - w.kw) / w.sw + 1], vec![])
                }
                Layer::Flatten => (vec![shape.iter().product()], vec![]),
                Layer::Relu | Layer::Sigmoid => (shape.clone(), vec![]),
            };
            if values(&output).is_none() {
                return Err(at(format!("output {output:?} holds more than 2^31 values per example")));
            }
            for p in &params {
                total_params = values(p)
                    .and_then(|n| total_params.checked_add(n))
                    .filter(|&n| n <= MAX_VALUES)
                    .ok_or_else(|| at(format!("parameters {p:?} bring the model past 2^31 parameters")))?;
            }
            let name = match &def.name {
                Some(n) => {
                    if n.is_empty() || !n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                        return Err(at(format!("name '{n}': use letters, digits, '_' and '-'")));
                    }
                    n.clone()
                }
                None => {
                    let same = self.layers.iter().filter(|d| d.layer.kind() == layer.kind()).count();
                    let nth = self.layers[..=i].iter().filter(|d| d.layer.kind() == layer.kind()).count();
                    if same > 1 { format!("{}{nth}", layer.short()) } else { layer.short().to_string() }
                }
            };
            if let Some(j) = out.iter().position(|p| p.name == name) {
                return Err(at(format!("name '{name}' is already layer {}'s", j + 1)));
            }
            out.push(Planned { layer: layer.clone(), name, input: shape.clone(), output: output.clone(), params });
            shape = output;
        }
        Ok(out)
    }

    /// The same model without its leading flattens: a flatten of the input is a reshape of data stored
    /// example after example, so the input becomes a vector and the first layer that computes is first
    /// (RTAS-fast shares it).
    pub fn without_leading_flatten(mut self) -> Spec {
        let n = self.layers.iter().take_while(|d| d.layer == Layer::Flatten).count();
        if n > 0 && n < self.layers.len() {
            self.layers.drain(..n);
            self.input = vec![self.input.iter().product()];
        }
        self
    }

    /// Every parameter shape, in order.
    pub fn param_shapes(&self) -> Result<Vec<Vec<usize>>> {
        Ok(self.plan()?.into_iter().flat_map(|p| p.params).collect())
    }

    /// The number of parameters.
    pub fn param_count(&self) -> Result<usize> {
        Ok(self.param_shapes()?.iter().map(|s| s.iter().product::<usize>()).sum())
    }

    /// The paper's model this file describes exactly, if it is one of them (the secure backends run those).
    pub fn paper_model(&self) -> Option<ModelKind> {
        [ModelKind::LogReg, ModelKind::Cnn].into_iter().find(|&m| Spec::paper(m) == *self)
    }

    /// The paper's models as specs (what `models/logreg.toml` and `models/cnn.toml` say).
    pub fn paper(model: ModelKind) -> Spec {
        let text = match model {
            ModelKind::LogReg => include_str!("../../../models/logreg.toml"),
            ModelKind::Cnn => include_str!("../../../models/cnn.toml"),
            ModelKind::File(net) => return net.spec.clone(),
        };
        // The bundled files are checked by the tests; a parse failure here is a build defect.
        toml::from_str(text).unwrap_or_else(|e| panic!("bundled model file: {e}"))
    }
}

/// The label of the product that carries the gradient through activation layer `layer`'s derivative:
/// `delta` when the model has one activation, else `d<k>` with k its place among the activations.
pub fn delta_name(plan: &[Planned], layer: usize) -> String {
    let acts = plan.iter().filter(|p| p.layer.is_activation()).count();
    let k = plan[..layer.min(plan.len())].iter().filter(|p| p.layer.is_activation()).count();
    if acts == 1 { "delta".into() } else { format!("d{k}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_files_are_the_papers_models() {
        for m in [ModelKind::LogReg, ModelKind::Cnn] {
            let s = Spec::paper(m);
            let shapes: Vec<Vec<usize>> = m.param_shapes().into_iter().map(|(_, s)| s).collect();
            assert_eq!(s.param_shapes().unwrap(), shapes, "{}", m.name());
            assert_eq!(s.outputs().unwrap(), m.outputs());
            assert_eq!(s.paper_model(), Some(m));
        }
    }

    #[test]
    fn shape_errors_name_the_layer_and_the_mismatch() {
        let e = |t: &str| Spec::parse(t).unwrap_err().to_string();
        let head = "input = [1, 28, 28]\n";
        let tail = "[loss]\nkind = \"mse\"\n";
        assert!(
            e(&format!("{head}[[layer]]\nkind = \"dense\"\nunits = 3\n{tail}"))
                .contains("layer 1 (dense): input has shape [1, 28, 28]; a dense layer takes a vector")
        );
        assert!(
            e(&format!("{head}[[layer]]\nkind = \"conv2d\"\nfilters = 2\nkernel = 30\n{tail}"))
                .contains("layer 1 (conv2d): kernel 30x30 is larger")
        );
        assert!(
            e(&format!("{head}[[layer]]\nkind = \"flatten\"\n[[layer]]\nkind = \"avgpool\"\nsize = 2\n{tail}"))
                .contains("layer 2 (avgpool): input has shape [784]")
        );
        assert!(e(&format!("{head}[[layer]]\nkind = \"relu\"\n{tail}")).contains("end with a vector"));
        assert!(e(&format!("{head}[[layer]]\nkind = \"lstm\"\n{tail}")).contains("lstm"));
        assert!(e(&format!("{head}[[layer]]\nkind = \"dense\"\nunits = 0\n{tail}")).contains("units"));
        assert!(
            e("input = [4]\n[[layer]]\nkind = \"dense\"\nunits = 3\n[loss]\nkind = \"mse\"\ntarget = \"value\"\n")
                .contains("needs one output")
        );
        assert!(e("input = []\n[[layer]]\nkind = \"relu\"\n[loss]\nkind = \"mse\"\n").contains("input []"));
        assert!(e("input = [4]\n[loss]\nkind = \"mse\"\n").contains("layer"));
        assert!(
            e("input = [4]\n[[layer]]\nkind = \"dense\"\nunits = 3\nbias = true\n[loss]\nkind = \"mse\"\n")
                .contains("bias")
        );
    }
}
