//! CONV_2D's packed path: two output pixels times two output channels per pass, four input
//! values per step, with the DSP instructions of [`dsp`](super::dsp).
//!
//! For each pair of output pixels the input patches (the `kh x kw x in_channels` values each
//! pixel's window sees, padding filled with the input zero point) are gathered once, offset by
//! `-zero_point` and widened to 16-bit lanes in scratch memory, interleaved so that one step
//! reads both pixels' four values with two 64-bit loads. Every pair of output channels then
//! runs over that buffer and the two weight rows (OHWI: each output channel's weights are one
//! contiguous row, read straight from the model): 16 multiply-adds in 8 SMLADs plus 2 loads and
//! 4 SXTB16 per step. Accumulators are rescaled with [`ChannelRescale`], prepared once per call
//! into a per-channel table in scratch together with the bias.
//!
//! It applies when every output channel has a [`ChannelRescale`] and an accumulator that cannot
//! reach `2^30` (see [`accumulator_fits`]), the input zero point is an int8 value and the
//! convolution has one group; the caller falls back to the portable kernel otherwise (and when
//! the scratch is too short). Results are bit-identical to the portable kernel.

use super::conv::{Conv2d, Window};
use super::rescale::{accumulator_fits, ChannelRescale};
use super::{bias_at, dsp, word, I32Le, Requantize};

/// Bytes of scratch [`conv`] needs: the channel table (16 bytes per output channel), the
/// widened patches of two pixels (8 bytes per pair of values... 16 per 4 values) and the raw
/// patches (2 x `patch` bytes), plus 4 bytes of alignment slack.
pub fn scratch_bytes(out_channels: usize, patch: usize) -> usize {
    let groups = patch.div_ceil(4);
    out_channels.saturating_mul(16).saturating_add(groups.saturating_mul(16 + 8)).saturating_add(4)
}

/// One channel's entry of the table: bias, then [`ChannelRescale`]'s three fields.
type Entry = [u32; 4];

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
    let Some(words) = words.get_mut(..channels * 4 + groups * 6) else {
        return false;
    };
    let (table, rest) = words.split_at_mut(channels * 4);
    let (wide, raw) = rest.split_at_mut(groups * 4);
    let (table, _) = table.as_chunks_mut::<4>();
    let (wide, _) = wide.as_chunks_mut::<4>();
    let raw: &mut [i8] = bytemuck::cast_slice_mut(raw);
    let (raw0, raw1) = raw.split_at_mut(groups * 4);
    let (Some(raw0), Some(raw1)) = (raw0.get_mut(..patch), raw1.get_mut(..patch)) else {
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
        *entry = [b as u32, r.multiplier as u32, r.round as u32, r.shift];
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
    let mut rows = output.chunks_exact_mut(2 * channels);
    let mut p = 0;
    for out2 in &mut rows {
        let (out0, out1) = out2.split_at_mut(channels);
        let at = |p: usize| (p / (out_h * out_w), (p / out_w) % out_h, p % out_w);
        geometry.widen(input, at(p), raw0, wide, 0);
        geometry.widen(input, at(p + 1), raw1, wide, 2);
        if full_range {
            channel_pairs::<true>(wide, filter, patch, table, out0, out1, lo, hi);
        } else {
            channel_pairs::<false>(wide, filter, patch, table, out0, out1, lo, hi);
        }
        p += 2;
    }
    let last = rows.into_remainder();
    if p < pixels && !last.is_empty() {
        geometry.widen(input, (p / (out_h * out_w), (p / out_w) % out_h, p % out_w), raw0, wide, 0);
        let mut spare = [0i8; 0];
        channel_pairs::<false>(wide, filter, patch, table, last, &mut spare, lo, hi);
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
        wide: &mut [[u32; 4]],
        lane: usize,
    ) {
        let (d, row_len) = (self.depth, self.kw * self.depth);
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
        let (quads, tail) = raw.as_chunks::<4>();
        for (g, q) in wide.iter_mut().zip(quads) {
            let v = word(q);
            g[lane] = dsp::sxtab16(self.offset, v);
            g[lane + 1] = dsp::sxtab16_ror8(self.offset, v);
        }
        if let Some(g) = wide.get_mut(quads.len()) {
            let mut q = [self.pad; 4];
            q[..tail.len()].copy_from_slice(tail);
            let v = word(&q);
            g[lane] = dsp::sxtab16(self.offset, v);
            g[lane + 1] = dsp::sxtab16_ror8(self.offset, v);
        }
    }
}

/// Runs every pair of output channels over the widened patches of two pixels, writing `out0`
/// (first pixel) and `out1` (second; may be empty).
#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn channel_pairs<const FULL_RANGE: bool>(
    wide: &[[u32; 4]],
    filter: &[i8],
    patch: usize,
    table: &[Entry],
    out0: &mut [i8],
    out1: &mut [i8],
    lo: i32,
    hi: i32,
) {
    let finish = |acc: i32, e: &Entry| {
        let r = ChannelRescale { multiplier: e[1] as i32, round: e[2] as i32, shift: e[3] };
        let v = r.apply(acc);
        if FULL_RANGE {
            v.clamp(-128, 127) as i8
        } else {
            v.max(lo).min(hi) as i8
        }
    };
    let mut rows = filter.chunks_exact(2 * patch);
    let mut entries = table.chunks_exact(2);
    let mut o = 0;
    for (w, t) in (&mut rows).zip(&mut entries) {
        let (w0, w1) = w.split_at(patch);
        let [a00, a01, a10, a11] = mac2x2(wide, w0, w1, [t[0][0] as i32, t[1][0] as i32]);
        if let Some(out) = out0.get_mut(o..o + 2) {
            out[0] = finish(a00, &t[0]);
            out[1] = finish(a01, &t[1]);
        }
        if let Some(out) = out1.get_mut(o..o + 2) {
            out[0] = finish(a10, &t[0]);
            out[1] = finish(a11, &t[1]);
        }
        o += 2;
    }
    if let (Some(w), Some(e)) = (rows.remainder().get(..patch), entries.remainder().first()) {
        let [a0, _, a1, _] = mac2x2(wide, w, w, [e[0] as i32, e[0] as i32]);
        if let Some(out) = out0.get_mut(o) {
            *out = finish(a0, e);
        }
        if let Some(out) = out1.get_mut(o) {
            *out = finish(a1, e);
        }
    }
}

/// The four dot products of two widened patches (lanes 0-1 and 2-3 of `wide`) with two weight
/// rows, added to `init` (the channels' biases): `[p0.w0, p0.w1, p1.w0, p1.w1]`.
#[inline(always)]
fn mac2x2(wide: &[[u32; 4]], w0: &[i8], w1: &[i8], init: [i32; 2]) -> [i32; 4] {
    let (w04, w0_tail) = w0.as_chunks::<4>();
    let (w14, w1_tail) = w1.as_chunks::<4>();
    let [mut a00, mut a01] = init;
    let [mut a10, mut a11] = init;
    let mut step = |x: &[u32; 4], v0: u32, v1: u32| {
        let (e0, o0) = (dsp::sxtb16(v0), dsp::sxtb16_ror8(v0));
        let (e1, o1) = (dsp::sxtb16(v1), dsp::sxtb16_ror8(v1));
        a00 = dsp::smlad(x[1], o0, dsp::smlad(x[0], e0, a00));
        a01 = dsp::smlad(x[1], o1, dsp::smlad(x[0], e1, a01));
        a10 = dsp::smlad(x[3], o0, dsp::smlad(x[2], e0, a10));
        a11 = dsp::smlad(x[3], o1, dsp::smlad(x[2], e1, a11));
    };
    for ((x, c0), c1) in wide.iter().zip(w04).zip(w14) {
        step(x, word(c0), word(c1));
    }
    if let Some(x) = wide.get(w04.len()) {
        if !w0_tail.is_empty() {
            let (mut t0, mut t1) = ([0i8; 4], [0i8; 4]);
            t0[..w0_tail.len()].copy_from_slice(w0_tail);
            t1[..w1_tail.len().min(w0_tail.len())]
                .copy_from_slice(&w1_tail[..w1_tail.len().min(w0_tail.len())]);
            step(x, word(&t0), word(&t1));
        }
    }
    [a00, a01, a10, a11]
}
