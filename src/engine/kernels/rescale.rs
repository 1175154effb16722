//! Fast, exact forms of the requantization step (accumulator -> int8 output) for the fast
//! kernels, each a handful of instructions on a Cortex-M4 instead of a 64-bit multiply and two
//! data-dependent roundings.
//!
//! * [`ChannelRescale`] replaces TFLite's double-rounding `MultiplyByQuantizedMultiplier` (used
//!   by CONV_2D and DEPTHWISE_CONV_2D) plus the output zero point. With `a` the accumulator,
//!   `m` the multiplier and `e >= 1` the right shift:
//!   `SRDHM(a, m) = floor((a*m + 2^30) / 2^31) = floor((2a*m + 2^31) / 2^32) = SMMULR(2a, m)`
//!   (exact when `2a` fits in an `i32`, i.e. `|a| < 2^30`), and the rounding division by `2^e`,
//!   ties away from zero, plus the zero point `z` is
//!   `floor((r + 2^(e-1) + z*2^e - [r < 0]) / 2^e)`, one add, one subtract of the sign bit and
//!   one arithmetic shift (exact while the constant stays below `2^30` in magnitude).
//! * [`FcRescale`] replaces FULLY_CONNECTED's single rounding with the full multiplier `m`,
//!   `floor((x*m + 2^(s-1)) / 2^s)` with `s = 31 - shift`. For `s = 32 + e`, `e >= 1`, the
//!   rounding constant `2^(s-1)` has no bits in the low word of the 64-bit product, so with
//!   `h = floor(x*m / 2^32)` (SMMUL, the top word, truncated) the result is
//!   `floor((h + 2^(e-1)) / 2^e)`, exactly: adding a fraction below one to an integer numerator
//!   does not change a floor division by an integer. The output zero point `z` joins the
//!   constant, `c = 2^(e-1) + z*2^e`, so the whole rescale is `SMMLA(x, m, c) >> e`: two
//!   instructions, exact while `|c| < 2^30` (then `h + c` cannot overflow, since `|h| <= 2^30`),
//!   i.e. for `1 <= e <= 22` with `|z| <= 128`: shifts `-23..=-2`.
//!
//! Each constructor returns `None` outside the range where the fast form is exact. The
//! convolution kernels then give a channel whose weights are all zero its constant output
//! ([`channel_or_constant`]) and keep the fast form for the others; a channel with weights
//! and a multiplier (or bias) out of range is rescaled alone with the portable arithmetic of
//! [`arith`](crate::engine::arith) after each pass of the fast loops, in CONV_2D's and
//! DEPTHWISE_CONV_2D's packed kernels and FULLY_CONNECTED's, so no such channel sends a whole
//! operator to the portable kernel.
//! `tests/kernels_conv.rs`, `tests/kernels_fully_connected.rs` and `tests/rescale_ties.rs` check
//! both forms against exact references on random operands.

use super::dsp;
use crate::engine::arith::{clamp_to_i8, QuantizedMultiplier};

/// The largest `|w * (x - zero_point)|` of one int8 tap: `128 * 255`.
pub const MAX_TAP_PRODUCT: i64 = 128 * 255;

/// True if an accumulator of `taps` int8 products plus `bias` stays below `2^30` in magnitude
/// for every input (the condition of [`ChannelRescale::apply_doubled`]).
#[inline]
pub fn accumulator_fits(bias: i32, taps: usize) -> bool {
    bias.unsigned_abs() < bias_limit(taps)
}

/// The bound on `|bias|` below which [`accumulator_fits`] holds for `taps` products (0 if none
/// fits): computed once per operator, compared once per channel.
#[inline]
pub fn bias_limit(taps: usize) -> u32 {
    let products = (taps as u64).saturating_mul(MAX_TAP_PRODUCT as u64);
    (1u64 << 30).saturating_sub(products) as u32
}

/// One output channel's requantization, `clamp(z + MBQM(acc, m, shift))` before the clamp, in the
/// SMMULR form (see the module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ChannelRescale {
    /// The Q0.31 multiplier `m`.
    pub multiplier: i32,
    /// `2^(e-1) + zero_point * 2^e`.
    pub round: i32,
    /// The right shift `e` (`1..=31`).
    pub shift: u32,
}

impl ChannelRescale {
    /// The fast form of `m` followed by adding `output_offset`; `None` unless `m` shifts right
    /// by 1 to 22 bits and `|output_offset| <= 128` (which keeps the rounding constant below
    /// `2^30`).
    #[inline]
    pub fn new(m: QuantizedMultiplier, output_offset: i32) -> Option<ChannelRescale> {
        if !(-22..=-1).contains(&m.shift) || !(-128..=128).contains(&output_offset) {
            return None;
        }
        let e = (-m.shift) as u32;
        let round = (1 << (e - 1)) + (output_offset << e);
        Some(ChannelRescale { multiplier: m.multiplier, round, shift: e })
    }

    /// `output_offset + MBQM(acc, m, shift)` given `acc2 = 2 * acc`; exact when
    /// `|acc| < 2^30` (see [`accumulator_fits`]).
    #[inline(always)]
    pub fn apply_doubled(self, acc2: i32) -> i32 {
        let r = dsp::smmulr(acc2, self.multiplier);
        r.wrapping_add(self.round).wrapping_sub(((r as u32) >> 31) as i32) >> self.shift
    }

    /// [`apply_doubled`](Self::apply_doubled) of `2 * acc`.
    #[inline(always)]
    pub fn apply(self, acc: i32) -> i32 {
        self.apply_doubled(acc.wrapping_add(acc))
    }

    /// The entry that gives `value` (an int8 value) for every accumulator: multiplier 0, so the
    /// high multiply is 0, and `(2 * value + 1 - s) >> 1 = value` whether `s`, the sign bit the
    /// kernels subtract, is the product's (always 0 here) or the accumulator's (the Cortex-M4
    /// loops'). What a channel whose weights are all zero always outputs.
    #[inline]
    pub fn constant(value: i8) -> ChannelRescale {
        ChannelRescale { multiplier: 0, round: 2 * value as i32 + 1, shift: 1 }
    }

    /// True if the Cortex-M4 loops, which subtract the accumulator's sign bit instead of the
    /// rounded product's, give this entry's results: multipliers above `2^30` (the product
    /// then has the accumulator's sign) and 0 (the result does not depend on the sign:
    /// [`constant`](Self::constant), or only the zero point).
    #[inline]
    pub fn native(self) -> bool {
        self.multiplier > 1 << 30 || self.multiplier == 0
    }
}

/// One output channel of a packed convolution kernel: its rescale and the bias its
/// accumulators start from, or `None` if the channel needs the portable arithmetic.
///
/// The fast form when `m` has one ([`ChannelRescale::new`]) and `|bias|` is below `limit`
/// ([`bias_limit`] of the kernel's taps); otherwise, if `zero_weights()` says every weight of
/// the channel is 0, the constant `clamp(zero_point + MBQM(bias, m))` that the reference
/// computes for every output of the channel ([`ChannelRescale::constant`], bias 0). This is
/// what keeps a degenerate channel (zero weights, a scale too small for the fast form's
/// shift) from sending the whole operator to the portable kernel.
#[inline]
pub fn channel_or_constant(
    m: QuantizedMultiplier,
    output_offset: i32,
    bias: i32,
    limit: u32,
    (lo, hi): (i32, i32),
    zero_weights: impl FnOnce() -> bool,
) -> Option<(ChannelRescale, i32)> {
    if let Some(r) = ChannelRescale::new(m, output_offset).filter(|_| bias.unsigned_abs() < limit) {
        return Some((r, bias));
    }
    if !zero_weights() {
        return None;
    }
    let value = clamp_to_i8(m.apply(bias).wrapping_add(output_offset), lo, hi);
    Some((ChannelRescale::constant(value), 0))
}

/// FULLY_CONNECTED's requantization (full multiplier, one rounding) plus the output zero point,
/// in the SMMLA form (see the module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FcRescale {
    /// The Q0.31 multiplier `m`, unchanged.
    pub multiplier: i32,
    /// `c = 2^(e-1) + zero_point * 2^e`: never 0 (`2^(e-1)` times an odd number).
    pub round: i32,
    /// The right shift `e` after the high multiply (`1..=22`).
    pub shift: u32,
}

impl FcRescale {
    /// The fast form of `m` followed by adding `output_offset`; `None` unless
    /// `-23 <= m.shift <= -2`, `m.multiplier >= 0` and `|output_offset| <= 128`.
    #[inline]
    pub fn new(m: QuantizedMultiplier, output_offset: i32) -> Option<FcRescale> {
        if !(-23..=-2).contains(&m.shift)
            || m.multiplier < 0
            || !(-128..=128).contains(&output_offset)
        {
            return None;
        }
        let shift = (-1 - m.shift) as u32;
        let round = (1 << (shift - 1)) + (output_offset << shift);
        Some(FcRescale { multiplier: m.multiplier, round, shift })
    }

    /// The form of `m` whose rounding constant [`round`](Self::round) was prepared at load
    /// (the record keeps `c`, the multiplier list keeps `m` and its shift).
    #[inline(always)]
    pub fn with_round(m: QuantizedMultiplier, round: i32) -> FcRescale {
        FcRescale { multiplier: m.multiplier, round, shift: (-1 - m.shift) as u32 }
    }

    /// `output_offset + (acc * m + 2^(s-1)) >> s`, exact for every `acc`.
    #[inline(always)]
    pub fn apply(self, acc: i32) -> i32 {
        dsp::smmla(acc, self.multiplier, self.round) >> self.shift
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::arith::{
        multiply_by_quantized_multiplier, multiply_by_quantized_multiplier_single_rounding,
    };

    #[test]
    fn channel_form_matches_the_reference_on_edges() {
        for real in [0.25, 0.3, 0.0049, 1e-4, 0.499_999, 2.0f64.powi(-20)] {
            let m = QuantizedMultiplier::from_real(real).unwrap();
            for zp in [-128, -5, 0, 17, 127] {
                let f = ChannelRescale::new(m, zp).unwrap();
                for acc in [0, 1, -1, 2, -2, 3, -3, 1000, -1000, (1 << 30) - 1, -(1 << 30) + 1] {
                    let expect = multiply_by_quantized_multiplier(acc, m.multiplier, m.shift) + zp;
                    assert_eq!(f.apply(acc), expect, "real {real} zp {zp} acc {acc}");
                }
            }
        }
        // Left shifts and no shift take the portable path.
        assert!(ChannelRescale::new(QuantizedMultiplier::from_real(1.5).unwrap(), 0).is_none());
        assert!(ChannelRescale::new(QuantizedMultiplier::from_real(0.75).unwrap(), 0).is_none());
        assert!(accumulator_fits(1000, 32_000));
        assert!(!accumulator_fits(1 << 29, 20_000));
    }

    #[test]
    fn fc_form_matches_the_reference_on_edges() {
        for real in [0.2499, 0.125, 0.0049, 1e-4, 0.249_999, 2.0f64.powi(-24), 3.1e-7] {
            let m = QuantizedMultiplier::from_real(real).unwrap();
            for zp in [-128, -3, 0, 5, 127, 128] {
                let f = FcRescale::new(m, zp).unwrap();
                assert_ne!(f.round, 0);
                assert_eq!(FcRescale::with_round(m, f.round), f);
                for acc in [0, 1, -1, 3, -3, 1 << 20, -(1 << 20), i32::MAX, i32::MIN] {
                    let expect = multiply_by_quantized_multiplier_single_rounding(
                        acc,
                        m.multiplier,
                        m.shift,
                    );
                    assert_eq!(f.apply(acc), expect + zp, "real {real} zp {zp} acc {acc}");
                }
            }
        }
        // Outside the range: shift -1 (multipliers in [0.25, 0.5)), 0 and left shifts, tiny
        // multipliers, zero points beyond the int8 range.
        for real in [0.3, 0.75, 3.0, 2.0f64.powi(-25), 1e-9] {
            let m = QuantizedMultiplier::from_real(real).unwrap();
            assert!(FcRescale::new(m, 0).is_none(), "{real}");
        }
        let m = QuantizedMultiplier::from_real(0.01).unwrap();
        assert!(FcRescale::new(m, 129).is_none());
    }
}
