//! The report's section on training curves.

use super::*;

/// The section: its chart drawn and saved, its text with the numbers of this run.
pub(super) fn section(cx: &mut Ctx<'_>) -> Result<Section> {
    let (out, seed, hidden, sc, train, test) = (cx.out, cx.seed, &cx.hidden, &cx.sc, &cx.train, &cx.test);
    let files = &mut cx.files;
    let mut saved = |name: &str, chart_files: (PathBuf, PathBuf)| super::keep(files, name, chart_files);
    let mut panels = Vec::new();
    for model in [ModelKind::LogReg, ModelKind::Cnn] {
        let mut loss = Vec::new();
        let mut acc = Vec::new();
        for (i, p) in
            [ProtocolChoice::Plain, ProtocolChoice::Secure(Protocol::Rtas), ProtocolChoice::Secure(Protocol::RtasFast)]
                .iter()
                .enumerate()
        {
            let mut cfg = SimulateConfig::paper(model, *p);
            cfg.max_steps = Some(sc.curve_steps);
            cfg.seed = seed;
            let r = simulate(
                &cfg,
                train,
                &Prepared { count: 200, x: test.x[..200 * 784].to_vec(), labels: test.labels[..200].to_vec() },
                hidden,
            )?
            .report;
            let w = (sc.curve_steps / 20).max(1);
            loss.push(Series {
                label: p.name().into(),
                points: moving_average(&r.loss_curve, w),
                dashed: i == 2,
                color: i,
                ..Default::default()
            });
            acc.push(Series {
                label: p.name().into(),
                points: moving_average(&r.batch_accuracy_curve, w),
                dashed: i == 2,
                color: i,
                ..Default::default()
            });
        }
        panels.push(LinePanel {
            title: format!("{}: loss", model.name()),
            x_label: "training step (batch 32)".into(),
            y_label: "mean squared loss (moving average)".into(),
            series: loss,
            legend: Corner::UpperRight,
            ..Default::default()
        });
        panels.push(LinePanel {
            title: format!("{}: accuracy on the batch", model.name()),
            x_label: "training step (batch 32)".into(),
            y_label: "batch accuracy (moving average)".into(),
            series: acc,
            ..Default::default()
        });
    }
    let chart = LinePanels {
        title: "Training: plain, RTAS and RTAS-fast from the same start and batches".into(),
        panels,
        columns: 2,
        size: (1500, 1050),
    };
    saved("training", save(out, "training", &chart)?);
    let section = Section {
        name: "training",
        title: "Training curves",
        text: format!(
            "Loss and batch accuracy per step ({} steps) of the plaintext reference and of the two protocols, all from the \
             same initialization and batches. The curves lie on top of each other: fixed point at 16 fractional bits with \
             SecureML's (unbiased, stochastic) truncation does not change what is learned.",
            sc.curve_steps
        ),
        command: "rtas simulate --model logreg --protocol rtas".into(),
    };
    Ok(section)
}
