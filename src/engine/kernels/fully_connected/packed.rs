//! FULLY_CONNECTED's packed (DSP) kernel: two units per pass over the input row, four depth
//! values per step (SXTAB16 applies the offsets, SMLAD multiplies and adds pairs), and the
//! two-instruction [`FcRescale`] (derived from each unit's multiplier on every call).

use super::{dot_with_offsets, FcOperands, FullyConnected, FullyConnectedDims};
use crate::engine::arith::clamp_to_i8;
use crate::engine::kernels::rescale::FcRescale;
use crate::engine::kernels::{dsp, lane_offset_fits, word, Requantize};

/// Runs the packed kernel on operands the caller checked; `false` (having written nothing) if
/// a multiplier or offset is outside the range where it is exact.
#[inline(never)]
pub(super) fn eval(k: &FullyConnected, ops: &mut FcOperands<'_>) -> bool {
    let FcOperands { input, filter, bias, requantize, dims, .. } = *ops;
    let output = &mut *ops.output;
    let FullyConnectedDims { depth, units, .. } = dims;
    let zp = k.output_offset;
    if depth == 0
        || units == 0
        || !lane_offset_fits(k.input_offset)
        || !lane_offset_fits(k.filter_offset)
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
    let offsets = (dsp::splat(k.input_offset), dsp::splat(k.filter_offset));
    let (lo, hi) = (k.activation_min, k.activation_max);
    let finish = |acc: i32, u: usize| {
        let rescale =
            fixed.unwrap_or_else(|| FcRescale::new(requantize.get(u), zp).unwrap_or_default());
        let b = bias.map_or(0, |b| b.get(u));
        clamp_to_i8(rescale.apply(acc.wrapping_add(b)), lo, hi)
    };
    for (x, out_row) in input.chunks_exact(depth).zip(output.chunks_exact_mut(units)) {
        if depth < 4 {
            for ((u, out), w) in out_row.iter_mut().enumerate().zip(filter.chunks_exact(depth)) {
                *out = finish(dot_with_offsets(w, k.filter_offset, x, k.input_offset), u);
            }
            continue;
        }
        let mut rows = filter.chunks_exact(2 * depth);
        let mut outs = out_row.chunks_exact_mut(2);
        let mut u = 0;
        for (w, out) in (&mut rows).zip(&mut outs) {
            let (w0, w1) = w.split_at(depth);
            let (a0, a1) = dot2(k, x, w0, w1, offsets);
            out[0] = finish(a0, u);
            out[1] = finish(a1, u + 1);
            u += 2;
        }
        if let (Some(out), Some(w)) =
            (outs.into_remainder().first_mut(), rows.remainder().get(..depth))
        {
            let (a0, _) = dot2(k, x, w, w, offsets);
            *out = finish(a0, u);
        }
    }
    true
}

/// `(sum (w0+fo)(x+io), sum (w1+fo)(x+io))` in wrapping `i32`.
#[inline(always)]
pub(super) fn dot2(
    k: &FullyConnected,
    x: &[i8],
    w0: &[i8],
    w1: &[i8],
    offsets: (u32, u32),
) -> (i32, i32) {
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
    a0 = a0.wrapping_add(dot_with_offsets(w0_tail, k.filter_offset, x_tail, k.input_offset));
    a1 = a1.wrapping_add(dot_with_offsets(w1_tail, k.filter_offset, x_tail, k.input_offset));
    (a0, a1)
}
