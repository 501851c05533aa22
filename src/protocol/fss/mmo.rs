//! The DCF tree's PRG: fixed-key AES-128 in Matyas-Meyer-Oseas form, `x -> AES_K(x) ^ x`, over many blocks
//! at once, in place.
//!
//! Paths: `vaes` (AVX2 with VAES: two blocks per instruction, 16 blocks in flight), `aes-ni` (8 blocks in
//! flight), and `portable` (the `aes` crate, which itself uses AES-NI where it detects it but pays a call and
//! a copy per batch; it is also the reference the others are tested against). The round keys stay in
//! registers and the block is XORed back without leaving them. Which path runs is chosen at first use by
//! timing every path this CPU can run on the same blocks (the fastest of five runs each), as the ring kernel
//! is: hosts of one kind differ. Every path gives the same bits, so the choice changes time, never results.

use aes::Aes128;
use aes::cipher::{BlockCipherEncrypt, KeyInit};
use std::sync::OnceLock;
use std::time::Instant;

/// The fixed key ("RTAS-DCF-PRG-v1").
const KEY: [u8; 16] = [0x52, 0x54, 0x41, 0x53, 0x2d, 0x44, 0x43, 0x46, 0x2d, 0x50, 0x52, 0x47, 0x2d, 0x76, 0x31, 0x00];

/// A path: hashes every block of the slice in place.
pub type Hash = fn(&mut [u128]);

/// The fixed-key cipher through the `aes` crate (the portable path, and the DCF's first-written reference).
pub(super) fn cipher() -> &'static Aes128 {
    static AES: OnceLock<Aes128> = OnceLock::new();
    AES.get_or_init(|| Aes128::new(&KEY.into()))
}

/// Through the `aes` crate, 64 blocks per call.
fn portable(blocks: &mut [u128]) {
    let mut buf = [aes::Block::default(); 64];
    for chunk in blocks.chunks_mut(64) {
        for (b, x) in buf.iter_mut().zip(chunk.iter()) {
            *b = x.to_le_bytes().into();
        }
        cipher().encrypt_blocks(&mut buf[..chunk.len()]);
        for (x, b) in chunk.iter_mut().zip(&buf) {
            *x ^= u128::from_le_bytes((*b).into());
        }
    }
}

/// The AES-128 round keys of [`KEY`] (the standard key schedule), as little-endian blocks.
fn round_keys() -> &'static [u128; 11] {
    static RK: OnceLock<[u128; 11]> = OnceLock::new();
    RK.get_or_init(|| {
        // FIPS-197 key expansion with the S-box computed from its definition (inverse in GF(2^8), then the
        // affine map), so no table is typed in; checked against the `aes` crate by the tests.
        fn mul(mut a: u8, mut b: u8) -> u8 {
            let mut p = 0u8;
            while b != 0 {
                if b & 1 == 1 {
                    p ^= a;
                }
                let hi = a & 0x80;
                a <<= 1;
                if hi != 0 {
                    a ^= 0x1b;
                }
                b >>= 1;
            }
            p
        }
        let sbox = |x: u8| -> u8 {
            let inv = if x == 0 { 0 } else { (1..=255u8).find(|&y| mul(x, y) == 1).unwrap_or(0) };
            inv ^ inv.rotate_left(1) ^ inv.rotate_left(2) ^ inv.rotate_left(3) ^ inv.rotate_left(4) ^ 0x63
        };
        let mut w = [[0u8; 4]; 44];
        for (i, word) in w.iter_mut().take(4).enumerate() {
            word.copy_from_slice(&KEY[4 * i..4 * i + 4]);
        }
        let mut rcon = 1u8;
        for i in 4..44 {
            let mut t = w[i - 1];
            if i % 4 == 0 {
                t = [sbox(t[1]) ^ rcon, sbox(t[2]), sbox(t[3]), sbox(t[0])];
                rcon = mul(rcon, 2);
            }
            for j in 0..4 {
                w[i][j] = w[i - 4][j] ^ t[j];
            }
        }
        std::array::from_fn(|r| {
            let mut b = [0u8; 16];
            for j in 0..4 {
                b[4 * j..4 * j + 4].copy_from_slice(&w[4 * r + j]);
            }
            u128::from_le_bytes(b)
        })
    })
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// Eight blocks at a time with AES-NI, the rest one by one.
    #[target_feature(enable = "aes,sse2")]
    pub(super) unsafe fn hash_ni(blocks: &mut [u128], rk: &[u128; 11]) {
        // SAFETY (every load and store below): u128 slices are valid for 16-byte unaligned access at each
        // element's address, and indices stay inside the chunk.
        let k: [__m128i; 11] = std::array::from_fn(|i| unsafe { _mm_loadu_si128(rk.as_ptr().add(i) as *const _) });
        let mut chunks = blocks.chunks_exact_mut(8);
        for c in &mut chunks {
            let p = c.as_mut_ptr() as *mut __m128i;
            let x: [__m128i; 8] = std::array::from_fn(|i| unsafe { _mm_loadu_si128(p.add(i)) });
            let mut y: [__m128i; 8] = std::array::from_fn(|i| _mm_xor_si128(x[i], k[0]));
            for rk in &k[1..10] {
                for v in y.iter_mut() {
                    *v = _mm_aesenc_si128(*v, *rk);
                }
            }
            for i in 0..8 {
                let out = _mm_xor_si128(_mm_aesenclast_si128(y[i], k[10]), x[i]);
                unsafe { _mm_storeu_si128(p.add(i), out) };
            }
        }
        for b in chunks.into_remainder() {
            let p = b as *mut u128 as *mut __m128i;
            let x = unsafe { _mm_loadu_si128(p) };
            let mut y = _mm_xor_si128(x, k[0]);
            for rk in &k[1..10] {
                y = _mm_aesenc_si128(y, *rk);
            }
            unsafe { _mm_storeu_si128(p, _mm_xor_si128(_mm_aesenclast_si128(y, k[10]), x)) };
        }
    }

    /// Sixteen blocks at a time with VAES on 256-bit registers (two blocks per instruction), the rest with
    /// AES-NI.
    #[target_feature(enable = "aes,sse2,avx2,vaes")]
    pub(super) unsafe fn hash_vaes(blocks: &mut [u128], rk: &[u128; 11]) {
        // SAFETY: as in hash_ni; a __m256i load reads two consecutive u128 of the chunk.
        let k: [__m256i; 11] = std::array::from_fn(|i| unsafe {
            _mm256_broadcastsi128_si256(_mm_loadu_si128(rk.as_ptr().add(i) as *const _))
        });
        let mut chunks = blocks.chunks_exact_mut(16);
        for c in &mut chunks {
            let p = c.as_mut_ptr() as *mut __m256i;
            let x: [__m256i; 8] = std::array::from_fn(|i| unsafe { _mm256_loadu_si256(p.add(i)) });
            let mut y: [__m256i; 8] = std::array::from_fn(|i| _mm256_xor_si256(x[i], k[0]));
            for rk in &k[1..10] {
                for v in y.iter_mut() {
                    *v = _mm256_aesenc_epi128(*v, *rk);
                }
            }
            for i in 0..8 {
                let out = _mm256_xor_si256(_mm256_aesenclast_epi128(y[i], k[10]), x[i]);
                unsafe { _mm256_storeu_si256(p.add(i), out) };
            }
        }
        unsafe { hash_ni(chunks.into_remainder(), rk) };
    }
}

/// Every path this CPU can run, with its name (the portable one last).
pub fn paths() -> Vec<(&'static str, Hash)> {
    let mut out: Vec<(&'static str, Hash)> = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("aes") && is_x86_feature_detected!("avx2") && is_x86_feature_detected!("vaes") {
            // SAFETY: the features the function is compiled for were detected on this CPU.
            out.push(("vaes", |b| unsafe { x86::hash_vaes(b, round_keys()) }));
        }
        if is_x86_feature_detected!("aes") {
            // SAFETY: as above.
            out.push(("aes-ni", |b| unsafe { x86::hash_ni(b, round_keys()) }));
        }
    }
    out.push(("portable", portable));
    out
}

fn chosen() -> &'static (&'static str, Hash) {
    static CHOSEN: OnceLock<(&'static str, Hash)> = OnceLock::new();
    CHOSEN.get_or_init(|| {
        // 64 blocks per call (a lockstep level), 256 calls: about 30 us a run on AES-NI.
        let mut blocks: Vec<u128> = (0..64u128).collect();
        let time = |f: Hash, blocks: &mut Vec<u128>| {
            (0..5)
                .map(|_| {
                    let t = Instant::now();
                    for _ in 0..256 {
                        f(std::hint::black_box(&mut blocks[..]));
                    }
                    t.elapsed()
                })
                .min()
                .unwrap_or_default()
        };
        paths()
            .into_iter()
            .map(|(name, f)| (time(f, &mut blocks), name, f))
            .min_by_key(|&(t, _, _)| t)
            .map(|(_, name, f)| (name, f))
            .unwrap_or(("portable", portable))
    })
}

/// `x -> AES_K(x) ^ x` for every block, in place, on the path measured fastest here.
#[inline]
pub fn hash(blocks: &mut [u128]) {
    (chosen().1)(blocks)
}

/// Asks the CPU to bring `words`' cache lines into its caches ahead of use (a hint: results never change).
/// The evaluators call it on the next lockstep chunk's keys, which stream from memory the caches cannot hold.
#[inline]
pub fn prefetch(words: &[u64]) {
    #[cfg(target_arch = "x86_64")]
    for line in words.chunks(8) {
        // SAFETY: SSE is part of every x86-64 CPU, and a prefetch reads nothing: any address is allowed.
        #[allow(unsafe_code)]
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(line.as_ptr().cast())
        };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = words;
}

/// The path [`hash`] runs on this machine.
pub fn path() -> &'static str {
    chosen().0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_equals_the_aes_crate() {
        let input: Vec<u128> =
            (0..200u128).map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c834)).collect();
        let mut want = input.clone();
        for b in want.iter_mut() {
            let mut blk: aes::Block = b.to_le_bytes().into();
            cipher().encrypt_block(&mut blk);
            *b ^= u128::from_le_bytes(blk.into());
        }
        for (name, f) in paths() {
            for n in [0usize, 1, 7, 8, 9, 15, 16, 17, 64, 200] {
                let mut got = input[..n].to_vec();
                f(&mut got);
                assert_eq!(got, want[..n], "path {name}, {n} blocks");
            }
        }
        assert!(paths().iter().any(|(name, _)| *name == path()));
    }
}
