//! The seeded generator of the crate's unit tests: xorshift64, for varied cases (the tests need
//! no statistics), the same sequence on every run.

/// Xorshift64 from a nonzero seed.
pub(crate) struct XorShift(pub(crate) u64);

impl XorShift {
    /// The next 64 bits.
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A value in `0..n` (`n > 0`).
    #[cfg_attr(not(feature = "in-place"), allow(dead_code))] // the in-place tests' draws
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// A byte.
    #[cfg_attr(not(feature = "in-place"), allow(dead_code))]
    pub(crate) fn byte(&mut self) -> u8 {
        self.next() as u8
    }
}
