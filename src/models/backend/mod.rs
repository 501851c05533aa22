//! The arithmetic a model's layers run on, as one trait: plaintext f64 ([`plain::Plain`]) or secret shares
//! under a protocol ([`shares::Shares`]: ring shares, the paper's float shares, or the shape-only tensors of
//! `rtas plan`). A layer kind (`super::layers`) is written once over this trait; the walker
//! (`super::walk`) runs any model on any backend.
//!
//! The operations are the ones a layer's forward and backward passes are made of. Products keep what
//! their backward pass needs ([`Backend::Kept`]: plaintext keeps the operands, shares keep the opened
//! masks, so that the gradient products open only the delta); element-wise functions return the
//! derivative's kept value; layout changes are [`Relayout`]s every backend applies to its own tensors.

pub mod per_example;
pub mod plain;
pub mod shares;

use crate::error::{Result, invalid};
use crate::net::Label;
use crate::protocol::conv;
use crate::protocol::functions::Activation;
use crate::protocol::ring::Elem;
use ndarray::{ArrayD, Ix2};

/// A layer's input: a tensor, or (the first layer under SecureML's mask reuse) rows of a data set whose
/// mask was opened once, before training.
pub enum Input<'a, B: Backend + ?Sized> {
    /// A batch, batch first.
    Tensor(B::T),
    /// The opened data set and the rows of this batch.
    Opened(&'a B::Opened, &'a [usize]),
}

impl<B: Backend + ?Sized> Input<'_, B> {
    /// Examples in the batch.
    pub fn batch(&self) -> usize {
        match self {
            Input::Tensor(t) => B::shape(t).first().copied().unwrap_or(0),
            Input::Opened(_, rows) => rows.len(),
        }
    }

    /// The tensor, for a layer (named `what`) that cannot take an opened data set.
    pub fn tensor(self, what: &str) -> Result<B::T> {
        match self {
            Input::Tensor(t) => Ok(t),
            Input::Opened(..) => Err(invalid(format!("{what} first cannot reuse a data mask"))),
        }
    }
}

/// What a layer's forward pass keeps for its backward pass.
pub enum Saved<B: Backend + ?Sized> {
    /// Dense or conv: what its product kept.
    Linear(B::Kept),
    /// An activation: its derivative's kept value.
    Act(B::T),
    /// A layout layer (average pooling, flatten): the input's shape.
    Shape(Vec<usize>),
    /// A max pool: the input's shape, and per level of its tree the number of values compared and the
    /// derivative kept.
    Tree(Vec<usize>, Vec<(usize, B::T)>),
    /// Nothing (inference).
    Nothing,
}

/// A backward pass's result: the parameters' gradients, in order, and the delta at the input (when it must
/// go on down).
pub type Backward<B> = (Vec<<B as Backend>::T>, Option<<B as Backend>::T>);

/// A convolution's geometry.
#[derive(Debug, Clone, Copy)]
pub struct ConvGeom {
    /// Kernel height and width.
    pub kh: usize,
    /// Kernel width.
    pub kw: usize,
    /// Stride, both directions.
    pub stride: usize,
    /// Zero padding on every side.
    pub padding: usize,
    /// Output channels.
    pub filters: usize,
    /// Output height.
    pub oh: usize,
    /// Output width.
    pub ow: usize,
}

/// A local layout change: every party applies it to its own share, plaintext to its values.
#[derive(Debug, Clone)]
pub enum Relayout {
    /// `(B, O, OH, OW)` to rows `(B*OH*OW, O)`.
    NchwToRows,
    /// Patch deltas `(B*OH*OW, C*KH*KW)` summed back onto the padded input of shape `input`, then the padding
    /// cropped.
    Col2imCrop {
        /// The padded input's shape.
        input: Vec<usize>,
        /// The geometry.
        g: ConvGeom,
    },
    /// The sum of each window.
    PoolSum(conv::Pool),
    /// Each window's delta spread back onto the input of shape `input`.
    PoolSpread {
        /// The input's shape.
        input: Vec<usize>,
        /// The window.
        g: conv::Pool,
    },
    /// Zero padding of `(B, C, H, W)` on every side.
    Pad(usize),
    /// The interior of a padded `(B, C, H, W)` (the adjoint of `Pad`).
    Crop(usize),
    /// Every window's elements stacked: `(B, C, H, W)` to `(KH*KW, B, C, OH, OW)`.
    Windows(conv::Pool),
    /// The adjoint of `Windows`, onto an input of shape `input`.
    Unwindows {
        /// The input's shape.
        input: Vec<usize>,
        /// The window.
        g: conv::Pool,
    },
    /// Slices `.0...1` of the first axis.
    Take0(usize, usize),
    /// The adjoint of `Take0`: placed at slice `.1` of `.0` zero slices.
    Place0(usize, usize),
}

impl Relayout {
    /// Applies it to one array of any element type.
    pub fn apply<E: Elem>(&self, a: &ArrayD<E>) -> Result<ArrayD<E>> {
        match self {
            Relayout::NchwToRows => Ok(conv::nchw_to_rows(a)?.into_dyn()),
            Relayout::Col2imCrop { input, g } => {
                let m = a.view().into_dimensionality::<Ix2>().map_err(|e| invalid(e.to_string()))?;
                conv::crop(&conv::col2im(&m.to_owned(), input, g.kh, g.kw, g.stride)?, g.padding)
            }
            Relayout::PoolSum(g) => conv::pool_sum(a, *g),
            Relayout::PoolSpread { input, g } => conv::pool_spread(a, input, *g),
            Relayout::Pad(p) => conv::pad(a, *p),
            Relayout::Crop(p) => conv::crop(a, *p),
            Relayout::Windows(g) => conv::windows(a, *g),
            Relayout::Unwindows { input, g } => conv::unwindows(a, input, *g),
            Relayout::Take0(from, to) => conv::take0(a, *from, *to),
            Relayout::Place0(n, at) => conv::place0(a, *n, *at),
        }
    }
}

/// The arithmetic of a model's layers. `label` names a step's messages (plaintext ignores it).
pub trait Backend {
    /// A tensor.
    type T: Clone;
    /// What a dense or conv product keeps for its backward pass.
    type Kept;
    /// A data set opened masked once (mask reuse; plaintext has none).
    type Opened;

    /// A tensor's shape.
    fn shape(t: &Self::T) -> &[usize];

    /// `x W` for a batch `x (B, K)` and `w (K, N)`; `keep` keeps what the gradients need.
    fn dense(&mut self, x: Input<'_, Self>, w: &Self::T, keep: bool, label: &Label) -> Result<(Self::T, Self::Kept)>;
    /// `xᵀ d`: the weight gradient of a dense layer.
    fn dense_grad_w(&mut self, kept: &Self::Kept, d: &Self::T, label: &Label) -> Result<Self::T>;
    /// `d Wᵀ`: the delta at a dense layer's input.
    fn dense_grad_x(&mut self, kept: &Self::Kept, d: &Self::T, label: &Label) -> Result<Self::T>;

    /// The convolution of images `x (B, C, H, W)` with filters `w (O, C, KH, KW)`, padded by `g.padding`.
    fn conv(
        &mut self,
        x: Input<'_, Self>,
        w: &Self::T,
        g: &ConvGeom,
        keep: bool,
        label: &Label,
    ) -> Result<(Self::T, Self::Kept)>;
    /// `im2col(x)ᵀ drows` `(C*KH*KW, O)`: the filter gradient, from the output delta as rows `(B*OH*OW, O)`.
    fn conv_grad_w(&mut self, kept: &Self::Kept, drows: &Self::T, g: &ConvGeom, label: &Label) -> Result<Self::T>;
    /// `drows Kᵀ` `(B*OH*OW, C*KH*KW)`, K the kernel matrix: the patches' deltas.
    fn conv_grad_x(&mut self, kept: &Self::Kept, drows: &Self::T, label: &Label) -> Result<Self::T>;

    /// Lets go of what a product kept, once its backward pass is done (shares: the dealer's kept masks,
    /// released at [`Backend::end_step`]).
    fn release(&mut self, kept: Self::Kept);
    /// The end of a training step, after the update.
    fn end_step(&mut self) {}

    /// `f(x)`, with what the backward pass needs to multiply by `f'` at `x` when `grad` is given.
    fn activation(
        &mut self,
        x: &Self::T,
        f: Activation,
        grad: Option<Activation>,
        label: &Label,
    ) -> Result<(Self::T, Option<Self::T>)>;
    /// `d ∘ f'(x)` from what [`Backend::activation`] kept.
    fn times_derivative(&mut self, d: Self::T, kept: &Self::T, grad: Activation, label: &Label) -> Result<Self::T>;

    /// `a + b`, same shapes (local on shares).
    fn add(&mut self, a: &Self::T, b: &Self::T) -> Result<Self::T>;
    /// `a - b`, same shapes (local on shares).
    fn sub(&mut self, a: &Self::T, b: &Self::T) -> Result<Self::T>;
    /// `z + b`, `b` broadcast along axis 1.
    fn add_bias(&mut self, z: Self::T, b: &Self::T) -> Result<Self::T>;
    /// The sum over every axis but 1 (a bias gradient).
    fn sum_to_axis1(&mut self, d: &Self::T) -> Result<Self::T>;
    /// `t / k` for a public `k` (shares: times `1 / k`, rescaled).
    fn div(&mut self, t: &Self::T, k: f64) -> Result<Self::T>;
    /// The transpose of a matrix.
    fn transpose(&mut self, t: &Self::T) -> Result<Self::T>;
    /// The same values in `shape`.
    fn reshape(&mut self, t: &Self::T, shape: &[usize]) -> Result<Self::T>;
    /// A layout change to a tensor of `shape`.
    fn relayout(&mut self, t: &Self::T, shape: &[usize], r: &Relayout) -> Result<Self::T>;
    /// `w -= c g`.
    fn update(&mut self, w: &mut Self::T, g: &Self::T, c: f64) -> Result<()>;
}
