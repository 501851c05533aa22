//! One secure primitive on random data, measured the way SecureNN tabulates layers: error against
//! plaintext, bytes per directed link and phase, rounds, compute per party, modeled time per network.

use crate::error::{Result, invalid};
use crate::net::{Role, Stage};
use crate::protocol::conv;
use crate::protocol::functions::{Activation, relu, sigmoid};
use crate::protocol::kernel::{self, RingPath, matmul_f64};
use crate::protocol::nonlinear::{self, Nonlinear, Via};
use crate::protocol::ring::{FloatArith, RingArith};
use crate::protocol::truncation::TruncationCounts;
use crate::protocol::{beaver, io};
use crate::sim::clock::thread_cpu_ns;
use crate::sim::cost::Profile;
use crate::sim::measure::{Traffic, measure};
use crate::sim::run::run_protocol;
use ndarray::{ArrayD, Ix2, IxDyn};
use rand::RngExt;
use serde::Serialize;
use std::collections::BTreeMap;

/// Which primitive.
#[derive(Debug, Clone, PartialEq)]
pub enum OpKind {
    /// `(M x K) * (K x N)`.
    MatMul {
        /// M, K, N.
        m: usize,
        /// K.
        k: usize,
        /// N.
        n: usize,
    },
    /// Element-wise product of two `R x C` tensors.
    Mul {
        /// Shape.
        shape: Vec<usize>,
    },
    /// Convolution.
    Conv2d {
        /// Image shape B, C, H, W.
        x: Vec<usize>,
        /// Filter shape O, C, KH, KW.
        w: Vec<usize>,
        /// Stride.
        stride: usize,
    },
    /// Sigmoid through the helper.
    Sigmoid {
        /// Shape.
        shape: Vec<usize>,
    },
    /// ReLU through the helper.
    Relu {
        /// Shape.
        shape: Vec<usize>,
    },
}

impl OpKind {
    /// Name as on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            OpKind::MatMul { .. } => "matmul",
            OpKind::Mul { .. } => "mul",
            OpKind::Conv2d { .. } => "conv2d",
            OpKind::Sigmoid { .. } => "sigmoid",
            OpKind::Relu { .. } => "relu",
        }
    }

    fn describe(&self) -> String {
        let dims = |s: &[usize]| s.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("x");
        match self {
            OpKind::MatMul { m, k, n } => format!("{m}x{k} * {k}x{n}"),
            OpKind::Mul { shape } | OpKind::Sigmoid { shape } | OpKind::Relu { shape } => dims(shape),
            OpKind::Conv2d { x, w, stride } => format!("{} * {} stride {stride}", dims(x), dims(w)),
        }
    }

    /// Input shapes.
    fn inputs(&self) -> Vec<Vec<usize>> {
        match self {
            OpKind::MatMul { m, k, n } => vec![vec![*m, *k], vec![*k, *n]],
            OpKind::Mul { shape } => vec![shape.clone(), shape.clone()],
            OpKind::Conv2d { x, w, .. } => vec![x.clone(), w.clone()],
            OpKind::Sigmoid { shape } | OpKind::Relu { shape } => vec![shape.clone()],
        }
    }

    /// The terms summed into one output element, and the largest input magnitudes `rtas op` draws: the
    /// bound on a product before truncation is `terms * max|x| * max|y| * 2^(2f)`. `None` for functions
    /// computed by the helper (no product).
    fn product_terms(&self) -> Option<(f64, f64)> {
        match self {
            OpKind::MatMul { k, .. } => Some((*k as f64, 1.0)),
            OpKind::Mul { .. } => Some((1.0, 1.0)),
            OpKind::Conv2d { w, .. } => Some(((w[1] * w[2] * w[3]) as f64, 1.0)),
            OpKind::Sigmoid { .. } | OpKind::Relu { .. } => None,
        }
    }

    /// Refuses fractional bits with which this operation's products cannot fit the ring's signed range.
    pub fn check_fixed_point(&self, arith: &RingArith) -> Result<()> {
        match self.product_terms() {
            Some((terms, max_product)) => arith.check_products(&format!("a {}", self.name()), terms, max_product),
            None => Ok(()),
        }
    }

    /// Refuses empty or absurd shapes before anything is allocated.
    pub fn validate(&self) -> Result<()> {
        for s in self.inputs() {
            if s.contains(&0) {
                return Err(invalid(format!("shape {s:?} has a zero dimension")));
            }
            let n = s.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
            if n.is_none_or(|n| n > 200_000_000) {
                return Err(invalid(format!("shape {s:?} has more than 2e8 elements")));
            }
        }
        if let OpKind::Conv2d { x, w, stride } = self {
            conv::out_hw(x, w, *stride)?;
        }
        Ok(())
    }
}

/// Sharing mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sharing {
    /// Z_2^64 fixed point.
    Ring {
        /// Fractional bits.
        frac_bits: u32,
    },
    /// The paper's float sharing (insecure).
    Float,
}

/// What `rtas op` reports.
#[derive(Debug, Clone, Serialize)]
pub struct OpReport {
    /// The primitive.
    pub op: String,
    /// Its shapes.
    pub shape: String,
    /// `ring` or `float (INSECURE)`.
    pub sharing: String,
    /// Element-wise functions through the helper (`rtas`) or FSS gates (`mpc`).
    pub protocol: String,
    /// The ring product's path on this host (`avx512`, `avx2`, `generic`, `f64-limbs`).
    pub kernel: String,
    /// How that path was chosen, with the calibration's rates.
    pub ring_path: RingPath,
    /// Seed.
    pub seed: u64,
    /// Largest |secure - plaintext| over the output.
    pub max_abs_error: f64,
    /// Bytes between P0 and P1, both directions.
    pub bytes_p0_p1: u64,
    /// Online rounds.
    pub rounds: u32,
    /// Traffic per link and phase.
    pub traffic: Traffic,
    /// CPU seconds per party, the op only.
    pub compute_seconds: BTreeMap<String, f64>,
    /// CPU seconds of the same op in plaintext f64.
    pub plaintext_seconds: f64,
    /// Slowest party's CPU over plaintext CPU.
    pub compute_ratio: f64,
    /// Modeled seconds per network profile (offline and online together).
    pub modeled_seconds: BTreeMap<String, f64>,
    /// Modeled seconds of the online phase alone (dealer material delivered in advance).
    pub modeled_online_seconds: BTreeMap<String, f64>,
    /// Modeled seconds of the offline phase alone (the dealer producing and sending its material).
    pub modeled_offline_seconds: BTreeMap<String, f64>,
    /// Truncated elements checked and failed (each failure is off by 2^(64 - 2f) in decoded units).
    pub truncation: TruncationCounts,
}

fn random(shape: &[usize], rng: &mut crate::rng::Rng, lo: f64, hi: f64) -> ArrayD<f64> {
    let n: usize = shape.iter().product();
    let v: Vec<f64> = (0..n).map(|_| rng.random_range(lo..hi)).collect();
    ArrayD::from_shape_vec(IxDyn(shape), v).unwrap_or_else(|_| ArrayD::zeros(IxDyn(shape)))
}

fn m2(a: &ArrayD<f64>) -> Result<ndarray::ArrayView2<'_, f64>> {
    a.view().into_dimensionality::<Ix2>().map_err(|e| invalid(e.to_string()))
}

fn plain(op: &OpKind, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>> {
    Ok(match op {
        OpKind::MatMul { .. } => matmul_f64(m2(&inputs[0])?, m2(&inputs[1])?).into_dyn(),
        OpKind::Mul { .. } => &inputs[0] * &inputs[1],
        OpKind::Conv2d { stride, .. } => conv::conv2d(&inputs[0], &inputs[1], *stride)?,
        OpKind::Sigmoid { .. } => inputs[0].mapv(sigmoid),
        OpKind::Relu { .. } => inputs[0].mapv(relu),
    })
}

/// Runs `op` once under `sharing`, element-wise functions `via` the helper or FSS gates, and reports it
/// under `profiles`.
pub fn run(op: &OpKind, sharing: Sharing, via: Via, profiles: &[Profile], seed: u64) -> Result<OpReport> {
    op.validate()?;
    match sharing {
        Sharing::Ring { frac_bits } => {
            let arith = RingArith::new(frac_bits)?;
            op.check_fixed_point(&arith)?;
            run_with(&arith, op, via, profiles, seed)
        }
        Sharing::Float if via == Via::Fss => Err(invalid("--protocol mpc (FSS gates) needs --sharing ring")),
        Sharing::Float => run_with(&FloatArith::default(), op, via, profiles, seed),
    }
}

fn run_with<A: Nonlinear>(arith: &A, op: &OpKind, via: Via, profiles: &[Profile], seed: u64) -> Result<OpReport> {
    let mut rng = crate::rng::stream(seed, 0);
    let shapes = op.inputs();
    let inputs: Vec<ArrayD<f64>> = shapes
        .iter()
        .enumerate()
        .map(|(i, s)| match (op, i) {
            (OpKind::Conv2d { .. }, 0) => random(s, &mut rng, 0.0, 1.0),
            (OpKind::Sigmoid { .. } | OpKind::Relu { .. }, _) => random(s, &mut rng, -4.0, 4.0),
            _ => random(s, &mut rng, -1.0, 1.0),
        })
        .collect();
    // The plaintext reference on one core, like each party.
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().map_err(|e| invalid(e.to_string()))?;
    let (want, plaintext_seconds) = pool.install(|| {
        let t0 = thread_cpu_ns();
        let want = plain(op, &inputs);
        (want, (thread_cpu_ns() - t0) as f64 * 1e-9)
    });
    let want = want?;
    let roles = [Role::P0, Role::P1, Role::Dealer, Role::Owner];
    // The owner holds the operands; no other role holds anything.
    let owned = BTreeMap::from([(Role::Owner, inputs)]);
    let run = run_protocol(arith, &roles, seed, false, owned, |p, mine: Vec<ArrayD<f64>>| {
        p.stage(Stage::Input);
        let mut shared = Vec::new();
        for (i, s) in shapes.iter().enumerate() {
            shared.push(io::share_from(p, Role::Owner, mine.get(i), s, &Stage::Input.at(format!("x{i}")))?);
        }
        p.stage(Stage::Op);
        let at = Stage::Op.at("");
        let out = match op {
            OpKind::MatMul { .. } => beaver::matmul(p, &shared[0], &shared[1], false, &at)?.0,
            OpKind::Mul { .. } => beaver::mul(p, &shared[0], &shared[1], &at)?,
            OpKind::Conv2d { stride, .. } => beaver::conv2d(p, &shared[0], &shared[1], *stride, false, &at)?.0,
            OpKind::Sigmoid { .. } => nonlinear::apply(p, via, &shared[0], &[Activation::Sigmoid], &at)?.remove(0),
            OpKind::Relu { .. } => nonlinear::apply(p, via, &shared[0], &[Activation::Relu], &at)?.remove(0),
        };
        p.stage(Stage::Output);
        io::open(p, &out, &Stage::Output.at(""))
    })?;
    let got = run.outputs.get(&Role::P0).cloned().flatten().ok_or_else(|| invalid("P0 returned no output"))?;
    let max_abs_error = got.iter().zip(want.iter()).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    let m = measure(&run.recording.stage(Stage::Op), profiles)?;
    let slowest = m.compute_seconds.values().copied().fold(0.0, f64::max);
    Ok(OpReport {
        op: op.name().into(),
        shape: op.describe(),
        sharing: arith.name().into(),
        protocol: match via {
            Via::Helper => "rtas".into(),
            Via::Fss => "mpc".into(),
        },
        kernel: kernel::ring_path().path,
        ring_path: kernel::ring_path(),
        seed,
        max_abs_error,
        bytes_p0_p1: m.traffic.bytes_p0_p1,
        rounds: m.traffic.rounds,
        traffic: m.traffic,
        compute_seconds: m.compute_seconds,
        plaintext_seconds,
        compute_ratio: if plaintext_seconds > 0.0 { slowest / plaintext_seconds } else { f64::NAN },
        modeled_seconds: m.modeled_seconds,
        modeled_online_seconds: m.modeled_online_seconds,
        modeled_offline_seconds: m.modeled_offline_seconds,
        truncation: run.truncation,
    })
}
