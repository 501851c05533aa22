//! Dense products: the 64-bit wrapping matmul at the heart of every Beaver product (the dealer's and the
//! parties', convolutions through im2col), and the f64 product used by the float mode and the plaintext
//! references.
//!
//! # Ring products: two exact paths, chosen by measurement
//!
//! - [`integer`]: a packed integer kernel, compiled for AVX-512, AVX2 and the baseline;
//! - [`limbs`]: three 22-bit limbs per element and six f64 GEMMs (faer), exact by construction.
//!
//! Hosts of the same kind differ: on one, integer vector multiplies run at the speed of scalar ones while
//! f64 FMAs run ten times faster; on another the AVX-512 integer kernel is within 1.5x of the f64 GEMM. So
//! the path is never chosen from CPU flags: the first ring product of a process (or `rtas calibrate`) times
//! every path this CPU can run on a representative shape and keeps the fastest. `RTAS_RING_PATH=name`, or
//! [`set_ring_path`] (the CLI's `--ring-path`), overrides it; `rtas calibrate --save` caches the choice for
//! this machine. Every path gives the same bits (tested), whatever the thread count.
//!
//! # f64
//!
//! faer's GEMM (single-threaded, see the crate's determinism policy) on fixed 64-row blocks spread over
//! rayon: parallel, and the same bits whatever the thread count.

// SIMD intrinsics behind run-time CPU detection; every unsafe block states what it relies on.
#[allow(unsafe_code)]
mod integer;
mod limbs;

use crate::error::{Result, invalid};
use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;
use serde::Serialize;
use std::sync::OnceLock;

/// The f64-limbs path's name.
pub const LIMBS: &str = "f64-limbs";

/// One exact path and what it measured.
#[derive(Debug, Clone, Serialize)]
pub struct PathRate {
    /// `avx512`, `avx2`, `generic` (integer kernels) or `f64-limbs`.
    pub path: String,
    /// Measured multiply-adds per second (best of three on the calibration shape), in billions.
    pub giga_mul_adds_per_second: f64,
}

/// Which path ring products take in this process, and why.
#[derive(Debug, Clone, Serialize)]
pub struct RingPath {
    /// The path.
    pub path: String,
    /// `calibrated`, `RTAS_RING_PATH`, `--ring-path` or `cache FILE`.
    pub chosen_by: String,
    /// The calibration's rates, fastest first (empty when the path was not calibrated here).
    pub rates: Vec<PathRate>,
}

/// Every path this CPU can run.
pub fn paths() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = integer::available().into_iter().map(|(n, _)| n).collect();
    v.push(LIMBS);
    v
}

/// A path resolved to the code that runs it.
#[derive(Clone, Copy)]
enum Kernel {
    Integer(integer::MacroKernel),
    Limbs,
}

fn resolve(path: &str) -> Result<Kernel> {
    if path == LIMBS {
        return Ok(Kernel::Limbs);
    }
    integer::available()
        .into_iter()
        .find(|(name, _)| *name == path)
        .map(|(_, k)| Kernel::Integer(k))
        .ok_or_else(|| invalid(format!("ring path '{path}' is not available here (known: {})", paths().join(", "))))
}

/// `a * b` in Z_2^64 with `kernel`. Inner dimensions must agree (callers check shapes first).
fn product(kernel: Kernel, a: ArrayView2<u64>, b: ArrayView2<u64>) -> Array2<u64> {
    let (m, k) = a.dim();
    let (k2, n) = b.dim();
    assert_eq!(k, k2, "matmul_u64: inner dimensions {k} and {k2} differ");
    let a = a.as_standard_layout();
    let b = b.as_standard_layout();
    let (a, b) = (a.as_slice().unwrap_or(&[]), b.as_slice().unwrap_or(&[]));
    let c = match kernel {
        Kernel::Limbs => limbs::matmul(a, b, m, k, n),
        Kernel::Integer(kern) => integer::matmul(kern, a, b, m, k, n),
    };
    Array2::from_shape_vec((m, n), c).unwrap_or_default()
}

/// `a * b` in Z_2^64 on the named path (every path gives the same bits); an error if the path is not
/// available on this CPU.
pub fn matmul_u64_on(path: &str, a: ArrayView2<u64>, b: ArrayView2<u64>) -> Result<Array2<u64>> {
    Ok(product(resolve(path)?, a, b))
}

/// Times every path on a representative product (256 x 784 by 784 x 100: a batch through a 100-unit layer),
/// best of three after a warm-up; fastest first.
pub fn calibrate() -> Vec<PathRate> {
    let (m, k, n) = (256, 784, 100);
    let mut prg = super::prg::Prg::new(&[0x5a; 16], 0);
    let a = Array2::from_shape_vec((m, k), prg.ring(m * k)).unwrap_or_default();
    let b = Array2::from_shape_vec((k, n), prg.ring(k * n)).unwrap_or_default();
    let mut rates: Vec<PathRate> = paths()
        .into_iter()
        .map(|p| {
            let _ = matmul_u64_on(p, a.view(), b.view());
            let best = (0..3)
                .map(|_| {
                    let t = std::time::Instant::now();
                    let _ = matmul_u64_on(p, a.view(), b.view());
                    t.elapsed().as_secs_f64()
                })
                .fold(f64::INFINITY, f64::min);
            PathRate { path: p.to_string(), giga_mul_adds_per_second: (m * k * n) as f64 / best.max(1e-9) / 1e9 }
        })
        .collect();
    rates.sort_by(|x, y| y.giga_mul_adds_per_second.total_cmp(&x.giga_mul_adds_per_second));
    rates
}

static REQUESTED: OnceLock<String> = OnceLock::new();
static CHOICE: OnceLock<RingPath> = OnceLock::new();

/// Asks for `path` for every ring product of this process (before the first one). An error if the path is
/// unknown here, or if another was already fixed.
pub fn set_ring_path(path: &str) -> Result<()> {
    if !paths().contains(&path) {
        return Err(invalid(format!("--ring-path '{path}' is not available here (known: {})", paths().join(", "))));
    }
    let requested = REQUESTED.get_or_init(|| path.to_string());
    if requested != path || CHOICE.get().is_some_and(|c| c.path != path) {
        return Err(invalid(format!("the ring path is already fixed to '{}' in this process", ring_path().path)));
    }
    Ok(())
}

/// The cache file of `rtas calibrate --save`: `$XDG_CACHE_HOME/rtas/ring-path` or `~/.cache/rtas/ring-path`.
pub fn cache_file() -> Option<std::path::PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".cache")))?;
    Some(base.join("rtas").join("ring-path"))
}

/// This CPU's model name (the cache is valid only on the CPU that wrote it).
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn from_cache() -> Option<(String, String)> {
    let file = cache_file()?;
    let text = std::fs::read_to_string(&file).ok()?;
    let (path, cpu) = text.trim().split_once('\t')?;
    (cpu == cpu_model() && paths().contains(&path)).then(|| (path.to_string(), format!("cache {}", file.display())))
}

/// The path ring products take in this process (decided on first use: override, cache, or calibration).
pub fn ring_path() -> RingPath {
    chosen().0.clone()
}

/// The choice and the code that runs it, fixed once per process.
fn chosen() -> &'static (RingPath, Kernel) {
    static RESOLVED: OnceLock<(RingPath, Kernel)> = OnceLock::new();
    RESOLVED.get_or_init(|| {
        let choice = decide();
        // Every name `decide` returns is one of `paths()`; plain code is the fallback of last resort.
        let kernel = resolve(&choice.path).unwrap_or(Kernel::Integer(integer::generic()));
        (choice, kernel)
    })
}

/// [`calibrate`] for the first product of the process, which may be asked for from a worker of rayon's global
/// pool while this initialization holds [`CHOICE`]: the products are timed on a pool of their own (as many
/// threads as the global one) driven from a plain thread, so that no job of the global pool is needed to
/// finish them and no worker waiting here picks up another job that would ask for the path again. (On the
/// global pool, two tests reaching the first product at once deadlocked: the calibration's job waited behind a
/// worker that was itself waiting for the calibration.)
fn calibrate_apart() -> Vec<PathRate> {
    let threads = rayon::current_num_threads();
    std::thread::scope(|s| {
        s.spawn(move || match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
            Ok(pool) => pool.install(calibrate),
            // Without a pool of its own, one path: the generic kernel, whatever this CPU has.
            Err(_) => Vec::new(),
        })
        .join()
        .unwrap_or_default()
    })
}

fn decide() -> RingPath {
    CHOICE
        .get_or_init(|| {
            if let Ok(p) = std::env::var("RTAS_RING_PATH")
                && paths().contains(&p.as_str())
            {
                return RingPath { path: p, chosen_by: "RTAS_RING_PATH".into(), rates: Vec::new() };
            }
            if let Some(p) = REQUESTED.get() {
                return RingPath { path: p.clone(), chosen_by: "--ring-path".into(), rates: Vec::new() };
            }
            if let Some((path, chosen_by)) = from_cache() {
                return RingPath { path, chosen_by, rates: Vec::new() };
            }
            let rates = calibrate_apart();
            match rates.first() {
                Some(r) => RingPath { path: r.path.clone(), chosen_by: "calibrated".into(), rates },
                // Said wherever the path is shown (`rtas plan`, the benches): not a measured choice.
                None => RingPath {
                    path: "generic".into(),
                    chosen_by: "fallback: calibration could not start its threads".into(),
                    rates,
                },
            }
        })
        .clone()
}

/// `a * b` in Z_2^64 (wrapping) on this process's path ([`ring_path`]), resolved once: the hot path does no
/// lookup and no allocation beyond the product.
pub fn matmul_u64(a: ArrayView2<u64>, b: ArrayView2<u64>) -> Array2<u64> {
    product(chosen().1, a, b)
}

/// The textbook triple loop, for tests.
pub fn matmul_u64_naive(a: ArrayView2<u64>, b: ArrayView2<u64>) -> Array2<u64> {
    let (m, k) = a.dim();
    let n = b.ncols();
    Array2::from_shape_fn((m, n), |(i, j)| (0..k).fold(0u64, |s, p| s.wrapping_add(a[(i, p)].wrapping_mul(b[(p, j)]))))
}

/// Rows per parallel block of the f64 product (fixed, so results do not depend on the thread count).
const F64_ROWS: usize = 64;

/// A matrix as faer reads it: in place when its memory is row-major or column-major (a transpose, as the
/// backward passes' `x^T dy` and `dy w^T` give), else a row-major copy (a strided slice).
enum F64Operand<'a> {
    Rows(&'a [f64]),
    Columns(&'a [f64]),
    Copied(Vec<f64>),
}

impl<'a> F64Operand<'a> {
    fn of(a: ArrayView2<'a, f64>) -> Self {
        if let Some(s) = a.to_slice() {
            F64Operand::Rows(s)
        } else if let Some(s) = a.reversed_axes().to_slice() {
            F64Operand::Columns(s)
        } else {
            F64Operand::Copied(a.iter().copied().collect())
        }
    }

    fn mat(&self, rows: usize, cols: usize) -> faer::MatRef<'_, f64> {
        match self {
            F64Operand::Rows(s) => faer::MatRef::from_row_major_slice(s, rows, cols),
            F64Operand::Columns(s) => faer::MatRef::from_column_major_slice(s, rows, cols),
            F64Operand::Copied(v) => faer::MatRef::from_row_major_slice(v, rows, cols),
        }
    }
}

/// `a * b` in f64 with faer, parallel over fixed row blocks. Operands are read in place when row- or
/// column-major (copying a transposed view element by element was 5% of `rtas report`'s CPU).
pub fn matmul_f64(a: ArrayView2<f64>, b: ArrayView2<f64>) -> Array2<f64> {
    let (m, k) = a.dim();
    let (k2, n) = b.dim();
    assert_eq!(k, k2, "matmul_f64: inner dimensions {k} and {k2} differ");
    let mut c = vec![0f64; m * n];
    if m > 0 && n > 0 && k > 0 {
        let (ao, bo) = (F64Operand::of(a), F64Operand::of(b));
        let (am, bm) = (ao.mat(m, k), bo.mat(k, n));
        c.par_chunks_mut(F64_ROWS * n).enumerate().for_each(|(blk, c_blk)| {
            let rows = c_blk.len() / n;
            let cm = faer::MatMut::from_row_major_slice_mut(c_blk, rows, n);
            let ab = am.subrows(blk * F64_ROWS, rows);
            faer::linalg::matmul::matmul(cm, faer::Accum::Replace, ab, bm, 1.0, faer::Par::Seq);
        });
    }
    Array2::from_shape_vec((m, n), c).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::prg::Prg;

    fn random(prg: &mut Prg, m: usize, n: usize) -> Array2<u64> {
        Array2::from_shape_vec((m, n), prg.ring(m * n)).unwrap()
    }

    #[test]
    fn every_path_equals_the_triple_loop_on_awkward_shapes() {
        // Every path this CPU can run, not only the one chosen; depth past one limb block (512) included.
        for isa in ["avx512", "avx2"] {
            if !paths().contains(&isa) {
                eprintln!("kernel path {isa} not tested: this CPU lacks it");
            }
        }
        for path in paths() {
            let mut prg = Prg::new(&[9; 16], 0);
            for &(m, k, n) in
                &[(1, 1, 1), (7, 3, 5), (8, 8, 8), (65, 257, 9), (130, 300, 17), (3, 600, 100), (200, 1100, 3)]
            {
                let a = random(&mut prg, m, k);
                let b = random(&mut prg, k, n);
                let want = matmul_u64_naive(a.view(), b.view());
                assert_eq!(matmul_u64_on(path, a.view(), b.view()).unwrap(), want, "{path}: {m}x{k}x{n}");
            }
            // All-ones bit patterns (every limb at its extreme) and transposed (non-standard layout) inputs.
            let ones = Array2::from_elem((9, 1030), u64::MAX);
            let b = random(&mut prg, 1030, 7);
            assert_eq!(
                matmul_u64_on(path, ones.view(), b.view()).unwrap(),
                matmul_u64_naive(ones.view(), b.view()),
                "{path}"
            );
            let b = Array2::from_elem((1030, 7), u64::MAX);
            assert_eq!(
                matmul_u64_on(path, ones.view(), b.view()).unwrap(),
                matmul_u64_naive(ones.view(), b.view()),
                "{path}"
            );
            let a = random(&mut prg, 20, 30);
            let b = random(&mut prg, 20, 10);
            assert_eq!(matmul_u64_on(path, a.t(), b.view()).unwrap(), matmul_u64_naive(a.t(), b.view()), "{path}");
        }
        assert!(matmul_u64_on("vax", Array2::zeros((1, 1)).view(), Array2::zeros((1, 1)).view()).is_err());
    }

    #[test]
    fn calibration_times_every_path() {
        let rates = calibrate();
        assert_eq!(rates.len(), paths().len());
        assert!(rates.iter().all(|r| r.giga_mul_adds_per_second > 0.0));
        assert!(rates.windows(2).all(|w| w[0].giga_mul_adds_per_second >= w[1].giga_mul_adds_per_second));
    }

    #[test]
    fn f64_product_matches_ndarray() {
        let a = Array2::from_shape_fn((70, 13), |(i, j)| (i as f64 * 0.3 - j as f64).sin());
        let b = Array2::from_shape_fn((13, 9), |(i, j)| (i * j) as f64 * 0.01 - 0.2);
        let ours = matmul_f64(a.view(), b.view());
        let theirs = a.dot(&b);
        assert!(ours.iter().zip(theirs.iter()).all(|(x, y)| (x - y).abs() < 1e-12));
        // Transposed operands (read in place as column-major) and strided ones (copied) give the same.
        let (at, bt) = (a.t().to_owned(), b.t().to_owned());
        let wide = Array2::from_shape_fn((70, 26), |(i, j)| a[(i, j / 2)]);
        let strided = wide.slice(ndarray::s![.., ..;2]);
        for (x, y) in [(at.t(), bt.t()), (strided, b.view()), (at.t(), b.view()), (a.view(), bt.t())] {
            let got = matmul_f64(x, y);
            assert!(got.iter().zip(theirs.iter()).all(|(p, q)| (p - q).abs() < 1e-12));
        }
        // A single row and a single column, whatever their strides.
        let row = matmul_f64(a.slice(ndarray::s![3..4, ..]), b.view());
        assert!(row.iter().zip(theirs.row(3)).all(|(p, q)| (p - q).abs() < 1e-12));
        let col = matmul_f64(a.view(), b.slice(ndarray::s![.., 2..3]));
        assert!(col.iter().zip(theirs.column(2)).all(|(p, q)| (p - q).abs() < 1e-12));
    }
}
