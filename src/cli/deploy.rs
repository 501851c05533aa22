//! `rtas keys`, `rtas party`, `rtas launch`: the protocol as real processes over mutual TLS.

use super::data::DataArgs;
use super::op::NetworkArgs;
use super::output::{Table, render};
use super::simulate::ModelName;
use crate::deploy::config::{Config, Own};
use crate::deploy::launch::{self, LaunchOptions, LaunchReport};
use crate::deploy::party;
use crate::deploy::tcp::NetConfig;
use crate::deploy::tls::{self, make_keys_with};
use crate::error::{Result, invalid};
use crate::experiment::simulate::{ProtocolChoice, SimulateConfig};
use crate::models::secure::Protocol;
use clap::{Args, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct KeysArgs {
    /// Directory to write ca.pem, ca.key and <role>.pem, <role>.key into.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Roles to make keys for, comma-separated (p0, p1, dealer, third, owner).
    #[arg(long, value_name = "R,...", value_delimiter = ',', default_value = "p0,p1,dealer,third,owner")]
    pub parties: Vec<String>,
    /// Days the certificates are valid (from an hour ago, for clocks that differ).
    #[arg(long, value_name = "DAYS", default_value_t = 7, allow_negative_numbers = true)]
    pub valid_days: i64,
    /// Keep the CA's private key in FILE (mode 0600, outside --out) to sign more certificates later;
    /// without it the CA key is discarded once the certificates are signed.
    #[arg(long, value_name = "FILE")]
    pub ca_out: Option<PathBuf>,
    /// Replace existing key and certificate files (they are refused otherwise).
    #[arg(long)]
    pub force: bool,
}

pub fn keys(a: KeysArgs, json: bool) -> Result<String> {
    let roles = a.parties.iter().map(|s| tls::parse_role(s)).collect::<Result<Vec<_>>>()?;
    let valid_days =
        u32::try_from(a.valid_days).ok().filter(|&d| (1..=tls::MAX_VALID_DAYS).contains(&d)).ok_or_else(|| {
            invalid(format!("--valid-days must be from 1 to {}, got {}", tls::MAX_VALID_DAYS, a.valid_days))
        })?;
    let o = tls::KeyOptions { valid_days, force: a.force, ca_out: a.ca_out.clone() };
    let files = make_keys_with(&a.out, &roles, &o)?;
    let names: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    let ca = match &a.ca_out {
        Some(p) => format!("keep {} offline (the CA key: it signs certificates for any role)", p.display()),
        None => "the CA key was discarded (--ca-out FILE keeps it)".into(),
    };
    render(&names, json, |n| {
        format!(
            "wrote a project CA and {} party key pair(s), valid for {valid_days} day(s), keys mode 0600 in a 0700 directory:\n  {}\n\
             {ca}; give each party ca.pem, its <role>.pem and <role>.key only",
            roles.len(),
            n.join("\n  ")
        )
    })
}

#[derive(Debug, Args)]
pub struct PartyArgs {
    /// The role to run: p0, p1, dealer, third, owner.
    #[arg(long, value_name = "ROLE")]
    pub role: String,
    /// The deployment's parties.toml.
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// Where to write this party's result (JSON; written only when the run completes).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Allow job.test_seed (tests and reproducible demos only: all randomness from one seed).
    #[arg(long)]
    pub test: bool,
    /// Keep this party's view (everything it received, its inputs, its seeds) in the result file, for
    /// attacks on what it saw.
    #[arg(long)]
    pub record_view: bool,
    /// This party's own file (TOML: data, labels, init_seed, threads), read by it alone; a file holding
    /// init_seed must be mode 0600.
    #[arg(long, value_name = "FILE")]
    pub own: Option<PathBuf>,
    /// The owner's data: a directory of MNIST IDX files, or `bundled` (overrides --own).
    #[arg(long, value_name = "DIR|bundled")]
    pub data: Option<String>,
    /// The label holder's labels: a directory with the MNIST label files, or `bundled` (overrides --own).
    #[arg(long, value_name = "DIR|bundled")]
    pub labels: Option<String>,
    /// Threads this party computes with (default: every core; overrides --own).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub threads: Option<i64>,
}

pub fn party(a: PartyArgs, json: bool) -> Result<String> {
    let role = tls::parse_role(&a.role)?;
    let cfg = Config::read(&a.config)?;
    let mut own = match &a.own {
        Some(p) => Own::read(p)?,
        None => Own::default(),
    };
    // Flags name paths as the shell does: relative to the working directory.
    let here = |s: String| {
        if s == "bundled" { s } else { std::path::absolute(&s).map_or(s.clone(), |p| p.display().to_string()) }
    };
    if let Some(d) = a.data {
        own.data = Some(here(d));
    }
    if let Some(l) = a.labels {
        own.labels = Some(here(l));
    }
    if let Some(t) = a.threads {
        if !(1..=1024).contains(&t) {
            return Err(invalid(format!("--threads must be from 1 to 1024, got {t}")));
        }
        own.threads = Some(t as usize);
    }
    for w in cfg.warnings() {
        eprintln!("warning: {w}");
    }
    let refused = |why: &str| eprintln!("refused a connection: {why}");
    let r = party::run(&cfg, &own, role, a.test, a.record_view, &refused)?;
    if let Some(out) = &a.out {
        party::write_result(&r, out)?;
    }
    let sent: u64 = r.net.links.values().flat_map(|c| c.sent.iter().map(|s| s.payload)).sum();
    let summary = serde_json::json!({
        "role": tls::role_name(role),
        "wall_seconds": r.wall_seconds,
        "connect_seconds": r.net.connect_seconds,
        "payload_bytes_sent": sent,
        "accuracy": r.accuracy,
    });
    render(&summary, json, |_| {
        let acc = r.accuracy.map(|a| format!(", test accuracy {:.2}%", 100.0 * a)).unwrap_or_default();
        format!(
            "{} done: {:.3} s after {:.3} s connecting, {} payload bytes sent{acc}",
            tls::role_name(role),
            r.wall_seconds,
            r.net.connect_seconds,
            sent
        )
    })
}

#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// p0 (measures) or p1 (answers).
    #[arg(long, value_name = "ROLE")]
    pub role: String,
    /// A parties.toml naming both (as `rtas launch` writes it).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// Round trips.
    #[arg(long, value_name = "N", default_value_t = 200, allow_negative_numbers = true)]
    pub count: usize,
}

/// Round trips between P0 and P1 through the real transport: the latency a cost-model profile of this
/// network should have.
pub fn probe(a: ProbeArgs, json: bool) -> Result<String> {
    use crate::deploy::tcp::{TcpTransport, listen, probe};
    use crate::net::Role;
    let role = tls::parse_role(&a.role)?;
    let peer = match role {
        Role::P0 => Role::P1,
        Role::P1 => Role::P0,
        _ => return Err(invalid("probe runs between p0 and p1")),
    };
    if a.count == 0 {
        return Err(invalid("--count must be at least 1"));
    }
    let cfg = Config::read(&a.config)?;
    let me = cfg.party(role)?;
    let id = tls::Identity::from_dir(role, &cfg.path(&cfg.keys.dir))?;
    let listener = listen(me.listen.as_deref().unwrap_or(&me.address))?;
    let peers = vec![(peer, cfg.party(peer)?.address.clone())];
    let mut t = TcpTransport::connect(&id, listener, &peers, &cfg.net, &|why| eprintln!("refused: {why}"))?;
    let mut rtts = probe(&mut t, peer, role == Role::P0, a.count)?;
    rtts.sort_by(f64::total_cmp);
    let median = rtts.get(rtts.len() / 2).copied();
    let v = serde_json::json!({ "count": rtts.len(), "rtt_median": median });
    render(&v, json, |_| match median {
        Some(m) => format!("round trip through the transport: median {:.1} us over {} probes", m * 1e6, rtts.len()),
        None => "answered the probes".into(),
    })
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LaunchProtocol {
    /// Everything secret-shared; element-wise functions through the permutation helper.
    Rtas,
    /// First linear layer secret-shared, the rest at the third party.
    RtasFast,
    /// The cryptographic baseline (FSS gates, no helper).
    Mpc,
}

#[derive(Debug, Args)]
pub struct LaunchArgs {
    /// Every role as its own process on this machine's loopback, with fresh keys (the only mode so far;
    /// for several machines run `rtas party` on each).
    #[arg(long, required = true)]
    pub local: bool,
    /// The model: logreg, cnn, or a model file describing one of them.
    #[arg(long, value_parser = super::simulate::parse_model, value_name = "logreg|cnn|FILE")]
    pub model: ModelName,
    /// The protocol.
    #[arg(long, value_enum, default_value = "rtas")]
    pub protocol: LaunchProtocol,
    #[command(flatten)]
    pub train: super::simulate::TrainArgs,
    #[command(flatten)]
    pub net: NetworkArgs,
    #[command(flatten)]
    pub data: DataArgs,
    /// A test run: all randomness from --seed, exactly as `rtas simulate --seed` (refused without --test:
    /// a deployment draws its randomness from the operating system).
    #[arg(long)]
    pub test: bool,
    /// Seed of a --test run.
    #[arg(long, value_name = "S", allow_negative_numbers = true)]
    pub seed: Option<u64>,
    /// Keep keys, configuration, logs and results in DIR (default: a fresh temporary directory).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Threads per party (default: every core; all parties share this machine).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub threads: Option<usize>,
    /// Seconds to wait for the links to come up.
    #[arg(long, value_name = "S", default_value_t = 30.0, allow_negative_numbers = true)]
    pub connect_timeout: f64,
    /// Seconds to wait for every party to finish.
    #[arg(long, value_name = "S", default_value_t = 3600.0, allow_negative_numbers = true)]
    pub timeout: f64,
    /// Check the cost model: every party in a network namespace of its own, every directed link shaped
    /// with the kernel's tbf to this rate (e.g. 100Mbit, 1Gbit); prints measured against modeled. Needs root.
    #[arg(long, value_name = "RATE")]
    pub shape: Option<String>,
}

impl LaunchArgs {
    pub fn options(&self) -> Result<LaunchOptions> {
        let protocol = match self.protocol {
            LaunchProtocol::Rtas => Protocol::Rtas,
            LaunchProtocol::RtasFast => Protocol::RtasFast,
            LaunchProtocol::Mpc => Protocol::Mpc,
        };
        let seed = match (self.test, self.seed) {
            (true, Some(s)) => s,
            (true, None) => 1,
            (false, Some(_)) => {
                return Err(invalid(
                    "--seed is for tests: a deployment draws its randomness from the operating system (add --test for a reproducible run)",
                ));
            }
            (false, None) => crate::rng::os_u64()?,
        };
        let mut sim = SimulateConfig::paper(self.model.kind()?, ProtocolChoice::Secure(protocol));
        self.train.apply(&mut sim)?;
        if sim.max_steps == Some(0) {
            return Err(invalid(
                "--max-steps must be at least 1 for a launch (it measures training steps); \
                 rtas simulate --max-steps 0 evaluates a model's weights",
            ));
        }
        sim.seed = seed;
        sim.profiles = self.net.profiles()?;
        if self.threads.is_some_and(|t| t == 0 || t > 1024) {
            return Err(invalid("--threads must be from 1 to 1024"));
        }
        if !self.timeout.is_finite() || self.timeout <= 0.0 || self.timeout > 1e7 {
            return Err(invalid(format!(
                "--timeout must be a positive number of seconds up to 1e7, got {}",
                self.timeout
            )));
        }
        let (train, test) = self.data.load()?;
        let data = match &self.data.data {
            Some(d) => std::fs::canonicalize(d)
                .map_err(|e| crate::error::Error::Io { path: d.clone(), source: e })?
                .display()
                .to_string(),
            None => "bundled".into(),
        };
        let net = NetConfig { connect_timeout: self.connect_timeout, ..NetConfig::default() };
        net.validate()?;
        let exe = std::env::current_exe().map_err(|e| invalid(format!("cannot find the rtas binary: {e}")))?;
        Ok(LaunchOptions {
            sim,
            data,
            rows: (train.count, test.count),
            exe,
            test: self.test,
            net,
            dir: self.dir.clone(),
            threads: self.threads,
            timeout: self.timeout,
            record_views: false,
            shape: self.shape.as_deref().map(crate::sim::cost::parse_bandwidth).transpose()?,
        })
    }
}

pub fn launch(a: LaunchArgs, json: bool) -> Result<String> {
    let o = a.options()?;
    let r = launch::launch(&o)?;
    render(&r, json, table)
}

fn ms(s: f64) -> String {
    format!("{:.2} ms", s * 1e3)
}

pub fn table(r: &LaunchReport) -> String {
    let mut s = format!(
        "launch --local: {} processes on this machine's {} cores over mutual TLS on loopback{}\n\n{}",
        r.processes(),
        r.cores,
        if r.test { " (test run: all randomness from --seed)" } else { " (randomness from the operating system)" },
        // The summary is simulate's, of this run; its seed is the batch order's.
        super::simulate::table(&r.summary).replacen("simulate ", "", 1).replacen(", seed ", ", batch-order seed ", 1)
    );
    let w = &r.wall;
    s.push_str(&format!(
        "\n\nmeasured wall time (P0's clock): training step median {} over {} steps; epoch {}; inference batch median {} over {}; \
         whole run {:.3} s; links up in {}",
        ms(w.train_step_median),
        w.train_steps.len(),
        w.epochs.iter().map(|e| format!("{e:.3} s")).collect::<Vec<_>>().join(", "),
        ms(w.infer_batch_median),
        w.infer_batches.len(),
        w.total,
        ms(w.connect_seconds)
    ));
    let mut t = Table::new(&["link", "payload B", "framing B", "TLS B", "on socket B"]);
    for x in &r.socket_totals {
        t.row(&[
            format!("{}->{}", x.from, x.to),
            x.payload.to_string(),
            x.framing.to_string(),
            x.tls_overhead.to_string(),
            x.socket.to_string(),
        ]);
    }
    s.push_str(&format!(
        "\n\nbytes on the sockets, whole run (payload = what the ledger counts; framing and TLS reported apart):\n{}\n\
         socket payload per link, phase and stage {} the joined ledger",
        t.render(),
        if r.sockets_equal_ledger { "equals" } else { "DIFFERS FROM" }
    ));
    if let Some(c) = &r.shaped {
        s.push_str(&format!(
            "\n\nshaped network (tbf, {:.0} Mbit/s per directed link; round trip through the transport {:.0} us, probed before the run; \
             {} B framing+TLS per message): training step measured {} vs modeled {} \
             (x{:.2}); inference batch measured {} vs modeled {} (x{:.2})",
            c.profile.bandwidth * 8e-6,
            c.profile.rtt * 1e6,
            c.profile.overhead_bytes,
            ms(c.measured_train_step),
            ms(c.modeled_train_step),
            c.train_ratio,
            ms(c.measured_infer_batch),
            ms(c.modeled_infer_batch),
            c.infer_ratio
        ));
    }
    s.push_str(&format!("\nkeys, parties.toml, logs and results: {}", r.dir.display()));
    s
}
