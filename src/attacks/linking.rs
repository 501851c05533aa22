//! Linking (Section 3.3.1): the transformed table `Y = X A` (rows shuffled, columns mixed by a secret
//! Gaussian A) and an attacker who holds d' raw columns of m of its rows. The paper counts the attacker's
//! possible mappings, C(n, m) m!, and concludes linking is hopeless. The attack does not guess mappings: it
//! fits the linear map from Y to its d' columns on a few seed links (records it can tie by other means),
//! scores every (held row, transformed row) pair by the prediction error, solves the optimal assignment
//! (Hungarian algorithm), refits on the assignment and repeats.

use super::data::gaussian;
use super::linalg::{mm, ridge};
use crate::analysis::bounds;
use crate::error::{Result, invalid};
use crate::rng::stream;
use ndarray::{Array2, s};
use rand::seq::SliceRandom;
use serde::Serialize;

/// Settings.
#[derive(Debug, Clone)]
pub struct Linking {
    /// Rows of the transformed table.
    pub rows: usize,
    /// Columns of X.
    pub dim: usize,
    /// Outputs of A.
    pub outputs: usize,
    /// Rows the attacker holds.
    pub held: usize,
    /// Raw columns the attacker holds for them.
    pub columns: usize,
    /// Held rows it can already tie to their transformed rows.
    pub seeds: usize,
    /// Seed.
    pub seed: u64,
}

/// The report.
#[derive(Debug, Clone, Serialize)]
pub struct LinkingReport {
    /// Rows, held rows, held columns, seed links.
    pub rows: usize,
    /// Held rows.
    pub held: usize,
    /// Held columns d'.
    pub columns: usize,
    /// Seed links.
    pub seeds: usize,
    /// Share of the non-seed held rows linked to their true transformed row.
    pub linked: f64,
    /// The paper's log10 C(n, m) m!.
    pub paper_log10_mappings: f64,
}

/// Minimum-cost assignment of each of the `m` rows of `cost` (m <= n columns) to a distinct column.
pub fn hungarian(cost: &Array2<f64>) -> Vec<usize> {
    let (m, n) = cost.dim();
    // Non-finite costs would stall the potentials; treat them as prohibitive but finite.
    let big = cost.iter().filter(|v| v.is_finite()).fold(0.0f64, |a, &b| a.max(b.abs())) * 4.0 + 1.0;
    let cost = cost.mapv(|v| if v.is_finite() { v } else { big });
    let inf = f64::INFINITY;
    let (mut u, mut v) = (vec![0.0; m + 1], vec![0.0; n + 1]);
    let (mut p, mut way) = (vec![0usize; n + 1], vec![0usize; n + 1]);
    for i in 1..=m {
        p[0] = i;
        let mut j0 = 0;
        let mut minv = vec![inf; n + 1];
        let mut used = vec![false; n + 1];
        loop {
            used[j0] = true;
            let i0 = p[j0];
            let (mut delta, mut j1) = (inf, 0);
            for j in 1..=n {
                if !used[j] {
                    let cur = cost[(i0 - 1, j - 1)] - u[i0] - v[j];
                    if cur < minv[j] {
                        minv[j] = cur;
                        way[j] = j0;
                    }
                    if minv[j] < delta {
                        delta = minv[j];
                        j1 = j;
                    }
                }
            }
            for j in 0..=n {
                if used[j] {
                    u[p[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
            if p[j0] == 0 {
                break;
            }
        }
        loop {
            let j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
            if j0 == 0 {
                break;
            }
        }
    }
    let mut assign = vec![0usize; m];
    for j in 1..=n {
        if p[j] > 0 {
            assign[p[j] - 1] = j - 1;
        }
    }
    assign
}

/// Runs the attack on Gaussian data.
pub fn run(cfg: &Linking) -> Result<LinkingReport> {
    run_on(cfg, None)
}

/// Runs the attack on the first `cfg.rows` rows of `given` (a user's table; `cfg.dim` is then its own
/// dimension), or on Gaussian rows when `given` is `None`.
pub fn run_on(cfg: &Linking, given: Option<&crate::models::Prepared>) -> Result<LinkingReport> {
    let cfg = &Linking {
        dim: match given {
            Some(g) => g.x.len() / g.count.max(1),
            None => cfg.dim,
        },
        ..cfg.clone()
    };
    if cfg.held == 0 || cfg.held > cfg.rows || cfg.columns == 0 || cfg.columns > cfg.dim || cfg.seeds >= cfg.held {
        return Err(invalid("need 1 <= --held <= --rows, 1 <= --columns <= --dim and --seeds < --held"));
    }
    if cfg.outputs == 0 {
        return Err(invalid("--outputs must be at least 1 (the transformation publishes outputs columns)"));
    }
    super::metrics::check_elems("--rows x --dim", &[cfg.rows, cfg.dim])?;
    super::metrics::check_elems("--dim x --outputs", &[cfg.dim, cfg.outputs])?;
    super::metrics::check_elems("--rows x --outputs", &[cfg.rows, cfg.outputs])?;
    if cfg.rows > 3000 {
        return Err(invalid("--rows above 3000 makes the assignment too slow for this attack's O(m^2 n) solver"));
    }
    let mut rng = stream(cfg.seed, 508);
    let x = match given {
        Some(_) => super::data::rows(super::data::DataKind::File, cfg.rows, cfg.dim, given, cfg.seed)?,
        None => gaussian(cfg.rows, cfg.dim, &mut rng),
    };
    let a = gaussian(cfg.dim, cfg.outputs, &mut rng);
    let mut order: Vec<usize> = (0..cfg.rows).collect();
    order.shuffle(&mut rng); // transformed row j holds original row order[j]
    let y = mm(x.select(ndarray::Axis(0), &order).view(), a.view());
    let pos: Vec<usize> = {
        let mut p = vec![0; cfg.rows];
        for (j, &r) in order.iter().enumerate() {
            p[r] = j;
        }
        p
    };
    // The attacker: original rows 0..held, first `columns` columns; seeds: the first `seeds` of them.
    let held = x.slice(s![..cfg.held, ..cfg.columns]).to_owned();
    let mut links: Vec<(usize, usize)> = (0..cfg.seeds).map(|i| (i, pos[i])).collect();
    let mut assign = vec![usize::MAX; cfg.held];
    for _round in 0..4 {
        crate::cancel::check()?;
        let yl = Array2::from_shape_fn((links.len(), cfg.outputs), |(k, c)| y[(links[k].1, c)]);
        let xl = Array2::from_shape_fn((links.len(), cfg.columns), |(k, c)| held[(links[k].0, c)]);
        let b = ridge(yl.view(), xl.view(), 1e-6)?;
        let pred = mm(y.view(), b.view()); // every transformed row's predicted held columns
        let cost = Array2::from_shape_fn((cfg.held, cfg.rows), |(i, j)| {
            (0..cfg.columns).map(|c| (pred[(j, c)] - held[(i, c)]).powi(2)).sum::<f64>()
        });
        assign = hungarian(&cost);
        links = (0..cfg.held).map(|i| (i, assign[i])).collect();
    }
    let ok = (cfg.seeds..cfg.held).filter(|&i| assign[i] == pos[i]).count();
    Ok(LinkingReport {
        rows: cfg.rows,
        held: cfg.held,
        columns: cfg.columns,
        seeds: cfg.seeds,
        linked: ok as f64 / (cfg.held - cfg.seeds).max(1) as f64,
        paper_log10_mappings: bounds::linking(cfg.rows as u64, cfg.held as u64)?.log10_mappings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hungarian_finds_the_optimum_of_a_small_case() {
        let c = ndarray::arr2(&[[4.0, 1.0, 3.0], [2.0, 0.0, 5.0], [3.0, 2.0, 2.0]]);
        assert_eq!(hungarian(&c), vec![1, 0, 2]); // 1 + 2 + 2 = 5
        let rect = ndarray::arr2(&[[9.0, 1.0, 9.0, 9.0], [1.0, 9.0, 9.0, 9.0]]);
        assert_eq!(hungarian(&rect), vec![1, 0]);
    }
}
