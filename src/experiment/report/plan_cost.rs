//! The report's section on what the CNN costs under each protocol as the batch grows, without data (rtas plan).

use super::*;

/// The section: its chart drawn and saved, its text with the numbers of this run.
pub(super) fn section(cx: &mut Ctx<'_>) -> Result<Section> {
    let out = cx.out;
    let files = &mut cx.files;
    let mut saved = |name: &str, chart_files: (PathBuf, PathBuf)| super::keep(files, name, chart_files);
    let protocols = [Protocol::Rtas, Protocol::RtasFast, Protocol::Mpc];
    let rates = cx.rates;
    let sweep = crate::experiment::plan::sweep(
        ModelKind::Cnn,
        &protocols,
        &crate::experiment::plan::CHART_BATCHES,
        rates,
        16,
        (crate::protocol::party::FssGate::default(), None),
    )?;
    saved("plan-cnn", save(out, "plan-cnn", &crate::experiment::plan::chart(ModelKind::Cnn, &sweep))?);
    // The batch-32 point of the same sweep.
    let b32: Vec<String> = sweep
        .iter()
        .filter_map(|(name, pts)| pts.iter().find(|p| p.0 == 32).map(|p| (name, p)))
        .map(|(name, p)| format!("{name} {:.2} MB, {:.2} ms", p.1 as f64 / 1e6, p.2 * 1e3))
        .collect();
    let section = Section {
        name: "plan-cnn",
        title: "Cost against batch size (rtas plan)",
        text: format!(
            "One training step of the paper's CNN under each protocol, from the protocol code run on shape-only \
             tensors: every message with its real size (the ledger a real run records, checked by `rtas plan \
             --verify`), compute charged at operation costs measured on this machine (ring multiply-add {:.3} ns, \
             DCF evaluation {:.0} ns). At batch 32: {}.",
            rates.mac_ns,
            rates.dcf_eval_ns,
            b32.join("; ")
        ),
        command: "rtas plan --model cnn --chart reports".into(),
    };
    Ok(section)
}
