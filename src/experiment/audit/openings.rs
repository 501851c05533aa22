//! The audit's row for Section 4.1's Beaver openings: under float sharing, "x - u and y - v can be public".

use super::*;

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
    let names = super::float_shares::ViewNames {
        average: "average of the image's openings",
        posterior: "posterior mean of the image's openings",
        amount: "openings",
        align: "aligns one image's openings across epochs",
    };
    c.attempts.extend(super::float_shares::view_attempts(&r, &names, |p, psnr| {
        format!("{} images seen {} time(s); median PSNR {psnr:.1} dB", p.images, p.shares)
    }));
    c.judge()
}
