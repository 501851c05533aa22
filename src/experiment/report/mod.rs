//! `rtas report`: every result as a chart (PNG and SVG) and one Markdown report that embeds them, says what
//! each shows and which command reproduces its numbers. One file per section (each draws its chart and says
//! what it shows); this file runs them in order, then the audit, and writes the Markdown.

mod audit_md;
pub(crate) use audit_md::ties_text;
mod knowledge;
mod linear;
mod network;
mod permutation;
mod plan_cost;
mod reconstructions;
mod traffic;
mod training;

use super::audit;
use super::reference;
use super::shared_runs::SharedRuns;
use super::simulate::{ProtocolChoice, SimulateConfig, SimulateReport, simulate};
use crate::analysis::{bounds, estimate};
use crate::attacks::data::DataKind;
use crate::attacks::{decoder, degree_matching, known_plaintext, linking, pixel_permutation};
use crate::data::mnist;
use crate::error::{Error, Result};
use crate::models::secure::Protocol;
use crate::models::{ModelKind, Prepared};
use crate::net::{Role, Stage};
use crate::plot::charts::{Bar, BarPanel, Corner, ImageGrid, ImageRow, LinePanel, LinePanels, Series, StackedBars};
use crate::plot::save;
use crate::protocol::ring::RingArith;
use crate::sim::cost::{Profile, replay};
use crate::sim::record::Recording;
use indicatif::ProgressBar;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How big a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    /// Tiny: for tests (seconds).
    Tiny,
    /// Quick: under 3 minutes on 2 cores.
    Quick,
    /// Full: the committed example run.
    Full,
}

/// What was written.
#[derive(Debug, Clone, Serialize)]
pub struct ReportSummary {
    /// The report's directory.
    pub out: PathBuf,
    /// Files written (relative to `out`).
    pub files: Vec<String>,
    /// Seconds it took.
    pub seconds: f64,
}

struct Scale {
    mc_trials: u64,
    steps: usize,
    infer_batch: usize,
    images: usize,
    curve_steps: usize,
}

fn scale(size: Size) -> Scale {
    match size {
        Size::Tiny => Scale { mc_trials: 400, steps: 2, infer_batch: 64, images: 100, curve_steps: 12 },
        Size::Quick => Scale { mc_trials: 4_000, steps: 4, infer_batch: 1000, images: 300, curve_steps: 100 },
        Size::Full => Scale { mc_trials: 20_000, steps: 9, infer_batch: 8192, images: 1000, curve_steps: 250 },
    }
}

fn moving_average(v: &[f64], w: usize) -> Vec<(f64, f64)> {
    (0..v.len())
        .map(|i| {
            let lo = i.saturating_sub(w - 1);
            let s = &v[lo..=i];
            ((i + 1) as f64, s.iter().sum::<f64>() / s.len() as f64)
        })
        .collect()
}

/// What every section reads (the run's size and seed, the bundled digits) and the chart files written.
struct Ctx<'a> {
    out: &'a Path,
    size: Size,
    seed: u64,
    sc: Scale,
    all: Prepared,
    train: Prepared,
    test: Prepared,
    hidden: ProgressBar,
    files: Vec<String>,
    /// Runs the audit beside the sections shows too.
    shared: Arc<SharedRuns>,
    /// Operation costs measured on this machine (the plan section's compute, the choice of mpc's gate).
    rates: crate::protocol::work::Rates,
}

/// Notes a chart's PNG and SVG among the files written.
fn keep(files: &mut Vec<String>, name: &str, chart_files: (PathBuf, PathBuf)) {
    for p in [chart_files.0, chart_files.1] {
        files.push(p.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_else(|| name.to_string()));
    }
}

/// The protocol runs of the traffic section, reused by the network sweeps: (model, protocol, run).
type Runs = [(&'static str, &'static str, (SimulateReport, Recording)); 7];

/// One section of the report: a chart's name, its title, what it shows, the command behind its numbers.
struct Section {
    name: &'static str,
    title: &'static str,
    text: String,
    command: String,
}

/// Writes the report into `out`.
pub fn report(out: &Path, size: Size, seed: u64, pb: &ProgressBar) -> Result<ReportSummary> {
    let start = std::time::Instant::now();
    let sc = scale(size);
    pb.set_length(9);
    let all = Prepared::new(&mnist::bundled()?)?;
    let (tr, te) = mnist::bundled_split()?;
    let (train, test) = (Prepared::new(&tr)?, Prepared::new(&te)?);

    let shared = Arc::new(SharedRuns::default());
    let rates = crate::experiment::plan::quick_rates();
    let hidden = ProgressBar::hidden();
    let mut cx = Ctx { out, size, seed, sc, all, train, test, hidden, files: Vec::new(), shared, rates };
    // The audit runs beside the sections (each is seeded on its own, so the output does not depend on which
    // finishes first); the one attack both show runs once, for whichever asks first (`SharedRuns`).
    let for_audit = Arc::clone(&cx.shared);
    std::thread::scope(|scope| {
        let audit =
            scope.spawn(|| audit::audit_sharing(size != Size::Full, seed, &[], &ProgressBar::hidden(), for_audit));
        let sections = sections(&mut cx, pb);
        pb.set_message("report: audit");
        let audit = audit.join().map_err(|_| Error::Numerical("the audit thread panicked".into()))?;
        finish(cx, sections?, audit?, start, pb)
    })
}

/// The report's sections, in order (the audit runs beside them).
fn sections(cx: &mut Ctx<'_>, pb: &ProgressBar) -> Result<Vec<Section>> {
    let mut sections: Vec<Section> = Vec::new();
    let step = |msg: &str| pb.set_message(format!("report: {msg}"));
    step("linear bounds");
    sections.push(linear::section(cx)?);
    crate::cancel::tick(pb, 1)?;
    step("permutation bounds");
    sections.push(permutation::section(cx)?);
    crate::cancel::tick(pb, 1)?;
    step("protocol runs");
    let (traffic, runs) = traffic::section(cx)?;
    sections.push(traffic);
    crate::cancel::tick(pb, 1)?;
    step("network sweeps");
    sections.push(network::section(cx, &runs)?);
    crate::cancel::tick(pb, 1)?;
    step("training curves");
    sections.push(training::section(cx)?);
    crate::cancel::tick(pb, 1)?;
    step("reconstructions");
    sections.push(reconstructions::section(cx)?);
    crate::cancel::tick(pb, 1)?;
    step("attack success against knowledge");
    sections.push(knowledge::section(cx)?);
    crate::cancel::tick(pb, 1)?;
    step("plan");
    sections.push(plan_cost::section(cx)?);
    Ok(sections)
}

/// The Markdown report from the sections and the audit.
fn finish(
    cx: Ctx<'_>,
    sections: Vec<Section>,
    audit: audit::AuditReport,
    start: std::time::Instant,
    pb: &ProgressBar,
) -> Result<ReportSummary> {
    let Ctx { mut files, out, size, seed, .. } = cx;
    crate::cancel::tick(pb, 1)?;
    pb.finish_and_clear();
    let seconds = start.elapsed().as_secs_f64();
    let mut md = String::new();
    let kind = match size {
        Size::Tiny => "tiny (tests)",
        Size::Quick => "quick",
        Size::Full => "full",
    };
    let _ = writeln!(md, "# rtas report\n");
    let _ = writeln!(
        md,
        "Generated by `rtas report{}` (seed {seed}, {kind} size) in {seconds:.1} s on this machine. Every chart exists as PNG and \
         SVG beside this file; every number comes from the command named under its chart.\n",
        match size {
            Size::Full => "",
            Size::Quick => " --quick",
            Size::Tiny => " (tiny test configuration)",
        }
    );
    audit_md::write(&mut md, &audit, size == Size::Full, out, &mut files)?;

    for s in &sections {
        let _ = writeln!(
            md,
            "## {}\n\n![{}]({}.png)\n\n{}\n\nCommand: `{}` (SVG: [{}.svg]({}.svg))\n",
            s.title, s.title, s.name, s.text, s.command, s.name, s.name
        );
    }
    let readme = out.join("README.md");
    std::fs::write(&readme, md).map_err(|source| Error::Io { path: readme.clone(), source })?;
    files.push("README.md".into());
    Ok(ReportSummary { out: out.to_path_buf(), files, seconds })
}
