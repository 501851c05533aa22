//! The f64 path for the ring product, the trick CrypTen uses on GPUs: exact 64-bit wrapping products from
//! floating-point GEMMs, for hosts whose integer vector multiplies are slow.
//!
//! Each element is split into three signed limbs, `a = a0 + a1 2^22 + a2 2^44 (mod 2^64)` with
//! `|a0|, |a1| <= 2^21` and `|a2| <= 2^19`. A limb product is at most `2^42`; limb pairs whose shift reaches
//! `2^66` vanish mod 2^64, so six GEMMs remain, grouped by shift: `A0 B0`; `A0 B1 + A1 B0`;
//! `A0 B2 + A1 B1 + A2 B0`. Summed over a depth block of at most 512, a group is below `3 * 512 * 2^42 =
//! 1.5 * 2^51 < 2^53`: every partial sum is an integer that f64 holds exactly, whatever the order of summation,
//! so the result does not depend on the GEMM's blocking or the thread count. Each group's integer result is
//! shifted and added mod 2^64.
//!
//! Work is done per block of rows (A's limbs for 128 rows at a time, B's limbs once), in parallel with rayon.

use rayon::prelude::*;

/// Bits per limb (the top limb holds the remaining 20).
const LIMB: u32 = 22;
/// Depth per exact block: 3 * DEPTH * 2^42 < 2^53.
const DEPTH: usize = 512;
/// Rows of A per parallel block.
const ROWS: usize = 128;

/// The three signed limbs of `v`.
#[inline(always)]
fn split(v: u64) -> [f64; 3] {
    let a0 = ((v << (64 - LIMB)) as i64) >> (64 - LIMB);
    let r = v.wrapping_sub(a0 as u64) >> LIMB;
    let a1 = ((r << (64 - LIMB)) as i64) >> (64 - LIMB);
    let r2 = r.wrapping_sub(a1 as u64) << LIMB; // multiple of 2^44 (the top bits of v - a0 - a1 2^22)
    let a2 = (r2 as i64) >> (2 * LIMB);
    [a0 as f64, a1 as f64, a2 as f64]
}

/// Rows `r0..r0 + rows`, depth `p0..p0 + kc` of row-major `a` (`k` columns) as one row-major f64 block of
/// `rows x 3kc`: each row holds its limbs 0, 1, 2 side by side (`[A0 | A1 | A2]`), so that the first `kc`,
/// `2kc` and `3kc` columns are the left operands of the three grouped GEMMs.
fn limb_rows(a: &[u64], k: usize, r0: usize, rows: usize, p0: usize, kc: usize, out: &mut Vec<f64>) {
    out.resize(rows * 3 * kc, 0.0);
    for i in 0..rows {
        let src = &a[(r0 + i) * k + p0..(r0 + i) * k + p0 + kc];
        let dst = &mut out[i * 3 * kc..(i + 1) * 3 * kc];
        let (d0, rest) = dst.split_at_mut(kc);
        let (d1, d2) = rest.split_at_mut(kc);
        for (p, &v) in src.iter().enumerate() {
            let [x0, x1, x2] = split(v);
            d0[p] = x0;
            d1[p] = x1;
            d2[p] = x2;
        }
    }
}

/// Depth `p0..p0 + kc` of row-major `b` (`n` columns) as the right operands of the grouped GEMMs: `B0`,
/// `[B1; B0]` and `[B2; B1; B0]` (row-major, `kc`, `2kc`, `3kc` rows).
fn limb_stacks(b: &[u64], n: usize, p0: usize, kc: usize) -> [Vec<f64>; 3] {
    let mut l: [Vec<f64>; 3] = [vec![0.0; kc * n], vec![0.0; kc * n], vec![0.0; kc * n]];
    for p in 0..kc {
        for (j, &v) in b[(p0 + p) * n..(p0 + p + 1) * n].iter().enumerate() {
            let x = split(v);
            for (limb, xv) in l.iter_mut().zip(x) {
                limb[p * n + j] = xv;
            }
        }
    }
    let s0 = l[0].clone();
    let s1 = [l[1].as_slice(), l[0].as_slice()].concat();
    let s2 = [l[2].as_slice(), l[1].as_slice(), l[0].as_slice()].concat();
    [s0, s1, s2]
}

/// `a * b` in Z_2^64 (wrapping): per depth block, three f64 GEMMs (the six limb products grouped by shift,
/// each group one GEMM over a concatenated depth). Inputs are standard-layout slices (`m x k`, `k x n`).
pub(super) fn matmul(a: &[u64], b: &[u64], m: usize, k: usize, n: usize) -> Vec<u64> {
    let mut c = vec![0u64; m * n];
    if m == 0 || n == 0 || k == 0 {
        return c;
    }
    for p0 in (0..k).step_by(DEPTH) {
        let kc = DEPTH.min(k - p0);
        let stacks = limb_stacks(b, n, p0, kc);
        c.par_chunks_mut(ROWS * n).enumerate().for_each_init(
            || (Vec::new(), vec![0f64; ROWS * n]),
            |(al, g), (blk, c_blk)| {
                let rows = c_blk.len() / n;
                limb_rows(a, k, blk * ROWS, rows, p0, kc, al);
                let g = &mut g[..rows * n];
                for (s, stack) in stacks.iter().enumerate() {
                    let depth = (s + 1) * kc;
                    let am = faer::MatRef::from_row_major_slice_with_stride(al, rows, depth, 3 * kc);
                    let bm = faer::MatRef::from_row_major_slice(stack, depth, n);
                    let cm = faer::MatMut::from_row_major_slice_mut(g, rows, n);
                    faer::linalg::matmul::matmul(cm, faer::Accum::Replace, am, bm, 1.0, faer::Par::Seq);
                    let shift = LIMB * s as u32;
                    for (cv, &gv) in c_blk.iter_mut().zip(g.iter()) {
                        *cv = cv.wrapping_add((gv as i64 as u64) << shift);
                    }
                }
            },
        );
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limbs_recombine_to_the_element() {
        for v in [0u64, 1, u64::MAX, 1 << 63, (1 << 22) - 1, 1 << 21, 0x8000_0000_0020_0000, 0x1234_5678_9abc_def0] {
            let [a0, a1, a2] = split(v);
            assert!(
                a0.abs() <= (1u64 << 21) as f64 && a1.abs() <= (1u64 << 21) as f64 && a2.abs() <= (1u64 << 19) as f64
            );
            let back = (a0 as i64 as u64).wrapping_add((a1 as i64 as u64) << 22).wrapping_add((a2 as i64 as u64) << 44);
            assert_eq!(back, v, "{v:#x}");
        }
    }
}
