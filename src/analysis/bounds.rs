//! Closed-form reconstructive-privacy bounds, carried as `log10(epsilon)` end to end.
//!
//! A transformation `T` has (epsilon, delta)-reconstructive privacy if every adversary `C` has
//! `E_x P[|C(T(x)) - x| < delta] <= epsilon` (Euclidean norm); `x` is standard normal in `R^n` unless said
//! otherwise (paper, Definition 3.2).

use super::special::{ln_binomial, ln_factorial, log10_chi2_cdf};
use crate::error::{Result, invalid};
use serde::Serialize;
use std::f64::consts::LN_10;

/// One epsilon, exact in log10 and also as an f64 (which is 0 once it underflows).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Epsilon {
    /// log10 of epsilon; always finite for the bounds here.
    pub log10_epsilon: f64,
    /// epsilon itself; 0.0 when below f64's range (read `log10_epsilon` then).
    pub epsilon: f64,
}

impl Epsilon {
    /// From a log10 value.
    pub fn from_log10(log10_epsilon: f64) -> Self {
        Self { log10_epsilon, epsilon: 10f64.powf(log10_epsilon) }
    }

    /// Scientific notation that never underflows, e.g. `1.620e-965`.
    pub fn scientific(&self) -> String {
        scientific(self.log10_epsilon)
    }
}

/// `10^l` written as `m.mmme-EEE`, for any finite `l`.
pub fn scientific(log10: f64) -> String {
    if !log10.is_finite() {
        return if log10 < 0.0 { "0".into() } else { "inf".into() };
    }
    let mut exponent = log10.floor();
    let mut mantissa = 10f64.powf(log10 - exponent);
    if mantissa >= 9.9995 {
        mantissa /= 10.0;
        exponent += 1.0;
    }
    format!("{mantissa:.3}e{exponent:.0}")
}

/// A number for people: up to 6 significant decimals, no float noise (`26.599999999999998` -> `26.6`).
pub fn short(v: f64) -> String {
    let s = format!("{v:.6}");
    let s = if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s };
    if s == "0" && v != 0.0 { format!("{v:e}") } else { s }
}

fn check_delta(delta: f64) -> Result<()> {
    if !delta.is_finite() || delta <= 0.0 {
        return Err(invalid(format!("--delta must be a positive finite number, got {delta}")));
    }
    Ok(())
}

fn check_dim(name: &str, n: u64) -> Result<()> {
    if n == 0 {
        return Err(invalid(format!("{name} must be at least 1, got 0")));
    }
    Ok(())
}

/// Bounds for a Gaussian linear map `x -> A x`, `A` an `outputs x dim` matrix of independent N(0, 1).
#[derive(Debug, Clone, Serialize)]
pub struct LinearBound {
    /// n, the dimension of x.
    pub dim: u64,
    /// m, the number of rows of A.
    pub outputs: u64,
    /// delta, the reconstruction error allowed.
    pub delta: f64,
    /// The paper's Theorem 3.3: `epsilon < P(chi2_{n-1} < delta^2)`.
    pub paper: Epsilon,
    /// The exact success of the optimal attacker who knows A: `P(chi2_{n-m} < delta^2)`, 1 for `m >= n`.
    pub known_transform: Epsilon,
    /// Dimensions the attacker who knows A cannot see: `max(n - m, 0)`.
    pub unknown_dims: u64,
}

/// Theorem 3.3 of the paper beside the tight bound for an attacker who knows the matrix.
///
/// # The known-transform bound
///
/// Let `x ~ N(0, I_n)` and let the attacker know `A` (full row rank `m < n`, which holds with probability 1
/// for a Gaussian matrix) and see `y = A x`. Split `x` along the row space of `A` and its null space:
/// `x = A⁺ y + (I - A⁺A) x`. The first part is a function of `y`; the second is independent of `y` (for a
/// standard normal vector, orthogonal projections onto orthogonal subspaces are independent), so the
/// posterior is `x | y ~ N(A⁺ y, I - A⁺A)`, an isotropic Gaussian on an `(n - m)`-dimensional affine plane.
/// By Anderson's inequality a centred symmetric unimodal density gives a ball of radius delta the most mass
/// when the ball is centred at the centre, so the optimal attacker outputs the posterior mode `A⁺ y` (the
/// pseudo-inverse, minimum-norm solution), and its error `(I - A⁺A) x` has squared norm `chi2_{n-m}`:
///
/// `epsilon = P(chi2_{n-m} < delta^2)`, and `epsilon = 1` for `m >= n` (A is then injective).
///
/// The paper's bound `P(chi2_{n-1} < delta^2)` is this formula at `m = 1`: for every `m > 1` it understates
/// what an attacker who knows A achieves, by a factor that grows with `m`.
pub fn linear(dim: u64, outputs: u64, delta: f64) -> Result<LinearBound> {
    check_dim("--dim", dim)?;
    check_dim("--outputs", outputs)?;
    check_delta(delta)?;
    let d2 = delta * delta;
    let paper = Epsilon::from_log10(log10_chi2_cdf((dim - 1) as f64, d2)?);
    let unknown_dims = dim.saturating_sub(outputs);
    let known_transform = Epsilon::from_log10(log10_chi2_cdf(unknown_dims as f64, d2)?);
    Ok(LinearBound { dim, outputs, delta, paper, known_transform, unknown_dims })
}

/// The bound of a uniformly random permutation of a vector whose values repeat.
#[derive(Debug, Clone, Serialize)]
pub struct PermutationBound {
    /// n, the vector's length.
    pub len: u64,
    /// How many distinct values the vector holds.
    pub distinct_values: u64,
    /// The largest multiplicity of one value.
    pub largest_tie: u64,
    /// Positions whose values the attacker knows.
    pub known: u64,
    /// `log10(prod k_i! / n!)`, or `-log10((n - K)!)` with K known positions.
    pub log10_epsilon: f64,
    /// epsilon as an f64 (0 when it underflows).
    pub epsilon: f64,
    /// The paper's Theorem 3.4 value `-log10(n!)`, which assumes distinct values and no knowledge.
    pub log10_epsilon_paper: f64,
}

/// Theorem 3.4 made exact: a random permutation of a vector whose values come with multiplicities
/// `k_1, ..., k_g` (summing to n) has `prod(k_i!) / n!` reconstructive privacy at delta = 0: the attacker
/// sees the multiset, every arrangement of it is equally likely, and the best guess is any one of the
/// `n! / prod(k_i!)` distinct arrangements. With `known` positions of a vector of distinct values revealed,
/// `1 / (n - K)!`.
pub fn permutation(len: u64, counts: Option<&[u64]>, known: u64) -> Result<PermutationBound> {
    check_dim("--len", len)?;
    if known > len {
        return Err(invalid(format!("--known ({known}) cannot exceed --len ({len})")));
    }
    let n = len as f64;
    let paper = -ln_factorial(n) / LN_10;
    let (ln_eps, distinct, largest) = match counts {
        Some(counts) => {
            if known > 0 {
                return Err(invalid("--known applies to a vector of distinct values; drop --counts or --known"));
            }
            if let Some(pos) = counts.iter().position(|&k| k == 0) {
                return Err(invalid(format!("--counts entry {} is 0; every multiplicity must be at least 1", pos + 1)));
            }
            let sum = counts.iter().try_fold(0u64, |s, &k| s.checked_add(k));
            if sum != Some(len) {
                let shown = sum.map_or("more than 2^64".to_string(), |s| s.to_string());
                return Err(invalid(format!("--counts sum to {shown}, but --len is {len}")));
            }
            // ln(n! / prod k_i!) as a sum of ln C(partial sum, k_i): no cancellation of huge terms.
            let mut ln_multinomial = 0.0;
            let mut partial = 0.0;
            for &k in counts {
                partial += k as f64;
                ln_multinomial += ln_binomial(partial, k as f64);
            }
            (-ln_multinomial, counts.len() as u64, counts.iter().copied().max().unwrap_or(0))
        }
        None => (-ln_factorial((len - known) as f64), len, 1),
    };
    let log10_epsilon = ln_eps / LN_10;
    Ok(PermutationBound {
        len,
        distinct_values: distinct,
        largest_tie: largest,
        known,
        log10_epsilon,
        epsilon: 10f64.powf(log10_epsilon),
        log10_epsilon_paper: paper,
    })
}

/// log10 of the mean of numbers given by their log10 (a log-sum-exp: Definition 3.1's `E_x` of epsilons far
/// below f64's range). -inf for no values.
pub fn log10_mean(log10s: &[f64]) -> f64 {
    let top = log10s.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if top == f64::NEG_INFINITY {
        return top;
    }
    let sum: f64 = log10s.iter().map(|v| 10f64.powf(v - top)).sum();
    top + (sum / log10s.len() as f64).log10()
}

/// Multiplicities of the values of a byte vector (an image), largest first.
pub fn value_counts(values: &[u8]) -> Vec<u64> {
    let mut hist = [0u64; 256];
    for &v in values {
        hist[v as usize] += 1;
    }
    let mut counts: Vec<u64> = hist.into_iter().filter(|&c| c > 0).collect();
    counts.sort_unstable_by(|a, b| b.cmp(a));
    counts
}

/// The bound of additive Gaussian noise.
#[derive(Debug, Clone, Serialize)]
pub struct NoiseBound {
    /// Noise standard deviation S.
    pub sigma: f64,
    /// delta.
    pub delta: f64,
    /// n.
    pub dim: u64,
    /// The paper's reading: the attacker outputs `x + e`, success `P(chi2_n < (delta/S)^2)`.
    pub epsilon: f64,
    /// log10 of `epsilon`.
    pub log10_epsilon: f64,
    /// When x is standard normal and the attacker uses that prior: the posterior mean `(x+e)/(1+S^2)` has
    /// error `N(0, S^2/(1+S^2) I)`, success `P(chi2_n < delta^2 (1+S^2)/S^2)` (always higher).
    pub with_prior: Epsilon,
}

/// `x + e`, `e ~ N(0, S^2 I_n)`: the attacker who outputs what it sees succeeds with
/// `P(|e| < delta) = P(chi2_n < (delta/S)^2)` (the paper's example: n = 1, S = 1, delta = 3 gives 0.9973).
/// That is the best an attacker can do when x may be anything (a flat prior). When x is standard normal,
/// as everywhere else in the paper, the posterior-mean attacker does better; both are reported.
pub fn noise(sigma: f64, delta: f64, dim: u64) -> Result<NoiseBound> {
    if !sigma.is_finite() || sigma <= 0.0 {
        return Err(invalid(format!("--sigma must be a positive finite number, got {sigma}")));
    }
    check_delta(delta)?;
    check_dim("--dim", dim)?;
    let r = delta / sigma;
    let log10_epsilon = log10_chi2_cdf(dim as f64, r * r)?;
    let shrink = (1.0 + sigma * sigma) / (sigma * sigma);
    let with_prior = Epsilon::from_log10(log10_chi2_cdf(dim as f64, delta * delta * shrink)?);
    Ok(NoiseBound { sigma, delta, dim, epsilon: 10f64.powf(log10_epsilon), log10_epsilon, with_prior })
}

/// The paper's count for linking (Section 3.3.1).
#[derive(Debug, Clone, Serialize)]
pub struct LinkingBound {
    /// n, rows of the transformed table.
    pub rows: u64,
    /// m, rows the attacker holds.
    pub known: u64,
    /// `log10(C(n, m) * m!)`, the number of injective mappings of the attacker's rows into the table.
    pub log10_mappings: f64,
    /// `-log10_mappings`: the chance of guessing the mapping with no other information.
    pub log10_epsilon: f64,
}

/// `C(n, m) * m! = n! / (n - m)!` possible mappings of m held rows into n transformed rows.
pub fn linking(rows: u64, known: u64) -> Result<LinkingBound> {
    check_dim("--rows", rows)?;
    check_dim("--known", known)?;
    if known > rows {
        return Err(invalid(format!("--known ({known}) cannot exceed --rows ({rows})")));
    }
    let log10_mappings = (ln_binomial(rows as f64, known as f64) + ln_factorial(known as f64)) / LN_10;
    Ok(LinkingBound { rows, known, log10_mappings, log10_epsilon: -log10_mappings })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scientific_notation_handles_underflow_and_rounding() {
        assert_eq!(scientific(-964.790_500), "1.620e-965");
        assert_eq!(scientific(0.0), "1.000e0");
        assert_eq!(scientific(-2.0), "1.000e-2");
        assert_eq!(scientific(-0.000_000_01), "1.000e0");
    }

    #[test]
    fn permutation_of_distinct_values_is_one_over_n_factorial() {
        let b = permutation(5, None, 0).unwrap();
        assert!((b.epsilon - 1.0 / 120.0).abs() < 1e-15);
        let b = permutation(5, Some(&[2, 2, 1]), 0).unwrap();
        assert!((b.epsilon - 4.0 / 120.0).abs() < 1e-15);
        let b = permutation(5, None, 2).unwrap();
        assert!((b.epsilon - 1.0 / 6.0).abs() < 1e-15);
    }

    #[test]
    fn linking_small_case() {
        let b = linking(5, 2).unwrap();
        assert!((b.log10_mappings - 20f64.log10()).abs() < 1e-14);
    }

    #[test]
    fn noise_paper_example() {
        let b = noise(1.0, 3.0, 1).unwrap();
        assert!((b.epsilon - 0.997_300_203_936_739_8).abs() < 1e-12);
        assert!(b.with_prior.epsilon > b.epsilon);
    }
}
