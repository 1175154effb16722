//! The convolutions' requantization for cores without a 32x32 -> 64-bit multiply (Cortex-M0/M0+,
//! whose `MULS` keeps the low word only; RV32 without `mulh` in a build's hot loop).
//!
//! [`ChannelRescale`](super::rescale::ChannelRescale) computes TFLite's double-rounding `MultiplyByQuantizedMultiplier` plus the
//! output zero point from one rounded high multiply, `SMMULR(2a, m) = floor((2a*m + 2^31) /
//! 2^32)` (see [`rescale`](super::rescale)). A core without that instruction pays a 64-bit
//! multiply routine for it; [`smmulr_split`] computes the same word from four 16 x 16-bit
//! products that each fit a 32-bit register, with the multiplier's halves split once per
//! channel ([`NarrowRescale`]):
//!
//! `a = ah*2^16 + al`, `m = mh*2^16 + ml` (`ah`, `mh` signed, `al`, `ml` in `0..2^16`), so
//! `a*m + 2^31 = ah*mh*2^32 + (ah*ml + al*mh + 2^15)*2^16 + al*ml`. The low 16 bits of `al*ml`
//! cannot carry into the top word (adding a fraction below one to an integer numerator does not
//! change a floor division by an integer), so the top word is
//! `ah*mh + (ah*ml >> 16) + (al*mh >> 16) + (lo16(ah*ml) + lo16(al*mh) + (al*ml >> 16) + 2^15) >> 16`
//! with arithmetic shifts: each product fits an `i32` (`|ah| <= 2^15`, `ml < 2^16`), the last
//! sum is below `2^18`, and the total is the true top word, which fits an `i32`.
//!
//! [`NarrowRescale`] applies it for every shift TFLite makes, given a bound on the accumulators
//! ([`accumulator_limit`]); a kernel keeps the portable arithmetic for a channel without one.

use super::rescale::MAX_TAP_PRODUCT;
use crate::engine::arith::QuantizedMultiplier;

/// `floor((a*m + 2^31) / 2^32)` (the Cortex-M4's `SMMULR`) for `m = high*2^16 + low`, `high` the
/// signed upper half of `m` and `low` its lower 16 bits, in 32-bit multiplies only; exact for
/// every `a` and `m`.
#[inline(always)]
pub fn smmulr_split(a: i32, high: i32, low: i32) -> i32 {
    let ah = a >> 16;
    let al = a & 0xFFFF;
    let p0 = ((al as u32).wrapping_mul(low as u32) >> 16) as i32;
    let p1 = ah.wrapping_mul(low);
    let p2 = al.wrapping_mul(high);
    let p3 = ah.wrapping_mul(high);
    let carry = ((p1 & 0xFFFF) + (p2 & 0xFFFF) + p0 + (1 << 15)) >> 16;
    p3.wrapping_add(p1 >> 16).wrapping_add(p2 >> 16).wrapping_add(carry)
}

/// One output channel's requantization, `output_offset + MBQM(acc, m, shift)`, with the
/// multiplier split in halves for [`smmulr_split`]: `SRDHM(acc * 2^s, m)` for a left shift
/// `s >= 0` is `SMMULR(acc * 2^(s+1), m)`, exact when `|acc| * 2^s < 2^30`; the rounding
/// division by `2^e` for a right shift `e` (ties away from zero) is
/// `floor((r + 2^(e-1) - [r < 0]) / 2^e)`, exact since `|r| < 2^30`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct NarrowRescale {
    /// The multiplier's upper half, signed (`m >> 16`).
    pub high: i32,
    /// The multiplier's lower 16 bits.
    pub low: i32,
    /// The left shift applied to the accumulator first: `s + 1` (the doubling of SRDHM).
    pub pre: u32,
    /// `2^(e-1)`, or 0 without a right shift.
    pub round: i32,
    /// 1 with a right shift, 0 without (no rounding correction for negative values).
    pub sign: i32,
    /// The right shift `e` (`0..=31`).
    pub shift: u32,
    /// The output zero point.
    pub offset: i32,
}

impl NarrowRescale {
    /// The form of `m` for accumulators below `limit` in magnitude; `None` if it would not be
    /// exact for all of them (`limit * 2^s > 2^30`) or `m` is not one
    /// [`QuantizedMultiplier::from_real`] makes (a negative multiplier, a shift outside
    /// `-31..=30`).
    pub fn new(m: QuantizedMultiplier, output_offset: i32, limit: u32) -> Option<NarrowRescale> {
        if m.multiplier < 0 || !(-31..=30).contains(&m.shift) {
            return None;
        }
        let left = m.shift.max(0) as u32;
        if limit > (1 << 30) >> left {
            return None;
        }
        let e = (-m.shift).max(0) as u32;
        Some(NarrowRescale {
            high: m.multiplier >> 16,
            low: m.multiplier & 0xFFFF,
            pre: left + 1,
            round: if e > 0 { 1 << (e - 1) } else { 0 },
            sign: (e > 0) as i32,
            shift: e,
            offset: output_offset,
        })
    }

    /// `output_offset + MBQM(acc, m, shift)`, exact when `|acc|` is below the `limit` given
    /// to [`new`](Self::new).
    #[inline(always)]
    pub fn apply(self, acc: i32) -> i32 {
        let r = smmulr_split(acc << (self.pre & 31), self.high, self.low);
        let negative = ((r as u32) >> 31) as i32 & self.sign;
        (r.wrapping_add(self.round).wrapping_sub(negative) >> (self.shift & 31))
            .wrapping_add(self.offset)
    }
}

/// The bound on `|acc|` for `taps` int8 products (each at most `128 * 255` in magnitude)
/// plus a bias of magnitude below `bias`: `bias + taps * 128 * 255`, saturated.
pub fn accumulator_limit(bias: u32, taps: usize) -> u32 {
    // No 64-bit arithmetic: this runs once per output in some kernels of a Cortex-M0.
    let taps = u32::try_from(taps).unwrap_or(u32::MAX);
    let products = if taps > u32::MAX / MAX_TAP_PRODUCT as u32 {
        u32::MAX
    } else {
        taps * MAX_TAP_PRODUCT as u32
    };
    bias.saturating_add(1).saturating_add(products)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::arith::{multiply_by_quantized_multiplier, QuantizedMultiplier};
    use crate::engine::kernels::dsp::emulated;

    /// The operands at the edges of the split: both halves' extremes, carries out of the low
    /// halves, signs.
    const EDGES: [i32; 19] = [
        0,
        1,
        -1,
        2,
        0xFFFF,
        0x1_0000,
        -0x1_0000,
        0x7FFF_FFFF,
        i32::MIN,
        i32::MIN + 1,
        0x4000_0000,
        0x3FFF_FFFF,
        -0x4000_0000,
        0x7FFF_0000,
        0x0000_8000,
        -0x8000,
        0x1234_5678,
        -0x1234_5678,
        0x7FFF_8001,
    ];

    fn split(m: i32) -> (i32, i32) {
        (m >> 16, m & 0xFFFF)
    }

    #[test]
    fn split_high_multiply_is_smmulr_on_edges_and_random_operands() {
        for &a in &EDGES {
            for &m in &EDGES {
                let (h, l) = split(m);
                assert_eq!(smmulr_split(a, h, l), emulated::smmulr(a, m), "a {a} m {m}");
            }
        }
        let mut s = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..200_000 {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let (a, m) = (s as i32, (s >> 32) as i32);
            let (h, l) = split(m);
            assert_eq!(smmulr_split(a, h, l), emulated::smmulr(a, m), "a {a} m {m}");
            // Small accumulators against full multipliers, where the low halves carry.
            let small = a >> (s % 24) as u32;
            assert_eq!(smmulr_split(small, h, l), emulated::smmulr(small, m));
        }
    }

    /// Every accumulator near the ties of the rounding shift and at the bound, for multipliers
    /// at both ends of `[2^30, 2^31)` and 0, every shift TFLite makes, zero points at the int8
    /// edges: the same as the portable arithmetic.
    #[test]
    fn narrow_rescale_is_mbqm_at_ties_and_bounds() {
        let multipliers = [1 << 30, (1 << 30) + 1, 0x5555_5555, i32::MAX - 1, i32::MAX, 0];
        for &mult in &multipliers {
            for shift in -31..=30 {
                let m = QuantizedMultiplier { multiplier: mult, shift };
                let limit = (1u32 << 30) >> shift.max(0);
                assert!(NarrowRescale::new(m, 0, limit + 1).is_none() || shift < 0);
                for zp in [-128, -1, 0, 1, 127] {
                    let r = NarrowRescale::new(m, zp, limit).unwrap();
                    let check = |acc: i64| {
                        if acc.unsigned_abs() >= limit as u64 {
                            return;
                        }
                        let acc = acc as i32;
                        let expect = multiply_by_quantized_multiplier(acc, mult, shift) + zp;
                        assert_eq!(r.apply(acc), expect, "acc {acc} m {mult} shift {shift}");
                    };
                    let edge = limit as i64 - 1;
                    for acc in [0, 1, -1, 2, -2, edge, -edge, edge / 2, -edge / 2] {
                        check(acc);
                    }
                    // Accumulators whose product lands on or next to a tie of either rounding:
                    // acc * m / 2^31 close to (k + 1/2) * 2^e, and acc * m close to
                    // (k + 1/2) * 2^31, for several k of both signs.
                    let e = (-shift).max(0);
                    for unit in [(1i64 << 31) << e, 1i64 << 31] {
                        for k in -40i64..40 {
                            let target = ((2 * k + 1) as i128 * unit as i128 / 2) >> shift.max(0);
                            let acc = (target / mult.max(1) as i128) as i64;
                            for d in -3..=3 {
                                check(acc + d);
                            }
                        }
                    }
                }
            }
        }
        // Negative multipliers and shifts outside TFLite's range are refused.
        assert!(
            NarrowRescale::new(QuantizedMultiplier { multiplier: -5, shift: -3 }, 0, 9).is_none()
        );
        assert!(
            NarrowRescale::new(QuantizedMultiplier { multiplier: 5, shift: 31 }, 0, 1).is_none()
        );
        assert_eq!(accumulator_limit(10, 2), 11 + 2 * 128 * 255);
        assert_eq!(accumulator_limit(u32::MAX, usize::MAX), u32::MAX);
    }
}
