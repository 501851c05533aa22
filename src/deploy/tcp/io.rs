//! The I/O loop of one link: a thread per peer that polls the socket, writes queued frames in chunks and decodes
//! incoming ones in order, noticing a closed peer at once.

use super::*;
use std::sync::atomic::Ordering;

pub(super) enum Inbound {
    Msg(Message),
    /// The peer finished and closed its end cleanly.
    Closed,
    /// The connection broke.
    Failed(String),
}

pub(super) struct Link {
    pub(super) out: Option<Sender<Message>>,
    /// The connection, written by the party thread itself when the link is idle ([`Link::send_direct`]).
    pub(super) wire: Arc<Mutex<Wire>>,
    pub(super) wake: UnixStream,
    pub(super) inbox: Receiver<Inbound>,
    pub(super) thread: Option<JoinHandle<()>>,
    pub(super) queues: Arc<Queues>,
    pub(super) limits: PeerLimits,
}

/// The TLS connection and its socket. The I/O thread holds it while it moves bytes and never while it sleeps;
/// the party thread takes it to write a frame itself when nothing waits to be sent before it.
pub(super) struct Wire {
    pub(super) conn: rustls::Connection,
    pub(super) sock: Counted,
}

/// The largest payload a party thread writes itself (larger ones go through the I/O thread, which encrypts
/// them in chunks as the socket drains, under the outbound budget).
pub(super) const DIRECT_MAX: u64 = CHUNK as u64;

impl Link {
    /// Writes `msg` to the connection from the calling thread, if nothing waits to go before it (the outbound
    /// queue empty, no ciphertext left in TLS) and the I/O thread is not holding the connection: the
    /// frame goes straight into TLS and as much of it as the socket takes onto it, without the hand-off to
    /// the I/O thread (which is woken to flush what the socket did not take). Whether it was sent (if not, it
    /// must be queued).
    pub(super) fn send_direct(&self, peer: Role, msg: &Message, shared: &Shared) -> bool {
        if msg.payload.bytes() > DIRECT_MAX || self.queues.out.load(Ordering::Acquire) != 0 {
            return false;
        }
        let Ok(mut g) = self.wire.try_lock() else { return false };
        let w = &mut *g;
        if w.conn.wants_write() {
            return false;
        }
        let header = frame::encode_header(msg);
        let body = frame::payload_bytes(&msg.payload);
        let mut tls = w.conn.writer();
        if tls.write_all(&header).and_then(|_| tls.write_all(&body)).is_err() {
            // rustls refuses plaintext only for an earlier fatal error, checked before it takes a byte (and no
            // error can arise between the two writes: errors come from reading, which needs the wire). Nothing
            // was written: the queued path reports the link's state.
            return false;
        }
        drop(body);
        lock(&shared.links).entry(peer).or_default().add(msg, header.len() as u64);
        while w.conn.wants_write() {
            match w.conn.write_tls(&mut w.sock) {
                Ok(_) => {}
                // The socket is full, or broken: the I/O thread flushes the rest or reports the failure.
                Err(_) => break,
            }
        }
        let left = w.conn.wants_write();
        drop(g);
        if left {
            let _ = (&self.wake).write(&[1]);
        }
        true
    }
}

/// The bytes waiting on one link, both ways, shared by the party thread and the I/O thread.
#[derive(Default)]
pub(super) struct Queues {
    /// Payload bytes decoded and not yet taken by `recv`.
    pub(super) inbound: std::sync::atomic::AtomicU64,
    /// Payload bytes handed to `send` and not yet given to TLS.
    pub(super) out: std::sync::atomic::AtomicU64,
    /// Signalled when `out` shrinks.
    pub(super) drained: Signal,
    /// Set by the I/O thread when it stops reading the socket for want of room in the inbox: the `recv` that
    /// makes room wakes it (and only then: a wake-up per message would keep the I/O thread holding the wire
    /// when the party wants to write).
    pub(super) paused: std::sync::atomic::AtomicBool,
}

impl Queues {
    /// Whether the inbox has room for more from the socket (`held` bytes of a frame being decoded, `budget`
    /// in all; an empty inbox always has room). When it has none the link is marked paused and the room
    /// checked once more, so a `recv` taking a message in between is not missed.
    pub(super) fn room(&self, held: u64, budget: u64) -> bool {
        let has = || {
            let queued = self.inbound.load(Ordering::SeqCst);
            queued == 0 || queued + held < budget
        };
        if has() {
            return true;
        }
        self.paused.store(true, Ordering::SeqCst);
        has()
    }

    /// Takes `bytes` off the inbox; whether the I/O thread had paused reading and should be woken.
    pub(super) fn taken(&self, bytes: u64) -> bool {
        self.inbound.fetch_sub(bytes, Ordering::SeqCst);
        self.paused.swap(false, Ordering::SeqCst)
    }
}

/// A wake-up for a thread waiting on a counter.
#[derive(Default)]
pub(super) struct Signal {
    m: Mutex<()>,
    c: std::sync::Condvar,
}

impl Signal {
    pub(super) fn wait(&self, at_most: Duration) {
        let g = lock(&self.m);
        let _ = self.c.wait_timeout(g, at_most);
    }

    pub(super) fn notify(&self) {
        let _g = lock(&self.m);
        self.c.notify_all();
    }
}

pub(super) fn spawn_link(up: Up, shared: Arc<Shared>, cfg: &NetConfig, limits: PeerLimits) -> Result<Link> {
    let Up { peer, mut conn, sock } = up;
    let fd = sock.sock.as_raw_fd();
    let fail = |e: std::io::Error| invalid(format!("link to {peer}: {e}"));
    sock.sock.set_nonblocking(true).map_err(fail)?;
    conn.set_buffer_limit(None);
    let (wake_rx, wake) = UnixStream::pair().map_err(fail)?;
    wake_rx.set_nonblocking(true).map_err(fail)?;
    wake.set_nonblocking(true).map_err(fail)?;
    let (out_tx, out_rx) = channel();
    let (in_tx, inbox) = channel();
    let linger = secs("linger", cfg.linger)?;
    let queues = Arc::new(Queues::default());
    let q = Arc::clone(&queues);
    let wire = Arc::new(Mutex::new(Wire { conn, sock }));
    let w = Arc::clone(&wire);
    let thread = std::thread::Builder::new()
        .name(format!("rtas-link-{peer}"))
        .spawn(move || {
            let mut io =
                Io { peer, wire: w, fd, wake: wake_rx, out: out_rx, inbox: in_tx, shared, linger, queues: q, limits };
            if let Err(reason) = io.run() {
                lock(&io.shared.failed).get_or_insert((peer, reason.clone()));
                let _ = io.inbox.send(Inbound::Failed(reason));
            }
            let (written, read) = {
                let w = lock(&io.wire);
                (w.sock.written, w.sock.read)
            };
            let mut links = lock(&io.shared.links);
            let c = links.entry(peer).or_default();
            c.socket_out += written;
            c.socket_in += read;
        })
        .map_err(fail)?;
    Ok(Link { out: Some(out_tx), wire, wake, inbox, thread: Some(thread), queues, limits })
}

/// Plaintext handed to TLS at a time.
pub(super) const CHUNK: usize = 1 << 18;

pub(super) struct Outgoing {
    pub(super) header: Vec<u8>,
    pub(super) msg: Message,
    pub(super) at: usize,
}

pub(super) struct Io {
    pub(super) peer: Role,
    pub(super) wire: Arc<Mutex<Wire>>,
    /// The socket's descriptor, polled without holding the wire.
    pub(super) fd: std::os::fd::RawFd,
    pub(super) wake: UnixStream,
    pub(super) out: Receiver<Message>,
    pub(super) inbox: Sender<Inbound>,
    pub(super) shared: Arc<Shared>,
    pub(super) linger: Duration,
    pub(super) queues: Arc<Queues>,
    pub(super) limits: PeerLimits,
}

impl Io {
    /// Moves frames both ways until both ends have closed. An error is the reason the link broke.
    pub(super) fn run(&mut self) -> std::result::Result<(), String> {
        let mut decoder = Decoder::new(self.limits.max_frame);
        let peer = self.peer;
        let mut received = 0u64;
        let mut pending: Option<Outgoing> = None;
        let (mut closing, mut sent_close, mut shut, mut peer_done) = (false, false, false, false);
        let mut closed_at: Option<Instant> = None;
        let mut frames = Vec::new();
        let wire = Arc::clone(&self.wire);
        loop {
            // The wire for this pass (released before sleeping, so the party thread can write meanwhile).
            let mut g = lock(&wire);
            let w = &mut *g;
            if self.shared.abort.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = w.sock.sock.shutdown(std::net::Shutdown::Both);
                return Ok(());
            }
            // Plaintext into TLS while little ciphertext waits for the socket; `idle` once the queue is
            // empty (a wake byte may stand for several messages, so the queue, not the pipe, says when
            // there is nothing left to send).
            let mut idle = false;
            while !sent_close && !w.conn.wants_write() {
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
                    let mut w = w.conn.writer();
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
                        self.queues.out.fetch_sub(p.msg.payload.bytes(), Ordering::AcqRel);
                        self.queues.drained.notify();
                        pending = None;
                    }
                }
            }
            if closing && pending.is_none() && !sent_close {
                w.conn.send_close_notify();
                sent_close = true;
            }
            while w.conn.wants_write() {
                match w.conn.write_tls(&mut w.sock) {
                    Ok(_) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) => return Err(format!("sending failed: {e}")),
                }
            }
            if sent_close && !shut && !w.conn.wants_write() {
                let _ = w.sock.sock.shutdown(std::net::Shutdown::Write);
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
            // The inbox's budget: while what waits for the protocol (and the frame being decoded) fills
            // it, the socket is left unread and TCP slows the peer down.
            // (An empty inbox always reads: a frame larger than the budget, up to the largest allowed, must
            // be able to complete.)
            let budget = self.limits.inbox;
            let room = |q: &Queues, d: &Decoder| q.room(d.held() as u64, budget);
            let mut reading = room(&self.queues, &decoder);
            while !peer_done && reading {
                let mut progressed = false;
                match w.conn.read_tls(&mut w.sock) {
                    Ok(0) => eof = true,
                    Ok(_) => progressed = true,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => progressed = true,
                    Err(e) => return Err(format!("connection broke: {e}")),
                }
                w.conn.process_new_packets().map_err(|e| format!("TLS error: {e}"))?;
                loop {
                    // Plaintext straight into the frame being decoded (a payload into the message's own words).
                    match w.conn.reader().read(decoder.space()) {
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
                            decoder.filled(n, &mut frames).map_err(|e| format!("{peer} sent a bad frame: {e}"))?;
                            for m in frames.drain(..) {
                                received += m.payload.bytes();
                                if let Some(t) = self.limits.total
                                    && received > t
                                {
                                    return Err(format!(
                                        "{peer} sent {received} payload bytes, more than the {t} its job sends this way"
                                    ));
                                }
                                self.queues.inbound.fetch_add(m.payload.bytes(), Ordering::AcqRel);
                                // A party that has finished takes nothing more; its inbox may be gone.
                                let _ = self.inbox.send(Inbound::Msg(m));
                            }
                            if !room(&self.queues, &decoder) {
                                reading = false;
                                break;
                            }
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                            return Err("connection closed without a TLS close (the process died?)".into());
                        }
                        Err(e) => return Err(format!("connection broke: {e}")),
                    }
                }
                if !progressed || eof || w.conn.wants_write() {
                    break;
                }
            }
            if eof && !peer_done {
                return Err("connection closed without a TLS close (the process died?)".into());
            }
            if peer_done && shut {
                return Ok(());
            }
            // Sleep only when nothing can move: nothing left to send, or a socket that is full. With the
            // inbox full the socket is not polled for reading: the party's wake-up (it took a message) ends
            // the sleep.
            if (idle && pending.is_none()) || sent_close || w.conn.wants_write() {
                let read = !peer_done && room(&self.queues, &decoder);
                let write = w.conn.wants_write();
                drop(g);
                self.wait(read, write);
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
            libc::pollfd { fd: self.fd, events, revents: 0 },
            libc::pollfd { fd: self.wake.as_raw_fd(), events: libc::POLLIN, revents: 0 },
        ];
        poll(&mut fds, 100);
        let mut sink = [0u8; 256];
        while matches!(self.wake.read(&mut sink), Ok(n) if n > 0) {}
    }
}

#[allow(unsafe_code)]
pub(super) fn poll(fds: &mut [libc::pollfd], timeout_ms: i32) {
    // SAFETY: `fds` is a valid, exclusively borrowed array of `pollfd` of the length passed.
    unsafe {
        libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms);
    }
}
