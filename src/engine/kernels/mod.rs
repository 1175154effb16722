//! Bit-exact int8 kernels of the TFLite operators the engine runs.
//!
//! Each operator family has its own module. A kernel is a plain function over slices: int8
//! tensors as `&[i8]`/`&mut [i8]` (row-major, NHWC for images), int32 and float32 tensors as their
//! little-endian bytes (`&[u8]`, so weights can be read unaligned, straight from the model in
//! flash). Whatever depends on float scales is computed once by a `*Params::new`/`prepare`
//! function at load time; the `eval` functions use integers only (no `f32` on the run path, so
//! they run on a Cortex-M0), except QUANTIZE/DEQUANTIZE whose tensors are float.
//!
//! What the kernels do **not** do: read the model, pick tensors, check that shapes agree with the
//! operator (the loader does that once, at load time). They still never panic and never index out
//! of bounds: every eval function checks that its slice lengths agree with the shapes it was
//! given and returns [`KernelError::ShapeMismatch`] if not, before touching any data.
//!
//! The arithmetic is TFLite's *reference* kernels (`BUILTIN_REF` resolver), see
//! [`arith`](crate::engine::arith) and `docs/engine-arithmetic.md`.

pub mod fully_connected;

use crate::engine::arith::ScaleError;

/// Why a kernel could not be prepared or run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum KernelError {
    /// Slice lengths do not match the shapes or parameters passed to the kernel.
    ShapeMismatch,
    /// A quantization parameter cannot be represented (see [`ScaleError`]).
    Scale(ScaleError),
    /// A parameter is outside what the kernel supports (e.g. a zero stride, a pooling window
    /// that covers no input element).
    Unsupported,
}

impl From<ScaleError> for KernelError {
    fn from(e: ScaleError) -> Self {
        KernelError::Scale(e)
    }
}

/// Reads element `i` of a little-endian `i32` tensor stored as bytes; `None` past the end.
#[inline]
pub fn read_i32(bytes: &[u8], i: usize) -> Option<i32> {
    let start = i.checked_mul(4)?;
    let b = bytes.get(start..start.checked_add(4)?)?;
    Some(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Writes element `i` of a little-endian `i32` tensor stored as bytes; `None` past the end.
#[inline]
pub fn write_i32(bytes: &mut [u8], i: usize, value: i32) -> Option<()> {
    let start = i.checked_mul(4)?;
    let b = bytes.get_mut(start..start.checked_add(4)?)?;
    b.copy_from_slice(&value.to_le_bytes());
    Some(())
}

/// Checks that an optional little-endian `i32` bias holds exactly `len` values.
pub(crate) fn check_bias(bias: Option<&[u8]>, len: usize) -> Result<(), KernelError> {
    match bias {
        Some(b) if Some(b.len()) != len.checked_mul(4) => Err(KernelError::ShapeMismatch),
        _ => Ok(()),
    }
}

/// Bias value `i` (0 without a bias); callers have checked the length with [`check_bias`].
#[inline]
pub(crate) fn bias_at(bias: Option<&[u8]>, i: usize) -> i32 {
    bias.and_then(|b| read_i32(b, i)).unwrap_or(0)
}

/// Per-channel multipliers of CONV_2D, DEPTHWISE_CONV_2D and per-channel FULLY_CONNECTED:
/// `(f64)input_scale * (f64)filter_scale[c] / (f64)output_scale`, one per output channel, written
/// into `out` (TFLite's `PopulateConvolutionQuantizationParams`). With a single filter scale
/// (per-tensor weights) that scale is broadcast to every channel of `out`, as TFLite does for
/// convolutions.
///
/// Errors: [`KernelError::ShapeMismatch`] if there are neither one nor `out.len()` filter scales;
/// [`KernelError::Scale`] for a scale that is not positive and finite.
pub fn channel_multipliers(
    input_scale: f32,
    filter_scales: impl ExactSizeIterator<Item = f32> + Clone,
    output_scale: f32,
    out: &mut [crate::engine::arith::QuantizedMultiplier],
) -> Result<(), KernelError> {
    let n = filter_scales.len();
    if !(n == 1 || n == out.len()) {
        return Err(KernelError::ShapeMismatch);
    }
    if !(output_scale.is_finite() && output_scale > 0.0) {
        return Err(KernelError::Scale(ScaleError::NotPositiveFinite));
    }
    let mut scales = filter_scales.clone().cycle();
    for slot in out.iter_mut() {
        let filter_scale = scales.next().unwrap_or(0.0);
        let real = input_scale as f64 * filter_scale as f64 / output_scale as f64;
        *slot = crate::engine::arith::QuantizedMultiplier::from_real(real)?;
    }
    Ok(())
}
