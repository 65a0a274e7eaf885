//! SplitMix64: the soak's one source of randomness. Every random choice (the workload's mix and
//! keys, the fault schedule, the values written) comes from a generator derived from the seed.

use std::time::Duration;

/// A seeded SplitMix64 generator.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    /// A generator starting from `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// A number in `0..n` (`0` when `n` is zero).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }

    /// A number in `lo..=hi`.
    pub(crate) fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi.saturating_sub(lo) + 1)
    }

    /// A duration of `lo..=hi` milliseconds.
    pub(crate) fn millis(&mut self, lo: u64, hi: u64) -> Duration {
        Duration::from_millis(self.between(lo, hi))
    }

    /// An independent generator for another part of the soak.
    pub(crate) fn fork(&mut self) -> Self {
        Self(self.next_u64())
    }
}

/// SplitMix64's finaliser: a bijection on `u64` that spreads every input bit.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_seed_gives_one_sequence() {
        let a: Vec<u64> = {
            let mut r = Rng::new(18);
            (0..8).map(|_| r.next_u64()).collect()
        };
        let mut r = Rng::new(18);
        let b: Vec<u64> = (0..8).map(|_| r.next_u64()).collect();
        assert_eq!(a, b);
        let mut other = Rng::new(19);
        assert_ne!(a[0], other.next_u64());
    }

    #[test]
    fn between_stays_in_bounds_and_reaches_both_ends() {
        let mut r = Rng::new(1);
        let drawn: Vec<u64> = (0..1000).map(|_| r.between(3, 5)).collect();
        assert!(drawn.iter().all(|x| (3..=5).contains(x)));
        assert!(drawn.contains(&3) && drawn.contains(&5));
    }
}
