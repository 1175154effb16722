//! Running a row-wise operator in place: its output overlapping its own input in one region of
//! the arena, so that the two tensors never take their full sizes side by side.
//!
//! An operator qualifies when output row `r` depends on input row `r` alone (a 1x1 stride-1
//! CONV_2D: every output pixel is computed from the same input pixel). The planner places the
//! output at the start of one region and the input at its end ([`output_below`] bytes higher:
//! zero for an operator that does not widen its rows, the growth of the tensor for one that
//! does), and [`rows_in_place`] then runs the operator one row at a time: the row is copied to a
//! small buffer in the operator's scratch, and the unchanged kernel reads it there and writes
//! the output row into the region. Output row `r` ends at or before the first input row not yet
//! copied (`r + 1`), which [`is_safe`] checks, so no input byte is overwritten before it is read.
//!
//! The kernels themselves are not changed: each row is a convolution of height 1, with the
//! operator's record and the kernel variant chosen at prepare.

use super::KernelError;

/// Alignment of the planner's buffers: [`output_below`] is a multiple of it, so input and
/// output stay as aligned as buffers of their own.
pub const ALIGN: usize = 16;

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

/// The rows of a row-wise operator: how many, and the bytes of one input and one output row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Rows {
    /// Number of rows (the input and the output have as many).
    pub count: usize,
    /// Bytes of one input row.
    pub input: usize,
    /// Bytes of one output row.
    pub output: usize,
}

impl Rows {
    /// Bytes of the whole input, `None` on overflow.
    pub fn input_bytes(&self) -> Option<usize> {
        self.count.checked_mul(self.input)
    }

    /// Bytes of the whole output, `None` on overflow.
    pub fn output_bytes(&self) -> Option<usize> {
        self.count.checked_mul(self.output)
    }

    /// Bytes of the row buffer [`rows_in_place`] needs (one input row, rounded up to
    /// [`ALIGN`] so that scratch after it keeps its alignment).
    pub fn buffer_bytes(&self) -> Option<usize> {
        self.input.checked_add(ALIGN - 1).map(|v| v / ALIGN * ALIGN)
    }
}

/// How far below the input's first byte the output starts when an operator with these rows
/// runs in place: the output's growth over the input (0 if it does not grow), rounded up to
/// [`ALIGN`]. `None` on overflow.
pub fn output_below(rows: Rows) -> Option<usize> {
    let (input, output) = (rows.input_bytes()?, rows.output_bytes()?);
    output.saturating_sub(input).checked_add(ALIGN - 1).map(|v| v / ALIGN * ALIGN)
}

/// True if running `rows` in place at `at` never writes an input byte before it is read:
/// once output rows `0..r` are written (for every `r` from 1 to `rows.count`), they end at or
/// before input row `r`, the first one not yet copied; and the output does not start above
/// the input.
pub fn is_safe(at: InPlace, rows: Rows) -> bool {
    // `output + r * out_row <= input + r * in_row` is linear in `r`: checking its two ends
    // checks every row.
    let holds = |r: usize| -> bool {
        let written = r.checked_mul(rows.output).and_then(|v| v.checked_add(at.output));
        let unread = r.checked_mul(rows.input).and_then(|v| v.checked_add(at.input));
        matches!((written, unread), (Some(w), Some(u)) if w <= u)
    };
    at.output <= at.input && holds(1) && holds(rows.count.max(1))
}

/// Runs a row-wise operator in place: for each row `r` in order, copies input row `r` from
/// `region` (at `at.input`) into `buffer`, then calls `run(row, output_row, scratch)` with the
/// copy, output row `r` in `region` (at `at.output`) and `scratch` (the operator's own working
/// memory, handed through).
///
/// Errors: [`KernelError::ShapeMismatch`] if `region` is too short for the input or output,
/// `buffer` shorter than a row, or the placement is not [`is_safe`] (checked before anything is
/// written); the first error of `run`.
pub fn rows_in_place(
    region: &mut [u8],
    at: InPlace,
    rows: Rows,
    buffer: &mut [u8],
    scratch: &mut [u8],
    mut run: impl FnMut(&[u8], &mut [u8], &mut [u8]) -> Result<(), KernelError>,
) -> Result<(), KernelError> {
    let input_end = rows.input_bytes().and_then(|b| b.checked_add(at.input));
    let output_end = rows.output_bytes().and_then(|b| b.checked_add(at.output));
    let fits = |end: Option<usize>| end.is_some_and(|e| e <= region.len());
    if !fits(input_end) || !fits(output_end) || buffer.len() < rows.input || !is_safe(at, rows) {
        return Err(KernelError::ShapeMismatch);
    }
    let row = &mut buffer[..rows.input];
    for r in 0..rows.count {
        let from = at.input + r * rows.input;
        row.copy_from_slice(&region[from..from + rows.input]);
        let to = at.output + r * rows.output;
        run(row, &mut region[to..to + rows.output], scratch)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    /// A small xorshift generator (the tests need no statistics, only varied cases).
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        fn byte(&mut self) -> u8 {
            self.next() as u8
        }
    }

    /// A row-wise operator whose every output byte depends on the whole input row: output byte
    /// `j` is the wrapping sum of the row's bytes times `j + 1`, plus `j`.
    fn mix(row: &[u8], out: &mut [u8]) {
        let sum = row.iter().fold(0u8, |a, &b| a.wrapping_add(b));
        for (j, o) in out.iter_mut().enumerate() {
            *o = sum.wrapping_mul(j as u8 + 1).wrapping_add(j as u8);
        }
    }

    #[test]
    fn in_place_equals_out_of_place_on_random_rows() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for case in 0..400 {
            let rows = Rows {
                count: rng.below(12) + 1,
                input: rng.below(40) + 1,
                output: rng.below(40) + 1,
            };
            let input: Vec<u8> = (0..rows.input_bytes().unwrap()).map(|_| rng.byte()).collect();
            let mut expected = std::vec![0u8; rows.output_bytes().unwrap()];
            for r in 0..rows.count {
                let (i, o) = (r * rows.input, r * rows.output);
                mix(&input[i..i + rows.input], &mut expected[o..o + rows.output]);
            }
            // The planner's placement: the output at the start, the input `output_below` above.
            let below = output_below(rows).unwrap();
            assert_eq!(below % ALIGN, 0);
            let at = InPlace { input: below, output: 0 };
            assert!(is_safe(at, rows), "case {case}: {rows:?}");
            let len = (below + input.len()).max(expected.len());
            let mut region = std::vec![0xA5u8; len];
            region[below..below + input.len()].copy_from_slice(&input);
            let mut buffer = std::vec![0u8; rows.buffer_bytes().unwrap()];
            rows_in_place(&mut region, at, rows, &mut buffer, &mut [], |row, out, _| {
                mix(row, out);
                Ok(())
            })
            .unwrap();
            assert_eq!(&region[..expected.len()], &expected[..], "case {case}: {rows:?}");
        }
    }

    #[test]
    fn unsafe_placements_are_refused_before_anything_is_written() {
        let rows = Rows { count: 4, input: 8, output: 16 };
        // The output must start 32 bytes below the input: 16 is not enough (row 3's output
        // would cover input row 3 before it is copied).
        assert_eq!(output_below(rows), Some(32));
        assert!(!is_safe(InPlace { input: 16, output: 0 }, rows));
        assert!(is_safe(InPlace { input: 32, output: 0 }, rows));
        // An output above its input overwrites row 0's tail before row 1 is read.
        let narrowing = Rows { count: 4, input: 16, output: 8 };
        assert_eq!(output_below(narrowing), Some(0));
        assert!(!is_safe(InPlace { input: 0, output: 16 }, narrowing));
        assert!(is_safe(InPlace { input: 0, output: 0 }, narrowing));
        let mut region = [7u8; 64];
        let mut buffer = [0u8; 16];
        let run = |_: &[u8], out: &mut [u8], _: &mut [u8]| {
            out.fill(0);
            Ok(())
        };
        let at = InPlace { input: 16, output: 0 };
        let e = rows_in_place(&mut region, at, rows, &mut buffer, &mut [], run);
        assert_eq!(e, Err(KernelError::ShapeMismatch));
        assert_eq!(region, [7u8; 64]);
        // A region too short for the input, a buffer shorter than a row.
        let at = InPlace { input: 32, output: 0 };
        let e = rows_in_place(&mut region[..63], at, rows, &mut buffer, &mut [], run);
        assert_eq!(e, Err(KernelError::ShapeMismatch));
        let e = rows_in_place(&mut region, at, rows, &mut buffer[..7], &mut [], run);
        assert_eq!(e, Err(KernelError::ShapeMismatch));
        assert_eq!(region, [7u8; 64]);
        assert_eq!(rows_in_place(&mut region, at, rows, &mut buffer, &mut [], run), Ok(()));
        assert_eq!(region[..64], [0u8; 64]);
    }

    #[test]
    fn overflowing_rows_are_never_safe() {
        let rows = Rows { count: usize::MAX, input: 2, output: 3 };
        assert_eq!(output_below(rows), None);
        assert!(!is_safe(InPlace { input: 0, output: 0 }, rows));
    }
}
