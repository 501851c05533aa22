//! Key generation in structure-of-arrays form on AVX-512: a group of eight keys holds each word of its
//! state in one 512-bit register (lane `k` is key `k`'s word) and each control bit in one bit of a mask
//! register, so the per-level bookkeeping around the AES call (choosing the kept and the lost side, the
//! corrections, the next seeds) is one instruction for all eight keys where the scalar code spends one per key
//! and word. The AES blocks go to and from [`mmo::hash`] interleaved in registers (unpack, no gather).
//!
//! The same construction as [`super::keygen_many`]'s scalar path, bit for bit (tested on every path against the
//! first-written reference); which path runs is chosen at first use by timing both on the same keys, as the
//! AES and ring kernels are.

use std::sync::OnceLock;
use std::time::Instant;

use super::super::mmo;
use super::{Payload, key_words};

/// Keys per group: one 64-bit word of each in a 512-bit register.
pub(super) const KEYS: usize = 8;

/// A path: writes the correction words of up to [`KEYS`] keys (`out` holds `key_words(bits)` words per key,
/// one key after another).
pub(super) type Group = fn(&[u64], &[Payload], u32, &[[u128; 2]], &mut [u64]);

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::*;
    use std::arch::x86_64::*;

    /// The 64 blocks of a level: block type `j` (party `j / 4`, input `s ^ (j % 4)`: left seed, left value,
    /// right seed, right value) in `8 j .. 8 j + 8`, keys 0, 2, 4, 6 then 1, 3, 5, 7 (the order unpacking
    /// gives; every block is hashed alone, so the order is free).
    #[repr(C, align(64))]
    struct Blocks([u128; 8 * KEYS]);

    /// Writes the seeds `(lo ^ i, hi)` of the group as its blocks at `8 j`.
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn put(b: &mut Blocks, j: usize, lo: __m512i, hi: __m512i) {
        let p = b.0[8 * j..8 * j + 8].as_mut_ptr() as *mut __m512i;
        // SAFETY: the eight u128 at 8 j are 128 bytes, two 512-bit stores (unaligned stores are allowed).
        unsafe {
            _mm512_storeu_si512(p, _mm512_unpacklo_epi64(lo, hi));
            _mm512_storeu_si512(p.add(1), _mm512_unpackhi_epi64(lo, hi));
        }
    }

    /// The low and high words of the blocks at `8 j`, key by key (the inverse of [`put`]).
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn get(b: &Blocks, j: usize) -> (__m512i, __m512i) {
        let p = b.0[8 * j..8 * j + 8].as_ptr() as *const __m512i;
        // SAFETY: as in put, two loads.
        let (x, y) = unsafe { (_mm512_loadu_si512(p), _mm512_loadu_si512(p.add(1))) };
        (_mm512_unpacklo_epi64(x, y), _mm512_unpackhi_epi64(x, y))
    }

    /// Writes four words per key, `w[0..4]` lane `k` to `out[k * kw + at ..][..4]`, for the first `n` keys.
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn store4(w: [__m512i; 4], out: &mut [u64], kw: usize, at: usize, n: usize) {
        // Keys 0, 2, 4, 6 from the low unpacks, 1, 3, 5, 7 from the high ones; each 128-bit lane pair makes one
        // key's four words.
        let (lo01, lo23) = (_mm512_unpacklo_epi64(w[0], w[1]), _mm512_unpacklo_epi64(w[2], w[3]));
        let (hi01, hi23) = (_mm512_unpackhi_epi64(w[0], w[1]), _mm512_unpackhi_epi64(w[2], w[3]));
        let first = _mm512_set_epi64(11, 10, 3, 2, 9, 8, 1, 0);
        let second = _mm512_set_epi64(15, 14, 7, 6, 13, 12, 5, 4);
        let rows = [
            _mm512_permutex2var_epi64(lo01, first, lo23),  // keys 0, 2
            _mm512_permutex2var_epi64(hi01, first, hi23),  // keys 1, 3
            _mm512_permutex2var_epi64(lo01, second, lo23), // keys 4, 6
            _mm512_permutex2var_epi64(hi01, second, hi23), // keys 5, 7
        ];
        for k in 0..n {
            let row = rows[(k & 1) | (k >> 2) << 1];
            let half =
                if (k >> 1) & 1 == 0 { _mm512_castsi512_si256(row) } else { _mm512_extracti64x4_epi64::<1>(row) };
            let dst = &mut out[k * kw + at..k * kw + at + 4];
            // SAFETY: dst is four u64, one 256-bit unaligned store.
            unsafe { _mm256_storeu_si256(dst.as_mut_ptr() as *mut __m256i, half) };
        }
    }

    /// The group's key generation: Boyle et al., Eurocrypt 2021, Fig. 3, as [`super::super::keygen_many`]
    /// states it (and its scalar path computes it), eight keys a register. Lanes past `alphas.len()` run on
    /// zeros and are not written.
    #[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw")]
    pub(super) fn group(alphas: &[u64], betas: &[Payload], bits: u32, roots: &[[u128; 2]], out: &mut [u64]) {
        let n = alphas.len().min(KEYS);
        let kw = key_words(bits);
        let lane = |f: &dyn Fn(usize) -> u64| {
            let w: [u64; KEYS] = std::array::from_fn(|k| if k < n { f(k) } else { 0 });
            // SAFETY: w is 64 bytes.
            unsafe { _mm512_loadu_si512(w.as_ptr() as *const __m512i) }
        };
        let zero = _mm512_setzero_si512();
        let one = _mm512_set1_epi64(1);
        let not_one = _mm512_set1_epi64(!1);
        let alpha = lane(&|k| alphas[k]);
        let beta = [lane(&|k| betas[k][0]), lane(&|k| betas[k][1])];
        // Per party: the seed's low word (lowest bit clear: it is the control bit) and high word; the control
        // bits as masks (party 0 starts at 0, party 1 at 1).
        let mut s: [[__m512i; 2]; 2] = std::array::from_fn(|p| {
            [_mm512_and_si512(lane(&|k| roots[k][p] as u64), not_one), lane(&|k| (roots[k][p] >> 64) as u64)]
        });
        let mut t: [__mmask8; 2] = [0, 0xff];
        // The value on alpha's path so far, and the control-bit corrections (two bits a level, 64 levels).
        let mut v = [zero; 2];
        let mut tb = [zero; 2];
        let mut blocks = Blocks([0; 8 * KEYS]);
        // -x where the mask is set.
        let neg = |x: __m512i, m: __mmask8| _mm512_mask_sub_epi64(x, m, zero, x);
        for level in 0..bits as usize {
            for j in 0..8 {
                let lo = _mm512_xor_si512(s[j / 4][0], _mm512_set1_epi64((j % 4) as i64));
                put(&mut blocks, j, lo, s[j / 4][1]);
            }
            mmo::hash(&mut blocks.0);
            let a: __mmask8 = _mm512_test_epi64_mask(alpha, _mm512_set1_epi64(1i64 << (bits as usize - 1 - level)));
            // Party p's (left, right) seeds and values, each as (low, high) words.
            let e: [[(__m512i, __m512i); 4]; 2] =
                std::array::from_fn(|p| std::array::from_fn(|i| get(&blocks, 4 * p + i)));
            // alpha's side kept (right where a), the other lost.
            let keep = |l: __m512i, r: __m512i| _mm512_mask_blend_epi64(a, l, r);
            let lose = |l: __m512i, r: __m512i| _mm512_mask_blend_epi64(a, r, l);
            let ks: [[__m512i; 2]; 2] =
                std::array::from_fn(|p| [keep(e[p][0].0, e[p][2].0), keep(e[p][0].1, e[p][2].1)]);
            let ls: [[__m512i; 2]; 2] =
                std::array::from_fn(|p| [lose(e[p][0].0, e[p][2].0), lose(e[p][0].1, e[p][2].1)]);
            let kv: [[__m512i; 2]; 2] =
                std::array::from_fn(|p| [keep(e[p][1].0, e[p][3].0), keep(e[p][1].1, e[p][3].1)]);
            let lv: [[__m512i; 2]; 2] =
                std::array::from_fn(|p| [lose(e[p][1].0, e[p][3].0), lose(e[p][1].1, e[p][3].1)]);
            let s_cw =
                [_mm512_and_si512(_mm512_xor_si512(ls[0][0], ls[1][0]), not_one), _mm512_xor_si512(ls[0][1], ls[1][1])];
            let t1 = t[1];
            let mut v_cw = [zero; 2];
            for h in 0..2 {
                // alpha goes right: every x going left (x < alpha) collects beta here.
                let d = _mm512_sub_epi64(_mm512_sub_epi64(lv[1][h], lv[0][h]), v[h]);
                v_cw[h] = _mm512_add_epi64(neg(d, t1), _mm512_maskz_mov_epi64(a, neg(beta[h], t1)));
                v[h] = _mm512_add_epi64(_mm512_sub_epi64(_mm512_add_epi64(v[h], kv[0][h]), kv[1][h]), neg(v_cw[h], t1));
            }
            // The control-bit corrections: tl = t_L0 ^ t_L1 ^ a ^ 1, tr = t_R0 ^ t_R1 ^ a.
            let tl: __mmask8 = _mm512_test_epi64_mask(_mm512_xor_si512(e[0][0].0, e[1][0].0), one) ^ a ^ 0xff;
            let tr: __mmask8 = _mm512_test_epi64_mask(_mm512_xor_si512(e[0][2].0, e[1][2].0), one) ^ a;
            let t_keep = (tl & !a) | (tr & a);
            let (tw, shift) = (level / 32, 2 * level % 64);
            tb[tw] = _mm512_mask_or_epi64(tb[tw], tl, tb[tw], _mm512_set1_epi64(1i64 << shift));
            tb[tw] = _mm512_mask_or_epi64(tb[tw], tr, tb[tw], _mm512_set1_epi64(2i64 << shift));
            for p in 0..2 {
                let lo = _mm512_and_si512(ks[p][0], not_one);
                s[p] = [
                    _mm512_mask_xor_epi64(lo, t[p], lo, s_cw[0]),
                    _mm512_mask_xor_epi64(ks[p][1], t[p], ks[p][1], s_cw[1]),
                ];
                t[p] = _mm512_test_epi64_mask(ks[p][0], one) ^ (t[p] & t_keep);
            }
            store4([s_cw[0], s_cw[1], v_cw[0], v_cw[1]], out, kw, 4 * level, n);
        }
        // The leaves: each party's value block `G(s)_4`.
        for (p, [lo, hi]) in s.into_iter().enumerate() {
            put(&mut blocks, p, _mm512_xor_si512(lo, _mm512_set1_epi64(4)), hi);
        }
        mmo::hash(&mut blocks.0[..2 * KEYS]);
        let (g0, g1) = (get(&blocks, 0), get(&blocks, 1));
        let last = [
            neg(_mm512_sub_epi64(_mm512_sub_epi64(g1.0, g0.0), v[0]), t[1]),
            neg(_mm512_sub_epi64(_mm512_sub_epi64(g1.1, g0.1), v[1]), t[1]),
        ];
        store4([tb[0], tb[1], last[0], last[1]], out, kw, 4 * bits as usize, n);
    }
}

/// Every path this CPU can run, with its name (the scalar one last).
pub(super) fn paths() -> Vec<(&'static str, Group)> {
    let mut out: Vec<(&'static str, Group)> = Vec::new();
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx512f")
        && is_x86_feature_detected!("avx512vl")
        && is_x86_feature_detected!("avx512dq")
        && is_x86_feature_detected!("avx512bw")
    {
        // SAFETY: the features the function is compiled for were detected on this CPU.
        out.push(("avx512", |a, b, n, r, o| unsafe { x86::group(a, b, n, r, o) }));
    }
    out.push(("scalar", super::keygen_group));
    out
}

fn chosen() -> &'static (&'static str, Group) {
    static CHOSEN: OnceLock<(&'static str, Group)> = OnceLock::new();
    CHOSEN.get_or_init(|| {
        // A full group on 64 bits, 16 groups a run: about 0.15 ms a run on the scalar path.
        let alphas: Vec<u64> = (0..KEYS as u64).map(|k| k.wrapping_mul(0x9e37_79b9_7f4a_7c15)).collect();
        let betas: Vec<Payload> = (0..KEYS as u64).map(|k| [k, !k]).collect();
        let roots: Vec<[u128; 2]> = (0..KEYS as u128).map(|k| [k << 70 | k, !k]).collect();
        let mut out = vec![0u64; KEYS * key_words(64)];
        let time = |f: Group, out: &mut [u64]| {
            (0..5)
                .map(|_| {
                    let t = Instant::now();
                    for _ in 0..16 {
                        f(&alphas, &betas, 64, &roots, std::hint::black_box(&mut *out));
                    }
                    t.elapsed()
                })
                .min()
                .unwrap_or_default()
        };
        paths()
            .into_iter()
            .map(|(name, f)| (time(f, &mut out), name, f))
            .min_by_key(|&(t, _, _)| t)
            .map(|(_, name, f)| (name, f))
            .unwrap_or(("scalar", super::keygen_group))
    })
}

/// The key generation of one group of up to [`KEYS`] keys on the path measured fastest here; a group of fewer
/// than half that many keys on the scalar path (a vector path costs the same for one key as for eight: 4.8 µs
/// a key alone on AVX-512 here, 2.4 µs on the scalar path, `cargo bench --bench fss -- dcf_keygen_1000`).
#[inline]
pub(super) fn group(alphas: &[u64], betas: &[Payload], bits: u32, roots: &[[u128; 2]], out: &mut [u64]) {
    if alphas.len() < KEYS / 2 {
        super::keygen_group(alphas, betas, bits, roots, out)
    } else {
        (chosen().1)(alphas, betas, bits, roots, out)
    }
}

/// The path [`group`] runs on this machine.
pub fn path() -> &'static str {
    chosen().0
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    #[test]
    fn every_path_equals_the_first_written_key_generation() {
        let mut rng = crate::rng::stream(12, 0);
        let kinds: Vec<&str> = paths().iter().map(|p| p.0).collect();
        assert!(kinds.contains(&path()), "the chosen path is one of {kinds:?}");
        for bits in [1u32, 2, 31, 32, 33, 47, 63, 64] {
            let kw = key_words(bits);
            for n in [1usize, 3, 7, 8] {
                let alphas: Vec<u64> = (0..n).map(|_| rng.random()).collect();
                let betas: Vec<Payload> = (0..n).map(|_| [rng.random(), rng.random()]).collect();
                let roots: Vec<[u128; 2]> = (0..n).map(|_| [rng.random(), rng.random()]).collect();
                for (name, f) in paths() {
                    // Garbage first: every word must be written.
                    let mut out = vec![u64::MAX; n * kw];
                    f(&alphas, &betas, bits, &roots, &mut out);
                    for k in 0..n {
                        assert_eq!(
                            out[k * kw..(k + 1) * kw],
                            super::super::keygen_unbatched(alphas[k], betas[k], bits, roots[k])[..],
                            "path {name}, bits {bits}, n {n}, key {k}"
                        );
                    }
                }
            }
        }
    }
}
