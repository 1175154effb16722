//! LOGISTIC and TANH (int8): a 256-entry lookup table built at load time.
//!
//! TFLite's reference resolver evaluates int8 LOGISTIC and TANH through a table filled by
//! `LUTPopulate<int8_t>`: for every input byte `q`, `x = input_scale * (q - zp_in)` (`f32`),
//! `y = 1 / (1 + expf(-x))` or `tanhf(x)` in `f32`, `out = clamp(round(y * (1 / output_scale)) +
//! zp_out)`. The table is built once with float code ([`ActivationTable::logistic`],
//! [`ActivationTable::tanh`]); running the operator is a byte lookup. `expf`/`tanhf` are computed
//! correctly rounded (through `f64` with ample precision), which is what glibc returns.

use super::KernelError;
use crate::math::round;

/// A 256-entry int8 lookup table, indexed by the input byte reinterpreted as `u8`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ActivationTable {
    /// `table[q as u8]` is the output for input `q`.
    pub table: [i8; 256],
}

impl ActivationTable {
    /// The LOGISTIC table: `1 / (1 + exp(-x))`, output quantized with `output_scale` /
    /// `output_zero_point` (TFLite requires 1/256 and -128; the loader checks that).
    pub fn logistic(
        input_scale: f32,
        input_zero_point: i32,
        output_scale: f32,
        output_zero_point: i32,
    ) -> Result<ActivationTable, KernelError> {
        Self::populate(input_scale, input_zero_point, output_scale, output_zero_point, |x| {
            1.0 / (1.0 + expf(-x))
        })
    }

    /// The TANH table: `tanh(x)`, output quantized with `output_scale` / `output_zero_point`.
    pub fn tanh(
        input_scale: f32,
        input_zero_point: i32,
        output_scale: f32,
        output_zero_point: i32,
    ) -> Result<ActivationTable, KernelError> {
        Self::populate(input_scale, input_zero_point, output_scale, output_zero_point, tanhf)
    }

    fn populate(
        input_scale: f32,
        input_zero_point: i32,
        output_scale: f32,
        output_zero_point: i32,
        transform: impl Fn(f32) -> f32,
    ) -> Result<ActivationTable, KernelError> {
        check_scales(input_scale, output_scale)?;
        let mut table = [0i8; 256];
        fill(input_scale, input_zero_point, output_scale, output_zero_point, transform, |i, v| {
            table[i] = v
        });
        Ok(ActivationTable { table })
    }

    /// Maps every input byte through the table.
    ///
    /// Errors: [`KernelError::ShapeMismatch`] if the lengths differ (nothing written).
    pub fn eval(&self, input: &[i8], output: &mut [i8]) -> Result<(), KernelError> {
        if input.len() != output.len() {
            return Err(KernelError::ShapeMismatch);
        }
        for (x, y) in input.iter().zip(output.iter_mut()) {
            *y = self.table[*x as u8 as usize];
        }
        Ok(())
    }
}

/// Writes the LOGISTIC (`tanh` false) or TANH table, the bytes of
/// [`ActivationTable::logistic`] / [`ActivationTable::tanh`]'s `table`, into `out` (its first 256
/// bytes); with `None` only checks the parameters.
///
/// For an operator record: the table goes straight to its place, never through a 256-byte value
/// on the stack (preparation runs deep in the stack of loading a model on the device).
pub fn write_table(
    tanh: bool,
    input_scale: f32,
    input_zero_point: i32,
    output_scale: f32,
    output_zero_point: i32,
    out: Option<&mut [u8]>,
) -> Result<(), KernelError> {
    check_scales(input_scale, output_scale)?;
    let Some(out) = out else { return Ok(()) };
    let mut put = |i: usize, v: i8| {
        if let Some(b) = out.get_mut(i) {
            *b = v as u8;
        }
    };
    if tanh {
        fill(input_scale, input_zero_point, output_scale, output_zero_point, tanhf, &mut put);
    } else {
        let logistic = |x: f32| 1.0 / (1.0 + expf(-x));
        fill(input_scale, input_zero_point, output_scale, output_zero_point, logistic, &mut put);
    }
    Ok(())
}

/// Both scales must be positive and finite.
fn check_scales(input_scale: f32, output_scale: f32) -> Result<(), KernelError> {
    if !(input_scale.is_finite()
        && input_scale > 0.0
        && output_scale.is_finite()
        && output_scale > 0.0)
    {
        return Err(KernelError::Scale(crate::engine::arith::ScaleError::NotPositiveFinite));
    }
    Ok(())
}

/// Computes the table entry of every input byte and hands it to `put(index, value)`.
fn fill(
    input_scale: f32,
    input_zero_point: i32,
    output_scale: f32,
    output_zero_point: i32,
    transform: impl Fn(f32) -> f32,
    mut put: impl FnMut(usize, i8),
) {
    let inverse_scale = 1.0 / output_scale;
    for q in i8::MIN..=i8::MAX {
        let dequantized = input_scale * (q as i32).wrapping_sub(input_zero_point) as f32;
        let transformed = transform(dequantized);
        let rescaled = round(transformed * inverse_scale);
        let quantized = rescaled + output_zero_point as f32;
        // `as` saturates (NaN -> 0), the C cast would be undefined there.
        let clamped = (quantized as i32).clamp(i8::MIN as i32, i8::MAX as i32);
        put(q as u8 as usize, clamped as i8);
    }
}

/// `exp(y) - 1` in `f64` for `|y| <= 1`, by its Taylor series (relative error ~1e-16).
fn expm1_small(y: f64) -> f64 {
    let mut term = y;
    let mut sum = y;
    let mut n = 1.0;
    while n < 30.0 {
        n += 1.0;
        term *= y / n;
        sum += term;
    }
    sum
}

/// `exp(y)` in `f64` with a relative error of a few ulp (enough to round to `f32` correctly
/// except in astronomically rare ties). Returns 0 / infinity outside the `f64` range.
fn exp_f64(y: f64) -> f64 {
    if y.is_nan() {
        return y;
    }
    if y > 709.0 {
        return f64::INFINITY;
    }
    if y < -745.0 {
        return 0.0;
    }
    // y = k ln2 + r, |r| <= ln2/2, with ln2 split so k*LN2_HI is exact.
    const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
    const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
    let k = crate::engine::arith::round_half_away_f64(y * core::f64::consts::LOG2_E);
    let r = (y - k * LN2_HI) - k * LN2_LO;
    let e_r = 1.0 + expm1_small(r);
    // Multiply by 2^k in two steps so neither factor overflows or underflows early.
    let k = k as i32;
    let half = k / 2;
    e_r * pow2(half) * pow2(k - half)
}

/// `2^k` for `|k| <= 1022`.
fn pow2(k: i32) -> f64 {
    f64::from_bits(((k + 1023).clamp(1, 2046) as u64) << 52)
}

/// Correctly rounded `expf` (up to `f64` double-rounding ties, never met in practice).
pub(crate) fn expf(x: f32) -> f32 {
    exp_f64(x as f64) as f32
}

/// Correctly rounded `tanhf` (same caveat as [`expf`]).
pub(crate) fn tanhf(x: f32) -> f32 {
    if x.is_nan() {
        return x;
    }
    let a = (x as f64).abs();
    let t = if a < 0.5 {
        // tanh(a) = -expm1(-2a) / (2 + expm1(-2a)), no cancellation for small a.
        let e = expm1_small(-2.0 * a);
        -e / (2.0 + e)
    } else if a > 20.0 {
        1.0
    } else {
        let e = exp_f64(-2.0 * a);
        (1.0 - e) / (1.0 + e)
    };
    (if x < 0.0 { -t } else { t }) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_functions_match_std() {
        extern crate std;
        for i in -2000..=2000 {
            let x = i as f32 * 0.01;
            let e = std::primitive::f64::exp(x as f64) as f32;
            assert_eq!(expf(x), e, "expf({x})");
            let t = std::primitive::f64::tanh(x as f64) as f32;
            assert_eq!(tanhf(x), t, "tanhf({x})");
        }
        assert_eq!(tanhf(0.0), 0.0);
        assert_eq!(tanhf(-30.0), -1.0);
        assert_eq!(expf(-200.0), 0.0);
    }

    #[test]
    fn logistic_table_hand_values() {
        // Input scale 1/16, zero point 0: q = 0 -> x = 0 -> 0.5 -> 128 - 128 = 0.
        let t = ActivationTable::logistic(1.0 / 16.0, 0, 1.0 / 256.0, -128).unwrap();
        assert_eq!(t.table[0], 0);
        // q = 127 -> x = 7.9375 -> 0.99964 * 256 = 255.9 -> 256 - 128 = 128 -> clamp 127.
        assert_eq!(t.table[127], 127);
        // q = -128 -> x = -8 -> 0.000335 * 256 = 0.086 -> 0 - 128.
        assert_eq!(t.table[128], -128);
        // q = 16 -> x = 1 -> 0.731059 * 256 = 187.15 -> 187 - 128 = 59.
        assert_eq!(t.table[16], 59);
        let mut out = [0i8; 3];
        t.eval(&[0, 16, -128], &mut out).unwrap();
        assert_eq!(out, [0, 59, -128]);
        assert!(t.eval(&[0], &mut [0, 0]).is_err());
    }

    #[test]
    fn tanh_table_hand_values() {
        let t = ActivationTable::tanh(1.0 / 32.0, 0, 1.0 / 128.0, 0).unwrap();
        assert_eq!(t.table[0], 0);
        // q = 32 -> x = 1 -> tanh = 0.761594 * 128 = 97.48 -> 97.
        assert_eq!(t.table[32], 97);
        assert_eq!(t.table[(-32i8) as u8 as usize], -97);
    }

    #[test]
    fn written_tables_are_the_activation_tables() {
        for (scale, zp) in [(0.02f32, 3), (1.0 / 32.0, 0), (0.1, -128), (0.004, 127)] {
            for tanh in [false, true] {
                let (so, zo) = if tanh { (1.0 / 128.0, 0) } else { (1.0 / 256.0, -128) };
                let expected = if tanh {
                    ActivationTable::tanh(scale, zp, so, zo)
                } else {
                    ActivationTable::logistic(scale, zp, so, zo)
                }
                .unwrap();
                let mut out = [0x55u8; 256];
                write_table(tanh, scale, zp, so, zo, Some(&mut out)).unwrap();
                assert_eq!(out.map(|b| b as i8), expected.table, "tanh {tanh} scale {scale}");
            }
        }
        // Counting (no buffer) still refuses what the tables refuse.
        assert!(write_table(false, 0.02, 0, 1.0 / 256.0, -128, None).is_ok());
        let bad = write_table(true, f32::NAN, 0, 1.0 / 128.0, 0, None);
        assert_eq!(bad, ActivationTable::tanh(f32::NAN, 0, 1.0 / 128.0, 0).map(|_| ()));
        assert!(bad.is_err());
    }
}
