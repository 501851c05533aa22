//! `rtas audit`: the claims table.

use super::output::render;
use super::progress::bar;
use crate::analysis::bounds;
use crate::analysis::estimate::Estimate;
use crate::error::Result;
use crate::experiment::audit::{self, AuditReport};
use clap::Args;

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Fewer Monte Carlo trials and training steps (under 2 minutes on 2 cores).
    #[arg(long)]
    pub quick: bool,
    /// Random seed of every attack.
    #[arg(long, default_value_t = 1, allow_negative_numbers = true)]
    pub seed: u64,
}

pub fn run(a: AuditArgs, json: bool) -> Result<String> {
    let pb = bar(8, "audit");
    let r = audit::audit(a.quick, a.seed, &pb)?;
    render(&r, json, table)
}

/// The audit as text: one block per claim, every attempt on its own line.
pub fn table(r: &AuditReport) -> String {
    let mut s = format!(
        "rtas audit{} (seed {}) — the paper's claims against the attacks rtas mounts ({:.1} s)\n\
         verdict rule: 'does not hold' when an attack with only the paper's knowledge has a 95% interval above the\n\
         paper's epsilon; 'holds only under stated assumptions' when only attacks with extra knowledge do (the least\n\
         such knowledge is named); 'holds' when none does; oracle figures are shown but never judged.\n",
        if r.quick { " --quick" } else { "" },
        r.seed,
        r.seconds
    );
    for (i, c) in r.claims.iter().enumerate() {
        s.push_str(&format!(
            "\n{}. {}: {}\n   setting:   {}\n   success:   {}\n",
            i + 1,
            c.section,
            c.statement,
            c.setting,
            c.criterion
        ));
        match c.paper_log10_epsilon {
            Some(l) => s.push_str(&format!("   paper:     {} ({})\n", bounds::scientific(l), c.paper_bound)),
            None => s.push_str(&format!("   paper:     {}\n", c.paper_bound)),
        }
        for b in &c.other_bounds {
            s.push_str(&format!("   also:      {} = {}\n", b.name, bounds::scientific(b.log10_epsilon)));
        }
        if let Some(b) = &c.baseline {
            s.push_str(&format!("   baseline:  {} — {}\n", b.name, interval(&b.success)));
        }
        for a in &c.attempts {
            let mut knows =
                if a.assumptions.is_empty() { "paper's knowledge".to_string() } else { a.assumptions.join(", ") };
            if let Some(m) = &a.amount {
                knows = format!("{knows}: {} {}", m.value, m.what);
            }
            s.push_str(&format!(
                "   attack:    {} [{}]{} — {}{}\n",
                a.attack,
                knows,
                if a.oracle { " (ORACLE, not judged)" } else { "" },
                interval(&a.success),
                if a.note.is_empty() { String::new() } else { format!("; {}", a.note) }
            ));
        }
        s.push_str(&format!("   verdict:   {} — {}\n", c.verdict.text().to_uppercase(), c.reason));
    }
    s.push_str(&cost_table(&r.cost, r.claims.len() + 1));
    s.trim_end().to_string()
}

/// The central cost claim: RTAS, RTAS-fast and the FSS baseline, measured on the same ledger.
pub fn cost_table(c: &crate::experiment::audit::CostClaim, number: usize) -> String {
    let mut t =
        super::output::Table::new(&["workload", "measure", "RTAS", "RTAS-fast", "mpc (FSS)", "RTAS / mpc", "cheaper"]);
    let fmt = |v: f64, m: &str| {
        if m.contains("bytes") {
            crate::experiment::reference::bytes(v)
        } else if m.contains("rounds") {
            format!("{v:.0}")
        } else {
            format!("{v:.4}")
        }
    };
    for m in &c.measures {
        t.row(&[
            m.workload.clone(),
            m.measure.clone(),
            fmt(m.rtas, &m.measure),
            fmt(m.rtas_fast, &m.measure),
            fmt(m.mpc, &m.measure),
            format!("{:.3}", m.ratio_rtas_to_mpc),
            m.cheaper.clone(),
        ]);
    }
    format!(
        "\n{number}. {}\n   measured: RTAS costs less on {} of {} measures; what RTAS reveals that mpc does not:\n{}\n{}\n",
        c.statement,
        c.rtas_cheaper,
        c.compared,
        c.rtas_reveals.iter().map(|r| format!("   - {r}")).collect::<Vec<_>>().join("\n"),
        t.render()
    )
}

/// `74.2% [73.9, 74.5] (7420/10000)`.
pub fn interval(e: &Estimate) -> String {
    format!(
        "{:.1}% [{:.1}, {:.1}] ({}/{})",
        100.0 * e.epsilon,
        100.0 * e.ci_low,
        100.0 * e.ci_high,
        e.successes,
        e.trials
    )
}
