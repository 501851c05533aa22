//! One computing ONNX node to what rtas makes of it: a layer, a fold into the layer before, or nothing.
//! [`super::chain`] walks the graph and calls these; each checks its node's attributes and says in one line
//! what it does not take.

use super::fold::Const;
use super::proto::Node;
use crate::error::{Error, Result, invalid};
use crate::models::spec::{Layer, Size};
use crate::protocol::conv::Pool;
use ndarray::{ArrayD, IxDyn};
use std::collections::HashMap;

/// A layer being built and its parameters.
pub(super) struct Built {
    pub(super) layer: Layer,
    pub(super) params: Vec<ArrayD<f64>>,
}

/// What a node became.
pub(super) enum Made {
    /// New layers (a global mean without its kept axes is a pool and a flatten).
    New(Vec<Built>),
    /// Folded into the last layer (a bias, a batch norm).
    Into,
    /// Nothing of its own, and why.
    Dropped(&'static str),
}

impl Made {
    fn layer(layer: Layer, params: Vec<ArrayD<f64>>) -> Made {
        Made::New(vec![Built { layer, params }])
    }
}

/// A computing node in its place: its index, its known inputs, the chain's current value and its shape.
pub(super) struct At<'a> {
    pub(super) k: usize,
    pub(super) n: &'a Node,
    pub(super) known: &'a HashMap<String, Const>,
    pub(super) head: &'a str,
    pub(super) cur: &'a [usize],
}

impl At<'_> {
    /// An error about this node.
    pub(super) fn err(&self, msg: impl std::fmt::Display) -> Error {
        invalid(format!("node {} '{}' ({}): {msg}", self.k + 1, self.n.name, self.n.op))
    }

    fn ints(&self, name: &str) -> Option<Vec<i64>> {
        self.n.attrs.iter().find(|a| a.name == name).map(|a| a.ints.clone())
    }

    pub(super) fn int(&self, name: &str) -> Option<i64> {
        self.n.attrs.iter().find(|a| a.name == name).and_then(|a| a.i)
    }

    fn float(&self, name: &str) -> Option<f32> {
        self.n.attrs.iter().find(|a| a.name == name).and_then(|a| a.f)
    }

    /// Known input `i` (or `None` when it is absent).
    fn arg(&self, i: usize) -> Option<&Const> {
        self.n.inputs.get(i).filter(|s| !s.is_empty()).and_then(|s| self.known.get(s))
    }

    /// Known input `i`, which must be there.
    fn weight(&self, i: usize) -> Result<&Const> {
        let name = self
            .n
            .inputs
            .get(i)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| self.err(format!("input {} is missing", i + 1)))?;
        self.known.get(name).ok_or_else(|| self.err(format!("input '{name}' is not a weight")))
    }

    fn numbers(&self, c: &Const) -> Result<Vec<f64>> {
        c.numbers().map_err(|e| self.err(e))
    }

    /// Integers from known input `i` (opset 13+) or attribute `attr` (earlier opsets).
    fn ints_from(&self, i: usize, attr: &str) -> Result<Option<Vec<i64>>> {
        match self.arg(i) {
            Some(c) => c.fixed_ints().map(Some).map_err(|e| self.err(e)),
            None => Ok(self.ints(attr)),
        }
    }

    /// One value for both directions (and every side) of a 2-D attribute, `default` when absent.
    fn both(&self, name: &str, default: i64) -> Result<usize> {
        let v = self.ints(name).unwrap_or_default();
        match v.first() {
            None => Ok(default as usize),
            Some(&x) if x >= 0 && v.iter().all(|&y| y == x) => Ok(x as usize),
            _ => {
                Err(self.err(format!("{name} {v:?}: rtas needs the same value in both directions (and on every side)")))
            }
        }
    }

    /// The checks a window's attributes share (conv and pools): no SAME padding, no dilation.
    fn plain_window(&self) -> Result<()> {
        if self
            .n
            .attrs
            .iter()
            .any(|a| a.name == "auto_pad" && a.s.as_deref().is_some_and(|s| s != "NOTSET" && s != "VALID"))
        {
            return Err(self.err("auto_pad SAME is not supported; export with explicit pads"));
        }
        if self.ints("dilations").is_some_and(|d| d.iter().any(|&x| x != 1)) {
            return Err(self.err("dilated windows are not supported"));
        }
        Ok(())
    }
}

fn arr(shape: &[usize], v: Vec<f64>) -> Result<ArrayD<f64>> {
    ArrayD::from_shape_vec(IxDyn(shape), v).map_err(|e| invalid(e.to_string()))
}

/// `[r, c]` transposed.
fn transpose(v: &[f64], r: usize, c: usize) -> Vec<f64> {
    (0..c * r).map(|k| v[(k % r) * c + k / r]).collect()
}

fn size(h: usize, w: usize) -> Size {
    if h == w { Size::One(h) } else { Size::Two([h, w]) }
}

/// `Gemm` (alpha and beta folded into the weights) or `MatMul` by a weight: a dense layer.
pub(super) fn dense(a: &At<'_>) -> Result<Made> {
    let b = a.weight(1)?;
    let [r, c] = b.dims[..] else {
        return Err(a.err(format!("weight of shape {:?}; a dense layer's is a matrix", b.dims)));
    };
    if a.cur.len() != 1 {
        return Err(a.err(format!("input of shape {:?}; a dense layer takes a vector (flatten first)", a.cur)));
    }
    let gemm = a.n.op == "Gemm";
    if gemm && a.int("transA").unwrap_or(0) != 0 {
        return Err(a.err("transA = 1 is not supported (the batch must be the first axis)"));
    }
    let trans_b = gemm && a.int("transB").unwrap_or(0) == 1;
    let alpha = if gemm { f64::from(a.float("alpha").unwrap_or(1.0)) } else { 1.0 };
    let beta = if gemm { f64::from(a.float("beta").unwrap_or(1.0)) } else { 1.0 };
    let v = a.numbers(b)?;
    let (inp, units, w) = if trans_b { (c, r, transpose(&v, r, c)) } else { (r, c, v) };
    if inp != a.cur[0] {
        return Err(a.err(format!("a weight for {inp} inputs on a vector of {}", a.cur[0])));
    }
    let w: Vec<f64> = w.into_iter().map(|x| alpha * x).collect();
    let mut bias = vec![0.0; units];
    if let Some(t) = a.arg(2).filter(|_| gemm) {
        let bv = a.numbers(t)?;
        match bv.len() {
            1 => bias.iter_mut().for_each(|x| *x = beta * bv[0]),
            l if l == units => bias.iter_mut().zip(&bv).for_each(|(x, &y)| *x = beta * y),
            _ => return Err(a.err(format!("bias of shape {:?} for {units} outputs", t.dims))),
        }
    }
    Ok(Made::layer(Layer::Dense { units }, vec![arr(&[inp, units], w)?, arr(&[units], bias)?]))
}

/// An `Add` of a weight after a dense or conv layer (a bias added by hand): folded into its bias.
pub(super) fn bias_add(a: &At<'_>, last: &mut Built) -> Result<Made> {
    let t =
        a.n.inputs
            .iter()
            .filter(|i| *i != a.head)
            .find_map(|i| a.known.get(i))
            .ok_or_else(|| a.err("only a weight can be added"))?;
    let bv = a.numbers(t)?;
    let conv = matches!(last.layer, Layer::Conv2d { .. });
    let bias = &mut last.params[1];
    let units = bias.len();
    // [units], [1, units], or for a conv [units, 1, 1] (one value per channel).
    let trailing_ones = t.dims.iter().rev().take_while(|&&d| d == 1).count();
    let ok = t.dims.iter().product::<usize>() == units
        && t.dims.iter().rev().skip_while(|&&d| d == 1).count() <= 1 + usize::from(conv && trailing_ones >= 2);
    if !ok {
        return Err(a.err(format!(
            "adds a value of shape {:?}; rtas folds only a bias of {units} into the layer before",
            t.dims
        )));
    }
    bias.iter_mut().zip(&bv).for_each(|(x, &y)| *x += y);
    Ok(Made::Into)
}

/// An inference-form `BatchNormalization` after a conv or dense layer: folded into its weights and bias.
pub(super) fn batch_norm(a: &At<'_>, last: Option<&mut Built>) -> Result<Made> {
    if a.int("training_mode").unwrap_or(0) != 0 || a.n.outputs.iter().skip(1).any(|o| !o.is_empty()) {
        return Err(a.err("a batch norm in training form; export the model in eval mode (model.eval())"));
    }
    let Some(b) = last.filter(|b| !b.params.is_empty()) else {
        return Err(a.err(
            "a batch norm that does not follow a conv or dense layer: rtas folds an eval-mode batch norm into the \
             layer before it",
        ));
    };
    let eps = f64::from(a.float("epsilon").unwrap_or(1e-5));
    let [gamma, beta, mean, var] = [1, 2, 3, 4].map(|i| a.weight(i).and_then(|c| a.numbers(c)));
    let (gamma, beta, mean, var) = (gamma?, beta?, mean?, var?);
    let units = b.params[1].len();
    if [&gamma, &beta, &mean, &var].iter().any(|v| v.len() != units) {
        return Err(a.err(format!("statistics of {} values for {units} channels", gamma.len())));
    }
    if var.iter().any(|&v| v + eps <= 0.0) {
        return Err(a.err("a variance plus epsilon that is not positive"));
    }
    let scale: Vec<f64> = gamma.iter().zip(&var).map(|(g, v)| g / (v + eps).sqrt()).collect();
    let conv = matches!(b.layer, Layer::Conv2d { .. });
    let w = &mut b.params[0];
    if w.is_empty() || !w.len().is_multiple_of(units) {
        return Err(a.err(format!("a batch norm of {units} channels after a layer of {} weights", w.len())));
    }
    let per = w.len() / units;
    let ws = w.as_slice_mut().unwrap_or(&mut []);
    if conv {
        // [O, C, KH, KW]: each filter's weights by its channel's scale.
        ws.chunks_mut(per).zip(&scale).for_each(|(c, s)| c.iter_mut().for_each(|x| *x *= s));
    } else {
        // [in, units]: each column by its unit's scale.
        ws.chunks_mut(units).for_each(|row| row.iter_mut().zip(&scale).for_each(|(x, s)| *x *= s));
    }
    let bias = b.params[1].as_slice_mut().unwrap_or(&mut []);
    for j in 0..units {
        bias[j] = (bias[j] - mean[j]) * scale[j] + beta[j];
    }
    Ok(Made::Into)
}

/// `Conv`, with the padding of a `Pad` before it (`extra_pad`): a conv2d layer.
pub(super) fn conv(a: &At<'_>, extra_pad: usize) -> Result<Made> {
    let w = a.weight(1)?;
    let [o, c, kh, kw] = w.dims[..] else {
        return Err(a.err(format!("weight of shape {:?}; a convolution's is [O, C, KH, KW]", w.dims)));
    };
    if a.int("group").unwrap_or(1) != 1 {
        return Err(a.err("grouped (or depthwise) convolutions are not supported"));
    }
    a.plain_window()?;
    let stride = a.both("strides", 1)?;
    let pads = a.both("pads", 0)?;
    if a.ints("kernel_shape").is_some_and(|ks| ks != [kh as i64, kw as i64]) {
        return Err(a.err("kernel_shape disagrees with the weight"));
    }
    if a.cur.len() != 3 || a.cur[0] != c {
        return Err(a.err(format!("a weight for {c} channels on an input of shape {:?}", a.cur)));
    }
    let bias = match a.arg(2) {
        Some(t) => {
            let b = a.numbers(t)?;
            if b.len() != o {
                return Err(a.err(format!("bias of {} values for {o} filters", b.len())));
            }
            b
        }
        None => vec![0.0; o],
    };
    let layer = Layer::Conv2d { filters: o, kernel: size(kh, kw), stride, padding: pads + extra_pad };
    Ok(Made::layer(layer, vec![arr(&[o, c, kh, kw], a.numbers(w)?)?, arr(&[o], bias)?]))
}

/// A `Pad` of zeros on H and W: the padding the next conv or average pool takes.
pub(super) fn pad(a: &At<'_>) -> Result<usize> {
    let mode = a.n.attrs.iter().find(|x| x.name == "mode").and_then(|x| x.s.clone()).unwrap_or("constant".into());
    let p = a.ints_from(1, "pads")?.unwrap_or_default();
    let value = match a.arg(2) {
        Some(c) => a.numbers(c)?.first().copied().unwrap_or(0.0),
        None => f64::from(a.float("value").unwrap_or(0.0)),
    };
    if mode != "constant" || value != 0.0 || a.n.inputs.get(3).is_some_and(|x| !x.is_empty()) {
        return Err(a.err(format!(
            "a {mode} pad with {value}: rtas folds only zero padding of H and W into a conv or average pool"
        )));
    }
    match p[..] {
        [0, 0, h0, w0, 0, 0, h1, w1] if h0 >= 0 && [w0, h1, w1].iter().all(|&x| x == h0) => Ok(h0 as usize),
        _ => Err(a.err(format!("pads {p:?}: rtas pads H and W of [N, C, H, W] alike on every side only"))),
    }
}

/// `AveragePool` (with a `Pad` before it) or `MaxPool`.
pub(super) fn pool(a: &At<'_>, extra_pad: usize) -> Result<Made> {
    let ks = a.ints("kernel_shape").unwrap_or_default();
    let [kh, kw] = ks[..] else {
        return Err(a.err(format!("kernel_shape {ks:?}: rtas pools 2-D windows")));
    };
    if kh < 1 || kw < 1 {
        return Err(a.err(format!("kernel_shape {ks:?}: rtas pools 2-D windows")));
    }
    a.plain_window()?;
    let stride = a.both("strides", 1)?;
    let pads = a.both("pads", 0)?;
    let size = size(kh as usize, kw as usize);
    let layer = if a.n.op == "MaxPool" {
        if pads != 0 {
            return Err(a.err(format!(
                "a max pool padded by {pads}: its padding is minus infinity, which shares cannot hold; pad the input \
                 with a Conv's padding, or use padding=0"
            )));
        }
        if a.n.outputs.get(1).is_some_and(|o| !o.is_empty()) {
            return Err(a.err("a max pool that returns its indices is not supported"));
        }
        Layer::Maxpool { size, stride: Some(stride) }
    } else {
        if pads > 0 && a.int("count_include_pad").unwrap_or(0) == 0 {
            return Err(a.err(
                "an average pool with padding and count_include_pad = 0 divides by a different count at the \
                 borders; export with count_include_pad=True (PyTorch's default)",
            ));
        }
        Layer::Avgpool { size, stride: Some(stride), padding: pads + extra_pad }
    };
    if a.int("ceil_mode").unwrap_or(0) != 0 {
        // Ceil mode changes nothing when the windows tile the input exactly.
        let (Pool { kh, kw, sh, sw }, p) = layer.window().ok_or_else(|| a.err("not a pool"))?;
        let cur = a.cur;
        let exact = cur.len() == 3
            && (cur[1] + 2 * p).checked_sub(kh).is_some_and(|d| d % sh == 0)
            && (cur[2] + 2 * p).checked_sub(kw).is_some_and(|d| d % sw == 0);
        if !exact {
            return Err(a.err("ceil_mode = 1 adds a partial window here; export with ceil_mode=False"));
        }
    }
    Ok(Made::layer(layer, vec![]))
}

/// `GlobalAveragePool`, or `ReduceMean` over H and W (without its kept axes: a pool and a flatten).
pub(super) fn global_pool(a: &At<'_>) -> Result<Made> {
    let [_, h, w] = a.cur[..] else {
        return Err(a.err(format!("input of shape {:?}; a global pool takes [C, H, W]", a.cur)));
    };
    let mut flat = false;
    if a.n.op == "ReduceMean" {
        let axes = a.ints_from(1, "axes")?.unwrap_or_default();
        let mut axes: Vec<i64> = axes.iter().map(|&x| if x < 0 { x + 4 } else { x }).collect();
        axes.sort_unstable();
        if axes != [2, 3] {
            return Err(a.err(format!("a mean over axes {axes:?}; rtas averages over H and W only (a global pool)")));
        }
        flat = a.int("keepdims").unwrap_or(1) == 0;
    }
    let mut layers =
        vec![Built { layer: Layer::Avgpool { size: size(h, w), stride: None, padding: 0 }, params: vec![] }];
    if flat {
        layers.push(Built { layer: Layer::Flatten, params: vec![] });
    }
    Ok(Made::New(layers))
}

/// `Flatten` (axis 1): a flatten layer, or nothing on a vector.
pub(super) fn flatten(a: &At<'_>) -> Result<Made> {
    let r = a.cur.len() as i64 + 1;
    let axis = a.int("axis").unwrap_or(1);
    if axis != 1 && axis != 1 - r {
        return Err(a.err(format!("axis {axis}: rtas flattens everything but the batch (axis = 1)")));
    }
    Ok(if a.cur.len() == 1 {
        Made::Dropped("a no-op flatten of a vector")
    } else {
        Made::layer(Layer::Flatten, vec![])
    })
}

/// `Reshape` to a known target whose first axis is the batch: a flatten, or nothing when the shape stays.
pub(super) fn reshape(a: &At<'_>) -> Result<Made> {
    let t = a.weight(1)?.ints().map_err(|e| a.err(e))?;
    let cur = a.cur;
    let per: usize = cur.iter().product();
    let allowzero = a.int("allowzero").unwrap_or(0) != 0;
    // The target without the batch; a -1 (or the batch as 0) first means the batch stays.
    let rest = match t.split_first() {
        Some((None | Some(-1), rest)) => rest.to_vec(),
        Some((Some(0), rest)) if !allowzero => rest.to_vec(),
        _ => return Err(a.err(format!("reshape to {t:?}: rtas keeps the batch as the first axis"))),
    };
    let mut dims = Vec::new();
    for (i, d) in rest.iter().enumerate() {
        match d {
            Some(-1) => dims.push(None),
            Some(0) if !allowzero => dims.push(cur.get(i).copied()),
            Some(d) if *d > 0 => dims.push(Some(*d as usize)),
            _ => return Err(a.err(format!("reshape to {t:?}: the batch may only be the first axis"))),
        }
    }
    let fixed = dims
        .iter()
        .flatten()
        .try_fold(1usize, |x, &d| x.checked_mul(d))
        .ok_or_else(|| a.err(format!("reshape to {t:?}: too many values")))?;
    let dims: Vec<usize> = match dims.iter().filter(|d| d.is_none()).count() {
        0 if fixed == per => dims.into_iter().flatten().collect(),
        1 if fixed > 0 && per.is_multiple_of(fixed) => dims.into_iter().map(|d| d.unwrap_or(per / fixed)).collect(),
        _ => return Err(a.err(format!("reshape of {per} values per example to {t:?}"))),
    };
    if dims == cur {
        Ok(Made::Dropped("a no-op reshape"))
    } else if dims.len() == 1 {
        Ok(Made::layer(Layer::Flatten, vec![]))
    } else {
        Err(a.err(format!(
            "reshape from {cur:?} to {dims:?} per example: rtas reshapes only to a vector ([N, -1], a flatten)"
        )))
    }
}

/// A final `Softmax` or `LogSoftmax` over the outputs: it names the loss.
pub(super) fn softmax(a: &At<'_>) -> Result<Made> {
    let axis = a.int("axis").unwrap_or(-1);
    if a.cur.len() != 1 || !(axis == 1 || axis == -1) {
        return Err(
            a.err(format!("a softmax over axis {axis} of [N, {:?}]: rtas takes one over a model's outputs", a.cur))
        );
    }
    Ok(Made::Dropped("the loss becomes softmax-cross-entropy"))
}

/// The input's per-example shape: every dimension but the batch fixed.
pub(super) fn input_shape(input: &str, dims: &[Option<i64>]) -> Result<Vec<usize>> {
    dims.iter()
        .skip(1)
        .map(|d| match d {
            Some(v) if *v > 0 => Ok(*v as usize),
            _ => Err(invalid(format!(
                "input '{input}' has shape {dims:?}: rtas needs every dimension but the batch fixed"
            ))),
        })
        .collect()
}
