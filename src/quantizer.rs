//! The fourth stage: real-valued samples to the model's int8 input, and int8 scores back to reals.
//!
//! [`AffineQuantizer`] implements TFLite's affine mapping `q = clamp(round(x / scale) + zero_point,
//! -128, 127)` with TFLite's rounding (half away from zero, as `TfLiteRound`) and saturation, and
//! the inverse `x = scale * (q - zero_point)`. Non-finite inputs have defined results: `+inf` → 127,
//! `-inf` → -128, `NaN` → the zero point (the graph never lets NaN this far; see
//! [`Window::push`](crate::window::Window::push)). Build it from the model with
//! [`AffineQuantizer::for_input_of`] so no scale is ever copied by hand. Parameters that cannot
//! quantize (a NaN, infinite, zero, negative or subnormal scale; a zero point outside int8) are
//! refused when the quantizer is built, with a [`QuantParamsError`]: a quantizer that exists
//! always maps real values onto the int8 grid.
//!
//! The [`Quantizer`] trait writes a whole window, oldest sample first and channels interleaved
//! (`[time][channel]`, the layout of a Keras `Conv1D`/`Dense` input), straight into
//! [`Model::input`]. This module does not scale or filter the signal.
//!
//! A float32 model has nothing to quantize: [`PassThrough`] writes the samples' values as
//! little-endian `f32` bytes into the input (which a float model, such as the engine's
//! `FloatModel` with the feature `op-float`, lends as raw bytes), so the same graph runs it.

use crate::math;
use crate::model::{Model, QuantParams, QuantParamsError};
use crate::sample::Sample;

/// Why a window could not be quantized into the model's input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum QuantizeError {
    /// The model's input holds `expected` values but the window gives `found` (samples × channels).
    LengthMismatch {
        /// Length of the model's input.
        expected: usize,
        /// Samples × channels in the window.
        found: usize,
    },
}

/// Turns the window's samples into the model's int8 input.
pub trait Quantizer<S: Sample> {
    /// Writes `older` then `newer` (each sample's channels in order) into `out`.
    fn quantize(&self, older: &[S], newer: &[S], out: &mut [i8]) -> Result<(), QuantizeError>;
}

/// TFLite's affine int8 quantization with one scale and zero point for every channel.
///
/// ```
/// use edge_reflex::model::QuantParams;
/// use edge_reflex::quantizer::AffineQuantizer;
/// let q = AffineQuantizer::new(QuantParams { scale: 0.5, zero_point: -10 }).unwrap();
/// assert_eq!(q.quantize_value(1.25), -7);   // round(2.5) = 3, half away from zero
/// assert_eq!(q.quantize_value(1000.0), 127); // saturates
/// assert_eq!(q.dequantize(-7), 1.5);
/// // A scale that cannot quantize is refused here, not discovered as a silent alarm later.
/// assert!(AffineQuantizer::new(QuantParams { scale: 0.0, zero_point: 0 }).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AffineQuantizer {
    params: QuantParams,
}

impl AffineQuantizer {
    /// A quantizer with the given parameters, refused unless they pass [`QuantParams::check`].
    pub fn new(params: QuantParams) -> Result<Self, QuantParamsError> {
        params.check()?;
        Ok(AffineQuantizer { params })
    }

    /// The arithmetic without the check, for parameters the crate itself holds (a model's own
    /// constant output quantization) or reads back from a model whose stage was checked.
    pub(crate) const fn unchecked(params: QuantParams) -> Self {
        AffineQuantizer { params }
    }

    /// The quantizer of a model's input tensor; refused when the model's input parameters are.
    pub fn for_input_of<M: Model + ?Sized>(model: &M) -> Result<Self, QuantParamsError> {
        Self::new(model.input_quant())
    }

    /// The quantizer of a model's output tensor (use [`dequantize`](Self::dequantize) on scores);
    /// refused when the model's output parameters are.
    pub fn for_output_of<M: Model + ?Sized>(model: &M) -> Result<Self, QuantParamsError> {
        Self::new(model.output_quant())
    }

    /// The parameters.
    pub fn params(&self) -> QuantParams {
        self.params
    }

    /// `clamp(round(x / scale) + zero_point, -128, 127)`, computed in `f32` as TFLite does.
    pub fn quantize_value(&self, x: f32) -> i8 {
        if x.is_nan() {
            return self.params.zero_point.clamp(-128, 127) as i8;
        }
        // Clamp in float first so the cast never saturates silently; ±inf land on the rails.
        let r = math::round(x / self.params.scale).clamp(-1.0e6, 1.0e6) as i32;
        r.saturating_add(self.params.zero_point).clamp(-128, 127) as i8
    }

    /// `scale * (q - zero_point)`, computed in `f64` and rounded once to `f32`, as TFLite's
    /// dequantize does.
    pub fn dequantize(&self, q: i8) -> f32 {
        (self.params.scale as f64 * (q as i32 - self.params.zero_point) as f64) as f32
    }
}

impl<S: Sample> Quantizer<S> for AffineQuantizer {
    fn quantize(&self, older: &[S], newer: &[S], out: &mut [i8]) -> Result<(), QuantizeError> {
        let found = (older.len() + newer.len()) * S::CHANNELS;
        if found != out.len() {
            return Err(QuantizeError::LengthMismatch { expected: out.len(), found });
        }
        let mut dst = out.iter_mut();
        for s in older.iter().chain(newer) {
            for c in 0..S::CHANNELS {
                if let Some(d) = dst.next() {
                    *d = self.quantize_value(s.channel(c));
                }
            }
        }
        Ok(())
    }
}

/// The "quantizer" of a float32 model input: each channel value is written unchanged, as its
/// four little-endian bytes, into the model's input (raw bytes, four per value; see the
/// engine's `FloatModel`, feature `op-float`).
///
/// ```
/// use edge_reflex::quantizer::{PassThrough, Quantizer, QuantizeError};
/// let mut input = [0i8; 8];
/// PassThrough.quantize(&[1.5f32], &[-2.0], &mut input)?;
/// assert_eq!(input.map(|b| b as u8)[..4], 1.5f32.to_le_bytes());
/// // An int8 input (one byte per value) does not fit: refused, never half-written.
/// assert!(PassThrough.quantize(&[1.5f32], &[-2.0], &mut [0i8; 2]).is_err());
/// # Ok::<(), QuantizeError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PassThrough;

impl<S: Sample> Quantizer<S> for PassThrough {
    fn quantize(&self, older: &[S], newer: &[S], out: &mut [i8]) -> Result<(), QuantizeError> {
        let values = (older.len() + newer.len()) * S::CHANNELS;
        if values.checked_mul(4) != Some(out.len()) {
            return Err(QuantizeError::LengthMismatch { expected: out.len() / 4, found: values });
        }
        let mut dst = out.chunks_exact_mut(4);
        for s in older.iter().chain(newer) {
            for c in 0..S::CHANNELS {
                if let Some(d) = dst.next() {
                    for (d, b) in d.iter_mut().zip(s.channel(c).to_le_bytes()) {
                        *d = b as i8;
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(scale: f32, zero_point: i32) -> AffineQuantizer {
        AffineQuantizer::new(QuantParams { scale, zero_point }).unwrap()
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        let q = q(1.0, 0);
        assert_eq!(q.quantize_value(0.5), 1);
        assert_eq!(q.quantize_value(-0.5), -1);
        assert_eq!(q.quantize_value(1.4999), 1);
        assert_eq!(q.quantize_value(-2.5), -3);
    }

    #[test]
    fn zero_point_and_saturation() {
        let q = q(0.1, 5);
        assert_eq!(q.quantize_value(0.0), 5);
        assert_eq!(q.quantize_value(12.2), 127); // 122 + 5 = 127 exactly
        assert_eq!(q.quantize_value(12.3), 127); // 123 + 5 saturates
        assert_eq!(q.quantize_value(-13.3), -128); // -133 + 5 = -128 exactly
        assert_eq!(q.quantize_value(-1e30), -128);
    }

    #[test]
    fn non_finite_inputs_have_defined_results() {
        let q = q(0.02, -3);
        assert_eq!(q.quantize_value(f32::INFINITY), 127);
        assert_eq!(q.quantize_value(f32::NEG_INFINITY), -128);
        assert_eq!(q.quantize_value(f32::NAN), -3);
        // Even unchecked, a zero point outside int8 still gives an in-range value.
        assert_eq!(
            AffineQuantizer::unchecked(QuantParams { scale: 1.0, zero_point: 900 })
                .quantize_value(f32::NAN),
            127
        );
    }

    #[test]
    fn parameters_that_cannot_quantize_are_refused_at_construction() {
        let bad = [
            (f32::NAN, 0, QuantParamsError::ScaleNotFinite),
            (f32::INFINITY, 0, QuantParamsError::ScaleNotFinite),
            (f32::NEG_INFINITY, 0, QuantParamsError::ScaleNotFinite),
            (0.0, 0, QuantParamsError::ScaleNotPositive),
            (-0.1, 0, QuantParamsError::ScaleNotPositive),
            (1e-45, 0, QuantParamsError::ScaleNotPositive),
            (0.1, 128, QuantParamsError::ZeroPointOutOfRange),
            (0.1, -129, QuantParamsError::ZeroPointOutOfRange),
        ];
        for (scale, zero_point, error) in bad {
            assert_eq!(AffineQuantizer::new(QuantParams { scale, zero_point }), Err(error));
        }
    }

    #[test]
    fn matches_tflite_on_hello_world_input_params() {
        // tflm_hello_world's input: scale 0.024480115622282028, zero point -128 (case.json).
        let q = q(0.024_480_116, -128);
        // x = 1.0: 1 / 0.024480116 = 40.849 -> 41 - 128 = -87
        assert_eq!(q.quantize_value(1.0), -87);
        // x = 3.0: 122.549 -> 123 - 128 = -5
        assert_eq!(q.quantize_value(3.0), -5);
    }

    #[test]
    fn window_is_written_time_major_with_interleaved_channels() {
        let q = q(1.0, 0);
        let older = [[1.0f32, 2.0, 3.0]];
        let newer = [[4.0f32, 5.0, 6.0], [7.0, 8.0, 9.0]];
        let mut out = [0i8; 9];
        q.quantize(&older, &newer, &mut out).unwrap();
        assert_eq!(out, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
        let mut short = [0i8; 8];
        assert_eq!(
            q.quantize(&older, &newer, &mut short),
            Err(QuantizeError::LengthMismatch { expected: 8, found: 9 })
        );
    }

    #[test]
    fn dequantize_is_the_inverse_on_the_grid() {
        let q = q(0.25, 3);
        for v in -128..=127i32 {
            assert_eq!(q.quantize_value(q.dequantize(v as i8)), v as i8);
        }
    }
}
