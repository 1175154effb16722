//! Property tests of the fixed-point primitives and the padding arithmetic against the deliberately simple scalar references of
//! `kernel_support` (which share no code with the kernels). Shapes, strides, padding, zero
//! points and multipliers are drawn at random; tensor contents come from a seeded generator.

mod kernel_support;

use edge_reflex::engine::arith::{
    multiply_by_quantized_multiplier, rounding_divide_by_pot,
    saturating_rounding_doubling_high_mul, QuantizedMultiplier,
};
use edge_reflex::engine::kernels::{padding, Padding};
use kernel_support::*;
use proptest::prelude::*;

// ---------------------------------------------------------------- fixed-point primitives

#[test]
fn fixed_point_hand_values() {
    assert_eq!(saturating_rounding_doubling_high_mul(i32::MIN, i32::MIN), i32::MAX);
    assert_eq!(ref_srdhm(i32::MIN, i32::MIN), i32::MAX);
    assert_eq!(saturating_rounding_doubling_high_mul(-1, 1 << 30), 0); // -0.5 -> 0
    assert_eq!(saturating_rounding_doubling_high_mul(1, 1 << 30), 1); // 0.5 -> 1
    assert_eq!(rounding_divide_by_pot(-5, 1), -3); // -2.5 -> -3
    assert_eq!(rounding_divide_by_pot(5, 1), 3);
    assert_eq!(rounding_divide_by_pot(-9, 3), -1); // -1.125 -> -1
    assert_eq!(rounding_divide_by_pot(-12, 3), -2); // -1.5 -> -2
                                                    // 0.3 as a multiplier: 0.6 * 2^31 rounded, shift -1.
    let m = QuantizedMultiplier::from_real(0.3).unwrap();
    assert_eq!((m.multiplier, m.shift), (1_288_490_189, -1));
    assert_eq!(m.apply(100), 30);
    assert_eq!(m.apply(-100), -30);
    assert_eq!(m.apply(5), 2); // 1.5 -> 2 (positive tie up)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn srdhm_matches_exact_rounding(a in any::<i32>(), b in any::<i32>()) {
        prop_assert_eq!(saturating_rounding_doubling_high_mul(a, b), ref_srdhm(a, b));
    }

    #[test]
    fn rounding_divide_matches_exact_rounding(x in any::<i32>(), e in 0i32..=31) {
        prop_assert_eq!(rounding_divide_by_pot(x, e), ref_rdbpot(x, e));
    }

    #[test]
    fn quantized_multiplier_is_accurate(real in 1e-9f64..1e9f64) {
        let m = QuantizedMultiplier::from_real(real).unwrap();
        if real < 2f64.powi(-32) {
            prop_assert_eq!(m.multiplier, 0);
        } else {
            prop_assert!(m.multiplier >= 1 << 30);
            let back = m.multiplier as f64 * 2f64.powi(m.shift - 31);
            prop_assert!((back - real).abs() <= real * 2f64.powi(-30), "{back} vs {real}");
        }
    }

    #[test]
    fn multiply_by_quantized_multiplier_matches(x in -(1i32 << 24)..(1 << 24), real in 1e-6f64..100.0) {
        let m = QuantizedMultiplier::from_real(real).unwrap();
        prop_assert_eq!(multiply_by_quantized_multiplier(x, m.multiplier, m.shift), ref_mbqm(x, m));
        // And it is within one step of the real product.
        let exact = x as f64 * m.multiplier as f64 * 2f64.powi(m.shift - 31);
        prop_assert!((m.apply(x) as f64 - exact).abs() <= 1.0);
    }
}

// ---------------------------------------------------------------- padding arithmetic

proptest! {
    #[test]
    fn padding_follows_tflite_formulas(
        scheme in padding_scheme(), input in 1usize..40, filter in 1usize..8,
        stride in 1usize..5, dilation in 1usize..4,
    ) {
        let effective = (filter - 1) * dilation + 1;
        let expected_out = match scheme {
            Padding::Same => input.div_ceil(stride),
            Padding::Valid => (input + 1).saturating_sub(effective).div_ceil(stride),
        };
        match padding(scheme, input, filter, stride, dilation) {
            None => prop_assert_eq!(expected_out, 0),
            Some((out, pad)) => {
                prop_assert_eq!(out, expected_out);
                let total = ((out - 1) * stride + effective).saturating_sub(input);
                prop_assert_eq!(pad, total / 2);
            }
        }
    }
}
