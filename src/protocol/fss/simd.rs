//! What the lane-wise AVX-512 paths of the DCF and the DPF share: a level's 64 AES blocks, written from and
//! read back into registers that hold one 64-bit word of eight keys (or points) each, the CPU check, and the
//! choice of a path by timing.
//!
//! Eight seeds `(lo, hi)` (lane `k` of two registers) become eight blocks by unpacking: keys 0, 2, 4, 6 in
//! one register, 1, 3, 5, 7 in the next. Every block is hashed alone, so the order is free, and reading them
//! back is the same unpacking.

use std::time::Instant;

/// The blocks of one AES call: 64, eight groups of eight.
#[repr(C, align(64))]
pub struct Blocks(pub [u128; 64]);

impl Blocks {
    pub fn new() -> Self {
        Self([0; 64])
    }
}

impl Default for Blocks {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(target_arch = "x86_64")]
pub mod x86 {
    use super::Blocks;
    use std::arch::x86_64::*;

    /// Writes the eight blocks `(lo_k, hi_k)` at `8 j`.
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub fn put(b: &mut Blocks, j: usize, lo: __m512i, hi: __m512i) {
        let p = b.0[8 * j..8 * j + 8].as_mut_ptr() as *mut __m512i;
        // SAFETY: the eight u128 at 8 j are 128 bytes, two 512-bit stores (unaligned stores are allowed).
        unsafe {
            _mm512_storeu_si512(p, _mm512_unpacklo_epi64(lo, hi));
            _mm512_storeu_si512(p.add(1), _mm512_unpackhi_epi64(lo, hi));
        }
    }

    /// The low and high words of the eight blocks at `8 j`, lane by lane (the inverse of [`put`]).
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub fn get(b: &Blocks, j: usize) -> (__m512i, __m512i) {
        let p = b.0[8 * j..8 * j + 8].as_ptr() as *const __m512i;
        // SAFETY: as in put, two loads.
        let (x, y) = unsafe { (_mm512_loadu_si512(p), _mm512_loadu_si512(p.add(1))) };
        (_mm512_unpacklo_epi64(x, y), _mm512_unpackhi_epi64(x, y))
    }
}

/// Every path of one lane-wise operation this CPU can run, with its name: `x86::$avx` (the AVX-512 one) where
/// [`avx512`] finds the features it is compiled for, then `$scalar`, as a `Vec<(&'static str, $ty)>`; the
/// closure's arguments are named after `;`. Used in modules that allow `unsafe_code`.
macro_rules! lane_paths {
    ($ty:ty, $avx:ident, $scalar:path; $($arg:ident),+) => {{
        let mut out: Vec<(&'static str, $ty)> = Vec::new();
        #[cfg(target_arch = "x86_64")]
        if $crate::protocol::fss::simd::avx512() {
            // SAFETY: the features the function is compiled for were detected on this CPU.
            out.push(("avx512", |$($arg),+| unsafe { x86::$avx($($arg),+) }));
        }
        out.push(("scalar", $scalar));
        out
    }};
}
pub(crate) use lane_paths;

/// Whether this CPU runs the lane-wise paths (AVX-512 F, VL, DQ and BW).
#[cfg(target_arch = "x86_64")]
pub fn avx512() -> bool {
    is_x86_feature_detected!("avx512f")
        && is_x86_feature_detected!("avx512vl")
        && is_x86_feature_detected!("avx512dq")
        && is_x86_feature_detected!("avx512bw")
}

/// The fastest of `paths` (each timed by the fastest of five runs of `run` on it, the same work for all),
/// with its name.
pub fn fastest<F: Copy>(paths: Vec<(&'static str, F)>, run: impl Fn(F)) -> (&'static str, F) {
    let time = |f: F| {
        (0..5)
            .map(|_| {
                let t = Instant::now();
                run(f);
                t.elapsed()
            })
            .min()
            .unwrap_or_default()
    };
    let first = paths[0];
    paths.into_iter().map(|(name, f)| (time(f), name, f)).min_by_key(|&(t, _, _)| t).map_or(first, |(_, n, f)| (n, f))
}
