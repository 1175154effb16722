//! CONV_2D's packed path: four output pixels per pass over each output channel's weights, four
//! input values per step, with the DSP instructions of [`dsp`](super::dsp).
//!
//! For each group of four output pixels the input patches (the `kh x kw x in_channels` values
//! each pixel's window sees, padding filled with the input zero point) are gathered once, offset
//! by `-zero_point` and widened to 16-bit lanes in scratch memory, interleaved so that one step
//! reads two pixels' four values with one LDM. Every output channel then runs over that buffer
//! and its weight row (OHWI: one contiguous row per output channel, read straight from the
//! model): per step, 16 multiply-adds in 8 SMLADs, 2 LDMs, 1 load and 2 SXTB16 (13 registers:
//! what is left with the frame pointer reserved). Accumulators are rescaled with
//! [`ChannelRescale`], prepared once per call into a per-channel table in scratch together with
//! the bias.
//!
//! It applies when every output channel has a [`ChannelRescale`] and an accumulator that cannot
//! reach `2^30` (see [`accumulator_fits`]), the input zero point is an int8 value and the
//! convolution has one group; the caller falls back to the portable kernel otherwise (and when
//! the scratch is too short). Results are bit-identical to the portable kernel.

use super::conv::{Conv2d, Window};
use super::rescale::{accumulator_fits, ChannelRescale};
use super::{bias_at, dsp, word, I32Le, Requantize};

/// Bytes of scratch [`conv`] needs: the channel table (16 bytes per output channel), the
/// widened patches of [`PIXELS`] pixels (8 bytes per 4 values per pixel), one raw patch
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
const PIXELS: usize = 4;

/// Four consecutive patch values of the [`PIXELS`] pixels, each as two lane pairs (values 0 and
/// 2, values 1 and 3), pixel after pixel.
type Group = [u32; 2 * PIXELS];

/// The operand shapes of one call (NHWC input and output, OHWI weights).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shapes {
    /// `[batch, height, width, channels]`.
    pub input: [usize; 4],
    /// `[out_channels, height, width, in_channels]`.
    pub filter: [usize; 4],
    /// `[batch, out_height, out_width, out_channels]`.
    pub output: [usize; 4],
}

/// Runs `k` on the packed path if it applies and `scratch` holds
/// [`scratch_bytes`](self::scratch_bytes) bytes; `false` (nothing written) if not. Lengths
/// must agree with the shapes ([`Conv2d::eval_with_scratch`] checks them first); if they do
/// not, the output is unspecified but nothing panics.
#[allow(clippy::too_many_arguments)]
pub fn conv(
    k: &Conv2d,
    input: &[i8],
    filter: &[i8],
    bias: Option<I32Le<'_>>,
    requantize: Requantize<'_>,
    output: &mut [i8],
    shapes: Shapes,
    scratch: &mut [u8],
) -> bool {
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
    let raw: &mut [i8] = bytemuck::cast_slice_mut(raw);
    let Some(raw) = raw.get_mut(..patch) else {
        return false;
    };
    for (o, entry) in table.iter_mut().enumerate() {
        let b = bias_at(bias, o);
        let Some(r) = ChannelRescale::new(requantize.get(o), k.output_offset) else {
            return false;
        };
        if !accumulator_fits(b, patch) {
            return false;
        }
        *entry = [r.multiplier as u32, r.round as u32, r.shift, b.wrapping_mul(2) as u32];
    }
    let geometry = Geometry {
        window: k.window,
        in_h,
        in_w,
        depth,
        kw,
        pad: (-k.input_offset) as i8,
        offset: dsp::splat(k.input_offset),
    };
    let pixels = batches * out_h * out_w;
    let (lo, hi) = (k.activation_min, k.activation_max);
    let full_range = lo <= -128 && hi >= 127;
    let at = |p: usize| (p / (out_h * out_w), (p / out_w) % out_h, p % out_w);
    for (q, out) in output.chunks_mut(PIXELS * channels).enumerate() {
        let first = q * PIXELS;
        for j in 0..PIXELS.min(pixels - first) {
            geometry.widen(input, at(first + j), raw, wide, 2 * j);
        }
        if full_range {
            channels_of::<true>(wide, filter, patch, table, out, lo, hi);
        } else {
            channels_of::<false>(wide, filter, patch, table, out, lo, hi);
        }
    }
    true
}

/// Where patches come from.
struct Geometry {
    window: Window,
    in_h: usize,
    in_w: usize,
    depth: usize,
    kw: usize,
    /// The raw value that widens to 0 (the input zero point).
    pad: i8,
    /// `(-zero_point, -zero_point)`.
    offset: u32,
}

impl Geometry {
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
            let pixel = self.window.in_y(y, 0, self.in_h).zip(self.window.in_x(x, 0, self.in_w));
            if let Some(src) = pixel.and_then(|(iy, ix)| {
                let at = ((b * self.in_h + iy) * self.in_w + ix) * d;
                input.get(at..at + d)
            }) {
                self.spread(src, wide, lane);
                return;
            }
        }
        for (ky, row) in raw.chunks_exact_mut(row_len).enumerate() {
            let Some(iy) = self.window.in_y(y, ky, self.in_h) else {
                row.fill(self.pad);
                continue;
            };
            let line = (b * self.in_h + iy) * self.in_w;
            for (kx, dst) in row.chunks_exact_mut(d).enumerate() {
                let src = self
                    .window
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

/// Runs every output channel over the widened patches of up to [`PIXELS`] pixels, writing
/// `out` (`pixels x channels`, the last pass may hold fewer pixels).
#[inline(never)]
fn channels_of<const FULL_RANGE: bool>(
    wide: &[Group],
    filter: &[i8],
    patch: usize,
    table: &[Entry],
    out: &mut [i8],
    lo: i32,
    hi: i32,
) {
    let channels = table.len();
    let finish = |acc: i32, r: ChannelRescale| {
        let v = r.apply_doubled(acc);
        if FULL_RANGE {
            v.clamp(-128, 127) as i8
        } else {
            v.max(lo).min(hi) as i8
        }
    };
    let rescale = |e: &Entry| ChannelRescale {
        multiplier: e[0] as i32,
        round: e[1] as i32,
        shift: e[2] & 31,
    };
    if FULL_RANGE && channels_x4(wide, filter, patch, table, out) {
        return;
    }
    let rows = filter.chunks_exact(patch).zip(table);
    if out.len() == PIXELS * channels {
        let (o0, rest) = out.split_at_mut(channels);
        let (o1, rest) = rest.split_at_mut(channels);
        let (o2, o3) = rest.split_at_mut(channels);
        let outs = o0.iter_mut().zip(o1.iter_mut()).zip(o2.iter_mut().zip(o3.iter_mut()));
        for ((w, e), ((v0, v1), (v2, v3))) in rows.zip(outs) {
            let [a0, a1, a2, a3] = mac1x4(wide, w, e[3] as i32);
            let r = rescale(e);
            *v0 = finish(a0, r);
            *v1 = finish(a1, r);
            *v2 = finish(a2, r);
            *v3 = finish(a3, r);
        }
    } else {
        for (o, (w, e)) in rows.enumerate() {
            let acc = mac1x4(wide, w, e[3] as i32);
            for (j, &a) in acc.iter().enumerate() {
                if let Some(v) = out.get_mut(j * channels + o) {
                    *v = finish(a, rescale(e));
                }
            }
        }
    }
}

/// The dot products of one weight row with the widened patches of four pixels, plus `init`
/// (the channel's bias).
#[inline(always)]
fn mac1x4(wide: &[Group], w: &[i8], init: i32) -> [i32; 4] {
    let (w4, w_tail) = w.as_chunks::<4>();
    let mut acc = mac_groups(wide, w4, [init; 4]);
    if let (Some(x), false) = (wide.get(w4.len()), w_tail.is_empty()) {
        let mut t = [0i8; 4];
        t[..w_tail.len()].copy_from_slice(w_tail);
        acc = mac_groups(core::slice::from_ref(x), &[t], acc);
    }
    acc
}

/// [`mac1x4`]'s loop over whole groups of four weights (portable form: the instructions'
/// emulation, the same steps as the Cortex-M4 loop).
#[cfg(not(all(target_arch = "arm", target_feature = "dsp")))]
#[inline(always)]
fn mac_groups(wide: &[Group], w4: &[[i8; 4]], acc: [i32; 4]) -> [i32; 4] {
    let [mut a0, mut a1, mut a2, mut a3] = acc;
    for (x, c) in wide.iter().zip(w4) {
        let v = word(c);
        let (e, o) = (dsp::sxtb16(v), dsp::sxtb16_ror8(v));
        a0 = dsp::smlad(x[1], o, dsp::smlad(x[0], e, a0));
        a1 = dsp::smlad(x[3], o, dsp::smlad(x[2], e, a1));
        a2 = dsp::smlad(x[5], o, dsp::smlad(x[4], e, a2));
        a3 = dsp::smlad(x[7], o, dsp::smlad(x[6], e, a3));
    }
    [a0, a1, a2, a3]
}

/// [`mac1x4`]'s loop over whole groups of four weights on the Cortex-M4: per group one load
/// of four weights, two SXTB16, four LDRD of the pixels' lane pairs and eight SMLAD (16
/// multiply-adds in 17 instructions with the loop), in 11 registers.
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
#[inline(always)]
fn mac_groups(wide: &[Group], w4: &[[i8; 4]], acc: [i32; 4]) -> [i32; 4] {
    let n = wide.len().min(w4.len());
    let [mut a0, mut a1, mut a2, mut a3] = acc;
    if n == 0 {
        return acc;
    }
    // SAFETY: the loop runs `n >= 1` times (count down to zero). It reads `n * 4` bytes from
    // `w4` (`n <= w4.len()` groups of 4 bytes; LDR may be unaligned on the Cortex-M4) and
    // `n * 32` bytes from `wide` (`n <= wide.len()` groups of 8 words, word-aligned as LDRD
    // requires), nothing else; it writes only the listed registers and the condition flags.
    unsafe {
        core::arch::asm!(
            "2:",
            "ldr {w}, [{wp}], #4",
            "ldrd {x}, {y}, [{xp}], #8",
            "sxtb16 {e}, {w}",
            "sxtb16 {w}, {w}, ror #8",
            "smlad {a0}, {x}, {e}, {a0}",
            "smlad {a0}, {y}, {w}, {a0}",
            "ldrd {x}, {y}, [{xp}], #8",
            "smlad {a1}, {x}, {e}, {a1}",
            "smlad {a1}, {y}, {w}, {a1}",
            "ldrd {x}, {y}, [{xp}], #8",
            "smlad {a2}, {x}, {e}, {a2}",
            "smlad {a2}, {y}, {w}, {a2}",
            "ldrd {x}, {y}, [{xp}], #8",
            "smlad {a3}, {x}, {e}, {a3}",
            "smlad {a3}, {y}, {w}, {a3}",
            "subs {n}, {n}, #1",
            "bne 2b",
            wp = inout(reg) w4.as_ptr() => _,
            xp = inout(reg) wide.as_ptr() => _,
            n = inout(reg) n => _,
            a0 = inout(reg) a0,
            a1 = inout(reg) a1,
            a2 = inout(reg) a2,
            a3 = inout(reg) a3,
            w = out(reg) _,
            e = out(reg) _,
            x = out(reg) _,
            y = out(reg) _,
            options(nostack, readonly, pure),
        );
    }
    [a0, a1, a2, a3]
}

/// [`channels_of`] for four pixels, full int8 output range and whole groups, entirely in one
/// Cortex-M4 loop (weights, lanes, rescale and stores); `false` if it does not apply (other
/// targets run the portable loops instead).
#[cfg(not(all(target_arch = "arm", target_feature = "dsp")))]
#[inline(always)]
fn channels_x4(_: &[Group], _: &[i8], _: usize, _: &[Entry], _: &mut [i8]) -> bool {
    false
}

/// [`channels_of`] for four pixels, full int8 output range and whole groups, entirely in one
/// Cortex-M4 loop: per channel the bias, `groups` steps of 16 multiply-adds (as in
/// [`mac_groups`]), then the four SMMULR rescales, SSAT and byte stores; `false` if it does
/// not apply.
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
#[inline(always)]
fn channels_x4(
    wide: &[Group],
    filter: &[i8],
    patch: usize,
    table: &[Entry],
    out: &mut [i8],
) -> bool {
    let channels = table.len();
    let groups = patch / 4;
    if channels == 0
        || groups == 0
        || !patch.is_multiple_of(4)
        || wide.len() < groups
        || Some(filter.len()) != channels.checked_mul(patch)
        || Some(out.len()) != channels.checked_mul(PIXELS)
    {
        return false;
    }
    let filter_end = filter.as_ptr_range().end;
    // SAFETY: every access stays inside the slices checked above. Per channel `o` (exactly
    // `channels` iterations: the loop ends when the weight pointer, advancing 4 bytes per step,
    // reaches the end of `filter`, which holds `channels * groups` steps) it reads `groups`
    // steps of 4 weight bytes (LDR may be unaligned on the Cortex-M4) and of 32 bytes from
    // `wide` (word-aligned `[u32; 8]`, as LDRD needs; `groups <= wide.len()`), one 16-byte
    // `table` entry (word-aligned), and writes `out[j * channels + o]` for `j < 4` (`out` holds
    // `4 * channels` bytes). The 24 bytes below the stack pointer hold the loop's state and
    // the stack pointer is restored. All other registers it changes are declared.
    unsafe {
        core::arch::asm!(
            "sub sp, sp, #24",
            "str r0, [sp, #0]",
            "str r1, [sp, #4]",
            "str r2, [sp, #8]",
            "str r3, [sp, #12]",
            "str r4, [sp, #16]",
            "3:",
            "ldr r0, [lr, #12]",
            "mov r1, r0",
            "mov r2, r0",
            "mov r3, r0",
            "ldr r10, [sp, #0]",
            "ldr r12, [sp, #4]",
            "2:",
            "ldr r4, [r11], #4",
            "ldrd r8, r9, [r10], #8",
            "sxtb16 r5, r4",
            "sxtb16 r4, r4, ror #8",
            "smlad r0, r8, r5, r0",
            "smlad r0, r9, r4, r0",
            "ldrd r8, r9, [r10], #8",
            "smlad r1, r8, r5, r1",
            "smlad r1, r9, r4, r1",
            "ldrd r8, r9, [r10], #8",
            "smlad r2, r8, r5, r2",
            "smlad r2, r9, r4, r2",
            "ldrd r8, r9, [r10], #8",
            "smlad r3, r8, r5, r3",
            "smlad r3, r9, r4, r3",
            "subs r12, r12, #1",
            "bne 2b",
            "ldm lr!, {{r4, r5, r8, r9}}",
            "ldr r10, [sp, #8]",
            "ldr r12, [sp, #12]",
            "smmulr r0, r0, r4",
            "add r9, r0, r5",
            "sub r9, r9, r0, lsr #31",
            "asr r9, r9, r8",
            "ssat r9, #8, r9",
            "strb r9, [r10]",
            "smmulr r1, r1, r4",
            "add r9, r1, r5",
            "sub r9, r9, r1, lsr #31",
            "asr r9, r9, r8",
            "ssat r9, #8, r9",
            "strb r9, [r10, r12]",
            "add r0, r10, r12, lsl #1",
            "smmulr r2, r2, r4",
            "add r9, r2, r5",
            "sub r9, r9, r2, lsr #31",
            "asr r9, r9, r8",
            "ssat r9, #8, r9",
            "strb r9, [r0]",
            "smmulr r3, r3, r4",
            "add r9, r3, r5",
            "sub r9, r9, r3, lsr #31",
            "asr r9, r9, r8",
            "ssat r9, #8, r9",
            "strb r9, [r0, r12]",
            "add r10, r10, #1",
            "str r10, [sp, #8]",
            "ldr r12, [sp, #16]",
            "cmp r11, r12",
            "bne 3b",
            "add sp, sp, #24",
            inout("r0") wide.as_ptr() => _,
            inout("r1") groups => _,
            inout("r2") out.as_mut_ptr() => _,
            inout("r3") channels => _,
            inout("r4") filter_end => _,
            inout("r11") filter.as_ptr() => _,
            inout("lr") table.as_ptr() => _,
            out("r5") _,
            out("r8") _,
            out("r9") _,
            out("r10") _,
            out("r12") _,
        );
    }
    true
}
