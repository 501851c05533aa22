//! Counting fixed-point truncation failures where that is possible: in a simulation, where one process
//! holds both shares. SecureML's local truncation is exact up to one unit unless the two shares of the
//! pre-truncation value, read as signed integers, add up past the 64-bit range; then the result is off by
//! `2^(64 - f)` (65,536 at f = 24 in decoded units). The probability is about `|x| / 2^63` per element, so
//! a run with large values or many fractional bits fails silently unless someone counts. The monitor sees
//! P0's and P1's pre-truncation shares of every rescale (same order at both: SPMD) and counts the elements
//! whose signed shares overflow. A deployment has no monitor: no party ever sees both shares.
//!
//! The same monitor counts the inputs of FSS comparison gates outside the range their keys cover: a gate on
//! `c` bits reads the sign of `x - b` for each break `b` exactly while `-2^c <= x - b < 2^c` (in ring units);
//! outside, the sign and everything computed from it are silently wrong. The full width (`c = 63 - f`) covers
//! every value a product can yield without overflowing the ring; a stated narrower range (`--value-bits`)
//! is only as good as this count on a run of the same model and data.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Shared by P0 and P1 of one simulated run.
#[derive(Debug, Default)]
pub struct TruncationMonitor {
    pending: Mutex<HashMap<u64, (usize, Vec<u64>)>>,
    checked: AtomicU64,
    failures: AtomicU64,
    gates: Mutex<HashMap<u64, (usize, Vec<u64>)>>,
    range: Mutex<RangeCounts>,
}

/// The other party's share of call `call` once both are in (`None` for the first to arrive, which is kept).
fn pair(pending: &Mutex<HashMap<u64, (usize, Vec<u64>)>>, party: usize, call: u64, share: &[u64]) -> Option<Vec<u64>> {
    let mut pending = pending.lock().unwrap_or_else(|e| e.into_inner());
    match pending.remove(&call) {
        Some((p, s)) if p != party => Some(s),
        Some(mine) => {
            // The same party twice under one number cannot happen in SPMD code; keep the first.
            pending.insert(call, mine);
            None
        }
        None => {
            pending.insert(call, (party, share.to_vec()));
            None
        }
    }
}

impl TruncationMonitor {
    /// Party `party` (0 or 1) is about to truncate `share` in its rescale number `call`.
    pub fn observe(&self, party: usize, call: u64, share: &[u64]) {
        let Some(other) = pair(&self.pending, party, call, share) else { return };
        let failed = other
            .iter()
            .zip(share)
            .filter(|&(&a, &b)| i64::try_from(a as i64 as i128 + b as i64 as i128).is_err())
            .count();
        self.checked.fetch_add(share.len().min(other.len()) as u64, Ordering::Relaxed);
        self.failures.fetch_add(failed as u64, Ordering::Relaxed);
    }

    /// Party `party` (0 or 1) enters its FSS gate number `call` with `share` of the values; the gate compares
    /// on `bits` bits against breaks from `lowest` to `highest` (ring units).
    pub fn observe_gate(&self, party: usize, call: u64, share: &[u64], bits: u32, (lowest, highest): (i64, i64)) {
        let Some(other) = pair(&self.gates, party, call, share) else { return };
        // The signed width each value's comparisons need (the wider of x - lowest and x - highest), counted
        // in one pass: those wider than the gate's width, and the widest.
        let (mut outside, mut widest) = (0u64, 0u32);
        for (&a, &b) in other.iter().zip(share) {
            let x = i128::from(a.wrapping_add(b) as i64);
            let k = signed_bits(x - i128::from(lowest)).max(signed_bits(x - i128::from(highest)));
            outside += u64::from(k > bits + 1);
            widest = widest.max(k);
        }
        let checked = other.len().min(share.len()) as u64;
        let mut r = self.range.lock().unwrap_or_else(|e| e.into_inner());
        r.checked += checked;
        r.outside += outside;
        r.needed_bits = r.needed_bits.max(widest);
        r.value_bits = r.value_bits.max(bits + 1);
    }

    /// Gate inputs checked against the range of their comparisons.
    pub fn range_counts(&self) -> RangeCounts {
        *self.range.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Elements checked and elements whose truncation failed.
    pub fn counts(&self) -> TruncationCounts {
        TruncationCounts {
            checked: self.checked.load(Ordering::Relaxed),
            failures: self.failures.load(Ordering::Relaxed),
        }
    }
}

/// What a monitor counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct TruncationCounts {
    /// Truncated elements checked (both shares seen).
    pub checked: u64,
    /// Of those, how many came out off by `2^(64 - f)`.
    pub failures: u64,
}

/// The fewest bits of a two's-complement number holding `y`.
fn signed_bits(y: i128) -> u32 {
    let m = if y < 0 { !y } else { y } as u128;
    129 - m.leading_zeros()
}

/// What a monitor counted at the FSS gates: every value compared, and those outside the range the keys cover.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct RangeCounts {
    /// The signed width of the values the gates compare (`c + 1`: 64 - f unless `--value-bits` says less).
    pub value_bits: u32,
    /// Values that entered a gate (both shares seen).
    pub checked: u64,
    /// Of those, how many lay outside `[b - 2^c, b + 2^c)` for some break `b`: their results are wrong.
    pub outside: u64,
    /// The signed width the widest of them needed (`x - b` for the farthest break): the narrowest
    /// `--value-bits` this run would have allowed.
    pub needed_bits: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_shares_whose_signed_sum_leaves_the_range() {
        let m = TruncationMonitor::default();
        // x = 5 split as (2^62 + 5, -2^62): fine. x = 2^62 split as (2^62, 2^62)... wraps as signed: failure.
        let a = [(1u64 << 62) + 5, 1u64 << 62];
        let b = [(1u64 << 62).wrapping_neg(), 1u64 << 62];
        m.observe(0, 7, &a);
        assert_eq!(m.counts(), TruncationCounts::default(), "nothing counted until both shares are in");
        m.observe(1, 7, &b);
        assert_eq!(m.counts(), TruncationCounts { checked: 2, failures: 1 });
    }

    #[test]
    fn counts_gate_inputs_outside_the_range_of_their_comparisons() {
        let m = TruncationMonitor::default();
        // 8-bit comparisons (c = 8: -256 <= x - b < 256) against breaks -3 and 5: x in [-251, 253) is in range.
        let xs: [i64; 6] = [0, -251, 252, -252, 253, -(1 << 40)];
        let a: Vec<u64> = (0..6).map(|i| (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)).collect();
        let b: Vec<u64> = xs.iter().zip(&a).map(|(&x, &s)| (x as u64).wrapping_sub(s)).collect();
        m.observe_gate(1, 0, &b, 8, (-3, 5));
        assert_eq!(m.range_counts(), RangeCounts::default(), "nothing counted until both shares are in");
        m.observe_gate(0, 0, &a, 8, (-3, 5));
        // The widest: -2^40 - 5 needs 42 signed bits.
        assert_eq!(m.range_counts(), RangeCounts { value_bits: 9, checked: 6, outside: 3, needed_bits: 42 });
        for (y, k) in [(0i128, 1), (-1, 1), (1, 2), (-2, 2), (255, 9), (-256, 9), (256, 10), (-257, 10)] {
            assert_eq!(signed_bits(y), k, "{y}");
        }
        // Gate calls and rescales are numbered apart: the same number in both does not pair them.
        m.observe(0, 0, &a);
        assert_eq!(m.counts(), TruncationCounts::default());
    }
}
