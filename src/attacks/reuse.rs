//! What a third party can do with transformed data beyond the task it was given (Sections 3.4 and 4.3).
//!
//! - [`content`]: recognise each image's content (its digit) from the convolution maps it saw, without the
//!   filters, by correlating every channel map with public digits box-filtered to the same geometry
//!   (nearest neighbour by the summed absolute correlation over channels): "the relations of different parts
//!   of the image is reserved, and attackers can easily guess the content" (Section 3.4).
//! - [`new_task`]: train a task the data were not shared for on what it saw: a least-squares classifier of a
//!   digit attribute that is not a function of the label it already holds (more ink than the median digit of
//!   the same class), fitted on the rows whose attribute it knows and scored on the others, beside the same
//!   classifier on the raw pixels: "the transformed data is useless except in the current task" (Section 4.3).

use super::linalg::{mm, ridge};
use crate::analysis::estimate::Estimate;
use crate::error::{Result, invalid};
use crate::models::Prepared;
use ndarray::{Array2, ArrayView2, Axis};
use serde::Serialize;

/// The geometry of the convolution maps seen: `channels` maps of `side x side`, each output position covering
/// a `kernel x kernel` window of the 28x28 input at `stride`.
#[derive(Debug, Clone, Copy)]
pub struct Maps {
    /// Channels.
    pub channels: usize,
    /// Side of each map.
    pub side: usize,
    /// Window side.
    pub kernel: usize,
    /// Stride.
    pub stride: usize,
}

/// Success beside a trivial baseline.
#[derive(Debug, Clone, Serialize)]
pub struct ReuseReport {
    /// The attack's successes.
    pub success: Estimate,
    /// The trivial baseline's successes on the same rows.
    pub baseline: Estimate,
    /// The same classifier on the raw data (for [`new_task`]; what the data owner gave away at most).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw: Option<Estimate>,
}

/// The first sighting of each record, at most `cap` of them.
fn unique(seen: &[(usize, Vec<f64>)], cap: usize) -> Vec<&(usize, Vec<f64>)> {
    let mut u = super::decoder::unique(seen);
    u.truncate(cap);
    u
}

/// Rows normalized to zero mean and unit norm (a constant row stays zero).
fn standardize(mut m: Array2<f64>) -> Array2<f64> {
    for mut r in m.axis_iter_mut(Axis(0)) {
        let mean = r.mean().unwrap_or(0.0);
        r.mapv_inplace(|v| v - mean);
        let norm = r.dot(&r).sqrt();
        if norm > 0.0 {
            r.mapv_inplace(|v| v / norm);
        }
    }
    m
}

/// Recognises the digit of up to `images` of the images seen from their maps (see the module documentation).
pub fn content(
    seen: &[(usize, Vec<f64>)],
    train: &Prepared,
    public: &Prepared,
    maps: Maps,
    images: usize,
) -> Result<ReuseReport> {
    let Maps { channels, side, kernel, stride } = maps;
    let per = side * side;
    let uniq = unique(seen, images);
    if uniq.is_empty() || uniq.iter().any(|(r, z)| z.len() != channels * per || *r >= train.count) {
        return Err(invalid("the view does not hold convolution maps of the training rows"));
    }
    if (side - 1) * stride + kernel > 28 {
        return Err(invalid("the maps' geometry does not fit a 28x28 input"));
    }
    // Public digits, box-filtered to the maps' geometry.
    let templates = standardize(Array2::from_shape_fn((public.count, per), |(i, p)| {
        let (r, c) = (p / side, p % side);
        let img = &public.x[i * 784..(i + 1) * 784];
        let mut s = 0.0;
        for dr in 0..kernel {
            for dc in 0..kernel {
                s += img[(r * stride + dr) * 28 + c * stride + dc];
            }
        }
        s
    }));
    let mut score = Array2::<f64>::zeros((uniq.len(), public.count));
    for ch in 0..channels {
        let m = standardize(Array2::from_shape_fn((uniq.len(), per), |(i, p)| uniq[i].1[ch * per + p]));
        score += &mm(m.view(), templates.t()).mapv(f64::abs);
    }
    let hits = score
        .axis_iter(Axis(0))
        .zip(&uniq)
        .filter(|(row, (r, _))| {
            let best = row.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map_or(0, |(j, _)| j);
            public.labels[best] == train.labels[*r]
        })
        .count();
    let mut freq = [0usize; 256];
    public.labels.iter().for_each(|&l| freq[l as usize] += 1);
    let common = (0..256).max_by_key(|&l| freq[l]).unwrap_or(0) as u8;
    let base = uniq.iter().filter(|(r, _)| train.labels[*r] == common).count();
    let n = uniq.len() as u64;
    Ok(ReuseReport {
        success: Estimate::from_counts(hits as u64, n)?,
        baseline: Estimate::from_counts(base as u64, n)?,
        raw: None,
    })
}

/// Whether each training row has more ink than the median digit of its class.
pub fn ink_attribute(train: &Prepared) -> Vec<bool> {
    let ink: Vec<f64> = (0..train.count).map(|i| train.x[i * 784..(i + 1) * 784].iter().sum()).collect();
    let mut medians = [0.0; 256];
    for (class, m) in medians.iter_mut().enumerate() {
        let v: Vec<f64> = (0..train.count).filter(|&i| train.labels[i] as usize == class).map(|i| ink[i]).collect();
        if !v.is_empty() {
            *m = super::metrics::median(&v);
        }
    }
    (0..train.count).map(|i| ink[i] > medians[train.labels[i] as usize]).collect()
}

/// A ridge classifier on the features of `x` (standardized on the known rows) and the class one-hot (the
/// third party holds the labels), fitted on the first `known` rows, scored on the rest.
fn classify(x: ArrayView2<'_, f64>, classes: &[u8], y: &[bool], known: usize) -> Result<u64> {
    let (n, f) = x.dim();
    let fit = x.slice(ndarray::s![..known, ..]);
    let mean = fit.mean_axis(Axis(0)).unwrap_or_else(|| ndarray::Array1::zeros(f));
    let sd: Vec<f64> = (0..f)
        .map(|j| {
            let v = fit.column(j).iter().map(|a| (a - mean[j]).powi(2)).sum::<f64>() / known as f64;
            if v > 0.0 { v.sqrt() } else { 1.0 }
        })
        .collect();
    let with_one = Array2::from_shape_fn((n, f + 10), |(i, j)| {
        if j < f { (x[(i, j)] - mean[j]) / sd[j] } else { f64::from(classes[i] as usize == j - f) }
    });
    let targets = Array2::from_shape_fn((known, 1), |(i, _)| if y[i] { 1.0 } else { -1.0 });
    let b = ridge(with_one.slice(ndarray::s![..known, ..]), targets.view(), RIDGE)?;
    let pred = mm(with_one.slice(ndarray::s![known.., ..]), b.view());
    Ok(pred.iter().zip(&y[known..]).filter(|(p, t)| (**p > 0.0) == **t).count() as u64)
}

/// The ridge penalty, relative to the largest diagonal entry of the normal equations.
const RIDGE: f64 = 1e-2;

/// Trains the ink attribute on the first `known` distinct rows seen and scores the rest (see the module
/// documentation); the baseline predicts the known rows' majority.
pub fn new_task(seen: &[(usize, Vec<f64>)], train: &Prepared, known: usize) -> Result<ReuseReport> {
    let uniq = unique(seen, usize::MAX);
    if known == 0 || known >= uniq.len() {
        return Err(invalid(format!("known rows must be between 1 and {}", uniq.len().saturating_sub(1))));
    }
    let dim = uniq[0].1.len();
    if uniq.iter().any(|(r, z)| z.len() != dim || *r >= train.count) {
        return Err(invalid("the view's rows do not match the data"));
    }
    let attr = ink_attribute(train);
    let y: Vec<bool> = uniq.iter().map(|(r, _)| attr[*r]).collect();
    let z = Array2::from_shape_fn((uniq.len(), dim), |(i, j)| uniq[i].1[j]);
    let raw = Array2::from_shape_fn((uniq.len(), 784), |(i, j)| train.x[uniq[i].0 * 784 + j]);
    let classes: Vec<u8> = uniq.iter().map(|(r, _)| train.labels[*r]).collect();
    let tested = (uniq.len() - known) as u64;
    let majority = y[..known].iter().filter(|&&b| b).count() * 2 >= known;
    let base = y[known..].iter().filter(|&&b| b == majority).count() as u64;
    Ok(ReuseReport {
        success: Estimate::from_counts(classify(z.view(), &classes, &y, known)?, tested)?,
        baseline: Estimate::from_counts(base, tested)?,
        raw: Some(Estimate::from_counts(classify(raw.view(), &classes, &y, known)?, tested)?),
    })
}
