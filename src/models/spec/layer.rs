//! A model file's layers: their kinds and settings as the file writes them ([`Layer`]), kernel sizes, and a
//! layer with its optional name ([`LayerDef`]).

use crate::protocol::conv::Pool;
use serde::{Deserialize, Serialize};

/// A kernel size: one number or `[kh, kw]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Size {
    /// Square.
    One(usize),
    /// `[height, width]`.
    Two([usize; 2]),
}

impl Size {
    /// `(height, width)`.
    pub fn hw(self) -> (usize, usize) {
        match self {
            Size::One(k) => (k, k),
            Size::Two([h, w]) => (h, w),
        }
    }
}

fn one() -> usize {
    1
}

fn is_zero(v: &usize) -> bool {
    *v == 0
}

/// One layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum Layer {
    /// `x W + b`, on a vector.
    Dense {
        /// Outputs.
        units: usize,
    },
    /// A 2-D convolution plus bias, on `[C, H, W]`.
    Conv2d {
        /// Output channels.
        filters: usize,
        /// Kernel size.
        kernel: Size,
        /// Stride (both directions).
        #[serde(default = "one")]
        stride: usize,
        /// Zero padding on every side.
        #[serde(default)]
        padding: usize,
    },
    /// `max(0, x)`.
    Relu,
    /// `1 / (1 + e^-x)`.
    Sigmoid,
    /// The mean of each window, on `[C, H, W]` zero-padded by `padding` (the zeros count in the mean, as
    /// PyTorch's default `count_include_pad`).
    Avgpool {
        /// Window: one number or `[kh, kw]`.
        size: Size,
        /// Stride, both directions (default: the window).
        #[serde(default)]
        stride: Option<usize>,
        /// Zero padding on every side.
        #[serde(default, skip_serializing_if = "is_zero")]
        padding: usize,
    },
    /// The maximum of each window, on `[C, H, W]` (a tree of pairwise maxima: on shares one comparison per
    /// pair, `ceil(log2(kh kw))` rounds).
    Maxpool {
        /// Window: one number or `[kh, kw]`.
        size: Size,
        /// Stride, both directions (default: the window).
        #[serde(default)]
        stride: Option<usize>,
    },
    /// `[C, H, W]` to a vector.
    Flatten,
}

impl Layer {
    /// Its kind as written in the file.
    pub fn kind(&self) -> &'static str {
        match self {
            Layer::Dense { .. } => "dense",
            Layer::Conv2d { .. } => "conv2d",
            Layer::Relu => "relu",
            Layer::Sigmoid => "sigmoid",
            Layer::Avgpool { .. } => "avgpool",
            Layer::Maxpool { .. } => "maxpool",
            Layer::Flatten => "flatten",
        }
    }

    /// The short name its messages carry by default.
    pub fn short(&self) -> &'static str {
        match self {
            Layer::Conv2d { .. } => "conv",
            Layer::Sigmoid => "sig",
            Layer::Avgpool { .. } => "pool",
            Layer::Maxpool { .. } => "maxpool",
            other => other.kind(),
        }
    }

    /// A pooling layer's window and strides, and its zero padding.
    pub fn window(&self) -> Option<(Pool, usize)> {
        let (size, stride, padding) = match *self {
            Layer::Avgpool { size, stride, padding } => (size, stride, padding),
            Layer::Maxpool { size, stride } => (size, stride, 0),
            _ => return None,
        };
        let (kh, kw) = size.hw();
        let (sh, sw) = stride.map_or((kh, kw), |s| (s, s));
        Some((Pool { kh, kw, sh, sw }, padding))
    }

    /// Whether it is an element-wise activation (its backward is a product with its derivative).
    pub fn is_activation(&self) -> bool {
        matches!(self, Layer::Relu | Layer::Sigmoid)
    }
}

/// A layer as written in the file: its kind and settings, and an optional name (the label its messages
/// carry, e.g. `t3/dense1/fwd/open`; by default the kind, numbered when it occurs more than once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerDef {
    /// The name its messages carry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The layer.
    #[serde(flatten)]
    pub layer: Layer,
}

impl From<Layer> for LayerDef {
    fn from(layer: Layer) -> Self {
        LayerDef { name: None, layer }
    }
}
