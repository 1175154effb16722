//! SOFTMAX (int8 in, int8 out with scale 1/256 and zero point -128), TFLite's reference
//! fixed-point algorithm (`reference_ops::Softmax<int8_t, int8_t>`).
//!
//! Per row: `d = x - max(row)`; values with `d < diff_min` contribute nothing and output -128.
//! Otherwise `d` is rescaled to Q5.26 by the input-beta multiplier, `e = exp(d)` is evaluated in
//! Q0.31 with gemmlowp's fixed-point `exp_on_negative_values`, the sum of `e` is accumulated in
//! Q12.19, inverted with a Newton-Raphson `1/(1+x)` and `out = clamp(-128 + round(e / sum * 256))`,
//! all in integers. The preparation (`beta * input_scale * 2^26` and `diff_min`) uses `f64` once.

use super::KernelError;
use crate::engine::arith::{
    multiply_by_quantized_multiplier_greater_than_one, rounding_divide_by_pot,
    saturating_rounding_doubling_high_mul as srdhm, QuantizedMultiplier,
};

/// Integer bits of the rescaled input differences (Q5.26).
const SCALED_DIFF_INTEGER_BITS: i32 = 5;
/// Integer bits of the sum of exponentials (Q12.19).
const ACCUMULATION_INTEGER_BITS: i32 = 12;

/// The integer parameters of one SOFTMAX operator.
///
/// Plain data (`#[repr(C)]`), so its operator's record holds it whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(C)]
pub struct Softmax {
    /// Q0.31 significand of `beta * input_scale * 2^26`.
    pub input_multiplier: i32,
    /// Its left shift (0..=31).
    pub input_left_shift: i32,
    /// Differences from the row maximum below this are treated as `exp = 0`.
    pub diff_min: i32,
}

impl Softmax {
    /// TFLite's `PreprocessSoftmaxScaling` (with 5 integer bits) and `CalculateInputRadius`.
    pub fn new(beta: f32, input_scale: f32) -> Result<Softmax, KernelError> {
        let max_real = (1u64 << 31) as f64 - 1.0;
        let real =
            beta as f64 * input_scale as f64 * (1u64 << (31 - SCALED_DIFF_INTEGER_BITS)) as f64;
        let real = if real < max_real { real } else { max_real };
        let m = QuantizedMultiplier::from_real_max_shift(real, 31)?;
        if m.shift < 0 {
            // QuantizeMultiplierGreaterThanOne refuses multipliers below one.
            return Err(KernelError::Unsupported);
        }
        // floor(((1 << 5) - 1) * 2^(31 - 5) / 2^shift), exact in f64.
        let radius = (31.0 * (1u64 << 26) as f64 / (1u64 << m.shift) as f64) as i64;
        Ok(Softmax {
            input_multiplier: m.multiplier,
            input_left_shift: m.shift,
            diff_min: -(radius as i32),
        })
    }

    /// Runs softmax over the last dimension: `input` and `output` are `rows x depth`.
    ///
    /// Errors: [`KernelError::ShapeMismatch`] if the lengths differ or are not a multiple of
    /// `depth` (checked before writing).
    pub fn eval(&self, input: &[i8], output: &mut [i8], depth: usize) -> Result<(), KernelError> {
        if input.len() != output.len() || depth == 0 || !input.len().is_multiple_of(depth) {
            return if input.is_empty() && output.is_empty() {
                Ok(())
            } else {
                Err(KernelError::ShapeMismatch)
            };
        }
        for (row, out_row) in input.chunks_exact(depth).zip(output.chunks_exact_mut(depth)) {
            let max = row.iter().copied().max().unwrap_or(i8::MIN) as i32;
            let mut sum_of_exps = 0i32;
            for &x in row {
                if let Some(e) = self.exp_of_diff(x as i32 - max) {
                    sum_of_exps = sum_of_exps
                        .wrapping_add(rounding_divide_by_pot(e, ACCUMULATION_INTEGER_BITS));
                }
            }
            let (scale, bits_over_unit) = reciprocal(sum_of_exps, ACCUMULATION_INTEGER_BITS);
            let exponent = bits_over_unit + 31 - 8;
            for (&x, out) in row.iter().zip(out_row.iter_mut()) {
                *out = match self.exp_of_diff(x as i32 - max) {
                    Some(e) => {
                        let unsat = rounding_divide_by_pot(srdhm(scale, e), exponent);
                        unsat.saturating_sub(128).clamp(-128, 127) as i8
                    }
                    None => i8::MIN,
                };
            }
        }
        Ok(())
    }

    /// `exp(beta * input_scale * diff)` in Q0.31, `None` below `diff_min`.
    #[inline]
    fn exp_of_diff(&self, diff: i32) -> Option<i32> {
        if diff < self.diff_min {
            return None;
        }
        let rescaled = multiply_by_quantized_multiplier_greater_than_one(
            diff,
            self.input_multiplier,
            self.input_left_shift,
        );
        Some(exp_on_negative_values_q5(rescaled))
    }
}

/// gemmlowp's saturating left shift (`SaturatingRoundingMultiplyByPOT` with exponent > 0).
#[inline]
fn saturating_shl(x: i32, exponent: u32) -> i32 {
    let threshold = (1i32 << (31 - exponent)) - 1;
    if x > threshold {
        i32::MAX
    } else if x < -threshold {
        i32::MIN
    } else {
        x << exponent
    }
}

/// gemmlowp's `exp_on_interval_between_negative_one_quarter_and_0_excl`, Q0.31 in and out.
fn exp_on_quarter_interval(a: i32) -> i32 {
    const CONSTANT_TERM: i32 = 1_895_147_668; // exp(-1/8)
    const ONE_THIRD: i32 = 715_827_883;
    let x = a.wrapping_add(1 << 28);
    let x2 = srdhm(x, x);
    let x3 = srdhm(x2, x);
    let x4 = srdhm(x2, x2);
    let x4_over_4 = rounding_divide_by_pot(x4, 2);
    let poly =
        rounding_divide_by_pot(srdhm(x4_over_4.wrapping_add(x3), ONE_THIRD).wrapping_add(x2), 1);
    CONSTANT_TERM.wrapping_add(srdhm(CONSTANT_TERM, x.wrapping_add(poly)))
}

/// gemmlowp's `exp_on_negative_values` for a Q5.26 input, Q0.31 output.
pub(crate) fn exp_on_negative_values_q5(a: i32) -> i32 {
    const FRACTIONAL_BITS: i32 = 31 - SCALED_DIFF_INTEGER_BITS;
    const ONE_QUARTER: i32 = 1 << (FRACTIONAL_BITS - 2);
    // exp(-2^k) in Q0.31 for k = -2..=4.
    const BARREL: [(i32, i32); 7] = [
        (-2, 1_672_461_947),
        (-1, 1_302_514_674),
        (0, 790_015_084),
        (1, 290_630_308),
        (2, 39_332_535),
        (3, 720_401),
        (4, 242),
    ];
    let mask = ONE_QUARTER - 1;
    let a_mod_quarter_minus_one_quarter = (a & mask) - ONE_QUARTER;
    let mut result = exp_on_quarter_interval(saturating_shl(
        a_mod_quarter_minus_one_quarter,
        SCALED_DIFF_INTEGER_BITS as u32,
    ));
    let remainder = a_mod_quarter_minus_one_quarter.wrapping_sub(a);
    for (exponent, multiplier) in BARREL {
        if remainder & (1 << (FRACTIONAL_BITS + exponent)) != 0 {
            result = srdhm(result, multiplier);
        }
    }
    if a == 0 {
        i32::MAX
    } else {
        result
    }
}

/// gemmlowp's `RoundingHalfSum` for `i32`.
#[inline]
fn rounding_half_sum(a: i32, b: i32) -> i32 {
    let sum = a as i64 + b as i64;
    let sign = if sum >= 0 { 1 } else { -1 };
    ((sum + sign) / 2) as i32
}

/// gemmlowp's `one_over_one_plus_x_for_x_in_0_1`, Q0.31 in and out (Newton-Raphson in Q2.29).
pub(crate) fn one_over_one_plus_x(a: i32) -> i32 {
    const F2_ONE: i32 = 1 << 29;
    const C48_OVER_17: i32 = 1_515_870_810;
    const CNEG32_OVER_17: i32 = -1_010_580_540;
    let half_denominator = rounding_half_sum(a, i32::MAX);
    let mut x = C48_OVER_17.wrapping_add(srdhm(half_denominator, CNEG32_OVER_17));
    for _ in 0..3 {
        let half_denominator_times_x = srdhm(half_denominator, x);
        let one_minus = F2_ONE.wrapping_sub(half_denominator_times_x);
        x = x.wrapping_add(saturating_shl(srdhm(x, one_minus), 2));
    }
    saturating_shl(x, 1)
}

/// TFLite's `GetReciprocal`: `(1 / x)` as a Q0.31 scale and the number of bits `x` (with
/// `integer_bits` integer bits) exceeds one.
fn reciprocal(x: i32, integer_bits: i32) -> (i32, i32) {
    let headroom_plus_one = (x as u32).leading_zeros();
    let bits_over_unit = integer_bits - headroom_plus_one as i32;
    let shifted =
        (x as u32).checked_shl(headroom_plus_one).unwrap_or(0).wrapping_sub(1 << 31) as i32;
    (one_over_one_plus_x(shifted), bits_over_unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    const Q31_ONE: f64 = 2_147_483_648.0;

    #[test]
    fn exp_hand_values() {
        assert_eq!(exp_on_negative_values_q5(0), i32::MAX);
        // -1 in Q5.26 decomposes as -1/4 (polynomial) times exp(-1/4) times exp(-1/2); the
        // 4th-order polynomial is good to ~2.5e-7.
        let e = exp_on_negative_values_q5(-(1 << 26)) as f64 / Q31_ONE;
        assert!((e - (-1.0f64).exp()).abs() < 5e-7, "{e}");
        let e = exp_on_negative_values_q5(-(3 << 25)) as f64 / Q31_ONE; // -1.5
        assert!((e - (-1.5f64).exp()).abs() < 5e-7, "{e}");
        // Below -32 nothing is left.
        assert!(exp_on_negative_values_q5(i32::MIN + 1) < 8);
    }

    #[test]
    fn reciprocal_hand_values() {
        // 1 / (1 + 0) saturates just below one; 1 / (1 + 1) is one half.
        assert!(one_over_one_plus_x(0) >= i32::MAX - 4);
        let half = one_over_one_plus_x(i32::MAX) as f64 / Q31_ONE;
        assert!((half - 0.5).abs() < 1e-8, "{half}");
        let third = one_over_one_plus_x(1 << 30) as f64 / Q31_ONE; // 1 / 1.5
        assert!((third - 2.0 / 3.0).abs() < 1e-8, "{third}");
    }

    #[test]
    fn uniform_row_splits_evenly() {
        // Four equal inputs: each gets 1/4, i.e. 64/256 -> 64 - 128.
        let sm = Softmax::new(1.0, 0.1).unwrap();
        let mut out = [0i8; 4];
        sm.eval(&[5, 5, 5, 5], &mut out, 4).unwrap();
        assert_eq!(out, [-64; 4]);
        // One dominant input takes everything it can (255/256 saturates to 127).
        let mut out = [0i8; 2];
        sm.eval(&[127, -128], &mut out, 2).unwrap();
        assert_eq!(out, [127, -128]);
        assert!(sm.eval(&[1, 2, 3], &mut out, 2).is_err());
    }

    #[test]
    fn prepare_hand_values() {
        // beta * scale * 2^26 = 0.5 * 2^26 = 2^25: multiplier 2^30, shift 26.
        let sm = Softmax::new(1.0, 0.5).unwrap();
        assert_eq!((sm.input_multiplier, sm.input_left_shift), (1 << 30, 26));
        // diff_min = -floor(31 * 2^26 / 2^26) = -31.
        assert_eq!(sm.diff_min, -31);
    }
}
