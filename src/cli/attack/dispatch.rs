//! rtas attack NAME: each attack family run on its data (bundled digits, a user's file, a recorded protocol run)
//! and printed as a table or JSON.

use super::*;

/// Square images from an IDX file, values / 256 as for the bundled digits (labels unused: 0).
pub(super) fn square_images(path: &std::path::Path) -> Result<Prepared> {
    let idx = crate::data::idx::read(path)?;
    if idx.dims.len() != 3 || idx.dims[1] != idx.dims[2] || idx.dims[1] < 3 {
        return Err(crate::error::invalid(format!(
            "{}: expected square images (count x side x side, side >= 3), got dimensions {:?}",
            path.display(),
            idx.dims
        )));
    }
    Ok(Prepared {
        count: idx.count(),
        x: idx.data.iter().map(|&p| f64::from(p) / 256.0).collect(),
        labels: vec![0; idx.count()],
    })
}

/// A float-mode run of logistic regression under RTAS on the first `images` training digits for `epochs`
/// epochs, and the float-share attacks on P1's view of it.
pub(super) fn recorded_float_view(
    epochs: usize,
    images: usize,
    delta: f64,
    seed: u64,
    prior: &float_share::GaussianPrior,
) -> Result<float_share::ViewReport> {
    let (tr, te) = mnist::bundled_split()?;
    if !(1..=1000).contains(&epochs) {
        return Err(crate::error::invalid(format!("--recorded-epochs must be between 1 and 1000, got {epochs}")));
    }
    if images < 32 || images > tr.count {
        return Err(crate::error::invalid(format!(
            "--recorded-images must be between 32 (one batch) and {}, got {images}",
            tr.count
        )));
    }
    let (train, test) = (Prepared::new(&tr.slice(0, images))?, Prepared::new(&te.slice(0, 100))?);
    let pb = bar(0, "recording a float-mode run");
    crate::experiment::audit::float_run_view((&train, &test), epochs, seed, prior, delta, &pb)
}

pub(super) fn mnist_all() -> Result<Prepared> {
    Prepared::new(&mnist::bundled()?)
}

/// A run of `protocol` recorded on the bundled digits (test: the first 100 of the held-out split), with the
/// training set it used.
pub(super) fn recorded_run(
    model: ModelKind,
    protocol: Protocol,
    steps: usize,
    seed: u64,
) -> Result<(RecordedRun, Prepared)> {
    let (tr, te) = mnist::bundled_split()?;
    let (train, test) = (Prepared::new(&tr)?, Prepared::new(&te.slice(0, 100))?);
    let run = record(model, protocol, steps, seed, (&train, &test), &bar(0, "recording a run"))?;
    Ok((run, train))
}

#[derive(Debug, Serialize)]
pub(super) struct Many<T> {
    pub(super) attack: &'static str,
    pub(super) results: Vec<T>,
}

pub fn run(cmd: AttackCommand, json: bool) -> Result<String> {
    match cmd {
        AttackCommand::KnownPlaintext(a) => {
            let dim = a.file.dim(a.data, a.dim, 16)?;
            let (kind, given) = a.file.given(a.data)?;
            let r = known_plaintext::run(
                &known_plaintext::KnownPlaintext {
                    data: kind,
                    rows: a.rows,
                    dim,
                    outputs: a.outputs,
                    orthogonal: a.orthogonal,
                    known: a.known,
                    delta_relative: a.delta_relative,
                    seed: a.seed,
                },
                given.as_ref(),
            )?;
            render(&r, json, |r| crate::cli::output::value_table("known-plaintext", r))
        }
        AttackCommand::KnownSample(a) => {
            let dim = a.file.dim(a.data, a.dim, 16)?;
            let (kind, given) = a.file.given(a.data)?;
            let r = known_sample::run(
                &known_sample::KnownSample {
                    data: kind,
                    rows: a.rows,
                    sample: a.sample,
                    dim,
                    energy: a.energy,
                    delta_relative: a.delta_relative,
                    seed: a.seed,
                },
                given.as_ref(),
            )?;
            render(&r, json, |r| crate::cli::output::value_table("known-sample", r))
        }
        AttackCommand::Decoder(mut a) => {
            let model = a.model.kind()?;
            // Refuse a bad threshold before recording a run.
            crate::attacks::metrics::check_delta(a.delta_relative)?;
            let (run, train, public) = match a.table.given() {
                true => {
                    let (tr, te) = a.table.split()?;
                    let (train, public) = (
                        Prepared::from_rows(tr.x, tr.dim, &tr.labels)?,
                        Prepared::from_rows(te.x, te.dim, &te.labels)?,
                    );
                    // Predictions are not what this attack reads: a small test set keeps the run short.
                    let n = public.count.min(100);
                    let w = public.width();
                    let test =
                        Prepared { count: n, x: public.x[..n * w].to_vec(), labels: public.labels[..n].to_vec() };
                    let run = record(
                        model,
                        Protocol::RtasFast,
                        a.steps,
                        a.seed,
                        (&train, &test),
                        &bar(0, "recording a run"),
                    )?;
                    (run, train, public)
                }
                false => {
                    let (run, train) = recorded_run(model, Protocol::RtasFast, a.steps, a.seed)?;
                    (run, train, Prepared::new(&mnist::bundled_split()?.1)?)
                }
            };
            let seen = decoder::third_party_view(run.view(Role::ThirdParty)?, &run.schedule, &RingArith::default())?;
            let params = &run.final_params;
            let cfg = decoder::Decoder {
                known: a.known,
                lambda: a.lambda,
                delta_relative: a.delta_relative,
                nonlinear: a.nonlinear,
            };
            let r = match a.aux {
                AuxName::Known => decoder::run(&seen, &train, &cfg)?.report,
                AuxName::Public => {
                    let first = &params[..model.first_layer_params()];
                    decoder::run_public(&seen, &train, model, first, &public, &cfg)?.report
                }
            };
            render(&r, json, |r| crate::cli::output::value_table("decoder on RTAS-fast's third-party view", r))
        }
        AttackCommand::PixelPermutation(a) => {
            let r = pixel_permutation::run(
                &pixel_permutation::PixelPermutation { images: a.images, seed: a.seed },
                &pixel_permutation::shrink(
                    &match (&a.in_memory, &a.images_file) {
                        (Some(m), _) => {
                            let t = m.features_only()?;
                            Prepared { count: t.rows, x: t.x.clone(), labels: vec![0; t.rows] }
                        }
                        (None, Some(f)) => square_images(f)?,
                        (None, None) => mnist_all()?,
                    },
                    a.crop,
                    a.pool,
                )?,
            )?
            .report;
            render(&r, json, |r| crate::cli::output::value_table("pixel-permutation", r))
        }
        AttackCommand::HelperView(a) => {
            let (run, train) = recorded_run(ModelKind::LogReg, Protocol::Rtas, a.steps, a.seed)?;
            let r = helper_view::run(run.view(Role::Dealer)?, &run.schedule, &train, &RingArith::default())?;
            render(&r, json, |r| crate::cli::output::value_table("helper-view (logistic regression under RTAS)", r))
        }
        AttackCommand::HelperLinking(a) => {
            let (tr, te) = mnist::bundled_split()?;
            let (train, test) = (Prepared::new(&tr)?, Prepared::new(&te.slice(0, 10))?);
            let cfg = crate::experiment::helper_linking::HelperLinking {
                runs: a.runs,
                candidates: a.candidates,
                seed: a.seed,
            };
            let r = crate::experiment::helper_linking::run(&cfg, &train, &test, &bar(0, "helper-linking runs"))?;
            render(&r, json, |r| {
                crate::cli::output::value_table("helper-linking (dealer-helper, logistic regression, step 0)", r)
            })
        }
        AttackCommand::DegreeMatching(a) => {
            let results = a
                .noise
                .iter()
                .map(|&noise| {
                    degree_matching::run(&degree_matching::DegreeMatching {
                        users: a.users,
                        items: a.items,
                        per_user: a.per_user,
                        zipf: a.zipf,
                        noise,
                        seed: a.seed,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            let m = Many { attack: "degree-matching", results };
            render(&m, json, |m| crate::cli::output::value_table(m.attack, &m.results))
        }
        AttackCommand::Linking(a) => {
            // Gaussian rows unless the user gives a table.
            let dim = a.file.dim(DataName::Gaussian, a.dim, 10)?;
            let given = match &a.file.data_file {
                Some(_) => a.file.given(DataName::Gaussian)?.1,
                None => None,
            };
            let results = a
                .columns
                .iter()
                .map(|&columns| {
                    linking::run_on(
                        &linking::Linking {
                            rows: a.rows,
                            dim,
                            outputs: a.outputs,
                            held: a.held,
                            columns,
                            seeds: a.seeds,
                            seed: a.seed,
                        },
                        given.as_ref(),
                    )
                })
                .collect::<Result<Vec<_>>>()?;
            let m = Many { attack: "linking", results };
            render(&m, json, |m| crate::cli::output::value_table(m.attack, &m.results))
        }
        AttackCommand::FloatShare(a) => {
            if a.images > 8000 {
                return Err(crate::error::invalid(
                    "--images must be at most 8000 (the digits the prior is not fitted on)",
                ));
            }
            let (_, te) = mnist::bundled_split()?;
            let prior = float_share::GaussianPrior::fit_examples(&Prepared::new(&te)?, 784)?;
            let mut r = float_share::run(
                &float_share::FloatShare {
                    images: a.images,
                    sigma: a.sigma,
                    shares: a.shares,
                    delta_relative: a.delta_relative,
                    seed: a.seed,
                },
                &mnist_all()?,
                Some(&prior),
            )?;
            if let Some(epochs) = a.recorded_epochs {
                r.recorded = Some(recorded_float_view(epochs, a.recorded_images, a.delta_relative, a.seed, &prior)?);
            }
            render(&r, json, |r| {
                crate::cli::output::value_table("float-share (prior: a Gaussian fit to the 2000 held-out digits)", r)
            })
        }
        AttackCommand::DpReconstruction(a) => {
            let (tr, te) = mnist::bundled_split()?;
            let r = crate::attacks::dp_reconstruction::run(
                &crate::attacks::dp_reconstruction::DpReconstruction {
                    model: a.model.kind,
                    others: a.others,
                    candidates: a.candidates,
                    sample_rate: a.sample_rate,
                    steps: a.steps,
                    epsilons: a.epsilons,
                    delta: a.dp_delta,
                    clip: a.clip,
                    lr: a.lr,
                    trials: a.trials,
                    seed: a.seed,
                },
                &Prepared::new(&tr)?,
                &Prepared::new(&te)?,
            )?;
            render(&r, json, dp_reconstruction_table)
        }
    }
}

fn dp_reconstruction_table(r: &crate::attacks::dp_reconstruction::DpReconstructionReport) -> String {
    let mut t = crate::cli::output::Table::new(&[
        "epsilon",
        "sigma",
        "bound gamma",
        "attack success",
        "95% interval",
        "within bound",
        "target clipped",
    ]);
    for w in &r.rows {
        t.row(&[
            format!("{}", w.epsilon),
            format!("{:.4}", w.noise_multiplier),
            format!("{:.4}", w.bound),
            format!("{}/{} = {:.4}", w.successes, w.trials, w.success),
            format!("[{:.4}, {:.4}]", w.ci_low, w.ci_high),
            if w.within_bound { "yes".into() } else { "NO: the bound is beaten".into() },
            format!("{:.0}%", 100.0 * w.target_clipped),
        ]);
    }
    format!(
        "dp-reconstruction on {}: N = {} records, M = {} candidates (kappa = {:.4}), q = {}, T = {}, C = {}, lr = {}, \
         delta = {}, seed {}\nattacker: {}\nbound: {}\n{}",
        r.model,
        r.records,
        r.candidates,
        r.kappa,
        r.sample_rate,
        r.steps,
        r.clip,
        r.lr,
        r.delta,
        r.seed,
        r.attacker,
        r.rows.first().map_or("", |w| w.bound_method.as_str()),
        t.render()
    )
}
