//! FULLY_CONNECTED's portable kernel: the reference every other variant is compared with, and
//! what a target without the DSP extension runs.

use super::{check, dot_with_offsets, FcOperands, FullyConnected, FullyConnectedDims};
use crate::engine::arith::{clamp_to_i8, QuantizedMultiplier};
use crate::engine::kernels::{bias_at, KernelError};

/// Checks the operands, then runs the reference.
pub(super) fn eval(k: &FullyConnected, ops: FcOperands<'_>) -> Result<(), KernelError> {
    check(&ops)?;
    run(k, ops);
    Ok(())
}

/// The kernel, on operands `check` accepted (others give an unspecified output, no panic).
#[inline(never)]
pub(super) fn run(k: &FullyConnected, ops: FcOperands<'_>) {
    let FcOperands { input, filter, bias, requantize, output, dims, .. } = ops;
    let FullyConnectedDims { batches, depth, units } = dims;
    if units == 0 || batches == 0 {
        return;
    }
    for b in 0..batches {
        let x = input.get(b * depth..(b + 1) * depth).unwrap_or(&[]);
        let out_row = output.get_mut(b * units..(b + 1) * units).unwrap_or(&mut []);
        for (u, out) in out_row.iter_mut().enumerate() {
            let w = filter.get(u * depth..(u + 1) * depth).unwrap_or(&[]);
            let acc = dot_with_offsets(w, k.filter_offset, x, k.input_offset)
                .wrapping_add(bias_at(bias, u));
            *out = finish(k, acc, requantize.get(u));
        }
    }
}

/// The reference's rescale, offset and clamp of one accumulator.
#[inline]
pub(super) fn finish(k: &FullyConnected, acc: i32, m: QuantizedMultiplier) -> i8 {
    // TFLite's reference FULLY_CONNECTED rescales with the full multiplier and one rounding,
    // unlike the convolutions' double rounding (docs/engine-arithmetic.md).
    let scaled = m.apply_single_rounding(acc).saturating_add(k.output_offset);
    clamp_to_i8(scaled, k.activation_min, k.activation_max)
}
