//! FULLY_CONNECTED (int8 in, int8 weights, optional int32 bias, int8 out).
//!
//! `out[b][u] = clamp(zp_out + M_u * (bias[u] + sum_d (w[u][d] - zp_w) * (x[b][d] - zp_in)))`,
//! TFLite's `reference_integer_ops::FullyConnected` / `FullyConnectedPerChannel`. `M` is one
//! multiplier for per-tensor weights (computed from the `f32` product of the input and weight
//! scales, as TFLite's `GetQuantizedConvolutionMultipler` does) or one per output unit for
//! per-channel weights. `keep_num_dims` only changes the output shape, which the loader owns:
//! here the input is `batches x depth` and the output `batches x units`, whatever their rank.

use super::{bias_at, check_bias, KernelError};
use crate::engine::arith::{activation_range, clamp_to_i8, FusedActivation, QuantizedMultiplier};

/// The integer parameters of one FULLY_CONNECTED operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FullyConnected {
    /// `-input_zero_point`.
    pub input_offset: i32,
    /// `-weights_zero_point`.
    pub filter_offset: i32,
    /// `output_zero_point`.
    pub output_offset: i32,
    /// Lower clamp bound (fused activation and int8 range).
    pub activation_min: i32,
    /// Upper clamp bound.
    pub activation_max: i32,
}

impl FullyConnected {
    /// Parameters from the zero points, the output scale and the fused activation.
    pub fn new(
        input_zero_point: i32,
        filter_zero_point: i32,
        output_scale: f32,
        output_zero_point: i32,
        activation: FusedActivation,
    ) -> Result<FullyConnected, KernelError> {
        let (activation_min, activation_max) =
            activation_range(activation, output_scale, output_zero_point)?;
        Ok(FullyConnected {
            input_offset: input_zero_point.wrapping_neg(),
            filter_offset: filter_zero_point.wrapping_neg(),
            output_offset: output_zero_point,
            activation_min,
            activation_max,
        })
    }

    /// Runs the operator. `filter` is `units x depth` (row-major, one row per output unit),
    /// `input` is `batches x depth`, `output` is `batches x units`, `bias` (if any) holds `units`
    /// little-endian `i32`. `multipliers` holds one entry (per-tensor weights) or `units` entries
    /// (per-channel weights).
    ///
    /// Errors: [`KernelError::ShapeMismatch`] if the lengths disagree; nothing is written then.
    pub fn eval(
        &self,
        multipliers: &[QuantizedMultiplier],
        input: &[i8],
        filter: &[i8],
        units: usize,
        bias: Option<&[u8]>,
        output: &mut [i8],
    ) -> Result<(), KernelError> {
        if units == 0 {
            return if filter.is_empty() && output.is_empty() {
                Ok(())
            } else {
                Err(KernelError::ShapeMismatch)
            };
        }
        let depth = filter.len() / units;
        let batches = output.len() / units;
        if depth * units != filter.len()
            || batches * units != output.len()
            || Some(input.len()) != batches.checked_mul(depth)
            || !(multipliers.len() == 1 || multipliers.len() == units)
        {
            return Err(KernelError::ShapeMismatch);
        }
        check_bias(bias, units)?;
        if depth == 0 {
            // Every accumulator is the bias alone.
            for (b_out, _) in output.chunks_exact_mut(units).zip(0..batches) {
                for (u, out) in b_out.iter_mut().enumerate() {
                    let m = multipliers.get(u).unwrap_or(&multipliers[0]);
                    *out = self.finish(bias_at(bias, u), *m);
                }
            }
            return Ok(());
        }
        for (x, out_row) in input
            .chunks_exact(depth)
            .zip(output.chunks_exact_mut(units))
        {
            for (u, (w, out)) in filter
                .chunks_exact(depth)
                .zip(out_row.iter_mut())
                .enumerate()
            {
                let acc = dot_with_offsets(w, self.filter_offset, x, self.input_offset);
                let m = multipliers.get(u).unwrap_or(&multipliers[0]);
                *out = self.finish(acc.wrapping_add(bias_at(bias, u)), *m);
            }
        }
        Ok(())
    }

    #[inline]
    fn finish(&self, acc: i32, m: QuantizedMultiplier) -> i8 {
        let scaled = m.apply(acc).wrapping_add(self.output_offset);
        clamp_to_i8(scaled, self.activation_min, self.activation_max)
    }
}

/// `sum (w + w_off) * (x + x_off)` in wrapping `i32`, as the reference kernel accumulates.
#[inline]
pub(crate) fn dot_with_offsets(w: &[i8], w_off: i32, x: &[i8], x_off: i32) -> i32 {
    w.iter().zip(x).fold(0i32, |acc, (&w, &x)| {
        acc.wrapping_add((w as i32 + w_off).wrapping_mul(x as i32 + x_off))
    })
}

/// The per-tensor multiplier of FULLY_CONNECTED: `(f64)(input_scale * filter_scale) /
/// (f64)output_scale`, the product rounded to `f32` first as in TFLite.
pub fn per_tensor_multiplier(
    input_scale: f32,
    filter_scale: f32,
    output_scale: f32,
) -> Result<QuantizedMultiplier, KernelError> {
    let product = (input_scale * filter_scale) as f64;
    let real = product / output_scale as f64;
    Ok(QuantizedMultiplier::from_real(real)?)
}
