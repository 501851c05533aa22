//! `parties.toml`: the job every party runs, where each party listens and where its keys are: public facts
//! only, since every party reads it. What a party alone holds (the owner's data, the label holder's labels,
//! the seed of their initial parameters) is in its own file ([`Own`], `rtas party --own FILE`) or flags.
//!
//! ```toml
//! [job]                      # public: every party reads the same
//! model = "logreg"           # logreg | cnn
//! protocol = "rtas"          # rtas | rtas-fast | mpc
//! epochs = 1
//! batch = 32
//! infer_batch = 1000
//! train_rows = 8000          # rows of the owner's training set (a shape: public)
//! test_rows = 2000
//! order_seed = 7             # the batch order; the owner and the label holder must use the same
//!
//! [net]                      # optional; these are the defaults
//! connect_timeout = 30.0     # seconds to bring every link up, retries included
//! retry_interval = 0.2
//! recv_timeout = 600.0
//!
//! [parties.p0]
//! address = "10.0.0.1:7000"  # where the others reach it
//! listen = "0.0.0.0:7000"    # optional: where it binds (default: address)
//! [parties.owner]
//! address = "10.0.0.4:7000"
//! [parties.third]            # rtas-fast only
//! address = "10.0.0.5:7000"
//!
//! [keys]
//! dir = "keys"               # ca.pem, <role>.pem, <role>.key as `rtas keys` writes them
//! ```
//!
//! and the owner's own file (`rtas party --role owner --own owner.toml`), readable by it alone:
//!
//! ```toml
//! data = "/data/mnist"       # or "bundled"; the label holder has labels = "..." instead
//! init_seed = 12345          # optional: the initial parameters' seed (default: drawn from the OS)
//! threads = 2                # optional
//! ```
//!
//! Relative paths are relative to the directory of the file that names them.

use super::tcp::NetConfig;
use super::tls::{parse_role, role_name};
use crate::error::{Error, Result, invalid};
use crate::experiment::simulate::{ProtocolChoice, SimulateConfig};
use crate::models::ModelKind;
use crate::models::secure::Protocol;
use crate::net::Role;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What every party runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Job {
    /// `logreg`, `cnn`, or the path of a model file (every party reads the same file).
    pub model: String,
    /// `rtas`, `rtas-fast` or `mpc`.
    pub protocol: String,
    /// Training epochs.
    #[serde(default = "one")]
    pub epochs: usize,
    /// Training batch size.
    #[serde(default = "batch")]
    pub batch: usize,
    /// Learning rate (default: the simulator's for the model).
    #[serde(default)]
    pub lr: Option<f64>,
    /// Inference batch size.
    #[serde(default = "infer_batch")]
    pub infer_batch: usize,
    /// Fractional bits of the fixed point.
    #[serde(default = "frac_bits")]
    pub frac_bits: u32,
    /// SecureML's mask reuse.
    #[serde(default)]
    pub reuse_masks: bool,
    /// The FSS gate under `mpc`: "dcf" (one round, the default) or "dpf" (two rounds, smaller keys).
    #[serde(default)]
    pub fss_gate: crate::protocol::party::FssGate,
    /// Under `mpc`: the stated signed width of every value its gates compare (`--value-bits`; absent: the
    /// full 64 - f bits). Every role must read the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_bits: Option<u32>,
    /// Stop after this many training steps.
    #[serde(default)]
    pub max_steps: Option<usize>,
    /// Training rows the owner holds.
    pub train_rows: usize,
    /// Test rows the owner holds.
    pub test_rows: usize,
    /// Seed of the batch order (public; the owner and the label holder must agree on it).
    pub order_seed: u64,
    /// Tests only: every party's randomness from this seed, as in `rtas simulate --seed`. A party refuses
    /// it unless started with `--test`.
    #[serde(default)]
    pub test_seed: Option<u64>,
}

fn one() -> usize {
    1
}
fn batch() -> usize {
    32
}
fn infer_batch() -> usize {
    1000
}
fn frac_bits() -> u32 {
    16
}

/// One party's entry: where it is (public).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartyEntry {
    /// `host:port` where the other parties reach it.
    pub address: String,
    /// `host:port` it binds (default: `address`).
    #[serde(default)]
    pub listen: Option<String>,
    /// Refused (read only to say where it belongs): a party's own inputs are not in the shared file.
    #[serde(default, skip_serializing)]
    data: Option<toml::Value>,
    /// Refused, as `data`.
    #[serde(default, skip_serializing)]
    labels: Option<toml::Value>,
    /// Refused, as `data`.
    #[serde(default, skip_serializing)]
    init_seed: Option<toml::Value>,
    /// Refused, as `data`.
    #[serde(default, skip_serializing)]
    threads: Option<toml::Value>,
}

impl PartyEntry {
    /// An entry at `address`, binding `listen` (default: `address`).
    pub fn new(address: String, listen: Option<String>) -> Self {
        Self { address, listen, data: None, labels: None, init_seed: None, threads: None }
    }

    /// The first field of this entry that belongs in the party's own file.
    fn private_field(&self) -> Option<&'static str> {
        [
            ("data", self.data.is_some()),
            ("labels", self.labels.is_some()),
            ("init_seed", self.init_seed.is_some()),
            ("threads", self.threads.is_some()),
        ]
        .into_iter()
        .find_map(|(n, set)| set.then_some(n))
    }
}

/// One party's own file: what it alone reads (`rtas party --own FILE`; flags override it).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Own {
    /// The owner: `bundled` or a directory of MNIST IDX files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// The label holder: `bundled` or a directory with the MNIST label files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<String>,
    /// The owner and the label holder: seed of the initial parameters they hold (default: drawn from the
    /// operating system). A secret: allowed only in a file no one else can read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_seed: Option<u64>,
    /// Threads this party computes with (default: every core).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<usize>,
    /// The file's directory (relative paths start here).
    #[serde(skip)]
    pub base: PathBuf,
}

impl Own {
    /// Reads `path`, refusing a seed in a file that others can read.
    pub fn read(path: &Path) -> Result<Own> {
        use std::os::unix::fs::MetadataExt;
        let io = |e| Error::Io { path: path.to_path_buf(), source: e };
        let text = std::fs::read_to_string(path).map_err(io)?;
        let mut own: Own = parse(path, &text)?;
        let mode = std::fs::metadata(path).map_err(io)?.mode();
        if own.init_seed.is_some() && mode & 0o077 != 0 {
            return Err(invalid(format!(
                "{} holds init_seed (a secret) but others can read it (mode {:04o}): chmod 600 it",
                path.display(),
                mode & 0o7777
            )));
        }
        if own.threads == Some(0) {
            return Err(invalid(format!("{}: threads must be at least 1", path.display())));
        }
        own.base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Ok(own)
    }

    /// Writes it to `path` with mode 0600 (atomically).
    pub fn write(&self, path: &Path) -> Result<()> {
        let text = toml::to_string_pretty(self).map_err(|e| invalid(e.to_string()))?;
        super::files::write_private(path, text.as_bytes())
    }

    /// A data source named in this file (or on the command line, relative to the working directory).
    pub fn source(&self, s: &str) -> Source {
        let p = Path::new(s);
        if s == "bundled" {
            Source::Bundled
        } else if p.is_absolute() {
            Source::Dir(p.to_path_buf())
        } else {
            Source::Dir(self.base.join(p))
        }
    }
}

/// Where the keys are.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Keys {
    /// Directory with `ca.pem` and `<role>.pem`/`<role>.key`.
    pub dir: PathBuf,
}

/// The whole file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The job.
    pub job: Job,
    /// Network timeouts and limits.
    #[serde(default)]
    pub net: NetConfig,
    /// The parties, by role name.
    pub parties: BTreeMap<String, PartyEntry>,
    /// The keys.
    pub keys: Keys,
    /// The file's directory (relative paths start here).
    #[serde(skip)]
    pub base: PathBuf,
}

/// A data source: the bundled digits or a directory.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// The 10,000 bundled digits (first 8,000 train, last 2,000 test).
    Bundled,
    /// A directory of MNIST IDX files.
    Dir(PathBuf),
}

impl Config {
    /// Reads and checks `path`.
    pub fn read(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Io { path: path.to_path_buf(), source: e })?;
        let mut cfg: Config = parse(path, &text)?;
        cfg.base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        cfg.check().map_err(|e| invalid(format!("{}: {}", path.display(), e.detail())))?;
        Ok(cfg)
    }

    /// Writes it to `path` (TOML).
    pub fn write(&self, path: &Path) -> Result<()> {
        let text = toml::to_string_pretty(self).map_err(|e| invalid(e.to_string()))?;
        std::fs::write(path, text).map_err(|e| Error::Io { path: path.to_path_buf(), source: e })
    }

    fn check(&self) -> Result<()> {
        for (name, entry) in &self.parties {
            parse_role(name)?;
            if let Some(field) = entry.private_field() {
                return Err(invalid(format!(
                    "[parties.{name}] {field}: every party reads this file, so a party's own inputs and settings \
                     go in its own file (rtas party --own FILE) or flags (--data, --labels, --threads)"
                )));
            }
        }
        let protocol = self.protocol()?;
        for role in protocol.roles() {
            if !self.parties.contains_key(role_name(role)) {
                return Err(invalid(format!(
                    "[parties.{}] is missing: {} takes part",
                    role_name(role),
                    protocol.name()
                )));
            }
        }
        self.model()?;
        self.net.validate()?;
        if self.job.train_rows == 0 || self.job.test_rows == 0 {
            return Err(invalid("job.train_rows and job.test_rows must be at least 1"));
        }
        self.simulate_config()?;
        Ok(())
    }

    /// The model.
    pub fn model(&self) -> Result<ModelKind> {
        match self.job.model.as_str() {
            "logreg" => Ok(ModelKind::LogReg),
            "cnn" => Ok(ModelKind::Cnn),
            m if std::path::Path::new(m).is_file() => {
                Ok(ModelKind::file(crate::models::graph::Net::read(std::path::Path::new(m))?))
            }
            m => Err(invalid(format!("job.model '{m}' (known: logreg, cnn, or a model file)"))),
        }
    }

    /// The protocol.
    pub fn protocol(&self) -> Result<Protocol> {
        match self.job.protocol.as_str() {
            "rtas" => Ok(Protocol::Rtas),
            "rtas-fast" => Ok(Protocol::RtasFast),
            "mpc" => Ok(Protocol::Mpc),
            p => Err(invalid(format!("job.protocol '{p}' (known: rtas, rtas-fast, mpc)"))),
        }
    }

    /// The run as the simulator describes it (batch order from `order_seed`; ring sharing).
    pub fn simulate_config(&self) -> Result<SimulateConfig> {
        let j = &self.job;
        let mut c = SimulateConfig::paper(self.model()?, ProtocolChoice::Secure(self.protocol()?));
        c.epochs = j.epochs;
        c.batch = j.batch;
        if let Some(lr) = j.lr {
            c.lr = lr;
        }
        c.infer_batch = j.infer_batch;
        c.sharing = crate::experiment::op::Sharing::Ring { frac_bits: j.frac_bits };
        c.reuse_masks = j.reuse_masks;
        c.fss_gate = j.fss_gate;
        c.value_bits = j.value_bits;
        c.max_steps = j.max_steps;
        c.seed = j.order_seed;
        crate::experiment::simulate::validate(&c, j.train_rows, j.test_rows)?;
        Ok(c)
    }

    /// A role's entry.
    pub fn party(&self, role: Role) -> Result<&PartyEntry> {
        self.parties.get(role_name(role)).ok_or_else(|| invalid(format!("[parties.{}] is missing", role_name(role))))
    }

    /// `p` relative to the file's directory.
    pub fn path(&self, p: &Path) -> PathBuf {
        if p.is_absolute() { p.to_path_buf() } else { self.base.join(p) }
    }

    /// Where the non-collusion the protocol rests on is weak by placement: P0 or P1 on the same host as
    /// the dealer (who also plays the helper), or P0 on the same host as P1. One line each, for the
    /// operator to read before the run starts.
    pub fn warnings(&self) -> Vec<String> {
        let Ok(protocol) = self.protocol() else { return Vec::new() };
        let roles = protocol.roles();
        let hosts: Vec<(Role, std::collections::BTreeSet<String>)> =
            roles.iter().filter_map(|&r| self.party(r).ok().map(|e| (r, host_keys(&e.address)))).collect();
        let host = |r: Role| hosts.iter().find(|h| h.0 == r).map(|h| &h.1);
        let mut out = Vec::new();
        for (a, b) in [(Role::P0, Role::P1), (Role::P0, Role::Dealer), (Role::P1, Role::Dealer)] {
            if let (Some(x), Some(y)) = (host(a), host(b))
                && let Some(h) = x.intersection(y).next()
            {
                let who = match b {
                    Role::Dealer if protocol == Protocol::Rtas => "the dealer (and helper)".to_string(),
                    Role::Dealer => "the dealer".to_string(),
                    _ => b.to_string(),
                };
                out.push(format!(
                    "{a} and {who} share host {h}: the protocol assumes they do not collude, and whoever runs that \
                     host sees what both see"
                ));
            }
        }
        out
    }
}

/// `text` (read from `path`) as TOML, a parse error in one line naming the file.
fn parse<T: serde::de::DeserializeOwned>(path: &Path, text: &str) -> Result<T> {
    toml::from_str(text)
        .map_err(|e| invalid(format!("{}: {}", path.display(), e.to_string().lines().collect::<Vec<_>>().join(" "))))
}

/// The host part of `host:port`, and the addresses it resolves to (so `localhost` and `127.0.0.1` meet).
fn host_keys(address: &str) -> std::collections::BTreeSet<String> {
    use std::net::ToSocketAddrs;
    let host = address.rsplit_once(':').map_or(address, |(h, _)| h).trim_matches(['[', ']']).to_ascii_lowercase();
    let mut keys: std::collections::BTreeSet<String> = [host.clone()].into();
    if let Ok(addrs) = address.to_socket_addrs() {
        keys.extend(addrs.map(|a| a.ip().to_string()));
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(parties: &str) -> Result<Config> {
        let dir = std::env::temp_dir().join(format!("rtas-config-{}-{}", std::process::id(), parties.len()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("parties.toml");
        let text = format!(
            "[job]\nmodel = \"logreg\"\nprotocol = \"rtas\"\ntrain_rows = 100\ntest_rows = 10\norder_seed = 1\n\
             [keys]\ndir = \"keys\"\n{parties}"
        );
        std::fs::write(&path, text).unwrap();
        Config::read(&path)
    }

    #[test]
    fn a_shared_host_is_warned_of_and_private_inputs_are_refused_in_the_shared_file() {
        let apart = "[parties.p0]\naddress = \"10.0.0.1:7000\"\n[parties.p1]\naddress = \"10.0.0.2:7000\"\n\
                     [parties.dealer]\naddress = \"10.0.0.3:7000\"\n[parties.owner]\naddress = \"10.0.0.4:7000\"\n";
        assert!(config(apart).unwrap().warnings().is_empty());
        let together = apart.replace("10.0.0.3:7000", "10.0.0.1:7001");
        let w = config(&together).unwrap().warnings();
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("P0 and the dealer (and helper) share host 10.0.0.1"), "{w:?}");
        let seeded = apart.replace("[parties.owner]\n", "[parties.owner]\ninit_seed = 5\n");
        let e = config(&seeded).unwrap_err().to_string();
        assert!(e.contains("[parties.owner] init_seed") && e.contains("--own"), "{e}");
        let data = apart.replace("[parties.owner]\n", "[parties.owner]\ndata = \"bundled\"\n");
        assert!(config(&data).unwrap_err().to_string().contains("[parties.owner] data"));
    }

    #[test]
    fn an_own_file_holding_a_seed_must_be_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("rtas-own-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("owner.toml");
        let own = Own { data: Some("d".into()), init_seed: Some(9), ..Own::default() };
        own.write(&path).unwrap();
        let back = Own::read(&path).unwrap();
        assert_eq!((back.init_seed, back.source("d")), (Some(9), Source::Dir(dir.join("d"))));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(Own::read(&path).unwrap_err().to_string().contains("chmod 600"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
