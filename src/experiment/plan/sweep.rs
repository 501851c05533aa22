//! Plans compared across batch sizes (the report's and `rtas plan --chart`'s sweep) and across the FSS gates.

use super::{PlanConfig, plan};
use crate::error::Result;
use crate::models::ModelKind;
use crate::models::secure::Protocol;
use crate::protocol::party::FssGate;
use crate::protocol::work::Rates;
use crate::sim::cost::Profile;
use crate::sim::measure::Measurement;

/// (batch, bytes of one training step, its modeled LAN seconds).
pub type SweepPoint = (usize, u64, f64);

/// Cost of a protocol's training step against batch size (for the report's chart): (batch, bytes of one
/// step, modeled LAN seconds of one step) per protocol, at `frac_bits` fractional bits and with mpc on `fss_gate` (comparing values of `value_bits`, when stated).
pub fn sweep(
    model: ModelKind,
    protocols: &[Protocol],
    batches: &[usize],
    rates: Rates,
    frac_bits: u32,
    (fss_gate, value_bits): (FssGate, Option<u32>),
) -> Result<Vec<(String, Vec<SweepPoint>)>> {
    let mut out = Vec::new();
    for &protocol in protocols {
        let mut pts = Vec::new();
        for &b in batches {
            let cfg = PlanConfig {
                model,
                protocols: vec![protocol],
                batch: b,
                infer_batch: b,
                rows: b,
                epochs: 1,
                profiles: vec![Profile::lan()],
                frac_bits,
                fss_gate,
                value_bits,
                rates,
                rates_source: String::new(),
            };
            let r = plan(&cfg)?;
            let t = &r.protocols[0].train_step;
            pts.push((b, t.traffic.total_bytes, t.modeled_seconds.get("lan").copied().unwrap_or(0.0)));
        }
        out.push((protocol.name().to_string(), pts));
    }
    Ok(out)
}

/// The FSS gate under which `model`'s mpc is modeled faster on the LAN profile for one training step of
/// `batch` plus one inference batch of `infer_batch` (shape-only, at `rates`, 16 fractional bits), with both
/// gates' modeled seconds `[dcf, dpf]`. The DPF gate sends less than half the keys but takes two online rounds
/// per layer: which wins depends on the model.
pub fn faster_gate(model: ModelKind, batch: usize, infer_batch: usize, rates: Rates) -> Result<(FssGate, [f64; 2])> {
    let mut seconds = [0.0; 2];
    for (s, fss_gate) in seconds.iter_mut().zip([FssGate::Dcf, FssGate::Dpf]) {
        let cfg = PlanConfig {
            model,
            protocols: vec![Protocol::Mpc],
            batch,
            infer_batch,
            rows: batch,
            epochs: 1,
            profiles: vec![Profile::lan()],
            frac_bits: 16,
            fss_gate,
            value_bits: None,
            rates,
            rates_source: String::new(),
        };
        let r = plan(&cfg)?;
        let lan = |m: &Measurement| m.modeled_seconds.get("lan").copied().unwrap_or(f64::INFINITY);
        *s = lan(&r.protocols[0].train_step) + lan(&r.protocols[0].infer_batch);
    }
    Ok((if seconds[1] < seconds[0] { FssGate::Dpf } else { FssGate::Dcf }, seconds))
}

/// Batch sizes the chart sweeps.
pub const CHART_BATCHES: [usize; 9] = [1, 2, 4, 8, 16, 32, 64, 128, 256];

/// One training step's traffic and modeled LAN time against batch size, one line per protocol.
/// `sweep` is [`sweep`] over [`CHART_BATCHES`] (callers that also quote a point of it run it once).
pub fn chart(model: ModelKind, sweep: &[(String, Vec<SweepPoint>)]) -> crate::plot::charts::LinePanels {
    use crate::plot::charts::{Corner, LinePanel, LinePanels, Series};
    // A line per protocol, and a marker at each planned batch size.
    let series = |f: &dyn Fn(&SweepPoint) -> f64| -> Vec<Series> {
        sweep
            .iter()
            .enumerate()
            .flat_map(|(i, (name, pts))| {
                let points: Vec<(f64, f64)> = pts.iter().map(|p| (p.0 as f64, f(p))).collect();
                [
                    Series { label: name.clone(), points: points.clone(), color: i, ..Default::default() },
                    Series { points, color: i, markers_only: true, ..Default::default() },
                ]
            })
            .collect()
    };
    let panel = |title: &str, y: &str, f: &dyn Fn(&SweepPoint) -> f64| LinePanel {
        title: title.into(),
        x_label: "batch size".into(),
        y_label: y.into(),
        log_x: true,
        log_y: true,
        series: series(f),
        legend: Corner::UpperLeft,
        ..Default::default()
    };
    LinePanels {
        title: format!("rtas plan {}: one training step against batch size (shape-only runs)", model.name()),
        panels: vec![
            panel("traffic, all links", "bytes", &|p| p.1 as f64),
            panel("modeled time, LAN (625 MB/s, 0.22 ms RTT)", "seconds", &|p| p.2),
        ],
        columns: 2,
        size: (1200, 520),
    }
}
