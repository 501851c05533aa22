//! Differential privacy (issue 24), one test binary: the accountants against Google's dp-accounting
//! (`tests/fixtures/dp_reference.json`, written once by `tools/dp_reference.sh` in its own virtual environment;
//! CI reads the file and never runs the tool); `rtas simulate --protocol dp-sgd` on the paper's two models and
//! a model file, its epsilon the accountant's and the target met; the informed adversary inside its bound.

use indicatif::ProgressBar;
use rtas::analysis::dp::{DpSgd, gdp_epsilon};
use rtas::data::mnist;
use rtas::experiment::simulate::dp_sgd::{DpConfig, DpNoise, DpSampling};
use rtas::experiment::simulate::{ProtocolChoice, SimulateConfig, SimulateReport, simulate};
use rtas::models::{ModelKind, Prepared};

fn run(model: ModelKind, dp: DpConfig, f: impl Fn(&mut SimulateConfig)) -> SimulateReport {
    let (tr, te) = mnist::bundled_split().unwrap();
    let (tr, te) = (Prepared::new(&tr).unwrap(), Prepared::new(&te).unwrap());
    let mut cfg = SimulateConfig::paper(model, ProtocolChoice::DpSgd);
    cfg.dp = Some(dp);
    f(&mut cfg);
    simulate(&cfg, &tr, &te, &ProgressBar::hidden()).unwrap().report
}

fn fixture_row(q: f64, sigma: f64, steps: u64) -> f64 {
    let v: serde_json::Value = serde_json::from_str(include_str!("fixtures/dp_reference.json")).unwrap();
    let row = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| (r["q"].as_f64().unwrap() - q).abs() < 1e-12 && r["sigma"] == sigma && r["steps"] == steps)
        .expect("the fixture has the row");
    row["epsilon_pld"].as_f64().unwrap()
}

/// One epoch of logistic regression at batch 32 on the 8,000 bundled images is q = 32/8000, 250 steps: at
/// sigma 0.7 its epsilon is the fixture's row, within 1% and never below.
#[test]
fn a_runs_epsilon_is_the_reference_accountants() {
    let dp = DpConfig { noise: DpNoise::Multiplier(0.7), ..DpConfig::default() };
    let r = run(ModelKind::LogReg, dp, |_| {});
    let d = r.dp.as_ref().unwrap();
    assert_eq!((d.steps, d.composed), (250, 250));
    assert!((d.sample_rate - 32.0 / 8000.0).abs() < 1e-15);
    let want = fixture_row(32.0 / 8000.0, 0.7, 250);
    assert!(d.epsilon >= want && d.epsilon <= want * 1.01, "epsilon {} against dp-accounting's {want}", d.epsilon);
    assert!(d.epsilon_rdp.unwrap() > d.epsilon, "RDP is the looser accountant");
    // Poisson batches: sizes vary around B.
    assert!((d.mean_batch - 32.0).abs() < 2.0, "mean batch {}", d.mean_batch);
}

/// `--target-epsilon 1` calibrates sigma (epsilon within 0.5% under 1) and trains the logistic regression,
/// the CNN and a model file above chance.
#[test]
fn target_epsilon_one_trains_both_paper_models_and_a_model_file() {
    let mlp = rtas::models::graph::Net::read(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/mlp.toml"))
        .unwrap();
    let cases =
        [(ModelKind::LogReg, 0.3, 0.5, 0.93), (ModelKind::Cnn, 0.05, 10.0, 0.5), (ModelKind::file(mlp), 0.1, 0.5, 0.3)];
    for (model, clip, lr, floor) in cases {
        let dp = DpConfig { noise: DpNoise::TargetEpsilon(1.0), clip, ..DpConfig::default() };
        let r = run(model, dp, |c| c.lr = lr);
        let d = r.dp.as_ref().unwrap();
        assert!(d.epsilon <= 1.0 && d.epsilon > 0.995, "{}: epsilon {}", model.name(), d.epsilon);
        assert!(r.accuracy > floor, "{}: accuracy {} at epsilon 1", model.name(), r.accuracy);
        assert!(d.clipped_fraction > 0.0, "{}: nothing clipped at C = {clip}", model.name());
        assert!(r.max_param_diff_vs_plain > 0.0);
        eprintln!(
            "{}: accuracy {:.4} (plain {:.4}), sigma {:.4}",
            model.name(),
            r.accuracy,
            r.plain_accuracy,
            d.noise_multiplier
        );
    }
}

/// Shuffled fixed batches are accounted for as what they are: each record is in one batch per epoch, so two
/// epochs are two unsampled Gaussian mechanisms, mu = sqrt(2) / sigma, and epsilon is mu-GDP's exact one.
#[test]
fn shuffled_batches_are_accounted_without_amplification() {
    let dp = DpConfig { noise: DpNoise::Multiplier(4.0), sampling: DpSampling::Shuffle, ..DpConfig::default() };
    let r = run(ModelKind::LogReg, dp, |c| c.epochs = 2);
    let d = r.dp.as_ref().unwrap();
    assert_eq!((d.steps, d.composed), (500, 2));
    let exact = rtas::analysis::dp::gdp_epsilon(2f64.sqrt() / 4.0, 1e-5).unwrap();
    assert!((d.epsilon - exact).abs() < 1e-9, "{} vs {exact}", d.epsilon);
    assert!(d.epsilon > 1.0, "without amplification sigma 4 over 2 epochs is not epsilon 1");
}

/// The same seed gives the same run; another seed other noise.
#[test]
fn dp_sgd_is_reproducible_from_its_seed() {
    let dp = DpConfig { noise: DpNoise::Multiplier(1.0), ..DpConfig::default() };
    let a = run(ModelKind::LogReg, dp, |c| c.max_steps = Some(20));
    let b = run(ModelKind::LogReg, dp, |c| c.max_steps = Some(20));
    let c = run(ModelKind::LogReg, dp, |c| (c.max_steps, c.seed) = (Some(20), 2));
    assert_eq!(a.loss_curve, b.loss_curve);
    assert_ne!(a.loss_curve, c.loss_curve);
}

/// The informed adversary never beats the reconstruction bound (its 95% interval's lower end is at most
/// gamma at every epsilon, without and with sampling), and approaches it as epsilon grows: at epsilon 16
/// it names the target in more than half of its trials, far above the prior's 10%.
#[test]
fn the_informed_adversary_stays_under_the_bound_and_approaches_it() {
    use rtas::attacks::dp_reconstruction::{DpReconstruction, run};
    let (tr, te) = mnist::bundled_split().unwrap();
    let (tr, te) = (Prepared::new(&tr).unwrap(), Prepared::new(&te).unwrap());
    let base = DpReconstruction {
        model: ModelKind::LogReg,
        others: 100,
        candidates: 10,
        sample_rate: 1.0,
        steps: 10,
        epsilons: vec![1.0, 16.0],
        delta: 1e-5,
        clip: 0.01,
        lr: 0.5,
        trials: 200,
        seed: 3,
    };
    let r = run(&base, &tr, &te).unwrap();
    for w in &r.rows {
        assert!(w.within_bound && w.ci_low <= w.bound, "{w:?}");
        assert_eq!(w.target_clipped, 1.0, "every gradient clipped: the target's signal is C");
    }
    let (lo, hi) = (&r.rows[0], &r.rows[1]);
    assert!(hi.success > 0.5 && hi.success > 2.0 * lo.success, "{lo:?} {hi:?}");
    assert!(hi.ci_high >= 0.6 * hi.bound, "the attack approaches the bound at large epsilon: {hi:?}");
    // With Poisson sampling the bound comes from the PLD profile; the attack stays inside it.
    let sampled = DpReconstruction { sample_rate: 0.5, epsilons: vec![4.0], trials: 100, ..base };
    let s = run(&sampled, &tr, &te).unwrap();
    assert!(s.rows[0].bound_method.contains("PLD") && s.rows[0].within_bound, "{:?}", s.rows[0]);
    // A model that does not take the digits is refused (it once read 12 values of each digit silently).
    let loans = rtas::models::graph::Net::read(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/loans-logreg.toml"),
    )
    .unwrap();
    let wrong = DpReconstruction { model: ModelKind::file(loans), ..sampled };
    assert!(run(&wrong, &tr, &te).unwrap_err().to_string().contains("takes 12"));
}

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
