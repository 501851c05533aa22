//! `rtas tables`: the paper's Tables 1-4 with rtas's figures beside the published ones.

use super::data::DataArgs;
use super::output::{Table, render};
use super::progress::bar;
use crate::data::mnist;
use crate::error::Result;
use crate::experiment::tables::{self, TablesConfig, TablesReport};
use crate::models::Prepared;
use clap::Args;

#[derive(Debug, Args)]
pub struct TablesArgs {
    /// Training steps measured (batch 32; the median step is reported).
    #[arg(long, value_name = "N", default_value_t = 9, allow_negative_numbers = true)]
    pub steps: usize,
    /// Inference batch size (the paper's 8192).
    #[arg(long, value_name = "B", default_value_t = 8192, allow_negative_numbers = true)]
    pub infer_batch: usize,
    #[command(flatten)]
    pub data: DataArgs,
    /// Random seed (of the simulated runs; the measured processes draw from the operating system).
    #[arg(long, value_name = "S", default_value_t = 1, allow_negative_numbers = true)]
    pub seed: u64,
    /// Skip the measured-wall-time rows (real processes over mutual TLS on loopback).
    #[arg(long)]
    pub no_wall: bool,
}

pub fn run(a: TablesArgs, json: bool) -> Result<String> {
    let (train, test) = a.data.load()?;
    // The inference batch: the user's test set, or all 10,000 bundled digits (8192 are needed).
    let pool = match &a.data.data {
        Some(_) => test,
        None => Prepared::new(&mnist::bundled()?)?,
    };
    let cfg = TablesConfig { steps: a.steps, infer_batch: a.infer_batch, seed: a.seed };
    let pb = bar(6, "tables");
    let mut r = tables::tables(&cfg, &train, &pool, &pb)?;
    if !a.no_wall {
        let exe =
            std::env::current_exe().map_err(|e| crate::error::invalid(format!("cannot find the rtas binary: {e}")))?;
        use crate::models::secure::Protocol;
        r.wall = crate::deploy::wall::wall_rows(
            &exe,
            &[Protocol::Rtas, Protocol::RtasFast, Protocol::Mpc],
            // The FSS baseline's faster gate deployed (two rounds, DPF keys: 16 s against 26 s for the CNN's
            // inference of 8192 here, `cargo bench --bench deploy`, which runs both).
            &[(crate::protocol::party::FssGate::Dpf, None)],
            a.steps,
            a.infer_batch,
        )?;
    }
    render(&r, json, table)
}

fn find<'a>(r: &'a TablesReport, model: &str, protocol: &str, phase: &str) -> Option<&'a tables::Measured> {
    r.measured.iter().find(|m| m.model == model && m.protocol == protocol && m.phase == phase)
}

fn paper(r: &TablesReport, table: u8, system: &str, row: &str) -> String {
    r.published
        .iter()
        .find(|p| p.table == table && p.system == system && p.row == row)
        .map_or("-".to_string(), |p| p.value.clone())
}

fn table(r: &TablesReport) -> String {
    let secs = |m: Option<&tables::Measured>, wan: bool| {
        m.map_or("-".to_string(), |m| format!("{:.4}", if wan { m.wan_seconds } else { m.lan_seconds }))
    };
    let mb = |m: Option<&tables::Measured>| {
        m.map_or("-".to_string(), |m| format!("{:.2} ({:.2} MB)", m.megabits, m.total_bytes as f64 / 1e6))
    };
    let mut t1 = Table::new(&[
        "network/phase",
        "Rosetta (paper)",
        "RTAS (paper)",
        "RTAS-fast (paper)",
        "rtas RTAS",
        "rtas RTAS-fast",
        "rtas mpc (FSS)",
    ]);
    let mut t3 = Table::new(&[
        "network/phase",
        "CryptoNets",
        "SecureNN",
        "RTAS (paper)",
        "RTAS-fast (paper)",
        "rtas RTAS",
        "rtas RTAS-fast",
        "rtas mpc (FSS)",
    ]);
    for (net, wan) in [("LAN", false), ("WAN", true)] {
        for phase in ["train", "infer"] {
            let row = format!("{net} {phase}");
            t1.row(&[
                row.clone(),
                "-".into(),
                "-".into(),
                "-".into(),
                secs(find(r, "logreg", "rtas", phase), wan),
                secs(find(r, "logreg", "rtas-fast", phase), wan),
                secs(find(r, "logreg", "mpc", phase), wan),
            ]);
            t3.row(&[
                row.clone(),
                paper(r, 3, "CryptoNets", &row),
                paper(r, 3, "SecureNN", &row),
                paper(r, 3, "RTAS (paper)", &row),
                "-".into(),
                secs(find(r, "cnn", "rtas", phase), wan),
                secs(find(r, "cnn", "rtas-fast", phase), wan),
                secs(find(r, "cnn", "mpc", phase), wan),
            ]);
        }
    }
    let mut t2 = Table::new(&[
        "phase",
        "Rosetta (paper)",
        "RTAS (paper)",
        "RTAS-fast (paper)",
        "rtas RTAS Mb",
        "rtas RTAS-fast Mb",
        "rtas mpc Mb",
    ]);
    let mut t4 = Table::new(&[
        "phase",
        "CryptoNets",
        "SecureNN",
        "RTAS (paper)",
        "RTAS-fast (paper)",
        "rtas RTAS Mb",
        "rtas RTAS-fast Mb",
        "rtas mpc Mb",
    ]);
    for phase in ["train", "infer"] {
        t2.row(&[
            phase.to_string(),
            "-".into(),
            "-".into(),
            "-".into(),
            mb(find(r, "logreg", "rtas", phase)),
            mb(find(r, "logreg", "rtas-fast", phase)),
            mb(find(r, "logreg", "mpc", phase)),
        ]);
        t4.row(&[
            phase.to_string(),
            paper(r, 4, "CryptoNets", phase),
            paper(r, 4, "SecureNN", phase),
            paper(r, 4, "RTAS (paper)", phase),
            "-".into(),
            mb(find(r, "cnn", "rtas", phase)),
            mb(find(r, "cnn", "rtas-fast", phase)),
            mb(find(r, "cnn", "mpc", phase)),
        ]);
    }
    // The fair comparison: the same dealer model, online against offline, with the paper's helper or FSS.
    let mut t5 = Table::new(&[
        "model/phase",
        "protocol",
        "online MB",
        "offline MB",
        "P0<->P1 MB",
        "online rounds",
        "online LAN s",
        "online WAN s",
        "LAN s",
        "WAN s",
    ]);
    for model in ["logreg", "cnn"] {
        for phase in ["train", "infer"] {
            for protocol in ["rtas", "rtas-fast", "mpc", "dp-sgd"] {
                if let Some(m) = find(r, model, protocol, phase) {
                    t5.row(&[
                        format!("{model} {phase} (batch {})", m.batch),
                        protocol.to_string(),
                        format!("{:.3}", m.online_bytes as f64 / 1e6),
                        format!("{:.3}", m.offline_bytes as f64 / 1e6),
                        format!("{:.3}", m.bytes_p0_p1 as f64 / 1e6),
                        m.rounds.to_string(),
                        format!("{:.4}", m.online_lan_seconds),
                        format!("{:.4}", m.online_wan_seconds),
                        format!("{:.4}", m.lan_seconds),
                        format!("{:.4}", m.wan_seconds),
                    ]);
                }
            }
        }
    }
    let refs: Vec<String> = r
        .published
        .iter()
        .filter(|p| p.system.contains("CrypTen") || p.system.contains("MP-SPDZ"))
        .map(|p| format!("- Table {} {}, {}: {}", p.table, p.row, p.system, p.value))
        .collect();
    let notes: Vec<String> = r.notes.iter().map(|n| format!("- {n}")).collect();
    let mut tw = Table::new(&[
        "model/phase",
        "protocol",
        "measured s",
        "modeled LAN s",
        "x plain",
        "CrypTen 0.4.1",
        "MP-SPDZ dealer-ring",
    ]);
    for w in &r.wall {
        let what = format!("{} {}", w.model, w.phase);
        let other = |system: &str| {
            crate::experiment::reference::MEASURED_WALL
                .iter()
                .find(|(s, wl, _)| *s == system && *wl == what)
                .map_or("-".to_string(), |(_, _, v)| v.to_string())
        };
        tw.row(&[
            format!("{what} (batch {})", w.batch),
            w.protocol.clone(),
            format!("{:.4}", w.seconds),
            format!("{:.4}", w.modeled_lan_seconds),
            format!("{:.1}", w.seconds / w.plain_seconds),
            other("CrypTen 0.4.1"),
            other("MP-SPDZ dealer-ring"),
        ]);
    }
    let procs = |f: fn(usize, usize) -> usize| r.wall.iter().map(|w| w.processes).reduce(f).unwrap_or(0);
    let wall = match r.wall.first() {
        Some(w) => format!(
            "\n\nMeasured wall time: every role its own process over mutual TLS on loopback, {}-{} processes sharing \
             this machine's {} cores (training: median step; mpc-dpf: the FSS baseline on its two-round DPF gate, its faster \
             gate deployed; CrypTen and MP-SPDZ measured on another machine of this kind)\n{}",
            procs(usize::min),
            procs(usize::max),
            w.cores,
            tw.render()
        ),
        None => String::new(),
    };
    format!(
        "The paper's Tables 1-4 with rtas's figures ({}; training batch 32)\n\n\
         Table 1: logistic regression, one-batch time (s)\n{}\n\n\
         Table 2: logistic regression, one-batch traffic (megabits, all links)\n{}\n\n\
         Table 3: CNN, one-batch time (s); inference batch {}, training batch 32\n{}\n\n\
         Table 4: CNN, one-batch traffic (megabits, all links)\n{}\n\n\
         RTAS against the cryptographic baseline in the same dealer model (mpc: FSS gates, no helper)\n{}{}\n\n\
         Reference systems measured on this kind of machine:\n{}\n\nWhere the workloads differ:\n{}",
        r.data,
        t1.render(),
        t2.render(),
        find(r, "cnn", "rtas", "infer").map_or(0, |m| m.batch),
        t3.render(),
        t4.render(),
        t5.render(),
        wall,
        refs.join("\n"),
        notes.join("\n")
    )
}
