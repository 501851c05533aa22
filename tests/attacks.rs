//! Attacks where the answer is known, protected settings not reported as broken, and the audit.

use rtas::attacks::data::DataKind;
use rtas::attacks::{degree_matching, known_plaintext, known_sample, linking, pixel_permutation};
use rtas::models::Prepared;

fn mnist() -> Prepared {
    Prepared::new(&rtas::data::mnist::bundled().unwrap()).unwrap()
}

fn kp(data: DataKind, dim: usize, outputs: usize, known: Vec<usize>) -> known_plaintext::KnownPlaintextReport {
    let cfg = known_plaintext::KnownPlaintext {
        data,
        rows: 600,
        dim,
        outputs,
        orthogonal: false,
        known,
        delta_relative: 0.07,
        seed: 3,
    };
    known_plaintext::run(&cfg, None).unwrap()
}

#[test]
fn known_plaintext_with_k_at_least_dim_recovers_exactly_and_not_before() {
    let r = kp(DataKind::Gaussian, 20, 30, vec![5, 19, 20, 40]);
    let at = |k: usize| r.points.iter().find(|p| p.known == k).unwrap();
    assert_eq!(at(20).success.estimate.epsilon, 1.0);
    assert!(at(20).success.median_relative_error < 1e-3, "{}", at(20).success.median_relative_error);
    assert_eq!(at(40).success.estimate.epsilon, 1.0);
    // Fewer known rows than dimensions on isotropic data: the unknown directions stay unknown.
    assert_eq!(at(5).success.estimate.epsilon, 0.0);
    assert!(at(19).success.median_relative_error > 0.1);
    // Fewer outputs than inputs: even knowing A cannot invert it.
    let r = kp(DataKind::Gaussian, 20, 10, vec![100]);
    assert_eq!(r.points[0].success.estimate.epsilon, 0.0);
}

#[test]
fn known_sample_fails_on_symmetric_data_and_learns_something_from_images() {
    let g = known_sample::run(
        &known_sample::KnownSample {
            data: DataKind::Gaussian,
            rows: 500,
            sample: 500,
            dim: 8,
            energy: 0.9,
            delta_relative: 0.3,
            seed: 1,
        },
        None,
    )
    .unwrap();
    assert!(g.success.estimate.epsilon < 0.05, "isotropic Gaussian data is protected: {}", g.success.estimate.epsilon);
    let m = mnist();
    let r = known_sample::run(
        &known_sample::KnownSample {
            data: DataKind::Mnist,
            rows: 1000,
            sample: 3000,
            dim: 784,
            energy: 0.5,
            delta_relative: 0.7,
            seed: 1,
        },
        Some(&m),
    )
    .unwrap();
    // Better than the mean image (median PSNR about 12 dB on these digits).
    assert!(r.median_psnr.unwrap() > 13.0, "{:?}", r.median_psnr);
}

#[test]
fn pixel_permutation_recovers_the_layout_and_the_digits() {
    // 2000 images (the PSNR setting); the floors are the targets of issue 15, not this run's figures.
    let r = pixel_permutation::run(&pixel_permutation::PixelPermutation { images: 2000, seed: 2 }, &mnist())
        .unwrap()
        .report;
    assert!(r.neighbours_found > 0.7, "{}", r.neighbours_found);
    assert!(r.neighbours_found_partial > r.neighbours_found, "{r:?}");
    assert!(r.attack.exact >= 0.85 && r.attack.within_one >= 0.9, "{:?}", r.attack);
    assert!(r.attack.exact_frequent >= 0.95, "{:?}", r.attack);
    assert!(r.attack.orientation_chosen_right, "{:?}", r.attack);
    assert!(r.attack.median_psnr >= 30.0 && r.attack.pixel_perfect > 0.5, "{:?}", r.attack);
    // Far beyond the previous method and the permuted images themselves.
    assert!(r.previous.exact < 0.5 && r.previous.median_psnr < 20.0, "{:?}", r.previous);
    assert!(r.median_psnr_permuted < 10.0);
    assert!(r.paper_log10_epsilon < -1930.0);
}

#[test]
fn pixel_permutation_recovers_the_layout_at_every_resolution() {
    // MNIST cropped and averaged: 3x3 (27/9), 8x8 (24/3: once a wrong layout scored higher on the neighbour
    // objective, 19.7 against 17.3), 12x12 (24/2: once the search stopped below the true layout), 14x14 (28/2,
    // the neighbour method's layout, kept). 1000 images each, the rest public.
    for (crop, pool, matched) in [(27, 9, true), (24, 3, true), (24, 2, true), (28, 2, false)] {
        let data = pixel_permutation::shrink(&mnist(), Some(crop), pool).unwrap();
        let r = pixel_permutation::run(&pixel_permutation::PixelPermutation { images: 1000, seed: 1 }, &data)
            .unwrap()
            .report;
        let side = crop / pool;
        assert!(r.attack.exact >= 0.99 && r.attack.orientation_chosen_right, "{side}x{side}: {:?}", r.attack);
        assert!(r.attack.pixel_perfect >= 0.99, "{side}x{side}: {:?}", r.attack);
        assert_eq!(r.matched, matched, "{side}x{side}");
        let (found, truth) = (r.match_objective_found.unwrap(), r.match_objective_true.unwrap());
        assert!(found >= truth - 1e-9, "{side}x{side}: the search ends below the true layout ({found} < {truth})");
    }
    let e = pixel_permutation::shrink(&mnist(), Some(24), 5).unwrap_err();
    assert!(e.to_string().contains("--pool"), "{e}");
}

#[test]
fn pixel_permutation_refuses_what_it_cannot_attack() {
    let data = mnist();
    for images in [0, 5, data.count - 99, data.count] {
        let e = pixel_permutation::run(&pixel_permutation::PixelPermutation { images, seed: 1 }, &data).unwrap_err();
        assert!(e.to_string().contains("--images"), "{e}");
    }
    let big = Prepared { count: 200, x: vec![0.5; 200 * 33 * 33], labels: vec![0; 200] };
    let e = pixel_permutation::run(&pixel_permutation::PixelPermutation { images: 50, seed: 1 }, &big).unwrap_err();
    assert!(e.to_string().contains("up to 32x32"), "{e}");
    let rows = Prepared { count: 200, x: vec![0.5; 200 * 12], labels: vec![0; 200] };
    let e = pixel_permutation::run(&pixel_permutation::PixelPermutation { images: 50, seed: 1 }, &rows).unwrap_err();
    assert!(e.to_string().contains("square"), "{e}");
}

#[test]
fn degree_matching_with_exact_degrees_reidentifies_every_unique_degree() {
    let cfg = degree_matching::DegreeMatching { users: 1000, items: 300, per_user: 15, zipf: 1.0, noise: 0.0, seed: 4 };
    let r = degree_matching::run(&cfg).unwrap();
    assert!(r.unique_degree_items > 10);
    assert_eq!(r.reidentified_unique, 1.0);
    let noisy = degree_matching::run(&degree_matching::DegreeMatching { noise: 0.3, ..cfg }).unwrap();
    assert!(noisy.reidentified_by_degree < r.reidentified_by_degree);
}

#[test]
fn linking_needs_as_many_seed_links_as_outputs() {
    let cfg = linking::Linking { rows: 400, dim: 8, outputs: 8, held: 100, columns: 3, seeds: 10, seed: 5 };
    assert!(linking::run(&cfg).unwrap().linked > 0.9);
    // With fewer seed links than outputs the map is not determined: linking stays near chance.
    assert!(linking::run(&linking::Linking { seeds: 3, ..cfg }).unwrap().linked < 0.2);
    assert!(linking::run(&linking::Linking { seeds: 100, ..cfg }).is_err());
}

#[test]
fn decoder_is_blind_on_a_one_dimensional_view() {
    // Logistic regression's first layer gives the third party one number per image: no decoder recovers
    // the image from it (protected), while the CNN's 676 numbers give images away (the audit's row).
    let (run, train) = rtas_cli_recorded(rtas::models::ModelKind::LogReg);
    let view = run.view(rtas::net::Role::ThirdParty).unwrap();
    let seen = rtas::attacks::decoder::third_party_view(view, &run.schedule, &Default::default()).unwrap();
    let r = rtas::attacks::decoder::run(
        &seen,
        &train,
        &rtas::attacks::decoder::Decoder { known: 500, lambda: 1e-3, delta_relative: 0.3, nonlinear: false },
    )
    .unwrap()
    .report;
    assert_eq!(r.view_dim, 1);
    assert!(r.success.estimate.epsilon < 0.01);
}

fn rtas_cli_recorded(model: rtas::models::ModelKind) -> (rtas::experiment::simulate::RecordedRun, Prepared) {
    let (tr, te) = rtas::data::mnist::bundled_split().unwrap();
    let (train, test) = (Prepared::new(&tr).unwrap(), Prepared::new(&te.slice(0, 50)).unwrap());
    let protocol = rtas::models::secure::Protocol::RtasFast;
    let hidden = indicatif::ProgressBar::hidden();
    let run = rtas::experiment::simulate::record(model, protocol, 30, 1, (&train, &test), &hidden).unwrap();
    (run, train)
}

#[test]
fn decoder_from_public_images_and_leaked_weights() {
    // No victim pair at all: public digits (the test split) pushed through the leaked first layer train
    // the decoder. On the CNN's 676 conv outputs it reconstructs what the third party saw.
    let (_, te) = rtas::data::mnist::bundled_split().unwrap();
    let public = Prepared::new(&te).unwrap();
    let cfg = rtas::attacks::decoder::Decoder { known: 0, lambda: 1e-3, delta_relative: 0.3, nonlinear: false };
    for (model, lo, hi) in [(rtas::models::ModelKind::Cnn, 18.0, 100.0), (rtas::models::ModelKind::LogReg, 0.0, 13.0)] {
        let (run, train) = rtas_cli_recorded(model);
        let view = run.view(rtas::net::Role::ThirdParty).unwrap();
        let seen = rtas::attacks::decoder::third_party_view(view, &run.schedule, &Default::default()).unwrap();
        let params = &run.final_params;
        let r = rtas::attacks::decoder::run_public(&seen, &train, model, &params[..2], &public, &cfg).unwrap().report;
        assert!((lo..hi).contains(&r.median_psnr), "{model:?}: median PSNR {}", r.median_psnr);
    }
}

#[test]
fn audit_verdicts_follow_from_their_own_numbers() {
    use rtas::experiment::claims::{Attempt, FAMILY_ALPHA, Verdict};
    use statrs::distribution::{Binomial, DiscreteCDF};
    let run = || rtas::experiment::audit::audit(true, 1, &indicatif::ProgressBar::hidden()).unwrap();
    // The two runs side by side (the second checks determinism; each uses rayon inside).
    let (a, b) = std::thread::scope(|s| {
        let h = s.spawn(run);
        (run(), h.join().unwrap())
    });
    let ids: Vec<&str> = a.claims.iter().map(|c| c.id.as_str()).collect();
    let mut expected = rtas::experiment::audit::claim_ids();
    expected.retain(|id| *id != "cost" && *id != "dp-1-2.3");
    assert_eq!(ids, expected, "every claim has its row, in order");
    // The DP row is a measurement: every model at every epsilon, the attack inside its bound's interval.
    let dp = a.dp.as_ref().expect("the DP row");
    assert_eq!(serde_json::to_value(dp).unwrap(), serde_json::to_value(b.dp.as_ref().unwrap()).unwrap());
    let models: std::collections::BTreeSet<&str> = dp.accuracy.iter().map(|r| r.model.as_str()).collect();
    assert_eq!(models.into_iter().collect::<Vec<_>>(), ["cnn", "logreg"]);
    for r in &dp.accuracy {
        assert!(r.accuracy > 0.3 && r.accuracy <= 1.0 && r.rero_bound > 0.1 && r.rero_bound < 1.0, "{r:?}");
        assert!((r.loss_points - 100.0 * (r.plain_accuracy - r.accuracy)).abs() < 1e-9);
    }
    for p in &dp.attack {
        assert!(p.ci_low <= p.bound, "the informed adversary beats the DP bound: {p:?}");
    }
    let json_a = serde_json::to_value(&a.claims).unwrap();
    assert_eq!(json_a, serde_json::to_value(&b.claims).unwrap(), "same seed, same audit");
    // The cost row's verdicts do not move with the host's load (the two audits ran side by side): its modeled
    // times charge operation costs measured once per audit and the same for every protocol. (With the CPU
    // time measured inside each run they did move: 8/11/1 and 8/12/0 in runs beside a build.)
    let verdicts = |r: &rtas::experiment::audit::AuditReport| {
        let c = r.cost.as_ref().expect("the cost row");
        c.measures.iter().map(|m| format!("{} {}: {}", m.workload, m.measure, m.cheaper)).collect::<Vec<_>>()
    };
    assert_eq!(verdicts(&a), verdicts(&b), "the cost verdicts of two audits side by side");
    // Each verdict, recomputed here from the JSON numbers alone (not through the library's rule): each measured
    // attempt's p-value checked against statrs' binomial, Holm-Bonferroni redone over the row, closed forms
    // compared exactly.
    let mut verdicts = std::collections::HashMap::new();
    for c in json_a.as_array().unwrap() {
        for key in
            ["id", "section", "statement", "quote", "paper_attacker", "setting", "criterion", "paper_bound", "reason"]
        {
            assert!(c[key].as_str().is_some_and(|s| !s.is_empty()), "{key} of {}", c["id"]);
        }
        let attempts = c["attempts"].as_array().unwrap();
        let want = if let Some(parts) = c["summary_of"].as_array() {
            let worst = [
                "does not hold",
                "inconclusive",
                "holds only under stated assumptions",
                "holds (against the attacks tried)",
            ]
            .into_iter()
            .find(|v| parts.iter().any(|p| verdicts.get(p.as_str().unwrap()) == Some(&v.to_string())))
            .unwrap_or("no bound stated");
            worst.to_string()
        } else {
            match c["paper_log10_epsilon"].as_f64() {
                None => {
                    assert!(attempts.iter().all(|x| x.get("judged").is_none()), "no bound, nothing judged");
                    "no bound stated".into()
                }
                Some(bound) => {
                    let mut beats = vec![false; attempts.len()];
                    let mut measured: Vec<(usize, f64)> = Vec::new();
                    for (i, x) in attempts.iter().enumerate() {
                        if x["oracle"].as_bool().unwrap() {
                            assert!(x.get("judged").is_none(), "an oracle is never judged");
                        } else if let Some(l) = x["closed_form_log10"].as_f64() {
                            beats[i] = l > bound;
                        } else {
                            let (s, n) =
                                (x["success"]["successes"].as_u64().unwrap(), x["success"]["trials"].as_u64().unwrap());
                            let p = x["judged"]["p_value"].as_f64().unwrap();
                            if s > 0 && bound > -200.0 {
                                let sf = 1.0 - Binomial::new(10f64.powf(bound), n).unwrap().cdf(s - 1);
                                assert!((p - sf).abs() <= 1e-6 + 1e-3 * sf, "{}: p {p} against {sf}", c["id"]);
                            }
                            measured.push((i, p));
                        }
                    }
                    measured.sort_by(|x, y| x.1.total_cmp(&y.1).then(x.0.cmp(&y.0)));
                    let k = measured.len();
                    for (rank, &(i, p)) in measured.iter().enumerate() {
                        if p > FAMILY_ALPHA / (k - rank) as f64 {
                            break;
                        }
                        beats[i] = true;
                    }
                    for (i, x) in attempts.iter().enumerate() {
                        if let Some(j) = x.get("judged") {
                            assert_eq!(j["beats"].as_bool().unwrap(), beats[i], "{} attempt {i}", c["id"]);
                        }
                    }
                    let plain = attempts
                        .iter()
                        .enumerate()
                        .any(|(i, x)| beats[i] && x["assumptions"].as_array().unwrap().is_empty());
                    if plain {
                        "does not hold".into()
                    } else if beats.iter().any(|&b| b) {
                        "holds only under stated assumptions".into()
                    } else {
                        "holds (against the attacks tried)".into()
                    }
                }
            }
        };
        assert_eq!(c["verdict"].as_str().unwrap(), want, "{}", c["id"]);
        verdicts.insert(c["id"].as_str().unwrap().to_string(), want);
    }
    // The headline rows: Theorem 3.4 falls to ties; the paper's own warnings are confirmed.
    for id in ["thm-3.4", "ids-3.4", "conv-3.4"] {
        assert_eq!(verdicts[id], "does not hold", "{id}");
    }
    // Flipping an attack's strength flips the verdict: Thm 3.3 with only the paper's attacker (who outputs
    // the mean) holds; with the attacker who knows A it holds only under that assumption.
    let thm = a.claims.iter().find(|c| c.id == "thm-3.3").unwrap().clone();
    assert_eq!(thm.verdict, Verdict::HoldsOnlyUnderStatedAssumptions);
    assert!(thm.reason.contains("knows A") || thm.reason.contains("known pairs"), "{}", thm.reason);
    let mut weak = thm.clone();
    weak.attempts.retain(|x| x.assumptions.is_empty());
    assert_eq!(weak.judge().unwrap().verdict, Verdict::Holds);
    let mut strong = thm.clone();
    let knows_a = thm.attempts.iter().find(|x| x.assumptions == ["knows A"] && !x.is_closed_form()).unwrap();
    strong.attempts.push(Attempt::paper_attacker("the same attacker, granted A by the paper", knows_a.success));
    assert_eq!(strong.judge().unwrap().verdict, Verdict::DoesNotHold);
    // The central cost claim: every measure's winner follows from its numbers; mpc sends nothing to a helper
    // and its keys are offline.
    let cost = a.cost.as_ref().unwrap();
    assert_eq!(cost.compared, cost.measures.len());
    for m in &cost.measures {
        // Modeled times within 10% are a tie (operation costs miss some of a run's CPU time); counts are
        // compared exactly.
        let timed = m.measure.starts_with("modeled");
        let want = if timed && m.rtas.max(m.mpc) < 1.1 * m.rtas.min(m.mpc) {
            "tie"
        } else if m.rtas < m.mpc {
            "rtas"
        } else if m.mpc < m.rtas {
            "mpc"
        } else {
            "equal"
        };
        assert_eq!(m.cheaper, want, "{} {}", m.workload, m.measure);
        assert!(m.rtas.is_finite() && m.mpc.is_finite() && m.rtas_fast.is_finite());
    }
    let count = |who: &str| cost.measures.iter().filter(|m| m.cheaper == who).count();
    assert_eq!((cost.rtas_cheaper, cost.mpc_cheaper, cost.ties), (count("rtas"), count("mpc"), count("tie")));
    // The helper: the paper's protocol is broken by the dealer-helper; rtas's re-randomized one is not.
    let helper = a.claims.iter().find(|c| c.statement.contains("randomly permuted")).unwrap();
    let (paper, fixed) = (&helper.attempts[0], &helper.attempts[1]);
    assert!(paper.success.ci_low > 0.5 && fixed.success.successes == 0, "{paper:?} {fixed:?}");
}

#[test]
fn a_prior_breaks_float_shares_far_sooner_than_averaging() {
    // sigma 10 (rtas's float mode), 1000 shares of each image: averaging leaves noise of norm ~9 against
    // digits of norm ~9 (no image within 30%); the posterior mean under a Gaussian fit to held-out digits
    // recovers a fifth of them.
    use rtas::attacks::float_share::{FloatShare, run};
    let all = Prepared::new(&rtas::data::mnist::bundled().unwrap()).unwrap();
    let (_, te) = rtas::data::mnist::bundled_split().unwrap();
    let prior = rtas::attacks::prior::GaussianPrior::fit_examples(&Prepared::new(&te).unwrap(), 784).unwrap();
    let cfg = FloatShare { images: 400, sigma: 10.0, shares: vec![1000], delta_relative: 0.3, seed: 1 };
    let r = run(&cfg, &all, Some(&prior)).unwrap();
    assert_eq!(r.points[0].success.estimate.successes, 0);
    assert!(r.prior_points[0].success.estimate.ci_low > 0.1, "{:?}", r.prior_points[0].success.estimate);
    assert!(r.prior_points[0].median_psnr > r.points[0].median_psnr + 5.0);
}

#[test]
fn a_prior_denoises_the_float_shares_of_a_recorded_run() {
    // P1's view of a real float-mode run (logistic regression under RTAS, 320 digits, 50 epochs): the
    // posterior mean under a Gaussian fit to held-out digits is far closer than the average of the shares
    // and, with 50 shares, closer than the prior mean alone (what the shares add).
    use rtas::attacks::float_share::{GaussianPrior, from_view};
    use rtas::experiment::op::Sharing;
    use rtas::experiment::simulate::{ProtocolChoice, SimulateConfig, record_with};
    use rtas::models::ModelKind;
    use rtas::models::secure::Protocol;
    let (tr, te) = rtas::data::mnist::bundled_split().unwrap();
    let (train, test) = (Prepared::new(&tr.slice(0, 320)).unwrap(), Prepared::new(&te.slice(0, 100)).unwrap());
    let prior = GaussianPrior::fit_examples(&Prepared::new(&te).unwrap(), 784).unwrap();
    let hidden = indicatif::ProgressBar::hidden();
    let r = rtas::experiment::audit::float_run_view((&train, &test), 50, 3, &prior, 0.3, &hidden).unwrap();
    // The same run's view, attacked without the prior and from the wrong role.
    let mut sc = SimulateConfig::paper(ModelKind::LogReg, ProtocolChoice::Secure(Protocol::Rtas));
    sc.sharing = Sharing::Float;
    sc.epochs = 50;
    sc.seed = 3;
    let run = record_with(sc, (&train, &test), &hidden).unwrap();
    let view = run.view(rtas::net::Role::P1).unwrap();
    assert_eq!(r.images, 320);
    let (first, last) = (&r.points[0], r.points.last().unwrap());
    assert_eq!((first.shares, last.shares, last.images), (1, 50, 320));
    let alone = r.prior_only.as_ref().unwrap().median_relative_error;
    for p in [first, last] {
        let ((average, average_psnr), (prior, prior_psnr)) = (&p.average, p.prior.as_ref().unwrap());
        assert!(prior.median_relative_error < average.median_relative_error / 2.0, "{p:?}");
        assert!(*prior_psnr > average_psnr + 5.0, "{p:?}");
    }
    let (last_prior, last_psnr) = last.prior.as_ref().unwrap();
    assert!(last_prior.median_relative_error < alone - 0.1, "{last:?} vs {alone}");
    assert!(*last_psnr > r.prior_only_median_psnr.unwrap() + 1.0, "{last:?}");
    // Without the prior, only the average.
    let bare = from_view(view, &run.schedule, &train, None, 10.0, 0.3).unwrap();
    assert!(bare.prior_only.is_none() && bare.points.iter().all(|p| p.prior.is_none()));
    assert!(from_view(run.view(rtas::net::Role::P0).unwrap(), &run.schedule, &train, None, 10.0, 0.3).is_err());
}

#[test]
fn orthogonal_maps_fall_to_fewer_known_pairs_than_dimensions() {
    let run = |data: DataKind, dim: usize, rows: usize, known: Vec<usize>, given: Option<&Prepared>| {
        let cfg = known_plaintext::KnownPlaintext {
            data,
            rows,
            dim,
            outputs: dim,
            orthogonal: true,
            known,
            delta_relative: 0.07,
            seed: 3,
        };
        known_plaintext::run(&cfg, given).unwrap()
    };
    // 16 correlated Gaussian dimensions, 15 known pairs: least squares is x's projection on their span (the
    // attacker knows its error); Giannella et al.'s random consistent map bets on the last direction's
    // sign, the prior attacker bets with the prior's direction and keeps the certain rows.
    let r = run(DataKind::Correlated, 16, 2000, vec![4, 15], None);
    assert_eq!(r.public_rows, 2000);
    let (k15, o15) = (&r.points[1], r.points[1].orthogonal.as_ref().unwrap());
    let ls = k15.success.estimate;
    assert_eq!(o15.certified, ls.epsilon, "for an orthogonal A least squares is the span projection");
    assert!(o15.random_map_success > ls.ci_high, "{k15:?}");
    assert!(o15.prior_ci_low.unwrap() > o15.random_map_success, "{k15:?}");
    assert!(o15.posterior_median_relative_error.unwrap() < k15.success.median_relative_error, "{k15:?}");
    // The published setting (16 dimensions, 4 known tuples, 7%): on zero-mean Gaussian rows nothing is
    // within 7%, and the attacker knows it (its best row's known error is far above).
    let k4 = r.points[0].orthogonal.as_ref().unwrap();
    assert_eq!(k4.prior_success, Some(0.0));
    assert!(k4.best_known_error > 0.2, "{k4:?}");
    // A real-looking table (positive attributes, large means): 4 known rows of 12 dimensions.
    let table = rtas::data::table::read_table(std::path::Path::new("data/tabular/loans.csv"), Some("default")).unwrap();
    let loans = Prepared { count: table.rows, x: table.x, labels: Vec::new() };
    let r = run(DataKind::File, 12, 1500, vec![2, 4], Some(&loans));
    assert_eq!((r.dim, r.public_rows), (12, 500));
    let (k2, k4) = (r.points[0].orthogonal.as_ref().unwrap(), &r.points[1]);
    let o4 = k4.orthogonal.as_ref().unwrap();
    assert!(k2.best_known_error < 0.07, "from two pairs a row the attacker is sure of: {k2:?}");
    assert!(o4.prior_ci_low.unwrap() > 3.0 * k4.success.estimate.ci_high, "{k4:?}");
    assert!(o4.prior_ci_low.unwrap() > 0.1, "{k4:?}");
    // Without orthogonality there is nothing of this.
    let plain = kp(DataKind::Gaussian, 16, 16, vec![4]);
    assert!(plain.points[0].orthogonal.is_none() && plain.public_rows == 0);
}

#[test]
fn beaver_openings_of_a_float_run_are_the_inputs_plus_the_sum_of_two_masks() {
    // Section 4.1: "x - u ... can be public". The opened E = X - U of each step, read from P0's and P1's views,
    // is the input plus U = U0 + U1, each N(0, sigma^2): its error has standard deviation sqrt(2) sigma.
    let (tr, te) = rtas::data::mnist::bundled_split().unwrap();
    let (train, test) = (Prepared::new(&tr.slice(0, 64)).unwrap(), Prepared::new(&te.slice(0, 32)).unwrap());
    let hidden = indicatif::ProgressBar::hidden();
    let run = rtas::experiment::audit::float_run((&train, &test), 2, 5, &hidden).unwrap();
    let (p0, p1) = (run.view(rtas::net::Role::P0).unwrap(), run.view(rtas::net::Role::P1).unwrap());
    let seen = rtas::attacks::float_share::openings_in_views(p0, p1, &run.schedule, 784).unwrap();
    assert_eq!(seen.len(), 64, "every training image opened");
    assert!(seen.values().all(|v| v.len() == 2), "once per epoch");
    let (mut sum, mut n) = (0.0, 0usize);
    for (&r, opened) in &seen {
        for e in opened {
            for (j, v) in e.iter().enumerate() {
                let d = v - train.x[r * 784 + j];
                sum += d * d;
                n += 1;
            }
        }
    }
    let sd = (sum / n as f64).sqrt();
    let want = std::f64::consts::SQRT_2 * rtas::protocol::ring::FloatArith::default().sigma;
    assert!((sd / want - 1.0).abs() < 0.02, "sd {sd} against {want}");
}
