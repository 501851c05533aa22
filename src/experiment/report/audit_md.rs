//! The report's claims audit: one summary row per claim (the paper's epsilon, the best attack with only the
//! paper's knowledge, the least extra knowledge that beats the bound, the verdict), then a short section per
//! claim quoting the paper, with its attempts as a table; then the cost claim.

use super::audit::{AuditReport, Claim};
use super::reference;
use crate::analysis::bounds;
use std::fmt::Write as _;

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn epsilon(c: &Claim) -> String {
    c.paper_log10_epsilon.map_or("none stated".into(), bounds::scientific)
}

/// Writes the audit's Markdown into `md`.
pub(super) fn write(md: &mut String, audit: &AuditReport, full: bool) {
    let _ = writeln!(md, "## The claims audit\n");
    let _ = writeln!(md, "Verdicts are computed, never written. The rule: {}\n", audit.rule);
    let _ = writeln!(
        md,
        "| # | claim | paper's epsilon | best attack with the paper's knowledge | least extra knowledge that beats the bound | verdict |\n| --- | --- | --- | --- | --- | --- |"
    );
    for (i, c) in audit.claims.iter().enumerate() {
        let best = c.best_paper_attack().map_or("-".into(), |a| format!("{}: {}", a.attack, a.success_text()));
        let least = c.least_extra_knowledge();
        let least = if least.is_empty() {
            "-".to_string()
        } else {
            least.iter().map(|a| format!("{} ({})", a.knowledge(), a.attack)).collect::<Vec<_>>().join("; or ")
        };
        let _ = writeln!(
            md,
            "| {} | {} ({}): {} | {} | {} | {} | **{}**{} |",
            i + 1,
            c.section,
            c.id,
            cell(&c.statement),
            epsilon(c),
            cell(&best),
            cell(&least),
            c.verdict.text(),
            c.warning_suffix()
        );
    }
    for c in &audit.claims {
        let _ = writeln!(md, "\n### {} ({}) — {}\n", c.section, c.id, c.statement);
        let _ = writeln!(md, "> {}\n", c.quote);
        let _ = writeln!(
            md,
            "- **the paper's attacker**: {}\n- **setting**: {}\n- **success**: {}\n- **epsilon**: {} ({})",
            c.paper_attacker,
            c.setting,
            c.criterion,
            epsilon(c),
            c.paper_bound
        );
        if let Some(b) = &c.baseline {
            let _ = writeln!(md, "- **baseline**: {}: {:.1}%", b.name, 100.0 * b.success.epsilon);
        }
        let _ = writeln!(md, "- **verdict**: **{}** — {}\n", c.finding(), cell(&c.reason));
        if c.attempts.is_empty() {
            continue;
        }
        let _ = writeln!(md, "| attack | knowledge beyond the paper's | success | judged |\n| --- | --- | --- | --- |");
        for a in &c.attempts {
            let judged = match &a.judged {
                None if a.oracle => "oracle, not judged".to_string(),
                None => "-".to_string(),
                Some(j) if a.is_closed_form() => if j.beats { "beats (exact)" } else { "does not beat (exact)" }.into(),
                Some(j) => format!(
                    "{} (p = {:.1e}, level {:.4}){}",
                    if j.beats { "beats" } else { "does not beat" },
                    j.p_value,
                    j.level,
                    if j.marginal { ", marginal" } else { "" }
                ),
            };
            let knowledge = if a.assumptions.is_empty() && a.amount.is_none() { "-".into() } else { a.knowledge() };
            let note = if a.note.is_empty() { String::new() } else { format!("<br>{}", a.note) };
            let _ = writeln!(
                md,
                "| {}{} | {} | {} | {} |",
                cell(&a.attack),
                cell(&note),
                cell(&knowledge),
                a.success_text(),
                judged
            );
        }
    }
    if let Some(cost) = &audit.cost {
        let _ = writeln!(
            md,
            "\n### {}\n\nRTAS, RTAS-fast and the cryptographic baseline in the same dealer model (mpc: FSS gates, no helper), \
             measured on one ledger and one cost model. RTAS costs less on {} of {} measures. What RTAS reveals that mpc \
             does not: {}.\n\n| workload | measure | RTAS | RTAS-fast | mpc (FSS) | RTAS / mpc |\n| --- | --- | --- | --- | --- | --- |",
            cost.statement,
            cost.rtas_cheaper,
            cost.compared,
            cost.rtas_reveals.join("; ")
        );
        for m in &cost.measures {
            let f = |v: f64| {
                if m.measure.contains("bytes") {
                    reference::bytes(v)
                } else if m.measure.contains("rounds") {
                    format!("{v:.0}")
                } else {
                    format!("{v:.4}")
                }
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {:.3} |",
                m.workload,
                m.measure,
                f(m.rtas),
                f(m.rtas_fast),
                f(m.mpc),
                m.ratio_rtas_to_mpc
            );
        }
    }
    let _ = writeln!(
        md,
        "\nCommand: `rtas audit{}`; one verdict per row across seeds: `rtas audit --quick --seeds 1,2,3,4,5`.\n",
        if full { "" } else { " --quick" }
    );
}
