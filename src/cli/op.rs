//! `rtas op`: one secure primitive on random data.

use super::output::{FLOAT_SHARING_WARNING, Table, render, truncation_warning};
use crate::error::{Result, invalid};
use crate::experiment::op::{self, OpKind, OpReport, Sharing};
use crate::sim::cost::Profile;
use clap::{Args, ValueEnum};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OpName {
    Matmul,
    Mul,
    Conv2d,
    Sigmoid,
    Relu,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum SharingName {
    /// Z_2^64 fixed point (secure).
    Ring,
    /// The paper's float sharing x - r, r Gaussian. INSECURE: every share is x plus noise.
    Float,
}

/// Network profiles: named (`lan`, `wan`) and one custom from --bandwidth and --rtt.
#[derive(Debug, Args)]
pub struct NetworkArgs {
    /// Profiles to model, comma-separated: lan (625 MB/s, 0.22 ms RTT), wan (40 MB/s, 58 ms RTT).
    #[arg(long, value_name = "P,...", value_delimiter = ',', default_value = "lan,wan")]
    pub network: Vec<String>,
    /// Custom profile bandwidth, e.g. 1Gbit, 100MB/s (needs --rtt).
    #[arg(long, value_name = "BW", requires = "rtt")]
    pub bandwidth: Option<String>,
    /// Custom profile round-trip time, e.g. 10ms (needs --bandwidth).
    #[arg(long, value_name = "T", requires = "bandwidth")]
    pub rtt: Option<String>,
}

impl NetworkArgs {
    pub fn profiles(&self) -> Result<Vec<Profile>> {
        let mut out = Vec::new();
        for n in &self.network {
            if !n.trim().is_empty() {
                out.push(Profile::named(n)?);
            }
        }
        if let (Some(bw), Some(rtt)) = (&self.bandwidth, &self.rtt) {
            out.push(Profile::custom(bw, rtt)?);
        }
        if out.is_empty() {
            return Err(invalid("no network profile: give --network lan,wan or --bandwidth and --rtt"));
        }
        Ok(out)
    }
}

#[derive(Debug, Args)]
pub struct OpArgs {
    /// The primitive.
    #[arg(long, value_enum)]
    pub op: OpName,
    /// matmul MxKxN; mul, sigmoid, relu RxC (any rank); conv2d BxCxHxW.
    #[arg(long, value_name = "DIMS")]
    pub shape: String,
    /// conv2d filters OxCxKHxKW.
    #[arg(long, value_name = "DIMS")]
    pub kernel: Option<String>,
    /// conv2d stride.
    #[arg(long, value_name = "S", default_value_t = 1, allow_negative_numbers = true)]
    pub stride: usize,
    /// ring (secure) or float (the paper's sharing, INSECURE).
    #[arg(long, value_enum, default_value = "ring")]
    pub sharing: SharingName,
    /// Element-wise functions (sigmoid, relu) through the helper (rtas) or FSS gates with no helper (mpc).
    #[arg(long, value_enum, default_value = "rtas")]
    pub protocol: OpProtocol,
    /// Fractional bits of the ring's fixed point.
    #[arg(long, value_name = "F", default_value_t = 16, allow_negative_numbers = true)]
    pub frac_bits: u32,
    #[command(flatten)]
    pub net: NetworkArgs,
    /// Random seed (data and parties).
    #[arg(long, value_name = "S", default_value_t = 1, allow_negative_numbers = true)]
    pub seed: u64,
}

/// `"8x784x100"` -> `[8, 784, 100]`.
pub fn parse_dims(s: &str, what: &str) -> Result<Vec<usize>> {
    let dims: std::result::Result<Vec<usize>, _> = s.split(['x', 'X']).map(|d| d.trim().parse::<usize>()).collect();
    let dims = dims.map_err(|_| invalid(format!("{what} '{s}': expected dimensions like 32x784")))?;
    if dims.is_empty() || dims.contains(&0) {
        return Err(invalid(format!("{what} '{s}': every dimension must be at least 1")));
    }
    Ok(dims)
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OpProtocol {
    /// RTAS: the permutation helper.
    Rtas,
    /// The cryptographic baseline: FSS gates from the dealer, one online round, no helper.
    Mpc,
}

pub fn run(a: OpArgs, json: bool) -> Result<String> {
    if a.stride == 0 {
        return Err(invalid("--stride must be at least 1"));
    }
    let shape = parse_dims(&a.shape, "--shape")?;
    let want = |n: usize| -> Result<()> {
        if shape.len() != n {
            return Err(invalid(format!("--shape {} needs {n} dimensions for --op {:?}", a.shape, a.op)));
        }
        Ok(())
    };
    let kind = match a.op {
        OpName::Matmul => {
            want(3)?;
            OpKind::MatMul { m: shape[0], k: shape[1], n: shape[2] }
        }
        OpName::Mul => OpKind::Mul { shape },
        OpName::Sigmoid => OpKind::Sigmoid { shape },
        OpName::Relu => OpKind::Relu { shape },
        OpName::Conv2d => {
            want(4)?;
            let k = a.kernel.as_deref().ok_or_else(|| invalid("--op conv2d needs --kernel OxCxKHxKW"))?;
            let w = parse_dims(k, "--kernel")?;
            if w.len() != 4 {
                return Err(invalid(format!("--kernel {k} needs 4 dimensions OxCxKHxKW")));
            }
            OpKind::Conv2d { x: shape, w, stride: a.stride }
        }
    };
    let sharing = match a.sharing {
        SharingName::Ring => Sharing::Ring { frac_bits: a.frac_bits },
        SharingName::Float => Sharing::Float,
    };
    let via = match a.protocol {
        OpProtocol::Rtas => crate::protocol::nonlinear::Via::Helper,
        OpProtocol::Mpc => crate::protocol::nonlinear::Via::Fss,
    };
    let report = op::run(&kind, sharing, via, &a.net.profiles()?, a.seed)?;
    render(&report, json, table)
}

fn table(r: &OpReport) -> String {
    let rates: Vec<String> =
        r.ring_path.rates.iter().map(|p| format!("{} {:.1}", p.path, p.giga_mul_adds_per_second)).collect();
    let how = if rates.is_empty() {
        r.ring_path.chosen_by.clone()
    } else {
        format!("{}: {} G mul-adds/s", r.ring_path.chosen_by, rates.join(", "))
    };
    let mut head = format!(
        "op {} {} under {}, sharing {}, ring path {} ({how}), seed {}",
        r.op, r.shape, r.protocol, r.sharing, r.kernel, r.seed
    );
    if r.sharing.contains("INSECURE") {
        head.push_str(&format!("\n{}", FLOAT_SHARING_WARNING));
    }
    if let Some(w) = truncation_warning(r.truncation.failures, r.truncation.checked) {
        head.push_str(&format!("\n{w}"));
    }
    let mut t = Table::new(&["link", "phase", "bytes"]);
    for (&(phase, from, to), v) in &r.traffic.by_link {
        t.row(&[format!("{from}->{to}"), phase.to_string(), v.to_string()]);
    }
    let mut c = Table::new(&["party", "compute s"]);
    for (p, s) in &r.compute_seconds {
        c.row(&[p.clone(), format!("{s:.6}")]);
    }
    c.row(&["plaintext f64 (1 core)".to_string(), format!("{:.6}", r.plaintext_seconds)]);
    let mut m = Table::new(&["network", "modeled s", "online only s", "offline only s"]);
    for (k, v) in &r.modeled_seconds {
        let get = |m: &std::collections::BTreeMap<String, f64>| format!("{:.6}", m.get(k).copied().unwrap_or(0.0));
        m.row(&[k.clone(), format!("{v:.6}"), get(&r.modeled_online_seconds), get(&r.modeled_offline_seconds)]);
    }
    format!(
        "{head}\nmax abs error vs plaintext: {:.3e}, truncation failures: {} of {}\nbytes P0<->P1: {}, online rounds: {}, messages: {}\n\n{}\n\n{}\nslowest party / plaintext: {:.1}x\n\n{}",
        r.max_abs_error,
        r.truncation.failures,
        r.truncation.checked,
        r.bytes_p0_p1,
        r.rounds,
        r.traffic.messages,
        t.render(),
        c.render(),
        r.compute_ratio,
        m.render()
    )
}
