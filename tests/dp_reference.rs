//! DP-SGD's accounting against Google's dp-accounting: `tests/fixtures/dp_reference.json`, written once by
//! `tools/dp_reference.sh` in its own virtual environment (CI reads the file and never runs the tool).

use rtas::analysis::dp::{DpSgd, gdp_epsilon};

#[test]
fn rdp_epsilons_match_dp_accounting_and_the_gaussian_closed_form_matches_its_exact_profile() {
    let v: serde_json::Value = serde_json::from_str(include_str!("fixtures/dp_reference.json")).unwrap();
    let rows = v["rows"].as_array().unwrap();
    assert!(rows.len() >= 8);
    for r in rows {
        let f = |k: &str| r[k].as_f64().unwrap();
        let run = DpSgd::new(f("q"), f("sigma"), r["steps"].as_u64().unwrap()).unwrap();
        let (eps, order) = run.epsilon_rdp(f("delta")).unwrap();
        let (want, pld) = (f("epsilon_rdp"), f("epsilon_pld"));
        assert!((eps - want).abs() <= 1e-6 * want, "{r}: RDP epsilon {eps} (order {order}) against {want}");
        // RDP is an upper bound; the PLD accountant is tighter but never looser than it.
        assert!(eps >= pld * (1.0 - 1e-3), "{r}: RDP {eps} below PLD {pld}");
        if let Some(exact) = r["epsilon_exact"].as_f64() {
            let mu = run.mu().unwrap();
            let mine = gdp_epsilon(mu, f("delta")).unwrap();
            assert!((mine - exact).abs() <= 1e-6 * exact.max(1.0), "{r}: mu-GDP epsilon {mine} against {exact}");
            // dp-accounting's PLD for the unsampled Gaussian agrees with the exact profile.
            assert!((pld - exact).abs() <= 0.01 * exact, "{r}: PLD {pld} against exact {exact}");
        }
    }
}

#[test]
fn pld_epsilons_are_within_one_percent_of_dp_accounting_and_never_below() {
    let v: serde_json::Value = serde_json::from_str(include_str!("fixtures/dp_reference.json")).unwrap();
    for r in v["rows"].as_array().unwrap() {
        let f = |k: &str| r[k].as_f64().unwrap();
        let run = DpSgd::new(f("q"), f("sigma"), r["steps"].as_u64().unwrap()).unwrap();
        let eps = run.epsilon_pld(f("delta")).unwrap();
        let want = f("epsilon_pld");
        eprintln!(
            "q {} sigma {} T {}: PLD {eps:.6} dp-accounting {want:.6} ({:+.4}%)",
            f("q"),
            f("sigma"),
            r["steps"],
            100.0 * (eps / want - 1.0)
        );
        assert!(eps >= want && eps <= want * 1.01, "{r}: PLD epsilon {eps} against dp-accounting's {want}");
        if let Some(exact) = r["epsilon_exact"].as_f64() {
            assert!(eps >= exact, "{r}: PLD {eps} below the exact {exact}");
        }
    }
}
