//! gemmlowp's fixed-point logistic and tanh on 16-bit values, as TFLite's reference integer LSTM
//! applies them to its gates (`tensor_utils::ApplySigmoid` / `ApplyTanh`, portable build).
//!
//! A raw `i16` with `k` integer bits stands for `raw / 2^(15 - k)`; results have 0 integer bits
//! (`raw / 2^15`). Every step is the 16-bit instance of gemmlowp's templates: the same constants
//! (its 32-bit constants rounded to 16 bits), the same rounding doubling multiplies, the same
//! wrapping adds where gemmlowp's operators wrap and saturating ones where it saturates. The
//! formulas are in `docs/engine.md` (LSTM section).

use crate::engine::arith::rounding_divide_by_pot;

/// A gemmlowp 32-bit constant rounded to 16 bits (`RescaleConstantInitializer<int16>`).
const fn constant(c: i32) -> i16 {
    // Same rounding as `rounding_divide_by_pot(c, 16)`, written out to be usable in a const.
    let mask = (1i32 << 16) - 1;
    let remainder = c & mask;
    let threshold = (mask >> 1) + if c < 0 { 1 } else { 0 };
    ((c >> 16) + if remainder > threshold { 1 } else { 0 }) as i16
}

/// The largest value below one with 0 integer bits (`FixedPoint<int16, 0>::One()`).
const ONE: i16 = i16::MAX;

/// `SaturatingRoundingDoublingHighMul` on `i16`: `round(a b / 2^15)`, `MIN * MIN` saturates.
#[inline]
pub fn mul(a: i16, b: i16) -> i16 {
    if a == i16::MIN && b == i16::MIN {
        return i16::MAX;
    }
    let ab = a as i32 * b as i32;
    let nudge = if ab >= 0 { 1 << 14 } else { 1 - (1 << 14) };
    ((ab + nudge) / (1 << 15)) as i16
}

/// `RoundingDivideByPOT` on `i16` (ties away from zero).
#[inline]
pub fn divide_by_pot(x: i16, exponent: i32) -> i16 {
    rounding_divide_by_pot(x as i32, exponent) as i16
}

/// `SaturatingRoundingMultiplyByPOT<e>` for `e >= 0` on `i16`: a left shift that saturates.
#[inline]
pub fn shift_left_saturating(x: i16, e: u32) -> i16 {
    if e == 0 {
        return x;
    }
    let threshold = (1i32 << (15 - e)) - 1;
    if x as i32 > threshold {
        i16::MAX
    } else if (x as i32) < -threshold {
        i16::MIN
    } else {
        ((x as i32) << e) as i16
    }
}

/// `RoundingHalfSum` on `i16`.
#[inline]
fn half_sum(a: i16, b: i16) -> i16 {
    let sum = a as i32 + b as i32;
    let sign = if sum >= 0 { 1 } else { -1 };
    ((sum + sign) / 2) as i16
}

/// `exp(a)` for `a` in `[-1/4, 0)`, 0 integer bits in and out (a Taylor expansion around -1/8).
fn exp_on_quarter_interval(a: i16) -> i16 {
    const CONSTANT_TERM: i16 = constant(1_895_147_668); // exp(-1/8)
    const ONE_THIRD: i16 = constant(715_827_883);
    let x = a.wrapping_add(1 << 12); // a + 1/8
    let x2 = mul(x, x);
    let x3 = mul(x2, x);
    let x4 = mul(x2, x2);
    let x4_over_4 = divide_by_pot(x4, 2);
    let sum = mul(x4_over_4.wrapping_add(x3), ONE_THIRD).wrapping_add(x2);
    let poly = divide_by_pot(sum, 1);
    CONSTANT_TERM.saturating_add(mul(CONSTANT_TERM, x.wrapping_add(poly)))
}

/// gemmlowp's `exp_on_negative_values` for a raw `a <= 0` with `k` integer bits (`0..=13`);
/// the result has 0 integer bits.
pub fn exp_on_negative_values(a: i16, k: u32) -> i16 {
    let frac = 15 - k as i32;
    let one_quarter: i16 = 1 << (frac - 2);
    let mask = one_quarter - 1;
    let a_mod_quarter_minus_one_quarter = (a & mask).wrapping_sub(one_quarter);
    let mut result =
        exp_on_quarter_interval(shift_left_saturating(a_mod_quarter_minus_one_quarter, k));
    let remainder = a_mod_quarter_minus_one_quarter.wrapping_sub(a);
    // exp(-2^e) for e = -2..=4, gemmlowp's 32-bit constants.
    const BARREL: [(i32, i32); 7] = [
        (-2, 1_672_461_947),
        (-1, 1_302_514_674),
        (0, 790_015_084),
        (1, 290_630_308),
        (2, 39_332_535),
        (3, 720_401),
        (4, 242),
    ];
    for (exponent, multiplier) in BARREL {
        if (k as i32) > exponent {
            let bit = frac + exponent;
            if (remainder as i32) & (1 << bit) != 0 {
                result = mul(result, constant(multiplier));
            }
        }
    }
    if k > 5 {
        // Below -32 the result is 0.
        let clamp = constant(-(1i32 << (36 - k)));
        if a < clamp {
            result = 0;
        }
    }
    if a == 0 {
        result = ONE;
    }
    result
}

/// One Newton-Raphson division of gemmlowp's `one_over_one_plus_x_for_x_in_0_1` and
/// `one_minus_x_over_one_plus_x_for_x_in_0_1`: `x ~= 1 / (1 + a)` with 2 integer bits.
fn reciprocal_of_one_plus(a: i16) -> i16 {
    const C48_OVER_17: i16 = constant(1_515_870_810);
    const CNEG32_OVER_17: i16 = constant(-1_010_580_540);
    const F2_ONE: i16 = 1 << 13;
    let half_denominator = half_sum(a, ONE);
    let mut x = C48_OVER_17.wrapping_add(mul(half_denominator, CNEG32_OVER_17));
    for _ in 0..3 {
        let half_denominator_times_x = mul(half_denominator, x);
        let one_minus = F2_ONE.wrapping_sub(half_denominator_times_x);
        x = x.wrapping_add(shift_left_saturating(mul(x, one_minus), 2));
    }
    x
}

/// gemmlowp's `one_over_one_plus_x_for_x_in_0_1` (0 integer bits in and out).
fn one_over_one_plus_x(a: i16) -> i16 {
    shift_left_saturating(reciprocal_of_one_plus(a), 1)
}

/// gemmlowp's `one_minus_x_over_one_plus_x_for_x_in_0_1` (0 integer bits in and out).
fn one_minus_x_over_one_plus_x(a: i16) -> i16 {
    shift_left_saturating(reciprocal_of_one_plus(a).wrapping_sub(1 << 13), 2)
}

/// gemmlowp's `logistic` of a raw `a` with `k` integer bits (TFLite's `ApplySigmoid` uses 3):
/// `1 / (1 + e^-a)` with 0 integer bits (`[0, 32767]`).
pub fn logistic(a: i16, k: u32) -> i16 {
    if a == 0 {
        return 1 << 14;
    }
    let abs = if a > 0 { a } else { a.wrapping_neg() };
    let positive = one_over_one_plus_x(exp_on_negative_values(abs.wrapping_neg(), k));
    if a > 0 {
        positive
    } else {
        ONE.wrapping_sub(positive)
    }
}

/// gemmlowp's `tanh` of a raw `a` with `k` integer bits (`0..=6`, what TFLite's `ApplyTanh`
/// dispatches), 0 integer bits out.
pub fn tanh(a: i16, k: u32) -> i16 {
    if a == 0 {
        return 0;
    }
    let n = if a < 0 { a } else { a.wrapping_neg() };
    // neg_tanh_on_negative_values: the input doubled, read with one more integer bit.
    let t = one_minus_x_over_one_plus_x(exp_on_negative_values(n, k + 1));
    if a < 0 {
        t.wrapping_neg()
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_round_like_gemmlowp() {
        assert_eq!(constant(1 << 30), 1 << 14);
        assert_eq!(constant(242), 0);
        assert_eq!(constant(720_401), 11);
        assert_eq!(constant(-1_010_580_540), -15420);
        assert_eq!(constant(1_515_870_810), 23130);
    }

    #[test]
    fn mul_rounds_and_saturates() {
        assert_eq!(mul(i16::MIN, i16::MIN), i16::MAX);
        assert_eq!(mul(16384, 16384), 8192);
        // 3 * 16384 / 32768 = 1.5: positive tie rounds up, negative tie toward zero.
        assert_eq!(mul(3, 16384), 2);
        assert_eq!(mul(-3, 16384), -1);
    }

    /// The fixed-point functions stay within 16 steps of 2^-15 of the real functions over every
    /// input and every integer-bit count TFLite dispatches (an independent float reference; the
    /// bound is gemmlowp's 16-bit accuracy, bit-exactness is the goldens' business).
    #[test]
    fn logistic_and_tanh_follow_the_real_functions() {
        for k in 0..=6u32 {
            let mut worst_tanh = 0.0f64;
            let mut worst_logistic = 0.0f64;
            for raw in i16::MIN..=i16::MAX {
                let x = raw as f64 / (1u32 << (15 - k)) as f64;
                let t = tanh(raw, k) as f64 / 32768.0;
                worst_tanh = worst_tanh.max((t - x.tanh()).abs());
                if k == 3 {
                    let s = logistic(raw, k) as f64 / 32768.0;
                    worst_logistic = worst_logistic.max((s - 1.0 / (1.0 + (-x).exp())).abs());
                }
            }
            assert!(worst_tanh < 16.0 / 32768.0, "k {k}: {worst_tanh}");
            assert!(worst_logistic < 16.0 / 32768.0, "k {k}: {worst_logistic}");
        }
        assert_eq!(logistic(0, 3), 16384);
        assert_eq!(tanh(0, 3), 0);
        // Odd and complementary symmetry, except where the negation wraps.
        for raw in (-32767..=32767i16).filter(|&r| r != 0) {
            assert_eq!(tanh(-raw, 4), tanh(raw, 4).wrapping_neg(), "{raw}");
            assert_eq!(logistic(-raw, 3), 32767 - logistic(raw, 3), "{raw}");
        }
    }
}
