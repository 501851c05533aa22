//! The report's section on epsilon against delta for linear maps: the paper's Theorem 3.3, the tight bound, the
//! measured attacker.

use super::*;

/// The section: its chart drawn and saved, its text with the numbers of this run.
pub(super) fn section(cx: &mut Ctx<'_>) -> Result<Section> {
    let (out, seed, hidden, sc) = (cx.out, cx.seed, &cx.hidden, &cx.sc);
    let files = &mut cx.files;
    let mut saved = |name: &str, chart_files: (PathBuf, PathBuf)| super::keep(files, name, chart_files);
    let settings = [(100u64, 10u64), (100, 50), (784, 100)];
    let mut series = Vec::new();
    let mut measured_note = String::new();
    for (i, &(n, m)) in settings.iter().enumerate() {
        let rels: Vec<f64> = (0..=60).map(|k| 0.2 + k as f64 * 0.02).collect();
        let mut paper = Vec::new();
        let mut tight = Vec::new();
        for &r in &rels {
            let b = bounds::linear(n, m, r * (n as f64).sqrt())?;
            paper.push((r, b.paper.epsilon));
            tight.push((r, b.known_transform.epsilon));
        }
        // The paper's bound does not depend on m: draw it once per n.
        if settings[..i].iter().all(|&(n2, _)| n2 != n) {
            series.push(Series {
                label: format!("n={n}: paper, Thm 3.3 (any m)"),
                points: paper,
                dashed: true,
                color: i,
                ..Default::default()
            });
        }
        series.push(Series {
            label: format!("n={n}, m={m}: attacker knows A (tight)"),
            points: tight,
            color: i,
            ..Default::default()
        });
        let mut pts = Vec::new();
        let mut bars = Vec::new();
        for &r in &[0.6, 0.8, 0.9, 1.0, 1.1] {
            let e = estimate::linear(n, m, r * (n as f64).sqrt(), sc.mc_trials, seed + i as u64, hidden)?;
            if e.estimate.successes > 0 {
                pts.push((r, e.estimate.epsilon));
                bars.push((r, e.estimate.ci_low.max(1e-9), e.estimate.ci_high));
            }
            if n == 784 && (r - 0.9).abs() < 1e-9 {
                let _ = write!(
                    measured_note,
                    "at n = 784, m = 100, delta = 0.9 sqrt(n) the attacker succeeds {:.3} of the time [{:.3}, {:.3}] while the paper promises below {}",
                    e.estimate.epsilon,
                    e.estimate.ci_low,
                    e.estimate.ci_high,
                    bounds::scientific(bounds::linear(n, m, r * 28.0)?.paper.log10_epsilon)
                );
            }
        }
        series.push(Series {
            label: format!("n={n}, m={m}: measured, pseudo-inverse attacker"),
            points: pts,
            markers_only: true,
            bars,
            color: i,
            ..Default::default()
        });
    }
    let chart = LinePanels {
        title: "Reconstructive privacy of a Gaussian linear map x -> Ax".into(),
        panels: vec![LinePanel {
            title: String::new(),
            x_label: "delta / sqrt(n)  (allowed error relative to |x|)".into(),
            y_label: "epsilon (probability of reconstruction within delta)".into(),
            log_y: true,
            y_range: Some((1e-8, 1.5)),
            series,
            legend: Corner::UpperLeft,
            ..Default::default()
        }],
        columns: 1,
        size: (1100, 700),
    };
    saved("eps_vs_delta", save(out, "eps_vs_delta", &chart)?);
    let section = Section {
        name: "eps_vs_delta",
        title: "Epsilon against delta for a linear map",
        text: format!(
            "The paper's Theorem 3.3 (dashed) against the exact success of an attacker who knows the Gaussian matrix A and \
             outputs the pseudo-inverse solution (solid, P(chi2_(n-m) < delta^2)), and that attacker measured by Monte Carlo \
             ({} trials a point, 95% Clopper-Pearson bars). The measurements sit on the tight curve, orders of magnitude above \
             the paper's bound as soon as m > 1: {measured_note}.",
            sc.mc_trials
        ),
        command: "rtas bound linear --dim 784 --outputs 100 --relative 0.9; rtas estimate linear --dim 784 --outputs 100 --relative 0.9".into(),
    };
    Ok(section)
}
