//! The audit's rows for Section 4.1 (float shares: the secret plus noise), on a real float-mode run.

use super::*;

/// A float-mode run of logistic regression under RTAS on `data.0` for `epochs` epochs (inference on `data.1`),
/// with every view recorded.
pub fn float_run(
    data: (&Prepared, &Prepared),
    epochs: usize,
    seed: u64,
    pb: &ProgressBar,
) -> Result<crate::experiment::simulate::RecordedRun> {
    let mut sc = SimulateConfig::paper(ModelKind::LogReg, ProtocolChoice::Secure(Protocol::Rtas));
    sc.sharing = Sharing::Float;
    sc.epochs = epochs;
    sc.seed = seed;
    record_with(sc, data, pb)
}

/// A [`float_run`] and the float-share attackers on P1's recorded view of it: averaging, and the posterior mean
/// under `prior`, at rtas's float-mode sigma.
pub fn float_run_view(
    data: (&Prepared, &Prepared),
    epochs: usize,
    seed: u64,
    prior: &float_share::GaussianPrior,
    delta_relative: f64,
    pb: &ProgressBar,
) -> Result<float_share::ViewReport> {
    let run = float_run(data, epochs, seed, pb)?;
    let sigma = FloatArith::default().sigma;
    float_share::from_view(run.view(Role::P1)?, &run.schedule, data.0, Some(prior), sigma, delta_relative)
}

/// Section 4.1: the paper's float shares x - r with rtas's float mode's sigma, and at the paper's own
/// threshold (r's variance just above x's).
pub(super) fn float_shares_4_1(st: &Setting) -> Result<Vec<Claim>> {
    let (all, data, public, seed, hidden) = (&st.all, (&st.train, &st.test), &st.held_out, st.seed, &st.hidden);
    let images = 1000;
    let sigma = FloatArith::default().sigma;
    let shares = vec![1usize, 10, 100, 1000, 10_000, 100_000];
    let prior = float_share::GaussianPrior::fit_examples(public, 784)?;
    let fs = float_share::run(
        &float_share::FloatShare { images, sigma, shares: shares.clone(), delta_relative: 0.3, seed },
        all,
        Some(&prior),
    )?;
    let mut c = Claim::new(
        "float-4.1",
        "Section 4.1",
        "float shares x - r are safe when r's variance exceeds x's (at rtas's float-mode sigma)",
        format!(
            "{images} MNIST digits (pixels in [0,1)), P1's share x - r with r ~ N(0, {sigma}^2 I) as in rtas's float mode"
        ),
        "|x_hat - x| < 0.3 |x|",
    )
    .quoting(QUOTE, PAPER_ATTACKER);
    // A real float-mode run: logistic regression under RTAS on 320 images for 10 epochs; P1's recorded view.
    let epochs = 10;
    let small = Prepared { count: 320, x: data.0.x[..320 * 784].to_vec(), labels: data.0.labels[..320].to_vec() };
    let run = float_run((&small, data.1), epochs, seed, hidden)?;
    let real = float_share::from_view(run.view(Role::P1)?, &run.schedule, &small, Some(&prior), sigma, 0.3)?;
    let opened = super::openings::beaver_4_1(&run, &small, &prior, epochs)?;
    let names = super::openings::ViewNames {
        average: "average of the image's shares in a real run's view",
        posterior: "posterior mean of the shares in a real run's view",
        amount: "shares seen in a run",
        align: "aligns one image's shares across epochs (re-shared every epoch)",
    };
    c.attempts.extend(super::openings::view_attempts(&real, &names, |p, psnr| {
        format!(
            "P1's recorded view of a float-mode run: logistic regression, {} images, {epochs} epochs; {} images \
             seen {} time{}; median PSNR {psnr:.1} dB",
            small.count,
            p.images,
            p.shares,
            if p.shares == 1 { "" } else { "s" }
        )
    }));
    for p in &fs.prior_points {
        let mut assumptions = vec!["public digits (a Gaussian prior)"];
        if p.shares > 1 {
            assumptions.push("aligns one image's shares across epochs (re-shared every epoch)");
        }
        c.attempts.push(
            Attempt::assuming("posterior mean under a Gaussian fit to public digits", &assumptions, p.success.estimate)
                .with_amount("shares (with a prior)", p.shares as f64)
                .with_note(format!("median PSNR {:.1} dB", p.median_psnr)),
        );
    }
    c.paper_log10_epsilon = Some(fs.points[0].bound_log10_epsilon);
    c.paper_bound = DERIVED.into();
    for p in &fs.points {
        let e = p.success.estimate;
        if p.shares == 1 {
            c.attempts.push(Attempt::paper_attacker("the share itself", e));
        } else {
            c.attempts.push(
                Attempt::assuming(
                    "average of the image's shares",
                    &["aligns one image's shares across epochs (re-shared every epoch)"],
                    e,
                )
                .with_amount("shares", p.shares as f64),
            );
            c.attempts.push(
                Attempt::closed_form(
                    "average of the image's shares (closed form: mean over images of P(chi2_784 < E (0.3 |x_i| / sigma)^2))",
                    &["aligns one image's shares across epochs (re-shared every epoch)"],
                    p.bound_log10_epsilon,
                )
                .with_amount("shares (closed form)", p.shares as f64),
            );
        }
    }
    let mut rows = vec![c.judge()?];
    for ratio in [1.01, 2.0] {
        rows.push(threshold(all, &prior, ratio, seed)?);
    }
    rows.push(opened);
    Ok(rows)
}

const QUOTE: &str = "In order to prevent this, we uses a r whose variation is greater than x, so its safe to share r and \
x-r.";
const PAPER_ATTACKER: &str = "one share x - r (P1's view of a sharing), r's variance known";
const DERIVED: &str = "rtas's derivation for the naive attacker who outputs the share (the paper states no epsilon): \
mean over images of P(chi2_784 < (0.3 |x_i| / sigma)^2), Definition 3.2's noise example";

/// Section 4.1 at the paper's condition itself: r's variance `ratio` times the pixels' variance.
fn threshold(all: &Prepared, prior: &float_share::GaussianPrior, ratio: f64, seed: u64) -> Result<Claim> {
    let images = 1000;
    let n = images * 784;
    let mean = all.x[..n].iter().sum::<f64>() / n as f64;
    let var = all.x[..n].iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n as f64;
    let sigma = (ratio * var).sqrt();
    let fs = float_share::run(
        &float_share::FloatShare { images, sigma, shares: vec![1, 10], delta_relative: 0.3, seed },
        all,
        Some(prior),
    )?;
    let mut c = Claim::new(
        &format!("float-4.1-var-{ratio}"),
        "Section 4.1",
        &format!("float shares x - r are safe when r's variance exceeds x's (at {ratio} var(x))"),
        format!(
            "{images} MNIST digits, pixel variance {var:.4}; P1's share x - r with r ~ N(0, {ratio} var(x) I), sigma \
             {sigma:.3}"
        ),
        "|x_hat - x| < 0.3 |x|",
    )
    .quoting(QUOTE, PAPER_ATTACKER);
    c.paper_log10_epsilon = Some(fs.points[0].bound_log10_epsilon);
    c.paper_bound = DERIVED.into();
    for (p, q) in fs.points.iter().zip(&fs.prior_points) {
        let many = p.shares > 1;
        let align: &[&str] =
            if many { &["aligns one image's shares across epochs (re-shared every epoch)"] } else { &[] };
        let a = if many {
            Attempt::assuming("average of the image's shares", align, p.success.estimate)
                .with_amount("shares", p.shares as f64)
        } else {
            Attempt::paper_attacker("the share itself", p.success.estimate)
        };
        c.attempts.push(a.with_note(format!("median PSNR {:.1} dB", p.median_psnr)));
        let mut with_prior = vec!["public digits (a Gaussian prior)"];
        with_prior.extend_from_slice(align);
        c.attempts.push(
            Attempt::assuming("posterior mean under a Gaussian fit to public digits", &with_prior, q.success.estimate)
                .with_amount("shares (with a prior)", q.shares as f64)
                .with_note(format!("median PSNR {:.1} dB", q.median_psnr)),
        );
    }
    c.judge()
}
