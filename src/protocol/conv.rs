//! Convolution as a matrix product (im2col), for any share element. Layout NCHW: images `(B, C, H, W)`,
//! filters `(O, C, KH, KW)`, outputs `(B, O, OH, OW)` with `OH = (H - KH)/stride + 1` (no padding).

use super::ring::Elem;
use super::work::{Op, charge};

/// A shape-only run's result of a rearrangement: `shape`, no values, its elements charged as one pass.
fn shape_only<E: Elem>(shape: &[usize]) -> Option<ArrayD<E>> {
    E::nil_array(shape).inspect(|_| E::charge_pass(shape.iter().product::<usize>()))
}

fn shape_only2<E: Elem>(rows: usize, cols: usize) -> Option<Array2<E>> {
    shape_only::<E>(&[rows, cols]).map(|_| Array2::from_elem((rows, cols), E::default()))
}
use crate::error::{Result, invalid};
use ndarray::{Array2, ArrayD, IxDyn};

/// Output height and width, or an error when the kernel does not fit.
pub fn out_hw(x: &[usize], w: &[usize], stride: usize) -> Result<(usize, usize)> {
    if x.len() != 4 || w.len() != 4 {
        return Err(invalid(format!("conv2d needs 4-D image {x:?} and kernel {w:?}")));
    }
    if stride == 0 {
        return Err(invalid("conv2d stride must be at least 1"));
    }
    if x[1] != w[1] {
        return Err(invalid(format!("conv2d: image has {} channels, kernel {}", x[1], w[1])));
    }
    if w[2] > x[2] || w[3] > x[3] || w[2] == 0 || w[3] == 0 {
        return Err(invalid(format!("conv2d: kernel {}x{} does not fit image {}x{}", w[2], w[3], x[2], x[3])));
    }
    Ok(((x[2] - w[2]) / stride + 1, (x[3] - w[3]) / stride + 1))
}

/// Patches of `x` as rows: `(B*OH*OW, C*KH*KW)`, row `(b, oh, ow)`, column `(c, i, j)`.
pub fn im2col<E: Elem>(x: &ArrayD<E>, kh: usize, kw: usize, stride: usize) -> Result<Array2<E>> {
    let s = x.shape();
    let (b, c, h, w) = (s[0], s[1], s[2], s[3]);
    let (oh, ow) = out_hw(s, &[1, c, kh, kw], stride)?;
    if let Some(z) = shape_only2(b * oh * ow, c * kh * kw) {
        return Ok(z);
    }
    let x = x.as_standard_layout();
    let xs = x.as_slice().unwrap_or(&[]);
    let cols = c * kh * kw;
    let mut out = Vec::with_capacity(b * oh * ow * cols);
    for bi in 0..b {
        for oi in 0..oh {
            for oj in 0..ow {
                for ci in 0..c {
                    for i in 0..kh {
                        let row = ((bi * c + ci) * h + oi * stride + i) * w + oj * stride;
                        out.extend_from_slice(&xs[row..row + kw]);
                    }
                }
            }
        }
    }
    Array2::from_shape_vec((b * oh * ow, cols), out).map_err(|e| invalid(e.to_string()))
}

/// `(B*OH*OW, O)` rows back to `(B, O, OH, OW)`.
pub fn rows_to_nchw<E: Elem>(r: &Array2<E>, b: usize, o: usize, oh: usize, ow: usize) -> Result<ArrayD<E>> {
    if let Some(z) = shape_only(&[b, o, oh, ow]) {
        return Ok(z);
    }
    let mut out = vec![E::default(); b * o * oh * ow];
    for bi in 0..b {
        for p in 0..oh * ow {
            for oi in 0..o {
                out[(bi * o + oi) * oh * ow + p] = r[(bi * oh * ow + p, oi)];
            }
        }
    }
    ArrayD::from_shape_vec(IxDyn(&[b, o, oh, ow]), out).map_err(|e| invalid(e.to_string()))
}

/// `(B, O, OH, OW)` to rows `(B*OH*OW, O)` (the inverse of [`rows_to_nchw`]).
pub fn nchw_to_rows<E: Elem>(y: &ArrayD<E>) -> Result<Array2<E>> {
    let s = y.shape();
    if s.len() != 4 {
        return Err(invalid(format!("expected (B, O, OH, OW), got {s:?}")));
    }
    let (b, o, oh, ow) = (s[0], s[1], s[2], s[3]);
    if let Some(z) = shape_only2(b * oh * ow, o) {
        return Ok(z);
    }
    let y = y.as_standard_layout();
    let ys = y.as_slice().unwrap_or(&[]);
    Ok(Array2::from_shape_fn((b * oh * ow, o), |(r, oi)| {
        let (bi, p) = (r / (oh * ow), r % (oh * ow));
        ys[(bi * o + oi) * oh * ow + p]
    }))
}

/// Filters `(O, C, KH, KW)` as the matrix `(C*KH*KW, O)`.
pub fn kernel_matrix<E: Elem>(w: &ArrayD<E>) -> Result<Array2<E>> {
    let s = w.shape();
    let (o, cols) = (s[0], s[1] * s[2] * s[3]);
    if let Some(z) = shape_only2(cols, o) {
        return Ok(z);
    }
    let w = w.as_standard_layout();
    let ws = w.as_slice().unwrap_or(&[]);
    Ok(Array2::from_shape_fn((cols, o), |(k, oi)| ws[oi * cols + k]))
}

/// The convolution of `x` with `w`.
pub fn conv2d<E: Elem>(x: &ArrayD<E>, w: &ArrayD<E>, stride: usize) -> Result<ArrayD<E>> {
    let (oh, ow) = out_hw(x.shape(), w.shape(), stride)?;
    let cols = im2col(x, w.shape()[2], w.shape()[3], stride)?;
    let r = E::matmul(cols.view(), kernel_matrix(w)?.view());
    rows_to_nchw(&r, x.shape()[0], w.shape()[0], oh, ow)
}

fn spatial<E: Elem>(x: &ArrayD<E>) -> Result<(usize, usize, usize, usize)> {
    match *x.shape() {
        [b, c, h, w] => Ok((b, c, h, w)),
        ref s => Err(invalid(format!("expected (B, C, H, W), got {s:?}"))),
    }
}

/// Zero padding of `(B, C, H, W)` by `p` on every side (local on shares: both pad with zeros).
pub fn pad<E: Elem>(x: &ArrayD<E>, p: usize) -> Result<ArrayD<E>> {
    let (b, c, h, w) = spatial(x)?;
    if p == 0 {
        return Ok(x.clone());
    }
    let (ph, pw) = (h + 2 * p, w + 2 * p);
    if let Some(z) = shape_only(&[b, c, ph, pw]) {
        return Ok(z);
    }
    let x = x.as_standard_layout();
    let xs = x.as_slice().unwrap_or(&[]);
    let mut out = vec![E::default(); b * c * ph * pw];
    for plane in 0..b * c {
        for i in 0..h {
            let to = (plane * ph + i + p) * pw + p;
            out[to..to + w].copy_from_slice(&xs[(plane * h + i) * w..(plane * h + i + 1) * w]);
        }
    }
    ArrayD::from_shape_vec(IxDyn(&[b, c, ph, pw]), out).map_err(|e| invalid(e.to_string()))
}

/// The interior of a padded `(B, C, H, W)` (the adjoint of [`pad`] for gradients).
pub fn crop<E: Elem>(x: &ArrayD<E>, p: usize) -> Result<ArrayD<E>> {
    let (b, c, ph, pw) = spatial(x)?;
    if p == 0 {
        return Ok(x.clone());
    }
    if ph < 2 * p || pw < 2 * p {
        return Err(invalid(format!("cannot crop {p} from {ph}x{pw}")));
    }
    let (h, w) = (ph - 2 * p, pw - 2 * p);
    if let Some(z) = shape_only(&[b, c, h, w]) {
        return Ok(z);
    }
    let x = x.as_standard_layout();
    let xs = x.as_slice().unwrap_or(&[]);
    let mut out = Vec::with_capacity(b * c * h * w);
    for plane in 0..b * c {
        for i in 0..h {
            let from = (plane * ph + i + p) * pw + p;
            out.extend_from_slice(&xs[from..from + w]);
        }
    }
    ArrayD::from_shape_vec(IxDyn(&[b, c, h, w]), out).map_err(|e| invalid(e.to_string()))
}

/// Scatter-adds patch rows `(B*OH*OW, C*KH*KW)` back into `shape = (B, C, H, W)`: the adjoint of [`im2col`]
/// (linear, so local on shares).
pub fn col2im<E: Elem>(cols: &Array2<E>, shape: &[usize], kh: usize, kw: usize, stride: usize) -> Result<ArrayD<E>> {
    let (oh, ow) = out_hw(shape, &[1, shape.get(1).copied().unwrap_or(0), kh, kw], stride)?;
    let (b, c, h, w) = (shape[0], shape[1], shape[2], shape[3]);
    if cols.dim() != (b * oh * ow, c * kh * kw) {
        return Err(invalid(format!("col2im: {:?} patches for {shape:?}", cols.dim())));
    }
    if let Some(z) = shape_only(shape) {
        return Ok(z);
    }
    let mut out = vec![E::default(); b * c * h * w];
    for bi in 0..b {
        for oi in 0..oh {
            for oj in 0..ow {
                let r = (bi * oh + oi) * ow + oj;
                for ci in 0..c {
                    for i in 0..kh {
                        for j in 0..kw {
                            let v = cols[(r, (ci * kh + i) * kw + j)];
                            let o = &mut out[((bi * c + ci) * h + oi * stride + i) * w + oj * stride + j];
                            *o = o.add(v);
                        }
                    }
                }
            }
        }
    }
    ArrayD::from_shape_vec(IxDyn(shape), out).map_err(|e| invalid(e.to_string()))
}

/// A pooling window over `(B, C, H, W)`: `kh x kw`, strides `sh` (down) and `sw` (across), no padding (a padded
/// pool pads first with [`pad`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pool {
    /// Window height.
    pub kh: usize,
    /// Window width.
    pub kw: usize,
    /// Vertical stride.
    pub sh: usize,
    /// Horizontal stride.
    pub sw: usize,
}

/// `(B, C, H, W)` of an input and `(OH, OW)` of its pooled output.
type Geometry = ((usize, usize, usize, usize), (usize, usize));

impl Pool {
    /// `(B, C, H, W)` and the output's `(OH, OW)` for an input of `shape`.
    fn geometry(self, shape: &[usize]) -> Result<Geometry> {
        let [b, c, h, w] = *shape else {
            return Err(invalid(format!("expected (B, C, H, W), got {shape:?}")));
        };
        let side = |n: usize, k: usize, s: usize| {
            if k == 0 || s == 0 || k > n {
                return Err(invalid(format!(
                    "pool window {}x{} (stride {}, {}) over {h}x{w}",
                    self.kh, self.kw, self.sh, self.sw
                )));
            }
            Ok((n - k) / s + 1)
        };
        Ok(((b, c, h, w), (side(h, self.kh, self.sh)?, side(w, self.kw, self.sw)?)))
    }

    /// Calls `f(o, k, i)` for every output position `o` (flat, `(B*C, OH, OW)` order), window element `k`
    /// (row-major) and the input offset `i` that element reads, outputs in order and `k` increasing within
    /// each: the one traversal every pooling relayout below is.
    fn visit(
        self,
        (h, w): (usize, usize),
        planes: usize,
        (oh, ow): (usize, usize),
        mut f: impl FnMut(usize, usize, usize),
    ) {
        let n = self.kh * self.kw;
        for plane in 0..planes {
            for oi in 0..oh {
                for oj in 0..ow {
                    let o = (plane * oh + oi) * ow + oj;
                    for k in 0..n {
                        f(o, k, (plane * h + oi * self.sh + k / self.kw) * w + oj * self.sw + k % self.kw);
                    }
                }
            }
        }
    }
}

/// `x` as a contiguous slice (a copy only when it is not in standard layout).
fn standard<E: Elem>(x: &ArrayD<E>) -> std::borrow::Cow<'_, [E]> {
    match x.as_slice() {
        Some(s) => std::borrow::Cow::Borrowed(s),
        None => std::borrow::Cow::Owned(x.iter().copied().collect()),
    }
}

/// The sum of each window of `(B, C, H, W)` (an average pool before its division).
pub fn pool_sum<E: Elem>(x: &ArrayD<E>, g: Pool) -> Result<ArrayD<E>> {
    let ((b, c, h, w), (oh, ow)) = g.geometry(x.shape())?;
    if let Some(z) = shape_only(&[b, c, oh, ow]) {
        charge(Op::Elem, x.len() as f64);
        return Ok(z);
    }
    let xs = standard(x);
    let mut out = vec![E::default(); b * c * oh * ow];
    g.visit((h, w), b * c, (oh, ow), |o, _, i| out[o] = out[o].add(xs[i]));
    ArrayD::from_shape_vec(IxDyn(&[b, c, oh, ow]), out).map_err(|e| invalid(e.to_string()))
}

/// The adjoint of [`pool_sum`]: every window position of `in_shape` receives its windows' values, summed.
pub fn pool_spread<E: Elem>(d: &ArrayD<E>, in_shape: &[usize], g: Pool) -> Result<ArrayD<E>> {
    let ((b, c, h, w), (oh, ow)) = g.geometry(in_shape)?;
    if d.shape() != [b, c, oh, ow] {
        return Err(invalid(format!("pool gradient {:?} for input {in_shape:?}", d.shape())));
    }
    if let Some(z) = shape_only(in_shape) {
        return Ok(z);
    }
    let ds = standard(d);
    let mut out = vec![E::default(); b * c * h * w];
    g.visit((h, w), b * c, (oh, ow), |o, _, i| out[i] = out[i].add(ds[o]));
    ArrayD::from_shape_vec(IxDyn(in_shape), out).map_err(|e| invalid(e.to_string()))
}

/// Every window's elements, stacked: `(B, C, H, W)` to `(KH*KW, B, C, OH, OW)`, slice `k` holding element `k`
/// (row-major) of each window (a max pool compares the slices).
pub fn windows<E: Elem>(x: &ArrayD<E>, g: Pool) -> Result<ArrayD<E>> {
    let ((b, c, h, w), (oh, ow)) = g.geometry(x.shape())?;
    let (n, m) = (g.kh * g.kw, b * c * oh * ow);
    if let Some(z) = shape_only(&[n, b, c, oh, ow]) {
        return Ok(z);
    }
    let xs = standard(x);
    let mut out = vec![E::default(); n * m];
    g.visit((h, w), b * c, (oh, ow), |o, k, i| out[k * m + o] = xs[i]);
    ArrayD::from_shape_vec(IxDyn(&[n, b, c, oh, ow]), out).map_err(|e| invalid(e.to_string()))
}

/// The adjoint of [`windows`]: each slice's values added back at their positions in `in_shape`.
pub fn unwindows<E: Elem>(d: &ArrayD<E>, in_shape: &[usize], g: Pool) -> Result<ArrayD<E>> {
    let ((b, c, h, w), (oh, ow)) = g.geometry(in_shape)?;
    let (n, m) = (g.kh * g.kw, b * c * oh * ow);
    if d.shape() != [n, b, c, oh, ow] {
        return Err(invalid(format!("window deltas {:?} for input {in_shape:?}", d.shape())));
    }
    if let Some(z) = shape_only(in_shape) {
        return Ok(z);
    }
    let ds = standard(d);
    let mut out = vec![E::default(); b * c * h * w];
    g.visit((h, w), b * c, (oh, ow), |o, k, i| out[i] = out[i].add(ds[k * m + o]));
    ArrayD::from_shape_vec(IxDyn(in_shape), out).map_err(|e| invalid(e.to_string()))
}

/// Slices `from..to` of the first axis.
pub fn take0<E: Elem>(x: &ArrayD<E>, from: usize, to: usize) -> Result<ArrayD<E>> {
    let n = x.shape().first().copied().unwrap_or(0);
    if from > to || to > n {
        return Err(invalid(format!("slices {from}..{to} of {n}")));
    }
    let mut shape = x.shape().to_vec();
    shape[0] = to - from;
    if let Some(z) = shape_only(&shape) {
        return Ok(z);
    }
    Ok(x.slice_axis(ndarray::Axis(0), ndarray::Slice::from(from..to)).to_owned())
}

/// The adjoint of [`take0`]: `x` placed at slices `from..` of a zero array of `n` slices.
pub fn place0<E: Elem>(x: &ArrayD<E>, n: usize, from: usize) -> Result<ArrayD<E>> {
    let mut shape = x.shape().to_vec();
    let k = shape.first().copied().unwrap_or(0);
    if from + k > n {
        return Err(invalid(format!("{k} slices at {from} of {n}")));
    }
    shape[0] = n;
    if let Some(z) = shape_only(&shape) {
        return Ok(z);
    }
    let mut out = ArrayD::from_elem(IxDyn(&shape), E::default());
    out.slice_axis_mut(ndarray::Axis(0), ndarray::Slice::from(from..from + k)).assign(x);
    Ok(out)
}
