//! Element-wise functions without a helper: FSS spline gates in the dealer model, by either of two gates
//! ([`FssGate`], chosen per run; every role runs the same):
//!
//! - one round ([`one_round`], the default): a DCF key per value whose payload gives arithmetic shares of each
//!   comparison and of its product with the mask (Boyle et al. 2021; AriaNN and LLAMA use the same
//!   construction), described below;
//! - two rounds ([`two_round`]): a DPF comparison key per value, less than half the bytes and half the AES
//!   blocks to generate, whose XOR-shared output is opened masked in a second round (SIGMA's construction).
//!
//! Both compute the same splines on the same comparison width: relu and its derivative come out the same to the
//! bit; a spline truncated once (sigmoid) can differ by the truncation's last unit, since the shares differ.
//!
//! For each value `x` (shared by P0 and P1) the dealer draws a mask `r`, shares it, and makes one DCF key
//! pair on `c = 63 - f` bits with threshold `r mod 2^c` and payload `±(1, r)`. P0 and P1 open
//! `x_hat = x + r` (one ring element each way: the only online message). For a public breakpoint `b`, the
//! sign of `y = x - b` is the top bit of `y mod 2^(c+1)` (exact while `|y| < 2^c`, which every value a product
//! can yield without overflowing the ring satisfies), and follows from `y_hat = x_hat - b`:
//! `MSB(y) = MSB(y_hat) xor MSB(r) xor [y_hat mod 2^c < r mod 2^c]` in Z_2^(c+1); the key gives shares of
//! that comparison and of its product with `r`,
//! so each party holds shares of `D = [x >= b]` and of `D x = D x_hat - D r` without a message. One key serves
//! every breakpoint of every function asked for at once (relu and its derivative share one; sigmoid and its
//! derivative share 24).
//!
//! A function is a linear spline: `f(x) = a0 x + c0 + sum_k [x >= b_k] (da_k x + dc_k)`. With integer
//! coefficients (relu, its derivative) it is computed exactly at scale f; otherwise at scale 2f and truncated
//! once (SecureML's local truncation, as for products). Pieces:
//! - relu: one break at one unit of `2^-f` (`[x > 0]`, exactly rtas's plaintext derivative), `x` above it,
//!   exact (no truncation);
//! - relu's derivative: the step at the same break, exact;
//! - sigmoid and its derivative: one line per piece on 11 pieces of [-6, 6] whose 12 breaks both share (one
//!   key's comparisons serve both), constant outside. The pieces are found greedily on a grid of 1/64, each as
//!   wide as keeps both functions within [`SIGMOID_ERROR`] (3e-3), and each line is the chord moved by the
//!   middle of its deviations (half the chord's error). Max error against the exact function, computed by
//!   [`max_error`], the coefficients rounded to the fixed-point grid as the gate encodes them: 3.01e-3 for
//!   sigmoid, 3.00e-3 for its derivative at f = 16 (plus 2^-f of rounding the input). Chords on 24
//!   intervals of width 1/2, as first written, took 25 breaks for 2.98e-3 and 3.63e-3.
//!
//! Offline, per value: both parties' root seeds come from the seeds they share with the dealer; the dealer
//! sends each of them the `c` correction words (32 bytes each, control bits packed) and the final word, and
//! P1 the corrections of its shares of `MSB(r)` and `MSB(r) r` (`r` itself is the sum of the two parties'
//! seeded draws): at f = 16 (c = 47), 1,536 bytes to P0 and 1,552 to P1 per value, 3.1 KB in all.

use super::dcf::{self, KeyRef};
use super::dpf;
use crate::error::{Result, invalid};
use crate::net::protocol_error;
use crate::net::{Label, Op, Phase, Role, ViewKind};
use crate::protocol::functions::Activation;
use crate::protocol::io::exchange;
use crate::protocol::party::FssGate;
use crate::protocol::party::Party;
use crate::protocol::ring::{Arith, RingArith};
use crate::protocol::share::Shared;
use crate::protocol::work::{Nil, ShapeArith};
use ndarray::{ArrayD, IxDyn};
use rayon::prelude::*;

/// Bits compared at `f` fractional bits: `63 - f`, or one less than a stated value width `K`
/// (`--value-bits`). The sign of `y` is read in Z_2^(c+1), which is exact whenever `-2^c <= y < 2^c` in ring
/// units. At the full width, `|y| < 2^(63-f)` ring units is `|y| < 2^(63-2f)` in reals: every value a product
/// can produce without overflowing the ring (the bound `rtas op` and `simulate` enforce) is in range. A
/// stated `K` covers `|y| < 2^(K-1-f)` in reals (MP-SPDZ's `sfix` default is K = 31 at f = 16).
fn compare_bits(frac_bits: u32, value_bits: Option<u32>) -> u32 {
    value_bits.map_or(63 - frac_bits, |k| k - 1)
}

/// The value widths a gate accepts at `f` fractional bits: from `f + 4` (the sigmoid's breaks at +-6 lie
/// inside) to the full `64 - f`.
fn value_bits_range(frac_bits: u32) -> std::ops::RangeInclusive<u32> {
    frac_bits + 4..=64 - frac_bits
}

/// An error unless `k` is a value width the gates accept at `frac_bits` (see [`value_bits_range`]): the one
/// check `simulate`, `plan` and the gates themselves make.
pub fn check_value_bits(k: u32, frac_bits: u32) -> Result<()> {
    let range = value_bits_range(frac_bits);
    if range.contains(&k) {
        return Ok(());
    }
    Err(invalid(format!(
        "--value-bits must lie between {} and {} at --frac-bits {frac_bits} (the sigmoid's breaks at +-6 inside, the \
         ring's 64 bits above), got {k}",
        range.start(),
        range.end()
    )))
}

/// `f(x) = a0 x + c0 + sum_k [x >= b_k] (da_k x + dc_k)`, with `b_k` in units of `2^-f`.
#[derive(Debug, Clone, PartialEq)]
pub struct Spline {
    /// Slope below every break.
    pub a0: f64,
    /// Intercept below every break.
    pub c0: f64,
    /// Breaks (encoded) with the slope and intercept changes at each.
    pub steps: Vec<(i64, f64, f64)>,
}

/// The largest error a sigmoid piece may have (the tails included): the error budget of the spline gates.
pub const SIGMOID_ERROR: f64 = 3e-3;

/// Breaks of the sigmoid splines on a grid of 1/64 (exact in fixed point from 6 fractional bits).
const GRID: f64 = 1.0 / 64.0;

/// Where the sigmoid splines turn constant: beyond `TAIL`, `sigmoid(-TAIL) / 2 < SIGMOID_ERROR` holds.
const TAIL: f64 = 6.0;

/// `f(x) - (a x + c)` at 257 points of `[lo, hi]`: the lowest and highest deviation.
fn deviation(f: fn(f64) -> f64, lo: f64, hi: f64, a: f64, c: f64) -> (f64, f64) {
    (0..=256).map(|i| lo + (hi - lo) * f64::from(i) / 256.0).fold((f64::MAX, f64::MIN), |(mn, mx), x| {
        let d = f(x) - (a * x + c);
        (mn.min(d), mx.max(d))
    })
}

/// The best line of the chord's slope on `[lo, hi]` (the chord moved by the middle of its deviations) and its
/// largest error there.
fn piece(f: fn(f64) -> f64, lo: f64, hi: f64) -> (f64, f64, f64) {
    let a = (f(hi) - f(lo)) / (hi - lo);
    let c = f(lo) - a * lo;
    let (mn, mx) = deviation(f, lo, hi, a, c);
    (a, c + (mn + mx) / 2.0, (mx - mn) / 2.0)
}

/// Breaks shared by sigmoid and its derivative: from `-TAIL`, each piece as wide as the grid allows while both
/// functions' best lines stay within [`SIGMOID_ERROR`] (greedy: 11 pieces over [-6, 6], so 12 breaks where
/// chords of width 1/2 took 25).
fn sigmoid_breaks() -> &'static [f64] {
    static BREAKS: std::sync::OnceLock<Vec<f64>> = std::sync::OnceLock::new();
    BREAKS.get_or_init(find_sigmoid_breaks)
}

fn find_sigmoid_breaks() -> Vec<f64> {
    use crate::protocol::functions::{sigmoid, sigmoid_grad};
    let fits = |lo: f64, hi: f64| {
        [sigmoid as fn(f64) -> f64, sigmoid_grad].iter().all(|&f| piece(f, lo, hi).2 <= SIGMOID_ERROR)
    };
    let mut out = vec![-TAIL];
    let mut lo = -TAIL;
    while lo < TAIL {
        let mut hi = (lo + GRID).min(TAIL);
        while hi < TAIL && fits(lo, (hi + GRID).min(TAIL)) {
            hi = (hi + GRID).min(TAIL);
        }
        out.push(hi);
        lo = hi;
    }
    out
}

/// `f` as a spline on `breaks`: constant outside them (the middle of `f`'s range beyond each end), its best
/// line of the chord's slope on each piece between.
fn pieces(f: fn(f64) -> f64, breaks: &[f64], frac_bits: u32) -> Spline {
    let scale = 2f64.powi(frac_bits as i32);
    let (first, last) = (breaks[0], breaks[breaks.len() - 1]);
    // Beyond each end f runs monotonically to its limit (0 or 1 for sigmoid, 0 for its derivative): the middle
    // of the values it takes there.
    let below = ((f(first) + f(first - 50.0)) / 2.0 * scale).round() / scale;
    let above = ((f(last) + f(last + 50.0)) / 2.0 * scale).round() / scale;
    let mut steps = Vec::new();
    let (mut a, mut c) = (0.0, below);
    for (i, &x) in breaks.iter().enumerate() {
        let (na, nc) = match breaks.get(i + 1) {
            Some(&hi) => {
                let (pa, pc, _) = piece(f, x, hi);
                (pa, pc)
            }
            None => (0.0, above),
        };
        // Coefficients on the fixed-point grid, as the gate encodes them (so [`max_error`] measures what runs).
        let (na, nc) = ((na * scale).round() / scale, (nc * scale).round() / scale);
        steps.push(((x * scale).round() as i64, na - a, nc - c));
        (a, c) = (na, nc);
    }
    Spline { a0: 0.0, c0: below, steps }
}

/// The spline rtas's FSS gates evaluate for `act` at `frac_bits` fractional bits.
pub fn spline(act: Activation, frac_bits: u32) -> Spline {
    use crate::protocol::functions::{sigmoid, sigmoid_grad};
    match act {
        Activation::Relu => Spline { a0: 0.0, c0: 0.0, steps: vec![(1, 1.0, 0.0)] },
        Activation::ReluGrad => Spline { a0: 0.0, c0: 0.0, steps: vec![(1, 0.0, 1.0)] },
        Activation::Sigmoid => pieces(sigmoid, sigmoid_breaks(), frac_bits),
        Activation::SigmoidGrad => pieces(sigmoid_grad, sigmoid_breaks(), frac_bits),
    }
}

impl Spline {
    /// Whether every slope and intercept is a small integer (then the gate needs no truncation).
    pub fn integral(&self) -> bool {
        let int = |v: f64| v.fract() == 0.0 && v.abs() < 1e6;
        int(self.a0) && int(self.c0) && self.steps.iter().all(|&(_, da, dc)| int(da) && int(dc))
    }

    /// The spline at a real `x` (no rounding).
    pub fn at(&self, x: f64, frac_bits: u32) -> f64 {
        let scale = 2f64.powi(frac_bits as i32);
        let mut y = self.a0 * x + self.c0;
        for &(b, da, dc) in &self.steps {
            if x * scale >= b as f64 {
                y += da * x + dc;
            }
        }
        y
    }
}

/// Largest |spline - act| over a fine grid of [-20, 20].
pub fn max_error(act: Activation, frac_bits: u32) -> f64 {
    let s = spline(act, frac_bits);
    (-400_000..=400_000)
        .map(|i| i as f64 * 5e-5)
        .filter(|&x| !(matches!(act, Activation::ReluGrad) && x.abs() < 1e-3))
        .map(|x| (s.at(x, frac_bits) - act.eval(x)).abs())
        .fold(0.0, f64::max)
}

/// The breaks of `fs`, each once, sorted.
fn breaks(fs: &[Spline]) -> Vec<i64> {
    let mut b: Vec<i64> = fs.iter().flat_map(|s| s.steps.iter().map(|st| st.0)).collect();
    b.sort_unstable();
    b.dedup();
    b
}

/// What one computing party draws from the seed it shares with the dealer, per value: its share of `r`,
/// of `MSB(r)`, of `MSB(r) r`, and its DCF root seed. The dealer draws the same for both parties.
struct Draws {
    r: Vec<u64>,
    m: Vec<u64>,
    mr: Vec<u64>,
    root: Vec<u128>,
}

fn draws(prg: &mut crate::protocol::prg::Prg, n: usize) -> Draws {
    let r = prg.ring(n);
    let m = prg.ring(n);
    let mr = prg.ring(n);
    let raw = prg.ring(2 * n);
    Draws { r, m, mr, root: (0..n).map(|i| (raw[2 * i] as u128 | (raw[2 * i + 1] as u128) << 64) & !1).collect() }
}

/// What a gate derives from its call before any message: the splines and their breaks (each once), the values'
/// count and shape, the label of the dealer's key messages, and the comparison width `c`.
struct Setup {
    splines: Vec<Spline>,
    bks: Vec<i64>,
    n: usize,
    shape: Vec<usize>,
    keys_label: Label,
    cb: u32,
}

impl Setup {
    fn new<A: Arith>(p: &Party<A>, frac_bits: u32, shape: &[usize], fs: &[Activation], label: &Label) -> Result<Self> {
        let (splines, bks) = splines_of(fs, frac_bits, label)?;
        if let Some(k) = p.value_bits() {
            check_value_bits(k, frac_bits)?;
        }
        Ok(Setup {
            splines,
            bks,
            n: shape.iter().product(),
            shape: shape.to_vec(),
            keys_label: label.op(Op::Triple),
            cb: compare_bits(frac_bits, p.value_bits()),
        })
    }

    /// Shows a simulation's monitor this party's share of the gate's values (see [`Party::observe_gate`]).
    fn observe(&self, p: &mut Party<RingArith>, x: &Shared<u64>) {
        if !p.monitored() {
            return;
        }
        if let (Some(v), Some(&lo), Some(&hi)) = (x.share(), self.bks.first(), self.bks.last()) {
            match v.as_slice() {
                Some(s) => p.observe_gate(s, self.cb, (lo, hi)),
                None => p.observe_gate(&v.iter().copied().collect::<Vec<_>>(), self.cb, (lo, hi)),
            }
        }
    }
}

/// A spline ready to apply: `a0`, `c0`, and per step (break index, `da`, `dc`), each already in the scale the
/// gate computes at.
type EncodedSpline = (u64, u64, Vec<(usize, u64, u64)>);

/// The splines of `fs` and their breaks, each once (an error for no function).
fn splines_of(fs: &[Activation], frac_bits: u32, label: &Label) -> Result<(Vec<Spline>, Vec<i64>)> {
    if fs.is_empty() {
        return Err(invalid(format!("'{label}': no function to apply")));
    }
    let splines: Vec<Spline> = fs.iter().map(|&a| spline(a, frac_bits)).collect();
    let bks = breaks(&splines);
    Ok((splines, bks))
}

/// Values whose keys travel in one message (6.3 MB at f = 16). Messages of this size pipeline (the dealer
/// generates the next chunk's keys while one travels and P0 and P1 evaluate the one before) and their buffers
/// are reused by the allocator. Measured on loopback (`rtas launch --local --model cnn --protocol mpc
/// --infer-batch 2000`, this 2-core host, the DCF's AES on the vaes path, three runs each): 16,384 values a message 8.4-9.1 s, 8,192
/// 8.9-9.8 s, 4,096 6.5-6.7 s, 1,024 6.1-6.2 s; but every message is a ledger entry of a shape-only run,
/// and `rtas plan` of VGG-16 at batch 128 took 26 s at 1,024 against 5.4 s at 4,096 (2.8 s at 8,192).
const CHUNK: usize = 4_096;

mod one_round;
mod two_round;

/// Per function, `a0`, `c0` and per break `(k, da, dc)`, applied to `x` (scale f) and `D` (scale 0). A spline
/// with integer coefficients (relu, its derivative) is computed at scale f exactly, with no truncation (so it
/// holds over the whole range of the comparison); others at scale 2f (slopes and intercepts encoded),
/// truncated once.
fn encode(splines: &[Spline], bks: &[i64], arith: RingArith) -> Result<Vec<EncodedSpline>> {
    let scale = 1u64 << arith.frac_bits;
    splines
        .iter()
        .map(|s| -> Result<_> {
            let ex = s.integral();
            let a = |v: f64| -> Result<u64> { if ex { Ok(v as i64 as u64) } else { arith.encode(v) } };
            let c =
                |v: f64| -> Result<u64> { Ok(if ex { v as i64 as u64 } else { arith.encode(v)? }.wrapping_mul(scale)) };
            let steps = s
                .steps
                .iter()
                .map(|&(b, da, dc)| {
                    let k = bks.binary_search(&b).map_err(|_| invalid("break not found"))?;
                    Ok((k, a(da)?, c(dc)?))
                })
                .collect::<Result<Vec<_>>>()?;
            Ok((a(s.a0)?, c(s.c0)?, steps))
        })
        .collect()
}

/// One value's share of every function (into `out`, one per plan) from its shares of `x` and, per break, of
/// `D_k` and `D_k x`.
#[inline]
fn combine(plans: &[EncodedSpline], lead: u64, x: u64, dk: &[(u64, u64)], out: &mut [u64]) {
    for ((a0, c0, steps), o) in plans.iter().zip(out) {
        let mut acc = a0.wrapping_mul(x).wrapping_add(lead.wrapping_mul(*c0));
        for &(k, da, dc) in steps {
            acc = acc.wrapping_add(da.wrapping_mul(dk[k].1)).wrapping_add(dc.wrapping_mul(dk[k].0));
        }
        *o = acc;
    }
}

/// Per function, its values from `flat` (value-major: every function's value of value 0, then of value 1...).
fn unflatten(flat: Vec<u64>, functions: usize) -> Vec<Vec<u64>> {
    if functions == 1 {
        return vec![flat];
    }
    (0..functions).map(|f| flat.iter().skip(f).step_by(functions).copied().collect()).collect()
}

/// The shared results, rescaled where a spline was computed at scale 2f.
fn results(
    p: &mut Party<RingArith>,
    outs: Vec<Vec<u64>>,
    splines: &[Spline],
    shape: &[usize],
) -> Result<Vec<Shared<u64>>> {
    let mut results = Vec::with_capacity(outs.len());
    for (mut v, s) in outs.into_iter().zip(splines) {
        if !s.integral() {
            p.rescale(&mut v)?;
        }
        results.push(Shared::held(ArrayD::from_shape_vec(IxDyn(shape), v).map_err(|e| invalid(e.to_string()))?));
    }
    Ok(results)
}

/// A shape-only run's results, rescaled where a spline is computed at scale 2f (as [`results`]).
fn shape_results(p: &mut Party<ShapeArith>, splines: &[Spline], shape: &[usize]) -> Result<Vec<Shared<Nil>>> {
    let n = shape.iter().product();
    let mut results = Vec::with_capacity(splines.len());
    for s in splines {
        let mut v = vec![Nil; n];
        if !s.integral() {
            p.rescale(&mut v)?;
        }
        results.push(Shared::held(ArrayD::from_elem(IxDyn(shape), Nil)));
    }
    Ok(results)
}

/// Applies each of `fs` to the shared `x` element by element through FSS gates (ring sharing only), by the
/// construction the party was set to ([`FssGate`]); one shared result per function.
pub fn apply(p: &mut Party<RingArith>, x: &Shared<u64>, fs: &[Activation], label: &Label) -> Result<Vec<Shared<u64>>> {
    match p.fss_gate() {
        FssGate::Dcf => one_round::apply(p, x, fs, label),
        FssGate::Dpf => two_round::apply(p, x, fs, label),
    }
}

/// [`apply`] in a shape-only run: the same messages with the same shapes, in the same order, and the key
/// generations and evaluations charged to the meter instead of computed.
pub fn apply_shape(
    p: &mut Party<ShapeArith>,
    x: &Shared<Nil>,
    fs: &[Activation],
    label: &Label,
) -> Result<Vec<Shared<Nil>>> {
    match p.fss_gate() {
        FssGate::Dcf => one_round::apply_shape(p, x, fs, label),
        FssGate::Dpf => two_round::apply_shape(p, x, fs, label),
    }
}

fn vec1(v: Vec<u64>) -> Result<ArrayD<u64>> {
    let n = v.len();
    ArrayD::from_shape_vec(IxDyn(&[n]), v).map_err(|e| invalid(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splines_stay_close_to_the_functions() {
        assert_eq!(max_error(Activation::Relu, 16), 0.0);
        assert_eq!(max_error(Activation::ReluGrad, 16), 0.0);
        let s = max_error(Activation::Sigmoid, 16);
        let g = max_error(Activation::SigmoidGrad, 16);
        // Within the budget plus the coefficients' rounding to the fixed-point grid (slope error 2^-17 times
        // |x| <= 6, intercept 2^-17).
        let slack = 7.0 * 2f64.powi(-17);
        assert!(s <= SIGMOID_ERROR + slack && g <= SIGMOID_ERROR + slack, "sigmoid {s}, derivative {g}");
        // Both share their breaks (one key per value serves both): 12 of them.
        let (a, b) = (spline(Activation::Sigmoid, 16), spline(Activation::SigmoidGrad, 16));
        assert_eq!(breaks(std::slice::from_ref(&a)), breaks(&[a, b]));
        assert_eq!(breaks(&[spline(Activation::Sigmoid, 16)]).len(), 12);
    }
}
