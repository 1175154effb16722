//! What a sensor produces: a scalar or a fixed-size vector of `f32` channels.
//!
//! The graph needs two things from a sample: its channels (what the [`Quantizer`](crate::quantizer)
//! writes into the model's input, interleaved time-major as `[time][channel]`) and one scalar *level*
//! (what the [`Window`](crate::window::Window) summarises and a [`Gate`](crate::gate::Gate) compares).
//! This module does not read sensors or hold history.

/// A sensor sample: `CHANNELS` values in SI units, plus the scalar level the gates look at.
///
/// Implemented for `f32` (one channel, level = the value) and `[f32; C]` (C channels, level = the
/// Euclidean norm, e.g. the magnitude of a 3-axis acceleration).
pub trait Sample: Copy + Default {
    /// Number of channels per sample (1 for a scalar, 3 for X/Y/Z).
    const CHANNELS: usize;

    /// Channel `i` (`i < CHANNELS`); out-of-range indices give `0.0`.
    fn channel(&self, i: usize) -> f32;

    /// The scalar the window statistics and gates are computed on.
    fn level(&self) -> f32;

    /// A sample whose channel `i` is `f(i)`.
    fn from_fn(f: impl FnMut(usize) -> f32) -> Self;

    /// `true` when every channel is finite (no NaN, no infinity). Non-finite samples are
    /// rejected before they reach the window.
    fn is_finite(&self) -> bool {
        (0..Self::CHANNELS).all(|i| self.channel(i).is_finite())
    }
}

impl Sample for f32 {
    const CHANNELS: usize = 1;

    fn channel(&self, i: usize) -> f32 {
        if i == 0 {
            *self
        } else {
            0.0
        }
    }

    fn level(&self) -> f32 {
        *self
    }

    fn from_fn(mut f: impl FnMut(usize) -> f32) -> Self {
        f(0)
    }
}

impl<const C: usize> Sample for [f32; C]
where
    [f32; C]: Default,
{
    const CHANNELS: usize = C;

    fn channel(&self, i: usize) -> f32 {
        self.get(i).copied().unwrap_or(0.0)
    }

    fn level(&self) -> f32 {
        let sum_sq: f32 = self.iter().map(|v| v * v).sum();
        crate::math::sqrt(sum_sq)
    }

    fn from_fn(f: impl FnMut(usize) -> f32) -> Self {
        core::array::from_fn(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vector_level_is_euclidean_norm() {
        let s = [3.0f32, 4.0, 0.0];
        assert_eq!(s.level(), 5.0);
        assert_eq!(s.channel(1), 4.0);
        assert_eq!(s.channel(3), 0.0);
    }

    #[test]
    fn nan_and_infinity_are_not_finite() {
        assert!(!f32::NAN.is_finite());
        assert!(!Sample::is_finite(&[1.0f32, f32::INFINITY, 0.0]));
        assert!(Sample::is_finite(&[1.0f32, 2.0, 3.0]));
    }
}
