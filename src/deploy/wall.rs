//! Measured wall time of real processes on loopback, for `rtas tables` and `cargo bench --bench deploy`:
//! one training step and one inference batch of each model under each protocol, every role its own
//! process on this machine (all sharing its cores), over mutual TLS.

use super::launch::{LaunchOptions, launch};
use super::tcp::NetConfig;
use crate::data::{idx, mnist};
use crate::error::{Error, Result, invalid};
use crate::experiment::simulate::{ProtocolChoice, SimulateConfig};
use crate::experiment::tables::WallRow;
use crate::models::ModelKind;
use crate::models::secure::Protocol;
use crate::protocol::party::FssGate;
use std::path::{Path, PathBuf};

/// Writes an MNIST directory whose test set is the first `test` bundled digits and whose training set is
/// the rest (so that an inference batch of 8192 exists). Returns the directory and (train, test) counts.
pub fn bundled_with_test_set(dir: &Path, test: usize) -> Result<(PathBuf, (usize, usize))> {
    let all = mnist::bundled()?;
    if test == 0 || test >= all.count {
        return Err(invalid(format!("a test set of {test} from {} bundled digits leaves no training set", all.count)));
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::Io { path: dir.to_path_buf(), source: e })?;
    let (te, tr) = (all.slice(0, test), all.slice(test, all.count));
    for (name, d) in [("t10k", &te), ("train", &tr)] {
        let (r, c) = (d.rows as u32, d.cols as u32);
        for (kind, bytes) in [
            ("images-idx3-ubyte", idx::encode(&[d.count as u32, r, c], &d.pixels)),
            ("labels-idx1-ubyte", idx::encode(&[d.count as u32], &d.labels)),
        ] {
            let p = dir.join(format!("{name}-{kind}"));
            std::fs::write(&p, bytes).map_err(|e| Error::Io { path: p, source: e })?;
        }
    }
    Ok((dir.to_path_buf(), (tr.count, te.count)))
}

/// Launches each model under each of `protocols` for `steps` training steps (batch 32) and one inference
/// batch of `infer_batch` images, with fresh keys and operating-system randomness; returns one row per
/// model, protocol and phase (median training step; the inference batch). `mpc` runs once per gate and
/// stated value width of `gates` (its rows named `mpc` for the one-round DCF gate, `mpc-dpf` for the two-round
/// DPF gate, with `/K` for values stated to fit K signed bits: `mpc-dpf/31`).
pub fn wall_rows(
    exe: &Path,
    protocols: &[Protocol],
    gates: &[(FssGate, Option<u32>)],
    steps: usize,
    infer_batch: usize,
) -> Result<Vec<WallRow>> {
    if steps == 0 {
        return Err(invalid("--steps must be at least 1"));
    }
    let tmp =
        std::env::temp_dir().join(format!("rtas-wall-{}-{:08x}", std::process::id(), crate::rng::os_u64()? as u32));
    let (data, rows) = bundled_with_test_set(&tmp.join("data"), infer_batch)?;
    let mut out = Vec::new();
    for model in [ModelKind::LogReg, ModelKind::Cnn] {
        let runs = protocols.iter().flat_map(|&p| {
            let gates = if p == Protocol::Mpc { gates } else { &[(FssGate::Dcf, None)][..] };
            gates.iter().map(move |&g| (p, g))
        });
        for (protocol, (gate, value_bits)) in runs {
            let name = match (protocol, gate) {
                (Protocol::Mpc, FssGate::Dpf) => "mpc-dpf".to_string(),
                _ => protocol.name().to_string(),
            } + &value_bits.map_or(String::new(), |k| format!("/{k}"));
            let mut sim = SimulateConfig::paper(model, ProtocolChoice::Secure(protocol));
            sim.fss_gate = gate;
            sim.value_bits = value_bits;
            // One more step than measured: the first warms caches and connections.
            sim.max_steps = Some(steps + 1);
            sim.infer_batch = infer_batch;
            sim.seed = crate::rng::os_u64()?;
            let o = LaunchOptions {
                sim,
                data: data.display().to_string(),
                rows,
                exe: exe.to_path_buf(),
                test: false,
                net: NetConfig::default(),
                dir: Some(tmp.join(format!("{}-{}", model.name(), name.replace('/', "-")))),
                threads: None,
                timeout: 3600.0,
                record_views: false,
                shape: None,
            };
            let r = launch(&o)?;
            // The first step warms caches and connections.
            let median = crate::experiment::simulate::median(r.wall.train_steps.iter().skip(1).copied().collect());
            let row = |phase: &str, batch: usize, seconds: f64, c: &crate::experiment::simulate::StepCost| WallRow {
                model: model.name().into(),
                protocol: name.clone(),
                phase: phase.into(),
                batch,
                seconds,
                modeled_lan_seconds: c.modeled_seconds.get("lan").copied().unwrap_or(f64::NAN),
                plain_seconds: c.plain_seconds,
                processes: r.processes(),
                cores: r.cores,
            };
            out.push(row("train", 32, median, &r.summary.train_step));
            out.push(row("infer", infer_batch, r.wall.infer_batch_median, &r.summary.infer_batch));
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(out)
}
