//! The audit's row for Section 4.1's Beaver openings: under float sharing, "x - u and y - v can be public".

use super::*;

/// log10 of the mean over the rows of `data` of `P(chi2_d < (0.3 |x_i| / sd)^2)`: the naive attacker who
/// outputs what it sees, at noise `sd` per element.
fn naive_bound(data: &Prepared, sd: f64) -> Result<f64> {
    let d = data.width();
    let per: Vec<f64> = (0..data.count)
        .map(|i| {
            let x = &data.x[i * d..(i + 1) * d];
            let norm = x.iter().map(|v| v * v).sum::<f64>().sqrt();
            bounds::noise(sd, (0.3 * norm).max(1e-300), d as u64).map(|b| b.log10_epsilon)
        })
        .collect::<Result<_>>()?;
    Ok(super::permutation::log10_mean(&per))
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
    c.paper_log10_epsilon = Some(naive_bound(data, sd)?);
    c.paper_bound = "rtas's derivation for the naive attacker who outputs E (the paper states no epsilon): mean over \
                     images of P(chi2_784 < (0.3 |x_i| / sd)^2)"
        .into();
    let most = r.points.last().map_or(0, |p| p.shares);
    for p in r.points.iter().filter(|p| p.shares == 1 || p.shares == most) {
        let align: &[&str] = if p.shares > 1 { &["aligns one image's openings across epochs"] } else { &[] };
        let note = |psnr: f64| format!("{} images seen {} time(s); median PSNR {psnr:.1} dB", p.images, p.shares);
        let (average, psnr) = &p.average;
        let a = Attempt::assuming("average of the image's openings", align, average.estimate)
            .with_amount("openings", p.shares as f64)
            .with_note(note(*psnr));
        c.attempts.push(a);
        if let Some((s, psnr)) = &p.prior {
            let mut with_prior = vec!["public digits (a Gaussian prior)"];
            with_prior.extend_from_slice(align);
            c.attempts.push(
                Attempt::assuming("posterior mean of the image's openings", &with_prior, s.estimate)
                    .with_amount("openings (with a prior)", p.shares as f64)
                    .with_note(format!(
                        "{}; the prior mean alone: {}",
                        note(*psnr),
                        r.prior_only_median_psnr.map_or("-".into(), |v| format!("median PSNR {v:.1} dB"))
                    )),
            );
        }
    }
    c.judge()
}
