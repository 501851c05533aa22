//! Layout by matching whole correlation matrices (graph matching), for small images.
//!
//! At low resolution the nearest-neighbour objective of [`super::layout`] stops preferring the true layout
//! (on MNIST cropped to 24x24 and averaged 3x3, 8x8 pixels, a wrong layout scores 19.7 against the true
//! one's 17.3): averaged pixels correlate far beyond their neighbours, and the pattern of those correlations,
//! not just who is next to whom, is what places them. The attacker who already holds public digits (to
//! choose the square's orientation) has that pattern in the right frame: the public digits' pixel
//! correlations `T` (cell x cell). It places the permuted pixels so that their correlations `S` (item x item)
//! agree with it, maximizing `sum over items a != b of S[a,b] T[cell(a), cell(b)]` (a quadratic assignment:
//! `trace(S P T P^T)`). The objective is oriented, so the layout comes out in the public digits' frame with no
//! symmetry left to choose.
//!
//! The search: simulated annealing on pair swaps (an `O(m)` gain per move), from the neighbour method's layout
//! and from random restarts, each finished by pair swaps until none gains; the best objective wins. Cells
//! beyond the `m` items hold empty items whose correlation with anything is 0.

use crate::rng::Rng;
use rand::RngExt;
use rand::seq::SliceRandom;
use rayon::prelude::*;

/// The matching objective: item correlations `s` (m x m) against cell correlations `t` (n x n), n >= m.
#[derive(Debug, Clone)]
pub struct Match<'a> {
    s: &'a [f64],
    m: usize,
    t: &'a [f64],
    n: usize,
}

impl<'a> Match<'a> {
    /// `s` row-major m x m, `t` row-major n x n; both symmetric.
    pub fn new(s: &'a [f64], m: usize, t: &'a [f64], n: usize) -> Self {
        assert!(s.len() == m * m && t.len() == n * n && m <= n, "s is m x m, t is n x n, m <= n");
        Self { s, m, t, n }
    }

    #[inline]
    fn s(&self, a: usize, b: usize) -> f64 {
        if a >= self.m || b >= self.m { 0.0 } else { self.s[a * self.m + b] }
    }

    /// The objective at `pos` (cell of each of the n items, items >= m empty).
    pub fn energy(&self, pos: &[usize]) -> f64 {
        let mut e = 0.0;
        for a in 0..self.m {
            for b in 0..self.m {
                if a != b {
                    e += self.s[a * self.m + b] * self.t[pos[a] * self.n + pos[b]];
                }
            }
        }
        e
    }

    /// The objective's change when items `a` and `b` swap cells.
    #[inline]
    fn gain(&self, pos: &[usize], a: usize, b: usize) -> f64 {
        if a >= self.m && b >= self.m {
            return 0.0;
        }
        let (pa, pb) = (pos[a], pos[b]);
        let (ta, tb) = (&self.t[pa * self.n..(pa + 1) * self.n], &self.t[pb * self.n..(pb + 1) * self.n]);
        let mut g = 0.0;
        for (k, &pk) in pos.iter().enumerate().take(self.m) {
            if k == a || k == b {
                continue;
            }
            g += (self.s(a, k) - self.s(b, k)) * (tb[pk] - ta[pk]);
        }
        2.0 * g
    }

    /// Pair swaps until none gains (first improvement, sweeping all pairs).
    pub fn polish(&self, pos: &mut [usize]) {
        loop {
            let mut improved = false;
            for a in 0..self.n {
                for b in a + 1..self.n {
                    if self.gain(pos, a, b) > 1e-12 {
                        pos.swap(a, b);
                        improved = true;
                    }
                }
            }
            if !improved {
                return;
            }
        }
    }

    /// Simulated annealing from `pos` with `moves` random pair swaps, the temperature falling geometrically
    /// from `t0` to `t0 / 1000`; returns the best layout seen.
    pub fn anneal(&self, mut pos: Vec<usize>, rng: &mut Rng, moves: usize, t0: f64) -> Vec<usize> {
        let mut e = self.energy(&pos);
        let (mut best, mut best_e) = (pos.clone(), e);
        for k in 0..moves {
            let t = t0 * (1e-3f64).powf(k as f64 / moves as f64);
            let a = rng.random_range(0..self.m);
            let b = rng.random_range(0..self.n);
            if a == b {
                continue;
            }
            let g = self.gain(&pos, a, b);
            if g >= 0.0 || rng.random::<f64>() < (g / t).exp() {
                pos.swap(a, b);
                e += g;
                if e > best_e {
                    best_e = e;
                    best.copy_from_slice(&pos);
                }
            }
        }
        best
    }

    /// The typical size of a move's gain at `pos` (median absolute gain of 200 random swaps), to scale the
    /// annealing temperature.
    fn typical_gain(&self, pos: &[usize], rng: &mut Rng) -> f64 {
        let mut g: Vec<f64> =
            (0..200).map(|_| self.gain(pos, rng.random_range(0..self.m), rng.random_range(0..self.n)).abs()).collect();
        g.sort_by(f64::total_cmp);
        g[100].max(1e-9)
    }

    /// The search: annealing from `start` and from `restarts` random layouts (seeded by `rngs`, one per run),
    /// each polished; the layout with the highest objective and that objective.
    pub fn search(&self, start: &[usize], rngs: Vec<Rng>, moves: usize) -> (Vec<usize>, f64) {
        let runs: Vec<(Vec<usize>, f64)> = rngs
            .into_par_iter()
            .enumerate()
            .map(|(i, mut rng)| {
                let mut pos = start.to_vec();
                if i > 0 {
                    pos.shuffle(&mut rng);
                }
                let t0 = self.typical_gain(&pos, &mut rng) * if i == 0 { 0.3 } else { 1.0 };
                let mut pos = self.anneal(pos, &mut rng, moves, t0);
                self.polish(&mut pos);
                let e = self.energy(&pos);
                (pos, e)
            })
            .collect();
        let mut best = (start.to_vec(), self.energy(start));
        for (pos, e) in runs {
            if e > best.1 {
                best = (pos, e);
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_recovers_a_planted_layout() {
        // Cells on a 5x5 grid with correlation exp(-distance); items are the cells permuted. The search must
        // find the planted assignment up to the grid's symmetries (every symmetry gives the same objective).
        let side = 5;
        let n = side * side;
        let dist = |p: usize, q: usize| {
            let (dr, dc) = ((p / side) as f64 - (q / side) as f64, (p % side) as f64 - (q % side) as f64);
            (dr * dr + dc * dc).sqrt()
        };
        let t: Vec<f64> = (0..n * n).map(|k| if k / n == k % n { 0.0 } else { (-dist(k / n, k % n)).exp() }).collect();
        let mut truth: Vec<usize> = (0..n).collect();
        truth.shuffle(&mut crate::rng::stream(3, 0));
        let s: Vec<f64> = (0..n * n).map(|k| t[truth[k / n] * n + truth[k % n]]).collect();
        let o = Match::new(&s, n, &t, n);
        let start: Vec<usize> = (0..n).collect();
        let rngs = (0..6).map(|i| crate::rng::stream(7, i)).collect();
        let (pos, e) = o.search(&start, rngs, 100 * n * n);
        assert!((e - o.energy(&truth)).abs() < 1e-9, "found {e}, planted {}", o.energy(&truth));
        // Neighbours in the truth are neighbours in the layout found.
        for a in 0..n {
            for b in 0..n {
                if (dist(truth[a], truth[b]) - 1.0).abs() < 1e-9 {
                    assert!((dist(pos[a], pos[b]) - 1.0).abs() < 1e-9);
                }
            }
        }
    }
}
