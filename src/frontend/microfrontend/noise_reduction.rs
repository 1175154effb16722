//! Noise reduction (`noise_reduction.c`): a per-channel running estimate of the noise floor
//! (smoothing 0.025 on even channels, 0.06 on odd ones, Q14), subtracted from the signal scaled up
//! by 2^10, keeping at least 5% of the signal. The estimate is state carried across frames; PCAN
//! reads it after this frame's update.

use super::tables::{EVEN_SMOOTHING, MIN_SIGNAL_REMAINING, ODD_SMOOTHING};
use super::NUM_CHANNELS;

/// Fraction bits of the smoothing coefficients.
const NOISE_REDUCTION_BITS: u32 = 14;
/// The signal is scaled up by this many bits before subtraction.
pub const SMOOTHING_BITS: u32 = 10;

/// Updates `estimate` with `signal` and replaces `signal` by the noise-reduced signal.
pub fn apply(estimate: &mut [u32; NUM_CHANNELS], signal: &mut [u32; NUM_CHANNELS]) {
    for (i, (est, sig)) in estimate.iter_mut().zip(signal.iter_mut()).enumerate() {
        let smoothing = if i % 2 == 0 { EVEN_SMOOTHING } else { ODD_SMOOTHING };
        let one_minus_smoothing = (1u32 << NOISE_REDUCTION_BITS) - smoothing;
        let scaled_up = *sig << SMOOTHING_BITS;
        let mut new_estimate = ((u64::from(scaled_up) * u64::from(smoothing)
            + u64::from(*est) * u64::from(one_minus_smoothing))
            >> NOISE_REDUCTION_BITS) as u32;
        *est = new_estimate;
        if new_estimate > scaled_up {
            new_estimate = scaled_up;
        }
        let floor =
            ((u64::from(*sig) * u64::from(MIN_SIGNAL_REMAINING)) >> NOISE_REDUCTION_BITS) as u32;
        let subtracted = (scaled_up - new_estimate) >> SMOOTHING_BITS;
        *sig = subtracted.max(floor);
    }
}
