//! Per-example generators for an attack's own random choices.

use rand::SeedableRng;
use sgbn_estimators::SeededRng;

/// The generator of the example with global index `index` under attack seed
/// `seed`: ChaCha8 seeded with `seed`, stream `index`.
///
/// Attacks draw their own random choices (PGD's random start, the Square
/// attack's windows and signs, random targets) from these, so the result for
/// an example does not depend on the batch it was in or on the batch size.
/// The model's own randomness (stochastic units) comes from the caller's
/// generator instead, in batch order.
pub fn example_rng(seed: u64, index: u64) -> SeededRng {
    let mut rng = SeededRng::seed_from_u64(seed);
    rng.set_stream(index);
    rng
}
