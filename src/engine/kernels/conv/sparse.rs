//! Zero-weight skipping for CONV_2D: each output channel's nonzero weights listed once at load
//! time as `(tap offset, weight)` pairs, walked for several output pixels at a time.
//!
//! With `acc = bias + sum_t w_t (x_t - zp_in)` over the window's taps (padding contributes
//! nothing), the sum runs over the nonzero `w_t` only, and the zero-point term is folded into a
//! per-channel constant: `acc = (bias - zp_in * sum_t w_t) + sum_{t: w_t != 0} w_t x_t`. For that
//! to hold at the borders too, taps are read from a source in which padding holds the input zero
//! point (whose term is then 0):
//!
//! for each output row, the `kh` input rows its windows read are copied into scratch memory,
//! channel-planar and widened to `i16` (`kh x depth x padded_width` values, padding filled in),
//! so that every tap `(ky, kx, i)` is at a fixed offset from the output pixel's first tap and the
//! taps of neighbouring output pixels (stride 1) are neighbouring `i16`s: on the Cortex-M4 one
//! word load feeds two pixels (SMLABT/SMLATT, the weight in the entry's top half), and eight
//! pixels share each walk of the list (`walk8`).
//!
//! The integer arithmetic wraps exactly like the dense kernel's, so the results are
//! bit-identical to the reference kernel's.
//!
//! Table layout (little-endian bytes, in the operator's record, sized by [`table_bytes`]): per
//! output channel `count: u32`, `constant: i32`, then `count` entries of one word, the tap's
//! byte offset in the buffer in the low half and the weight (sign-extended) in the high half.
//!
//! What it does not do: grouped convolutions, or offsets beyond 16 bits (those stay dense;
//! [`TapLayout::new`] says so), DEPTHWISE_CONV_2D.

use super::{Conv2d, ConvOperands, Shapes};
use crate::engine::arith::clamp_to_i8;
use crate::engine::kernels::rescale::ChannelRescale;
use crate::engine::kernels::{bias_at, I32Le, KernelError};

/// Bytes of one channel's header (`count: u32`, `constant: i32`).
const HEADER: usize = 8;
/// Bytes of one entry.
const ENTRY: usize = 4;

/// Where a convolution's taps are read from: the buffer of one output row's input rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TapLayout {
    /// Window rows (`kh`), the buffer's rows.
    pub rows: usize,
    /// Input channels (planes per buffer row).
    pub depth: usize,
    /// Values per plane: the input columns one output row's windows span, padding included.
    pub width: usize,
    /// Values between two window columns (the horizontal dilation).
    pub col_step: usize,
    /// Values between the first taps of two neighbouring output pixels (the horizontal stride).
    pub pixel_step: usize,
    /// Output channels (each gets its rescale prepared once per call in scratch).
    pub channels: usize,
    /// Output rows per fill of the buffer: with a vertical stride and dilation of 1, the
    /// windows of `fill_rows` consecutive output rows read `rows + fill_rows - 1` input rows,
    /// which the buffer then holds (each filled once instead of `rows` times); 1 otherwise.
    pub fill_rows: usize,
}

impl TapLayout {
    /// The layout of a convolution of `shapes` with `k`'s window; `None` if it cannot be
    /// listed: a grouped convolution, sizes that overflow, or tap offsets beyond 16 bits.
    pub fn new(k: &Conv2d, shapes: Shapes) -> Option<TapLayout> {
        let [_, _, _, depth] = shapes.input;
        let [channels, kh, kw, filter_depth] = shapes.filter;
        let [_, out_h, out_w, _] = shapes.output;
        let w = k.geometry;
        if depth == 0 || filter_depth != depth || kh == 0 || kw == 0 || out_w == 0 {
            return None;
        }
        let width = (out_w - 1)
            .checked_mul(w.stride_w)?
            .checked_add((kw - 1).checked_mul(w.dilation_w)?)?
            .checked_add(1)?;
        let fill_rows = if w.stride_h == 1 && w.dilation_h == 1 { out_h.clamp(1, 8) } else { 1 };
        let layout = TapLayout {
            rows: kh,
            depth,
            width,
            col_step: w.dilation_w,
            pixel_step: w.stride_w,
            channels,
            fill_rows,
        };
        // Every tap's byte offset (within one window's rows) must fit in 16 bits.
        let window_values = layout.window_values()?;
        layout.values()?;
        (window_values.checked_mul(2)? <= 1 << 16).then_some(layout)
    }

    /// The offset (in values) of tap `(ky, kx, i)` from an output pixel's first tap.
    pub fn offset(&self, ky: usize, kx: usize, i: usize) -> Option<usize> {
        ky.checked_mul(self.depth)?
            .checked_add(i)?
            .checked_mul(self.width)?
            .checked_add(kx.checked_mul(self.col_step)?)
    }

    /// Values of one buffer row (all planes of one input row).
    fn row_values(&self) -> Option<usize> {
        self.depth.checked_mul(self.width)
    }

    /// Values of the rows one window spans (what one output row's taps can reach).
    fn window_values(&self) -> Option<usize> {
        self.rows.checked_mul(self.row_values()?)
    }

    /// Values of the buffer: the rows of `fill_rows` output rows' windows.
    fn values(&self) -> Option<usize> {
        self.rows.checked_add(self.fill_rows)?.checked_sub(1)?.checked_mul(self.row_values()?)
    }

    /// Bytes of scratch memory: each channel's rescale (16 bytes), the buffer, and slack to
    /// align them.
    pub fn scratch_bytes(&self) -> usize {
        self.values().map_or(usize::MAX, |v| {
            let buffer = v.saturating_add(1).saturating_mul(2);
            buffer.saturating_add(self.channels.saturating_mul(16)).saturating_add(4)
        })
    }
}

/// True if weights with `nonzero` of `total` values not zero are worth listing (at most half
/// of them nonzero).
pub fn worth_it(nonzero: usize, total: usize) -> bool {
    nonzero.saturating_mul(2) <= total
}

/// The number of nonzero values of `filter`.
pub fn nonzero(filter: &[i8]) -> usize {
    filter.iter().filter(|&&w| w != 0).count()
}

/// Bytes of the table for `channels` channels with `nonzero` listed weights in all.
pub fn table_bytes(channels: usize, nonzero: usize) -> usize {
    channels.saturating_mul(HEADER).saturating_add(nonzero.saturating_mul(ENTRY))
}

/// True if every channel's accumulator stays below `2^30` in magnitude whatever the input
/// (`|bias| + 255 * sum |w|`), so that the fast rescale ([`ChannelRescale`]) is exact.
pub fn bounded(filter: &[i8], patch: usize, bias: Option<I32Le<'_>>) -> bool {
    patch > 0
        && filter.chunks_exact(patch).enumerate().all(|(o, row)| {
            let weights: u64 = row.iter().map(|&w| w.unsigned_abs() as u64).sum();
            (bias_at(bias, o).unsigned_abs() as u64) + 255 * weights < 1 << 30
        })
}

/// Writes the table of `filter` (OHWI, `shapes.filter`) for `layout` into `out`
/// ([`table_bytes`] long), folding `bias` and the input offset (`-zp_in`) into each channel's
/// constant; `false` (and `out` unspecified) if it does not fit.
pub fn write_table(
    filter: &[i8],
    shapes: Shapes,
    layout: &TapLayout,
    input_offset: i32,
    bias: Option<I32Le<'_>>,
    out: &mut [u8],
) -> bool {
    let [channels, kh, kw, depth] = shapes.filter;
    let patch = kh * kw * depth;
    if patch == 0 || Some(filter.len()) != channels.checked_mul(patch) {
        return false;
    }
    let mut at = 0;
    for (o, row) in filter.chunks_exact(patch).enumerate() {
        let head_at = at;
        at += HEADER;
        let (mut count, mut sum) = (0u32, 0i32);
        for (t, &w) in row.iter().enumerate() {
            if w == 0 {
                continue;
            }
            let (ky, kx, i) = (t / (kw * depth), (t / depth) % kw, t % depth);
            let (Some(offset), Some(entry)) =
                (layout.offset(ky, kx, i), out.get_mut(at..at + ENTRY))
            else {
                return false;
            };
            let word = ((2 * offset) as u32 & 0xFFFF) | ((w as i32) << 16) as u32;
            entry.copy_from_slice(&word.to_le_bytes());
            at += ENTRY;
            count += 1;
            sum = sum.wrapping_add(w as i32);
        }
        let constant = bias_at(bias, o).wrapping_add(input_offset.wrapping_mul(sum));
        let Some(head) = out.get_mut(head_at..head_at + HEADER) else {
            return false;
        };
        head[..4].copy_from_slice(&count.to_le_bytes());
        head[4..].copy_from_slice(&constant.to_le_bytes());
    }
    at == out.len()
}

/// Runs `k` with the listed weights of `ops.listed` (a table [`write_table`] wrote for these
/// shapes) over `ops.input`, writing `ops.output`; `scratch` holds at least
/// [`TapLayout::scratch_bytes`] bytes. `PACKED`: eight pixels per walk of a list where the
/// stride allows it (DSP); `bounded` ([`bounded`] holds for the weights and bias): the fast
/// rescale for every channel whose multiplier has it (packed only). Same results as the
/// reference kernel with the weights the table was made from.
///
/// Errors: [`KernelError::ShapeMismatch`] if a length disagrees with the shapes, the table does
/// not hold one list per output channel or lists a tap outside the buffer, or the scratch is
/// too short; nothing is written then.
#[inline(never)]
pub(super) fn eval<const PACKED: bool>(
    k: &Conv2d,
    ops: ConvOperands<'_>,
    scratch: &mut [u8],
    bounded: bool,
) -> Result<(), KernelError> {
    super::check_shapes(k, &ops)?;
    let ConvOperands { input, listed: table, requantize, output, shapes, .. } = ops;
    let [batches, _, _, _] = shapes.input;
    let [channels, _, _, _] = shapes.filter;
    let [_, out_h, out_w, _] = shapes.output;
    let l = TapLayout::new(k, shapes).ok_or(KernelError::ShapeMismatch)?;
    let values = l.values().ok_or(KernelError::ShapeMismatch)?;
    let (_, words, _) = bytemuck::pod_align_to_mut::<u8, u32>(scratch);
    let (rescales, words) = words.split_at_mut(words.len().min(4 * channels));
    let (rescales, _) = rescales.as_chunks_mut::<4>();
    let buffer: &mut [i16] = bytemuck::cast_slice_mut(words);
    let buffer = buffer.get_mut(..values).ok_or(KernelError::ShapeMismatch)?;
    if rescales.len() != channels {
        return Err(KernelError::ShapeMismatch);
    }
    // Every listed tap is within `reach` bytes of its pixel's first tap (checked once here),
    // so every pixel's taps are inside the buffer.
    let reach = check_table(table, channels)?;
    let window_values = l.window_values().ok_or(KernelError::ShapeMismatch)?;
    let row_values = l.row_values().ok_or(KernelError::ShapeMismatch)?;
    // Output row `j` of a fill reads from `buffer[j * row_values..]`, which holds at least
    // `window_values` values for every `j < fill_rows`.
    if (out_w - 1) * l.pixel_step * 2 + reach + 1 >= 2 * window_values
        || (l.fill_rows - 1) * row_values + window_values > values
    {
        return Err(KernelError::ShapeMismatch);
    }
    let pad = -k.input_offset.clamp(-127, 128) as i16;
    let (zp, lo, hi) = (k.output_offset, k.activation_min, k.activation_max);
    let full_range = lo <= -128 && hi >= 127;
    // Each channel's fast rescale, once per call: [multiplier, round, shift, usable].
    for (o, slot) in rescales.iter_mut().enumerate() {
        let fast =
            if PACKED && bounded { ChannelRescale::new(requantize.get(o), zp) } else { None };
        *slot = match fast {
            Some(r) => [r.multiplier as u32, r.round as u32, r.shift, 1],
            None => [0; 4],
        };
    }
    let eight = PACKED && l.pixel_step == 1 && out_w >= 8;
    for b in 0..batches {
        for y in 0..out_h {
            let j = y % l.fill_rows;
            if j == 0 {
                fill_rows(input, shapes, k, (b, y), &l, pad, buffer);
            }
            // This output row's windows start at buffer row `j`; the rows it reads are in
            // `rows` (checked above to hold `window_values` values).
            let rows = buffer.get(j * row_values..).ok_or(KernelError::ShapeMismatch)?;
            let row_out = ((b * out_h + y) * out_w) * channels;
            let out_row = output
                .get_mut(row_out..row_out + out_w * channels)
                .ok_or(KernelError::ShapeMismatch)?;
            let mut rest = table;
            for (o, slot) in rescales.iter().enumerate() {
                let (entries, constant, next) = split_channel(rest)?;
                rest = next;
                let fast = (slot[3] != 0).then_some(ChannelRescale {
                    multiplier: slot[0] as i32,
                    round: slot[1] as i32,
                    shift: slot[2] & 31,
                });
                if let (true, Some(r)) = (eight, fast) {
                    // The common case, without the general path's closures: eight pixels
                    // per walk, rescaled and stored by `walk8_store` (saturated to int8; a
                    // narrower fused activation is applied to the whole output at the end).
                    let mut x = 0;
                    while x < out_w {
                        // The last block overlaps the one before (same values recomputed).
                        let x0 = x.min(out_w - 8);
                        let src = rows.get(x0..).ok_or(KernelError::ShapeMismatch)?;
                        let dst = out_row
                            .get_mut(x0 * channels + o..)
                            .filter(|d| d.len() > 7 * channels)
                            .ok_or(KernelError::ShapeMismatch)?;
                        // SAFETY: `x0 + 7 < out_w`, so pixel `x0 + j` (j < 8) reads bytes
                        // `2 * (x0 + j) + offset + 1 <= 2 * (out_w - 1) + reach + 1` of
                        // `rows`, which holds at least `window_values` values (checked
                        // above, as is that bound; every offset is at most `reach`,
                        // `check_table`): the contract of `walk8`; `dst` holds more than
                        // `7 * channels` bytes (just checked).
                        unsafe { walk8_store(entries, src, constant, r, dst, channels) };
                        x = x0 + 8;
                    }
                    continue;
                }
                let finish = |acc: i32| -> i8 {
                    match fast {
                        Some(r) if full_range => r.apply(acc).clamp(-128, 127) as i8,
                        Some(r) => clamp_to_i8(r.apply(acc), lo, hi),
                        None => clamp_to_i8(requantize.get(o).apply(acc).wrapping_add(zp), lo, hi),
                    }
                };
                let put = |out: &mut [i8], x: usize, acc: &[i32]| {
                    for (j, &a) in acc.iter().enumerate() {
                        if let Some(v) = out.get_mut((x + j) * channels + o) {
                            *v = finish(a);
                        }
                    }
                };
                if eight {
                    let mut x = 0;
                    while x < out_w {
                        // The last block overlaps the one before (same values recomputed).
                        let x0 = x.min(out_w - 8);
                        // `x0 + 7 < out_w`, so pixel `x0 + j` (j < 8) reads bytes
                        // `2 * (x0 + j) + offset + 1 <= 2 * (out_w - 1) + reach + 1` of
                        // `rows`, which holds at least `window_values` values (checked
                        // above, as is that bound; every offset is at most `reach`,
                        // `check_table`): the contract of `walk8`.
                        let src = rows.get(x0..).ok_or(KernelError::ShapeMismatch)?;
                        // SAFETY: as above.
                        put(out_row, x0, &unsafe { walk8(entries, src, constant) });
                        x = x0 + 8;
                    }
                } else {
                    for x in 0..out_w {
                        let at = x * l.pixel_step;
                        let acc = walk(entries, rows.get(at..).unwrap_or(&[]), constant);
                        put(out_row, x, &[acc]);
                    }
                }
            }
        }
    }
    // `clamp(ssat8(v), lo, hi) == clamp_to_i8(v, lo, hi)` since `-128 <= lo <= hi <= 127`;
    // outputs already clamped are unchanged.
    if !full_range {
        for v in output.iter_mut() {
            *v = (*v as i32).max(lo).min(hi) as i8;
        }
    }
    Ok(())
}

/// Checks that `table` holds exactly `channels` lists; returns the largest listed offset.
fn check_table(table: &[u8], channels: usize) -> Result<usize, KernelError> {
    let mut rest = table;
    let mut reach = 0;
    for _ in 0..channels {
        let (entries, _, next) = split_channel(rest)?;
        for e in entries.as_chunks::<4>().0 {
            reach = reach.max(u16::from_le_bytes([e[0], e[1]]) as usize);
        }
        rest = next;
    }
    if rest.is_empty() {
        Ok(reach)
    } else {
        Err(KernelError::ShapeMismatch)
    }
}

/// One channel's entries and constant, and the rest of the table.
#[inline(always)]
fn split_channel(table: &[u8]) -> Result<(&[u8], i32, &[u8]), KernelError> {
    let head = table.get(..HEADER).ok_or(KernelError::ShapeMismatch)?;
    let count = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
    let constant = i32::from_le_bytes([head[4], head[5], head[6], head[7]]);
    let end = count.checked_mul(ENTRY).and_then(|n| n.checked_add(HEADER));
    let end = end.filter(|&e| e <= table.len()).ok_or(KernelError::ShapeMismatch)?;
    Ok((&table[HEADER..end], constant, &table[end..]))
}

/// One output pixel's accumulator, its first tap at `src[0]`:
/// `init + sum w * src[offset / 2]` over the entries, in wrapping `i32` (a tap outside `src`
/// reads 0; [`eval`] checks that none is).
#[inline(always)]
fn walk(entries: &[u8], src: &[i16], init: i32) -> i32 {
    let mut acc = init;
    for e in entries.as_chunks::<4>().0 {
        let x = src.get(u16::from_le_bytes([e[0], e[1]]) as usize / 2).copied().unwrap_or(0);
        let w = i16::from_le_bytes([e[2], e[3]]);
        acc = acc.wrapping_add((w as i32).wrapping_mul(x as i32));
    }
    acc
}

/// The Cortex-M4 loop of [`walk8`] and [`walk8_store`]: entries from r8 to r9, the pixels'
/// first taps at r10, the eight accumulators in r0-r7 (initialised from r11); uses r11, r12, lr.
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
macro_rules! walk8_loop {
    () => {
        concat!(
            "mov r0, r11\n",
            "mov r1, r11\n",
            "mov r2, r11\n",
            "mov r3, r11\n",
            "mov r4, r11\n",
            "mov r5, r11\n",
            "mov r6, r11\n",
            "mov r7, r11\n",
            "subs r11, r9, r8\n",
            "beq 4f\n",
            "tst r11, #4\n",
            "bne 3f\n",
            "2:\n",
            walk8_entry!(),
            "3:\n",
            walk8_entry!(),
            "cmp r8, r9\n",
            "bne 2b\n",
            "4:\n",
        )
    };
}

/// One entry of [`walk8_loop`]: its weight times the taps of eight pixels (four word loads of
/// two `i16` each).
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
macro_rules! walk8_entry {
    () => {
        concat!(
            "ldr r11, [r8], #4\n",
            "uxtah r12, r10, r11\n",
            "ldr lr, [r12]\n",
            "smlabt r0, lr, r11, r0\n",
            "smlatt r1, lr, r11, r1\n",
            "ldr lr, [r12, #4]\n",
            "smlabt r2, lr, r11, r2\n",
            "smlatt r3, lr, r11, r3\n",
            "ldr lr, [r12, #8]\n",
            "smlabt r4, lr, r11, r4\n",
            "smlatt r5, lr, r11, r5\n",
            "ldr lr, [r12, #12]\n",
            "smlabt r6, lr, r11, r6\n",
            "smlatt r7, lr, r11, r7\n",
        )
    };
}

/// The rescale and store of pixel `$r` in [`walk8_store`]: SMMULR of the doubled accumulator
/// (r8: multiplier), the rounding constant (r9), the sign fix, the shift (r10), SSAT, the
/// byte store at r11, which then advances by lr.
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
macro_rules! walk8_finish {
    ($r:literal) => {
        concat!(
            "lsl r12, ",
            $r,
            ", #1\n",
            "smmulr r12, r12, r8\n",
            "add ",
            $r,
            ", r12, r9\n",
            "sub ",
            $r,
            ", ",
            $r,
            ", r12, lsr #31\n",
            "asr ",
            $r,
            ", ",
            $r,
            ", r10\n",
            "ssat ",
            $r,
            ", #8, ",
            $r,
            "\n",
            "strb ",
            $r,
            ", [r11]\n",
            "add r11, r11, lr\n",
        )
    };
}

/// [`walk8`], then each pixel's output `clamp(r.apply(acc), -128, 127)` stored at
/// `out[j * stride]` (the full int8 range: no fused activation narrower than it).
///
/// # Safety
///
/// As [`walk8`], and `out` holds more than `7 * stride` bytes.
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
#[inline(always)]
unsafe fn walk8_store(
    entries: &[u8],
    src: &[i16],
    init: i32,
    r: ChannelRescale,
    out: &mut [i8],
    stride: usize,
) {
    let range = entries.as_ptr_range();
    let params =
        [r.multiplier as u32, r.round as u32, r.shift, out.as_mut_ptr() as u32, stride as u32];
    // SAFETY: the loop reads the entries between `range.start` and `range.end` (a multiple of 4
    // bytes; LDR may be unaligned on the Cortex-M4) and for each entry the 16 bytes at
    // `src + offset`, inside `src` by the function's contract; it reads the 20 bytes of `params`
    // (word-aligned for LDM) and writes `out[j * stride]` for `j < 8`, inside `out` by the
    // contract. r6 and r7 (LLVM's base and frame pointers, not usable as operands) and the
    // params pointer are pushed first and restored last; the stack pointer is restored. All
    // other registers it changes are declared.
    unsafe {
        core::arch::asm!(
            "push {{r6, r7, r12}}",
            walk8_loop!(),
            "ldr r12, [sp, #8]",
            "ldm r12, {{r8, r9, r10, r11, lr}}",
            walk8_finish!("r0"),
            walk8_finish!("r1"),
            walk8_finish!("r2"),
            walk8_finish!("r3"),
            walk8_finish!("r4"),
            walk8_finish!("r5"),
            walk8_finish!("r6"),
            walk8_finish!("r7"),
            "pop {{r6, r7}}",
            "add sp, sp, #4",
            inout("r8") range.start => _,
            inout("r9") range.end => _,
            inout("r10") src.as_ptr() => _,
            inout("r11") init => _,
            inout("r12") params.as_ptr() => _,
            out("r0") _,
            out("r1") _,
            out("r2") _,
            out("r3") _,
            out("r4") _,
            out("r5") _,
            out("lr") _,
        );
    }
}

/// [`walk8_store`] on other targets (the Cortex-M4 code's semantics in Rust).
///
/// # Safety
///
/// None needed (accesses are checked); `unsafe` only to match the Cortex-M4 version.
#[cfg(not(all(target_arch = "arm", target_feature = "dsp")))]
#[inline(always)]
unsafe fn walk8_store(
    entries: &[u8],
    src: &[i16],
    init: i32,
    r: ChannelRescale,
    out: &mut [i8],
    stride: usize,
) {
    // SAFETY: `walk8` has no requirement on other targets.
    let acc = unsafe { walk8(entries, src, init) };
    for (j, a) in acc.into_iter().enumerate() {
        if let Some(v) = out.get_mut(j * stride) {
            *v = r.apply(a).clamp(-128, 127) as i8;
        }
    }
}

/// [`walk`] for the eight output pixels whose first taps are `src[0..8]` (stride 1), on the
/// Cortex-M4: per entry one load of the entry, one add, and four word loads each feeding two
/// pixels (SMLABT, SMLATT), two entries per loop.
///
/// # Safety
///
/// Every entry's offset (low half, in bytes) is at most `reach`, and `src` holds more than
/// `(reach + 14) / 2` values.
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
#[inline(always)]
unsafe fn walk8(entries: &[u8], src: &[i16], init: i32) -> [i32; 8] {
    let mut acc = [init; 8];
    let range = entries.as_ptr_range();
    // SAFETY: the loop reads the entries between `range.start` and `range.end` (a whole number
    // of 4-byte entries, `as_chunks` below is not needed: `split_channel` made `entries` a
    // multiple of 4 long; LDR may be unaligned on the Cortex-M4), and for each entry the 16
    // bytes at `src + offset`, inside `src` by the function's contract. It writes the 32 bytes
    // of `acc` (word-aligned for STM). r6 and r7 (LLVM's base and frame pointers, not usable as
    // operands) and the output pointer are pushed first and restored last; the stack pointer is
    // restored. All other registers it changes are declared.
    unsafe {
        core::arch::asm!(
            "push {{r6, r7, r12}}",
            walk8_loop!(),
            "ldr r12, [sp, #8]",
            "stm r12, {{r0, r1, r2, r3, r4, r5, r6, r7}}",
            "pop {{r6, r7}}",
            "add sp, sp, #4",
            inout("r8") range.start => _,
            inout("r9") range.end => _,
            inout("r10") src.as_ptr() => _,
            inout("r11") init => _,
            inout("r12") acc.as_mut_ptr() => _,
            out("r0") _,
            out("r1") _,
            out("r2") _,
            out("r3") _,
            out("r4") _,
            out("r5") _,
            out("lr") _,
        );
    }
    acc
}

/// [`walk`] for eight pixels (other targets: the Cortex-M4 loop's semantics in Rust).
///
/// # Safety
///
/// None needed (reads are checked); `unsafe` only to match the Cortex-M4 version.
#[cfg(not(all(target_arch = "arm", target_feature = "dsp")))]
#[inline(always)]
unsafe fn walk8(entries: &[u8], src: &[i16], init: i32) -> [i32; 8] {
    core::array::from_fn(|j| walk(entries, src.get(j..).unwrap_or(&[]), init))
}

/// Copies the `kh` input rows that the windows of output row `(b, y)` read into `buffer`,
/// channel-planar and widened (`layout`), the padding filled with `pad` (the input zero point).
fn fill_rows(
    input: &[i8],
    shapes: Shapes,
    k: &Conv2d,
    (b, y): (usize, usize),
    layout: &TapLayout,
    pad: i16,
    buffer: &mut [i16],
) {
    let [_, in_h, in_w, depth] = shapes.input;
    let w = k.geometry;
    let width = layout.width.max(1);
    let left = w.pad_w.min(width);
    let n = in_w.min(width - left);
    for (ky, row) in buffer.chunks_exact_mut(depth * width).enumerate() {
        let src = w.in_y(y, ky, in_h).and_then(|iy| {
            let at = (b * in_h + iy) * in_w * depth;
            input.get(at..at + n * depth)
        });
        let Some(src) = src else {
            row.fill(pad);
            continue;
        };
        for plane in row.chunks_exact_mut(width) {
            let (head, tail) = plane.split_at_mut(left);
            head.fill(pad);
            tail.get_mut(n..).unwrap_or(&mut []).fill(pad);
        }
        // Four planes at a time: one bounds check per input pixel and four values.
        let cols = left..left + n;
        let mut planes = row.chunks_exact_mut(width);
        let mut i = 0;
        while i + 4 <= depth {
            let (Some(p0), Some(p1), Some(p2), Some(p3)) =
                (planes.next(), planes.next(), planes.next(), planes.next())
            else {
                return;
            };
            let quads = p0.get_mut(cols.clone()).unwrap_or(&mut []).iter_mut().zip(
                p1.get_mut(cols.clone()).unwrap_or(&mut []).iter_mut().zip(
                    p2.get_mut(cols.clone())
                        .unwrap_or(&mut [])
                        .iter_mut()
                        .zip(p3.get_mut(cols.clone()).unwrap_or(&mut [])),
                ),
            );
            for ((d0, (d1, (d2, d3))), px) in quads.zip(src.chunks_exact(depth)) {
                if let Some(&[a, b, c, d]) = px.get(i..i + 4) {
                    (*d0, *d1, *d2, *d3) = (a as i16, b as i16, c as i16, d as i16);
                }
            }
            i += 4;
        }
        for plane in planes {
            let column = src.get(i..).unwrap_or(&[]);
            let dst = plane.get_mut(cols.clone()).unwrap_or(&mut []);
            for (d, px) in dst.iter_mut().zip(column.chunks(depth)) {
                *d = px.first().copied().unwrap_or(0) as i16;
            }
            i += 1;
        }
    }
}
