//! The audit's row for the paper's central claim measured: RTAS against the FSS baseline `mpc` in the same dealer
//! model, per workload and measure.

use super::*;
use crate::protocol::party::FssGate;

/// Modeled times within this ratio of each other are a tie: they charge each party's computation at operation
/// costs, which miss 4-14% of the CPU time a real run measures, by a share that differs between protocols
/// (`rtas plan --verify` on logistic regression and the CNN: 0.87 against 1.01 ms for RTAS, 0.78 against 0.85
/// for mpc), so a smaller difference is not a finding. Bytes and rounds are counted exactly and have no ties
/// but equality.
pub const TIE: f64 = 1.10;

/// Which of RTAS (`r`) and mpc (`m`) costs less on one measure: "rtas", "mpc", "equal", or "tie" (a measured
/// time within [`TIE`]).
fn cheaper(r: f64, m: f64, measured: bool) -> &'static str {
    if measured && r.max(m) < TIE * r.min(m) {
        "tie"
    } else if r < m {
        "rtas"
    } else if m < r {
        "mpc"
    } else {
        "equal"
    }
}

/// How the measures are made, for the report.
pub const TIME_MODEL: &str = "bytes and rounds from a real run's ledger; modeled times from the same ledger \
     recorded shape-only (checked equal to the real run's) with every party's computation charged at \
     operation costs measured once per audit and the same for every protocol, so a busy or noisy host moves \
     every protocol's time together";

/// RTAS, RTAS-fast and mpc on the same workloads, measured by the same ledger and cost model.
pub(super) fn cost_claim(quick: bool, seed: u64, data: (&Prepared, &Prepared), claims: &[Claim]) -> Result<CostClaim> {
    let infer = (if quick { 64 } else { 256 }).min(data.1.count);
    if infer == 0 {
        return Err(crate::error::invalid("the cost comparison needs test images"));
    }
    let pool = data.1.range(0, infer);
    // The fastest of 5 runs per operation: the audit runs beside other sections in `rtas report`, and a median
    // taken under that load shifted the protocols' proportions (a logistic regression ratio from 0.95 to 0.90).
    let rates = crate::protocol::work::Rates::measure_fastest(5);
    let mut measures = Vec::new();
    for model in [ModelKind::LogReg, ModelKind::Cnn] {
        let mut costs = Vec::new();
        // mpc under both FSS gates: each measure takes the better (the baseline at its best).
        let runs = [
            (Protocol::Rtas, FssGate::Dcf),
            (Protocol::RtasFast, FssGate::Dcf),
            (Protocol::Mpc, FssGate::Dcf),
            (Protocol::Mpc, FssGate::Dpf),
        ];
        for (protocol, gate) in runs {
            let mut sc = SimulateConfig::paper(model, ProtocolChoice::Secure(protocol));
            sc.fss_gate = gate;
            sc.max_steps = Some(4);
            sc.infer_batch = infer;
            sc.seed = seed;
            let r = crate::experiment::simulate::simulate(&sc, data.0, &pool, &ProgressBar::hidden())?.report;
            // Bytes and rounds of the real run; modeled times of the same ledger recorded shape-only, which
            // must be the real one link for link, phase for phase and round for round.
            let planned = modeled(&sc, protocol, rates)?;
            for (real, shape) in
                [(&r.train_step.traffic, &planned.0.traffic), (&r.infer_batch.traffic, &planned.1.traffic)]
            {
                if real != shape {
                    return Err(crate::error::invalid(format!(
                        "{} under {}: the shape-only ledger ({} bytes, {} rounds) is not the real run's ({} bytes, \
                         {} rounds)",
                        model.name(),
                        protocol.name(),
                        shape.total_bytes,
                        shape.rounds,
                        real.total_bytes,
                        real.rounds
                    )));
                }
            }
            costs.push(planned);
        }
        for (phase, pick) in [("train step, batch 32", 0usize), ("inference batch", 1)] {
            let c: Vec<&crate::sim::measure::Measurement> =
                costs.iter().map(|(t, i)| if pick == 0 { t } else { i }).collect();
            let workload =
                format!("{} {phase}{}", model.name(), if pick == 1 { format!(" {infer}") } else { String::new() });
            let rows: [(&str, Measure); 5] = [
                ("online bytes", Box::new(|s| s.traffic.phase_bytes(crate::net::Phase::Online) as f64)),
                ("offline bytes", Box::new(|s| s.traffic.phase_bytes(crate::net::Phase::Offline) as f64)),
                ("online rounds", Box::new(|s| f64::from(s.traffic.rounds))),
                ("modeled LAN s", Box::new(|s| s.modeled_seconds.get("lan").copied().unwrap_or(f64::NAN))),
                ("modeled WAN s", Box::new(|s| s.modeled_seconds.get("wan").copied().unwrap_or(f64::NAN))),
            ];
            for (name, f) in rows.iter() {
                let (r, fst, dcf, dpf) = (f(c[0]), f(c[1]), f(c[2]), f(c[3]));
                let (m, gate) = if dpf < dcf { (dpf, FssGate::Dpf) } else { (dcf, FssGate::Dcf) };
                measures.push(CostMeasure {
                    workload: workload.clone(),
                    measure: name.to_string(),
                    rtas: r,
                    rtas_fast: fst,
                    mpc: m,
                    mpc_gate: gate.name().into(),
                    mpc_by_gate: (dcf, dpf),
                    ratio_rtas_to_mpc: if m > 0.0 { r / m } else { f64::NAN },
                    cheaper: cheaper(r, m, name.starts_with("modeled")).into(),
                });
            }
        }
    }
    let count = |who: &str| measures.iter().filter(|m| m.cheaper == who).count();
    let (rtas_cheaper, mpc_cheaper, ties) = (count("rtas"), count("mpc"), count("tie"));
    let rtas_reveals = claims
        .iter()
        .filter(|c| c.section.starts_with("Section 4.2"))
        .map(|c| format!("{}: {} ({})", c.section, c.statement, c.verdict.text()))
        .collect();
    Ok(CostClaim {
        statement: "RTAS is much cheaper than cryptographic MPC (Sections 1 and 5)".into(),
        compared: measures.len(),
        rtas_cheaper,
        mpc_cheaper,
        ties,
        time_model: TIME_MODEL.into(),
        measures,
        rtas_reveals,
    })
}

/// One training step and one inference batch of `sc`'s workload under `protocol`, shape-only, compute charged
/// at `rates`.
fn modeled(
    sc: &SimulateConfig,
    protocol: Protocol,
    rates: crate::protocol::work::Rates,
) -> Result<(crate::sim::measure::Measurement, crate::sim::measure::Measurement)> {
    let cfg = crate::experiment::plan::PlanConfig {
        model: sc.model,
        protocols: vec![protocol],
        batch: sc.batch,
        infer_batch: sc.infer_batch,
        rows: sc.batch,
        epochs: 1,
        profiles: sc.profiles.clone(),
        frac_bits: match sc.sharing {
            Sharing::Ring { frac_bits } => frac_bits,
            _ => return Err(crate::error::invalid("the cost comparison runs on the ring")),
        },
        fss_gate: sc.fss_gate,
        value_bits: sc.value_bits,
        rates,
        rates_source: "measured by the audit".into(),
    };
    let mut plan = crate::experiment::plan::plan(&cfg)?;
    let p = plan.protocols.pop().ok_or_else(|| crate::error::invalid("the plan returned no protocol"))?;
    Ok((p.train_step, p.infer_batch))
}
