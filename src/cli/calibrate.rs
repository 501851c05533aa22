//! `rtas calibrate`: time every exact path of the ring product on this host and say which ring products
//! will take; `--save` caches the choice for this machine.

use super::output::render;
use crate::error::{Error, Result};
use crate::protocol::kernel::{self, PathRate};
use clap::Args;
use serde::Serialize;

#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// Keep the fastest path for later runs on this CPU ($XDG_CACHE_HOME/rtas/ring-path or ~/.cache/rtas/ring-path).
    #[arg(long)]
    pub save: bool,
}

#[derive(Debug, Serialize)]
struct Calibration {
    cpu: String,
    rates: Vec<PathRate>,
    fastest: String,
    saved_to: Option<String>,
}

pub fn run(a: CalibrateArgs, json: bool) -> Result<String> {
    let rates = kernel::calibrate();
    let fastest = rates.first().map_or_else(|| "generic".to_string(), |r| r.path.clone());
    let cpu = kernel::cpu_model();
    let saved_to = if a.save {
        let file = kernel::cache_file()
            .ok_or_else(|| crate::error::invalid("no HOME or XDG_CACHE_HOME to save the cache in"))?;
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).map_err(|source| Error::Io { path: dir.to_path_buf(), source })?;
        }
        std::fs::write(&file, format!("{fastest}\t{cpu}\n"))
            .map_err(|source| Error::Io { path: file.clone(), source })?;
        Some(file.display().to_string())
    } else {
        None
    };
    let c = Calibration { cpu, rates, fastest, saved_to };
    render(&c, json, |c| {
        let mut s = format!("ring product paths on {} (256x784 by 784x100, best of 3)\n", c.cpu);
        s.push_str("path        G mul-adds/s\n------------------------\n");
        for r in &c.rates {
            s.push_str(&format!("{:<10}  {:>12.2}\n", r.path, r.giga_mul_adds_per_second));
        }
        s.push_str(&format!("fastest: {}", c.fastest));
        if let Some(f) = &c.saved_to {
            s.push_str(&format!(" (saved to {f}; RTAS_RING_PATH or --ring-path override it)"));
        }
        s
    })
}
