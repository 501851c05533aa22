//! The arithmetic shares live in: the ring Z_2^64 with fixed point (secure), or the paper's float sharing
//! (explicitly insecure, kept to measure it).
//!
//! # Fixed point and truncation
//!
//! A real x is the ring element `round(x * 2^f)` (two's complement), `f = frac_bits` (default 16). A product
//! of two encodings carries `2f` fractional bits and is truncated by `f` with SecureML's local truncation:
//! P0 shifts its share arithmetically, `x0 >> f`; P1 computes `-((-x1) >> f)`. No message is needed.
//!
//! - Error: the truncated value is `floor(x / 2^f)` or one more, so at most one unit in the last place,
//!   `2^-f` (1.5e-5 for f = 16), per truncation.
//! - Failure: when the two shares straddle the signed wrap-around, the result is off by about `2^(64-f)`.
//!   For a secret `x` (as a ring integer) and a uniform share, that happens with probability `|x| / 2^64`
//!   exactly (the share falls in a window of width |x| next to -2^63). A value of magnitude 1000 at f = 16
//!   before truncation carries 2f = 32 fractional bits: |x| ~ 2^42, failure probability 2^-22 per element.
//!   The tests measure this rate at |x| = 2^61, where it is 1/8.
//!
//! # Float sharing (insecure)
//!
//! The paper shares x as `x - r` and `r` with Gaussian `r` whose variance exceeds x's. Every share then
//! leaks x: `x - r` is x plus Gaussian noise, exactly the noise transformation `rtas bound noise` measures.
//! rtas implements it with the same operations so that its cost and its leakage can be shown, and labels it
//! INSECURE wherever it appears.

use super::prg::Prg;
use crate::error::{Result, invalid};
use crate::net::Payload;
use ndarray::{Array2, ArrayD, ArrayView2, IxDyn};
use rand_distr::{Distribution, StandardNormal};
use std::fmt::Debug;

/// An element shares are made of: u64 (wrapping) or f64.
pub trait Elem: Copy + Send + Sync + Default + PartialEq + Debug + 'static {
    /// x + y.
    fn add(self, o: Self) -> Self;
    /// x - y.
    fn sub(self, o: Self) -> Self;
    /// x * y.
    fn mul(self, o: Self) -> Self;
    /// Into a message payload.
    fn into_payload(a: ArrayD<Self>) -> Payload;
    /// Out of a message payload; the reason why not if it holds another kind.
    fn from_payload(p: Payload) -> std::result::Result<ArrayD<Self>, String>;
    /// A 2-D product.
    fn matmul(a: ArrayView2<Self>, b: ArrayView2<Self>) -> Array2<Self>;
    /// The elements as ring elements, if they are (for the truncation monitor).
    fn as_ring(s: &[Self]) -> Option<&[u64]>;

    // Whole arrays. Values compute; a shape-only element (`work::Nil`) has nothing to compute and charges
    // the pass to its party's work meter instead, so protocol code reads the same for values and shapes.

    /// An array of `shape` built without visiting its elements, when the elements carry no value (a
    /// shape-only run's result of a rearrangement); `None` for values, which must be computed.
    fn nil_array(_shape: &[usize]) -> Option<ArrayD<Self>> {
        None
    }
    /// Notes one element-wise pass over `n` elements: nothing for values (the pass is done), a charge for
    /// shapes.
    fn charge_pass(_n: usize) {}
    /// `a - b`, element-wise.
    fn sub_arrays(a: &ArrayD<Self>, b: &ArrayD<Self>) -> ArrayD<Self> {
        let mut o = a.clone();
        o.zip_mut_with(b, |x, &y| *x = x.sub(y));
        o
    }
    /// `a + b`, element-wise.
    fn add_arrays(a: &ArrayD<Self>, b: &ArrayD<Self>) -> ArrayD<Self> {
        let mut o = a.clone();
        o.zip_mut_with(b, |x, &y| *x = x.add(y));
        o
    }
    /// `a += b`, element-wise.
    fn add_assign_arrays(a: &mut ArrayD<Self>, b: &ArrayD<Self>) {
        a.zip_mut_with(b, |x, &y| *x = x.add(y));
    }
    /// `a -= r`, element-wise, for `r` in `a`'s logical order.
    fn sub_assign_elems(a: &mut ArrayD<Self>, r: &[Self]) {
        a.iter_mut().zip(r).for_each(|(x, &y)| *x = x.sub(y));
    }
    /// `a ∘ b`, element-wise.
    fn mul_arrays(a: &ArrayD<Self>, b: &ArrayD<Self>) -> ArrayD<Self> {
        let mut o = a.clone();
        o.zip_mut_with(b, |x, &y| *x = x.mul(y));
        o
    }
}

impl Elem for u64 {
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        self.wrapping_add(o)
    }
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        self.wrapping_sub(o)
    }
    #[inline(always)]
    fn mul(self, o: Self) -> Self {
        self.wrapping_mul(o)
    }
    fn into_payload(a: ArrayD<Self>) -> Payload {
        Payload::Ring(a)
    }
    fn from_payload(p: Payload) -> std::result::Result<ArrayD<Self>, String> {
        match p {
            Payload::Ring(a) => Ok(a),
            other => Err(format!("expected ring elements, got {}", other.kind_name())),
        }
    }
    fn matmul(a: ArrayView2<Self>, b: ArrayView2<Self>) -> Array2<Self> {
        super::kernel::matmul_u64(a, b)
    }
    fn as_ring(s: &[Self]) -> Option<&[u64]> {
        Some(s)
    }
}

impl Elem for f64 {
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        self + o
    }
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        self - o
    }
    #[inline(always)]
    fn mul(self, o: Self) -> Self {
        self * o
    }
    fn into_payload(a: ArrayD<Self>) -> Payload {
        Payload::Float(a)
    }
    fn from_payload(p: Payload) -> std::result::Result<ArrayD<Self>, String> {
        match p {
            Payload::Float(a) => Ok(a),
            other => Err(format!("expected floats, got {}", other.kind_name())),
        }
    }
    fn matmul(a: ArrayView2<Self>, b: ArrayView2<Self>) -> Array2<Self> {
        super::kernel::matmul_f64(a, b)
    }
    fn as_ring(_: &[Self]) -> Option<&[u64]> {
        None
    }
}

/// How reals become shares and back.
pub trait Arith: Clone + Send + Sync + Debug + 'static {
    /// The share element.
    type E: Elem;
    /// Whether shares carry no values (a shape-only run, `work::ShapeArith`): code that needs values skips
    /// them and charges their cost (`work::charge`) instead.
    const SHAPE_ONLY: bool = false;

    /// Called once on the party's own thread when it sets up.
    fn start(&self) {}
    /// `ring` or `float (INSECURE)`.
    fn name(&self) -> &'static str;
    /// Encodes one real.
    fn encode(&self, x: f64) -> Result<Self::E>;
    /// Decodes one element.
    fn decode(&self, e: Self::E) -> f64;
    /// `n` share masks from a PRG (uniform ring elements, or Gaussian floats).
    fn masks(&self, prg: &mut Prg, n: usize) -> Vec<Self::E>;
    /// Brings a share of a product of two encodings back to one encoding (`share` of party 0 or 1).
    fn rescale(&self, party: usize, share: &mut [Self::E]);
    /// Largest error one product adds (decoded units).
    fn product_error(&self) -> f64;

    /// Encodes a tensor (refusing NaN and values out of range).
    fn encode_all(&self, x: &ArrayD<f64>) -> Result<ArrayD<Self::E>> {
        let mut out = Vec::with_capacity(x.len());
        for &v in x.iter() {
            out.push(self.encode(v)?);
        }
        ArrayD::from_shape_vec(IxDyn(x.shape()), out).map_err(|e| invalid(e.to_string()))
    }

    /// Decodes a tensor.
    fn decode_all(&self, x: &ArrayD<Self::E>) -> ArrayD<f64> {
        x.mapv(|e| self.decode(e))
    }
}

/// Z_2^64 with `frac_bits` fractional bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingArith {
    /// Fractional bits f.
    pub frac_bits: u32,
}

impl Default for RingArith {
    fn default() -> Self {
        Self { frac_bits: 16 }
    }
}

impl RingArith {
    /// A fixed-point ring with `frac_bits` in 1..=30 (products need 2f + integer bits below 63).
    pub fn new(frac_bits: u32) -> Result<Self> {
        if !(1..=30).contains(&frac_bits) {
            return Err(invalid(format!("--frac-bits must be in 1..=30, got {frac_bits}")));
        }
        Ok(Self { frac_bits })
    }

    /// Largest magnitude that encodes, `2^(62 - f)`. A product `x y` needs `|x y| < 2^(63 - 2f)` before its
    /// truncation (2^31 for f = 16); beyond that it wraps, as in every fixed-point MPC framework.
    pub fn max_abs(&self) -> f64 {
        2f64.powi(62 - self.frac_bits as i32)
    }

    /// Refuses these fractional bits for `what`, a product summing `terms` terms of magnitude up to
    /// `max_product` (reals), if its value before truncation, `terms * max_product * 2^(2f)`, can leave the
    /// ring's signed range; the error names the largest fractional bits that fit.
    pub fn check_products(&self, what: &str, terms: f64, max_product: f64) -> Result<()> {
        let f = self.frac_bits;
        let log2_bound = terms.log2() + max_product.log2() + 2.0 * f as f64;
        if log2_bound > 62.0 {
            let fmax = ((62.0 - terms.log2() - max_product.log2()) / 2.0).floor().max(0.0);
            return Err(invalid(format!(
                "--frac-bits {f}: {what} summing {terms} products of magnitude up to {max_product} reaches \
                 2^{log2_bound:.1} before truncation, past the ring's signed range 2^63 (products would wrap); \
                 use --frac-bits {fmax} or fewer"
            )));
        }
        Ok(())
    }

    /// SecureML local truncation of one share.
    #[inline(always)]
    pub fn truncate_share(&self, party: usize, x: u64) -> u64 {
        let f = self.frac_bits;
        if party == 0 { ((x as i64) >> f) as u64 } else { (((x.wrapping_neg()) as i64) >> f).wrapping_neg() as u64 }
    }
}

impl Arith for RingArith {
    type E = u64;

    fn name(&self) -> &'static str {
        "ring"
    }

    fn encode(&self, x: f64) -> Result<u64> {
        if !x.is_finite() {
            return Err(invalid(format!("cannot encode {x} in fixed point")));
        }
        if x.abs() >= self.max_abs() {
            return Err(invalid(format!(
                "{x:e} is outside the fixed-point range +-{:e} ({} fractional bits)",
                self.max_abs(),
                self.frac_bits
            )));
        }
        Ok((x * 2f64.powi(self.frac_bits as i32)).round() as i64 as u64)
    }

    fn decode(&self, e: u64) -> f64 {
        e as i64 as f64 / 2f64.powi(self.frac_bits as i32)
    }

    fn masks(&self, prg: &mut Prg, n: usize) -> Vec<u64> {
        prg.ring(n)
    }

    fn rescale(&self, party: usize, share: &mut [u64]) {
        for x in share {
            *x = self.truncate_share(party, *x);
        }
    }

    fn product_error(&self) -> f64 {
        2f64.powi(-(self.frac_bits as i32))
    }
}

/// The paper's float sharing: masks are Gaussian with standard deviation `sigma`. INSECURE.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FloatArith {
    /// Standard deviation of the masks.
    pub sigma: f64,
}

impl Default for FloatArith {
    fn default() -> Self {
        Self { sigma: 10.0 }
    }
}

impl Arith for FloatArith {
    type E = f64;

    fn name(&self) -> &'static str {
        "float (INSECURE)"
    }

    fn encode(&self, x: f64) -> Result<f64> {
        if !x.is_finite() {
            return Err(invalid(format!("cannot share {x}")));
        }
        Ok(x)
    }

    fn decode(&self, e: f64) -> f64 {
        e
    }

    fn masks(&self, prg: &mut Prg, n: usize) -> Vec<f64> {
        (0..n).map(|_| self.sigma * <StandardNormal as Distribution<f64>>::sample(&StandardNormal, prg)).collect()
    }

    fn rescale(&self, _party: usize, _share: &mut [f64]) {}

    fn product_error(&self) -> f64 {
        // Cancellation of mask products of size sigma^2 in f64.
        self.sigma * self.sigma * 1e-13
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_decode_round_trip_and_range() {
        let r = RingArith::default();
        for x in [0.0, 1.5, -2.25, 1234.5678, -0.000_01] {
            assert!((r.decode(r.encode(x).unwrap()) - x).abs() <= 0.5 / 65536.0);
        }
        assert!(r.encode(f64::NAN).is_err());
        assert!(r.encode(1e15).is_err());
        assert!(r.encode(1e9).is_ok());
        assert!(RingArith::new(0).is_err() && RingArith::new(31).is_err());
    }

    #[test]
    fn local_truncation_is_off_by_at_most_one_ulp() {
        let r = RingArith::default();
        let mut prg = Prg::new(&[3; 16], 0);
        for i in 0..10_000 {
            let x = (i as f64 - 5000.0) * 0.731;
            let wide = (x * 2f64.powi(32)).round() as i64 as u64; // 2f fractional bits
            let s0 = prg.ring(1)[0];
            let s1 = wide.wrapping_sub(s0);
            let t = r.truncate_share(0, s0).wrapping_add(r.truncate_share(1, s1));
            let exact = (wide as i64) >> 16;
            let diff = (t as i64).wrapping_sub(exact);
            assert!((0..=1).contains(&diff), "x = {x}: off by {diff}");
        }
    }

    #[test]
    fn local_truncation_fails_with_probability_x_over_2_to_64() {
        // |x| = 2^61: the documented failure rate is 2^61 / 2^64 = 1/8.
        let r = RingArith::default();
        let x: u64 = 1 << 61;
        let mut prg = Prg::new(&[4; 16], 0);
        let trials = 200_000;
        let mut failures = 0;
        for s0 in prg.ring(trials) {
            let s1 = x.wrapping_sub(s0);
            let t = r.truncate_share(0, s0).wrapping_add(r.truncate_share(1, s1));
            let diff = (t as i64).wrapping_sub((x as i64) >> 16);
            if !(0..=1).contains(&diff) {
                failures += 1;
            }
        }
        let rate = failures as f64 / trials as f64;
        let sd = (0.125 * 0.875 / trials as f64).sqrt();
        assert!((rate - 0.125).abs() < 5.0 * sd, "failure rate {rate}, expected 0.125");
    }
}
