//! The one-round gate: a DCF key per value with payload `(1, r)`, so the comparison comes out as arithmetic
//! shares of `D` and `D r` and the spline needs no second message (LLAMA's construction; the module doc of
//! [`super`] has the whole derivation and the key sizes).

use super::*;

/// Applies each of `fs` to the shared `x` element by element through one-round DCF gates; one shared result per
/// function. Ledger for n values at f = 16: dealer -> P0 `192 n` and dealer -> P1 `194 n` ring
/// elements offline (in messages of at most [`CHUNK`] values' keys); P0 <-> P1 `n` each way online, one round.
pub(super) fn apply(
    p: &mut Party<RingArith>,
    x: &Shared<u64>,
    fs: &[Activation],
    label: &Label,
) -> Result<Vec<Shared<u64>>> {
    let setup = Setup::new(p, p.arith.frac_bits, x.shape(), fs, label)?;
    setup.observe(p, x);
    let Setup { splines, bks, n, shape, keys_label, cb } = setup;
    let low = (1u64 << cb) - 1;
    let ke = dcf::key_words(cb);
    match p.role {
        Role::Dealer => {
            let d0 = draws(&mut p.prg(Role::P0)?, n);
            let d1 = draws(&mut p.prg(Role::P1)?, n);
            for c0 in (0..n).step_by(CHUNK) {
                let c1 = (c0 + CHUNK).min(n);
                let len = c1 - c0;
                // P0's message: its key words; P1's: the same words, then its corrections of MSB(r) and MSB(r) r
                // (r itself is r0 + r1, both drawn from seeds: no correction).
                let mut w0 = vec![0u64; len * ke];
                let mut w1 = vec![0u64; len * ke + 2 * len];
                // alpha = r mod 2^cb, beta = (1 - 2 m) (1, r) with m the top bit of r mod 2^(cb+1); r = r0 + r1.
                let r = |j: usize| d0.r[j].wrapping_add(d1.r[j]);
                let msb = |r: u64| (r >> cb) & 1;
                // Keys in groups generated in lockstep (dcf::keygen_many), the groups across the dealer's threads.
                const GROUP: usize = 64;
                w0.par_chunks_mut(GROUP * ke).enumerate().for_each(|(g, wc)| {
                    let js = c0 + g * GROUP..c0 + g * GROUP + wc.len() / ke;
                    let alphas: Vec<u64> = js.clone().map(|j| r(j) & low).collect();
                    let betas: Vec<dcf::Payload> = js
                        .clone()
                        .map(|j| if msb(r(j)) == 0 { [1, r(j)] } else { [1u64.wrapping_neg(), r(j).wrapping_neg()] })
                        .collect();
                    let roots: Vec<[u128; 2]> = js.map(|j| [d0.root[j], d1.root[j]]).collect();
                    dcf::keygen_many(&alphas, &betas, cb, &roots, wc);
                });
                // P0's message: its key words; P1's: the same words, then its corrections of MSB(r) and MSB(r) r
                // (r itself is r0 + r1, both drawn from seeds: no correction).
                let (w1_keys, w1_corr) = w1.split_at_mut(len * ke);
                w1_keys.copy_from_slice(&w0);
                for (q, corr) in w1_corr.chunks_mut(2).enumerate() {
                    let j = c0 + q;
                    let (r, m) = (r(j), msb(r(j)));
                    corr[0] = m.wrapping_sub(d0.m[j]).wrapping_sub(d1.m[j]);
                    corr[1] = m.wrapping_mul(r).wrapping_sub(d0.mr[j]).wrapping_sub(d1.mr[j]);
                }
                p.send_elems(Role::P0, keys_label.clone(), ViewKind::Share, Phase::Offline, vec1(w0)?)?;
                p.send_elems(Role::P1, keys_label.clone(), ViewKind::Share, Phase::Offline, vec1(w1)?)?;
            }
            Ok(vec![Shared::shape_only(&shape); fs.len()])
        }
        Role::P0 | Role::P1 => {
            let i = p.share_index().ok_or_else(|| protocol_error(Some(label), "no share index"))?;
            let mine = draws(&mut p.prg(Role::Dealer)?, n);
            // Open x_hat = x + r: the one online message. (r = r0 + r1 with both shares drawn from seeds.)
            let xs: Vec<u64> = x.expect_share()?.as_standard_layout().iter().copied().collect();
            let masked: Vec<u64> = xs.iter().zip(&mine.r).map(|(a, b)| a.wrapping_add(*b)).collect();
            let xhat = exchange(p, vec1(masked)?, &label.op(Op::Open), ViewKind::MaskedOpening)?;
            let xhat: Vec<u64> = xhat.into_raw_vec_and_offset().0;
            let lead = u64::from(i == 0);
            let plans = encode(&splines, &bks, p.arith)?;
            let nf = fs.len();
            // Every function's share of every value, value-major (one buffer, no allocation per value).
            let mut flat = vec![0u64; n * nf];
            for c0 in (0..n).step_by(CHUNK) {
                let c1 = (c0 + CHUNK).min(n);
                let len = c1 - c0;
                let want = len * ke + if i == 1 { 2 * len } else { 0 };
                let got = p.recv_elems(Role::Dealer, &keys_label, &[want])?.into_raw_vec_and_offset().0;
                let (words, corr) = got.split_at(len * ke);
                // Groups of values: their keys' comparisons at every break walk the DCF trees in lockstep
                // (dcf::eval_many: one AES call per tree level for the whole group).
                const GROUP: usize = 32;
                let nb = bks.len();
                flat[c0 * nf..c1 * nf].par_chunks_mut(GROUP * nf).enumerate().for_each(|(g, vals)| {
                    let qs = g * GROUP..g * GROUP + vals.len() / nf;
                    // The keys read in place from the dealer's message (no copy).
                    let refs: Vec<KeyRef> = qs
                        .clone()
                        .flat_map(|q| {
                            let key = KeyRef { seed: mine.root[c0 + q], bits: cb, words: &words[q * ke..(q + 1) * ke] };
                            std::iter::repeat_n(key, nb)
                        })
                        .collect();
                    let xhat = &xhat;
                    let points: Vec<u64> = qs
                        .clone()
                        .flat_map(|q| bks.iter().map(move |&b| xhat[c0 + q].wrapping_sub(b as u64) & low))
                        .collect();
                    let mut cmp = vec![[0u64; 2]; points.len()];
                    dcf::eval_many(i, &refs, &points, &mut cmp);
                    let mut dk = vec![(0u64, 0u64); nb];
                    for ((w, q), out) in qs.enumerate().zip(vals.chunks_exact_mut(nf)) {
                        let j = c0 + q;
                        let (r, mut m, mut mr) = (mine.r[j], mine.m[j], mine.mr[j]);
                        if i == 1 {
                            m = m.wrapping_add(corr[2 * q]);
                            mr = mr.wrapping_add(corr[2 * q + 1]);
                        }
                        // Shares of D_k = [x >= b_k] and of D_k x, for every break.
                        for ((k, &b), d_k) in bks.iter().enumerate().zip(dk.iter_mut()) {
                            let yhat = xhat[j].wrapping_sub(b as u64);
                            let ph = (yhat >> cb) & 1;
                            let [c, cr] = cmp[w * nb + k];
                            let t = m.wrapping_add(c);
                            let tr = mr.wrapping_add(cr);
                            let sign = 1u64.wrapping_sub(2 * ph); // 1 - 2 MSB(y_hat)
                            let d = lead.wrapping_mul(1 - ph).wrapping_sub(sign.wrapping_mul(t));
                            let dr = (1 - ph).wrapping_mul(r).wrapping_sub(sign.wrapping_mul(tr));
                            *d_k = (d, d.wrapping_mul(xhat[j]).wrapping_sub(dr));
                        }
                        combine(&plans, lead, xs[j], &dk, out);
                    }
                });
            }
            let outs = unflatten(flat, nf);
            results(p, outs, &splines, &shape)
        }
        _ => Ok(vec![Shared::shape_only(&shape); fs.len()]),
    }
}

/// [`apply`] in a shape-only run: the same messages with the same shapes, in the same order (the dealer's
/// key messages in chunks of [`CHUNK`] values, then P0 and P1's opening), and the key generations and
/// evaluations charged to the meter instead of computed.
pub(super) fn apply_shape(
    p: &mut Party<ShapeArith>,
    x: &Shared<Nil>,
    fs: &[Activation],
    label: &Label,
) -> Result<Vec<Shared<Nil>>> {
    use crate::protocol::work::{Op as W, charge};
    let Setup { splines, bks, n, shape, keys_label, cb } = Setup::new(p, p.arith.frac_bits, x.shape(), fs, label)?;
    let ke = dcf::key_words(cb);
    let nil = |len: usize| ArrayD::from_elem(IxDyn(&[len]), Nil);
    match p.role {
        Role::Dealer => {
            // The dealer's draws for both parties (r, MSB(r), MSB(r) r, the root seeds).
            p.masks_with(Role::P0, 5 * n)?;
            p.masks_with(Role::P1, 5 * n)?;
            for c0 in (0..n).step_by(CHUNK) {
                let len = (c0 + CHUNK).min(n) - c0;
                charge(W::DcfKey, len as f64);
                p.send_elems(Role::P0, keys_label.clone(), ViewKind::Share, Phase::Offline, nil(len * ke))?;
                p.send_elems(Role::P1, keys_label.clone(), ViewKind::Share, Phase::Offline, nil(len * ke + 2 * len))?;
            }
            Ok(vec![Shared::shape_only(&shape); fs.len()])
        }
        Role::P0 | Role::P1 => {
            let i = p.share_index().ok_or_else(|| protocol_error(Some(label), "no share index"))?;
            p.masks_with(Role::Dealer, 5 * n)?;
            exchange(p, nil(n), &label.op(Op::Open), ViewKind::MaskedOpening)?;
            for c0 in (0..n).step_by(CHUNK) {
                let len = (c0 + CHUNK).min(n) - c0;
                let want = len * ke + if i == 1 { 2 * len } else { 0 };
                p.recv_elems(Role::Dealer, &keys_label, &[want])?;
                charge(W::DcfEval, (len * bks.len()) as f64);
                charge(W::Elem, (len * (bks.len() + 1) * fs.len()) as f64);
            }
            shape_results(p, &splines, &shape)
        }
        _ => Ok(vec![Shared::shape_only(&shape); fs.len()]),
    }
}
