//! `rtas demo`: a one-screen summary on the bundled MNIST digits, in a fraction of a second. What the paper's two theorems
//! promise for data shaped like MNIST, and what they become once the attacker knows the matrix or the data
//! has ties.

use super::output::{Table, log10, render};
use super::progress::bar;
use crate::analysis::bounds::{self, scientific};
use crate::analysis::estimate;
use crate::data::mnist;
use crate::error::Result;
use clap::Args;
use serde::Serialize;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Random seed of the Monte Carlo check.
    #[arg(long, value_name = "S", default_value_t = 1, allow_negative_numbers = true)]
    pub seed: u64,
    /// Trials of the Monte Carlo check.
    #[arg(long, value_name = "T", default_value_t = 20_000, allow_negative_numbers = true)]
    pub trials: u64,
}

#[derive(Debug, Serialize)]
struct Demo {
    linear: bounds::LinearBound,
    linear_estimate: estimate::EstimateReport,
    images: usize,
    permutation_paper_log10_epsilon: f64,
    permutation_ties_log10_epsilon: Quantiles,
    zero_pixels: Quantiles,
    noise: bounds::NoiseBound,
}

#[derive(Debug, Serialize)]
struct Quantiles {
    min: f64,
    median: f64,
    max: f64,
}

fn quantiles(mut v: Vec<f64>) -> Quantiles {
    v.sort_by(f64::total_cmp);
    Quantiles { min: v[0], median: v[v.len() / 2], max: v[v.len() - 1] }
}

pub fn run(a: DemoArgs, json: bool) -> Result<String> {
    // 1. A 784 -> 100 Gaussian map (MNIST pixels into the CNN hidden width), delta = 0.95 sqrt(n).
    let (n, m) = (784u64, 100u64);
    let delta = 0.95 * (n as f64).sqrt();
    let linear = bounds::linear(n, m, delta)?;
    let pb = bar(a.trials, "demo: Monte Carlo of the linear attacker");
    let linear_estimate = estimate::linear(n, m, delta, a.trials, a.seed, &pb)?;
    // 2. Permutations of real MNIST images: ties (hundreds of zero pixels) against 1/784!.
    let data = mnist::bundled()?;
    let mut eps = Vec::with_capacity(data.count);
    let mut zeros = Vec::with_capacity(data.count);
    for i in 0..data.count {
        let img = data.image(i);
        let b = bounds::permutation(img.len() as u64, Some(&bounds::value_counts(img)), 0)?;
        eps.push(b.log10_epsilon);
        zeros.push(img.iter().filter(|&&p| p == 0).count() as f64);
    }
    let paper_perm = bounds::permutation(n, None, 0)?.log10_epsilon;
    // 3. The paper's own noise example.
    let noise = bounds::noise(1.0, 3.0, 1)?;
    let demo = Demo {
        linear,
        linear_estimate,
        images: data.count,
        permutation_paper_log10_epsilon: paper_perm,
        permutation_ties_log10_epsilon: quantiles(eps),
        zero_pixels: quantiles(zeros),
        noise,
    };
    render(&demo, json, table)
}

fn table(d: &Demo) -> String {
    let l = &d.linear;
    let e = &d.linear_estimate;
    let mut t = Table::new(&["claim", "what the paper says", "what rtas finds", "how"]);
    t.row(&[
        format!("Thm 3.3, x -> Ax, {} -> {}, delta = {:.2}", l.dim, l.outputs, l.delta),
        format!("eps < {}", scientific(l.paper.log10_epsilon)),
        format!("eps = {}", scientific(l.known_transform.log10_epsilon)),
        "closed form, attacker knows A".into(),
    ]);
    t.row(&[
        "  same, simulated".to_string(),
        String::new(),
        format!("{:.4} [{:.4}, {:.4}]", e.estimate.epsilon, e.estimate.ci_low, e.estimate.ci_high),
        format!("{} trials, seed {}, 95% CI", e.estimate.trials, e.seed),
    ]);
    let q = &d.permutation_ties_log10_epsilon;
    t.row(&[
        format!("Thm 3.4, permuting the 784 pixels of one digit ({} images)", d.images),
        format!("eps = 1/784! = {}", scientific(d.permutation_paper_log10_epsilon)),
        format!("eps = {} (median)", scientific(q.median)),
        format!("ties: median {} zero pixels", d.zero_pixels.median),
    ]);
    t.row(&[
        "  range over the images".to_string(),
        String::new(),
        format!("log10 eps {} .. {}", log10(q.min), log10(q.max)),
        "prod(k_i!)/784!".into(),
    ]);
    t.row(&[
        "Section 3.1 noise example, S = 1, delta = 3".to_string(),
        format!("eps = {:.4}", d.noise.epsilon),
        format!("eps = {:.6} with the N(0,1) prior", d.noise.with_prior.epsilon),
        "posterior-mean attacker".into(),
    ]);
    format!(
        "rtas demo: the paper's bounds on MNIST-shaped data (bundled mnist-10k)\n{}\n\n\
         Thm 3.3 assumes the attacker learns only one dimension; one who knows A sees {} of {} dimensions, and \
         its success is {:.1} orders of magnitude above the paper's bound.",
        t.render(),
        l.outputs.min(l.dim),
        l.dim,
        l.known_transform.log10_epsilon - l.paper.log10_epsilon
    )
}
