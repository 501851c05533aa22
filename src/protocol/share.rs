//! A secret-shared tensor as one party holds it, and the local operations on it (no messages).
//!
//! Every party runs the same protocol code, so every party has a `Shared` for every shared tensor: P0 and
//! P1 hold their additive share, the others hold only the (public) shape. `Debug` never prints a share.

use super::ring::Elem;

/// Notes one element-wise pass over `n` elements (charged in a shape-only run, done in a real one).
fn pass<E: Elem>(n: usize) {
    E::charge_pass(n);
}

/// A shape-only run's held share of `shape` (its elements carry nothing; built without visiting them).
fn nil_held<E: Elem>(shape: &[usize]) -> Option<Shared<E>> {
    E::nil_array(shape).map(Shared::held)
}
use crate::error::{Result, invalid};
use ndarray::{ArrayD, Axis, IxDyn};
use std::fmt;

/// One party's view of a secret-shared tensor.
#[derive(Clone, PartialEq)]
pub struct Shared<E: Elem> {
    shape: Vec<usize>,
    share: Option<ArrayD<E>>,
}

impl<E: Elem> fmt::Debug for Shared<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared").field("shape", &self.shape).field("share", &format_args!("..")).finish()
    }
}

impl<E: Elem> Shared<E> {
    /// A share held by P0 or P1.
    pub fn held(share: ArrayD<E>) -> Self {
        Self { shape: share.shape().to_vec(), share: Some(share) }
    }

    /// The shape only (parties without shares).
    pub fn shape_only(shape: &[usize]) -> Self {
        Self { shape: shape.to_vec(), share: None }
    }

    /// Shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Whether the tensor has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// This party's share, if it holds one.
    pub fn share(&self) -> Option<&ArrayD<E>> {
        self.share.as_ref()
    }

    /// This party's share (error for a party without shares).
    pub fn expect_share(&self) -> Result<&ArrayD<E>> {
        self.share.as_ref().ok_or_else(|| crate::net::protocol_error(None, "this party holds no share of that tensor"))
    }

    fn map2(&self, other: &Self, what: &str, f: impl Fn(E, E) -> E) -> Result<Self> {
        if self.shape != other.shape {
            return Err(invalid(format!("{what}: shapes {:?} and {:?} differ", self.shape, other.shape)));
        }
        Ok(match (&self.share, &other.share) {
            (Some(a), Some(b)) => {
                pass::<E>(a.len());
                if let Some(z) = nil_held(&self.shape) {
                    return Ok(z);
                }
                let mut out = a.clone();
                out.zip_mut_with(b, |x, &y| *x = f(*x, y));
                Self::held(out)
            }
            _ => Self::shape_only(&self.shape),
        })
    }

    /// x + y.
    pub fn add(&self, other: &Self) -> Result<Self> {
        self.map2(other, "add", E::add)
    }

    /// x - y.
    pub fn sub(&self, other: &Self) -> Result<Self> {
        self.map2(other, "sub", E::sub)
    }

    /// x + c for a public encoded c (P0 adds it; `party` is 0 or 1).
    pub fn add_public(&self, party: Option<usize>, c: &ArrayD<E>) -> Result<Self> {
        if c.shape() != self.shape.as_slice() {
            return Err(invalid(format!("add_public: shapes {:?} and {:?} differ", self.shape, c.shape())));
        }
        Ok(match (&self.share, party) {
            (Some(a), Some(0)) => {
                let mut out = a.clone();
                out.zip_mut_with(c, |x, &y| *x = x.add(y));
                Self::held(out)
            }
            _ => self.clone(),
        })
    }

    /// The transpose of a 2-D tensor.
    pub fn t(&self) -> Result<Self> {
        if self.shape.len() != 2 {
            return Err(invalid(format!("transpose needs 2 dimensions, got {:?}", self.shape)));
        }
        Ok(match &self.share {
            Some(a) => {
                pass::<E>(a.len());
                match nil_held(&[self.shape[1], self.shape[0]]) {
                    Some(z) => z,
                    None => Self::held(a.t().as_standard_layout().into_owned()),
                }
            }
            None => Self::shape_only(&[self.shape[1], self.shape[0]]),
        })
    }

    /// The same elements in another shape.
    pub fn reshape(&self, shape: &[usize]) -> Result<Self> {
        if shape.iter().product::<usize>() != self.len() {
            return Err(invalid(format!("reshape {:?} -> {shape:?}: sizes differ", self.shape)));
        }
        Ok(match &self.share {
            Some(a) => {
                pass::<E>(a.len());
                if let Some(z) = nil_held(shape) {
                    return Ok(z);
                }
                let v: Vec<E> = a.iter().copied().collect();
                Self::held(ArrayD::from_shape_vec(IxDyn(shape), v).map_err(|e| invalid(e.to_string()))?)
            }
            None => Self::shape_only(shape),
        })
    }

    /// Sum over axis 0 (e.g. a bias gradient over the batch).
    pub fn sum_axis0(&self) -> Result<Self> {
        if self.shape.is_empty() {
            return Err(invalid("sum over axis 0 of a scalar"));
        }
        Ok(match &self.share {
            Some(a) => match nil_held(&self.shape[1..]) {
                Some(z) => z,
                None => Self::held(a.fold_axis(Axis(0), E::default(), |s, &x| s.add(x))),
            },
            None => Self::shape_only(&self.shape[1..]),
        })
    }

    /// Adds a bias `b` (a vector as long as dimension `axis`) to every slice along the other dimensions:
    /// `(B, n) + (n)` with axis 1, `(B, C, H, W) + (C)` with axis 1.
    pub fn add_bias(&self, b: &Self, axis: usize) -> Result<Self> {
        let (outer, n, inner) = self.split_at_axis(axis)?;
        if b.shape != [n] {
            return Err(invalid(format!("bias of shape {:?} for dimension {axis} of {:?}", b.shape, self.shape)));
        }
        Ok(match (&self.share, &b.share) {
            (Some(a), Some(bv)) => {
                pass::<E>(2 * a.len());
                if let Some(z) = nil_held(&self.shape) {
                    return Ok(z);
                }
                let bv: Vec<E> = bv.iter().copied().collect();
                let mut v: Vec<E> = a.iter().copied().collect();
                for o in 0..outer {
                    for (j, bj) in bv.iter().enumerate() {
                        let start = (o * n + j) * inner;
                        v[start..start + inner].iter_mut().for_each(|x| *x = x.add(*bj));
                    }
                }
                Self::held(ArrayD::from_shape_vec(IxDyn(&self.shape), v).map_err(|e| invalid(e.to_string()))?)
            }
            _ => Self::shape_only(&self.shape),
        })
    }

    /// Sums over every dimension but `axis` (the gradient of [`Shared::add_bias`]).
    pub fn sum_to_axis(&self, axis: usize) -> Result<Self> {
        let (outer, n, inner) = self.split_at_axis(axis)?;
        Ok(match &self.share {
            Some(a) => {
                pass::<E>(2 * a.len());
                if let Some(z) = nil_held(&[n]) {
                    return Ok(z);
                }
                let v: Vec<E> = a.iter().copied().collect();
                let mut out = vec![E::default(); n];
                for o in 0..outer {
                    for (j, acc) in out.iter_mut().enumerate() {
                        let start = (o * n + j) * inner;
                        *acc = v[start..start + inner].iter().fold(*acc, |s, x| s.add(*x));
                    }
                }
                Self::held(ArrayD::from_shape_vec(IxDyn(&[n]), out).map_err(|e| invalid(e.to_string()))?)
            }
            None => Self::shape_only(&[n]),
        })
    }

    fn split_at_axis(&self, axis: usize) -> Result<(usize, usize, usize)> {
        if axis >= self.shape.len() {
            return Err(invalid(format!("axis {axis} of a tensor of shape {:?}", self.shape)));
        }
        Ok((self.shape[..axis].iter().product(), self.shape[axis], self.shape[axis + 1..].iter().product()))
    }

    /// Applies a local rearrangement (a layout change that every party applies to its own share) that maps
    /// a tensor of this shape to one of `shape`.
    pub fn relayout(&self, shape: &[usize], f: impl Fn(&ArrayD<E>) -> Result<ArrayD<E>>) -> Result<Self> {
        Ok(match &self.share {
            Some(_) if let Some(nil) = nil_held(shape) => {
                pass::<E>(self.len());
                nil
            }
            Some(a) => {
                let out = f(a)?;
                if out.shape() != shape {
                    return Err(invalid(format!("relayout produced {:?}, expected {shape:?}", out.shape())));
                }
                Self::held(out)
            }
            None => Self::shape_only(shape),
        })
    }
}
