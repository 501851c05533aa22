//! The maximum of each window on `[C, H, W]`, as a tree of pairwise maxima `max(a, b) = b + relu(a - b)`:
//! every backend computes it with the operations it already has. The window's `n = kh kw` elements are
//! stacked (a local relayout); each level compares the first `ceil(m/2)` of the `m` remaining with the last
//! `ceil(m/2)` (for odd `m` the middle one meets itself, which a maximum does not mind), so a window takes
//! `ceil(log2 n)` levels, each one call of relu and its derivative on all the batch's pairs at once.
//!
//! On shares that is one FSS comparison per pair and level under `mpc` (one round a level), and under RTAS
//! one call to the permutation helper a level: the helper sees the pairs' differences `a - b` of the whole
//! batch, randomly permuted (values without positions, as for any relu layer; it learns how far apart the
//! values within the windows are, not where they are). The backward pass routes each window's delta to its
//! maximum: one Beaver product with the kept derivative per level.

use super::At;
use super::avgpool::window;
use crate::error::{Result, invalid};
use crate::models::backend::{Backend, Input, Relayout, Saved};
use crate::protocol::functions::Activation;

fn stacked(m: usize, out: &[usize]) -> Vec<usize> {
    let mut s = vec![m];
    s.extend_from_slice(out);
    s
}

/// Forward: the tree of pairwise maxima; when training, each level's derivative `[a > b]` is kept.
pub fn forward<B: Backend>(be: &mut B, at: &At<'_>, x: Input<'_, B>, keep: bool) -> Result<(B::T, Saved<B>)> {
    let (g, _, n) = window(at)?;
    let x = x.tensor("a max pool")?;
    let input = B::shape(&x).to_vec();
    let mut out = vec![input[0]];
    out.extend_from_slice(&at.layer().output);
    let mut t = be.relayout(&x, &stacked(n, &out), &Relayout::Windows(g))?;
    let (mut m, mut levels) = (n, Vec::new());
    while m > 1 {
        let h = m.div_ceil(2);
        let a = be.relayout(&t, &stacked(h, &out), &Relayout::Take0(0, h))?;
        let b = be.relayout(&t, &stacked(h, &out), &Relayout::Take0(m - h, m))?;
        let diff = be.sub(&a, &b)?;
        let label = at.part(&format!("max{}", levels.len() + 1));
        let (r, kept) = be.activation(&diff, Activation::Relu, keep.then_some(Activation::ReluGrad), &label)?;
        t = be.add(&b, &r)?;
        levels.push((m, kept));
        m = h;
    }
    let y = be.reshape(&t, &out)?;
    if !keep {
        return Ok((y, Saved::Nothing));
    }
    let levels = levels
        .into_iter()
        .map(|(m, k)| k.map(|k| (m, k)).ok_or_else(|| invalid("a max pool kept no derivative")))
        .collect::<Result<Vec<_>>>()?;
    Ok((y, Saved::Tree(input, levels)))
}

/// Backward: each level's delta split between the pair by the kept `[a > b]`, down to the window elements,
/// then added back at their places in the input.
pub fn backward<B: Backend>(
    be: &mut B,
    at: &At<'_>,
    input: Vec<usize>,
    levels: Vec<(usize, B::T)>,
    d: B::T,
) -> Result<B::T> {
    let (g, _, _) = window(at)?;
    let out = B::shape(&d).to_vec();
    let mut d = be.reshape(&d, &stacked(1, &out))?;
    for (i, (m, kept)) in levels.into_iter().enumerate().rev() {
        let h = m.div_ceil(2);
        let da = be.times_derivative(d.clone(), &kept, Activation::ReluGrad, &at.part(&format!("back{}", i + 1)))?;
        let db = be.sub(&d, &da)?;
        let pa = be.relayout(&da, &stacked(m, &out), &Relayout::Place0(m, 0))?;
        let pb = be.relayout(&db, &stacked(m, &out), &Relayout::Place0(m, m - h))?;
        d = be.add(&pa, &pb)?;
    }
    be.relayout(&d, &input.clone(), &Relayout::Unwindows { input, g })
}
