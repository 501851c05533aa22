//! Convolution as a matrix product (im2col), for any share element. Layout NCHW: images `(B, C, H, W)`,
//! filters `(O, C, KH, KW)`, outputs `(B, O, OH, OW)` with `OH = (H - KH)/stride + 1` (no padding).

use super::ring::Elem;
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
