//! `rtas bound linear|permutation|noise|linking|dp`.

use super::output::{Table, log10, render};
use crate::analysis::bounds::{self, Epsilon, scientific, short};
use crate::data::idx;
use crate::error::{Result, invalid};
use clap::{Args, Subcommand};
use serde::Serialize;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum BoundCommand {
    /// Gaussian linear map x -> A x: the paper's Theorem 3.3 and the tight bound for an attacker knowing A.
    Linear(LinearArgs),
    /// Random permutation of a vector (Theorem 3.4), with ties, known positions, or an image's pixel counts.
    Permutation(PermutationArgs),
    /// Additive Gaussian noise x + e, e ~ N(0, S^2 I).
    Noise(NoiseArgs),
    /// Linking (Section 3.3.1): the paper's count C(N, M) * M! of row mappings.
    Linking(LinkingArgs),
    /// DP-SGD (Poisson-sampled Gaussian): epsilon at delta by the RDP accountant, the exact epsilon without
    /// sampling (mu-GDP), and the reconstruction bound gamma against a prior of baseline kappa.
    Dp(DpArgs),
}

#[derive(Debug, Args)]
pub struct DpArgs {
    /// sigma, the noise's standard deviation over the clipping norm.
    #[arg(long, value_name = "SIGMA", allow_negative_numbers = true)]
    pub noise_multiplier: f64,
    /// q = B / N, Poisson sampling rate (1: every record in every step).
    #[arg(long, value_name = "Q", allow_negative_numbers = true, default_value_t = 1.0)]
    pub sample_rate: f64,
    /// T, training steps.
    #[arg(long, value_name = "T", allow_negative_numbers = true)]
    pub steps: u64,
    /// delta of (epsilon, delta)-DP.
    #[arg(long, value_name = "D", allow_negative_numbers = true, default_value_t = 1e-5)]
    pub dp_delta: f64,
    /// The prior's baseline: the success of guessing from the prior alone (1/M for M equally likely records).
    /// [default: 0.01]
    #[arg(long, value_name = "K", allow_negative_numbers = true)]
    pub kappa: Option<f64>,
    /// The paper's Gaussian data instead of --kappa: records x ~ N(0, I_N); kappa = P(|x| <= radius), the chi
    /// distribution's CDF (the prior's best guess is 0). Needs --radius.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub gaussian_dim: Option<u64>,
    /// With --gaussian-dim: the reconstruction radius delta of Definition 3.2.
    #[arg(long, value_name = "D", allow_negative_numbers = true)]
    pub radius: Option<f64>,
}

/// kappa from the flags: given, or the chi distribution's CDF for Gaussian records.
fn kappa(a: &DpArgs) -> Result<(f64, String)> {
    use crate::error::invalid;
    use statrs::distribution::{ChiSquared, ContinuousCDF};
    if a.gaussian_dim == Some(0) {
        return Err(invalid("--gaussian-dim must be at least 1"));
    }
    if let Some(r) = a.radius.filter(|r| !(r.is_finite() && *r > 0.0)) {
        return Err(invalid(format!("--radius must be a positive finite number, got {r}")));
    }
    match (a.gaussian_dim, a.radius, a.kappa) {
        (Some(_), _, Some(_)) => Err(invalid("--kappa and --gaussian-dim both set kappa: give one")),
        (Some(_), None, _) | (None, Some(_), _) => Err(invalid("--gaussian-dim and --radius go together")),
        (Some(n), Some(r), None) => {
            let k = ChiSquared::new(n as f64).map_err(|e| invalid(e.to_string()))?.cdf(r * r);
            if !(k > 0.0 && k < 1.0) {
                return Err(invalid(format!(
                    "kappa = P(chi_{n} <= {r}) = {k} leaves nothing to bound: choose a radius with 0 < kappa < 1"
                )));
            }
            Ok((k, format!("P(chi_{n} <= {r}), records N(0, I_{n})")))
        }
        (None, None, k) => Ok((k.unwrap_or(0.01), "given".into())),
    }
}

/// `rtas bound dp`.
#[derive(Debug, Serialize)]
pub struct DpBound {
    /// The run.
    #[serde(flatten)]
    pub run: crate::analysis::dp::DpSgd,
    /// delta.
    pub delta: f64,
    /// epsilon by the RDP accountant (Mironov et al. 2019; Canonne-Kamath-Steinke conversion).
    pub epsilon_rdp: f64,
    /// The RDP order that gives it.
    pub rdp_order: f64,
    /// epsilon by the PLD accountant (pessimistic connect-the-dots discretization on a 1e-4 grid; tighter).
    pub epsilon_pld: f64,
    /// Without sampling: mu of mu-GDP, sqrt(T) / sigma.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mu: Option<f64>,
    /// Without sampling: the exact epsilon (the Gaussian mechanism's privacy profile).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epsilon_exact: Option<f64>,
    /// kappa.
    pub kappa: f64,
    /// Where kappa comes from.
    pub kappa_from: String,
    /// The reconstruction bound: no attacker reconstructs a record with probability above gamma.
    pub rero_gamma: f64,
    /// How gamma was computed.
    pub rero_method: String,
}

fn dp(a: DpArgs) -> Result<DpBound> {
    use crate::analysis::dp;
    let run = dp::DpSgd::new(a.sample_rate, a.noise_multiplier, a.steps)?;
    let (kappa, kappa_from) = kappa(&a)?;
    let (epsilon_rdp, rdp_order) = run.epsilon_rdp(a.dp_delta)?;
    let epsilon_pld = run.epsilon_pld(a.dp_delta)?;
    let mu = run.mu();
    let epsilon_exact = mu.map(|m| dp::gdp_epsilon(m, a.dp_delta)).transpose()?;
    let (rero_gamma, rero_method) = dp::rero_run(&run, kappa)?;
    let rero_method = rero_method.to_string();
    Ok(DpBound {
        run,
        delta: a.dp_delta,
        epsilon_rdp,
        rdp_order,
        epsilon_pld,
        mu,
        epsilon_exact,
        kappa,
        kappa_from,
        rero_gamma,
        rero_method,
    })
}

/// The radius: absolute, or relative to sqrt(N) (the typical norm of x).
#[derive(Debug, Clone, Args)]
#[group(required = true, multiple = false)]
pub struct DeltaArgs {
    /// Reconstruction error allowed (Euclidean norm).
    #[arg(long, value_name = "D", allow_negative_numbers = true)]
    pub delta: Option<f64>,
    /// Error relative to sqrt(N): delta = R * sqrt(N).
    #[arg(long, value_name = "R", allow_negative_numbers = true)]
    pub relative: Option<f64>,
}

impl DeltaArgs {
    /// The absolute delta for dimension `dim`.
    pub fn resolve(&self, dim: u64) -> Result<f64> {
        match (self.delta, self.relative) {
            (Some(d), _) => Ok(d),
            (None, Some(r)) => {
                if !r.is_finite() || r <= 0.0 {
                    return Err(invalid(format!("--relative must be a positive finite number, got {r}")));
                }
                Ok(r * (dim as f64).sqrt())
            }
            (None, None) => Err(invalid("give --delta or --relative")),
        }
    }
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
}

#[derive(Debug, Args)]
pub struct PermutationArgs {
    /// N, the vector's length (taken from the image with --idx).
    #[arg(long, value_name = "N", allow_negative_numbers = true, required_unless_present = "idx")]
    pub len: Option<u64>,
    /// Multiplicities of the vector's values, comma-separated (default: all distinct).
    #[arg(
        long,
        value_name = "K1,K2,...",
        value_delimiter = ',',
        allow_negative_numbers = true,
        conflicts_with = "idx"
    )]
    pub counts: Option<Vec<u64>>,
    /// Positions whose values the attacker knows (a vector of distinct values).
    #[arg(long, value_name = "K", allow_negative_numbers = true, default_value_t = 0)]
    pub known: u64,
    /// Take the counts from one item (image) of an IDX file (raw or gzip).
    #[arg(long, value_name = "FILE")]
    pub idx: Option<PathBuf>,
    /// Which item of --idx.
    #[arg(long, value_name = "I", allow_negative_numbers = true, default_value_t = 0, requires = "idx")]
    pub index: usize,
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
}

#[derive(Debug, Args)]
pub struct LinkingArgs {
    /// N, rows in the transformed table.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub rows: u64,
    /// M, rows the attacker holds.
    #[arg(long, value_name = "M", allow_negative_numbers = true)]
    pub known: u64,
}

pub fn run(cmd: BoundCommand, json: bool) -> Result<String> {
    match cmd {
        BoundCommand::Linear(a) => {
            let b = bounds::linear(a.dim, a.outputs, a.delta.resolve(a.dim)?)?;
            render(&b, json, |b| {
                let mut t = Table::new(&["bound", "log10 epsilon", "epsilon"]);
                let mut row = |name: &str, e: &Epsilon| {
                    t.row(&[name.to_string(), log10(e.log10_epsilon), e.scientific()]);
                };
                row("paper, Thm 3.3: P(chi2_{N-1} < D^2)", &b.paper);
                row(&format!("attacker knows A: P(chi2_{{N-M}} < D^2), N-M = {}", b.unknown_dims), &b.known_transform);
                format!(
                    "linear map x -> A x, A ~ N(0,1)^({} x {}), x ~ N(0, I_{}), delta = {}\n{}",
                    b.outputs,
                    b.dim,
                    b.dim,
                    short(b.delta),
                    t.render()
                )
            })
        }
        BoundCommand::Permutation(a) => permutation(a, json),
        BoundCommand::Dp(a) => {
            let b = dp(a)?;
            render(&b, json, |b| {
                let mut s = format!(
                    "DP-SGD: q = {}, sigma = {}, T = {}, delta = {}\nepsilon (PLD accountant): {:.4}\nepsilon (RDP \
                     accountant, order {}): {:.4}\n",
                    b.run.q, b.run.sigma, b.run.steps, b.delta, b.epsilon_pld, b.rdp_order, b.epsilon_rdp
                );
                if let (Some(mu), Some(e)) = (b.mu, b.epsilon_exact) {
                    s.push_str(&format!("mu-GDP: mu = {mu:.4}, exact epsilon {e:.4}\n"));
                }
                s.push_str(&format!(
                    "reconstruction bound against a prior of baseline kappa = {:.4e} ({}): gamma = {:.4e} ({})",
                    b.kappa, b.kappa_from, b.rero_gamma, b.rero_method
                ));
                s
            })
        }
        BoundCommand::Noise(a) => {
            let b = bounds::noise(a.sigma, a.delta, a.dim)?;
            render(&b, json, |b| {
                let mut t = Table::new(&["attacker", "log10 epsilon", "epsilon"]);
                t.row(&[
                    "outputs x + e (paper): P(chi2_N < (D/S)^2)".into(),
                    log10(b.log10_epsilon),
                    fmt_eps(b.log10_epsilon),
                ]);
                t.row(&[
                    "posterior mean, x ~ N(0,1) prior".into(),
                    log10(b.with_prior.log10_epsilon),
                    fmt_eps(b.with_prior.log10_epsilon),
                ]);
                format!("x + e, e ~ N(0, {}^2 I_{}), delta = {}\n{}", b.sigma, b.dim, short(b.delta), t.render())
            })
        }
        BoundCommand::Linking(a) => {
            let b = bounds::linking(a.rows, a.known)?;
            render(&b, json, |b| {
                let mut t = Table::new(&["quantity", "log10", "value"]);
                t.row(&["mappings C(N,M) * M!".into(), log10(b.log10_mappings), scientific(b.log10_mappings)]);
                t.row(&["epsilon = 1 / mappings".into(), log10(b.log10_epsilon), scientific(b.log10_epsilon)]);
                format!(
                    "linking {} held rows into {} transformed rows (paper, Section 3.3.1)\n{}",
                    b.known,
                    b.rows,
                    t.render()
                )
            })
        }
    }
}

/// epsilon printed as a plain decimal when readable, else in scientific notation.
fn fmt_eps(log10_eps: f64) -> String {
    if log10_eps > -4.0 { format!("{:.6}", 10f64.powf(log10_eps)) } else { scientific(log10_eps) }
}

/// Where the counts came from, when they came from a file.
#[derive(Debug, Serialize)]
struct ImageSource {
    file: PathBuf,
    index: usize,
    /// Elements of that item equal to 0 (background pixels of a digit).
    zeros: u64,
}

#[derive(Debug, Serialize)]
struct PermutationReport {
    #[serde(flatten)]
    bound: bounds::PermutationBound,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<ImageSource>,
}

fn permutation(a: PermutationArgs, json: bool) -> Result<String> {
    let (len, counts, image) = match &a.idx {
        Some(path) => {
            let file = idx::read(path)?;
            let item = file.item(a.index).ok_or_else(|| {
                invalid(format!("--index {} is out of range: {} holds {} items", a.index, path.display(), file.count()))
            })?;
            let n = item.len() as u64;
            if let Some(len) = a.len
                && len != n
            {
                return Err(invalid(format!("--len {len} differs from the {n} elements of item {}", a.index)));
            }
            let zeros = item.iter().filter(|&&v| v == 0).count() as u64;
            (n, Some(bounds::value_counts(item)), Some(ImageSource { file: path.clone(), index: a.index, zeros }))
        }
        None => (a.len.unwrap_or(0), a.counts.clone(), None),
    };
    let bound = bounds::permutation(len, counts.as_deref(), a.known)?;
    render(&PermutationReport { bound, image }, json, |r| {
        let b = &r.bound;
        let mut t = Table::new(&["case", "log10 epsilon", "epsilon"]);
        t.row(&["paper, Thm 3.4: 1/N!".into(), log10(b.log10_epsilon_paper), scientific(b.log10_epsilon_paper)]);
        let label = if b.known > 0 {
            format!("{} positions known: 1/(N-K)!", b.known)
        } else {
            format!("{} distinct values, largest tie {}: prod(k_i!)/N!", b.distinct_values, b.largest_tie)
        };
        t.row(&[label, log10(b.log10_epsilon), scientific(b.log10_epsilon)]);
        let head = match &r.image {
            Some(s) => format!(
                "random permutation of item {} of {} (N = {}, {} zeros)",
                s.index,
                s.file.display(),
                b.len,
                s.zeros
            ),
            None => format!("random permutation of a vector of length N = {}", b.len),
        };
        format!("{head}\n{}", t.render())
    })
}
