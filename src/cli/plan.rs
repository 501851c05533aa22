//! `rtas plan`: bytes, rounds and modeled time of a model under each protocol, per step, epoch and in total,
//! without data (the protocol code on shape-only tensors; `--verify` checks it against a real run).

use super::op::NetworkArgs;
use super::output::{Table, render};
use crate::error::{Error, Result, invalid};
use crate::experiment::plan::{self, PlanConfig, PlanReport, Verified};
use crate::models::secure::Protocol;
use crate::protocol::work::Rates;
use clap::Args;
use serde::Serialize;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The model: logreg, cnn, or a model file (TOML, see models/).
    #[arg(long, value_parser = super::simulate::parse_model, value_name = "logreg|cnn|FILE")]
    pub model: super::simulate::ModelName,
    /// Protocols, comma-separated: rtas, rtas-fast, mpc.
    #[arg(long, value_name = "P,...", value_delimiter = ',', default_value = "rtas,rtas-fast,mpc")]
    pub protocols: Vec<String>,
    /// Training batch size.
    #[arg(long, value_name = "B", default_value_t = 32, allow_negative_numbers = true)]
    pub batch: usize,
    /// Inference batch size (default: the training batch).
    #[arg(long, value_name = "B", allow_negative_numbers = true)]
    pub infer_batch: Option<usize>,
    /// Training rows (an epoch is rows / batch steps).
    #[arg(long, value_name = "N", default_value_t = 60_000, allow_negative_numbers = true)]
    pub rows: usize,
    /// Epochs.
    #[arg(long, value_name = "E", default_value_t = 1, allow_negative_numbers = true)]
    pub epochs: usize,
    #[command(flatten)]
    pub net: NetworkArgs,
    /// Fixed-point fractional bits (they set the FSS gates' key sizes).
    #[arg(long, value_name = "F", default_value_t = 16, allow_negative_numbers = true)]
    pub frac_bits: u32,
    /// The FSS gate under mpc: dcf (one online round) or dpf (two rounds, smaller keys).
    #[arg(long, value_name = "dcf|dpf", default_value = "dcf", value_parser = super::simulate::parse_gate)]
    pub fss_gate: crate::protocol::party::FssGate,
    /// Under mpc: every value an FSS gate compares is a K-bit signed fixed-point number (see `rtas simulate
    /// --help`); smaller keys. Default: 64-F.
    #[arg(long, value_name = "K", allow_negative_numbers = true)]
    pub value_bits: Option<u32>,
    /// Measure the operation costs on this machine carefully (7 runs each) and keep them for later plans
    /// ($XDG_CACHE_HOME/rtas/rates.json or ~/.cache/rtas/rates.json); without it a plan uses the kept
    /// costs, or measures quickly (3 runs each) when none are kept.
    #[arg(long)]
    pub calibrate: bool,
    /// Also run one step and one inference batch for real on random data (at --verify-batch) and check that
    /// plan and run record the same messages, byte for byte, and the same rounds.
    #[arg(long)]
    pub verify: bool,
    /// The batch --verify runs (its inference batch is the same).
    #[arg(long, value_name = "B", default_value_t = 4, allow_negative_numbers = true)]
    pub verify_batch: usize,
    /// Draw the training step's bytes and LAN time against batch size (1 to 256) per protocol into
    /// DIR/plan-<model>.png and .svg.
    #[arg(long, value_name = "DIR")]
    pub chart: Option<PathBuf>,
}

fn rates_file() -> Option<PathBuf> {
    crate::protocol::kernel::cache_file().map(|f| f.with_file_name("rates.json"))
}

/// The rates to plan with and where they came from.
fn rates(calibrate: bool) -> Result<(Rates, String)> {
    let file = rates_file();
    if calibrate {
        let r = Rates::measure(7);
        let Some(f) = file else {
            return Ok((r, "measured now, 7 runs each (no cache directory to keep them)".into()));
        };
        if let Some(dir) = f.parent() {
            std::fs::create_dir_all(dir).map_err(|source| Error::Io { path: dir.to_path_buf(), source })?;
        }
        let text = serde_json::to_string_pretty(&r).map_err(|e| invalid(e.to_string()))?;
        std::fs::write(&f, text).map_err(|source| Error::Io { path: f.clone(), source })?;
        return Ok((r, format!("measured now, 7 runs each, kept in {}", f.display())));
    }
    if let Some(f) = file.filter(|f| f.is_file()) {
        let text = std::fs::read_to_string(&f).map_err(|source| Error::Io { path: f.clone(), source })?;
        if let Ok(r) = serde_json::from_str::<Rates>(&text) {
            if r.format == crate::protocol::work::RATES_FORMAT {
                return Ok((r, format!("kept by plan --calibrate in {}", f.display())));
            }
            return Ok((
                plan::quick_rates(),
                format!(
                    "measured now, 3 runs each: the rates kept in {} were measured by an older rtas (rerun plan \
                     --calibrate to keep new ones)",
                    f.display()
                ),
            ));
        }
        return Err(invalid(format!("{}: not a rates file; rerun rtas plan --calibrate", f.display())));
    }
    Ok((plan::quick_rates(), "measured now, 3 runs each (plan --calibrate measures and keeps them)".into()))
}

fn protocols(names: &[String]) -> Result<Vec<Protocol>> {
    let mut out = Vec::new();
    for n in names {
        let p = match n.trim() {
            "rtas" => Protocol::Rtas,
            "rtas-fast" => Protocol::RtasFast,
            "mpc" => Protocol::Mpc,
            "" => continue,
            other => return Err(invalid(format!("--protocols: unknown '{other}' (known: rtas, rtas-fast, mpc)"))),
        };
        if !out.contains(&p) {
            out.push(p);
        }
    }
    Ok(out)
}

/// What `rtas plan` prints.
#[derive(Debug, Serialize)]
pub struct PlanOutput {
    /// The plan.
    #[serde(flatten)]
    pub plan: PlanReport,
    /// `--verify`: per protocol, the real run's ledger and whether the plan's equals it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified: Option<Vec<Verified>>,
    /// `--chart`: the files written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chart: Option<Vec<String>>,
}

pub fn run(a: PlanArgs, json: bool) -> Result<String> {
    if a.verify_batch == 0 {
        return Err(crate::error::invalid("--verify-batch must be at least 1"));
    }
    let (r, source) = rates(a.calibrate)?;
    let cfg = PlanConfig {
        model: a.model.kind,
        protocols: protocols(&a.protocols)?,
        batch: a.batch,
        infer_batch: a.infer_batch.unwrap_or(a.batch),
        rows: a.rows,
        epochs: a.epochs,
        profiles: a.net.profiles()?,
        frac_bits: a.frac_bits,
        fss_gate: a.fss_gate,
        value_bits: a.value_bits,
        rates: r,
        rates_source: source,
    };
    let report = plan::plan(&cfg)?;
    let verified = if a.verify {
        let v = plan::verify(&cfg, a.verify_batch, a.verify_batch)?;
        if let Some(bad) = v.iter().find(|v| v.mismatch.is_some()) {
            return Err(Error::Numerical(format!(
                "plan and run disagree under {}: {}",
                bad.protocol,
                bad.mismatch.as_deref().unwrap_or("")
            )));
        }
        Some(v)
    } else {
        None
    };
    let chart = match &a.chart {
        Some(dir) => Some(draw(&cfg, dir)?),
        None => None,
    };
    render(&PlanOutput { plan: report, verified, chart }, json, table)
}

fn draw(cfg: &PlanConfig, dir: &std::path::Path) -> Result<Vec<String>> {
    let sweep = plan::sweep(
        cfg.model,
        &cfg.protocols,
        &plan::CHART_BATCHES,
        cfg.rates,
        cfg.frac_bits,
        (cfg.fss_gate, cfg.value_bits),
    )?;
    let chart = plan::chart(cfg.model, &sweep);
    let (png, svg) = crate::plot::save(dir, &format!("plan-{}", cfg.model.name()), &chart)?;
    Ok(vec![png.display().to_string(), svg.display().to_string()])
}

fn bytes(b: u64) -> String {
    let b = b as f64;
    if b >= 1e9 {
        format!("{:.2} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.2} MB", b / 1e6)
    } else {
        format!("{:.1} KB", b / 1e3)
    }
}

fn secs(s: f64) -> String {
    if s >= 100.0 {
        format!("{s:.0} s")
    } else if s >= 1.0 {
        format!("{s:.2} s")
    } else {
        format!("{:.2} ms", s * 1e3)
    }
}

pub fn table(o: &PlanOutput) -> String {
    let r = &o.plan;
    let nets: Vec<String> =
        r.protocols.first().map_or_else(Vec::new, |p| p.train_step.modeled_seconds.keys().cloned().collect());
    let mut head = vec!["protocol", "what", "P0<->P1", "all links", "online rounds"];
    let net_heads: Vec<String> = nets.iter().map(|n| format!("{n} modeled")).collect();
    head.extend(net_heads.iter().map(String::as_str));
    let mut t = Table::new(&head);
    for p in &r.protocols {
        for (what, m) in [("training step", &p.train_step), ("inference batch", &p.infer_batch)] {
            let mut row = vec![
                p.protocol.clone(),
                what.to_string(),
                bytes(m.traffic.bytes_p0_p1),
                bytes(m.traffic.total_bytes),
                m.traffic.rounds.to_string(),
            ];
            row.extend(nets.iter().map(|n| secs(m.modeled_seconds.get(n).copied().unwrap_or(f64::NAN))));
            t.row(&row);
        }
        for (what, b, s) in [("epoch", p.epoch_bytes, &p.epoch_seconds), ("total", p.total_bytes, &p.total_seconds)] {
            let mut row = vec![p.protocol.clone(), what.to_string(), "-".into(), bytes(b), "-".into()];
            row.extend(nets.iter().map(|n| secs(s.get(n).copied().unwrap_or(f64::NAN))));
            t.row(&row);
        }
    }
    // Bytes per directed link and phase of one training step, one column per protocol.
    let names: Vec<&str> = r.protocols.iter().map(|p| p.protocol.as_str()).collect();
    let mut lh = vec!["link", "phase"];
    lh.extend(names.iter().copied());
    let mut links = Table::new(&lh);
    let mut keys: Vec<_> = r.protocols.iter().flat_map(|p| p.train_step.traffic.by_link.keys().copied()).collect();
    keys.sort();
    keys.dedup();
    for k in keys {
        let mut row = vec![format!("{}->{}", k.1, k.2), k.0.to_string()];
        row.extend(r.protocols.iter().map(|p| p.train_step.traffic.by_link.get(&k).map_or("-".into(), |b| bytes(*b))));
        links.row(&row);
    }
    let mut compute = Vec::new();
    for p in &r.protocols {
        let c: Vec<String> =
            p.train_step.compute_seconds.iter().map(|(role, s)| format!("{role} {}", secs(*s))).collect();
        compute.push(format!("  {}: {}", p.protocol, c.join(", ")));
    }
    let q = &r.rates;
    let mut s = format!(
        "plan {}: {} parameters, {:.3e} multiply-adds per example forward; batch {}, inference batch {}, {} rows \
         ({} steps per epoch), {} epoch(s){}; no data touched\n\n{}\n\nbytes per directed link and phase, one training step:\n{}\n\n\
         modeled compute per party, one training step (core-seconds):\n{}\n\
         operation costs (ns, {}): ring multiply-add {:.3}, f64 multiply-add {:.3}, PRG element {:.2}, element pass {:.2}, \
         helper evaluation {:.1}, DCF key {:.0}, DCF evaluation {:.0}, DPF key {:.0}, DPF evaluation {:.0}",
        r.model,
        r.params,
        r.forward_macs,
        r.batch,
        r.infer_batch,
        r.rows,
        r.steps_per_epoch,
        r.epochs,
        r.value_bits.map_or(String::new(), |k| format!("; mpc's compared values stated to fit {k} signed bits")),
        t.render(),
        links.render(),
        compute.join("\n"),
        r.rates_source,
        q.mac_ns,
        q.f64_mac_ns,
        q.prg_ns,
        q.elem_ns,
        q.helper_ns,
        q.dcf_key_ns,
        q.dcf_eval_ns,
        q.dpf_key_ns,
        q.dpf_eval_ns
    );
    if let Some(v) = &o.verified {
        s.push_str("\n\nverified against a real run of one step and one inference batch on random data:");
        for x in v {
            s.push_str(&format!(
                "\n  {}: {} messages, {} bytes, rounds (step, inference) {:?}: identical; modeled LAN step {} \
                 from measured compute, {} from the operation costs",
                x.protocol,
                x.messages,
                x.bytes,
                x.rounds,
                secs(x.lan_step_seconds[0]),
                secs(x.lan_step_seconds[1])
            ));
        }
    }
    if let Some(c) = &o.chart {
        s.push_str(&format!("\n\nchart: {}", c.join(", ")));
    }
    s
}
