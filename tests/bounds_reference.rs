//! Bounds against reference values computed independently with mpmath at 60 digits
//! (`python3 tools/reference_values.py` prints them). Relative error in log10 epsilon must stay below 1e-9,
//! far below f64's range included.

#![allow(clippy::excessive_precision)] // reference values carry mpmath's digits

use rtas::analysis::bounds;
use rtas::analysis::special::log10_chi2_cdf;

fn close(ours: f64, reference: f64, what: &str) {
    if reference.abs() < 1e-300 {
        assert!(ours.abs() < 1e-300, "{what}: {ours} vs {reference}");
        return;
    }
    let rel = ((ours - reference) / reference).abs();
    assert!(rel < 1e-9, "{what}: ours {ours}, reference {reference}, relative error {rel:e}");
}

#[test]
fn chi2_cdf_in_log10_matches_mpmath_down_to_1e_minus_378_million() {
    let cases: &[(f64, f64, f64)] = &[
        (783.0, 1.0, -964.7935820890225198),
        (684.0, 1.0, -822.94319648621459751),
        (783.0, 196.0, -109.59496308827139869),
        (684.0, 196.0, -81.190038411859260804),
        (1.0, 9.0, -0.0011740921513396395769),
        (1.0, 1e-6, -3.0980600108974851644),
        (3.0, 50.0, -3.4696564611570103199e-11),
        (2.0, 700.0, -4.3123663166574041952e-153),
        (99999999.0, 1.0, -378285276.37055958121),
        (99999999.0, 81000000.0, -449954.95955784293189),
        (99999999.0, 99999999.0, -0.30101366100956503808),
        (99999999.0, 100100000.0, -3.3928260964102672639e-13),
        (99999999.0, 110000000.0, -1.6339697147445455465e-101842),
        (99000000.0, 50000000.0, -4044716.052269558091),
        (1.0, 1e-300, -150.09805993851507632),
        (40.0, 39.0, -0.31438745260781007965),
        (1000.0, 1200.0, -5.3227207422598631879e-6),
    ];
    for &(k, t, reference) in cases {
        close(log10_chi2_cdf(k, t).unwrap(), reference, &format!("chi2_{k} < {t}"));
    }
}

#[test]
fn linear_bounds_of_the_issue() {
    // N = 784, delta = 1: the paper's bound is 10^-964.79.
    let b = bounds::linear(784, 100, 1.0).unwrap();
    close(b.paper.log10_epsilon, -964.7935820890225198, "paper");
    close(b.known_transform.log10_epsilon, -822.94319648621459751, "known transform");
    assert_eq!(b.paper.epsilon, 0.0, "underflows as an f64, lives on in log10");
    let b = bounds::linear(784, 100, 14.0).unwrap();
    close(b.paper.log10_epsilon, -109.59496308827139869, "paper, relative 0.5");
    close(b.known_transform.log10_epsilon, -81.190038411859260804, "known, relative 0.5");
    // m >= n: the attacker who knows A inverts it.
    assert_eq!(bounds::linear(10, 10, 0.1).unwrap().known_transform.log10_epsilon, 0.0);
    assert_eq!(bounds::linear(10, 20, 0.1).unwrap().known_transform.epsilon, 1.0);
    // n = 1e8 (the issue's largest n).
    let b = bounds::linear(100_000_000, 1, 1.0).unwrap();
    close(b.paper.log10_epsilon, -378285276.37055958121, "n = 1e8");
}

#[test]
fn permutation_bounds_match_mpmath() {
    let cases: Vec<(u64, Vec<u64>, u64, f64)> = vec![
        (784, vec![], 0, -1930.5032134602226829),
        (5, vec![], 0, -2.0791812460476248277),
        (100000000, vec![], 0, -756570556.20876475178),
        (784, vec![], 700, -126.52038397219991466),
        (100000000, vec![99999999, 1], 0, -8.0),
        (100000000, vec![50000000, 50000000], 0, -30102995.468338179921),
        (1000, vec![500, 300, 200], 0, -444.13554400318456583),
    ];
    for (n, counts, known, reference) in cases {
        let c = (!counts.is_empty()).then_some(counts.as_slice());
        let b = bounds::permutation(n, c, known).unwrap();
        close(b.log10_epsilon, reference, &format!("permutation n={n} counts={counts:?} known={known}"));
    }
}

#[test]
fn mnist_image_ties_collapse_one_over_784_factorial() {
    let d = rtas::data::mnist::bundled().unwrap();
    let counts = bounds::value_counts(d.image(0));
    let b = bounds::permutation(784, Some(&counts), 0).unwrap();
    assert_eq!(b.distinct_values, 58);
    assert_eq!(b.largest_tie, 657);
    close(b.log10_epsilon, -286.37963796027892679, "MNIST image 0");
    close(b.log10_epsilon_paper, -1930.5032134602226829, "1/784!");
}

#[test]
fn linking_counts_match_mpmath() {
    for (n, m, reference) in [
        (1000000u64, 1000u64, 5999.7829975962725689),
        (100000000, 100000000, 756570556.20876475178),
        (10, 3, 2.8573324964312684602),
        (100000000, 1, 8.0),
    ] {
        let b = bounds::linking(n, m).unwrap();
        close(b.log10_mappings, reference, &format!("linking {n} {m}"));
        assert_eq!(b.log10_epsilon, -b.log10_mappings);
    }
}

#[test]
fn noise_bound_is_the_papers_example() {
    let b = bounds::noise(1.0, 3.0, 1).unwrap();
    close(b.log10_epsilon, -0.0011740921513396395769, "noise");
    assert!((b.epsilon - 0.9973).abs() < 5e-5);
}

#[test]
fn every_bound_stays_fast_even_at_n_1e8() {
    // Interactive speed is measured in `cargo bench --bench estimate`; here only a generous ceiling that a
    // busy 2-core machine never reaches, but that a series gone linear in n (1e8 terms) would.
    let start = std::time::Instant::now();
    bounds::linear(100_000_000, 1_000, 10_000.0).unwrap();
    bounds::linear(100_000_000, 99_999_999, 1.0).unwrap();
    bounds::permutation(100_000_000, Some(&[50_000_000, 50_000_000]), 0).unwrap();
    bounds::noise(1.0, 10_000.0, 100_000_000).unwrap();
    bounds::linking(100_000_000, 99_999_999).unwrap();
    let secs = start.elapsed().as_secs_f64();
    assert!(secs < 2.0, "five bounds took {secs} s");
}
