//! The few float helpers `core` lacks (`sqrt`, `round`), written out so the crate stays `no_std`
//! without pulling in `libm` for two functions.
//!
//! These are used by the statistics of the window and the gate, and by the [`Quantizer`]
//! (crate::quantizer); the int8 engine never uses floats on its run path.

/// Square root by Newton iteration from a bit-level first guess; exact to the last bit or one ulp
/// for normal inputs, `NaN` for negative or NaN input, and `x` itself for `0.0` and `+inf`.
pub fn sqrt(x: f32) -> f32 {
    if x.is_nan() || x < 0.0 {
        return f32::NAN;
    }
    if x == 0.0 || x == f32::INFINITY {
        return x;
    }
    // First guess: halve the exponent.
    let mut y = f32::from_bits((x.to_bits() >> 1) + 0x1fbd_1df5);
    for _ in 0..4 {
        y = 0.5 * (y + x / y);
    }
    y
}

/// Rounds half away from zero, like C's `roundf` (and so like TFLite's `TfLiteRound`).
/// NaN stays NaN; infinities stay infinite.
pub fn round(x: f32) -> f32 {
    // Every f32 with magnitude >= 2^23 is already an integer.
    if !x.is_finite() || x.abs() >= 8_388_608.0 {
        return x;
    }
    let t = x as i32 as f32; // truncation toward zero, exact in this range
    let frac = x - t;
    if frac >= 0.5 {
        t + 1.0
    } else if frac <= -0.5 {
        t - 1.0
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqrt_matches_std() {
        for &x in &[1e-30f32, 0.25, 1.0, 2.0, 9.0, 10.0, 12345.678, 1e30] {
            let ours = sqrt(x);
            let std = x.sqrt();
            assert!(
                (ours - std).abs() <= std * 2.0 * f32::EPSILON,
                "{x}: {ours} vs {std}"
            );
        }
        assert!(sqrt(-1.0).is_nan());
        assert_eq!(sqrt(0.0), 0.0);
    }

    #[test]
    fn round_is_half_away_from_zero() {
        assert_eq!(round(0.5), 1.0);
        assert_eq!(round(-0.5), -1.0);
        assert_eq!(round(1.49999), 1.0);
        assert_eq!(round(-2.5), -3.0);
        assert_eq!(round(2.4999998), 2.0);
        assert_eq!(round(1e10), 1e10);
        for i in -1000..1000 {
            let x = i as f32 * 0.37;
            assert_eq!(round(x), x.round(), "{x}");
        }
    }
}
