//! CONV_2D's fast portable kernel, for targets without the DSP extension (Cortex-M0/M0+,
//! RV32IMC): the input zero point folded into the bias, [`PIXELS`] output pixels per walk of a
//! channel's weights, and the requantization without a 64-bit multiply.
//!
//! `acc = bias + sum w * (x - zp)` over the window is computed as
//! `(bias - zp * sum w) + sum w * x`, the padding filled with the zero point (it then
//! contributes nothing, as in the reference). The first term is one value per channel,
//! computed once per call into a table in scratch together with the channel's rescale; the
//! inner loop is one weight load shared by [`PIXELS`] pixels, then a load, a multiply and an
//! add per pixel.
//!
//! The pixels' windows are gathered into scratch once per group of [`PIXELS`] pixels (NHWC
//! `kh x kw x depth` patches, as the OHWI weight rows), and every output channel of the group
//! runs over them; a 1x1 window with stride 1 and no padding reads the input in place.
//!
//! The rescale is [`NarrowRescale`] when it is exact for every accumulator the channel can
//! reach (a bound from its bias and the number of taps), else the portable arithmetic for that
//! channel alone. It applies when the input zero point is an int8 value (the padding is
//! written as one); the caller runs the reference otherwise, or with too little scratch.
//! Results are the reference's for every input.

use super::{Conv2d, ConvOperands};
use crate::engine::arith::clamp_to_i8;
use crate::engine::kernels::bias_at;
use crate::engine::kernels::narrow::{accumulator_limit, NarrowRescale};

/// Output pixels that share one walk of a channel's weights.
const PIXELS: usize = 4;

/// One channel's entry of the table: the folded bias, the multiplier, the rounding constant
/// and the rest of its [`NarrowRescale`] (`pre | shift << 8 | sign << 16`, and bit 24 when the
/// fast form applies).
type Entry = [i32; 4];

/// Bytes of scratch [`run`] needs: the table (16 bytes per output channel) and, unless the
/// window is read in place, [`PIXELS`] patches, plus 3 bytes of alignment slack.
pub(super) fn scratch_bytes(k: &Conv2d, shapes: super::Shapes) -> usize {
    let [out_channels, h, w, depth] = shapes.filter;
    let patch = h.saturating_mul(w).saturating_mul(depth);
    let cols = if in_place(k, shapes) { 0 } else { patch.saturating_mul(PIXELS).div_ceil(4) * 4 };
    out_channels.saturating_mul(16).saturating_add(cols).saturating_add(3)
}

/// True if output pixel `p`'s window is input pixel `p` (a 1x1 window, stride 1, no padding).
fn in_place(k: &Conv2d, shapes: super::Shapes) -> bool {
    let g = k.geometry;
    let [_, in_h, in_w, _] = shapes.input;
    let [_, fh, fw, _] = shapes.filter;
    let [_, out_h, out_w, _] = shapes.output;
    (fh, fw, g.stride_h, g.stride_w, g.pad_h, g.pad_w) == (1, 1, 1, 1, 0, 0)
        && (in_h, in_w) == (out_h, out_w)
}

/// Runs the convolution on operands [`reference::check`](super::reference) accepted (others
/// give an unspecified output, no panic); `false` (nothing written) if the input zero point is
/// not an int8 value or `scratch` is shorter than [`scratch_bytes`].
#[inline(never)]
pub(super) fn run(k: &Conv2d, ops: &mut ConvOperands<'_>, scratch: &mut [u8]) -> bool {
    let ConvOperands { input, filter, bias, requantize, shapes, .. } = *ops;
    let output = &mut *ops.output;
    let [batches, _, _, in_depth] = shapes.input;
    let [out_depth, fh, fw, fd] = shapes.filter;
    let [_, out_h, out_w, _] = shapes.output;
    let zero_point = k.input_offset.wrapping_neg();
    if !(-128..=127).contains(&zero_point) || fd == 0 || out_depth == 0 {
        return false;
    }
    let groups = (in_depth / fd).max(1);
    let per_group = (out_depth / groups).max(1);
    let patch = fh * fw * fd;
    let in_place = in_place(k, shapes);
    let cols_len = if in_place { 0 } else { patch * PIXELS };
    let (_, words, _) = bytemuck::pod_align_to_mut::<u8, i32>(scratch);
    let Some(words) = words.get_mut(..out_depth * 4 + cols_len.div_ceil(4)) else {
        return false;
    };
    let (table, cols) = words.split_at_mut(out_depth * 4);
    let (table, _) = table.as_chunks_mut::<4>();
    let cols: &mut [i8] = bytemuck::cast_slice_mut(cols);
    for (o, entry) in table.iter_mut().enumerate() {
        let w = filter.get(o * patch..(o + 1) * patch).unwrap_or(&[]);
        let b = bias_at(bias, o);
        let m = requantize.get(o);
        let whole = b.wrapping_add(k.input_offset.wrapping_mul(sum(w)));
        let limit = accumulator_limit(b.unsigned_abs(), patch);
        *entry = match NarrowRescale::new(m, k.output_offset, limit) {
            Some(r) => {
                let control = r.pre | r.shift << 8 | (r.sign as u32) << 16 | 1 << 24;
                [whole, m.multiplier, r.round, control as i32]
            }
            None => [whole, 0, 0, 0],
        };
    }
    let pixels = batches * out_h * out_w;
    let mut p = 0;
    while p < pixels {
        let n = PIXELS.min(pixels - p);
        for group in 0..groups {
            let first = group * fd;
            if !in_place {
                for (j, dst) in cols.chunks_exact_mut(patch.max(1)).take(n).enumerate() {
                    gather(k, input, shapes, p + j, first, dst, zero_point as i8);
                }
            }
            // The pixels past n repeat the last one (their sums are not used).
            let x = |j: usize| {
                let j = j.min(n - 1);
                let slice = if in_place {
                    input.get((p + j) * in_depth + first..)
                } else {
                    cols.get(j * patch..)
                };
                slice.unwrap_or(&[])
            };
            let xs = [x(0), x(1), x(2), x(3)];
            for o in group * per_group..(group + 1) * per_group {
                let (Some(w), Some(e)) = (filter.get(o * patch..(o + 1) * patch), table.get(o))
                else {
                    return true;
                };
                let mut acc = [0i32; PIXELS];
                dot4(w, xs, &mut acc);
                for (j, &a) in acc.iter().enumerate().take(n) {
                    let value = rescale(k, e, a.wrapping_add(e[0]), || requantize.get(o));
                    if let Some(out) = output.get_mut((p + j) * out_depth + o) {
                        *out = value;
                    }
                }
            }
        }
        p += n;
    }
    true
}

/// The output value of accumulator `acc` for the channel of entry `e` (`m`: its multiplier,
/// for the portable arithmetic).
#[inline(never)]
fn rescale(
    k: &Conv2d,
    e: &Entry,
    acc: i32,
    m: impl FnOnce() -> crate::engine::arith::QuantizedMultiplier,
) -> i8 {
    let control = e[3] as u32;
    let v = if control >> 24 != 0 {
        let r = NarrowRescale {
            high: e[1] >> 16,
            low: e[1] & 0xFFFF,
            pre: control & 0xFF,
            round: e[2],
            sign: ((control >> 16) & 1) as i32,
            shift: (control >> 8) & 0xFF,
            offset: k.output_offset,
        };
        r.apply(acc)
    } else {
        m().apply(acc).wrapping_add(k.output_offset)
    };
    clamp_to_i8(v, k.activation_min, k.activation_max)
}

/// Writes pixel `q`'s window (input channels `first..first + depth` of each tap, the zero
/// point where the tap falls in the padding) into `dst`, tap after tap.
#[inline(never)]
fn gather(
    k: &Conv2d,
    input: &[i8],
    shapes: super::Shapes,
    q: usize,
    first: usize,
    dst: &mut [i8],
    zero_point: i8,
) {
    let g = k.geometry;
    let [_, in_h, in_w, in_depth] = shapes.input;
    let [_, fh, fw, fd] = shapes.filter;
    let [_, out_h, out_w, _] = shapes.output;
    let (b, oy, ox) = (q / (out_h * out_w), (q / out_w) % out_h, q % out_w);
    let mut taps = dst.chunks_exact_mut(fd);
    for ky in 0..fh {
        let iy = g.in_y(oy, ky, in_h);
        for kx in 0..fw {
            let Some(d) = taps.next() else {
                return;
            };
            let src = match (iy, g.in_x(ox, kx, in_w)) {
                (Some(iy), Some(ix)) => {
                    let at = ((b * in_h + iy) * in_w + ix) * in_depth + first;
                    input.get(at..at + fd)
                }
                _ => None,
            };
            match src {
                Some(s) if fd >= 8 => d.copy_from_slice(s),
                Some(s) => d.iter_mut().zip(s).for_each(|(d, &s)| *d = s),
                None => d.fill(zero_point),
            }
        }
    }
}

/// The sum of `w`.
#[inline(never)]
fn sum(w: &[i8]) -> i32 {
    w.iter().fold(0i32, |s, &v| s.wrapping_add(v as i32))
}

/// Adds `w . x[j]` to `acc[j]` (each `x[j]` at least as long as `w`): one weight load for four
/// multiply-adds.
#[cfg(not(all(target_arch = "arm", not(target_feature = "dsp"))))]
#[inline(never)]
fn dot4(w: &[i8], x: [&[i8]; PIXELS], acc: &mut [i32; PIXELS]) {
    let [a, b, c, d] = x;
    for (i, &wi) in w.iter().enumerate() {
        let (Some(&xa), Some(&xb), Some(&xc), Some(&xd)) = (a.get(i), b.get(i), c.get(i), d.get(i))
        else {
            return;
        };
        let wi = wi as i32;
        acc[0] = acc[0].wrapping_add(wi * xa as i32);
        acc[1] = acc[1].wrapping_add(wi * xb as i32);
        acc[2] = acc[2].wrapping_add(wi * xc as i32);
        acc[3] = acc[3].wrapping_add(wi * xd as i32);
    }
}

#[cfg(all(target_arch = "arm", not(target_feature = "dsp")))]
use crate::engine::kernels::thumb1::tap4;

/// [`dot4`] on a core without the DSP extension (Cortex-M0/M0+), in Thumb-1 assembly: 14
/// instructions per tap (five loads, four multiplies, four adds, the index step), four taps
/// per branch. The compiler's code for the same loop keeps only seven low registers (r6 and
/// r7 are reserved to it) and spills the accumulators on every tap; here r6 and r7 are saved
/// on the stack and used, the accumulators live in high registers.
#[cfg(all(target_arch = "arm", not(target_feature = "dsp")))]
#[inline(never)]
fn dot4(w: &[i8], x: [&[i8]; PIXELS], acc: &mut [i32; PIXELS]) {
    let len = w.len();
    if x.iter().any(|x| x.len() < len) || len > isize::MAX as usize {
        return;
    }
    // Pointers one past each run; the index counts from -len up to 0.
    let end = |s: &[i8]| s.as_ptr().wrapping_add(len);
    let [a, b, c, d] = x;
    let (s0, s1, s2, s3): (i32, i32, i32, i32);
    // SAFETY: the loop reads bytes `end - len .. end` of `w` and of each `x[j]`, all in bounds
    // (checked above); it writes only registers: r6 and r7 pushed and popped around it (the
    // stack pointer is back where it was on exit), the declared ones and the flags.
    unsafe {
        core::arch::asm!(
            "push {{r6, r7}}",
            "movs r6, #0",
            "mov r8, r6",
            "mov r10, r6",
            "mov r11, r6",
            "mov r12, r6",
            "cmp r0, #0",
            "beq 3f",
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
            "pop {{r6, r7}}",
            "mov r0, r8",
            "mov r1, r10",
            "mov r2, r11",
            "mov r3, r12",
            inout("r0") (len as isize).wrapping_neg() as i32 => s0,
            inout("r1") end(w) => s1,
            inout("r2") end(a) => s2,
            inout("r3") end(b) => s3,
            in("r4") end(c),
            in("r5") end(d),
            out("r8") _,
            out("r10") _,
            out("r11") _,
            out("r12") _,
            options(readonly),
        );
    }
    for (acc, s) in acc.iter_mut().zip([s0, s1, s2, s3]) {
        *acc = acc.wrapping_add(s);
    }
}
