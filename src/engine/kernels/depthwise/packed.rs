//! DEPTHWISE_CONV_2D's packed path for 3x3 windows (dilation 1, stride 1 or 2 across, any
//! stride down, any depth multiplier), with the DSP instructions of [`dsp`].
//!
//! A depthwise convolution never mixes channels, so the work is laid out channel by channel:
//! the input rows a window needs are transposed once into *channel rows* in scratch memory
//! (each channel's values of one input row as consecutive 16-bit lanes, offset by the input
//! zero point, with the padding columns zero), kept in a ring of four slots (padded input row
//! `r` in slot `r % 4`, a padding row's slot zeroed) so that each input row is transposed once.
//! Two horizontally adjacent window taps are then one 32-bit load, and an output value is three
//! SMLAD/SMUAD (taps 0-1 of each window row) plus three SMLABB/SMLABT (tap 2), with the
//! channel's nine weights held in five registers as 16-bit pairs (prepared once per call; the
//! last word's free top half holds the channel's shift). One Cortex-M4 loop computes a whole
//! output row of one channel into an accumulator row (12 instructions per output value); the
//! rescale follows. With a stride of 1 both ways (depth multiplier 1, full int8 range) it
//! computes two output rows per pass instead: their windows share two of the four input rows,
//! whose loads serve both (8 loads and 12 multiply-accumulates for two values), and the
//! per-channel setup is paid once per two rows.
//!
//! It applies to 3x3 windows with dilation 1, a horizontal stride of 1 or 2 and an int8 input
//! zero point; the caller falls back to the portable kernel otherwise (and when the scratch is
//! too short). A channel whose multiplier has no [`ChannelRescale`] (or whose bias could take
//! the accumulator to `2^30`) gives its constant output if its weights are all zero
//! ([`channel_or_constant`](crate::engine::kernels::rescale::channel_or_constant)), else is
//! rescaled alone with the reference arithmetic after its accumulator row, the other channels
//! keeping the fast rescale. Results are bit-identical to the portable kernel.

use super::{DepthwiseConv2d, DepthwiseOperands};
use crate::engine::arith::QuantizedMultiplier;
use crate::engine::kernels::conv::Shapes;
use crate::engine::kernels::dsp;
use crate::engine::kernels::rescale::{bias_limit, ChannelRescale};
use crate::engine::kernels::{bias_at, I32Le, Requantize};

/// One output channel's nine weights as 16-bit pairs: `(w00, w01)`, `(w10, w11)`,
/// `(w20, w21)`, `(w02, w12)`, `(w22, 0)` (`wYX`: window row Y, column X).
type Taps = [u32; 5];

/// Ring slots: input row `iy` (counted from the first padding row) lives in slot `iy % SLOTS`,
/// so any four consecutive rows (a window's three, or two stacked windows' four) are held at
/// once; a slot of a padding row holds zeros.
const SLOTS: usize = 4;

/// The sizes of the scratch regions, in 32-bit words.
struct Plan {
    channels: usize,
    /// 16-bit lanes per channel row (even).
    row: usize,
    in_channels: usize,
    out_w: usize,
}

impl Plan {
    fn new(k: &DepthwiseConv2d, shapes: &Shapes) -> Option<Plan> {
        let [_, _, in_w, in_channels] = shapes.input;
        let [one, kh, kw, channels] = shapes.filter;
        let [_, _, out_w, _] = shapes.output;
        let w = k.geometry;
        if one != 1
            || (kh, kw) != (3, 3)
            || (w.dilation_h, w.dilation_w) != (1, 1)
            || !(1..=2).contains(&w.stride_w)
            || out_w == 0
            || channels == 0
        {
            return None;
        }
        let reach = (out_w - 1).checked_mul(w.stride_w)?.checked_add(4)?;
        let row = reach.max(w.pad_w.checked_add(in_w)?).next_multiple_of(2);
        Some(Plan { channels, row, in_channels, out_w })
    }

    /// Words: table, taps, accumulators, then [`SLOTS`] rows of every input channel.
    fn words(&self) -> Option<usize> {
        let ring = self.in_channels.checked_mul(self.row / 2)?.checked_mul(SLOTS)?;
        self.channels.checked_mul(3 + 5)?.checked_add(self.accumulators()?)?.checked_add(ring)
    }

    /// Accumulator words: one output row, plus one per channel (which lets two output rows
    /// share them when there are at least as many channels as output columns).
    fn accumulators(&self) -> Option<usize> {
        self.out_w.checked_add(self.channels)
    }
}

/// True if the 3x3 kernel suits these shapes (the parameters may still need the reference:
/// see [`depthwise`]).
pub fn applies(k: &DepthwiseConv2d, shapes: Shapes) -> bool {
    Plan::new(k, &shapes).and_then(|p| p.words()).is_some()
}

/// Bytes of scratch [`depthwise`] needs (0 if it never applies to these shapes).
pub fn scratch_bytes(k: &DepthwiseConv2d, shapes: Shapes) -> usize {
    Plan::new(k, &shapes)
        .and_then(|p| p.words())
        .map_or(0, |words| words.saturating_mul(4).saturating_add(4))
}

/// Runs `k` with the 3x3 kernel if it applies and `scratch` holds [`DepthwiseConv2d::scratch_bytes`] bytes;
/// `false` (nothing written) if not. Lengths must agree with the shapes (the caller checks them
/// first); if they do not, the output is unspecified but nothing panics.
#[inline(never)]
pub fn depthwise(k: &DepthwiseConv2d, ops: &mut DepthwiseOperands<'_>, scratch: &mut [u8]) -> bool {
    let DepthwiseOperands { input, filter, bias, requantize, shapes, .. } = *ops;
    let output = &mut *ops.output;
    let Some(plan) = Plan::new(k, &shapes) else {
        return false;
    };
    let [batches, in_h, in_w, in_c] = shapes.input;
    let [_, out_h, out_w, channels] = shapes.output;
    let m = k.depth_multiplier;
    if m == 0 || in_c.checked_mul(m) != Some(channels) || !(-128..=127).contains(&-k.input_offset) {
        return false;
    }
    let (_, words, _) = bytemuck::pod_align_to_mut::<u8, u32>(scratch);
    let Some(words) = plan.words().and_then(|n| words.get_mut(..n)) else {
        return false;
    };
    let (table, rest) = words.split_at_mut(channels * 3);
    let (taps, rest) = rest.split_at_mut(channels * 5);
    let (accumulators, ring) = rest.split_at_mut(out_w + channels);
    let (table, _) = table.as_chunks_mut::<3>();
    let (taps, _) = taps.as_chunks_mut::<5>();
    let accumulators: &mut [i32] = bytemuck::cast_slice_mut(accumulators);
    ring.fill(0);
    let ring: &mut [u16] = bytemuck::cast_slice_mut(ring);
    let clamp = (k.activation_min, k.activation_max);
    let above_half = fill_table(k, (filter, bias, requantize), table, taps);
    let window = k.geometry;
    let (lo, hi) = clamp;
    let zp = k.output_offset;
    let full_range = lo <= -128 && hi >= 127;
    let native = full_range && above_half;
    let row = plan.row;
    let row_words = in_c * row;
    // Two output rows per pass over the channels (their windows share two input rows) where
    // the Cortex-M4 loop applies, in at most two spans of columns whose accumulators for both
    // rows fit in the `out_w + channels` words (one span if there are at least as many
    // channels as columns).
    let two_rows = TWO_ROWS && m == 1 && native && window.stride_h == 1 && window.stride_w == 1;
    let span = out_w.min((out_w + channels) / 2);
    for b in 0..batches {
        // Which padded input row (`iy + pad_h`) each ring slot holds.
        let mut held = [usize::MAX; SLOTS];
        let mut oy = 0;
        while oy < out_h {
            let pair = two_rows && oy + 1 < out_h;
            // Lane offset of channel 0 of each window row in the ring.
            let mut starts = [0; SLOTS];
            for (ky, start) in starts.iter_mut().enumerate().take(if pair { 4 } else { 3 }) {
                let padded = oy * window.stride_h + ky;
                let slot = padded % SLOTS;
                let Some(dst) = ring.get_mut(slot * row_words..(slot + 1) * row_words) else {
                    continue;
                };
                if held[slot] != padded {
                    match padded.checked_sub(window.pad_h).filter(|&iy| iy < in_h) {
                        Some(iy) => {
                            let line = (b * in_h + iy) * in_w * in_c;
                            let src = input.get(line..line + in_w * in_c).unwrap_or(&[]);
                            transpose(src, in_c, row, window.pad_w, k.input_offset, dst);
                        }
                        None => dst.fill(0),
                    }
                    held[slot] = padded;
                }
                *start = slot * row_words;
            }
            if pair {
                let out_row = (b * out_h + oy) * out_w * channels;
                let out =
                    output.get_mut(out_row..out_row + 2 * out_w * channels).unwrap_or(&mut []);
                let rows = ChannelRows { ring, starts, row, table, taps };
                let first = all_channels_two_rows(&rows, accumulators, out, (0, span));
                if first && all_channels_two_rows(&rows, accumulators, out, (span, out_w)) {
                    oy += 2;
                    continue;
                }
            }
            let acc = accumulators.get_mut(..out_w).unwrap_or(&mut []);
            let out_row = (b * out_h + oy) * out_w * channels;
            let out = output.get_mut(out_row..out_row + out_w * channels).unwrap_or(&mut []);
            oy += 1;
            if m == 1
                && native
                && all_channels(
                    &ChannelRows { ring, starts, row, table, taps },
                    acc,
                    out,
                    window.stride_w,
                )
            {
                continue;
            }
            let starts = [starts[0], starts[1], starts[2]];
            let mut params = table.iter().zip(taps.iter());
            for i in 0..in_c {
                let src_of = |s: usize| ring.get(s + i * row..).unwrap_or(&[]);
                let src = [src_of(starts[0]), src_of(starts[1]), src_of(starts[2])];
                for (mm, (entry, t)) in (&mut params).take(m).enumerate() {
                    if window.stride_w == 1 {
                        row_of_channel::<1>(src, t, acc);
                    } else {
                        row_of_channel::<2>(src, t, acc);
                    }
                    let out = out.get_mut(i * m + mm..).unwrap_or(&mut []);
                    let shift = t[4] >> 16;
                    if full_range {
                        rescale_row::<true>(acc, (entry, shift), out, channels, native, clamp, zp);
                    } else {
                        rescale_row::<false>(acc, (entry, shift), out, channels, false, clamp, zp);
                    }
                }
            }
        }
    }
    true
}

/// Fills each channel's rescale entry and taps (the top half of `t[4]` holds the entry's shift,
/// or [`EXACT`]); true if every entry suits the Cortex-M4 loops, which round with SMMLAR
/// (multipliers above 2^30, no [`EXACT`] channel).
#[inline(always)]
fn fill_table(
    k: &DepthwiseConv2d,
    (filter, bias, requantize): (&[i8], Option<I32Le<'_>>, Requantize<'_>),
    table: &mut [[u32; 3]],
    taps: &mut [Taps],
) -> bool {
    let channels = table.len();
    let mut above_half = true;
    let limit = bias_limit(9);
    let clamp = (k.activation_min, k.activation_max);
    for (o, (entry, t)) in table.iter_mut().zip(taps.iter_mut()).enumerate() {
        let w = |y: usize, x: usize| filter.get((y * 3 + x) * channels + o).copied().unwrap_or(0);
        let zero = || (0..9).all(|i| w(i / 3, i % 3) == 0);
        let m = requantize.get(o);
        let shift;
        (*entry, shift) =
            match super::channel(m, k.output_offset, bias_at(bias, o), limit, clamp, zero) {
                Some((r, b)) => {
                    above_half &= r.native();
                    ([r.multiplier as u32, r.round as u32, b.wrapping_mul(2) as u32], r.shift)
                }
                // No fast form: this channel alone is rescaled with the reference arithmetic.
                None => {
                    above_half = false;
                    ([m.multiplier as u32, m.shift as u32, bias_at(bias, o) as u32], EXACT)
                }
            };
        let pair = |lo: i8, hi: i8| (lo as i16 as u16 as u32) | ((hi as i16 as u16 as u32) << 16);
        *t = [
            pair(w(0, 0), w(0, 1)),
            pair(w(1, 0), w(1, 1)),
            pair(w(2, 0), w(2, 1)),
            pair(w(0, 2), w(1, 2)),
            pair(w(2, 2), 0) | (shift << 16),
        ];
    }
    above_half
}

/// Writes input row `src` (`width x channels`, NHWC) into `dst` as `channels` rows of `row`
/// 16-bit lanes each: lane `pad + x` of row `c` is `src[x][c] + offset`; other lanes untouched.
/// Out of line: once per input row, and it keeps the channel loops' registers free.
#[inline(never)]
fn transpose(src: &[i8], channels: usize, row: usize, pad: usize, offset: i32, dst: &mut [u16]) {
    let Some(dst) = dst.get_mut(pad..) else {
        return;
    };
    if channels == 1 {
        for (d, &v) in dst.iter_mut().zip(src) {
            *d = (v as i32).wrapping_add(offset) as u16;
        }
        return;
    }
    if channels.is_multiple_of(4) {
        transpose_quads(src, channels, row, dsp::splat(offset), dst);
        return;
    }
    if channels == 0 {
        return;
    }
    for (x, pixel) in src.chunks_exact(channels).enumerate() {
        for (c, &v) in pixel.iter().enumerate() {
            if let Some(d) = dst.get_mut(c * row + x) {
                *d = (v as i32).wrapping_add(offset) as u16;
            }
        }
    }
}

/// [`transpose`] for a multiple of four channels, four at a time (`pair`: the offset in both
/// halves); portable form.
#[cfg(not(all(target_arch = "arm", target_feature = "dsp")))]
fn transpose_quads(src: &[i8], channels: usize, row: usize, pair: u32, dst: &mut [u16]) {
    let width = src.len().checked_div(channels).unwrap_or(0);
    for (q, rows) in dst.chunks_mut(4 * row).enumerate() {
        let (r0, rest) = rows.split_at_mut(row.min(rows.len()));
        let (r1, rest) = rest.split_at_mut(row.min(rest.len()));
        let (r2, r3) = rest.split_at_mut(row.min(rest.len()));
        let src = src.get(4 * q..).unwrap_or(&[]);
        transpose_quad(src, channels, width, pair, [r0, r1, r2, r3]);
    }
}

/// Four channels of one input row: `rows[c][x] = src[x * stride + c] + offset` for
/// `x < width` (portable form).
#[cfg(not(all(target_arch = "arm", target_feature = "dsp")))]
fn transpose_quad(src: &[i8], stride: usize, width: usize, pair: u32, rows: [&mut [u16]; 4]) {
    let [r0, r1, r2, r3] = rows;
    let quads = src.chunks(stride).take(width);
    let lanes = r0.iter_mut().zip(r1.iter_mut()).zip(r2.iter_mut().zip(r3.iter_mut()));
    for (quad, ((d0, d1), (d2, d3))) in quads.zip(lanes) {
        let Some(quad) = quad.first_chunk::<4>() else {
            break;
        };
        let v = crate::engine::kernels::word(quad);
        let (e, o) = (dsp::sxtab16(pair, v), dsp::sxtab16_ror8(pair, v));
        *d0 = e as u16;
        *d1 = o as u16;
        *d2 = (e >> 16) as u16;
        *d3 = (o >> 16) as u16;
    }
}

/// [`transpose_quads`] on the Cortex-M4: one loop over the pixels of the row two at a time, and
/// in it one over the channels four at a time (17 instructions per eight values: PKHBT/PKHTB
/// pair each channel's two values into one word store), then an odd last pixel alone (12 per
/// four values).
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
fn transpose_quads(src: &[i8], channels: usize, row: usize, pair: u32, dst: &mut [u16]) {
    let width = src.len().checked_div(channels).unwrap_or(0);
    let quads = channels / 4;
    // Lanes written: `c * row + x` for `c < channels`, `x < width`.
    let reach = channels.checked_sub(1).and_then(|c| c.checked_mul(row));
    let reach = reach.and_then(|r| r.checked_add(width));
    if width == 0 || quads == 0 || width > row || reach.is_none_or(|r| r > dst.len()) {
        return;
    }
    let row_bytes = 2 * row;
    // SAFETY: `width >= 1` pixels, `quads >= 1` per pixel. Pixel `x`, quad `q` reads the 4 bytes
    // at `src[x * channels + 4q..]` (`x < width`, `width * channels <= src.len()`; LDR may be
    // unaligned on the Cortex-M4) and writes lane `x` of rows `4q .. 4q + 4` (`(4q + k) * row +
    // x <= (channels - 1) * row + width - 1 < dst.len()`, checked above), 2-byte aligned, by
    // STRH or, for two pixels `x, x + 1 < width` at once, by one STR (may be unaligned on the
    // Cortex-M4). r9 counts the pixels left minus 2: the pair loop runs while two are left,
    // then one pixel alone if `width` is odd. r6 and r7 (not operands) and the quad count are
    // kept in 16 bytes below the stack pointer, which is restored, and r6 and r7 restored
    // before the end. Only the listed registers and the flags change.
    unsafe {
        core::arch::asm!(
            "sub sp, sp, #16",
            "str r6, [sp]",
            "str r7, [sp, #4]",
            "str r8, [sp, #8]",
            "subs r9, r9, #2",
            "bmi 5f",
            "2:",
            "mov r10, r3",
            "add r3, r3, #4",
            "ldr r8, [sp, #8]",
            "3:",
            "ldr r12, [r0, r1]",
            "ldr r11, [r0], #4",
            "sxtab16 lr, r2, r11",
            "sxtab16 r6, r2, r12",
            "pkhbt r7, lr, r6, lsl #16",
            "pkhtb r6, r6, lr, asr #16",
            "str r7, [r10]",
            "str r6, [r10, r4, lsl #1]",
            "sxtab16 lr, r2, r11, ror #8",
            "sxtab16 r6, r2, r12, ror #8",
            "pkhbt r7, lr, r6, lsl #16",
            "pkhtb r6, r6, lr, asr #16",
            "str r7, [r10, r4]",
            "str r6, [r10, r5]",
            "add r10, r10, r4, lsl #2",
            "subs r8, r8, #1",
            "bne 3b",
            "add r0, r0, r1",
            "subs r9, r9, #2",
            "bpl 2b",
            "5:",
            "adds r9, r9, #2",
            "beq 6f",
            "mov r10, r3",
            "ldr r8, [sp, #8]",
            "4:",
            "ldr r11, [r0], #4",
            "sxtab16 lr, r2, r11",
            "sxtab16 r6, r2, r11, ror #8",
            "strh lr, [r10]",
            "strh r6, [r10, r4]",
            "lsr lr, lr, #16",
            "lsr r6, r6, #16",
            "strh lr, [r10, r4, lsl #1]",
            "strh r6, [r10, r5]",
            "add r10, r10, r4, lsl #2",
            "subs r8, r8, #1",
            "bne 4b",
            "6:",
            "ldr r6, [sp]",
            "ldr r7, [sp, #4]",
            "add sp, sp, #16",
            inout("r0") src.as_ptr() => _,
            in("r1") channels,
            in("r2") pair,
            inout("r3") dst.as_mut_ptr() => _,
            in("r4") row_bytes,
            in("r5") 3 * row_bytes,
            inout("r8") quads => _,
            inout("r9") width => _,
            out("r10") _,
            out("r11") _,
            out("r12") _,
            out("lr") _,
        );
    }
}

/// The shift (top half of the last tap word) of a channel that has no fast rescale: its table
/// entry holds the multiplier, its shift and the bias, and [`rescale_row`] uses the reference
/// arithmetic.
const EXACT: u32 = 0xffff;

/// Rescales one channel's accumulator row into `out[0]`, `out[stride]`, ... with its table
/// entry and shift (portable form; with `FULL_RANGE` the clamp is the int8 range only; `zp` is
/// the output zero point).
#[inline(always)]
fn rescale_row<const FULL_RANGE: bool>(
    acc: &[i32],
    (entry, shift): (&[u32; 3], u32),
    out: &mut [i8],
    stride: usize,
    native: bool,
    (lo, hi): (i32, i32),
    zp: i32,
) {
    if FULL_RANGE && native && rescale_row_native(acc, (entry, shift), out, stride) {
        return;
    }
    if shift == EXACT {
        exact_row(acc, entry, out, stride, (lo, hi), zp);
        return;
    }
    let r =
        ChannelRescale { multiplier: entry[0] as i32, round: entry[1] as i32, shift: shift & 31 };
    let bias2 = entry[2] as i32;
    for (j, &a) in acc.iter().enumerate() {
        if let Some(o) = out.get_mut(j * stride) {
            let v = r.apply_doubled(bias2.wrapping_add(a.wrapping_shl(1)));
            *o = if FULL_RANGE { v.clamp(-128, 127) } else { v.max(lo).min(hi) } as i8;
        }
    }
}

/// [`rescale_row`] for a channel without a fast rescale ([`EXACT`]): the reference's
/// arithmetic ([`exact_value`](super::exact_value)).
#[cold]
#[inline(never)]
fn exact_row(
    acc: &[i32],
    entry: &[u32; 3],
    out: &mut [i8],
    stride: usize,
    clamp: (i32, i32),
    zp: i32,
) {
    let m = QuantizedMultiplier { multiplier: entry[0] as i32, shift: entry[1] as i32 };
    for (j, &a) in acc.iter().enumerate() {
        if let Some(o) = out.get_mut(j * stride) {
            *o = super::exact_value(m, entry[2] as i32, a, zp, clamp);
        }
    }
}

#[cfg(not(all(target_arch = "arm", target_feature = "dsp")))]
#[inline(always)]
fn rescale_row_native(_: &[i32], _: (&[u32; 3], u32), _: &mut [i8], _: usize) -> bool {
    false
}

/// [`rescale_row`] with the full int8 range and multipliers above `2^30` on the Cortex-M4
/// (SMMLAR: the sign of the rounded product is the accumulator's): two values per pass (one
/// LDRD, 17 instructions), an odd last value alone.
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
#[inline(always)]
fn rescale_row_native(
    acc: &[i32],
    (entry, shift): (&[u32; 3], u32),
    out: &mut [i8],
    stride: usize,
) -> bool {
    let n = acc.len();
    if n == 0 || stride == 0 || (n - 1).checked_mul(stride).is_none_or(|last| last >= out.len()) {
        return false;
    }
    // One value `$a` (the accumulator) doubled plus twice the bias, SMMLAR, the sign fix, the
    // shift, SSAT, stored at `$dst`.
    macro_rules! value {
        ($a:literal, $dst:literal) => {
            concat!(
                "add ",
                $a,
                ", {bias}, ",
                $a,
                ", lsl #1\n",
                "smmlar {t}, ",
                $a,
                ", {m}, {rnd}\n",
                "sub {t}, {t}, ",
                $a,
                ", lsr #31\n",
                "asr {t}, {t}, {sh}\n",
                "ssat {t}, #8, {t}\n",
                "strb {t}, ",
                $dst,
            )
        };
    }
    // SAFETY: `{n}` counts the values left minus 2: the pair loop runs while two are left
    // (pass `i` reads `acc[2i]`, `acc[2i + 1]`, word-aligned for LDRD, and writes
    // `out[2i * stride]`, `out[(2i + 1) * stride]`), then the last value alone if `n` is odd;
    // every index is below `n` and every write below `(n - 1) * stride + 1 <= out.len()`
    // (checked above). Only the listed registers and the flags change.
    unsafe {
        core::arch::asm!(
            "subs {n}, {n}, #2",
            "bmi 5f",
            "2:",
            "ldrd {a}, {b}, [{ap}], #8",
            value!("{a}", "[{op}]"),
            value!("{b}", "[{op}, {stride}]"),
            "add {op}, {op}, {stride}, lsl #1",
            "subs {n}, {n}, #2",
            "bpl 2b",
            "5:",
            "adds {n}, {n}, #2",
            "beq 6f",
            "ldr {a}, [{ap}]",
            value!("{a}", "[{op}]"),
            "6:",
            ap = inout(reg) acc.as_ptr() => _,
            op = inout(reg) out.as_mut_ptr() => _,
            n = inout(reg) n => _,
            stride = in(reg) stride,
            m = in(reg) entry[0],
            rnd = in(reg) entry[1],
            sh = in(reg) shift,
            bias = in(reg) entry[2],
            a = out(reg) _,
            b = out(reg) _,
            t = out(reg) _,
            options(nostack),
        );
    }
    true
}

/// One output row of one channel, without bias: `acc[x] = sum over the 3x3 window` of the
/// channel rows `src` (window rows 0, 1, 2; each at least `(acc.len() - 1) * STRIDE + 4`
/// lanes) with the weights `t` (portable form: the instructions' emulation, the same steps as
/// the Cortex-M4 loop).
#[cfg(not(all(target_arch = "arm", target_feature = "dsp")))]
#[inline(always)]
fn row_of_channel<const STRIDE: usize>(src: [&[u16]; 3], t: &Taps, acc: &mut [i32]) {
    let pair = |r: &[u16], at: usize| {
        let lo = r.get(at).copied().unwrap_or(0) as u32;
        let hi = r.get(at + 1).copied().unwrap_or(0) as u32;
        lo | (hi << 16)
    };
    for (x, a) in acc.iter_mut().enumerate() {
        let at = x * STRIDE;
        let mut v = dsp::smlad(pair(src[0], at), t[0], 0);
        v = dsp::smlabb(pair(src[0], at + 2), t[3], v);
        v = dsp::smlad(pair(src[1], at), t[1], v);
        v = dsp::smlabt(pair(src[1], at + 2), t[3], v);
        v = dsp::smlad(pair(src[2], at), t[2], v);
        *a = dsp::smlabb(pair(src[2], at + 2), t[4], v);
    }
}

// Two output values per pass of the Cortex-M4 accumulation loops, A at `x` and B at `x + 1`:
// each window row's three loads serve both (stride 1: lanes `(x, x+1)`, `(x+1, x+2)`, `(x+2,
// x+3)`; stride 2: `(2x, 2x+1)`, `(2x+2, 2x+3)`, `(2x+4, 2x+5)`), A in r11, B in r7; window
// rows in r0-r2 (advanced by two values), taps in r3, r4, r5, r8, r9 ([`Taps`]), r10 clobbered.
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
macro_rules! pair_rows {
    (1) => {
        concat!(
            "ldr r10, [r0], #4\n",
            "smuad r11, r10, r3\n",
            "ldr r10, [r0, #-2]\n",
            "smuad r7, r10, r3\n",
            "ldr r10, [r0]\n",
            "smlabb r11, r10, r8, r11\n",
            "smlatb r7, r10, r8, r7\n",
            "ldr r10, [r1], #4\n",
            "smlad r11, r10, r4, r11\n",
            "ldr r10, [r1, #-2]\n",
            "smlad r7, r10, r4, r7\n",
            "ldr r10, [r1]\n",
            "smlabt r11, r10, r8, r11\n",
            "smlatt r7, r10, r8, r7\n",
            "ldr r10, [r2], #4\n",
            "smlad r11, r10, r5, r11\n",
            "ldr r10, [r2, #-2]\n",
            "smlad r7, r10, r5, r7\n",
            "ldr r10, [r2]\n",
            "smlabb r11, r10, r9, r11\n",
            "smlatb r7, r10, r9, r7",
        )
    };
    (2) => {
        concat!(
            "ldr r10, [r0], #8\n",
            "smuad r11, r10, r3\n",
            "ldr r10, [r0, #-4]\n",
            "smlabb r11, r10, r8, r11\n",
            "smuad r7, r10, r3\n",
            "ldr r10, [r0]\n",
            "smlabb r7, r10, r8, r7\n",
            "ldr r10, [r1], #8\n",
            "smlad r11, r10, r4, r11\n",
            "ldr r10, [r1, #-4]\n",
            "smlabt r11, r10, r8, r11\n",
            "smlad r7, r10, r4, r7\n",
            "ldr r10, [r1]\n",
            "smlabt r7, r10, r8, r7\n",
            "ldr r10, [r2], #8\n",
            "smlad r11, r10, r5, r11\n",
            "ldr r10, [r2, #-4]\n",
            "smlabb r11, r10, r9, r11\n",
            "smlad r7, r10, r5, r7\n",
            "ldr r10, [r2]\n",
            "smlabb r7, r10, r9, r7",
        )
    };
}
/// [`row_of_channel`] on the Cortex-M4: two values per pass (`pair_rows!`: 9 loads, 12
/// multiply-accumulates and one STRD), an odd last value alone (6 loads, 6 multiply-accumulates).
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
#[inline(always)]
fn row_of_channel<const STRIDE: usize>(src: [&[u16]; 3], t: &Taps, acc: &mut [i32]) {
    let n = acc.len();
    let need = n.saturating_sub(1).saturating_mul(STRIDE).saturating_add(4);
    if n == 0 || src.iter().any(|r| r.len() < need) {
        return;
    }
    // SAFETY: lr counts the values left minus 2: the pair loop runs while two are left (pass
    // `i` reads lanes `2i * STRIDE .. (2i + 1) * STRIDE + 4` of each source row, below `need
    // <= len` as `2i + 1 < n`, and writes `acc[2i]`, `acc[2i + 1]`, word-aligned for STRD),
    // then the last value alone if `n` is odd (lanes `(n - 1) * STRIDE .. need`, `acc[n - 1]`);
    // source lanes are 2-byte aligned (LDR may be unaligned on the Cortex-M4). r6 and r7
    // (reserved, not operands) are pushed first and popped last, which restores the stack
    // pointer. Only the listed registers and the flags change.
    unsafe {
        macro_rules! row_loop {
            ($pair:expr) => {
                core::arch::asm!(
                    "push {{r6, r7}}",
                    "subs lr, lr, #2",
                    "bmi 5f",
                    "2:",
                    $pair,
                    "strd r11, r7, [r12], #8",
                    "subs lr, lr, #2",
                    "bpl 2b",
                    "5:",
                    "adds lr, lr, #2",
                    "beq 6f",
                    "ldr r10, [r0]",
                    "smuad r11, r10, r3",
                    "ldr r10, [r0, #4]",
                    "smlabb r11, r10, r8, r11",
                    "ldr r10, [r1]",
                    "smlad r11, r10, r4, r11",
                    "ldr r10, [r1, #4]",
                    "smlabt r11, r10, r8, r11",
                    "ldr r10, [r2]",
                    "smlad r11, r10, r5, r11",
                    "ldr r10, [r2, #4]",
                    "smlabb r11, r10, r9, r11",
                    "str r11, [r12]",
                    "6:",
                    "pop {{r6, r7}}",
                    inout("r0") src[0].as_ptr() => _,
                    inout("r1") src[1].as_ptr() => _,
                    inout("r2") src[2].as_ptr() => _,
                    in("r3") t[0],
                    in("r4") t[1],
                    in("r5") t[2],
                    in("r8") t[3],
                    in("r9") t[4],
                    out("r10") _,
                    out("r11") _,
                    inout("r12") acc.as_mut_ptr() => _,
                    inout("lr") n => _,
                )
            };
        }
        if STRIDE == 1 {
            row_loop!(pair_rows!(1));
        } else {
            row_loop!(pair_rows!(2));
        }
    }
}

/// One output row of every channel for a depth multiplier of 1 and the full int8 output range:
/// per channel, [`row_of_channel`] then [`rescale_row`] in one Cortex-M4 loop over the
/// channels (their weights, rows and parameters advance together). `false` if it does not
/// apply (other targets run the portable loops instead).
#[inline(always)]
fn all_channels(rows: &ChannelRows<'_>, acc: &mut [i32], out: &mut [i8], stride: usize) -> bool {
    #[cfg(all(target_arch = "arm", target_feature = "dsp"))]
    return match stride {
        1 => all_channels_strided::<1>(rows, acc, out),
        2 => all_channels_strided::<2>(rows, acc, out),
        _ => false,
    };
    #[cfg(not(all(target_arch = "arm", target_feature = "dsp")))]
    {
        let _ = (rows, acc, out, stride);
        false
    }
}

/// What [`all_channels`] reads: the ring of channel rows, where each window row's channel 0
/// starts in it (the first three; all four for [`all_channels_two_rows`]), the lanes per
/// channel row, and each channel's rescale entry and taps.
#[derive(Clone, Copy)]
#[cfg_attr(not(all(target_arch = "arm", target_feature = "dsp")), allow(dead_code))]
struct ChannelRows<'a> {
    ring: &'a [u16],
    starts: [usize; SLOTS],
    row: usize,
    table: &'a [[u32; 3]],
    taps: &'a [Taps],
}

// One channel's rescale of `$a` (twice the accumulator, plus twice the bias r8) with the
// multiplier r3, rounding constant r4 and shift r5 (the top half of the last tap word), stored
// at `$dst`; r10 clobbered.
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
macro_rules! rescale {
    ($a:literal, $dst:literal) => {
        concat!(
            "add ",
            $a,
            ", r8, ",
            $a,
            ", lsl #1\n",
            "smmlar r10, ",
            $a,
            ", r3, r4\n",
            "sub r10, r10, ",
            $a,
            ", lsr #31\n",
            "asr r10, r10, r5\n",
            "ssat r10, #8, r10\n",
            "strb r10, ",
            $dst,
        )
    };
}

/// [`all_channels`] for a horizontal stride of `STRIDE`.
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
#[inline(always)]
fn all_channels_strided<const STRIDE: usize>(
    rows: &ChannelRows<'_>,
    acc: &mut [i32],
    out: &mut [i8],
) -> bool {
    let ChannelRows { ring, starts, row, table, taps } = *rows;
    let channels = table.len();
    let out_w = acc.len();
    let need = out_w.saturating_sub(1).saturating_mul(STRIDE).saturating_add(4);
    // Every channel's row of every window row must hold `need` lanes inside the ring.
    let fits = |s: usize| {
        channels
            .checked_mul(row)
            .and_then(|n| n.checked_add(s))
            .is_some_and(|end| end <= ring.len())
    };
    if channels == 0
        || out_w == 0
        || need > row
        || taps.len() != channels
        || Some(out.len()) != out_w.checked_mul(channels)
        || !starts[..3].iter().all(|&s| fits(s))
    {
        return false;
    }
    // Bytes from the end of one channel's accumulation to the next channel's row.
    let delta = 2 * row - out_w * 2 * STRIDE;
    let base = ring.as_ptr();
    // The whole loop over the channels, with the accumulation pass `$pair` for two values.
    macro_rules! channels {
        ($pair:expr) => {
            core::arch::asm!(
                "sub sp, sp, #48",
                "str r3, [sp, #0]",
                "str r4, [sp, #4]",
                "str r5, [sp, #8]",
                "str r8, [sp, #12]",
                "str r9, [sp, #16]",
                "str r10, [sp, #20]",
                "str r11, [sp, #24]",
                "str r12, [sp, #28]",
                "str r7, [sp, #44]",
                "3:",
                "ldr r12, [sp, #0]",
                "ldm r12!, {{r3, r4, r5, r8, r9}}",
                "str r12, [sp, #0]",
                "ldr r12, [sp, #20]",
                "ldr lr, [sp, #16]",
                "subs lr, lr, #2",
                "bmi 5f",
                "2:",
                $pair,
                "strd r11, r7, [r12], #8",
                "subs lr, lr, #2",
                "bpl 2b",
                "5:",
                "adds lr, lr, #2",
                "beq 6f",
                "ldr r10, [r0], #{step}",
                "smuad r11, r10, r3",
                "ldr r10, [r0, #{back}]",
                "smlabb r11, r10, r8, r11",
                "ldr r10, [r1], #{step}",
                "smlad r11, r10, r4, r11",
                "ldr r10, [r1, #{back}]",
                "smlabt r11, r10, r8, r11",
                "ldr r10, [r2], #{step}",
                "smlad r11, r10, r5, r11",
                "ldr r10, [r2, #{back}]",
                "smlabb r11, r10, r9, r11",
                "str r11, [r12], #4",
                "6:",
                "ldr r3, [sp, #24]",
                "add r0, r0, r3",
                "add r1, r1, r3",
                "add r2, r2, r3",
                "str r0, [sp, #32]",
                "str r1, [sp, #36]",
                "str r2, [sp, #40]",
                "lsr r5, r9, #16",
                "ldr r12, [sp, #4]",
                "ldm r12!, {{r3, r4, r8}}",
                "str r12, [sp, #4]",
                "ldr r0, [sp, #20]",
                "ldr r1, [sp, #8]",
                "ldr r2, [sp, #28]",
                "add r12, r1, #1",
                "str r12, [sp, #8]",
                "ldr lr, [sp, #16]",
                "subs lr, lr, #2",
                "bmi 7f",
                "4:",
                "ldrd r9, r11, [r0], #8",
                rescale!("r9", "[r1]"),
                rescale!("r11", "[r1, r2]"),
                "add r1, r1, r2, lsl #1",
                "subs lr, lr, #2",
                "bpl 4b",
                "7:",
                "adds lr, lr, #2",
                "beq 8f",
                "ldr r9, [r0]",
                rescale!("r9", "[r1]"),
                "8:",
                "ldr r0, [sp, #32]",
                "ldr r1, [sp, #36]",
                "ldr r2, [sp, #40]",
                "ldr r12, [sp, #12]",
                "subs r12, r12, #1",
                "str r12, [sp, #12]",
                "bne 3b",
                "ldr r7, [sp, #44]",
                "add sp, sp, #48",
                step = const 2 * STRIDE,
                back = const 4 - 2 * STRIDE,
                inout("r0") base.wrapping_add(starts[0]) => _,
                inout("r1") base.wrapping_add(starts[1]) => _,
                inout("r2") base.wrapping_add(starts[2]) => _,
                inout("r3") taps.as_ptr() => _,
                inout("r4") table.as_ptr() => _,
                inout("r5") out.as_mut_ptr() => _,
                inout("r8") channels => _,
                inout("r9") out_w => _,
                inout("r10") acc.as_mut_ptr() => _,
                inout("r11") delta => _,
                inout("r12") channels => _,
                out("lr") _,
            )
        };
    }
    // SAFETY: checked above: `channels` taps, table entries and output columns; for each window
    // row `k` and channel `c`, lanes `starts[k] + c * row + 0 .. need` are inside `ring`
    // (`need <= row`), and those are the only lanes read (the accumulation reads lanes
    // `x * STRIDE .. x * STRIDE + 4` for `x < out_w`, two values at a time (the pair
    // `x, x + 1 < out_w` reads lanes up to `(x + 1) * STRIDE + 3 < need`), 2-byte aligned; LDR
    // may be unaligned on the Cortex-M4); `acc` (word-aligned, LDRD/STRD) holds `out_w` values;
    // `out[x * channels + c]` is written for `x < out_w`, `c < channels`. The loop state lives
    // in 48 bytes below the stack pointer, which is restored; r7 (the frame pointer, not an
    // operand) is saved there and restored before the end. The channel loop counts down from
    // `channels >= 1`; lr counts the values left minus 2, so the pair loops run `out_w / 2`
    // times (skipped when 0) and the single steps once if `out_w` is odd. Only the listed
    // registers and the flags change.
    unsafe {
        if STRIDE == 1 {
            channels!(pair_rows!(1));
        } else {
            channels!(pair_rows!(2));
        }
    }
    true
}

/// Whether this build has the two-row loop ([`all_channels_two_rows`]).
const TWO_ROWS: bool = cfg!(all(target_arch = "arm", target_feature = "dsp"));

#[cfg(not(all(target_arch = "arm", target_feature = "dsp")))]
fn all_channels_two_rows(
    _: &ChannelRows<'_>,
    _: &mut [i32],
    _: &mut [i8],
    _: (usize, usize),
) -> bool {
    false
}

/// Output columns `from..to` of two output rows (`out`: both, consecutive) of every channel
/// for a depth multiplier of 1, a stride of 1 both ways and the full int8 output range, on the
/// Cortex-M4: per channel, one loop over the columns computes both rows' values from the four
/// window rows `starts` (each row's loads serve both windows that read it: 8 loads and 12
/// multiply-accumulates for two values), into `accumulators` as pairs, then one loop rescales
/// them ([`rescale_row`]'s steps) into both output rows. `true` (nothing to do) for an empty
/// span; `false` if it does not apply.
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
#[inline(never)]
fn all_channels_two_rows(
    rows: &ChannelRows<'_>,
    accumulators: &mut [i32],
    out: &mut [i8],
    (from, to): (usize, usize),
) -> bool {
    let ChannelRows { ring, starts, row, table, taps } = *rows;
    let channels = table.len();
    if from == to {
        return true;
    }
    let out_w = to.saturating_sub(from);
    let need = to.saturating_sub(1).saturating_add(4);
    // Every channel's row of every window row must hold `need` lanes inside the ring.
    let fits = |s: usize| {
        channels
            .checked_mul(row)
            .and_then(|n| n.checked_add(s))
            .is_some_and(|end| end <= ring.len())
    };
    let out_row = out.len() / 2;
    let start = from.checked_mul(channels);
    if channels == 0
        || out_w == 0
        || from > to
        || need > row
        || to.checked_mul(channels).is_none_or(|end| end > out_row)
        || taps.len() != channels
        || out_w.checked_mul(2).is_none_or(|n| n > accumulators.len())
        || !starts.iter().all(|&s| fits(s))
    {
        return false;
    }
    let start = start.unwrap_or(0);
    // Bytes from the end of one channel's accumulation to the next channel's row.
    let delta = 2 * row - out_w * 2;
    let base = ring.as_ptr();
    // The loop state, below the stack pointer: the four row pointers (0-12), the taps (16),
    // the table (20), the output (24), the channels left (28), the columns (32), the
    // accumulators (36), `delta` (40), the channels (44), the bytes per output row (48), r6
    // (52) and r7 (56).
    // SAFETY: checked above: `channels` taps and table entries; for each window row `k` and
    // channel `c`, lanes `starts[k] + c * row + 0 .. need` are inside `ring` (`need <= row`),
    // and those are the only lanes read (column `x` in `from..to` reads lanes `x .. x + 4` of
    // each, 2-byte aligned; LDR may be unaligned on the Cortex-M4); `accumulators`
    // (word-aligned, LDRD/STRD) holds `2 * out_w` values; `out[r * out_row + x * channels + c]`
    // is written for `r < 2`, `x` in `from..to` (`to * channels <= out_row`, `2 * out_row <=
    // out.len()`), `c < channels`. The loop state lives
    // in 64 bytes below the stack pointer, which is restored; r6 and r7 (not operands) are saved
    // there and restored before the end. The channel loop counts down from `channels >= 1`, the
    // column loops from `out_w >= 1`. Only the listed registers and the flags change.
    unsafe {
        core::arch::asm!(
            "sub sp, sp, #64",
            "str r6, [sp, #52]",
            "str r7, [sp, #56]",
            "str r4, [sp, #16]",
            "str r5, [sp, #20]",
            "str r8, [sp, #24]",
            "str r9, [sp, #28]",
            "str r11, [sp, #32]",
            "str r12, [sp, #36]",
            "str lr, [sp, #40]",
            "str r9, [sp, #44]",
            "str r10, [sp, #48]",
            "3:",
            "ldr r12, [sp, #16]",
            "ldm r12!, {{r4, r5, r8, r9, r10}}",
            "str r12, [sp, #16]",
            "ldr r12, [sp, #36]",
            "ldr lr, [sp, #32]",
            // One column: A (the first row) in r11 from window rows r0-r2, B (the second) in
            // r7 from r1-r3; taps r4 (w00, w01), r5 (w10, w11), r8 (w20, w21), r9 (w02, w12),
            // r10 (w22, shift).
            "2:",
            "ldr r6, [r0], #2",
            "smuad r11, r6, r4",
            "ldr r6, [r0, #2]",
            "smlabb r11, r6, r9, r11",
            "ldr r6, [r1], #2",
            "smlad r11, r6, r5, r11",
            "smuad r7, r6, r4",
            "ldr r6, [r1, #2]",
            "smlabt r11, r6, r9, r11",
            "smlabb r7, r6, r9, r7",
            "ldr r6, [r2], #2",
            "smlad r11, r6, r8, r11",
            "smlad r7, r6, r5, r7",
            "ldr r6, [r2, #2]",
            "smlabb r11, r6, r10, r11",
            "smlabt r7, r6, r9, r7",
            "ldr r6, [r3], #2",
            "smlad r7, r6, r8, r7",
            "ldr r6, [r3, #2]",
            "smlabb r7, r6, r10, r7",
            "strd r11, r7, [r12], #8",
            "subs lr, lr, #1",
            "bne 2b",
            "ldr r6, [sp, #40]",
            "add r0, r0, r6",
            "add r1, r1, r6",
            "add r2, r2, r6",
            "add r3, r3, r6",
            "stm sp, {{r0, r1, r2, r3}}",
            "lsr r5, r10, #16",
            "ldr r12, [sp, #20]",
            "ldm r12!, {{r3, r4, r8}}",
            "str r12, [sp, #20]",
            "ldr r0, [sp, #36]",
            "ldr r1, [sp, #24]",
            "add r12, r1, #1",
            "str r12, [sp, #24]",
            "ldr r2, [sp, #44]",
            "ldr r6, [sp, #48]",
            "ldr lr, [sp, #32]",
            "4:",
            "ldrd r9, r11, [r0], #8",
            rescale!("r9", "[r1]"),
            rescale!("r11", "[r1, r6]"),
            "add r1, r1, r2",
            "subs lr, lr, #1",
            "bne 4b",
            "ldm sp, {{r0, r1, r2, r3}}",
            "ldr r12, [sp, #28]",
            "subs r12, r12, #1",
            "str r12, [sp, #28]",
            "bne 3b",
            "ldr r6, [sp, #52]",
            "ldr r7, [sp, #56]",
            "add sp, sp, #64",
            inout("r0") base.wrapping_add(starts[0] + from) => _,
            inout("r1") base.wrapping_add(starts[1] + from) => _,
            inout("r2") base.wrapping_add(starts[2] + from) => _,
            inout("r3") base.wrapping_add(starts[3] + from) => _,
            inout("r4") taps.as_ptr() => _,
            inout("r5") table.as_ptr() => _,
            inout("r8") out.as_mut_ptr().wrapping_add(start) => _,
            inout("r9") channels => _,
            inout("r10") out_row => _,
            inout("r11") out_w => _,
            inout("r12") accumulators.as_mut_ptr() => _,
            inout("lr") delta => _,
        );
    }
    true
}
