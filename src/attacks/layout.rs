//! Layout search: place `m` items (pixels) on the cells of a `side` x `side` grid so that grid neighbours are
//! similar, i.e. maximize `sum over neighbouring cells (a, b) of w(b - a) S[item(a), item(b)]`, a quadratic
//! assignment problem. Cells left over hold "empty" items (index >= m) whose similarity to anything is 0.
//!
//! The search is what a patient attacker would run: grow a lattice from one reliable item, placing at each
//! step the (item, cell) pair most similar to the cell's placed neighbours ([`grow`]); then improve by pair
//! swaps ([`Layout::polish`]), cyclic shifts of rectangles, which mend the dislocations that swaps cannot
//! ([`Layout::polish_shifts`]), and annealing ([`Layout::anneal`]). Every step is driven by the objective alone
//! ([`Layout::energy`]), which the attacker can compute; nothing here sees a true position.

use crate::rng::Rng;
use rand::RngExt;

/// The objective: a symmetric similarity `s` (`m` x `m`, row-major) and weights by neighbour offset.
#[derive(Debug, Clone)]
pub struct Objective<'a> {
    s: &'a [f64],
    m: usize,
    stencil: Vec<(isize, isize, f64)>,
}

impl<'a> Objective<'a> {
    /// The 4 nearest neighbours with weight 1 and the 4 diagonal ones with `diagonal`.
    pub fn new(s: &'a [f64], m: usize, diagonal: f64) -> Objective<'a> {
        assert_eq!(s.len(), m * m, "similarity matrix is m x m");
        let mut stencil = vec![(-1, 0, 1.0), (1, 0, 1.0), (0, -1, 1.0), (0, 1, 1.0)];
        if diagonal != 0.0 {
            stencil.extend([(-1, -1, diagonal), (-1, 1, diagonal), (1, -1, diagonal), (1, 1, diagonal)]);
        }
        Objective { s, m, stencil }
    }

    /// Items (the rest of the cells are empty).
    pub fn items(&self) -> usize {
        self.m
    }

    #[inline]
    fn sim(&self, a: usize, b: usize) -> f64 {
        if a >= self.m || b >= self.m { 0.0 } else { self.s[a * self.m + b] }
    }
}

/// Items on a grid: `cell[c]` is the item in cell `c` (>= m: empty), `pos` its inverse.
#[derive(Debug, Clone)]
pub struct Layout {
    side: usize,
    cell: Vec<usize>,
    pos: Vec<usize>,
    nb: Vec<Vec<(usize, f64)>>,
}

impl Layout {
    /// A layout of `cell` (a permutation of 0..side^2) under the objective's neighbour weights.
    pub fn new(side: usize, cell: Vec<usize>, o: &Objective<'_>) -> Layout {
        let n = side * side;
        assert_eq!(cell.len(), n, "one item per cell");
        let mut pos = vec![0; n];
        for (c, &p) in cell.iter().enumerate() {
            pos[p] = c;
        }
        let nb = (0..n)
            .map(|c| {
                let (r, q) = ((c / side) as isize, (c % side) as isize);
                o.stencil
                    .iter()
                    .filter_map(|&(dr, dc, w)| {
                        let (r2, q2) = (r + dr, q + dc);
                        let inside = r2 >= 0 && q2 >= 0 && r2 < side as isize && q2 < side as isize;
                        inside.then(|| (r2 as usize * side + q2 as usize, w))
                    })
                    .collect()
            })
            .collect();
        Layout { side, cell, pos, nb }
    }

    /// The cell of each item (items `0..m` first, then the empty ones).
    pub fn positions(&self) -> &[usize] {
        &self.pos
    }

    /// The objective's value.
    pub fn energy(&self, o: &Objective<'_>) -> f64 {
        let mut e = 0.0;
        for c in 0..self.cell.len() {
            for &(d, w) in &self.nb[c] {
                e += w * o.sim(self.cell[c], self.cell[d]);
            }
        }
        e / 2.0
    }

    /// The change of the objective if cells `a` and `b` exchange their items.
    #[inline]
    fn swap_gain(&self, o: &Objective<'_>, a: usize, b: usize) -> f64 {
        let (pa, pb) = (self.cell[a], self.cell[b]);
        if pa >= o.m && pb >= o.m {
            return 0.0;
        }
        let mut g = 0.0;
        for &(d, w) in &self.nb[a] {
            if d != b {
                let x = self.cell[d];
                g += w * (o.sim(pb, x) - o.sim(pa, x));
            }
        }
        for &(d, w) in &self.nb[b] {
            if d != a {
                let x = self.cell[d];
                g += w * (o.sim(pa, x) - o.sim(pb, x));
            }
        }
        g
    }

    fn swap(&mut self, a: usize, b: usize) {
        self.cell.swap(a, b);
        self.pos[self.cell[a]] = a;
        self.pos[self.cell[b]] = b;
    }

    /// Exchanges of cells at most `radius` apart (in both coordinates), each taken when it gains, until
    /// none does. Returns the exchanges made.
    pub fn polish(&mut self, o: &Objective<'_>, radius: usize) -> usize {
        let (side, rad) = (self.side as isize, radius as isize);
        let mut made = 0;
        loop {
            let before = made;
            if crate::cancel::requested() {
                return made;
            }
            for a in 0..self.cell.len() {
                let (r, q) = ((a / self.side) as isize, (a % self.side) as isize);
                for r2 in (r - rad).max(0)..=(r + rad).min(side - 1) {
                    for q2 in (q - rad).max(0)..=(q + rad).min(side - 1) {
                        let b = (r2 * side + q2) as usize;
                        if b > a && self.swap_gain(o, a, b) > 1e-12 {
                            self.swap(a, b);
                            made += 1;
                        }
                    }
                }
            }
            if made == before {
                return made;
            }
        }
    }

    /// The cell whose item lands in `p` when the rectangle rows `r0..=r1`, columns `c0..=c1` shifts cyclically
    /// by one: `dir` 0 down, 1 up, 2 right, 3 left.
    #[inline]
    fn source(&self, p: usize, rect: (usize, usize, usize, usize), dir: u8) -> usize {
        let (r0, r1, c0, c1) = rect;
        let (r, c) = (p / self.side, p % self.side);
        if r < r0 || r > r1 || c < c0 || c > c1 {
            return p;
        }
        let (r, c) = match dir {
            0 => (if r == r0 { r1 } else { r - 1 }, c),
            1 => (if r == r1 { r0 } else { r + 1 }, c),
            2 => (r, if c == c0 { c1 } else { c - 1 }),
            _ => (r, if c == c1 { c0 } else { c + 1 }),
        };
        r * self.side + c
    }

    /// The change of the objective under a cyclic shift of a rectangle.
    fn shift_gain(&self, o: &Objective<'_>, rect: (usize, usize, usize, usize), dir: u8) -> f64 {
        let (r0, r1, c0, c1) = rect;
        let inside = |p: usize| (r0..=r1).contains(&(p / self.side)) && (c0..=c1).contains(&(p % self.side));
        let mut g = 0.0;
        for r in r0..=r1 {
            for c in c0..=c1 {
                let p = r * self.side + c;
                let (a0, a1) = (self.cell[p], self.cell[self.source(p, rect, dir)]);
                for &(q, w) in &self.nb[p] {
                    if inside(q) && q < p {
                        continue; // counted from q
                    }
                    let (b0, b1) = (self.cell[q], self.cell[self.source(q, rect, dir)]);
                    g += w * (o.sim(a1, b1) - o.sim(a0, b0));
                }
            }
        }
        g
    }

    fn shift(&mut self, rect: (usize, usize, usize, usize), dir: u8) {
        let (r0, r1, c0, c1) = rect;
        let old = self.cell.clone();
        for r in r0..=r1 {
            for c in c0..=c1 {
                let p = r * self.side + c;
                self.cell[p] = old[self.source(p, rect, dir)];
                self.pos[self.cell[p]] = p;
            }
        }
    }

    /// Cyclic shifts of every rectangle in the four directions, each taken when it gains, for at most
    /// `passes` passes (fewer when a pass makes none). Returns the shifts made.
    pub fn polish_shifts(&mut self, o: &Objective<'_>, passes: usize) -> usize {
        let n = self.side;
        let mut made = 0;
        for _ in 0..passes {
            let before = made;
            for r0 in 0..n {
                // A stop request ends the search with the layout so far (the caller checks and returns).
                if crate::cancel::requested() {
                    return made;
                }
                for r1 in r0..n {
                    for c0 in 0..n {
                        for c1 in c0..n {
                            for dir in 0..4u8 {
                                if (dir < 2 && r1 == r0) || (dir >= 2 && c1 == c0) {
                                    continue;
                                }
                                if self.shift_gain(o, (r0, r1, c0, c1), dir) > 1e-9 {
                                    self.shift((r0, r1, c0, c1), dir);
                                    made += 1;
                                }
                            }
                        }
                    }
                }
            }
            if made == before {
                break;
            }
        }
        made
    }

    /// Simulated annealing: `moves` proposed exchanges of cells at most `radius` apart, accepted by the
    /// Metropolis rule at a temperature falling geometrically from `t0` to `t1`.
    pub fn anneal(&mut self, o: &Objective<'_>, rng: &mut Rng, moves: usize, temps: (f64, f64), radius: usize) {
        let (t0, t1) = temps;
        let (side, n, rad) = (self.side as i64, self.cell.len(), radius as i64);
        for k in 0..moves {
            // A stop request ends the search with the layout so far (the caller checks and returns).
            if k % 4096 == 0 && crate::cancel::requested() {
                return;
            }
            let t = t0 * (t1 / t0).powf(k as f64 / moves as f64);
            let a = rng.random_range(0..n);
            let (r, q) = ((a / self.side) as i64, (a % self.side) as i64);
            let r2 = r + rng.random_range(0..=2 * rad) - rad;
            let q2 = q + rng.random_range(0..=2 * rad) - rad;
            if r2 < 0 || q2 < 0 || r2 >= side || q2 >= side {
                continue;
            }
            let b = (r2 * side + q2) as usize;
            if a == b {
                continue;
            }
            let g = self.swap_gain(o, a, b);
            if g >= 0.0 || rng.random::<f64>() < (g / t).exp() {
                self.swap(a, b);
            }
        }
    }
}

/// Grows a lattice on a free canvas from the `rank`-th most reliable item of tier 0 (the one whose 4 best
/// partners are most similar), placing at each step the (item, cell) pair with the highest weighted
/// similarity to the cell's placed neighbours. Items of tier `t` are placed only once every item of lower
/// tiers is (reliable items first: their similarities can be trusted). The lattice is then moved into the
/// `side` x `side` grid at the offset that keeps the most items; the rest go to the nearest free cells.
/// Returns `cell` (as [`Layout::new`] takes it).
pub fn grow(o: &Objective<'_>, side: usize, tier: &[usize], rank: usize) -> Vec<usize> {
    let m = o.m;
    assert_eq!(tier.len(), m, "one tier per item");
    let n = side * side;
    assert!(m <= n, "more items than cells");
    if m == 0 {
        return (0..n).collect();
    }
    let g = 2 * side + 1;
    let gn = g * g;
    let mut score = vec![0.0f64; m * gn];
    let mut at = vec![usize::MAX; m];
    let mut occupied = vec![false; gn];
    let mut frontier: Vec<usize> = Vec::new();
    let mut in_frontier = vec![false; gn];
    let top4 = |a: usize| {
        let mut v: Vec<f64> = (0..m).filter(|&b| b != a).map(|b| o.s[a * m + b]).collect();
        v.sort_by(|x, y| y.total_cmp(x));
        v.iter().take(4).sum::<f64>()
    };
    let lowest = tier.iter().copied().min().unwrap_or(0);
    let mut cands: Vec<(f64, usize)> = (0..m).filter(|&a| tier[a] == lowest).map(|a| (top4(a), a)).collect();
    cands.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
    let first = cands[rank.min(cands.len() - 1)].1;
    let place = |p: usize,
                 c: usize,
                 at: &mut Vec<usize>,
                 occupied: &mut Vec<bool>,
                 score: &mut Vec<f64>,
                 frontier: &mut Vec<usize>,
                 in_frontier: &mut Vec<bool>| {
        at[p] = c;
        occupied[c] = true;
        frontier.retain(|&f| f != c);
        let (r, q) = ((c / g) as isize, (c % g) as isize);
        for &(dr, dc, w) in &o.stencil {
            let (r2, q2) = (r + dr, q + dc);
            if r2 < 0 || q2 < 0 || r2 >= g as isize || q2 >= g as isize {
                continue;
            }
            let d = r2 as usize * g + q2 as usize;
            if occupied[d] {
                continue;
            }
            for x in 0..m {
                score[x * gn + d] += w * o.s[x * m + p];
            }
            if !in_frontier[d] {
                in_frontier[d] = true;
                frontier.push(d);
            }
        }
    };
    place(first, (g / 2) * g + g / 2, &mut at, &mut occupied, &mut score, &mut frontier, &mut in_frontier);
    let tiers = tier.iter().copied().max().unwrap_or(0) + 1;
    let mut left = vec![0usize; tiers];
    tier.iter().for_each(|&t| left[t] += 1);
    left[tier[first]] -= 1;
    let mut cur = 0;
    for _ in 1..m {
        while cur < tiers && left[cur] == 0 {
            cur += 1;
        }
        let mut best = (f64::NEG_INFINITY, usize::MAX, usize::MAX);
        for &c in &frontier {
            for x in 0..m {
                if at[x] == usize::MAX && tier[x] <= cur && score[x * gn + c] > best.0 {
                    best = (score[x * gn + c], x, c);
                }
            }
        }
        let (_, x, c) = best;
        if x == usize::MAX {
            break; // the canvas is full (cannot happen: it has more than 4 m cells)
        }
        left[tier[x]] -= 1;
        place(x, c, &mut at, &mut occupied, &mut score, &mut frontier, &mut in_frontier);
    }
    fit(&at, g, side)
}

/// Moves items at canvas cells (`g` wide; `usize::MAX`: not placed) into a `side` x `side` grid.
fn fit(at: &[usize], g: usize, side: usize) -> Vec<usize> {
    let m = at.len();
    let placed: Vec<(isize, isize)> =
        at.iter().filter(|&&c| c != usize::MAX).map(|&c| ((c / g) as isize, (c % g) as isize)).collect();
    let (rmin, rmax) = placed.iter().fold((isize::MAX, isize::MIN), |(a, b), p| (a.min(p.0), b.max(p.0)));
    let (cmin, cmax) = placed.iter().fold((isize::MAX, isize::MIN), |(a, b), p| (a.min(p.1), b.max(p.1)));
    let s = side as isize;
    let inside = |r: isize, c: isize| r >= 0 && c >= 0 && r < s && c < s;
    let mut best = (0usize, 0isize, 0isize);
    let (ra, rb) = ((rmax - s + 1).min(rmin), (rmax - s + 1).max(rmin));
    let (ca, cb) = ((cmax - s + 1).min(cmin), (cmax - s + 1).max(cmin));
    for or in ra..=rb {
        for oc in ca..=cb {
            let k = placed.iter().filter(|p| inside(p.0 - or, p.1 - oc)).count();
            if k > best.0 {
                best = (k, or, oc);
            }
        }
    }
    let (_, or, oc) = best;
    let n = side * side;
    let mut cell = vec![usize::MAX; n];
    let mut out = Vec::new();
    for (p, &c) in at.iter().enumerate() {
        let (r, q) = if c == usize::MAX { (s / 2, s / 2) } else { ((c / g) as isize - or, (c % g) as isize - oc) };
        if inside(r, q) && cell[(r * s + q) as usize] == usize::MAX {
            cell[(r * s + q) as usize] = p;
        } else {
            out.push((p, r, q));
        }
    }
    for (p, r, q) in out {
        if let Some(c) = (0..n)
            .filter(|&c| cell[c] == usize::MAX)
            .min_by_key(|&c| ((c / side) as isize - r).pow(2) + ((c % side) as isize - q).pow(2))
        {
            cell[c] = p;
        }
    }
    with_empties(cell, m)
}

/// A grid of `m` items (`usize::MAX` marking cells without one) with the free cells given the empty items
/// `m, m + 1, ...`, as [`Layout::new`] takes it.
pub fn with_empties(mut cell: Vec<usize>, m: usize) -> Vec<usize> {
    for (empty, c) in (m..).zip(cell.iter_mut().filter(|c| **c == usize::MAX)) {
        *c = empty;
    }
    cell
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A similarity that is 1 between 4-neighbours of a hidden layout, 0.3 between diagonal neighbours and 0
    /// otherwise.
    fn planted(side: usize, m: usize, seed: u64) -> (Vec<f64>, Vec<usize>) {
        use rand::seq::SliceRandom;
        let mut truth: Vec<usize> = (0..side * side).collect(); // item -> cell
        truth.shuffle(&mut crate::rng::stream(seed, 0));
        let mut s = vec![0.0; m * m];
        for a in 0..m {
            for b in 0..m {
                let (p, q) = (truth[a], truth[b]);
                let (dr, dc) = ((p / side).abs_diff(q / side), (p % side).abs_diff(q % side));
                s[a * m + b] = match (dr, dc) {
                    (0, 1) | (1, 0) => 1.0,
                    (1, 1) => 0.3,
                    _ => 0.0,
                };
            }
        }
        (s, truth)
    }

    #[test]
    fn swaps_and_shift_gains_match_the_change_of_energy() {
        let (s, _) = planted(7, 40, 1);
        let o = Objective::new(&s, 40, 0.4);
        let mut cell: Vec<usize> = (0..49).collect();
        use rand::seq::SliceRandom;
        let mut rng = crate::rng::stream(2, 0);
        cell.shuffle(&mut rng);
        let mut l = Layout::new(7, cell, &o);
        for k in 0..200u64 {
            let e0 = l.energy(&o);
            if k % 2 == 0 {
                let (a, b) = (rng.random_range(0..49), rng.random_range(0..49));
                let g = if a == b { 0.0 } else { l.swap_gain(&o, a, b) };
                l.swap(a, b);
                assert!((l.energy(&o) - e0 - g).abs() < 1e-9);
            } else {
                let (r0, c0) = (rng.random_range(0..6), rng.random_range(0..6));
                let rect = (r0, rng.random_range(r0 + 1..7), c0, rng.random_range(c0 + 1..7));
                let dir = rng.random_range(0..4u8);
                let g = l.shift_gain(&o, rect, dir);
                l.shift(rect, dir);
                assert!((l.energy(&o) - e0 - g).abs() < 1e-9, "shift {rect:?} {dir}");
            }
            assert!((0..49).all(|c| l.pos[l.cell[c]] == c));
        }
    }

    #[test]
    fn a_planted_grid_is_found_exactly_up_to_symmetry() {
        let side = 9;
        let (s, truth) = planted(side, side * side, 3);
        let o = Objective::new(&s, side * side, 0.5);
        let mut l = Layout::new(side, grow(&o, side, &vec![0; side * side], 0), &o);
        l.polish(&o, 2);
        l.polish_shifts(&o, 3);
        // Only the hidden grid (up to its 8 symmetries) makes every one of its 2 side (side - 1) neighbour
        // pairs neighbours again (and its 2 (side - 1)^2 diagonal pairs).
        let best = (2 * side * (side - 1)) as f64 + 0.5 * 0.3 * (2 * (side - 1) * (side - 1)) as f64;
        assert!((l.energy(&o) - best).abs() < 1e-9, "{} vs {best}", l.energy(&o));
        let back: Vec<usize> = (0..side * side).map(|a| l.pos[a]).collect();
        let d = |p: usize, q: usize| (p / side).abs_diff(q / side) + (p % side).abs_diff(q % side);
        for a in 0..side * side {
            for b in 0..side * side {
                assert_eq!(d(truth[a], truth[b]) == 1, d(back[a], back[b]) == 1);
            }
        }
    }
}
