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
