//! MEAN (int8), TFLite's reference `QuantizedMeanOrSum` (the path the reference resolver takes
//! for every int8 MEAN, whatever the axes).
//!
//! For each output element: `sum` of the `n` input values it reduces (in `i32`), then
//! `out = clamp(zp_out + M'((sum - zp_in * n)))` where `M = s_in / s_out` is folded with `1/n` in
//! integers: `k = min(floor(log2 n), 32, 31 + shift)`, `m' = (m << k) / n` (truncating),
//! `shift' = shift - k`. No fused activation. Axes may be negative and repeated; an empty axis
//! list copies the input.

use super::elementwise::MAX_RANK;
use super::KernelError;
use crate::engine::arith::{multiply_by_quantized_multiplier, QuantizedMultiplier};

/// The integer parameters of one MEAN operator.
///
/// Plain data (`#[repr(C)]`), so its operator's record holds it whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(C)]
pub struct Mean {
    /// Input zero point.
    pub input_zero_point: i32,
    /// Output zero point.
    pub output_zero_point: i32,
    /// `input_scale / output_scale`, before folding in the element count.
    pub multiplier: QuantizedMultiplier,
}

impl Mean {
    /// Parameters from the input and output quantization.
    pub fn new(
        input_scale: f32,
        input_zero_point: i32,
        output_scale: f32,
        output_zero_point: i32,
    ) -> Result<Mean, KernelError> {
        if !(output_scale.is_finite() && output_scale > 0.0) {
            return Err(KernelError::Scale(crate::engine::arith::ScaleError::NotPositiveFinite));
        }
        let multiplier = QuantizedMultiplier::from_real(input_scale as f64 / output_scale as f64)?;
        Ok(Mean { input_zero_point, output_zero_point, multiplier })
    }

    /// Averages `input` (shape `input_shape`, rank <= 6) over `axes` into `output`, whose length
    /// must be the product of the kept dimensions (`keep_dims` only changes the output's shape,
    /// not its layout).
    ///
    /// Errors: [`KernelError::ShapeMismatch`] for a length that disagrees with the shapes or an
    /// axis out of range (checked before writing).
    pub fn eval(
        &self,
        input: &[i8],
        input_shape: &[usize],
        axes: &[i32],
        output: &mut [i8],
    ) -> Result<(), KernelError> {
        let rank = input_shape.len();
        if rank > MAX_RANK
            || input_shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)) != Some(input.len())
        {
            return Err(KernelError::ShapeMismatch);
        }
        let mut reduced = [false; MAX_RANK];
        for &axis in axes {
            let a = if axis < 0 { axis + rank as i32 } else { axis };
            if a < 0 || a as usize >= rank {
                return Err(KernelError::ShapeMismatch);
            }
            reduced[a as usize] = true;
        }
        // Strides of the input, and the kept / reduced dimensions in order.
        let mut strides = [0usize; MAX_RANK];
        let mut stride = 1usize;
        for d in (0..rank).rev() {
            strides[d] = stride;
            stride = stride.saturating_mul(input_shape[d]);
        }
        let (mut kept, mut kept_n) = ([(0usize, 0usize); MAX_RANK], 0);
        let (mut red, mut red_n) = ([(0usize, 0usize); MAX_RANK], 0);
        for d in 0..rank {
            if reduced[d] {
                red[red_n] = (input_shape[d], strides[d]);
                red_n += 1;
            } else {
                kept[kept_n] = (input_shape[d], strides[d]);
                kept_n += 1;
            }
        }
        let (kept, red) = (&kept[..kept_n], &red[..red_n]);
        let outputs = kept.iter().try_fold(1usize, |a, &(d, _)| a.checked_mul(d));
        if outputs != Some(output.len()) {
            return Err(KernelError::ShapeMismatch);
        }
        if red_n == 0 {
            output.copy_from_slice(input);
            return Ok(());
        }
        let count = red.iter().fold(1usize, |a, &(d, _)| a.saturating_mul(d));
        if count == 0 {
            output.fill(0);
            return Ok(());
        }
        let (multiplier, shift) = fold_count(self.multiplier, count as i64);
        let mut out_index = [0usize; MAX_RANK];
        for y in output.iter_mut() {
            let base: usize = kept.iter().zip(&out_index).map(|(&(_, s), &i)| s * i).sum();
            let sum = sum_over(input, base, red);
            let centred =
                (sum as i64).wrapping_sub(self.input_zero_point as i64 * count as i64) as i32;
            let value = multiply_by_quantized_multiplier(centred, multiplier, shift)
                .wrapping_add(self.output_zero_point);
            *y = value.clamp(i8::MIN as i32, i8::MAX as i32) as i8;
            advance(&mut out_index, kept);
        }
        Ok(())
    }
}

/// Folds `1 / count` into a multiplier as TFLite's `QuantizedMeanOrSum` does.
fn fold_count(m: QuantizedMultiplier, count: i64) -> (i32, i32) {
    let log2 = 63 - (count as u64).leading_zeros() as i32;
    let k = log2.min(32).min(31 + m.shift).max(0);
    let multiplier = (((m.multiplier as i64) << k) / count) as i32;
    (multiplier, m.shift - k)
}

/// Sum (wrapping `i32`) of the input values at `base` plus every combination of the reduced
/// dimensions' offsets.
fn sum_over(input: &[i8], base: usize, red: &[(usize, usize)]) -> i32 {
    let mut index = [0usize; MAX_RANK];
    let total = red.iter().fold(1usize, |a, &(d, _)| a.saturating_mul(d));
    let mut sum = 0i32;
    for _ in 0..total {
        let at = base + red.iter().zip(&index).map(|(&(_, s), &i)| s * i).sum::<usize>();
        sum = sum.wrapping_add(input.get(at).copied().unwrap_or(0) as i32);
        advance(&mut index, red);
    }
    sum
}

/// Increments a row-major multi-index over `dims` (innermost last).
fn advance(index: &mut [usize; MAX_RANK], dims: &[(usize, usize)]) {
    for d in (0..dims.len()).rev() {
        index[d] += 1;
        if index[d] < dims[d].0 {
            return;
        }
        index[d] = 0;
    }
}
