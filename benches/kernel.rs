//! The ring matmul on every exact path this host can run (integer kernels, f64 limbs) against the f64 GEMM
//! baseline, in the same run, on 8192x784 by 784x100 (an inference batch of MNIST through a 100-unit layer),
//! plus one whole Beaver matmul (dealer, P0, P1 on their threads) on the path the process chose.
//! Run: cargo bench --bench kernel   (RTAS_RING_PATH=name forces a path)

use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::Array2;
use rtas::net::{Role, Stage};
use rtas::protocol::beaver;
use rtas::protocol::kernel::{self, matmul_f64, matmul_u64_on};
use rtas::protocol::prg::Prg;
use rtas::protocol::ring::RingArith;
use rtas::protocol::share::Shared;
use rtas::sim::run::run_protocol;
use std::collections::BTreeMap;

rtas::jemalloc_keeping_pages!();

fn bench(c: &mut Criterion) {
    let (m, k, n) = (8192, 784, 100);
    let mut prg = Prg::new(&[5; 16], 0);
    let au = Array2::from_shape_vec((m, k), prg.ring(m * k)).unwrap();
    let bu = Array2::from_shape_vec((k, n), prg.ring(k * n)).unwrap();
    let af = au.mapv(|v| (v >> 40) as f64 / 1e6);
    let bf = bu.mapv(|v| (v >> 40) as f64 / 1e6);
    let chosen = kernel::ring_path();
    eprintln!("ring path: {} ({})", chosen.path, chosen.chosen_by);
    for r in &chosen.rates {
        eprintln!("  calibration: {:<10} {:.2} G mul-adds/s", r.path, r.giga_mul_adds_per_second);
    }
    let mut g = c.benchmark_group("matmul_8192x784x100");
    g.sample_size(10);
    g.bench_function("f64_faer_gemm", |b| b.iter(|| matmul_f64(af.view(), bf.view())));
    for path in kernel::paths() {
        g.bench_function(format!("u64_{path}"), |b| b.iter(|| matmul_u64_on(path, au.view(), bu.view()).unwrap()));
    }
    // Shares made once outside the timed region: the bench times the dealer's triple and the online
    // product, all three parties on their threads, nothing else.
    let split = |a: &Array2<u64>, seed: u8| {
        let r = Array2::from_shape_vec(a.dim(), Prg::new(&[seed; 16], 0).ring(a.len())).unwrap();
        (r.clone().into_dyn(), (a - &r).into_dyn())
    };
    let (x0, x1) = split(&au.mapv(|v| v >> 44), 1);
    let (w0, w1) = split(&bu.mapv(|v| v >> 44), 2);
    g.bench_function("beaver_matmul_all_parties", |b| {
        b.iter(|| {
            // Each computing party is handed its own shares; the dealer holds nothing.
            let shares =
                BTreeMap::from([(Role::P0, vec![x0.clone(), w0.clone()]), (Role::P1, vec![x1.clone(), w1.clone()])]);
            run_protocol(&RingArith::default(), &[Role::P0, Role::P1, Role::Dealer], 1, false, shares, |p, mine| {
                let (xs, ws) = match &mine[..] {
                    [x, w] => (Shared::held(x.clone()), Shared::held(w.clone())),
                    _ => (Shared::shape_only(&[m, k]), Shared::shape_only(&[k, n])),
                };
                Ok(beaver::matmul(p, &xs, &ws, false, &Stage::Op.at("mm"))?.0)
            })
            .unwrap()
        })
    });
    g.finish();
    // A zeroed buffer written once, as the gates and the PRG make them (rtas::alloc::KeepingPages): 8 MiB is
    // cleared in place, 32 MiB is left to jemalloc, which zeroes a reused extent by handing its pages back to
    // the kernel (each then faults in again at the first write). Time per 8-byte element is the comparison.
    let mut g = c.benchmark_group("zeroed_then_written");
    g.sample_size(20);
    for (name, words) in [("8mib_cleared_in_place", 1usize << 20), ("32mib_left_to_jemalloc", 1 << 22)] {
        g.throughput(criterion::Throughput::Elements(words as u64));
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut v = vec![0u64; words];
                v.fill(1);
                std::hint::black_box(v)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
