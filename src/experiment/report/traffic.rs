//! The report's section on traffic per protocol beside CrypTen, from the protocol runs the network sweeps reuse.

use super::*;
use crate::protocol::party::FssGate;

/// The section: its chart drawn and saved, its text with the numbers of this run.
pub(super) fn section(cx: &mut Ctx<'_>) -> Result<(Section, Runs)> {
    let (out, seed, hidden, sc, all, train, rates) =
        (cx.out, cx.seed, &cx.hidden, &cx.sc, &cx.all, &cx.train, cx.rates);
    let files = &mut cx.files;
    let mut saved = |name: &str, chart_files: (PathBuf, PathBuf)| super::keep(files, name, chart_files);
    let run = |model: ModelKind,
               protocol: Protocol,
               reuse: bool,
               steps: usize,
               infer: usize,
               gate: FssGate|
     -> Result<(SimulateReport, Recording)> {
        let mut cfg = SimulateConfig::paper(model, ProtocolChoice::Secure(protocol));
        cfg.fss_gate = gate;
        cfg.max_steps = Some(steps);
        cfg.infer_batch = infer;
        cfg.reuse_masks = reuse;
        cfg.keep_recording = true;
        cfg.seed = seed;
        let pool = Prepared { count: infer, x: all.x[..infer * 784].to_vec(), labels: all.labels[..infer].to_vec() };
        let o = simulate(&cfg, train, &pool, hidden)?;
        Ok((o.report, o.recording.ok_or_else(|| Error::Numerical("no recording".into()))?))
    };
    // mpc on the gate `rtas plan` models faster for each model (one training step and one inference batch on
    // the LAN), so that the baseline is shown at its best.
    let (lr_gate, lr_s) = crate::experiment::plan::faster_gate(ModelKind::LogReg, 32, sc.infer_batch, rates)?;
    let (cnn_gate, cnn_s) = crate::experiment::plan::faster_gate(ModelKind::Cnn, 32, sc.infer_batch, rates)?;
    let mpc = |g: FssGate| match g {
        FssGate::Dcf => "mpc (FSS, dcf gate)",
        FssGate::Dpf => "mpc (FSS, dpf gate)",
    };
    let (steps, infer, dcf) = (sc.steps + 1, sc.infer_batch, FssGate::Dcf);
    let runs = [
        ("logreg", "rtas", run(ModelKind::LogReg, Protocol::Rtas, false, steps, infer, dcf)?),
        ("logreg", "rtas-fast", run(ModelKind::LogReg, Protocol::RtasFast, false, steps, infer, dcf)?),
        ("logreg", "rtas, reuse masks", run(ModelKind::LogReg, Protocol::Rtas, true, steps, infer, dcf)?),
        ("cnn", "rtas", run(ModelKind::Cnn, Protocol::Rtas, false, steps, infer, dcf)?),
        ("cnn", "rtas-fast", run(ModelKind::Cnn, Protocol::RtasFast, false, steps, infer, dcf)?),
        ("logreg", mpc(lr_gate), run(ModelKind::LogReg, Protocol::Mpc, false, steps, infer, lr_gate)?),
        ("cnn", mpc(cnn_gate), run(ModelKind::Cnn, Protocol::Mpc, false, steps, infer, cnn_gate)?),
    ];
    let seg = |c: &crate::experiment::simulate::StepCost, unit: f64| -> Vec<(String, f64)> {
        c.traffic
            .by_link
            .iter()
            .map(|((phase, from, to), v)| (format!("{phase} {from}->{to}"), *v as f64 / unit))
            .collect()
    };
    let crypten_scale = sc.infer_batch as f64 / reference::CRYPTEN_INFER_BATCH as f64;
    let mut panels = Vec::new();
    for (model, unit, unit_name) in [("logreg", 1e3, "KB"), ("cnn", 1e6, "MB")] {
        for phase in ["train", "infer"] {
            let mut bars: Vec<Bar> = runs
                .iter()
                .filter(|(m, p, _)| *m == model && !(phase == "infer" && p.contains("reuse")))
                .map(|(_, p, (r, _))| Bar {
                    label: (*p).into(),
                    segments: seg(if phase == "train" { &r.train_step } else { &r.infer_batch }, unit),
                })
                .collect();
            match (model, phase) {
                ("logreg", "train") => bars.push(Bar {
                    label: "CrypTen".into(),
                    segments: vec![
                        ("CrypTen P0<->P1 (measured)".into(), reference::CRYPTEN_LOGREG_STEP_P0_P1.value / unit),
                        ("CrypTen dealer (measured)".into(), reference::CRYPTEN_LOGREG_STEP_DEALER.value / unit),
                    ],
                }),
                ("cnn", "train") => bars.push(Bar {
                    label: "CrypTen".into(),
                    segments: vec![(
                        "CrypTen P0<->P1 (measured)".into(),
                        reference::CRYPTEN_CNN_STEP_P0_P1.value / unit,
                    )],
                }),
                ("cnn", "infer") => bars.push(Bar {
                    label: "CrypTen".into(),
                    segments: vec![
                        (
                            "CrypTen P0<->P1 (measured)".into(),
                            reference::CRYPTEN_CNN_INFER_P0_P1.value * crypten_scale / unit,
                        ),
                        (
                            "CrypTen dealer (measured)".into(),
                            reference::CRYPTEN_CNN_INFER_DEALER.value * crypten_scale / unit,
                        ),
                    ],
                }),
                _ => {}
            }
            let what = if phase == "train" {
                "one training step (batch 32)".to_string()
            } else {
                format!("one inference batch of {}", sc.infer_batch)
            };
            panels.push(BarPanel {
                title: format!("{model}: {what}"),
                y_label: format!("{unit_name} per directed link and phase"),
                bars,
            });
        }
    }
    let chart =
        StackedBars { title: "Traffic by directed link and phase".into(), panels, columns: 2, size: (1500, 1100) };
    saved("traffic", save(out, "traffic", &chart)?);
    let lr = &runs[0].2.0;
    let section = Section {
        name: "traffic",
        title: "Traffic per training step and per inference batch",
        text: format!(
            "Bytes of every message, stacked by directed link and phase (offline = dealer material that does not depend on \
             the inputs). Logistic regression under RTAS moves {:.1} KB between P0 and P1 per step (the opening of the masked \
             batch itself, the analytic floor, is {:.1} KB of it), {:.1} KB with the masked training set reused across \
             epochs; CrypTen's measured {} (plus {} from its dealer) is the reference bar{}. The FSS baseline runs on the \
             gate `rtas plan` models faster on the LAN for one training step and one inference batch of each model \
             (logistic regression: dcf {}, dpf {}; the CNN: dcf {}, dpf {}).",
            lr.train_step.bytes_p0_p1 as f64 / 1e3,
            lr.train_step.floor_bytes_p0_p1 as f64 / 1e3,
            runs[2].2.0.train_step.bytes_p0_p1 as f64 / 1e3,
            reference::bytes(reference::CRYPTEN_LOGREG_STEP_P0_P1.value),
            reference::bytes(reference::CRYPTEN_LOGREG_STEP_DEALER.value),
            if (crypten_scale - 1.0).abs() > 1e-9 {
                format!(
                    "; CrypTen's CNN inference ({} + {} at batch {}) is scaled to this batch of {}",
                    reference::bytes(reference::CRYPTEN_CNN_INFER_P0_P1.value),
                    reference::bytes(reference::CRYPTEN_CNN_INFER_DEALER.value),
                    reference::CRYPTEN_INFER_BATCH,
                    sc.infer_batch
                )
            } else {
                String::new()
            },
            seconds(lr_s[0]),
            seconds(lr_s[1]),
            seconds(cnn_s[0]),
            seconds(cnn_s[1]),
        ),
        command: format!(
            "rtas simulate --model cnn --protocol rtas --max-steps {} --infer-batch {}",
            sc.steps + 1,
            sc.infer_batch.min(2000)
        ),
    };
    Ok((section, runs))
}

/// Seconds with a unit that suits them.
fn seconds(s: f64) -> String {
    if s < 1.0 { format!("{:.2} ms", s * 1e3) } else { format!("{s:.2} s") }
}
