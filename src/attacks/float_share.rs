//! The paper's float sharing (Section 4.1): x is shared as `x - r` and `r` with Gaussian `r` "whose variance
//! is greater than x's". One share is then x plus Gaussian noise — exactly the noise transformation whose
//! bound `rtas bound noise` computes — and every fresh sharing of the same x (each epoch re-shares the
//! training set) is another independent noisy copy: averaging E of them divides the noise by sqrt(E).

use super::metrics::{Success, median, psnr, relative_errors, success};
pub use super::prior::GaussianPrior;
use crate::analysis::bounds;
use crate::error::{Result, invalid, positive};
use crate::models::Prepared;
use crate::rng::stream;
use ndarray::Array2;
use rand::RngExt;
use rand_distr::StandardNormal;
use serde::Serialize;
use std::collections::BTreeMap;

/// Settings.
#[derive(Debug, Clone)]
pub struct FloatShare {
    /// Images attacked.
    pub images: usize,
    /// Standard deviation of the masks r.
    pub sigma: f64,
    /// Numbers of shares of the same image the attacker averages (epochs).
    pub shares: Vec<usize>,
    /// Success threshold on the relative error.
    pub delta_relative: f64,
    /// Seed.
    pub seed: u64,
}

/// One number of shares.
#[derive(Debug, Clone, Serialize)]
pub struct FloatSharePoint {
    /// Shares averaged.
    pub shares: usize,
    /// Measured success at the threshold.
    #[serde(flatten)]
    pub success: Success,
    /// Median PSNR, dB.
    pub median_psnr: f64,
    /// The noise bound for the same criterion, image by image and averaged:
    /// mean_i P(chi2_784 < (delta |x_i| sqrt(E) / sigma)^2).
    pub bound_epsilon: f64,
    /// Its log10 (exact where the f64 underflows).
    pub bound_log10_epsilon: f64,
}

/// The report.
#[derive(Debug, Clone, Serialize)]
pub struct FloatShareReport {
    /// Images.
    pub images: usize,
    /// Mask standard deviation.
    pub sigma: f64,
    /// Per number of shares: the average of the shares.
    pub points: Vec<FloatSharePoint>,
    /// Per number of shares: the posterior mean under a Gaussian fit to public digits (empty without them).
    /// Its bound fields are those of the averaging attacker (the paper's figure does not change).
    pub prior_points: Vec<FloatSharePoint>,
    /// The same two attackers on P1's recorded view of a real float-mode run (when one was recorded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recorded: Option<ViewReport>,
}

/// The naive attacker's exact success (it outputs what it sees, noise `sd` per element, `dim` elements),
/// image by image at `delta_i = delta_relative |x_i|` from the images' `norms`, averaged: log10 of
/// `mean_i P(chi2_dim < (delta_i / sd)^2)`.
pub fn naive_bound(norms: &[f64], sd: f64, delta_relative: f64, dim: u64) -> Result<f64> {
    let per_image: Vec<f64> = norms
        .iter()
        .map(|&norm| bounds::noise(sd, (delta_relative * norm).max(1e-300), dim).map(|b| b.log10_epsilon))
        .collect::<Result<_>>()?;
    Ok(bounds::log10_mean(&per_image))
}

/// Runs the attack on the first `images` images of `data`.
pub fn run(cfg: &FloatShare, data: &Prepared, prior: Option<&GaussianPrior>) -> Result<FloatShareReport> {
    if cfg.images == 0 || cfg.images > data.count {
        return Err(invalid(format!("--images must be between 1 and {}", data.count)));
    }
    if !positive(cfg.sigma) || !positive(cfg.delta_relative) {
        return Err(invalid("--sigma and --delta-relative must be positive"));
    }
    if cfg.shares.is_empty() || cfg.shares.contains(&0) {
        return Err(invalid("--shares must list counts of at least 1"));
    }
    let n = cfg.images;
    let x = Array2::from_shape_vec((n, 784), data.x[..n * 784].to_vec()).map_err(|e| invalid(e.to_string()))?;
    let norms: Vec<f64> = x.rows().into_iter().map(|r| r.dot(&r).sqrt()).collect();
    let mut rng = stream(cfg.seed, 507);
    let mut points = Vec::new();
    let mut prior_points = Vec::new();
    for &e in &cfg.shares {
        crate::cancel::check()?;
        // P1's views: x - r_1, ..., x - r_E; the attacker averages them. The mean of E independent
        // N(0, sigma^2) masks is N(0, sigma^2 / E): drawn directly, so that large E costs nothing.
        let sd = cfg.sigma / (e as f64).sqrt();
        let mut avg = x.clone();
        avg.mapv_inplace(|v| v - sd * rng.sample::<f64, _>(StandardNormal));
        // The bound for the same criterion, image by image (delta_i = delta_relative |x_i|), averaged.
        let bound = crate::analysis::bounds::Epsilon::from_log10(naive_bound(&norms, sd, cfg.delta_relative, 784)?);
        let score = |est: &Array2<f64>| -> Result<FloatSharePoint> {
            Ok(FloatSharePoint {
                shares: e,
                success: success(&relative_errors(est.view(), x.view()), cfg.delta_relative)?,
                median_psnr: median(&psnr(est.view(), x.view(), 1.0)),
                bound_epsilon: bound.epsilon,
                bound_log10_epsilon: bound.log10_epsilon,
            })
        };
        if let Some(prior) = prior {
            prior_points.push(score(&prior.posterior_mean(&avg, sd * sd))?);
        }
        points.push(score(&avg)?);
    }
    Ok(FloatShareReport { images: n, sigma: cfg.sigma, points, prior_points, recorded: None })
}

/// One number of shares seen, on a recorded view (printed as a flat [`ViewRow`]).
#[derive(Debug, Clone, Serialize)]
#[serde(into = "ViewRow")]
pub struct ViewPoint {
    /// Shares of each image used (its first ones, in step order).
    pub shares: usize,
    /// Images seen at least that often (the ones scored).
    pub images: usize,
    /// The average of the shares, and its median PSNR (dB).
    pub average: (Success, f64),
    /// The posterior mean under the Gaussian prior (noise variance sigma^2 / shares), and its median PSNR.
    pub prior: Option<(Success, f64)>,
}

/// A [`ViewPoint`] as one row of a table.
#[derive(Debug, Clone, Serialize)]
pub struct ViewRow {
    shares: usize,
    images: usize,
    average_success: f64,
    average_ci_low: f64,
    average_ci_high: f64,
    average_median_relative_error: f64,
    average_median_psnr: f64,
    prior_success: Option<f64>,
    prior_ci_low: Option<f64>,
    prior_ci_high: Option<f64>,
    prior_median_relative_error: Option<f64>,
    prior_median_psnr: Option<f64>,
}

impl From<ViewPoint> for ViewRow {
    fn from(p: ViewPoint) -> ViewRow {
        let (a, apsnr) = p.average;
        let prior = |f: fn(&(Success, f64)) -> f64| p.prior.as_ref().map(f);
        ViewRow {
            shares: p.shares,
            images: p.images,
            average_success: a.estimate.epsilon,
            average_ci_low: a.estimate.ci_low,
            average_ci_high: a.estimate.ci_high,
            average_median_relative_error: a.median_relative_error,
            average_median_psnr: apsnr,
            prior_success: prior(|p| p.0.estimate.epsilon),
            prior_ci_low: prior(|p| p.0.estimate.ci_low),
            prior_ci_high: prior(|p| p.0.estimate.ci_high),
            prior_median_relative_error: prior(|p| p.0.median_relative_error),
            prior_median_psnr: prior(|p| p.1),
        }
    }
}

/// The attack on P1's recorded view of a float-mode run.
#[derive(Debug, Clone, Serialize)]
pub struct ViewReport {
    /// Images with at least one share in the view.
    pub images: usize,
    /// The masks' standard deviation (a protocol parameter, public).
    pub sigma: f64,
    /// The prior mean alone, without any share (the baseline the prior attacker must beat).
    pub prior_only: Option<Success>,
    /// Its median PSNR, dB.
    pub prior_only_median_psnr: Option<f64>,
    /// Success against the number of shares seen.
    pub points: Vec<ViewPoint>,
}

/// Success at `delta` and median PSNR of `est` against `x`.
fn scored(est: &Array2<f64>, x: &Array2<f64>, delta: f64) -> Result<(Success, f64)> {
    Ok((success(&relative_errors(est.view(), x.view()), delta)?, median(&psnr(est.view(), x.view(), 1.0))))
}

/// P1's shares of each training image in its recorded view of a float-mode run (the owner's shares
/// `x - r` of each batch), aligned across epochs by the batch schedule (public in rtas's plan: the label
/// holder picks labels by it), in step order.
fn shares_in_view(view: &crate::sim::record::View, schedule: &[Vec<usize>]) -> Result<BTreeMap<usize, Vec<Vec<f64>>>> {
    use crate::net::{Op, Payload, Role, Stage};
    if view.role != Role::P1 {
        return Err(invalid(format!("this attack reads P1's view, not {}'s", view.role)));
    }
    let mut seen: BTreeMap<usize, Vec<Vec<f64>>> = BTreeMap::new();
    for e in &view.received {
        let (Stage::Train(step), "x", Some(Op::Share)) = (e.label.stage, e.label.layer.as_str(), e.label.op) else {
            continue;
        };
        let Payload::Float(a) = &e.payload else { return Err(invalid("the run was not in float mode")) };
        let rows = schedule.get(step as usize).ok_or_else(|| invalid(format!("no step {step} in the schedule")))?;
        let flat: Vec<f64> = a.iter().copied().collect();
        let d = flat.len() / rows.len().max(1);
        for (i, &r) in rows.iter().enumerate() {
            seen.entry(r).or_default().push(flat[i * d..(i + 1) * d].to_vec());
        }
    }
    if seen.is_empty() {
        return Err(invalid("P1's view holds no input shares of a training step"));
    }
    Ok(seen)
}

/// The attack on a real run: for k = 1, 2, 5, 10, ... shares seen (and the most any image has), each
/// image's first k shares averaged, and (with `prior`) the posterior mean under it; scored on the images
/// seen at least k times.
pub fn from_view(
    view: &crate::sim::record::View,
    schedule: &[Vec<usize>],
    data: &Prepared,
    prior: Option<&GaussianPrior>,
    sigma: f64,
    delta_relative: f64,
) -> Result<ViewReport> {
    from_seen(shares_in_view(view, schedule)?, data, prior, sigma, delta_relative)
}

/// The opened `E = X - U` of each training step's first product, per row: P0's half from P1's view and P1's
/// half from P0's (what an observer of their link sees; the paper: "x - u ... can be public").
pub fn openings_in_views(
    p0: &crate::sim::record::View,
    p1: &crate::sim::record::View,
    schedule: &[Vec<usize>],
    d: usize,
) -> Result<BTreeMap<usize, Vec<Vec<f64>>>> {
    use crate::net::{Op, Payload, Role, Stage, ViewKind};
    if p0.role != Role::P0 || p1.role != Role::P1 {
        return Err(invalid("the openings are read from P0's and P1's views"));
    }
    // The first masked opening of each training step holds X - U first (the forward product's operand).
    let first = |v: &crate::sim::record::View| -> BTreeMap<u32, Vec<f64>> {
        let mut by_step = BTreeMap::new();
        for e in v.of_kind(ViewKind::MaskedOpening) {
            if let (Stage::Train(step), Some(Op::Open), Payload::Float(a)) = (e.label.stage, e.label.op, &e.payload) {
                by_step.entry(step).or_insert_with(|| a.iter().copied().collect());
            }
        }
        by_step
    };
    let (halves0, halves1) = (first(p1), first(p0));
    let mut seen: BTreeMap<usize, Vec<Vec<f64>>> = BTreeMap::new();
    for (step, a) in &halves0 {
        let (Some(b), Some(rows)) = (halves1.get(step), schedule.get(*step as usize)) else { continue };
        if a.len() < rows.len() * d || b.len() != a.len() {
            return Err(invalid(format!("step {step}: the openings do not hold the batch's inputs")));
        }
        for (i, &r) in rows.iter().enumerate() {
            seen.entry(r).or_default().push((0..d).map(|j| a[i * d + j] + b[i * d + j]).collect());
        }
    }
    if seen.is_empty() {
        return Err(invalid("the views hold no float openings of a training step (was the run in float mode?)"));
    }
    Ok(seen)
}

/// The same attackers on the openings `X - U` of a float-mode run (P0's and P1's views), with `sigma` the
/// standard deviation of U (the sum of P0's and P1's masks: sqrt(2) times the mask's).
pub fn from_openings(
    p0: &crate::sim::record::View,
    p1: &crate::sim::record::View,
    schedule: &[Vec<usize>],
    data: &Prepared,
    prior: Option<&GaussianPrior>,
    sigma: f64,
    delta_relative: f64,
) -> Result<ViewReport> {
    from_seen(openings_in_views(p0, p1, schedule, data.width())?, data, prior, sigma, delta_relative)
}

fn from_seen(
    seen: BTreeMap<usize, Vec<Vec<f64>>>,
    data: &Prepared,
    prior: Option<&GaussianPrior>,
    sigma: f64,
    delta_relative: f64,
) -> Result<ViewReport> {
    if !positive(sigma) {
        return Err(invalid("sigma must be positive"));
    }
    let d = data.width();
    if seen.values().flatten().any(|s| s.len() != d) || seen.keys().any(|&r| r >= data.count) {
        return Err(invalid("the view's shares do not match the data's rows"));
    }
    let originals = |rows: &[usize]| Array2::from_shape_fn((rows.len(), d), |(k, j)| data.x[rows[k] * d + j]);
    let all: Vec<usize> = seen.keys().copied().collect();
    let alone = prior.map(|p| scored(&p.mean(all.len()), &originals(&all), delta_relative)).transpose()?;
    let (prior_only, prior_only_median_psnr) = (alone.as_ref().map(|a| a.0.clone()), alone.map(|a| a.1));
    let most = seen.values().map(Vec::len).max().unwrap_or(0);
    let mut points = Vec::new();
    // 1, 2, 5, 10, 20, 50, ... shares, and the most any image has.
    let mut ladder: Vec<usize> =
        (0..20).flat_map(|e| [1, 2, 5].map(|m| m * 10usize.pow(e))).take_while(|&k| k < most).collect();
    ladder.push(most);
    for k in ladder {
        crate::cancel::check()?;
        let rows: Vec<usize> = seen.iter().filter(|(_, v)| v.len() >= k).map(|(&r, _)| r).collect();
        let avg = Array2::from_shape_fn((rows.len(), d), |(i, j)| {
            seen[&rows[i]][..k].iter().map(|s| s[j]).sum::<f64>() / k as f64
        });
        let x = originals(&rows);
        let with_prior =
            prior.map(|p| scored(&p.posterior_mean(&avg, sigma * sigma / k as f64), &x, delta_relative)).transpose()?;
        let average = scored(&avg, &x, delta_relative)?;
        points.push(ViewPoint { shares: k, images: rows.len(), average, prior: with_prior });
    }
    Ok(ViewReport { images: seen.len(), sigma, prior_only, prior_only_median_psnr, points })
}
