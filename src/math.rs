//! The few float helpers `core` lacks (`sqrt`, `round`), written out so the crate stays `no_std`
//! without pulling in `libm` for two functions.
//!
//! These are used by the statistics of the window and the gate, and by the
//! [`quantizer`](crate::quantizer); the int8 engine never uses floats on its run path.

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

/// Sine of `x` radians, to about 1e-6 absolute error for |x| < 10⁵ (range reduction to
/// [-π/2, π/2] and an odd polynomial). Used by the simulated sensors, not by inference.
pub fn sin(x: f32) -> f32 {
    use core::f32::consts::{FRAC_PI_2, PI, TAU};
    if !x.is_finite() {
        return f32::NAN;
    }
    // Reduce to [-π, π] in f64 so large arguments keep their phase.
    let xd = x as f64;
    let k = (xd / TAU as f64 + if xd >= 0.0 { 0.5 } else { -0.5 }) as i64;
    let mut r = (xd - k as f64 * core::f64::consts::TAU) as f32;
    // Fold into [-π/2, π/2] using sin(π - r) = sin(r).
    if r > FRAC_PI_2 {
        r = PI - r;
    } else if r < -FRAC_PI_2 {
        r = -PI - r;
    }
    let r2 = r * r;
    // Taylor series to r^11: error < 6e-8 on [-π/2, π/2].
    r * (1.0
        + r2 * (-1.0 / 6.0
            + r2 * (1.0 / 120.0
                + r2 * (-1.0 / 5040.0 + r2 * (1.0 / 362_880.0 + r2 * (-1.0 / 39_916_800.0))))))
}

/// `e^x` for `x <= 0` (the decays of the simulated sensors), to about 1e-6 relative error;
/// 0 below -87.
pub fn exp_neg(x: f32) -> f32 {
    if x.is_nan() {
        return f32::NAN;
    }
    if x >= 0.0 {
        return 1.0;
    }
    if x < -87.0 {
        return 0.0;
    }
    // e^x = 2^(x·log2 e) = 2^i · 2^f, with 2^f = e^(f·ln 2) by series on f in [0, 1).
    let t = x * core::f32::consts::LOG2_E;
    let i = t as i32 - 1; // floor for negative t
    let f = (t - i as f32) * core::f32::consts::LN_2; // in [0, ln 2]
    let mut term = 1.0f32;
    let mut sum = 1.0f32;
    for n in 1..12 {
        term *= f / n as f32;
        sum += term;
    }
    sum * f32::from_bits(((i + 127) as u32) << 23)
}

#[cfg(test)]
mod tests {
    #[test]
    fn sin_matches_std() {
        let mut x = -2000.0f32;
        while x < 2000.0 {
            assert!((super::sin(x) - x.sin()).abs() < 2e-5, "{x}");
            x += 0.173;
        }
    }

    #[test]
    fn exp_neg_matches_std() {
        let mut x = -80.0f32;
        while x <= 0.0 {
            let (ours, std) = (super::exp_neg(x), x.exp());
            assert!((ours - std).abs() <= 1e-5 * std, "{x}: {ours} vs {std}");
            x += 0.0371;
        }
        assert_eq!(super::exp_neg(-100.0), 0.0);
    }

    use super::*;

    #[test]
    fn sqrt_matches_std() {
        for &x in &[1e-30f32, 0.25, 1.0, 2.0, 9.0, 10.0, 12345.678, 1e30] {
            let ours = sqrt(x);
            let std = x.sqrt();
            assert!((ours - std).abs() <= std * 2.0 * f32::EPSILON, "{x}: {ours} vs {std}");
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
