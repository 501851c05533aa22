//! The network transport: one TLS connection per pair of parties, frames on it, one I/O thread per peer.
//!
//! Start-up: every party listens; of each pair, the role earlier in [`Role::ALL`] dials the other (retrying
//! until `connect_timeout`), both sides complete a TLS 1.3 handshake with client certificates from the
//! project CA, the dialer announces its role in one byte, and the listener accepts it only if the
//! dialer's certificate is valid for that role (it answers with a status byte and, on refusal, the
//! reason). A connection from anyone else is refused, logged, and waited past.
//!
//! A listener runs up to [`PENDING_HANDSHAKES`] handshakes at once, each on its own thread and bounded by an
//! absolute deadline (`handshake_timeout`, and the start-up's `connect_timeout`), so a client that drips
//! bytes or a flood of connections cannot hold the start-up; a dialer whose handshake fails retries until
//! the deadline. Refusals are reported one by one up to [`REFUSALS_SHOWN`], then counted.
//!
//! Running: `send` writes a message of at most 256 KiB straight into TLS and onto the socket from the party's
//! own thread when nothing waits to be sent before it and the I/O thread is not holding the connection
//! (no hand-off: on loopback here a round trip through the transport fell from 122-151 us to 101-111 us,
//! against 75 us for a bare TCP ping-pong between two processes); otherwise it hands the message to the
//! peer's I/O thread and returns at once while the peer's outbound queue holds less than its budget (so a
//! party that sends a large tensor to a peer that is itself sending does not deadlock); beyond it, the
//! sender waits for the queue to drain. The I/O thread is woken by a `recv` only when it had stopped
//! reading for want of room in the inbox. The I/O thread encrypts
//! in chunks as the socket drains and decodes incoming frames ([`crate::net::frame`]) into a queue that
//! `recv` reads, checking each frame's label against the one the protocol expects. The inbound queue has a
//! byte budget too: while it is full the I/O thread stops reading the socket, so a peer that sends what
//! this party has not asked for (a flood of frames for later steps) is slowed by TCP instead of growing
//! this party's memory; a frame larger than the largest the peer may send is refused at its header.
//! Budgets and the largest frame come per peer from the plan's ledger when the party knows its job
//! ([`PeerLimits`]), else from `[net]`. A peer whose connection breaks is reported to every pending and
//! later receive within a tenth of a second, naming the peer and the step.

mod connect;
mod counters;
mod io;
mod port;

use connect::*;
use counters::*;
pub use counters::{LinkCounts, NetStats, Sent, StatsHandle};
use io::*;
pub use port::free_port;

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
use std::sync::atomic::Ordering;
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
    /// The largest payload accepted in one frame, bytes (where the plan does not say better).
    pub max_payload: u64,
    /// Bytes received from one peer and not yet taken by the protocol, at most (where the plan's ledger
    /// says a peer sends less in the whole run, that is the budget; a frame larger than it still fits).
    pub inbox_bytes: u64,
    /// Bytes handed to one peer's link and not yet written, at most; a send beyond it waits.
    pub outbox_bytes: u64,
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
            inbox_bytes: DEFAULT_QUEUE_BYTES,
            outbox_bytes: DEFAULT_QUEUE_BYTES,
        }
    }
}

/// The default byte budget of each peer's inbound and outbound queue.
pub const DEFAULT_QUEUE_BYTES: u64 = 256 << 20;

/// What one link may hold: the largest frame the peer may send, the inbound and outbound byte budgets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PeerLimits {
    /// The largest payload accepted in one frame from the peer.
    pub max_frame: u64,
    /// Bytes from the peer held before the socket is left unread.
    pub inbox: u64,
    /// Bytes to the peer queued before a send waits.
    pub outbox: u64,
    /// Payload bytes the peer sends in the whole job, where the plan knows it: a peer that sends more is
    /// misbehaving, and the link fails naming it.
    pub total: Option<u64>,
}

impl PeerLimits {
    /// The limits `[net]` sets when the plan says nothing.
    pub fn from_config(cfg: &NetConfig) -> Self {
        Self { max_frame: cfg.max_payload, inbox: cfg.inbox_bytes, outbox: cfg.outbox_bytes, total: None }
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
        for (w, v) in
            [("max_payload", self.max_payload), ("inbox_bytes", self.inbox_bytes), ("outbox_bytes", self.outbox_bytes)]
        {
            if v == 0 {
                return Err(invalid(format!("{w} must be at least 1")));
            }
        }
        Ok(())
    }
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

impl TcpTransport {
    /// Connects `id.role` to each of `peers` (role and `host:port`), listening on `listener` for the peers
    /// that dial it, every link under `cfg`'s limits. Fails, naming the peer, if a link is not up within
    /// `cfg.connect_timeout`. Connections refused on the way (a certificate for another role, or from
    /// another CA, or no TLS at all) are reported through `refused` (the first few; then a count) and
    /// waited past.
    pub fn connect(
        id: &Identity,
        listener: TcpListener,
        peers: &[(Role, String)],
        cfg: &NetConfig,
        refused: &(dyn Fn(&str) + Sync),
    ) -> Result<TcpTransport> {
        Self::connect_limited(id, listener, peers, cfg, &BTreeMap::new(), refused)
    }

    /// [`TcpTransport::connect`] with each peer's limits in `limits` (from the plan's ledger); a peer not
    /// in it gets `cfg`'s.
    pub fn connect_limited(
        id: &Identity,
        listener: TcpListener,
        peers: &[(Role, String)],
        cfg: &NetConfig,
        limits: &BTreeMap<Role, PeerLimits>,
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
            let lim = limits.get(&peer).copied().unwrap_or_else(|| PeerLimits::from_config(cfg));
            links.insert(peer, spawn_link(up, Arc::clone(&shared), cfg, lim)?);
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
        // Back-pressure: wait while the queue to this peer is over its budget (the peer, or the network,
        // is that far behind). Bounded by the receive timeout, and ended by any link's failure.
        let bytes = msg.payload.bytes();
        let since = Instant::now();
        while link.queues.out.load(Ordering::Acquire) >= link.limits.outbox {
            if let Some((peer, reason)) = lock(&self.shared.failed).clone() {
                return Err(self.lost(peer, reason));
            }
            if since.elapsed() > self.recv_timeout {
                return Err(protocol_error(
                    Some(&msg.label),
                    format!(
                        "{} waited {:?} to send to {to}: {} bytes queued for it did not drain (recv_timeout)",
                        self.role,
                        self.recv_timeout,
                        link.queues.out.load(Ordering::Acquire)
                    ),
                ));
            }
            link.queues.drained.wait(Duration::from_millis(50));
        }
        // Straight onto the connection when nothing waits before it; else through the I/O thread's queue.
        if link.send_direct(to, &msg, &self.shared) {
            return Ok(());
        }
        link.queues.out.fetch_add(bytes, Ordering::AcqRel);
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
                    // Room in the inbox again: an I/O thread that had stopped reading may read the socket.
                    if link.queues.taken(m.payload.bytes()) {
                        let _ = (&link.wake).write(&[1]);
                    }
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
