//! DEPTHWISE_CONV_2D's packed path for a single input channel (every output channel reads the
//! same input channel, as in a first layer over a spectrogram or a grayscale image), windows up
//! to 8 wide, dilation 1, any stride.
//!
//! With one input channel, a window row is a run of consecutive input bytes: one 32-bit load
//! and two SXTAB16 turn four of them into the pairs of taps `(0, 2)` and `(1, 3)` (offset by
//! the input zero point), and one SMLAD multiplies each pair by the matching pair of weights.
//! Output channels are taken two at a time: their weights, rearranged into those pairs, fill
//! `16 * kh` bytes of scratch per group of four columns; each input pair then serves both
//! channels. Pixels whose window sticks out left or right of the input read a copy of their
//! window padded with the zero point instead (rows outside the input are skipped). Small
//! scratch on purpose: keyword-spotting models run this in a few kilobytes of arena.
//!
//! It applies with one input channel, an even number of output channels, windows at most 8
//! wide, dilation 1 and an int8 input zero point; the caller falls back otherwise. A channel
//! whose multiplier has no [`ChannelRescale`] (or whose bias could take the accumulator to
//! `2^30`) gives its constant output if its weights are all zero, else is rescaled alone with
//! the reference arithmetic (its pair of channels then takes the per-pixel loop). Results are
//! bit-identical to the portable kernel.

use super::{DepthwiseConv2d, DepthwiseOperands};
use crate::engine::kernels::conv::Shapes;
use crate::engine::kernels::rescale::{bias_limit, ChannelRescale};
use crate::engine::kernels::{bias_at, dsp, word};

/// Columns per group (one 32-bit load of input bytes).
const GROUP: usize = 4;

/// Groups of four window columns, if the shapes suit this path.
fn groups(k: &DepthwiseConv2d, shapes: &Shapes) -> Option<usize> {
    let [_, _, _, in_c] = shapes.input;
    let [one, kh, kw, channels] = shapes.filter;
    let w = k.geometry;
    let ok = one == 1
        && in_c == 1
        && kh > 0
        && (1..=2 * GROUP).contains(&kw)
        && channels > 0
        && channels.is_multiple_of(2)
        && (w.dilation_h, w.dilation_w) == (1, 1);
    ok.then(|| kw.div_ceil(GROUP))
}

/// Bytes of scratch [`depthwise`] needs (0 if its path never applies to these shapes): the
/// paired weights of two channels (`16 * kh` per group) and one padded window, plus alignment.
pub fn scratch_bytes(k: &DepthwiseConv2d, shapes: Shapes) -> usize {
    let kh = shapes.filter[1];
    groups(k, &shapes).map_or(0, |g| kh.saturating_mul(g).saturating_mul(16 + GROUP) + 4)
}

/// True if this kernel suits these shapes (the parameters may still need the reference: see
/// [`depthwise`]).
pub fn applies(k: &DepthwiseConv2d, shapes: Shapes) -> bool {
    groups(k, &shapes).is_some() && k.depth_multiplier == shapes.filter[3]
}

/// Runs `k` on this path if it applies and `scratch` holds [`DepthwiseConv2d::scratch_bytes`] bytes; `false`
/// (nothing written) if not. Lengths must agree with the shapes (the caller checks them first);
/// if they do not, the output is unspecified but nothing panics.
#[inline(never)]
pub fn depthwise(k: &DepthwiseConv2d, ops: &mut DepthwiseOperands<'_>, scratch: &mut [u8]) -> bool {
    let DepthwiseOperands { input, filter, bias, requantize, shapes, .. } = *ops;
    let output = &mut *ops.output;
    let Some(g) = groups(k, &shapes) else {
        return false;
    };
    let [batches, in_h, in_w, _] = shapes.input;
    let [_, kh, kw, channels] = shapes.filter;
    let [_, out_h, out_w, _] = shapes.output;
    if k.depth_multiplier != channels || !(-128..=127).contains(&-k.input_offset) {
        return false;
    }
    let limit = bias_limit(kh * kw);
    let clamp = (k.activation_min, k.activation_max);
    // Each channel's rescale and bias (a channel of zero weights: its constant output).
    let rescale = |o: usize| {
        let zero = || (0..kh * kw).all(|t| filter.get(t * channels + o).is_none_or(|&w| w == 0));
        super::channel(requantize.get(o), k.output_offset, bias_at(bias, o), limit, clamp, zero)
    };
    let (lo, hi) = (k.activation_min, k.activation_max);
    // The Cortex-M4 row loops: full int8 range, SMMLAR rounding (multipliers above 2^30).
    // A channel without a fast rescale is rescaled alone with the reference arithmetic from its
    // accumulator (doubled by `mac`: exact while `kh * kw` products stay below `2^30`).
    let mut native = lo <= -128 && hi >= 127;
    for o in 0..channels {
        match rescale(o) {
            Some((r, _)) => native &= r.native(),
            None if limit == 0 => return false,
            None => {}
        }
    }
    let (_, words, _) = bytemuck::pod_align_to_mut::<u8, u32>(scratch);
    let Some(words) = words.get_mut(..kh * g * (4 + 1)) else {
        return false;
    };
    let (pairs, window) = words.split_at_mut(kh * g * 4);
    let window: &mut [i8] = bytemuck::cast_slice_mut(window);
    let row_len = g * GROUP;
    let pad = (-k.input_offset) as i8;
    let offset = dsp::splat(k.input_offset);
    let win = k.geometry;
    // Output columns whose window lies inside the input: `x0..x1`.
    let x0 = win.pad_w.div_ceil(win.stride_w.max(1)).min(out_w);
    let x1 = (in_w + win.pad_w)
        .checked_sub(row_len)
        .map_or(0, |last| last / win.stride_w.max(1) + 1)
        .clamp(x0, out_w);
    for c in (0..channels).step_by(2) {
        // Weights of channels c and c + 1 as pairs of taps (j, j + 2), j = 0, 1, per group:
        // [row][group][channel][j].
        for (i, p) in pairs.iter_mut().enumerate() {
            let (j, ch, group, ky) = (i % 2, (i / 2) % 2, (i / 4) % g, i / (4 * g));
            let tap = |x: usize| {
                if x < kw {
                    filter.get((ky * kw + x) * channels + c + ch).copied().unwrap_or(0)
                } else {
                    0
                }
            };
            let x = group * GROUP + j;
            *p = (tap(x) as i16 as u16 as u32) | ((tap(x + 2) as i16 as u16 as u32) << 16);
        }
        // Each channel's fast rescale and bias; for a channel without one, the accumulator
        // starts from 0 and the reference arithmetic rescales it (`exact`).
        let channel =
            |o: usize| rescale(o).map_or(((ChannelRescale::default(), 0), true), |f| (f, false));
        let (((r0, b0), exact0), ((r1, b1), exact1)) = (channel(c), channel(c + 1));
        let exact = exact0 || exact1;
        // The biases with the input offset folded in, for pixels whose window rows are all of
        // the kernel's rows (the usual case) and lies inside the input across.
        let whole = folded([b0, b1], k.input_offset, weight_sums(pairs, g, 0..kh));
        for b in 0..batches {
            for oy in 0..out_h {
                let mut rows = (0..kh).filter(|&ky| win.in_y(oy, ky, in_h).is_some());
                let Some(ky0) = rows.next() else {
                    continue;
                };
                let ky1 = rows.next_back().unwrap_or(ky0) + 1;
                let iy0 = (oy * win.stride_h + ky0).saturating_sub(win.pad_h);
                let rows = ky1 - ky0;
                let line0 = (b * in_h + iy0) * in_w;
                let w = pairs.get(ky0 * g * 4..).unwrap_or(&[]);
                let out_row = (b * out_h + oy) * out_w * channels + c;
                let run = Run {
                    src: input.get(line0 + (x0 * win.stride_w).saturating_sub(win.pad_w)..),
                    step: win.stride_w,
                    pixels: x1 - x0,
                    rows,
                    row_stride: in_w,
                    pairs: w,
                    offset,
                    out: output.get_mut(out_row + x0 * channels..),
                    out_stride: channels,
                    params: [
                        b0,
                        b1,
                        r0.multiplier,
                        r0.round,
                        r0.shift as i32,
                        r1.multiplier,
                        r1.round,
                        r1.shift as i32,
                    ],
                };
                let done = native && !exact && g == 2 && {
                    let sums = || weight_sums(pairs, g, ky0..ky1);
                    let fold = if (ky0, ky1) == (0, kh) {
                        whole
                    } else {
                        folded([b0, b1], k.input_offset, sums())
                    };
                    run.native(fold)
                };
                let columns = if done { (0..x0).chain(x1..out_w) } else { (0..out_w).chain(0..0) };
                for ox in columns {
                    let x = ox * win.stride_w;
                    let shift = Shift::of(x, win.pad_w, in_w, row_len);
                    let (a0, a1) = match shift {
                        Some(Shift::None(col)) => {
                            let src = input.get(line0 + col..).unwrap_or(&[]);
                            mac(src, in_w, rows, g, w, offset, [b0, b1])
                        }
                        Some(shift) if g == 2 => {
                            let src = input.get(line0..).unwrap_or(&[]);
                            // The window's rows, shifted into place, then the usual loop.
                            let rows_of = window.get_mut(..rows * row_len).unwrap_or(&mut []);
                            edge_window(src, in_w, shift, pad, rows_of);
                            mac(&window[..], row_len, rows, g, w, offset, [b0, b1])
                        }
                        _ => {
                            // Copy the window, the zero point standing in for the padding:
                            // window column j reads input column x + j - pad_w.
                            let lines = input.get(line0..).unwrap_or(&[]);
                            for (r, dst) in window.chunks_exact_mut(row_len).take(rows).enumerate()
                            {
                                for (j, d) in dst.iter_mut().enumerate() {
                                    let col = (x + j).checked_sub(win.pad_w).filter(|&c| c < in_w);
                                    *d = col
                                        .and_then(|c| lines.get(r * in_w + c))
                                        .copied()
                                        .unwrap_or(pad);
                                }
                            }
                            mac(&window[..], row_len, rows, g, w, offset, [b0, b1])
                        }
                    };
                    if let Some([o0, o1, ..]) = output.get_mut(out_row + ox * channels..) {
                        *o0 = r0.apply_doubled(a0).max(lo).min(hi) as i8;
                        *o1 = r1.apply_doubled(a1).max(lo).min(hi) as i8;
                        if exact {
                            // `mac` doubled the accumulators (exact: `limit > 0`).
                            let value = |o: usize, a: i32| {
                                let (m, bias) = (requantize.get(o), bias_at(bias, o));
                                super::exact_value(m, bias, a >> 1, k.output_offset, clamp)
                            };
                            if exact0 {
                                *o0 = value(c, a0);
                            }
                            if exact1 {
                                *o1 = value(c + 1, a1);
                            }
                        }
                    }
                }
            }
        }
    }
    true
}

/// The two channels' doubled accumulators of one pixel: `rows` window rows of `g` groups each,
/// starting at `src` with `stride` bytes between rows; `w` holds the paired weights from the
/// first of those rows on; `init` the biases. Portable form (the instructions'
/// emulation, the same steps as the Cortex-M4 loop).
#[cfg(not(all(target_arch = "arm", target_feature = "dsp")))]
#[inline(always)]
fn mac(
    src: &[i8],
    stride: usize,
    rows: usize,
    g: usize,
    w: &[u32],
    offset: u32,
    init: [i32; 2],
) -> (i32, i32) {
    let [mut a0, mut a1] = init;
    let mut pairs = w.chunks_exact(4);
    for r in 0..rows {
        for group in 0..g {
            let at = r * stride + group * GROUP;
            let v = src.get(at..at + GROUP).and_then(|q| q.first_chunk::<4>()).map_or(0, word);
            let (x02, x13) = (dsp::sxtab16(offset, v), dsp::sxtab16_ror8(offset, v));
            let p = pairs.next().unwrap_or(&[0; 4]);
            a0 = dsp::smlad(x13, p[1], dsp::smlad(x02, p[0], a0));
            a1 = dsp::smlad(x13, p[3], dsp::smlad(x02, p[2], a1));
        }
    }
    (a0.wrapping_add(a0), a1.wrapping_add(a1))
}

/// [`mac`] on the Cortex-M4 (groups of 1 or 2): per window row 1 or 2 loads and 2 or 4
/// SXTAB16 shared by both channels, 2 or 4 LDRD of paired weights, 4 or 8 SMLAD.
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
#[inline(always)]
fn mac(
    src: &[i8],
    stride: usize,
    rows: usize,
    g: usize,
    w: &[u32],
    offset: u32,
    init: [i32; 2],
) -> (i32, i32) {
    let [a0, a1] = init;
    let reach =
        rows.checked_sub(1).and_then(|r| r.checked_mul(stride)).and_then(|v| v.checked_add(4 * g));
    if rows == 0
        || !(1..=2).contains(&g)
        || reach.is_none_or(|r| r > src.len())
        || w.len() < rows * g * 4
    {
        return (a0.wrapping_add(a0), a1.wrapping_add(a1));
    }
    let (mut a0, mut a1) = (a0, a1);
    // One group: 4 input bytes in `{v}` widened to two pairs (offset added), times each
    // channel's paired weights (two LDRD, four SMLAD).
    macro_rules! group {
        () => {
            concat!(
                "sxtab16 {x}, {off}, {v}, ror #8\n",
                "sxtab16 {v}, {off}, {v}\n",
                "ldrd {w0}, {w1}, [{wp}], #8\n",
                "smlad {a0}, {v}, {w0}, {a0}\n",
                "smlad {a0}, {x}, {w1}, {a0}\n",
                "ldrd {w0}, {w1}, [{wp}], #8\n",
                "smlad {a1}, {v}, {w0}, {a1}\n",
                "smlad {a1}, {x}, {w1}, {a1}",
            )
        };
    }
    // The loop over the window rows around `$row` (a row's loads and groups).
    macro_rules! rows_loop {
        ($($row:expr),+ $(,)?) => {
            core::arch::asm!(
                "2:",
                $($row,)+
                "subs {n}, {n}, #1",
                "bne 2b",
                p = inout(reg) src.as_ptr() => _,
                stride = in(reg) stride,
                n = inout(reg) rows => _,
                wp = inout(reg) w.as_ptr() => _,
                off = in(reg) offset,
                a0 = inout(reg) a0,
                a1 = inout(reg) a1,
                v = out(reg) _,
                x = out(reg) _,
                w0 = out(reg) _,
                w1 = out(reg) _,
                options(nostack, readonly, pure),
            )
        };
    }
    // SAFETY: the loop runs `rows >= 1` times; row `r` reads the `4 * g` bytes at
    // `src[r * stride..]` (`(rows - 1) * stride + 4 * g <= src.len()`; LDR may be unaligned on
    // the Cortex-M4) and `4 * g` words of `w` (`rows * g * 4 <= w.len()`, word-aligned for
    // LDRD). Only the listed registers and the flags change.
    unsafe {
        if g == 1 {
            rows_loop!("ldr {v}, [{p}]", "add {p}, {p}, {stride}", group!());
        } else {
            rows_loop!(
                "ldr {v}, [{p}]",
                group!(),
                "ldr {v}, [{p}, #4]",
                "add {p}, {p}, {stride}",
                group!(),
            );
        }
    }
    (a0.wrapping_add(a0), a1.wrapping_add(a1))
}

/// A run of output pixels of one row whose windows lie inside the input, for two channels.
#[cfg_attr(not(all(target_arch = "arm", target_feature = "dsp")), allow(dead_code))]
struct Run<'a, 'o> {
    /// The first pixel's window (top-left input byte onwards).
    src: Option<&'a [i8]>,
    /// Input bytes from one pixel's window to the next.
    step: usize,
    pixels: usize,
    /// Window rows read per pixel.
    rows: usize,
    /// Input bytes from one row to the next.
    row_stride: usize,
    /// Paired weights from the first window row on.
    pairs: &'a [u32],
    offset: u32,
    /// The first pixel's output (channel `c` onwards).
    out: Option<&'o mut [i8]>,
    out_stride: usize,
    /// Biases, then each channel's multiplier, rounding constant and shift.
    params: [i32; 8],
}

/// Each of the two channels' sum of weights over window rows `rows` (`pairs` as [`depthwise`]
/// lays them out: `[row][group][channel][j]`, two 16-bit taps per word).
fn weight_sums(pairs: &[u32], g: usize, rows: core::ops::Range<usize>) -> [i32; 2] {
    let words = g * 4;
    let mut sums = [0i32; 2];
    let of = pairs.get(rows.start * words..rows.end * words).unwrap_or(&[]);
    for (i, &p) in of.iter().enumerate() {
        let s = &mut sums[(i / 2) % 2];
        *s = s.wrapping_add(p as u16 as i16 as i32).wrapping_add((p >> 16) as u16 as i16 as i32);
    }
    sums
}

/// `bias + offset * sum of weights` per channel: the accumulator a window inside the input
/// starts from when its inputs are taken without the offset (`sum w * (x + offset)`).
fn folded(bias: [i32; 2], offset: i32, sums: [i32; 2]) -> [i32; 2] {
    [0, 1].map(|c| bias[c].wrapping_add(offset.wrapping_mul(sums[c])))
}

impl Run<'_, '_> {
    /// Runs the row with the Cortex-M4 loops (two groups of four window columns, full int8
    /// range, multipliers above 2^30): two pixels per pass where the step is 2 bytes (a
    /// keyword spotter's stride; [`Run::native_pairs`], from the biases `fold` that include
    /// the input offset), then one at a time; `false` if it does not apply (other targets run
    /// the portable loops instead).
    #[cfg(not(all(target_arch = "arm", target_feature = "dsp")))]
    fn native(self, fold: [i32; 2]) -> bool {
        let _ = fold;
        false
    }

    /// See the portable declaration.
    #[cfg(all(target_arch = "arm", target_feature = "dsp"))]
    fn native(mut self, fold: [i32; 2]) -> bool {
        // Other steps: one pixel at a time (a second copy of the pair loop would cost flash
        // in every firmware for shapes no benchmark model has).
        let done = if self.step == 2 { self.native_pairs::<2>(fold) } else { Some(0) };
        let Some(done) = done else {
            return false;
        };
        if done == self.pixels {
            return true;
        }
        let (src, out) = (self.src.take(), self.out.take());
        let rest = Run {
            src: src.and_then(|s| s.get(done * self.step..)),
            out: out.and_then(|o| o.get_mut(done * self.out_stride..)),
            pixels: self.pixels - done,
            ..self
        };
        rest.native_one()
    }

    /// The first `2 * (pixels / 2)` pixels, two per pass (`STEP` bytes apart): each window
    /// row's input words and each pair of weights are loaded once for both pixels; the inputs
    /// are widened without the offset (SXTB16), which `fold` carries instead. `Some(pixels
    /// done)`, `None` if the operands do not fit the loop (then nothing was written).
    #[cfg(all(target_arch = "arm", target_feature = "dsp"))]
    fn native_pairs<const STEP: usize>(&mut self, fold: [i32; 2]) -> Option<usize> {
        let (Some(src), Some(out)) = (self.src.as_deref(), self.out.as_deref_mut()) else {
            return None;
        };
        let (n, rows) = (self.pixels / 2 * 2, self.rows);
        if n == 0 {
            return Some(0);
        }
        let last_read = (n - 1)
            .checked_mul(STEP)
            .zip(rows.checked_sub(1).and_then(|r| r.checked_mul(self.row_stride)))
            .and_then(|(a, b)| a.checked_add(b)?.checked_add(8));
        let last_write = (n - 1).checked_mul(self.out_stride).and_then(|v| v.checked_add(2));
        if rows == 0
            || rows > 1 << 16
            || self.row_stride >= 1 << 16
            || last_read.is_none_or(|r| r > src.len())
            || last_write.is_none_or(|w| w > out.len())
            || self.pairs.len() < rows * 8
        {
            return None;
        }
        let p = self.params;
        let mut frame: [u32; 15] = [
            fold[0] as u32,
            fold[1] as u32,
            (((rows - 1) << 16) | self.row_stride) as u32,
            src.as_ptr() as u32,
            self.pairs.as_ptr() as u32,
            out.as_mut_ptr() as u32,
            self.out_stride as u32,
            p[2] as u32,
            p[3] as u32,
            p[4] as u32,
            p[5] as u32,
            p[6] as u32,
            p[7] as u32,
            (2 * STEP) as u32,
            (n / 2) as u32,
        ];
        // One group of four window columns at byte `$at` of the row, for both pixels (B at
        // `$at + STEP`) and both channels (r0, r1: pixel A; r2, r3: pixel B).
        macro_rules! group {
            ($at:literal) => {
                concat!(
                    "ldr r4, [r12, #",
                    $at,
                    "]\n",
                    "ldr r8, [r12, #{b",
                    $at,
                    "}]\n",
                    "sxtb16 r5, r4, ror #8\n",
                    "sxtb16 r4, r4\n",
                    "sxtb16 r9, r8, ror #8\n",
                    "sxtb16 r8, r8\n",
                    "ldrd r10, r11, [lr], #8\n",
                    "smlad r0, r4, r10, r0\n",
                    "smlad r0, r5, r11, r0\n",
                    "smlad r2, r8, r10, r2\n",
                    "smlad r2, r9, r11, r2\n",
                    "ldrd r10, r11, [lr], #8\n",
                    "smlad r1, r4, r10, r1\n",
                    "smlad r1, r5, r11, r1\n",
                    "smlad r3, r8, r10, r3\n",
                    "smlad r3, r9, r11, r3",
                )
            };
        }
        // One value: accumulator `$a` doubled, SMMLAR with the multiplier (r10) and rounding
        // constant (r11), the sign fix, the shift (r9), SSAT, stored at `$dst`.
        macro_rules! rescale {
            ($a:literal, $dst:literal) => {
                concat!(
                    "add ",
                    $a,
                    ", ",
                    $a,
                    ", ",
                    $a,
                    "\n",
                    "smmlar r4, ",
                    $a,
                    ", r10, r11\n",
                    "sub r4, r4, ",
                    $a,
                    ", lsr #31\n",
                    "asr r4, r4, r9\n",
                    "ssat r4, #8, r4\n",
                    "strb r4, ",
                    $dst,
                )
            };
        }
        // SAFETY: checked above: pair `i < n / 2` reads, for pixels `2i` and `2i + 1`, `rows`
        // rows of 8 bytes at `src[(2i + k) * STEP + r * row_stride..]` (the last byte read is
        // below `last_read <= src.len()`; LDR may be unaligned on the Cortex-M4) and `rows * 8`
        // words of `pairs` (word-aligned for LDRD), and writes `out[(2i + k) * out_stride]` and
        // the byte after (`last_write <= out.len()`). `frame` is this function's own state. The
        // row loop counts in r7's top half (`rows - 1 < 2^16` down to 0, the row stride below
        // `2^16` in its bottom half); the pixel loop counts down from `n / 2 >= 1`. r7 (the
        // frame pointer, not an operand) is saved on the stack with the frame's address and
        // restored before the end; the stack pointer is restored. Only the listed registers
        // and the flags change.
        unsafe {
            core::arch::asm!(
                "push {{r4, r7}}",
                "4:",
                "ldr r4, [sp]",
                "ldm r4, {{r0, r1, r7, r12, lr}}",
                "mov r2, r0",
                "mov r3, r1",
                "2:",
                group!("0"),
                group!("4"),
                "uxtah r12, r12, r7",
                "subs r7, r7, #0x10000",
                "bcs 2b",
                "ldr r7, [sp]",
                "ldrd r12, lr, [r7, #20]",
                "ldrd r10, r11, [r7, #28]",
                "ldr r9, [r7, #36]",
                rescale!("r0", "[r12]"),
                rescale!("r2", "[r12, lr]"),
                "ldrd r10, r11, [r7, #40]",
                "ldr r9, [r7, #48]",
                "add r5, r12, lr",
                rescale!("r1", "[r12, #1]"),
                rescale!("r3", "[r5, #1]"),
                "add r12, r5, lr",
                "str r12, [r7, #20]",
                "ldr r12, [r7, #12]",
                "ldr r4, [r7, #52]",
                "add r12, r12, r4",
                "str r12, [r7, #12]",
                "ldr r4, [r7, #56]",
                "subs r4, r4, #1",
                "str r4, [r7, #56]",
                "bne 4b",
                "pop {{r4, r7}}",
                b0 = const STEP,
                b4 = const 4 + STEP,
                inout("r4") frame.as_mut_ptr() => _,
                out("r0") _,
                out("r1") _,
                out("r2") _,
                out("r3") _,
                out("r5") _,
                out("r8") _,
                out("r9") _,
                out("r10") _,
                out("r11") _,
                out("r12") _,
                out("lr") _,
            );
        }
        Some(n)
    }

    /// The row one pixel at a time in one Cortex-M4 loop. Per pixel: the rows of [`mac`], then
    /// for both channels SMMLAR, sign fix, shift, SSAT and the byte store.
    #[cfg(all(target_arch = "arm", target_feature = "dsp"))]
    fn native_one(self) -> bool {
        let (Some(src), Some(out)) = (self.src, self.out) else {
            return false;
        };
        let (n, rows) = (self.pixels, self.rows);
        let last_read = (n.checked_sub(1).and_then(|p| p.checked_mul(self.step)))
            .zip(rows.checked_sub(1).and_then(|r| r.checked_mul(self.row_stride)))
            .and_then(|(a, b)| a.checked_add(b)?.checked_add(8));
        let last_write = n
            .checked_sub(1)
            .and_then(|p| p.checked_mul(self.out_stride))
            .and_then(|v| v.checked_add(2));
        if n == 0
            || rows == 0
            || last_read.is_none_or(|r| r > src.len())
            || last_write.is_none_or(|w| w > out.len())
            || self.pairs.len() < rows * 8
        {
            return false;
        }
        let p = self.params;
        let mut frame: [u32; 17] = [
            src.as_ptr() as u32,
            self.step as u32,
            n as u32,
            rows as u32,
            self.row_stride as u32,
            self.pairs.as_ptr() as u32,
            self.offset,
            out.as_mut_ptr() as u32,
            self.out_stride as u32,
            p[0] as u32,
            p[1] as u32,
            p[2] as u32,
            p[3] as u32,
            p[4] as u32,
            p[5] as u32,
            p[6] as u32,
            p[7] as u32,
        ];
        // SAFETY: checked above: pixel `i < n` reads `rows` rows of 8 bytes at
        // `src[i * step + r * row_stride..]` (the last byte read is below `last_read <=
        // src.len()`; LDR may be unaligned on the Cortex-M4) and `rows * 8` words of `pairs`
        // (word-aligned for LDRD), and writes `out[i * out_stride]` and the byte after
        // (`last_write <= out.len()`). `frame` is this function's own state. Both loops count
        // down from a nonzero count. Only the listed registers and the flags change.
        unsafe {
            core::arch::asm!(
                "4:",
                "ldr {p}, [{f}, #0]",
                "ldr {n}, [{f}, #12]",
                "ldr {wp}, [{f}, #20]",
                "ldr {off}, [{f}, #24]",
                "ldr {s}, [{f}, #16]",
                "ldr {a0}, [{f}, #36]",
                "ldr {a1}, [{f}, #40]",
                "2:",
                "ldr {v}, [{p}]",
                "sxtab16 {x}, {off}, {v}, ror #8",
                "sxtab16 {v}, {off}, {v}",
                "ldrd {w0}, {w1}, [{wp}], #8",
                "smlad {a0}, {v}, {w0}, {a0}",
                "smlad {a0}, {x}, {w1}, {a0}",
                "ldrd {w0}, {w1}, [{wp}], #8",
                "smlad {a1}, {v}, {w0}, {a1}",
                "smlad {a1}, {x}, {w1}, {a1}",
                "ldr {v}, [{p}, #4]",
                "add {p}, {p}, {s}",
                "sxtab16 {x}, {off}, {v}, ror #8",
                "sxtab16 {v}, {off}, {v}",
                "ldrd {w0}, {w1}, [{wp}], #8",
                "smlad {a0}, {v}, {w0}, {a0}",
                "smlad {a0}, {x}, {w1}, {a0}",
                "ldrd {w0}, {w1}, [{wp}], #8",
                "smlad {a1}, {v}, {w0}, {a1}",
                "smlad {a1}, {x}, {w1}, {a1}",
                "subs {n}, {n}, #1",
                "bne 2b",
                "ldr {p}, [{f}, #28]",
                "add {a0}, {a0}, {a0}",
                "ldr {w0}, [{f}, #44]",
                "ldr {w1}, [{f}, #48]",
                "ldr {x}, [{f}, #52]",
                "smmlar {v}, {a0}, {w0}, {w1}",
                "sub {v}, {v}, {a0}, lsr #31",
                "asr {v}, {v}, {x}",
                "ssat {v}, #8, {v}",
                "strb {v}, [{p}]",
                "add {a1}, {a1}, {a1}",
                "ldr {w0}, [{f}, #56]",
                "ldr {w1}, [{f}, #60]",
                "ldr {x}, [{f}, #64]",
                "smmlar {v}, {a1}, {w0}, {w1}",
                "sub {v}, {v}, {a1}, lsr #31",
                "asr {v}, {v}, {x}",
                "ssat {v}, #8, {v}",
                "strb {v}, [{p}, #1]",
                "ldr {x}, [{f}, #32]",
                "add {p}, {p}, {x}",
                "str {p}, [{f}, #28]",
                "ldr {p}, [{f}, #0]",
                "ldr {x}, [{f}, #4]",
                "add {p}, {p}, {x}",
                "str {p}, [{f}, #0]",
                "ldr {n}, [{f}, #8]",
                "subs {n}, {n}, #1",
                "str {n}, [{f}, #8]",
                "bne 4b",
                f = in(reg) frame.as_mut_ptr(),
                p = out(reg) _,
                s = out(reg) _,
                n = out(reg) _,
                wp = out(reg) _,
                off = out(reg) _,
                a0 = out(reg) _,
                a1 = out(reg) _,
                v = out(reg) _,
                x = out(reg) _,
                w0 = out(reg) _,
                w1 = out(reg) _,
                options(nostack),
            );
        }
        true
    }
}

/// Where a pixel's 8-column window lies against its input row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shift {
    /// Inside, from this column.
    None(usize),
    /// The first `k` columns are padding: the window is the row's first bytes moved up by `k`.
    Left(usize),
    /// The last `k` columns are padding: the window is the row's last bytes moved down by `k`.
    Right(usize),
}

impl Shift {
    /// The window of the pixel at padded column `x` (`len` columns, rows `width` long);
    /// `None` if it sticks out on both sides or the row is shorter than 8 bytes.
    fn of(x: usize, pad: usize, width: usize, len: usize) -> Option<Shift> {
        match x.checked_sub(pad) {
            Some(col) if col + len <= width => Some(Shift::None(col)),
            Some(col) if width >= 8 && len == 8 && col < width => {
                Some(Shift::Right(col + len - width))
            }
            None if width >= 8 && len == 8 && pad - x < len && x + len <= width + pad => {
                Some(Shift::Left(pad - x))
            }
            _ => None,
        }
    }
}

/// Fills `dst` (8 bytes per window row) with the windows rows of a pixel against the left or
/// right edge of the input: each row's bytes are read from inside the row (`src`, rows `width`
/// apart) and shifted into place, the padding filled with the zero point `pad` (which the
/// offset turns into 0).
#[inline(never)]
fn edge_window(src: &[i8], width: usize, shift: Shift, pad: i8, dst: &mut [i8]) {
    let fill = u32::from_le_bytes([pad as u8; 4]);
    let word_at = |line: &[i8], at: usize| {
        line.get(at..at + 4).and_then(|b| b.first_chunk::<4>()).map_or(fill, word)
    };
    // The two words of a row, for each kind of edge (`k` padding columns, `s` bits).
    match shift {
        Shift::Left(k @ 1..=3) => {
            let s = 8 * k as u32;
            let keep = fill >> (32 - s);
            edge_rows(src, width, dst, |l| {
                let (a, b) = (word_at(l, 0), word_at(l, 4));
                ((a << s) | keep, (b << s) | (a >> (32 - s)))
            })
        }
        Shift::Left(k @ 4..=7) => {
            let s = 8 * (k as u32 - 4);
            let keep = if s == 0 { 0 } else { fill >> (32 - s) };
            edge_rows(src, width, dst, |l| (fill, (word_at(l, 0) << s) | keep))
        }
        Shift::Right(k @ 1..=3) => {
            let s = 8 * k as u32;
            let keep = fill << (32 - s);
            let at = width.saturating_sub(8);
            edge_rows(src, width, dst, |l| {
                let (a, b) = (word_at(l, at), word_at(l, at + 4));
                ((a >> s) | (b << (32 - s)), (b >> s) | keep)
            })
        }
        Shift::Right(k @ 4..=7) => {
            let s = 8 * (k as u32 - 4);
            let keep = if s == 0 { 0 } else { fill << (32 - s) };
            let at = width.saturating_sub(4);
            edge_rows(src, width, dst, |l| ((word_at(l, at) >> s) | keep, fill))
        }
        Shift::None(col) => edge_rows(src, width, dst, |l| (word_at(l, col), word_at(l, col + 4))),
        _ => dst.fill(pad),
    }
}

/// The rows of [`edge_window`], each window row's two words given by `load` from its input row.
#[inline(always)]
fn edge_rows(src: &[i8], width: usize, dst: &mut [i8], load: impl Fn(&[i8]) -> (u32, u32)) {
    for (line, d) in src.chunks(width.max(1)).zip(dst.chunks_exact_mut(8)) {
        let (lo, hi) = load(line);
        let bytes = (lo as u64 | ((hi as u64) << 32)).to_le_bytes();
        d.copy_from_slice(bytemuck::cast_slice(&bytes));
    }
}
