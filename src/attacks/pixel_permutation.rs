//! Undoing a secret permutation of image features (Le Roux et al. 2007, "Learning the 2-D topology of
//! images"). Theorem 3.4 prices a random permutation of n values at 1/n!; applied to the pixels of every
//! image of a data set, the same permutation leaves the pixels' statistics intact: neighbouring pixels are
//! strongly correlated across images. The attacker computes the correlation of every pair of permuted
//! pixels, takes each pixel's most correlated partners as its neighbours, embeds the pixels in the plane
//! with the two smoothest eigenvectors of the correlation graph's Laplacian, and snaps the embedding to the
//! 28 x 28 grid. It reports the fraction of true 4-neighbour pairs found and the images un-permuted.

use super::linalg::{covariance, sym_eigen};
use super::metrics::{median, psnr};
use crate::error::{Result, invalid};
use crate::models::Prepared;
use crate::rng::stream;
use ndarray::{Array2, Axis};
use rand::seq::SliceRandom;
use serde::Serialize;

/// Settings.
#[derive(Debug, Clone)]
pub struct PixelPermutation {
    /// Images the attacker sees (permuted).
    pub images: usize,
    /// Seed of the secret permutation.
    pub seed: u64,
}

/// The report.
#[derive(Debug, Clone, Serialize)]
pub struct PixelPermutationReport {
    /// Images used.
    pub images: usize,
    /// Pixels that vary across the images (the others carry no information and no harm).
    pub informative_pixels: usize,
    /// True 4-neighbour pairs (among informative pixels) that appear among each pixel's 4 most correlated.
    pub neighbours_found: f64,
    /// Of the pixels' recovered positions, the share within one pixel of the truth (best of the 8
    /// symmetries of the square, which no statistic can tell apart).
    pub positions_within_one: f64,
    /// Median PSNR of the un-permuted images against the originals (dB), and of the permuted ones.
    pub median_psnr_recovered: f64,
    /// Median PSNR of the permuted images, for comparison.
    pub median_psnr_permuted: f64,
    /// log10 of the paper's 1/784!.
    pub paper_log10_epsilon: f64,
}

/// What the attack produced (for figures).
#[derive(Debug, Clone)]
pub struct PixelPermutationOutput {
    /// Scores.
    pub report: PixelPermutationReport,
    /// Permuted images.
    pub permuted: Array2<f64>,
    /// Recovered images.
    pub recovered: Array2<f64>,
    /// Originals.
    pub originals: Array2<f64>,
}

fn neighbours(p: usize) -> Vec<usize> {
    let (r, c) = (p / 28, p % 28);
    let mut v = Vec::new();
    if r > 0 {
        v.push(p - 28);
    }
    if r < 27 {
        v.push(p + 28);
    }
    if c > 0 {
        v.push(p - 1);
    }
    if c < 27 {
        v.push(p + 1);
    }
    v
}

/// The 8 symmetries of the 28 x 28 square.
fn dihedral(p: usize, t: usize) -> usize {
    let (r, c) = (p / 28, p % 28);
    let (r, c) = match t {
        0 => (r, c),
        1 => (c, 27 - r),
        2 => (27 - r, 27 - c),
        3 => (27 - c, r),
        4 => (r, 27 - c),
        5 => (27 - r, c),
        6 => (c, r),
        _ => (27 - c, 27 - r),
    };
    r * 28 + c
}

/// Runs the attack on the first `images` images of `data`.
pub fn run(cfg: &PixelPermutation, data: &Prepared) -> Result<PixelPermutationOutput> {
    if cfg.images < 10 || cfg.images > data.count {
        return Err(invalid(format!("--images must be between 10 and {}", data.count)));
    }
    let n = cfg.images;
    let x = Array2::from_shape_vec((n, 784), data.x[..n * 784].to_vec()).map_err(|e| invalid(e.to_string()))?;
    // The secret: permuted[:, j] = x[:, perm[j]].
    let mut perm: Vec<usize> = (0..784).collect();
    perm.shuffle(&mut stream(cfg.seed, 504));
    let permuted = x.select(Axis(1), &perm);
    // Correlations between permuted pixels; constant pixels are left out.
    let cov = covariance(permuted.view());
    let sd: Vec<f64> = (0..784).map(|j| cov[(j, j)].max(0.0).sqrt()).collect();
    let live: Vec<usize> = (0..784).filter(|&j| sd[j] > 1e-9).collect();
    let m = live.len();
    let corr = Array2::from_shape_fn((m, m), |(a, b)| cov[(live[a], live[b])] / (sd[live[a]] * sd[live[b]]));
    // Each pixel's 4 most correlated partners.
    let top: Vec<Vec<usize>> = (0..m)
        .map(|a| {
            let mut idx: Vec<usize> = (0..m).filter(|&b| b != a).collect();
            idx.sort_by(|&p, &q| corr[(a, q)].total_cmp(&corr[(a, p)]));
            idx.truncate(4);
            idx
        })
        .collect();
    // Score: true 4-neighbour pairs among live pixels found in the top-4 lists.
    let orig_of = |a: usize| perm[live[a]];
    let pos_live: std::collections::HashMap<usize, usize> = (0..m).map(|a| (orig_of(a), a)).collect();
    let (mut found, mut total) = (0usize, 0usize);
    for (a, top_a) in top.iter().enumerate() {
        for q in neighbours(orig_of(a)) {
            if let Some(&b) = pos_live.get(&q) {
                total += 1;
                found += usize::from(top_a.contains(&b));
            }
        }
    }
    // Embed: Laplacian eigenmaps of the kNN graph (symmetrized), two smoothest non-trivial eigenvectors.
    // Dense affinities emphasizing strong (local) correlations keep the graph connected.
    let w = Array2::from_shape_fn((m, m), |(a, b)| if a == b { 0.0 } else { corr[(a, b)].max(0.0).powi(8) });
    let deg: Vec<f64> = (0..m).map(|a| w.row(a).sum().max(1e-12)).collect();
    // Normalized affinity D^-1/2 W D^-1/2: its top eigenvectors are the Laplacian's smoothest.
    let na = Array2::from_shape_fn((m, m), |(a, b)| w[(a, b)] / (deg[a] * deg[b]).sqrt());
    let (_, vecs) = sym_eigen(na.view())?;
    let coord = |a: usize, k: usize| vecs[(a, k)] / deg[a].sqrt();
    // Snap to the grid: sort by the first coordinate into rows of equal size, then by the second.
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&p, &q| coord(p, 1).total_cmp(&coord(q, 1)));
    let side = (m as f64).sqrt().ceil() as usize;
    let mut placed = vec![0usize; m]; // live index -> recovered grid position (0..784)
    let offset = (28 - side.min(28)) / 2;
    for (r, chunk) in order.chunks(side).enumerate() {
        let mut row: Vec<usize> = chunk.to_vec();
        row.sort_by(|&p, &q| coord(p, 2).total_cmp(&coord(q, 2)));
        for (c, &a) in row.iter().enumerate() {
            placed[a] = ((r + offset).min(27)) * 28 + (c + offset).min(27);
        }
    }
    // Best symmetry, positions within one pixel.
    let mut best = (0, 0.0);
    for t in 0..8 {
        let ok = (0..m)
            .filter(|&a| {
                let (p, q) = (dihedral(placed[a], t), orig_of(a));
                (p / 28).abs_diff(q / 28) <= 1 && (p % 28).abs_diff(q % 28) <= 1
            })
            .count() as f64
            / m.max(1) as f64;
        if ok > best.1 {
            best = (t, ok);
        }
    }
    // Un-permute: each live permuted pixel goes to its recovered position (under the best symmetry);
    // constant pixels keep their constant value wherever they land.
    let mut recovered = Array2::<f64>::zeros((n, 784));
    for (a, &p) in placed.iter().enumerate() {
        let dest = dihedral(p, best.0);
        recovered.column_mut(dest).assign(&permuted.column(live[a]));
    }
    let report = PixelPermutationReport {
        images: n,
        informative_pixels: m,
        neighbours_found: found as f64 / total.max(1) as f64,
        positions_within_one: best.1,
        median_psnr_recovered: median(&psnr(recovered.view(), x.view(), 1.0)),
        median_psnr_permuted: median(&psnr(permuted.view(), x.view(), 1.0)),
        paper_log10_epsilon: crate::analysis::bounds::permutation(784, None, 0)?.log10_epsilon,
    };
    Ok(PixelPermutationOutput { report, permuted, recovered, originals: x })
}
