//! CONV_2D's portable kernel: the reference every other variant is compared with, and what a
//! target without the DSP extension runs.

use super::{check_shapes, Conv2d, ConvOperands};
use crate::engine::arith::clamp_to_i8;
use crate::engine::kernels::fully_connected::dot_with_offsets;
use crate::engine::kernels::geometry::tap_span;
use crate::engine::kernels::{bias_at, elements, KernelError};

/// Checks the operands (including the dense weights' length), then runs the reference.
pub(super) fn eval(k: &Conv2d, ops: ConvOperands<'_>) -> Result<(), KernelError> {
    check(k, &ops)?;
    run(k, ops);
    Ok(())
}

/// The checks of [`eval`]: [`check_shapes`] and the dense weights' length.
pub(super) fn check(k: &Conv2d, ops: &ConvOperands<'_>) -> Result<(), KernelError> {
    check_shapes(k, ops)?;
    if elements(ops.shapes.filter) != Some(ops.filter.len()) {
        return Err(KernelError::ShapeMismatch);
    }
    Ok(())
}

/// The kernel, on operands [`check`] accepted (others give an unspecified output, no panic).
#[inline(never)]
pub(super) fn run(k: &Conv2d, ops: ConvOperands<'_>) {
    let ConvOperands { input, filter, bias, requantize, output, shapes, .. } = ops;
    let [batches, in_h, in_w, in_depth] = shapes.input;
    let [out_depth, filter_h, filter_w, filter_depth] = shapes.filter;
    let [_, out_h, out_w, _] = shapes.output;
    let g = k.geometry;
    let groups = (in_depth / filter_depth.max(1)).max(1);
    let filters_per_group = (out_depth / groups).max(1);
    let mut out_iter = output.iter_mut();
    // The window taps inside the input form one range per axis (padding contributes
    // nothing): found once per output row and pixel, not per channel.
    for b in 0..batches {
        for out_y in 0..out_h {
            let (ky0, ky1) = tap_span(|t| g.in_y(out_y, t, in_h).is_some(), filter_h);
            for out_x in 0..out_w {
                let (kx0, kx1) = tap_span(|t| g.in_x(out_x, t, in_w).is_some(), filter_w);
                for o in 0..out_depth {
                    let group = o / filters_per_group;
                    let mut acc = 0i32;
                    for ky in ky0..ky1 {
                        let in_y = g.in_y(out_y, ky, in_h).unwrap_or(0);
                        let row = (b * in_h + in_y) * in_w;
                        let w_row = (o * filter_h + ky) * filter_w;
                        for kx in kx0..kx1 {
                            let in_x = g.in_x(out_x, kx, in_w).unwrap_or(0);
                            let in_at = (row + in_x) * in_depth + group * filter_depth;
                            let w_at = (w_row + kx) * filter_depth;
                            let x = input.get(in_at..in_at + filter_depth).unwrap_or(&[]);
                            let w = filter.get(w_at..w_at + filter_depth).unwrap_or(&[]);
                            acc = acc.wrapping_add(dot_with_offsets(w, 0, x, k.input_offset));
                        }
                    }
                    acc = acc.wrapping_add(bias_at(bias, o));
                    let scaled = requantize.get(o).apply(acc).wrapping_add(k.output_offset);
                    if let Some(out) = out_iter.next() {
                        *out = clamp_to_i8(scaled, k.activation_min, k.activation_max);
                    }
                }
            }
        }
    }
}
