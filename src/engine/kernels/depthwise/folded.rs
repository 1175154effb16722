//! DEPTHWISE_CONV_2D's fast portable kernel, for targets without the DSP extension
//! (Cortex-M0/M0+, RV32IMC): the input zero point folded into the bias, four output pixels per
//! walk of a channel's weights, and the requantization without a 64-bit multiply.
//!
//! `acc = bias + sum w * (x - zp)` over the taps inside the input is computed as
//! `(bias - zp * sum w) + sum w * x`, both sums over those taps. The loops run over input
//! channels, then their output channels. An input channel is read as a plane of `in_h x in_w`
//! values, in place with one input channel (a keyword spotter's first layer over a
//! spectrogram), else copied into scratch; a window row is then a run of consecutive bytes.
//! The output pixels are split into classes of equal clipping: runs of rows whose window keeps
//! the same rows of the kernel (all of them inside the input, or the first or last rows cut by
//! the padding) times runs of columns that keep the same columns. For one channel and one
//! column class, the kept columns of the channel's weights are copied row after row into
//! scratch (with each row's sum); each class then has one folded bias, and its pixels are
//! taken four at a time: one weight load serves the four pixels' taps.
//!
//! The rescale is [`NarrowRescale`] when it is exact for every accumulator the channel can
//! reach (a bound from its bias and the number of taps), else the portable arithmetic for that
//! channel alone. It applies with dilation 1 and an int8 input zero point; the caller runs the
//! reference otherwise, or with too little scratch. Results are the reference's for every
//! input.

use super::{DepthwiseConv2d, DepthwiseOperands};
use crate::engine::arith::{clamp_to_i8, QuantizedMultiplier};
use crate::engine::kernels::bias_at;
use crate::engine::kernels::conv::Shapes;
use crate::engine::kernels::narrow::{accumulator_limit, NarrowRescale};

/// Output pixels that share one walk of a channel's weights.
const PIXELS: usize = 4;

/// True if this kernel suits these shapes: dilation 1, an int8 input zero point.
pub fn applies(k: &DepthwiseConv2d, shapes: Shapes) -> bool {
    let [_, _, _, in_c] = shapes.input;
    let [_, fh, fw, out_c] = shapes.filter;
    in_c > 0
        && fh > 0
        && fw > 0
        && out_c > 0
        && (k.geometry.dilation_h, k.geometry.dilation_w) == (1, 1)
        && (-128..=127).contains(&k.input_offset.wrapping_neg())
}

/// The fewest output pixels per clipping class (on average) at which this kernel beats the
/// reference when the input has several channels. Each channel costs a copy of its input plane
/// and, per class, a copy of its kept weight columns and a folded bias; a class of few pixels
/// (a small plane under padding: the last layers of a MobileNet) leaves the four-pixel loop
/// little to do, and the reference's plain loops are faster. Measured per layer in
/// docs/benchmarks.md (issue 17's Cortex-M0 row).
pub const PIXELS_PER_CLASS: usize = 10;

/// True if this kernel is faster than the reference on these shapes (whether it [`applies`]
/// is checked apart): one input channel (read in place, no setup per channel), or at least
/// [`PIXELS_PER_CLASS`] output pixels per clipping class. Work bounded by the output's height
/// plus width.
pub fn pays(k: &DepthwiseConv2d, shapes: Shapes) -> bool {
    let [_, in_h, in_w, in_c] = shapes.input;
    let [_, fh, fw, _] = shapes.filter;
    let [_, out_h, out_w, _] = shapes.output;
    let g = k.geometry;
    let spans = |out: usize, stride: usize, pad: usize, size: usize, taps: usize| {
        let (mut n, mut first) = (0usize, 0);
        while first < out {
            first = span(first, out, stride, pad, size, taps).end;
            n += 1;
        }
        n
    };
    let classes = spans(out_h, g.stride_h, g.pad_h, in_h, fh)
        .saturating_mul(spans(out_w, g.stride_w, g.pad_w, in_w, fw));
    in_c == 1 || out_h.saturating_mul(out_w) >= classes.saturating_mul(PIXELS_PER_CLASS)
}

/// Bytes of scratch [`depthwise`] needs (0 if it never applies to these shapes): one
/// channel's weights, one sum per window row and, with more than one input channel, one input
/// channel's plane, plus 3 bytes of alignment slack.
pub fn scratch_bytes(k: &DepthwiseConv2d, shapes: Shapes) -> usize {
    if !applies(k, shapes) {
        return 0;
    }
    let [_, fh, fw, _] = shapes.filter;
    let words = fh.saturating_mul(fw).div_ceil(4).saturating_add(fh);
    words.saturating_add(plane_words(shapes)).saturating_mul(4).saturating_add(3)
}

/// Words of scratch for one input channel's plane (none with one input channel: the input is
/// that plane).
fn plane_words(shapes: Shapes) -> usize {
    let [_, in_h, in_w, in_c] = shapes.input;
    if in_c > 1 {
        in_h.saturating_mul(in_w).div_ceil(4)
    } else {
        0
    }
}

/// Runs `k` if it [`applies`] and `scratch` holds [`scratch_bytes`] bytes; `false` (nothing
/// written) if not. Lengths must agree with the shapes (the caller checks them first); if they
/// do not, the output is unspecified but nothing panics.
#[inline(never)]
pub fn depthwise(k: &DepthwiseConv2d, ops: &mut DepthwiseOperands<'_>, scratch: &mut [u8]) -> bool {
    let DepthwiseOperands { input, filter, bias, requantize, shapes, .. } = *ops;
    let output = &mut *ops.output;
    if !applies(k, shapes) {
        return false;
    }
    let [batches, in_h, in_w, in_c] = shapes.input;
    let [_, fh, fw, _] = shapes.filter;
    let [_, out_h, out_w, _] = shapes.output;
    let multiplier = k.depth_multiplier;
    let (_, words, _) = bytemuck::pod_align_to_mut::<u8, i32>(scratch);
    let kept_words = (fh * fw).div_ceil(4);
    // The plane's words ([`plane_words`]) without a 64-bit multiply: the input holds them.
    let plane_words = if in_c > 1 { in_h.wrapping_mul(in_w).div_ceil(4) } else { 0 };
    let Some(words) = words.get_mut(..kept_words + fh + plane_words) else {
        return false;
    };
    let Some((weights, rest)) = words.split_at_mut_checked(kept_words) else {
        return false;
    };
    let Some((row_sums, plane)) = rest.split_at_mut_checked(fh) else {
        return false;
    };
    let weights: &mut [i8] = bytemuck::cast_slice_mut(weights);
    let plane: &mut [i8] = bytemuck::cast_slice_mut(plane);
    let g = k.geometry;
    let area = in_h * in_w;
    for batch in 0..batches {
        for i in 0..in_c {
            // The input channel's plane: the input itself with one channel, else a copy.
            let plane: &[i8] = if in_c == 1 {
                input.get(batch * area..).unwrap_or(&[])
            } else {
                gather(input.get(batch * area * in_c + i..).unwrap_or(&[]), in_c, plane);
                plane
            };
            for o in i * multiplier..(i + 1) * multiplier {
                let b = bias_at(bias, o);
                let rescale = Rescale::new(k, requantize.get(o), b, fh * fw);
                let mut ox0 = 0;
                while ox0 < out_w {
                    let columns = span(ox0, out_w, g.stride_w, g.pad_w, in_w, fw);
                    keep_columns(filter, shapes.filter, o, columns.kept, weights, row_sums);
                    let mut oy0 = 0;
                    while oy0 < out_h {
                        let rows = span(oy0, out_h, g.stride_h, g.pad_h, in_h, fh);
                        let (ky0, ky1) = rows.kept;
                        let mut seen = 0i32;
                        for &r in row_sums.get(ky0..ky1).unwrap_or(&[]) {
                            seen = seen.wrapping_add(r);
                        }
                        let folded = b.wrapping_add(k.input_offset.wrapping_mul(seen));
                        let class = Class { rows, columns, batch, channel: o, folded };
                        class.run(k, shapes, plane, weights, output, &rescale);
                        oy0 = rows.end;
                    }
                    ox0 = columns.end;
                }
            }
        }
    }
    true
}

/// Copies every `step`-th value of `input` (one channel of an NHWC input, from its first
/// pixel) into `plane`, as far as both reach.
#[inline(never)]
fn gather(input: &[i8], step: usize, plane: &mut [i8]) {
    for (d, &s) in plane.iter_mut().zip(input.iter().step_by(step.max(1))) {
        *d = s;
    }
}

/// The run of output positions from `first` (of `out` along one axis) whose windows keep the
/// same taps of a window of `taps` (stride `stride`, dilation 1, `pad` leading padding, over
/// an input of `size`).
#[inline(never)]
fn span(first: usize, out: usize, stride: usize, pad: usize, size: usize, taps: usize) -> Span {
    let kept = |p: usize| {
        // No overflow: `check` found every position the window reaches to fit a usize.
        let at = p.wrapping_mul(stride);
        let t0 = pad.saturating_sub(at).min(taps);
        let t1 = size.wrapping_add(pad).saturating_sub(at).min(taps).max(t0);
        (t0, t1)
    };
    let here = kept(first);
    let mut end = first + 1;
    if here == (0, taps) && stride > 0 {
        // Windows wholly inside: the run ends at the last position whose window ends inside.
        end = ((size + pad - taps) / stride + 1).clamp(end, out);
    } else {
        while end < out && kept(end) == here {
            end += 1;
        }
    }
    Span { first, end, kept: here }
}

/// Copies the columns `kept.0..kept.1` of output channel `o`'s weights (`filter` of shape
/// `filter_shape`) row after row into `weights`, and each row's sum into `row_sums`.
#[inline(never)]
fn keep_columns(
    filter: &[i8],
    filter_shape: [usize; 4],
    o: usize,
    kept: (usize, usize),
    weights: &mut [i8],
    row_sums: &mut [i32],
) {
    let [_, _, fw, channels] = filter_shape;
    let (kx0, kx1) = kept;
    let mut at = 0;
    for (ky, sum) in row_sums.iter_mut().enumerate() {
        let mut s = 0i32;
        for kx in kx0..kx1 {
            let w = filter.get((ky * fw + kx) * channels + o).copied().unwrap_or(0);
            if let Some(d) = weights.get_mut(at) {
                *d = w;
            }
            at += 1;
            s = s.wrapping_add(w as i32);
        }
        *sum = s;
    }
}

/// One output channel's requantization: [`NarrowRescale`] if the channel has one, else the
/// portable arithmetic of its multiplier `m`; then the clamp.
struct Rescale {
    fast: Option<NarrowRescale>,
    m: QuantizedMultiplier,
    clamp: (i32, i32),
    offset: i32,
}

impl Rescale {
    /// The requantization of a channel of multiplier `m`, bias `b` and `taps` taps.
    #[inline(never)]
    fn new(k: &DepthwiseConv2d, m: QuantizedMultiplier, b: i32, taps: usize) -> Rescale {
        let limit = accumulator_limit(b.unsigned_abs(), taps);
        Rescale {
            fast: NarrowRescale::new(m, k.output_offset, limit),
            m,
            clamp: (k.activation_min, k.activation_max),
            offset: k.output_offset,
        }
    }

    /// The output value of accumulator `acc`.
    #[inline(always)]
    fn apply(&self, acc: i32) -> i8 {
        let v = match self.fast {
            Some(r) => r.apply(acc),
            None => exact(self.m, acc, self.offset),
        };
        clamp_to_i8(v, self.clamp.0, self.clamp.1)
    }
}

/// The portable arithmetic for a channel without a [`NarrowRescale`]: out of line, such a
/// channel is rare.
#[cold]
#[inline(never)]
fn exact(m: QuantizedMultiplier, acc: i32, offset: i32) -> i32 {
    m.apply(acc).wrapping_add(offset)
}

/// A run `first..end` of output rows (or columns) whose windows keep the kernel's rows (or
/// columns) `kept.0..kept.1`.
#[derive(Clone, Copy)]
struct Span {
    first: usize,
    end: usize,
    kept: (usize, usize),
}

/// The output pixels of one batch with the same clipping, the output channel, and their folded
/// bias.
struct Class {
    rows: Span,
    columns: Span,
    batch: usize,
    channel: usize,
    folded: i32,
}

impl Class {
    /// Writes the output channel of the class's pixels, four at a time (`plane`: the batch's
    /// input channel, `in_h x in_w` values; `weights`: the kept weights of the channel, row
    /// after row).
    #[inline(never)]
    fn run(
        &self,
        k: &DepthwiseConv2d,
        shapes: Shapes,
        plane: &[i8],
        weights: &[i8],
        output: &mut [i8],
        rescale: &Rescale,
    ) {
        let [_, _, in_w, _] = shapes.input;
        let [_, _, _, channels] = shapes.filter;
        let [_, out_h, out_w, _] = shapes.output;
        let g = k.geometry;
        let (ky0, ky1) = self.rows.kept;
        let (kx0, kx1) = self.columns.kept;
        let (rows, taps) = (ky1 - ky0, kx1 - kx0);
        let w = weights.get(ky0 * taps..).unwrap_or(&[]);
        let (first, end) = (self.columns.first, self.columns.end);
        let (oy, width) = (self.rows.first, end - first);
        // The cursor, row-major over the class: the next pixel's first input tap and output,
        // stepped by additions (wrapping: the steps back to a row's first pixel are negative).
        let iy = (oy * g.stride_h + ky0).wrapping_sub(g.pad_h);
        let ix = (first * g.stride_w + kx0).wrapping_sub(g.pad_w);
        let mut start = iy.wrapping_mul(in_w).wrapping_add(ix);
        let mut out = ((self.batch * out_h + oy) * out_w + first) * channels + self.channel;
        let mut ox = 0;
        let (tap_step, out_step) = (g.stride_w, channels);
        let row_step = (g.stride_h * in_w).wrapping_sub(width * tap_step);
        let out_row_step = (out_w - width) * channels;
        let mut next = || {
            let here = (start, out);
            start = start.wrapping_add(tap_step);
            out = out.wrapping_add(out_step);
            ox += 1;
            if ox == width {
                ox = 0;
                start = start.wrapping_add(row_step);
                out = out.wrapping_add(out_row_step);
            }
            here
        };
        let mut left = (self.rows.end - self.rows.first) * width;
        while left > 0 {
            let n = PIXELS.min(left);
            // The pixels past n repeat the last one (their sums are not used).
            let (s0, o0) = next();
            let (s1, o1) = if n > 1 { next() } else { (s0, o0) };
            let (s2, o2) = if n > 2 { next() } else { (s1, o1) };
            let (s3, o3) = if n > 3 { next() } else { (s2, o2) };
            let acc = if rows == 0 || taps == 0 {
                [0; PIXELS]
            } else {
                dot4_rows(w, plane, [s0, s1, s2, s3], taps, rows, in_w)
            };
            for (&a, out) in acc.iter().zip([o0, o1, o2, o3]).take(n) {
                if let Some(out) = output.get_mut(out) {
                    *out = rescale.apply(a.wrapping_add(self.folded));
                }
            }
            left -= n;
        }
    }
}

/// `sum w * x` over a window of `rows` rows of `taps` taps for each of four pixels: the
/// weights `w` row after row (`taps` per row), pixel `j`'s taps at `input[starts[j] + r *
/// stride + t]`. All zero if a window or the weights do not fit their slices.
#[cfg(not(all(target_arch = "arm", not(target_feature = "dsp"))))]
#[inline(never)]
fn dot4_rows(
    w: &[i8],
    input: &[i8],
    starts: [usize; PIXELS],
    taps: usize,
    rows: usize,
    stride: usize,
) -> [i32; PIXELS] {
    let mut acc = [0i32; PIXELS];
    if !fits(w, input, starts, taps, rows, stride) {
        return acc;
    }
    for r in 0..rows {
        for t in 0..taps {
            let wi = w.get(r * taps + t).copied().unwrap_or(0) as i32;
            for (a, &s) in acc.iter_mut().zip(&starts) {
                let x = input.get(s + r * stride + t).copied().unwrap_or(0) as i32;
                *a = a.wrapping_add(wi * x);
            }
        }
    }
    acc
}

/// True if the weights and each pixel's window of [`dot4_rows`] lie inside their slices
/// (`rows > 0`). The operands are bounded first, so that the products fit 32 bits: no 64-bit
/// multiply on a Cortex-M0.
#[inline(always)]
fn fits(
    w: &[i8],
    input: &[i8],
    starts: [usize; PIXELS],
    taps: usize,
    rows: usize,
    stride: usize,
) -> bool {
    const BOUND: usize = 0xFFFF;
    if rows == 0 || rows > BOUND || taps > BOUND || stride > BOUND {
        return false;
    }
    let reach = (rows - 1) * stride + taps;
    rows * taps <= w.len()
        && starts.iter().all(|&s| s.checked_add(reach).is_some_and(|end| end <= input.len()))
}

#[cfg(all(target_arch = "arm", not(target_feature = "dsp")))]
use crate::engine::kernels::thumb1::tap4;

/// [`dot4_rows`] on a core without the DSP extension (Cortex-M0/M0+), in Thumb-1 assembly:
/// 13 instructions per tap of the four pixels (five loads, four multiplies, four adds) plus
/// the index step, four taps per branch, and a step to the next row of each window after each
/// row. As in the CONV_2D kernel (`conv::folded`), r6 and r7 are saved on the stack and used,
/// the accumulators live in high registers; lr holds the input's row stride, r9 (saved and
/// restored) the negated row length, the stack the end of the weights.
#[cfg(all(target_arch = "arm", not(target_feature = "dsp")))]
#[inline(never)]
fn dot4_rows(
    w: &[i8],
    input: &[i8],
    starts: [usize; PIXELS],
    taps: usize,
    rows: usize,
    stride: usize,
) -> [i32; PIXELS] {
    if rows == 0 || taps == 0 || !fits(w, input, starts, taps, rows, stride) {
        return [0; PIXELS];
    }
    // Pointers one past each window's first row (and the weights' first row); the index counts
    // from -taps up to 0 along a row.
    let row_end = |at: usize| input.as_ptr().wrapping_add(at + taps);
    let w_last = w.as_ptr().wrapping_add(rows * taps);
    let params: [usize; 3] = [(taps as isize).wrapping_neg() as usize, w_last as usize, stride];
    let (s0, s1, s2, s3): (i32, i32, i32, i32);
    // SAFETY: `fits` checked that rows `0..rows` of `taps` bytes at `starts[j] + r * stride`
    // lie inside `input` for each j and that `rows * taps` weights lie inside `w`; the loop
    // reads exactly those bytes (r1 walks the weights' rows up to `w_last`, r2..r5 the
    // windows' rows), and the three words of `params`. It writes only registers and its own
    // stack slots: r6, r7 and r9 pushed and popped around it (the stack pointer is back where
    // it was on exit), the declared ones and the flags.
    unsafe {
        core::arch::asm!(
            "push {{r6, r7}}",
            "mov r6, r9",
            "ldr r7, [r0, #4]",
            "push {{r6, r7}}",
            "ldr r6, [r0, #8]",
            "mov lr, r6",
            "ldr r0, [r0, #0]",
            "mov r9, r0",
            "movs r6, #0",
            "mov r8, r6",
            "mov r10, r6",
            "mov r11, r6",
            "mov r12, r6",
            "4:",
            // Single taps until the count left is a multiple of four.
            "lsls r6, r0, #30",
            "beq 2f",
            "1:",
            tap4!(),
            "lsls r6, r0, #30",
            "bne 1b",
            "cmp r0, #0",
            "beq 3f",
            "2:",
            tap4!(),
            tap4!(),
            tap4!(),
            tap4!(),
            "bne 2b",
            "3:",
            // The next row: the weights' next row, each window's next input row.
            "mov r0, r9",
            "subs r1, r1, r0",
            "add r2, lr",
            "add r3, lr",
            "add r4, lr",
            "add r5, lr",
            "ldr r6, [sp, #4]",
            "cmp r1, r6",
            "bls 4b",
            "pop {{r6, r7}}",
            "mov r9, r6",
            "pop {{r6, r7}}",
            "mov r0, r8",
            "mov r1, r10",
            "mov r2, r11",
            "mov r3, r12",
            inout("r0") params.as_ptr() => s0,
            inout("r1") w.as_ptr().wrapping_add(taps) => s1,
            inout("r2") row_end(starts[0]) => s2,
            inout("r3") row_end(starts[1]) => s3,
            inout("r4") row_end(starts[2]) => _,
            inout("r5") row_end(starts[3]) => _,
            out("r8") _,
            out("r10") _,
            out("r11") _,
            out("r12") _,
            out("lr") _,
            options(readonly),
        );
    }
    [s0, s1, s2, s3]
}
