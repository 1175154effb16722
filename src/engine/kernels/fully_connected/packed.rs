//! FULLY_CONNECTED's packed (DSP) kernel: two units per pass over the input row, four depth
//! values per step (SXTAB16 applies the offsets, SMLAD multiplies and adds pairs), and the
//! two-instruction [`FcRescale`] (derived from the per-tensor multiplier once per call; per-channel
//! weights are the prepared variant's). [`rows`] is the loop both dense DSP variants run.

use super::{dot_with_offsets, reference, FcOperands, FullyConnected, FullyConnectedDims};
use crate::engine::arith::{clamp_to_i8, QuantizedMultiplier};
use crate::engine::kernels::rescale::FcRescale;
use crate::engine::kernels::{dsp, lane_offset_fits, word, I32Le, Requantize};

/// Runs the packed kernel on operands the caller checked; `false` (having written nothing) if
/// the multiplier or an offset is outside the range where it is exact, or the weights are
/// per-channel.
#[inline(never)]
pub(super) fn eval(k: &FullyConnected, ops: &mut FcOperands<'_>) -> bool {
    let FcOperands { requantize, dims, .. } = *ops;
    let zp = k.output_offset;
    if dims.depth == 0
        || dims.units == 0
        || !lane_offset_fits(k.input_offset)
        || !lane_offset_fits(k.filter_offset)
    {
        return false;
    }
    match requantize {
        Requantize::PerTensor(m) => {
            let Some(r) = FcRescale::new(m, zp) else {
                return false;
            };
            rows::<false, _>(k, ops, || core::iter::repeat(r));
        }
        // Per-channel weights are the prepared variant's (their rescales made at prepare).
        Requantize::PerChannel { .. } => return false,
    }
    true
}

/// The dense DSP loop: for each input row, two units per pass ([`dot2`]), the last odd unit
/// alone ([`dot1`]), each output `clamp(rescale(acc + bias))` with the unit's [`FcRescale`]
/// from `rescales()` (one iterator per row, one item per unit). With `SLOW`, a rescale whose
/// rounding constant is 0 (never the case of a real [`FcRescale`]) marks a unit whose
/// multiplier has no fast form: that unit alone takes the reference's arithmetic (its
/// multiplier is recovered from the rescale's fields). Operands as the caller checked them.
#[inline(always)]
pub(super) fn rows<const SLOW: bool, I: Iterator<Item = FcRescale>>(
    k: &FullyConnected,
    ops: &mut FcOperands<'_>,
    rescales: impl Fn() -> I,
) {
    let FcOperands { input, filter, bias, dims, .. } = *ops;
    let output = &mut *ops.output;
    let FullyConnectedDims { depth, units, .. } = dims;
    let offsets = (dsp::splat(k.input_offset), dsp::splat(k.filter_offset));
    let (lo, hi) = (k.activation_min, k.activation_max);
    let finish = |acc: i32, r: FcRescale| {
        if SLOW && r.round == 0 {
            let m = QuantizedMultiplier { multiplier: r.multiplier, shift: -1 - r.shift as i32 };
            return reference::finish(k, acc, m);
        }
        clamp_to_i8(r.apply(acc), lo, hi)
    };
    let bias = bias.map_or(&[][..], |b| b.0);
    // Two units per pass: their weight rows, output pair and bias pair (no bias: the pairs'
    // iterator is empty and the biases 0). The odd last unit follows alone.
    let (bias_pairs, _) = bias.as_chunks::<8>();
    for (x, out_row) in input.chunks_exact(depth).zip(output.chunks_exact_mut(units)) {
        let mut rescales = rescales();
        let mut biases = bias_pairs.iter();
        for (w, out) in filter.chunks_exact(2 * depth).zip(out_row.chunks_exact_mut(2)) {
            let (w0, w1) = w.split_at(depth);
            let (a0, a1) = dot2(k, x, w0, w1, offsets);
            let (b0, b1) = biases.next().map_or((0, 0), |b| {
                let (b0, b1) = b.split_at(4);
                (le(b0), le(b1))
            });
            let (r0, r1) =
                (rescales.next().unwrap_or_default(), rescales.next().unwrap_or_default());
            out[0] = finish(a0.wrapping_add(b0), r0);
            out[1] = finish(a1.wrapping_add(b1), r1);
        }
        if units % 2 == 1 {
            let last = units - 1;
            let w = filter.get(last * depth..units * depth).unwrap_or(&[]);
            let b = bias.get(last * 4..units * 4).map_or(0, le);
            let r = rescales.next().unwrap_or_default();
            if let Some(out) = out_row.get_mut(last) {
                *out = finish(dot1(k, x, w, offsets).wrapping_add(b), r);
            }
        }
    }
}

/// A little-endian `i32` from (at least) 4 bytes; 0 from fewer.
#[inline(always)]
fn le(b: &[u8]) -> i32 {
    b.first_chunk::<4>().map_or(0, |w| i32::from_le_bytes(*w))
}

/// The words of a little-endian `i32` list, as an iterator.
#[inline(always)]
pub(super) fn list(b: I32Le<'_>) -> impl Iterator<Item = i32> + '_ {
    b.0.as_chunks::<4>().0.iter().map(|w| i32::from_le_bytes(*w))
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
    if !x_tail.is_empty() {
        a0 = a0.wrapping_add(dot_with_offsets(w0_tail, k.filter_offset, x_tail, k.input_offset));
        a1 = a1.wrapping_add(dot_with_offsets(w1_tail, k.filter_offset, x_tail, k.input_offset));
    }
    (a0, a1)
}

/// `sum (w+fo)(x+io)` over one row, four values per step, in wrapping `i32`.
#[inline(always)]
pub(super) fn dot1(k: &FullyConnected, x: &[i8], w: &[i8], offsets: (u32, u32)) -> i32 {
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
