//! `rtas audit`: the claims table.

use super::output::{Table, render};
use super::progress::bar;
use crate::analysis::bounds;
use crate::analysis::estimate::Estimate;
use crate::error::Result;
use crate::experiment::audit::{self, AuditReport, AuditSeeds, Claim};
use clap::Args;

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Fewer Monte Carlo trials and training steps (about a minute on 2 cores).
    #[arg(long)]
    pub quick: bool,
    /// Random seed of every attack.
    #[arg(long, default_value_t = 1, allow_negative_numbers = true)]
    pub seed: u64,
    /// Run on every seed of this comma-separated list and judge each row across them: one verdict per row,
    /// 'inconclusive' where the seeds disagree (replaces --seed).
    #[arg(long, value_delimiter = ',', conflicts_with = "seed", allow_negative_numbers = true)]
    pub seeds: Vec<u64>,
    /// Only these claims (comma-separated ids, e.g. thm-3.4,linking-3.3.1; an unknown id lists them all).
    #[arg(long, value_delimiter = ',')]
    pub claims: Vec<String>,
}

pub fn run(a: AuditArgs, json: bool) -> Result<String> {
    if a.seeds.is_empty() {
        let pb = bar(16, "audit");
        let r = audit::audit_only(a.quick, a.seed, &a.claims, &pb)?;
        render(&r, json, table)
    } else {
        let pb = bar(a.seeds.len() as u64, "audit --seeds");
        let r = audit::audit_seeds(a.quick, &a.seeds, &a.claims, &pb)?;
        render(&r, json, seeds_table)
    }
}

/// One entry per claim: the paper's epsilon, the best attack with only the paper's knowledge, the least extra
/// knowledge that beats the bound, the verdict.
pub fn summary(claims: &[Claim]) -> String {
    let mut s = String::new();
    for (i, c) in claims.iter().enumerate() {
        let best = c.best_paper_attack().map_or("-".into(), |a| a.success_text());
        let least = c.least_extra_knowledge();
        let least = if least.is_empty() {
            "-".to_string()
        } else {
            least.iter().map(|a| a.knowledge()).collect::<Vec<_>>().join("; or ")
        };
        s.push_str(&format!(
            "{:>2}. {:<20} {}\n    epsilon {}; best with the paper's knowledge {}; least extra knowledge that beats it: {}\n",
            i + 1,
            c.id,
            c.finding().to_uppercase(),
            c.epsilon_text(),
            best,
            least
        ));
    }
    s
}

/// The audit as text: the summary, then one block per claim, every attempt on its own line.
pub fn table(r: &AuditReport) -> String {
    let mut s = format!(
        "rtas audit{} (seed {}) — the paper's claims against the attacks rtas mounts ({:.1} s)\nrule: {}\n\n{}\n",
        if r.quick { " --quick" } else { "" },
        r.seed,
        r.seconds,
        textwrap(&r.rule),
        summary(&r.claims)
    );
    for (i, c) in r.claims.iter().enumerate() {
        s.push_str(&format!(
            "\n{}. {} — {}: {}\n   paper:     \"{}\"\n   attacker:  {}\n   setting:   {}\n   success:   {}\n",
            i + 1,
            c.id,
            c.section,
            c.statement,
            c.quote,
            c.paper_attacker,
            c.setting,
            c.criterion
        ));
        match c.paper_log10_epsilon {
            Some(l) => s.push_str(&format!("   epsilon:   {} ({})\n", bounds::scientific(l), c.paper_bound)),
            None => s.push_str(&format!("   epsilon:   {}\n", c.paper_bound)),
        }
        if let Some(b) = &c.baseline {
            s.push_str(&format!("   baseline:  {} — {}\n", b.name, interval(&b.success)));
        }
        for a in &c.attempts {
            let judged = if a.judged.is_some() { format!(" {}", a.judged_text()) } else { String::new() };
            s.push_str(&format!(
                "   attack:    {} [{}]{} — {}{}{}\n",
                a.attack,
                a.knowledge(),
                if a.oracle { " (ORACLE, not judged)" } else { "" },
                if a.is_closed_form() { a.success_text() } else { interval(&a.success) },
                judged,
                if a.note.is_empty() { String::new() } else { format!("; {}", a.note) }
            ));
        }
        s.push_str(&format!("   verdict:   {} — {}\n", c.finding().to_uppercase(), c.reason));
    }
    if let Some(dp) = &r.dp {
        s.push_str(&dp_table(dp, r.claims.len() + 1));
    }
    if let Some(cost) = &r.cost {
        s.push_str(&cost_table(cost, r.claims.len() + 1 + usize::from(r.dp.is_some())));
    }
    s.trim_end().to_string()
}

/// Sections 1 and 2.3 (DP), measured: accuracy per model and epsilon, then the reconstruction attack.
pub fn dp_table(d: &crate::experiment::audit::dp::DpClaim, number: usize) -> String {
    let mut t = Table::new(&[
        "model",
        "epsilon",
        "sigma",
        "lr",
        "clip",
        "DP-SGD",
        "plain",
        "RTAS",
        "points lost",
        "ReRo bound",
    ]);
    for r in &d.accuracy {
        t.row(&[
            r.model.clone(),
            format!("{}", r.epsilon),
            format!("{:.4}", r.noise_multiplier),
            format!("{}", r.lr),
            format!("{}", r.clip),
            format!("{:.2}%", 100.0 * r.accuracy),
            format!("{:.2}%", 100.0 * r.plain_accuracy),
            format!("{:.2}%", 100.0 * r.rtas_accuracy),
            format!("{:.1}", r.loss_points),
            format!("{:.4}", r.rero_bound),
        ]);
    }
    let mut a = Table::new(&["epsilon", "bound gamma", "attack success", "95% interval"]);
    for p in &d.attack {
        a.row(&[
            format!("{}", p.epsilon),
            format!("{:.4}", p.bound),
            format!("{:.4}", p.success),
            format!("[{:.4}, {:.4}]", p.ci_low, p.ci_high),
        ]);
    }
    format!(
        "\n{number}. {} ({}): \"{}\"\n   setting: {}\n   measured (no verdict word): {}\n{}\n   the informed adversary ({}):\n{}\n   {}\n",
        d.id,
        d.section,
        d.quote,
        d.setting,
        d.measured,
        t.render(),
        d.attack_setting,
        a.render(),
        d.caveat
    )
}

/// Across seeds: one entry per claim with every seed's verdict.
pub fn seeds_table(r: &AuditSeeds) -> String {
    let seeds: Vec<String> = r.seeds.iter().map(u64::to_string).collect();
    let mut s = format!(
        "rtas audit --seeds {}{} — one verdict per row ({:.1} s)\nper seed: D does not hold, A holds only under stated assumptions, H holds, N no bound stated, ? inconclusive\n\n",
        seeds.join(","),
        if r.runs.first().is_some_and(|x| x.quick) { " --quick" } else { "" },
        r.seconds,
    );
    for (i, row) in r.rows.iter().enumerate() {
        let per: Vec<&str> = row.verdicts.iter().map(|v| short(v.verdict)).collect();
        let flips: Vec<String> = row.robust_flips.iter().map(|f| format!("{} {}", f.value, f.what)).collect();
        s.push_str(&format!(
            "{:>2}. {:<20} {:<36} [{}]\n    {}{}\n",
            i + 1,
            row.id,
            row.verdict.text().to_uppercase(),
            per.join(" "),
            row.reason,
            if flips.is_empty() {
                String::new()
            } else {
                format!("\n    beaten on every seed from: {}", flips.join("; "))
            }
        ));
    }
    s.trim_end().to_string()
}

fn short(v: crate::experiment::claims::Verdict) -> &'static str {
    use crate::experiment::claims::Verdict::*;
    match v {
        DoesNotHold => "D",
        HoldsOnlyUnderStatedAssumptions => "A",
        Holds => "H",
        NoBoundStated => "N",
        Inconclusive => "?",
    }
}

fn textwrap(s: &str) -> String {
    let mut out = String::new();
    let mut line = 0;
    for w in s.split_whitespace() {
        if line + w.len() > 110 {
            out.push_str("\n      ");
            line = 0;
        } else if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
        line += w.len() + 1;
    }
    out
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
            format!("{} ({})", fmt(m.mpc, &m.measure), m.mpc_gate),
            format!("{:.3}", m.ratio_rtas_to_mpc),
            m.cheaper.clone(),
        ]);
    }
    format!(
        "\n{number}. {}\n   measured (mpc: the better of its FSS gates per measure, dcf one round or dpf two; {}): of {} measures, RTAS costs less on {}, mpc on {}{}; what RTAS reveals that mpc does not:\n{}\n{}\n",
        c.statement,
        c.time_model,
        c.compared,
        c.rtas_cheaper,
        c.mpc_cheaper,
        crate::experiment::report::ties_text(c.ties),
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
