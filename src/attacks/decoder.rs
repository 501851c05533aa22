//! Decoder attack on RTAS-fast (He, Zhang, Lee 2019, "Model inversion attacks against collaborative
//! inference"): the third party sees the first layer's output `z = x W0 + b` of every training example.
//! With K auxiliary pairs `(x, z)` — images it knows, e.g. its own contributed ones — it fits a regularized
//! linear decoder `z -> x` and applies it to everything else it saw. The paper's claim (Section 4.2.2) is
//! that `x W0` is a random transformation that protects x; the decoder measures what it leaves.

use super::linalg::{mm, ridge};
use super::metrics::{Success, median, psnr, relative_errors, success};
use crate::error::{Result, invalid};
use crate::models::Prepared;
use crate::protocol::ring::{Arith, RingArith};
use crate::sim::record::Recording;
use crate::sim::{Payload, Role, ViewKind};
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
}

/// The report.
#[derive(Debug, Clone, Serialize)]
pub struct DecoderReport {
    /// Distinct training examples whose first-layer output the third party saw.
    pub examples_seen: usize,
    /// Features per example in its view.
    pub view_dim: usize,
    /// Known pairs used to fit the decoder.
    pub known: usize,
    /// Reconstructions of the other examples.
    #[serde(flatten)]
    pub success: Success,
    /// Median PSNR, dB.
    pub median_psnr: f64,
    /// Median mean squared error per pixel.
    pub median_mse: f64,
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
/// reconstructed from the two shares P0 and P1 sent it (`t{i}/reveal`), with step i's rows from `schedule`.
pub fn third_party_view(rec: &Recording, schedule: &[Vec<usize>], arith: &RingArith) -> Result<Vec<(usize, Vec<f64>)>> {
    let views = rec
        .views
        .get(&Role::ThirdParty)
        .ok_or_else(|| invalid("no recorded view of the third party (run RTAS-fast with views)"))?;
    let mut by_step: BTreeMap<usize, Vec<&ndarray::ArrayD<u64>>> = BTreeMap::new();
    for v in views.iter().filter(|v| v.kind == ViewKind::Revealed) {
        let Some(step) =
            v.label.strip_prefix('t').and_then(|l| l.strip_suffix("/reveal")).and_then(|n| n.parse::<usize>().ok())
        else {
            continue;
        };
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
    // Keep the first sighting of each example (later epochs see it again under other weights).
    let mut first = std::collections::HashSet::new();
    let uniq: Vec<&(usize, Vec<f64>)> = seen.iter().filter(|(r, _)| first.insert(*r)).collect();
    if cfg.known == 0 || cfg.known >= uniq.len() {
        return Err(invalid(format!(
            "--known must be between 1 and {} (examples seen - 1)",
            uniq.len().saturating_sub(1)
        )));
    }
    if !(cfg.lambda >= 0.0 && cfg.lambda.is_finite()) {
        return Err(invalid("--lambda must be zero or positive"));
    }
    let dim = uniq[0].1.len();
    let n = uniq.len();
    let z = Array2::from_shape_fn((n, dim + 1), |(i, j)| if j < dim { uniq[i].1[j] } else { 1.0 });
    let x = Array2::from_shape_fn((n, 784), |(i, j)| train.x[uniq[i].0 * 784 + j]);
    let k = cfg.known;
    let b = ridge(z.slice(s![..k, ..]), x.slice(s![..k, ..]), cfg.lambda.max(1e-12))?;
    let xhat = mm(z.slice(s![k.., ..]), b.view()).mapv(|v| v.clamp(0.0, 1.0));
    let originals = x.slice(s![k.., ..]).to_owned();
    let errs = relative_errors(xhat.view(), originals.view());
    let p = psnr(xhat.view(), originals.view(), 1.0);
    let mse: Vec<f64> = xhat
        .rows()
        .into_iter()
        .zip(originals.rows())
        .map(|(a, o)| a.iter().zip(o.iter()).map(|(u, v)| (u - v).powi(2)).sum::<f64>() / 784.0)
        .collect();
    Ok(DecoderOutput {
        report: DecoderReport {
            examples_seen: n,
            view_dim: dim,
            known: k,
            success: success(&errs, cfg.delta_relative)?,
            median_psnr: median(&p),
            median_mse: median(&mse),
        },
        reconstructions: xhat,
        originals,
    })
}
