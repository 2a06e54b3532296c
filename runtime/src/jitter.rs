//! Deterministic jitter for backoffs: retries (`retry.rs`) and node restarts
//! (`supervision.rs`) both scale their delays by it.

/// The smallest jitter factor (inclusive).
pub const JITTER_MIN: f64 = 0.75;

/// The largest jitter factor (exclusive).
pub const JITTER_MAX: f64 = 1.25;

/// A small deterministic PRNG (SplitMix64) for backoff jitter: the same seed gives
/// the same sequence on every platform, so runs and tests are reproducible.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JitterRng {
    state: u64,
}

impl JitterRng {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> JitterRng {
        JitterRng { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform float in `[0, 1)` (53 random bits).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform jitter factor in `[0.75, 1.25)`. Built from 51 random bits so every
    /// value is exact and the upper bound can never be reached by rounding.
    pub fn jitter(&mut self) -> f64 {
        JITTER_MIN + (self.next_u64() >> 13) as f64 * (1.0 / (1u64 << 52) as f64)
    }
}
