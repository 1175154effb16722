//! The fifth stage: `int8 in -> int8 out`, with the quantization and shapes of both ends.
//!
//! A [`Model`] owns its input and output buffers (the TFLite engine keeps them in its arena), so the
//! [`Quantizer`](crate::quantizer::Quantizer) writes straight into [`Model::input`] and the action
//! reads [`Model::output`]: no intermediate copies. Three models ship with the crate: the streaming
//! statistical [`ZScoreDetector`] (no neural net needed), the [`KMeansDetector`] (distance to
//! cluster centres fitted on the host from normal data, for spectral features) and
//! the int8 TFLite interpreter in [engine](crate::engine).

pub mod kmeans;
pub mod zscore;

pub use kmeans::{KMeansDetector, KMeansError};
pub use zscore::{ZScoreDetector, ZScoreError};

/// Affine quantization of a tensor: `real = scale * (q - zero_point)`.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct QuantParams {
    /// Size of one quantization step in real units (> 0).
    pub scale: f32,
    /// The quantized value that stands for real 0.
    pub zero_point: i32,
}

/// Why quantization parameters were refused where a stage is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum QuantParamsError {
    /// The scale is NaN or infinite.
    ScaleNotFinite,
    /// The scale is zero, negative or too small to divide by (subnormal).
    ScaleNotPositive,
    /// The zero point is outside the int8 range `-128..=127`.
    ZeroPointOutOfRange,
}

impl core::fmt::Display for QuantParamsError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            QuantParamsError::ScaleNotFinite => "quantization scale is NaN or infinite",
            QuantParamsError::ScaleNotPositive => {
                "quantization scale is not a positive normal number"
            }
            QuantParamsError::ZeroPointOutOfRange => {
                "quantization zero point is outside -128..=127"
            }
        })
    }
}

impl QuantParams {
    /// Checked parameters: a finite, positive, normal `scale` and an int8 `zero_point`.
    ///
    /// ```
    /// use edge_reflex::model::{QuantParams, QuantParamsError};
    /// assert!(QuantParams::new(0.1, -3).is_ok());
    /// assert_eq!(QuantParams::new(0.0, 0), Err(QuantParamsError::ScaleNotPositive));
    /// assert_eq!(QuantParams::new(f32::NAN, 0), Err(QuantParamsError::ScaleNotFinite));
    /// assert_eq!(QuantParams::new(1.0, 128), Err(QuantParamsError::ZeroPointOutOfRange));
    /// ```
    pub fn new(scale: f32, zero_point: i32) -> Result<Self, QuantParamsError> {
        let params = QuantParams { scale, zero_point };
        params.check()?;
        Ok(params)
    }

    /// `Ok` when these parameters can quantize and dequantize int8 values: the scale is finite,
    /// positive and normal (so `x / scale` is defined) and the zero point fits in int8.
    pub fn check(&self) -> Result<(), QuantParamsError> {
        if !self.scale.is_finite() {
            return Err(QuantParamsError::ScaleNotFinite);
        }
        if !(self.scale.is_normal() && self.scale > 0.0) {
            return Err(QuantParamsError::ScaleNotPositive);
        }
        if !(-128..=127).contains(&self.zero_point) {
            return Err(QuantParamsError::ZeroPointOutOfRange);
        }
        Ok(())
    }
}

/// The dimensions of a tensor, at most [`Shape::MAX_RANK`] of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Shape {
    dims: [u32; Shape::MAX_RANK],
    rank: u8,
}

impl Shape {
    /// The largest rank a shape can have.
    pub const MAX_RANK: usize = 6;

    /// A shape from its dimensions; `None` when `dims` is longer than [`Shape::MAX_RANK`].
    pub fn new(dims: &[u32]) -> Option<Shape> {
        if dims.len() > Self::MAX_RANK {
            return None;
        }
        let mut s = Shape { dims: [0; Self::MAX_RANK], rank: dims.len() as u8 };
        s.dims[..dims.len()].copy_from_slice(dims);
        Some(s)
    }

    /// A shape from an array of at most [`Shape::MAX_RANK`] dimensions (checked at compile time).
    pub const fn from_dims<const R: usize>(dims: [u32; R]) -> Shape {
        const { assert!(R <= Shape::MAX_RANK, "rank too large") };
        let mut s = Shape { dims: [0; Self::MAX_RANK], rank: R as u8 };
        let mut i = 0;
        while i < R {
            s.dims[i] = dims[i];
            i += 1;
        }
        s
    }

    /// The dimensions, outermost first.
    pub fn dims(&self) -> &[u32] {
        &self.dims[..self.rank as usize]
    }

    /// Number of elements (product of the dimensions; 1 for a scalar), `None` on overflow.
    pub fn elements(&self) -> Option<usize> {
        self.dims().iter().try_fold(1usize, |acc, &d| acc.checked_mul(d as usize))
    }
}

/// An int8 model: fill [`input`](Model::input), call [`invoke`](Model::invoke), read
/// [`output`](Model::output).
pub trait Model {
    /// Why an inference failed.
    type Error: core::fmt::Debug;

    /// The input tensor, to be filled with quantized values (layout: the input shape, row-major).
    fn input(&mut self) -> &mut [i8];
    /// Quantization of the input tensor.
    fn input_quant(&self) -> QuantParams;
    /// Shape of the input tensor.
    fn input_shape(&self) -> Shape;

    /// Runs one inference over the current input.
    fn invoke(&mut self) -> Result<(), Self::Error>;

    /// The output tensor of the last successful [`invoke`](Model::invoke).
    fn output(&self) -> &[i8];
    /// Quantization of the output tensor.
    fn output_quant(&self) -> QuantParams;
    /// Shape of the output tensor.
    fn output_shape(&self) -> Shape;
}

impl<M: Model + ?Sized> Model for &mut M {
    type Error = M::Error;
    fn input(&mut self) -> &mut [i8] {
        M::input(self)
    }
    fn input_quant(&self) -> QuantParams {
        M::input_quant(self)
    }
    fn input_shape(&self) -> Shape {
        M::input_shape(self)
    }
    fn invoke(&mut self) -> Result<(), Self::Error> {
        M::invoke(self)
    }
    fn output(&self) -> &[i8] {
        M::output(self)
    }
    fn output_quant(&self) -> QuantParams {
        M::output_quant(self)
    }
    fn output_shape(&self) -> Shape {
        M::output_shape(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quant_params_refuse_what_cannot_quantize() {
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            assert_eq!(QuantParams::new(bad, 0), Err(QuantParamsError::ScaleNotFinite));
        }
        for bad in [0.0, -0.0, -0.5, f32::MIN_POSITIVE / 2.0] {
            assert_eq!(QuantParams::new(bad, 0), Err(QuantParamsError::ScaleNotPositive));
        }
        for bad in [-129, 128, i32::MIN, i32::MAX] {
            assert_eq!(QuantParams::new(1.0, bad), Err(QuantParamsError::ZeroPointOutOfRange));
        }
        assert_eq!(QuantParams::new(f32::MIN_POSITIVE, -128).map(|q| q.zero_point), Ok(-128));
        assert_eq!(QuantParams::new(f32::MAX, 127).map(|q| q.zero_point), Ok(127));
    }

    #[test]
    fn shape_elements_and_overflow() {
        assert_eq!(Shape::new(&[1, 72, 3]).unwrap().elements(), Some(216));
        assert_eq!(Shape::new(&[]).unwrap().elements(), Some(1));
        assert!(Shape::new(&[1, 2, 3, 4, 5, 6, 7]).is_none());
        let huge = Shape::new(&[u32::MAX, u32::MAX, u32::MAX]).unwrap();
        assert_eq!(huge.elements(), None);
    }
}
