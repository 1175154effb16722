//! FULLY_CONNECTED's packed (DSP) kernel: four units per pass over the input row (two for the
//! last ones), four depth values per step (SXTAB16 applies the input offset, SMLAD multiplies
//! and adds pairs), and the
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

/// The dense DSP loop: for each input row, four units per pass ([`dot4`]: each input word is
/// loaded and widened once for the four rows; on the Cortex-M4 one assembly loop), the last
/// one to three units two at a time ([`dot2`]; a last odd unit alone, its row read twice).
/// The weights' offset, if any, is not applied per weight: `sum (w+fo)(x+io) = sum w(x+io) + fo * sum (x+io)` in wrapping `i32`, so each
/// unit of a pass adds `fo` times the row's input sum, computed once per row. Each output is
/// `clamp(rescale(acc + bias))` with the unit's [`FcRescale`] from `rescales()` (one iterator
/// per row, one item per unit). With `SLOW`, a rescale whose rounding constant is 0 (never the
/// case of a real [`FcRescale`]) marks a unit whose multiplier has no fast form: that unit
/// alone takes the reference's arithmetic ([`finish_exactly`]). Operands as the caller checked
/// them.
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
    let xo = offsets.0;
    let (lo, hi) = (k.activation_min, k.activation_max);
    let finish = |acc: i32, r: FcRescale| {
        if SLOW && r.round == 0 {
            return finish_exactly(k, acc, r);
        }
        clamp_to_i8(r.apply(acc), lo, hi)
    };
    // No bias: an empty list, every unit's is 0.
    let bias = bias.unwrap_or(I32Le(&[]));
    for (x, out_row) in input.chunks_exact(depth).zip(output.chunks_exact_mut(units)) {
        let mut rescales = rescales();
        let offset_term = if k.filter_offset == 0 {
            0
        } else {
            let sum = x.iter().fold(0i32, |s, &v| s.wrapping_add(v as i32));
            let sum = sum.wrapping_add(k.input_offset.wrapping_mul(depth as i32));
            k.filter_offset.wrapping_mul(sum)
        };
        // The biases' words still to be used (none left: 0).
        let mut words = bias.0.as_chunks::<4>().0;
        let (outs, out_rest) = out_row.as_chunks_mut::<4>();
        let mut u = 0;
        for (w, out) in filter.chunks_exact(4 * depth).zip(outs.iter_mut()) {
            // The pass's four biases read at once (0s past the list's end).
            let b = match words.split_first_chunk::<4>() {
                Some((b, rest)) => {
                    words = rest;
                    b.map(i32::from_le_bytes)
                }
                None => {
                    let b = core::array::from_fn(|i| {
                        words.get(i).map_or(0, |w| i32::from_le_bytes(*w))
                    });
                    words = &[];
                    b
                }
            };
            for ((o, a), b) in out.iter_mut().zip(dot4(k, x, w, depth, xo)).zip(b) {
                let acc = a.wrapping_add(offset_term).wrapping_add(b);
                *o = finish(acc, rescales.next().unwrap_or_default());
            }
            u += 4;
        }
        let mut biases = words.iter().map(|w| i32::from_le_bytes(*w));
        let (pair, last) = out_rest.as_chunks_mut::<2>();
        for out in pair {
            let w = filter.get(u * depth..(u + 2) * depth).unwrap_or(&[]);
            for (o, a) in out.iter_mut().zip(dot2(k, x, w, depth, xo)) {
                let acc = a.wrapping_add(offset_term).wrapping_add(biases.next().unwrap_or(0));
                *o = finish(acc, rescales.next().unwrap_or_default());
                u += 1;
            }
        }
        for o in last {
            let w = filter.get(u * depth..(u + 1) * depth).unwrap_or(&[]);
            let acc = dot1(k, x, w, offsets).wrapping_add(biases.next().unwrap_or(0));
            *o = finish(acc, rescales.next().unwrap_or_default());
        }
    }
}

/// The reference's rescale of `acc` for a unit whose multiplier has no fast form (recovered
/// from the placeholder rescale's fields). Out of line: rare, and its 64-bit arithmetic would
/// otherwise be copied into every output of the loops.
#[inline(never)]
#[cold]
fn finish_exactly(k: &FullyConnected, acc: i32, r: FcRescale) -> i8 {
    let m = QuantizedMultiplier { multiplier: r.multiplier, shift: -1 - r.shift as i32 };
    reference::finish(k, acc, m)
}

/// The four accumulators `sum w_i (x+io)` of the four weight rows in `w` (`4 x depth`; their
/// offset is not applied here, see [`rows`]), in wrapping `i32`: each step loads four input values once, widens them
/// with the offset applied (SXTAB16) and multiplies them into the four rows (SMLAD). On the
/// Cortex-M4 the whole groups of four run in one assembly loop, two per pass (the compiled loop spills
/// accumulators and row pointers to the stack: 14 registers are live), the rest here.
#[inline(always)]
fn dot4(k: &FullyConnected, x: &[i8], w: &[i8], depth: usize, xo: u32) -> [i32; 4] {
    let (mut a0, mut a1, mut a2, mut a3) = (0i32, 0i32, 0i32, 0i32);
    let groups = depth / 4;
    let fits = x.len() >= depth && w.len() >= 4 * depth;
    #[cfg(not(all(target_arch = "arm", target_feature = "dsp")))]
    if fits {
        let row =
            |r: usize| w.get(r * depth..r * depth + 4 * groups).unwrap_or(&[]).as_chunks::<4>().0;
        let (x4, _) = x.as_chunks::<4>();
        for ((((x, w0), w1), w2), w3) in x4.iter().zip(row(0)).zip(row(1)).zip(row(2)).zip(row(3)) {
            let x = word(x);
            let (x02, x13) = (dsp::sxtab16(xo, x), dsp::sxtab16_ror8(xo, x));
            let mac = |acc: i32, w: &[i8; 4]| {
                let w = word(w);
                dsp::smlad(x13, dsp::sxtb16_ror8(w), dsp::smlad(x02, dsp::sxtb16(w), acc))
            };
            (a0, a1, a2, a3) = (mac(a0, w0), mac(a1, w1), mac(a2, w2), mac(a3, w3));
        }
    }
    #[cfg(all(target_arch = "arm", target_feature = "dsp"))]
    if fits && groups != 0 {
        // SAFETY: `groups >= 1` steps (two per loop pass; an odd one first, whose
        // instructions leave the flags of the halving `lsrs` for its `beq`, none of them
        // setting flags); step `i` reads the input word at `x + 4i` (`x` holds
        // `4 * groups` bytes or more) and the weight words at `r + 4i` of each row `r` of
        // `w` (`w` holds four rows of `depth >= 4 * groups` bytes or more): rows 0 and 2
        // through r1 (row 0 post-incremented, row 2 at `r1 + 2 * depth`), rows 1 and 3
        // through r2 (`w + depth`, the same way). LDR may be unaligned on the Cortex-M4.
        // r6 and r7 (not usable as operands) are pushed first and restored last, 8 bytes
        // below the stack pointer, which is restored. Nothing is written to memory; every
        // other register it changes is declared.
        unsafe {
            core::arch::asm!(
                "push {{r6, r7}}",
                // lr = pairs of groups; C: an odd group first; Z: no pair.
                "lsrs lr, lr, #1",
                "bcc 2f",
                "ldr r6, [r0], #4",
                "sxtab16 r7, r4, r6",
                "sxtab16 r6, r4, r6, ror #8",
                "ldr r12, [r1, r3, lsl #1]",
                "sxtb16 r5, r12",
                "smlad r10, r7, r5, r10",
                "sxtb16 r12, r12, ror #8",
                "smlad r10, r6, r12, r10",
                "ldr r12, [r1], #4",
                "sxtb16 r5, r12",
                "smlad r8, r7, r5, r8",
                "sxtb16 r12, r12, ror #8",
                "smlad r8, r6, r12, r8",
                "ldr r12, [r2, r3, lsl #1]",
                "sxtb16 r5, r12",
                "smlad r11, r7, r5, r11",
                "sxtb16 r12, r12, ror #8",
                "smlad r11, r6, r12, r11",
                "ldr r12, [r2], #4",
                "sxtb16 r5, r12",
                "smlad r9, r7, r5, r9",
                "sxtb16 r12, r12, ror #8",
                "smlad r9, r6, r12, r9",
                "beq 3f",
                "2:",
                "ldr r6, [r0], #4",
                "sxtab16 r7, r4, r6",
                "sxtab16 r6, r4, r6, ror #8",
                "ldr r12, [r1, r3, lsl #1]",
                "sxtb16 r5, r12",
                "smlad r10, r7, r5, r10",
                "sxtb16 r12, r12, ror #8",
                "smlad r10, r6, r12, r10",
                "ldr r12, [r1], #4",
                "sxtb16 r5, r12",
                "smlad r8, r7, r5, r8",
                "sxtb16 r12, r12, ror #8",
                "smlad r8, r6, r12, r8",
                "ldr r12, [r2, r3, lsl #1]",
                "sxtb16 r5, r12",
                "smlad r11, r7, r5, r11",
                "sxtb16 r12, r12, ror #8",
                "smlad r11, r6, r12, r11",
                "ldr r12, [r2], #4",
                "sxtb16 r5, r12",
                "smlad r9, r7, r5, r9",
                "sxtb16 r12, r12, ror #8",
                "smlad r9, r6, r12, r9",
                "ldr r6, [r0], #4",
                "sxtab16 r7, r4, r6",
                "sxtab16 r6, r4, r6, ror #8",
                "ldr r12, [r1, r3, lsl #1]",
                "sxtb16 r5, r12",
                "smlad r10, r7, r5, r10",
                "sxtb16 r12, r12, ror #8",
                "smlad r10, r6, r12, r10",
                "ldr r12, [r1], #4",
                "sxtb16 r5, r12",
                "smlad r8, r7, r5, r8",
                "sxtb16 r12, r12, ror #8",
                "smlad r8, r6, r12, r8",
                "ldr r12, [r2, r3, lsl #1]",
                "sxtb16 r5, r12",
                "smlad r11, r7, r5, r11",
                "sxtb16 r12, r12, ror #8",
                "smlad r11, r6, r12, r11",
                "ldr r12, [r2], #4",
                "sxtb16 r5, r12",
                "smlad r9, r7, r5, r9",
                "sxtb16 r12, r12, ror #8",
                "smlad r9, r6, r12, r9",
                "subs lr, lr, #1",
                "bne 2b",
                "3:",
                "pop {{r6, r7}}",
                inout("r0") x.as_ptr() => _,
                inout("r1") w.as_ptr() => _,
                inout("r2") w.as_ptr().wrapping_add(depth) => _,
                in("r3") depth,
                in("r4") xo,
                out("r5") _,
                inout("r8") a0,
                inout("r9") a1,
                inout("r10") a2,
                inout("r11") a3,
                out("r12") _,
                inout("lr") groups => _,
            );
        }
    }
    if fits {
        let io = k.input_offset;
        for d in 4 * groups..depth {
            let v = |r: usize| w.get(r * depth + d).map_or(0, |&w| w as i32);
            let x = x.get(d).map_or(0, |&x| x as i32).wrapping_add(io);
            a0 = a0.wrapping_add(v(0).wrapping_mul(x));
            a1 = a1.wrapping_add(v(1).wrapping_mul(x));
            a2 = a2.wrapping_add(v(2).wrapping_mul(x));
            a3 = a3.wrapping_add(v(3).wrapping_mul(x));
        }
    }
    [a0, a1, a2, a3]
}

/// The two accumulators `sum w_i (x+io)` of the two weight rows in `w` (`2 x depth`; their
/// offset is not applied here, see [`rows`]), in wrapping `i32`: [`dot4`]'s steps for two rows
/// (few enough registers for the compiled loop).
#[inline(always)]
fn dot2(k: &FullyConnected, x: &[i8], w: &[i8], depth: usize, xo: u32) -> [i32; 2] {
    let (w0, w1) = w.split_at(depth.min(w.len()));
    let (x4, x_tail) = x.as_chunks::<4>();
    let (w04, w0_tail) = w0.as_chunks::<4>();
    let (w14, w1_tail) = w1.as_chunks::<4>();
    let (mut a0, mut a1) = (0i32, 0i32);
    for ((x, w0), w1) in x4.iter().zip(w04).zip(w14) {
        let x = word(x);
        let (x02, x13) = (dsp::sxtab16(xo, x), dsp::sxtab16_ror8(xo, x));
        let mac = |acc: i32, w: &[i8; 4]| {
            let w = word(w);
            dsp::smlad(x13, dsp::sxtb16_ror8(w), dsp::smlad(x02, dsp::sxtb16(w), acc))
        };
        (a0, a1) = (mac(a0, w0), mac(a1, w1));
    }
    let io = k.input_offset;
    for ((&x, &w0), &w1) in x_tail.iter().zip(w0_tail).zip(w1_tail) {
        let x = (x as i32).wrapping_add(io);
        a0 = a0.wrapping_add((w0 as i32).wrapping_mul(x));
        a1 = a1.wrapping_add((w1 as i32).wrapping_mul(x));
    }
    [a0, a1]
}

/// The words of a little-endian `i32` list, as an iterator.
#[inline(always)]
pub(super) fn list(b: I32Le<'_>) -> impl Iterator<Item = i32> + '_ {
    b.0.as_chunks::<4>().0.iter().map(|w| i32::from_le_bytes(*w))
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
