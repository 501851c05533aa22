//! A key's several points (`dpf::eval_sets`): a spline gate compares each value against every break, so its
//! points differ by the breaks and share the top of their path. Walked either as a trie ([`super::super::trie`]:
//! while they share a path it is walked once) or apart, each point its own lane of [`super::eval_many`],
//! whichever measured faster at first use on a sigmoid gate's points.

use super::super::dcf::{mask, wide};
use super::super::mmo;
use super::super::trie::{Points, Span};
use super::{
    KeyRef, LANES, LEAF, above, depth, eval_many, input_mask, key_words, keygen_many, leaf_index, root, sigma,
};

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
        super::super::simd::fastest(paths, |f: Sets| {
            f(0, &keys, &xs, 12, std::hint::black_box(&mut out.borrow_mut()[..]))
        })
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

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

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
}
