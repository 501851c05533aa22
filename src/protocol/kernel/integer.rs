//! The integer path for the ring product: Goto-style packing with an 8x8 register-blocked micro-kernel.
//!
//! B is packed into panels of `NR` = 8 columns per `KC`-deep block, A into panels of `MR` = 8 rows; the
//! micro-kernel accumulates `KC` rank-1 updates in 64 accumulators. It is written once in plain Rust and
//! compiled for AVX-512 (one `vpmullq` per 8 products, in intrinsics), AVX2 and the baseline; which of them
//! runs is chosen by measurement ([`super::choose`]), not by CPU flags alone. Row blocks of C run in parallel
//! with rayon; integer arithmetic makes the result independent of the thread count.

use rayon::prelude::*;

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

pub(super) type MacroKernel = fn(&[u64], &[u64], usize, usize, usize, &mut [u64]);

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

/// The plain-code micro-kernel (runs everywhere).
pub(super) fn generic() -> MacroKernel {
    macro_kernel_generic
}

/// Every micro-kernel this CPU can run, with its name.
pub(super) fn available() -> Vec<(&'static str, MacroKernel)> {
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
    out.push(("generic", generic()));
    out
}

/// `a * b` in Z_2^64 (wrapping) with the micro-kernel `kernel`, parallel over row blocks. Inputs are
/// standard-layout slices (`m x k`, `k x n`).
pub(super) fn matmul(kernel: MacroKernel, a: &[u64], b: &[u64], m: usize, k: usize, n: usize) -> Vec<u64> {
    let mut c = vec![0u64; m * n];
    if m == 0 || n == 0 || k == 0 {
        return c;
    }
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
    c
}
