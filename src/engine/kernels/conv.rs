//! CONV_2D (int8, NHWC input, OHWI weights, per-channel requantization).
//!
//! For every output position `(b, y, x)` and output channel `o`:
//! `acc = bias[o] + sum_{ky,kx,i} w[o][ky][kx][i] * (in[b][y*sh - ph + ky*dh][x*sw - pw + kx*dw][i] - zp_in)`
//! over the taps that fall inside the input (padding contributes nothing, i.e. it acts as the
//! input zero point), then `out = clamp(zp_out + M_o * acc)`. This is TFLite's
//! `reference_integer_ops::ConvPerChannel`; the weights' zero point is not used (int8 weights
//! are symmetric, the loader checks it is 0). Grouped convolutions (input depth a multiple of
//! the weights' depth) are handled as in the reference.

use super::fully_connected::dot_with_offsets;
use super::packed_conv::Shapes;
use super::{bias_at, check_bias, elements, I32Le, KernelError, Requantize, FAST_PATHS};
use crate::engine::arith::{activation_range, clamp_to_i8, FusedActivation};

/// The taps `first..end` of `0..n` for which `valid` holds, which form one range when `valid`
/// is an input bound check along one axis (positions grow with the tap index).
#[inline(always)]
pub(crate) fn tap_span(valid: impl Fn(usize) -> bool, n: usize) -> (usize, usize) {
    let first = (0..n).find(|&k| valid(k)).unwrap_or(n);
    (first, (first..n).find(|&k| !valid(k)).unwrap_or(n))
}

/// Window geometry shared by convolutions and pooling: strides, dilations, leading padding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Window {
    /// Vertical stride (> 0).
    pub stride_h: usize,
    /// Horizontal stride (> 0).
    pub stride_w: usize,
    /// Vertical dilation (> 0; 1 for pooling).
    pub dilation_h: usize,
    /// Horizontal dilation (> 0; 1 for pooling).
    pub dilation_w: usize,
    /// Rows of padding before the input (see [`padding`](super::padding)).
    pub pad_h: usize,
    /// Columns of padding before the input.
    pub pad_w: usize,
}

impl Window {
    /// Input row of output row `out_y` and window row `k`, `None` if it falls in the padding.
    #[inline]
    pub(crate) fn in_y(&self, out_y: usize, k: usize, height: usize) -> Option<usize> {
        (out_y * self.stride_h + k * self.dilation_h)
            .checked_sub(self.pad_h)
            .filter(|&y| y < height)
    }

    /// Input column of output column `out_x` and window column `k`, `None` if in the padding.
    #[inline]
    pub(crate) fn in_x(&self, out_x: usize, k: usize, width: usize) -> Option<usize> {
        (out_x * self.stride_w + k * self.dilation_w).checked_sub(self.pad_w).filter(|&x| x < width)
    }

    /// True if every position this window can address fits in `usize` arithmetic, for an
    /// output of `out_h x out_w` and a filter of `filter_h x filter_w`.
    pub(crate) fn fits(
        &self,
        out_h: usize,
        out_w: usize,
        filter_h: usize,
        filter_w: usize,
    ) -> bool {
        let reach = |out: usize, stride: usize, k: usize, dil: usize| {
            out.checked_mul(stride)
                .and_then(|a| k.checked_mul(dil).and_then(|b| a.checked_add(b)))
                .is_some()
        };
        self.stride_h > 0
            && self.stride_w > 0
            && self.dilation_h > 0
            && self.dilation_w > 0
            && reach(out_h, self.stride_h, filter_h, self.dilation_h)
            && reach(out_w, self.stride_w, filter_w, self.dilation_w)
    }
}

/// The integer parameters of one CONV_2D operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Conv2d {
    /// Strides, dilations and padding.
    pub window: Window,
    /// `-input_zero_point`.
    pub input_offset: i32,
    /// `output_zero_point`.
    pub output_offset: i32,
    /// Lower clamp bound (fused activation and int8 range).
    pub activation_min: i32,
    /// Upper clamp bound.
    pub activation_max: i32,
}

impl Conv2d {
    /// Parameters from the geometry, zero points, output scale and fused activation.
    pub fn new(
        window: Window,
        input_zero_point: i32,
        output_scale: f32,
        output_zero_point: i32,
        activation: FusedActivation,
    ) -> Result<Conv2d, KernelError> {
        let (activation_min, activation_max) =
            activation_range(activation, output_scale, output_zero_point)?;
        Ok(Conv2d {
            window,
            input_offset: input_zero_point.wrapping_neg(),
            output_offset: output_zero_point,
            activation_min,
            activation_max,
        })
    }

    /// Bytes of scratch memory [`eval_with_scratch`](Self::eval_with_scratch) uses for its fast
    /// path with weights of shape `filter_shape` (`[out_channels, height, width, depth]`).
    pub fn scratch_bytes(filter_shape: [usize; 4]) -> usize {
        let [out_channels, h, w, depth] = filter_shape;
        let patch = h.saturating_mul(w).saturating_mul(depth);
        super::packed_conv::scratch_bytes(out_channels, patch)
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

    /// Runs the convolution. Shapes are `[batch, height, width, channels]` for `input` and
    /// `output` and `[out_channels, height, width, in_channels_per_group]` for `filter`;
    /// `bias` holds `out_channels` values and `requantize` covers `out_channels` channels.
    /// With [`FAST_PATHS`] and at least [`scratch_bytes`](Self::scratch_bytes) of `scratch`,
    /// takes the packed path (see [`packed_conv`](super::packed_conv)) when the parameters
    /// allow it; the results are the same as [`eval_portable`](Self::eval_portable)'s.
    ///
    /// Errors: [`KernelError::ShapeMismatch`] if a slice length or dimension disagrees (checked
    /// before anything is written); [`KernelError::Unsupported`] for a zero stride or dilation.
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
            && super::packed_conv::conv(
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
        let [out_depth, filter_h, filter_w, filter_depth] = filter_shape;
        let [out_batches, out_h, out_w, out_c] = output_shape;
        if elements(input_shape) != Some(input.len())
            || elements(filter_shape) != Some(filter.len())
            || elements(output_shape) != Some(output.len())
            || out_batches != batches
            || out_c != out_depth
            || filter_depth == 0
            || !in_depth.is_multiple_of(filter_depth)
            || !requantize.covers(out_depth)
        {
            return Err(KernelError::ShapeMismatch);
        }
        check_bias(bias, out_depth)?;
        if !self.window.fits(out_h, out_w, filter_h, filter_w) {
            return Err(KernelError::Unsupported);
        }
        let groups = in_depth / filter_depth;
        if groups == 0 || !out_depth.is_multiple_of(groups) {
            return Err(KernelError::ShapeMismatch);
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
        let [batches, in_h, in_w, in_depth] = input_shape;
        let [out_depth, filter_h, filter_w, filter_depth] = filter_shape;
        let [_, out_h, out_w, _] = output_shape;
        let groups = (in_depth / filter_depth.max(1)).max(1);
        let filters_per_group = (out_depth / groups).max(1);
        let mut out_iter = output.iter_mut();
        // The window taps inside the input form one range per axis (padding contributes
        // nothing): found once per output row and pixel, not per channel.
        for b in 0..batches {
            for out_y in 0..out_h {
                let (ky0, ky1) = tap_span(|k| self.window.in_y(out_y, k, in_h).is_some(), filter_h);
                for out_x in 0..out_w {
                    let (kx0, kx1) =
                        tap_span(|k| self.window.in_x(out_x, k, in_w).is_some(), filter_w);
                    for o in 0..out_depth {
                        let group = o / filters_per_group;
                        let mut acc = 0i32;
                        for ky in ky0..ky1 {
                            let in_y = self.window.in_y(out_y, ky, in_h).unwrap_or(0);
                            let row = (b * in_h + in_y) * in_w;
                            let w_row = (o * filter_h + ky) * filter_w;
                            for kx in kx0..kx1 {
                                let in_x = self.window.in_x(out_x, kx, in_w).unwrap_or(0);
                                let in_at = (row + in_x) * in_depth + group * filter_depth;
                                let w_at = (w_row + kx) * filter_depth;
                                let x = input.get(in_at..in_at + filter_depth).unwrap_or(&[]);
                                let w = filter.get(w_at..w_at + filter_depth).unwrap_or(&[]);
                                acc =
                                    acc.wrapping_add(dot_with_offsets(w, 0, x, self.input_offset));
                            }
                        }
                        acc = acc.wrapping_add(bias_at(bias, o));
                        let scaled = requantize.get(o).apply(acc).wrapping_add(self.output_offset);
                        if let Some(out) = out_iter.next() {
                            *out = clamp_to_i8(scaled, self.activation_min, self.activation_max);
                        }
                    }
                }
            }
        }
    }
}
