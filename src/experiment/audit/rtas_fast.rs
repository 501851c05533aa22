//! The audit's rows for Section 4.2.2 (RTAS-fast reveals the first layer's output to the third party).

use super::*;

/// Section 4.2.2: the third party's view of the CNN's first layer under RTAS-fast.
pub(super) fn rtas_fast_4_2_2(
    quick: bool,
    seed: u64,
    data: (&Prepared, &Prepared),
    hidden: &ProgressBar,
) -> Result<Claim> {
    let train = data.0;
    let steps = if quick { 100 } else { 250 };
    let known = if quick { 1000 } else { 2000 };
    let run = record(ModelKind::Cnn, Protocol::RtasFast, steps, seed, data, hidden)?;
    let seen = decoder::third_party_view(run.view(Role::ThirdParty)?, &run.schedule, &RingArith::default())?;
    let cfg = decoder::Decoder { known, lambda: 1e-3, delta_relative: 0.3, nonlinear: false };
    let dec = decoder::run(&seen, train, &cfg)?;
    let (te, _) = mnist::bundled_split()?;
    let public = Prepared::new(&te)?;
    let first = &run.final_params[..ModelKind::Cnn.first_layer_params()];
    let pubdec =
        decoder::run_public(&seen, train, ModelKind::Cnn, first, &public, &decoder::Decoder { known: 0, ..cfg })?;
    // Baseline: the mean of public digits, scored on the same attacked images.
    let mean: Vec<f64> =
        (0..784).map(|j| (0..public.count).map(|i| public.x[i * 784 + j]).sum::<f64>() / public.count as f64).collect();
    let guess = ndarray::Array2::from_shape_fn(dec.originals.dim(), |(_, j)| mean[j]);
    let base = crate::attacks::metrics::success(
        &crate::attacks::metrics::relative_errors(guess.view(), dec.originals.view()),
        0.3,
    )?;
    let mut c = Claim::new(
        "Section 4.2.2",
        "RTAS-fast: the third party sees X W0, a random transformation, and learns little",
        format!("the CNN under RTAS-fast, {steps} training steps; the third party's view of the conv layer's output"),
        "|x_hat - x| < 0.3 |x| for an image the third party saw",
    );
    c.paper_bound = "none stated (by appeal to Thm 3.3)".into();
    c.baseline = Some(Baseline { name: "the mean of public digits".into(), success: base.estimate });
    c.attempts.push(
        Attempt::assuming("linear decoder", &["known (image, output) pairs"], dec.report.success.estimate)
            .with_amount("known pairs", known as f64)
            .with_note(format!(
                "median PSNR {:.1} dB; the run's truncation failures: {} of {}",
                dec.report.median_psnr, run.report.truncation.failures, run.report.truncation.checked
            )),
    );
    c.attempts.push(
        Attempt::assuming(
            "linear decoder trained on public digits",
            &["public digits", "the first layer's weights leaked"],
            pubdec.report.success.estimate,
        )
        .with_note(format!("median PSNR {:.1} dB", pubdec.report.median_psnr)),
    );
    Ok(c.judge())
}
