//! Dense products: the u64 wrapping matmul at the heart of every Beaver product, and the f64 product used
//! by the float mode and the plaintext references.
//!
//! # u64 kernel
//!
//! Goto-style: B is packed into panels of `NR` = 8 columns per `KC`-deep block, A into panels of `MR` = 8
//! rows; an 8x8 register-blocked micro-kernel accumulates `KC` rank-1 updates in 64 accumulators. The
//! micro-kernel is written once in plain Rust and compiled three times, for AVX-512 (one `vpmullq` per
//! 8 products), AVX2 and the baseline, and the best the CPU supports is chosen at run time (no global
//! `target-cpu=native`). Row blocks of C run in parallel with rayon; integer arithmetic makes the result
//! independent of the thread count.
//!
//! # f64
//!
//! faer's GEMM (single-threaded, see the crate's determinism policy) on fixed 64-row blocks spread over
//! rayon: parallel, and the same bits whatever the thread count.

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;
use std::sync::OnceLock;

const MR: usize = 8;
const NR: usize = 8;
const KC: usize = 256;
const MC: usize = 64;

/// Packs rows `i0..i0+mc` and depth `p0..p0+kc` of row-major `a` (`lda` columns) into MR-row panels:
/// panel-major, then depth, then the MR rows (zero-padded).
fn pack_a(a: &[u64], lda: usize, i0: usize, mc: usize, p0: usize, kc: usize, out: &mut Vec<u64>) {
    out.clear();
    for ip in (0..mc).step_by(MR) {
        for p in 0..kc {
            for i in 0..MR {
                let row = ip + i;
                out.push(if row < mc { a[(i0 + row) * lda + p0 + p] } else { 0 });
            }
        }
    }
}

/// Packs depth `p0..p0+kc` of row-major `b` (`n` columns) into NR-column panels (zero-padded).
fn pack_b(b: &[u64], n: usize, p0: usize, kc: usize) -> Vec<u64> {
    let panels = n.div_ceil(NR);
    let mut out = Vec::with_capacity(panels * kc * NR);
    for jp in 0..panels {
        for p in 0..kc {
            let row = &b[(p0 + p) * n..(p0 + p + 1) * n];
            for j in 0..NR {
                let col = jp * NR + j;
                out.push(if col < n { row[col] } else { 0 });
            }
        }
    }
    out
}

/// C[rows] += A_packed * B_packed for one row block and one depth block. `c` holds the block's rows.
#[inline(always)]
fn macro_kernel(ap: &[u64], bp: &[u64], kc: usize, mc: usize, n: usize, c: &mut [u64]) {
    let panels = n.div_ceil(NR);
    for (ipn, a_panel) in ap.chunks_exact(kc * MR).enumerate() {
        let i0 = ipn * MR;
        for jp in 0..panels {
            let b_panel = &bp[jp * kc * NR..(jp + 1) * kc * NR];
            let mut acc = [[0u64; NR]; MR];
            for p in 0..kc {
                let b: &[u64; NR] = b_panel[p * NR..p * NR + NR].try_into().unwrap_or(&[0; NR]);
                let a: &[u64; MR] = a_panel[p * MR..p * MR + MR].try_into().unwrap_or(&[0; MR]);
                for i in 0..MR {
                    for j in 0..NR {
                        acc[i][j] = acc[i][j].wrapping_add(a[i].wrapping_mul(b[j]));
                    }
                }
            }
            for (i, acc_row) in acc.iter().enumerate() {
                let row = i0 + i;
                if row >= mc {
                    break;
                }
                let j0 = jp * NR;
                let width = NR.min(n - j0);
                let c_row = &mut c[row * n + j0..row * n + j0 + width];
                for (cv, av) in c_row.iter_mut().zip(acc_row) {
                    *cv = cv.wrapping_add(*av);
                }
            }
        }
    }
}

type MacroKernel = fn(&[u64], &[u64], usize, usize, usize, &mut [u64]);

/// The AVX-512 macro-kernel: the same loops as [`macro_kernel`], with the 8x8 micro-kernel written in
/// intrinsics so that the 8 accumulator rows stay in 8 zmm registers (one `vpmullq` and one `vpaddq` per
/// row per depth step, no dependency chain between rows).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl")]
unsafe fn macro_kernel_avx512(ap: &[u64], bp: &[u64], kc: usize, mc: usize, n: usize, c: &mut [u64]) {
    use std::arch::x86_64::*;
    let panels = n.div_ceil(NR);
    for (ipn, a_panel) in ap.chunks_exact(kc * MR).enumerate() {
        let i0 = ipn * MR;
        for jp in 0..panels {
            let b_panel = &bp[jp * kc * NR..(jp + 1) * kc * NR];
            let mut acc = [_mm512_setzero_si512(); MR];
            let (a_ptr, b_ptr) = (a_panel.as_ptr(), b_panel.as_ptr());
            for p in 0..kc {
                // SAFETY: a_panel holds kc * MR and b_panel kc * NR elements (checked by the slicing above),
                // and p < kc; unaligned loads are allowed.
                let b = unsafe { _mm512_loadu_si512(b_ptr.add(p * NR) as *const _) };
                for (i, acc_i) in acc.iter_mut().enumerate() {
                    let a = unsafe { _mm512_set1_epi64(*a_ptr.add(p * MR + i) as i64) };
                    *acc_i = _mm512_add_epi64(*acc_i, _mm512_mullo_epi64(a, b));
                }
            }
            let j0 = jp * NR;
            let width = NR.min(n - j0);
            for (i, acc_i) in acc.iter().enumerate() {
                let row = i0 + i;
                if row >= mc {
                    break;
                }
                let mut lanes = [0u64; NR];
                // SAFETY: lanes has room for 8 u64.
                unsafe { _mm512_storeu_si512(lanes.as_mut_ptr() as *mut _, *acc_i) };
                let c_row = &mut c[row * n + j0..row * n + j0 + width];
                for (cv, av) in c_row.iter_mut().zip(lanes) {
                    *cv = cv.wrapping_add(av);
                }
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn macro_kernel_avx2(ap: &[u64], bp: &[u64], kc: usize, mc: usize, n: usize, c: &mut [u64]) {
    macro_kernel(ap, bp, kc, mc, n, c)
}

fn macro_kernel_generic(ap: &[u64], bp: &[u64], kc: usize, mc: usize, n: usize, c: &mut [u64]) {
    macro_kernel(ap, bp, kc, mc, n, c)
}

/// The instruction set the u64 kernel runs with on this CPU.
pub fn u64_kernel_isa() -> &'static str {
    select().0
}

/// Every micro-kernel this CPU can run, fastest instruction set first (the generic one always).
fn available() -> Vec<(&'static str, MacroKernel)> {
    let mut out: Vec<(&'static str, MacroKernel)> = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512dq")
            && is_x86_feature_detected!("avx512vl")
        {
            // SAFETY: the features the function is compiled for were detected on this CPU.
            out.push(("avx512", |ap, bp, kc, mc, n, c| unsafe { macro_kernel_avx512(ap, bp, kc, mc, n, c) }));
        }
        if is_x86_feature_detected!("avx2") {
            // SAFETY: as above.
            out.push(("avx2", |ap, bp, kc, mc, n, c| unsafe { macro_kernel_avx2(ap, bp, kc, mc, n, c) }));
        }
    }
    out.push(("generic", macro_kernel_generic));
    out
}

fn select() -> (&'static str, MacroKernel) {
    static CHOICE: OnceLock<(&'static str, MacroKernel)> = OnceLock::new();
    *CHOICE.get_or_init(|| available()[0])
}

/// `a * b` in Z_2^64 (wrapping), parallel over row blocks.
pub fn matmul_u64(a: ArrayView2<u64>, b: ArrayView2<u64>) -> Array2<u64> {
    matmul_u64_with(select().1, a, b)
}

fn matmul_u64_with(kernel: MacroKernel, a: ArrayView2<u64>, b: ArrayView2<u64>) -> Array2<u64> {
    let (m, k) = a.dim();
    let (k2, n) = b.dim();
    assert_eq!(k, k2, "matmul_u64: inner dimensions {k} and {k2} differ");
    let mut c = vec![0u64; m * n];
    if m == 0 || n == 0 || k == 0 {
        return Array2::from_shape_vec((m, n), c).unwrap_or_default();
    }
    let a = a.as_standard_layout();
    let b = b.as_standard_layout();
    let (a, b) = (a.as_slice().unwrap_or(&[]), b.as_slice().unwrap_or(&[]));
    for p0 in (0..k).step_by(KC) {
        let kc = KC.min(k - p0);
        let bp = pack_b(b, n, p0, kc);
        c.par_chunks_mut(MC * n).enumerate().for_each_init(Vec::new, |abuf, (blk, c_blk)| {
            let i0 = blk * MC;
            let mc = c_blk.len() / n;
            pack_a(a, k, i0, mc, p0, kc, abuf);
            kernel(abuf, &bp, kc, mc, n, c_blk);
        });
    }
    Array2::from_shape_vec((m, n), c).unwrap_or_default()
}

/// The textbook triple loop, for tests.
pub fn matmul_u64_naive(a: ArrayView2<u64>, b: ArrayView2<u64>) -> Array2<u64> {
    let (m, k) = a.dim();
    let n = b.ncols();
    Array2::from_shape_fn((m, n), |(i, j)| (0..k).fold(0u64, |s, p| s.wrapping_add(a[(i, p)].wrapping_mul(b[(p, j)]))))
}

/// Rows per parallel block of the f64 product (fixed, so results do not depend on the thread count).
const F64_ROWS: usize = 64;

/// `a * b` in f64 with faer, parallel over fixed row blocks.
pub fn matmul_f64(a: ArrayView2<f64>, b: ArrayView2<f64>) -> Array2<f64> {
    let (m, k) = a.dim();
    let (k2, n) = b.dim();
    assert_eq!(k, k2, "matmul_f64: inner dimensions {k} and {k2} differ");
    let a = a.as_standard_layout();
    let b = b.as_standard_layout();
    let (a, b) = (a.as_slice().unwrap_or(&[]), b.as_slice().unwrap_or(&[]));
    let mut c = vec![0f64; m * n];
    if m > 0 && n > 0 && k > 0 {
        let bm = faer::MatRef::from_row_major_slice(b, k, n);
        c.par_chunks_mut(F64_ROWS * n).enumerate().for_each(|(blk, c_blk)| {
            let rows = c_blk.len() / n;
            let i0 = blk * F64_ROWS;
            let am = faer::MatRef::from_row_major_slice(&a[i0 * k..(i0 + rows) * k], rows, k);
            let cm = faer::MatMut::from_row_major_slice_mut(c_blk, rows, n);
            faer::linalg::matmul::matmul(cm, faer::Accum::Replace, am, bm, 1.0, faer::Par::Seq);
        });
    }
    Array2::from_shape_vec((m, n), c).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::prg::Prg;

    fn random(prg: &mut Prg, m: usize, n: usize) -> Array2<u64> {
        Array2::from_shape_vec((m, n), prg.ring(m * n)).unwrap()
    }

    #[test]
    fn every_kernel_path_equals_the_triple_loop_on_awkward_shapes() {
        // Every path this CPU can run, not only the one `select()` picks.
        let paths = available();
        for isa in ["avx512", "avx2"] {
            if !paths.iter().any(|(name, _)| *name == isa) {
                eprintln!("kernel path {isa} not tested: this CPU lacks it");
            }
        }
        for (isa, kernel) in paths {
            let mut prg = Prg::new(&[9; 16], 0);
            for &(m, k, n) in &[(1, 1, 1), (7, 3, 5), (8, 8, 8), (65, 257, 9), (130, 300, 17), (3, 600, 100)] {
                let a = random(&mut prg, m, k);
                let b = random(&mut prg, k, n);
                let want = matmul_u64_naive(a.view(), b.view());
                assert_eq!(matmul_u64_with(kernel, a.view(), b.view()), want, "{isa}: {m}x{k}x{n}");
            }
            // All-ones bit patterns (every product wraps) and transposed (non-standard layout) inputs.
            let ones = Array2::from_elem((9, 33), u64::MAX);
            let b = random(&mut prg, 33, 7);
            assert_eq!(
                matmul_u64_with(kernel, ones.view(), b.view()),
                matmul_u64_naive(ones.view(), b.view()),
                "{isa}"
            );
            let a = random(&mut prg, 20, 30);
            let b = random(&mut prg, 20, 10);
            assert_eq!(matmul_u64_with(kernel, a.t(), b.view()), matmul_u64_naive(a.t(), b.view()), "{isa}");
        }
    }

    #[test]
    fn f64_product_matches_ndarray() {
        let a = Array2::from_shape_fn((70, 13), |(i, j)| (i as f64 * 0.3 - j as f64).sin());
        let b = Array2::from_shape_fn((13, 9), |(i, j)| (i * j) as f64 * 0.01 - 0.2);
        let ours = matmul_f64(a.view(), b.view());
        let theirs = a.dot(&b);
        assert!(ours.iter().zip(theirs.iter()).all(|(x, y)| (x - y).abs() < 1e-12));
    }
}
