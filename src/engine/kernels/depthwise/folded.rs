//! DEPTHWISE_CONV_2D's fast portable kernel, for targets without the DSP extension
//! (Cortex-M0/M0+, RV32IMC): the input zero point folded into the bias, the requantization
//! without a 64-bit multiply, no scratch memory.
//!
//! `acc = bias + sum w * (x - zp)` over the taps inside the input is computed as
//! `(bias - zp * sum w) + sum w * x`. Output channels are the outer loop: a channel's weight sum
//! and rescale ([`NarrowRescale`] when it is exact for every accumulator the channel can reach,
//! the portable arithmetic otherwise) are found once, then every output pixel of the channel is
//! one load of a weight and one of an input, a multiply and an add per tap. A pixel whose
//! window crosses the padding sums the weights of the taps it sees instead (the padding acts
//! as the zero point: it contributes nothing). Results are the reference's for every input.

use super::{DepthwiseConv2d, DepthwiseOperands};
use crate::engine::arith::clamp_to_i8;
use crate::engine::kernels::bias_at;
use crate::engine::kernels::geometry::tap_span;
use crate::engine::kernels::narrow::{accumulator_limit, NarrowRescale};

/// Runs the depthwise convolution on operands [`check`](super::check) accepted (others give
/// an unspecified output, no panic).
#[inline(never)]
pub(super) fn run(k: &DepthwiseConv2d, ops: DepthwiseOperands<'_>) {
    let DepthwiseOperands { input, filter, bias, requantize, output, shapes } = ops;
    let [batches, in_h, in_w, in_c] = shapes.input;
    let [_, fh, fw, out_c] = shapes.filter;
    let [_, out_h, out_w, _] = shapes.output;
    let g = k.geometry;
    let multiplier = k.depth_multiplier.max(1);
    let span_x = |x: usize| span(&g, x, in_w, fw);
    // Output columns whose window lies wholly inside the input along x: one range.
    let (x_lo, x_hi) = tap_span(|x| span_x(x) == (0, fw), out_w);
    // |x - zp| <= 255 bounds each product; otherwise no accumulator bound holds.
    let bounded = (-128..=127).contains(&k.input_offset.wrapping_neg());
    // Input values between neighbouring taps of a row, and between rows.
    let (tap_step, row_step) = (g.dilation_w * in_c, g.dilation_h * in_w * in_c);
    for o in 0..out_c {
        let weights = filter.get(o..).unwrap_or(&[]);
        let b = bias_at(bias, o);
        let m = requantize.get(o);
        let fast =
            NarrowRescale::new(m, k.output_offset, accumulator_limit(b.unsigned_abs(), fh * fw))
                .filter(|_| bounded);
        let sum = weights.iter().step_by(out_c).fold(0i32, |s, &w| s.wrapping_add(w as i32));
        let whole = b.wrapping_add(k.input_offset.wrapping_mul(sum));
        let channel = o / multiplier;
        let mut at_out = o;
        for batch in 0..batches {
            for oy in 0..out_h {
                let (ky0, ky1) = tap_span(|t| g.in_y(oy, t, in_h).is_some(), fh);
                let iy0 = g.in_y(oy, ky0, in_h).unwrap_or(0);
                for ox in 0..out_w {
                    let (kx0, kx1) = if (x_lo..x_hi).contains(&ox) { (0, fw) } else { span_x(ox) };
                    let ix0 = g.in_x(ox, kx0, in_w).unwrap_or(0);
                    let first = ((batch * in_h + iy0) * in_w + ix0) * in_c + channel;
                    let (taps, rows) = (kx1.saturating_sub(kx0), ky1.saturating_sub(ky0));
                    let w_first = (ky0 * fw + kx0) * out_c;
                    let window = Window {
                        first,
                        w_first,
                        taps,
                        rows,
                        tap_step,
                        row_step,
                        w_tap: out_c,
                        w_row: fw * out_c,
                    };
                    let (dot, seen) = window.dot(input, weights);
                    let acc = if (taps, rows) == (fw, fh) {
                        whole.wrapping_add(dot)
                    } else {
                        b.wrapping_add(dot).wrapping_add(k.input_offset.wrapping_mul(seen))
                    };
                    if let Some(out) = output.get_mut(at_out) {
                        *out = rescale(fast, m, k, acc);
                    }
                    at_out += out_c;
                }
            }
        }
    }
}

/// The taps `first..end` of a window row of `taps` taps inside an input row of `width` for
/// output column `x`.
#[inline(never)]
fn span(
    g: &crate::engine::kernels::geometry::Geometry,
    x: usize,
    width: usize,
    taps: usize,
) -> (usize, usize) {
    tap_span(|t| g.in_x(x, t, width).is_some(), taps)
}

/// The output value of accumulator `acc`: [`NarrowRescale`] if the channel has one, else the
/// portable arithmetic of its multiplier `m`.
#[inline(never)]
fn rescale(
    fast: Option<NarrowRescale>,
    m: crate::engine::arith::QuantizedMultiplier,
    k: &DepthwiseConv2d,
    acc: i32,
) -> i8 {
    let v = match fast {
        Some(r) => r.apply(acc),
        None => m.apply(acc).wrapping_add(k.output_offset),
    };
    clamp_to_i8(v, k.activation_min, k.activation_max)
}

/// The taps of one output pixel inside the input: `rows` rows of `taps` taps, the first at
/// input index `first` and weight index `w_first` (of the channel's weights), with the steps
/// between taps and rows in the input and in the weights.
struct Window {
    first: usize,
    w_first: usize,
    taps: usize,
    rows: usize,
    tap_step: usize,
    row_step: usize,
    w_tap: usize,
    w_row: usize,
}

impl Window {
    /// `(sum w * x, sum w)` over the window (an index past the end reads 0).
    #[inline(never)]
    fn dot(&self, input: &[i8], weights: &[i8]) -> (i32, i32) {
        let (mut dot, mut seen) = (0i32, 0i32);
        let (mut x_row, mut w_row) = (self.first, self.w_first);
        for _ in 0..self.rows {
            let (mut xi, mut wi) = (x_row, w_row);
            for _ in 0..self.taps {
                let x = input.get(xi).copied().unwrap_or(0) as i32;
                let w = weights.get(wi).copied().unwrap_or(0) as i32;
                dot = dot.wrapping_add(w * x);
                seen = seen.wrapping_add(w);
                xi = xi.wrapping_add(self.tap_step);
                wi = wi.wrapping_add(self.w_tap);
            }
            x_row = x_row.wrapping_add(self.row_step);
            w_row = w_row.wrapping_add(self.w_row);
        }
        (dot, seen)
    }
}
