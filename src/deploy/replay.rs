//! A party fed frames instead of a network: what a deployed role does with whatever its peers send (the
//! `protocol` fuzz target, and the tests below).
//!
//! [`ReplayTransport`] decodes a byte stream with the TCP transport's frame decoder and hands the frames
//! out, in order, to the party's receives, refusing one whose label is not the one the party expects next
//! (the check `TcpTransport::recv` makes); what the party sends goes nowhere. [`run_role`] runs one role of
//! a small fixed job ([`fixture`]) on such a stream: whatever the bytes, it returns `Ok` or an error, and
//! never holds more than the decoder's cap for one payload.
//!
//! [`TlsHarness`] does the same through the real network stack: a `TcpTransport` of P1 on loopback with
//! mutual TLS, and a peer holding P0's valid certificate (authenticated, but malicious) that sends whatever
//! bytes it is given inside the session and closes (the `tls_link` fuzz target).

use crate::error::{Error, Result};
use crate::models::secure::{self, Inputs, Plan, Protocol};
use crate::models::{ModelKind, Prepared};
use crate::net::frame::{Decoder, encode};
use crate::net::protocol_error;
use crate::net::{Label, Message, Role, Transport};
use crate::protocol::party::Party;
use crate::protocol::ring::RingArith;
use std::collections::VecDeque;

/// Largest payload a replayed frame may carry (the fixture's messages are far smaller).
pub const CAP: u64 = 1 << 20;

/// Frames from a byte stream, handed out in order.
pub struct ReplayTransport {
    role: Role,
    frames: VecDeque<Message>,
}

impl ReplayTransport {
    /// The frames of `bytes` for `role` (decoding stops at the first malformed frame, as a connection
    /// would be dropped there).
    pub fn new(role: Role, bytes: &[u8]) -> Self {
        let mut d = Decoder::new(CAP);
        let mut frames = Vec::new();
        let _ = d.feed(bytes, &mut frames);
        Self { role, frames: frames.into() }
    }
}

impl Transport for ReplayTransport {
    fn role(&self) -> Role {
        self.role
    }

    fn send(&mut self, _to: Role, _msg: Message) -> Result<()> {
        Ok(())
    }

    fn recv(&mut self, from: Role, label: &Label) -> Result<Message> {
        let m = self.frames.pop_front().ok_or(Error::PeerGone(from.into()))?;
        if &m.label != label {
            return Err(protocol_error(
                Some(label),
                format!("out of step: expected it from {from}, got '{}'", m.label),
            ));
        }
        Ok(m)
    }
}

/// The fixed job: a 4 -> 3 -> 1 network (relu, sigmoid) under `protocol`, one training step of 2 rows and
/// one inference batch of 2. Planned once per process (a model file's `ModelKind` lives as long as the
/// process).
pub fn fixture() -> Result<ModelKind> {
    static MODEL: std::sync::OnceLock<std::result::Result<ModelKind, String>> = std::sync::OnceLock::new();
    let made = MODEL.get_or_init(|| {
        let spec = crate::models::spec::Spec::parse(
            "input = [4]\n[[layer]]\nkind = \"dense\"\nunits = 3\n[[layer]]\nkind = \"relu\"\n\
             [[layer]]\nkind = \"dense\"\nunits = 1\n[[layer]]\nkind = \"sigmoid\"\n\
             [loss]\nkind = \"mse\"\ntarget = \"value\"\n",
        )
        .and_then(|spec| crate::models::graph::Net::named(spec, "replay"))
        .map_err(|e| e.to_string())?;
        Ok(ModelKind::file(spec))
    });
    made.clone().map_err(crate::error::invalid)
}

fn plan(model: ModelKind, protocol: Protocol, rows: &[Vec<usize>]) -> Plan<'_> {
    Plan {
        model,
        protocol,
        lr: 0.5,
        schedule: &rows[..1],
        inference: &rows[1..],
        reuse_masks: false,
        train_rows: 2,
        helper: Default::default(),
        fss_gate: Default::default(),
        value_bits: None,
        progress: None,
    }
}

/// The protocol a byte picks: rtas, rtas-fast or mpc.
pub fn protocol_of(b: u8) -> Protocol {
    [Protocol::Rtas, Protocol::RtasFast, Protocol::Mpc][usize::from(b) % 3]
}

/// Runs `role` (P0, P1 or the dealer: the roles that hold no data) of the fixture under `protocol`,
/// receiving the frames of `bytes`.
pub fn run_role(role: Role, protocol: Protocol, bytes: &[u8]) -> Result<()> {
    let model = fixture()?;
    let rows = vec![vec![0, 1], vec![0, 1]];
    let net = Box::new(ReplayTransport::new(role, bytes));
    let mut local = crate::rng::stream(1, 0);
    let mut p = Party::setup(net, RingArith::default(), &protocol.roles(), &mut local)?;
    secure::run(&mut p, &plan(model, protocol, &rows), Inputs::Nothing).map(|_| ())
}

/// What `role` receives in an honest simulated run of the fixture, as the frames a TCP peer would send:
/// from every peer, or (`from`) from one.
fn honest(role: Role, protocol: Protocol, from: Option<Role>) -> Result<(Vec<Label>, Vec<u8>)> {
    let model = fixture()?;
    let rows = vec![vec![0, 1], vec![0, 1]];
    let data = Prepared::from_rows(vec![0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8], 4, &[0.0, 1.0])?;
    let plan = plan(model, protocol, &rows);
    let inputs = Inputs::split(&plan, &data, &data, &model.init(1));
    let run = crate::sim::run::run_protocol(&RingArith::default(), &protocol.roles(), 1, true, inputs, |p, i| {
        secure::run(p, &plan, i)
    })?;
    let view = run.recording.views.get(&role).ok_or_else(|| protocol_error(None, format!("no view of {role}")))?;
    let (mut labels, mut out) = (Vec::new(), Vec::new());
    for e in view.received.iter().filter(|e| from.is_none_or(|f| f == e.from)) {
        labels.push(e.label.clone());
        out.extend(encode(&Message {
            label: e.label.clone(),
            kind: e.kind,
            phase: crate::net::Phase::Online,
            payload: e.payload.clone(),
        }));
    }
    Ok((labels, out))
}

/// What `role` receives in an honest simulated run of the fixture, as the frames a TCP peer would send.
pub fn honest_frames(role: Role, protocol: Protocol) -> Result<Vec<u8>> {
    honest(role, protocol, None).map(|h| h.1)
}

/// What P1 expects from P0 in an honest run of the fixture under `protocol` (labels in order) and the frames
/// P0 sends it.
pub fn honest_p0_to_p1(protocol: Protocol) -> Result<(Vec<Label>, Vec<u8>)> {
    honest(Role::P1, protocol, Some(Role::P0))
}

/// P1's real transport and a malicious P0, on loopback with mutual TLS (keys made once, in a temporary
/// directory removed on drop).
pub struct TlsHarness {
    dir: std::path::PathBuf,
    /// One listening socket for every feed (a fresh one per input would spend the loopback's ports).
    listener: std::net::TcpListener,
    p0: crate::deploy::tls::Identity,
    p1: crate::deploy::tls::Identity,
}

/// What P1's transport made of a peer's bytes.
#[derive(Debug)]
pub struct Fed {
    /// Frames accepted, each the one expected next.
    pub accepted: usize,
    /// The error that ended the receiving (none if every expected frame came).
    pub error: Option<Error>,
}

impl TlsHarness {
    /// Keys for P0 and P1 under a fresh CA.
    pub fn new() -> Result<Self> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "rtas-tls-harness-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        crate::deploy::tls::make_keys(&dir, &[Role::P0, Role::P1])?;
        let p0 = crate::deploy::tls::Identity::from_dir(Role::P0, &dir)?;
        let p1 = crate::deploy::tls::Identity::from_dir(Role::P1, &dir)?;
        let listener = crate::deploy::tcp::listen("127.0.0.1:0")?;
        Ok(Self { dir, listener, p0, p1 })
    }

    /// P0 sends `bytes` inside an authenticated TLS session to P1's `TcpTransport`, then closes (with a TLS
    /// close_notify when `clean`, else by dropping the socket); P1 receives `labels` from P0 in order until
    /// one fails. P1's limits: payloads of at most [`CAP`] bytes, 3 s per receive.
    pub fn feed(&self, bytes: &[u8], clean: bool, labels: &[Label]) -> Result<Fed> {
        use crate::deploy::tcp::{NetConfig, TcpTransport};
        let io = |e: std::io::Error| crate::error::invalid(format!("listener: {e}"));
        let listener = self.listener.try_clone().map_err(io)?;
        let addr = listener.local_addr().map_err(io)?;
        let cfg = NetConfig {
            connect_timeout: 5.0,
            handshake_timeout: 5.0,
            recv_timeout: 3.0,
            linger: 0.5,
            max_payload: CAP,
            ..NetConfig::default()
        };
        std::thread::scope(|s| {
            let attacker = s.spawn(|| malicious_p0(&self.p0, addr, bytes, clean));
            let mut t = TcpTransport::connect(&self.p1, listener, &[(Role::P0, "unused".into())], &cfg, &|_| {})?;
            let mut fed = Fed { accepted: 0, error: None };
            for label in labels {
                match t.recv(Role::P0, label) {
                    Ok(m) => {
                        assert!(&m.label == label, "recv returned a frame other than the one expected");
                        assert!(m.payload.bytes() <= CAP, "a payload above the cap was accepted");
                        fed.accepted += 1;
                    }
                    Err(e) => {
                        fed.error = Some(e);
                        break;
                    }
                }
            }
            drop(t);
            let _ = attacker.join();
            Ok(fed)
        })
    }
}

impl Drop for TlsHarness {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// An authenticated P0 that sends `bytes` as application data, then closes.
fn malicious_p0(
    id: &crate::deploy::tls::Identity,
    addr: std::net::SocketAddr,
    bytes: &[u8],
    clean: bool,
) -> std::io::Result<()> {
    use std::io::{Read, Write};
    let other = |e: crate::error::Error| std::io::Error::other(e.to_string());
    let sock = std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(5))?;
    sock.set_read_timeout(Some(std::time::Duration::from_secs(5)))?;
    sock.set_write_timeout(Some(std::time::Duration::from_secs(5)))?;
    let conn = rustls::ClientConnection::new(
        id.client_config().map_err(other)?,
        crate::deploy::tls::server_name(Role::P1).map_err(other)?,
    )
    .map_err(std::io::Error::other)?;
    let mut tls = rustls::StreamOwned::new(conn, sock);
    tls.write_all(&[Role::P0.index() as u8])?;
    let mut status = [0u8; 3];
    tls.read_exact(&mut status)?;
    if status[0] != 1 {
        return Err(std::io::Error::other("refused"));
    }
    tls.write_all(bytes)?;
    tls.flush()?;
    if clean {
        tls.conn.send_close_notify();
        tls.flush()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The honest stream replays to the end for every data-less role and protocol; a stream cut short, or
    /// with one frame's label changed, is refused with an error (never a panic).
    #[test]
    fn honest_streams_replay_and_tampered_ones_are_refused() {
        for protocol in [Protocol::Rtas, Protocol::RtasFast, Protocol::Mpc] {
            for role in [Role::P0, Role::P1, Role::Dealer] {
                let bytes = honest_frames(role, protocol).unwrap();
                run_role(role, protocol, &bytes).unwrap_or_else(|e| panic!("{role} {}: {e}", protocol.name()));
                // (Under rtas-fast and mpc the dealer only sends: its stream is empty.)
                let cut = run_role(role, protocol, &bytes[..bytes.len() / 2]);
                assert_eq!(cut.is_err(), !bytes.is_empty(), "{role} {}: half a stream", protocol.name());
                // Flip one byte a third of the way in: refused or replayed, never a panic.
                let mut bad = bytes.clone();
                if let Some(b) = bad.get_mut(bytes.len() / 3) {
                    *b ^= 0x41;
                }
                let _ = run_role(role, protocol, &bad);
            }
        }
    }

    /// The fuzzer's leak sanitizer found the fixture planned (and its model kept) once per input: it is
    /// planned once per process.
    #[test]
    fn the_fixture_is_planned_once() {
        let (ModelKind::File(a), ModelKind::File(b)) = (fixture().unwrap(), fixture().unwrap()) else {
            panic!("the fixture is a model file")
        };
        assert!(std::ptr::eq(a, b));
    }

    /// Through the real transport: the honest stream is accepted frame by frame; cut short, it ends with P0
    /// lost (closed early), with or without a TLS close; a flipped byte is refused, never accepted as another
    /// frame; no receive runs into its timeout.
    #[test]
    fn p1s_transport_takes_the_honest_stream_and_refuses_the_rest() {
        let h = TlsHarness::new().unwrap();
        for protocol in [Protocol::Rtas, Protocol::Mpc] {
            let (labels, bytes) = honest_p0_to_p1(protocol).unwrap();
            assert!(!labels.is_empty());
            for clean in [true, false] {
                let fed = h.feed(&bytes, clean, &labels).unwrap();
                assert!(fed.error.is_none() && fed.accepted == labels.len(), "{fed:?}");
                let cut = h.feed(&bytes[..bytes.len() / 2], clean, &labels).unwrap();
                let e = cut.error.expect("half a stream cannot satisfy every receive").to_string();
                assert!(cut.accepted < labels.len() && e.contains("P0") && !e.contains("recv_timeout"), "{e}");
            }
            let mut bad = bytes.clone();
            bad[bytes.len() / 3] ^= 0x41;
            let fed = h.feed(&bad, true, &labels).unwrap();
            assert!(fed.accepted < labels.len(), "{fed:?}");
            assert!(!fed.error.unwrap().to_string().contains("recv_timeout"));
            let junk = h.feed(&[0xff; 64], false, &labels).unwrap();
            assert_eq!(junk.accepted, 0);
        }
    }

    /// Writes the seed corpus of the `tls_link` fuzz target (by hand: `cargo test --release --lib
    /// write_the_tls_link_corpus -- --ignored`): a byte (protocol, and 0x80 for a clean close), then the frames
    /// an honest P0 sends P1.
    #[test]
    #[ignore]
    fn write_the_tls_link_corpus() {
        let files = (0..3u8).flat_map(|b| {
            let protocol = protocol_of(b);
            [false, true].map(|clean| {
                let mut bytes = vec![b | if clean { 0x80 } else { 0 }];
                bytes.extend(honest_p0_to_p1(protocol).unwrap().1);
                (format!("{}-{}", protocol.name(), if clean { "clean" } else { "abrupt" }), bytes)
            })
        });
        write_corpus("tls_link", files);
    }

    /// Writes the seed corpus of the `protocol` fuzz target (run by hand: `cargo test --release --lib
    /// write_the_protocol_corpus -- --ignored`). Each file: a byte choosing the role and protocol, then the
    /// frames an honest run sends that role.
    #[test]
    #[ignore]
    fn write_the_protocol_corpus() {
        let files = (0..3u8).flat_map(|b| {
            let protocol = protocol_of(b);
            [Role::P0, Role::P1, Role::Dealer].into_iter().enumerate().map(move |(ri, role)| {
                let mut bytes = vec![ri as u8 * 3 + b];
                bytes.extend(honest_frames(role, protocol).unwrap());
                (format!("{}-{}", protocol.name(), role.short()), bytes)
            })
        });
        write_corpus("protocol", files);
    }

    /// Writes `files` (name, bytes) into `fuzz/corpus/<target>/`.
    fn write_corpus(target: &str, files: impl Iterator<Item = (String, Vec<u8>)>) {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
        std::fs::create_dir_all(&dir).unwrap();
        for (name, bytes) in files {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
    }
}
