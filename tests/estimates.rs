//! Monte Carlo estimates against closed forms.
//!
//! A 95% interval misses the truth one time in twenty by design, so asserting that every one of many
//! intervals contains the closed form would only test the seeds. Instead, over a grid of settings whose
//! epsilon lies in [0.01, 0.99]: every 99.9% interval must contain the closed form, at least 80% of the 95%
//! intervals must (a biased estimator fails both), and the pooled z-score over the grid must stay small.
//! Everything is seeded, so the test is deterministic.

use indicatif::ProgressBar;
use rtas::analysis::bounds;
use rtas::analysis::estimate::{self, EstimateReport, clopper_pearson};

fn hidden() -> ProgressBar {
    ProgressBar::hidden()
}

struct Check {
    name: String,
    report: EstimateReport,
    truth: f64,
}

fn check_grid(checks: &[Check]) {
    let mut inside95 = 0;
    let mut z_sum = 0.0;
    for c in checks {
        assert!((0.01..=0.99).contains(&c.truth), "{}: epsilon {} outside [0.01, 0.99]", c.name, c.truth);
        let e = &c.report.estimate;
        let (lo, hi) = clopper_pearson(e.successes, e.trials, 0.001).unwrap();
        assert!(lo <= c.truth && c.truth <= hi, "{}: 99.9% CI [{lo}, {hi}] misses {}", c.name, c.truth);
        if e.contains(c.truth) {
            inside95 += 1;
        }
        assert_eq!(e.contains(c.truth), c.report.closed_form_in_interval);
        z_sum += (e.epsilon - c.truth) / (c.truth * (1.0 - c.truth) / e.trials as f64).sqrt();
    }
    let n = checks.len();
    assert!(inside95 as f64 >= 0.8 * n as f64, "only {inside95}/{n} of the 95% intervals contain the closed form");
    let pooled = z_sum / (n as f64).sqrt();
    assert!(pooled.abs() < 3.5, "pooled z-score {pooled}: the estimator is biased");
}

#[test]
fn linear_estimates_contain_the_known_transform_bound() {
    let mut checks = Vec::new();
    for (i, &(n, m, rel)) in
        [(20u64, 5u64, 0.85), (20, 5, 0.7), (30, 1, 1.0), (50, 10, 0.9), (12, 11, 0.5), (100, 40, 0.8), (8, 3, 0.9)]
            .iter()
            .enumerate()
    {
        let delta = rel * (n as f64).sqrt();
        let report = estimate::linear(n, m, delta, 20_000, 100 + i as u64, &hidden()).unwrap();
        let truth = bounds::linear(n, m, delta).unwrap().known_transform.epsilon;
        checks.push(Check { name: format!("linear n={n} m={m} delta={delta}"), report, truth });
    }
    check_grid(&checks);
}

#[test]
fn permutation_estimates_contain_the_closed_form() {
    let cases: Vec<(u64, Option<Vec<u64>>, u64)> = vec![
        (4, None, 0),
        (4, Some(vec![2, 2]), 0),
        (6, Some(vec![3, 2, 1]), 0),
        (5, None, 3),
        (7, None, 5),
        (3, None, 0),
    ];
    let mut checks = Vec::new();
    for (i, (n, counts, known)) in cases.into_iter().enumerate() {
        let report = estimate::permutation(n, counts.as_deref(), known, 20_000, 200 + i as u64, &hidden()).unwrap();
        let truth = bounds::permutation(n, counts.as_deref(), known).unwrap().epsilon;
        checks.push(Check { name: format!("permutation n={n} counts={counts:?} known={known}"), report, truth });
    }
    check_grid(&checks);
}

#[test]
fn noise_estimates_contain_both_closed_forms() {
    let mut checks = Vec::new();
    for (i, &(s, d, n)) in [(1.0, 1.5, 1u64), (2.0, 4.5, 5), (0.5, 2.2, 20), (1.0, 3.5, 10)].iter().enumerate() {
        let report = estimate::noise(s, d, n, 20_000, 300 + i as u64, &hidden()).unwrap();
        let b = bounds::noise(s, d, n).unwrap();
        let second = report.second.clone().unwrap();
        checks.push(Check { name: format!("noise S={s} D={d} n={n}"), report: report.clone(), truth: b.epsilon });
        if (0.01..=0.99).contains(&b.with_prior.epsilon) {
            let as_report = EstimateReport {
                estimate: second.estimate,
                closed_form: second.closed_form,
                closed_form_in_interval: second.closed_form_in_interval,
                second: None,
                ..report
            };
            checks.push(Check {
                name: format!("noise prior S={s} D={d}"),
                report: as_report,
                truth: b.with_prior.epsilon,
            });
        }
    }
    check_grid(&checks);
}

#[test]
fn estimates_do_not_depend_on_the_thread_count() {
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(|| {
            (
                estimate::linear(40, 10, 5.0, 3_000, 7, &hidden()).unwrap().estimate,
                estimate::permutation(5, None, 0, 20_000, 7, &hidden()).unwrap().estimate,
                estimate::noise(1.0, 2.0, 3, 20_000, 7, &hidden()).unwrap().estimate,
            )
        })
    };
    assert_eq!(run(1), run(2));
    assert_eq!(run(1), run(3));
}

#[test]
fn the_attacker_who_knows_a_beats_the_papers_theorem() {
    // Thm 3.3 promises P(chi2_{n-1} < delta^2); with m = 10 outputs the attacker who knows A does far better,
    // and the simulation says so: the paper's value lies far below the 99.9% interval.
    let (n, m, delta) = (30u64, 10u64, 4.0);
    let b = bounds::linear(n, m, delta).unwrap();
    let r = estimate::linear(n, m, delta, 20_000, 5, &hidden()).unwrap();
    let (lo, _) = clopper_pearson(r.estimate.successes, r.estimate.trials, 0.001).unwrap();
    assert!(b.paper.epsilon < lo / 10.0, "paper {} vs measured lower end {lo}", b.paper.epsilon);
}

#[test]
fn the_issue_sized_linear_estimate_is_fast() {
    // Issue target: 100,000 trials of 784 -> 100 under 30 s on 2 cores (measured: about 0.7 s).
    let start = std::time::Instant::now();
    let r = estimate::linear(784, 100, 0.95 * 28.0, 100_000, 1, &hidden()).unwrap();
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(r.estimate.trials, 100_000);
    assert!(secs < 30.0, "{secs} s");
}
