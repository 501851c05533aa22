//! The network transport: one TLS connection per pair of parties, frames on it, one I/O thread per peer.
//!
//! Start-up: every party listens; of each pair, the role earlier in [`Role::ALL`] dials the other (retrying
//! until `connect_timeout`), both sides complete a TLS 1.3 handshake with client certificates from the
//! project CA, the dialer announces its role in one byte, and the listener accepts it only if the
//! dialer's certificate is valid for that role (it answers with a status byte and, on refusal, the
//! reason). A connection from anyone else is refused, logged, and waited past.
//!
//! Running: `send` hands the message to the peer's I/O thread and returns (sends never block, as the
//! [`Transport`] trait promises; a party that sends a large tensor to a peer that is itself sending can
//! therefore not deadlock). The I/O thread encrypts in chunks as the socket drains and decodes incoming
//! frames ([`crate::net::frame`]) into a queue that `recv` reads, checking each frame's label against the
//! one the protocol expects. A peer whose connection breaks is reported to every pending and later
//! receive within a tenth of a second, naming the peer and the step.

use super::tls::{Identity, check_peer, server_name};
use crate::error::{Error, Result, invalid};
use crate::net::frame::{self, Decoder};
use crate::net::protocol_error;
use crate::net::{Label, Message, Phase, Role, Stage, Transport};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, TryRecvError, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Timeouts and limits of the network transport.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetConfig {
    /// Seconds to establish every link at start-up (dial retries included).
    pub connect_timeout: f64,
    /// Seconds between two dial attempts.
    pub retry_interval: f64,
    /// Seconds one TLS handshake may take.
    pub handshake_timeout: f64,
    /// Seconds a receive may wait before the run is declared stuck.
    pub recv_timeout: f64,
    /// Seconds a finished party waits for its peers to close their ends.
    pub linger: f64,
    /// The largest payload accepted in one frame, bytes.
    pub max_payload: u64,
}

impl Default for NetConfig {
    fn default() -> Self {
        Self {
            connect_timeout: 30.0,
            retry_interval: 0.2,
            handshake_timeout: 10.0,
            recv_timeout: 600.0,
            linger: 10.0,
            max_payload: frame::DEFAULT_MAX_PAYLOAD,
        }
    }
}

fn secs(what: &str, s: f64) -> Result<Duration> {
    if !s.is_finite() || s <= 0.0 || s > 1e7 {
        return Err(invalid(format!("{what} must be a positive number of seconds, got {s}")));
    }
    Ok(Duration::from_secs_f64(s))
}

impl NetConfig {
    /// Checks every field.
    pub fn validate(&self) -> Result<()> {
        for (w, s) in [
            ("connect_timeout", self.connect_timeout),
            ("retry_interval", self.retry_interval),
            ("handshake_timeout", self.handshake_timeout),
            ("recv_timeout", self.recv_timeout),
            ("linger", self.linger),
        ] {
            secs(w, s)?;
        }
        if self.max_payload == 0 {
            return Err(invalid("max_payload must be at least 1"));
        }
        Ok(())
    }
}

/// Bytes one party put on one link, by stage and phase.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Sent {
    /// The stage.
    pub stage: Stage,
    /// The phase.
    pub phase: Phase,
    /// Frames.
    pub frames: u64,
    /// Payload bytes (what the simulator's ledger counts).
    pub payload: u64,
    /// Frame prefix and header bytes.
    pub framing: u64,
}

/// What one party counted on the link to one peer.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LinkCounts {
    /// Frames sent, by stage and phase.
    pub sent: Vec<Sent>,
    /// Bytes written to the socket: TLS records of the frames, the handshake, the close.
    pub socket_out: u64,
    /// Bytes read from the socket.
    pub socket_in: u64,
}

impl LinkCounts {
    fn add(&mut self, msg: &Message, framing: u64) {
        let (stage, phase) = (msg.label.stage, msg.phase);
        match self.sent.iter_mut().find(|s| s.stage == stage && s.phase == phase) {
            Some(s) => {
                s.frames += 1;
                s.payload += msg.payload.bytes();
                s.framing += framing;
            }
            None => self.sent.push(Sent { stage, phase, frames: 1, payload: msg.payload.bytes(), framing }),
        }
    }
}

/// Counters and clocks shared by a transport and its I/O threads.
#[derive(Debug, Default)]
struct Shared {
    links: Mutex<BTreeMap<Role, LinkCounts>>,
    failed: Mutex<Option<(Role, String)>>,
    stages: Mutex<Vec<(Stage, f64)>>,
    /// The party stopped before the end of the protocol: drop the connections without a TLS close, so
    /// that no peer mistakes it for a party that finished.
    abort: std::sync::atomic::AtomicBool,
}

/// What a deployed party measured: per link, the bytes it sent; when each stage began.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NetStats {
    /// Per peer.
    pub links: BTreeMap<Role, LinkCounts>,
    /// Each stage's start, seconds since the links were up, in order.
    pub stages: Vec<(Stage, f64)>,
    /// Seconds to set up the links (dials, handshakes).
    pub connect_seconds: f64,
}

/// A handle on a transport's counters that outlives it (the transport moves into the party).
#[derive(Clone)]
pub struct StatsHandle {
    shared: Arc<Shared>,
    connect_seconds: f64,
}

impl StatsHandle {
    /// The counters now.
    pub fn snapshot(&self) -> NetStats {
        NetStats {
            links: lock(&self.shared.links).clone(),
            stages: lock(&self.shared.stages).clone(),
            connect_seconds: self.connect_seconds,
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

enum Inbound {
    Msg(Message),
    /// The peer finished and closed its end cleanly.
    Closed,
    /// The connection broke.
    Failed(String),
}

struct Link {
    out: Option<Sender<Message>>,
    wake: UnixStream,
    inbox: Receiver<Inbound>,
    thread: Option<JoinHandle<()>>,
}

/// One party's end of the network.
pub struct TcpTransport {
    role: Role,
    links: BTreeMap<Role, Link>,
    shared: Arc<Shared>,
    recv_timeout: Duration,
    start: Instant,
    connect_seconds: f64,
    /// The last label this party sent or waited for (named when a peer is lost).
    at: Option<Label>,
    /// Whether the protocol reached its end ([`Stage::Done`]).
    done: bool,
}

/// A socket that counts what passes.
struct Counted {
    sock: TcpStream,
    read: u64,
    written: u64,
}

impl Read for Counted {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.sock.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

impl Write for Counted {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.sock.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.sock.flush()
    }
}

/// Which peers this role dials (the rest dial it).
fn dials(me: Role, peer: Role) -> bool {
    me.index() < peer.index()
}

/// A link, once up.
struct Up {
    peer: Role,
    conn: rustls::Connection,
    sock: Counted,
}

fn blocking_io(conn: &mut rustls::Connection, sock: &mut Counted) -> std::io::Result<()> {
    while conn.is_handshaking() {
        conn.complete_io(sock)?;
    }
    Ok(())
}

fn write_all(conn: &mut rustls::Connection, sock: &mut Counted, data: &[u8]) -> std::io::Result<()> {
    conn.writer().write_all(data)?;
    while conn.wants_write() {
        conn.write_tls(sock)?;
    }
    Ok(())
}

fn read_exact(conn: &mut rustls::Connection, sock: &mut Counted, buf: &mut [u8]) -> std::io::Result<()> {
    let mut got = 0;
    while got < buf.len() {
        match conn.reader().read(&mut buf[got..]) {
            Ok(0) => return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "closed")),
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if conn.read_tls(sock)? == 0 {
                    return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "connection closed"));
                }
                conn.process_new_packets().map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Dials `peer` at `addr` until it answers or `deadline` passes, then authenticates both ways.
fn dial(id: &Identity, peer: Role, addr: &str, cfg: &NetConfig, deadline: Instant) -> Result<Up> {
    let retry = secs("retry_interval", cfg.retry_interval)?;
    let handshake = secs("handshake_timeout", cfg.handshake_timeout)?;
    let mut last = String::from("no attempt");
    let sock = loop {
        let addrs: Vec<_> = match addr.to_socket_addrs() {
            Ok(a) => a.collect(),
            Err(e) => return Err(invalid(format!("address of {peer} '{addr}': {e}"))),
        };
        let left = deadline.saturating_duration_since(Instant::now());
        if let Some(s) = addrs.iter().find_map(|a| {
            TcpStream::connect_timeout(a, left.max(Duration::from_millis(10)).min(handshake))
                .map_err(|e| last = e.to_string())
                .ok()
        }) {
            break s;
        }
        if Instant::now() + retry > deadline {
            return Err(Error::PeerLost {
                peer: peer.into(),
                label: None,
                reason: format!("could not connect to {addr} within the connect timeout ({last})"),
            });
        }
        std::thread::sleep(retry);
    };
    let fail = |what: &str, e: &dyn std::fmt::Display| Error::PeerLost {
        peer: peer.into(),
        label: None,
        reason: format!("{what} with {addr} failed: {e}"),
    };
    sock.set_nodelay(true).map_err(|e| fail("setting TCP_NODELAY", &e))?;
    sock.set_read_timeout(Some(handshake)).map_err(|e| fail("setting a timeout", &e))?;
    sock.set_write_timeout(Some(handshake)).map_err(|e| fail("setting a timeout", &e))?;
    let mut sock = Counted { sock, read: 0, written: 0 };
    let client =
        rustls::ClientConnection::new(id.client_config()?, server_name(peer)?).map_err(|e| fail("TLS set-up", &e))?;
    let mut conn = rustls::Connection::from(client);
    blocking_io(&mut conn, &mut sock).map_err(|e| fail("TLS handshake", &e))?;
    write_all(&mut conn, &mut sock, &[id.role.index() as u8]).map_err(|e| fail("announcing our role", &e))?;
    let mut status = [0u8; 3];
    read_exact(&mut conn, &mut sock, &mut status).map_err(|e| fail("waiting to be accepted", &e))?;
    if status[0] != 1 {
        let mut reason = vec![0u8; u16::from_le_bytes([status[1], status[2]]) as usize];
        let _ = read_exact(&mut conn, &mut sock, &mut reason);
        return Err(Error::PeerLost {
            peer: peer.into(),
            label: None,
            reason: format!("{peer} refused us: {}", String::from_utf8_lossy(&reason)),
        });
    }
    Ok(Up { peer, conn, sock })
}

/// Accepts one connection: handshake, the dialer's announced role, its certificate for that role.
fn accept_one(id: &Identity, sock: TcpStream, expected: &[Role], cfg: &NetConfig) -> std::result::Result<Up, String> {
    let handshake = secs("handshake_timeout", cfg.handshake_timeout).map_err(|e| e.to_string())?;
    let addr = sock.peer_addr().map(|a| a.to_string()).unwrap_or_else(|_| "?".into());
    sock.set_nonblocking(false).map_err(|e| e.to_string())?;
    sock.set_nodelay(true).map_err(|e| e.to_string())?;
    sock.set_read_timeout(Some(handshake)).map_err(|e| e.to_string())?;
    sock.set_write_timeout(Some(handshake)).map_err(|e| e.to_string())?;
    let mut sock = Counted { sock, read: 0, written: 0 };
    let server =
        rustls::ServerConnection::new(id.server_config().map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    let mut conn = rustls::Connection::from(server);
    blocking_io(&mut conn, &mut sock).map_err(|e| format!("{addr}: TLS handshake failed: {e}"))?;
    let mut who = [0u8; 1];
    read_exact(&mut conn, &mut sock, &mut who).map_err(|e| format!("{addr}: no role announced: {e}"))?;
    let refuse = |conn: &mut rustls::Connection, sock: &mut Counted, reason: String| -> String {
        let mut m = vec![0u8];
        m.extend_from_slice(&(reason.len().min(1000) as u16).to_le_bytes());
        m.extend_from_slice(&reason.as_bytes()[..reason.len().min(1000)]);
        let _ = write_all(conn, sock, &m);
        conn.send_close_notify();
        let _ = conn.write_tls(sock);
        format!("{addr}: {reason}")
    };
    let Some(&claimed) = Role::ALL.get(who[0] as usize) else {
        return Err(refuse(&mut conn, &mut sock, format!("unknown role {}", who[0])));
    };
    if !expected.contains(&claimed) {
        return Err(refuse(&mut conn, &mut sock, format!("{claimed} is not a peer that dials {}", id.role)));
    }
    let chain: Vec<_> = conn.peer_certificates().map(|c| c.to_vec()).unwrap_or_default();
    if let Err(e) = check_peer(id.roots(), &chain, claimed) {
        return Err(refuse(&mut conn, &mut sock, format!("claims to be {claimed}: {e}")));
    }
    write_all(&mut conn, &mut sock, &[1, 0, 0]).map_err(|e| format!("{addr}: {e}"))?;
    Ok(Up { peer: claimed, conn, sock })
}

impl TcpTransport {
    /// Connects `id.role` to each of `peers` (role and `host:port`), listening on `listener` for the peers
    /// that dial it. Fails, naming the peer, if a link is not up within `cfg.connect_timeout`. Connections
    /// refused on the way (a certificate for another role, or from another CA) are reported through
    /// `refused` and waited past.
    pub fn connect(
        id: &Identity,
        listener: TcpListener,
        peers: &[(Role, String)],
        cfg: &NetConfig,
        refused: &(dyn Fn(&str) + Sync),
    ) -> Result<TcpTransport> {
        cfg.validate()?;
        let start = Instant::now();
        let deadline = start + secs("connect_timeout", cfg.connect_timeout)?;
        let me = id.role;
        let inbound: Vec<Role> = peers.iter().map(|p| p.0).filter(|&p| !dials(me, p)).collect();
        let ups: Vec<Result<Up>> = std::thread::scope(|s| {
            let dialers: Vec<_> = peers
                .iter()
                .filter(|(p, _)| dials(me, *p))
                .map(|(p, addr)| s.spawn(move || dial(id, *p, addr, cfg, deadline)))
                .collect();
            let mut ups = Vec::new();
            if !inbound.is_empty() {
                ups.extend(accept_all(id, &listener, &inbound, cfg, deadline, refused));
            }
            for d in dialers {
                ups.push(d.join().unwrap_or_else(|_| Err(invalid("a dialing thread panicked"))));
            }
            ups
        });
        let shared = Arc::new(Shared::default());
        let mut links = BTreeMap::new();
        for up in ups {
            let up = up?;
            let peer = up.peer;
            links.insert(peer, spawn_link(up, Arc::clone(&shared), cfg)?);
        }
        let connect_seconds = start.elapsed().as_secs_f64();
        Ok(TcpTransport {
            role: me,
            links,
            shared,
            recv_timeout: secs("recv_timeout", cfg.recv_timeout)?,
            start: Instant::now(),
            connect_seconds,
            at: None,
            done: false,
        })
    }

    /// A handle on this transport's counters, readable after the transport is gone.
    pub fn stats(&self) -> StatsHandle {
        StatsHandle { shared: Arc::clone(&self.shared), connect_seconds: self.connect_seconds }
    }

    fn lost(&self, peer: Role, reason: String) -> Error {
        Error::PeerLost { peer: peer.into(), label: self.at.as_ref().map(Into::into), reason }
    }
}

fn accept_all(
    id: &Identity,
    listener: &TcpListener,
    expected: &[Role],
    cfg: &NetConfig,
    deadline: Instant,
    refused: &(dyn Fn(&str) + Sync),
) -> Vec<Result<Up>> {
    let mut ups: Vec<Result<Up>> = Vec::new();
    let mut have: Vec<Role> = Vec::new();
    let mut refusals: Vec<String> = Vec::new();
    if let Err(e) = listener.set_nonblocking(true) {
        return vec![Err(invalid(format!("listener: {e}")))];
    }
    while have.len() < expected.len() {
        match listener.accept() {
            Ok((sock, _)) => {
                let waiting: Vec<Role> = expected.iter().copied().filter(|r| !have.contains(r)).collect();
                match accept_one(id, sock, &waiting, cfg) {
                    Ok(up) => {
                        have.push(up.peer);
                        ups.push(Ok(up));
                    }
                    Err(reason) => {
                        refused(&reason);
                        refusals.push(reason);
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if Instant::now() > deadline {
                    let missing: Vec<Role> = expected.iter().copied().filter(|r| !have.contains(r)).collect();
                    let why = if refusals.is_empty() {
                        String::new()
                    } else {
                        format!(" (refused: {})", refusals.join("; "))
                    };
                    ups.push(Err(Error::PeerLost {
                        peer: missing[0].into(),
                        label: None,
                        reason: format!(
                            "{} did not connect within the connect timeout{why}",
                            missing.iter().map(|r| r.to_string()).collect::<Vec<_>>().join(", ")
                        ),
                    }));
                    return ups;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => {
                ups.push(Err(invalid(format!("accepting connections: {e}"))));
                return ups;
            }
        }
    }
    ups
}

fn spawn_link(up: Up, shared: Arc<Shared>, cfg: &NetConfig) -> Result<Link> {
    let Up { peer, mut conn, sock } = up;
    let fail = |e: std::io::Error| invalid(format!("link to {peer}: {e}"));
    sock.sock.set_nonblocking(true).map_err(fail)?;
    conn.set_buffer_limit(None);
    let (wake_rx, wake) = UnixStream::pair().map_err(fail)?;
    wake_rx.set_nonblocking(true).map_err(fail)?;
    wake.set_nonblocking(true).map_err(fail)?;
    let (out_tx, out_rx) = channel();
    let (in_tx, inbox) = channel();
    let max_payload = cfg.max_payload;
    let linger = secs("linger", cfg.linger)?;
    let thread = std::thread::Builder::new()
        .name(format!("rtas-link-{peer}"))
        .spawn(move || {
            let mut io = Io { peer, conn, sock, wake: wake_rx, out: out_rx, inbox: in_tx, shared, linger };
            if let Err(reason) = io.run(max_payload) {
                lock(&io.shared.failed).get_or_insert((peer, reason.clone()));
                let _ = io.inbox.send(Inbound::Failed(reason));
            }
            let mut links = lock(&io.shared.links);
            let c = links.entry(peer).or_default();
            c.socket_out += io.sock.written;
            c.socket_in += io.sock.read;
        })
        .map_err(fail)?;
    Ok(Link { out: Some(out_tx), wake, inbox, thread: Some(thread) })
}

/// Plaintext handed to TLS at a time.
const CHUNK: usize = 1 << 18;

struct Outgoing {
    header: Vec<u8>,
    msg: Message,
    at: usize,
}

struct Io {
    peer: Role,
    conn: rustls::Connection,
    sock: Counted,
    wake: UnixStream,
    out: Receiver<Message>,
    inbox: Sender<Inbound>,
    shared: Arc<Shared>,
    linger: Duration,
}

impl Io {
    /// Moves frames both ways until both ends have closed. An error is the reason the link broke.
    fn run(&mut self, max_payload: u64) -> std::result::Result<(), String> {
        let mut decoder = Decoder::new(max_payload);
        let mut pending: Option<Outgoing> = None;
        let (mut closing, mut sent_close, mut shut, mut peer_done) = (false, false, false, false);
        let mut closed_at: Option<Instant> = None;
        let mut plain = vec![0u8; 1 << 16];
        let mut frames = Vec::new();
        loop {
            if self.shared.abort.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = self.sock.sock.shutdown(std::net::Shutdown::Both);
                return Ok(());
            }
            // Plaintext into TLS while little ciphertext waits for the socket; `idle` once the queue is
            // empty (a wake byte may stand for several messages, so the queue, not the pipe, says when
            // there is nothing left to send).
            let mut idle = false;
            while !sent_close && !self.conn.wants_write() {
                if pending.is_none() {
                    match self.out.try_recv() {
                        Ok(msg) => pending = Some(Outgoing { header: frame::encode_header(&msg), msg, at: 0 }),
                        Err(TryRecvError::Empty) => {
                            idle = true;
                            break;
                        }
                        Err(TryRecvError::Disconnected) => {
                            closing = true;
                            break;
                        }
                    }
                }
                if let Some(p) = pending.as_mut() {
                    let body = frame::payload_bytes(&p.msg.payload);
                    let total = p.header.len() + body.len();
                    let end = (p.at + CHUNK).min(total);
                    let mut w = self.conn.writer();
                    if p.at < p.header.len() {
                        let h_end = end.min(p.header.len());
                        w.write_all(&p.header[p.at..h_end]).map_err(|e| e.to_string())?;
                    }
                    if end > p.header.len() {
                        let from = p.at.max(p.header.len()) - p.header.len();
                        w.write_all(&body[from..end - p.header.len()]).map_err(|e| e.to_string())?;
                    }
                    p.at = end;
                    if end == total {
                        let framing = p.header.len() as u64;
                        lock(&self.shared.links).entry(self.peer).or_default().add(&p.msg, framing);
                        pending = None;
                    }
                }
            }
            if closing && pending.is_none() && !sent_close {
                self.conn.send_close_notify();
                sent_close = true;
            }
            while self.conn.wants_write() {
                match self.conn.write_tls(&mut self.sock) {
                    Ok(_) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) => return Err(format!("sending failed: {e}")),
                }
            }
            if sent_close && !shut && !self.conn.wants_write() {
                let _ = self.sock.sock.shutdown(std::net::Shutdown::Write);
                shut = true;
                closed_at = Some(Instant::now());
            }
            if shut && (peer_done || closed_at.is_some_and(|t| t.elapsed() > self.linger)) {
                return Ok(());
            }
            // Ciphertext from the socket, plaintext into frames. rustls holds only a little undelivered
            // plaintext and decrypts more only when asked, so every pass processes and drains whether or
            // not the socket gave anything, until a pass makes no progress.
            let mut eof = false;
            while !peer_done {
                let mut progressed = false;
                match self.conn.read_tls(&mut self.sock) {
                    Ok(0) => eof = true,
                    Ok(_) => progressed = true,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => progressed = true,
                    Err(e) => return Err(format!("connection broke: {e}")),
                }
                self.conn.process_new_packets().map_err(|e| format!("TLS error: {e}"))?;
                loop {
                    match self.conn.reader().read(&mut plain) {
                        Ok(0) => {
                            if !decoder.is_idle() {
                                return Err("closed in the middle of a frame".into());
                            }
                            peer_done = true;
                            let _ = self.inbox.send(Inbound::Closed);
                            break;
                        }
                        Ok(n) => {
                            progressed = true;
                            decoder.feed(&plain[..n], &mut frames).map_err(|e| e.to_string())?;
                            for m in frames.drain(..) {
                                // A party that has finished takes nothing more; its inbox may be gone.
                                let _ = self.inbox.send(Inbound::Msg(m));
                            }
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                            return Err("connection closed without a TLS close (the process died?)".into());
                        }
                        Err(e) => return Err(format!("connection broke: {e}")),
                    }
                }
                if !progressed || eof || self.conn.wants_write() {
                    break;
                }
            }
            if eof && !peer_done {
                return Err("connection closed without a TLS close (the process died?)".into());
            }
            if peer_done && shut {
                return Ok(());
            }
            // Sleep only when nothing can move: nothing left to send, or a socket that is full.
            if (idle && pending.is_none()) || sent_close || self.conn.wants_write() {
                self.wait(!peer_done, self.conn.wants_write());
            }
        }
    }

    /// Sleeps until the socket or the wake pipe has something, or 100 ms pass.
    fn wait(&mut self, read: bool, write: bool) {
        let mut events = 0;
        if read {
            events |= libc::POLLIN;
        }
        if write {
            events |= libc::POLLOUT;
        }
        let mut fds = [
            libc::pollfd { fd: self.sock.sock.as_raw_fd(), events, revents: 0 },
            libc::pollfd { fd: self.wake.as_raw_fd(), events: libc::POLLIN, revents: 0 },
        ];
        poll(&mut fds, 100);
        let mut sink = [0u8; 256];
        while matches!(self.wake.read(&mut sink), Ok(n) if n > 0) {}
    }
}

#[allow(unsafe_code)]
fn poll(fds: &mut [libc::pollfd], timeout_ms: i32) {
    // SAFETY: `fds` is a valid, exclusively borrowed array of `pollfd` of the length passed.
    unsafe {
        libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms);
    }
}

impl Transport for TcpTransport {
    fn role(&self) -> Role {
        self.role
    }

    fn send(&mut self, to: Role, msg: Message) -> Result<()> {
        self.at = Some(msg.label.clone());
        if let crate::net::Payload::Shape(_) = msg.payload {
            return Err(protocol_error(Some(&msg.label), "a shape-only payload (rtas plan) cannot be sent"));
        }
        if let Some((peer, reason)) = lock(&self.shared.failed).clone() {
            return Err(self.lost(peer, reason));
        }
        let link = self
            .links
            .get(&to)
            .ok_or_else(|| protocol_error(Some(&msg.label), format!("{} has no link to {to}", self.role)))?;
        let out = link.out.as_ref().ok_or_else(|| protocol_error(Some(&msg.label), "link closed"))?;
        if out.send(msg).is_err() {
            return Err(self.lost(to, "its connection thread has ended".into()));
        }
        let _ = (&link.wake).write(&[1]);
        Ok(())
    }

    fn recv(&mut self, from: Role, label: &Label) -> Result<Message> {
        self.at = Some(label.clone());
        let deadline = Instant::now() + self.recv_timeout;
        let link = self
            .links
            .get(&from)
            .ok_or_else(|| protocol_error(Some(label), format!("{} has no link from {from}", self.role)))?;
        loop {
            match link.inbox.recv_timeout(Duration::from_millis(100)) {
                Ok(Inbound::Msg(m)) => {
                    if &m.label != label {
                        return Err(protocol_error(
                            Some(label),
                            format!("out of step: {} expected it from {from}, got '{}'", self.role, m.label),
                        ));
                    }
                    return Ok(m);
                }
                Ok(Inbound::Closed) => {
                    return Err(self.lost(from, "it finished and closed its connection before sending this".into()));
                }
                Ok(Inbound::Failed(reason)) => return Err(self.lost(from, reason)),
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(self.lost(from, "its connection thread has ended".into()));
                }
                Err(RecvTimeoutError::Timeout) => {
                    if let Some((peer, reason)) = lock(&self.shared.failed).clone() {
                        return Err(self.lost(peer, reason));
                    }
                    if Instant::now() > deadline {
                        return Err(protocol_error(
                            Some(label),
                            format!("{} waited {:?} for it from {from} (recv_timeout)", self.role, self.recv_timeout),
                        ));
                    }
                }
            }
        }
    }

    fn set_stage(&mut self, stage: Stage) {
        lock(&self.shared.stages).push((stage, self.start.elapsed().as_secs_f64()));
        self.done = stage == Stage::Done;
    }
}

impl Drop for TcpTransport {
    /// After the protocol's end: closes every link once what was sent has left, and waits (at most
    /// `linger`) for the peers to close theirs. Before it (the party failed): drops every connection at
    /// once, without a TLS close, so the peers fail too instead of waiting.
    fn drop(&mut self) {
        if !self.done {
            self.shared.abort.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        for link in self.links.values_mut() {
            link.out.take();
            let _ = (&link.wake).write(&[1]);
        }
        for link in self.links.values_mut() {
            if let Some(t) = link.thread.take() {
                let _ = t.join();
            }
        }
    }
}

/// Round trips of a 64-byte frame between this end and `peer` through the whole transport (party thread,
/// I/O threads, TLS, the network), `count` times; the initiator returns the seconds of each. For giving a
/// cost-model profile the latency this stack really has on a network.
pub fn probe(t: &mut TcpTransport, peer: Role, initiator: bool, count: usize) -> Result<Vec<f64>> {
    use crate::net::{Payload, ViewKind};
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let label = Stage::Setup.at(format!("probe{i}"));
        let msg = Message {
            label: label.clone(),
            kind: ViewKind::Plain,
            phase: Phase::Offline,
            payload: Payload::Ring(ndarray::ArrayD::zeros(ndarray::IxDyn(&[8]))),
        };
        if initiator {
            let t0 = Instant::now();
            t.send(peer, msg)?;
            t.recv(peer, &label)?;
            out.push(t0.elapsed().as_secs_f64());
        } else {
            let m = t.recv(peer, &label)?;
            t.send(peer, m)?;
        }
    }
    t.set_stage(Stage::Done);
    Ok(out)
}

/// Binds `addr` for listening.
pub fn listen(addr: &str) -> Result<TcpListener> {
    TcpListener::bind(addr).map_err(|e| invalid(format!("cannot listen on {addr}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::{Payload, ViewKind};

    pub(crate) fn pair(dir: &std::path::Path) -> (TcpTransport, TcpTransport) {
        crate::deploy::tls::make_keys(dir, &[Role::P0, Role::P1]).unwrap();
        let a = Identity::from_dir(Role::P0, dir).unwrap();
        let b = Identity::from_dir(Role::P1, dir).unwrap();
        let lb = listen("127.0.0.1:0").unwrap();
        let addr = lb.local_addr().unwrap().to_string();
        let la = listen("127.0.0.1:0").unwrap();
        let cfg = NetConfig::default();
        std::thread::scope(|s| {
            let hb = s.spawn(|| TcpTransport::connect(&b, lb, &[(Role::P0, "unused".into())], &cfg, &|_| {}).unwrap());
            let ta = TcpTransport::connect(&a, la, &[(Role::P1, addr.clone())], &cfg, &|_| {}).unwrap();
            (ta, hb.join().unwrap())
        })
    }

    fn msg(i: u32, n: usize) -> Message {
        Message {
            label: Stage::Train(i).at("x").op(crate::net::Op::Open),
            kind: ViewKind::MaskedOpening,
            phase: Phase::Online,
            payload: Payload::Ring(ndarray::ArrayD::from_elem(ndarray::IxDyn(&[n]), i as u64)),
        }
    }

    #[test]
    fn a_frame_out_of_step_is_refused_with_both_labels() {
        let dir = std::env::temp_dir().join(format!("rtas-tcp-step-{}", std::process::id()));
        let (mut a, mut b) = pair(&dir);
        a.send(Role::P1, msg(3, 5)).unwrap();
        let err = b.recv(Role::P0, &msg(4, 5).label).unwrap_err().to_string();
        assert!(err.contains("out of step") && err.contains("t3/x/open") && err.contains("t4/x/open"), "{err}");
        std::thread::scope(|s| {
            s.spawn(move || drop(a));
            drop(b);
        });
    }

    #[test]
    fn ping_pong_is_fast_and_exact() {
        let dir = std::env::temp_dir().join(format!("rtas-tcp-{}", std::process::id()));
        let (mut a, mut b) = pair(&dir);
        let t0 = Instant::now();
        std::thread::scope(|s| {
            s.spawn(|| {
                for i in 0..200 {
                    let m = b.recv(Role::P0, &msg(i, 1).label).unwrap();
                    b.send(Role::P0, m).unwrap();
                }
            });
            for i in 0..200 {
                a.send(Role::P1, msg(i, 1 + (i as usize % 7) * 1000)).unwrap();
                let back = a.recv(Role::P1, &msg(i, 1).label).unwrap();
                assert_eq!(back.payload.len(), 1 + (i as usize % 7) * 1000);
            }
        });
        let per = t0.elapsed().as_secs_f64() / 200.0;
        // Each end waits for the other's close: drop them together.
        std::thread::scope(|s| {
            s.spawn(move || drop(a));
            drop(b);
        });
        eprintln!("round trip {:.3} ms", per * 1e3);
        assert!(per < 0.02, "round trip {per} s");
    }
}
