//! CONV_2D's packed path: five output pixels per pass over each output channel's weights, four
//! input values per step, with the DSP instructions of [`dsp`].
//!
//! For each group of five output pixels the input patches (the `kh x kw x in_channels` values
//! each pixel's window sees, padding filled with the input zero point) are gathered once, offset
//! by `-zero_point`, doubled and widened to 16-bit lanes in scratch memory, interleaved so that
//! one step reads two pixels' four values with one LDM (a window row inside the input is read
//! as one run; taps of whole groups of 4 are widened straight from the input; a patch that ends
//! inside a group is followed by zero lanes). Every output channel then runs over that
//! buffer and its weight row (OHWI: one contiguous row per output channel, read straight from
//! the model): per step, 20 multiply-adds in 10 SMLADs, 2 LDM, 1 LDRD, 1 load and 2 SXTB16
//! (14 registers: the Cortex-M4 loop saves and restores the two LLVM keeps for itself); when
//! the patch is not whole groups, the weight pointer steps back after each row, and the last
//! channels, whose final step would read past the weights, run from a zero-padded copy.
//! Accumulators (doubled, so the rescale needs no extra doubling) are rescaled with
//! [`ChannelRescale`], prepared once per call into a per-channel table in scratch together with
//! the bias; with a multiplier above `2^30` the rounding of the high multiply is one SMMLAR.
//!
//! It applies when every output channel has a [`ChannelRescale`] and an accumulator that cannot
//! reach `2^30` (see [`accumulator_fits`](crate::engine::kernels::rescale::accumulator_fits)), or
//! all-zero weights (then its constant output: [`channel_or_constant`]), or only that accumulator
//! bound (then that channel alone is rescaled again with the portable arithmetic after each
//! pass), the input zero point is an int8 value and the
//! convolution has one group; the caller falls back to the portable kernel otherwise (and when
//! the scratch is too short). Results are bit-identical to the portable kernel.

use super::{Conv2d, ConvOperands, Geometry};
use crate::engine::arith::{clamp_to_i8, QuantizedMultiplier};
use crate::engine::kernels::rescale::{bias_limit, channel_or_constant, ChannelRescale};
use crate::engine::kernels::{bias_at, dsp, word, I32Le, Requantize};

/// Bytes of scratch [`conv`] needs: the channel table (16 bytes per output channel), the
/// widened patches of `PIXELS` pixels (8 bytes per 4 values per pixel), one raw patch
/// (`patch` bytes, rounded up to 4) and 4 bytes of alignment slack.
pub fn scratch_bytes(out_channels: usize, patch: usize) -> usize {
    let groups = patch.div_ceil(4);
    out_channels
        .saturating_mul(16)
        .saturating_add(groups.saturating_mul(4 * (2 * PIXELS + 1)))
        .saturating_add(4)
}

/// One channel's entry of the table: [`ChannelRescale`]'s three fields, then twice the bias
/// (accumulators are kept doubled: the widened inputs are `2 * (x - zero_point)`).
type Entry = [u32; 4];

/// Output pixels per pass.
const PIXELS: usize = 5;

/// Four consecutive patch values of the [`PIXELS`] pixels, each as two lane pairs (values 0 and
/// 2, values 1 and 3), pixel after pixel.
type Group = [u32; 2 * PIXELS];

/// Runs `k` on the packed path if it applies and `scratch` holds [`scratch_bytes`] bytes;
/// `false` (nothing written) if not. Lengths must agree with the shapes (the caller checks them
/// first); if they do not, the output is unspecified but nothing panics.
#[inline(never)]
pub fn conv(k: &Conv2d, ops: &mut ConvOperands<'_>, scratch: &mut [u8]) -> bool {
    let ConvOperands { input, filter, bias, requantize, shapes, .. } = *ops;
    let output = &mut *ops.output;
    let [batches, in_h, in_w, in_c] = shapes.input;
    let [channels, kh, kw, depth] = shapes.filter;
    let [_, out_h, out_w, _] = shapes.output;
    let patch = kh * kw * depth;
    if depth != in_c || patch == 0 || channels == 0 || !(-128..=127).contains(&-k.input_offset) {
        return false;
    }
    let groups = patch.div_ceil(4);
    let (_, words, _) = bytemuck::pod_align_to_mut::<u8, u32>(scratch);
    let Some(words) = words.get_mut(..channels * 4 + groups * (2 * PIXELS + 1)) else {
        return false;
    };
    let (table, rest) = words.split_at_mut(channels * 4);
    let (wide, raw) = rest.split_at_mut(groups * 2 * PIXELS);
    let (table, _) = table.as_chunks_mut::<4>();
    let (wide, _) = wide.as_chunks_mut::<{ 2 * PIXELS }>();
    // One raw patch (`groups * 4` bytes): where a window is gathered, and after the pass where
    // the Cortex-M4 loop reads a channel's weights padded to whole groups.
    let raw: &mut [i8] = bytemuck::cast_slice_mut(raw);
    if raw.len() < patch {
        return false;
    }
    let limit = bias_limit(patch);
    // Most operators have no degenerate channel: one lean pass builds their table; the others
    // take the pass that handles every kind of channel.
    let regular = match bias {
        Some(b) => regular_table(table, requantize, b.0.as_chunks::<4>().0, k.output_offset, limit),
        None => regular_table(table, requantize, &[], k.output_offset, limit),
    };
    let Some((above_half, first_slow)) = regular
        .map(|above| (above, 0))
        .or_else(|| full_table(k, (filter, bias, requantize), patch, table))
    else {
        return false;
    };
    let source = PatchSource {
        geometry: k.geometry,
        in_h,
        in_w,
        depth,
        kw,
        pad: (-k.input_offset) as i8,
        offset: dsp::splat(k.input_offset),
    };
    let pixels = batches * out_h * out_w;
    let (lo, hi) = (k.activation_min, k.activation_max);
    let native = lo <= -128 && hi >= 127 && above_half;
    let plan = asm_plan(patch, channels).filter(|_| native);
    // A 1x1 window with stride 1 and no padding reads pixel p of the input for output pixel p.
    let identity = (kh, kw) == (1, 1)
        && (in_h, in_w) == (out_h, out_w)
        && (k.geometry.stride_h, k.geometry.stride_w, k.geometry.pad_h, k.geometry.pad_w)
            == (1, 1, 0, 0);
    // Passes of PIXELS pixels. When they do not divide the output, a single last pixel gets
    // its own pass; otherwise the last pass overlaps the one before (recomputing a few outputs
    // with the same values) so that it is whole.
    let single_last = pixels % PIXELS == 1 && pixels > 1;
    let passes = pixels.div_ceil(PIXELS);
    for q in 0..passes {
        let (first, count) = if single_last && q + 1 == passes {
            (pixels - 1, 1)
        } else {
            let first = (q * PIXELS).min(pixels.saturating_sub(PIXELS));
            (first, PIXELS.min(pixels - first))
        };
        let Some(out) = output.get_mut(first * channels..(first + count) * channels) else {
            continue;
        };
        let mut at = (first / (out_h * out_w), (first / out_w) % out_h, first % out_w);
        for j in 0..count {
            if identity {
                let at = (first + j) * depth;
                let src = input.get(at..at + depth).unwrap_or_default();
                source.spread(src, wide, 2 * j);
            } else {
                source.widen(input, at, raw.get_mut(..patch).unwrap_or_default(), wide, 2 * j);
                // Next pixel in (batch, row, column) order.
                at.2 += 1;
                if at.2 == out_w {
                    at = if at.1 + 1 == out_h { (at.0 + 1, 0, 0) } else { (at.0, at.1 + 1, 0) };
                }
            }
        }
        let done = match plan {
            Some(plan) if count == PIXELS => {
                channels_x5(plan, wide, (filter, raw), patch, table, out)
            }
            Some(plan) if count == 1 => channel_x1(plan, wide, filter, patch, table, out),
            _ => false,
        };
        if !done {
            if lo <= -128 && hi >= 127 {
                channels_of::<true>(wide, filter, patch, table, out, 0, (lo, hi));
            } else {
                channels_of::<false>(wide, filter, patch, table, out, 0, (lo, hi));
            }
        }
        if first_slow != 0 {
            slow_channels(k, first_slow, (wide, filter, patch, table), requantize, out, count);
        }
    }
    true
}

/// The channel table of [`conv`] when a channel needs more than the fast form: a channel whose
/// weights are all zero gets its constant, one with weights and a multiplier without the fast
/// form is linked for [`slow_channels`]. Returns whether every entry suits the Cortex-M4 loops'
/// rounding and the first link (0: none); `None` if a channel cannot be run at all.
#[cold]
#[inline(never)]
fn full_table(
    k: &Conv2d,
    (filter, bias, requantize): (&[i8], Option<I32Le<'_>>, Requantize<'_>),
    patch: usize,
    table: &mut [Entry],
) -> Option<(bool, u32)> {
    // The Cortex-M4 loop rounds with SMMLAR, which needs multipliers above 2^30 (then the sign
    // of the rounded product is the sign of the accumulator).
    let mut above_half = true;
    let limit = bias_limit(patch);
    let clamp = (k.activation_min, k.activation_max);
    // Channels that take the portable rescale alone (weights, and a multiplier without the
    // fast form) are linked through their entries' shift words, bits 8 and up: the next such
    // channel plus one (0: none). The loops read only the low bits of a shift (the Cortex-M4's
    // register shifts its bottom byte), where such an entry holds a constant's 1.
    let mut first_slow = 0u32;
    let mut last_slow: Option<usize> = None;
    for o in 0..table.len() {
        let zero =
            || filter.get(o * patch..(o + 1) * patch).is_some_and(|w| w.iter().all(|&w| w == 0));
        let b = bias_at(bias, o);
        let (r, b) =
            match channel_or_constant(requantize.get(o), k.output_offset, b, limit, clamp, zero) {
                Some(rb) => rb,
                // The doubled accumulators stay exact (below 2^31) when the bias is in bound.
                None if b.unsigned_abs() < limit && o < 1 << 23 => {
                    let link = (o as u32 + 1) << 8;
                    match last_slow.and_then(|p| table.get_mut(p)) {
                        Some(prev) => prev[2] |= link,
                        None => first_slow = link,
                    }
                    last_slow = Some(o);
                    (ChannelRescale::constant(0), b)
                }
                None => return None,
            };
        above_half &= r.native();
        if let Some(entry) = table.get_mut(o) {
            *entry = [r.multiplier as u32, r.round as u32, r.shift, b.wrapping_mul(2) as u32];
        }
    }
    Some((above_half, first_slow))
}

/// Fills `table` when every channel takes the fast form (a multiplier that has one, a bias
/// within `limit`; `bias` holds one little-endian word per channel, or none for no bias), in
/// one pass without the degenerate-channel checks. Returns whether every multiplier is above
/// `2^30` (what the Cortex-M4 loops' rounding needs; a channel whose multiplier is not runs the
/// portable loops, which are exact for every entry), or `None` (the table partly written) at
/// the first channel that does not take the fast form.
#[inline(never)]
fn regular_table(
    table: &mut [Entry],
    requantize: Requantize<'_>,
    bias: &[[u8; 4]],
    output_offset: i32,
    limit: u32,
) -> Option<bool> {
    let Requantize::PerChannel { multipliers, shifts } = requantize else {
        return None;
    };
    let (m4, _) = multipliers.0.as_chunks::<4>();
    if m4.len() < table.len() || shifts.len() < table.len() {
        return None;
    }
    let short_bias = !bias.is_empty() && bias.len() < table.len();
    let channels = table.iter_mut().zip(m4.iter().zip(shifts));
    if bias.is_empty() {
        regular_entries(channels.zip(core::iter::repeat(0)), output_offset, limit)
    } else if !short_bias {
        let bias = bias.iter().map(|w| i32::from_le_bytes(*w));
        regular_entries(channels.zip(bias), output_offset, limit)
    } else {
        None
    }
}

/// The loop of [`regular_table`] over (entry, (multiplier, shift), bias).
#[inline(always)]
fn regular_entries<'t>(
    channels: impl Iterator<Item = ((&'t mut Entry, (&'t [u8; 4], &'t i8)), i32)>,
    output_offset: i32,
    limit: u32,
) -> Option<bool> {
    let mut above_half = true;
    for ((entry, (m, &shift)), b) in channels {
        let m = QuantizedMultiplier { multiplier: i32::from_le_bytes(*m), shift: shift as i32 };
        let r = ChannelRescale::new(m, output_offset).filter(|_| b.unsigned_abs() < limit)?;
        above_half &= r.multiplier > 1 << 30;
        *entry = [r.multiplier as u32, r.round as u32, r.shift, b.wrapping_mul(2) as u32];
    }
    Some(above_half)
}

/// The channels linked from `link` (see [`conv`]) again, for the `count` pixels of this pass,
/// with the reference's rescale of their (doubled, exact) accumulators. Out of line: no
/// fixture has such a channel, so the common case pays one comparison per pass.
#[cold]
#[inline(never)]
fn slow_channels(
    k: &Conv2d,
    mut link: u32,
    (wide, filter, patch, table): (&[Group], &[i8], usize, &[Entry]),
    requantize: Requantize<'_>,
    out: &mut [i8],
    count: usize,
) {
    let channels = table.len();
    while let Some(o) = ((link >> 8) as usize).checked_sub(1) {
        let (Some(e), Some(w)) = (table.get(o), filter.get(o * patch..(o + 1) * patch)) else {
            break;
        };
        link = e[2];
        let m = requantize.get(o);
        for j in 0..count.min(PIXELS) {
            // Pixel j's doubled accumulator, one group of four at a time (the weights' tail
            // padded with zeros, as `mac` does).
            let mut a2 = e[3] as i32;
            for (g, x) in wide.iter().enumerate().take(patch.div_ceil(4)) {
                let mut q = [0i8; 4];
                for (d, s) in q.iter_mut().zip(w.iter().skip(4 * g)) {
                    *d = *s;
                }
                let v = word(&q);
                a2 = dsp::smlad(x[2 * j], dsp::sxtb16(v), a2);
                a2 = dsp::smlad(x[2 * j + 1], dsp::sxtb16_ror8(v), a2);
            }
            if let Some(v) = out.get_mut(j * channels + o) {
                let scaled = m.apply(a2 >> 1).wrapping_add(k.output_offset);
                *v = clamp_to_i8(scaled, k.activation_min, k.activation_max);
            }
        }
    }
}

/// Where patches come from.
struct PatchSource {
    geometry: Geometry,
    in_h: usize,
    in_w: usize,
    depth: usize,
    kw: usize,
    /// The raw value that widens to 0 (the input zero point).
    pad: i8,
    /// `(-zero_point, -zero_point)`.
    offset: u32,
}

impl PatchSource {
    /// Gathers the patch of output pixel `(b, y, x)` into `raw` (padding: the zero point), then
    /// widens it into lanes `lane`, `lane + 1` of `wide`.
    fn widen(
        &self,
        input: &[i8],
        (b, y, x): (usize, usize, usize),
        raw: &mut [i8],
        wide: &mut [Group],
        lane: usize,
    ) {
        let (d, row_len) = (self.depth, self.kw * self.depth);
        // A 1x1 window inside the input is the input pixel itself: no gathering.
        if row_len == d && raw.len() == d {
            let pixel =
                self.geometry.in_y(y, 0, self.in_h).zip(self.geometry.in_x(x, 0, self.in_w));
            if let Some(src) = pixel.and_then(|(iy, ix)| {
                let at = ((b * self.in_h + iy) * self.in_w + ix) * d;
                input.get(at..at + d)
            }) {
                self.spread(src, wide, lane);
                return;
            }
        }
        let g = self.geometry;
        // With no horizontal dilation the taps of a window row that fall inside the input are
        // one run of the input row: taps `kx0..kx1`, read at once.
        let start = x * g.stride_w;
        let kx0 = g.pad_w.saturating_sub(start).min(self.kw);
        let kx1 = (g.pad_w + self.in_w).saturating_sub(start).clamp(kx0, self.kw);
        let run = (start + kx0).checked_sub(g.pad_w).filter(|_| g.dilation_w == 1);
        // Taps of whole groups of 4 in runs are widened straight from the input, no gathering.
        if let (true, Some(ix0)) = (d.is_multiple_of(4), run) {
            let per_tap = d / 4;
            for ky in 0..raw.len() / row_len.max(1) {
                let row = ky * self.kw * per_tap;
                let row_end = row + self.kw * per_tap;
                let src = g.in_y(y, ky, self.in_h).and_then(|iy| {
                    let at = ((b * self.in_h + iy) * self.in_w + ix0) * d;
                    input.get(at..at + (kx1 - kx0) * d)
                });
                let Some(src) = src else {
                    zero_lanes(wide.get_mut(row..row_end), lane);
                    continue;
                };
                zero_lanes(wide.get_mut(row..row + kx0 * per_tap), lane);
                if let Some(dst) = wide.get_mut(row + kx0 * per_tap..) {
                    self.spread(src, dst, lane);
                }
                zero_lanes(wide.get_mut(row + kx1 * per_tap..row_end), lane);
            }
            return;
        }
        for (ky, row) in raw.chunks_exact_mut(row_len).enumerate() {
            let Some(iy) = g.in_y(y, ky, self.in_h) else {
                row.fill(self.pad);
                continue;
            };
            let line = (b * self.in_h + iy) * self.in_w;
            if let Some(ix0) = run {
                let at = (line + ix0) * d;
                let span = (kx1 - kx0) * d;
                if let (Some((head, rest)), Some(src)) =
                    (row.split_at_mut_checked(kx0 * d), input.get(at..at + span))
                {
                    if let Some((mid, tail)) = rest.split_at_mut_checked(span) {
                        fill_run(head, self.pad);
                        copy_run(mid, src);
                        fill_run(tail, self.pad);
                        continue;
                    }
                }
            }
            for (kx, dst) in row.chunks_exact_mut(d).enumerate() {
                let src = self
                    .geometry
                    .in_x(x, kx, self.in_w)
                    .and_then(|ix| input.get((line + ix) * d..(line + ix + 1) * d));
                match src {
                    Some(src) => dst.copy_from_slice(src),
                    None => dst.fill(self.pad),
                }
            }
        }
        self.spread(raw, wide, lane);
    }

    /// Widens a patch into lanes `lane`, `lane + 1` of `wide` (offset applied).
    #[inline(always)]
    fn spread(&self, patch: &[i8], wide: &mut [Group], lane: usize) {
        let (quads, tail) = patch.as_chunks::<4>();
        let lane = lane.min(2 * PIXELS - 2);
        let double = |x: u32| dsp::sadd16(x, x);
        for (g, q) in wide.iter_mut().zip(quads) {
            let v = word(q);
            g[lane] = double(dsp::sxtab16(self.offset, v));
            g[lane + 1] = double(dsp::sxtab16_ror8(self.offset, v));
        }
        if let (Some(g), false) = (wide.get_mut(quads.len()), tail.is_empty()) {
            let mut q = [self.pad; 4];
            q[..tail.len()].copy_from_slice(tail);
            let v = word(&q);
            g[lane] = double(dsp::sxtab16(self.offset, v));
            g[lane + 1] = double(dsp::sxtab16_ror8(self.offset, v));
        }
    }
}

/// Sets lanes `lane`, `lane + 1` of `groups` (if any) to 0: the widened padding.
#[inline(always)]
fn zero_lanes(groups: Option<&mut [Group]>, lane: usize) {
    let lane = lane.min(2 * PIXELS - 2);
    for g in groups.unwrap_or_default() {
        g[lane] = 0;
        g[lane + 1] = 0;
    }
}

/// `dst.copy_from_slice(src)` for the short runs of a window row (a few bytes to a few dozen),
/// a word at a time without the call to the general copy.
#[inline(always)]
fn copy_run(dst: &mut [i8], src: &[i8]) {
    let (d4, d_tail) = dst.as_chunks_mut::<4>();
    let (s4, s_tail) = src.as_chunks::<4>();
    for (d, s) in d4.iter_mut().zip(s4) {
        *d = *s;
    }
    for (d, s) in d_tail.iter_mut().zip(s_tail) {
        *d = *s;
    }
}

/// `run.fill(value)` that costs nothing for an empty run (a window row inside the input).
#[inline(always)]
fn fill_run(run: &mut [i8], value: i8) {
    if !run.is_empty() {
        run.fill(value);
    }
}

/// Runs the output channels from `from` on over the widened patches of up to [`PIXELS`]
/// pixels, writing `out` (`pixels x channels`, the last pass may hold fewer pixels).
#[inline(never)]
fn channels_of<const FULL_RANGE: bool>(
    wide: &[Group],
    filter: &[i8],
    patch: usize,
    table: &[Entry],
    out: &mut [i8],
    from: usize,
    (lo, hi): (i32, i32),
) {
    let channels = table.len();
    let rows = filter.get(from.saturating_mul(patch)..).unwrap_or_default().chunks_exact(patch);
    for (i, (w, e)) in rows.zip(table.get(from..).unwrap_or_default()).enumerate() {
        let o = from + i;
        let acc = mac(wide, w, e[3] as i32);
        let r = ChannelRescale { multiplier: e[0] as i32, round: e[1] as i32, shift: e[2] & 31 };
        for (j, &a) in acc.iter().enumerate() {
            if let Some(v) = out.get_mut(j * channels + o) {
                let v2 = r.apply_doubled(a);
                *v = if FULL_RANGE { v2.clamp(-128, 127) } else { v2.max(lo).min(hi) } as i8;
            }
        }
    }
}

/// The dot products of one weight row with the widened patches of the [`PIXELS`] pixels, plus
/// `init` (the channel's doubled bias).
#[inline(always)]
fn mac(wide: &[Group], w: &[i8], init: i32) -> [i32; PIXELS] {
    let (w4, w_tail) = w.as_chunks::<4>();
    let mut acc = [init; PIXELS];
    let mut step = |x: &Group, v: u32| {
        let (e, o) = (dsp::sxtb16(v), dsp::sxtb16_ror8(v));
        for (j, a) in acc.iter_mut().enumerate() {
            *a = dsp::smlad(x[2 * j + 1], o, dsp::smlad(x[2 * j], e, *a));
        }
    };
    for (x, c) in wide.iter().zip(w4) {
        step(x, word(c));
    }
    if let (Some(x), false) = (wide.get(w4.len()), w_tail.is_empty()) {
        let mut t = [0i8; 4];
        t[..w_tail.len()].copy_from_slice(w_tail);
        step(x, word(&t));
    }
    acc
}

/// How the Cortex-M4 loops below run a patch: `groups` steps of 4 weights per channel (the
/// last one reads up to 3 bytes of the next channel's row, which meet the zeros `wide` holds
/// after the patch), then the weight pointer steps back by `rewind` (`4 * groups - patch`) to
/// the next row. The loops run the first `channels` channels: those whose last step stays inside
/// `filter`; the others are left to [`channels_of`].
#[derive(Clone, Copy)]
#[cfg_attr(not(all(target_arch = "arm", target_feature = "dsp")), allow(dead_code))]
struct AsmPlan {
    groups: usize,
    rewind: usize,
    channels: usize,
}

/// The [`AsmPlan`] of `channels` channels of `patch` weights when the Cortex-M4 loops below
/// apply: this target has them and at least one channel's steps stay inside the weights; `None`
/// otherwise (other targets always).
#[inline(always)]
fn asm_plan(patch: usize, channels: usize) -> Option<AsmPlan> {
    let groups = patch.div_ceil(4);
    let rewind = 4 * groups - patch;
    let inside = channels.saturating_sub(rewind.div_ceil(patch.max(1)));
    (dsp::NATIVE && inside != 0 && groups != 0).then_some(AsmPlan {
        groups,
        rewind,
        channels: inside,
    })
}

impl AsmPlan {
    /// True if the loops may run this plan on these slices: `filter` is one patch per channel of
    /// `table`, the plan's last step stays inside it, `wide` holds the patch's groups and `out`
    /// holds `pixels` bytes per channel. Checked on every pass (a few instructions; the
    /// plan itself is made once per call).
    #[inline(always)]
    fn fits(
        self,
        wide: &[Group],
        filter: &[i8],
        patch: usize,
        table: &[Entry],
        out: &[i8],
        pixels: usize,
    ) -> bool {
        let channels = table.len();
        Some(filter.len()) == channels.checked_mul(patch)
            && self.channels <= channels
            && self.channels * patch + self.rewind <= filter.len()
            && wide.len() >= self.groups
            && 4 * self.groups == patch + self.rewind
            && Some(out.len()) == channels.checked_mul(pixels)
    }
}

/// [`channels_of`] for one pixel on the Cortex-M4: per channel `groups` steps of 4
/// multiply-adds (8 instructions), then the rescale and store of [`channels_x5`]; `false` if it
/// does not apply (other targets always: they run the portable loops).
#[inline(always)]
fn channel_x1(
    plan: AsmPlan,
    wide: &[Group],
    filter: &[i8],
    patch: usize,
    table: &[Entry],
    out: &mut [i8],
) -> bool {
    if !plan.fits(wide, filter, patch, table, out, 1) {
        return false;
    }
    #[cfg(not(all(target_arch = "arm", target_feature = "dsp")))]
    let _ = plan;
    #[cfg(all(target_arch = "arm", target_feature = "dsp"))]
    {
        let AsmPlan { groups, rewind, channels } = plan;
        let filter_end = filter.as_ptr().wrapping_add(channels * patch);
        // SAFETY: as in `channels_x5`, for one pixel: per channel (exactly `plan.channels` of
        // them, the loop ends when the weight pointer, back by `rewind` after each row, reaches
        // the end of their rows) `groups` steps read 4 weight bytes (inside `filter`, see
        // `AsmPlan`) and the first 8 bytes of a 40-byte `wide` group (word-aligned for LDRD,
        // `groups <= wide.len()`), one word-aligned 16-byte `table` entry, and write `out[o]`
        // (`out` holds `table.len()` bytes). 8 bytes below the stack pointer hold the end pointer
        // and `rewind`; the stack pointer is restored. All other registers it changes are
        // declared.
        unsafe {
            core::arch::asm!(
                "sub sp, sp, #8",
                "str r2, [sp, #0]",
                "str r3, [sp, #4]",
                "3:",
                "ldr r0, [r9, #12]",
                "mov r1, r12",
                "mov r2, lr",
                "2:",
                "ldr r3, [r11], #4",
                "ldrd r5, r8, [r1], #40",
                "sxtb16 r4, r3",
                "sxtb16 r3, r3, ror #8",
                "smlad r0, r5, r4, r0",
                "smlad r0, r8, r3, r0",
                "subs r2, r2, #1",
                "bne 2b",
                "ldr r3, [sp, #4]",
                "sub r11, r11, r3",
                "ldm r9!, {{r3, r4, r5, r8}}",
                "smmlar r2, r0, r3, r4",
                "sub r2, r2, r0, lsr #31",
                "asr r2, r2, r5",
                "ssat r2, #8, r2",
                "strb r2, [r10], #1",
                "ldr r2, [sp, #0]",
                "cmp r11, r2",
                "bne 3b",
                "add sp, sp, #8",
                inout("r2") filter_end => _,
                inout("r9") table.as_ptr() => _,
                inout("r10") out.as_mut_ptr() => _,
                inout("r11") filter.as_ptr() => _,
                inout("r12") wide.as_ptr() => _,
                inout("lr") groups => _,
                inout("r3") rewind => _,
                out("r0") _,
                out("r1") _,
                out("r4") _,
                out("r5") _,
                out("r8") _,
            );
        }
        if channels < table.len() {
            channels_of::<true>(wide, filter, patch, table, out, channels, (-128, 127));
        }
    }
    true
}

/// The Cortex-M4 loop of [`channels_x5`], with `$rewind` (the instructions that step the weight
/// pointer back by `rewind` after each row, or none) after each channel's steps.
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
macro_rules! x5_loop {
    ($wide:expr, $groups:expr, $out:expr, $channels:expr, $filter_end:expr, $table:expr,
     $filter:expr, $rewind_value:expr $(, $rewind:literal)*) => {
        core::arch::asm!(
            "push {{r6, r7}}",
            "sub sp, sp, #32",
            "str r8, [sp, #24]",
            "str r0, [sp, #0]",
            "str r1, [sp, #4]",
            "str r2, [sp, #8]",
            "str r3, [sp, #12]",
            "str r4, [sp, #16]",
            "str r5, [sp, #20]",
            "3:",
            "ldr r9, [sp, #20]",
            "ldr r0, [r9, #12]",
            "mov r1, r0",
            "mov r2, r0",
            "mov r3, r0",
            "mov r4, r0",
            "ldr r12, [sp, #0]",
            "ldr lr, [sp, #4]",
            "2:",
            "ldr r9, [r11], #4",
            "sxtb16 r10, r9",
            "sxtb16 r9, r9, ror #8",
            "ldm r12!, {{r5, r6, r7, r8}}",
            "smlad r0, r5, r10, r0",
            "smlad r0, r6, r9, r0",
            "smlad r1, r7, r10, r1",
            "smlad r1, r8, r9, r1",
            "ldm r12!, {{r5, r6, r7, r8}}",
            "smlad r2, r5, r10, r2",
            "smlad r2, r6, r9, r2",
            "smlad r3, r7, r10, r3",
            "smlad r3, r8, r9, r3",
            "ldrd r5, r6, [r12], #8",
            "smlad r4, r5, r10, r4",
            "smlad r4, r6, r9, r4",
            "subs lr, lr, #1",
            "bne 2b",
            $($rewind,)*
            "ldr r12, [sp, #20]",
            "ldm r12!, {{r5, r6, r7, r8}}",
            "str r12, [sp, #20]",
            "ldr r12, [sp, #8]",
            "ldr lr, [sp, #12]",
            "smmlar r9, r0, r5, r6",
            "sub r9, r9, r0, lsr #31",
            "asr r9, r9, r7",
            "ssat r9, #8, r9",
            "strb r9, [r12]",
            "smmlar r9, r1, r5, r6",
            "sub r9, r9, r1, lsr #31",
            "asr r9, r9, r7",
            "ssat r9, #8, r9",
            "strb r9, [r12, lr]",
            "add r10, r12, lr, lsl #1",
            "smmlar r9, r2, r5, r6",
            "sub r9, r9, r2, lsr #31",
            "asr r9, r9, r7",
            "ssat r9, #8, r9",
            "strb r9, [r10]",
            "smmlar r9, r3, r5, r6",
            "sub r9, r9, r3, lsr #31",
            "asr r9, r9, r7",
            "ssat r9, #8, r9",
            "strb r9, [r10, lr]",
            "add r10, r10, lr, lsl #1",
            "smmlar r9, r4, r5, r6",
            "sub r9, r9, r4, lsr #31",
            "asr r9, r9, r7",
            "ssat r9, #8, r9",
            "strb r9, [r10]",
            "add r12, r12, #1",
            "str r12, [sp, #8]",
            "ldr r12, [sp, #16]",
            "cmp r11, r12",
            "bne 3b",
            "add sp, sp, #32",
            "pop {{r6, r7}}",
            inout("r0") $wide => _,
            inout("r1") $groups => _,
            inout("r2") $out => _,
            inout("r3") $channels => _,
            inout("r4") $filter_end => _,
            inout("r5") $table => _,
            inout("r11") $filter => _,
            inout("r8") $rewind_value => _,
            out("r9") _,
            out("r10") _,
            out("r12") _,
            out("lr") _,
        );
    };
}

/// [`channels_of`] for five pixels, the full int8 output range and multipliers above `2^30`,
/// in one Cortex-M4 loop (the channels [`AsmPlan`] leaves out after it): per channel the bias, `groups` steps of 20
/// multiply-adds (18 instructions), then per pixel SMMLAR (rounded high multiply plus the
/// rounding constant), the sign fix, the shift, SSAT and the byte store. `false` if it does not
/// apply (other targets always: they run the portable loops).
#[inline(always)]
fn channels_x5(
    plan: AsmPlan,
    wide: &[Group],
    (filter, spare): (&[i8], &mut [i8]),
    patch: usize,
    table: &[Entry],
    out: &mut [i8],
) -> bool {
    if !plan.fits(wide, filter, patch, table, out, PIXELS) {
        return false;
    }
    #[cfg(not(all(target_arch = "arm", target_feature = "dsp")))]
    let _ = (plan, spare);
    #[cfg(all(target_arch = "arm", target_feature = "dsp"))]
    {
        let AsmPlan { groups, rewind, channels: inside } = plan;
        let channels = table.len();
        let filter_end = filter.as_ptr().wrapping_add(inside * patch);
        // SAFETY: every access stays inside the slices checked above. Per channel `o` (exactly
        // `plan.channels` iterations: the loop ends when the weight pointer, advancing 4 bytes per
        // step and back by `rewind` after each row, reaches the end of their `inside * patch`
        // bytes) it reads `groups` steps of 4 weight bytes (inside `filter`, see `AsmPlan`; LDR
        // may be unaligned on the Cortex-M4) and of 40 bytes from
        // `wide` (word-aligned `[u32; 10]`, as LDM/LDRD need; `groups <= wide.len()`), one 16-byte
        // `table` entry (word-aligned), and writes `out[j * channels + o]` for `j < 5` (`out` holds
        // `5 * channels` bytes). r6 and r7 (LLVM's base and frame pointers, not usable as operands)
        // are pushed first and restored last, and the loop state lives in 32 more bytes below the
        // stack pointer, which is restored. All other registers it changes are declared. A patch
        // of whole groups (`rewind` 0, the common case) runs the loop without the step back.
        let w_ptr = wide.as_ptr();
        if rewind == 0 {
            let (o, t, f) = (out.as_mut_ptr(), table.as_ptr(), filter.as_ptr());
            unsafe {
                x5_loop!(w_ptr, groups, o, channels, filter_end, t, f, rewind);
            }
            return true;
        }
        // Segments of channels: first the `inside` ones, read from `filter`; then each later
        // one alone, its weights padded with zeros to whole groups in `spare` (where the step
        // back after its row lands at its end).
        let mut segment = Some((table.as_ptr(), out.as_mut_ptr(), filter.as_ptr(), filter_end));
        let mut next = inside;
        while let Some((t, out_at, f, end)) = segment {
            // SAFETY: as above; for a later channel `o` alone, its `groups` steps of 4 weight
            // bytes read `spare` (at least `4 * groups` bytes, the loop ends `rewind` before
            // their end), its table entry is `table[o]`, and it writes `out[j * channels + o]`
            // for `j < 5` (`out` holds `5 * channels` bytes, `o < channels`).
            unsafe {
                x5_loop!(
                    w_ptr,
                    groups,
                    out_at,
                    channels,
                    end,
                    t,
                    f,
                    rewind,
                    "ldr r12, [sp, #24]",
                    "sub r11, r11, r12"
                );
            }
            segment = None;
            if next < channels {
                let o = next;
                next += 1;
                let (Some(w), Some(padded)) =
                    (filter.get(o * patch..(o + 1) * patch), spare.get_mut(..4 * groups))
                else {
                    channels_of::<true>(wide, filter, patch, table, out, o, (-128, 127));
                    break;
                };
                let (Some(entry), Some(first)) = (table.get(o..), out.get_mut(o..)) else {
                    break;
                };
                let (head, tail) = padded.split_at_mut(patch.min(4 * groups));
                copy_run(head, w);
                fill_run(tail, 0);
                let (f, end) = (padded.as_ptr(), padded.as_ptr().wrapping_add(patch));
                segment = Some((entry.as_ptr(), first.as_mut_ptr(), f, end));
            }
        }
    }
    true
}
