//! Distributed comparison functions (Boyle, Chandran, Gilboa, Gupta, Ishai, Kumar, Rathee, Eurocrypt 2021,
//! Fig. 3): two keys `k0`, `k1` such that `Eval(k0, x) + Eval(k1, x) = beta * [x < alpha]` for every
//! `x` of `n` bits, while each key alone is pseudorandom. The payload `beta` is a pair of ring elements, so one
//! key yields shares of `[x < alpha]` and of `r * [x < alpha]` at once (what a spline gate needs).
//!
//! The tree PRG is fixed-key AES-128 in Matyas-Meyer-Oseas form, `G(s)_i = AES_K(s ^ i) ^ s ^ i`, with VAES or
//! AES-NI where the CPU has them ([`mmo`]: the path measured fastest at run time). Only the blocks a step needs are computed
//! (two per level to evaluate, eight per level for both parties to generate), and many keys or points go
//! through the tree in lockstep so that one AES call encrypts all their blocks of a level (64 blocks: AES-NI
//! keeps them in flight): [`eval_many`], [`keygen_many`]. The per-lane work around the AES call is branch-free
//! (the control bit selects corrections by masking), since a control bit is a coin flip the CPU cannot predict.
//! Where the CPU has AVX-512 the lockstep state is held lane-wise, eight keys or points a register, so that
//! work is one instruction for eight (`lanes`; the path measured fastest at first use, the same bits).
//!
//! A key is one 128-bit root seed and its correction words, stored packed as ring words (what the dealer
//! sends, read in place by the evaluation): per level the seed correction (2 words) and the value correction
//! (2 words), then the control-bit corrections (2 bits per level, in 2 words: up to 64 levels), then the final
//! value correction (2 words). Both parties' keys share the correction words: `4 n + 4` words, `32 n + 32`
//! bytes for `n` bits.
//!
//! Early termination (stopping the tree `k` levels above the leaves, with `2^k` payload slots in the final
//! word) is not used: with a 16-byte payload the final word would grow by `2^k x 16` bytes to save `k x 32`,
//! a larger key for every `k >= 2`, and evaluation would save at most `2k` of `2n + 1` AES blocks.

use rand::Rng;

use super::mmo;

/// The payload group: pairs of ring elements.
pub type Payload = [u64; 2];

/// Ring words of one key's correction words on `bits`-bit inputs: 4 per level, 2 of control bits, 2 final.
pub const fn key_words(bits: u32) -> usize {
    4 * bits as usize + 4
}

/// One party's key, owning its packed correction words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DcfKey {
    /// The party's root seed (lowest bit clear).
    pub seed: u128,
    /// Input bits compared, most significant first (1 to 64).
    pub bits: u32,
    /// The packed correction words (shared by both keys): [`key_words`]`(bits)` of them.
    pub words: Vec<u64>,
}

impl DcfKey {
    /// The key as a view.
    pub fn view(&self) -> KeyRef<'_> {
        KeyRef { seed: self.seed, bits: self.bits, words: &self.words }
    }

    /// Bytes a dealer sends for this key (the root seed comes from a seed both hold instead).
    pub fn wire_bytes(&self) -> u64 {
        8 * self.words.len() as u64
    }
}

/// One party's key whose packed correction words live elsewhere (in a received message).
#[derive(Debug, Clone, Copy)]
pub struct KeyRef<'a> {
    /// The party's root seed (lowest bit clear).
    pub seed: u128,
    /// Input bits compared (1 to 64).
    pub bits: u32,
    /// The packed correction words: [`key_words`]`(bits)` of them.
    pub words: &'a [u64],
}

impl KeyRef<'_> {
    /// The seed and value corrections of `level` (one bounds check for the four words).
    #[inline]
    fn cws(&self, level: usize) -> (u128, Payload) {
        let w: &[u64; 4] = self.words[4 * level..4 * level + 4].try_into().expect("four words per level");
        (w[0] as u128 | (w[1] as u128) << 64, [w[2], w[3]])
    }

    /// The control-bit correction of `level` on side `r` (0 left, 1 right), as 0 or 1.
    #[inline]
    fn bit_cw(&self, level: usize, r: u64) -> u64 {
        let i = 2 * level;
        (self.words[4 * self.bits as usize + i / 64] >> (i % 64 + r as usize)) & 1
    }

    #[inline]
    fn last(&self) -> Payload {
        let at = 4 * self.bits as usize + 2;
        [self.words[at], self.words[at + 1]]
    }
}

/// Blocks per AES call.
const BLOCKS: usize = 64;

/// The blocks of many lanes' tree level, hashed in one call.
struct Lanes([u128; BLOCKS]);

impl Lanes {
    fn new() -> Self {
        Self([0; BLOCKS])
    }

    /// Sets input `q`.
    #[inline]
    fn set(&mut self, q: usize, x: u128) {
        self.0[q] = x;
    }

    /// `AES_K(x_q) ^ x_q` for the first `n <= 64` inputs, in one call ([`mmo::hash`]); `get(q)` reads them.
    #[inline]
    fn run(&mut self, n: usize) {
        mmo::hash(&mut self.0[..n]);
    }

    #[inline]
    fn get(&self, q: usize) -> u128 {
        self.0[q]
    }
}

#[inline]
fn value(b: u128) -> Payload {
    [b as u64, (b >> 64) as u64]
}

#[inline]
fn add(a: Payload, b: Payload) -> Payload {
    [a[0].wrapping_add(b[0]), a[1].wrapping_add(b[1])]
}

#[inline]
fn sub(a: Payload, b: Payload) -> Payload {
    [a[0].wrapping_sub(b[0]), a[1].wrapping_sub(b[1])]
}

/// `-a` where `m` is all ones, `a` where it is zero (no branch).
#[inline]
fn neg_masked(a: Payload, m: u64) -> Payload {
    [(a[0] ^ m).wrapping_sub(m), (a[1] ^ m).wrapping_sub(m)]
}

#[inline]
fn and(a: Payload, m: u64) -> Payload {
    [a[0] & m, a[1] & m]
}

/// All ones if `bit` (0 or 1) is set.
#[inline]
pub(super) fn mask(bit: u64) -> u64 {
    bit.wrapping_neg()
}

#[inline]
pub(super) fn wide(m: u64) -> u128 {
    (m as u128) << 64 | m as u128
}

/// Bit `level` of the `bits`-bit `x`, most significant first.
#[inline]
pub(super) fn bit(x: u64, bits: u32, level: usize) -> u64 {
    (x >> (bits as usize - 1 - level)) & 1
}

/// The low `bits` bits.
pub(super) fn input_mask(bits: u32) -> u64 {
    if bits >= 64 { u64::MAX } else { (1u64 << bits) - 1 }
}

/// Keys for `beta * [x < alpha]` on `bits`-bit inputs (`1..=64`; `alpha` and inputs are taken mod 2^bits),
/// with fresh root seeds from `rng`.
pub fn keygen<R: Rng + ?Sized>(alpha: u64, beta: Payload, bits: u32, rng: &mut R) -> (DcfKey, DcfKey) {
    let root = [
        rng.next_u64() as u128 | (rng.next_u64() as u128) << 64,
        rng.next_u64() as u128 | (rng.next_u64() as u128) << 64,
    ];
    keygen_from(alpha, beta, bits, root)
}

/// [`keygen`] from given root seeds (each party can draw its own from a seed it shares with the dealer, so
/// that only the correction words travel).
pub fn keygen_from(alpha: u64, beta: Payload, bits: u32, root: [u128; 2]) -> (DcfKey, DcfKey) {
    let mut words = vec![0u64; key_words(bits)];
    keygen_many(&[alpha], &[beta], bits, &[root], &mut words);
    let key = |seed: u128| DcfKey { seed: seed & !1, bits, words: words.clone() };
    (key(root[0]), key(root[1]))
}

/// Keys for `beta_k * [x < alpha_k]` on `bits`-bit inputs from root seeds `roots[k]` (the parties' root seeds are
/// `roots[k][p]` with the lowest bit cleared), their packed correction words into `out` ([`key_words`]`(bits)`
/// words per key, one key after another). Eight keys go through their trees in lockstep: each level's eight
/// blocks of each (both parties' seeds and values, left and right) in one AES call, and where the CPU has
/// AVX-512 each word of the eight keys' state in one register (`lanes`: the bookkeeping around the AES call
/// one instruction for the eight keys), on the path measured fastest at first use.
pub fn keygen_many(alphas: &[u64], betas: &[Payload], bits: u32, roots: &[[u128; 2]], out: &mut [u64]) {
    let kw = key_words(bits);
    assert!((1..=64).contains(&bits), "1 to 64 bits");
    assert!(
        alphas.len() == betas.len() && betas.len() == roots.len() && out.len() == alphas.len() * kw,
        "one alpha, beta, root pair and key's words per key"
    );
    const K: usize = lanes::KEYS;
    for (((ac, bc), rc), oc) in alphas.chunks(K).zip(betas.chunks(K)).zip(roots.chunks(K)).zip(out.chunks_mut(K * kw)) {
        lanes::group(ac, bc, bits, rc, oc);
    }
}

/// One group of up to eight keys on the scalar path: their trees in lockstep, each level's eight blocks of
/// each (both parties' seeds and values, left and right) in one AES call.
fn keygen_group(ac: &[u64], bc: &[Payload], bits: u32, rc: &[[u128; 2]], oc: &mut [u64]) {
    const KEYS: usize = BLOCKS / 8;
    let kw = key_words(bits);
    let low = input_mask(bits);
    let mut lanes = Lanes::new();
    let n = ac.len();
    // Per key: both parties' seeds, control bits (0/1), and the value on alpha's path so far; its eight
    // inputs of the first level set.
    let mut st = [([0u128; 2], [0u64, 1u64], [0u64; 2]); KEYS];
    for ((w, r), blk) in st.iter_mut().zip(rc).zip(lanes.0.chunks_exact_mut(8)) {
        w.0 = [r[0] & !1, r[1] & !1];
        for (j, b) in blk.iter_mut().enumerate() {
            *b = w.0[j / 4] ^ (j % 4) as u128;
        }
    }
    // Every word is written below but the control bits, which are ORed in level by level.
    for cw in oc.chunks_exact_mut(kw) {
        cw[4 * bits as usize..kw - 2].fill(0);
    }
    for level in 0..bits as usize {
        lanes.run(8 * n);
        // One pass per level: read a key's eight blocks, write its correction words, set its next inputs.
        for (((w, blk), (&alpha, beta)), cw) in
            st.iter_mut().zip(lanes.0.chunks_exact_mut(8)).zip(ac.iter().zip(bc)).zip(oc.chunks_exact_mut(kw))
        {
            let e = &*blk;
            let a = bit(alpha & low, bits, level);
            // Party p's block j is e[4p + j]: j = 2a is the side alpha takes (its seed and bit; 2a + 1 its
            // value), the other side is lost.
            let (ka, la) = (2 * a as usize, 2 - 2 * a as usize);
            let (keep, lose) = ([e[ka], e[4 + ka]], [e[la], e[4 + la]]);
            let (keep_v, lose_v) = ([value(e[ka + 1]), value(e[4 + ka + 1])], [value(e[la + 1]), value(e[4 + la + 1])]);
            let s_cw = (lose[0] ^ lose[1]) & !1;
            let t1 = mask(w.1[1]);
            // alpha goes right: every x going left (x < alpha) collects beta here.
            let v_cw = add(neg_masked(sub(sub(lose_v[1], lose_v[0]), w.2), t1), and(neg_masked(*beta, t1), mask(a)));
            w.2 = add(sub(add(w.2, keep_v[0]), keep_v[1]), neg_masked(v_cw, t1));
            let tl = ((e[0] ^ e[4]) as u64 & 1) ^ a ^ 1;
            let tr = ((e[2] ^ e[6]) as u64 & 1) ^ a;
            let t_keep = if a == 1 { tr } else { tl };
            let c: &mut [u64; 4] = (&mut cw[4 * level..4 * level + 4]).try_into().expect("four words per level");
            *c = [s_cw as u64, (s_cw >> 64) as u64, v_cw[0], v_cw[1]];
            cw[4 * bits as usize + level / 32] |= (tl | tr << 1) << (2 * level % 64);
            for ((s, t), kept) in w.0.iter_mut().zip(w.1.iter_mut()).zip(keep) {
                *s = (kept & !1) ^ (s_cw & wide(mask(*t)));
                *t = (kept as u64 & 1) ^ (*t & t_keep);
            }
            for (j, b) in blk.iter_mut().enumerate() {
                *b = w.0[j / 4] ^ (j % 4) as u128;
            }
        }
    }
    for (k, w) in st.iter().take(n).enumerate() {
        lanes.set(2 * k, w.0[0] ^ 4);
        lanes.set(2 * k + 1, w.0[1] ^ 4);
    }
    lanes.run(2 * n);
    for (k, (w, cw)) in st.iter().zip(oc.chunks_exact_mut(kw)).enumerate() {
        let g = [value(lanes.get(2 * k)), value(lanes.get(2 * k + 1))];
        let last = neg_masked(sub(sub(g[1], g[0]), w.2), mask(w.1[1]));
        cw[kw - 2..].copy_from_slice(&last);
    }
}

/// Party `b`'s share of `beta * [x < alpha]` (one point; [`eval_many`] for many).
pub fn eval(b: usize, key: &DcfKey, x: u64) -> Payload {
    let mut out = [[0u64; 2]];
    eval_many(b, &[key.view()], &[x], &mut out);
    out[0]
}

/// Party `b`'s shares of `beta * [x < alpha]` at every `x` of `xs`, into `out` ([`eval_many`] with one key).
pub fn eval_at(b: usize, key: KeyRef<'_>, xs: &[u64], out: &mut [Payload]) {
    let keys = [key; LANES];
    for (xc, oc) in xs.chunks(LANES).zip(out.chunks_mut(LANES)) {
        eval_many(b, &keys[..xc.len()], xc, oc);
    }
}

/// Party `b`'s share of `beta_k * [x_k < alpha_k]` for each key `keys[k]` at `xs[k]`, into `out`; every key
/// compares the same number of bits. The points walk their trees in lockstep, 32 at a time, each level's AES
/// blocks of all of them in one call, and only the two blocks a path takes (the chosen side's seed and
/// value) are computed, not all five of `G(s)`. Equal to [`eval_unbatched`] at each point.
pub fn eval_many(b: usize, keys: &[KeyRef<'_>], xs: &[u64], out: &mut [Payload]) {
    assert!(keys.len() == xs.len() && xs.len() == out.len(), "one key and one output per point");
    for ((kc, xc), oc) in keys.chunks(LANES).zip(xs.chunks(LANES)).zip(out.chunks_mut(LANES)) {
        let bits = kc[0].bits;
        assert!(
            kc.iter().all(|k| k.bits == bits && k.words.len() == key_words(bits)),
            "keys of one call compare the same number of bits"
        );
        lanes::eval(b, kc, xc, oc);
    }
}

/// Points evaluated in lockstep: two blocks each per AES call.
const LANES: usize = BLOCKS / 2;

/// Up to [`LANES`] points on the scalar path (their keys checked by the caller: one width, whole keys).
fn eval_chunk(b: usize, kc: &[KeyRef<'_>], xc: &[u64], oc: &mut [Payload]) {
    let party = mask(u64::from(b == 1));
    let mut lanes = Lanes::new();
    let n = xc.len();
    let bits = kc[0].bits;
    // Per lane: its seed, control bit (0/1) and value sum; the inputs of the first level set.
    let mut walk = [(0u128, party & 1, [0u64; 2]); LANES];
    for ((w, key), (x, pair)) in walk.iter_mut().zip(kc).zip(xc.iter().zip(lanes.0.chunks_exact_mut(2))) {
        w.0 = key.seed;
        let side = (bit(*x, bits, 0) as u128) << 1;
        pair[0] = key.seed ^ side;
        pair[1] = key.seed ^ side ^ 1;
    }
    for level in 0..bits as usize {
        lanes.run(2 * n);
        let next = level + 1 < bits as usize;
        // One pass per level: read the two blocks, correct, and set the next level's inputs in place.
        for ((w, key), (x, pair)) in walk.iter_mut().zip(kc).zip(xc.iter().zip(lanes.0.chunks_exact_mut(2))) {
            let r = bit(*x, bits, level);
            let tm = mask(w.1);
            let (s_cw, v_cw) = key.cws(level);
            let s = (pair[0] & !1) ^ (s_cw & wide(tm));
            w.1 = (pair[0] as u64 & 1) ^ (key.bit_cw(level, r) & w.1);
            w.2 = add(w.2, add(value(pair[1]), and(v_cw, tm)));
            w.0 = s;
            if next {
                let side = (bit(*x, bits, level + 1) as u128) << 1;
                pair[0] = s ^ side;
                pair[1] = s ^ side ^ 1;
            }
        }
    }
    for (k, w) in walk.iter().take(n).enumerate() {
        lanes.set(k, w.0 ^ 4);
    }
    lanes.run(n);
    for (k, (w, key)) in walk.iter().zip(kc).enumerate() {
        let fin = add(value(lanes.get(k)), and(key.last(), mask(w.1)));
        oc[k] = neg_masked(add(w.2, fin), party);
    }
}

// The first-written evaluation and key generation: the references the lockstep code is tested and
// benchmarked against.
#[doc(hidden)]
pub mod reference;
// AVX-512 intrinsics, behind run-time feature detection and a timing.
#[allow(unsafe_code)]
mod lanes;
pub use lanes::{eval_path, path as keygen_path};
#[doc(hidden)]
pub use reference::{eval_unbatched, keygen_unbatched};

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    #[test]
    fn keys_share_beta_below_alpha_and_zero_elsewhere() {
        let mut rng = crate::rng::stream(7, 0);
        for bits in [1u32, 2, 5, 13, 31, 32, 33, 63, 64] {
            for _ in 0..20 {
                let alpha: u64 = rng.random();
                let beta: Payload = [rng.random(), rng.random()];
                let (k0, k1) = keygen(alpha, beta, bits, &mut rng);
                assert_eq!(k0.words.len(), key_words(bits));
                assert_eq!(k0.wire_bytes(), 32 * u64::from(bits) + 32);
                let a = alpha & input_mask(bits);
                let mut points: Vec<u64> = (0..30).map(|_| rng.random::<u64>() & input_mask(bits)).collect();
                points.extend([
                    0,
                    input_mask(bits),
                    a,
                    a.wrapping_sub(1) & input_mask(bits),
                    a.wrapping_add(1) & input_mask(bits),
                ]);
                for x in points {
                    let got = add(eval(0, &k0, x), eval(1, &k1, x));
                    let want = if x < a { beta } else { [0, 0] };
                    assert_eq!(got, want, "bits {bits}, alpha {a:#x}, x {x:#x}");
                    assert_eq!(eval_unbatched(0, &k0, x), eval(0, &k0, x));
                    assert_eq!(eval_unbatched(1, &k1, x), eval(1, &k1, x));
                }
            }
        }
    }

    #[test]
    fn keys_made_in_lockstep_equal_keys_made_one_at_a_time() {
        let mut rng = crate::rng::stream(11, 0);
        for bits in [1u32, 9, 47, 64] {
            for n in [1usize, 7, 8, 9, 20] {
                let alphas: Vec<u64> = (0..n).map(|_| rng.random()).collect();
                let betas: Vec<Payload> = (0..n).map(|_| [rng.random(), rng.random()]).collect();
                let roots: Vec<[u128; 2]> = (0..n).map(|_| [rng.random(), rng.random()]).collect();
                // Garbage first: every word of the output must be written.
                let mut words = vec![u64::MAX; n * key_words(bits)];
                keygen_many(&alphas, &betas, bits, &roots, &mut words);
                for k in 0..n {
                    let (one, _) = keygen_from(alphas[k], betas[k], bits, roots[k]);
                    assert_eq!(
                        one.words,
                        keygen_unbatched(alphas[k], betas[k], bits, roots[k]),
                        "as first written: bits {bits}, key {k}"
                    );
                    assert_eq!(
                        &words[k * key_words(bits)..(k + 1) * key_words(bits)],
                        &one.words[..],
                        "bits {bits}, n {n}, key {k}"
                    );
                }
            }
        }
    }

    #[test]
    fn lockstep_evaluation_equals_one_point_at_a_time() {
        let mut rng = crate::rng::stream(9, 0);
        for bits in [1u32, 7, 63, 64] {
            let (k0, k1) = keygen(rng.random(), [3, 5], bits, &mut rng);
            for n in [1usize, 2, 31, 32, 33, 100] {
                let xs: Vec<u64> = (0..n).map(|_| rng.random()).collect();
                for (b, k) in [(0, &k0), (1, &k1)] {
                    let mut out = vec![[0u64; 2]; n];
                    eval_at(b, k.view(), &xs, &mut out);
                    let one: Vec<Payload> = xs.iter().map(|&x| eval_unbatched(b, k, x)).collect();
                    assert_eq!(out, one, "bits {bits}, n {n}");
                    // Different keys in one call: each lane its own.
                    let others: Vec<DcfKey> =
                        (0..n).map(|q| keygen(q as u64 * 977, [1, 2], bits, &mut rng).0).collect();
                    let refs: Vec<KeyRef> = others.iter().map(DcfKey::view).collect();
                    let mut many = vec![[0u64; 2]; n];
                    eval_many(0, &refs, &xs, &mut many);
                    let each: Vec<Payload> = others.iter().zip(&xs).map(|(k, &x)| eval_unbatched(0, k, x)).collect();
                    assert_eq!(many, each, "bits {bits}, n {n}, many keys");
                }
            }
        }
    }

    #[test]
    fn one_key_alone_looks_random() {
        // The same alpha and beta, two key generations: P0's shares at a point differ (no value leaks as is).
        let mut rng = crate::rng::stream(8, 0);
        let (a, _) = keygen(100, [1, 1], 16, &mut rng);
        let (b, _) = keygen(100, [1, 1], 16, &mut rng);
        assert_ne!(eval(0, &a, 5), eval(0, &b, 5));
    }
}
