//! Connecting: the dialer (a lower role dials a higher one, retrying until the connect timeout) and the listener
//! (accepts, authenticates each peer by its certificate), both finishing the TLS handshake before the I/O loop
//! takes the socket.

use super::*;

/// Which peers this role dials (the rest dial it).
pub(super) fn dials(me: Role, peer: Role) -> bool {
    me.index() < peer.index()
}

/// A link, once up.
pub(super) struct Up {
    pub(super) peer: Role,
    pub(super) conn: rustls::Connection,
    pub(super) sock: Counted,
}

pub(super) fn blocking_io(conn: &mut rustls::Connection, sock: &mut Counted) -> std::io::Result<()> {
    while conn.is_handshaking() {
        conn.complete_io(sock)?;
    }
    Ok(())
}

pub(super) fn write_all(conn: &mut rustls::Connection, sock: &mut Counted, data: &[u8]) -> std::io::Result<()> {
    conn.writer().write_all(data)?;
    while conn.wants_write() {
        conn.write_tls(sock)?;
    }
    Ok(())
}

pub(super) fn read_exact(conn: &mut rustls::Connection, sock: &mut Counted, buf: &mut [u8]) -> std::io::Result<()> {
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

/// Handshakes a listener runs at once; a connection beyond them evicts the oldest pending one if that one
/// has had [`HANDSHAKE_GRACE`], and is closed otherwise.
pub(super) const PENDING_HANDSHAKES: usize = 8;

/// How long a pending handshake is safe from eviction (an honest one takes two round trips).
pub(super) const HANDSHAKE_GRACE: Duration = Duration::from_secs(1);

/// Refusals a listener reports one by one before it only counts them.
pub(super) const REFUSALS_SHOWN: usize = 5;

/// Dials `peer` at `addr` until a handshake with it succeeds or `deadline` passes, then authenticates both
/// ways. A failed attempt (no answer, a broken or timed-out handshake: the peer may have evicted us for a
/// flood of others) is retried every `retry_interval`; a peer that authenticates and refuses us is final.
pub(super) fn dial(id: &Identity, peer: Role, addr: &str, cfg: &NetConfig, deadline: Instant) -> Result<Up> {
    let retry = secs("retry_interval", cfg.retry_interval)?;
    let handshake = secs("handshake_timeout", cfg.handshake_timeout)?;
    let mut last;
    let mut attempts = 0usize;
    loop {
        attempts += 1;
        match attempt(id, peer, addr, handshake, deadline) {
            Ok(up) => return Ok(up),
            Err(Attempt::Final(e)) => return Err(e),
            Err(Attempt::Retry(why)) => last = why,
        }
        if Instant::now() + retry > deadline {
            return Err(Error::PeerLost {
                peer: peer.into(),
                label: None,
                reason: format!(
                    "could not connect to {addr} within the connect timeout ({attempts} attempt(s); last: {last})"
                ),
            });
        }
        std::thread::sleep(retry);
    }
}

enum Attempt {
    /// Worth another try before the deadline.
    Retry(String),
    /// Not: the peer authenticated and refused us, or the address is wrong.
    Final(Error),
}

fn attempt(
    id: &Identity,
    peer: Role,
    addr: &str,
    handshake: Duration,
    deadline: Instant,
) -> std::result::Result<Up, Attempt> {
    let addrs: Vec<_> = match addr.to_socket_addrs() {
        Ok(a) => a.collect(),
        Err(e) => return Err(Attempt::Final(invalid(format!("address of {peer} '{addr}': {e}")))),
    };
    let until = deadline.min(Instant::now() + handshake);
    let mut last = format!("{addr} resolves to no address");
    let sock = addrs
        .iter()
        .find_map(|a| {
            let left = until.saturating_duration_since(Instant::now()).max(Duration::from_millis(10));
            TcpStream::connect_timeout(a, left).map_err(|e| last = e.to_string()).ok()
        })
        .ok_or(Attempt::Retry(last))?;
    let retry = |what: &str, e: &dyn std::fmt::Display| Attempt::Retry(format!("{what}: {e}"));
    sock.set_nodelay(true).map_err(|e| retry("setting TCP_NODELAY", &e))?;
    let mut sock = Counted::new(sock, Some(until));
    let client = rustls::ClientConnection::new(
        id.client_config().map_err(Attempt::Final)?,
        server_name(peer).map_err(Attempt::Final)?,
    )
    .map_err(|e| retry("TLS set-up", &e))?;
    let mut conn = rustls::Connection::from(client);
    blocking_io(&mut conn, &mut sock).map_err(|e| retry("TLS handshake", &e))?;
    write_all(&mut conn, &mut sock, &[id.role.index() as u8]).map_err(|e| retry("announcing our role", &e))?;
    let mut status = [0u8; 3];
    read_exact(&mut conn, &mut sock, &mut status).map_err(|e| retry("waiting to be accepted", &e))?;
    if status[0] != 1 {
        let mut reason = vec![0u8; u16::from_le_bytes([status[1], status[2]]) as usize];
        let _ = read_exact(&mut conn, &mut sock, &mut reason);
        return Err(Attempt::Final(Error::PeerLost {
            peer: peer.into(),
            label: None,
            reason: format!("{peer} refused us: {}", String::from_utf8_lossy(&reason)),
        }));
    }
    sock.deadline = None;
    Ok(Up { peer, conn, sock })
}

/// One connection's handshake, on a thread of its own: TLS, the dialer's announced role, its certificate
/// for that role, all before `deadline`. The acceptance itself (the status byte) is the listener's, which
/// takes one connection per role.
fn handshake(id: &Identity, sock: TcpStream, expected: &[Role], deadline: Instant) -> std::result::Result<Up, String> {
    let addr = sock.peer_addr().map(|a| a.to_string()).unwrap_or_else(|_| "?".into());
    sock.set_nonblocking(false).map_err(|e| format!("{addr}: {e}"))?;
    sock.set_nodelay(true).map_err(|e| format!("{addr}: {e}"))?;
    let mut sock = Counted::new(sock, Some(deadline));
    let server =
        rustls::ServerConnection::new(id.server_config().map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    let mut conn = rustls::Connection::from(server);
    blocking_io(&mut conn, &mut sock).map_err(|e| format!("{addr}: TLS handshake failed: {e}"))?;
    let mut who = [0u8; 1];
    read_exact(&mut conn, &mut sock, &mut who).map_err(|e| format!("{addr}: no role announced: {e}"))?;
    let Some(&claimed) = Role::ALL.get(who[0] as usize) else {
        return Err(refuse(&mut conn, &mut sock, &addr, format!("unknown role {}", who[0])));
    };
    if !expected.contains(&claimed) {
        return Err(refuse(&mut conn, &mut sock, &addr, format!("{claimed} is not a peer that dials {}", id.role)));
    }
    let chain: Vec<_> = conn.peer_certificates().map(|c| c.to_vec()).unwrap_or_default();
    if let Err(e) = check_peer(id.roots(), &chain, claimed) {
        return Err(refuse(&mut conn, &mut sock, &addr, format!("claims to be {claimed}: {e}")));
    }
    Ok(Up { peer: claimed, conn, sock })
}

/// Tells an authenticated dialer why it is refused, closes, and returns the line to log.
fn refuse(conn: &mut rustls::Connection, sock: &mut Counted, addr: &str, reason: String) -> String {
    let mut m = vec![0u8];
    m.extend_from_slice(&(reason.len().min(1000) as u16).to_le_bytes());
    m.extend_from_slice(&reason.as_bytes()[..reason.len().min(1000)]);
    let _ = write_all(conn, sock, &m);
    conn.send_close_notify();
    let _ = conn.write_tls(sock);
    format!("{addr}: {reason}")
}

/// A listener's refusals: the first few reported and kept, the rest counted.
struct Refusals<'a> {
    report: &'a (dyn Fn(&str) + Sync),
    shown: Vec<String>,
    more: usize,
}

impl Refusals<'_> {
    fn add(&mut self, reason: String) {
        if self.shown.len() < REFUSALS_SHOWN {
            (self.report)(&reason);
            self.shown.push(reason);
        } else {
            self.more += 1;
        }
    }

    /// Reports the count of those not shown, once.
    fn finish(&mut self) {
        if self.more > 0 {
            (self.report)(&format!("... and {} more connection(s) refused", self.more));
        }
    }

    fn summary(&self) -> String {
        match (self.shown.is_empty(), self.more) {
            (true, _) => String::new(),
            (false, 0) => format!(" (refused: {})", self.shown.join("; ")),
            (false, m) => format!(" (refused: {}; and {m} more)", self.shown.join("; ")),
        }
    }
}

/// Accepts the peers in `expected` until each has connected or `deadline` passes. Handshakes run
/// concurrently, at most [`PENDING_HANDSHAKES`] at once (a connection beyond them evicts the oldest if it
/// is older than [`HANDSHAKE_GRACE`], else is closed), each
/// bounded by `handshake_timeout` and by `deadline`; so no client, however slow or numerous, holds the
/// start-up past the deadline or keeps an honest peer out for longer than its dial retries take.
pub(super) fn accept_all(
    id: &Identity,
    listener: &TcpListener,
    expected: &[Role],
    cfg: &NetConfig,
    deadline: Instant,
    refused: &(dyn Fn(&str) + Sync),
) -> Vec<Result<Up>> {
    let handshake_time = match secs("handshake_timeout", cfg.handshake_timeout) {
        Ok(h) => h,
        Err(e) => return vec![Err(e)],
    };
    if let Err(e) = listener.set_nonblocking(true) {
        return vec![Err(invalid(format!("listener: {e}")))];
    }
    let mut ups: Vec<Result<Up>> = Vec::new();
    let mut have: Vec<Role> = Vec::new();
    let mut log = Refusals { report: refused, shown: Vec::new(), more: 0 };
    // Pending handshakes by ticket, oldest first: a handle on the socket to cut it short, its address, and
    // when it began.
    let mut pending: std::collections::VecDeque<(u64, TcpStream, String, Instant)> = std::collections::VecDeque::new();
    let (done_tx, done_rx) = channel::<(u64, std::result::Result<Up, String>)>();
    let mut ticket = 0u64;
    let outcome = loop {
        // Finished handshakes: one connection per role; the first to finish wins.
        while let Ok((t, r)) = done_rx.try_recv() {
            // A handshake that was cut has been reported already; whatever it ended with is dropped.
            let Some(i) = pending.iter().position(|p| p.0 == t) else { continue };
            pending.remove(i);
            match r {
                Ok(mut up) if !have.contains(&up.peer) => match write_all(&mut up.conn, &mut up.sock, &[1, 0, 0]) {
                    Ok(()) => {
                        up.sock.deadline = None;
                        have.push(up.peer);
                        ups.push(Ok(up));
                    }
                    Err(e) => log.add(format!("{}: {e}", up.peer)),
                },
                Ok(mut up) => {
                    let addr = up.sock.sock.peer_addr().map(|a| a.to_string()).unwrap_or_else(|_| "?".into());
                    let why = format!("{} is connected already", up.peer);
                    log.add(refuse(&mut up.conn, &mut up.sock, &addr, why));
                }
                Err(reason) => log.add(reason),
            }
        }
        if have.len() == expected.len() {
            break None;
        }
        let now = Instant::now();
        if now > deadline {
            let missing: Vec<Role> = expected.iter().copied().filter(|r| !have.contains(r)).collect();
            break Some(Error::PeerLost {
                peer: missing[0].into(),
                label: None,
                reason: format!(
                    "{} did not connect within the connect timeout{}",
                    missing.iter().map(|r| r.to_string()).collect::<Vec<_>>().join(", "),
                    log.summary()
                ),
            });
        }
        match listener.accept() {
            Ok((sock, addr)) => {
                if pending.len() >= PENDING_HANDSHAKES {
                    // Full: the oldest makes way if it has had its grace; otherwise the newcomer is closed
                    // (so a flood of new connections cannot cut a young, honest handshake short).
                    if pending.front().is_some_and(|p| now.duration_since(p.3) >= HANDSHAKE_GRACE) {
                        let (_, oldest, from, _) = pending.pop_front().expect("not empty");
                        // Its thread fails at once; its result is dropped.
                        let _ = oldest.shutdown(std::net::Shutdown::Both);
                        log.add(format!("{from}: handshake cut unfinished after {HANDSHAKE_GRACE:?} (another came)"));
                    } else {
                        drop(sock);
                        log.add(format!("{addr}: closed ({PENDING_HANDSHAKES} handshakes pending)"));
                        continue;
                    }
                }
                let Ok(handle) = sock.try_clone() else {
                    log.add(format!("{addr}: cannot hold the socket"));
                    continue;
                };
                ticket += 1;
                pending.push_back((ticket, handle, addr.to_string(), now));
                let waiting: Vec<Role> = expected.iter().copied().filter(|r| !have.contains(r)).collect();
                let (id, tx, t) = (id.clone(), done_tx.clone(), ticket);
                let until = deadline.min(now + handshake_time);
                let spawned = std::thread::Builder::new().name("rtas-handshake".into()).spawn(move || {
                    let _ = tx.send((t, handshake(&id, sock, &waiting, until)));
                });
                if let Err(e) = spawned {
                    pending.retain(|p| p.0 != ticket);
                    log.add(format!("{addr}: no thread for its handshake: {e}"));
                }
            }
            // Nobody new (or a signal): look again shortly.
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted) => {
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(e) => break Some(invalid(format!("accepting connections: {e}"))),
        }
    };
    // Whatever is still handshaking is cut off: its thread ends at once.
    for (_, s, _, _) in pending {
        let _ = s.shutdown(std::net::Shutdown::Both);
    }
    log.finish();
    if let Some(e) = outcome {
        ups.push(Err(e));
    }
    ups
}
