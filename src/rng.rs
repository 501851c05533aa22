//! Seeded, splittable randomness. Every random draw in rtas comes from a [`stream`]: a ChaCha8 generator keyed
//! by the user's `--seed` and a stream number. Work split into numbered blocks (one stream per block) gives the
//! same numbers whatever the thread count and whatever order rayon runs the blocks in.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The generator used everywhere.
pub type Rng = ChaCha8Rng;

/// The generator for block `index` of a computation seeded with `seed`.
pub fn stream(seed: u64, index: u64) -> Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(index);
    rng
}

/// A generator keyed by 256 bits from the operating system (a deployment's randomness; never `--seed`).
pub fn from_os() -> crate::error::Result<Rng> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key)
        .map_err(|e| crate::error::Error::Numerical(format!("the operating system gave no randomness: {e}")))?;
    Ok(ChaCha8Rng::from_seed(key))
}

/// A 64-bit value from the operating system.
pub fn os_u64() -> crate::error::Result<u64> {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b)
        .map_err(|e| crate::error::Error::Numerical(format!("the operating system gave no randomness: {e}")))?;
    Ok(u64::from_le_bytes(b))
}
