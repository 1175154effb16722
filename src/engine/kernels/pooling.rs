//! AVERAGE_POOL_2D and MAX_POOL_2D (int8, NHWC, same quantization in and out).
//!
//! Each output value looks at the window of `filter_h x filter_w` input values starting at
//! `(y*sh - ph, x*sw - pw)`, clipped to the input (padding is not counted). Average:
//! `acc = sum`, `n = count`, `out = clamp(acc > 0 ? (acc + n/2) / n : (acc - n/2) / n)` with `/`
//! truncating (TFLite's `reference_integer_ops::AveragePool`: a round-half-away division, no
//! requantization). Max: `out = clamp(max)`. The clamp is the fused activation's range.

use super::geometry::Geometry;
use super::{elements, KernelError};
use crate::engine::arith::{activation_range, FusedActivation};

/// Which reduction a pooling window applies.
///
/// A byte in an operator record (`NoUninit` to write, `CheckedBitPattern` to read back checked).
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::NoUninit, bytemuck::CheckedBitPattern)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum PoolKind {
    /// AVERAGE_POOL_2D.
    Average = 0,
    /// MAX_POOL_2D.
    Max = 1,
}

/// The integer parameters of one pooling operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Pool {
    /// Average or max.
    pub kind: PoolKind,
    /// Strides and padding (dilations are ignored: pooling has none).
    pub geometry: Geometry,
    /// Window height (> 0).
    pub filter_h: usize,
    /// Window width (> 0).
    pub filter_w: usize,
    /// Lower clamp bound (fused activation and int8 range).
    pub activation_min: i32,
    /// Upper clamp bound.
    pub activation_max: i32,
}

impl Pool {
    /// Parameters from the window, the output quantization and the fused activation.
    pub fn new(
        kind: PoolKind,
        geometry: Geometry,
        filter_h: usize,
        filter_w: usize,
        output_scale: f32,
        output_zero_point: i32,
        activation: FusedActivation,
    ) -> Result<Pool, KernelError> {
        let (activation_min, activation_max) =
            activation_range(activation, output_scale, output_zero_point)?;
        Ok(Pool {
            kind,
            geometry: Geometry { dilation_h: 1, dilation_w: 1, ..geometry },
            filter_h,
            filter_w,
            activation_min,
            activation_max,
        })
    }

    /// Runs the pooling over `input` (`[batch, height, width, channels]`) into `output`
    /// (`[batch, out_height, out_width, channels]`).
    ///
    /// Errors: [`KernelError::ShapeMismatch`] if a length or dimension disagrees (checked before
    /// writing); [`KernelError::Unsupported`] for a zero stride or an average window that
    /// covers no input value (TFLite fails the same way).
    pub fn eval(
        &self,
        input: &[i8],
        input_shape: [usize; 4],
        output: &mut [i8],
        output_shape: [usize; 4],
    ) -> Result<(), KernelError> {
        let [batches, in_h, in_w, depth] = input_shape;
        let [out_batches, out_h, out_w, out_depth] = output_shape;
        if elements(input_shape) != Some(input.len())
            || elements(output_shape) != Some(output.len())
            || out_batches != batches
            || out_depth != depth
        {
            return Err(KernelError::ShapeMismatch);
        }
        let window = Geometry { dilation_h: 1, dilation_w: 1, ..self.geometry };
        if !window.fits(out_h, out_w, self.filter_h, self.filter_w) {
            return Err(KernelError::Unsupported);
        }
        let mut out_iter = output.iter_mut();
        for b in 0..batches {
            for out_y in 0..out_h {
                // The window rows and columns inside the input (padding is not counted),
                // computed from the window's ends: the work does not depend on the window's size.
                let ys = span(out_y * window.stride_h, window.pad_h, self.filter_h, in_h);
                for out_x in 0..out_w {
                    let xs = span(out_x * window.stride_w, window.pad_w, self.filter_w, in_w);
                    let span = ys.zip(xs);
                    if span.is_none() && self.kind == PoolKind::Average && depth > 0 {
                        return Err(KernelError::Unsupported);
                    }
                    let ((y0, y1), (x0, x1)) = span.unwrap_or(((1, 0), (1, 0)));
                    let count = (y1 + 1).saturating_sub(y0) * (x1 + 1).saturating_sub(x0);
                    let row_len = (x1 + 1).saturating_sub(x0) * depth;
                    for c in 0..depth {
                        let mut sum = 0i32;
                        let mut max = i8::MIN;
                        for y in y0..=y1 {
                            let at = ((b * in_h + y) * in_w + x0) * depth + c;
                            let row = input.get(at..(at + row_len).min(input.len()));
                            for v in row.unwrap_or(&[]).chunks(depth.max(1)) {
                                let v = v.first().copied().unwrap_or(i8::MIN);
                                sum = sum.wrapping_add(v as i32);
                                max = max.max(v);
                            }
                        }
                        let value = match self.kind {
                            PoolKind::Average => {
                                rounded_average(sum, i32::try_from(count).unwrap_or(i32::MAX))
                            }
                            PoolKind::Max => max as i32,
                        };
                        let clamped = value.max(self.activation_min).min(self.activation_max);
                        if let Some(out) = out_iter.next() {
                            *out = clamped.clamp(i8::MIN as i32, i8::MAX as i32) as i8;
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// `sum / count` rounded half away from zero, as TFLite's integer average pool computes it.
#[inline]
fn rounded_average(sum: i32, count: i32) -> i32 {
    let count = count.max(1);
    // In 32 bits when `sum +- count / 2` cannot overflow (every realistic window), else in 64.
    if sum.unsigned_abs() < 1 << 30 && count < 1 << 30 {
        if sum > 0 {
            (sum + count / 2) / count
        } else {
            (sum - count / 2) / count
        }
    } else {
        let (sum, count) = (sum as i64, count as i64);
        let q = if sum > 0 { (sum + count / 2) / count } else { (sum - count / 2) / count };
        q as i32
    }
}

/// The first and last input positions (`0..extent`) of a window of `filter` taps that starts at
/// padded position `start` after `pad` leading padding, or `None` if it covers only padding:
/// TFLite's `filter_start = max(0, -origin)`, `filter_end = min(filter, extent - origin)`.
/// Positions fit in `usize` (the caller checked [`Window::fits`]).
fn span(start: usize, pad: usize, filter: usize, extent: usize) -> Option<(usize, usize)> {
    let end = start.checked_add(filter)?.checked_sub(pad)?.min(extent);
    let first = start.saturating_sub(pad);
    (first < end).then(|| (first, end - 1))
}
