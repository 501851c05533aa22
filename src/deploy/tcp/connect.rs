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

/// Dials `peer` at `addr` until it answers or `deadline` passes, then authenticates both ways.
pub(super) fn dial(id: &Identity, peer: Role, addr: &str, cfg: &NetConfig, deadline: Instant) -> Result<Up> {
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
pub(super) fn accept_one(
    id: &Identity,
    sock: TcpStream,
    expected: &[Role],
    cfg: &NetConfig,
) -> std::result::Result<Up, String> {
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

pub(super) fn accept_all(
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
            // Nobody yet, or a signal interrupted the call: wait and look again.
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted) => {
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
