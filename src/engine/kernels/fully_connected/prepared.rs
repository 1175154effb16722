//! FULLY_CONNECTED with its rescales prepared at load: the fast path of the operator.
//!
//! The packed kernel has to turn each unit's
//! [`QuantizedMultiplier`] into the two-instruction
//! [`FcRescale`] form (and check that it exists) on every call; for a small layer, or one with a
//! multiplier per unit, that costs as much as the multiplications. Here the load step has done it
//! once ([`rescale_of`](super::rescale_of)) and the operator's record holds each unit's [`FcRescale`] rounding
//! constant beside its multiplier, so an evaluation is the dot products, one SMMLA, one shift and
//! a clamp per output.
//!
//! Two units share each pass over the input row; four depth values per step, where SXTAB16
//! applies the zero-point offsets while sign-extending and SMLAD multiplies and adds two pairs.
//! Same results as the reference kernel, bit for bit (the property tests compare them).

use super::packed::dot2;
use super::{dot_with_offsets, FcOperands, FullyConnected, FullyConnectedDims};
use crate::engine::arith::{clamp_to_i8, QuantizedMultiplier};
use crate::engine::kernels::rescale::FcRescale;
use crate::engine::kernels::{dsp, lane_offset_fits, word, I32Le, KernelError, Requantize};

/// Runs the prepared kernel with `ops.rescales`, the [`rescale_of`] rounding constants of
/// `ops.requantize` (one per unit, per-channel weights), on operands the caller checked;
/// `Ok(false)` (nothing written) if the offsets do not fit its 16-bit lanes or the weights are
/// per-tensor (the packed variant's).
///
/// Errors: [`KernelError::ShapeMismatch`] if `rescales` covers neither one nor `units` units;
/// nothing is written then.
#[inline(never)]
pub(super) fn eval(k: &FullyConnected, ops: &mut FcOperands<'_>) -> Result<bool, KernelError> {
    let FcOperands { input, filter, bias, requantize, rescales, dims, .. } = *ops;
    let output = &mut *ops.output;
    let FullyConnectedDims { depth, units, .. } = dims;
    if !(rescales.len() == 1 || rescales.len() == units) {
        return Err(KernelError::ShapeMismatch);
    }
    if !(lane_offset_fits(k.input_offset) && lane_offset_fits(k.filter_offset)) || depth == 0 {
        return Ok(false);
    }
    // Per-unit rescales come from three plain slices of the same length (no chained
    // iterators in the loop); per-tensor weights are the packed variant's (one rescale per call).
    let Requantize::PerChannel { multipliers, shifts } = requantize else {
        return Ok(false);
    };
    if multipliers.len() != units || shifts.len() != units || rescales.len() != units {
        return Err(KernelError::ShapeMismatch);
    }
    let offsets = (dsp::splat(k.input_offset), dsp::splat(k.filter_offset));
    let (lo, hi) = (k.activation_min, k.activation_max);
    let finish = |acc: i32, rescale: FcRescale| clamp_to_i8(rescale.apply(acc), lo, hi);
    for (x, out_row) in input.chunks_exact(depth).zip(output.chunks_exact_mut(units)) {
        let mut biases = words(bias.map_or(&[][..], |b| b.0), 0);
        let mut rescales = unit_rescales(multipliers, shifts, rescales);
        let mut rows = filter.chunks_exact(2 * depth);
        let mut outs = out_row.chunks_exact_mut(2);
        for (w, out) in (&mut rows).zip(&mut outs) {
            let (w0, w1) = w.split_at(depth);
            let (a0, a1) = dot2(k, x, w0, w1, offsets);
            let (b0, r0) = (biases.next().unwrap_or(0), rescales.next().unwrap_or_default());
            let (b1, r1) = (biases.next().unwrap_or(0), rescales.next().unwrap_or_default());
            out[0] = finish(a0.wrapping_add(b0), r0);
            out[1] = finish(a1.wrapping_add(b1), r1);
        }
        if let (Some(out), Some(w)) =
            (outs.into_remainder().first_mut(), rows.remainder().get(..depth))
        {
            let (b, r) = (biases.next().unwrap_or(0), rescales.next().unwrap_or_default());
            *out = finish(dot1(k, x, w, offsets).wrapping_add(b), r);
        }
    }
    Ok(true)
}

/// `sum (w+fo)(x+io)` over one row, four values per step, in wrapping `i32`.
#[inline(always)]
fn dot1(k: &FullyConnected, x: &[i8], w: &[i8], offsets: (u32, u32)) -> i32 {
    let (xo, wo) = offsets;
    let (x4, x_tail) = x.as_chunks::<4>();
    let (w4, w_tail) = w.as_chunks::<4>();
    let mut acc = 0i32;
    for (x, w) in x4.iter().zip(w4) {
        let (x, w) = (word(x), word(w));
        acc = dsp::smlad(dsp::sxtab16(xo, x), dsp::sxtab16(wo, w), acc);
        acc = dsp::smlad(dsp::sxtab16_ror8(xo, x), dsp::sxtab16_ror8(wo, w), acc);
    }
    acc.wrapping_add(dot_with_offsets(w_tail, k.filter_offset, x_tail, k.input_offset))
}

/// Each unit's [`FcRescale`]: its multiplier and shift from the operator's per-channel lists,
/// its rounding constant from `rounds`, as one iterator over three slices of the same length (no
/// index checks in the loop).
#[inline(always)]
fn unit_rescales<'a>(
    multipliers: I32Le<'a>,
    shifts: &'a [i8],
    rounds: I32Le<'a>,
) -> impl Iterator<Item = FcRescale> + 'a {
    let words = |b: &'a [u8]| b.as_chunks::<4>().0.iter().map(|w| i32::from_le_bytes(*w));
    words(multipliers.0).zip(shifts).zip(words(rounds.0)).map(|((multiplier, &shift), round)| {
        FcRescale::with_round(QuantizedMultiplier { multiplier, shift: shift as i32 }, round)
    })
}

/// The little-endian words of `b`, then `then` forever: per-unit values as an iterator (no
/// index checks in the loop; a missing bias is an empty slice and zeros).
#[inline(always)]
fn words(b: &[u8], then: i32) -> impl Iterator<Item = i32> + '_ {
    b.as_chunks::<4>().0.iter().map(|w| i32::from_le_bytes(*w)).chain(core::iter::repeat(then))
}

#[cfg(test)]
mod tests {
    use super::super::{rescale_of, FcOperands, FullyConnected, FullyConnectedDims, Variant};
    use crate::engine::arith::{FusedActivation, QuantizedMultiplier};
    use crate::engine::kernels::{I32Le, KernelError, Requantize};

    #[test]
    fn prepared_variant_matches_the_reference() {
        let fc = FullyConnected::new(-3, 0, 0.05, 4, FusedActivation::Relu).unwrap();
        let (depth, units) = (7, 5);
        let input: [i8; 14] = core::array::from_fn(|i| (i as i8).wrapping_mul(37).wrapping_sub(60));
        let filter: [i8; 35] =
            core::array::from_fn(|i| (i as i8).wrapping_mul(53).wrapping_add(11));
        let mut bias = [0u8; 20];
        for (b, v) in bias.chunks_exact_mut(4).zip([900i32, -1200, 0, 77, -5]) {
            b.copy_from_slice(&v.to_le_bytes());
        }
        let m = QuantizedMultiplier::from_real(0.0123).unwrap();
        let rescale = rescale_of(m, fc.output_offset).unwrap().to_le_bytes();
        let dims = FullyConnectedDims { batches: 2, depth, units };
        let (mut fast, mut reference) = ([0i8; 10], [0i8; 10]);
        let requantize = Requantize::PerTensor(m);
        let bias = Some(I32Le(&bias));
        let run = |variant: Variant, rescales: &[u8], output: &mut [i8]| {
            let ops = FcOperands {
                input: &input,
                filter: &filter,
                listed: &[],
                bias,
                requantize,
                rescales: I32Le(rescales),
                output,
                dims,
            };
            fc.eval(variant, ops)
        };
        run(Variant::Prepared, &rescale, &mut fast).unwrap();
        run(Variant::Reference, &[], &mut reference).unwrap();
        assert_eq!(fast, reference);
        let mut two = [0u8; 8];
        two[..4].copy_from_slice(&rescale);
        two[4..].copy_from_slice(&rescale);
        let wrong = run(Variant::Prepared, &two, &mut fast);
        assert_eq!(wrong, Err(KernelError::ShapeMismatch));
    }
}
