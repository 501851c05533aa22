//! The DCF as first written (before 2026-12): all five blocks of `G(s)` at every level, one key or one point
//! at a time through the `aes` crate, branching on the control bit. Kept as the references the lockstep code
//! is tested against (it must give the same bits) and benchmarked beside (so its speed-up is measured in one
//! run: `cargo bench --bench fss`, the `_unbatched` rows).

use super::super::mmo;
use super::{DcfKey, Payload, add, bit, input_mask, key_words, mask, neg_masked, sub, value};
use aes::cipher::BlockCipherEncrypt;

/// `G(s)`: left seed and bit, left value, right seed and bit, right value, final value.
fn expand(s: u128) -> [u128; 5] {
    let mut blocks = [aes::Block::default(); 5];
    let inputs: [u128; 5] = std::array::from_fn(|i| s ^ i as u128);
    for (b, x) in blocks.iter_mut().zip(inputs) {
        *b = x.to_le_bytes().into();
    }
    mmo::cipher().encrypt_blocks(&mut blocks);
    std::array::from_fn(|i| u128::from_le_bytes(blocks[i].into()) ^ inputs[i])
}

/// `-a` if `t`, else `a`.
fn neg_if(a: Payload, t: bool) -> Payload {
    neg_masked(a, mask(u64::from(t)))
}

/// Party `b`'s share of `beta * [x < alpha]`, one point at a time.
pub fn eval_unbatched(b: usize, key: &DcfKey, x: u64) -> Payload {
    let key = key.view();
    let party = b == 1;
    let (mut s, mut t) = (key.seed, party);
    let mut v: Payload = [0, 0];
    for level in 0..key.bits as usize {
        let e = expand(s);
        let right = bit(x, key.bits, level) == 1;
        let side = if right { 2 } else { 0 };
        let (mut sd, mut tb) = (e[side] & !1, e[side] & 1 == 1);
        let mut val = value(e[side + 1]);
        if t {
            let (s_cw, v_cw) = key.cws(level);
            sd ^= s_cw;
            tb ^= key.bit_cw(level, u64::from(right)) == 1;
            val = add(val, v_cw);
        }
        v = add(v, neg_if(val, party));
        s = sd;
        t = tb;
    }
    let mut fin = value(expand(s)[4]);
    if t {
        fin = add(fin, key.last());
    }
    add(v, neg_if(fin, party))
}

/// The packed correction words of the keys for `beta * [x < alpha]` from root seeds `root`, one key at a
/// time (both parties' five blocks per level).
pub fn keygen_unbatched(alpha: u64, beta: Payload, bits: u32, root: [u128; 2]) -> Vec<u64> {
    let alpha = alpha & input_mask(bits);
    let mut words = vec![0u64; key_words(bits)];
    let (mut s, mut t) = ([root[0] & !1, root[1] & !1], [false, true]);
    let mut v_alpha: Payload = [0, 0];
    for level in 0..bits as usize {
        let e = [expand(s[0]), expand(s[1])];
        // Party p's side (seed, bit, value).
        let side = |p: usize, right: bool| {
            let i = if right { 2 } else { 0 };
            (e[p][i] & !1, e[p][i] & 1 == 1, value(e[p][i + 1]))
        };
        let a = bit(alpha, bits, level) == 1;
        // Keep the branch alpha takes; lose the other.
        let (keep0, keep1, lose0, lose1) = (side(0, a), side(1, a), side(0, !a), side(1, !a));
        let s_cw = lose0.0 ^ lose1.0;
        let mut v_cw = neg_if(sub(sub(lose1.2, lose0.2), v_alpha), t[1]);
        if a {
            // alpha goes right: every x going left (x < alpha) collects beta here.
            v_cw = add(v_cw, neg_if(beta, t[1]));
        }
        v_alpha = add(sub(add(v_alpha, keep0.2), keep1.2), neg_if(v_cw, t[1]));
        let t_cw = [side(0, false).1 ^ side(1, false).1 ^ a ^ true, side(0, true).1 ^ side(1, true).1 ^ a];
        let t_keep = t_cw[usize::from(a)];
        words[4 * level..4 * level + 4].copy_from_slice(&[s_cw as u64, (s_cw >> 64) as u64, v_cw[0], v_cw[1]]);
        words[4 * bits as usize + level / 32] |= (u64::from(t_cw[0]) | u64::from(t_cw[1]) << 1) << (2 * level % 64);
        s = [keep0.0 ^ if t[0] { s_cw } else { 0 }, keep1.0 ^ if t[1] { s_cw } else { 0 }];
        t = [keep0.1 ^ (t[0] & t_keep), keep1.1 ^ (t[1] & t_keep)];
    }
    let last = neg_if(sub(sub(value(expand(s[1])[4]), value(expand(s[0])[4])), v_alpha), t[1]);
    let at = key_words(bits) - 2;
    words[at..].copy_from_slice(&last);
    words
}
