//! `rtas audit`: the claims table.

use super::output::render;
use super::progress::bar;
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
    let pb = bar(7, "audit");
    let r = audit::audit(a.quick, a.seed, &pb)?;
    render(&r, json, table)
}

/// The audit as text: one block per claim.
pub fn table(r: &AuditReport) -> String {
    let mut s = format!(
        "rtas audit{} — the paper's claims against the strongest attacks rtas mounts ({:.1} s)\n",
        if r.quick { " --quick" } else { "" },
        r.seconds
    );
    for (i, c) in r.claims.iter().enumerate() {
        s.push_str(&format!(
            "\n{}. {}\n   paper:    {}\n   tight:    {}\n   attack:   {}\n   measured: {}\n   verdict:  {}\n",
            i + 1,
            c.claim,
            c.paper_bound,
            c.tight_bound,
            c.attack,
            c.measured,
            c.verdict.text().to_uppercase()
        ));
    }
    s.trim_end().to_string()
}
