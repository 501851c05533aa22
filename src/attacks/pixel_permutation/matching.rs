//! Small images: the neighbour layout refined by matching correlation matrices against the public digits'
//! ([`crate::attacks::layout_match`]).

use super::*;
use crate::attacks::layout_match::Match;

/// A matching layout and its objective, beside the objective at its start and at the true layout.
pub(super) struct Matched {
    pub layout: Vec<usize>,
    pub found: f64,
    pub start: f64,
    pub truth: f64,
}

/// The matching refinement for small images: the public digits' pixel correlations as the target, the
/// neighbour layout (under the pose the public mean picks) and random layouts as starts. Returns the layout
/// (live pixel -> cell, in the public frame) and the objectives.
pub(super) fn match_layout(
    st: &Stats,
    placed: &[usize],
    truth: &[usize],
    public: &[f64],
    public_mean: &[f64],
    seed: u64,
) -> Result<Matched> {
    let (side, m) = (st.side, st.live.len());
    let n = side * side;
    let pub_x = Array2::from_shape_vec((public.len() / n, n), public.to_vec()).map_err(|e| invalid(e.to_string()))?;
    let cov = covariance(pub_x.view());
    let sd: Vec<f64> = (0..n).map(|j| cov[(j, j)].max(0.0).sqrt()).collect();
    let t: Vec<f64> = (0..n * n)
        .map(|k| {
            let (p, q) = (k / n, k % n);
            if p == q || sd[p] < 1e-9 || sd[q] < 1e-9 { 0.0 } else { cov[(p, q)] / (sd[p] * sd[q]) }
        })
        .collect();
    let s: Vec<f64> = (0..m * m).map(|k| if k / m == k % m { 0.0 } else { st.corr[(k / m, k % m)] }).collect();
    let o = Match::new(&s, m, &t, n);
    // The start: the neighbour layout under the attacker's pose; pixels the pose pushes off the grid and the
    // empty items take the free cells in order.
    let pose = choose_pose(st, placed, public_mean);
    let mut taken = vec![false; n];
    let mut pos = vec![usize::MAX; n];
    for a in 0..m {
        if let Some(c) = posed(placed[a], pose, side).filter(|&c| !taken[c]) {
            pos[a] = c;
            taken[c] = true;
        }
    }
    let mut free = (0..n).filter(|&c| !taken[c]);
    for p in pos.iter_mut().filter(|p| **p == usize::MAX) {
        *p = free.next().ok_or_else(|| invalid("no free cell"))?;
    }
    let rngs = (0..MATCH_RUNS).map(|i| stream(seed, 600 + i)).collect();
    let (found, e) = o.search(&pos, rngs, 100 * n * n);
    let mut true_pos: Vec<usize> = truth.to_vec();
    let mut free = (0..n).filter(|c| !truth.contains(c));
    true_pos.extend((m..n).map(|_| free.next().unwrap_or(0)));
    Ok(Matched { layout: found[..m].to_vec(), found: e, start: o.energy(&pos), truth: o.energy(&true_pos) })
}
