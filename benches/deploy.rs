//! Wall time of real processes on loopback (issue 13's targets): every role its own `rtas party` process
//! over mutual TLS, all sharing this machine's cores. A bench, not a timed test: the figures depend on the
//! host. Prints each figure beside its target and the reference systems' (measured on another machine of
//! this kind), the plaintext step for the ratio, and the ratio to RTAS's same workload in the same run (the
//! host's phases move every row together, so that ratio tells a change of code from a change of host).
//!
//! `cargo bench --bench deploy` (about 135 s in one run here, most of it mpc's three CNN inferences).

use rtas::deploy::wall::wall_rows;
use rtas::experiment::reference::MEASURED_WALL;
use rtas::models::secure::Protocol;
use rtas::protocol::party::FssGate;
use std::path::Path;

fn main() {
    // `cargo bench` passes --bench; nothing to parse.
    let exe = Path::new(env!("CARGO_BIN_EXE_rtas"));
    // mpc under both FSS gates: one round (DCF keys, 3.1 KB a value) and two (DPF keys, 1.4 KB); and the DPF
    // gate with every compared value stated to fit 31 signed bits (`--value-bits 31`, MP-SPDZ's sfix default
    // range at f = 16; `rtas simulate` counts none of the CNN's values outside it).
    let gates = [(FssGate::Dcf, None), (FssGate::Dpf, None), (FssGate::Dpf, Some(31))];
    let rows = wall_rows(exe, &[Protocol::Rtas, Protocol::RtasFast, Protocol::Mpc], &gates, 30, 8192).expect("launch");
    // Issue 13's targets for RTAS, issue 27's for the FSS baseline.
    let target = |protocol: &str, model: &str, phase: &str| match (protocol, model, phase) {
        ("rtas", "logreg", "train") => Some(0.005),
        ("rtas", "cnn", "train") => Some(0.060),
        ("rtas", "cnn", "infer") => Some(4.0),
        ("mpc" | "mpc-dpf" | "mpc-dpf/31", "logreg", "train") => Some(0.005),
        ("mpc" | "mpc-dpf" | "mpc-dpf/31", "cnn", "train") => Some(0.100),
        ("mpc" | "mpc-dpf" | "mpc-dpf/31", "cnn", "infer") => Some(10.0),
        _ => None,
    };
    println!(
        "{:<14} {:<10} {:>7} {:>12} {:>12} {:>10} {:>8} {:>10}  reference (another host of this kind)",
        "model/phase", "protocol", "batch", "measured s", "modeled LAN", "x plain", "x rtas", "target s"
    );
    for r in &rows {
        let what = format!("{} {}", r.model, r.phase);
        let refs: Vec<String> =
            MEASURED_WALL.iter().filter(|(_, w, _)| *w == what).map(|(s, _, v)| format!("{s} {v} s")).collect();
        let t = target(&r.protocol, &r.model, &r.phase);
        let rtas = rows.iter().find(|o| o.protocol == "rtas" && o.model == r.model && o.phase == r.phase);
        let x_rtas = rtas.map_or_else(|| "-".to_string(), |o| format!("{:.2}", r.seconds / o.seconds));
        let verdict = match t {
            Some(t) if r.seconds <= t => format!("{t:>10}  met"),
            Some(t) => format!("{t:>10}  MISSED"),
            None => format!("{:>10}", "-"),
        };
        println!(
            "{:<14} {:<10} {:>7} {:>12.4} {:>12.4} {:>10.1} {x_rtas:>8} {verdict}  {}",
            what,
            r.protocol,
            r.batch,
            r.seconds,
            r.modeled_lan_seconds,
            r.seconds / r.plain_seconds,
            refs.join(", ")
        );
    }
    println!(
        "({} processes on {} cores; training: median of 30 steps after one warm-up)",
        rows[0].processes, rows[0].cores
    );
}
