//! QUANTIZE (float32 -> int8 and int8 -> int8) and DEQUANTIZE (int8 -> float32).
//!
//! - float -> int8 (`reference_ops::AffineQuantize`): `q = clamp(round(x / scale) + zp)`, the
//!   division in `f32` and `round` half away from zero. Where the C code's float-to-int cast is
//!   undefined (NaN, magnitudes beyond `i32`), this saturates instead: NaN becomes the zero point,
//!   huge values the int8 bounds.
//! - int8 -> int8 (`reference_ops::Requantize`): `q = clamp(zp_out + M(x - zp_in))` with
//!   `M = s_in / s_out` (in `f64`), integer only.
//! - int8 -> float (`reference_ops::Dequantize`): `y = (f32)((f64)scale * (q - zp))`.
//!
//! Float tensors are little-endian `f32` bytes (4 per element).

use super::KernelError;
use crate::engine::arith::{QuantizedMultiplier, ScaleError};
use crate::math::round;

/// QUANTIZE from float32.
///
/// Plain data (`#[repr(C)]`), so its operator's record holds it whole.
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(C)]
pub struct Quantize {
    /// Output scale.
    pub scale: f32,
    /// Output zero point.
    pub zero_point: i32,
}

impl Quantize {
    /// Parameters from the output quantization.
    pub fn new(scale: f32, zero_point: i32) -> Result<Quantize, KernelError> {
        if !(scale.is_finite() && scale > 0.0) {
            return Err(KernelError::Scale(ScaleError::NotPositiveFinite));
        }
        Ok(Quantize { scale, zero_point })
    }

    /// One value.
    #[inline]
    pub fn quantize(&self, x: f32) -> i8 {
        let rounded = round(x / self.scale);
        // Saturating conversion (NaN -> 0) where C would be undefined.
        let q = (rounded as i32).saturating_add(self.zero_point);
        q.clamp(i8::MIN as i32, i8::MAX as i32) as i8
    }

    /// Quantizes `input` (little-endian `f32`, 4 bytes per value) into `output`.
    ///
    /// Errors: [`KernelError::ShapeMismatch`] if `input` is not `4 * output.len()` bytes.
    pub fn eval(&self, input: &[u8], output: &mut [i8]) -> Result<(), KernelError> {
        if Some(input.len()) != output.len().checked_mul(4) {
            return Err(KernelError::ShapeMismatch);
        }
        for (bytes, q) in input.chunks_exact(4).zip(output.iter_mut()) {
            let x = f32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
            *q = self.quantize(x);
        }
        Ok(())
    }
}

/// QUANTIZE from int8 to int8 (a rescale).
///
/// Plain data (`#[repr(C)]`), so its operator's record holds it whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(C)]
pub struct Requantize8 {
    /// Input zero point.
    pub input_zero_point: i32,
    /// Output zero point.
    pub output_zero_point: i32,
    /// `input_scale / output_scale`.
    pub multiplier: QuantizedMultiplier,
}

impl Requantize8 {
    /// Parameters from both quantizations.
    pub fn new(
        input_scale: f32,
        input_zero_point: i32,
        output_scale: f32,
        output_zero_point: i32,
    ) -> Result<Requantize8, KernelError> {
        if !(output_scale.is_finite() && output_scale > 0.0) {
            return Err(KernelError::Scale(ScaleError::NotPositiveFinite));
        }
        let multiplier = QuantizedMultiplier::from_real(input_scale as f64 / output_scale as f64)?;
        Ok(Requantize8 { input_zero_point, output_zero_point, multiplier })
    }

    /// Rescales `input` into `output`.
    ///
    /// Errors: [`KernelError::ShapeMismatch`] if the lengths differ.
    pub fn eval(&self, input: &[i8], output: &mut [i8]) -> Result<(), KernelError> {
        if input.len() != output.len() {
            return Err(KernelError::ShapeMismatch);
        }
        for (&x, y) in input.iter().zip(output.iter_mut()) {
            let centred = (x as i32).wrapping_sub(self.input_zero_point);
            let v = self.multiplier.apply(centred).wrapping_add(self.output_zero_point);
            *y = v.clamp(i8::MIN as i32, i8::MAX as i32) as i8;
        }
        Ok(())
    }
}

/// DEQUANTIZE to float32.
///
/// Plain data (`#[repr(C)]`), so its operator's record holds it whole.
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(C)]
pub struct Dequantize {
    /// Input scale.
    pub scale: f32,
    /// Input zero point.
    pub zero_point: i32,
}

impl Dequantize {
    /// One value: `(f32)((f64)scale * (q - zero_point))`.
    #[inline]
    pub fn dequantize(&self, q: i8) -> f32 {
        (self.scale as f64 * (q as i32).wrapping_sub(self.zero_point) as f64) as f32
    }

    /// Dequantizes `input` into `output` (little-endian `f32`, 4 bytes per value).
    ///
    /// Errors: [`KernelError::ShapeMismatch`] if `output` is not `4 * input.len()` bytes.
    pub fn eval(&self, input: &[i8], output: &mut [u8]) -> Result<(), KernelError> {
        if Some(output.len()) != input.len().checked_mul(4) {
            return Err(KernelError::ShapeMismatch);
        }
        for (&q, bytes) in input.iter().zip(output.chunks_exact_mut(4)) {
            bytes.copy_from_slice(&self.dequantize(q).to_le_bytes());
        }
        Ok(())
    }
}
