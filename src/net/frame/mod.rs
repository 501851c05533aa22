//! Messages on a byte stream: one length-prefixed frame each, with a typed header.
//!
//! Layout (little endian):
//!
//! ```text
//! prefix   magic "RTF1" (4) | header length u16 | payload length u64          14 bytes
//! header   stage tag u8 | stage index u32 | op tag u8 | op index u32 | view kind u8 | phase u8 |
//!          payload kind u8 | ndim u8 | dims u64 x ndim | layer length u16 | layer (UTF-8)
//! payload  elements, 8 bytes each (ring u64, or f64 bits), or the 16 bytes of a seed
//! ```
//!
//! The decoder checks everything a peer could get wrong before it trusts a length: the magic, a header
//! longer than [`MAX_HEADER`], tags out of range, more than [`MAX_DIMS`] dimensions, a payload length that
//! is not what the dimensions say, or one above the receiver's cap. It allocates what a length field claims
//! only up to [`UPFRONT`] bytes: larger payload buffers grow with the bytes that actually arrive. Whether the frame is the one the
//! protocol expects next (its label, its shape) is checked by the receiver, which knows.

use super::label::{Label, Op, Stage};
use super::message::{Message, Payload, Phase, ViewKind};
use crate::error::{Error, Result};
use ndarray::ArrayD;
use std::borrow::Cow;

/// The frame magic (format version 1).
pub const MAGIC: [u8; 4] = *b"RTF1";
/// Bytes of the fixed prefix.
pub const PREFIX: usize = 14;
/// The largest header accepted.
pub const MAX_HEADER: usize = 4096;
/// The most dimensions a tensor may have.
pub const MAX_DIMS: usize = 8;
/// The default cap on one payload (1 GiB); the largest message rtas sends is a few tens of MB.
pub const DEFAULT_MAX_PAYLOAD: u64 = 1 << 30;
/// A payload buffer's first size when the payload is larger than [`UPFRONT`]; it doubles as bytes arrive.
const RESERVE: usize = 1 << 16;
/// Payloads up to this size (8 MiB) are allocated whole when their header arrives, so the largest messages
/// rtas sends in bulk (the dealer's keys, a few MB each) land in place without a copy on growth; a peer that
/// announces one and sends nothing makes its receiver hold at most this much.
pub const UPFRONT: usize = 8 << 20;

fn bad(reason: impl Into<String>) -> Error {
    Error::Protocol { label: None, reason: format!("bad frame: {}", reason.into()) }
}

fn stage_tag(s: Stage) -> (u8, u32) {
    match s {
        Stage::Setup => (0, 0),
        Stage::Params => (1, 0),
        Stage::Data => (2, 0),
        Stage::Train(i) => (3, i),
        Stage::Infer(j) => (4, j),
        Stage::Input => (5, 0),
        Stage::Op => (6, 0),
        Stage::Output => (7, 0),
        Stage::Done => (8, 0),
    }
}

fn stage_of(tag: u8, i: u32) -> Result<Stage> {
    let s = match tag {
        0 => Stage::Setup,
        1 => Stage::Params,
        2 => Stage::Data,
        3 => Stage::Train(i),
        4 => Stage::Infer(i),
        5 => Stage::Input,
        6 => Stage::Op,
        7 => Stage::Output,
        8 => Stage::Done,
        t => return Err(bad(format!("unknown stage tag {t}"))),
    };
    if !matches!(s, Stage::Train(_) | Stage::Infer(_)) && i != 0 {
        return Err(bad(format!("stage '{s}' with index {i}")));
    }
    Ok(s)
}

fn op_tag(op: Option<Op>) -> (u8, u32) {
    match op {
        None => (0, 0),
        Some(Op::Seed) => (1, 0),
        Some(Op::Share) => (2, 0),
        Some(Op::Open) => (3, 0),
        Some(Op::Reveal) => (4, 0),
        Some(Op::Triple) => (5, 0),
        Some(Op::Permuted) => (6, 0),
        Some(Op::Reshare(k)) => (7, k),
    }
}

fn op_of(tag: u8, k: u32) -> Result<Option<Op>> {
    let op = match tag {
        0 => None,
        1 => Some(Op::Seed),
        2 => Some(Op::Share),
        3 => Some(Op::Open),
        4 => Some(Op::Reveal),
        5 => Some(Op::Triple),
        6 => Some(Op::Permuted),
        7 => Some(Op::Reshare(k)),
        t => return Err(bad(format!("unknown op tag {t}"))),
    };
    if tag != 7 && k != 0 {
        return Err(bad(format!("op tag {tag} with index {k}")));
    }
    Ok(op)
}

const KINDS: [ViewKind; 7] = [
    ViewKind::Seed,
    ViewKind::Share,
    ViewKind::MaskedOpening,
    ViewKind::Permuted,
    ViewKind::Revealed,
    ViewKind::Plain,
    ViewKind::Output,
];

fn kind_tag(k: ViewKind) -> u8 {
    KINDS.iter().position(|&x| x == k).unwrap_or(0) as u8
}

/// The prefix and header of `msg`'s frame.
pub fn encode_header(msg: &Message) -> Vec<u8> {
    let (st, si) = stage_tag(msg.label.stage);
    let (ot, oi) = op_tag(msg.label.op);
    let (pk, dims): (u8, &[usize]) = match &msg.payload {
        Payload::Ring(a) => (0, a.shape()),
        Payload::Float(a) => (1, a.shape()),
        Payload::Seed(_) => (2, &[]),
        // Never sent (the transport refuses it); framed as the ring elements it stands for.
        Payload::Shape(s) => (0, s.as_slice()),
    };
    let layer = msg.label.layer.as_bytes();
    let mut h = Vec::with_capacity(PREFIX + 16 + 8 * dims.len() + layer.len());
    h.extend_from_slice(&MAGIC);
    h.extend_from_slice(&[0; 10]); // lengths, filled below
    h.push(st);
    h.extend_from_slice(&si.to_le_bytes());
    h.push(ot);
    h.extend_from_slice(&oi.to_le_bytes());
    h.push(kind_tag(msg.kind));
    h.push(match msg.phase {
        Phase::Offline => 0,
        Phase::Online => 1,
    });
    h.push(pk);
    h.push(dims.len() as u8);
    for &d in dims {
        h.extend_from_slice(&(d as u64).to_le_bytes());
    }
    h.extend_from_slice(&(layer.len() as u16).to_le_bytes());
    h.extend_from_slice(layer);
    let header_len = (h.len() - PREFIX) as u16;
    h[4..6].copy_from_slice(&header_len.to_le_bytes());
    h[6..14].copy_from_slice(&msg.payload.bytes().to_le_bytes());
    h
}

/// `msg`'s payload as the bytes of its frame (borrowed where the tensor is contiguous).
pub fn payload_bytes(payload: &Payload) -> Cow<'_, [u8]> {
    fn words<T: bytemuck::Pod>(a: &ArrayD<T>, to_le: impl Fn(T) -> [u8; 8]) -> Cow<'_, [u8]> {
        #[cfg(target_endian = "little")]
        if let Some(s) = a.as_slice() {
            return Cow::Borrowed(bytemuck::cast_slice(s));
        }
        Cow::Owned(a.iter().flat_map(|&x| to_le(x)).collect())
    }
    match payload {
        Payload::Ring(a) => words(a, u64::to_le_bytes),
        Payload::Float(a) => words(a, f64::to_le_bytes),
        Payload::Seed(s) => Cow::Borrowed(s),
        Payload::Shape(_) => Cow::Owned(vec![0; payload.bytes() as usize]),
    }
}

/// The whole frame of `msg` (tests, fuzzing, recorded corpora; the transport streams header and payload).
pub fn encode(msg: &Message) -> Vec<u8> {
    let mut f = encode_header(msg);
    f.extend_from_slice(&payload_bytes(&msg.payload));
    f
}

/// What a header says.
#[derive(Debug)]
struct Header {
    label: Label,
    kind: ViewKind,
    phase: Phase,
    payload_kind: u8,
    dims: Vec<usize>,
}

struct Cursor<'a>(&'a [u8]);

impl Cursor<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8]> {
        if self.0.len() < n {
            return Err(bad("header ends early"));
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_le_bytes(self.take(2)?.try_into().map_err(|_| bad("header ends early"))?))
    }
    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().map_err(|_| bad("header ends early"))?))
    }
    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().map_err(|_| bad("header ends early"))?))
    }
}

fn parse_header(h: &[u8], payload_len: u64, max_payload: u64) -> Result<Header> {
    let mut c = Cursor(h);
    let (st, si) = (c.u8()?, c.u32()?);
    let stage = stage_of(st, si)?;
    let (ot, oi) = (c.u8()?, c.u32()?);
    let op = op_of(ot, oi)?;
    let kt = c.u8()?;
    let kind = *KINDS.get(kt as usize).ok_or_else(|| bad(format!("unknown view kind {kt}")))?;
    let phase = match c.u8()? {
        0 => Phase::Offline,
        1 => Phase::Online,
        t => return Err(bad(format!("unknown phase {t}"))),
    };
    let payload_kind = c.u8()?;
    let ndim = c.u8()? as usize;
    if ndim > MAX_DIMS {
        return Err(bad(format!("{ndim} dimensions (at most {MAX_DIMS})")));
    }
    let mut dims = Vec::with_capacity(ndim);
    let mut elems: u64 = 1;
    for _ in 0..ndim {
        let d = c.u64()?;
        elems = elems.checked_mul(d).ok_or_else(|| bad("dimensions overflow"))?;
        dims.push(usize::try_from(d).map_err(|_| bad("a dimension does not fit this machine"))?);
    }
    let expected = match payload_kind {
        0 | 1 => elems.checked_mul(8).ok_or_else(|| bad("dimensions overflow"))?,
        2 if ndim == 0 => 16,
        2 => return Err(bad("a seed with dimensions")),
        t => return Err(bad(format!("unknown payload kind {t}"))),
    };
    if expected != payload_len {
        return Err(bad(format!("payload of {payload_len} bytes, but its dimensions {dims:?} say {expected}")));
    }
    if payload_len > max_payload {
        return Err(bad(format!("payload of {payload_len} bytes is over the cap of {max_payload}")));
    }
    let layer_len = c.u16()? as usize;
    let layer = std::str::from_utf8(c.take(layer_len)?).map_err(|_| bad("layer path is not UTF-8"))?.to_string();
    if !c.0.is_empty() {
        return Err(bad(format!("{} bytes left over after the header", c.0.len())));
    }
    Ok(Header { label: Label { stage, layer, op }, kind, phase, payload_kind, dims })
}

mod decoder;
pub use decoder::Decoder;

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::IxDyn;

    fn msgs() -> Vec<Message> {
        let ring = ArrayD::from_shape_vec(IxDyn(&[2, 3]), (0..6u64).map(|v| v.wrapping_mul(u64::MAX / 7)).collect());
        vec![
            Message {
                label: Stage::Setup.at("").op(Op::Seed),
                kind: ViewKind::Seed,
                phase: Phase::Offline,
                payload: Payload::Seed([7; 16]),
            },
            Message {
                label: Stage::Train(41).at("dense/fwd").op(Op::Open),
                kind: ViewKind::MaskedOpening,
                phase: Phase::Online,
                payload: Payload::Ring(ring.unwrap()),
            },
            Message {
                label: Stage::Infer(2).at("sig1").op(Op::Reshare(1)),
                kind: ViewKind::Share,
                phase: Phase::Online,
                payload: Payload::Float(ArrayD::from_shape_vec(IxDyn(&[3]), vec![1.5, -0.0, f64::NAN]).unwrap()),
            },
            Message {
                label: Stage::Data.at(""),
                kind: ViewKind::Share,
                phase: Phase::Online,
                payload: Payload::Ring(ArrayD::zeros(IxDyn(&[0, 4]))),
            },
        ]
    }

    fn same(a: &Message, b: &Message) -> bool {
        let pa = payload_bytes(&a.payload);
        let pb = payload_bytes(&b.payload);
        a.label == b.label
            && a.kind == b.kind
            && a.phase == b.phase
            && a.payload.kind_name() == b.payload.kind_name()
            && pa == pb
            && match (&a.payload, &b.payload) {
                (Payload::Ring(x), Payload::Ring(y)) => x.shape() == y.shape(),
                (Payload::Float(x), Payload::Float(y)) => x.shape() == y.shape(),
                _ => true,
            }
    }

    #[test]
    fn frames_round_trip_however_the_stream_is_cut() {
        let stream: Vec<u8> = msgs().iter().flat_map(encode).collect();
        for cut in [1, 3, 14, 15, 64, stream.len()] {
            let mut d = Decoder::new(DEFAULT_MAX_PAYLOAD);
            let mut out = Vec::new();
            for chunk in stream.chunks(cut) {
                d.feed(chunk, &mut out).unwrap();
            }
            assert!(d.is_idle());
            assert_eq!(out.len(), 4, "cut {cut}");
            for (a, b) in msgs().iter().zip(&out) {
                assert!(same(a, b), "cut {cut}: {} != {}", a.label, b.label);
            }
        }
    }

    #[test]
    fn lying_lengths_are_refused_without_allocating_them() {
        let m = &msgs()[1];
        // A payload length above the cap: refused at the prefix.
        let mut f = encode(m);
        f[6..14].copy_from_slice(&(u64::MAX / 2).to_le_bytes());
        let mut d = Decoder::new(1 << 20);
        let err = d.feed(&f, &mut Vec::new()).unwrap_err().to_string();
        assert!(err.contains("over the cap"), "{err}");
        // Dimensions that disagree with the payload length.
        let mut f = encode(m);
        f[6..14].copy_from_slice(&40u64.to_le_bytes());
        let err = Decoder::new(1 << 20).feed(&f, &mut Vec::new()).unwrap_err().to_string();
        assert!(err.contains("dimensions"), "{err}");
        // Huge dimensions whose product overflows.
        let mut f = encode(m);
        let dims_at = PREFIX + 1 + 4 + 1 + 4 + 3 + 1;
        f[dims_at..dims_at + 8].copy_from_slice(&u64::MAX.to_le_bytes());
        let err = Decoder::new(1 << 20).feed(&f, &mut Vec::new()).unwrap_err().to_string();
        assert!(err.contains("overflow") || err.contains("dimensions"), "{err}");
        // A correct header whose payload never comes holds what arrived plus a reserve (a payload above
        // UPFRONT), or at most UPFRONT bytes.
        for (elems, most) in [(UPFRONT / 8 + 1, RESERVE + 1024), (UPFRONT / 8, UPFRONT + 1024)] {
            let big = Message { payload: Payload::Ring(ArrayD::zeros(IxDyn(&[elems]))), ..msgs()[1].clone() };
            let mut d = Decoder::new(DEFAULT_MAX_PAYLOAD);
            let f = encode(&big);
            d.feed(&f[..PREFIX + 60 + 100], &mut Vec::new()).unwrap();
            assert!(d.held() <= most, "{elems} elements: held {}", d.held());
            // The rest, cut anywhere, completes the message.
            let mut out = Vec::new();
            for part in f[PREFIX + 60 + 100..].chunks(777_777) {
                d.feed(part, &mut out).unwrap();
            }
            assert_eq!(out.len(), 1);
            assert_eq!(payload_bytes(&out[0].payload), payload_bytes(&big.payload));
            assert!(d.is_idle());
        }
        // Bad magic, bad tags.
        let mut f = encode(m);
        f[0] = b'X';
        assert!(Decoder::new(1 << 20).feed(&f, &mut Vec::new()).is_err());
        let mut f = encode(m);
        f[PREFIX] = 99;
        assert!(Decoder::new(1 << 20).feed(&f, &mut Vec::new()).unwrap_err().to_string().contains("stage tag"));
    }
}
