//! The report's section on modeled time against bandwidth and RTT.

use super::*;

/// The section: its chart drawn and saved, its text with the numbers of this run.
pub(super) fn section(cx: &mut Ctx<'_>, runs: &Runs) -> Result<Section> {
    let out = cx.out;
    let files = &mut cx.files;
    let mut saved = |name: &str, chart_files: (PathBuf, PathBuf)| super::keep(files, name, chart_files);
    let bws: Vec<f64> = (0..=12).map(|i| 10f64.powf(1.0 + i as f64 * 0.25)).collect(); // Mbit/s, 10 .. 10,000
    let rtts: Vec<f64> = (0..=12).map(|i| 10f64.powf(-1.0 + i as f64 * 0.25)).collect(); // ms, 0.1 .. 100
    let mut bw_series = Vec::new();
    let mut rtt_series = Vec::new();
    for (i, (model, proto, (r, rec))) in runs.iter().filter(|(_, p, _)| !p.contains("reuse")).enumerate() {
        let step = rec.stage(Stage::Train(1));
        let label = format!("{model} {proto}, train step");
        let mut a = Vec::new();
        for &bw in &bws {
            let prof = Profile { name: "sweep".into(), bandwidth: bw * 1e6 / 8.0, rtt: 0.22e-3, overhead_bytes: 0 };
            a.push((bw, replay(&step.ledger, &step.traces, &prof, None)?.seconds));
        }
        let mut b = Vec::new();
        for &rtt in &rtts {
            let prof = Profile { name: "sweep".into(), bandwidth: 1e9 / 8.0, rtt: rtt * 1e-3, overhead_bytes: 0 };
            b.push((rtt, replay(&step.ledger, &step.traces, &prof, None)?.seconds));
        }
        bw_series.push(Series { label: label.clone(), points: a, color: i, ..Default::default() });
        rtt_series.push(Series { label, points: b, color: i, ..Default::default() });
        let plain = r.train_step.plain_seconds;
        let flat = |xs: &[f64]| xs.iter().map(|&x| (x, plain)).collect::<Vec<_>>();
        if *proto == "rtas" {
            bw_series.push(Series {
                label: format!("{model} plain (1 core)"),
                points: flat(&bws),
                dashed: true,
                color: i,
                ..Default::default()
            });
            rtt_series.push(Series {
                label: format!("{model} plain (1 core)"),
                points: flat(&rtts),
                dashed: true,
                color: i,
                ..Default::default()
            });
        }
    }
    let chart = LinePanels {
        title: "Modeled time of one training step (batch 32) against the network".into(),
        panels: vec![
            LinePanel {
                title: "bandwidth sweep, RTT 0.22 ms".into(),
                x_label: "bandwidth (Mbit/s)".into(),
                y_label: "seconds per step".into(),
                log_x: true,
                log_y: true,
                series: bw_series,
                legend: Corner::UpperRight,
                ..Default::default()
            },
            LinePanel {
                title: "RTT sweep, 1 Gbit/s".into(),
                x_label: "round-trip time (ms)".into(),
                y_label: "seconds per step".into(),
                log_x: true,
                log_y: true,
                series: rtt_series,
                legend: Corner::UpperLeft,
                ..Default::default()
            },
        ],
        columns: 2,
        size: (1500, 650),
    };
    saved("network", save(out, "network", &chart)?);
    let section = Section {
        name: "network",
        title: "Modeled time against bandwidth and round-trip time",
        text: format!(
            "One recorded training step replayed under each network (the cost model: compute from each party's CPU \
             time, every message queued on its link and delayed by half an RTT). Where a curve leaves its flat, \
             compute-bound part the protocol becomes network-bound: logistic regression's step by its {} between P0 and \
             P1, the CNN's by its {}; on the RTT axis every protocol pays its online rounds ({} for logistic regression \
             under RTAS, {} for the CNN under RTAS, {} under RTAS-fast, {} under the FSS baseline) times the RTT. \
             The FSS baseline's curves include its dealer's keys ({} per CNN training step), which dominate below \
             a few Gbit/s.",
            reference::bytes(runs[0].2.0.train_step.bytes_p0_p1 as f64),
            reference::bytes(runs[3].2.0.train_step.bytes_p0_p1 as f64),
            runs[0].2.0.train_step.rounds,
            runs[3].2.0.train_step.rounds,
            runs[4].2.0.train_step.rounds,
            runs[6].2.0.train_step.rounds,
            reference::bytes(runs[6].2.0.train_step.traffic.phase_bytes(crate::net::Phase::Offline) as f64)
        ),
        command: "rtas simulate --model logreg --protocol rtas --bandwidth 100Mbit --rtt 10ms --network lan".into(),
    };
    Ok(section)
}
