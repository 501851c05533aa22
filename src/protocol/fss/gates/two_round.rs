//! The two-round gate (SIGMA's construction, Gupta et al., PETS 2024): the comparison from a DPF key
//! ([`dpf`]), whose output is an XOR-shared bit, then the masked bit opened in a second round and turned into
//! arithmetic shares of `D` and `D x` with the dealer's correlated randomness.
//!
//! For each value the dealer draws `r = r0 + r1` as the one-round gate does and makes one DPF key pair for
//! `[y < r mod 2^c]` on `c` bits. For each break `b_k` it also gives the parties a random bit `rho_k` as XOR
//! shares of `sigma_k = rho_k xor MSB(r)` (both drawn from the seeds: no bytes) and as arithmetic shares of
//! `rho_k` and of `rho_k r` (P1's by a correction: two ring words per break). Online:
//!
//! 1. P0 and P1 open `x_hat = x + r` (as in the one-round gate).
//! 2. Each evaluates its key at `y_hat_k mod 2^c` (`y_hat_k = x_hat - b_k`) for an XOR share `u_k` of
//!    `[y_hat_k mod 2^c < r mod 2^c]`; since `D_k = [x >= b_k] = 1 xor MSB(y_hat_k) xor MSB(r) xor u_k`, the
//!    bits `(1 xor MSB(y_hat_k) xor u_k0 xor sigma_k0)` of P0 and `(u_k1 xor sigma_k1)` of P1 XOR to
//!    `d_k = D_k xor rho_k`, a uniform bit (`MSB(r)` cancels in `sigma_k`). They open every `d_k` (one bit per
//!    value and break each way, packed 64 to a word): the second round.
//! 3. With `d_k` public, `D_k = d_k + rho_k - 2 d_k rho_k` and `D_k r = d_k r + (1 - 2 d_k) rho_k r` are linear
//!    in their shares, and `D_k x = D_k x_hat - D_k r`: the spline follows as in the one-round gate.
//!
//! Each party sees `x_hat` (uniform) and the `d_k` (uniform bits independent of `x`). Offline per value at
//! f = 16 (c = 47): the DPF key, 656 bytes to each party, and `16 k` bytes of corrections to P1 for `k` breaks
//! (relu: 1,328 bytes in all; sigmoid with its 12 breaks: 1,504), against the one-round gate's 3,088.

use super::*;

/// What one computing party draws per value from the seed it shares with the dealer: its share of `r` (drawn
/// for all values first: the opening needs it) and, per chunk, its DPF root seeds and per break its XOR share
/// of `sigma_k` (the lowest bit of a draw) and arithmetic shares of `rho_k` and `rho_k r`.
struct ChunkDraws {
    root: Vec<u128>,
    sigma: Vec<u64>,
    rho: Vec<u64>,
    rho_r: Vec<u64>,
}

fn chunk_draws(prg: &mut crate::protocol::prg::Prg, len: usize, nb: usize) -> ChunkDraws {
    let raw = prg.ring(2 * len);
    let root = (0..len).map(|i| (raw[2 * i] as u128 | (raw[2 * i + 1] as u128) << 64) & !1).collect();
    ChunkDraws { root, sigma: prg.ring(len * nb), rho: prg.ring(len * nb), rho_r: prg.ring(len * nb) }
}

/// Ring draws per value for `nb` breaks (r, the root seed, sigma, rho, rho r).
fn draws_per_value(nb: usize) -> usize {
    3 + 3 * nb
}

/// Applies each of `fs` to the shared `x` element by element through two-round DPF gates; one shared result
/// per function. Ledger for n values with k breaks at f = 16: dealer -> P0 `82 n` and dealer -> P1
/// `82 n + 2 k n` ring elements offline (in messages of at most [`CHUNK`] values' keys); P0 <-> P1 `n`, then
/// `ceil(k n / 64)`, each way online: two rounds.
pub(super) fn apply(
    p: &mut Party<RingArith>,
    x: &Shared<u64>,
    fs: &[Activation],
    label: &Label,
) -> Result<Vec<Shared<u64>>> {
    let setup = Setup::new(p, p.arith.frac_bits, x.shape(), fs, label)?;
    setup.observe(p, x);
    let Setup { splines, bks, n, shape, keys_label, cb } = setup;
    let nb = bks.len();
    let low = (1u64 << cb) - 1;
    let ke = dpf::key_words(cb);
    match p.role {
        Role::Dealer => {
            let mut prg0 = p.prg(Role::P0)?;
            let mut prg1 = p.prg(Role::P1)?;
            let (r0, r1) = (prg0.ring(n), prg1.ring(n));
            for c0 in (0..n).step_by(CHUNK) {
                let c1 = (c0 + CHUNK).min(n);
                let len = c1 - c0;
                let (d0, d1) = (chunk_draws(&mut prg0, len, nb), chunk_draws(&mut prg1, len, nb));
                let r = |q: usize| r0[c0 + q].wrapping_add(r1[c0 + q]);
                let mut w0 = vec![0u64; len * ke];
                // Keys in groups generated in lockstep (dpf::keygen_many), the groups across the dealer's threads.
                const GROUP: usize = 64;
                w0.par_chunks_mut(GROUP * ke).enumerate().for_each(|(g, wc)| {
                    let qs = g * GROUP..g * GROUP + wc.len() / ke;
                    let alphas: Vec<u64> = qs.clone().map(|q| r(q) & low).collect();
                    let roots: Vec<[u128; 2]> = qs.map(|q| [d0.root[q], d1.root[q]]).collect();
                    dpf::keygen_many(&alphas, cb, &roots, wc);
                });
                // P1's message: the same key words, then per value and break its corrections of rho_k and
                // rho_k r, where rho_k = sigma_k xor MSB(r) and sigma_k = sigma_k0 xor sigma_k1.
                let mut w1 = Vec::with_capacity(len * ke + 2 * len * nb);
                w1.extend_from_slice(&w0);
                for q in 0..len {
                    let (r, m) = (r(q), (r(q) >> cb) & 1);
                    for k in 0..nb {
                        let i = q * nb + k;
                        let rho = ((d0.sigma[i] ^ d1.sigma[i]) & 1) ^ m;
                        w1.push(rho.wrapping_sub(d0.rho[i]).wrapping_sub(d1.rho[i]));
                        w1.push(rho.wrapping_mul(r).wrapping_sub(d0.rho_r[i]).wrapping_sub(d1.rho_r[i]));
                    }
                }
                p.send_elems(Role::P0, keys_label.clone(), ViewKind::Share, Phase::Offline, vec1(w0)?)?;
                p.send_elems(Role::P1, keys_label.clone(), ViewKind::Share, Phase::Offline, vec1(w1)?)?;
            }
            Ok(vec![Shared::shape_only(&shape); fs.len()])
        }
        Role::P0 | Role::P1 => {
            let i = p.share_index().ok_or_else(|| protocol_error(Some(label), "no share index"))?;
            let mut prg = p.prg(Role::Dealer)?;
            let r = prg.ring(n);
            // Round 1: open x_hat = x + r.
            let xs: Vec<u64> = x.expect_share()?.as_standard_layout().iter().copied().collect();
            let masked: Vec<u64> = xs.iter().zip(&r).map(|(a, b)| a.wrapping_add(*b)).collect();
            let xhat = exchange(p, vec1(masked)?, &label.op(Op::Open), ViewKind::MaskedOpening)?;
            let xhat: Vec<u64> = xhat.into_raw_vec_and_offset().0;
            let lead = u64::from(i == 0);
            // Per value and break: this party's bit of d_k (packed after all chunks), and its shares of rho_k and
            // rho_k r (corrected for P1), kept for after the second round.
            let mut bits = vec![0u8; n * nb];
            let mut rho = vec![0u64; n * nb];
            let mut rho_r = vec![0u64; n * nb];
            for c0 in (0..n).step_by(CHUNK) {
                let c1 = (c0 + CHUNK).min(n);
                let len = c1 - c0;
                let mine = chunk_draws(&mut prg, len, nb);
                let want = len * ke + if i == 1 { 2 * len * nb } else { 0 };
                let got = p.recv_elems(Role::Dealer, &keys_label, &[want])?.into_raw_vec_and_offset().0;
                let (words, corr) = got.split_at(len * ke);
                let (rho_c, rho_r_c) = (&mut rho[c0 * nb..c1 * nb], &mut rho_r[c0 * nb..c1 * nb]);
                rho_c.copy_from_slice(&mine.rho);
                rho_r_c.copy_from_slice(&mine.rho_r);
                if i == 1 {
                    for (t, (a, b)) in corr.chunks_exact(2).enumerate().map(|(t, c)| (t, (c[0], c[1]))) {
                        rho_c[t] = rho_c[t].wrapping_add(a);
                        rho_r_c[t] = rho_r_c[t].wrapping_add(b);
                    }
                }
                // Groups of values: their keys' comparisons at every break walk the DPF trees in lockstep.
                const GROUP: usize = 32;
                let xhat = &xhat;
                let (mine, bks) = (&mine, &bks);
                bits[c0 * nb..c1 * nb].par_chunks_mut(GROUP * nb).enumerate().for_each(|(g, out)| {
                    let qs = g * GROUP..g * GROUP + out.len() / nb;
                    let refs: Vec<dpf::KeyRef> = qs
                        .clone()
                        .map(|q| dpf::KeyRef { seed: mine.root[q], bits: cb, words: &words[q * ke..(q + 1) * ke] })
                        .collect();
                    let points: Vec<u64> = qs
                        .clone()
                        .flat_map(|q| bks.iter().map(move |&b| xhat[c0 + q].wrapping_sub(b as u64) & low))
                        .collect();
                    // A value's points differ by the breaks: with several, they walk its tree as a trie.
                    if nb == 1 {
                        dpf::eval_many(i, &refs, &points, out);
                    } else {
                        dpf::eval_sets(i, &refs, &points, nb, out);
                    }
                    for (w, q) in qs.enumerate() {
                        for (k, &b) in bks.iter().enumerate() {
                            let t = w * nb + k;
                            let top = (xhat[c0 + q].wrapping_sub(b as u64) >> cb) & 1;
                            out[t] ^= ((mine.sigma[q * nb + k] & 1) ^ (lead & (1 ^ top))) as u8;
                        }
                    }
                });
            }
            // Round 2: open every d_k (packed, 64 to a word; XOR, not a ring sum).
            let mut packed = vec![0u64; (n * nb).div_ceil(64)];
            for (t, &bit) in bits.iter().enumerate() {
                packed[t / 64] |= u64::from(bit) << (t % 64);
            }
            let peer = p.role.peer();
            let bits_label = label.sub("bits").op(Op::Open);
            let len = packed.len();
            p.send_elems(peer, bits_label.clone(), ViewKind::MaskedOpening, Phase::Online, vec1(packed.clone())?)?;
            let theirs = p.recv_elems(peer, &bits_label, &[len])?;
            let open: Vec<u64> = packed.iter().zip(theirs.iter()).map(|(a, b)| a ^ b).collect();
            let plans = encode(&splines, &bks, p.arith)?;
            // Every function's share of every value, value-major, in groups (no allocation per value).
            let nf = fs.len();
            let mut flat = vec![0u64; n * nf];
            const GROUP: usize = 256;
            flat.par_chunks_mut(GROUP * nf).enumerate().for_each(|(g, vals)| {
                let mut dk = vec![(0u64, 0u64); nb];
                for (j, out) in (g * GROUP..).zip(vals.chunks_exact_mut(nf)) {
                    for (k, d_k) in dk.iter_mut().enumerate() {
                        let t = j * nb + k;
                        let d = (open[t / 64] >> (t % 64)) & 1;
                        let flip = 1u64.wrapping_sub(2 * d); // 1 - 2 d
                        let dd = (lead & d).wrapping_add(flip.wrapping_mul(rho[t]));
                        let dr = d.wrapping_mul(r[j]).wrapping_add(flip.wrapping_mul(rho_r[t]));
                        *d_k = (dd, dd.wrapping_mul(xhat[j]).wrapping_sub(dr));
                    }
                    combine(&plans, lead, xs[j], &dk, out);
                }
            });
            let outs = unflatten(flat, nf);
            results(p, outs, &splines, &shape)
        }
        _ => Ok(vec![Shared::shape_only(&shape); fs.len()]),
    }
}

/// [`apply`] in a shape-only run: the same messages with the same shapes, in the same order (P0 and P1's
/// opening, the dealer's key messages in chunks of [`CHUNK`] values, the opening of the bits), and the key
/// generations and evaluations charged to the meter instead of computed.
pub(super) fn apply_shape(
    p: &mut Party<ShapeArith>,
    x: &Shared<Nil>,
    fs: &[Activation],
    label: &Label,
) -> Result<Vec<Shared<Nil>>> {
    use crate::protocol::work::{Op as W, charge};
    let Setup { splines, bks, n, shape, keys_label, cb } = Setup::new(p, p.arith.frac_bits, x.shape(), fs, label)?;
    let nb = bks.len();
    let ke = dpf::key_words(cb);
    let nil = |len: usize| ArrayD::from_elem(IxDyn(&[len]), Nil);
    match p.role {
        Role::Dealer => {
            p.masks_with(Role::P0, draws_per_value(nb) * n)?;
            p.masks_with(Role::P1, draws_per_value(nb) * n)?;
            for c0 in (0..n).step_by(CHUNK) {
                let len = (c0 + CHUNK).min(n) - c0;
                charge(W::DpfKey, len as f64);
                charge(W::Elem, (len * nb) as f64);
                p.send_elems(Role::P0, keys_label.clone(), ViewKind::Share, Phase::Offline, nil(len * ke))?;
                p.send_elems(
                    Role::P1,
                    keys_label.clone(),
                    ViewKind::Share,
                    Phase::Offline,
                    nil(len * ke + 2 * len * nb),
                )?;
            }
            Ok(vec![Shared::shape_only(&shape); fs.len()])
        }
        Role::P0 | Role::P1 => {
            let i = p.share_index().ok_or_else(|| protocol_error(Some(label), "no share index"))?;
            p.masks_with(Role::Dealer, draws_per_value(nb) * n)?;
            exchange(p, nil(n), &label.op(Op::Open), ViewKind::MaskedOpening)?;
            for c0 in (0..n).step_by(CHUNK) {
                let len = (c0 + CHUNK).min(n) - c0;
                let want = len * ke + if i == 1 { 2 * len * nb } else { 0 };
                p.recv_elems(Role::Dealer, &keys_label, &[want])?;
                charge(W::DpfEval, (len * nb) as f64);
            }
            let peer = p.role.peer();
            let bits_label = label.sub("bits").op(Op::Open);
            let len = (n * nb).div_ceil(64);
            p.send_elems(peer, bits_label.clone(), ViewKind::MaskedOpening, Phase::Online, nil(len))?;
            p.recv_elems(peer, &bits_label, &[len])?;
            charge(W::Elem, (n * (nb + 1) * fs.len() + 2 * n * nb) as f64);
            shape_results(p, &splines, &shape)
        }
        _ => Ok(vec![Shared::shape_only(&shape); fs.len()]),
    }
}
