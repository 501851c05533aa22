//! Comparison from a distributed point function (Boyle, Gilboa, Ishai, CCS 2016, with early termination; the
//! comparison read off the evaluation path as in SIGMA, Gupta et al., PETS 2024): two keys such that the XOR of
//! the parties' outputs at `x` is `[x < alpha]`, on `n`-bit inputs, each key alone pseudorandom.
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
//! Against the DCF ([`super::dcf`]), whose payload is a pair of ring elements: no value correction per level
//! (a key is a 16-byte seed correction and 2 control bits per level, plus one 16-byte leaf correction), 7
//! levels fewer, half the AES blocks to generate a key (two per party per level) and the same to evaluate
//! one (both children of each node on the path, two blocks per level). The price is the output: an XOR-shared
//! bit, not arithmetic shares of `(1, r) [x < alpha]`, so a gate built on it needs a second online round
//! ([`super::gates`]).
//!
//! The tree PRG is the DCF's (fixed-key AES in MMO form, [`super::mmo`]): children `AES_K(s ^ j) ^ s ^ j` for
//! `j` = 0 (left) and 1 (right), the control bit their lowest bit; the leaf `AES_K(s ^ 2) ^ s ^ 2`. Many
//! keys or points walk their trees in lockstep, each level's blocks of all of them in one AES call.

use super::dcf::{bit as path_bit, input_mask, mask, wide};
use super::mmo;
use super::trie::{Points, Span};

/// Input bits a leaf settles (a 128-bit leaf holds `2^7` one-bit outputs).
pub const LEAF_BITS: u32 = 7;

/// Tree levels above the leaves for `bits`-bit inputs.
pub const fn depth(bits: u32) -> usize {
    bits.saturating_sub(LEAF_BITS) as usize
}

/// Ring words of one key's correction words on `bits`-bit inputs: 2 per level (the seed correction), the
/// control-bit corrections (2 bits per level, packed), 2 for the leaf correction.
pub const fn key_words(bits: u32) -> usize {
    let d = depth(bits);
    2 * d + (2 * d).div_ceil(64) + 2
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

/// Keys for `[x < alpha_k]` on `bits`-bit inputs (`1..=64`; `alpha` taken mod 2^bits) from root seeds
/// `roots[k]` (the parties' root seeds are `roots[k][p]` with the lowest bit cleared), their packed correction
/// words into `out` ([`key_words`]`(bits)` words per key, one key after another). Sixteen keys go through their
/// trees in lockstep: each level's four blocks of each (both parties' children) in one AES call.
pub fn keygen_many(alphas: &[u64], bits: u32, roots: &[[u128; 2]], out: &mut [u64]) {
    const KEYS: usize = BLOCKS / 4;
    assert!((1..=64).contains(&bits), "1 to 64 bits");
    let kw = key_words(bits);
    let d = depth(bits);
    assert!(
        alphas.len() == roots.len() && out.len() == alphas.len() * kw,
        "one alpha, root pair and key's words per key"
    );
    let low = input_mask(bits);
    let mut blocks = [0u128; BLOCKS];
    for ((ac, rc), oc) in alphas.chunks(KEYS).zip(roots.chunks(KEYS)).zip(out.chunks_mut(KEYS * kw)) {
        let n = ac.len();
        // Per key: both parties' seeds and control bits (party 1 starts with 1).
        let mut st = [([0u128; 2], [0u64, 1u64]); KEYS];
        for (w, r) in st.iter_mut().zip(rc) {
            w.0 = [r[0] & !1, r[1] & !1];
        }
        // Every word is written below but the control bits, which are ORed in level by level.
        for cw in oc.chunks_exact_mut(kw) {
            cw[2 * d..kw - 2].fill(0);
        }
        for (w, blk) in st.iter().zip(blocks.chunks_exact_mut(4)).take(n) {
            blk.copy_from_slice(&[w.0[0], w.0[0] ^ 1, w.0[1], w.0[1] ^ 1]);
        }
        for level in 0..d {
            mmo::hash(&mut blocks[..4 * n]);
            // One pass per level: read a key's four blocks, write its corrections, set its next inputs in place.
            for (((w, blk), &alpha), cw) in
                st.iter_mut().zip(blocks.chunks_exact_mut(4)).zip(ac).zip(oc.chunks_exact_mut(kw))
            {
                let a = path_bit(alpha & low, bits, level);
                let am = wide(mask(a));
                // Party p's children: blk[2p] left, blk[2p + 1] right. alpha keeps side a, the other is lost.
                let keep = [(blk[0] & !am) | (blk[1] & am), (blk[2] & !am) | (blk[3] & am)];
                let lose = [(blk[0] & am) | (blk[1] & !am), (blk[2] & am) | (blk[3] & !am)];
                let s_cw = (lose[0] ^ lose[1]) & !1;
                let tl = ((blk[0] ^ blk[2]) as u64 & 1) ^ a ^ 1;
                let tr = ((blk[1] ^ blk[3]) as u64 & 1) ^ a;
                let t_keep = (tl & !mask(a)) | (tr & mask(a));
                cw[2 * level] = s_cw as u64;
                cw[2 * level + 1] = (s_cw >> 64) as u64;
                cw[2 * d + level / 32] |= (tl | tr << 1) << (2 * level % 64);
                for ((s, t), kept) in w.0.iter_mut().zip(w.1.iter_mut()).zip(keep) {
                    *s = (kept & !1) ^ (s_cw & wide(mask(*t)));
                    *t = (kept as u64 & 1) ^ (*t & t_keep);
                }
                blk.copy_from_slice(&[w.0[0], w.0[0] ^ 1, w.0[1], w.0[1] ^ 1]);
            }
        }
        for (w, pair) in st.iter().zip(blocks.chunks_exact_mut(2)).take(n) {
            pair.copy_from_slice(&[w.0[0] ^ 2, w.0[1] ^ 2]);
        }
        mmo::hash(&mut blocks[..2 * n]);
        for ((pair, &alpha), cw) in blocks.chunks_exact(2).zip(ac).zip(oc.chunks_exact_mut(kw)) {
            let leaf = pair[0] ^ pair[1] ^ (1u128 << leaf_index(alpha, bits));
            cw[kw - 2] = leaf as u64;
            cw[kw - 1] = (leaf >> 64) as u64;
        }
    }
}

/// Party `b`'s XOR share (0 or 1) of `[x_k < alpha_k]` for each key `keys[k]` at `xs[k]`, into `out`; every key
/// compares the same number of bits. The points walk their trees in lockstep, 32 at a time, both children of
/// each node on a path in one AES call per level for all of them.
pub fn eval_many(b: usize, keys: &[KeyRef<'_>], xs: &[u64], out: &mut [u8]) {
    const LANES: usize = BLOCKS / 2;
    assert!(keys.len() == xs.len() && xs.len() == out.len(), "one key and one output per point");
    let mut blocks = [0u128; BLOCKS];
    for (chunk, ((kc, xc), oc)) in keys.chunks(LANES).zip(xs.chunks(LANES)).zip(out.chunks_mut(LANES)).enumerate() {
        let n = xc.len();
        let bits = kc[0].bits;
        assert!(
            kc.iter().all(|k| k.bits == bits && k.words.len() == key_words(bits)),
            "keys of one call compare the same number of bits"
        );
        let low = input_mask(bits);
        let d = depth(bits);
        // The next chunk's keys on their way while this one walks (keys stream from a message far larger than
        // the caches; fetched on demand, a third of the time went in waiting for them).
        for k in keys.iter().skip((chunk + 1) * LANES).take(LANES) {
            k.prefetch();
        }
        // Per lane: seed, control bit, and the XOR of the right siblings' control bits where the path went left;
        // its key's seed corrections, its control-bit corrections (at most 2 x 57 bits) in one word, and its
        // path bits in the order the walk reads them.
        let mut walk = [(0u128, b as u64 & 1, 0u64); LANES];
        let mut tbits = [0u128; LANES];
        let mut cws: [&[u64]; LANES] = [&[]; LANES];
        for (((w, key), t), c) in walk.iter_mut().zip(kc).zip(tbits.iter_mut()).zip(cws.iter_mut()) {
            w.0 = key.seed & !1;
            let tw = &key.words[2 * d..2 * d + (2 * d).div_ceil(64)];
            *t = tw.iter().rev().fold(0u128, |acc, &v| acc << 64 | v as u128);
            *c = &key.words[..2 * d];
        }
        for (w, pair) in walk.iter().zip(blocks.chunks_exact_mut(2)).take(n) {
            pair.copy_from_slice(&[w.0, w.0 ^ 1]);
        }
        for level in 0..d {
            mmo::hash(&mut blocks[..2 * n]);
            if level % 4 == 0 {
                for cw in &cws[..n] {
                    mmo::prefetch(cw.get(2 * level + 8..2 * level + 9).unwrap_or(&[]));
                }
            }
            let shift = bits as usize - 1 - level;
            // One pass per level: read both children, correct, and set the next level's inputs in place.
            for (((w, cw), tb), (x, pair)) in
                walk.iter_mut().zip(&cws).zip(&tbits).zip(xc.iter().zip(blocks.chunks_exact_mut(2)))
            {
                let r = (x >> shift) & 1;
                let tm = mask(w.1);
                let s_cw = (cw[2 * level] as u128 | (cw[2 * level + 1] as u128) << 64) & wide(tm);
                let tc = (tb >> (2 * level)) as u64;
                let (sl, tl) = ((pair[0] & !1) ^ s_cw, (pair[0] as u64 & 1) ^ (tc & w.1));
                let (sr, tr) = ((pair[1] & !1) ^ s_cw, (pair[1] as u64 & 1) ^ ((tc >> 1) & w.1));
                w.2 ^= tr & (r ^ 1);
                let rm = mask(r);
                w.0 = (sl & !wide(rm)) | (sr & wide(rm));
                w.1 = (tl & !rm) | (tr & rm);
                pair.copy_from_slice(&[w.0, w.0 ^ 1]);
            }
        }
        for (w, blk) in walk.iter().zip(blocks.iter_mut()).take(n) {
            *blk = w.0 ^ 2;
        }
        mmo::hash(&mut blocks[..n]);
        for (((w, key), (x, blk)), o) in walk.iter().zip(kc).zip(xc.iter().zip(&blocks)).zip(oc.iter_mut()) {
            let leaf = blk ^ (key.leaf_cw() & wide(mask(w.1)));
            let inside = (leaf & above(leaf_index(x & low, bits))).count_ones() as u64 & 1;
            *o = (w.2 ^ inside) as u8;
        }
    }
}

/// A node of a key's tree on the way to several points: the key, its seed and control bit, the XOR of the
/// right siblings' control bits where the path went left, and its points.
#[derive(Clone, Copy)]
struct Node {
    key: u32,
    seed: u128,
    t: u64,
    acc: u64,
    span: Span,
}

/// Party `b`'s XOR shares of `[x < alpha_k]` at `per_key` points per key: key `keys[k]` at the points
/// `xs[k * per_key..(k + 1) * per_key]`, into `out` in the same order. Equal to [`eval_many`] with each key
/// repeated `per_key` times, but a key's points walk its tree as a trie ([`super::trie`]): while they share
/// a path it is walked once. Every node of a level, over all keys of a group, goes through one AES call.
pub fn eval_sets(b: usize, keys: &[KeyRef<'_>], xs: &[u64], per_key: usize, out: &mut [u8]) {
    /// Keys walked together (their nodes in one AES call per level).
    const KEYS: usize = 32;
    assert!(
        per_key >= 1
            && per_key <= u32::MAX as usize / KEYS
            && keys.len() * per_key == xs.len()
            && xs.len() == out.len(),
        "per_key points and outputs per key"
    );
    let Some(bits) = keys.first().map(|k| k.bits) else { return };
    assert!(
        keys.iter().all(|k| k.bits == bits && k.words.len() == key_words(bits)),
        "keys of one call compare the same number of bits"
    );
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
            nodes.push(Node { key: k as u32, seed: key.seed & !1, t: b as u64 & 1, acc: 0, span });
        }
        for level in 0..d {
            blocks.resize(2 * nodes.len(), 0);
            for (n, pair) in nodes.iter().zip(blocks.chunks_exact_mut(2)) {
                pair[0] = n.seed;
                pair[1] = n.seed ^ 1;
            }
            mmo::hash(&mut blocks);
            let shift = bits as usize - 1 - level;
            next.clear();
            let mut pairs = blocks.chunks_exact(2);
            // A key's nodes lie together: its corrections of the level read once for all of them.
            for group in nodes.chunk_by(|a, b| a.key == b.key) {
                let cw = kc[group[0].key as usize].words;
                let s_cw = cw[2 * level] as u128 | (cw[2 * level + 1] as u128) << 64;
                let tw = (cw[2 * d + level / 32] >> (2 * level % 64)) & 3;
                for (n, pair) in group.iter().zip(pairs.by_ref()) {
                    let (s_cw, tw) = (s_cw & wide(mask(n.t)), tw & (n.t * 3));
                    let (sl, tl) = ((pair[0] & !1) ^ s_cw, (pair[0] as u64 & 1) ^ (tw & 1));
                    let (sr, tr) = ((pair[1] & !1) ^ s_cw, (pair[1] as u64 & 1) ^ (tw >> 1));
                    let left = Node { seed: sl, t: tl, acc: n.acc ^ tr, ..*n };
                    let right = Node { seed: sr, t: tr, ..*n };
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
        blocks.resize(nodes.len(), 0);
        for (n, blk) in nodes.iter().zip(blocks.iter_mut()) {
            *blk = n.seed ^ 2;
        }
        mmo::hash(&mut blocks);
        for (n, blk) in nodes.iter().zip(&blocks) {
            let leaf = blk ^ (kc[n.key as usize].leaf_cw() & wide(mask(n.t)));
            for &(x, at) in points.of(&n.span) {
                let inside = (leaf & above(leaf_index(x, bits))).count_ones() as u64 & 1;
                out[at] = (n.acc ^ inside) as u8;
            }
        }
    }
}

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
    fn key_size_and_one_share_alone_looks_random() {
        // 47 bits (the gates' width at f = 16): 40 levels, 84 words (672 bytes) against the DCF's 192.
        assert_eq!(key_words(47), 84);
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
