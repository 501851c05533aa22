//! Turning a byte stream back into messages: the prefix, the header (checked by [`super::parse_header`]) and
//! the payload, which lands in the memory the message will own.

use super::{Header, MAGIC, MAX_HEADER, PREFIX, RESERVE, UPFRONT, bad, parse_header};
use crate::error::Result;
use crate::net::message::{Message, Payload};
use ndarray::{ArrayD, IxDyn};

/// The message of a complete frame whose payload is `words` (its bytes in memory order) holding `len` bytes.
fn build(h: Header, mut words: Vec<u64>, len: usize) -> Result<Message> {
    let payload = match h.payload_kind {
        0 | 1 => {
            if !len.is_multiple_of(8) {
                return Err(bad(format!("a payload of {len} bytes is not whole 8-byte words")));
            }
            words.truncate(len / 8);
            // Little-endian on the wire: nothing to do on a little-endian machine.
            for w in &mut words {
                *w = u64::from_le(*w);
            }
            if h.payload_kind == 0 {
                Payload::Ring(ArrayD::from_shape_vec(IxDyn(&h.dims), words).map_err(|e| bad(e.to_string()))?)
            } else {
                let floats = words.into_iter().map(f64::from_bits).collect();
                Payload::Float(ArrayD::from_shape_vec(IxDyn(&h.dims), floats).map_err(|e| bad(e.to_string()))?)
            }
        }
        _ => {
            let bytes: &[u8] = bytemuck::cast_slice(&words);
            Payload::Seed(bytes.get(..len).and_then(|b| b.try_into().ok()).ok_or_else(|| bad("a seed is 16 bytes"))?)
        }
    };
    Ok(Message { label: h.label, kind: h.kind, phase: h.phase, payload })
}

enum State {
    Prefix,
    Header {
        header_len: usize,
        payload_len: u64,
    },
    /// The payload goes straight into the words the message will own; `got` bytes of `len` have arrived.
    Payload {
        header: Header,
        len: usize,
        got: usize,
        words: Vec<u64>,
    },
}

/// Turns a byte stream into messages, however the bytes are cut.
///
/// A reader that can write into a buffer (a TLS reader) should ask [`Decoder::space`] where the next bytes go
/// and report them with [`Decoder::filled`]: the payload then arrives in the memory the message will own,
/// copied once. [`Decoder::feed`] takes bytes that are already somewhere else.
pub struct Decoder {
    max_payload: u64,
    state: State,
    /// The prefix or header being read, sized to the whole part; `part` bytes of it have arrived.
    buf: Vec<u8>,
    part: usize,
}

impl Decoder {
    /// A decoder refusing payloads above `max_payload` bytes.
    pub fn new(max_payload: u64) -> Self {
        Self { max_payload, state: State::Prefix, buf: Vec::new(), part: 0 }
    }

    /// Whether no frame is partly read (a stream may end here).
    pub fn is_idle(&self) -> bool {
        matches!(self.state, State::Prefix) && self.part == 0
    }

    /// Bytes held for the frame being read: a payload of at most [`UPFRONT`] bytes whole once its header has
    /// arrived, a larger one what arrived and as much again (its buffer doubles as bytes come).
    pub fn held(&self) -> usize {
        match &self.state {
            State::Payload { words, .. } => 8 * words.capacity(),
            _ => self.buf.capacity(),
        }
    }

    /// Where the stream's next bytes go (never empty): write into a prefix of it, then call
    /// [`Decoder::filled`] with the count.
    pub fn space(&mut self) -> &mut [u8] {
        let want = match &mut self.state {
            State::Prefix => PREFIX,
            State::Header { header_len, .. } => *header_len,
            State::Payload { len, got, words, .. } => {
                if *got == 8 * words.len() {
                    let need = len.div_ceil(8);
                    let grown = if *len <= UPFRONT { need } else { (2 * words.len()).max(RESERVE / 8).min(need) };
                    words.resize(grown, 0);
                }
                let end = (8 * words.len()).min(*len);
                return &mut bytemuck::cast_slice_mut::<u64, u8>(words)[*got..end];
            }
        };
        self.buf.resize(want, 0);
        &mut self.buf[self.part..]
    }

    /// Takes the `n` bytes just written at the start of [`Decoder::space`], appending every frame they
    /// complete to `out`. After an error the stream is unusable.
    pub fn filled(&mut self, n: usize, out: &mut Vec<Message>) -> Result<()> {
        let done = match &mut self.state {
            State::Payload { len, got, .. } => {
                *got += n;
                debug_assert!(*got <= *len);
                *got == *len
            }
            State::Prefix | State::Header { .. } => {
                self.part += n;
                debug_assert!(self.part <= self.buf.len());
                self.part == self.buf.len()
            }
        };
        if done { self.advance(out) } else { Ok(()) }
    }

    /// Takes `data`, appending every frame it completes to `out`. After an error the stream is unusable.
    pub fn feed(&mut self, mut data: &[u8], out: &mut Vec<Message>) -> Result<()> {
        while !data.is_empty() {
            let space = self.space();
            let n = space.len().min(data.len());
            space[..n].copy_from_slice(&data[..n]);
            data = &data[n..];
            self.filled(n, out)?;
        }
        Ok(())
    }

    fn advance(&mut self, out: &mut Vec<Message>) -> Result<()> {
        let buf = &self.buf[..self.part];
        self.state = match std::mem::replace(&mut self.state, State::Prefix) {
            State::Prefix => {
                if buf[..4] != MAGIC {
                    return Err(bad(format!("magic {:02x?} is not {:02x?}", &buf[..4], MAGIC)));
                }
                let header_len = u16::from_le_bytes([buf[4], buf[5]]) as usize;
                let payload_len = u64::from_le_bytes(buf[6..14].try_into().map_err(|_| bad("short prefix"))?);
                if header_len > MAX_HEADER {
                    return Err(bad(format!("header of {header_len} bytes (at most {MAX_HEADER})")));
                }
                if payload_len > self.max_payload {
                    return Err(bad(format!("payload of {payload_len} bytes is over the cap of {}", self.max_payload)));
                }
                State::Header { header_len, payload_len }
            }
            State::Header { payload_len, .. } => {
                let header = parse_header(buf, payload_len, self.max_payload)?;
                let len = usize::try_from(payload_len).map_err(|_| bad("payload does not fit"))?;
                State::Payload { header, len, got: 0, words: Vec::new() }
            }
            State::Payload { header, len, words, .. } => {
                out.push(build(header, words, len)?);
                State::Prefix
            }
        };
        self.part = 0;
        self.buf.clear();
        // A frame with an empty payload completes as soon as its header does.
        if let State::Payload { len: 0, .. } = self.state {
            self.advance(out)?;
        }
        Ok(())
    }
}
