//! Real parties: the protocol code the simulator runs, as separate processes over TCP with mutual TLS.
//!
//! - [`tls`]: the project CA and one certificate per role (`rtas keys`), rustls configurations that refuse
//!   a peer without a valid certificate for the role it claims.
//! - [`tcp`]: the network [`crate::net::Transport`]: one connection per pair, [`crate::net::frame`]s on
//!   it, one I/O thread per peer, byte counters per link, stage and phase.
//! - [`config`]: `parties.toml` (the job, addresses, keys: public facts only) and each party's own file.
//! - [`files`]: keys, results, logs and run directories created with their final, private modes.
//! - [`party`]: one role as a process (`rtas party`), wrapped in the simulator's recorder.
//! - [`launch`]: every role on loopback (`rtas launch --local`) and the summary of `rtas simulate` from
//!   their results, with measured wall time and socket bytes.
//! - [`wall`]: measured wall time per step and per inference batch, for `rtas tables` and the bench.
//! - [`shaped`]: a namespace per party and `tbf` on every link, to check the cost model against reality.
//!
//! This layer sits above `sim` (it uses the recorder and the cost model) and `experiment` (it reports like
//! `simulate`); nothing below imports it.

pub mod config;
pub mod data;
pub mod files;
pub mod launch;
pub mod party;
pub mod replay;
pub mod shaped;
pub mod tcp;
pub mod tls;
pub mod wall;
pub mod wire;
