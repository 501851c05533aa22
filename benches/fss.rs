//! The FSS baseline's costs: DCF key generation and evaluation per value (63-bit comparison, pair payload),
//! and a whole relu over 32x676 values (one CNN batch's conv output: the dealer's keys, the opening, both
//! parties' evaluations) against the same relu in plaintext, in one criterion run.
//! Run: cargo bench --bench fss

use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::{ArrayD, IxDyn};
use rtas::experiment::op::{OpKind, Sharing};
use rtas::protocol::fss::dcf;
use rtas::protocol::nonlinear::Via;

rtas::jemalloc_keeping_pages!();

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("fss");
    g.sample_size(20);
    let mut rng = rtas::rng::stream(1, 0);
    let (k0, _) = dcf::keygen(0x1234_5678_9abc, [1, 2], 63, &mut rng);
    g.bench_function("dcf_keygen_1000", |b| {
        b.iter(|| (0..1000u64).map(|i| dcf::keygen(i * 7919, [1, 2], 63, &mut rng).0.cws.len()).sum::<usize>())
    });
    g.bench_function("dcf_eval_1000", |b| {
        b.iter(|| (0..1000u64).fold(0u64, |a, i| a.wrapping_add(dcf::eval(0, &k0, i * 1_000_003)[0])))
    });
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
