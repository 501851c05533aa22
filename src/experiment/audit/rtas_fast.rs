//! The audit's rows on what RTAS-fast's third party sees (the CNN's first-layer output): Section 4.2.2 (a random
//! transformation that hides the images), Section 3.4 (the paper's warning that convolutions keep the content)
//! and Section 4.3 (a dimension-reducing first layer leaves the data useless except for the current task).
//! All three read one recorded run.

use super::*;
use crate::attacks::reuse;

/// Section 4.2.2, 3.4 (convolutions) and 4.3 on one recorded RTAS-fast run of the CNN.
pub(super) fn rtas_fast_rows(s: &Setting) -> Result<Vec<Claim>> {
    let (quick, seed) = (s.quick, s.seed);
    let data = (&s.train, &s.test);
    let train = data.0;
    let steps = if quick { 100 } else { 250 };
    let known = if quick { 1000 } else { 2000 };
    let run = s.shared.record((ModelKind::Cnn, Protocol::RtasFast, steps, seed), data)?;
    let seen = decoder::third_party_view(run.view(Role::ThirdParty)?, &run.schedule, &RingArith::default())?;
    let cfg = decoder::Decoder { known, lambda: 1e-3, delta_relative: 0.3, nonlinear: false };
    let dec = decoder::run(&seen, train, &cfg)?;
    let public = &s.held_out;
    let first = &run.final_params[..ModelKind::Cnn.first_layer_params()];
    let pubdec =
        decoder::run_public(&seen, train, ModelKind::Cnn, first, public, &decoder::Decoder { known: 0, ..cfg })?;
    // Baseline: the mean of public digits, scored on the same attacked images.
    let mean: Vec<f64> =
        (0..784).map(|j| (0..public.count).map(|i| public.x[i * 784 + j]).sum::<f64>() / public.count as f64).collect();
    let guess = ndarray::Array2::from_shape_fn(dec.originals.dim(), |(_, j)| mean[j]);
    let base = crate::attacks::metrics::success(
        &crate::attacks::metrics::relative_errors(guess.view(), dec.originals.view()),
        0.3,
    )?;
    let setting = format!(
        "the CNN under RTAS-fast, {steps} training steps; the third party's view of the conv layer's output (4 maps of 13x13 per image)"
    );
    let mut c = Claim::new(
        "rtas-fast-4.2.2",
        "Section 4.2.2",
        "RTAS-fast: the third party sees X W0, a random transformation, and learns little",
        setting.clone(),
        "|x_hat - x| < 0.3 |x| for an image the third party saw",
    )
    .quoting(
        "In the third-party's perspective, since he knows nothing about the P1 and P2's shared parameters W0, XW0 \
         can be considered as random transformations.",
        "X W0 for every training example, with its label; W0 unknown",
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

    // Section 3.4: the content of the images, from the maps alone.
    let maps = reuse::Maps { channels: 4, side: 13, kernel: 4, stride: 2 };
    let content = reuse::content(&seen, train, public, maps, 1000)?;
    let mut conv = Claim::new(
        "conv-3.4",
        "Section 3.4",
        "the naive reading the paper warns against: images under a convolution hide their content",
        setting.clone(),
        "an image's digit recognised from its maps",
    )
    .quoting(
        "Since convolutional models do the same linear transformation on different parts of the image, thus, the \
         relations of different parts of the image is reserved, and attackers can easily guess the content of the \
         raw image.",
        "the maps it saw and what a person knows of digits (public digits); not the filters",
    )
    .as_warning();
    conv.paper_log10_epsilon = Some(content.baseline.ci_high.log10());
    conv.paper_bound = format!(
        "the naive reading: no better than guessing the most frequent digit ({:.1}%, the upper end of its interval)",
        100.0 * content.baseline.epsilon
    );
    conv.attempts.push(Attempt::paper_attacker(
        "each map correlated with public digits box-filtered to its geometry; the nearest digit's class",
        content.success,
    ));

    // Section 4.3: the same view reused for a task it was not shared for.
    let reuse_known = 1000;
    let task = reuse::new_task(&seen, train, reuse_known)?;
    let mut fast = Claim::new(
        "rtas-fast-4.3",
        "Section 4.3",
        "after the first layer the data are 'randomly transformed' and useless except in the current task",
        format!("{setting}; a new task: does the digit hold more ink than the median digit of its class (not a function of the label the third party holds)"),
        "the new attribute predicted right, on rows whose attribute the third party did not know",
    )
    .quoting(
        "the feature holders are not concerned about the reuse of transformed feature data, for example, the \
         transformation reduced many dimensions, hence the transformed data is useless except in the current task \
         (4.3). For deep convolutional networks, first a few layers can be performed in a secure way. After that, \
         the output can be considered as 'random transformed' (4.3).",
        "what it saw and the IDs of its rows ('since the label holder have the IDs of samples, he may reuse the \
         transformed feature data'), so the new attribute of some of them",
    );
    fast.paper_log10_epsilon = Some(task.baseline.ci_high.log10());
    fast.paper_bound = format!(
        "rtas's reading of 'useless': no better than the majority guess ({:.1}%, the upper end of its interval)",
        100.0 * task.baseline.epsilon
    );
    let raw =
        task.raw.map_or(String::new(), |r| format!("the same classifier on the raw pixels: {:.1}%", 100.0 * r.epsilon));
    fast.attempts.push(
        Attempt::paper_attacker(
            format!("ridge classifier on the maps and the label it holds, fitted on {reuse_known} rows whose attribute it knows"),
            task.success,
        )
        .with_note(raw),
    );
    Ok(vec![c.judge()?, conv.judge()?, fast.judge()?])
}
