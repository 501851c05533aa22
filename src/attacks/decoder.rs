//! Decoder attack on RTAS-fast (He, Zhang, Lee 2019, "Model inversion attacks against collaborative
//! inference"): the third party sees the first layer's output `z = x W0 + b` of every training example.
//! With K auxiliary pairs `(x, z)` — images it knows, e.g. its own contributed ones — it fits a regularized
//! linear decoder `z -> x` and applies it to everything else it saw. The paper's claim (Section 4.2.2) is
//! that `x W0` is a random transformation that protects x; the decoder measures what it leaves.

use super::linalg::{mm, ridge};
use super::metrics::{Success, median, psnr, relative_errors, success};
use crate::error::{Result, invalid};
use crate::models::Prepared;
use crate::net::{Op, Payload, Role, Stage, ViewKind};
use crate::protocol::ring::{Arith, RingArith};
use crate::sim::record::View;
use ndarray::{Array2, s};
use serde::Serialize;
use std::collections::BTreeMap;

/// Settings.
#[derive(Debug, Clone)]
pub struct Decoder {
    /// Pairs the attacker knows (the first K distinct examples it saw).
    pub known: usize,
    /// Ridge strength, relative to the largest diagonal entry of `ZᵀZ`.
    pub lambda: f64,
    /// Success threshold on the relative error.
    pub delta_relative: f64,
    /// A small non-linear decoder (one hidden layer) instead of the linear one.
    pub nonlinear: bool,
}

/// The report.
#[derive(Debug, Clone, Serialize)]
pub struct DecoderReport {
    /// Distinct training examples whose first-layer output the third party saw.
    pub examples_seen: usize,
    /// Features per example in its view.
    pub view_dim: usize,
    /// Pairs the decoder was fitted on (victim pairs the attacker knew, or its public images).
    pub known: usize,
    /// Reconstructions of the other examples.
    #[serde(flatten)]
    pub success: Success,
    /// Median PSNR, dB.
    pub median_psnr: f64,
    /// Median mean squared error per pixel.
    pub median_mse: f64,
    /// `linear` or `non-linear (one hidden layer)`.
    pub decoder: String,
}

/// Reconstructions with their originals (for figures).
#[derive(Debug, Clone)]
pub struct DecoderOutput {
    /// The scores.
    pub report: DecoderReport,
    /// Reconstructed images (rows), attacked examples only.
    pub reconstructions: Array2<f64>,
    /// The true images, same order.
    pub originals: Array2<f64>,
}

/// The first-layer outputs the third party received, per training example: `(row, z)` in the order seen,
/// reconstructed from the two shares P0 and P1 sent it in each training step, with step i's rows from
/// `schedule` (public: the third party picks each step's labels by it).
pub fn third_party_view(view: &View, schedule: &[Vec<usize>], arith: &RingArith) -> Result<Vec<(usize, Vec<f64>)>> {
    if view.role != Role::ThirdParty {
        return Err(invalid(format!("the decoder reads the third party's view, not {}'s", view.role)));
    }
    let mut by_step: BTreeMap<usize, Vec<&ndarray::ArrayD<u64>>> = BTreeMap::new();
    for v in view.of_kind(ViewKind::Revealed) {
        let (Stage::Train(step), Some(Op::Reveal), "") = (v.label.stage, v.label.op, v.label.layer.as_str()) else {
            continue;
        };
        let step = step as usize;
        if let Payload::Ring(a) = &v.payload {
            by_step.entry(step).or_default().push(a);
        }
    }
    let mut out = Vec::new();
    for (step, shares) in by_step {
        let rows = schedule.get(step).ok_or_else(|| invalid(format!("view of step {step} but no such step")))?;
        if shares.len() != 2 {
            return Err(invalid(format!("step {step}: expected two shares, found {}", shares.len())));
        }
        let b = rows.len();
        let per = shares[0].len() / b.max(1);
        let v0: Vec<u64> = shares[0].iter().copied().collect();
        let v1: Vec<u64> = shares[1].iter().copied().collect();
        for (i, &row) in rows.iter().enumerate() {
            let z = (0..per).map(|j| arith.decode(v0[i * per + j].wrapping_add(v1[i * per + j]))).collect();
            out.push((row, z));
        }
    }
    Ok(out)
}

/// Fits the decoder on the first `known` distinct examples of `seen` and reconstructs the rest.
pub fn run(seen: &[(usize, Vec<f64>)], train: &Prepared, cfg: &Decoder) -> Result<DecoderOutput> {
    let uniq = unique(seen);
    if cfg.known == 0 || cfg.known >= uniq.len() {
        return Err(invalid(format!(
            "--known must be between 1 and {} (examples seen - 1)",
            uniq.len().saturating_sub(1)
        )));
    }
    let (z, x) = matrices(&uniq, train);
    let k = cfg.known;
    fit_and_score(
        z.slice(s![..k, ..]),
        x.slice(s![..k, ..]),
        z.slice(s![k.., ..]),
        x.slice(s![k.., ..]),
        k,
        uniq.len(),
        cfg,
    )
}

/// The other auxiliary knowledge: public MNIST-like images and the first layer's weights at some step
/// (`first`: weights and bias, e.g. leaked at the end of training). The attacker computes the outputs of
/// its public images itself, fits the decoder on them, and decodes every example it saw; no victim pair
/// is needed.
pub fn run_public(
    seen: &[(usize, Vec<f64>)],
    train: &Prepared,
    model: crate::models::ModelKind,
    first: &[ndarray::ArrayD<f64>],
    public: &Prepared,
    cfg: &Decoder,
) -> Result<DecoderOutput> {
    let uniq = unique(seen);
    if uniq.is_empty() || public.count < 2 {
        return Err(invalid("the decoder needs examples seen and at least two public images"));
    }
    let rows: Vec<usize> = (0..public.count).collect();
    let zp = model.net().first_output(first, &public.batch(model, &rows))?;
    let dim = zp.len() / public.count;
    let zp = Array2::from_shape_fn((public.count, dim + 1), |(i, j)| {
        if j < dim { zp.as_slice().map_or(0.0, |v| v[i * dim + j]) } else { 1.0 }
    });
    let w = public.width();
    let xp = Array2::from_shape_vec((public.count, w), public.x[..public.count * w].to_vec())
        .map_err(|e| invalid(e.to_string()))?;
    let (z, x) = matrices(&uniq, train);
    if z.ncols() != zp.ncols() {
        return Err(invalid(format!(
            "the view has {} features, the leaked layer gives {}",
            z.ncols() - 1,
            zp.ncols() - 1
        )));
    }
    fit_and_score(zp.view(), xp.view(), z.view(), x.view(), public.count, uniq.len(), cfg)
}

/// The first sighting of each example (later epochs see it again under other weights).
pub(crate) fn unique(seen: &[(usize, Vec<f64>)]) -> Vec<&(usize, Vec<f64>)> {
    let mut first = std::collections::HashSet::new();
    seen.iter().filter(|(r, _)| first.insert(*r)).collect()
}

/// Views (with a constant column) and the true images.
fn matrices(uniq: &[&(usize, Vec<f64>)], train: &Prepared) -> (Array2<f64>, Array2<f64>) {
    let n = uniq.len();
    let dim = uniq.first().map_or(0, |u| u.1.len());
    let z = Array2::from_shape_fn((n, dim + 1), |(i, j)| if j < dim { uniq[i].1[j] } else { 1.0 });
    let w = train.width();
    let x = Array2::from_shape_fn((n, w), |(i, j)| train.x[uniq[i].0 * w + j]);
    (z, x)
}

fn fit_and_score(
    z_fit: ndarray::ArrayView2<'_, f64>,
    x_fit: ndarray::ArrayView2<'_, f64>,
    z_eval: ndarray::ArrayView2<'_, f64>,
    x_eval: ndarray::ArrayView2<'_, f64>,
    known: usize,
    seen_count: usize,
    cfg: &Decoder,
) -> Result<DecoderOutput> {
    if !(cfg.lambda >= 0.0 && cfg.lambda.is_finite()) {
        return Err(invalid("--lambda must be zero or positive"));
    }
    // The range the attacker clamps to and scores PSNR against: [0, 1] for images (pixels / 256), else the
    // range of the known examples (a table's features).
    let (lo, hi) = x_fit.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    let (lo, hi) = if lo >= 0.0 && hi <= 1.0 { (0.0, 1.0) } else { (lo, hi.max(lo + f64::EPSILON)) };
    let xhat = if cfg.nonlinear {
        super::mlp::Mlp::fit(z_fit, x_fit, &super::mlp::MlpConfig::default())?.predict(z_eval)
    } else {
        let b = ridge(z_fit, x_fit, cfg.lambda.max(1e-12))?;
        mm(z_eval, b.view()).mapv(|v| v.clamp(lo, hi))
    };
    let originals = x_eval.to_owned();
    let errs = relative_errors(xhat.view(), originals.view());
    let p = psnr(xhat.view(), originals.view(), hi - lo);
    let mse: Vec<f64> = xhat
        .rows()
        .into_iter()
        .zip(originals.rows())
        .map(|(a, o)| a.iter().zip(o.iter()).map(|(u, v)| (u - v).powi(2)).sum::<f64>() / o.len().max(1) as f64)
        .collect();
    Ok(DecoderOutput {
        report: DecoderReport {
            examples_seen: seen_count,
            view_dim: z_eval.ncols() - 1,
            known,
            success: success(&errs, cfg.delta_relative)?,
            median_psnr: median(&p),
            median_mse: median(&mse),
            decoder: if cfg.nonlinear {
                "non-linear (one hidden layer of 256)".into()
            } else {
                "linear (ridge)".into()
            },
        },
        reconstructions: xhat,
        originals,
    })
}
