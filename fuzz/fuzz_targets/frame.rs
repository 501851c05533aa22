//! The frame decoder of the TCP transport, fed the bytes in pieces whose sizes the input chooses: every
//! frame it returns re-encodes to the bytes it came from, it holds no more than what arrived plus a small
//! reserve, and it never returns a payload above its cap. (Whether a frame is the one the protocol
//! expects next is the receiver's check, `TcpTransport::recv`, tested in `deploy::tcp`.)
#![no_main]
use libfuzzer_sys::fuzz_target;
use rtas::net::frame::{Decoder, encode};

const CAP: u64 = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let Some((&cut, stream)) = data.split_first() else { return };
    let step = usize::from(cut).max(1);
    let mut d = Decoder::new(CAP);
    let mut frames = Vec::new();
    let mut fed = 0;
    for chunk in stream.chunks(step) {
        if d.feed(chunk, &mut frames).is_err() {
            break;
        }
        fed += chunk.len();
        assert!(d.held() <= fed + (1 << 16) + 8192, "held {} after {fed} bytes", d.held());
    }
    let mut at = 0;
    for m in &frames {
        assert!(m.payload.bytes() <= CAP);
        let again = encode(m);
        assert_eq!(&stream[at..at + again.len()], &again[..], "a decoded frame re-encodes to its bytes");
        at += again.len();
    }
});
