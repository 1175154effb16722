//! The 40-channel mel filterbank over the FFT's power spectrum, as `filterbank.c` computes it:
//! `|X[k]|²` in `i32` (wrapping like the C), triangular bands accumulated in `u64` with Q12
//! weights (each bin feeds its own band with `weight` and the next band with `unweight`), then an
//! integer square root of each band, shifted back down by the window's input shift.

use super::fft::{Complex16, FFT_BINS};
use super::tables::{CHANNEL_STARTS, CHANNEL_WIDTHS, START_INDEX, UNWEIGHTS, WEIGHTS};
use super::NUM_CHANNELS;

/// `FilterbankConvertFftComplexToEnergy` for one bin: `re² + im²` in `i32` (it wraps for a
/// full-scale bin, as in the C), read back as the C reads it: `int32` widened to `uint64`.
fn energy(bin: Complex16) -> u64 {
    let re = i32::from(bin.re);
    let im = i32::from(bin.im);
    (re * re).wrapping_add(im * im) as i64 as u64
}

/// `FilterbankAccumulateChannels` then `FilterbankSqrt`: the 40 channel magnitudes.
pub fn apply(spectrum: &[Complex16; FFT_BINS], shift: u32, out: &mut [u32; NUM_CHANNELS]) {
    let mut weighted: u64 = 0;
    let mut unweighted: u64 = 0;
    for band in 0..=NUM_CHANNELS {
        let start = usize::from(CHANNEL_STARTS[band]);
        let width = usize::from(CHANNEL_WIDTHS[band]);
        let bins = &spectrum[start..start + width];
        let offset = start - START_INDEX;
        let weights = &WEIGHTS[offset..offset + width];
        let unweights = &UNWEIGHTS[offset..offset + width];
        for ((&bin, &w), &u) in bins.iter().zip(weights).zip(unweights) {
            let e = energy(bin);
            weighted = weighted.wrapping_add((w as u64).wrapping_mul(e));
            unweighted = unweighted.wrapping_add((u as u64).wrapping_mul(e));
        }
        if band > 0 {
            out[band - 1] = sqrt64(weighted) >> shift;
        }
        weighted = unweighted;
        unweighted = 0;
    }
}

/// `Sqrt32`: the bit-by-bit integer square root, rounded up when the remainder exceeds the root
/// (and the root is below 0xFFFF).
fn sqrt32(mut num: u32) -> u32 {
    if num == 0 {
        return 0;
    }
    let mut res: u32 = 0;
    let max_bit_number = num.leading_zeros() | 1;
    let mut bit: u32 = 1 << (31 - max_bit_number);
    let mut iterations = (31 - max_bit_number) / 2 + 1;
    while iterations > 0 {
        iterations -= 1;
        if num >= res + bit {
            num -= res + bit;
            res = (res >> 1) + bit;
        } else {
            res >>= 1;
        }
        bit >>= 2;
    }
    if num > res && res != 0xFFFF {
        res += 1;
    }
    res
}

/// `Sqrt64`: the same for 64-bit values (values below 2^32 go to [`sqrt32`]).
fn sqrt64(mut num: u64) -> u32 {
    if num >> 32 == 0 {
        return sqrt32(num as u32);
    }
    let mut res: u64 = 0;
    let max_bit_number = num.leading_zeros() | 1;
    let mut bit: u64 = 1 << (63 - max_bit_number);
    let mut iterations = (63 - max_bit_number) / 2 + 1;
    while iterations > 0 {
        iterations -= 1;
        if num >= res + bit {
            num -= res + bit;
            res = (res >> 1) + bit;
        } else {
            res >>= 1;
        }
        bit >>= 2;
    }
    if num > res && res != 0xFFFF_FFFF {
        res += 1;
    }
    res as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn square_roots_round_like_the_c_library() {
        assert_eq!(sqrt32(0), 0);
        assert_eq!(sqrt32(1), 1);
        assert_eq!(sqrt32(16), 4);
        // 17 = 4² + 1: remainder 1 is not above 4, so 4; 21 = 4² + 5: 5 > 4, so 5.
        assert_eq!(sqrt32(17), 4);
        assert_eq!(sqrt32(21), 5);
        assert_eq!(sqrt32(u32::MAX), 0xFFFF);
        assert_eq!(sqrt64(1 << 40), 1 << 20);
        assert_eq!(sqrt64(u64::MAX), 0xFFFF_FFFF);
    }
}
