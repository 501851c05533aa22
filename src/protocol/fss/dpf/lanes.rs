//! Key generation and evaluation in structure-of-arrays form on AVX-512, as the DCF's (`dcf/lanes.rs`): eight
//! keys (or points) a group, each 64-bit word of their seeds in one register and each control bit in one bit
//! of a mask register, so the per-level work around the AES call (the correction, the children, the next
//! hash inputs `sigma(s)`) is a few instructions for eight. The same construction as the scalar paths
//! ([`super::keygen_many`], [`super::eval_many`]) bit for bit, tested on every path; which path runs is chosen
//! at first use by timing each on the same work. Groups under four keys or points stay scalar.

use std::sync::OnceLock;

use super::{KEYS, KeyRef, LANES, key_words};
use crate::protocol::fss::simd::{fastest, lane_paths};

/// Keys or points a register holds.
const GROUP: usize = 8;

/// A key generation path: up to [`KEYS`] keys' correction words into `out`.
type Keygen = fn(&[u64], u32, &[[u128; 2]], &mut [u64]);

/// An evaluation path: party `b`'s XOR shares at up to [`LANES`] points (the keys checked by the caller).
type Eval = fn(usize, &[KeyRef<'_>], &[u64], &mut [u8]);

// Groups are indexed in step across several arrays (seeds, points, keys): index loops read plainer.
#[allow(clippy::needless_range_loop)]
#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::super::{LEAF, above, depth, leaf_index};
    use super::*;
    use crate::protocol::fss::mmo;
    use crate::protocol::fss::simd::{Blocks, x86::get, x86::put};
    use std::arch::x86_64::*;

    /// One word of each lane from `f(q)` for the group's points `q` (the last point repeated past `n`).
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn lane(g: usize, n: usize, f: &dyn Fn(usize) -> u64) -> __m512i {
        let w: [u64; GROUP] = std::array::from_fn(|k| f((g * GROUP + k).min(n - 1)));
        // SAFETY: w is 64 bytes.
        unsafe { _mm512_loadu_si512(w.as_ptr() as *const __m512i) }
    }

    /// Writes `sigma(s ^ tweak)` of the group's seeds as its blocks at `8 j` (`sigma(a, b) = (b, a ^ b)`).
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn put_sigma(blocks: &mut Blocks, j: usize, s: (__m512i, __m512i), tweak: i64) {
        let lo = _mm512_xor_si512(s.0, _mm512_set1_epi64(tweak));
        put(blocks, j, s.1, _mm512_xor_si512(lo, s.1));
    }

    /// Lanes `k` of `(lo, hi)` as 128-bit words, in lane order.
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn words(w: (__m512i, __m512i)) -> [u128; GROUP] {
        let mut t = [[0u64; GROUP]; 2];
        // SAFETY: each row is 64 bytes.
        unsafe {
            _mm512_storeu_si512(t[0].as_mut_ptr() as *mut __m512i, w.0);
            _mm512_storeu_si512(t[1].as_mut_ptr() as *mut __m512i, w.1);
        }
        std::array::from_fn(|k| t[0][k] as u128 | (t[1][k] as u128) << 64)
    }

    /// Two consecutive words of each lane's key from word `at`, transposed: `(lo, hi)` lane `k` are words
    /// `at`, `at + 1` of key `k`.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq")]
    fn load2(keys: &[*const u64; GROUP], at: usize) -> (__m512i, __m512i) {
        // SAFETY: every pointer is to a whole key and at + 2 stays inside it (the caller's contract).
        let row = |k: usize| unsafe { _mm_loadu_si128(keys[k].add(at) as *const __m128i) };
        let four = |k: usize| {
            let x = _mm512_castsi128_si512(row(k));
            let x = _mm512_inserti64x2::<1>(x, row(k + 1));
            let x = _mm512_inserti64x2::<2>(x, row(k + 2));
            _mm512_inserti64x2::<3>(x, row(k + 3))
        };
        let (a, b) = (four(0), four(4));
        (
            _mm512_permutex2var_epi64(a, _mm512_set_epi64(14, 12, 10, 8, 6, 4, 2, 0), b),
            _mm512_permutex2var_epi64(a, _mm512_set_epi64(15, 13, 11, 9, 7, 5, 3, 1), b),
        )
    }

    /// The key generation of up to [`KEYS`] keys: as [`super::super::keygen_many`] states it.
    #[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw")]
    pub(super) fn keygen(ac: &[u64], bits: u32, rc: &[[u128; 2]], oc: &mut [u64]) {
        const GROUPS: usize = KEYS / GROUP;
        let n = ac.len();
        let groups = n.div_ceil(GROUP);
        let (kw, d) = (key_words(bits), depth(bits));
        let one = _mm512_set1_epi64(1);
        let not_one = _mm512_set1_epi64(!1);
        let zero = _mm512_setzero_si512();
        let alpha: [__m512i; GROUPS] = std::array::from_fn(|g| if g < groups { lane(g, n, &|q| ac[q]) } else { zero });
        // Per group and party: the seed (lowest bit the control bit: 0 and 1 at the root); Delta their XOR.
        let mut s: [[(__m512i, __m512i); 2]; GROUPS] = std::array::from_fn(|g| {
            std::array::from_fn(|p| {
                if g >= groups {
                    return (zero, zero);
                }
                let lo = _mm512_and_si512(lane(g, n, &|q| rc[q][p] as u64), not_one);
                (_mm512_or_si512(lo, _mm512_set1_epi64(p as i64)), lane(g, n, &|q| (rc[q][p] >> 64) as u64))
            })
        });
        let delta: [(__m512i, __m512i); GROUPS] =
            std::array::from_fn(|g| (_mm512_xor_si512(s[g][0].0, s[g][1].0), _mm512_xor_si512(s[g][0].1, s[g][1].1)));
        let mut blocks = Blocks::new();
        let mut row = [[0u64; 2 * GROUP]; GROUPS];
        for level in 0..d {
            for g in 0..groups {
                put_sigma(&mut blocks, 2 * g, s[g][0], 0);
                put_sigma(&mut blocks, 2 * g + 1, s[g][1], 0);
            }
            mmo::hash(&mut blocks.0[..16 * groups]);
            let at = _mm512_set1_epi64(1i64 << (bits as usize - 1 - level));
            for g in 0..groups {
                let a = _mm512_test_epi64_mask(alpha[g], at);
                let h = [get(&blocks, 2 * g), get(&blocks, 2 * g + 1)];
                // alpha's side keeps the difference Delta, the other side's seeds become equal.
                let c = (
                    _mm512_xor_si512(_mm512_xor_si512(h[0].0, h[1].0), _mm512_maskz_mov_epi64(!a, delta[g].0)),
                    _mm512_xor_si512(_mm512_xor_si512(h[0].1, h[1].1), _mm512_maskz_mov_epi64(!a, delta[g].1)),
                );
                // SAFETY: row[g] is 128 bytes: keys 0, 2, 4, 6 then 1, 3, 5, 7, two words each.
                unsafe {
                    _mm512_storeu_si512(row[g].as_mut_ptr() as *mut __m512i, _mm512_unpacklo_epi64(c.0, c.1));
                    _mm512_storeu_si512(row[g].as_mut_ptr().add(8) as *mut __m512i, _mm512_unpackhi_epi64(c.0, c.1));
                }
                for (p, hp) in h.into_iter().enumerate() {
                    // Left child h ^ t CW, right child the left one ^ s: alpha's side.
                    let t = _mm512_test_epi64_mask(s[g][p].0, one);
                    let left = (_mm512_mask_xor_epi64(hp.0, t, hp.0, c.0), _mm512_mask_xor_epi64(hp.1, t, hp.1, c.1));
                    s[g][p] = (
                        _mm512_mask_xor_epi64(left.0, a, left.0, s[g][p].0),
                        _mm512_mask_xor_epi64(left.1, a, left.1, s[g][p].1),
                    );
                }
            }
            for (q, cw) in oc.chunks_exact_mut(kw).enumerate() {
                let (g, k) = (q / GROUP, q % GROUP);
                let at = 8 * (k & 1) + 2 * (k >> 1);
                cw[2 * level..2 * level + 2].copy_from_slice(&row[g][at..at + 2]);
            }
        }
        for g in 0..groups {
            put_sigma(&mut blocks, 2 * g, s[g][0], LEAF as i64);
            put_sigma(&mut blocks, 2 * g + 1, s[g][1], LEAF as i64);
        }
        mmo::hash(&mut blocks.0[..16 * groups]);
        let leaves: [[[u128; GROUP]; 2]; GROUPS] = std::array::from_fn(|g| {
            if g < groups { [words(get(&blocks, 2 * g)), words(get(&blocks, 2 * g + 1))] } else { [[0; GROUP]; 2] }
        });
        for (q, (cw, &alpha)) in oc.chunks_exact_mut(kw).zip(ac).enumerate() {
            let (g, k) = (q / GROUP, q % GROUP);
            let leaf = leaves[g][0][k] ^ leaves[g][1][k] ^ (1u128 << leaf_index(alpha, bits));
            cw[kw - 2] = leaf as u64;
            cw[kw - 1] = (leaf >> 64) as u64;
        }
    }

    /// Party `b`'s evaluation of up to [`LANES`] points: as [`super::super::eval_many`] states it.
    #[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw")]
    pub(super) fn eval(b: usize, kc: &[KeyRef<'_>], xc: &[u64], oc: &mut [u8]) {
        const GROUPS: usize = LANES / GROUP;
        let n = xc.len();
        let groups = n.div_ceil(GROUP);
        let bits = kc[0].bits;
        // What the unchecked loads below rely on (the callers check it too; 64 comparisons a call).
        assert!(
            (1..=LANES).contains(&n)
                && kc.len() == n
                && oc.len() == n
                && kc.iter().all(|k| k.bits == bits && k.words.len() == key_words(bits)),
            "1 to 64 points, one whole key of one width and one output each"
        );
        let d = depth(bits);
        let one = _mm512_set1_epi64(1);
        let zero = _mm512_setzero_si512();
        let ptr: [[*const u64; GROUP]; GROUPS] =
            std::array::from_fn(|g| std::array::from_fn(|k| kc[(g * GROUP + k).min(n - 1)].words.as_ptr()));
        let x: [__m512i; GROUPS] = std::array::from_fn(|g| if g < groups { lane(g, n, &|q| xc[q]) } else { zero });
        let mut s: [(__m512i, __m512i); GROUPS] = std::array::from_fn(|g| {
            if g >= groups {
                return (zero, zero);
            }
            let lo = lane(g, n, &|q| (kc[q].seed as u64 & !1) | b as u64);
            (lo, lane(g, n, &|q| (kc[q].seed >> 64) as u64))
        });
        let mut acc: [__mmask8; GROUPS] = [0; GROUPS];
        let mut blocks = Blocks::new();
        for level in 0..d {
            for (g, sg) in s.iter().enumerate().take(groups) {
                put_sigma(&mut blocks, g, *sg, 0);
            }
            mmo::hash(&mut blocks.0[..8 * groups]);
            if level % 4 == 0 {
                for key in kc {
                    mmo::prefetch(key.words.get(2 * level + 8..2 * level + 9).unwrap_or(&[]));
                }
            }
            let at = _mm512_set1_epi64(1i64 << (bits as usize - 1 - level));
            for g in 0..groups {
                let h = get(&blocks, g);
                let c = load2(&ptr[g], 2 * level);
                let t = _mm512_test_epi64_mask(s[g].0, one);
                let left = (_mm512_mask_xor_epi64(h.0, t, h.0, c.0), _mm512_mask_xor_epi64(h.1, t, h.1, c.1));
                let r = _mm512_test_epi64_mask(x[g], at);
                // The right child's control bit (the left one's XOR the parent's) where the path goes left.
                acc[g] ^= (_mm512_test_epi64_mask(left.0, one) ^ t) & !r;
                s[g] = (
                    _mm512_mask_xor_epi64(left.0, r, left.0, s[g].0),
                    _mm512_mask_xor_epi64(left.1, r, left.1, s[g].1),
                );
            }
        }
        for (g, sg) in s.iter().enumerate().take(groups) {
            put_sigma(&mut blocks, g, *sg, LEAF as i64);
        }
        mmo::hash(&mut blocks.0[..8 * groups]);
        let low = super::super::input_mask(bits);
        for g in 0..groups {
            let (leaf, seed) = (words(get(&blocks, g)), words(s[g]));
            for k in 0..GROUP.min(n - g * GROUP) {
                let q = g * GROUP + k;
                let t = (seed[k] & 1) as u64;
                let leaf = leaf[k] ^ (kc[q].leaf_cw() & if t == 1 { u128::MAX } else { 0 });
                let inside = (leaf & above(leaf_index(xc[q] & low, bits))).count_ones() as u64 & 1;
                oc[q] = (u64::from(acc[g] >> k & 1) ^ inside) as u8;
            }
        }
    }
}

/// Every key generation path this CPU can run, with its name (the scalar one last).
fn keygen_paths() -> Vec<(&'static str, Keygen)> {
    lane_paths!(Keygen, keygen, super::keygen_chunk; a, n, r, o)
}

/// Every evaluation path this CPU can run, with its name (the scalar one last).
fn eval_paths() -> Vec<(&'static str, Eval)> {
    lane_paths!(Eval, eval, super::eval_chunk; b, k, x, o)
}

/// Work to time the paths on: 32 keys on 47 bits (the gates' width at 16 fractional bits).
fn sample() -> (Vec<u64>, Vec<[u128; 2]>, Vec<u64>) {
    let alphas: Vec<u64> = (0..KEYS as u64).map(|k| k.wrapping_mul(0x9e37_79b9_7f4a_7c15)).collect();
    let roots: Vec<[u128; 2]> = (0..KEYS as u128).map(|k| [k << 70 | k, !k]).collect();
    let mut words = vec![0u64; KEYS * key_words(47)];
    super::keygen_chunk(&alphas, 47, &roots, &mut words);
    (alphas, roots, words)
}

fn chosen_keygen() -> &'static (&'static str, Keygen) {
    static CHOSEN: OnceLock<(&'static str, Keygen)> = OnceLock::new();
    CHOSEN.get_or_init(|| {
        let (alphas, roots, words) = sample();
        let out = std::cell::RefCell::new(words);
        fastest(keygen_paths(), |f: Keygen| {
            for _ in 0..16 {
                f(&alphas, 47, &roots, std::hint::black_box(&mut out.borrow_mut()[..]));
            }
        })
    })
}

fn chosen_eval() -> &'static (&'static str, Eval) {
    static CHOSEN: OnceLock<(&'static str, Eval)> = OnceLock::new();
    CHOSEN.get_or_init(|| {
        let (_, roots, words) = sample();
        let keys: Vec<KeyRef> = (0..LANES)
            .map(|q| {
                let k = q % KEYS;
                KeyRef { seed: roots[k][0], bits: 47, words: &words[k * key_words(47)..(k + 1) * key_words(47)] }
            })
            .collect();
        let xs: Vec<u64> = (0..LANES as u64).map(|q| q.wrapping_mul(0xc2b2_ae3d_27d4_eb4f)).collect();
        let out = std::cell::RefCell::new(vec![0u8; LANES]);
        fastest(eval_paths(), |f: Eval| {
            for _ in 0..16 {
                f(0, &keys, &xs, std::hint::black_box(&mut out.borrow_mut()[..]));
            }
        })
    })
}

/// Up to [`KEYS`] keys on the path measured fastest here (fewer than four on the scalar path).
#[inline]
pub(super) fn keygen(ac: &[u64], bits: u32, rc: &[[u128; 2]], oc: &mut [u64]) {
    if ac.len() < GROUP / 2 { super::keygen_chunk(ac, bits, rc, oc) } else { (chosen_keygen().1)(ac, bits, rc, oc) }
}

/// Up to [`LANES`] points on the path measured fastest here (fewer than four on the scalar path).
#[inline]
pub(super) fn eval(b: usize, kc: &[KeyRef<'_>], xc: &[u64], oc: &mut [u8]) {
    if xc.len() < GROUP / 2 { super::eval_chunk(b, kc, xc, oc) } else { (chosen_eval().1)(b, kc, xc, oc) }
}

/// The paths [`keygen`] and [`eval`] run on this machine.
pub fn paths() -> (&'static str, &'static str) {
    (chosen_keygen().0, chosen_eval().0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    #[test]
    #[allow(clippy::needless_range_loop)]
    fn every_path_equals_the_scalar_one() {
        let mut rng = crate::rng::stream(14, 0);
        for bits in [1u32, 7, 8, 9, 31, 47, 63, 64] {
            let kw = key_words(bits);
            for n in [1usize, 4, 7, 8, 9, 31, 32] {
                let alphas: Vec<u64> = (0..n).map(|_| rng.random()).collect();
                let roots: Vec<[u128; 2]> = (0..n).map(|_| [rng.random(), rng.random()]).collect();
                let mut want = vec![0u64; n * kw];
                super::super::keygen_chunk(&alphas, bits, &roots, &mut want);
                for (name, f) in keygen_paths() {
                    let mut got = vec![u64::MAX; n * kw];
                    f(&alphas, bits, &roots, &mut got);
                    assert_eq!(got, want, "keygen path {name}, bits {bits}, n {n}");
                }
                // Points at, below and away from alpha, each key twice: up to 64 lanes.
                let xs: Vec<u64> = (0..2 * n)
                    .map(|q| match q % 3 {
                        0 => alphas[q % n],
                        1 => alphas[q % n].wrapping_sub(1),
                        _ => rng.random(),
                    })
                    .collect();
                for b in 0..2 {
                    let keys: Vec<KeyRef> = (0..2 * n)
                        .map(|q| KeyRef { seed: roots[q % n][b], bits, words: &want[(q % n) * kw..(q % n + 1) * kw] })
                        .collect();
                    let mut scalar = vec![0u8; 2 * n];
                    super::super::eval_chunk(b, &keys, &xs, &mut scalar);
                    for (name, f) in eval_paths() {
                        let mut got = vec![9u8; 2 * n];
                        f(b, &keys, &xs, &mut got);
                        assert_eq!(got, scalar, "eval path {name}, bits {bits}, n {n}, party {b}");
                    }
                }
            }
        }
    }
}
