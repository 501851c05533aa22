//! The Monte Carlo estimator and the closed forms.
//!
//! `estimate_linear/784x100` runs 1,024 trials of the known-transform attacker (4 matrices of 100 x 784);
//! `gaussian_draws/784x1024` draws the same 4 * (78,400 + 802,816) normals and nothing else, the floor under
//! any estimator of this setting, so the ratio of the two says what the attacker's linear algebra costs.
//! Run: cargo bench --bench estimate

use criterion::{Criterion, criterion_group, criterion_main};
use indicatif::ProgressBar;
use rand::RngExt;
use rand_distr::StandardNormal;
use rtas::analysis::{bounds, estimate};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let pb = ProgressBar::hidden();
    let mut g = c.benchmark_group("estimator");
    g.sample_size(10);
    g.bench_function("estimate_linear/784x100/1024_trials", |b| {
        b.iter(|| estimate::linear(784, 100, 26.6, 1024, 1, &pb).unwrap())
    });
    g.bench_function("gaussian_draws/784x1024_plus_4_matrices", |b| {
        b.iter(|| {
            let mut rng = rtas::rng::stream(1, 0);
            let mut s = 0.0f64;
            for _ in 0..4 * (78_400 + 784 * 256) {
                s += rng.sample::<f64, _>(StandardNormal);
            }
            black_box(s)
        })
    });
    g.bench_function("estimate_permutation/784/4096_trials", |b| {
        b.iter(|| estimate::permutation(784, None, 0, 4096, 1, &pb).unwrap())
    });
    g.finish();
    let mut g = c.benchmark_group("bounds");
    g.bench_function("linear/n=1e8", |b| b.iter(|| bounds::linear(black_box(100_000_000), 1000, 10_000.0).unwrap()));
    g.bench_function("linear/n=784", |b| b.iter(|| bounds::linear(black_box(784), 100, 1.0).unwrap()));
    g.bench_function("permutation/n=1e8", |b| b.iter(|| bounds::permutation(black_box(100_000_000), None, 0).unwrap()));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
