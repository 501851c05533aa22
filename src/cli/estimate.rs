//! `rtas estimate linear|permutation|noise`: Monte Carlo of the optimal attacker beside the closed form.

use super::bound::DeltaArgs;
use super::output::{Table, render};
use super::progress::bar;
use crate::analysis::bounds::scientific;
use crate::analysis::estimate::{self, Estimate, EstimateReport};
use crate::error::Result;
use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum EstimateCommand {
    /// Gaussian linear map; the attacker knows A and outputs the pseudo-inverse solution.
    Linear(LinearArgs),
    /// Random permutation; the attacker outputs a random arrangement of what it saw.
    Permutation(PermutationArgs),
    /// Additive Gaussian noise; the paper's attacker and the posterior-mean attacker on the same draws.
    Noise(NoiseArgs),
}

/// Trials and seed, common to every estimate.
#[derive(Debug, Args)]
pub struct McArgs {
    /// Number of trials.
    #[arg(long, value_name = "T", allow_negative_numbers = true, default_value_t = 10_000)]
    pub trials: u64,
    /// Random seed: the same seed gives the same output, whatever the thread count.
    #[arg(long, value_name = "S", allow_negative_numbers = true, default_value_t = 1)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct LinearArgs {
    /// N, the dimension of x.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub dim: u64,
    /// M, the number of outputs (rows of A).
    #[arg(long, value_name = "M", allow_negative_numbers = true)]
    pub outputs: u64,
    #[command(flatten)]
    pub delta: DeltaArgs,
    #[command(flatten)]
    pub mc: McArgs,
}

#[derive(Debug, Args)]
pub struct PermutationArgs {
    /// N, the vector's length.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub len: u64,
    /// Multiplicities of the values, comma-separated (default: all distinct).
    #[arg(long, value_name = "K1,K2,...", value_delimiter = ',', allow_negative_numbers = true)]
    pub counts: Option<Vec<u64>>,
    /// Positions whose values the attacker knows.
    #[arg(long, value_name = "K", allow_negative_numbers = true, default_value_t = 0)]
    pub known: u64,
    #[command(flatten)]
    pub mc: McArgs,
}

#[derive(Debug, Args)]
pub struct NoiseArgs {
    /// S, the noise standard deviation.
    #[arg(long, value_name = "S", allow_negative_numbers = true)]
    pub sigma: f64,
    /// Reconstruction error allowed.
    #[arg(long, value_name = "D", allow_negative_numbers = true)]
    pub delta: f64,
    /// N, the dimension.
    #[arg(long, value_name = "N", allow_negative_numbers = true, default_value_t = 1)]
    pub dim: u64,
    #[command(flatten)]
    pub mc: McArgs,
}

pub fn run(cmd: EstimateCommand, json: bool) -> Result<String> {
    let report = match cmd {
        EstimateCommand::Linear(a) => {
            let delta = a.delta.resolve(a.dim)?;
            let pb = bar(a.mc.trials, "estimate linear");
            estimate::linear(a.dim, a.outputs, delta, a.mc.trials, a.mc.seed, &pb)?
        }
        EstimateCommand::Permutation(a) => {
            let pb = bar(a.mc.trials, "estimate permutation");
            estimate::permutation(a.len, a.counts.as_deref(), a.known, a.mc.trials, a.mc.seed, &pb)?
        }
        EstimateCommand::Noise(a) => {
            let pb = bar(a.mc.trials, "estimate noise");
            estimate::noise(a.sigma, a.delta, a.dim, a.mc.trials, a.mc.seed, &pb)?
        }
    };
    render(&report, json, table)
}

fn row(t: &mut Table, who: &str, e: &Estimate, closed_log10: f64, inside: bool) {
    t.row(&[
        who.to_string(),
        format!("{}/{}", e.successes, e.trials),
        format!("{:.6}", e.epsilon),
        format!("[{:.6}, {:.6}]", e.ci_low, e.ci_high),
        scientific(closed_log10),
        if inside { "yes".into() } else { "NO".to_string() },
    ]);
}

fn table(r: &EstimateReport) -> String {
    let mut t = Table::new(&["attacker", "successes", "epsilon", "95% CI", "closed form", "in CI"]);
    row(&mut t, &r.attacker, &r.estimate, r.closed_form.log10_epsilon, r.closed_form_in_interval);
    if let Some(s) = &r.second {
        row(&mut t, &s.attacker, &s.estimate, s.closed_form.log10_epsilon, s.closed_form_in_interval);
    }
    format!("{} (seed {})\n{}", r.setting, r.seed, t.render())
}
