//! [`stage_rng`]: the generator of one labelled stage of an evaluation,
//! independent of which other stages run and in what order (so a line of
//! `cargo xtask audit` and the same attack in `cargo xtask attack` draw the
//! same numbers).

use rand::SeedableRng;
use sgbn_estimators::SeededRng;

/// The generator of the stage `label` (e.g. an attack's name, `"clean"`)
/// under `seed`: the seed's generator on the stream picked by the FNV-1a
/// hash of the label.
pub fn stage_rng(seed: u64, label: &str) -> SeededRng {
    let mut rng = SeededRng::seed_from_u64(seed);
    let h = label.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    });
    rng.set_stream(h);
    rng
}

#[cfg(test)]
mod tests {
    use rand::RngCore;

    use super::stage_rng;

    #[test]
    fn a_label_picks_its_own_reproducible_stream() {
        let draw = |seed, label| stage_rng(seed, label).next_u64();
        assert_eq!(draw(0, "clean"), draw(0, "clean"));
        assert_ne!(draw(0, "clean"), draw(0, "fgsm(eps=0.3)"));
        assert_ne!(draw(0, "clean"), draw(1, "clean"));
    }
}
