//! Zero-weight skipping for pruned models: a compact list of each output unit's nonzero
//! weights, built once at load time, that FULLY_CONNECTED runs instead of the dense rows.
//!
//! A pruned model arrives dense (most weights exactly 0, as TensorFlow's model-optimization
//! toolkit leaves them). With `w' = w - weights_zero_point`, a unit's accumulator is
//! `bias + sum_d w'_d (x_d - zp_in) = (bias - zp_in * sum_d w'_d) + sum_{d: w'_d != 0} w'_d x_d`,
//! so only the nonzero `w'` need to be visited, and everything else is one constant per unit,
//! computed here. Integer arithmetic wraps exactly like the dense kernel's, so the results are
//! bit-identical.
//!
//! Layout (little-endian bytes, in the operator's record, sized by [`table_bytes`]): a word
//! `all_fast` (1 if every unit has a rescale below), then per unit a 12-byte header — `bytes:
//! u32` (of its entries, a multiple of 8), `base: i32` (bias plus the zero-point term), `round: i32` (the unit's [`FcRescale`]
//! rounding constant, or 0 if it has none: that form is never 0; its multiplier and shift stay
//! in the operator's multiplier list) — then `quads` groups of four
//! `(index: u8, weight: i8)` entries (the count is padded to a multiple
//! of four with `(0, 0)` entries, which add nothing, so the loop has no remainder). On
//! Cortex-M4 one 32-bit load brings two entries, SXTB16 sign-extends both weights at once and
//! SMLABB/SMLABT multiply-add them: under 5 instructions per nonzero weight, and the per-unit
//! work (header, rescale, clamp) is a few dozen more. Rows
//! longer than 256 values are not listed (the index is one byte); [`worth_it`] decides from the
//! density whether listing pays off.
//!
//! The convolutions' counterpart is CONV_2D's `sparse` variant.

use super::reference::finish;
use super::{FcOperands, FullyConnected, FullyConnectedDims};
use crate::engine::arith::{clamp_to_i8, QuantizedMultiplier};
use crate::engine::kernels::rescale::FcRescale;
use crate::engine::kernels::{dsp, I32Le, KernelError};

/// Bytes of one unit's header (`bytes: u32`, `base: i32`, `round: i32`).
const HEADER: usize = 12;
/// Bytes of the table's own header (`all_fast: u32`).
const TABLE_HEADER: usize = 4;
/// Bytes of a group of four entries.
const QUAD: usize = 8;

/// True if rows of `depth` weights with `nonzero` of `total` weights not zero are worth
/// listing: rows of at most 256 values and at most half of the weights nonzero.
pub fn worth_it(depth: usize, nonzero: usize, total: usize) -> bool {
    (1..=256).contains(&depth) && nonzero.saturating_mul(2) <= total
}

/// The number of nonzero weights (after subtracting the weights' zero point,
/// `-filter_offset`) of `filter` (`units x depth`, row-major); `None` if an offset weight does
/// not fit in an `i8` (then the table cannot hold it).
pub fn nonzero(filter: &[i8], filter_offset: i32) -> Option<usize> {
    let mut n = 0;
    for &w in filter {
        let w = (w as i32).wrapping_add(filter_offset);
        if i8::try_from(w).is_err() {
            return None;
        }
        n += (w != 0) as usize;
    }
    Some(n)
}

/// Bytes of the table of `filter` (`units x depth`): `None` if `depth` is 0 or an offset weight
/// does not fit in an `i8`.
pub fn table_bytes(filter: &[i8], depth: usize, filter_offset: i32) -> Option<usize> {
    if depth == 0 {
        return None;
    }
    let mut bytes = TABLE_HEADER;
    for row in filter.chunks_exact(depth) {
        let n = nonzero(row, filter_offset)?;
        bytes = bytes.checked_add(HEADER + QUAD * n.div_ceil(4))?;
    }
    Some(bytes)
}

/// What [`write_table`] folds into each unit's header besides the weights.
#[derive(Clone, Copy, Debug)]
pub struct UnitConstants<'a, M> {
    /// The input offset (`-input_zero_point`).
    pub input_offset: i32,
    /// The bias, one value per unit, if any.
    pub bias: Option<I32Le<'a>>,
    /// Unit `u`'s requantization multiplier (the one the operator's record holds).
    pub multiplier: M,
    /// The output zero point.
    pub output_offset: i32,
}

/// Writes the table of `filter` (`units x depth`) into `out` ([`table_bytes`] long); `false`
/// (and `out` unspecified) if `out` is too short, a row is longer than 256 values, an offset
/// weight does not fit in an `i8`.
pub fn write_table(
    filter: &[i8],
    depth: usize,
    filter_offset: i32,
    k: UnitConstants<'_, impl Fn(usize) -> QuantizedMultiplier>,
    out: &mut [u8],
) -> bool {
    if depth == 0 || depth > 256 {
        return false;
    }
    let mut at = TABLE_HEADER;
    let mut all_fast = true;
    for (u, row) in filter.chunks_exact(depth).enumerate() {
        let head_at = at;
        at += HEADER;
        let (mut count, mut sum) = (0usize, 0i32);
        for (d, &w) in row.iter().enumerate() {
            let w = (w as i32).wrapping_add(filter_offset);
            if w == 0 {
                continue;
            }
            let (Ok(w), Some(entry)) = (i8::try_from(w), out.get_mut(at..at + 2)) else {
                return false;
            };
            entry[0] = d as u8;
            entry[1] = w as u8;
            at += 2;
            count += 1;
            sum = sum.wrapping_add(w as i32);
        }
        let padded = count.div_ceil(4) * 4;
        let Some(pad) = out.get_mut(at..at + 2 * (padded - count)) else { return false };
        pad.fill(0);
        at += pad.len();
        let bias = k.bias.map_or(0, |b| b.get(u));
        let base = bias.wrapping_add(k.input_offset.wrapping_mul(sum));
        let rescale = FcRescale::new((k.multiplier)(u), k.output_offset).map_or(0, |r| r.round);
        all_fast &= rescale != 0;
        let (Ok(bytes), Some(head)) =
            (u32::try_from(QUAD * count.div_ceil(4)), out.get_mut(head_at..head_at + HEADER))
        else {
            return false;
        };
        head[..4].copy_from_slice(&bytes.to_le_bytes());
        head[4..8].copy_from_slice(&base.to_le_bytes());
        head[8..].copy_from_slice(&rescale.to_le_bytes());
    }
    match out.get_mut(..TABLE_HEADER) {
        Some(head) => head.copy_from_slice(&(all_fast as u32).to_le_bytes()),
        None => return false,
    }
    true
}

/// One unit of a table, as [`rows`] reads it.
#[derive(Clone, Copy, Debug)]
pub struct Row<'a> {
    /// The listed `(index, weight)` entries, in groups of four (padded with `(0, 0)`).
    pub entries: &'a [u8],
    /// Bias plus the zero-point term.
    pub base: i32,
    /// The unit's [`FcRescale`] rounding constant, if it has that form.
    pub round: Option<i32>,
}

/// True if every unit of `table` has an [`FcRescale`] form.
pub fn all_fast(table: &[u8]) -> bool {
    table.first_chunk::<TABLE_HEADER>().is_some_and(|w| u32::from_le_bytes(*w) == 1)
}

/// The first row of `rest` (the table after its own header, or after earlier rows) and what
/// follows it; `None` if `rest` is too short.
#[inline(always)]
pub fn split_row(rest: &[u8]) -> Option<(Row<'_>, &[u8])> {
    let (head, tail) = rest.split_first_chunk::<HEADER>()?;
    let (words, _) = head.as_chunks::<4>();
    let [bytes, base, rescale] = [words[0], words[1], words[2]].map(u32::from_le_bytes);
    let (entries, tail) = tail.split_at_checked(bytes as usize)?;
    let (base, rescale) = (base as i32, rescale as i32);
    Some((Row { entries, base, round: (rescale != 0).then_some(rescale) }, tail))
}

/// The rows of a table, in order.
pub fn rows(table: &[u8]) -> impl Iterator<Item = Row<'_>> + '_ {
    let mut rest = table.get(TABLE_HEADER..).unwrap_or(&[]);
    core::iter::from_fn(move || {
        let (row, tail) = split_row(rest)?;
        rest = tail;
        Some(row)
    })
}

/// `base + sum w' * x[index]` over a row's entries: the unit's accumulator, in wrapping `i32`
/// like the dense kernel. `x` is the input row copied into 256 values (indices are bytes, so no
/// index can miss). `packed`: two entries per step with the DSP instructions.
#[inline]
pub fn dot(row: &Row<'_>, x: &[i8; 256], packed: bool) -> i32 {
    if packed {
        // Whole quads only (the table pads every row to them): two pairs per step.
        let (quads, _) = row.entries.as_chunks::<4>().0.as_chunks::<2>();
        let (mut a, mut b) = (row.base, 0i32);
        for [g0, g1] in quads {
            a = pair(*g0, x, a);
            b = pair(*g1, x, b);
        }
        a.wrapping_add(b)
    } else {
        let mut acc = row.base;
        for &[d, w] in row.entries.as_chunks::<2>().0 {
            acc = acc.wrapping_add((w as i8 as i32).wrapping_mul(x[d as usize] as i32));
        }
        acc
    }
}

/// Runs `k` with the weights given as a table of each unit's nonzero weights (`ops.listed`,
/// built at load with the bias, the zero-point term and the rescale folded into each unit's
/// header) instead of dense rows: only the listed weights are multiplied. `PACKED` runs the DSP
/// loops and the fast rescale. Same results as the reference kernel.
///
/// Errors: [`KernelError::ShapeMismatch`] if a length disagrees with `dims` (nothing is written
/// then) or the table lists fewer than `units` rows (the output is then unspecified).
#[inline(never)]
pub(super) fn eval<const PACKED: bool>(
    k: &FullyConnected,
    ops: FcOperands<'_>,
) -> Result<(), KernelError> {
    let FcOperands { input, listed: table, requantize, output, dims, .. } = ops;
    let FullyConnectedDims { batches, depth, units } = dims;
    if Some(input.len()) != batches.checked_mul(depth)
        || Some(output.len()) != batches.checked_mul(units)
        || !requantize.covers(units)
        || depth > 256
    {
        return Err(KernelError::ShapeMismatch);
    }
    let (lo, hi) = (k.activation_min, k.activation_max);
    let fast = PACKED && all_fast(table);
    let body = table.get(4..).ok_or(KernelError::ShapeMismatch)?;
    let mut x = [0i8; 256];
    for (row, out_row) in input.chunks_exact(depth.max(1)).zip(output.chunks_exact_mut(units)) {
        fill_row(&mut x, row);
        let mut rest = body;
        if fast {
            // Every unit rescales with SMMLA: the loop carries nothing else.
            for (u, out) in out_row.iter_mut().enumerate() {
                let (row, tail) = split_row(rest).ok_or(KernelError::ShapeMismatch)?;
                rest = tail;
                let acc = dot(&row, &x, PACKED);
                let rescale = FcRescale::with_round(requantize.get(u), row.round.unwrap_or(1));
                *out = clamp_to_i8(rescale.apply(acc), lo, hi);
            }
            continue;
        }
        for (u, out) in out_row.iter_mut().enumerate() {
            let (row, tail) = split_row(rest).ok_or(KernelError::ShapeMismatch)?;
            rest = tail;
            let acc = dot(&row, &x, PACKED);
            *out = match row.round {
                Some(round) if PACKED => {
                    let rescale = FcRescale::with_round(requantize.get(u), round);
                    clamp_to_i8(rescale.apply(acc), lo, hi)
                }
                _ => finish(k, acc, requantize.get(u)),
            };
        }
    }
    Ok(())
}

/// One group of two entries: SXTB16 sign-extends both weights into 16-bit lanes, SMLABB and
/// SMLABT multiply-add each by its input value.
#[inline(always)]
fn pair(g: [u8; 4], x: &[i8; 256], acc: i32) -> i32 {
    let e = u32::from_le_bytes(g);
    let w = dsp::sxtb16_ror8(e);
    let x0 = x[(e & 0xff) as usize] as i32 as u32;
    let x1 = x[((e >> 16) & 0xff) as usize] as i32 as u32;
    dsp::smlabt(x1, w, dsp::smlabb(x0, w, acc))
}

/// Copies an input row (at most 256 values) into the array [`dot`] reads; the values past it
/// must be zero (the table never indexes them, but they are read as 0 if it did).
#[inline]
pub fn fill_row(row: &mut [i8; 256], x: &[i8]) {
    let n = x.len().min(256);
    row[..n].copy_from_slice(&x[..n]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_lists_nonzero_weights_and_folds_the_constants() {
        // Weights zero point 2 (filter_offset -2): the 2s are the zeros.
        let filter = [2i8, 5, 2, -1, 2, 2, 2, 2, 2, 2, 2, 9];
        assert_eq!(nonzero(&filter, -2), Some(3));
        assert_eq!(nonzero(&[127], 1), None);
        let bytes = table_bytes(&filter, 4, -2).unwrap();
        assert_eq!(bytes, TABLE_HEADER + 3 * HEADER + QUAD + QUAD);

        let mut bias = [0u8; 12];
        for (b, v) in bias.chunks_exact_mut(4).zip([7i32, -3, 100]) {
            b.copy_from_slice(&v.to_le_bytes());
        }
        let m = QuantizedMultiplier::from_real(0.2).unwrap();
        let k = UnitConstants {
            input_offset: 5,
            bias: Some(I32Le(&bias)),
            multiplier: |_| m,
            output_offset: -1,
        };
        let mut buf = [0u8; 64];
        let table = &mut buf[..bytes];
        assert!(!write_table(&filter, 4, -2, k, &mut table[..bytes - 1]));
        assert!(write_table(&filter, 4, -2, k, table));
        assert!(all_fast(table));
        let mut listed = rows(table);
        let rows = [(); 3].map(|_| listed.next().unwrap());
        assert!(listed.next().is_none());
        assert_eq!(rows[0].entries, &[1u8, 3, 3, (-3i8) as u8, 0, 0, 0, 0][..]);
        // Offset weights 3 and -3 sum to 0: the zero-point term vanishes.
        assert_eq!(rows[0].base, 7);
        assert_eq!(rows[1].entries, &[][..]);
        assert_eq!(rows[1].base, -3);
        // One entry, padded with (0, 0) entries to four.
        assert_eq!(rows[2].entries, &[3u8, 7, 0, 0, 0, 0, 0, 0][..]);
        assert_eq!(rows[2].base, 100 + 5 * 7);
        assert_eq!(rows[0].round, FcRescale::new(m, -1).map(|r| r.round));
        // acc = bias + 3 * (x1 + io) + (-3) * (x3 + io) with x = [9, 4, 7, -6], io = 5.
        let mut x = [0i8; 256];
        fill_row(&mut x, &[9i8, 4, 7, -6]);
        for packed in [false, true] {
            assert_eq!(dot(&rows[0], &x, packed), 7 + 3 * (4 + 5) - 3 * (-6 + 5));
            assert_eq!(dot(&rows[2], &x, packed), 100 + 7 * (-6 + 5));
        }
        assert!(worth_it(96, 1536, 6144));
        assert!(!worth_it(96, 4000, 6144));
        assert!(!worth_it(300, 10, 6000));
    }
}
