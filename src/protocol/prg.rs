//! The PRG behind every seed-compressed share: AES-128 in counter mode (AES-NI when the CPU has it,
//! detected at run time by the `aes` crate). A seed shared by two parties gives both the same numbers; each
//! use opens a fresh stream (the stream number is the IV), so both sides stay in step as long as they open
//! streams in the same order, which SPMD protocol code guarantees.

use crate::net::Seed;
use aes::cipher::{KeyIvInit, StreamCipher};
use rand::rand_core::{Infallible, TryRng};

type Aes128Ctr = ctr::Ctr128BE<aes::Aes128>;

/// An AES-128-CTR keystream as a random number generator.
pub struct Prg {
    cipher: Aes128Ctr,
    buf: [u8; 512],
    pos: usize,
}

impl std::fmt::Debug for Prg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Prg { .. }")
    }
}

impl Prg {
    /// Stream `stream` of `seed`.
    pub fn new(seed: &Seed, stream: u64) -> Self {
        let mut iv = [0u8; 16];
        iv[..8].copy_from_slice(&stream.to_be_bytes());
        Self { cipher: Aes128Ctr::new(seed.into(), &iv.into()), buf: [0; 512], pos: 512 }
    }

    /// Fills `out` with uniform u64 (the whole keystream, in bulk).
    pub fn fill_u64(&mut self, out: &mut [u64]) {
        out.fill(0);
        self.cipher.apply_keystream(bytemuck::cast_slice_mut(out));
    }

    /// `n` uniform ring elements (the keystream XORed onto zeroed memory: zeroed once, not twice).
    pub fn ring(&mut self, n: usize) -> Vec<u64> {
        let mut v = vec![0u64; n];
        self.cipher.apply_keystream(bytemuck::cast_slice_mut(&mut v));
        v
    }

    fn refill(&mut self) {
        self.buf.fill(0);
        self.cipher.apply_keystream(&mut self.buf);
        self.pos = 0;
    }
}

impl TryRng for Prg {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(self.try_next_u64()? as u32)
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        if self.pos + 8 > self.buf.len() {
            self.refill();
        }
        let mut b = [0u8; 8];
        b.copy_from_slice(&self.buf[self.pos..self.pos + 8]);
        self.pos += 8;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(8) {
            let v = self.try_next_u64()?.to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    #[test]
    fn same_seed_same_stream_different_streams_differ() {
        let seed = [7u8; 16];
        assert_eq!(Prg::new(&seed, 3).ring(100), Prg::new(&seed, 3).ring(100));
        assert_ne!(Prg::new(&seed, 3).ring(4), Prg::new(&seed, 4).ring(4));
        // ring and fill_u64 read the same keystream (into fresh or into dirty memory), in order.
        let mut dirty = vec![u64::MAX; 70];
        let mut q = Prg::new(&seed, 3);
        q.fill_u64(&mut dirty[..30]);
        q.fill_u64(&mut dirty[30..]);
        assert_eq!(dirty, Prg::new(&seed, 3).ring(70));
        let mut p = Prg::new(&seed, 0);
        let x: f64 = p.random();
        assert!((0.0..1.0).contains(&x));
    }

    #[test]
    fn keystream_bits_are_balanced() {
        let v = Prg::new(&[1u8; 16], 0).ring(1 << 14);
        let ones: u32 = v.iter().map(|x| x.count_ones()).sum();
        let n = 64.0 * (1 << 14) as f64;
        assert!(((ones as f64) - n / 2.0).abs() < 5.0 * (n / 4.0).sqrt());
    }
}
