//! FULLY_CONNECTED (int8 in, int8 weights, optional int32 bias, int8 out).
//!
//! `out[b][u] = clamp(zp_out + M_u * (bias[u] + sum_d (w[u][d] - zp_w) * (x[b][d] - zp_in)))`,
//! TFLite's `reference_integer_ops::FullyConnected` / `FullyConnectedPerChannel`, where the
//! rescale by `M_u` is the full Q0.31 multiplier with one rounding in 64-bit arithmetic (see
//! [`multiply_by_quantized_multiplier_single_rounding`](crate::engine::arith::multiply_by_quantized_multiplier_single_rounding)),
//! not the double-rounding 32-bit one the convolutions use. (TensorFlow Lite Micro uses the
//! 32-bit one here, which is why it differs from the reference by one step on some outputs.)
//!
//! `M` is one
//! multiplier for per-tensor weights (computed from the `f32` product of the input and weight
//! scales, as TFLite's `GetQuantizedConvolutionMultipler` does) or one per output unit for
//! per-channel weights. `keep_num_dims` only changes the output shape, which the loader owns:
//! here the input is `batches x depth` and the output `batches x units`, whatever their rank.

use super::rescale::FcRescale;
use super::{
    bias_at, check_bias, dsp, lane_offset_fits, word, I32Le, KernelError, Requantize, FAST_PATHS,
};
use crate::engine::arith::{activation_range, clamp_to_i8, FusedActivation, QuantizedMultiplier};

/// The sizes of one FULLY_CONNECTED evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FullyConnectedDims {
    /// Rows of the input (product of all input dimensions but the last).
    pub batches: usize,
    /// Length of each input row (the weights' second dimension).
    pub depth: usize,
    /// Output units (the weights' first dimension).
    pub units: usize,
}

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

    /// Runs the operator on `input` (`batches x depth`), `filter` (`units x depth`, one row per
    /// output unit), an optional `bias` of `units` values, writing `output` (`batches x units`).
    /// `requantize` is per-tensor or has `units` channels. Takes the packed fast path where
    /// [`FAST_PATHS`] says so and the parameters allow it (same results as
    /// [`eval_portable`](Self::eval_portable), bit for bit).
    ///
    /// Errors: [`KernelError::ShapeMismatch`] if a length disagrees with `dims`; nothing is
    /// written then.
    pub fn eval(
        &self,
        dims: FullyConnectedDims,
        requantize: Requantize<'_>,
        input: &[i8],
        filter: &[i8],
        bias: Option<I32Le<'_>>,
        output: &mut [i8],
    ) -> Result<(), KernelError> {
        check(dims, requantize, input, filter, bias, output)?;
        if !(FAST_PATHS && self.eval_packed(dims, requantize, input, filter, bias, output)) {
            self.run_portable(dims, requantize, input, filter, bias, output);
        }
        Ok(())
    }

    /// [`eval`](Self::eval) with the portable kernel only (what a Cortex-M0 runs).
    pub fn eval_portable(
        &self,
        dims: FullyConnectedDims,
        requantize: Requantize<'_>,
        input: &[i8],
        filter: &[i8],
        bias: Option<I32Le<'_>>,
        output: &mut [i8],
    ) -> Result<(), KernelError> {
        check(dims, requantize, input, filter, bias, output)?;
        self.run_portable(dims, requantize, input, filter, bias, output);
        Ok(())
    }

    /// [`eval`](Self::eval) with the weights given as a [`sparse`](super::sparse) table of
    /// each unit's nonzero weights (built at load for pruned models, with the bias, the
    /// zero-point term and the rescale folded into each unit's header) instead of dense rows:
    /// only the listed weights are multiplied. Same results as the dense kernel.
    ///
    /// Errors: [`KernelError::ShapeMismatch`] if a length disagrees with `dims` (nothing is
    /// written then) or the table lists fewer than `units` rows (the output is then unspecified).
    pub fn eval_sparse(
        &self,
        dims: FullyConnectedDims,
        requantize: Requantize<'_>,
        input: &[i8],
        table: &[u8],
        output: &mut [i8],
    ) -> Result<(), KernelError> {
        let FullyConnectedDims { batches, depth, units } = dims;
        if Some(input.len()) != batches.checked_mul(depth)
            || Some(output.len()) != batches.checked_mul(units)
            || !requantize.covers(units)
            || depth > 256
        {
            return Err(KernelError::ShapeMismatch);
        }
        let (lo, hi) = (self.activation_min, self.activation_max);
        let fast = FAST_PATHS && super::sparse::all_fast(table);
        let body = table.get(4..).ok_or(KernelError::ShapeMismatch)?;
        let mut x = [0i8; 256];
        for (row, out_row) in input.chunks_exact(depth.max(1)).zip(output.chunks_exact_mut(units)) {
            super::sparse::fill_row(&mut x, row);
            let mut rest = body;
            if fast {
                // Every unit rescales with SMMLA: the loop carries nothing else.
                for (u, out) in out_row.iter_mut().enumerate() {
                    let (row, tail) =
                        super::sparse::split_row(rest).ok_or(KernelError::ShapeMismatch)?;
                    rest = tail;
                    let acc = super::sparse::dot(&row, &x);
                    let rescale = FcRescale::with_round(requantize.get(u), row.round.unwrap_or(1));
                    *out = clamp_to_i8(rescale.apply(acc), lo, hi);
                }
                continue;
            }
            for (u, out) in out_row.iter_mut().enumerate() {
                let (row, tail) =
                    super::sparse::split_row(rest).ok_or(KernelError::ShapeMismatch)?;
                rest = tail;
                let acc = super::sparse::dot(&row, &x);
                *out = match row.round {
                    Some(round) if FAST_PATHS => {
                        let rescale = FcRescale::with_round(requantize.get(u), round);
                        clamp_to_i8(rescale.apply(acc), lo, hi)
                    }
                    _ => self.finish(acc, requantize.get(u)),
                };
            }
        }
        Ok(())
    }

    fn run_portable(
        &self,
        dims: FullyConnectedDims,
        requantize: Requantize<'_>,
        input: &[i8],
        filter: &[i8],
        bias: Option<I32Le<'_>>,
        output: &mut [i8],
    ) {
        let FullyConnectedDims { batches, depth, units } = dims;
        if units == 0 || batches == 0 {
            return;
        }
        for b in 0..batches {
            let x = input.get(b * depth..(b + 1) * depth).unwrap_or(&[]);
            let out_row = output.get_mut(b * units..(b + 1) * units).unwrap_or(&mut []);
            for (u, out) in out_row.iter_mut().enumerate() {
                let w = filter.get(u * depth..(u + 1) * depth).unwrap_or(&[]);
                let acc = dot_with_offsets(w, self.filter_offset, x, self.input_offset)
                    .wrapping_add(bias_at(bias, u));
                *out = self.finish(acc, requantize.get(u));
            }
        }
    }

    /// The packed path: two units per pass over the input row, four depth values per step
    /// (SXTAB16 applies the offsets, SMLAD multiplies and adds pairs), and the SMMLA rescale.
    /// Returns `false` (having written nothing) if a multiplier or offset is outside the range
    /// where that is exact.
    fn eval_packed(
        &self,
        dims: FullyConnectedDims,
        requantize: Requantize<'_>,
        input: &[i8],
        filter: &[i8],
        bias: Option<I32Le<'_>>,
        output: &mut [i8],
    ) -> bool {
        let FullyConnectedDims { depth, units, .. } = dims;
        let zp = self.output_offset;
        if depth == 0
            || units == 0
            || !lane_offset_fits(self.input_offset)
            || !lane_offset_fits(self.filter_offset)
        {
            return false;
        }
        // One rescale for per-tensor weights; per-channel ones are checked here, made per unit.
        let fixed = match requantize {
            Requantize::PerTensor(m) => match FcRescale::new(m, zp) {
                Some(r) => Some(r),
                None => return false,
            },
            Requantize::PerChannel { .. } => {
                if !(0..units).all(|u| FcRescale::new(requantize.get(u), zp).is_some()) {
                    return false;
                }
                None
            }
        };
        let offsets = (dsp::splat(self.input_offset), dsp::splat(self.filter_offset));
        let (lo, hi) = (self.activation_min, self.activation_max);
        let finish = |acc: i32, u: usize| {
            let rescale =
                fixed.unwrap_or_else(|| FcRescale::new(requantize.get(u), zp).unwrap_or_default());
            let b = bias.map_or(0, |b| b.get(u));
            clamp_to_i8(rescale.apply(acc.wrapping_add(b)), lo, hi)
        };
        for (x, out_row) in input.chunks_exact(depth).zip(output.chunks_exact_mut(units)) {
            if depth < 4 {
                for ((u, out), w) in out_row.iter_mut().enumerate().zip(filter.chunks_exact(depth))
                {
                    *out = finish(dot_with_offsets(w, self.filter_offset, x, self.input_offset), u);
                }
                continue;
            }
            let mut rows = filter.chunks_exact(2 * depth);
            let mut outs = out_row.chunks_exact_mut(2);
            let mut u = 0;
            for (w, out) in (&mut rows).zip(&mut outs) {
                let (w0, w1) = w.split_at(depth);
                let (a0, a1) = self.dot2(x, w0, w1, offsets);
                out[0] = finish(a0, u);
                out[1] = finish(a1, u + 1);
                u += 2;
            }
            if let (Some(out), Some(w)) =
                (outs.into_remainder().first_mut(), rows.remainder().get(..depth))
            {
                let (a0, _) = self.dot2(x, w, w, offsets);
                *out = finish(a0, u);
            }
        }
        true
    }

    /// `(sum (w0+fo)(x+io), sum (w1+fo)(x+io))` in wrapping `i32`.
    #[inline(always)]
    pub(super) fn dot2(&self, x: &[i8], w0: &[i8], w1: &[i8], offsets: (u32, u32)) -> (i32, i32) {
        let (xo, wo) = offsets;
        let (x4, x_tail) = x.as_chunks::<4>();
        let (w04, w0_tail) = w0.as_chunks::<4>();
        let (w14, w1_tail) = w1.as_chunks::<4>();
        let (mut a0, mut a1) = (0i32, 0i32);
        for ((x, w0), w1) in x4.iter().zip(w04).zip(w14) {
            let x = word(x);
            let (x02, x13) = (dsp::sxtab16(xo, x), dsp::sxtab16_ror8(xo, x));
            let w = word(w0);
            a0 = dsp::smlad(x02, dsp::sxtab16(wo, w), a0);
            a0 = dsp::smlad(x13, dsp::sxtab16_ror8(wo, w), a0);
            let w = word(w1);
            a1 = dsp::smlad(x02, dsp::sxtab16(wo, w), a1);
            a1 = dsp::smlad(x13, dsp::sxtab16_ror8(wo, w), a1);
        }
        a0 = a0.wrapping_add(dot_with_offsets(
            w0_tail,
            self.filter_offset,
            x_tail,
            self.input_offset,
        ));
        a1 = a1.wrapping_add(dot_with_offsets(
            w1_tail,
            self.filter_offset,
            x_tail,
            self.input_offset,
        ));
        (a0, a1)
    }

    #[inline]
    fn finish(&self, acc: i32, m: QuantizedMultiplier) -> i8 {
        // TFLite's reference FULLY_CONNECTED rescales with the full multiplier and one
        // rounding, unlike the convolutions' double rounding (docs/engine-arithmetic.md).
        let scaled = m.apply_single_rounding(acc).saturating_add(self.output_offset);
        clamp_to_i8(scaled, self.activation_min, self.activation_max)
    }
}

/// The length checks shared by both paths.
fn check(
    dims: FullyConnectedDims,
    requantize: Requantize<'_>,
    input: &[i8],
    filter: &[i8],
    bias: Option<I32Le<'_>>,
    output: &[i8],
) -> Result<(), KernelError> {
    let FullyConnectedDims { batches, depth, units } = dims;
    if Some(input.len()) != batches.checked_mul(depth)
        || Some(filter.len()) != units.checked_mul(depth)
        || Some(output.len()) != batches.checked_mul(units)
        || !requantize.covers(units)
    {
        return Err(KernelError::ShapeMismatch);
    }
    check_bias(bias, units)
}

/// `sum (w + w_off) * (x + x_off)` in wrapping `i32`, as the reference kernel accumulates.
#[inline]
pub(crate) fn dot_with_offsets(w: &[i8], w_off: i32, x: &[i8], x_off: i32) -> i32 {
    w.iter().zip(x).fold(0i32, |acc, (&w, &x)| {
        acc.wrapping_add(
            (w as i32).wrapping_add(w_off).wrapping_mul((x as i32).wrapping_add(x_off)),
        )
    })
}

/// The per-tensor multiplier of FULLY_CONNECTED: `(f64)(input_scale * filter_scale) /
/// (f64)output_scale`, the product rounded to `f32` first as in TFLite's
/// `GetQuantizedConvolutionMultipler`. (Per-channel weights use
/// [`channel_multipliers`](super::channel_multipliers), whose product is in `f64`.)
pub fn per_tensor_multiplier(
    input_scale: f32,
    filter_scale: f32,
    output_scale: f32,
) -> Result<QuantizedMultiplier, KernelError> {
    let product = (input_scale * filter_scale) as f64;
    let real = product / output_scale as f64;
    Ok(QuantizedMultiplier::from_real(real)?)
}
