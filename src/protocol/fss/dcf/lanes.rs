//! Key generation and evaluation in structure-of-arrays form on AVX-512: a group of eight keys (or points)
//! holds each word of its state in one 512-bit register (lane `k` is key `k`'s word) and each control bit in
//! one bit of a mask register, so the per-level bookkeeping around the AES call (choosing the kept and the
//! lost side, the corrections, the next seeds and values) is one instruction for all eight where the scalar
//! code spends one per key and word. The AES blocks go to and from [`mmo::hash`] interleaved by unpacking in
//! registers, and an evaluation's correction words are read four at a time per key and transposed.
//!
//! The same construction as [`super::keygen_many`]'s and [`super::eval_many`]'s scalar paths, bit for bit
//! (every path tested against the first-written reference); which path runs is chosen at first use by timing
//! each on the same work, as the AES and ring kernels are. `cargo bench --bench fss -- dcf` prints the paths
//! chosen.

use std::sync::OnceLock;

use super::super::mmo;
use super::{KeyRef, Payload, key_words};
use crate::protocol::fss::simd::{fastest, lane_paths};

/// Keys per group: one 64-bit word of each in a 512-bit register.
pub(super) const KEYS: usize = 8;

/// A path: writes the correction words of up to [`KEYS`] keys (`out` holds `key_words(bits)` words per key,
/// one key after another).
pub(super) type Group = fn(&[u64], &[Payload], u32, &[[u128; 2]], &mut [u64]);

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::*;
    use crate::protocol::fss::simd::{Blocks, x86::get, x86::put};
    use std::arch::x86_64::*;

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
        let mut blocks = Blocks::new();
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

    /// Four consecutive words of each lane's key from word `at`, transposed: `w[i]` lane `k` is word `at + i`
    /// of key `k` (the inverse of [`store4`]).
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn load4(keys: &[*const u64; KEYS], at: usize) -> [__m512i; 4] {
        // SAFETY: every pointer is to a whole key of key_words(bits) words and at + 4 stays inside it (the
        // caller's contract); unaligned loads are allowed.
        let row = |k: usize| unsafe { _mm256_loadu_si256(keys[k].add(at) as *const __m256i) };
        let pair = |a: usize, b: usize| _mm512_inserti64x4::<1>(_mm512_castsi256_si512(row(a)), row(b));
        let (r02, r13, r46, r57) = (pair(0, 2), pair(1, 3), pair(4, 6), pair(5, 7));
        let first = _mm512_set_epi64(13, 12, 9, 8, 5, 4, 1, 0);
        let second = _mm512_set_epi64(15, 14, 11, 10, 7, 6, 3, 2);
        let (lo01, lo23) = (_mm512_permutex2var_epi64(r02, first, r46), _mm512_permutex2var_epi64(r02, second, r46));
        let (hi01, hi23) = (_mm512_permutex2var_epi64(r13, first, r57), _mm512_permutex2var_epi64(r13, second, r57));
        [
            _mm512_unpacklo_epi64(lo01, hi01),
            _mm512_unpackhi_epi64(lo01, hi01),
            _mm512_unpacklo_epi64(lo23, hi23),
            _mm512_unpackhi_epi64(lo23, hi23),
        ]
    }

    /// One word of each lane's key.
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn gather1(keys: &[*const u64; KEYS], at: usize) -> __m512i {
        // SAFETY: as in load4, one word each.
        let w: [u64; KEYS] = std::array::from_fn(|k| unsafe { *keys[k].add(at) });
        // SAFETY: w is 64 bytes.
        unsafe { _mm512_loadu_si512(w.as_ptr() as *const __m512i) }
    }

    /// Party `b`'s evaluation of up to [`super::super::LANES`] points (as [`super::super::eval_chunk`], bit
    /// for bit), in groups of eight lanes a register: per level each lane's seed and value blocks (the side
    /// its bit takes) for all groups in one AES call, then the corrections of a group in a few instructions.
    #[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw")]
    pub(super) fn eval(b: usize, kc: &[KeyRef<'_>], xc: &[u64], oc: &mut [Payload]) {
        const GROUPS: usize = super::super::LANES / KEYS;
        let n = xc.len();
        let groups = n.div_ceil(KEYS);
        let bits = kc[0].bits;
        // What the unchecked loads below rely on (the callers check it too; 32 comparisons a call).
        assert!(
            (1..=super::super::LANES).contains(&n)
                && kc.len() == n
                && oc.len() == n
                && kc.iter().all(|k| k.bits == bits && k.words.len() == key_words(bits)),
            "1 to 32 points, one whole key of one width and one output each"
        );
        let zero = _mm512_setzero_si512();
        let one = _mm512_set1_epi64(1);
        let not_one = _mm512_set1_epi64(!1);
        // Lanes past n walk the first point's key and tree, and are not written.
        let ptr: [[*const u64; KEYS]; GROUPS] =
            std::array::from_fn(|g| std::array::from_fn(|k| kc.get(g * KEYS + k).unwrap_or(&kc[0]).words.as_ptr()));
        let lane = |g: usize, f: &dyn Fn(usize) -> u64| {
            let w: [u64; KEYS] = std::array::from_fn(|k| f((g * KEYS + k).min(n - 1)));
            // SAFETY: w is 64 bytes.
            unsafe { _mm512_loadu_si512(w.as_ptr() as *const __m512i) }
        };
        let x: [__m512i; GROUPS] = std::array::from_fn(|g| if g < groups { lane(g, &|q| xc[q]) } else { zero });
        let mut s: [[__m512i; 2]; GROUPS] = std::array::from_fn(|g| {
            if g < groups {
                [lane(g, &|q| kc[q].seed as u64), lane(g, &|q| (kc[q].seed >> 64) as u64)]
            } else {
                [zero; 2]
            }
        });
        let mut t: [__mmask8; GROUPS] = [if b == 1 { 0xff } else { 0 }; GROUPS];
        let mut v = [[zero; 2]; GROUPS];
        let mut tb = [zero; GROUPS];
        let tb_at = 4 * bits as usize;
        let mut blocks = Blocks::new();
        for level in 0..bits as usize {
            let at = _mm512_set1_epi64(1i64 << (bits as usize - 1 - level));
            let mut r: [__mmask8; GROUPS] = [0; GROUPS];
            for g in 0..groups {
                if level % 32 == 0 {
                    tb[g] = gather1(&ptr[g], tb_at + level / 32);
                }
                r[g] = _mm512_test_epi64_mask(x[g], at);
                // The side the bit takes: seed s ^ 2r, value s ^ 2r ^ 1.
                let seed = _mm512_mask_xor_epi64(s[g][0], r[g], s[g][0], _mm512_set1_epi64(2));
                put(&mut blocks, 2 * g, seed, s[g][1]);
                put(&mut blocks, 2 * g + 1, _mm512_xor_si512(seed, one), s[g][1]);
            }
            mmo::hash(&mut blocks.0[..16 * groups]);
            let shift = _mm512_set1_epi64((2 * level % 64) as i64);
            for g in 0..groups {
                let (sd, vl) = (get(&blocks, 2 * g), get(&blocks, 2 * g + 1));
                let [s_lo, s_hi, v0, v1] = load4(&ptr[g], 4 * level);
                let lo = _mm512_and_si512(sd.0, not_one);
                s[g] = [_mm512_mask_xor_epi64(lo, t[g], lo, s_lo), _mm512_mask_xor_epi64(sd.1, t[g], sd.1, s_hi)];
                // The control-bit correction of this level on the lane's side: bit 2 level + r of its word.
                let by = _mm512_mask_add_epi64(shift, r[g], shift, one);
                let bit_cw = _mm512_test_epi64_mask(_mm512_srlv_epi64(tb[g], by), one);
                v[g] = [
                    _mm512_add_epi64(v[g][0], _mm512_add_epi64(vl.0, _mm512_maskz_mov_epi64(t[g], v0))),
                    _mm512_add_epi64(v[g][1], _mm512_add_epi64(vl.1, _mm512_maskz_mov_epi64(t[g], v1))),
                ];
                t[g] = _mm512_test_epi64_mask(sd.0, one) ^ (bit_cw & t[g]);
            }
        }
        // The leaves: `G(s)_4`, plus the final correction where the control bit is set; P1 negates.
        for (g, [lo, hi]) in s.into_iter().enumerate().take(groups) {
            put(&mut blocks, g, _mm512_xor_si512(lo, _mm512_set1_epi64(4)), hi);
        }
        mmo::hash(&mut blocks.0[..8 * groups]);
        let party: __mmask8 = if b == 1 { 0xff } else { 0 };
        let mut res = [[0u64; 2 * KEYS]; GROUPS];
        for g in 0..groups {
            let leaf = get(&blocks, g);
            let fin = [
                _mm512_add_epi64(leaf.0, _mm512_maskz_mov_epi64(t[g], gather1(&ptr[g], tb_at + 2))),
                _mm512_add_epi64(leaf.1, _mm512_maskz_mov_epi64(t[g], gather1(&ptr[g], tb_at + 3))),
            ];
            let y: [__m512i; 2] = std::array::from_fn(|h| {
                let sum = _mm512_add_epi64(v[g][h], fin[h]);
                _mm512_mask_sub_epi64(sum, party, zero, sum)
            });
            // Keys 0, 2, 4, 6 and 1, 3, 5, 7 as pairs, then in order.
            let (ev, od) = (_mm512_unpacklo_epi64(y[0], y[1]), _mm512_unpackhi_epi64(y[0], y[1]));
            let first = _mm512_set_epi64(11, 10, 3, 2, 9, 8, 1, 0);
            let second = _mm512_set_epi64(15, 14, 7, 6, 13, 12, 5, 4);
            // SAFETY: res[g] is 128 bytes, two stores.
            unsafe {
                _mm512_storeu_si512(res[g].as_mut_ptr() as *mut __m512i, _mm512_permutex2var_epi64(ev, first, od));
                _mm512_storeu_si512(
                    res[g].as_mut_ptr().add(8) as *mut __m512i,
                    _mm512_permutex2var_epi64(ev, second, od),
                );
            }
        }
        for (q, o) in oc.iter_mut().enumerate() {
            let (g, k) = (q / KEYS, q % KEYS);
            *o = [res[g][2 * k], res[g][2 * k + 1]];
        }
    }
}

/// An evaluation path: party `b`'s shares at up to 32 points (the keys checked: one width, whole keys).
pub(super) type Eval = fn(usize, &[KeyRef<'_>], &[u64], &mut [Payload]);

/// Every evaluation path this CPU can run, with its name (the scalar one last).
pub(super) fn eval_paths() -> Vec<(&'static str, Eval)> {
    lane_paths!(Eval, eval, super::eval_chunk; b, k, x, o)
}

/// Every path this CPU can run, with its name (the scalar one last).
pub(super) fn paths() -> Vec<(&'static str, Group)> {
    lane_paths!(Group, group, super::keygen_group; a, b, n, r, o)
}

fn chosen() -> &'static (&'static str, Group) {
    static CHOSEN: OnceLock<(&'static str, Group)> = OnceLock::new();
    CHOSEN.get_or_init(|| {
        // A full group on 64 bits, 16 groups a run: about 0.15 ms a run on the scalar path.
        let alphas: Vec<u64> = (0..KEYS as u64).map(|k| k.wrapping_mul(0x9e37_79b9_7f4a_7c15)).collect();
        let betas: Vec<Payload> = (0..KEYS as u64).map(|k| [k, !k]).collect();
        let roots: Vec<[u128; 2]> = (0..KEYS as u128).map(|k| [k << 70 | k, !k]).collect();
        let out = std::cell::RefCell::new(vec![0u64; KEYS * key_words(64)]);
        fastest(paths(), |f: Group| {
            for _ in 0..16 {
                f(&alphas, &betas, 64, &roots, std::hint::black_box(&mut out.borrow_mut()[..]));
            }
        })
    })
}

fn chosen_eval() -> &'static (&'static str, Eval) {
    static CHOSEN: OnceLock<(&'static str, Eval)> = OnceLock::new();
    CHOSEN.get_or_init(|| {
        // 32 points on 32 keys of 64 bits, 16 times a run: about 0.2 ms a run on the scalar path.
        let mut words = vec![0u64; 32 * key_words(64)];
        let alphas: Vec<u64> = (0..32u64).map(|k| k.wrapping_mul(0x9e37_79b9_7f4a_7c15)).collect();
        let roots: Vec<[u128; 2]> = (0..32u128).map(|k| [k << 70 | k, !k]).collect();
        super::keygen_many(&alphas, &[[1, 2]; 32], 64, &roots, &mut words);
        let keys: Vec<KeyRef> = words
            .chunks(key_words(64))
            .zip(&roots)
            .map(|(w, r)| KeyRef { seed: r[0] & !1, bits: 64, words: w })
            .collect();
        let xs: Vec<u64> = (0..32u64).map(|k| k.wrapping_mul(0xc2b2_ae3d_27d4_eb4f)).collect();
        let out = std::cell::RefCell::new(vec![[0u64; 2]; 32]);
        fastest(eval_paths(), |f: Eval| {
            for _ in 0..16 {
                f(0, &keys, &xs, std::hint::black_box(&mut out.borrow_mut()[..]));
            }
        })
    })
}

/// Party `b`'s shares at up to 32 points (their keys checked by the caller) on the path measured fastest
/// here; fewer than four points on the scalar path (a vector path pays for eight lanes).
#[inline]
pub(super) fn eval(b: usize, keys: &[KeyRef<'_>], xs: &[u64], out: &mut [Payload]) {
    if xs.len() < KEYS / 2 { super::eval_chunk(b, keys, xs, out) } else { (chosen_eval().1)(b, keys, xs, out) }
}

/// The path [`eval`] runs on this machine.
pub fn eval_path() -> &'static str {
    chosen_eval().0
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

    #[test]
    fn every_evaluation_path_equals_the_first_written_evaluation() {
        let mut rng = crate::rng::stream(13, 0);
        let kinds: Vec<&str> = eval_paths().iter().map(|p| p.0).collect();
        assert!(kinds.contains(&eval_path()), "the chosen path is one of {kinds:?}");
        for bits in [1u32, 2, 31, 32, 33, 47, 63, 64] {
            for n in [1usize, 4, 7, 8, 9, 17, 31, 32] {
                let alphas: Vec<u64> = (0..n).map(|_| rng.random()).collect();
                let keys: Vec<(super::super::DcfKey, super::super::DcfKey)> = alphas
                    .iter()
                    .map(|&a| super::super::keygen(a, [rng.random(), rng.random()], bits, &mut rng))
                    .collect();
                // Points at, just below and away from each alpha: both sides of every comparison.
                let xs: Vec<u64> = alphas
                    .iter()
                    .enumerate()
                    .map(|(q, &a)| match q % 3 {
                        0 => a,
                        1 => a.wrapping_sub(1),
                        _ => rng.random(),
                    })
                    .collect();
                for b in 0..2 {
                    let refs: Vec<KeyRef> = keys.iter().map(|k| if b == 0 { k.0.view() } else { k.1.view() }).collect();
                    let want: Vec<Payload> = keys
                        .iter()
                        .zip(&xs)
                        .map(|(k, &x)| super::super::eval_unbatched(b, if b == 0 { &k.0 } else { &k.1 }, x))
                        .collect();
                    for (name, f) in eval_paths() {
                        let mut out = vec![[u64::MAX; 2]; n];
                        f(b, &refs, &xs, &mut out);
                        assert_eq!(out, want, "path {name}, bits {bits}, n {n}, party {b}");
                    }
                }
            }
        }
    }
}
