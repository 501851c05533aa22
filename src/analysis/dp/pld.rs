//! The privacy loss distribution (PLD) accountant of the Poisson-subsampled Gaussian mechanism.
//!
//! A mechanism's privacy loss `L = ln(P(o)/Q(o))` for `o ~ P` determines its whole privacy profile:
//! `delta(eps) = P(L = inf) + E[(1 - e^(eps - L))_+]`; T compositions add independent losses, so the composed
//! PLD is the T-fold convolution (Koskela, Jalko and Honkela 2020; Google's dp-accounting). Here:
//!
//! - **Discretization by connecting the dots** (Doroshenko, Ghazi, Kamath, Kumar and Manurangsi 2022): on the grid
//!   `eps_i = i h` the discrete PLD whose profile equals the exact `delta(eps_i)` at every grid point. As a
//!   function of `t = e^eps` the exact profile is convex and the discrete one is its chord between grid points,
//!   so the discrete PLD's profile lies above the exact one everywhere: the result is an upper bound (pessimistic),
//!   never an approximation from below. Tails beyond the grid: the upper tail's mass becomes `L = inf` (counted in
//!   full in delta), the lower tail's moves up to the first grid point.
//! - **Composition** by FFT convolution (exponentiation by squaring, `2 log2 T` products), truncating after each
//!   product the lower tail (moved up to the first kept point) and the upper tail (moved to `inf`), each at most
//!   `TAIL` of mass: both moves only raise delta.
//! - **Both neighbouring directions** (add and remove one record): epsilon is the larger of the two, as in
//!   dp-accounting's `ADD_OR_REMOVE_ONE`.
//!
//! The exact one-step profiles, with `x_eps = sigma^2 ln((e^eps - (1-q)) / q) + 1/2`:
//! remove (`P = (1-q) N(0, s^2) + q N(1, s^2)`, `Q = N(0, s^2)`): `delta = (1-q) Phi~(x/s) + q Phi~((x-1)/s) -
//! e^eps Phi~(x/s)`; add (`P = N(0, s^2)`, `Q` the mixture), with `y_eps` the same at `-eps`: `delta = Phi(y/s) -
//! e^eps ((1-q) Phi(y/s) + q Phi((y-1)/s))`.

use super::phi;
use crate::error::{Result, invalid};
use rustfft::FftPlanner;
use rustfft::num_complex::Complex;

/// The grid step of the discretization (dp-accounting's default `value_discretization_interval`).
pub const GRID: f64 = 1e-4;
/// Mass allowed in each truncated tail, per step and per product.
const TAIL: f64 = 1e-15;
/// Relative size below which a composed value is FFT round-off.
const NOISE: f64 = 1e-13;
/// The largest FFT of a composition (2^22 points: 64 MB per buffer).
const MAX_FFT: usize = 1 << 22;
/// The grids tried in turn when a finer one would need more than `MAX_FFT` points (each an upper bound).
pub const GRIDS: [f64; 4] = [GRID, 1e-3, 1e-2, 1e-1];

/// A discrete PLD: mass `pmf[k]` at loss `(lo + k) h`, and mass `inf` at `L = inf`.
#[derive(Debug, Clone)]
pub struct Pld {
    h: f64,
    lo: i64,
    pmf: Vec<f64>,
    inf: f64,
}

fn phi_c(x: f64) -> f64 {
    phi(-x)
}

/// One direction of the one-step subsampled Gaussian: its exact profile and the CDF of its loss under `P`.
#[derive(Clone, Copy)]
struct Gaussian {
    q: f64,
    sigma: f64,
    remove: bool,
}

impl Gaussian {
    /// The threshold on the output where the loss crosses `eps` (None where no output has loss above `eps`, or
    /// every output has).
    fn cut(&self, eps: f64) -> Option<f64> {
        let e = if self.remove { eps.exp() } else { (-eps).exp() };
        let r = e - (1.0 - self.q);
        (r > 0.0).then(|| self.sigma * self.sigma * (r / self.q).ln() + 0.5)
    }

    /// `delta(eps)`, exact.
    fn delta(&self, eps: f64) -> f64 {
        let (s, q) = (self.sigma, self.q);
        let d = if self.remove {
            match self.cut(eps) {
                Some(x) => (1.0 - q) * phi_c(x / s) + q * phi_c((x - 1.0) / s) - eps.exp() * phi_c(x / s),
                None => 1.0 - eps.exp(),
            }
        } else {
            match self.cut(eps) {
                Some(y) => phi(y / s) - eps.exp() * ((1.0 - q) * phi(y / s) + q * phi((y - 1.0) / s)),
                None => 0.0,
            }
        };
        d.max(0.0)
    }

    /// `P(L <= eps)`.
    fn below(&self, eps: f64) -> f64 {
        let (s, q) = (self.sigma, self.q);
        match (self.remove, self.cut(eps)) {
            (true, Some(x)) => (1.0 - q) * phi(x / s) + q * phi((x - 1.0) / s),
            (true, None) => 0.0,
            (false, Some(y)) => phi_c(y / s),
            (false, None) => 1.0,
        }
    }

    /// The connect-the-dots PLD on the grid `h`.
    fn pld(&self, h: f64) -> Pld {
        // Lower end: the grid point below which at most TAIL of the loss lies (or the loss's minimum).
        let mut lo = -1i64;
        while self.below(lo as f64 * h) > TAIL {
            lo *= 2;
        }
        let (mut a, mut b) = (lo, 0i64);
        while b - a > 1 {
            let m = (a + b) / 2;
            if self.below(m as f64 * h) > TAIL { b = m } else { a = m }
        }
        let lo = a;
        // Upper end: the grid point where delta falls to TAIL (or 0, past the loss's maximum).
        let mut hi = 1i64;
        while self.delta(hi as f64 * h) > TAIL {
            hi *= 2;
        }
        let (mut a, mut b) = (0i64, hi);
        while b - a > 1 {
            let m = (a + b) / 2;
            if self.delta(m as f64 * h) > TAIL { a = m } else { b = m }
        }
        let hi = b;
        let deltas: Vec<f64> = (lo..=hi).map(|i| self.delta(i as f64 * h)).collect();
        let t: Vec<f64> = (lo..=hi).map(|i| (i as f64 * h).exp()).collect();
        let n = deltas.len();
        // The profile's slope in t on (t_{j-1}, t_j) is -E_j, E_j = sum_{i >= j} p_i / t_i; p_j = t_j (E_j - E_{j+1}).
        let mut pmf = vec![0.0; n];
        let mut e_next = 0.0;
        for j in (1..n).rev() {
            let e_j = ((deltas[j - 1] - deltas[j]) / (t[j] - t[j - 1])).max(e_next);
            pmf[j] = t[j] * (e_j - e_next);
            e_next = e_j;
        }
        let inf = deltas[n - 1];
        pmf[0] = (1.0 - inf - pmf[1..].iter().sum::<f64>()).max(0.0);
        Pld { h, lo, pmf, inf }
    }
}

impl Pld {
    /// The PLD of one step of the Poisson-subsampled Gaussian mechanism (sensitivity 1, noise `sigma`,
    /// sampling rate `q`), for both neighbouring directions: `[remove, add]`.
    pub fn subsampled_gaussian(q: f64, sigma: f64, h: f64) -> [Pld; 2] {
        [true, false].map(|remove| Gaussian { q, sigma, remove }.pld(h))
    }

    /// The composition of two PLDs on the same grid. FFT round-off leaves values near `1e-17` in every bin;
    /// values below `NOISE` times the largest are taken as zero and their mass moved to `inf` (pessimistic),
    /// so that the tails can be truncated. Refused past `MAX_FFT` points.
    pub fn compose(&self, other: &Pld) -> Result<Pld> {
        let n = self.pmf.len() + other.pmf.len() - 1;
        let size = n.next_power_of_two();
        if size > MAX_FFT {
            return Err(invalid(format!("the composed PLD needs {size} grid points (at most {MAX_FFT})")));
        }
        // The plans of each size made once per thread (making one computes its twiddles: a fresh planner per
        // composition spent more time in sin and cos than in the transforms).
        thread_local! {
            static PLANNER: std::cell::RefCell<FftPlanner<f64>> = std::cell::RefCell::new(FftPlanner::new());
        }
        let (fwd, inv) = PLANNER.with_borrow_mut(|p| (p.plan_fft_forward(size), p.plan_fft_inverse(size)));
        let load = |v: &[f64]| {
            let mut b = vec![Complex::new(0.0, 0.0); size];
            for (x, &p) in b.iter_mut().zip(v) {
                x.re = p;
            }
            fwd.process(&mut b);
            b
        };
        let mut a = load(&self.pmf);
        let b = load(&other.pmf);
        for (x, y) in a.iter_mut().zip(&b) {
            *x *= *y;
        }
        drop(b);
        inv.process(&mut a);
        let mut pmf: Vec<f64> = a[..n].iter().map(|c| c.re / size as f64).collect();
        drop(a);
        let floor = NOISE * pmf.iter().fold(0.0f64, |m, &v| m.max(v));
        let mut noise = 0.0;
        for v in &mut pmf {
            if *v < floor {
                noise += v.max(0.0);
                *v = 0.0;
            }
        }
        let inf = 1.0 - (1.0 - self.inf) * (1.0 - other.inf) + noise;
        Ok(Pld { h: self.h, lo: self.lo + other.lo, pmf, inf }.truncated())
    }

    /// Drops each tail of at most `TAIL` of mass: the lower one moves up to the first kept point, the upper one
    /// to `inf`.
    fn truncated(mut self) -> Pld {
        let mut low = 0.0;
        let mut first = 0;
        while first + 1 < self.pmf.len() && low + self.pmf[first] <= TAIL {
            low += self.pmf[first];
            first += 1;
        }
        let mut high = 0.0;
        let mut last = self.pmf.len() - 1;
        while last > first && high + self.pmf[last] <= TAIL {
            high += self.pmf[last];
            last -= 1;
        }
        self.pmf[first] += low;
        self.inf += high;
        self.pmf.truncate(last + 1);
        self.pmf.drain(..first);
        self.lo += first as i64;
        self
    }

    /// The T-fold composition with itself.
    pub fn self_compose(&self, mut t: u64) -> Result<Pld> {
        let mut acc: Option<Pld> = None;
        let mut base = self.clone();
        while t > 0 {
            if t & 1 == 1 {
                acc = Some(match acc {
                    None => base.clone(),
                    Some(a) => a.compose(&base)?,
                });
            }
            t >>= 1;
            if t > 0 {
                base = base.compose(&base)?;
            }
        }
        Ok(acc.unwrap_or(Pld { h: self.h, lo: 0, pmf: vec![1.0], inf: 0.0 }))
    }

    /// `delta(eps) = P(L = inf) + sum_i p_i (1 - e^(eps - eps_i))_+`.
    pub fn delta(&self, eps: f64) -> f64 {
        let mut s = self.inf;
        for (k, &p) in self.pmf.iter().enumerate().rev() {
            let e = (self.lo + k as i64) as f64 * self.h;
            if e <= eps {
                break;
            }
            s += p * -(eps - e).exp_m1();
        }
        s.clamp(0.0, 1.0)
    }

    /// The smallest `eps >= 0` with `delta(eps) <= delta` (infinite if the mass at infinity alone exceeds it).
    pub fn epsilon(&self, delta: f64) -> f64 {
        if self.inf > delta {
            return f64::INFINITY;
        }
        // On [eps_{k-1}, eps_k) delta is inf + S_k - e^eps E_k, with S_k and E_k the sums of p_i and p_i e^-eps_i
        // over i >= k; walk down from the top to the interval where it crosses `delta` and solve there.
        let at = |k: usize| (self.lo + k as i64) as f64 * self.h;
        let (mut s, mut e) = (0.0f64, 0.0f64);
        for k in (0..self.pmf.len()).rev() {
            s += self.pmf[k];
            e += self.pmf[k] * (-at(k)).exp();
            let below = at(k) - self.h;
            if k == 0 || self.inf + s - below.exp() * e > delta {
                if e <= 0.0 {
                    return 0.0;
                }
                let eps = ((self.inf + s - delta) / e).ln();
                return if k == 0 { eps.max(0.0) } else { eps.max(below).max(0.0) };
            }
        }
        0.0
    }

    /// `delta(j h)` for `j = 0..=top` in one pass (suffix sums from the top of the PMF).
    pub fn delta_on_grid(&self, top: usize) -> Vec<f64> {
        let mut out = vec![0.0; top + 1];
        let (mut s, mut e) = (0.0f64, 0.0f64);
        let mut k = self.pmf.len();
        for j in (0..=top).rev() {
            // Take in every point strictly above j h.
            while k > 0 && self.lo + (k as i64 - 1) > j as i64 {
                k -= 1;
                s += self.pmf[k];
                e += self.pmf[k] * (-((self.lo + k as i64) as f64 * self.h)).exp();
            }
            out[j] = (self.inf + s - (j as f64 * self.h).exp() * e).clamp(0.0, 1.0);
        }
        out
    }

    /// The grid step.
    pub fn grid(&self) -> f64 {
        self.h
    }

    /// Total mass (1 up to rounding); for checks.
    pub fn mass(&self) -> f64 {
        self.inf + self.pmf.iter().sum::<f64>()
    }
}

/// The most grid points one step's PLD may take (a noise multiplier far below 1 spreads the privacy loss over
/// hundreds of units: past this the accountant refuses rather than exhaust memory).
const MAX_POINTS: f64 = 2e7;

/// Refuses a (q, sigma) whose one-step PLD would not fit the grid `h`: the remove direction's loss reaches
/// about `(16 sigma + 1) / (2 sigma^2) + ln q` before its tail falls below `TAIL`.
pub fn check_grid(h: f64, q: f64, sigma: f64) -> Result<()> {
    let top = (16.0 * sigma + 1.0) / (2.0 * sigma * sigma) + q.ln().min(0.0);
    let points = top.max(1.0) / h;
    if points.is_nan() || points > MAX_POINTS {
        return Err(invalid(format!(
            "noise multiplier {sigma:.3e} is too small for the PLD accountant: one step's privacy loss spans {top:.3e}, \
             {points:.1e} grid points of {h}; epsilon is astronomical there (use a noise multiplier of at least about 0.1)"
        )));
    }
    Ok(())
}

/// epsilon at `delta` after `steps` steps by the PLD accountant: the larger of the two directions.
pub fn epsilon(q: f64, sigma: f64, steps: u64, delta: f64) -> Result<f64> {
    let (plds, _) = composed_fitting(q, sigma, steps)?;
    Ok(plds.iter().map(|p| p.epsilon(delta)).fold(0.0, f64::max))
}

/// [`epsilon`] on the grid `h` (a coarser grid is faster and still an upper bound, a little looser).
pub fn epsilon_on(h: f64, q: f64, sigma: f64, steps: u64, delta: f64) -> Result<f64> {
    Ok(composed_on(h, q, sigma, steps)?.iter().map(|p| p.epsilon(delta)).fold(0.0, f64::max))
}

/// Reconstruction robustness from the composed PLDs: `min over eps >= 0 of e^eps kappa + delta(eps)`, delta
/// the larger of the two directions. Between grid points the expression is monotone in `e^eps`, so the
/// minimum over the grid points is the exact minimum of the (pessimistic) profile.
pub fn rero(plds: &[Pld], kappa: f64) -> f64 {
    let Some(h) = plds.first().map(Pld::grid) else { return 1.0 };
    let top = ((1.0 / kappa).ln() / h).ceil() as usize;
    let curves: Vec<Vec<f64>> = plds.iter().map(|p| p.delta_on_grid(top)).collect();
    (0..=top)
        .map(|j| (j as f64 * h).exp() * kappa + curves.iter().map(|c| c[j]).fold(0.0, f64::max))
        .fold(1.0, f64::min)
}

/// The composed PLDs of both directions.
pub fn composed(q: f64, sigma: f64, steps: u64) -> Result<[Pld; 2]> {
    Ok(composed_fitting(q, sigma, steps)?.0)
}

/// [`composed`] on the grid `h`, the two directions on the two cores.
pub fn composed_on(h: f64, q: f64, sigma: f64, steps: u64) -> Result<[Pld; 2]> {
    check_grid(h, q, sigma)?;
    let [a, b] = Pld::subsampled_gaussian(q, sigma, h);
    let (a, b) = rayon::join(|| a.self_compose(steps), || b.self_compose(steps));
    Ok([a?, b?])
}

/// [`composed_on`] on the finest of [`GRIDS`] that fits (a small noise multiplier spreads the loss too far for
/// 1e-4), and the grid used.
pub fn composed_fitting(q: f64, sigma: f64, steps: u64) -> Result<([Pld; 2], f64)> {
    let mut last = None;
    for h in GRIDS {
        match composed_on(h, q, sigma, steps) {
            Ok(p) => return Ok((p, h)),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| invalid("no grid")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_step_profile_is_matched_at_grid_points_and_bounded_between() {
        let g = Gaussian { q: 0.05, sigma: 1.0, remove: true };
        let p = g.pld(1e-3);
        assert!((p.mass() - 1.0).abs() < 1e-9, "{}", p.mass());
        for eps in [0.0, 0.1, 0.5, 1.0, 2.0] {
            let (exact, disc) = (g.delta(eps), p.delta(eps));
            assert!(disc >= exact - 1e-12 && disc <= exact + 1e-3 * exact.max(1e-9), "{eps}: {disc} vs {exact}");
        }
        // Between grid points the chord lies above.
        let mid = 0.2505;
        assert!(p.delta(mid) >= g.delta(mid) - 1e-12);
    }

    #[test]
    fn delta_on_the_grid_and_rero_agree_with_pointwise_evaluation() {
        let plds = composed(0.01, 1.0, 50).unwrap();
        let curve = plds[0].delta_on_grid(3000);
        for j in [0, 1, 17, 500, 2999] {
            let want = plds[0].delta(j as f64 * GRID);
            assert!((curve[j] - want).abs() < 1e-12, "{j}: {} vs {want}", curve[j]);
        }
        let by_grid = rero(&plds, 0.05);
        let slow = super::super::rero_profile(0.05, |e| plds.iter().map(|p| p.delta(e)).fold(0.0, f64::max)).unwrap();
        assert!(by_grid <= slow + 1e-12 && by_grid > slow - 1e-3, "{by_grid} vs {slow}");
    }

    #[test]
    fn unsampled_composition_matches_gdp() {
        // q = 1: T steps of sigma are mu-GDP with mu = sqrt(T)/sigma.
        let [r, _] = composed(1.0, 2.0, 10).unwrap();
        let mu = 10f64.sqrt() / 2.0;
        for eps in [0.5, 1.0, 3.0] {
            let exact = super::super::gdp_delta(mu, eps);
            let got = r.delta(eps);
            assert!(got >= exact * (1.0 - 1e-9) && got < exact * 1.01, "{eps}: {got} vs {exact}");
        }
        assert!((r.mass() - 1.0).abs() < 1e-9);
    }
}
