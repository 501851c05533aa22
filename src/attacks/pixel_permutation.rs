//! Undoing a secret permutation of image features (Le Roux et al. 2007, "Learning the 2-D topology of
//! images"). Theorem 3.4 prices a random permutation of n values at 1/n!; applied to the pixels of every
//! image of a data set, the same permutation leaves the pixels' statistics intact: neighbouring pixels are
//! strongly correlated across images. The attacker computes the correlation of every pair of permuted
//! pixels, takes each pixel's most correlated partners as its neighbours, embeds the pixels in the plane
//! from geodesic distances in that neighbour graph (Isomap: edges weighted by -ln correlation, classical MDS),
//! and snaps the embedding to the 28 x 28 grid by optimal assignment (Hungarian) under the best rotation. It reports the fraction of true 4-neighbour pairs found and the images un-permuted.

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
    /// Median PSNR of the un-permuted images against the originals (dB). ORACLE: the images are shown in
    /// the symmetry of the square chosen with the true positions, which the attacker does not know.
    #[serde(rename = "oracle_median_psnr_recovered")]
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

/// Shortest path lengths from `src` (Dijkstra; edges with non-negative weights).
fn dijkstra(adj: &[Vec<(usize, f64)>], src: usize) -> Vec<f64> {
    use std::cmp::Ordering;
    #[derive(PartialEq)]
    struct Item(f64, usize);
    impl Eq for Item {}
    impl PartialOrd for Item {
        fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
            Some(self.cmp(o))
        }
    }
    impl Ord for Item {
        fn cmp(&self, o: &Self) -> Ordering {
            o.0.total_cmp(&self.0).then(o.1.cmp(&self.1))
        }
    }
    let mut dist = vec![f64::INFINITY; adj.len()];
    let mut heap = std::collections::BinaryHeap::new();
    dist[src] = 0.0;
    heap.push(Item(0.0, src));
    while let Some(Item(d, u)) = heap.pop() {
        if d > dist[u] {
            continue;
        }
        for &(v, w) in &adj[u] {
            let nd = d + w;
            if nd < dist[v] {
                dist[v] = nd;
                heap.push(Item(nd, v));
            }
        }
    }
    dist
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
    // Embed (Isomap): geodesic distances in the symmetrized graph of each pixel's 4 most correlated
    // partners, edges weighted by -ln(correlation), then classical MDS to the plane.
    let mut adj: Vec<Vec<(usize, f64)>> = vec![Vec::new(); m];
    for (a, top_a) in top.iter().enumerate() {
        for &b in top_a {
            let w = -corr[(a, b)].clamp(1e-6, 1.0).ln(); // >= 0, so Dijkstra applies
            if !adj[a].iter().any(|&(v, _)| v == b) {
                adj[a].push((b, w));
                adj[b].push((a, w));
            }
        }
    }
    let mut d2 = Array2::<f64>::from_elem((m, m), f64::NAN);
    let mut far = 0.0f64;
    for src in 0..m {
        let dist = dijkstra(&adj, src);
        for (t, &d) in dist.iter().enumerate() {
            if d.is_finite() {
                d2[(src, t)] = d * d;
                far = far.max(d);
            }
        }
    }
    // Pixels out of reach sit one diameter beyond.
    d2.mapv_inplace(|v| if v.is_nan() { (far * 1.1).powi(2) } else { v });
    let row_mean: Vec<f64> = (0..m).map(|a| d2.row(a).mean().unwrap_or(0.0)).collect();
    let all_mean = row_mean.iter().sum::<f64>() / m.max(1) as f64;
    let bmat = Array2::from_shape_fn((m, m), |(a, b)| -0.5 * (d2[(a, b)] - row_mean[a] - row_mean[b] + all_mean));
    let (vals, vecs) = sym_eigen(bmat.view())?;
    let mut pts: Vec<(f64, f64)> =
        (0..m).map(|a| (vecs[(a, 0)] * vals[0].max(0.0).sqrt(), vecs[(a, 1)] * vals[1].max(0.0).sqrt())).collect();
    // Scale: m pixels cover about a disc of area m, whose rms radius is sqrt(m / (2 pi)).
    let (cx, cy) = (pts.iter().map(|p| p.0).sum::<f64>() / m as f64, pts.iter().map(|p| p.1).sum::<f64>() / m as f64);
    let rms = (pts.iter().map(|p| (p.0 - cx).powi(2) + (p.1 - cy).powi(2)).sum::<f64>() / m as f64).sqrt().max(1e-12);
    let k = (m as f64 / (2.0 * std::f64::consts::PI)).sqrt() / rms;
    pts.iter_mut().for_each(|p| *p = ((p.0 - cx) * k, (p.1 - cy) * k));
    // Snap: for each rotation, the optimal assignment of pixels to distinct grid cells; keep the cheapest.
    let mut best_assign = (f64::INFINITY, vec![0usize; m]);
    for deg in (0..90).step_by(5) {
        let (c, s) = ((deg as f64).to_radians().cos(), (deg as f64).to_radians().sin());
        let cost = Array2::from_shape_fn((m, 784), |(a, cell)| {
            let (x, y) = (c * pts[a].0 - s * pts[a].1, s * pts[a].0 + c * pts[a].1);
            (x - ((cell % 28) as f64 - 13.5)).powi(2) + (y - ((cell / 28) as f64 - 13.5)).powi(2)
        });
        let assign = super::linking::hungarian(&cost);
        let total: f64 = assign.iter().enumerate().map(|(a, &cell)| cost[(a, cell)]).sum();
        if total < best_assign.0 {
            best_assign = (total, assign);
        }
    }
    let placed = best_assign.1; // live index -> recovered grid position (0..784)
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
