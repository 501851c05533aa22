//! The statistics of the rule: the one-sided exact binomial p-value of "success <= epsilon" (valid far below
//! f64's range), the one-sided Clopper-Pearson lower end, and the trials a marginal attempt would need.

use crate::analysis::special::{beta_reg, beta_reg_inv, ln_binomial};
use crate::error::Result;

/// `log10 P(X >= s)` for `X ~ Binomial(n, 10^log10_p)`: the one-sided p-value of "success <= epsilon".
/// Far below f64's range it is the first term's upper bound `C(n, s) p^s` (conservative: a larger p-value).
pub fn log10_p_value(successes: u64, trials: u64, log10_p: f64) -> Result<f64> {
    if successes == 0 || log10_p >= 0.0 {
        return Ok(0.0);
    }
    let (s, n) = (successes as f64, trials as f64);
    if log10_p < -200.0 {
        return Ok(((ln_binomial(n, s) / std::f64::consts::LN_10) + s * log10_p).min(0.0));
    }
    Ok(beta_reg(s, n - s + 1.0, 10f64.powf(log10_p))?.log10())
}

/// The one-sided Clopper-Pearson lower end at `level` (0 with no success).
pub fn lower_end(successes: u64, trials: u64, level: f64) -> Result<f64> {
    if successes == 0 {
        return Ok(0.0);
    }
    let (s, n) = (successes as f64, trials as f64);
    beta_reg_inv(s, n - s + 1.0, level)
}

/// The trials an attempt would need, at its observed rate, for its one-sided lower end at `level` to lie
/// above `10^log10_bound` (None when the rate is not above the bound: no number of trials decides it).
pub fn trials_needed(rate: f64, level: f64, log10_bound: f64) -> Result<Option<u64>> {
    if rate <= 0.0 || rate.log10() <= log10_bound {
        return Ok(None);
    }
    let clears = |n: u64| -> Result<bool> {
        let s = (rate * n as f64).floor() as u64;
        Ok(s > 0 && lower_end(s, n, level)?.log10() > log10_bound)
    };
    let mut hi = 16u64;
    while !clears(hi)? {
        if hi > 1 << 40 {
            return Ok(None);
        }
        hi *= 2;
    }
    let mut lo = hi / 2;
    while hi - lo > 1.max(hi / 200) {
        let mid = lo + (hi - lo) / 2;
        if clears(mid)? { hi = mid } else { lo = mid }
    }
    Ok(Some(hi))
}
