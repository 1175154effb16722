//! Per-channel amplitude normalisation (`pcan_gain_control.c`): each channel is multiplied by a
//! gain `2^21 (noise / 2^7 + 80)^-0.95` of its noise estimate, read from a piecewise-quadratic
//! table indexed by the estimate's top bit, then compressed by a shrink function.

use super::tables::PCAN_GAIN_LUT;
use super::NUM_CHANNELS;

/// Fraction bits of the signal-to-noise ratio.
const SNR_BITS: u32 = 12;
/// Fraction bits of PCAN's output.
const OUTPUT_BITS: u32 = 6;
/// `gain_bits - input_correction_bits - SNR_BITS` = 21 - 3 - 12.
const SNR_SHIFT: u32 = 6;

/// `WideDynamicFunction`: the gain of a noise estimate, interpolated in the table.
fn gain(x: u32) -> u32 {
    if x <= 2 {
        return PCAN_GAIN_LUT[x as usize] as i32 as u32;
    }
    let interval = 32 - x.leading_zeros();
    let base = (4 * interval - 6) as usize;
    let frac =
        (if interval < 11 { x << (11 - interval) } else { x >> (interval - 11) } & 0x3FF) as i32;
    let mut result = (i32::from(PCAN_GAIN_LUT[base + 2]) * frac) >> 5;
    result = result.wrapping_add((PCAN_GAIN_LUT[base + 1] as i32 as u32).wrapping_shl(5) as i32);
    result = result.wrapping_mul(frac);
    result = result.wrapping_add(1 << 14) >> 15;
    result = result.wrapping_add(i32::from(PCAN_GAIN_LUT[base]));
    result as i16 as i32 as u32
}

/// `PcanShrink`: quadratic below 2 (in Q12), linear above.
fn shrink(x: u32) -> u32 {
    if x < (2 << SNR_BITS) {
        x.wrapping_mul(x) >> (2 + 2 * SNR_BITS - OUTPUT_BITS)
    } else {
        (x >> (SNR_BITS - OUTPUT_BITS)).wrapping_sub(1 << OUTPUT_BITS)
    }
}

/// Applies the gain of each channel's `noise_estimate` to `signal`.
pub fn apply(noise_estimate: &[u32; NUM_CHANNELS], signal: &mut [u32; NUM_CHANNELS]) {
    for (sig, noise) in signal.iter_mut().zip(noise_estimate) {
        let snr = ((u64::from(*sig) * u64::from(gain(*noise))) >> SNR_SHIFT) as u32;
        *sig = shrink(snr);
    }
}
