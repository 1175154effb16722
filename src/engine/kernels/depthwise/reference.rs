//! DEPTHWISE_CONV_2D's portable kernel: the reference every other variant is compared with,
//! and what a target without the DSP extension runs.

use super::{DepthwiseConv2d, DepthwiseOperands};
use crate::engine::arith::clamp_to_i8;
use crate::engine::kernels::bias_at;
use crate::engine::kernels::conv::Shapes;

/// The kernel, on operands [`check`](super::check) accepted (others give an unspecified
/// output, no panic).
#[inline(never)]
pub(super) fn run(k: &DepthwiseConv2d, ops: DepthwiseOperands<'_>) {
    let DepthwiseOperands { input, filter, bias, requantize, output, shapes } = ops;
    let Shapes { input: input_shape, filter: filter_shape, output: output_shape } = shapes;
    let [_, in_h, in_w, in_depth] = input_shape;
    let [_, filter_h, filter_w, out_depth] = filter_shape;
    let [_, out_h, out_w, _] = output_shape;
    let multiplier = k.depth_multiplier.max(1);
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
                let Some(in_y) = k.geometry.in_y(out_y, ky, in_h) else {
                    continue;
                };
                for kx in 0..filter_w {
                    let Some(in_x) = k.geometry.in_x(out_x, kx, in_w) else {
                        continue;
                    };
                    let in_at = ((b * in_h + in_y) * in_w + in_x) * in_depth;
                    let x = input.get(in_at..in_at + in_depth).unwrap_or(&[]);
                    let w_at = (ky * filter_w + kx) * out_depth + o0;
                    let w = filter.get(w_at..w_at + acc.len()).unwrap_or(&[]);
                    if multiplier == 1 {
                        let x = x.get(o0..o0 + acc.len()).unwrap_or(&[]);
                        for ((a, &w), &x) in acc.iter_mut().zip(w).zip(x) {
                            let t =
                                (w as i32).wrapping_mul((x as i32).wrapping_add(k.input_offset));
                            *a = a.wrapping_add(t);
                        }
                    } else {
                        for (j, (a, &w)) in acc.iter_mut().zip(w).enumerate() {
                            let x = x.get((o0 + j) / multiplier).copied().unwrap_or(0);
                            let t =
                                (w as i32).wrapping_mul((x as i32).wrapping_add(k.input_offset));
                            *a = a.wrapping_add(t);
                        }
                    }
                }
            }
            for (j, (out, &a)) in out_chunk.iter_mut().zip(acc.iter()).enumerate() {
                let o = o0 + j;
                let total = a.wrapping_add(bias_at(bias, o));
                let scaled = requantize.get(o).apply(total).wrapping_add(k.output_offset);
                *out = clamp_to_i8(scaled, k.activation_min, k.activation_max);
            }
        }
    }
}
