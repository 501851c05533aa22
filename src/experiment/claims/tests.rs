//! The rule's unit tests.

use super::*;

fn est(s: u64, n: u64) -> Estimate {
    Estimate::from_counts(s, n).unwrap()
}

fn claim(bound: Option<f64>, attempts: Vec<Attempt>) -> Claim {
    let mut c = Claim::new("t", "Thm", "statement", "setting".into(), "within delta");
    c.paper_log10_epsilon = bound;
    c.attempts = attempts;
    c.judge().unwrap()
}

#[test]
fn the_rule_follows_the_numbers() {
    // The paper's attacker above the bound: does not hold.
    let c = claim(Some(-2.0), vec![Attempt::paper_attacker("strong", est(90, 100))]);
    assert_eq!(c.verdict, Verdict::DoesNotHold);
    // Only with extra knowledge: names the least (fewest assumptions, then the smallest amount).
    let c = claim(
        Some(-2.0),
        vec![
            Attempt::paper_attacker("mean", est(0, 1000)),
            Attempt::assuming("linking", &["seed links"], est(97, 100)).with_amount("seed links", 12.0),
            Attempt::assuming("linking", &["seed links"], est(90, 100)).with_amount("seed links", 9.0),
            Attempt::assuming("linking", &["seed links"], est(0, 100)).with_amount("seed links", 3.0),
        ],
    );
    assert_eq!(c.verdict, Verdict::HoldsOnlyUnderStatedAssumptions);
    assert!(c.reason.contains("from 9 seed links"), "{}", c.reason);
    assert_eq!(flip_point(&c, "seed links"), Some(9.0));
    // Nothing above: holds.
    let c = claim(Some(-1.0), vec![Attempt::paper_attacker("weak", est(1, 1000))]);
    assert_eq!(c.verdict, Verdict::Holds);
    // An oracle never counts.
    let c = claim(Some(-5.0), vec![Attempt::paper_attacker("oracle", est(100, 100)).oracle()]);
    assert_eq!(c.verdict, Verdict::Holds);
    assert!(c.attempts[0].judged.is_none());
    // No bound: no verdict, whatever the attack does.
    let c = claim(None, vec![Attempt::paper_attacker("decoder", est(100, 100))]);
    assert_eq!(c.verdict, Verdict::NoBoundStated);
}

#[test]
fn an_interval_touching_the_bound_does_not_beat_it() {
    // 3 successes in 100: the interval's lower end is about 0.6%, so a bound of 1% is not beaten.
    let c = claim(Some((0.01f64).log10()), vec![Attempt::paper_attacker("x", est(3, 100))]);
    assert!(!c.attempts[0].beats());
    let c = claim(Some((0.001f64).log10()), vec![Attempt::paper_attacker("x", est(3, 100))]);
    assert!(c.attempts[0].beats());
}

#[test]
fn a_closed_form_is_an_attack_with_a_zero_width_interval() {
    // Theorem 3.4 with ties: prod(k_i!)/n! = 10^-358 against 1/784! = 10^-1930.5, far below f64's range.
    let c = claim(Some(-1930.5), vec![Attempt::closed_form("random arrangement of the values seen", &[], -358.3)]);
    assert_eq!(c.verdict, Verdict::DoesNotHold);
    assert!(c.reason.contains("10^-358") || c.reason.contains("e-359"), "{}", c.reason);
    // At the bound exactly: not above it.
    let c = claim(Some(-2.079), vec![Attempt::closed_form("guess", &[], -2.079)]);
    assert_eq!(c.verdict, Verdict::Holds);
}

#[test]
fn holm_bonferroni_corrects_a_row_of_many_attempts() {
    // 2 successes in 197 against a bound of 1/1000: p = P(X >= 2) = 0.0168. Alone (level 0.025) it beats
    // the bound; as one of six attempts (first level 0.025/6) it does not, and is marked marginal.
    let alone = claim(Some(-3.0), vec![Attempt::assuming("link", &["seeds"], est(2, 197))]);
    assert!(alone.attempts[0].beats());
    let p = alone.attempts[0].judged.as_ref().unwrap().p_value;
    assert!((p - 0.0168).abs() < 0.001, "{p}");
    let mut six = vec![Attempt::assuming("link", &["seeds"], est(2, 197))];
    six.extend((0..5).map(|_| Attempt::assuming("other", &["seeds"], est(0, 200))));
    let c = claim(Some(-3.0), six);
    let j = c.attempts[0].judged.as_ref().unwrap();
    assert!(!j.beats && j.marginal, "{j:?}");
    assert!((j.level - FAMILY_ALPHA / 6.0).abs() < 1e-12);
    assert_eq!(c.verdict, Verdict::Holds);
    // Step-down: once one fails, every larger p-value fails too, even below its own level.
    let c = claim(
        Some(-2.0),
        vec![
            Attempt::assuming("a", &["k"], est(60, 100)),
            Attempt::assuming("b", &["k"], est(5, 100)),
            Attempt::assuming("c", &["k"], est(4, 100)),
        ],
    );
    let beats: Vec<bool> = c.attempts.iter().map(Attempt::beats).collect();
    assert!(beats[0]);
    assert!(!beats[2] || beats[1], "step-down order");
}

#[test]
fn p_values_far_below_f64_stay_conservative() {
    let l = log10_p_value(1, 1000, -1930.5).unwrap();
    assert!((l - (3.0 - 1930.5)).abs() < 1e-9, "{l}");
    assert_eq!(log10_p_value(0, 1000, -3.0).unwrap(), 0.0);
    let exact = 1.0 - (1.0f64 - 0.001).powi(200);
    assert!((10f64.powf(log10_p_value(1, 200, -3.0).unwrap()) - exact).abs() < 1e-9);
}

#[test]
fn trials_needed_reaches_the_level() {
    let n = trials_needed(0.01, FAMILY_ALPHA / 6.0, -3.0).unwrap().unwrap();
    let s = (0.01 * n as f64).floor() as u64;
    assert!(lower_end(s, n, FAMILY_ALPHA / 6.0).unwrap() > 1e-3);
    assert!(n < 2000, "{n}");
    assert_eq!(trials_needed(0.001, 0.01, -3.0).unwrap(), None);
}

#[test]
fn seeds_that_disagree_make_a_row_inconclusive_and_say_what_would_decide_it() {
    let row = |s: u64| vec![claim(Some(-3.0), vec![Attempt::paper_attacker("link", est(s, 200))])];
    let rows = across_seeds(&[1, 5], &[row(0), row(4)]).unwrap();
    assert_eq!(rows[0].verdict, Verdict::Inconclusive);
    assert!(rows[0].reason.contains("trials per seed"), "{}", rows[0].reason);
    let rows = across_seeds(&[1, 2], &[row(9), row(8)]).unwrap();
    assert_eq!(rows[0].verdict, Verdict::DoesNotHold);
}
