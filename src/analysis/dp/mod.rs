//! Differential privacy of DP-SGD, and what it bounds on rtas's criterion (issue 24, first part).
//!
//! - **RDP accountant** for the Poisson-subsampled Gaussian mechanism (Mironov, Talwar and Zhang 2019): at
//!   order `a`, `RDP(a) = ln(A_a) / (a - 1)` with `A_a = E_{z ~ mu_0}[(mu(z)/mu_0(z))^a]`, `mu = (1-q) mu_0 +
//!   q mu_1`, `mu_0 = N(0, sigma^2)`, `mu_1 = N(1, sigma^2)`: for integer `a` the binomial sum
//!   `sum_k C(a, k) (1-q)^(a-k) q^k exp((k^2 - k) / (2 sigma^2))`; for fractional `a` the series of their
//!   Section 3.3 split at `z0 = sigma^2 ln(1/q - 1) + 1/2`, each term's magnitude added (an upper bound). Without
//!   sampling (`q = 1`) it is `a / (2 sigma^2)`. T steps compose by adding.
//! - **Conversion** to (epsilon, delta) by Canonne, Kamath and Steinke (2020), Proposition 12:
//!   `epsilon = RDP(a) + ln(1 - 1/a) - ln(delta a) / (a - 1)` for `a > 1.01`, minimized over the orders
//!   (1.1, 1.2, ..., 10.9, 11, 12, ..., 63, 128, 256, 512, 1024).
//! - **The unsampled Gaussian mechanism** is mu-GDP with `mu = sqrt(T) / sigma` (Dong, Roth and Su 2019), whose
//!   exact privacy profile is `delta(eps) = Phi(-eps/mu + mu/2) - e^eps Phi(-eps/mu - mu/2)` (Balle and Wang
//!   2018), and whose reconstruction robustness against a prior with baseline success `kappa` is
//!   `gamma <= Phi(Phi^-1(kappa) + mu)` (Hayes, Mahloujifar and Balle 2023): the paper's Definition 3.2 for a
//!   DP-SGD run. For sampled runs, from the RDP profile: `gamma <= min over eps of e^eps kappa + delta(eps)`.
//!
//! - **The PLD accountant** ([`pld`]): the privacy loss distribution, discretized pessimistically and composed
//!   by FFT; tighter than RDP for sampled runs (RDP is 8-60% above it on the reference rows).
//!
//! `tests/fixtures/dp_reference.json` holds Google's dp-accounting values (PLD and RDP) computed once by
//! `tools/dp_reference.sh`; `tests/dp.rs` holds both accountants to them.

pub mod pld;

use crate::error::{Result, invalid};
use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Normal};
use std::f64::consts::PI;

/// RDP orders: 1.1 to 10.9 by 0.1, the integers 11 to 63, then 128, 256, 512, 1024.
pub fn orders() -> Vec<f64> {
    let mut o: Vec<f64> = (1..100).map(|x| 1.0 + x as f64 / 10.0).collect();
    o.extend((11..64).map(f64::from));
    o.extend([128.0, 256.0, 512.0, 1024.0]);
    o
}

/// `ln |Gamma(x)|` for any real `x` that is not a non-positive integer (reflection below 1/2).
fn ln_abs_gamma(x: f64) -> f64 {
    if x < 0.5 {
        PI.ln() - (PI * x).sin().abs().ln() - ln_abs_gamma(1.0 - x)
    } else {
        statrs::function::gamma::ln_gamma(x)
    }
}

/// `ln |C(n, k)|` for real `n` (a generalized binomial coefficient; -inf where it is 0).
fn ln_comb(n: f64, k: f64) -> f64 {
    let m = n - k + 1.0;
    if m <= 0.0 && m.fract() == 0.0 {
        return f64::NEG_INFINITY;
    }
    ln_abs_gamma(n + 1.0) - ln_abs_gamma(k + 1.0) - ln_abs_gamma(m)
}

/// `ln(e^a + e^b)` without overflow.
pub fn log_add(a: f64, b: f64) -> f64 {
    let (lo, hi) = if a < b { (a, b) } else { (b, a) };
    if lo == f64::NEG_INFINITY { hi } else { hi + (lo - hi).exp().ln_1p() }
}

/// `ln erfc(x)`, accurate far in the tail (the asymptotic series where erfc underflows).
fn ln_erfc(x: f64) -> f64 {
    let r = statrs::function::erf::erfc(x);
    if r > 1e-300 {
        return r.ln();
    }
    let x2 = x * x;
    -PI.ln() / 2.0 - x.ln() - x2 - 0.5 / x2 + 0.625 / (x2 * x2) - 37.0 / 24.0 / (x2 * x2 * x2)
        + 353.0 / 64.0 / (x2 * x2 * x2 * x2)
}

/// `ln A_a` for integer `a`, `0 < q < 1`.
fn ln_a_int(q: f64, sigma: f64, a: u64) -> f64 {
    let (lq, l1q) = (q.ln(), (-q).ln_1p());
    (0..=a).fold(f64::NEG_INFINITY, |acc, k| {
        let k = k as f64;
        let a = a as f64;
        log_add(acc, ln_comb(a, k) + k * lq + (a - k) * l1q + (k * k - k) / (2.0 * sigma * sigma))
    })
}

/// `ln A_a` for fractional `a`, `0 < q < 1` (None if the series does not settle in 1000 terms).
fn ln_a_frac(q: f64, sigma: f64, a: f64) -> Option<f64> {
    let (lq, l1q) = (q.ln(), (-q).ln_1p());
    let z0 = sigma * sigma * (1.0 / q - 1.0).ln() + 0.5;
    let s2 = 2.0 * sigma * sigma;
    let (mut a0, mut a1) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
    let (mut last0, mut last1) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
    for i in 0..1000 {
        let i = i as f64;
        let j = a - i;
        let c = ln_comb(a, i);
        let t0 = c + i * lq + j * l1q;
        let t1 = c + j * lq + i * l1q;
        let e0 = (0.5f64).ln() + ln_erfc((i - z0) / (2f64.sqrt() * sigma));
        let e1 = (0.5f64).ln() + ln_erfc((z0 - j) / (2f64.sqrt() * sigma));
        let s0 = t0 + (i * i - i) / s2 + e0;
        let s1 = t1 + (j * j - j) / s2 + e1;
        a0 = log_add(a0, s0);
        a1 = log_add(a1, s1);
        let total = log_add(a0, a1);
        if s0 < last0 && s1 < last1 && s0.max(s1) < total - 30.0 {
            return Some(total);
        }
        (last0, last1) = (s0, s1);
    }
    None
}

/// RDP of one step of the Poisson-subsampled Gaussian mechanism at order `a` (infinite where the series fails).
pub fn rdp_step(q: f64, sigma: f64, a: f64) -> f64 {
    if q == 0.0 {
        return 0.0;
    }
    if q >= 1.0 {
        return a / (2.0 * sigma * sigma);
    }
    let ln_a = if a.fract() == 0.0 { Some(ln_a_int(q, sigma, a as u64)) } else { ln_a_frac(q, sigma, a) };
    ln_a.map_or(f64::INFINITY, |l| l / (a - 1.0))
}

/// A DP-SGD run: sampling rate, noise multiplier, steps.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct DpSgd {
    /// Poisson sampling rate q = B / N (1: every record every step, no amplification).
    pub q: f64,
    /// Noise multiplier sigma (the noise's standard deviation over the clipping norm).
    pub sigma: f64,
    /// Steps T.
    pub steps: u64,
}

impl DpSgd {
    /// Checks the parameters (one-line errors naming the flag).
    pub fn new(q: f64, sigma: f64, steps: u64) -> Result<Self> {
        if !(q > 0.0 && q <= 1.0) {
            return Err(invalid(format!("--sample-rate must lie in (0, 1], got {q}")));
        }
        if !(sigma.is_finite() && sigma > 0.0) {
            return Err(invalid(format!("--noise-multiplier must be a positive finite number, got {sigma}")));
        }
        if steps == 0 {
            return Err(invalid("--steps must be at least 1"));
        }
        Ok(Self { q, sigma, steps })
    }

    /// The run's RDP at every order of [`orders`].
    pub fn rdp(&self) -> Vec<(f64, f64)> {
        orders().into_iter().map(|a| (a, self.steps as f64 * rdp_step(self.q, self.sigma, a))).collect()
    }

    /// epsilon at `delta` from the RDP profile, and the order that gives it.
    pub fn epsilon_rdp(&self, delta: f64) -> Result<(f64, f64)> {
        check_delta(delta)?;
        let mut best = (f64::INFINITY, 0.0);
        for (a, r) in self.rdp() {
            let eps = if delta * delta + (-r).exp_m1() > 0.0 {
                0.0
            } else if a > 1.01 {
                r + (-1.0 / a).ln_1p() - (delta * a).ln() / (a - 1.0)
            } else {
                f64::INFINITY
            };
            if eps < best.0 {
                best = (eps.max(0.0), a);
            }
        }
        Ok(best)
    }

    /// delta at `epsilon` from the RDP profile (the same conversion, solved for delta).
    pub fn delta_rdp(&self, epsilon: f64) -> f64 {
        self.rdp()
            .into_iter()
            .filter(|&(a, r)| a > 1.01 && r.is_finite())
            .map(|(a, r)| ((a - 1.0) * (r - epsilon + (-1.0 / a).ln_1p()) - a.ln()).exp())
            .fold(1.0, f64::min)
    }

    /// epsilon at `delta` by the PLD accountant (an upper bound, tighter than [`Self::epsilon_rdp`]).
    pub fn epsilon_pld(&self, delta: f64) -> Result<f64> {
        check_delta(delta)?;
        pld::epsilon(self.q, self.sigma, self.steps, delta)
    }

    /// The composed PLDs (remove and add directions), for evaluating delta at many epsilons.
    pub fn pld(&self) -> Result<[pld::Pld; 2]> {
        pld::composed(self.q, self.sigma, self.steps)
    }

    /// mu of mu-GDP for an unsampled run (`q = 1`): `sqrt(T) / sigma`.
    pub fn mu(&self) -> Option<f64> {
        (self.q >= 1.0).then(|| (self.steps as f64).sqrt() / self.sigma)
    }
}

fn check_delta(delta: f64) -> Result<()> {
    if !(delta > 0.0 && delta < 1.0) {
        return Err(invalid(format!("--dp-delta must lie in (0, 1), got {delta}")));
    }
    Ok(())
}

/// The standard normal CDF.
pub(crate) fn phi(x: f64) -> f64 {
    0.5 * statrs::function::erf::erfc(-x / 2f64.sqrt())
}

/// The exact delta of mu-GDP at `epsilon`.
pub fn gdp_delta(mu: f64, epsilon: f64) -> f64 {
    phi(-epsilon / mu + mu / 2.0) - epsilon.exp() * phi(-epsilon / mu - mu / 2.0)
}

/// The exact epsilon of mu-GDP at `delta` (bisection on [`gdp_delta`], which falls with epsilon).
pub fn gdp_epsilon(mu: f64, delta: f64) -> Result<f64> {
    check_delta(delta)?;
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    if gdp_delta(mu, 0.0) <= delta {
        return Ok(0.0);
    }
    while gdp_delta(mu, hi) > delta {
        hi *= 2.0;
        if hi > 1e6 {
            return Ok(f64::INFINITY);
        }
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if gdp_delta(mu, mid) > delta { lo = mid } else { hi = mid }
    }
    Ok(hi)
}

/// Reconstruction robustness of mu-GDP against a prior whose best guess succeeds with `kappa`:
/// `Phi(Phi^-1(kappa) + mu)`.
pub fn rero_gdp(mu: f64, kappa: f64) -> Result<f64> {
    check_kappa(kappa)?;
    let n = Normal::standard();
    Ok(n.cdf(n.inverse_cdf(kappa) + mu))
}

/// Reconstruction robustness from a privacy profile `delta(eps)`: `min over eps >= 0 of e^eps kappa +
/// delta(eps)` on a grid of 2001 epsilons up to `ln(1/kappa)` (where the first term reaches 1), capped at 1.
pub fn rero_profile(kappa: f64, delta_at: impl Fn(f64) -> f64) -> Result<f64> {
    check_kappa(kappa)?;
    let top = (1.0 / kappa).ln();
    let best =
        (0..=2000).map(|i| top * i as f64 / 2000.0).map(|eps| eps.exp() * kappa + delta_at(eps)).fold(1.0, f64::min);
    Ok(best.min(1.0))
}

/// The largest mu (to 1e-12 relative) whose mu-GDP epsilon at `delta` is at most `target`.
pub fn gdp_mu_for_epsilon(delta: f64, target: f64) -> Result<f64> {
    check_target(target)?;
    let (mut lo, mut hi) = (1e-9f64, 1.0f64);
    while gdp_epsilon(hi, delta)? < target {
        hi *= 2.0;
        if hi > 1e6 {
            return Err(invalid(format!("epsilon {target} at delta {delta} allows no noise")));
        }
    }
    for _ in 0..100 {
        let mid = (lo * hi).sqrt();
        if gdp_epsilon(mid, delta)? <= target { lo = mid } else { hi = mid }
    }
    Ok(lo)
}

/// The smallest noise multiplier (to 0.1%) whose PLD epsilon at `delta` after `steps` steps at sampling rate
/// `q` is at most `target`: RDP (looser, fast) gives an upper end, bisection on the PLD accountant on a 1e-3
/// grid (pessimistic, ten times faster) narrows it, and the result is checked on the accountant's 1e-4 grid.
pub fn sigma_for_epsilon(q: f64, steps: u64, delta: f64, target: f64) -> Result<f64> {
    check_target(target)?;
    check_delta(delta)?;
    let rdp_eps = |s: f64| -> Result<f64> { Ok(DpSgd::new(q, s, steps)?.epsilon_rdp(delta)?.0) };
    let coarse = |s: f64| -> Result<f64> {
        DpSgd::new(q, s, steps)?;
        pld::epsilon_on(1e-3, q, s, steps, delta)
    };
    let mut hi = 1.0f64;
    while rdp_eps(hi)? > target {
        hi *= 2.0;
        if hi > 1e6 {
            return Err(invalid(format!("epsilon {target} needs a noise multiplier above 10^6")));
        }
    }
    let mut lo = hi / 2.0;
    let too_large = |_: ()| {
        invalid(format!(
            "epsilon {target:e} is beyond the PLD accountant's range (it needs a noise multiplier below 0.1)"
        ))
    };
    while coarse(lo).map_err(|_| too_large(()))? <= target {
        if lo < 0.1 {
            return Err(too_large(()));
        }
        hi = lo;
        lo /= 2.0;
    }
    while hi / lo > 1.001 {
        let mid = (lo * hi).sqrt();
        if coarse(mid)? <= target { hi = mid } else { lo = mid }
    }
    while DpSgd::new(q, hi, steps)?.epsilon_pld(delta)? > target {
        hi *= 1.001;
    }
    Ok(hi)
}

/// Reconstruction robustness of a run against a prior of baseline `kappa` and how it was computed: exact
/// `Phi(Phi^-1(kappa) + mu)` without sampling, from the PLD privacy profile with sampling.
pub fn rero_run(run: &DpSgd, kappa: f64) -> Result<(f64, &'static str)> {
    check_kappa(kappa)?;
    Ok(match run.mu() {
        Some(mu) => (rero_gdp(mu, kappa)?, "exact for the Gaussian mechanism: Phi(Phi^-1(kappa) + mu)"),
        None => (
            pld::rero(&run.pld()?, kappa),
            "from the PLD privacy profile: min over eps of e^eps kappa + delta(eps) (an upper bound)",
        ),
    })
}

fn check_target(target: f64) -> Result<()> {
    if !(target.is_finite() && target > 0.0) {
        return Err(invalid(format!("--target-epsilon must be a positive finite number, got {target}")));
    }
    Ok(())
}

fn check_kappa(kappa: f64) -> Result<()> {
    if !(kappa > 0.0 && kappa < 1.0) {
        return Err(invalid(format!("--kappa must lie in (0, 1), got {kappa}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_sampling_rdp_is_linear_in_the_order() {
        for a in [1.5, 2.0, 10.0, 128.0] {
            assert!((rdp_step(1.0, 2.0, a) - a / 8.0).abs() < 1e-12);
        }
    }

    #[test]
    fn integer_and_fractional_series_agree_near_an_integer() {
        for (q, sigma) in [(0.01, 1.1), (0.1, 0.8), (0.004, 4.0)] {
            let int = rdp_step(q, sigma, 3.0);
            let frac = ln_a_frac(q, sigma, 3.0 + 1e-9).unwrap() / (2.0 + 1e-9);
            assert!((int - frac).abs() < 1e-6 * int.abs().max(1e-12), "{q} {sigma}: {int} {frac}");
        }
    }

    #[test]
    fn gdp_profile_and_rero_match_their_closed_forms() {
        // mu = 1: delta(0) = Phi(1/2) - Phi(-1/2) = 0.38292.
        assert!((gdp_delta(1.0, 0.0) - 0.382_924_922_548_026).abs() < 1e-9);
        // kappa = 0.01, mu = 1: Phi(-2.326348 + 1) = Phi(-1.326348) = 0.092370.
        assert!((rero_gdp(1.0, 0.01).unwrap() - 0.092_370).abs() < 1e-5);
        // The profile bound is never below the exact one for the same mechanism.
        let exact = rero_gdp(1.0, 0.01).unwrap();
        let from_profile = rero_profile(0.01, |e| gdp_delta(1.0, e)).unwrap();
        assert!(from_profile >= exact - 1e-9 && from_profile < exact * 1.5, "{from_profile} {exact}");
    }
}
