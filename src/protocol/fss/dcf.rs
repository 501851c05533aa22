//! Distributed comparison functions (Boyle, Chandran, Gilboa, Gupta, Ishai, Kumar, Rathee, Eurocrypt 2021,
//! Fig. 3): two keys `k0`, `k1` such that `Eval(k0, x) + Eval(k1, x) = beta * [x < alpha]` for every
//! `x` of `n` bits, while each key alone is pseudorandom. The payload `beta` is a pair of ring elements, so one
//! key yields shares of `[x < alpha]` and of `r * [x < alpha]` at once (what a spline gate needs).
//!
//! The tree PRG is fixed-key AES-128 in Matyas-Meyer-Oseas form, `G(s)_i = AES_K(s ^ i) ^ s ^ i`, with AES-NI
//! where the CPU has it (the `aes` crate detects it at run time). Only the blocks a step needs are computed
//! (two per level to evaluate, eight per level for both parties to generate), and evaluation walks many
//! points in lockstep so that one AES call encrypts all their blocks of a level ([`eval_many`]). A key is one 128-bit seed and `n` correction
//! words of 16 + 16 bytes and two bits, plus a final 16-byte word: both keys share the correction words.

use aes::Aes128;
use aes::cipher::{BlockCipherEncrypt, KeyInit};
use rand::Rng;
use std::sync::OnceLock;

/// The payload group: pairs of ring elements.
pub type Payload = [u64; 2];

/// One level's correction word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Correction {
    /// Seed correction.
    pub s: u128,
    /// Value correction.
    pub v: Payload,
    /// Control-bit corrections, left and right.
    pub t: [bool; 2],
}

/// One party's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DcfKey {
    /// The party's root seed.
    pub seed: u128,
    /// Input bits compared, most significant first.
    pub bits: u32,
    /// Correction words (shared by both keys).
    pub cws: Vec<Correction>,
    /// The final correction (shared by both keys).
    pub last: Payload,
}

impl DcfKey {
    /// Bytes a dealer sends for this key (the seed may come from a seed both hold instead).
    pub fn wire_bytes(&self) -> u64 {
        // Per level: 16 (seed) + 16 (value) + 1 (two control bits, packed in a byte); final word 16.
        16 + self.cws.len() as u64 * 33 + 16
    }
}

fn cipher() -> &'static Aes128 {
    static AES: OnceLock<Aes128> = OnceLock::new();
    AES.get_or_init(|| {
        Aes128::new(
            &[0x52, 0x54, 0x41, 0x53, 0x2d, 0x44, 0x43, 0x46, 0x2d, 0x50, 0x52, 0x47, 0x2d, 0x76, 0x31, 0x00].into(),
        )
    })
}

/// `AES_K(x) ^ x` for each of `N` inputs, in one call (AES-NI keeps several blocks in flight).
#[inline]
fn prg<const N: usize>(inputs: [u128; N]) -> [u128; N] {
    let mut blocks: [aes::Block; N] = std::array::from_fn(|i| inputs[i].to_le_bytes().into());
    cipher().encrypt_blocks(&mut blocks);
    std::array::from_fn(|i| u128::from_le_bytes(blocks[i].into()) ^ inputs[i])
}

/// Buffers for the blocks of many points' tree level, made once per evaluation call.
struct Lanes {
    blocks: [aes::Block; 64],
    inputs: [u128; 64],
}

impl Lanes {
    fn new() -> Self {
        Self { blocks: [aes::Block::default(); 64], inputs: [0; 64] }
    }

    /// Sets input `q`.
    #[inline]
    fn set(&mut self, q: usize, x: u128) {
        self.inputs[q] = x;
        self.blocks[q] = x.to_le_bytes().into();
    }

    /// `AES_K(x_q) ^ x_q` for the first `n <= 64` inputs, in one call; `get(q)` reads them.
    #[inline]
    fn run(&mut self, n: usize) {
        cipher().encrypt_blocks(&mut self.blocks[..n]);
    }

    #[inline]
    fn get(&self, q: usize) -> u128 {
        u128::from_le_bytes(self.blocks[q].into()) ^ self.inputs[q]
    }
}

#[inline]
fn seed_bit(b: u128) -> (u128, bool) {
    (b & !1, b & 1 == 1)
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

#[inline]
fn neg_if(a: Payload, t: bool) -> Payload {
    if t { [a[0].wrapping_neg(), a[1].wrapping_neg()] } else { a }
}

#[inline]
fn bit(x: u64, bits: u32, level: u32) -> bool {
    (x >> (bits - 1 - level)) & 1 == 1
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
    let mask = if bits >= 64 { u64::MAX } else { (1u64 << bits) - 1 };
    let alpha = alpha & mask;
    let (mut s, mut t) = ([root[0] & !1, root[1] & !1], [false, true]);
    let mut v_alpha: Payload = [0, 0];
    let mut cws = Vec::with_capacity(bits as usize);
    for level in 0..bits {
        // Both parties' left and right seeds and values: eight blocks in one call.
        let f = prg(std::array::from_fn::<u128, 8, _>(|i| s[i / 4] ^ (i % 4) as u128));
        let e = [[f[0], f[1], f[2], f[3]], [f[4], f[5], f[6], f[7]]];
        let side = |b: usize, right: bool| {
            let (sd, tb) = seed_bit(e[b][if right { 2 } else { 0 }]);
            (sd, tb, value(e[b][if right { 3 } else { 1 }]))
        };
        let a = bit(alpha, bits, level);
        // Keep the branch alpha takes; lose the other.
        let (keep0, keep1, lose0, lose1) = (side(0, a), side(1, a), side(0, !a), side(1, !a));
        let s_cw = lose0.0 ^ lose1.0;
        let mut v_cw = neg_if(sub(sub(lose1.2, lose0.2), v_alpha), t[1]);
        if a {
            // alpha goes right: every x going left (x < alpha) collects beta here.
            v_cw = add(v_cw, neg_if(beta, t[1]));
        }
        v_alpha = add(sub(add(v_alpha, keep0.2), keep1.2), neg_if(v_cw, t[1]));
        let (l0, l1) = (side(0, false), side(1, false));
        let (r0, r1) = (side(0, true), side(1, true));
        let t_cw = [l0.1 ^ l1.1 ^ a ^ true, r0.1 ^ r1.1 ^ a];
        let t_keep = t_cw[usize::from(a)];
        cws.push(Correction { s: s_cw, v: v_cw, t: t_cw });
        let new_s = [keep0.0 ^ if t[0] { s_cw } else { 0 }, keep1.0 ^ if t[1] { s_cw } else { 0 }];
        let new_t = [keep0.1 ^ (t[0] & t_keep), keep1.1 ^ (t[1] & t_keep)];
        s = new_s;
        t = new_t;
    }
    let g = prg([s[0] ^ 4, s[1] ^ 4]);
    let last = neg_if(sub(sub(value(g[1]), value(g[0])), v_alpha), t[1]);
    let key = |seed| DcfKey { seed, bits, cws: cws.clone(), last };
    (key(root[0] & !1), key(root[1] & !1))
}

/// Party `b`'s share of `beta * [x < alpha]` (one point; [`eval_many`] for many).
pub fn eval(b: usize, key: &DcfKey, x: u64) -> Payload {
    let mut out = [[0u64; 2]];
    eval_many(b, &[key], &[x], &mut out);
    out[0]
}

/// Party `b`'s shares of `beta * [x < alpha]` at every `x` of `xs`, into `out` ([`eval_many`] with one key).
pub fn eval_at(b: usize, key: &DcfKey, xs: &[u64], out: &mut [Payload]) {
    const LANES: usize = 32;
    let keys = [key; LANES];
    for (xc, oc) in xs.chunks(LANES).zip(out.chunks_mut(LANES)) {
        eval_many(b, &keys[..xc.len()], xc, oc);
    }
}

/// Party `b`'s share of `beta_k * [x_k < alpha_k]` for each key `keys[k]` at `xs[k]`, into `out`; every key
/// compares the same number of bits. The points walk their trees in lockstep, each level's AES blocks of all
/// of them in one call (so AES-NI keeps several in flight), and only the two blocks a path takes (the
/// chosen side's seed and value) are computed, not all five of `G(s)`. Equal to [`eval`] at each point.
// Lane `k` indexes several arrays at once (seeds, bits, values, keys): an index reads clearer than zips.
#[allow(clippy::needless_range_loop)]
pub fn eval_many(b: usize, keys: &[&DcfKey], xs: &[u64], out: &mut [Payload]) {
    const LANES: usize = 32;
    assert!(keys.len() == xs.len() && xs.len() == out.len(), "one key and one output per point");
    let party = b == 1;
    for ((kc, xc), oc) in keys.chunks(LANES).zip(xs.chunks(LANES)).zip(out.chunks_mut(LANES)) {
        let n = xc.len();
        let bits = kc[0].bits;
        assert!(kc.iter().all(|k| k.bits == bits), "keys of one call compare the same number of bits");
        let mut s = [0u128; LANES];
        let mut t = [party; LANES];
        let mut v = [[0u64; 2]; LANES];
        for k in 0..n {
            s[k] = kc[k].seed;
        }
        let mut lanes = Lanes::new();
        for level in 0..bits as usize {
            for k in 0..n {
                let side = if bit(xc[k], bits, level as u32) { 2 } else { 0 };
                lanes.set(2 * k, s[k] ^ side);
                lanes.set(2 * k + 1, s[k] ^ (side + 1));
            }
            lanes.run(2 * n);
            for k in 0..n {
                let r = bit(xc[k], bits, level as u32);
                let (mut sd, mut tb) = seed_bit(lanes.get(2 * k));
                let mut val = value(lanes.get(2 * k + 1));
                if t[k] {
                    let cw = &kc[k].cws[level];
                    sd ^= cw.s;
                    tb ^= cw.t[usize::from(r)];
                    val = add(val, cw.v);
                }
                v[k] = add(v[k], neg_if(val, party));
                s[k] = sd;
                t[k] = tb;
            }
        }
        for k in 0..n {
            lanes.set(k, s[k] ^ 4);
        }
        lanes.run(n);
        for k in 0..n {
            let mut fin = value(lanes.get(k));
            if t[k] {
                fin = add(fin, kc[k].last);
            }
            oc[k] = add(v[k], neg_if(fin, party));
        }
    }
}

/// `G(s)`: left seed and bit, left value, right seed and bit, right value, final value.
#[inline]
fn expand(s: u128) -> [u128; 5] {
    let mut blocks = [aes::Block::default(); 5];
    let inputs: [u128; 5] = std::array::from_fn(|i| s ^ i as u128);
    for (b, x) in blocks.iter_mut().zip(inputs) {
        *b = x.to_le_bytes().into();
    }
    cipher().encrypt_blocks(&mut blocks);
    std::array::from_fn(|i| u128::from_le_bytes(blocks[i].into()) ^ inputs[i])
}

/// The evaluation as first written (before 2026-12): all five blocks of `G(s)` at every level, one point at
/// a time. Kept as the reference the lockstep evaluation is tested and benchmarked against.
#[doc(hidden)]
pub fn eval_unbatched(b: usize, key: &DcfKey, x: u64) -> Payload {
    let party = b == 1;
    let (mut s, mut t) = (key.seed, party);
    let mut v: Payload = [0, 0];
    for (level, cw) in key.cws.iter().enumerate() {
        let e = expand(s);
        let right = bit(x, key.bits, level as u32);
        let (mut sd, mut tb) = seed_bit(e[if right { 2 } else { 0 }]);
        let mut val = value(e[if right { 3 } else { 1 }]);
        if t {
            sd ^= cw.s;
            tb ^= cw.t[usize::from(right)];
            val = add(val, cw.v);
        }
        v = add(v, neg_if(val, party));
        s = sd;
        t = tb;
    }
    let mut fin = value(expand(s)[4]);
    if t {
        fin = add(fin, key.last);
    }
    add(v, neg_if(fin, party))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    #[test]
    fn keys_share_beta_below_alpha_and_zero_elsewhere() {
        let mut rng = crate::rng::stream(7, 0);
        for bits in [1u32, 2, 5, 13, 63, 64] {
            for _ in 0..20 {
                let alpha: u64 = rng.random();
                let beta: Payload = [rng.random(), rng.random()];
                let (k0, k1) = keygen(alpha, beta, bits, &mut rng);
                let mask = if bits >= 64 { u64::MAX } else { (1u64 << bits) - 1 };
                let a = alpha & mask;
                let mut points: Vec<u64> = (0..30).map(|_| rng.random::<u64>() & mask).collect();
                points.extend([0, mask, a, a.wrapping_sub(1) & mask, a.wrapping_add(1) & mask]);
                for x in points {
                    let got = add(eval(0, &k0, x), eval(1, &k1, x));
                    let want = if x < a { beta } else { [0, 0] };
                    assert_eq!(got, want, "bits {bits}, alpha {a:#x}, x {x:#x}");
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
                    eval_at(b, k, &xs, &mut out);
                    let one: Vec<Payload> = xs.iter().map(|&x| eval_unbatched(b, k, x)).collect();
                    assert_eq!(out, one, "bits {bits}, n {n}");
                    // Different keys in one call: each lane its own.
                    let others: Vec<DcfKey> =
                        (0..n).map(|q| keygen(q as u64 * 977, [1, 2], bits, &mut rng).0).collect();
                    let refs: Vec<&DcfKey> = others.iter().collect();
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
