//! Running a convolution in place: its output overlapping its own input in one region of the
//! arena, so that the two tensors never take their full sizes side by side.
//!
//! A CONV_2D or DEPTHWISE_CONV_2D reads, for output row `r`, the input rows of its vertical
//! window, `r * stride - pad ..` (`span` rows), and the rows before the window of a later output
//! row are never read again. So the output can be written over input rows that are done with:
//! the planner places the output [`output_below`] bytes below the input (zero when the output
//! never catches up with the rows still needed, e.g. a stride-2 or narrowing layer; a row or so
//! for a stride-1 3x3 layer; the growth of the tensor for a widening 1x1 layer), and [`run`]
//! computes the output in bands of [`Rows::band`] output rows. Each band's input rows are first
//! copied to a small buffer in the operator's scratch ([`Rows::buffer_bytes`]) and the unchanged
//! kernel runs on the copy as a convolution of a few rows (its top padding adjusted), writing the
//! band's output rows into the region. [`is_safe`] checks that no band's output reaches an input
//! row a later band still needs.
//!
//! The kernels are not changed: each band runs the operator's own kernel variant, chosen at
//! prepare, on shapes of a few rows.

use super::conv::{Conv2d, ConvOperands, Shapes};
use super::depthwise::{DepthwiseConv2d, DepthwiseOperands};
use super::geometry::Geometry;
use super::{I32Le, KernelError, Requantize};

/// Alignment of the planner's buffers: [`output_below`] and [`Rows::buffer_bytes`] are
/// multiples of it, so input, output and scratch stay as aligned as buffers of their own.
pub const ALIGN: usize = 16;

/// Bytes of input rows a band copies at most in [`Rows::of_conv`]'s bands (a band is at least
/// one output row, whatever its window needs); the planner chooses each operator's band itself.
pub const BAND_BYTES: usize = 2048;

/// The tallest band, in output rows (what the plan's record has room for).
pub const MAX_BAND: usize = 0x7FFF;

/// Where the input and output of an operator running in place lie, as byte offsets in the one
/// region it is handed (the region starts at the lower of the two).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct InPlace {
    /// Offset of the input's first byte.
    pub input: usize,
    /// Offset of the output's first byte.
    pub output: usize,
}

/// The rows of an operator run in place: how many, their bytes, and which input rows each
/// output row reads (`row * stride - pad`, `span` rows, clipped to the input).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Rows {
    /// Input rows.
    pub input_count: usize,
    /// Output rows.
    pub output_count: usize,
    /// Bytes of one input row.
    pub input: usize,
    /// Bytes of one output row.
    pub output: usize,
    /// Input rows between the windows of two consecutive output rows.
    pub stride: usize,
    /// Rows of padding above the input.
    pub pad: usize,
    /// Input rows one window spans (padding included).
    pub span: usize,
    /// Output rows of one batch (the output height): a band is no taller.
    pub batch_rows: usize,
    /// Output rows computed per band (at least 1).
    pub band: usize,
}

impl Rows {
    /// The rows of a convolution of `shapes` with `geometry` (a depthwise one if
    /// `depthwise`), with bands of as many output rows as copy at most [`BAND_BYTES`] of input
    /// (at least one). A 1x1 stride-1 convolution without padding runs over all its batches'
    /// rows; any other needs one batch. `None` if the shapes are not those of such a
    /// convolution or overflow.
    pub fn of_conv(geometry: Geometry, shapes: Shapes) -> Option<Rows> {
        let [batches, in_h, in_w, in_c] = shapes.input;
        let [_, kh, _, _] = shapes.filter;
        let [out_b, out_h, out_w, out_c] = shapes.output;
        let pointwise = kh == 1
            && shapes.filter[2] == 1
            && geometry.stride_h == 1
            && geometry.stride_w == 1
            && geometry.pad_h == 0
            && geometry.pad_w == 0
            && (out_h, out_w) == (in_h, in_w);
        if out_b != batches || batches == 0 || (batches != 1 && !pointwise) || kh == 0 {
            return None;
        }
        let (input_count, output_count) = if pointwise {
            (batches.checked_mul(in_h)?, batches.checked_mul(out_h)?)
        } else {
            (in_h, out_h)
        };
        let span = (kh - 1).checked_mul(geometry.dilation_h)?.checked_add(1)?;
        let mut rows = Rows {
            input_count,
            output_count,
            input: in_w.checked_mul(in_c)?,
            output: out_w.checked_mul(out_c)?,
            stride: geometry.stride_h,
            pad: geometry.pad_h,
            span,
            batch_rows: out_h,
            band: 1,
        };
        if rows.stride == 0 || output_count == 0 || input_count == 0 || rows.input == 0 {
            return None;
        }
        // The largest band whose input rows fit the budget (at least one row), and no taller
        // than one batch's output (a kernel's scratch is sized for the operator's shapes, which
        // may depend on the output height).
        let most = BAND_BYTES / rows.input;
        if most > span {
            rows.band = ((most - span) / rows.stride + 1).min(out_h).min(MAX_BAND);
        }
        // Every size the run computes must fit.
        rows.input_bytes()?;
        rows.output_bytes()?;
        rows.buffer_bytes()?;
        output_below(rows)?;
        Some(rows)
    }

    /// These rows in bands of `band` output rows; `None` if `band` is 0, taller than one
    /// batch's output (for a pointwise layer over several batches: a kernel's scratch is sized
    /// for the operator's shapes) or beyond [`MAX_BAND`], or a size overflows.
    pub fn with_band(self, band: usize) -> Option<Rows> {
        let rows = Rows { band, ..self };
        let ok = band >= 1 && band <= self.batch_rows && band <= MAX_BAND;
        (ok && rows.buffer_bytes().is_some() && output_below(rows).is_some()).then_some(rows)
    }

    /// Bytes of the whole input, `None` on overflow.
    pub fn input_bytes(&self) -> Option<usize> {
        self.input_count.checked_mul(self.input)
    }

    /// Bytes of the whole output, `None` on overflow.
    pub fn output_bytes(&self) -> Option<usize> {
        self.output_count.checked_mul(self.output)
    }

    /// The input rows `[lo, hi)` output rows `r0..r1` read, and the rows of padding above `lo`
    /// their first window starts with. `None` on overflow or an empty window.
    pub fn window(&self, r0: usize, r1: usize) -> Option<(usize, usize, usize)> {
        let start = r0.checked_mul(self.stride)?;
        let (lo, pad_top) =
            if start >= self.pad { (start - self.pad, 0) } else { (0, self.pad - start) };
        let end = r1.checked_sub(1)?.checked_mul(self.stride)?.checked_add(self.span)?;
        let (lo, hi) =
            (lo.min(self.input_count), end.saturating_sub(self.pad).min(self.input_count));
        (lo < hi).then_some((lo, hi, pad_top))
    }

    /// The first input row output rows from `r` on still read.
    fn first_needed(&self, r: usize) -> Option<usize> {
        Some(r.checked_mul(self.stride)?.saturating_sub(self.pad).min(self.input_count))
    }

    /// Input rows of the largest band.
    fn buffer_rows(&self) -> Option<usize> {
        let rows = self.band.checked_sub(1)?.checked_mul(self.stride)?.checked_add(self.span)?;
        Some(rows.min(self.input_count))
    }

    /// Bytes of the buffer [`run`] copies a band's input rows to (rounded up to [`ALIGN`], so
    /// that scratch after it keeps its alignment).
    pub fn buffer_bytes(&self) -> Option<usize> {
        let bytes = self.buffer_rows()?.checked_mul(self.input)?;
        bytes.checked_add(ALIGN - 1).map(|v| v / ALIGN * ALIGN)
    }

    /// The ends of every band but the last (where the rows still needed are checked).
    fn band_ends(&self) -> impl Iterator<Item = usize> {
        let band = self.band.max(1);
        (1..self.output_count.div_ceil(band)).map(move |b| b * band)
    }
}

/// How far below the input's first byte the output must start when an operator with these
/// rows runs in place: the most any band's written output rows reach past the first input row
/// a later band still reads (0 if they never do), rounded up to [`ALIGN`]. `None` on overflow.
pub fn output_below(rows: Rows) -> Option<usize> {
    let mut below = 0usize;
    for r in rows.band_ends() {
        let written = r.checked_mul(rows.output)?;
        let needed = rows.first_needed(r)?.checked_mul(rows.input)?;
        below = below.max(written.saturating_sub(needed));
    }
    below.checked_add(ALIGN - 1).map(|v| v / ALIGN * ALIGN)
}

/// True if running `rows` in place at `at` never writes an input byte before its last read:
/// after each band but the last, the output rows written so far end at or before the first
/// input row a later band reads (the last band's input is all in the buffer).
pub fn is_safe(at: InPlace, rows: Rows) -> bool {
    rows.band >= 1
        && rows.band_ends().all(|r| {
            let written = r.checked_mul(rows.output).and_then(|v| v.checked_add(at.output));
            let needed = rows.first_needed(r).and_then(|n| n.checked_mul(rows.input));
            let unread = needed.and_then(|v| v.checked_add(at.input));
            matches!((written, unread), (Some(w), Some(u)) if w <= u)
        })
}

/// One band of an operator run in place, as [`run`] hands it to the kernel.
#[derive(Debug)]
pub struct Band<'a> {
    /// The band's input rows (a copy).
    pub input: &'a [u8],
    /// Number of input rows in `input`.
    pub input_rows: usize,
    /// Rows of padding above `input` the band's first window starts with.
    pub pad_top: usize,
    /// The band's output rows, in the region.
    pub output: &'a mut [u8],
    /// Number of output rows.
    pub output_rows: usize,
    /// The operator's own scratch.
    pub scratch: &'a mut [u8],
}

/// Runs an operator in place, band by band: copies each band's input rows from `region` (at
/// `at.input`) into `buffer`, then calls `kernel` with the copy and the band's output rows in
/// `region` (at `at.output`).
///
/// Errors: [`KernelError::ShapeMismatch`] if `region` is too short for the input or output,
/// `buffer` shorter than [`Rows::buffer_bytes`], or the placement is not [`is_safe`] (checked
/// before anything is written); the first error of `kernel`.
pub fn run(
    region: &mut [u8],
    at: InPlace,
    rows: Rows,
    buffer: &mut [u8],
    scratch: &mut [u8],
    mut kernel: impl FnMut(Band<'_>) -> Result<(), KernelError>,
) -> Result<(), KernelError> {
    let input_end = rows.input_bytes().and_then(|b| b.checked_add(at.input));
    let output_end = rows.output_bytes().and_then(|b| b.checked_add(at.output));
    let fits = |end: Option<usize>| end.is_some_and(|e| e <= region.len());
    let buffered = rows.buffer_bytes().is_some_and(|b| b <= buffer.len());
    if !fits(input_end) || !fits(output_end) || !buffered || !is_safe(at, rows) {
        return Err(KernelError::ShapeMismatch);
    }
    let mut r0 = 0;
    while r0 < rows.output_count {
        let r1 = (r0 + rows.band).min(rows.output_count);
        let (lo, hi, pad_top) = rows.window(r0, r1).ok_or(KernelError::ShapeMismatch)?;
        let bytes = (hi - lo) * rows.input;
        let from = at.input + lo * rows.input;
        let input = buffer.get_mut(..bytes).ok_or(KernelError::ShapeMismatch)?;
        input.copy_from_slice(&region[from..from + bytes]);
        let to = at.output + r0 * rows.output;
        kernel(Band {
            input,
            input_rows: hi - lo,
            pad_top,
            output: &mut region[to..to + (r1 - r0) * rows.output],
            output_rows: r1 - r0,
            scratch: &mut *scratch,
        })?;
        r0 = r1;
    }
    Ok(())
}

/// What a convolution run in place reads besides its input: its weights (and listed weights),
/// bias, requantization and full shapes.
#[derive(Clone, Copy, Debug)]
pub struct Weights<'a> {
    /// The dense weights.
    pub filter: &'a [i8],
    /// A sparse CONV_2D variant's table (empty otherwise).
    pub listed: &'a [u8],
    /// One value per output channel, or none.
    pub bias: Option<I32Le<'a>>,
    /// Covers every output channel.
    pub requantize: Requantize<'a>,
    /// The operator's shapes.
    pub shapes: Shapes,
}

/// The shapes and geometry of one band of a convolution of `shapes`: a batch of
/// `band.input_rows` input rows and `band.output_rows` output rows, the band's top padding.
fn band_of(geometry: Geometry, shapes: Shapes, band: &Band<'_>) -> (Geometry, Shapes) {
    let [_, _, in_w, in_c] = shapes.input;
    let [_, _, out_w, out_c] = shapes.output;
    let shapes = Shapes {
        input: [1, band.input_rows, in_w, in_c],
        filter: shapes.filter,
        output: [1, band.output_rows, out_w, out_c],
    };
    (Geometry { pad_h: band.pad_top, ..geometry }, shapes)
}

/// Runs CONV_2D `k` in place over `rows` ([`Rows::of_conv`] of its shapes, any band): `region`
/// holds the input and output as `at` says, `scratch` starts with the band buffer
/// ([`Rows::buffer_bytes`]) followed by the kernel's scratch; `eval` runs the kernel (the
/// operator's variant) on each band's operands. Same results as the kernel run on separate
/// input and output.
///
/// Errors: as [`run`] and `eval`; [`KernelError::ShapeMismatch`] if `rows` are not those of
/// these shapes.
pub fn conv(
    k: &Conv2d,
    w: &Weights<'_>,
    rows: Rows,
    region: &mut [u8],
    at: InPlace,
    scratch: &mut [u8],
    mut eval: impl FnMut(&Conv2d, ConvOperands<'_>, &mut [u8]) -> Result<(), KernelError>,
) -> Result<(), KernelError> {
    let (buffer, scratch) = split_buffer(k.geometry, w.shapes, rows, scratch)?;
    run(region, at, rows, buffer, scratch, |band| {
        let (geometry, shapes) = band_of(k.geometry, w.shapes, &band);
        let ops = ConvOperands {
            input: bytemuck::cast_slice(band.input),
            filter: w.filter,
            listed: w.listed,
            bias: w.bias,
            requantize: w.requantize,
            output: bytemuck::cast_slice_mut(band.output),
            shapes,
        };
        eval(&Conv2d { geometry, ..*k }, ops, band.scratch)
    })
}

/// Runs DEPTHWISE_CONV_2D `k` in place, as [`conv`] does a CONV_2D.
///
/// Errors: as [`run`] and `eval`; [`KernelError::ShapeMismatch`] if `rows` are not those of
/// these shapes.
pub fn depthwise(
    k: &DepthwiseConv2d,
    w: &Weights<'_>,
    rows: Rows,
    region: &mut [u8],
    at: InPlace,
    scratch: &mut [u8],
    mut eval: impl FnMut(&DepthwiseConv2d, DepthwiseOperands<'_>, &mut [u8]) -> Result<(), KernelError>,
) -> Result<(), KernelError> {
    let (buffer, scratch) = split_buffer(k.geometry, w.shapes, rows, scratch)?;
    run(region, at, rows, buffer, scratch, |band| {
        let (geometry, shapes) = band_of(k.geometry, w.shapes, &band);
        let ops = DepthwiseOperands {
            input: bytemuck::cast_slice(band.input),
            filter: w.filter,
            bias: w.bias,
            requantize: w.requantize,
            output: bytemuck::cast_slice_mut(band.output),
            shapes,
        };
        eval(&DepthwiseConv2d { geometry, ..*k }, ops, band.scratch)
    })
}

/// Checks that `rows` are [`Rows::of_conv`] of these shapes but for their band, and splits
/// the band buffer off the start of `scratch`.
fn split_buffer(
    geometry: Geometry,
    shapes: Shapes,
    rows: Rows,
    scratch: &mut [u8],
) -> Result<(&mut [u8], &mut [u8]), KernelError> {
    let own = Rows::of_conv(geometry, shapes).and_then(|own| own.with_band(rows.band));
    if own != Some(rows) {
        return Err(KernelError::ShapeMismatch);
    }
    let bytes = rows.buffer_bytes().ok_or(KernelError::ShapeMismatch)?;
    scratch.split_at_mut_checked(bytes).ok_or(KernelError::ShapeMismatch)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    use crate::engine::kernels::xorshift::XorShift;

    /// A row operator with a vertical window: output row `r` (`mix` in the mixing), byte `j`,
    /// is a mix of every byte of the input rows its window covers (padding rows count as 0x55).
    fn windowed(rows: &Rows, input: &[u8], r: usize, mix: usize, out: &mut [u8]) {
        let mut sum = mix as u8;
        for t in 0..rows.span {
            let y = (r * rows.stride + t).checked_sub(rows.pad);
            match y.filter(|&y| y < rows.input_count) {
                Some(y) => {
                    for &b in &input[y * rows.input..(y + 1) * rows.input] {
                        sum = sum.wrapping_mul(31).wrapping_add(b);
                    }
                }
                None => sum = sum.wrapping_mul(31).wrapping_add(0x55),
            }
        }
        for (j, o) in out.iter_mut().enumerate() {
            *o = sum.wrapping_mul(j as u8 | 1).wrapping_add(j as u8);
        }
    }

    #[test]
    fn in_place_equals_out_of_place_on_random_rows_and_windows() {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        for case in 0..3000 {
            let stride = rng.below(3) + 1;
            let span = rng.below(5) + 1;
            let pad = rng.below(span);
            let input_count = rng.below(14) + span;
            let output_count = (input_count + 2 * pad - span) / stride + 1 - rng.below(2);
            let rows = Rows {
                input_count,
                output_count: output_count.max(1),
                input: rng.below(24) + 1,
                output: rng.below(24) + 1,
                stride,
                pad,
                span,
                batch_rows: output_count.max(1),
                band: rng.below(4) + 1,
            };
            let input: Vec<u8> = (0..rows.input_bytes().unwrap()).map(|_| rng.byte()).collect();
            let mut expected = std::vec![0u8; rows.output_bytes().unwrap()];
            for r in 0..rows.output_count {
                windowed(&rows, &input, r, r, &mut expected[r * rows.output..][..rows.output]);
            }
            // The planner's placement: the output at the start, the input `output_below` above;
            // one alignment step less is unsafe.
            let below = output_below(rows).unwrap();
            assert_eq!(below % ALIGN, 0);
            let at = InPlace { input: below, output: 0 };
            assert!(is_safe(at, rows), "case {case}: {rows:?}");
            if below >= ALIGN {
                assert!(!is_safe(InPlace { input: below - ALIGN, output: 0 }, rows), "{case}");
            }
            let len = (below + input.len()).max(expected.len());
            let mut region = std::vec![0xA5u8; len];
            region[below..below + input.len()].copy_from_slice(&input);
            let mut buffer = std::vec![0u8; rows.buffer_bytes().unwrap()];
            let mut r0 = 0;
            run(&mut region, at, rows, &mut buffer, &mut [], |band| {
                // The kernel sees only the copied rows, `pad_top` rows of padding above them.
                let local = Rows { input_count: band.input_rows, pad: band.pad_top, ..rows };
                for i in 0..band.output_rows {
                    let out = &mut band.output[i * rows.output..][..rows.output];
                    windowed(&local, band.input, i, r0 + i, out);
                }
                r0 += band.output_rows;
                Ok(())
            })
            .unwrap();
            assert_eq!(r0, rows.output_count);
            assert_eq!(&region[..expected.len()], &expected[..], "case {case}: {rows:?}");
        }
    }

    #[test]
    fn unsafe_placements_are_refused_before_anything_is_written() {
        let pointwise = |count, input, output, band| Rows {
            input_count: count,
            output_count: count,
            input,
            output,
            stride: 1,
            pad: 0,
            span: 1,
            batch_rows: count,
            band,
        };
        let rows = pointwise(4, 8, 16, 1);
        // After rows 0..3 the output reaches 48 B, input row 3 starts at 24: 24 B below, 32
        // after rounding. The last row needs nothing left in place.
        assert_eq!(output_below(rows), Some(32));
        assert!(!is_safe(InPlace { input: 16, output: 0 }, rows));
        assert!(is_safe(InPlace { input: 32, output: 0 }, rows));
        // A narrowing layer writes from the input's start; above it, it overwrites row 1.
        let narrowing = pointwise(4, 16, 8, 1);
        assert_eq!(output_below(narrowing), Some(0));
        assert!(!is_safe(InPlace { input: 0, output: 16 }, narrowing));
        assert!(is_safe(InPlace { input: 0, output: 0 }, narrowing));
        // A stride-1 3x3 window: output row r needs input row r - 1 from then on.
        let window = Rows { stride: 1, pad: 1, span: 3, ..pointwise(8, 64, 64, 1) };
        assert_eq!(output_below(window), Some(64));
        let mut region = [7u8; 80];
        let mut buffer = [0u8; 16];
        let kernel = |band: Band<'_>| {
            band.output.fill(0);
            Ok(())
        };
        let at = InPlace { input: 16, output: 0 };
        let e = run(&mut region, at, rows, &mut buffer, &mut [], kernel);
        assert_eq!(e, Err(KernelError::ShapeMismatch));
        assert_eq!(region, [7u8; 80]);
        // A region too short for the input, a buffer shorter than a band.
        let at = InPlace { input: 32, output: 0 };
        let e = run(&mut region[..63], at, rows, &mut buffer, &mut [], kernel);
        assert_eq!(e, Err(KernelError::ShapeMismatch));
        let e = run(&mut region, at, rows, &mut buffer[..7], &mut [], kernel);
        assert_eq!(e, Err(KernelError::ShapeMismatch));
        assert_eq!(region, [7u8; 80]);
        assert_eq!(run(&mut region, at, rows, &mut buffer, &mut [], kernel), Ok(()));
        assert_eq!(region[..64], [0u8; 64]);
    }

    #[test]
    fn bands_follow_the_budget_and_overflow_is_refused() {
        let g =
            Geometry { stride_h: 1, stride_w: 1, dilation_h: 1, dilation_w: 1, pad_h: 1, pad_w: 1 };
        let shapes =
            Shapes { input: [1, 25, 5, 64], filter: [1, 3, 3, 64], output: [1, 25, 5, 64] };
        let rows = Rows::of_conv(g, shapes).unwrap();
        // 320 B rows: 6 rows fit 2 KB, 4 output rows' windows.
        assert_eq!(
            (rows.band, rows.buffer_bytes(), output_below(rows)),
            (4, Some(1920), Some(320))
        );
        // Two batches only for a pointwise layer.
        let two = Shapes { input: [2, 25, 5, 64], output: [2, 25, 5, 64], ..shapes };
        assert_eq!(Rows::of_conv(g, two), None);
        let g1 = Geometry { pad_h: 0, pad_w: 0, ..g };
        let pointwise = Shapes { filter: [64, 1, 1, 64], ..two };
        assert_eq!(Rows::of_conv(g1, pointwise).map(|r| r.input_count), Some(50));
        let huge = Shapes {
            input: [1, usize::MAX, 2, 1],
            filter: [1, 1, 1, 1],
            output: [1, usize::MAX, 2, 1],
        };
        assert_eq!(Rows::of_conv(g1, huge), None);
    }
}
