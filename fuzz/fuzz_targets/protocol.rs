//! A deployed party fed whatever its peers send: a byte picks the role (P0, P1 or the dealer) and the
//! protocol (rtas, rtas-fast, mpc); the rest is decoded into frames by the TCP transport's decoder and
//! handed to the party's receives, each checked against the label the protocol expects next
//! (`rtas::deploy::replay`). The party runs the small fixed job to the end or returns an error; it never
//! panics, and holds at most the decoder's cap for any one payload.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rtas::deploy::replay::{protocol_of, run_role};
use rtas::net::Role;

fuzz_target!(|data: &[u8]| {
    let Some((&b, frames)) = data.split_first() else { return };
    let role = [Role::P0, Role::P1, Role::Dealer][usize::from(b / 3) % 3];
    let _ = run_role(role, protocol_of(b), frames);
});
