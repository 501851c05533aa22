//! The audit's rows for Theorem 3.3 (Gaussian linear maps).

use super::*;

/// Theorem 3.3 in its own setting: 784 -> 100, Gaussian x and A, delta = 0.95 sqrt(n).
pub(super) fn theorem_3_3(s: &Setting) -> Result<Vec<Claim>> {
    let (quick, seed, hidden) = (s.quick, s.seed, &s.hidden);
    let (n, m) = (784usize, 100usize);
    let delta = 0.95 * (n as f64).sqrt();
    let b = bounds::linear(n as u64, m as u64, delta)?;
    let trials = if quick { 20_000 } else { 100_000 };
    let knows_a = estimate::linear(n as u64, m as u64, delta, trials, seed, hidden)?;
    let ks = [100usize, 400, 700, 784, 1000];
    let g = known_plaintext::gaussian_map(n, m, &ks, delta, if quick { 1000 } else { 4000 }, seed)?;
    let mut c = Claim::new(
        "thm-3.3",
        "Thm 3.3",
        "a Gaussian linear map leaves n-1 dimensions unknown",
        format!("x ~ N(0, I_{n}), y = A x, A ~ N(0,1)^({m} x {n}) secret, delta = 0.95 sqrt(n) = {delta:.2}"),
        "|x_hat - x| < delta",
    )
    .quoting(
        "The linear transformation T: x -> Ax has a epsilon, delta-reconstructive privacy, where epsilon < p(|y| < \
         delta) with y in R^(n-1) ... In other words, it's like the adversary has no information in n-1 dimensions \
         of the raw data x.",
        "y = A x only; x and A drawn from the standard normal, A secret (\"the auxiliary information for adversary \
         is the x and A, both are drawn from standard normal distribution\")",
    );
    c.paper_log10_epsilon = Some(b.paper.log10_epsilon);
    c.paper_bound = "the paper's P(chi2_{n-1} < delta^2)".into();
    c.attempts.push(Attempt::paper_attacker(
        "posterior mean without A (the prior mean 0: x given y is spherically symmetric)",
        g.prior_mean,
    ));
    c.attempts.push(Attempt::closed_form(
        format!("the optimal attacker who knows A (closed form P(chi2_{} < delta^2))", n - m),
        &["knows A"],
        b.known_transform.log10_epsilon,
    ));
    c.attempts.push(Attempt::assuming("pseudo-inverse A+ y", &["knows A"], knows_a.estimate));
    for (k, e) in g.known_pairs {
        c.attempts.push(
            Attempt::assuming("A fitted from known pairs, then pseudo-inverse", &["known (x, A x) pairs"], e)
                .with_amount("known pairs", k as f64),
        );
    }
    Ok(vec![c.judge()?])
}
