//! The FSS baseline's costs: DCF key generation and evaluation per value (63-bit comparison, pair payload),
//! and a whole relu over 32x676 values (one CNN batch's conv output: the dealer's keys, the opening, both
//! parties' evaluations) against the same relu in plaintext, in one criterion run.
//! Run: cargo bench --bench fss

use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::{ArrayD, IxDyn};
use rtas::experiment::op::{OpKind, Sharing};
use rtas::protocol::fss::{dcf, dpf};
use rtas::protocol::nonlinear::Via;

rtas::jemalloc_keeping_pages!();

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("fss");
    g.sample_size(20);
    let mut rng = rtas::rng::stream(1, 0);
    // The tree PRG on every path this CPU can run, 64 blocks a call (a lockstep level); the DCF runs on the
    // path measured fastest at first use (printed).
    eprintln!("DCF tree PRG path chosen here: {}", rtas::protocol::fss::mmo::path());
    eprintln!("DCF key generation path chosen here: {}", dcf::keygen_path());
    eprintln!("DCF evaluation path chosen here: {}", dcf::eval_path());
    eprintln!("DPF key generation and evaluation paths chosen here: {:?}", dpf::paths());
    eprintln!("DPF point sets (eval_sets) evaluated here: {}", dpf::sets_path());
    for (name, f) in rtas::protocol::fss::mmo::paths() {
        let mut blocks: Vec<u128> = (0..64u128).collect();
        g.bench_function(format!("mmo_64_blocks_{name}"), |b| {
            b.iter(|| {
                f(&mut blocks);
                blocks[0]
            })
        });
    }
    let (k0, _) = dcf::keygen(0x1234_5678_9abc, [1, 2], 63, &mut rng);
    // Key generation per key pair, 1000 keys: as first written (both parties' five AES blocks per level, one
    // key at a time), one key at a time now, and in lockstep (the dealer's way, below).
    g.bench_function("dcf_keygen_1000_unbatched", |b| {
        b.iter(|| {
            (0..1000u64).map(|i| dcf::keygen_unbatched(i * 7919, [1, 2], 63, [u128::from(i), !0]).len()).sum::<usize>()
        })
    });
    g.bench_function("dcf_keygen_1000", |b| {
        b.iter(|| (0..1000u64).map(|i| dcf::keygen(i * 7919, [1, 2], 63, &mut rng).0.words.len()).sum::<usize>())
    });
    // The dealer's way: 1000 keys in lockstep (eight keys' blocks of a level in one AES call).
    let alphas: Vec<u64> = (0..1000u64).map(|i| i * 7919).collect();
    let betas = vec![[1u64, 2]; 1000];
    let roots: Vec<[u128; 2]> = (0..1000u128).map(|i| [i * 0x9e37_79b9_7f4a_7c15, !i]).collect();
    g.bench_function("dcf_keygen_many_1000", |b| {
        let mut words = vec![0u64; 1000 * dcf::key_words(63)];
        b.iter(|| {
            dcf::keygen_many(&alphas, &betas, 63, &roots, &mut words);
            words[5]
        })
    });
    // Evaluation per value, 1000 values: as first written (five AES blocks per level, one value at a
    // time), then one value at a time with the two blocks a path takes, then in lockstep (each level's
    // blocks of 32 values in one AES call) on one key and on 1000 different keys (what a relu layer does).
    g.bench_function("dcf_eval_1000_unbatched", |b| {
        b.iter(|| (0..1000u64).fold(0u64, |a, i| a.wrapping_add(dcf::eval_unbatched(0, &k0, i * 1_000_003)[0])))
    });
    g.bench_function("dcf_eval_1000", |b| {
        b.iter(|| (0..1000u64).fold(0u64, |a, i| a.wrapping_add(dcf::eval(0, &k0, i * 1_000_003)[0])))
    });
    let xs: Vec<u64> = (0..1000u64).map(|i| i * 1_000_003).collect();
    g.bench_function("dcf_eval_at_1000", |b| {
        let mut out = vec![[0u64; 2]; 1000];
        b.iter(|| {
            dcf::eval_at(0, k0.view(), &xs, &mut out);
            out[999][0]
        })
    });
    let many: Vec<dcf::DcfKey> = (0..1000u64).map(|i| dcf::keygen(i * 7919, [1, 2], 63, &mut rng).0).collect();
    let refs: Vec<dcf::KeyRef> = many.iter().map(dcf::DcfKey::view).collect();
    g.bench_function("dcf_eval_many_1000", |b| {
        let mut out = vec![[0u64; 2]; 1000];
        b.iter(|| {
            dcf::eval_many(0, &refs, &xs, &mut out);
            out[999][0]
        })
    });
    // The gates' width (c = 63 - f = 47 at f = 16): the DCF against the DPF comparison, 1000 keys in lockstep
    // and 1000 evaluations each at its own key (one per value of a relu layer).
    let roots47: Vec<[u128; 2]> = (0..1000u128).map(|i| [i * 0x9e37_79b9_7f4a_7c15, !i]).collect();
    let xs47: Vec<u64> = xs.iter().map(|x| x & ((1 << 47) - 1)).collect();
    let mut dcf47 = vec![0u64; 1000 * dcf::key_words(47)];
    g.bench_function("dcf47_keygen_many_1000", |b| {
        b.iter(|| {
            dcf::keygen_many(&alphas, &betas, 47, &roots47, &mut dcf47);
            dcf47[5]
        })
    });
    let kw = dcf::key_words(47);
    let dcf_refs: Vec<dcf::KeyRef> = (0..1000)
        .map(|k| dcf::KeyRef { seed: roots47[k][0] & !1, bits: 47, words: &dcf47[k * kw..(k + 1) * kw] })
        .collect();
    g.bench_function("dcf47_eval_many_1000", |b| {
        let mut out = vec![[0u64; 2]; 1000];
        b.iter(|| {
            dcf::eval_many(0, &dcf_refs, &xs47, &mut out);
            out[999][0]
        })
    });
    let mut dpf47 = vec![0u64; 1000 * dpf::key_words(47)];
    g.bench_function("dpf47_keygen_many_1000", |b| {
        b.iter(|| {
            dpf::keygen_many(&alphas, 47, &roots47, &mut dpf47);
            dpf47[5]
        })
    });
    let pw = dpf::key_words(47);
    let dpf_refs: Vec<dpf::KeyRef> = (0..1000)
        .map(|k| dpf::KeyRef { seed: roots47[k][0] & !1, bits: 47, words: &dpf47[k * pw..(k + 1) * pw] })
        .collect();
    g.bench_function("dpf47_eval_many_1000", |b| {
        let mut out = vec![0u8; 1000];
        b.iter(|| {
            dpf::eval_many(0, &dpf_refs, &xs47, &mut out);
            out[999]
        })
    });
    // A sigmoid gate's comparisons: 12 points a key (a masked value minus each of the 12 breaks, in units of
    // 2^-16), 83 keys (996 points): walked apart (eval_many), and through eval_sets (the trie or apart, as chosen here).
    let breaks: Vec<u64> = [-6.0f64, -3.67, -2.56, -1.77, -1.06, -0.28, 0.34, 1.13, 1.83, 2.64, 3.81, 6.0]
        .iter()
        .map(|b| (b * 65536.0) as i64 as u64)
        .collect();
    let sig_keys: Vec<dpf::KeyRef> = dpf_refs[..83].to_vec();
    let sig_xs: Vec<u64> = (0..83usize)
        .flat_map(|k| {
            let x = xs47[k] ^ (k as u64) << 40;
            breaks.iter().map(move |&b| x.wrapping_sub(b) & ((1 << 47) - 1))
        })
        .collect();
    let sig_apart: Vec<dpf::KeyRef> = sig_keys.iter().flat_map(|k| std::iter::repeat_n(*k, 12)).collect();
    g.bench_function("dpf47_eval_sigmoid_996_apart", |b| {
        let mut out = vec![0u8; 996];
        b.iter(|| {
            dpf::eval_many(0, &sig_apart, &sig_xs, &mut out);
            out[995]
        })
    });
    g.bench_function("dpf47_eval_sigmoid_996_sets", |b| {
        let mut out = vec![0u8; 996];
        b.iter(|| {
            dpf::eval_sets(0, &sig_keys, &sig_xs, 12, &mut out);
            out[995]
        })
    });
    // The same evaluation over keys far larger than the caches (200,000 keys, 134 MB: what a relu layer of a
    // large inference batch reads from the dealer's message), per 1000 values.
    let big = 200_000usize;
    let big_alphas: Vec<u64> = (0..big as u64).map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 17).collect();
    let big_roots: Vec<[u128; 2]> = (0..big as u128).map(|i| [i * 0x9e37_79b9_7f4a_7c15, !i]).collect();
    let mut big_words = vec![0u64; big * pw];
    dpf::keygen_many(&big_alphas, 47, &big_roots, &mut big_words);
    let big_refs: Vec<dpf::KeyRef> = (0..big)
        .map(|k| dpf::KeyRef { seed: big_roots[k][0] & !1, bits: 47, words: &big_words[k * pw..(k + 1) * pw] })
        .collect();
    let big_xs: Vec<u64> = (0..big as u64).map(|i| (i * 1_000_003) & ((1 << 47) - 1)).collect();
    g.bench_function("dpf47_eval_many_cold_1000", |b| {
        let mut out = vec![0u8; 1000];
        let mut at = 0usize;
        b.iter(|| {
            let r = at..at + 1000;
            at = (at + 1000) % big;
            dpf::eval_many(0, &big_refs[r.clone()], &big_xs[r], &mut out);
            out[999]
        })
    });
    // The same DCF from the fss-rs crate (64-bit inputs, 16-byte payload like rtas's pair), one thread.
    {
        use fss_rs::dcf::{BoundState, CmpFn, Dcf, DcfImpl};
        use fss_rs::group::byte::ByteGroup;
        use fss_rs::prg::Aes128MatyasMeyerOseasPrg;
        let keys = [[7u8; 16], [8u8; 16], [9u8; 16], [10u8; 16]];
        let prg = Aes128MatyasMeyerOseasPrg::<16, 2, 4>::new(&std::array::from_fn(|i| &keys[i]));
        let fdcf = DcfImpl::<8, 16, _>::new(prg);
        let s0s = [[1u8; 16], [2u8; 16]];
        let f =
            CmpFn { alpha: 0x1234_5678_9abcu64.to_be_bytes(), beta: ByteGroup([3u8; 16]), bound: BoundState::LtAlpha };
        g.bench_function("fss_rs_dcf_keygen_1000", |b| {
            b.iter(|| {
                (0..1000u64)
                    .map(|i| {
                        let f = CmpFn {
                            alpha: (i * 7919).to_be_bytes(),
                            beta: ByteGroup([3u8; 16]),
                            bound: BoundState::LtAlpha,
                        };
                        fdcf.r#gen(&f, [&s0s[0], &s0s[1]]).cw_np1.0[0]
                    })
                    .fold(0u8, |a, v| a ^ v)
            })
        });
        let k = fdcf.r#gen(&f, [&s0s[0], &s0s[1]]);
        let xs: Vec<[u8; 8]> = (0..1000u64).map(|i| (i * 1_000_003).to_be_bytes()).collect();
        g.bench_function("fss_rs_dcf_eval_1000", |b| {
            b.iter(|| {
                let mut ys = vec![ByteGroup([0u8; 16]); 1000];
                let xr: Vec<&[u8; 8]> = xs.iter().collect();
                let mut yr: Vec<&mut ByteGroup<16>> = ys.iter_mut().collect();
                fdcf.eval(false, &k, &xr, &mut yr);
                ys[999].0[0]
            })
        });
    }
    let x = ArrayD::from_shape_fn(IxDyn(&[32, 676]), |i| ((i[0] * 676 + i[1]) as f64 * 0.37).sin() * 4.0);
    g.bench_function("relu_plain_32x676", |b| b.iter(|| x.mapv(|v| v.max(0.0))));
    let op = OpKind::Relu { shape: vec![32, 676] };
    let ring = Sharing::Ring { frac_bits: 16 };
    g.bench_function("relu_mpc_32x676_all_parties", |b| {
        b.iter(|| rtas::experiment::op::run(&op, ring, Via::Fss, &[], 1).unwrap())
    });
    g.bench_function("relu_rtas_helper_32x676_all_parties", |b| {
        b.iter(|| rtas::experiment::op::run(&op, ring, Via::Helper, &[], 1).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
