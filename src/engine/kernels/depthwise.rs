//! DEPTHWISE_CONV_2D (int8, NHWC input, `[1, H, W, in_channels * depth_multiplier]` weights).
//!
//! Output channel `o = i * depth_multiplier + m` sees only input channel `i`:
//! `acc = bias[o] + sum_{ky,kx} w[ky][kx][o] * (in[b][y*sh - ph + ky*dh][x*sw - pw + kx*dw][i] - zp_in)`
//! over the taps inside the input, then `out = clamp(zp_out + M_o * acc)` (TFLite's
//! `reference_integer_ops::DepthwiseConvPerChannel`; weights' zero point unused, must be 0).

use super::conv::Shapes;
use super::geometry::Geometry;
use super::{bias_at, check_bias, elements, I32Le, KernelError, Requantize, FAST_PATHS};
use crate::engine::arith::{activation_range, clamp_to_i8, FusedActivation};

/// The integer parameters of one DEPTHWISE_CONV_2D operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DepthwiseConv2d {
    /// Strides, dilations and padding.
    pub geometry: Geometry,
    /// Output channels per input channel (> 0).
    pub depth_multiplier: usize,
    /// `-input_zero_point`.
    pub input_offset: i32,
    /// `output_zero_point`.
    pub output_offset: i32,
    /// Lower clamp bound (fused activation and int8 range).
    pub activation_min: i32,
    /// Upper clamp bound.
    pub activation_max: i32,
}

impl DepthwiseConv2d {
    /// Parameters from the geometry, depth multiplier, zero points, output scale and fused
    /// activation.
    pub fn new(
        geometry: Geometry,
        depth_multiplier: usize,
        input_zero_point: i32,
        output_scale: f32,
        output_zero_point: i32,
        activation: FusedActivation,
    ) -> Result<DepthwiseConv2d, KernelError> {
        let (activation_min, activation_max) =
            activation_range(activation, output_scale, output_zero_point)?;
        Ok(DepthwiseConv2d {
            geometry,
            depth_multiplier,
            input_offset: input_zero_point.wrapping_neg(),
            output_offset: output_zero_point,
            activation_min,
            activation_max,
        })
    }

    /// Bytes of scratch memory [`eval_with_scratch`](Self::eval_with_scratch) uses for its fast
    /// path with these shapes (0 if it has none for them).
    pub fn scratch_bytes(
        &self,
        input_shape: [usize; 4],
        filter_shape: [usize; 4],
        output_shape: [usize; 4],
    ) -> usize {
        let shapes = Shapes { input: input_shape, filter: filter_shape, output: output_shape };
        super::packed_depthwise::scratch_bytes(self, shapes)
    }

    /// [`eval_with_scratch`](Self::eval_with_scratch) without scratch memory: the portable
    /// kernel.
    #[allow(clippy::too_many_arguments)]
    pub fn eval(
        &self,
        input: &[i8],
        input_shape: [usize; 4],
        filter: &[i8],
        filter_shape: [usize; 4],
        bias: Option<I32Le<'_>>,
        requantize: Requantize<'_>,
        output: &mut [i8],
        output_shape: [usize; 4],
    ) -> Result<(), KernelError> {
        self.eval_portable(
            input,
            input_shape,
            filter,
            filter_shape,
            bias,
            requantize,
            output,
            output_shape,
        )
    }

    /// Runs the depthwise convolution. Shapes: `input` `[batch, height, width, in_channels]`,
    /// `filter` `[1, height, width, in_channels * depth_multiplier]`, `output`
    /// `[batch, out_height, out_width, in_channels * depth_multiplier]`; `bias` and
    /// `requantize` cover the output channels. With [`FAST_PATHS`] and at least
    /// [`scratch_bytes`](Self::scratch_bytes) of `scratch`, takes the packed path (see
    /// [`packed_depthwise`](super::packed_depthwise)) when the parameters allow it; the
    /// results are the same as [`eval_portable`](Self::eval_portable)'s.
    ///
    /// Errors: [`KernelError::ShapeMismatch`] if a length or dimension disagrees (checked before
    /// anything is written); [`KernelError::Unsupported`] for a zero stride, dilation or
    /// depth multiplier.
    #[allow(clippy::too_many_arguments)]
    pub fn eval_with_scratch(
        &self,
        input: &[i8],
        input_shape: [usize; 4],
        filter: &[i8],
        filter_shape: [usize; 4],
        bias: Option<I32Le<'_>>,
        requantize: Requantize<'_>,
        output: &mut [i8],
        output_shape: [usize; 4],
        scratch: &mut [u8],
    ) -> Result<(), KernelError> {
        self.check(
            input,
            input_shape,
            filter,
            filter_shape,
            bias,
            requantize,
            output,
            output_shape,
        )?;
        let shapes = Shapes { input: input_shape, filter: filter_shape, output: output_shape };
        if FAST_PATHS
            && super::packed_depthwise::depthwise(
                self, input, filter, bias, requantize, output, shapes, scratch,
            )
        {
            return Ok(());
        }
        self.run_portable(
            input,
            input_shape,
            filter,
            filter_shape,
            bias,
            requantize,
            output,
            output_shape,
        );
        Ok(())
    }

    /// The portable kernel (what a Cortex-M0 runs), with the checks of
    /// [`eval_with_scratch`](Self::eval_with_scratch).
    #[allow(clippy::too_many_arguments)]
    pub fn eval_portable(
        &self,
        input: &[i8],
        input_shape: [usize; 4],
        filter: &[i8],
        filter_shape: [usize; 4],
        bias: Option<I32Le<'_>>,
        requantize: Requantize<'_>,
        output: &mut [i8],
        output_shape: [usize; 4],
    ) -> Result<(), KernelError> {
        self.check(
            input,
            input_shape,
            filter,
            filter_shape,
            bias,
            requantize,
            output,
            output_shape,
        )?;
        self.run_portable(
            input,
            input_shape,
            filter,
            filter_shape,
            bias,
            requantize,
            output,
            output_shape,
        );
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn check(
        &self,
        input: &[i8],
        input_shape: [usize; 4],
        filter: &[i8],
        filter_shape: [usize; 4],
        bias: Option<I32Le<'_>>,
        requantize: Requantize<'_>,
        output: &[i8],
        output_shape: [usize; 4],
    ) -> Result<(), KernelError> {
        let [batches, _, _, in_depth] = input_shape;
        let [one, filter_h, filter_w, out_depth] = filter_shape;
        let [out_batches, out_h, out_w, out_c] = output_shape;
        let multiplier = self.depth_multiplier;
        if multiplier == 0 {
            return Err(KernelError::Unsupported);
        }
        if elements(input_shape) != Some(input.len())
            || elements(filter_shape) != Some(filter.len())
            || elements(output_shape) != Some(output.len())
            || one != 1
            || out_batches != batches
            || out_c != out_depth
            || in_depth.checked_mul(multiplier) != Some(out_depth)
            || !requantize.covers(out_depth)
        {
            return Err(KernelError::ShapeMismatch);
        }
        check_bias(bias, out_depth)?;
        if !self.geometry.fits(out_h, out_w, filter_h, filter_w) {
            return Err(KernelError::Unsupported);
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn run_portable(
        &self,
        input: &[i8],
        input_shape: [usize; 4],
        filter: &[i8],
        filter_shape: [usize; 4],
        bias: Option<I32Le<'_>>,
        requantize: Requantize<'_>,
        output: &mut [i8],
        output_shape: [usize; 4],
    ) {
        let [_, in_h, in_w, in_depth] = input_shape;
        let [_, filter_h, filter_w, out_depth] = filter_shape;
        let [_, out_h, out_w, _] = output_shape;
        let multiplier = self.depth_multiplier.max(1);
        // Output channels are processed in chunks with a stack accumulator, so the inner loops
        // run over contiguous weights (and, for a multiplier of 1, contiguous inputs).
        const CHUNK: usize = 32;
        let mut acc = [0i32; CHUNK];
        let pixels = output.chunks_exact_mut(out_depth.max(1));
        for (pixel, out_px) in pixels.enumerate() {
            let out_x = pixel % out_w;
            let out_y = (pixel / out_w) % out_h;
            let b = pixel / (out_w * out_h);
            for (chunk, out_chunk) in out_px.chunks_mut(CHUNK).enumerate() {
                let o0 = chunk * CHUNK;
                let acc = &mut acc[..out_chunk.len()];
                acc.fill(0);
                for ky in 0..filter_h {
                    let Some(in_y) = self.geometry.in_y(out_y, ky, in_h) else {
                        continue;
                    };
                    for kx in 0..filter_w {
                        let Some(in_x) = self.geometry.in_x(out_x, kx, in_w) else {
                            continue;
                        };
                        let in_at = ((b * in_h + in_y) * in_w + in_x) * in_depth;
                        let x = input.get(in_at..in_at + in_depth).unwrap_or(&[]);
                        let w_at = (ky * filter_w + kx) * out_depth + o0;
                        let w = filter.get(w_at..w_at + acc.len()).unwrap_or(&[]);
                        if multiplier == 1 {
                            let x = x.get(o0..o0 + acc.len()).unwrap_or(&[]);
                            for ((a, &w), &x) in acc.iter_mut().zip(w).zip(x) {
                                let t = (w as i32)
                                    .wrapping_mul((x as i32).wrapping_add(self.input_offset));
                                *a = a.wrapping_add(t);
                            }
                        } else {
                            for (j, (a, &w)) in acc.iter_mut().zip(w).enumerate() {
                                let x = x.get((o0 + j) / multiplier).copied().unwrap_or(0);
                                let t = (w as i32)
                                    .wrapping_mul((x as i32).wrapping_add(self.input_offset));
                                *a = a.wrapping_add(t);
                            }
                        }
                    }
                }
                for (j, (out, &a)) in out_chunk.iter_mut().zip(acc.iter()).enumerate() {
                    let o = o0 + j;
                    let total = a.wrapping_add(bias_at(bias, o));
                    let scaled = requantize.get(o).apply(total).wrapping_add(self.output_offset);
                    *out = clamp_to_i8(scaled, self.activation_min, self.activation_max);
                }
            }
        }
    }
}
