//! The report's section on reconstructions: the decoder on RTAS-fast's third-party view and the pixel layout from
//! permuted images.

use super::*;

/// The section: its chart drawn and saved, its text with the numbers of this run.
pub(super) fn section(cx: &mut Ctx<'_>) -> Result<Section> {
    let (out, seed, sc, all, train, test) = (cx.out, cx.seed, &cx.sc, &cx.all, &cx.train, &cx.test);
    let files = &mut cx.files;
    let mut saved = |name: &str, chart_files: (PathBuf, PathBuf)| super::keep(files, name, chart_files);
    let dec_steps = (sc.curve_steps).max(8);
    // The audit's run of `rtas-fast-4.2.2` (its inference on the first 100 test digits): recorded once.
    let few = test.range(0, 100);
    let run = cx.shared.record((ModelKind::Cnn, Protocol::RtasFast, dec_steps, seed), (train, &few))?;
    let seen = decoder::third_party_view(run.view(Role::ThirdParty)?, &run.schedule, &RingArith::default())?;
    let known = (seen.len() * 2 / 3).min(2000);
    let dec =
        decoder::run(&seen, train, &decoder::Decoder { known, lambda: 1e-3, delta_relative: 0.3, nonlinear: false })?;
    let pp =
        cx.shared.pixel_permutation(&pixel_permutation::PixelPermutation { images: sc.images.max(1000), seed }, all)?;
    let cols = 6usize.min(dec.originals.nrows());
    let row = |m: &ndarray::Array2<f64>, i: usize| m.row(i).to_vec();
    let ps = |a: &[f64], b: &[f64]| {
        let mse = a.iter().zip(b).map(|(x, y)| (x.clamp(0.0, 1.0) - y).powi(2)).sum::<f64>() / 784.0;
        format!("{:.1} dB", 10.0 * (1.0 / mse.max(1e-10)).log10())
    };
    let grid = ImageGrid {
        title: "Reconstructions (PSNR against the original under each)".into(),
        rows: vec![
            ImageRow {
                label: "originals".into(),
                images: (0..cols).map(|i| (row(&dec.originals, i), "original".into())).collect(),
            },
            ImageRow {
                label: format!("decoder on the\nthird party's view\n(RTAS-fast, CNN,\n{known} known pairs)"),
                images: (0..cols)
                    .map(|i| (row(&dec.reconstructions, i), ps(&row(&dec.reconstructions, i), &row(&dec.originals, i))))
                    .collect(),
            },
            ImageRow {
                label: "pixels under a secret\npermutation".into(),
                images: (0..cols)
                    .map(|i| (row(&pp.permuted, i), ps(&row(&pp.permuted, i), &row(&pp.originals, i))))
                    .collect(),
            },
            ImageRow {
                label: "permutation undone\n(quadratic assignment\non partial correlations)".into(),
                images: (0..cols)
                    .map(|i| (row(&pp.recovered, i), ps(&row(&pp.recovered, i), &row(&pp.originals, i))))
                    .collect(),
            },
            ImageRow {
                label: "their originals".into(),
                images: (0..cols).map(|i| (row(&pp.originals, i), "original".into())).collect(),
            },
        ],
    };
    saved("reconstructions", save(out, "reconstructions", &grid)?);
    let section = Section {
        name: "reconstructions",
        title: "Reconstructions",
        text: format!(
            "Top: images the third party of RTAS-fast never saw, decoded from the convolution outputs it was sent during \
             training by a linear decoder fitted on {known} pairs it knew (median PSNR {:.1} dB over {} images; {:.0}% within 30% \
             relative error). Bottom: one secret permutation applied to the pixels of {} digits, and the layout the \
             attack recovers from their partial correlations: {:.0}% of the informative pixels in their exact place, \
             {:.0}% of the digits pixel-perfect (the previous Isomap attack: {:.0}% exact, median PSNR {:.1} dB).",
            dec.report.median_psnr,
            dec.report.success.estimate.trials,
            100.0 * dec.report.success.estimate.epsilon,
            pp.report.images,
            100.0 * pp.report.attack.exact,
            100.0 * pp.report.attack.pixel_perfect,
            100.0 * pp.report.previous.exact,
            pp.report.previous.median_psnr
        ),
        command: "rtas attack decoder; rtas attack pixel-permutation".into(),
    };
    Ok(section)
}
