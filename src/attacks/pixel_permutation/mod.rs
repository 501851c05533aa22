//! Undoing a secret permutation of image features. Theorem 3.4 prices a random permutation of n values at
//! 1/n!; applied to the pixels of every image of a data set, the same permutation leaves the pixels'
//! statistics intact: neighbouring pixels are strongly dependent across images (Le Roux, Lamblin, Bengio et
//! al. 2007, "Learning the 2-D topology of images").
//!
//! The attack (what the attacker computes from the permuted images alone):
//! 1. partial correlations of the pixels (`-P_ab / sqrt(P_aa P_bb)`, `P` the inverse of the ridged correlation
//!    matrix): they are large for grid neighbours and near zero beyond, where plain correlations of thick
//!    pen strokes decay slowly;
//! 2. the layout as a quadratic assignment: place the pixels on the grid so that neighbours (4-neighbours
//!    weight 1, diagonal ones 1/2) have high partial correlation ([`super::layout`]): lattices grown from
//!    the most reliable pixels (non-zero in many images) under several diagonal weights and starting pixels,
//!    the one the objective prefers kept, then pair swaps, cyclic shifts of rectangles and annealing;
//! 3. the symmetry of the square and the translation (which no pixel statistic can tell) chosen by matching
//!    the recovered mean image to the mean of public digits (images after the attacked ones).
//!
//! Scores (the attacker never sees them): pixels placed exactly and within one of their place, after the
//! best of the 8 symmetries and translations up to 3 (absolute position is unknowable); the recovered
//! digits' PSNR under the attacker's own choice. The previous method (Isomap embedding + Hungarian snap) is
//! scored the same way beside it.

mod isomap;
mod matching;

use super::layout::{Layout, Objective, grow, with_empties};
use super::linalg::{covariance, sym_eigen, to_mat};
use super::metrics::{median, psnr};
use crate::error::{Error, Result, invalid};
use crate::models::Prepared;
use crate::rng::stream;
use faer::linalg::solvers::Solve;
use faer::{Mat, Side};
use isomap::isomap_layout;
use matching::match_layout;
use ndarray::{Array2, Axis};
use rand::seq::SliceRandom;
use rayon::prelude::*;
use serde::Serialize;

/// Settings.
#[derive(Debug, Clone)]
pub struct PixelPermutation {
    /// Images the attacker sees (permuted).
    pub images: usize,
    /// Seed of the secret permutation.
    pub seed: u64,
}

/// Ridge added to the correlation matrix before inverting it.
const RIDGE: f64 = 0.1;
/// Weight of diagonal neighbours in the objective.
const DIAGONAL: f64 = 0.5;
/// A pixel non-zero in at least this share of the images is "frequent".
const FREQUENT: f64 = 0.01;
/// Public digits the attacker averages to choose the symmetry (at most; at least [`MIN_PUBLIC`]).
const PUBLIC: usize = 1000;
/// Fewest public digits.
const MIN_PUBLIC: usize = 100;
/// Largest image side laid out (the rectangle shifts and the growth's score table grow as side^4).
const MAX_SIDE: usize = 32;
/// Largest translation scored and chosen.
const SHIFT: isize = 3;
/// Largest side refined by matching correlation matrices against the public digits' ([`super::layout_match`]).
const MATCH_MAX_SIDE: usize = 16;
/// Annealing runs of the matching search (one from the neighbour method's layout, the rest random).
const MATCH_RUNS: u64 = 6;
/// The matching layout replaces the neighbour method's only when its objective is higher by this share: below
/// it, the difference is within what the sampling noise of 1000 images' correlations moves (at 14x14 the
/// matching objective rates a layout with 11 rare pixels misplaced 0.06% above the true one, which the
/// neighbour method finds exactly).
const MATCH_MARGIN: f64 = 0.01;

/// How well one method recovered the layout.
#[derive(Debug, Clone, Serialize)]
pub struct LayoutScore {
    /// Informative pixels placed exactly (best symmetry and translation up to 3).
    pub exact: f64,
    /// Informative pixels placed within one of their place (same symmetry and translation).
    pub within_one: f64,
    /// Frequent pixels (non-zero in at least 1% of the images) placed exactly.
    pub exact_frequent: f64,
    /// Median PSNR of the recovered digits against the originals (dB, 100 = identical), under the symmetry
    /// and translation the attacker chose from public digits.
    pub median_psnr: f64,
    /// Recovered digits identical to their originals.
    pub pixel_perfect: f64,
    /// Whether the attacker's choice of symmetry and translation is the one that scores best.
    pub orientation_chosen_right: bool,
}

/// The report.
#[derive(Debug, Clone, Serialize)]
pub struct PixelPermutationReport {
    /// Images used.
    pub images: usize,
    /// Public digits the attacker averaged to choose the symmetry (the images after the attacked ones).
    pub public_images: usize,
    /// Pixels that vary across the images (the others carry no information and no harm).
    pub informative_pixels: usize,
    /// Informative pixels non-zero in at least 1% of the images.
    pub frequent_pixels: usize,
    /// True 4-neighbour pairs (among informative pixels) among each pixel's 4 most correlated (the Le Roux
    /// et al. metric).
    pub neighbours_found: f64,
    /// The same with partial correlations.
    pub neighbours_found_partial: f64,
    /// The layout found by the quadratic-assignment search.
    pub attack: LayoutScore,
    /// The previous method: Isomap embedding of the correlation graph, snapped to the grid.
    pub previous: LayoutScore,
    /// The attacker's objective at the layout found.
    pub objective_found: f64,
    /// The same objective at the true layout (a diagnostic: found >= true means the objective, not the
    /// search, limits the attack).
    pub objective_true: f64,
    /// Images of side up to 16: the matching objective (the permuted pixels' correlations against the public
    /// digits') at the layout found, and at the true layout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub match_objective_found: Option<f64>,
    /// See `match_objective_found`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub match_objective_true: Option<f64>,
    /// The matching objective at the neighbour method's layout (posed); the matching layout is kept when it
    /// beats this by more than 1%.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub match_objective_neighbour: Option<f64>,
    /// Whether the layout scored as `attack` is the matching one.
    pub matched: bool,
    /// Median PSNR of the permuted images, for comparison.
    pub median_psnr_permuted: f64,
    /// log10 of the paper's 1/n!.
    pub paper_log10_epsilon: f64,
}

/// What the attack produced (for figures).
#[derive(Debug, Clone)]
pub struct PixelPermutationOutput {
    /// Scores.
    pub report: PixelPermutationReport,
    /// Permuted images.
    pub permuted: Array2<f64>,
    /// Recovered images (the attack), in the attacker's chosen symmetry.
    pub recovered: Array2<f64>,
    /// Recovered images (the previous method).
    pub recovered_previous: Array2<f64>,
    /// Originals.
    pub originals: Array2<f64>,
}

/// One of the 8 symmetries of the `side` x `side` square, as (row, column).
fn dihedral(p: usize, t: usize, side: usize) -> (isize, isize) {
    let (r, c, e) = ((p / side) as isize, (p % side) as isize, side as isize - 1);
    match t {
        0 => (r, c),
        1 => (c, e - r),
        2 => (e - r, e - c),
        3 => (e - c, r),
        4 => (r, e - c),
        5 => (e - r, c),
        6 => (c, r),
        _ => (e - c, e - r),
    }
}

/// A symmetry and a translation.
type Pose = (usize, isize, isize);

/// Where `cell` lands under `pose`, if inside the grid.
fn posed(cell: usize, pose: Pose, side: usize) -> Option<usize> {
    let (r, c) = dihedral(cell, pose.0, side);
    let (r, c) = (r + pose.1, c + pose.2);
    let s = side as isize;
    (r >= 0 && c >= 0 && r < s && c < s).then(|| (r * s + c) as usize)
}

fn poses() -> impl Iterator<Item = Pose> {
    (0..8).flat_map(|t| (-SHIFT..=SHIFT).flat_map(move |dr| (-SHIFT..=SHIFT).map(move |dc| (t, dr, dc))))
}

/// What the attack knows: the permuted images' pixel statistics.
struct Stats {
    side: usize,
    /// Permuted columns that vary.
    live: Vec<usize>,
    /// Images in which each live column is non-zero.
    nonzero: Vec<usize>,
    /// Whether each live column is frequent (non-zero in at least [`FREQUENT`] of the images).
    frequent: Vec<bool>,
    /// Correlations of the live columns (m x m).
    corr: Array2<f64>,
    /// Partial correlations (m x m, row-major, zero diagonal).
    partial: Vec<f64>,
    /// Mean of each permuted column.
    mean: Vec<f64>,
}

fn stats(permuted: &Array2<f64>, side: usize) -> Result<Stats> {
    let (n, d) = permuted.dim();
    let cov = covariance(permuted.view());
    let sd: Vec<f64> = (0..d).map(|j| cov[(j, j)].max(0.0).sqrt()).collect();
    let live: Vec<usize> = (0..d).filter(|&j| sd[j] > 1e-9).collect();
    let m = live.len();
    if m < 4 {
        return Err(invalid(format!("only {m} pixels vary across the {n} images: nothing to lay out")));
    }
    let corr = Array2::from_shape_fn((m, m), |(a, b)| cov[(live[a], live[b])] / (sd[live[a]] * sd[live[b]]));
    let mut ridged = to_mat(corr.view());
    for a in 0..m {
        ridged[(a, a)] += RIDGE;
    }
    let llt = ridged
        .llt(Side::Lower)
        .map_err(|_| Error::Numerical("the ridged pixel correlation matrix is not positive definite".into()))?;
    let p = llt.solve(Mat::<f64>::identity(m, m));
    let mut partial = vec![0.0; m * m];
    for a in 0..m {
        for b in 0..m {
            if a != b {
                partial[a * m + b] = -p[(a, b)] / (p[(a, a)] * p[(b, b)]).sqrt();
            }
        }
    }
    let nonzero: Vec<usize> = live.iter().map(|&j| permuted.column(j).iter().filter(|&&v| v != 0.0).count()).collect();
    let frequent = nonzero.iter().map(|&k| k as f64 >= FREQUENT * n as f64).collect();
    let mean = (0..d).map(|j| permuted.column(j).mean().unwrap_or(0.0)).collect();
    Ok(Stats { side, live, nonzero, frequent, corr, partial, mean })
}

/// Share of true 4-neighbour pairs among each pixel's 4 most similar (by `sim`).
fn neighbours_found(m: usize, sim: impl Fn(usize, usize) -> f64, truth: &[usize], side: usize) -> f64 {
    let (mut found, mut total) = (0usize, 0usize);
    for a in 0..m {
        let mut idx: Vec<usize> = (0..m).filter(|&b| b != a).collect();
        idx.sort_by(|&p, &q| sim(a, q).total_cmp(&sim(a, p)));
        idx.truncate(4);
        for b in 0..m {
            let (p, q) = (truth[a], truth[b]);
            if (p / side).abs_diff(q / side) + (p % side).abs_diff(q % side) == 1 {
                total += 1;
                found += usize::from(idx.contains(&b));
            }
        }
    }
    found as f64 / total.max(1) as f64
}

/// The quadratic-assignment attack: live pixel -> grid cell, and the objective there.
fn qap_layout(st: &Stats, n: usize, seed: u64) -> (Vec<usize>, f64, Objective<'_>) {
    let (m, side) = (st.live.len(), st.side);
    let o = Objective::new(&st.partial, m, DIAGONAL);
    let tier: Vec<usize> = st
        .nonzero
        .iter()
        .map(|&k| [0.05, FREQUENT].iter().position(|&f| k as f64 >= f * n as f64).unwrap_or(2))
        .collect();
    // Lattices grown under several diagonal weights from the 3 most reliable pixels, each polished; the
    // objective picks one.
    let starts: Vec<(f64, usize)> =
        [0.3, 0.4, 0.5, 0.6, 0.7].iter().flat_map(|&w| (0..3).map(move |r| (w, r))).collect();
    let grown: Vec<(f64, Vec<usize>)> = starts
        .par_iter()
        .map(|&(w, rank)| {
            let cells = grow(&Objective::new(&st.partial, m, w), side, &tier, rank);
            let mut l = Layout::new(side, cells, &o);
            l.polish(&o, 2);
            (l.energy(&o), l.positions().to_vec())
        })
        .collect();
    let best = grown.iter().enumerate().max_by(|a, b| a.1.0.total_cmp(&b.1.0).then(b.0.cmp(&a.0))).map_or(0, |b| b.0);
    let mut cells = vec![0; side * side];
    grown[best].1.iter().enumerate().for_each(|(item, &c)| cells[c] = item);
    let mut l = Layout::new(side, cells, &o);
    l.polish_shifts(&o, 3);
    l.polish(&o, 2);
    l.anneal(&o, &mut stream(seed, 505), 20 * side * side * side * side, (0.03, 3e-4), 3);
    l.polish(&o, 3);
    let e = l.energy(&o);
    (l.positions()[..m].to_vec(), e, o)
}

/// The pose whose recovered mean image best matches the public mean (the attacker's choice).
fn choose_pose(st: &Stats, placed: &[usize], public_mean: &[f64]) -> Pose {
    let mut best = (f64::NEG_INFINITY, (0, 0, 0));
    for pose in poses() {
        let dot: f64 = (0..placed.len())
            .filter_map(|a| posed(placed[a], pose, st.side).map(|c| st.mean[st.live[a]] * public_mean[c]))
            .sum();
        if dot > best.0 {
            best = (dot, pose);
        }
    }
    best.1
}

/// The images with each live permuted column moved to its recovered cell under `pose`; cells that receive
/// none get the constant columns' values in order.
fn unpermute(permuted: &Array2<f64>, st: &Stats, placed: &[usize], pose: Pose) -> Array2<f64> {
    let (n, d) = permuted.dim();
    let mut out = Array2::<f64>::zeros((n, d));
    let mut filled = vec![false; d];
    for (a, &cell) in placed.iter().enumerate() {
        if let Some(c) = posed(cell, pose, st.side).filter(|&c| !filled[c]) {
            out.column_mut(c).assign(&permuted.column(st.live[a]));
            filled[c] = true;
        }
    }
    let mut live = vec![false; d];
    st.live.iter().for_each(|&j| live[j] = true);
    let constant = (0..d).filter(|&j| !live[j]);
    for (c, j) in (0..d).filter(|&c| !filled[c]).zip(constant) {
        out.column_mut(c).assign(&permuted.column(j));
    }
    out
}

/// Scores a layout (live pixel -> cell) against the truth (live pixel -> true cell).
fn score(
    st: &Stats,
    placed: &[usize],
    truth: &[usize],
    n: usize,
    (x, permuted, public_mean): (&Array2<f64>, &Array2<f64>, &[f64]),
    framed: bool,
) -> (LayoutScore, Array2<f64>) {
    let m = placed.len();
    let nf = st.frequent.iter().filter(|&&f| f).count().max(1);
    let mut best = ((0usize, 0usize, 0usize), (0, 0, 0));
    for pose in poses() {
        let (mut exact, mut near, mut exact_f) = (0, 0, 0);
        for a in 0..m {
            let (r, c) = dihedral(placed[a], pose.0, st.side);
            let (r, c) = (r + pose.1, c + pose.2);
            let (tr, tc) = ((truth[a] / st.side) as isize, (truth[a] % st.side) as isize);
            let hit = r == tr && c == tc;
            exact += usize::from(hit);
            exact_f += usize::from(hit && st.frequent[a]);
            near += usize::from((r - tr).abs() <= 1 && (c - tc).abs() <= 1);
        }
        if (exact, near) > (best.0.0, best.0.1) {
            best = ((exact, near, exact_f), pose);
        }
    }
    // A layout found in the public digits' frame needs no pose; otherwise the attacker picks one.
    let chosen = if framed { (0, 0, 0) } else { choose_pose(st, placed, public_mean) };
    let recovered = unpermute(permuted, st, placed, chosen);
    let ps = psnr(recovered.view(), x.view(), 1.0);
    let perfect = recovered.rows().into_iter().zip(x.rows()).filter(|(a, b)| a == b).count();
    let ((exact, near, exact_f), pose) = best;
    (
        LayoutScore {
            exact: exact as f64 / m as f64,
            within_one: near as f64 / m as f64,
            exact_frequent: exact_f as f64 / nf as f64,
            median_psnr: median(&ps),
            pixel_perfect: perfect as f64 / n as f64,
            orientation_chosen_right: chosen == pose,
        },
        recovered,
    )
}

/// Square images made smaller: the centred `crop` x `crop` square (all of it with `None`), then the mean of
/// each `pool` x `pool` block.
pub fn shrink(data: &Prepared, crop: Option<usize>, pool: usize) -> Result<Prepared> {
    let d = data.width();
    let side = (d as f64).sqrt().round() as usize;
    if side * side != d {
        return Err(invalid(format!("--crop and --pool need square images; these have {d} values each")));
    }
    let crop = crop.unwrap_or(side);
    if crop == 0 || crop > side {
        return Err(invalid(format!("--crop must be between 1 and the images' side {side}, got {crop}")));
    }
    if pool == 0 || !crop.is_multiple_of(pool) {
        return Err(invalid(format!("--pool must be at least 1 and divide the cropped side {crop}, got {pool}")));
    }
    if crop == side && pool == 1 {
        return Ok(data.clone());
    }
    let (off, out) = ((side - crop) / 2, crop / pool);
    let mut x = Vec::with_capacity(data.count * out * out);
    for i in 0..data.count {
        let img = &data.x[i * d..(i + 1) * d];
        for r in 0..out {
            for c in 0..out {
                let mut s = 0.0;
                for dr in 0..pool {
                    for dc in 0..pool {
                        s += img[(off + r * pool + dr) * side + off + c * pool + dc];
                    }
                }
                x.push(s / (pool * pool) as f64);
            }
        }
    }
    Ok(Prepared { count: data.count, x, labels: data.labels.clone() })
}

/// Runs the attack on the first `images` images of `data` (square images); the attacker's public digits are
/// the images after them (up to 1000, at least 100).
pub fn run(cfg: &PixelPermutation, data: &Prepared) -> Result<PixelPermutationOutput> {
    let d = data.width();
    let side = (d as f64).sqrt().round() as usize;
    if side * side != d || side < 3 {
        return Err(invalid(format!("pixel-permutation needs square images; these have {d} values each")));
    }
    if side > MAX_SIDE {
        return Err(invalid(format!(
            "pixel-permutation lays out images up to {MAX_SIDE}x{MAX_SIDE} (its search grows as the fourth power of the \
             side); these are {side}x{side}"
        )));
    }
    if data.count < 10 + MIN_PUBLIC || cfg.images < 10 || cfg.images > data.count - MIN_PUBLIC {
        return Err(invalid(format!(
            "--images must be between 10 and {} (the data's {} images less {MIN_PUBLIC} kept as the attacker's public digits)",
            data.count.saturating_sub(MIN_PUBLIC).max(10),
            data.count
        )));
    }
    let n = cfg.images;
    let x = Array2::from_shape_vec((n, d), data.x[..n * d].to_vec()).map_err(|e| invalid(e.to_string()))?;
    let public = PUBLIC.min(data.count - n);
    let public_mean: Vec<f64> =
        (0..d).map(|j| (n..n + public).map(|i| data.x[i * d + j]).sum::<f64>() / public as f64).collect();
    // The secret: permuted[:, j] = x[:, perm[j]].
    let mut perm: Vec<usize> = (0..d).collect();
    perm.shuffle(&mut stream(cfg.seed, 504));
    let permuted = x.select(Axis(1), &perm);
    let st = stats(&permuted, side)?;
    let m = st.live.len();
    let truth: Vec<usize> = st.live.iter().map(|&j| perm[j]).collect();
    crate::cancel::check()?;
    let (placed, objective_found, o) = qap_layout(&st, n, cfg.seed);
    crate::cancel::check()?;
    let objective_true = {
        let mut cells = vec![usize::MAX; d];
        truth.iter().enumerate().for_each(|(a, &c)| cells[c] = a);
        Layout::new(side, with_empties(cells, m), &o).energy(&o)
    };
    let previous_placed = isomap_layout(&st)?;
    let seen = (&x, &permuted, &public_mean[..]);
    // Small images: the neighbour method's layout, posed, refined by matching the public digits' correlations.
    let (mut framed, mut match_found, mut match_true, mut match_start) = (false, None, None, None);
    let placed = if side <= MATCH_MAX_SIDE {
        let m = match_layout(&st, &placed, &truth, &data.x[n * d..], public_mean.as_slice(), cfg.seed)?;
        crate::cancel::check()?;
        (match_found, match_true, match_start) = (Some(m.found), Some(m.truth), Some(m.start));
        if m.found > m.start + MATCH_MARGIN * m.start.abs() {
            framed = true;
            m.layout
        } else {
            placed
        }
    } else {
        placed
    };
    let (attack, recovered) = score(&st, &placed, &truth, n, seen, framed);
    let (previous, recovered_previous) = score(&st, &previous_placed, &truth, n, seen, false);
    let report = PixelPermutationReport {
        images: n,
        public_images: public,
        informative_pixels: m,
        frequent_pixels: st.frequent.iter().filter(|&&f| f).count(),
        neighbours_found: neighbours_found(m, |a, b| st.corr[(a, b)], &truth, side),
        neighbours_found_partial: neighbours_found(m, |a, b| st.partial[a * m + b], &truth, side),
        attack,
        previous,
        objective_found,
        objective_true,
        match_objective_found: match_found,
        match_objective_true: match_true,
        match_objective_neighbour: match_start,
        matched: framed,
        median_psnr_permuted: median(&psnr(permuted.view(), x.view(), 1.0)),
        paper_log10_epsilon: crate::analysis::bounds::permutation(d as u64, None, 0)?.log10_epsilon,
    };
    Ok(PixelPermutationOutput { report, permuted, recovered, recovered_previous, originals: x })
}
