//! Fixed-point arithmetic of TFLite's integer kernels, bit for bit.
//!
//! An int8 tensor stands for `real = scale * (q - zero_point)`. Every kernel that changes scale
//! (convolution, fully connected, add, mul, requantize, ...) multiplies an `i32` accumulator by a
//! real factor `M = s_in * s_w / s_out`. TFLite stores `M` as a [`QuantizedMultiplier`]: a Q0.31
//! significand in `[2^30, 2^31)` and a power-of-two exponent, and applies it with a rounding
//! doubling high multiply followed by a rounding right shift (the "double rounding" build, which is
//! TFLite's default). This module reproduces those primitives exactly:
//!
//! - [`QuantizedMultiplier::from_real`]: `QuantizeMultiplier` (frexp on `f64`, round half away from
//!   zero, flush below `2^-31` to zero). Runs once, at load time; it is the only float code here.
//! - [`saturating_rounding_doubling_high_mul`], [`rounding_divide_by_pot`],
//!   [`multiply_by_quantized_multiplier`]: the run-time path, integers only (they run on a
//!   Cortex-M0).
//! - [`multiply_by_quantized_multiplier_single_rounding`]: FULLY_CONNECTED's rescale, the full
//!   multiplier and one rounding in 64-bit arithmetic.
//! - [`activation_range`]: the clamp bounds of a fused RELU/RELU6/RELU_N1_TO_1.
//!
//! It does not know about tensors or operators; the kernels in
//! [`kernels`](crate::engine::kernels) combine these. The formulas are written out in
//! `docs/engine-arithmetic.md`.

/// Why a real-valued quantization parameter cannot be turned into integer form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ScaleError {
    /// A scale or multiplier is NaN, infinite, negative or zero where it must be positive.
    NotPositiveFinite,
    /// The multiplier is too large for the fixed-point path (`>= 2^30`).
    TooLarge,
}

/// A real multiplier `M ~= multiplier * 2^(shift - 31)` in TFLite's fixed-point form.
///
/// `multiplier` is in `[2^30, 2^31)` (or 0 for `M` below `2^-31`); `shift > 0` is a left shift
/// applied before the multiply, `shift < 0` a rounding right shift applied after it.
///
/// Plain data (`#[repr(C)]`, two words), so operator records hold it whole.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(C)]
pub struct QuantizedMultiplier {
    /// The Q0.31 significand.
    pub multiplier: i32,
    /// The power-of-two exponent (positive: left shift).
    pub shift: i32,
}

impl QuantizedMultiplier {
    /// TFLite's `QuantizeMultiplier(double)`: `frexp`, then `round(q * 2^31)` half away from
    /// zero, renormalised if that rounds up to `2^31`; multipliers below `2^-31` flush to zero.
    ///
    /// Errors: NaN, infinite or negative input ([`ScaleError::NotPositiveFinite`]); a multiplier
    /// of `2^30` or more ([`ScaleError::TooLarge`], the kernels would overflow). Zero gives
    /// `{0, 0}` as in TFLite.
    pub fn from_real(real: f64) -> Result<QuantizedMultiplier, ScaleError> {
        Self::from_real_max_shift(real, 30)
    }

    /// [`from_real`](Self::from_real) accepting a left shift up to `max_shift` (at most 31):
    /// the softmax input multiplier may reach `2^31 - 1`.
    pub(crate) fn from_real_max_shift(
        real: f64,
        max_shift: i32,
    ) -> Result<QuantizedMultiplier, ScaleError> {
        if !real.is_finite() || real < 0.0 {
            return Err(ScaleError::NotPositiveFinite);
        }
        if real == 0.0 {
            return Ok(QuantizedMultiplier::default());
        }
        let (q, mut shift) = frexp(real);
        // q in [0.5, 1): q * 2^31 is exact and below 2^31 + 1.
        let mut q_fixed = round_half_away_f64(q * 2_147_483_648.0) as i64;
        if q_fixed == 1 << 31 {
            q_fixed /= 2;
            shift += 1;
        }
        if shift < -31 {
            shift = 0;
            q_fixed = 0;
        }
        if shift > max_shift.min(31) {
            return Err(ScaleError::TooLarge);
        }
        Ok(QuantizedMultiplier { multiplier: q_fixed as i32, shift })
    }

    /// Applies the multiplier to `x`: [`multiply_by_quantized_multiplier`].
    #[inline]
    pub fn apply(self, x: i32) -> i32 {
        multiply_by_quantized_multiplier(x, self.multiplier, self.shift)
    }

    /// Applies the multiplier with one rounding (FULLY_CONNECTED's rescale):
    /// [`multiply_by_quantized_multiplier_single_rounding`].
    #[inline]
    pub fn apply_single_rounding(self, x: i32) -> i32 {
        multiply_by_quantized_multiplier_single_rounding(x, self.multiplier, self.shift)
    }
}

/// `frexp` for finite, nonzero `f64`: `x = m * 2^e` with `|m|` in `[0.5, 1)`. Returns `(x, 0)`
/// for zero, NaN and infinities (as C's `frexp` does for zero; the others are not used).
pub fn frexp(x: f64) -> (f64, i32) {
    if x == 0.0 || !x.is_finite() {
        return (x, 0);
    }
    let bits = x.to_bits();
    let exp_bits = ((bits >> 52) & 0x7ff) as i32;
    if exp_bits == 0 {
        // Subnormal: scale into the normal range first (2^54 is exact).
        let (m, e) = frexp(x * 18_014_398_509_481_984.0);
        return (m, e - 54);
    }
    let e = exp_bits - 1022;
    let m_bits = (bits & !(0x7ff << 52)) | (1022u64 << 52);
    (f64::from_bits(m_bits), e)
}

/// Rounds half away from zero (C's `round`), for any `f64`; NaN and infinities pass through.
pub fn round_half_away_f64(x: f64) -> f64 {
    // Every f64 with magnitude >= 2^52 is already an integer.
    if !x.is_finite() || x.abs() >= 4_503_599_627_370_496.0 {
        return x;
    }
    let t = x as i64 as f64; // truncation toward zero, exact in this range
    let frac = x - t;
    if frac >= 0.5 {
        t + 1.0
    } else if frac <= -0.5 {
        t - 1.0
    } else {
        t
    }
}

/// gemmlowp's `SaturatingRoundingDoublingHighMul`: `round(a * b / 2^31)` with positive ties
/// rounded up and negative ties rounded toward zero (the nudge is `2^30` or `1 - 2^30`), saturating the single overflowing case `i32::MIN * i32::MIN` to `i32::MAX`.
#[inline]
pub fn saturating_rounding_doubling_high_mul(a: i32, b: i32) -> i32 {
    if a == i32::MIN && b == i32::MIN {
        return i32::MAX;
    }
    let ab = a as i64 * b as i64;
    let nudge: i64 = if ab >= 0 { 1 << 30 } else { 1 - (1 << 30) };
    // Division truncates toward zero, as in C.
    ((ab + nudge) / (1i64 << 31)) as i32
}

/// gemmlowp's `RoundingDivideByPOT`: `x / 2^exponent` rounded to nearest, ties away from zero.
/// `exponent` is clamped to `0..=31` (TFLite never passes anything else).
#[inline]
pub fn rounding_divide_by_pot(x: i32, exponent: i32) -> i32 {
    let exponent = exponent.clamp(0, 31) as u32;
    let mask: i32 = ((1i64 << exponent) - 1) as i32;
    let remainder = x & mask;
    let threshold = (mask >> 1) + i32::from(x < 0);
    (x >> exponent) + i32::from(remainder > threshold)
}

/// TFLite's `MultiplyByQuantizedMultiplier(int32 x, multiplier, shift)` (double-rounding build):
/// `RoundingDivideByPOT(SRDHM(x * 2^max(shift,0), multiplier), max(-shift,0))`.
///
/// The left shift wraps on overflow like the two's-complement C code does in practice;
/// [`QuantizedMultiplier::from_real`] keeps `shift <= 30`.
#[inline]
pub fn multiply_by_quantized_multiplier(x: i32, multiplier: i32, shift: i32) -> i32 {
    let left_shift = if shift > 0 { shift } else { 0 };
    let right_shift = if shift > 0 { 0 } else { -shift };
    let shifted = x.wrapping_mul(1i32.wrapping_shl(left_shift as u32));
    rounding_divide_by_pot(saturating_rounding_doubling_high_mul(shifted, multiplier), right_shift)
}

/// FULLY_CONNECTED's rescale in TFLite's reference kernels: the full Q0.31 multiplier and one
/// rounding, `(x * multiplier + 2^(30 - shift)) >> (31 - shift)` in 64-bit arithmetic (ties
/// rounded up), saturated to `i32`.
///
/// `shift` is clamped to `-31..=30` (what [`QuantizedMultiplier::from_real`] produces), so the
/// total right shift is 1 to 62 and the 64-bit sum cannot overflow for any `i32` accumulator and
/// non-negative multiplier.
#[inline]
pub fn multiply_by_quantized_multiplier_single_rounding(
    x: i32,
    multiplier: i32,
    shift: i32,
) -> i32 {
    let total_shift = 31 - shift.clamp(-31, 30);
    let product = x as i64 * multiplier as i64;
    let rounded = product.wrapping_add(1i64 << (total_shift - 1)) >> total_shift;
    rounded.clamp(i32::MIN as i64, i32::MAX as i64) as i32
}

/// TFLite's `MultiplyByQuantizedMultiplierGreaterThanOne`: `SRDHM(x * 2^left_shift, multiplier)`.
#[inline]
pub fn multiply_by_quantized_multiplier_greater_than_one(
    x: i32,
    multiplier: i32,
    left_shift: i32,
) -> i32 {
    let shifted = x.wrapping_mul(1i32.wrapping_shl(left_shift.clamp(0, 31) as u32));
    saturating_rounding_doubling_high_mul(shifted, multiplier)
}

/// A fused activation of TFLite's builtin options (`ActivationFunctionType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum FusedActivation {
    /// No clamp beyond the int8 range.
    None,
    /// `max(x, 0)`.
    Relu,
    /// `clamp(x, -1, 1)`.
    ReluN1To1,
    /// `clamp(x, 0, 6)`.
    Relu6,
}

impl FusedActivation {
    /// From the schema's `ActivationFunctionType` code: 0 NONE, 1 RELU, 2 RELU_N1_TO_1,
    /// 3 RELU6; `None` for TANH, SIGN_BIT and unknown codes (not supported as fused activations
    /// of int8 kernels).
    pub fn from_code(code: u8) -> Option<FusedActivation> {
        match code {
            0 => Some(FusedActivation::None),
            1 => Some(FusedActivation::Relu),
            2 => Some(FusedActivation::ReluN1To1),
            3 => Some(FusedActivation::Relu6),
            _ => None,
        }
    }
}

/// TFLite's `Quantize` helper of `CalculateActivationRangeQuantized`: `zero_point +
/// round(real / scale)` in `f32`, `None` if the rounded value is outside the `i32` range.
fn quantize_bound(scale: f32, zero_point: i32, real: f32) -> Option<i32> {
    let tmp = crate::math::round(real / scale);
    if !(tmp >= i32::MIN as f32 && tmp <= i32::MAX as f32) {
        return None;
    }
    Some(zero_point.wrapping_add(tmp as i32))
}

/// The int8 clamp bounds `(min, max)` of a fused activation for an output quantized with
/// `scale`/`zero_point` (TFLite's `CalculateActivationRangeQuantized`).
pub fn activation_range(
    activation: FusedActivation,
    scale: f32,
    zero_point: i32,
) -> Result<(i32, i32), ScaleError> {
    let (qmin, qmax) = (i8::MIN as i32, i8::MAX as i32);
    if !(scale.is_finite() && scale > 0.0) {
        return Err(ScaleError::NotPositiveFinite);
    }
    let q = |real: f32| quantize_bound(scale, zero_point, real).ok_or(ScaleError::TooLarge);
    let range = match activation {
        FusedActivation::None => (qmin, qmax),
        FusedActivation::Relu => (qmin.max(q(0.0)?), qmax),
        FusedActivation::Relu6 => (qmin.max(q(0.0)?), qmax.min(q(6.0)?)),
        FusedActivation::ReluN1To1 => (qmin.max(q(-1.0)?), qmax.min(q(1.0)?)),
    };
    Ok(range)
}

/// Clamps an `i32` into `[min, max]` and narrows it to `i8` (the bounds are int8 values).
#[inline]
pub fn clamp_to_i8(x: i32, min: i32, max: i32) -> i8 {
    x.max(min).min(max).clamp(i8::MIN as i32, i8::MAX as i32) as i8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn srdhm_saturates_only_min_times_min() {
        assert_eq!(saturating_rounding_doubling_high_mul(i32::MIN, i32::MIN), i32::MAX);
        // MIN * MAX = -(2^31)(2^31 - 1); doubled high half = -(2^31 - 1) exactly.
        assert_eq!(saturating_rounding_doubling_high_mul(i32::MIN, i32::MAX), -i32::MAX);
        assert_eq!(saturating_rounding_doubling_high_mul(i32::MAX, i32::MAX), i32::MAX - 1);
    }

    #[test]
    fn srdhm_rounds_half_away_from_zero() {
        // 1 * 2^30 / 2^31 = 0.5 -> 1, but the negative nudge is 1 - 2^30, so a negative tie
        // goes toward zero: -0.5 -> 0 and -1.5 -> -1.
        assert_eq!(saturating_rounding_doubling_high_mul(1, 1 << 30), 1);
        assert_eq!(saturating_rounding_doubling_high_mul(-1, 1 << 30), 0);
        assert_eq!(saturating_rounding_doubling_high_mul(-3, 1 << 30), -1);
        assert_eq!(saturating_rounding_doubling_high_mul(-5, 1 << 29), -1); // -1.25 -> -1
        assert_eq!(saturating_rounding_doubling_high_mul(-7, 1 << 29), -2); // -1.75 -> -2
                                                                            // 3 * 2^29 / 2^31 = 0.75 -> 1; 2^29 / 2^31 = 0.25 -> 0
        assert_eq!(saturating_rounding_doubling_high_mul(3, 1 << 29), 1);
        assert_eq!(saturating_rounding_doubling_high_mul(1, 1 << 29), 0);
        assert_eq!(saturating_rounding_doubling_high_mul(-1, 1 << 29), 0);
        assert_eq!(saturating_rounding_doubling_high_mul(1000, 1 << 30), 500);
    }

    #[test]
    fn rounding_divide_by_pot_rounds_ties_away_from_zero() {
        assert_eq!(rounding_divide_by_pot(5, 1), 3); // 2.5 -> 3
        assert_eq!(rounding_divide_by_pot(-5, 1), -3); // -2.5 -> -3
        assert_eq!(rounding_divide_by_pot(-4, 1), -2);
        assert_eq!(rounding_divide_by_pot(7, 2), 2); // 1.75 -> 2
        assert_eq!(rounding_divide_by_pot(-7, 2), -2);
        assert_eq!(rounding_divide_by_pot(-6, 2), -2); // -1.5 -> -2
        assert_eq!(rounding_divide_by_pot(6, 2), 2); // 1.5 -> 2
        assert_eq!(rounding_divide_by_pot(-5, 2), -1); // -1.25 -> -1
        assert_eq!(rounding_divide_by_pot(123, 0), 123);
        assert_eq!(rounding_divide_by_pot(i32::MIN, 31), -1);
        assert_eq!(rounding_divide_by_pot(i32::MAX, 31), 1);
    }

    #[test]
    fn quantize_multiplier_matches_hand_values() {
        let m = QuantizedMultiplier::from_real(0.5).unwrap();
        assert_eq!((m.multiplier, m.shift), (1 << 30, 0));
        let m = QuantizedMultiplier::from_real(0.25).unwrap();
        assert_eq!((m.multiplier, m.shift), (1 << 30, -1));
        let m = QuantizedMultiplier::from_real(1.0).unwrap();
        assert_eq!((m.multiplier, m.shift), (1 << 30, 1));
        let m = QuantizedMultiplier::from_real(0.75).unwrap();
        assert_eq!((m.multiplier, m.shift), (3 << 29, 0));
        // Rounds up to 2^31: renormalised.
        let m = QuantizedMultiplier::from_real(1.0 - 1e-12).unwrap();
        assert_eq!((m.multiplier, m.shift), (1 << 30, 1));
        assert_eq!(QuantizedMultiplier::from_real(0.0).unwrap(), QuantizedMultiplier::default());
        // Below 2^-32: flushed to zero.
        let m = QuantizedMultiplier::from_real(1e-10).unwrap();
        assert_eq!((m.multiplier, m.shift), (0, 0));
        assert!(QuantizedMultiplier::from_real(f64::NAN).is_err());
        assert!(QuantizedMultiplier::from_real(-1.0).is_err());
        assert!(QuantizedMultiplier::from_real(1e12).is_err());
    }

    #[test]
    fn multiply_by_quantized_multiplier_hand_values() {
        let half = QuantizedMultiplier::from_real(0.5).unwrap();
        assert_eq!(half.apply(3), 2); // 1.5 -> 2
        assert_eq!(half.apply(-3), -1); // -1.5: the high multiply's negative tie goes to -1
        let quarter = QuantizedMultiplier::from_real(0.25).unwrap();
        assert_eq!(quarter.apply(6), 2); // 1.5 -> 2
        assert_eq!(quarter.apply(-6), -2);
        assert_eq!(quarter.apply(-5), -1); // -1.25 -> -1
        let three = QuantizedMultiplier::from_real(3.0).unwrap();
        assert_eq!(three.apply(7), 21);
        assert_eq!(three.apply(-7), -21);
    }

    #[test]
    fn single_rounding_hand_values() {
        // 0.5: multiplier 2^30, shift 0: (x * 2^30 + 2^30) >> 31 = round-half-up(x / 2).
        let half = QuantizedMultiplier::from_real(0.5).unwrap();
        assert_eq!(half.apply_single_rounding(3), 2);
        assert_eq!(half.apply_single_rounding(-3), -1); // -1.5 rounds up to -1
        assert_eq!(half.apply_single_rounding(-5), -2); // -2.5 -> -2
        assert_eq!(half.apply_single_rounding(1 << 30), 1 << 29);
        // The full multiplier keeps its precision: 0.3 * 1_000_000 is 300_000 exactly.
        let m = QuantizedMultiplier::from_real(0.3).unwrap();
        assert_eq!(m.shift, -1);
        assert_eq!(m.apply_single_rounding(1_000_000), 300_000);
        // The case that a 16-bit reduced multiplier gets wrong: 99,642 * 1,737,964,089 / 2^40
        // = 157.5010..., so 158 (the reduced multiplier gives 157).
        assert_eq!(
            multiply_by_quantized_multiplier_single_rounding(99_642, 1_737_964_089, -9),
            158
        );
        // A tie: 3 * 2^30 / 2^31 = 1.5 rounds up; -1.5 rounds up to -1.
        assert_eq!(multiply_by_quantized_multiplier_single_rounding(3, 1 << 30, 0), 2);
        assert_eq!(multiply_by_quantized_multiplier_single_rounding(-3, 1 << 30, 0), -1);
        // Large left shifts saturate instead of wrapping.
        let big = multiply_by_quantized_multiplier_single_rounding(i32::MAX, i32::MAX, 30);
        assert_eq!(big, i32::MAX);
        let small = multiply_by_quantized_multiplier_single_rounding(i32::MIN, i32::MAX, 30);
        assert_eq!(small, i32::MIN);
        // The smallest shift: 2^-62 of the product, rounded.
        assert_eq!(multiply_by_quantized_multiplier_single_rounding(i32::MAX, i32::MAX, -31), 1);
    }

    #[test]
    fn frexp_and_round() {
        assert_eq!(frexp(1.0), (0.5, 1));
        assert_eq!(frexp(0.75), (0.75, 0));
        assert_eq!(frexp(-3.0), (-0.75, 2));
        assert_eq!(frexp(f64::MIN_POSITIVE / 4.0), (0.5, -1023));
        assert_eq!(round_half_away_f64(2.5), 3.0);
        assert_eq!(round_half_away_f64(-2.5), -3.0);
        assert_eq!(round_half_away_f64(2.4999), 2.0);
    }

    #[test]
    fn activation_ranges() {
        assert_eq!(activation_range(FusedActivation::None, 0.1, 3).unwrap(), (-128, 127));
        assert_eq!(activation_range(FusedActivation::Relu, 0.1, -5).unwrap(), (-5, 127));
        // 6 / 0.1 = 60 (in f32: 59.999998 -> 60) + (-5)
        assert_eq!(activation_range(FusedActivation::Relu6, 0.1, -5).unwrap(), (-5, 55));
        assert_eq!(activation_range(FusedActivation::Relu6, 0.01, -128).unwrap(), (-128, 127));
        assert!(activation_range(FusedActivation::Relu, 0.0, 0).is_err());
    }
}
