//! `rtas report`: every chart and a Markdown report.

use super::output::render;
use super::progress::bar;
use crate::error::Result;
use crate::experiment::report::{self, Size};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Directory to write the charts (PNG and SVG) and README.md into.
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub out: PathBuf,
    /// Fewer trials, steps and images: under 3 minutes on 2 cores.
    #[arg(long)]
    pub quick: bool,
    /// Random seed of every experiment.
    #[arg(long, value_name = "S", default_value_t = 1, allow_negative_numbers = true)]
    pub seed: u64,
    /// Smallest configuration (for tests).
    #[arg(long, hide = true)]
    pub tiny: bool,
}

pub fn run(a: ReportArgs, json: bool) -> Result<String> {
    let size = if a.tiny {
        Size::Tiny
    } else if a.quick {
        Size::Quick
    } else {
        Size::Full
    };
    let pb = bar(8, "report");
    let r = report::report(&a.out, size, a.seed, &pb)?;
    render(&r, json, |r| {
        format!("wrote {} files to {} in {:.1} s: {}", r.files.len(), r.out.display(), r.seconds, r.files.join(", "))
    })
}
