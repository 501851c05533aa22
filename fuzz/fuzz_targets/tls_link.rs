//! P1's real `TcpTransport` (loopback, mutual TLS) fed by an authenticated but malicious P0: the first byte
//! picks the protocol of the small fixed job (and, with 0x80, a TLS close_notify at the end instead of a
//! dropped socket); the rest is sent inside the TLS session. P1 receives, in order, the frames it expects
//! from P0 in an honest run (`rtas::deploy::replay::TlsHarness`): every frame it accepts is the one expected,
//! no payload above the cap is accepted, and a peer that has closed is noticed at once, never waited for
//! until the receive timeout. Keys are made once per process.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rtas::deploy::replay::{TlsHarness, honest_p0_to_p1, protocol_of};
use std::sync::OnceLock;

struct Fixture {
    harness: TlsHarness,
    labels: Vec<Vec<rtas::net::Label>>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| Fixture {
        harness: TlsHarness::new().expect("keys"),
        labels: (0..3u8).map(|b| honest_p0_to_p1(protocol_of(b)).expect("honest run").0).collect(),
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&b, bytes)) = data.split_first() else { return };
    let f = fixture();
    let labels = &f.labels[usize::from(b & 0x7f) % 3];
    let fed = f.harness.feed(bytes, b & 0x80 != 0, labels).expect("the loopback link comes up");
    if let Some(e) = &fed.error {
        assert!(!e.to_string().contains("recv_timeout"), "a closed peer was waited for: {e}");
    }
});
