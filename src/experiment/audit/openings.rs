//! The audit's row for Section 4.1's Beaver openings ("x - u and y - v can be public"), and the attempts on a
//! recorded float-mode view that it shares with the float-share rows (which import them from here).

use super::*;

/// How the attempts on a recorded view are named: the two attackers, the swept amount, and the knowledge it
/// takes to use more than one sighting of an image.
pub(super) struct ViewNames {
    pub average: &'static str,
    pub posterior: &'static str,
    pub amount: &'static str,
    pub align: &'static str,
}

/// The averaging and posterior-mean attempts on a recorded view's report, at one sighting and at the most any
/// image has; `note` describes a point and a median PSNR.
pub(super) fn view_attempts(
    r: &float_share::ViewReport,
    names: &ViewNames,
    note: impl Fn(&float_share::ViewPoint, f64) -> String,
) -> Vec<Attempt> {
    let mut out = Vec::new();
    let most = r.points.last().map_or(0, |p| p.shares);
    for p in r.points.iter().filter(|p| p.shares == 1 || p.shares == most) {
        let align: &[&str] = if p.shares > 1 { &[names.align] } else { &[] };
        let (average, psnr) = &p.average;
        out.push(
            Attempt::assuming(names.average, align, average.estimate)
                .with_amount(names.amount, p.shares as f64)
                .with_note(note(p, *psnr)),
        );
        if let Some((s, psnr)) = &p.prior {
            let mut with_prior = vec!["public digits (a Gaussian prior)"];
            with_prior.extend_from_slice(align);
            out.push(
                Attempt::assuming(names.posterior, &with_prior, s.estimate)
                    .with_amount(&format!("{} (with a prior)", names.amount), p.shares as f64)
                    .with_note(format!(
                        "{}; the prior mean alone: {}",
                        note(p, *psnr),
                        r.prior_only_median_psnr.map_or("-".into(), |v| format!("median PSNR {v:.1} dB"))
                    )),
            );
        }
    }
    out
}

/// Section 4.1: the openings `E = X - U` of a float-mode run's first products, as anyone on the P0-P1 link
/// sees them.
pub(super) fn beaver_4_1(
    run: &crate::experiment::simulate::RecordedRun,
    data: &Prepared,
    prior: &float_share::GaussianPrior,
    epochs: usize,
) -> Result<Claim> {
    // U is the sum of P0's and P1's masks, each N(0, sigma^2).
    let sd = std::f64::consts::SQRT_2 * FloatArith::default().sigma;
    let r = float_share::from_openings(
        run.view(Role::P0)?,
        run.view(Role::P1)?,
        &run.schedule,
        data,
        Some(prior),
        sd,
        0.3,
    )?;
    let mut c = Claim::new(
        "beaver-4.1",
        "Section 4.1 (Beaver openings)",
        "under float sharing, the opened x - u and y - v can be public",
        format!(
            "the float-mode run of the row float-4.1 (logistic regression, {} images, {epochs} epochs); the opened \
             E = X - U of each step's forward product, U ~ N(0, {sd:.2}^2 I) (P0's mask plus P1's)",
            data.count
        ),
        "|x_hat - x| < 0.3 |x|",
    )
    .quoting(
        "So xy = (x - u)(y - v) + (x - u)v + u(y - v) + uv. And x - u and y - v can be public since y and y are \
         shared private values, this formula can be evaluated in a shared manner.",
        "the openings themselves (public, as the paper says): one E per image per step",
    );
    let d = data.width();
    let norms: Vec<f64> =
        (0..data.count).map(|i| data.x[i * d..(i + 1) * d].iter().map(|v| v * v).sum::<f64>().sqrt()).collect();
    c.paper_log10_epsilon = Some(float_share::naive_bound(&norms, sd, 0.3, d as u64)?);
    c.paper_bound = "rtas's derivation for the naive attacker who outputs E (the paper states no epsilon): mean over \
                     images of P(chi2_784 < (0.3 |x_i| / sd)^2)"
        .into();
    let names = ViewNames {
        average: "average of the image's openings",
        posterior: "posterior mean of the image's openings",
        amount: "openings",
        align: "aligns one image's openings across epochs",
    };
    c.attempts.extend(view_attempts(&r, &names, |p, psnr| {
        format!("{} images seen {} time(s); median PSNR {psnr:.1} dB", p.images, p.shares)
    }));
    c.judge()
}
