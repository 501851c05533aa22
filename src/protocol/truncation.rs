//! Counting fixed-point truncation failures where that is possible: in a simulation, where one process
//! holds both shares. SecureML's local truncation is exact up to one unit unless the two shares of the
//! pre-truncation value, read as signed integers, add up past the 64-bit range; then the result is off by
//! `2^(64 - f)` (65,536 at f = 24 in decoded units). The probability is about `|x| / 2^63` per element, so
//! a run with large values or many fractional bits fails silently unless someone counts. The monitor sees
//! P0's and P1's pre-truncation shares of every rescale (same order at both: SPMD) and counts the elements
//! whose signed shares overflow. A deployment has no monitor: no party ever sees both shares.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Shared by P0 and P1 of one simulated run.
#[derive(Debug, Default)]
pub struct TruncationMonitor {
    pending: Mutex<HashMap<u64, (usize, Vec<u64>)>>,
    checked: AtomicU64,
    failures: AtomicU64,
}

impl TruncationMonitor {
    /// Party `party` (0 or 1) is about to truncate `share` in its rescale number `call`.
    pub fn observe(&self, party: usize, call: u64, share: &[u64]) {
        let other = {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            match pending.remove(&call) {
                Some((p, s)) if p != party => s,
                Some(mine) => {
                    // The same party twice under one number cannot happen in SPMD code; keep the first.
                    pending.insert(call, mine);
                    return;
                }
                None => {
                    pending.insert(call, (party, share.to_vec()));
                    return;
                }
            }
        };
        let failed = other
            .iter()
            .zip(share)
            .filter(|&(&a, &b)| i64::try_from(a as i64 as i128 + b as i64 as i128).is_err())
            .count();
        self.checked.fetch_add(share.len().min(other.len()) as u64, Ordering::Relaxed);
        self.failures.fetch_add(failed as u64, Ordering::Relaxed);
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
}
