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
use super::trie::{Points, Span};

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

/// A node of a key's tree on the way to several points: the key, its seed (the lowest bit its control bit),
/// the XOR of the right siblings' control bits where the path went left, and its points.
#[derive(Clone, Copy)]
struct Node {
    key: u32,
    seed: u128,
    acc: u64,
    span: Span,
}

/// Party `b`'s XOR shares of `[x < alpha_k]` at `per_key` points per key: key `keys[k]` at the points
/// `xs[k * per_key..(k + 1) * per_key]`, into `out` in the same order. Equal to [`eval_many`] with each key
/// repeated `per_key` times, and computed either so ("apart", each point its own lane) or with a key's points
/// walking its tree as a trie ([`super::trie`]: while they share a path it is walked once; every node of a
/// level, over all keys of a group, in one AES call), whichever measured faster at first use on a sigmoid
/// gate's points ([`sets_path`]): the trie does fewer AES blocks, the lanes less work per block.
pub fn eval_sets(b: usize, keys: &[KeyRef<'_>], xs: &[u64], per_key: usize, out: &mut [u8]) {
    assert!(
        per_key >= 1
            && per_key <= u32::MAX as usize / TRIE_KEYS
            && keys.len() * per_key == xs.len()
            && xs.len() == out.len(),
        "per_key points and outputs per key"
    );
    let Some(bits) = keys.first().map(|k| k.bits) else { return };
    assert!(
        keys.iter().all(|k| k.bits == bits && k.words.len() == key_words(bits)),
        "keys of one call compare the same number of bits"
    );
    (sets_chosen().1)(b, keys, xs, per_key, out)
}

/// A way to evaluate [`eval_sets`] (arguments checked).
type Sets = fn(usize, &[KeyRef<'_>], &[u64], usize, &mut [u8]);

/// Each point its own lane, through [`eval_many`].
fn sets_apart(b: usize, keys: &[KeyRef<'_>], xs: &[u64], per_key: usize, out: &mut [u8]) {
    let mut refs = Vec::with_capacity(LANES);
    for ((kc, xc), oc) in keys.chunks(LANES).zip(xs.chunks(LANES * per_key)).zip(out.chunks_mut(LANES * per_key)) {
        refs.clear();
        refs.extend(kc.iter().flat_map(|k| std::iter::repeat_n(*k, per_key)));
        eval_many(b, &refs, xc, oc);
    }
}

fn sets_chosen() -> &'static (&'static str, Sets) {
    static CHOSEN: std::sync::OnceLock<(&'static str, Sets)> = std::sync::OnceLock::new();
    CHOSEN.get_or_init(|| {
        // 64 keys on 47 bits (16 fractional bits), 12 points each: a masked value minus a sigmoid spline's 12
        // breaks (within +-6).
        let n = 64;
        let alphas: Vec<u64> = (0..n as u64).map(|k| k.wrapping_mul(0x9e37_79b9_7f4a_7c15) & ((1 << 47) - 1)).collect();
        let roots: Vec<[u128; 2]> = (0..n as u128).map(|k| [k << 70 | k, !k]).collect();
        let kw = key_words(47);
        let mut words = vec![0u64; n * kw];
        keygen_many(&alphas, 47, &roots, &mut words);
        let keys: Vec<KeyRef> =
            (0..n).map(|k| KeyRef { seed: roots[k][0], bits: 47, words: &words[k * kw..(k + 1) * kw] }).collect();
        let breaks = [-6.0f64, -3.67, -2.56, -1.77, -1.06, -0.28, 0.34, 1.13, 1.83, 2.64, 3.81, 6.0];
        let xs: Vec<u64> = (0..n as u64)
            .flat_map(|k| {
                let x = k.wrapping_mul(0xc2b2_ae3d_27d4_eb4f);
                breaks.iter().map(move |b| x.wrapping_sub((b * 65536.0) as i64 as u64) & ((1 << 47) - 1))
            })
            .collect();
        let out = std::cell::RefCell::new(vec![0u8; xs.len()]);
        let paths: Vec<(&'static str, Sets)> = vec![("trie", sets_trie), ("apart", sets_apart)];
        super::simd::fastest(paths, |f: Sets| f(0, &keys, &xs, 12, std::hint::black_box(&mut out.borrow_mut()[..])))
    })
}

/// How [`eval_sets`] runs on this machine: "trie" or "apart".
pub fn sets_path() -> &'static str {
    sets_chosen().0
}

/// Keys walked together as tries (their nodes in one AES call per level).
const TRIE_KEYS: usize = 32;

/// [`eval_sets`] as tries.
fn sets_trie(b: usize, keys: &[KeyRef<'_>], xs: &[u64], per_key: usize, out: &mut [u8]) {
    const KEYS: usize = TRIE_KEYS;
    let bits = keys[0].bits;
    let low = input_mask(bits);
    let d = depth(bits);
    let mut points = Points::default();
    let (mut nodes, mut next): (Vec<Node>, Vec<Node>) = (Vec::new(), Vec::new());
    let mut blocks: Vec<u128> = Vec::new();
    for (g, kc) in keys.chunks(KEYS).enumerate() {
        for k in keys.iter().skip((g + 1) * KEYS).take(KEYS) {
            k.prefetch();
        }
        points.clear();
        nodes.clear();
        for (k, key) in kc.iter().enumerate() {
            let at = (g * KEYS + k) * per_key;
            let span = points.push_key(&xs[at..at + per_key], at, low, bits, d);
            nodes.push(Node { key: k as u32, seed: root(key.seed, b), acc: 0, span });
        }
        for level in 0..d {
            blocks.clear();
            blocks.extend(nodes.iter().map(|n| sigma(n.seed)));
            mmo::hash(&mut blocks);
            let shift = bits as usize - 1 - level;
            next.clear();
            let mut hashes = blocks.iter();
            // A key's nodes lie together: its correction of the level read once for all of them.
            for group in nodes.chunk_by(|a, b| a.key == b.key) {
                let cw = kc[group[0].key as usize].words;
                let c = cw[2 * level] as u128 | (cw[2 * level + 1] as u128) << 64;
                for (n, h) in group.iter().zip(hashes.by_ref()) {
                    let t = n.seed as u64 & 1;
                    let sl = h ^ (c & wide(mask(t)));
                    let sr = sl ^ n.seed;
                    let left = Node { seed: sl, acc: n.acc ^ (sr as u64 & 1), ..*n };
                    let right = Node { seed: sr, ..*n };
                    let s = n.span;
                    if s.split == level as u32 {
                        next.push(Node { span: points.span(s.lo, s.at), ..left });
                        next.push(Node { span: points.span(s.at, s.hi), ..right });
                    } else {
                        next.push(if points.right(&s, shift) { right } else { left });
                    }
                }
            }
            std::mem::swap(&mut nodes, &mut next);
        }
        blocks.clear();
        blocks.extend(nodes.iter().map(|n| sigma(n.seed ^ LEAF)));
        mmo::hash(&mut blocks);
        for (n, blk) in nodes.iter().zip(&blocks) {
            let leaf = blk ^ (kc[n.key as usize].leaf_cw() & wide(mask(n.seed as u64 & 1)));
            for &(x, at) in points.of(&n.span) {
                let inside = (leaf & above(leaf_index(x, bits))).count_ones() as u64 & 1;
                out[at] = (n.acc ^ inside) as u8;
            }
        }
    }
}

// AVX-512 intrinsics, behind run-time feature detection and a timing.
#[allow(unsafe_code)]
mod lanes;
pub use lanes::paths;

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
    fn points_walked_as_a_trie_equal_points_walked_apart() {
        let mut rng = crate::rng::stream(29, 0);
        for bits in [3u32, 9, 20, 47, 64] {
            let m = input_mask(bits);
            for per_key in [1usize, 2, 3, 12] {
                let n = 45; // a group of 32 and a short one
                let alphas: Vec<u64> = (0..n).map(|_| rng.random::<u64>() & m).collect();
                let roots: Vec<[u128; 2]> = (0..n).map(|_| [rng.random(), rng.random()]).collect();
                let kw = key_words(bits);
                let mut words = vec![u64::MAX; n * kw]; // garbage: keygen_many writes every word
                keygen_many(&alphas, bits, &roots, &mut words);
                // Per key: points near each other (a spline's breaks below a masked value, wrapping past 0 at
                // times), equal points, the threshold itself, and far ones.
                let xs: Vec<u64> = (0..n)
                    .flat_map(|k| {
                        let centre = match k % 4 {
                            0 => alphas[k],
                            1 => rng.random::<u64>() % 7,
                            _ => rng.random::<u64>(),
                        };
                        let far = k % 5 == 0;
                        (0..per_key)
                            .map(|j| {
                                let off = if far { rng.random::<u64>() } else { (j as u64 * 65_537) % 400_000 };
                                centre.wrapping_sub(off) & m
                            })
                            .collect::<Vec<_>>()
                    })
                    .collect();
                let shares: Vec<Vec<u8>> = (0..2)
                    .map(|b| {
                        let key =
                            |k: usize| KeyRef { seed: roots[k][b] & !1, bits, words: &words[k * kw..(k + 1) * kw] };
                        let sets: Vec<KeyRef> = (0..n).map(key).collect();
                        let apart: Vec<KeyRef> = (0..n).flat_map(|k| std::iter::repeat_n(key(k), per_key)).collect();
                        let (mut a, mut t) = (vec![0u8; xs.len()], vec![0u8; xs.len()]);
                        eval_many(b, &apart, &xs, &mut a);
                        eval_sets(b, &sets, &xs, per_key, &mut t);
                        assert_eq!(a, t, "bits {bits}, {per_key} points a key, party {b}");
                        // Both ways eval_sets can run, whichever this machine chose.
                        for (name, f) in [("trie", sets_trie as Sets), ("apart", sets_apart)] {
                            let mut w = vec![9u8; xs.len()];
                            f(b, &sets, &xs, per_key, &mut w);
                            assert_eq!(a, w, "{name}: bits {bits}, {per_key} points a key, party {b}");
                        }
                        t
                    })
                    .collect();
                for (j, x) in xs.iter().enumerate() {
                    let alpha = alphas[j / per_key];
                    assert_eq!(shares[0][j] ^ shares[1][j], u8::from(*x < alpha), "bits {bits}, point {j}");
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
