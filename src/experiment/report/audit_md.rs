//! The report's claims audit: one summary row per claim (the paper's epsilon, the best attack with only the
//! paper's knowledge, the least extra knowledge that beats the bound, the verdict), then a short section per
//! claim quoting the paper, with its attempts as a table; then the cost claim.

use super::audit::{AuditReport, Claim};
use super::reference;
use crate::analysis::bounds;
use crate::error::Result;
use crate::plot::charts::{Corner, LinePanel, LinePanels, Series};
use crate::plot::save;
use std::fmt::Write as _;
use std::path::Path;

/// A chart of a claim's sweeps (one panel per swept kind of knowledge, one line per attack and assumptions,
/// success with its 95% interval against the amount, the paper's epsilon dashed where it shows), or None when
/// no kind is swept over two amounts or more.
fn sweep_chart(c: &Claim) -> Option<LinePanels> {
    let mut panels = Vec::new();
    for what in c.swept_kinds() {
        let what = what.as_str();
        let mut series: Vec<Series> = Vec::new();
        for a in c.attempts.iter().filter(|a| !a.oracle && a.amount.as_ref().is_some_and(|m| m.what == what)) {
            let x = a.amount.as_ref().map_or(0.0, |m| m.value);
            let label = format!("{} [{}]", a.attack, a.assumptions.join(", "));
            let label: String = label.chars().take(56).collect();
            let i = match series.iter().position(|s| s.label == label) {
                Some(i) => i,
                None => {
                    let color = series.len();
                    series.push(Series { label: label.clone(), color, markers_only: false, ..Default::default() });
                    series.len() - 1
                }
            };
            series[i].points.push((x, a.success.epsilon));
            series[i].bars.push((x, a.success.ci_low, a.success.ci_high));
        }
        if series.iter().all(|s| s.points.len() < 2) {
            continue;
        }
        let xs: Vec<f64> = series.iter().flat_map(|s| s.points.iter().map(|p| p.0)).collect();
        let (lo, hi) = xs.iter().fold((f64::INFINITY, 0.0f64), |(l, h), &x| (l.min(x), h.max(x)));
        let title = what.to_string();
        match c.paper_log10_epsilon {
            Some(l) if l >= -3.0 => series.push(Series {
                label: format!("the paper's epsilon {}", bounds::scientific(l)),
                points: vec![(lo, 10f64.powf(l)), (hi, 10f64.powf(l))],
                dashed: true,
                color: 7,
                ..Default::default()
            }),
            _ => {}
        }
        panels.push(LinePanel {
            title,
            x_label: what.to_string(),
            y_label: "success".into(),
            log_x: lo > 0.0 && hi / lo >= 20.0,
            y_range: Some((0.0, 1.05)),
            series,
            legend: Corner::UpperLeft,
            ..Default::default()
        });
    }
    let epsilon = match c.paper_log10_epsilon {
        Some(l) if l >= -3.0 => format!("epsilon {} (dashed)", bounds::scientific(l)),
        Some(l) => format!("epsilon {}, at the axis", bounds::scientific(l)),
        None => "no epsilon stated".into(),
    };
    let columns = if panels.len() > 4 { 3 } else { panels.len().min(2) };
    (!panels.is_empty()).then(|| LinePanels {
        title: format!("{} ({}): success against the attacker's knowledge; {epsilon}", c.id, c.section),
        size: (1200, if panels.len() > columns { 900 } else { 500 }),
        columns,
        panels,
    })
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Writes the audit's Markdown into `md`, and a chart per claim with a sweep into `out` (noted in `files`).
pub(super) fn write(
    md: &mut String,
    audit: &AuditReport,
    full: bool,
    out: &Path,
    files: &mut Vec<String>,
) -> Result<()> {
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
            c.epsilon_text(),
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
            c.epsilon_text(),
            c.paper_bound
        );
        if let Some(b) = &c.baseline {
            let _ = writeln!(md, "- **baseline**: {}: {:.1}%", b.name, 100.0 * b.success.epsilon);
        }
        let _ = writeln!(md, "- **verdict**: **{}** — {}\n", c.finding(), cell(&c.reason));
        if let Some(chart) = sweep_chart(c) {
            let name = format!("audit-{}", c.id.replace('.', "-"));
            super::keep(files, &name, save(out, &name, &chart)?);
            let _ = writeln!(md, "![{}]({name}.png)\n\n(SVG: [{name}.svg]({name}.svg))\n", c.id);
        }
        if c.attempts.is_empty() {
            continue;
        }
        let _ = writeln!(md, "| attack | knowledge beyond the paper's | success | judged |\n| --- | --- | --- | --- |");
        for a in &c.attempts {
            let judged = a.judged_text();
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
            "\n### {}\n\nRTAS, RTAS-fast and the cryptographic baseline in the same dealer model (mpc: FSS gates, no helper; \
             each measure takes the better of its two gates, one round with DCF keys or two with DPF keys, named \
             beside the figure), measured on one ledger and one cost model ({}). Of {} measures, RTAS costs less on {}, mpc on {}{}. \
             What RTAS reveals that mpc does not: {}.\n\n| workload | measure | RTAS | RTAS-fast | mpc (FSS) | RTAS / mpc |\n| --- | --- | --- | --- | --- | --- |",
            cost.statement,
            cost.time_model,
            cost.compared,
            cost.rtas_cheaper,
            cost.mpc_cheaper,
            ties_text(cost.ties),
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
                "| {} | {} | {} | {} | {} ({}) | {:.3} |",
                m.workload,
                m.measure,
                f(m.rtas),
                f(m.rtas_fast),
                f(m.mpc),
                m.mpc_gate,
                m.ratio_rtas_to_mpc
            );
        }
    }
    if let Some(dp) = &audit.dp {
        dp_section(md, dp, &audit.claims, out, files)?;
    }
    let _ = writeln!(
        md,
        "\nCommand: `rtas audit{}`; one verdict per row across seeds: `rtas audit --quick --seeds 1,2,3,4,5`.\n",
        if full { "" } else { " --quick" }
    );
    Ok(())
}

/// The protocol roles whose best measured attack goes on the DP chart: (claim id, whose view, model).
const ROLES: &[(&str, &str, &str)] = &[
    ("rtas-fast-4.2.2", "RTAS-fast third party", "logreg"),
    ("rtas-fast-4.3", "RTAS-fast third party", "cnn"),
    ("helper-order-4.2.1", "RTAS helper", "logreg"),
    ("float-4.1", "RTAS party (float shares)", "logreg"),
];

/// The best measured (not closed-form, not oracle) attempt of a claim: (success, its interval, who knows what).
fn best_measured(c: &Claim) -> Option<(f64, f64, f64, String)> {
    c.attempts
        .iter()
        .filter(|a| !a.oracle && a.closed_form_log10.is_none())
        .max_by(|a, b| a.success.epsilon.total_cmp(&b.success.epsilon))
        .map(|a| (a.success.epsilon, a.success.ci_low, a.success.ci_high, format!("{} [{}]", a.attack, a.knowledge())))
}

/// Sections 1 and 2.3: DP-SGD's accuracy at each epsilon beside plaintext and RTAS, the reconstruction bound
/// and attack, and the chart of accuracy against reconstruction for every technology.
fn dp_section(
    md: &mut String,
    dp: &crate::experiment::audit::dp::DpClaim,
    claims: &[Claim],
    out: &Path,
    files: &mut Vec<String>,
) -> Result<()> {
    let _ = writeln!(
        md,
        "\n### {} ({}): DP-SGD against plaintext and RTAS, measured\n\n> {}\n\nSetting: {}.\n\n| model | epsilon | sigma | lr, clip (best on validation) | DP-SGD test accuracy | plaintext | RTAS | points lost | ReRo bound of this run (kappa 0.1) |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        dp.id, dp.section, dp.quote, dp.setting
    );
    for r in &dp.accuracy {
        let _ = writeln!(
            md,
            "| {} | {} | {:.4} | {}, {} | {:.2}% | {:.2}% | {:.2}% | {:.1} | {:.4} |",
            r.model,
            r.epsilon,
            r.noise_multiplier,
            r.lr,
            r.clip,
            100.0 * r.accuracy,
            100.0 * r.plain_accuracy,
            100.0 * r.rtas_accuracy,
            r.loss_points,
            r.rero_bound
        );
    }
    let _ = writeln!(
        md,
        "\nMeasured: {}.\n\nThe informed adversary ({}):\n\n| epsilon | bound gamma | attack success | 95% interval |\n| --- | --- | --- | --- |",
        dp.measured, dp.attack_setting
    );
    for a in &dp.attack {
        let _ =
            writeln!(md, "| {} | {:.4} | {:.4} | [{:.4}, {:.4}] |", a.epsilon, a.bound, a.success, a.ci_low, a.ci_high);
    }
    let mut panels = Vec::new();
    for model in ["logreg", "cnn"] {
        let rows: Vec<_> = dp.accuracy.iter().filter(|r| r.model == model).collect();
        let Some(first) = rows.first() else { continue };
        let mut series = vec![Series {
            label: "DP-SGD: ReRo bound of the training run (kappa 0.1), one point per epsilon".into(),
            points: rows.iter().map(|r| (100.0 * r.accuracy, r.rero_bound)).collect(),
            markers_only: true,
            color: 0,
            ..Default::default()
        }];
        if model == "logreg" {
            let at = |e: f64| rows.iter().find(|r| r.epsilon == e).map(|r| 100.0 * r.accuracy);
            let pts: Vec<(f64, f64, f64, f64)> =
                dp.attack.iter().filter_map(|a| at(a.epsilon).map(|x| (x, a.success, a.ci_low, a.ci_high))).collect();
            series.push(Series {
                label: "DP-SGD: bound of the attacked run (q = 1, T = 10, same epsilon)".into(),
                points: dp.attack.iter().filter_map(|a| at(a.epsilon).map(|x| (x, a.bound))).collect(),
                markers_only: true,
                // 5: a role colour the logreg panel does not use (the palette has 8).
                color: 5,
                ..Default::default()
            });
            series.push(Series {
                label: "DP-SGD: informed adversary at the same epsilon (its own run)".into(),
                points: pts.iter().map(|p| (p.0, p.1)).collect(),
                bars: pts.iter().map(|p| (p.0, p.2, p.3)).collect(),
                markers_only: true,
                color: 1,
                ..Default::default()
            });
        }
        series.push(Series {
            label: "plaintext: the trainer sees every record".into(),
            points: vec![(100.0 * first.plain_accuracy, 1.0)],
            markers_only: true,
            color: 2,
            ..Default::default()
        });
        series.push(Series {
            label: "mpc: uniform shares, the prior alone (kappa 0.1)".into(),
            points: vec![(100.0 * first.rtas_accuracy, 0.1)],
            markers_only: true,
            color: 3,
            ..Default::default()
        });
        for (i, (id, who, m)) in ROLES.iter().enumerate() {
            if *m != model {
                continue;
            }
            let Some((s, lo, hi, how)) = claims.iter().find(|c| c.id == *id).and_then(best_measured) else { continue };
            let label: String = format!("{who} ({id}): {how}").chars().take(90).collect();
            let x = 100.0 * first.rtas_accuracy;
            series.push(Series {
                label,
                points: vec![(x, s)],
                bars: vec![(x, lo, hi)],
                markers_only: true,
                color: 4 + i,
                ..Default::default()
            });
        }
        panels.push(LinePanel {
            title: format!("{model}: test accuracy against reconstruction success"),
            x_label: "test accuracy, %".into(),
            y_label: "reconstruction success".into(),
            y_range: Some((0.0, 1.05)),
            series,
            legend: Corner::UpperLeft,
            ..Default::default()
        });
    }
    if !panels.is_empty() {
        let chart = LinePanels {
            title: "What each technology lets its most capable observer reconstruct, at the accuracy it trains to"
                .into(),
            size: (1400, 600),
            columns: panels.len(),
            panels,
        };
        let name = "audit-dp";
        super::keep(files, name, save(out, name, &chart)?);
        let _ = writeln!(md, "\n![accuracy against reconstruction]({name}.png)\n\n{}\n", dp.caveat);
    }
    Ok(())
}

/// `, and N are ties (modeled times within 10%)` when there are ties.
pub(crate) fn ties_text(ties: usize) -> String {
    match ties {
        0 => String::new(),
        1 => ", and one is a tie (modeled times within 10% of each other)".into(),
        n => format!(", and {n} are ties (modeled times within 10% of each other)"),
    }
}
