//! What crosses each link: payload, framing and TLS bytes counted at the socket, per peer and phase.

use super::*;

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
    pub(super) fn add(&mut self, msg: &Message, framing: u64) {
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
pub(super) struct Shared {
    pub(super) links: Mutex<BTreeMap<Role, LinkCounts>>,
    pub(super) failed: Mutex<Option<(Role, String)>>,
    pub(super) stages: Mutex<Vec<(Stage, f64)>>,
    /// The party stopped before the end of the protocol: drop the connections without a TLS close, so
    /// that no peer mistakes it for a party that finished.
    pub(super) abort: std::sync::atomic::AtomicBool,
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
    pub(super) shared: Arc<Shared>,
    pub(super) connect_seconds: f64,
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

pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A socket that counts what passes.
pub(super) struct Counted {
    pub(super) sock: TcpStream,
    pub(super) read: u64,
    pub(super) written: u64,
    /// During a handshake: the moment every read and write fails (an absolute bound, where the socket's
    /// own timeouts bound each call only, and a peer sending a byte at a time would hold it for ever).
    pub(super) deadline: Option<Instant>,
}

impl Counted {
    pub(super) fn new(sock: TcpStream, deadline: Option<Instant>) -> Self {
        Self { sock, read: 0, written: 0, deadline }
    }

    /// Bounds the next blocking call by the deadline, or fails if it has passed.
    fn bound(&self, read: bool) -> std::io::Result<()> {
        let Some(d) = self.deadline else { return Ok(()) };
        let left = d.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "the handshake's deadline passed"));
        }
        if read { self.sock.set_read_timeout(Some(left)) } else { self.sock.set_write_timeout(Some(left)) }
    }
}

/// `op` again while a signal interrupts it (EINTR): a signal is no reason to drop a link. (libFuzzer's
/// timer interrupted a handshake's read this way: "no role announced: Interrupted system call".)
fn retried<T>(mut op: impl FnMut() -> std::io::Result<T>) -> std::io::Result<T> {
    loop {
        match op() {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            r => return r,
        }
    }
}

impl Read for Counted {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.bound(true)?;
        let n = retried(|| self.sock.read(buf))?;
        self.read += n as u64;
        Ok(n)
    }
}

impl Write for Counted {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.bound(false)?;
        let n = retried(|| self.sock.write(buf))?;
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.sock.flush()
    }
}
