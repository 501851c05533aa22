//! Comparison from a distributed point function (Boyle, Gilboa, Ishai, CCS 2016, in the half-tree form of
//! Guo et al., "Half-Tree", Eurocrypt 2023, with early termination; the comparison read off the
//! evaluation path as in SIGMA, Gupta et al., PETS 2024): two keys such that the XOR of the parties' outputs at
//! `x` is `[x < alpha]`, on `n`-bit inputs, each key alone pseudorandom.
//!
//! The keys are those of the point function `e_alpha` with one-bit outputs. Evaluating at `x` walks `x`'s path
//! and, at every level where `x` goes left, also reads the control bit of the right-hand sibling: that node
//! lies on `alpha`'s path exactly when `alpha` agrees with `x` above this level and has a 1 where `x` has a 0,
//! i.e. when `x < alpha` is decided here. At most one such node is on the path, so the XOR of those control
//! bits (shared: their XOR over both parties is 1 on `alpha`'s path, 0 elsewhere) is `[x < alpha]` on the bits
//! above the leaf. The tree stops 7 levels above the leaves: a leaf is a 128-bit word whose shares XOR to the
//! unit vector at `alpha`'s low 7 bits (on `alpha`'s path, zero elsewhere), and the parity of its bits above
//! `x`'s low 7 bits settles the comparison inside the leaf.
//!
//! The tree is a half tree: the parties' root seeds differ by a secret `Delta` whose lowest bit is 1 (a seed's
//! lowest bit is its control bit), a node's left child is `H(s) ^ t CW` and its right child the left one XOR
//! `s`, with one correction word `CW = H(s_0) ^ H(s_1) ^ (1 - alpha_i) Delta` per level. On `alpha`'s path the
//! seeds keep differing by `Delta` on the side `alpha` takes and become equal on the other; off it they stay
//! equal. `H(x) = AES_K(sigma(x)) ^ sigma(x)` with the orthomorphism `sigma(a, b) = (b, a ^ b)` on a block's
//! halves is circular correlation robust for a fixed-key AES modelled as a random permutation (Guo et al., S&P
//! 2020), which is what the construction's security rests on; the leaf is `H(s ^ 2)`.
//!
//! Against the DCF ([`super::dcf`]), whose payload is a pair of ring elements: no value correction per level
//! and no control-bit corrections (a key is one 16-byte correction per level and one 16-byte leaf
//! correction), 7 levels fewer, and a quarter of the AES blocks: one per party per level to generate a key
//! and one per level to evaluate (the right child is the left one XOR the parent). The price is the output:
//! an XOR-shared bit, not arithmetic shares of `(1, r) [x < alpha]`, so a gate built on it needs a second
//! online round ([`super::gates`]).
//!
//! Many keys or points walk their trees in lockstep, each level's blocks of all of them in one AES call
//! ([`super::mmo`]), and where the CPU has AVX-512 their state is held lane-wise, eight a register (`lanes`;
//! the path measured fastest at first use, the same bits).

use super::dcf::{bit as path_bit, input_mask, mask, wide};
use super::mmo;

/// Input bits a leaf settles (a 128-bit leaf holds `2^7` one-bit outputs).
pub const LEAF_BITS: u32 = 7;

/// Tree levels above the leaves for `bits`-bit inputs.
pub const fn depth(bits: u32) -> usize {
    bits.saturating_sub(LEAF_BITS) as usize
}

/// Ring words of one key's correction words on `bits`-bit inputs: 2 per level (the seed correction; control
/// bits need none), 2 for the leaf correction.
pub const fn key_words(bits: u32) -> usize {
    2 * depth(bits) + 2
}

/// One party's key whose packed correction words live elsewhere (in a received message).
#[derive(Debug, Clone, Copy)]
pub struct KeyRef<'a> {
    /// The party's root seed (its lowest bit is ignored: party b's control bit starts at b).
    pub seed: u128,
    /// Input bits compared (1 to 64).
    pub bits: u32,
    /// The packed correction words: [`key_words`]`(bits)` of them.
    pub words: &'a [u64],
}

impl KeyRef<'_> {
    /// Starts fetching the key's first levels and its leaf word (keys stream from a message far larger than
    /// the caches: fetched on demand, a third of the evaluation went in waiting for them).
    #[inline]
    fn prefetch(&self) {
        mmo::prefetch(&self.words[..self.words.len().min(16)]);
        mmo::prefetch(&self.words[self.words.len().saturating_sub(4)..]);
    }

    #[inline]
    fn leaf_cw(&self) -> u128 {
        let at = self.words.len() - 2;
        self.words[at] as u128 | (self.words[at + 1] as u128) << 64
    }
}

/// Blocks per AES call.
const BLOCKS: usize = 64;

/// The low bits of `x` a leaf settles.
#[inline]
fn leaf_index(x: u64, bits: u32) -> u32 {
    (x & ((1u64 << LEAF_BITS.min(bits)) - 1)) as u32
}

/// The leaf positions above `i` (0 to 127).
#[inline]
fn above(i: u32) -> u128 {
    if i >= 127 { 0 } else { !((1u128 << (i + 1)) - 1) }
}

/// The linear orthomorphism `sigma(a, b) = (b, a ^ b)` on a block's 64-bit halves (low `a`, high `b`): the
/// hash `H(x) = AES_K(sigma(x)) ^ sigma(x)` is [`mmo::hash`] of `sigma(x)`.
#[inline]
fn sigma(x: u128) -> u128 {
    (x >> 64) | ((x ^ (x >> 64)) << 64)
}

/// The tweak that separates the leaf's hash from the tree's.
const LEAF: u128 = 2;

/// Party `b`'s root seed: the drawn seed with its lowest bit (the control bit) set to `b`.
#[inline]
fn root(seed: u128, b: usize) -> u128 {
    (seed & !1) | (b as u128 & 1)
}

/// Keys for `[x < alpha_k]` on `bits`-bit inputs (`1..=64`; `alpha` taken mod 2^bits) from root seeds
/// `roots[k]` (party p's root seed is `roots[k][p]` with its lowest bit set to p), their packed correction
/// words into `out` ([`key_words`]`(bits)` words per key, one key after another). Thirty-two keys go through
/// their trees in lockstep: each level's two blocks of each (one per party) in one AES call.
pub fn keygen_many(alphas: &[u64], bits: u32, roots: &[[u128; 2]], out: &mut [u64]) {
    assert!((1..=64).contains(&bits), "1 to 64 bits");
    let kw = key_words(bits);
    assert!(
        alphas.len() == roots.len() && out.len() == alphas.len() * kw,
        "one alpha, root pair and key's words per key"
    );
    for ((ac, rc), oc) in alphas.chunks(KEYS).zip(roots.chunks(KEYS)).zip(out.chunks_mut(KEYS * kw)) {
        lanes::keygen(ac, bits, rc, oc);
    }
}

/// Keys generated in lockstep: two blocks each per AES call.
const KEYS: usize = BLOCKS / 2;

/// Up to [`KEYS`] keys on the scalar path (their sizes checked by the caller).
fn keygen_chunk(ac: &[u64], bits: u32, rc: &[[u128; 2]], oc: &mut [u64]) {
    let kw = key_words(bits);
    let d = depth(bits);
    let low = input_mask(bits);
    let mut blocks = [0u128; BLOCKS];
    let n = ac.len();
    // Per key: both parties' seeds (their lowest bits the control bits, 0 and 1 at the root) and their
    // difference Delta.
    let mut seeds = [[0u128; 2]; KEYS];
    let mut delta = [0u128; KEYS];
    for (((s, dl), r), pair) in seeds.iter_mut().zip(delta.iter_mut()).zip(rc).zip(blocks.chunks_exact_mut(2)) {
        *s = [root(r[0], 0), root(r[1], 1)];
        *dl = s[0] ^ s[1];
        pair.copy_from_slice(&[sigma(s[0]), sigma(s[1])]);
    }
    for level in 0..d {
        mmo::hash(&mut blocks[..2 * n]);
        // One pass per level: read a key's two hashes, write its correction, set its next inputs in place.
        for ((((s, dl), pair), &alpha), cw) in
            seeds.iter_mut().zip(&delta).zip(blocks.chunks_exact_mut(2)).zip(ac).zip(oc.chunks_exact_mut(kw))
        {
            let a = path_bit(alpha & low, bits, level);
            // alpha's side keeps the difference Delta, the other side's seeds become equal.
            let c = pair[0] ^ pair[1] ^ (dl & wide(mask(a ^ 1)));
            cw[2 * level] = c as u64;
            cw[2 * level + 1] = (c >> 64) as u64;
            let am = wide(mask(a));
            for (s, h) in s.iter_mut().zip(pair.iter_mut()) {
                // Left child h ^ t CW, right child the left one ^ s: alpha's side.
                let left = *h ^ (c & wide(mask(*s as u64 & 1)));
                *s = left ^ (*s & am);
                *h = sigma(*s);
            }
        }
    }
    for (s, pair) in seeds.iter().zip(blocks.chunks_exact_mut(2)).take(n) {
        pair.copy_from_slice(&[sigma(s[0] ^ LEAF), sigma(s[1] ^ LEAF)]);
    }
    mmo::hash(&mut blocks[..2 * n]);
    for ((pair, &alpha), cw) in blocks.chunks_exact(2).zip(ac).zip(oc.chunks_exact_mut(kw)) {
        let leaf = pair[0] ^ pair[1] ^ (1u128 << leaf_index(alpha, bits));
        cw[kw - 2] = leaf as u64;
        cw[kw - 1] = (leaf >> 64) as u64;
    }
}

/// Party `b`'s XOR share (0 or 1) of `[x_k < alpha_k]` for each key `keys[k]` at `xs[k]`, into `out`; every key
/// compares the same number of bits. The points walk their trees in lockstep, 64 at a time, the one block of
/// each level of all of them in one AES call.
pub fn eval_many(b: usize, keys: &[KeyRef<'_>], xs: &[u64], out: &mut [u8]) {
    assert!(keys.len() == xs.len() && xs.len() == out.len(), "one key and one output per point");
    for (chunk, ((kc, xc), oc)) in keys.chunks(LANES).zip(xs.chunks(LANES)).zip(out.chunks_mut(LANES)).enumerate() {
        let bits = kc[0].bits;
        assert!(
            kc.iter().all(|k| k.bits == bits && k.words.len() == key_words(bits)),
            "keys of one call compare the same number of bits"
        );
        // The next chunk's keys on their way while this one walks (keys stream from a message far larger than
        // the caches; fetched on demand, a third of the time went in waiting for them).
        for k in keys.iter().skip((chunk + 1) * LANES).take(LANES) {
            k.prefetch();
        }
        lanes::eval(b, kc, xc, oc);
    }
}

/// Points evaluated in lockstep: one block each per AES call.
const LANES: usize = BLOCKS;

/// Up to [`LANES`] points on the scalar path (their keys checked by the caller: one width, whole keys).
fn eval_chunk(b: usize, kc: &[KeyRef<'_>], xc: &[u64], oc: &mut [u8]) {
    let mut blocks = [0u128; BLOCKS];
    let n = xc.len();
    let bits = kc[0].bits;
    let low = input_mask(bits);
    let d = depth(bits);
    // Per lane: the seed (its lowest bit the control bit), the XOR of the right siblings' control bits where
    // the path went left, and its key's seed corrections.
    let mut seeds = [0u128; LANES];
    let mut acc = [0u64; LANES];
    let mut cws: [&[u64]; LANES] = [&[]; LANES];
    for (((s, c), key), blk) in seeds.iter_mut().zip(cws.iter_mut()).zip(kc).zip(blocks.iter_mut()) {
        *s = root(key.seed, b);
        *c = &key.words[..2 * d];
        *blk = sigma(*s);
    }
    for level in 0..d {
        mmo::hash(&mut blocks[..n]);
        if level % 4 == 0 {
            for cw in &cws[..n] {
                mmo::prefetch(cw.get(2 * level + 8..2 * level + 9).unwrap_or(&[]));
            }
        }
        let shift = bits as usize - 1 - level;
        // One pass per level: correct the left child, derive the right one, set the next input in place.
        for ((((s, a), cw), x), blk) in
            seeds.iter_mut().zip(acc.iter_mut()).zip(&cws).zip(xc).zip(blocks.iter_mut()).take(n)
        {
            let r = (x >> shift) & 1;
            let t = *s as u64 & 1;
            let c = cw[2 * level] as u128 | (cw[2 * level + 1] as u128) << 64;
            let left = *blk ^ (c & wide(mask(t)));
            // The right child's control bit: the left one's XOR the parent's.
            *a ^= (left as u64 ^ t) & 1 & (r ^ 1);
            *s = left ^ (*s & wide(mask(r)));
            *blk = sigma(*s);
        }
    }
    for (s, blk) in seeds.iter().zip(blocks.iter_mut()).take(n) {
        *blk = sigma(s ^ LEAF);
    }
    mmo::hash(&mut blocks[..n]);
    for ((((s, a), key), (x, blk)), o) in seeds.iter().zip(&acc).zip(kc).zip(xc.iter().zip(&blocks)).zip(oc.iter_mut())
    {
        let leaf = blk ^ (key.leaf_cw() & wide(mask(*s as u64 & 1)));
        let inside = (leaf & above(leaf_index(x & low, bits))).count_ones() as u64 & 1;
        *o = (a ^ inside) as u8;
    }
}

// AVX-512 intrinsics, behind run-time feature detection and a timing.
#[allow(unsafe_code)]
mod lanes;
pub use lanes::paths;
mod sets;
pub use sets::{eval_sets, sets_path};

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    fn keys(alpha: u64, bits: u32, rng: &mut impl rand::Rng) -> (u128, u128, Vec<u64>) {
        let root = [rng.next_u64() as u128 | (rng.next_u64() as u128) << 64, rng.random::<u128>()];
        let mut words = vec![0u64; key_words(bits)];
        keygen_many(&[alpha], bits, &[root], &mut words);
        (root[0] & !1, root[1] & !1, words)
    }

    fn cmp(seed: u128, bits: u32, words: &[u64], b: usize, xs: &[u64]) -> Vec<u8> {
        let key = KeyRef { seed, bits, words };
        let refs = vec![key; xs.len()];
        let mut out = vec![0u8; xs.len()];
        eval_many(b, &refs, xs, &mut out);
        out
    }

    #[test]
    fn shares_xor_to_x_below_alpha_on_every_width() {
        let mut rng = crate::rng::stream(17, 0);
        // Every point of small domains (the leaf alone, the leaf and one level, two levels).
        for bits in [1u32, 3, 7, 8, 9] {
            for alpha in 0..1u64 << bits {
                let (s0, s1, words) = keys(alpha, bits, &mut rng);
                let xs: Vec<u64> = (0..1u64 << bits).collect();
                let (a, b) = (cmp(s0, bits, &words, 0, &xs), cmp(s1, bits, &words, 1, &xs));
                for (x, (u, v)) in xs.iter().zip(a.iter().zip(&b)) {
                    assert_eq!(u ^ v, u8::from(*x < alpha), "bits {bits}, alpha {alpha}, x {x}");
                }
            }
        }
        // Random and edge points on wide domains.
        for bits in [13u32, 31, 32, 47, 63, 64] {
            let m = input_mask(bits);
            for _ in 0..30 {
                let alpha = rng.random::<u64>() & m;
                let (s0, s1, words) = keys(alpha, bits, &mut rng);
                let mut xs: Vec<u64> = (0..40).map(|_| rng.random::<u64>() & m).collect();
                xs.extend([0, m, alpha, alpha.wrapping_sub(1) & m, (alpha + 1) & m, alpha ^ 1, alpha ^ 128]);
                let (a, b) = (cmp(s0, bits, &words, 0, &xs), cmp(s1, bits, &words, 1, &xs));
                for (x, (u, v)) in xs.iter().zip(a.iter().zip(&b)) {
                    assert_eq!(u ^ v, u8::from(*x < alpha), "bits {bits}, alpha {alpha:#x}, x {x:#x}");
                }
            }
        }
    }

    #[test]
    fn keys_in_lockstep_equal_keys_one_at_a_time_and_many_keys_evaluate_apart() {
        let mut rng = crate::rng::stream(19, 0);
        for bits in [5u32, 47, 64] {
            for n in [1usize, 15, 16, 17, 40] {
                let alphas: Vec<u64> = (0..n).map(|_| rng.random()).collect();
                let roots: Vec<[u128; 2]> = (0..n).map(|_| [rng.random(), rng.random()]).collect();
                let kw = key_words(bits);
                let mut words = vec![u64::MAX; n * kw]; // garbage: keygen_many writes every word
                keygen_many(&alphas, bits, &roots, &mut words);
                let xs: Vec<u64> = (0..n).map(|_| rng.random::<u64>() & input_mask(bits)).collect();
                let mut shares = [vec![0u8; n], vec![0u8; n]];
                for (b, s) in shares.iter_mut().enumerate() {
                    let refs: Vec<KeyRef> = (0..n)
                        .map(|k| KeyRef { seed: roots[k][b] & !1, bits, words: &words[k * kw..(k + 1) * kw] })
                        .collect();
                    eval_many(b, &refs, &xs, s);
                }
                for k in 0..n {
                    let mut one = vec![0u64; kw];
                    keygen_many(&alphas[k..=k], bits, &roots[k..=k], &mut one);
                    assert_eq!(&words[k * kw..(k + 1) * kw], &one[..], "bits {bits}, n {n}, key {k}");
                    let a = alphas[k] & input_mask(bits);
                    assert_eq!(shares[0][k] ^ shares[1][k], u8::from(xs[k] < a), "bits {bits}, key {k}");
                }
            }
        }
    }

    #[test]
    fn sigma_is_an_orthomorphism() {
        // H(x) = AES_K(sigma(x)) ^ sigma(x) is circular correlation robust when sigma and x -> sigma(x) ^ x are
        // both permutations: check both against their inverses (sigma(a, b) = (b, a ^ b), sigma(x) ^ x =
        // (a ^ b, a)) on random blocks and the edges.
        let mut rng = crate::rng::stream(31, 0);
        let halves = |x: u128| (x as u64, (x >> 64) as u64);
        let block = |lo: u64, hi: u64| lo as u128 | (hi as u128) << 64;
        let mut xs: Vec<u128> = (0..1000).map(|_| rng.random()).collect();
        xs.extend([0, 1, u128::MAX, 1 << 64, LEAF]);
        for x in xs {
            let (a, b) = halves(x);
            let (lo, hi) = halves(sigma(x));
            assert_eq!((lo, hi), (b, a ^ b));
            assert_eq!(block(hi ^ lo, lo), x, "sigma inverted");
            let (lo, hi) = halves(sigma(x) ^ x);
            assert_eq!(block(hi, lo ^ hi), x, "sigma ^ id inverted");
        }
    }

    #[test]
    fn key_size_and_one_share_alone_looks_random() {
        // 47 bits (the gates' width at f = 16): 40 levels, 82 words (656 bytes) against the DCF's 192.
        assert_eq!(key_words(47), 82);
        assert_eq!(super::super::dcf::key_words(47), 192);
        assert_eq!(key_words(7), 2);
        // One party's shares at many points, same alpha, fresh keys: about half ones (no value leaks as is).
        let mut rng = crate::rng::stream(23, 0);
        let ones: u32 = (0..400)
            .map(|_| {
                let (s0, _, words) = keys(1 << 40, 47, &mut rng);
                u32::from(cmp(s0, 47, &words, 0, &[5])[0])
            })
            .sum();
        assert!((140..=260).contains(&ones), "{ones} ones of 400");
    }
}
